package csrf

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// key returns a fresh 32-byte key.
func key() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func TestGuard(t *testing.T) {
	oldKeys, newKeys := key(), key()
	old, err := New([][]byte{oldKeys}, "")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := New([][]byte{newKeys, oldKeys}, "")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := New([][]byte{key()}, "")
	if err != nil {
		t.Fatal(err)
	}
	token, cookie := old.Issue()
	token2, _ := old.Issue()
	if len(token) != 64 || !strings.HasPrefix(cookie, token+"|") || len(cookie) != 129 || token == token2 {
		t.Fatalf("issue: got %q, %q; want a fresh 64-hex token and token|mac", token, cookie)
	}
	mac := cookie[65:]
	for _, tc := range []struct {
		name              string
		g                 *Guard
		cookie, submitted string
		want              bool
	}{
		{"match", old, cookie, token, true},
		{"match after key rotation", rotated, cookie, token, true},
		{"another server's cookie", stranger, cookie, token, false},
		{"another token", old, cookie, token2, false},
		{"empty submission", old, cookie, "", false},
		{"no cookie", old, "", token, false},
		{"cookie without mac", old, token, token, false},
		{"forged mac", old, token + "|" + strings.Repeat("0", 64), token, false},
		{"mac of another token", old, token2 + "|" + mac, token2, false},
		{"upper-case token", old, strings.ToUpper(token) + "|" + mac, strings.ToUpper(token), false},
		{"trailing data", old, cookie + "|x", token, false},
		{"prefix of the token", old, cookie, token[:63], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.Verify(tc.cookie, tc.submitted); got != tc.want {
				t.Fatalf("verify: got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGuardOrigin(t *testing.T) {
	g, err := New([][]byte{key()}, "https://app.example")
	if err != nil {
		t.Fatal(err)
	}
	token, cookie := g.Issue()
	for _, tc := range []struct {
		name   string
		host   string
		header map[string]string
		ok     bool
	}{
		{"no browser headers", "app.example", nil, true},
		{"same-origin fetch", "app.example", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"user-initiated", "app.example", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"cross-site", "app.example", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"same-site subdomain", "app.example", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"foreign Origin", "app.example", map[string]string{"Origin": "https://evil.example"}, false},
		{"matching Origin", "app.example", map[string]string{"Origin": "https://app.example"}, true},
		{"trusted origin behind a proxy", "internal:8080", map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://"+tc.host+"/api/auth/signout", nil)
			r.Host = tc.host
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if err := g.Check(r, cookie, token); (err == nil) != tc.ok {
				t.Fatalf("check: got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// FuzzVerify checks that a CSRF check passes only for the token of a
// cookie the guard minted, and never panics.
func FuzzVerify(f *testing.F) {
	g, err := New([][]byte{[]byte(strings.Repeat("h", 32))}, "")
	if err != nil {
		f.Fatal(err)
	}
	token, cookie := g.Issue()
	f.Add(cookie, token)
	f.Add(cookie, "")
	f.Add(token+"|", token)
	f.Add("|", "")
	f.Add(strings.ToUpper(cookie), strings.ToUpper(token))
	f.Fuzz(func(t *testing.T, cookie, submitted string) {
		if !g.Verify(cookie, submitted) {
			return
		}
		tok, mac, _ := strings.Cut(cookie, "|")
		if tok != submitted || mac != g.mac(g.secrets[0], tok) || len(tok) != 64 {
			t.Fatalf("Verify(%q, %q) passed for a cookie the guard did not mint", cookie, submitted)
		}
	})
}

func TestRequestCookie(t *testing.T) {
	g, err := New([][]byte{key()}, "")
	if err != nil {
		t.Fatal(err)
	}
	token, value := g.Issue()
	tests := []struct {
		name      string
		cookie    *http.Cookie
		submitted string
		wantToken bool
		wantOK    bool
	}{
		{"matching", &http.Cookie{Name: "csrf", Value: value}, token, true, true},
		{"wrong token", &http.Cookie{Name: "csrf", Value: value}, strings.Repeat("0", len(token)), true, false},
		{"other cookie", &http.Cookie{Name: "other", Value: value}, token, false, false},
		{"no cookie", nil, token, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/signout", nil)
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			got, ok := g.RequestToken(r, "csrf")
			if ok != tt.wantToken || (ok && got != token) {
				t.Errorf("RequestToken: got %q, %v; want found %v", got, ok, tt.wantToken)
			}
			if err := g.CheckRequest(r, "csrf", tt.submitted); (err == nil) != tt.wantOK {
				t.Errorf("CheckRequest: got %v, want ok %v", err, tt.wantOK)
			}
		})
	}
}
