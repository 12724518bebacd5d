package jwtverify

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
		err     error
	}{
		{"none", nil, "", nil},
		{"another scheme", []string{"Basic dXNlcjpwYXNz"}, "", nil},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"scheme case-insensitive", []string{"bEaReR abc"}, "abc", nil},
		{"extra spaces", []string{"Bearer   abc"}, "abc", nil},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", ErrMalformedHeader},
		{"empty token", []string{"Bearer "}, "", ErrMalformedHeader},
		{"too long", []string{"Bearer " + strings.Repeat("a", MaxTokenLen+1)}, "", ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := BearerToken(r)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCheckB64Token(t *testing.T) {
	tests := []struct {
		tok  string
		want bool
	}{
		{"abc.DEF-_~+/09", true},
		{"abc==", true},
		{"==", false},
		{"", false},
		{"a b", false},
		{"a=b", false},
		{"a\r\nb", false},
		{"ä", false},
	}
	for _, tt := range tests {
		err := CheckB64Token(tt.tok)
		if (err == nil) != tt.want || (err != nil && !errors.Is(err, ErrMalformedHeader)) {
			t.Errorf("CheckB64Token(%q): got %v, want valid %v", tt.tok, err, tt.want)
		}
	}
}

func TestBearerCredentials(t *testing.T) {
	tests := []struct {
		v, rest string
		ok      bool
	}{
		{"Bearer x", "x", true},
		{"bearer", "", true},
		{"Bearerx y", "y", false},
		{"Basic x", "x", false},
	}
	for _, tt := range tests {
		if rest, ok := BearerCredentials(tt.v); rest != tt.rest || ok != tt.ok {
			t.Errorf("BearerCredentials(%q): got %q, %v; want %q, %v", tt.v, rest, ok, tt.rest, tt.ok)
		}
	}
}

func TestHasBearer(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   bool
	}{
		{"none", nil, false},
		{"basic", []string{"Basic dXNlcg=="}, false},
		{"bearer", []string{"Bearer abc"}, true},
		{"malformed bearer", []string{"bearer"}, true},
		{"second header", []string{"Basic x", "Bearer y"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Authorization"] = tt.values
			if got := HasBearer(r); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
