package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/runlogs"
	"github.com/kubeci/kubeci/internal/version"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kubeciv1.AddToScheme(s))
	return s
}()

// Options configure a Server.
type Options struct {
	// Config reaches the API server: with the caller's credentials in
	// AuthKubeconfig mode; in AuthToken mode only its address and TLS trust
	// are used.
	Config *rest.Config
	// Auth is whose credentials requests act with.
	Auth AuthMode
	// Namespace is shown when the viewer has not chosen one.
	Namespace string
	// Hosts the server answers to (the Host header), against DNS rebinding;
	// empty accepts any (in a cluster, behind a Service).
	Hosts []string
	// Logs opens container logs; the pods/log API as the viewer when nil.
	// Tests inject scripted logs (envtest has no kubelet).
	Logs func(v *viewer, namespace string) runlogs.Streamer
	// Clock tells the time; the real clock when nil.
	Clock clock.PassiveClock
}

// Server is the dashboard's HTTP handler.
type Server struct {
	opts  Options
	local *viewer
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns a dashboard serving with opts.
func New(opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Auth == "" {
		opts.Auth = AuthKubeconfig
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	if opts.Auth == AuthKubeconfig {
		v, err := newViewer(opts.Config)
		if err != nil {
			return nil, err
		}
		s.local = v
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/workflows?namespace="+s.opts.Namespace, http.StatusFound)
	})
	s.mux.HandleFunc("GET /workflows", s.workflowsPage)
	s.mux.HandleFunc("GET /workflows/{ns}/{name}", s.workflowPage)
	s.mux.HandleFunc("GET /runs/{ns}/{name}", s.runPage)
	s.mux.HandleFunc("GET /runs/{ns}/{name}/log", s.downloadLog)
	s.mux.HandleFunc("GET /live/workflows", s.liveWorkflows)
	s.mux.HandleFunc("GET /live/workflows/{ns}/{name}", s.liveWorkflow)
	s.mux.HandleFunc("GET /live/runs/{ns}/{name}", s.liveRun)
	s.mux.HandleFunc("POST /workflows/{ns}/{name}/trigger", s.trigger)
	s.mux.HandleFunc("POST /runs/{ns}/{name}/cancel", s.cancel)
	s.mux.HandleFunc("POST /runs/{ns}/{name}/rerun", s.rerun)
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.logout)
}

// ServeHTTP answers only to the configured hosts, with headers that keep the
// pages from being framed, sniffed or made to run scripts from elsewhere.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hostAllowed(r.Host) {
		http.Error(w, "unknown host "+r.Host+": open the dashboard at the address kubeci dashboard printed", http.StatusMisdirectedRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) hostAllowed(host string) bool {
	if len(s.opts.Hosts) == 0 {
		return true
	}
	for _, h := range s.opts.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// LocalHosts are the Host headers a dashboard on the loopback address addr
// ("127.0.0.1:8080") answers to.
func LocalHosts(addr string) []string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{addr}
	}
	return []string{addr, "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port}
}

// page is what every page's layout needs.
type page struct {
	Title     string
	Namespace string
	CSRF      string
	Auth      AuthMode
	LoggedIn  bool
	Version   string
	Live      string // the URL of the page's event stream
	Data      any
}

var funcs = template.FuncMap{
	"lower": strings.ToLower,
	"add":   func(a, b int) int { return a + b },
	"half":  func(a int) int { return a / 2 },
	"first": func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l },
}

func (s *Server) parseTemplates() error {
	s.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return err
		}
		s.pages[base] = t
	}
	return nil
}

// render writes page name with data, or a plain error when it fails.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page, data any) {
	p.Data = data
	p.CSRF = csrfToken(w, r)
	p.Auth = s.opts.Auth
	p.Version = version.Version
	if p.Namespace == "" {
		p.Namespace = s.opts.Namespace
	}
	if s.opts.Auth == AuthToken {
		_, err := r.Cookie(tokenCookie)
		p.LoggedIn = err == nil
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		http.Error(w, "rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fragment renders the template name of page file alone (a live part of a
// page) with data, for request r (whose CSRF token its forms carry).
func (s *Server) fragment(r *http.Request, file, name string, data any) (string, error) {
	p := page{Data: data, Auth: s.opts.Auth}
	if c, err := r.Cookie(csrfCookie); err == nil {
		p.CSRF = c.Value
	}
	var buf bytes.Buffer
	err := s.pages[file].ExecuteTemplate(&buf, name, p)
	return buf.String(), err
}

// fail shows an error page saying what went wrong, as the API server said it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	title := map[int]string{http.StatusForbidden: "Not allowed", http.StatusNotFound: "Not found",
		http.StatusUnauthorized: "Not logged in"}[status]
	if title == "" {
		title = "That did not work"
	}
	s.render(w, r, status, "error.html", page{Title: title}, map[string]any{
		"Title": title, "Status": status, "Message": err.Error(), "Login": s.opts.Auth == AuthToken &&
			(status == http.StatusUnauthorized || status == http.StatusForbidden),
	})
}

// apiFail shows an API error with the HTTP status it maps to.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, what string, err error) {
	status := http.StatusBadGateway
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Code >= 400 {
		status = int(st.Status().Code)
	}
	s.fail(w, r, status, fmt.Errorf("%s: %w", what, err))
}

// now is the time pages are rendered at.
func (s *Server) now() time.Time { return s.opts.Clock.Now() }
