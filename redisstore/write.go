package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/store"

	"github.com/redis/rueidis"
)

// The replies of saveScript that are not a version.
const (
	saveConflict = 0
	saveNotFound = -1
)

// Save implements store.Store. ExpireAt is compared with the Redis
// server's clock and kept to the millisecond.
//
// The record is written by one script on its key; the indexes are updated
// around it (see the package documentation). Save returns ErrConflict or
// ErrNotFound having changed no record, though it may have added the
// session to an index: a stray member, which listings ignore and prune.
func (s *Store) Save(ctx context.Context, rec store.Record) (uint64, error) {
	if err := rec.Validate(); err != nil {
		return 0, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	exp := strconv.FormatInt(rec.ExpireAt.UnixMilli(), 10)
	refs := s.indexKeys(rec.UserID, rec.OtherUserIDs, rec.ProviderSessionIDs)
	if err := s.index(ctx, rec.ID, exp, refs); err != nil {
		return 0, fmt.Errorf("sessionkit: redisstore: save: %w", err)
	}
	vals, err := s.eval(ctx, saveScript, true, s.sessionKey(rec.ID),
		strconv.FormatUint(rec.Version, 10),
		exp,
		rec.UserID,
		strings.Join(rec.ProviderSessionIDs, "\x00"),
		string(rec.Data),
		strings.Join(rec.OtherUserIDs, "\x00"),
	).ToArray()
	if err != nil {
		return 0, fmt.Errorf("sessionkit: redisstore: save: %w", err)
	}
	n, old, err := s.parseWriteReply(vals)
	switch {
	case err != nil:
		return 0, fmt.Errorf("sessionkit: redisstore: save: %w", err)
	case n == saveConflict:
		return 0, store.ErrConflict
	case n == saveNotFound:
		return 0, store.ErrNotFound
	case n < 0:
		return 0, fmt.Errorf("sessionkit: redisstore: save: unexpected reply %d", n)
	}
	// The record is written: what fails from here leaves strays at worst.
	_ = s.index(ctx, rec.ID, exp, refs)
	_ = s.unindex(ctx, rec.ID, without(old, refs))
	return uint64(n), nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if id == "" {
		return ctx.Err()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := s.eval(ctx, deleteScript, true, s.sessionKey(id)).ToArray()
	if err != nil {
		return fmt.Errorf("sessionkit: redisstore: delete: %w", err)
	}
	_, old, err := s.parseWriteReply(vals)
	if err != nil {
		return fmt.Errorf("sessionkit: redisstore: delete: %w", err)
	}
	if err := s.unindex(ctx, id, old); err != nil {
		return fmt.Errorf("sessionkit: redisstore: delete: %w", err)
	}
	return nil
}

// parseWriteReply reads the reply of saveScript and deleteScript: a
// number, then the user, provider session IDs and other users of the
// record as it was (nil if there was none), which it returns as index keys.
func (s *Store) parseWriteReply(vals []rueidis.RedisMessage) (int64, []string, error) {
	if len(vals) != 4 {
		return 0, nil, errors.New("malformed reply")
	}
	n, err := vals[0].AsInt64()
	if err != nil {
		return 0, nil, err
	}
	var str [3]string
	for i := range str {
		if vals[i+1].IsNil() {
			continue
		}
		if str[i], err = vals[i+1].ToString(); err != nil {
			return 0, nil, err
		}
	}
	if str[0] == "" {
		return n, nil, nil // no record
	}
	return n, s.indexKeys(str[0], splitNUL(str[2]), splitNUL(str[1])), nil
}

func splitNUL(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// indexKeys are the keys of the indexes that list a record of user, other
// users and provider session IDs.
func (s *Store) indexKeys(user string, others, sids []string) []string {
	keys := make([]string, 0, 1+len(others)+len(sids))
	keys = append(keys, s.prefix+"u:"+user)
	for _, u := range others {
		keys = append(keys, s.prefix+"u:"+u)
	}
	for _, sid := range sids {
		keys = append(keys, s.prefix+"p:"+sid)
	}
	return keys
}

// without returns the keys of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, k := range a {
		found := false
		for _, l := range b {
			if k == l {
				found = true
				break
			}
		}
		if !found {
			out = append(out, k)
		}
	}
	return out
}

// index adds session id to each index of keys with score exp (Unix ms),
// never lowering a score it has there, in one pipeline over the nodes.
func (s *Store) index(ctx context.Context, id, exp string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	calls := make([]call, len(keys))
	for i, k := range keys {
		calls[i] = call{key: k, args: []string{id, exp}}
	}
	for _, res := range s.evalEach(ctx, indexScript, calls) {
		if err := res.Error(); err != nil {
			return err
		}
	}
	return nil
}

// unindex removes session id from each index of keys, then reads the
// record and adds it back to those of them the record names: a write
// that raced with the removal may have made them current again. Together
// with Save's adding after its write, this never leaves a live record
// missing from an index that should list it.
func (s *Store) unindex(ctx context.Context, id string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = s.c.B().Zrem().Key(k).Member(id).Build()
	}
	for _, res := range s.c.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return err
		}
	}
	vals, err := s.c.Do(ctx, s.c.B().Hmget().Key(s.sessionKey(id)).Field(fields...).Build()).ToArray()
	if err != nil {
		return err
	}
	rec, ok, err := parseRecord(id, vals, false)
	if err != nil || !ok {
		return err
	}
	current := s.indexKeys(rec.UserID, rec.OtherUserIDs, rec.ProviderSessionIDs)
	back := without(keys, without(keys, current))
	return s.index(ctx, id, strconv.FormatInt(rec.ExpireAt.UnixMilli(), 10), back)
}

// ListByUser implements store.Store. See the package documentation for
// what a listing costs.
func (s *Store) ListByUser(ctx context.Context, userID string) ([]store.Record, error) {
	return s.list(ctx, "u:", userID, func(r *store.Record) bool {
		return r.UserID == userID || contains(r.OtherUserIDs, userID)
	})
}

// ListByProviderSession implements store.Store.
func (s *Store) ListByProviderSession(ctx context.Context, sid string) ([]store.Record, error) {
	return s.list(ctx, "p:", sid, func(r *store.Record) bool {
		return contains(r.ProviderSessionIDs, sid)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// list reads the index kind+key, then the records it lists, and returns
// those that member accepts; it prunes the others from the index.
func (s *Store) list(ctx context.Context, kind, key string, member func(*store.Record) bool) ([]store.Record, error) {
	if key == "" {
		return nil, ctx.Err()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ikey := s.prefix + kind + key
	ids, err := s.evalEach(ctx, listScript, []call{{key: ikey}})[0].AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("sessionkit: redisstore: list: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make(rueidis.Commands, len(ids))
	for i, id := range ids {
		cmds[i] = s.c.B().Hmget().Key(s.sessionKey(id)).Field(fields...).Build()
	}
	recs := make([]store.Record, 0, len(ids))
	var strays []string
	for i, res := range s.c.DoMulti(ctx, cmds...) {
		vals, err := res.ToArray()
		if err != nil {
			return nil, fmt.Errorf("sessionkit: redisstore: list: %w", err)
		}
		rec, ok, err := parseRecord(ids[i], vals, false)
		if err != nil {
			return nil, err
		}
		if ok && member(&rec) {
			recs = append(recs, rec)
		} else {
			strays = append(strays, ids[i])
		}
	}
	for _, id := range strays {
		if err := s.unindex(ctx, id, []string{ikey}); err != nil {
			return nil, fmt.Errorf("sessionkit: redisstore: list: %w", err)
		}
	}
	return recs, nil
}
