package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Cookie names.
const (
	tokenCookie = "kubeci_token"
	csrfCookie  = "kubeci_csrf"
	// csrfField is the form field every POST repeats the CSRF cookie in.
	csrfField = "csrf"
)

// AuthMode says whose credentials the dashboard acts with.
type AuthMode string

const (
	// AuthKubeconfig: the credentials of the configuration given (the
	// caller's kubeconfig), for a dashboard on the caller's own machine.
	AuthKubeconfig AuthMode = "kubeconfig"
	// AuthToken: the bearer token each viewer logs in with, for a dashboard
	// running in the cluster. Without one, calls are anonymous.
	AuthToken AuthMode = "token"
)

// viewer is the clients one request acts with.
type viewer struct {
	Client client.WithWatch
	Kube   kubernetes.Interface
	// LoggedIn: the request carries a token (AuthToken mode).
	LoggedIn bool
}

// mapper knows Kube CI's kinds without asking the API server: discovery as
// each viewer, on every request, would cost a round trip for nothing.
var mapper = func() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(kubeciv1.GroupVersion.WithKind("Workflow"), meta.RESTScopeNamespace)
	m.Add(kubeciv1.GroupVersion.WithKind("Workplan"), meta.RESTScopeNamespace)
	return m
}()

// viewerFor returns the clients r acts with: the server's configuration in
// AuthKubeconfig mode; in AuthToken mode the API server's address and CA
// with r's token and nothing else, so the server's own ServiceAccount is never
// used.
func (s *Server) viewerFor(r *http.Request) (*viewer, error) {
	if s.opts.Auth != AuthToken {
		return s.local, nil
	}
	cfg := anonymous(s.opts.Config)
	token := ""
	if c, err := r.Cookie(tokenCookie); err == nil {
		token = c.Value
	}
	cfg.BearerToken = token
	v, err := newViewer(cfg)
	if err != nil {
		return nil, err
	}
	v.LoggedIn = token != ""
	return v, nil
}

// viewerOrFail returns r's viewer, or shows why there is none and returns nil.
func (s *Server) viewerOrFail(w http.ResponseWriter, r *http.Request) *viewer {
	v, err := s.viewerFor(r)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return nil
	}
	return v
}

// anonymous is cfg without any credentials: the address, TLS trust and
// limits only.
func anonymous(cfg *rest.Config) *rest.Config {
	out := rest.AnonymousClientConfig(cfg)
	out.QPS, out.Burst = cfg.QPS, cfg.Burst
	return out
}

func newViewer(cfg *rest.Config) (*viewer, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme, Mapper: mapper, HTTPClient: httpClient, Log: logr.Discard()})
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return &viewer{Client: c, Kube: kube}, nil
}

// newSecret returns 32 random bytes, base64url.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken returns the request's CSRF token, setting a new cookie when it
// has none. Pages put it in every form (the double-submit pattern).
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := newSecret()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return tok
}

// errCrossSite refuses a POST that did not come from the dashboard's own pages.
var errCrossSite = errors.New("refused: this request did not come from the dashboard's own page (cross-site request); reload the page and try again")

// checkPost accepts a state-changing request only from the dashboard's own
// pages: the browser must not say it is cross-site (Sec-Fetch-Site), its
// Origin, if any, must be this server, and the form must repeat the CSRF
// cookie, which another site can neither read nor set.
func checkPost(r *http.Request) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("use POST")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCrossSite
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return errCrossSite
		}
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return errCrossSite
	}
	if subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		return errCrossSite
	}
	return nil
}

// loginPage shows the token form.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login.html", page{Title: "Log in"}, nil)
}

// login keeps the token the viewer gave in an HttpOnly, SameSite=Strict
// cookie (Secure over TLS), which every later request acts with.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := checkPost(r); err != nil {
		s.fail(w, r, http.StatusForbidden, err)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" || strings.ContainsAny(token, " \t\r\n;") {
		s.render(w, r, http.StatusBadRequest, "login.html", page{Title: "Log in"},
			map[string]string{"Error": "Paste a bearer token (for example the output of kubectl create token NAME)."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout forgets the token.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := checkPost(r); err != nil {
		s.fail(w, r, http.StatusForbidden, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
