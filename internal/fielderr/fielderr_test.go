package fielderr

import (
	"errors"
	"testing"
)

func TestError(t *testing.T) {
	cause := errors.New("bad url")
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"reason", New("Algorithms[1]", "unknown algorithm %q", "XS1"), `Algorithms[1]: unknown algorithm "XS1"`},
		{"wrapped", Wrap("JWKSURLs[0]", "invalid JWKS URL", cause), "JWKSURLs[0]: invalid JWKS URL: bad url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if err := Wrap("f", "r", cause); !errors.Is(err, cause) {
		t.Fatal("Wrap does not unwrap to its cause")
	}
}
