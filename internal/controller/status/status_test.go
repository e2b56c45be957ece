package status

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestResult(t *testing.T) {
	failed := errors.New("failed")
	for _, tc := range []struct {
		name    string
		res     ctrl.Result
		outcome Outcome
		err     error
		want    ctrl.Result
	}{
		{"saved", ctrl.Result{RequeueAfter: time.Minute}, Saved, nil, ctrl.Result{RequeueAfter: time.Minute}},
		{"an error drops the result", ctrl.Result{RequeueAfter: time.Minute}, Saved, failed, ctrl.Result{}},
		{"a conflict retries soon", ctrl.Result{RequeueAfter: time.Minute}, Conflict, nil, ctrl.Result{RequeueAfter: ConflictRetry}},
		{"a conflict retries, also without a result", ctrl.Result{}, Conflict, nil, ctrl.Result{RequeueAfter: ConflictRetry}},
		{"a conflict keeps a sooner retry", ctrl.Result{RequeueAfter: time.Millisecond}, Conflict, nil, ctrl.Result{RequeueAfter: time.Millisecond}},
		{"a conflict with an error is the error", ctrl.Result{}, Conflict, failed, ctrl.Result{}},
	} {
		res, err := Result(tc.res, tc.outcome, tc.err)
		if res != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: got %+v, %v; want %+v, %v", tc.name, res, err, tc.want, tc.err)
		}
	}
}

func TestPatch(t *testing.T) {
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	c := fake.NewClientBuilder().WithObjects(pod).WithStatusSubresource(pod).Build()
	if err := c.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
		t.Fatal(err)
	}
	write := func(before *corev1.Pod, phase corev1.PodPhase) (Outcome, error) {
		after := before.DeepCopy()
		after.Status.Phase = phase
		return Patch(ctx, c, before, after)
	}
	read := pod.DeepCopy()
	if got, err := write(read, corev1.PodRunning); got != Saved || err != nil {
		t.Errorf("first write: %v, %v; want Saved", got, err)
	}
	if got, err := write(read, corev1.PodSucceeded); got != Conflict || err != nil {
		t.Errorf("write from a stale read: %v, %v; want Conflict and no error", got, err)
	}
	if err := c.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if got, err := write(read, corev1.PodSucceeded); got != Gone || err != nil {
		t.Errorf("write to a deleted object: %v, %v; want Gone and no error", got, err)
	}
}

// The status patch is the one controller-runtime's merge patch with an
// optimistic lock would send, less what the status subresource ignores.
func TestStatusMergeFromIsMergeFromOfTheStatus(t *testing.T) {
	base := &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wf", ResourceVersion: "7", Generation: 2},
		Status: kubeciv1.WorkflowStatus{
			ObservedGeneration:             1,
			LastObservedResourceGeneration: map[string]string{"a": "h:1", "b": "h:2"},
			Conditions:                     []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Waiting"}},
		},
	}
	for _, tc := range []struct {
		name   string
		change func(*kubeciv1.Workflow)
	}{
		{"nothing", func(*kubeciv1.Workflow) {}},
		{"a number", func(wf *kubeciv1.Workflow) { wf.Status.ObservedGeneration = 2 }},
		{"a key added, one changed, one removed", func(wf *kubeciv1.Workflow) {
			wf.Status.LastObservedResourceGeneration = map[string]string{"a": "h:3", "c": "h:4"}
		}},
		{"a field emptied", func(wf *kubeciv1.Workflow) { wf.Status.LastObservedResourceGeneration = nil }},
		{"a list replaced", func(wf *kubeciv1.Workflow) {
			wf.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Watching"}}
		}},
		{"the spec and labels too (ignored by the status subresource)", func(wf *kubeciv1.Workflow) {
			wf.Status.ObservedGeneration = 2
			wf.Labels = map[string]string{"x": "y"}
			wf.Spec.ServiceAccountName = "other"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := base.DeepCopy()
			after := before.DeepCopy()
			tc.change(after)
			want, err := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}).Data(after)
			if err != nil {
				t.Fatal(err)
			}
			got, err := statusMergeFrom{before: before}.Data(after)
			if err != nil {
				t.Fatal(err)
			}
			var wantMap, gotMap map[string]any
			if err := json.Unmarshal(want, &wantMap); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &gotMap); err != nil {
				t.Fatal(err)
			}
			wantStatus, _ := wantMap["status"].(map[string]any)
			if wantStatus == nil {
				wantStatus = map[string]any{}
			}
			wantMap = map[string]any{"metadata": map[string]any{"resourceVersion": "7"}, "status": wantStatus}
			if !reflect.DeepEqual(gotMap, wantMap) {
				t.Errorf("patch\n%s\nwant (controller-runtime's, status only)\n%s", got, want)
			}
		})
	}
}

func TestStatusMergeFromRefuses(t *testing.T) {
	noVersion := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wf"}}
	if _, err := (statusMergeFrom{before: noVersion}).Data(noVersion.DeepCopy()); err == nil || !strings.Contains(err.Error(), "resourceVersion") {
		t.Errorf("no resourceVersion to lock on: error %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c", ResourceVersion: "1"}}
	if _, err := (statusMergeFrom{before: cm}).Data(cm.DeepCopy()); err == nil || !strings.Contains(err.Error(), "no status field") {
		t.Errorf("a kind without status: error %v", err)
	}
}
