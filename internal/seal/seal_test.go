package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func secret() []byte {
	b := make([]byte, 64)
	rand.Read(b)
	return b
}

func mustNew(t testing.TB, name string, secrets ...[]byte) *Sealer {
	t.Helper()
	s, err := New(name, secrets)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sealString(s *Sealer, payload []byte) string { return s.SealString(payload) }

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		secrets [][]byte
		wantErr error
	}{
		{"one secret", [][]byte{secret()}, nil},
		{"the shortest secret", [][]byte{make([]byte, MinSecret)}, nil},
		{"no secret", nil, ErrSecret},
		{"a short secret", [][]byte{make([]byte, MinSecret-1)}, ErrSecret},
		{"a short old secret", [][]byte{secret(), make([]byte, 8)}, ErrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New("s", tt.secrets); !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewSet(t *testing.T) {
	sec := secret()
	set, err := NewSet([][]byte{sec}, "a", "b")
	if err != nil || len(set) != 2 {
		t.Fatalf("got %d sealers, %v; want 2", len(set), err)
	}
	v := set[0].SealString([]byte("x"))
	if p, _, err := mustNew(t, "a", sec).Open(v); err != nil || string(p) != "x" {
		t.Fatalf("a value of the set's first sealer: got %q, %v", p, err)
	}
	if _, _, err := set[1].Open(v); err == nil {
		t.Fatal("a value of one name opens under another")
	}
	if _, err := NewSet([][]byte{make([]byte, 8)}, "a"); !errors.Is(err, ErrSecret) {
		t.Fatalf("got %v, want ErrSecret", err)
	}
}

// A value round-trips in the documented format: two seals of one payload
// differ (random salt and nonce), and empty payloads seal too.
func TestSealRoundTrip(t *testing.T) {
	s := mustNew(t, "__Host-sessionkit", secret())
	for _, n := range []int{0, 1, 15, 16, 17, 2200, 10000} {
		p := make([]byte, n)
		rand.Read(p)
		v := sealString(s, p)
		if v[0] != 'A' || len(v) != base64.RawURLEncoding.EncodedLen(n+Overhead) {
			t.Fatalf("n=%d: value starts %q, %d bytes: not the documented format", n, v[:1], len(v))
		}
		if sealString(s, p) == v {
			t.Fatalf("n=%d: two seals of one payload are equal", n)
		}
		got, key, err := s.Open(v)
		if err != nil || key != 0 || !bytes.Equal(got, p) {
			t.Fatalf("n=%d: got key %d err %v equal %v", n, key, err, bytes.Equal(got, p))
		}
	}
}

// Which Sealers open a value sealed for "__Host-sessionkit" with k1, and
// with which key index.
func TestOpenKeysAndNames(t *testing.T) {
	k1, k2, k3 := secret(), secret(), secret()
	const name = "__Host-sessionkit"
	p := []byte("a payload of some length, longer than one AES block")
	v := sealString(mustNew(t, name, k1), p)
	tests := []struct {
		name    string
		opener  *Sealer
		wantKey int
		wantErr error
	}{
		{"same key", mustNew(t, name, k1), 0, nil},
		{"rotated: the key is now the second", mustNew(t, name, k2, k1), 1, nil},
		{"rotated: the key is now the third", mustNew(t, name, k2, k3, k1), 2, nil},
		{"removed key", mustNew(t, name, k2), 0, ErrNoKey},
		{"wrong key", mustNew(t, name, k2, k3), 0, ErrNoKey},
		{"another cookie name", mustNew(t, "__Host-other", k1), 0, ErrNoKey},
		{"a name that differs by its prefix", mustNew(t, "sessionkit", k1), 0, ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, key, err := tt.opener.Open(v)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if err == nil && (key != tt.wantKey || !bytes.Equal(got, p)) {
				t.Fatalf("got key %d (want %d), equal %v", key, tt.wantKey, bytes.Equal(got, p))
			}
		})
	}
}

// Each name derives sealing keys of its own from a secret, so one secret
// keys every kind of value independently; one name derives the same key
// every time, so instances sharing a secret open each other's values.
func TestKeysPerName(t *testing.T) {
	k := secret()
	sealKey := func(name string) []byte { return mustNew(t, name, k).keys[0].seal }
	tests := []struct {
		a, b string
		same bool
	}{
		{"__Host-sessionkit", "__Host-sessionkit", true},
		{"__Host-sessionkit", "__Host-other", false},
		{"sessionkit ticket", "sessionkit sign-in flow __Host-sessionkit", false},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := bytes.Equal(sealKey(tt.a), sealKey(tt.b)); got != tt.same {
			t.Errorf("%q and %q: same sealing key %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

// Every changed byte, changed character, truncation, extension and
// embedded newline is refused.
func TestOpenTampered(t *testing.T) {
	s := mustNew(t, "__Host-sessionkit", secret())
	v := sealString(s, bytes.Repeat([]byte("p"), 300))
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	type tampered struct {
		what  string
		value string
	}
	var tests []tampered
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		tests = append(tests, tampered{"sealed byte changed", base64.RawURLEncoding.EncodeToString(b)})
	}
	for i := range len(v) {
		for _, x := range []byte{0x01, 0x08, 0x20} {
			b := []byte(v)
			b[i] ^= x
			tests = append(tests, tampered{"character changed", string(b)})
		}
	}
	for n := range len(v) {
		tests = append(tests, tampered{"truncated", v[:n]})
	}
	for _, extra := range []string{"A", "AA", "AAAA", "=", "\n", "\r\n"} {
		tests = append(tests, tampered{"appended " + extra, v + extra})
	}
	tests = append(tests,
		tampered{"a newline inside", v[:10] + "\n" + v[10:]},
		tampered{"a carriage return inside", v[:10] + "\r" + v[10:]},
		tampered{"padded", base64.URLEncoding.EncodeToString(raw)},
		tampered{"standard base64", base64.RawStdEncoding.EncodeToString(raw)},
		tampered{"another version", base64.RawURLEncoding.EncodeToString(append([]byte{0x01}, raw[1:]...))},
	)
	for i, tt := range tests {
		if tt.value == v {
			continue // a padded or standard encoding can equal the original
		}
		if _, _, err := s.Open(tt.value); err == nil {
			t.Fatalf("%d (%s): opened", i, tt.what)
		}
	}
}

// A Sealer seals under one subkey until maxSealsPerSubkey values, then
// under a new salt; values of every subkey still open, also after the
// opening cache has been flushed by made-up salts.
func TestSubkeys(t *testing.T) {
	k := secret()
	s := mustNew(t, "s", k)
	p := []byte("0123456789")
	salt := func(v string) [saltSize]byte { return saltOf(t, v) }
	v1, v2 := sealString(s, p), sealString(s, p)
	if salt(v1) != salt(v2) {
		t.Fatal("two values in a row under different subkeys")
	}
	s.keys[0].sealing.Load().seals.Store(maxSealsPerSubkey)
	v3 := sealString(s, p)
	if salt(v3) == salt(v1) {
		t.Fatal("subkey not changed after maxSealsPerSubkey values")
	}
	// Another Sealer with the same secret seals under its own subkey, and
	// each opens the other's values.
	v4 := sealString(mustNew(t, "s", k), p)
	if salt(v4) == salt(v1) || salt(v4) == salt(v3) {
		t.Fatal("two Sealers share a subkey")
	}
	if _, _, err := s.Open(v4); err != nil {
		t.Fatal(err)
	}
	// Forged values, each with a salt of its own, are not cached: they
	// cannot push out the salts in use.
	for i := range 3 * maxOpenSubkeys {
		if _, _, err := s.Open(forged(10)); err == nil {
			t.Fatalf("forged value %d opened", i)
		}
	}
	if n := s.keys[0].nopen.Load(); n > 3 {
		t.Fatalf("%d subkeys cached after forged values, want the 3 authentic ones at most", n)
	}
	if _, ok := s.keys[0].opening.Load(salt(v4)); !ok {
		t.Fatal("forged values pushed another Sealer's subkey out of the cache")
	}
	// More authentic salts than the cache holds: it stays bounded, and
	// keeps the subkey this Sealer seals with.
	for range maxOpenSubkeys + 10 {
		if _, _, err := s.Open(sealString(mustNew(t, "s", k), p)); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.keys[0].nopen.Load(); n > maxOpenSubkeys {
		t.Fatalf("%d subkeys cached, more than %d", n, maxOpenSubkeys)
	}
	if _, ok := s.keys[0].opening.Load(salt(v3)); !ok {
		t.Fatal("the sealing subkey left the cache")
	}
	for i, v := range []string{v1, v2, v3, v4} {
		if got, _, err := s.Open(v); err != nil || !bytes.Equal(got, p) {
			t.Fatalf("value %d: %v", i, err)
		}
	}
}

// Sealing and opening from many goroutines (for the race detector), across
// subkey changes and cache flushes.
func TestConcurrent(t *testing.T) {
	s := mustNew(t, "s", secret())
	p := bytes.Repeat([]byte("x"), 100)
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				if sk := s.keys[0].sealing.Load(); sk != nil && i%50 == g {
					sk.seals.Store(maxSealsPerSubkey)
				}
				got, _, err := s.Open(sealString(s, p))
				if err == nil && !bytes.Equal(got, p) {
					err = errors.New("opened to other bytes")
				}
				if err != nil {
					done <- err
					return
				}
				if i%20 == 0 {
					s.Open(forged(0))
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// forged is a value in the sealed format, of n payload bytes, that no key
// sealed.
func forged(n int) string {
	b := make([]byte, Overhead+n)
	b[0] = version
	rand.Read(b[1:])
	return base64.RawURLEncoding.EncodeToString(b)
}

// saltOf returns the salt of a sealed value.
func saltOf(t *testing.T, v string) [saltSize]byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < 1+saltSize {
		t.Fatalf("not a sealed value: %v", err)
	}
	return [saltSize]byte(raw[1 : 1+saltSize])
}

// FuzzOpen opens arbitrary values: never a panic, never a payload from a
// value no key sealed; and whatever payload is sealed opens to the same
// bytes.
func FuzzOpen(f *testing.F) {
	k1, k2 := secret(), secret()
	const name = "__Host-sessionkit"
	s := mustNew(f, name, k2, k1)
	p := []byte("a payload of some length, longer than one AES block")
	sealed := sealString(mustNew(f, name, k1), p)
	for _, seed := range []string{sealed, "", "A", "AAAA", "M", sealed[:len(sealed)-1], sealed + "A", strings.Repeat("A", 60), forged(5)} {
		f.Add(seed, p)
	}
	f.Add(sealed, []byte{})
	f.Fuzz(func(t *testing.T, value string, payload []byte) {
		if got, key, err := s.Open(value); err == nil && (value != sealed || key != 1 || !bytes.Equal(got, p)) {
			// Only the seeded value was sealed.
			t.Fatalf("a value nobody sealed opened: %q", value)
		}
		payload = payload[:min(len(payload), 4096)]
		v := sealString(s, payload)
		if got, key, err := s.Open(v); err != nil || key != 0 || !bytes.Equal(got, payload) {
			t.Fatalf("round trip: key %d err %v", key, err)
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	s := mustNew(b, "__Host-sessionkit", secret())
	p := bytes.Repeat([]byte("p"), 2200)
	v := sealString(s, p)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bp, _ := s.Seal(func(b []byte) []byte { return append(b, p...) })
			Release(bp)
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.Open(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
