package workplan

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/golden"
)

// The pods of the design doc's Workplan: task 0 free for the scheduler to
// place, task 1 pinned to the node task 0 ran on, and the cleanup pods.
func TestPodsGolden(t *testing.T) {
	wp := docWorkplan(t)
	pod0, err := taskPod(wp, 0, "/kubeci", "", testCleanupImage)
	if err != nil {
		t.Fatal(err)
	}
	golden.CheckYAML(t, "doc-example.task-0.golden.yaml", pod0)
	pod1, err := taskPod(wp, 1, "/kubeci", "node-a", testCleanupImage)
	if err != nil {
		t.Fatal(err)
	}
	golden.CheckYAML(t, "doc-example.task-1.golden.yaml", pod1)
	golden.CheckYAML(t, "doc-example.cleanup.golden.yaml", cleanupPod(wp, 1, "/kubeci", "node-a", testCleanupImage))
}

// A run started by a GitRepository's new revision: every step gets the
// revision as KUBECI_FIELD_STATUS_ARTIFACT_REVISION and the object in the file
// KUBECI_TRIGGER_OBJECT names, which the pod carries in an annotation and
// mounts through the downward API.
func TestPodsGoldenTriggerObject(t *testing.T) {
	wp := docWorkplan(t)
	wp.Spec.Trigger = kubeciv1.TriggerEvent{Event: kubeciv1.EventUpdated, APIVersion: "source.toolkit.fluxcd.io/v1",
		Kind: "GitRepository", Namespace: "default", Name: "shop", UID: "u-1", ResourceVersion: "42",
		ResourceGeneration: "f:0123456789abcdef",
		Fields:             map[string]string{"status.artifact.revision": "main@sha1:1234"},
		Object:             `{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"GitRepository","metadata":{"name":"shop"},"status":{"artifact":{"revision":"main@sha1:1234"}}}`}
	wp.Spec.Tasks = wp.Spec.Tasks[:1]
	pod, err := taskPod(wp, 0, "/kubeci", "", "")
	if err != nil {
		t.Fatal(err)
	}
	golden.CheckYAML(t, "field-trigger.task-0.golden.yaml", pod)
}

func TestTaskPodShapes(t *testing.T) {
	step := func(name string) kubeciv1.Step {
		return kubeciv1.Step{Name: name, Image: "alpine", Commands: []string{"true"}}
	}
	containers := func(cs []corev1.Container) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	cases := []struct {
		name          string
		task          kubeciv1.Task
		init, regular []string
		err           string
	}{
		{"serial then parallel", kubeciv1.Task{SerialSteps: []kubeciv1.Step{step("a"), step("b")}, ParallelSteps: []kubeciv1.Step{step("c"), step("d")}},
			[]string{"a", "b"}, []string{"c", "d"}, ""},
		{"parallel only", kubeciv1.Task{ParallelSteps: []kubeciv1.Step{step("a")}}, nil, []string{"a"}, ""},
		{"serial only: the last one is the container", kubeciv1.Task{SerialSteps: []kubeciv1.Step{step("a"), step("b")}},
			[]string{"a"}, []string{"b"}, ""},
		{"no steps", kubeciv1.Task{}, nil, nil, "task 0 of the Workplan has no steps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wp := docWorkplan(t)
			wp.Spec.Tasks = []kubeciv1.Task{tc.task}
			pod, err := taskPod(wp, 0, "/kubeci", "", "")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.init, containers(pod.Spec.InitContainers)); diff != "" {
				t.Errorf("init containers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.regular, containers(pod.Spec.Containers)); diff != "" {
				t.Errorf("containers (-want +got):\n%s", diff)
			}
		})
	}
}

// A step's own env follows Kube CI's, so that it can override them, and the
// pod runs as the Workplan's service account.
func TestTaskPodEnvAndServiceAccount(t *testing.T) {
	wp := docWorkplan(t)
	wp.Spec.ServiceAccountName = "ci"
	wp.Spec.Tasks[0].SerialSteps[0].Env = []corev1.EnvVar{{Name: kubeciv1.EnvStep, Value: "mine"}}
	pod, err := taskPod(wp, 0, "/kubeci", "", "")
	if err != nil {
		t.Fatal(err)
	}
	env := pod.Spec.InitContainers[0].Env
	if last := env[len(env)-1]; last.Name != kubeciv1.EnvStep || last.Value != "mine" {
		t.Errorf("the step's env should come last, got %v", last)
	}
	if pod.Spec.ServiceAccountName != "ci" {
		t.Errorf("service account = %q, want ci", pod.Spec.ServiceAccountName)
	}
	if wp.Spec.Tasks[0].SerialSteps[0].Env[0].Value != "mine" {
		t.Error("building the pod changed the Workplan")
	}
}

func TestCleanupPodNames(t *testing.T) {
	long := strings.Repeat("a", 70)
	seen := map[string]bool{}
	for _, wp := range []string{"run", long} {
		for attempt := 1; attempt <= 5; attempt++ {
			name := cleanupPodName(wp, attempt)
			if len(name) > 63 {
				t.Errorf("cleanup pod name %q is longer than 63 characters", name)
			}
			if seen[name] {
				t.Errorf("cleanup pod name %q given twice", name)
			}
			seen[name] = true
		}
	}
	if got := cleanupPodName("run", 1); got != "run-cleanup" {
		t.Errorf("first attempt = %q, want run-cleanup", got)
	}
	if got := cleanupPodName("run", 2); got != "run-cleanup-2" {
		t.Errorf("second attempt = %q, want run-cleanup-2", got)
	}
}

func TestWorkplanOf(t *testing.T) {
	wp := docWorkplan(t)
	task, err := taskPod(wp, 0, "/kubeci", "", "")
	if err != nil {
		t.Fatal(err)
	}
	cleanup := cleanupPod(wp, 1, "/kubeci", "n", "busybox")
	stranger := cleanup.DeepCopy()
	stranger.Labels[kubeciv1.LabelTask] = "0"
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{{"task pod", task, true}, {"cleanup pod", cleanup, true}, {"annotated pod that is no cleanup pod", stranger, false}} {
		if got := belongsTo(tc.pod, wp); got != tc.want {
			t.Errorf("%s: belongsTo = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Only the last task's pod gets the workspace cleaner, as its first init
// container, and only with a cleanup image and when no step of the task has
// its name (then the cleanup pod does its work).
func TestTaskPodCleaner(t *testing.T) {
	initNames := func(pod *corev1.Pod) []string {
		var out []string
		for _, c := range pod.Spec.InitContainers {
			out = append(out, c.Name)
		}
		return out
	}
	wp := docWorkplan(t)
	cases := []struct {
		name  string
		wp    *kubeciv1.Workplan
		task  int
		image string
		want  []string
	}{
		{"first task: none", wp, 0, testCleanupImage, []string{"step-1"}},
		{"last task: the cleaner first", wp, 1, testCleanupImage, []string{cleanerContainer, "step-4"}},
		{"no cleanup image: none", wp, 1, "", []string{"step-4"}},
		{"a step has the cleaner's name: none", func() *kubeciv1.Workplan {
			w := wp.DeepCopy()
			w.Spec.Tasks[1].SerialSteps[0].Name = cleanerContainer
			return w
		}(), 1, testCleanupImage, []string{cleanerContainer}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod, err := taskPod(tc.wp, tc.task, "/kubeci", "node-a", tc.image)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, initNames(pod)); diff != "" {
				t.Errorf("init containers (-want +got):\n%s", diff)
			}
			if got, want := hasCleaner(pod), tc.want[0] == cleanerContainer && tc.image != "" && tc.name != "a step has the cleaner's name: none"; got != want {
				t.Errorf("hasCleaner = %v, want %v", got, want)
			}
			if !hasCleaner(pod) {
				return
			}
			c := pod.Spec.InitContainers[0]
			if diff := cmp.Diff([]string{"/usr/local/bin/kubeci-operator", "cleanup", "--on-sigterm", "/workspaces/my-workflow-run1"},
				append(slices.Clone(c.Command), c.Args...)); diff != "" {
				t.Errorf("cleaner command (-want +got):\n%s", diff)
			}
			var vol *corev1.Volume
			for i := range pod.Spec.Volumes {
				if pod.Spec.Volumes[i].Name == c.VolumeMounts[0].Name {
					vol = &pod.Spec.Volumes[i]
				}
			}
			if vol == nil || vol.HostPath == nil || vol.HostPath.Path != "/kubeci/default/my-workflow" {
				t.Errorf("cleaner's volume = %+v, want the workflow's folder /kubeci/default/my-workflow", vol)
			}
		})
	}
}
