package postbody

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           Body
		err            error
	}{
		{"form", "application/x-www-form-urlencoded",
			"csrfToken=t&callbackUrl=%2Fx&json=true&signInId=s&organizationId=o&workspaceId=w&ticket=k&data=%7B%22a%22%3A1%7D",
			Body{CSRFToken: "t", Callback: "/x", JSON: true, SignInID: "s", OrganizationID: "o", WorkspaceID: "w", Ticket: "k", Data: []byte(`{"a":1}`)}, nil},
		{"form with invalid data", "application/x-www-form-urlencoded", "csrfToken=t&data=not-json", Body{CSRFToken: "t"}, nil},
		{"no type: the body is not read", "", "csrfToken=t", Body{}, nil},
		{"json", "application/json; charset=utf-8",
			`{"csrfToken":"t","callbackUrl":"/x","json":"true","data":{"a":1},"signInId":"s","organizationId":"o","workspaceId":"w","ticket":"k"}`,
			Body{CSRFToken: "t", Callback: "/x", JSON: true, SignInID: "s", OrganizationID: "o", WorkspaceID: "w", Ticket: "k", Data: []byte(`{"a":1}`)}, nil},
		{"json true", "application/json", `{"json":true,"data":null}`, Body{JSON: true}, nil},
		{"empty json", "application/json", "  ", Body{}, nil},
		{"json array", "application/json", `[1]`, Body{}, ErrMalformedJSON},
		{"json of another shape", "application/json", `{"csrfToken":7}`, Body{}, ErrMalformedJSON},
		{"bad form", "application/x-www-form-urlencoded", "a=%zz", Body{}, ErrMalformedForm},
		{"json too large", "application/json", `{"pad":"` + strings.Repeat("x", MaxBytes) + `"}`, Body{}, ErrTooLarge},
		{"form too large", "application/x-www-form-urlencoded", "pad=" + strings.Repeat("x", MaxBytes), Body{}, ErrTooLarge},
		{"another type", "text/plain", "x", Body{}, ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			got, err := Read(httptest.NewRecorder(), r)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCallbackURL(t *testing.T) {
	r := httptest.NewRequest("POST", "/?callbackUrl=%2Fq", nil)
	tests := []struct {
		b    Body
		want string
	}{{Body{Callback: "/b"}, "/b"}, {Body{}, "/q"}}
	for _, tt := range tests {
		if got := tt.b.CallbackURL(r); got != tt.want {
			t.Errorf("CallbackURL of %+v = %q, want %q", tt.b, got, tt.want)
		}
	}
}
