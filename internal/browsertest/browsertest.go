// Package browsertest drives a headless Chromium (Debian's chromium package)
// through chromedp for the dashboard's browser tests, on envtest and on the
// end-to-end cluster. In CI (CI set) a missing browser fails the test, never
// skips it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kubeci/kubeci/internal/testenv"
)

// Browser is a headless Chromium driven through chromedp.
type Browser struct {
	t testing.TB
	// Ctx is the browser tab's context, for chromedp.Run.
	Ctx context.Context
	// alerts are the messages of alert() dialogs: an escaping bug would
	// run a script that opens one.
	mu     sync.Mutex
	alerts []string
	shots  string
}

// ChromiumPath finds Debian's chromium. In CI a missing browser fails the
// test; elsewhere the test is skipped, saying how to install it.
func ChromiumPath(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the browser tests need Chromium: apt-get install -y chromium")
	}
	t.Skip("skipping the browser test: no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// New starts a headless Chromium for the test, with a fresh profile; it is
// stopped when the test ends. Screenshots go to folder shots (none when
// empty).
func New(t testing.TB, shots string) *Browser {
	t.Helper()
	// Not t.TempDir: Chromium's helper processes may still write to their
	// profile for a moment after the browser is gone, and t.TempDir fails a
	// test whose folder cannot be removed at once.
	profile, err := os.MkdirTemp("", "kubeci-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1440, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		removeProfile(t, profile)
	})
	b := &Browser{t: t, Ctx: ctx, shots: shots}
	chromedp.ListenTarget(ctx, func(ev any) {
		if d, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			if d.Type == cdppage.DialogTypeAlert {
				b.mu.Lock()
				b.alerts = append(b.alerts, d.Message)
				b.mu.Unlock()
			}
			go func() { _ = chromedp.Run(ctx, cdppage.HandleJavaScriptDialog(true)) }()
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return b
}

// Run runs actions, failing the test when they fail or take too long.
func (b *Browser) Run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, testenv.WaitTimeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Wait waits until the JavaScript expression js is true on the page.
func (b *Browser) Wait(what, js string) {
	b.t.Helper()
	testenv.Eventually(b.t, what, func() error {
		var ok bool
		if err := chromedp.Run(b.Ctx, chromedp.Evaluate(js, &ok)); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

// Count evaluates a number on the page.
func (b *Browser) Count(js string) int {
	b.t.Helper()
	var n int
	b.Run("counting "+js, chromedp.Evaluate(js, &n))
	return n
}

// Screenshot saves the whole page as name.png.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	var png []byte
	// Right after a navigation the page may not be laid out yet.
	testenv.Eventually(b.t, "screenshot "+name, func() error {
		var ready bool
		if err := chromedp.Run(b.Ctx, chromedp.Evaluate(`document.readyState === "complete"`, &ready)); err != nil || !ready {
			return fmt.Errorf("page not ready: %v", err)
		}
		return chromedp.Run(b.Ctx, chromedp.FullScreenshot(&png, 100))
	})
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// NoAlerts fails the test if a script on the page opened an alert.
func (b *Browser) NoAlerts() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.alerts) > 0 {
		b.t.Errorf("a script ran on the page: alert(%q)", b.alerts)
	}
}

// ColorScheme makes the page see prefers-color-scheme as scheme ("light" or
// "dark").
func (b *Browser) ColorScheme(scheme string) {
	b.t.Helper()
	b.Run("colour scheme "+scheme, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}))
}

// Click clicks the element sel once it is visible. A page that is live may
// replace the element between finding and clicking it: then it tries again.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	testenv.Eventually(b.t, "clicking "+sel, func() error {
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		defer cancel()
		return chromedp.Run(ctx, chromedp.WaitVisible(sel), chromedp.Click(sel, chromedp.NodeVisible))
	})
}

// removeProfile removes Chromium's profile folder, trying again for a few
// seconds while its last helper processes end.
func removeProfile(t testing.TB, dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("leaving Chromium's profile %s: %v", dir, err)
}
