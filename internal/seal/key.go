package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
)

// key is one configured secret, with the subkeys derived from it.
type key struct {
	seal []byte // the key subkeys are derived from

	mu      sync.Mutex             // serializes changes of sealing
	sealing atomic.Pointer[subkey] // the subkey Seal uses
	opening sync.Map               // [saltSize]byte → *subkey, for Open
	nopen   atomic.Int32           // entries in opening, about
}

// subkey is one salt's GCM.
type subkey struct {
	salt  [saltSize]byte
	aead  cipher.AEAD
	seals atomic.Uint64 // values sealed with it
}

// newKey derives the sealing key of secret for values of name: each name
// has a key of its own.
func newKey(secret []byte, name string) (*key, error) {
	seal, err := hkdf.Key(sha256.New, secret, nil, info+"\x00"+name, 32)
	if err != nil {
		return nil, fmt.Errorf("sessionkit: deriving the sealing key: %w", err)
	}
	return &key{seal: seal}, nil
}

// derive returns the subkey of salt.
func (k *key) derive(salt [saltSize]byte) *subkey {
	m := hmac.New(sha256.New, k.seal)
	m.Write(salt[:])
	// Neither call can fail: the key has 32 bytes, the nonce the
	// standard size.
	block, _ := aes.NewCipher(m.Sum(nil))
	aead, _ := cipher.NewGCM(block)
	return &subkey{salt: salt, aead: aead}
}

// sealer returns the subkey to seal one more value with.
func (k *key) sealer() *subkey {
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
func (k *key) opener(salt []byte) (sk *subkey, cached bool) {
	s := [saltSize]byte(salt)
	if v, ok := k.opening.Load(s); ok {
		return v.(*subkey), true
	}
	return k.derive(s), false
}

// remember caches sk, whose salt has just opened an authentic value, for
// Open. Only such salts are cached, so forged values cannot push out the
// ones in use. When the cache is full, one entry other than the sealing
// subkey leaves it: a salt no Sealer seals with any more comes back, if
// ever, at the cost of one derivation.
func (k *key) remember(sk *subkey) {
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
