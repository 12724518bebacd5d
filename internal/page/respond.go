package page

import (
	"encoding/json"
	"net/http"
)

// Page is a page this package renders.
type Page interface{ HTML() ([]byte, error) }

// Render answers with p under a policy that lets it load nothing and be
// framed nowhere; a template error answers 500.
func Render(w http.ResponseWriter, status int, p Page) {
	b, err := p.HTML()
	if err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteJSON answers with status and v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NoStore marks an answer as private to the browser that asked, never
// cached, and not to be content-sniffed; it varies with the Cookie header.
func NoStore(h http.Header) {
	h.Set("Cache-Control", "private, no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Cookie")
}

// Unauthorized answers an API request that has no valid credential with
// status, "WWW-Authenticate: Bearer" (RFC 6750; with code and desc as its
// error and error_description when named) and the JSON body {"error":
// code, "error_description": desc}, never cached.
func Unauthorized(w http.ResponseWriter, status int, code, desc string, named bool) {
	h := w.Header()
	if named {
		h.Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+desc+`"`)
	} else {
		h.Set("WWW-Authenticate", "Bearer")
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
