package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
)

// heartbeat keeps an idle event stream open through proxies.
const heartbeat = 20 * time.Second

// eventStream writes server-sent events. Writes from several goroutines (a
// run's log lines and its state) come out whole.
type eventStream struct {
	mu sync.Mutex
	w  http.ResponseWriter
	f  http.Flusher
}

func newEventStream(w http.ResponseWriter) (*eventStream, error) {
	f, ok := w.(http.Flusher)
	if !ok {
		return nil, fmt.Errorf("streaming is not supported by this connection")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	f.Flush()
	return &eventStream{w: w, f: f}, nil
}

// send writes one event; data may hold several lines.
func (e *eventStream) send(event, data string) error {
	var b strings.Builder
	b.WriteString("event: " + event + "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write([]byte(b.String())); err != nil {
		return err
	}
	e.f.Flush()
	return nil
}

// comment writes an SSE comment (a heartbeat).
func (e *eventStream) comment() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write([]byte(": keep-alive\n\n")); err != nil {
		return err
	}
	e.f.Flush()
	return nil
}

// fragmentEvent replaces the content of the page's element ID with HTML.
type fragmentEvent struct {
	ID   string `json:"id"`
	HTML string `json:"html"`
}

// sendFragments pushes fragments to the page.
func (e *eventStream) sendFragments(frags []fragmentEvent) error {
	for _, f := range frags {
		data, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := e.send("fragment", string(data)); err != nil {
			return err
		}
	}
	return nil
}

// informer watches one kind as the viewer and keeps its objects.
type informer struct {
	store  toolscache.Store
	synced func() bool
}

// watchKind starts an informer of list's kind with opts, made with v's
// credentials, that calls changed after every change; it stops with ctx.
func watchKind(ctx context.Context, v *viewer, list client.ObjectList, obj runtime.Object, opts []client.ListOption, changed func()) *informer {
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l := list.DeepCopyObject().(client.ObjectList)
			err := v.Client.List(ctx, l, append(opts[:len(opts):len(opts)], &client.ListOptions{Raw: &o})...)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return v.Client.Watch(ctx, list.DeepCopyObject().(client.ObjectList), append(opts[:len(opts):len(opts)], &client.ListOptions{Raw: &o})...)
		},
	}
	notify := func() { changed() }
	store, ctl := toolscache.NewInformerWithOptions(toolscache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    obj,
		Handler: toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { notify() },
			UpdateFunc: func(any, any) { notify() },
			DeleteFunc: func(any) { notify() },
		},
	})
	go ctl.RunWithContext(ctx)
	return &informer{store: store, synced: ctl.HasSynced}
}

func workflowsIn(inf *informer) []kubeciv1.Workflow {
	items := inf.store.List()
	out := make([]kubeciv1.Workflow, 0, len(items))
	for _, o := range items {
		out = append(out, *o.(*kubeciv1.Workflow))
	}
	return out
}

func workplansIn(inf *informer) []kubeciv1.Workplan {
	items := inf.store.List()
	out := make([]kubeciv1.Workplan, 0, len(items))
	for _, o := range items {
		out = append(out, *o.(*kubeciv1.Workplan))
	}
	return out
}

// serveLive streams to the page the fragments render returns, after every
// change the informers see (several changes close together render once).
// render runs only once every informer has synced.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, start func(ctx context.Context, v *viewer, changed func()) []*informer,
	render func() ([]fragmentEvent, error), extra func(ctx context.Context, v *viewer, es *eventStream)) {
	v, err := s.viewerFor(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	es, err := newEventStream(w)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	wake := make(chan struct{}, 1)
	changed := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	infs := start(ctx, v, changed)
	if extra != nil {
		go extra(ctx, v, es)
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	sent := map[string]string{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if es.comment() != nil {
				return
			}
		case <-wake:
			if !allSynced(infs) {
				// The informers wake us again with their initial objects; look
				// once more shortly in case those came before the sync mark.
				time.AfterFunc(50*time.Millisecond, changed)
				continue
			}
			frags, err := render()
			if err != nil {
				_ = es.send("problem", err.Error())
				continue
			}
			if es.sendFragments(changedOnly(sent, frags)) != nil {
				return
			}
		}
	}
}

// changedOnly keeps the fragments that differ from those last sent (a
// resync, or a change to a part of the object the page does not show, sends
// nothing) and records them as sent.
func changedOnly(sent map[string]string, frags []fragmentEvent) []fragmentEvent {
	var out []fragmentEvent
	for _, f := range frags {
		if sent[f.ID] != f.HTML {
			sent[f.ID] = f.HTML
			out = append(out, f)
		}
	}
	return out
}

func allSynced(infs []*informer) bool {
	for _, i := range infs {
		if !i.synced() {
			return false
		}
	}
	return true
}

// liveWorkflows streams the Workflows page's table.
func (s *Server) liveWorkflows(w http.ResponseWriter, r *http.Request) {
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = s.opts.Namespace
	}
	var wfs, wps *informer
	s.serveLive(w, r, func(ctx context.Context, v *viewer, changed func()) []*informer {
		wfs = watchKind(ctx, v, &kubeciv1.WorkflowList{}, &kubeciv1.Workflow{}, listNamespace(ns), changed)
		wps = watchKind(ctx, v, &kubeciv1.WorkplanList{}, &kubeciv1.Workplan{}, listNamespace(ns), changed)
		return []*informer{wfs, wps}
	}, func() ([]fragmentEvent, error) {
		html, err := s.fragment(r, "workflows.html", "rows", workflowsView(ns, workflowsIn(wfs), workplansIn(wps), s.now()))
		return []fragmentEvent{{ID: "workflows", HTML: html}}, err
	}, nil)
}

// liveWorkflow streams a Workflow page's live parts: its state and its runs.
func (s *Server) liveWorkflow(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	var wfs, wps *informer
	s.serveLive(w, r, func(ctx context.Context, v *viewer, changed func()) []*informer {
		wfs = watchKind(ctx, v, &kubeciv1.WorkflowList{}, &kubeciv1.Workflow{}, oneObject(ns, name), changed)
		wps = watchKind(ctx, v, &kubeciv1.WorkplanList{}, &kubeciv1.Workplan{},
			[]client.ListOption{client.InNamespace(ns), client.MatchingLabels{kubeciv1.LabelWorkflow: names.LabelValue(name)}}, changed)
		return []*informer{wfs, wps}
	}, func() ([]fragmentEvent, error) {
		list := workflowsIn(wfs)
		if len(list) == 0 {
			return []fragmentEvent{{ID: "state", HTML: `<p class="problem">This workflow was deleted.</p>`}}, nil
		}
		d := workflowView(&list[0], ownRuns(workplansIn(wps), name), s.now())
		var out []fragmentEvent
		for _, part := range []struct{ id, tmpl string }{{"state", "state"}, {"runs", "runs"}} {
			html, err := s.fragment(r, "workflow.html", part.tmpl, d)
			if err != nil {
				return nil, err
			}
			out = append(out, fragmentEvent{ID: part.id, HTML: html})
		}
		return out, nil
	}, nil)
}

// oneObject selects the object name in ns.
func oneObject(ns, name string) []client.ListOption {
	return []client.ListOption{client.InNamespace(ns),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)}}
}
