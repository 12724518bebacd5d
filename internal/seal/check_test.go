package seal

import (
	"bytes"
	"testing"
)

func TestCheckSecrets(t *testing.T) {
	good := bytes.Repeat([]byte{7}, MinSecret)
	tests := []struct {
		name      string
		secrets   [][]byte
		wantField string
	}{
		{"none", nil, ""},
		{"good", [][]byte{good, good}, ""},
		{"short", [][]byte{good[:MinSecret-1]}, "[0]"},
		{"empty second", [][]byte{good, {}}, "[1]"},
		{"all zero", [][]byte{make([]byte, 64)}, "[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := CheckSecrets(tt.secrets)
			got := ""
			if fe != nil {
				got = fe.Field
			}
			if got != tt.wantField {
				t.Fatalf("got field %q (%v), want %q", got, fe, tt.wantField)
			}
		})
	}
}
