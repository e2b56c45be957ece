package workflow

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/testenv"
)

// The Workflow's history limits keep the newest ended runs of each outcome
// and delete the older ones, as soon as runs end and as soon as a limit is
// lowered. The operator runs with its generated RBAC role. The test plays
// the Workplan controller: it ends the runs by writing their status.
func TestHistoryLimitsDeleteTheOldestRuns(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	startOperatorWith(t, env, operatorConfig(t, env, ns), ns)
	wf := loadSample(t, env, ns)
	wf.Spec.Triggers = nil
	wf.Spec.SuccessfulRunsHistoryLimit = ptr.To[int32](1)
	wf.Spec.FailedRunsHistoryLimit = ptr.To[int32](1)
	create(t, env, wf)

	start := time.Now()
	end := func(name string, phase kubeciv1.WorkplanPhase, after time.Duration) {
		t.Helper()
		wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, name)
		if err != nil {
			t.Fatal(err)
		}
		create(t, env, wp)
		wp.Status.Phase = phase
		wp.Status.CompletionTime = &metav1.Time{Time: start.Add(after)}
		if err := env.Client.Status().Update(ctx, wp); err != nil {
			t.Fatalf("ending Workplan %s: %v", name, err)
		}
	}
	waitLeft := func(want ...string) {
		t.Helper()
		testenv.Eventually(t, fmt.Sprintf("runs left: %v", want), func() error {
			var left []string
			for _, wp := range workplans(t, env, ns, wf.Name) {
				left = append(left, wp.Name)
			}
			slices.Sort(left)
			if !slices.Equal(left, want) {
				return fmt.Errorf("runs left = %v", left)
			}
			return nil
		})
	}
	// Runs end a minute apart.
	end("completed-1", kubeciv1.WorkplanCompleted, 0)
	end("failed-1", kubeciv1.WorkplanFailed, time.Minute)
	end("completed-2", kubeciv1.WorkplanCompleted, 2*time.Minute)
	end("failed-2", kubeciv1.WorkplanFailed, 3*time.Minute)
	waitLeft("completed-2", "failed-2")
	for _, name := range []string{"completed-1", "failed-1"} {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &kubeciv1.Workplan{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("Workplan %s beyond the limit: %v, want it gone", name, err)
		}
	}

	// A lowered limit prunes at once: no run has to end first.
	update(t, env, wf, func(wf *kubeciv1.Workflow) { wf.Spec.SuccessfulRunsHistoryLimit = ptr.To[int32](0) })
	waitLeft("failed-2")
}
