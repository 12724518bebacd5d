package main

import (
	"strings"
	"testing"
)

// TestMetrics signs in and reads /metrics: the sign-in, the reads of the
// signed-in requests and the provider calls are there, in Prometheus's
// text format.
func TestMetrics(t *testing.T) {
	d := startDemo(t, "ada")
	b := newBrowser(t, d)
	if resp, _ := b.get("/api/auth/signin/oidc?callbackUrl=%2Fprotected"); resp.Request.URL.String() != d.URL+"/protected" {
		t.Fatalf("after sign-in: got %s, want the protected page", resp.Request.URL)
	}
	b.get("/")
	resp, body := b.get("/metrics")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: got Content-Type %q, want Prometheus text", ct)
	}
	tests := []struct {
		name   string
		labels []string
		want   string
	}{
		{"sessionkit_events_total", []string{`sessionkit_event="sign_in"`}, "1"},
		// The landing page, the home page, and this request.
		{"sessionkit_session_reads_total", []string{`sessionkit_outcome="active"`, `sessionkit_source="cookie"`}, "3"},
		{"sessionkit_client_request_duration_seconds_count", []string{`sessionkit_call="token"`, `http_response_status_code="200"`}, "1"},
		{"sessionkit_cache_lookups_total", []string{`sessionkit_cache_result="hit"`}, "2"},
	}
	for _, tt := range tests {
		if got := sample(body, tt.name, tt.labels); got != tt.want {
			t.Errorf("GET /metrics: %s%v: got %q, want %q in\n%s", tt.name, tt.labels, got, tt.want, grepSessionkit(body))
		}
	}
}

// sample returns the value of the sample of metric name whose labels
// include labels, "" if none.
func sample(body, name string, labels []string) string {
	for _, l := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(l, name+"{")
		if !ok {
			continue
		}
		set, value, _ := strings.Cut(rest, "} ")
		all := true
		for _, lb := range labels {
			all = all && strings.Contains(","+set+",", ","+lb+",")
		}
		if all {
			return value
		}
	}
	return ""
}

// grepSessionkit keeps the lines of body that name sessionkit's metrics.
func grepSessionkit(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, "sessionkit_") && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
