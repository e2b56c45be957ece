package status

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
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
