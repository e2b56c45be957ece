package v1alpha1_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func sample(t *testing.T, env *testenv.Env, ns string) *kubeciv1.Workflow {
	t.Helper()
	wf := samples.Workflow()
	wf.Namespace = ns
	return wf
}

// The CRDs install, and the design doc's Workflow, exactly as the doc writes
// it, round-trips through the API server, with nothing added but the CRD's
// defaults, which are those of the Go accessors.
func TestDesignDocWorkflowRoundTrips(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	wf := sample(t, env, ns)
	want := wf.Spec.DeepCopy()
	want.ServiceAccountName = want.GetServiceAccountName()
	want.SuccessfulRunsHistoryLimit = ptr.To(want.GetSuccessfulRunsHistoryLimit())
	want.FailedRunsHistoryLimit = ptr.To(want.GetFailedRunsHistoryLimit())
	if err := env.Client.Create(ctx, wf); err != nil {
		t.Fatalf("creating the design doc's workflow: %v", err)
	}
	var got kubeciv1.Workflow
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(wf), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*want, got.Spec); diff != "" {
		t.Errorf("spec changed on the way through the API server (-sent +read):\n%s", diff)
	}
}

// The CRD's validation rejects what no run could execute, with messages that
// say what is wrong.
func TestCRDValidationRejectsBadWorkflows(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	cases := []struct {
		name   string
		mutate func(*kubeciv1.Workflow)
		want   string
	}{
		{"duplicate step names", func(wf *kubeciv1.Workflow) { wf.Spec.Steps[1].Name = "step-1" },
			"spec.steps: Invalid value: step names must be unique"},
		{"unknown dependency", func(wf *kubeciv1.Workflow) { wf.Spec.Steps[4].Dependency = []string{"step-9"} },
			"spec.steps: Invalid value: every dependency must name a step of this workflow"},
		{"step name that is not a container name", func(wf *kubeciv1.Workflow) { wf.Spec.Steps[0].Name = "Step_1" },
			"spec.steps[0].name: Invalid value: \"Step_1\": spec.steps[0].name in body should match"},
		{"no steps", func(wf *kubeciv1.Workflow) { wf.Spec.Steps = nil },
			"spec.steps: Required value"},
		{"trigger without kind or resource", func(wf *kubeciv1.Workflow) { wf.Spec.Triggers[0].Kind, wf.Spec.Triggers[0].Resource = "", "" },
			"a trigger needs kind or resource"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wf := sample(t, env, ns)
			wf.Name = strings.ReplaceAll(strings.ToLower(tc.name), " ", "-")
			tc.mutate(wf)
			err := env.Client.Create(context.Background(), wf)
			if err == nil {
				t.Fatal("the API server accepted an invalid workflow")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not say %q:\n%v", tc.want, err)
			}
		})
	}
}

// A Workplan's steps cannot be changed once created; it can only be cancelled,
// and not resumed.
func TestWorkplanSpecIsFixedButCancellable(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	wf := sample(t, env, ns)
	wp := &kubeciv1.Workplan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "run-1"},
		Spec: kubeciv1.WorkplanSpec{
			Workflow: wf.Name,
			Tasks:    []kubeciv1.Task{{ParallelSteps: wf.Spec.Steps[:1]}},
			Trigger:  kubeciv1.TriggerEvent{Event: kubeciv1.EventManual},
		},
	}
	if err := env.Client.Create(ctx, wp); err != nil {
		t.Fatal(err)
	}
	changed := wp.DeepCopy()
	changed.Spec.Tasks[0].ParallelSteps[0].Image = "attacker/image"
	if err := env.Client.Update(ctx, changed); err == nil || !strings.Contains(err.Error(), "only spec.cancelled may be set") {
		t.Fatalf("changing a step must be refused, got %v", err)
	}
	changed = wp.DeepCopy()
	changed.Spec.ServiceAccountName = "admin"
	if err := env.Client.Update(ctx, changed); err == nil {
		t.Fatal("changing the service account must be refused")
	}
	wp.Spec.Cancelled = true
	if err := env.Client.Update(ctx, wp); err != nil {
		t.Fatalf("cancelling must be allowed: %v", err)
	}
	wp.Spec.Cancelled = false
	if err := env.Client.Update(ctx, wp); err == nil || !strings.Contains(err.Error(), "cannot be resumed") {
		t.Fatalf("resuming must be refused, got %v", err)
	}
}
