package workflow

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
)

// 50 ConfigMaps created, then updated, all at once: exactly one run each time
// for each.
func TestFiftyConcurrentChangesStartFiftyRuns(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	wf := workflowWith(ns, "bulk", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "bulk"}}})
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	const n = 50
	cms := make([]*corev1.ConfigMap, n)
	all := func(do func(i int)) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { do(i) })
		}
		wg.Wait()
	}
	ctx := context.Background()
	all(func(i int) {
		cms[i] = configMap(ns, fmt.Sprintf("cm-%02d", i), map[string]string{"app": "bulk"}, "1")
		if err := env.Client.Create(ctx, cms[i]); err != nil {
			t.Error(err)
		}
	})
	waitWorkplans(t, env, ns, wf.Name, n)
	all(func(i int) {
		cms[i].Data["data"] = "2"
		if err := env.Client.Update(ctx, cms[i]); err != nil {
			t.Error(err)
		}
	})
	got := waitWorkplans(t, env, ns, wf.Name, 2*n)

	perObject := map[string]int{}
	for _, wp := range got {
		perObject[wp.Spec.Trigger.Name+"/"+string(wp.Spec.Trigger.Event)]++
	}
	for _, cm := range cms {
		for _, ev := range []string{"Added", "Updated"} {
			if c := perObject[cm.Name+"/"+ev]; c != 1 {
				t.Errorf("%s %s: %d runs, want 1", cm.Name, ev, c)
			}
		}
	}
}
