package dashboard

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/plan"
)

// xss is what a hostile user writes wherever the API lets them: messages,
// reasons, log lines. (Step names are DNS labels: the API refuses markup.)
const xss = `<script>alert("x")</script><img src=x onerror=alert(1)>`

// The pages show the Workflows, a Workflow and a run as the viewer reads
// them, with every user string escaped.
func TestPagesEscapeEverything(t *testing.T) {
	f := newFixture(t, AuthKubeconfig)
	wf := f.workflow("build")
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "build-run")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.Client.Create(t.Context(), wp); err != nil {
		t.Fatal(err)
	}
	f.setStatus(wp.Name, func(wp *kubeciv1.Workplan) {
		stepPhases(wp, kubeciv1.WorkplanFailed, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepFailed})
		wp.Status.Reason = xss
		wp.Status.Steps[0].Message = xss
	})

	for path, want := range map[string][]string{
		"/workflows?namespace=" + f.ns:                 {"build", "/runs/" + f.ns + "/build-run"},
		"/workflows/" + f.ns + "/build":                {`class="node`, `class="edge"`, "task 1 · one pod", "build-run"},
		"/runs/" + f.ns + "/build-run":                 {"&lt;script&gt;", `data-step="step-5"`, `/runs/` + f.ns + `/build-run/rerun`},
		"/workflows?namespace=" + url.QueryEscape("*"): {f.ns},
	} {
		code, body := f.get(path)
		if code != http.StatusOK {
			t.Errorf("%s: status %d: %s", path, code, body)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not show %q", path, w)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s holds unescaped markup", path)
		}
	}
	if code, body := f.get("/workflows/" + f.ns + "/nope"); code != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Errorf("a missing workflow: %d %s", code, body)
	}
	// An invalid Workflow lists every problem with its field.
	cyclic := samples.Workflow()
	cyclic.Name, cyclic.Namespace, cyclic.Spec.Triggers = "cyclic", f.ns, nil
	cyclic.Spec.Steps[0].Dependency = []string{"step-5"}
	if err := f.env.Client.Create(t.Context(), cyclic); err != nil {
		t.Fatal(err)
	}
	if code, body := f.get("/workflows/" + f.ns + "/cyclic"); code != http.StatusOK ||
		!strings.Contains(body, "spec.steps[0].dependency[0]") || !strings.Contains(body, "dependency cycle: step-1 -&gt; step-5") {
		t.Errorf("an invalid workflow: %d %s", code, body)
	}

	// The logs download as kubeci logs prints them.
	req, _ := http.NewRequest(http.MethodGet, f.url+"/runs/"+f.ns+"/build-run/log", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != `attachment; filename="build-run.log"` {
		t.Errorf("download: %d %v", resp.StatusCode, resp.Header)
	}
}

// Actions are refused unless they come from the dashboard's own page.
func TestActionsRefuseCrossSiteRequests(t *testing.T) {
	f := newFixture(t, AuthKubeconfig)
	f.workflow("build")
	trigger := f.url + "/workflows/" + f.ns + "/build/trigger"
	cases := []struct {
		name    string
		cookie  string
		form    string
		headers map[string]string
	}{
		{"no token", "", "", nil},
		{"token in the form only", "", "csrf=" + strings.Repeat("a", 43), nil},
		{"tokens that differ", strings.Repeat("a", 43), "csrf=" + strings.Repeat("b", 43), nil},
		{"cross-site", strings.Repeat("a", 43), "csrf=" + strings.Repeat("a", 43), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"another origin", strings.Repeat("a", 43), "csrf=" + strings.Repeat("a", 43), map[string]string{"Origin": "https://evil.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, trigger, strings.NewReader(tc.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: csrfCookie, Value: tc.cookie})
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	if runs := f.runs("build"); len(runs) != 0 {
		t.Errorf("a refused request started %d runs", len(runs))
	}
	got := &kubeciv1.Workflow{}
	if err := f.env.Client.Get(t.Context(), keyOf(f.ns, "build"), got); err != nil || got.Annotations[kubeciv1.AnnotationRunRequest] != "" {
		t.Errorf("a refused request wrote %v (%v)", got.Annotations, err)
	}

	// The page's own form works.
	jar := newJar(t)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(f.url + "/workflows/" + f.ns + "/build")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	token := ""
	for _, ck := range jar.Cookies(mustURL(t, f.url)) {
		if ck.Name == csrfCookie {
			token = ck.Value
		}
	}
	resp, err = c.PostForm(trigger, url.Values{csrfField: {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the page's own trigger: status %d", resp.StatusCode)
	}
	runs := f.waitRuns("build", 1)
	if runs[0].Spec.Trigger.Event != kubeciv1.EventManual {
		t.Errorf("want a manual run, got %+v", runs[0].Spec.Trigger)
	}
}

// In token mode every call is made as the viewer's token: without one the
// API server sees an anonymous user; a view-only token reads but cannot act.
func TestTokenModeActsAsTheViewer(t *testing.T) {
	f := newFixture(t, AuthToken)
	f.workflow("build")
	if code, body := f.get("/workflows?namespace=" + f.ns); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("anonymous: status %d: %.200s", code, body)
	} else if !strings.Contains(body, "/login") {
		t.Errorf("anonymous: no way to log in: %.300s", body)
	}
	token := &http.Cookie{Name: tokenCookie, Value: f.viewOnlyToken()}
	code, body := f.get("/workflows?namespace="+f.ns, token)
	if code != http.StatusOK || !strings.Contains(body, "build") {
		t.Errorf("view-only token: status %d: %.300s", code, body)
	}
}

func keyOf(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

func newJar(t *testing.T) *cookiejar.Jar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
