package sessionkit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Session cookies are sealed in one of two formats.
//
// The current format (sealV2), which seal writes, is one pass of unpadded
// URL-safe base64 over
//
//	0x02 | salt (16 bytes) | nonce (12 random bytes) | AES-256-GCM ciphertext and tag
//
// The GCM key is HMAC-SHA256 of the salt under the key pair's sealing key,
// itself derived with HKDF-SHA256 from HashKey and BlockKey (so it is
// independent of the keys the legacy format and the tickets use them for).
// The additional data is the version byte and the cookie's name, so a value
// moved to another cookie does not open.
//
// With random 96-bit nonces, GCM stays within its bounds (a nonce collision
// below 2^-32) for about 2^32 messages per key. A Manager therefore seals
// under a subkey of its own: it draws a random salt when it starts and a new
// one after maxSealsPerSubkey cookies, so no GCM key ever seals more than
// that many, however many cookies a key pair seals over its life and across
// instances (two subkeys collide only when their 128-bit salts do). Openers
// keep the few subkeys in use (cached by salt, at most maxOpenSubkeys), so
// neither side pays for a key derivation per cookie.
//
// The legacy format is gorilla/securecookie's with a no-op serializer,
// which sessionkit wrote before: base64url(date "|" base64url(iv |
// AES-256-CTR(payload)) "|" mac), with the MAC HMAC-SHA256 over
// name "|" date "|" the inner base64 under HashKey, and the CTR key BlockKey.
// open still reads it, with securecookie itself, so that sessions issued
// before an upgrade survive it; they are re-issued in the current format
// on their next request, like cookies sealed with an old key.
const (
	sealV2      = 0x02
	saltSize    = 16
	nonceSize   = 12
	tagSize     = 16
	sealV2Head  = 1 + saltSize + nonceSize
	sealV2Extra = sealV2Head + tagSize

	maxSealsPerSubkey = 1 << 30
	maxOpenSubkeys    = 256
)

const sealV2Info = "sessionkit cookie v2 AES-256-GCM"

// cookieKey is one configured key pair, ready for the current format.
type cookieKey struct {
	seal []byte // the key subkeys are derived from

	mu      sync.Mutex             // serializes changes of sealing
	sealing atomic.Pointer[subkey] // the subkey seal uses
	opening sync.Map               // [saltSize]byte → *subkey, for open
	nopen   atomic.Int32           // entries in opening, about
}

// subkey is one salt's GCM.
type subkey struct {
	salt  [saltSize]byte
	aead  cipher.AEAD
	seals atomic.Uint64 // cookies sealed with it
}

// newCookieKey prepares k, which Config.validate has checked (BlockKey is
// 32 bytes).
func newCookieKey(k KeyPair) *cookieKey {
	secret := make([]byte, 0, len(k.HashKey)+len(k.BlockKey))
	secret = append(append(secret, k.HashKey...), k.BlockKey...)
	seal, err := hkdf.Key(sha256.New, secret, nil, sealV2Info, 32)
	if err != nil {
		panic("sessionkit: " + err.Error())
	}
	return &cookieKey{seal: seal}
}

// derive returns the subkey of salt.
func (k *cookieKey) derive(salt [saltSize]byte) *subkey {
	m := hmac.New(sha256.New, k.seal)
	m.Write(salt[:])
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic("sessionkit: " + err.Error()) // a 32-byte key
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("sessionkit: " + err.Error())
	}
	return &subkey{salt: salt, aead: aead}
}

// sealer returns the subkey to seal one more cookie with.
func (k *cookieKey) sealer() *subkey {
	if sk := k.sealing.Load(); sk != nil && sk.seals.Add(1) <= maxSealsPerSubkey {
		return sk
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if sk := k.sealing.Load(); sk != nil && sk.seals.Add(1) <= maxSealsPerSubkey {
		return sk
	}
	var salt [saltSize]byte
	rand.Read(salt[:]) // never fails (crypto/rand crashes the program instead)
	sk := k.derive(salt)
	sk.seals.Store(1)
	k.sealing.Store(sk)
	k.remember(sk)
	return sk
}

// opener returns the subkey of salt, derived once while it is in use.
func (k *cookieKey) opener(salt []byte) (sk *subkey, cached bool) {
	s := [saltSize]byte(salt)
	if v, ok := k.opening.Load(s); ok {
		return v.(*subkey), true
	}
	return k.derive(s), false
}

// remember caches sk, whose salt has just opened an authentic cookie, for
// open. Only such salts are cached, so forged cookies cannot push out the
// ones in use. When the cache is full, one entry other than the sealing
// subkey leaves it: a salt no Manager seals with any more comes back, if
// ever, at the cost of one derivation.
func (k *cookieKey) remember(sk *subkey) {
	if _, loaded := k.opening.LoadOrStore(sk.salt, sk); loaded {
		return
	}
	if k.nopen.Add(1) > maxOpenSubkeys {
		cur := k.sealing.Load()
		k.opening.Range(func(key, v any) bool {
			if v == cur || v == sk {
				return true
			}
			if _, loaded := k.opening.LoadAndDelete(key); loaded {
				k.nopen.Add(-1)
			}
			return false
		})
	}
}

var (
	errSealFormat = errors.New("not a sealed session cookie")
	sealB64       = base64.RawURLEncoding.Strict()
)

// bufPool holds the scratch buffers of seal and open: base64-decoded
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

func putBuf(bp *[]byte) {
	if cap(*bp) <= 1<<16 {
		bufPool.Put(bp)
	}
}

// bytesOf returns s's bytes without a copy; they must not be written.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// stringOf returns b as a string without a copy: b must never be written
// again while the string (or anything sliced from it) is in use.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// sealRaw seals, with k for the cookie whose additional data is ad, the
// payload that appendPayload appends to its argument, and returns the
// sealed bytes (before base64) in a pooled buffer, which the caller gives
// back with putBuf once it has encoded them. The payload is built and
// encrypted in place in that one buffer.
func sealRaw(k *cookieKey, ad []byte, appendPayload func([]byte) []byte) (*[]byte, []byte) {
	bp := getBuf(sealV2Head)
	buf := slices.Grow(appendPayload((*bp)[:sealV2Head]), tagSize)
	sk := k.sealer()
	buf[0] = sealV2
	copy(buf[1:], sk.salt[:])
	rand.Read(buf[1+saltSize : sealV2Head]) // never fails (crypto/rand crashes the program instead)
	// In place: the ciphertext and tag fill buf after the header (the
	// append is a no-op copy unless Seal had to allocate).
	sealed := sk.aead.Seal(buf[sealV2Head:sealV2Head], buf[1+saltSize:sealV2Head], buf[sealV2Head:], ad)
	buf = append(buf[:sealV2Head], sealed...)
	*bp = buf
	return bp, buf
}

// encodeValue returns the cookie value of sealed bytes, which owns its
// memory.
func encodeValue(raw []byte) string {
	out := make([]byte, sealB64.EncodedLen(len(raw)))
	sealB64.Encode(out, raw)
	return stringOf(out)
}

// openValue authenticates and decrypts value, in either format, trying
// each key in order. It returns the payload, in memory of its own that
// nothing else references, the index of the key that opened it, and
// whether it was in the legacy format.
func (c *cookieCodec) openValue(value string) (payload []byte, key int, legacy bool, err error) {
	if strings.HasPrefix(value, "A") {
		// The current format: its first byte, sealV2, encodes as "A".
		// A legacy value starts with a decimal date, which encodes as
		// "M", "N" or "O".
		payload, key, err = openV2(c.keys, c.ad, value)
		return payload, key, false, err
	}
	payload, key, err = c.openLegacy(value)
	return payload, key, true, err
}

func openV2(keys []*cookieKey, ad []byte, value string) ([]byte, int, error) {
	// Go's base64 decoder skips CR and LF: refuse them, so that exactly
	// one value opens.
	if len(value) < sealB64.EncodedLen(sealV2Extra) || strings.IndexByte(value, '\n') >= 0 || strings.IndexByte(value, '\r') >= 0 {
		return nil, 0, errSealFormat
	}
	bp := getBuf(sealB64.DecodedLen(len(value)))
	defer putBuf(bp)
	n, err := sealB64.Decode(*bp, bytesOf(value))
	if err != nil || n < sealV2Extra {
		return nil, 0, errSealFormat
	}
	raw := (*bp)[:n]
	if raw[0] != sealV2 {
		return nil, 0, errSealFormat
	}
	salt, nonce, sealed := raw[1:1+saltSize], raw[1+saltSize:sealV2Head], raw[sealV2Head:]
	out := make([]byte, len(sealed)-tagSize)
	for i, k := range keys {
		// out does not overlap sealed, which a failed Open leaves intact
		// for the next key.
		sk, cached := k.opener(salt)
		if p, err := sk.aead.Open(out[:0], nonce, sealed, ad); err == nil {
			if !cached {
				k.remember(sk)
			}
			return p, i, nil
		}
	}
	return nil, 0, errNoKeyOpens
}

// openLegacy opens a value in securecookie's format (see above) with the
// securecookie codecs the flow cookie uses, which hold the same keys.
func (c *cookieCodec) openLegacy(value string) ([]byte, int, error) {
	if p, i, ok := c.openFlowCodecs(c.name, value); ok {
		return p, i, nil
	}
	return nil, 0, errNoKeyOpens
}

// openFlowCodecs opens value, sealed under name by securecookie (the flow
// cookie, tickets, legacy session cookies), with the first of the flow
// codecs that authenticates it, and reports that codec's index.
func (c *cookieCodec) openFlowCodecs(name, value string) ([]byte, int, bool) {
	for i, sc := range c.flow {
		var p []byte
		if sc.Decode(name, value, &p) == nil {
			return p, i, true
		}
	}
	return nil, 0, false
}
