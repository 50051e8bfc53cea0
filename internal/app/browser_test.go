package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vaultwatch/internal/testutil"
)

// chromium finds Debian's chromium (or another Chrome) for browser tests.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// TestBrowserRespondToAlert drives the pages in a real browser: sign in,
// open the alert the service raised, change its status with a comment,
// and investigate the caller's address.
func TestBrowserRespondToAlert(t *testing.T) {
	exe := chromium(t)
	data, logs := t.TempDir(), t.TempDir()
	example, err := os.ReadFile(filepath.Join(testutil.Root(t), "examples", "vault", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	ts := startService(t, data, logs)
	defer ts.stop(t)
	if err := os.WriteFile(filepath.Join(logs, "audit.log"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	var list alertList
	eventually(t, "the alert", func() bool {
		ts.get(t, "/api/v1/alerts", &list)
		return list.Total > 0
	})
	id := list.Alerts[0].Alert.ID

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser, on a context without a timeout;
	// the others run under one.
	base := strings.TrimSuffix(ts.URL(), "/")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/alerts/"+id)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// A page asks for sign-in first, and comes back to it after.
	err = chromedp.Do(tctx,
		chromedp.WaitVisible(css(`input[name="username"]`)),
		chromedp.SendKeys(css(`input[name="username"]`), "admin"),
		chromedp.SendKeys(css(`input[name="password"]`), "correct horse battery staple"),
		chromedp.Submit(css(`form[action="/login"]`)),
		chromedp.WaitVisible(css(`form.status-form`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	title, err := chromedp.Run(tctx, chromedp.Text(css(`h1`)))
	if err != nil {
		t.Fatal(err)
	}
	// Take the alert in hand.
	err = chromedp.Do(tctx,
		chromedp.Click(css(`input[name="status"][value="in-progress"]`)),
		chromedp.SendKeys(css(`textarea[name="comment"]`), "looking into the root token"),
		chromedp.Submit(css(`form.status-form`)),
	)
	if err != nil {
		t.Fatalf("status change: %v", err)
	}
	// The form posts and the page comes back: wait for the new history.
	var history string
	for deadline := time.Now().Add(30 * time.Second); ; {
		history, err = chromedp.Run(tctx, chromedp.Text(css(`table.history`)))
		if err == nil && strings.Contains(history, "looking into the root token") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Step 3: every operation from the caller's address.
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/investigate?ip=198.51.100.23&from=2026-11-01"),
		chromedp.WaitVisible(css(`main table`)),
	)
	if err != nil {
		t.Fatalf("investigate: %v", err)
	}
	rows, err := chromedp.Run(tctx, chromedp.Text(css(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "Root credential used") {
		t.Errorf("alert page title %q", title)
	}
	if !strings.Contains(history, "looking into the root token") || !strings.Contains(history, "admin") {
		t.Errorf("history %q lacks the change and who made it", history)
	}
	if !strings.Contains(rows, "198.51.100.23") {
		t.Errorf("investigate page lacks the address: %q", rows)
	}
	rec, err := ts.Store().Alert(context.Background(), id)
	if err != nil || rec.Status != "in-progress" {
		t.Errorf("stored status %q (%v), want in-progress", rec.Status, err)
	}
}
