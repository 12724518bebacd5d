package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/devoidc"
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

// browserTokenTTL is the access token lifetime of TestBrowser's demo, set
// as SESSIONKIT_DEV_TOKEN_TTL would: short, so that the browser's session
// is refreshed (half the lifetime after each token is issued) while the
// test waits.
const browserTokenTTL = "4s"

// TestBrowser drives headless Chromium through the demo: the protected
// page sends it to sign in, it picks Ada on devoidc's login page, sees the
// protected page and the home page, the client page's polling shows the
// session, /api/me answers it, reloading the home page refreshes the
// access token, and it signs out, at the provider too: signing in again
// shows the provider's login page, which a remembered login would skip.
func TestBrowser(t *testing.T) {
	bin, ok := chromium()
	requireTool(t, ok, "Chromium is not installed (apt-get install chromium)")
	d := startDemoWith(t, options{devTokenTTL: browserTokenTTL, logout: true}) // devoidc shows its login page

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
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
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
	// poll waits until expr is true; a poll interrupted because the page's
	// JavaScript context was replaced (it navigated or reloaded) is tried
	// again.
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			deadline := time.Now().Add(20 * time.Second)
			for {
				_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))(ctx, tg)
				if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
					return chromedp.Void{}, err
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	pollStatus := func(want string) chromedp.Action[chromedp.Void] {
		return poll(`document.getElementById("status").textContent === "` + want + `"`)
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
	// It looks like a product: the shared stylesheet applied, the header
	// with the signed-in user and a link to every page, checked on a
	// screenshot (kept with -artifacts).
	checkLook(t, ctx)
	// Switch organization with the home page's button (a POST with the
	// csrfToken of /api/auth/csrf), then add Grace's account and switch
	// back to Ada's, whose organization is kept.
	waitFor := func(what, expr string) {
		t.Helper()
		do(what, poll(expr)) // the page reloads after a switch
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
	type meJSON struct {
		User                struct{ Email string }
		Status              string
		AccessTokenIssuedAt time.Time
		AccessTokenSHA256   string `json:"accessTokenSha256"`
		Error               string
	}
	fetchMe := func() meJSON {
		t.Helper()
		m, err := chromedp.Run(ctx, chromedp.Evaluate[meJSON](`fetch("/api/me").then(r => r.json())`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch /api/me: %v", err)
		}
		return m
	}
	// The protected API answers the session to the page's fetch.
	if me := fetchMe(); me.User.Email != "ada@example.com" || me.Status != "active" || me.AccessTokenSHA256 == "" {
		t.Fatalf("/api/me: got %+v", me)
	}

	// Wait for a refresh. The browser reloads the home page, so that its
	// own cookie is refreshed, until /api/me answers another access token;
	// then the home page's "last refreshed" time has moved forward, with
	// Ada still signed in, and the provider saw a refresh_token grant, not
	// a new sign-in.
	type home struct {
		FP         string `json:"fp"`
		Issued     string `json:"issued"`
		Email      string `json:"email"`
		Status     string `json:"status"`
		TokenError string `json:"tokenError"`
	}
	readHome := func() home {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.Evaluate[home](`(() => {
  const text = id => document.getElementById(id)?.textContent.trim() ?? "";
  return {fp: text("access-fp"), issued: document.getElementById("access-issued")?.getAttribute("datetime") ?? "",
    email: text("email"), status: text("status"), tokenError: text("token-error")};
})()`))
		if err != nil {
			t.Fatalf("read the home page: %v", err)
		}
		return h
	}
	issuedAt := func(h home) time.Time {
		t.Helper()
		at, err := time.Parse(time.RFC3339Nano, h.Issued)
		if err != nil {
			t.Fatalf("home page: access token issued at %q: %v", h.Issued, err)
		}
		return at
	}
	reloadHome := chromedp.Steps(chromedp.Reload(), chromedp.WaitVisible(css("#access-issued")))
	do("open the home page", chromedp.Navigate(d.URL+"/"), chromedp.WaitVisible(css("#access-issued")))
	// The baseline: the home page and then /api/me show the same token. A
	// refresh between the two reads, by the fetch of /api/me, makes them
	// differ: reload and read again.
	var me0 meJSON
	var h0 home
	for i := 0; ; i++ {
		do("reload the home page", reloadHome)
		if h0, me0 = readHome(), fetchMe(); h0.FP == me0.AccessTokenSHA256 {
			break
		}
		if i == 20 {
			t.Fatalf("the home page shows token %s, then /api/me %s, 20 times over", h0.FP, me0.AccessTokenSHA256)
		}
	}
	issued0 := issuedAt(h0)
	if me0.AccessTokenSHA256 == "" || h0.Email != "ada@example.com" || me0.AccessTokenIssuedAt.IsZero() {
		t.Fatalf("before the refresh: got /api/me %+v, home page %+v", me0, h0)
	}
	codes, refreshes := d.idp.CodeExchanges(), d.idp.Refreshes()
	const refreshWait = 30 * time.Second
	waitStart := time.Now()
	deadline := waitStart.Add(refreshWait)
	var me1 meJSON
	for {
		do("wait, then reload the home page", chromedp.Sleep(500*time.Millisecond), reloadHome)
		if me1 = fetchMe(); me1.AccessTokenSHA256 != me0.AccessTokenSHA256 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refresh within %s of reloading (access tokens of %s): /api/me still shows %+v, the home page %+v",
				refreshWait, browserTokenTTL, me1, readHome())
		}
	}
	t.Logf("refreshed %s after the baseline: token %s issued at %s, then %s issued at %s",
		time.Since(waitStart).Round(time.Millisecond), me0.AccessTokenSHA256, h0.Issued, me1.AccessTokenSHA256, me1.AccessTokenIssuedAt.Format(time.RFC3339Nano))
	do("reload the home page after the refresh", reloadHome)
	h1 := readHome()
	if issued1 := issuedAt(h1); !issued1.After(issued0) || h1.FP == h0.FP {
		t.Fatalf("home page after the refresh: got token %s issued at %s, want another token than %s issued after %s", h1.FP, h1.Issued, h0.FP, h0.Issued)
	}
	if h1.Email != "ada@example.com" || h1.Status != "active" || h1.TokenError != "" {
		t.Fatalf("home page after the refresh: got %+v, want Ada's active session without a token error", h1)
	}
	if me1.User.Email != "ada@example.com" || me1.Status != "active" || me1.Error != "" || !me1.AccessTokenIssuedAt.After(issued0) {
		t.Fatalf("/api/me after the refresh: got %+v, want Ada's active session with a token issued after %s", me1, h0.Issued)
	}
	if c, r := d.idp.CodeExchanges(), d.idp.Refreshes(); c != codes || r <= refreshes {
		t.Fatalf("provider during the wait: got %d code exchanges and %d refreshes, want %d and more than %d", c, r, codes, refreshes)
	}

	// Sign out through the confirmation page (a CSRF-checked form).
	do("sign out", chromedp.Navigate(d.URL+"/"), chromedp.Click(css("a#signout")),
		chromedp.WaitVisible(css("button#signout")), chromedp.Click(css("button#signout")),
		chromedp.WaitVisible(css("#signed-out")))
	if loc := location(); !strings.HasPrefix(loc, d.URL+"/?state=") {
		t.Fatalf("after sign-out: got %s, want the provider to have sent the browser back to %s/ with the state", loc, d.URL)
	}
	if got := d.idp.Received(devoidc.EndSessionPath); len(got) != 1 || got[0].Get("id_token_hint") == "" {
		t.Fatalf("the provider's end-session requests: got %v, want one with an id_token_hint", got)
	}
	do("poll the session signed out", chromedp.Navigate(d.URL+"/client"), pollStatus("unauthenticated"))
	do("open the protected page signed out", chromedp.Navigate(d.URL+"/protected"), chromedp.WaitVisible(css("#signin-oidc")))
	do("sign in again", chromedp.Click(css("#signin-oidc")), chromedp.WaitVisible(css("#login-ada")))
	if loc := location(); !strings.HasPrefix(loc, d.Issuer+"/login") {
		t.Fatalf("signing in again: got %s, want the provider's login page", loc)
	}
	// Both accounts' refresh tokens were revoked at the provider.
	for deadline := time.Now().Add(5 * time.Second); len(d.idp.Received(devoidc.RevocationPath)) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("revocations at the provider: got %d, want 2", len(d.idp.Received(devoidc.RevocationPath)))
		}
	}
}

// The demo's look, as the stylesheet static/demo.css sets it.
var (
	headerColor = color.RGBA{0x1e, 0x29, 0x3b, 0xff} // .bar's background, --bar
	pageColor   = color.RGBA{0xf8, 0xfa, 0xfc, 0xff} // body's background
)

// checkLook checks the signed-in home page open in ctx: the header names
// the user and links to every page of navLinks, and a screenshot shows the
// stylesheet's header bar above the page's background.
func checkLook(t *testing.T, ctx context.Context) {
	t.Helper()
	type header struct {
		User  string   `json:"user"`
		Links []string `json:"links"`
	}
	h, err := chromedp.Run(ctx, chromedp.Evaluate[header](`({
  user: document.getElementById("header-user")?.textContent.trim() ?? "",
  links: [...document.querySelectorAll("header nav a")].map(a => a.getAttribute("href")),
})`))
	if err != nil {
		t.Fatalf("read the header: %v", err)
	}
	if h.User != "Ada Lovelace" {
		t.Errorf("header: got user %q, want Ada Lovelace", h.User)
	}
	for _, l := range navLinks {
		if !slices.Contains(h.Links, l.Href) {
			t.Errorf("header: got links %q, want one to %s", h.Links, l.Href)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(t.ArtifactDir(), "home.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatalf("keep the screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	b := img.Bounds()
	checks := []struct {
		what string
		x, y int
		want color.RGBA
	}{
		{"the header bar, top left", b.Min.X + 2, b.Min.Y + 2, headerColor},
		{"the header bar, top right", b.Max.X - 3, b.Min.Y + 2, headerColor},
		{"the page's background, bottom left", b.Min.X + 2, b.Max.Y - 3, pageColor},
	}
	for _, c := range checks {
		if got := color.RGBAModel.Convert(img.At(c.x, c.y)).(color.RGBA); !near(got, c.want) {
			t.Errorf("screenshot %s: %s at (%d, %d): got %v, want %v", file, c.what, c.x, c.y, got, c.want)
		}
	}
}

// near reports whether two colours differ by at most 3 in each channel
// (colour management may round).
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) bool { return x-y <= 3 || y-x <= 3 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}
