package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome binary.
func chromium() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// TestBrowser drives headless Chromium through the demo: the protected
// page sends it to sign in, it picks Ada on devoidc's login page, sees the
// protected page and the home page, the client page's polling shows the
// session, /api/me answers it, and it signs out.
func TestBrowser(t *testing.T) {
	bin, ok := chromium()
	requireTool(t, ok, "Chromium is not installed (apt-get install chromium)")
	d := startDemo(t, "") // devoidc shows its login page

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
			t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("location: %v", err)
		}
		return loc
	}
	pollStatus := func(want string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](`document.getElementById("status").textContent === "`+want+`"`,
				chromedp.WithPollingTimeout(20*time.Second))(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	type css = chromedp.CSS

	// Signed out, the protected page leads to the sign-in page.
	do("open the protected page", chromedp.Navigate(d.URL+"/protected"), chromedp.WaitVisible(css("#signin-oidc")))
	if loc := location(); !strings.HasPrefix(loc, d.URL+"/api/auth/signin?callbackUrl=%2Fprotected") {
		t.Fatalf("signed out: got %s, want the sign-in page", loc)
	}
	// Sign in at the provider's login page, back on the protected page.
	do("choose the provider", chromedp.Click(css("#signin-oidc")), chromedp.WaitVisible(css("#login-ada")))
	if loc := location(); !strings.HasPrefix(loc, d.Issuer+"/login") {
		t.Fatalf("at the provider: got %s, want %s/login", loc, d.Issuer)
	}
	do("sign in as Ada", chromedp.Click(css("#login-ada")), chromedp.WaitVisible(css("#protected")))
	if loc, user := location(), text("#user"); loc != d.URL+"/protected" || user != "Ada Lovelace" {
		t.Fatalf("after sign-in: got %s showing %q, want %s/protected showing Ada Lovelace", loc, user, d.URL)
	}
	// The home page renders the session on the server.
	do("open the home page", chromedp.Navigate(d.URL+"/"), chromedp.WaitVisible(css("#email")))
	if email, status := text("#email"), text("#status"); email != "ada@example.com" || status != "active" {
		t.Fatalf("home page: got %q, %q; want ada@example.com, active", email, status)
	}
	// Switch organization with the home page's button (a POST with the
	// csrfToken of /api/auth/csrf), then add Grace's account and switch
	// back to Ada's, whose organization is kept.
	waitFor := func(what, expr string) {
		t.Helper()
		// The page reloads after a switch, which interrupts a poll: retry.
		do(what, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			deadline := time.Now().Add(20 * time.Second)
			for {
				_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))(ctx, tg)
				if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
					return chromedp.Void{}, err
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	const orgIs = `document.getElementById("organization")?.textContent === `
	do("switch to org_globex", chromedp.Click(css("#org-org_globex")))
	waitFor("see org_globex active", orgIs+`"org_globex"`)
	do("add another account", chromedp.Click(css("#add-account")), chromedp.WaitVisible(css("#login-grace")))
	do("sign in as Grace", chromedp.Click(css("#login-grace")), chromedp.WaitVisible(css("#accounts")))
	waitFor("see Grace active with two accounts", `document.getElementById("email")?.textContent === "grace@example.com" && document.querySelectorAll("li.account").length === 2`)
	if org := text("#organization"); org == "org_globex" {
		t.Fatalf("Grace's sign-in: got organization %q, want none", org)
	}
	do("switch back to Ada", chromedp.Click(css("button.switch-account")))
	waitFor("see Ada active in org_globex", `document.getElementById("email")?.textContent === "ada@example.com" && `+orgIs+`"org_globex"`)
	// The client page polls /api/auth/session as useSession() does.
	do("open the client page", chromedp.Navigate(d.URL+"/client"), pollStatus("authenticated"))
	var polled struct {
		User    struct{ Email string }
		Expires string
		Status  string
	}
	if err := json.Unmarshal([]byte(text("#session")), &polled); err != nil || polled.User.Email != "ada@example.com" || polled.Expires == "" || polled.Status != "active" {
		t.Fatalf("client page session: got %+v (%v)", polled, err)
	}
	// The protected API answers the session to the page's fetch.
	me, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`fetch("/api/me").then(r => r.json())`, chromedp.EvalAwaitPromise))
	if u, _ := me["user"].(map[string]any); err != nil || u["email"] != "ada@example.com" || me["status"] != "active" || me["accessTokenSha256"] == "" {
		t.Fatalf("/api/me: got %v, %v", me, err)
	}
	// Sign out through the confirmation page (a CSRF-checked form).
	do("sign out", chromedp.Navigate(d.URL+"/"), chromedp.Click(css("a#signout")),
		chromedp.WaitVisible(css("button#signout")), chromedp.Click(css("button#signout")),
		chromedp.WaitVisible(css("#signed-out")))
	do("poll the session signed out", chromedp.Navigate(d.URL+"/client"), pollStatus("unauthenticated"))
	do("open the protected page signed out", chromedp.Navigate(d.URL+"/protected"), chromedp.WaitVisible(css("#signin-oidc")))
}
