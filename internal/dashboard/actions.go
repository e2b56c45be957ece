package dashboard

import (
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/runrequest"
)

// The buttons. Each is a POST from the dashboard's own page (checkPost), made
// as the viewer, asking the operator exactly as the CLI does: Trigger and
// Rerun write a request annotation on the Workflow (kubeci trigger, kubeci
// rerun), Cancel sets the run's spec.cancelled (kubeci cancel). The page then
// shows the answer live.

// trigger asks for a run of the Workflow's current steps.
func (s *Server) trigger(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	if err := s.ask(r, runrequest.Run, ns, name, runrequest.NewID()); err != nil {
		s.actionFail(w, r, "triggering workflow "+name, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/workflows/%s/%s", ns, name), http.StatusSeeOther)
}

// rerun asks for a new run repeating this one.
func (s *Server) rerun(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	if err := checkPost(r); err != nil {
		s.fail(w, r, http.StatusForbidden, err)
		return
	}
	_, wp := s.readWorkplan(w, r, ns, name, s.actionFail)
	if wp == nil {
		return
	}
	if err := s.ask(r, runrequest.Rerun, ns, wp.Spec.Workflow, runrequest.RerunValue(name, runrequest.NewID())); err != nil {
		s.actionFail(w, r, "rerunning "+name, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/workflows/%s/%s", ns, wp.Spec.Workflow), http.StatusSeeOther)
}

// ask writes request value of kind k on Workflow name, unless the operator
// has not answered the one before yet (it would be lost).
func (s *Server) ask(r *http.Request, k runrequest.Kind, ns, name, value string) error {
	if err := checkPost(r); err != nil {
		return err
	}
	v, err := s.viewerFor(r)
	if err != nil {
		return err
	}
	for {
		wf := &kubeciv1.Workflow{}
		if err := v.Client.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, wf); err != nil {
			return err
		}
		if pending := k.Pending(wf); pending != "" {
			return fmt.Errorf("the operator has not answered the previous request %q yet: is it running? Try again once it has", pending)
		}
		err := v.Client.Patch(r.Context(), wf, k.Patch(wf.ResourceVersion, value))
		if apierrors.IsConflict(err) {
			continue // the Workflow changed since it was read: look again
		}
		return err
	}
}

// cancel stops a run.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	if err := checkPost(r); err != nil {
		s.fail(w, r, http.StatusForbidden, err)
		return
	}
	v := s.viewerOrFail(w, r)
	if v == nil {
		return
	}
	wp := &kubeciv1.Workplan{}
	wp.Namespace, wp.Name = ns, name
	if err := v.Client.Patch(r.Context(), wp, runrequest.CancelPatch); err != nil {
		s.actionFail(w, r, "cancelling "+name, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/runs/%s/%s", ns, name), http.StatusSeeOther)
}

// actionFail shows why an action failed: refused as cross-site, refused by
// the API server (the viewer's RBAC), or another error.
func (s *Server) actionFail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if err == errCrossSite {
		s.fail(w, r, http.StatusForbidden, err)
		return
	}
	if apierrors.IsForbidden(err) {
		err = fmt.Errorf("%w\n(the dashboard acts with your own Kubernetes rights: triggering and rerunning need patch on workflows, cancelling patch on workplans, as the kubeci-edit role grants)", err)
	}
	s.apiFail(w, r, what, err)
}
