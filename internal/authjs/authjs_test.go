package authjs

import (
	"encoding/json"
	"testing"
	"time"
)

type actor struct {
	Subject string `json:"sub"`
}

func TestSessionJSON(t *testing.T) {
	at := time.Date(2026, 11, 23, 13, 0, 0, 5e6, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		s    Session[actor]
		want string
	}{
		{"minimal", Session[actor]{Expires: Time(at), Status: "active"},
			`{"user":{},"expires":"2026-11-23T12:00:00.005Z","status":"active"}`},
		{"full", Session[actor]{User: User{ID: "u1", Name: "Ada"}, Expires: Time(at), Status: "active",
			AccessTokenExpiresAt: TimeOrNil(at), IDTokenExpiresAt: TimeOrNil(time.Time{}), Actor: &actor{"admin"},
			SignIns: []SignIn[actor]{{ID: "s1", User: User{ID: "u1"}}}},
			`{"user":{"id":"u1","name":"Ada"},"expires":"2026-11-23T12:00:00.005Z","status":"active",` +
				`"accessTokenExpiresAt":"2026-11-23T12:00:00.005Z","actor":{"sub":"admin"},"signIns":[{"id":"s1","user":{"id":"u1"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.s)
			if err != nil || string(b) != tt.want {
				t.Fatalf("got %s, %v; want %s", b, err, tt.want)
			}
		})
	}
}

func TestProviders(t *testing.T) {
	tests := []struct {
		name string
		list []Provider
		want string
	}{
		{"none", nil, "{}\n"},
		{"in order", []Provider{{ID: "z", Name: "Z", Type: "oidc"}, {ID: "a", Name: "A", Type: "oauth"}},
			`{"z":{"id":"z","name":"Z","type":"oidc","signinUrl":"","callbackUrl":""},` +
				`"a":{"id":"a","name":"A","type":"oauth","signinUrl":"","callbackUrl":""}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Providers(tt.list)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
