package workflow

import (
	"context"
	"fmt"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// accessChecker asks the API server, with SubjectAccessReviews, whether a
// Workflow's ServiceAccount may list and watch a trigger's objects: the
// operator watches with its own, wider rights, and must not let a Workflow
// author learn of objects their ServiceAccount cannot read.
type accessChecker struct {
	client client.Client
	clock  clock.PassiveClock

	mu      sync.Mutex
	answers map[accessQuestion]accessAnswer
}

type accessQuestion struct {
	namespace, serviceAccount, verb string
	target                          trigger.Target
}

type accessAnswer struct {
	allowed bool
	reason  string
	at      time.Time
}

func newAccessChecker(c client.Client, clk clock.PassiveClock) *accessChecker {
	return &accessChecker{client: c, clock: clk, answers: map[accessQuestion]accessAnswer{}}
}

// check returns a Forbidden problem when wf's ServiceAccount may not list or
// watch the objects of one of the targets.
func (a *accessChecker) check(ctx context.Context, wf *kubeciv1.Workflow, filters []trigger.Filter) (*problem, error) {
	sa := wf.Spec.GetServiceAccountName()
	for _, f := range filters {
		for _, verb := range []string{"list", "watch"} {
			q := accessQuestion{namespace: wf.Namespace, serviceAccount: sa, verb: verb, target: f.Target}
			ans, err := a.ask(ctx, q)
			if err != nil {
				return nil, err
			}
			if !ans.allowed {
				where := "cluster-wide"
				if f.Namespace != "" {
					where = "in namespace " + f.Namespace
				}
				msg := fmt.Sprintf("spec.triggers[%d]: service account %s/%s may not %s %s %s, so the trigger is not watched; grant it with a Role or ClusterRole binding",
					f.Index, wf.Namespace, sa, verb, f.GVR.GroupResource(), where)
				if ans.reason != "" {
					msg += " (" + ans.reason + ")"
				}
				return &problem{kubeciv1.ReasonForbidden, msg}, nil
			}
		}
	}
	return nil, nil
}

func (a *accessChecker) ask(ctx context.Context, q accessQuestion) (accessAnswer, error) {
	now := a.clock.Now()
	a.mu.Lock()
	ans, ok := a.answers[q]
	a.mu.Unlock()
	if ok && trigger.AccessFresh(ans.allowed, ans.at, now) {
		return ans, nil
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   fmt.Sprintf("system:serviceaccount:%s:%s", q.namespace, q.serviceAccount),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + q.namespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: q.target.Namespace,
			Verb:      q.verb,
			Group:     q.target.GVR.Group,
			Version:   q.target.GVR.Version,
			Resource:  q.target.GVR.Resource,
		},
	}}
	if err := a.client.Create(ctx, review); err != nil {
		return accessAnswer{}, fmt.Errorf("asking whether %s may %s %s: %w", review.Spec.User, q.verb, q.target.GVR.GroupResource(), err)
	}
	ans = accessAnswer{allowed: review.Status.Allowed, reason: review.Status.Reason, at: now}
	a.mu.Lock()
	if len(a.answers) > 10_000 {
		a.answers = map[accessQuestion]accessAnswer{}
	}
	a.answers[q] = ans
	a.mu.Unlock()
	return ans, nil
}
