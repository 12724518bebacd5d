// Package redact formats values for logs and fmt verbs without revealing
// credentials.
package redact

import "time"

// Secret is "[redacted]" for a non-empty secret, and "" for none, so that
// a log still shows whether there was one.
func Secret(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// Time is t in UTC as RFC 3339, or "" for the zero time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
