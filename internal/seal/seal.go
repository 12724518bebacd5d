// Package seal seals values (cookies, tickets) with AES-256-GCM under a
// list of rotated secrets, and opens them again with any secret of the
// list.
//
// A sealed value is one pass of unpadded URL-safe base64 (Encoding) over
//
//	0x02 | salt (16 bytes) | nonce (12 random bytes) | AES-256-GCM ciphertext and tag
//
// The GCM key is HMAC-SHA256 of the salt under the sealing key, itself
// derived with HKDF-SHA256 from the configured secret and the name the
// values are sealed for (a cookie's name, or a kind of value), so that each
// name has keys of its own and the secret's other uses, keyed by other
// derivations, stay independent. The additional data is the version byte
// and that name, so a value moved to another cookie, or presented as
// another kind of value, does not open.
//
// With random 96-bit nonces, GCM stays within its bounds (a nonce collision
// below 2^-32) for about 2^32 messages per key. A Sealer therefore seals
// under a subkey of its own: it draws a random salt when it first seals and
// a new one after maxSealsPerSubkey values, so no GCM key ever seals more
// than that many, however many values a secret seals over its life and
// across instances (two subkeys collide only when their 128-bit salts do).
// Openers keep the few subkeys in use (cached by salt, at most
// maxOpenSubkeys), so neither side pays for a key derivation per value.
//
// The package knows nothing of sessions: it seals and opens bytes.
package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

const (
	version   = 0x02
	saltSize  = 16
	nonceSize = 12
	tagSize   = 16
	headSize  = 1 + saltSize + nonceSize

	// Overhead is how many bytes sealing adds to a payload, before base64.
	Overhead = headSize + tagSize

	maxSealsPerSubkey = 1 << 30
	maxOpenSubkeys    = 256

	// MinSecret is the shortest secret New accepts.
	MinSecret = 32
)

const info = "sessionkit cookie v2 AES-256-GCM"

// Encoding is the base64 encoding of sealed values (unpadded, URL-safe,
// strict).
var Encoding = base64.RawURLEncoding.Strict()

var (
	// ErrFormat means a value is not a sealed value at all.
	ErrFormat = errors.New("not a sealed value")
	// ErrNoKey means no configured key authenticates a value.
	ErrNoKey = errors.New("no configured key authenticates it")
	// ErrSecret means a secret given to New is too short.
	ErrSecret = errors.New("secret too short")
)

// Sealer seals values for one name with the first of its keys and opens
// them with any of them. It is safe for concurrent use.
type Sealer struct {
	keys []*key // [0] seals; all open
	ad   []byte // version and name: the additional data
}

// New returns a Sealer for values of name, keyed by secrets: the first
// seals, every one opens (rotation: the new secret first, the old ones
// after it). Each secret must hold at least MinSecret bytes from a CSPRNG.
func New(name string, secrets [][]byte) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secret", ErrSecret)
	}
	s := &Sealer{ad: append([]byte{version}, name...)}
	for i, secret := range secrets {
		if len(secret) < MinSecret {
			return nil, fmt.Errorf("%w: secret %d has %d bytes, want at least %d", ErrSecret, i, len(secret), MinSecret)
		}
		k, err := newKey(secret, name)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// NewSet returns a Sealer for each of names, keyed by secrets as New does:
// values sealed for one name never open as another's.
func NewSet(secrets [][]byte, names ...string) ([]*Sealer, error) {
	sealers := make([]*Sealer, len(names))
	for i, name := range names {
		s, err := New(name, secrets)
		if err != nil {
			return nil, err
		}
		sealers[i] = s
	}
	return sealers, nil
}

// Seal seals, with the first key, the payload that appendPayload appends
// to its argument, and returns the sealed bytes (before base64) in a
// pooled buffer, which the caller gives back with Release once it has
// encoded them. The payload is built and encrypted in place in that one
// buffer.
func (s *Sealer) Seal(appendPayload func([]byte) []byte) (buf *[]byte, raw []byte) {
	bp := getBuf(headSize)
	b := slices.Grow(appendPayload((*bp)[:headSize]), tagSize)
	sk := s.keys[0].sealer()
	b[0] = version
	copy(b[1:], sk.salt[:])
	rand.Read(b[1+saltSize : headSize]) // never fails (crypto/rand crashes the program instead)
	// In place: the ciphertext and tag fill b after the header (the
	// append is a no-op copy unless Seal had to allocate).
	sealed := sk.aead.Seal(b[headSize:headSize], b[1+saltSize:headSize], b[headSize:], s.ad)
	b = append(b[:headSize], sealed...)
	*bp = b
	return bp, b
}

// SealString seals payload with the first key into a value that owns its
// memory; payload is not retained.
func (s *Sealer) SealString(payload []byte) string {
	bp, raw := s.Seal(func(b []byte) []byte { return append(b, payload...) })
	defer Release(bp)
	return EncodeToString(raw)
}

// Release gives back a buffer Seal returned; the bytes in it must not be
// used afterwards.
func Release(buf *[]byte) {
	if cap(*buf) <= 1<<16 {
		bufPool.Put(buf)
	}
}

// EncodeToString returns the value of sealed bytes, which owns its memory.
func EncodeToString(raw []byte) string {
	out := make([]byte, Encoding.EncodedLen(len(raw)))
	Encoding.Encode(out, raw)
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// Open authenticates and decrypts value, trying each key in order. It
// returns the payload, in memory of its own that nothing else references,
// and the index of the key that opened it (a value opened by a key other
// than the first should be sealed again). err is ErrFormat or ErrNoKey.
func (s *Sealer) Open(value string) (payload []byte, key int, err error) {
	// Go's base64 decoder skips CR and LF: refuse them, so that exactly
	// one value opens.
	if len(value) < Encoding.EncodedLen(Overhead) || strings.IndexByte(value, '\n') >= 0 || strings.IndexByte(value, '\r') >= 0 {
		return nil, 0, ErrFormat
	}
	bp := getBuf(Encoding.DecodedLen(len(value)))
	defer Release(bp)
	n, err := Encoding.Decode(*bp, unsafe.Slice(unsafe.StringData(value), len(value)))
	if err != nil || n < Overhead || (*bp)[0] != version {
		return nil, 0, ErrFormat
	}
	raw := (*bp)[:n]
	salt, nonce, sealed := raw[1:1+saltSize], raw[1+saltSize:headSize], raw[headSize:]
	out := make([]byte, len(sealed)-tagSize)
	for i, k := range s.keys {
		// out does not overlap sealed, which a failed Open leaves intact
		// for the next key.
		sk, cached := k.opener(salt)
		if p, err := sk.aead.Open(out[:0], nonce, sealed, s.ad); err == nil {
			if !cached {
				k.remember(sk)
			}
			return p, i, nil
		}
	}
	return nil, 0, ErrNoKey
}

// bufPool holds the scratch buffers of Seal and Open: base64-decoded
// values and sealed bytes before encoding, never a plaintext.
var bufPool sync.Pool // of *[]byte

func getBuf(n int) *[]byte {
	if bp, _ := bufPool.Get().(*[]byte); bp != nil && cap(*bp) >= n {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]byte, n, max(n, 4096))
	return &b
}
