package obs

import (
	"context"
	"time"

	"github.com/sessionkit/sessionkit/observe"
	"github.com/sessionkit/sessionkit/store"
)

// Store returns s with every operation reported to the Observer's Store
// hook, offering exactly the optional interfaces s implements; s itself
// when there is no such hook.
func (h *Hooks) Store(s store.Store) store.Store {
	if h == nil || h.o.Store == nil || s == nil {
		return s
	}
	b := &base{s: s, h: h}
	var (
		u  *userLister
		p  *sidLister
		l  *locker
		c  *consumer
		fs uint8
	)
	if x, ok := s.(store.UserLister); ok {
		u, fs = &userLister{x, h}, fs|1
	}
	if x, ok := s.(store.ProviderSessionLister); ok {
		p, fs = &sidLister{x, h}, fs|2
	}
	if x, ok := s.(store.Locker); ok {
		l, fs = &locker{x, h}, fs|4
	}
	if x, ok := s.(store.Consumer); ok {
		c, fs = &consumer{x, h}, fs|8
	}
	return combine(fs, b, u, p, l, c)
}

// combine returns the wrapper made of b and the capabilities whose bits
// are set in fs (1 u, 2 p, 4 l, 8 c).
func combine(fs uint8, b *base, u *userLister, p *sidLister, l *locker, c *consumer) store.Store {
	switch fs >> 2 {
	case 1:
		return withLocker(fs&3, b, u, p, l)
	case 2:
		return withConsumer(fs&3, b, u, p, c)
	case 3:
		return withBoth(fs&3, b, u, p, l, c)
	}
	switch fs & 3 {
	case 1:
		return struct {
			*base
			*userLister
		}{b, u}
	case 2:
		return struct {
			*base
			*sidLister
		}{b, p}
	case 3:
		return struct {
			*base
			*userLister
			*sidLister
		}{b, u, p}
	}
	return b
}

// withLocker is combine for a Locker that is not a Consumer; ls holds
// the listers' bits.
func withLocker(ls uint8, b *base, u *userLister, p *sidLister, l *locker) store.Store {
	switch ls {
	case 1:
		return struct {
			*base
			*userLister
			*locker
		}{b, u, l}
	case 2:
		return struct {
			*base
			*sidLister
			*locker
		}{b, p, l}
	case 3:
		return struct {
			*base
			*userLister
			*sidLister
			*locker
		}{b, u, p, l}
	}
	return struct {
		*base
		*locker
	}{b, l}
}

// withConsumer is combine for a Consumer that is not a Locker.
func withConsumer(ls uint8, b *base, u *userLister, p *sidLister, c *consumer) store.Store {
	switch ls {
	case 1:
		return struct {
			*base
			*userLister
			*consumer
		}{b, u, c}
	case 2:
		return struct {
			*base
			*sidLister
			*consumer
		}{b, p, c}
	case 3:
		return struct {
			*base
			*userLister
			*sidLister
			*consumer
		}{b, u, p, c}
	}
	return struct {
		*base
		*consumer
	}{b, c}
}

// withBoth is combine for a Locker and Consumer.
func withBoth(ls uint8, b *base, u *userLister, p *sidLister, l *locker, c *consumer) store.Store {
	switch ls {
	case 1:
		return struct {
			*base
			*userLister
			*locker
			*consumer
		}{b, u, l, c}
	case 2:
		return struct {
			*base
			*sidLister
			*locker
			*consumer
		}{b, p, l, c}
	case 3:
		return struct {
			*base
			*userLister
			*sidLister
			*locker
			*consumer
		}{b, u, p, l, c}
	}
	return struct {
		*base
		*locker
		*consumer
	}{b, l, c}
}

// base wraps a Store's three methods; the other types, one optional
// interface each.
type base struct {
	s store.Store
	h *Hooks
}

// Load is the Store's Load, observed.
func (b *base) Load(ctx context.Context, id string) (store.Record, error) {
	ctx, done := b.h.store(ctx, observe.StoreLoad)
	r, err := b.s.Load(ctx, id)
	done(err)
	return r, err
}

// Save is the Store's Save, observed.
func (b *base) Save(ctx context.Context, rec store.Record) (uint64, error) {
	ctx, done := b.h.store(ctx, observe.StoreSave)
	v, err := b.s.Save(ctx, rec)
	done(err)
	return v, err
}

// Delete is the Store's Delete, observed.
func (b *base) Delete(ctx context.Context, id string) error {
	ctx, done := b.h.store(ctx, observe.StoreDelete)
	err := b.s.Delete(ctx, id)
	done(err)
	return err
}

type userLister struct {
	s store.UserLister
	h *Hooks
}

// ListByUser is the Store's ListByUser, observed.
func (u *userLister) ListByUser(ctx context.Context, userID string) ([]store.Record, error) {
	ctx, done := u.h.store(ctx, observe.StoreListByUser)
	rs, err := u.s.ListByUser(ctx, userID)
	done(err)
	return rs, err
}

type sidLister struct {
	s store.ProviderSessionLister
	h *Hooks
}

// ListByProviderSession is the Store's ListByProviderSession, observed.
func (p *sidLister) ListByProviderSession(ctx context.Context, sid string) ([]store.Record, error) {
	ctx, done := p.h.store(ctx, observe.StoreListByProviderSession)
	rs, err := p.s.ListByProviderSession(ctx, sid)
	done(err)
	return rs, err
}

type locker struct {
	s store.Locker
	h *Hooks
}

// Lock is the Store's Lock, observed, and returns its unlock, observed.
func (l *locker) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	lctx, done := l.h.store(ctx, observe.StoreLock)
	unlock, err := l.s.Lock(lctx, key, ttl)
	done(err)
	if err != nil || unlock == nil {
		return unlock, err
	}
	return func(ctx context.Context) error {
		ctx, done := l.h.store(ctx, observe.StoreUnlock)
		err := unlock(ctx)
		done(err)
		return err
	}, nil
}

type consumer struct {
	s store.Consumer
	h *Hooks
}

// Consume is the Store's Consume, observed.
func (c *consumer) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ctx, done := c.h.store(ctx, observe.StoreConsume)
	first, err := c.s.Consume(ctx, key, ttl)
	done(err)
	return first, err
}
