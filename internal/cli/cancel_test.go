package cli

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/golden"
)

func TestCancel(t *testing.T) {
	k := newKube(t)
	_, wps, _ := runsFixture(k) // build-run-1 Completed, -2 Failed, -3 cancelled, -4 Pending

	out, errOut, code := k.run("cancel", "build-run-4", "build-run-3", "build-run-1")
	if code != 0 || errOut != "" {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	golden.Check(t, "cancel.golden", []byte(out))
	for i, want := range []bool{false, false, true, true} {
		got := &kubeciv1.Workplan{}
		if err := k.env.Client.Get(context.Background(), client.ObjectKeyFromObject(wps[i]), got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Cancelled != want {
			t.Errorf("%s: spec.cancelled is %v, want %v", got.Name, got.Spec.Cancelled, want)
		}
	}

	_, errOut, code = k.run("cancel", "nope")
	if want := "Error: workplan \"nope\" not found in namespace \"test-xxxxx\" (kubeci get workplans -n test-xxxxx lists them)\n"; code != 1 || k.mask(errOut) != want {
		t.Errorf("cancel of a missing workplan: code %d, %q; want %q", code, k.mask(errOut), want)
	}
}
