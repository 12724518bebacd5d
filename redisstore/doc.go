// Package redisstore is a store.Store on Redis, the shared engine for
// many instances of an application: sessions, their per-user and
// per-provider-session indexes, refresh locks and one-time markers, all
// under one key prefix and all expiring by themselves.
//
// It talks to Redis with rueidis and serves Load from rueidis's
// server-assisted client-side cache (RESP3 CLIENT TRACKING): a session
// read on every request costs a local map lookup once the record is
// cached, and Redis tells the client the moment another writer changes
// it. See Store.Load for what that means for staleness.
//
// # Connecting
//
// It needs Redis 6.2 or later. New takes one URL for every topology:
//
//	redis://127.0.0.1:6379/0                      a single Redis
//	rediss://user:password@host:6380/0            the same over TLS
//	unix:///run/redis.sock                        a Unix socket
//	redis://10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000
//	redis://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000
//	                                              Redis Cluster: any of its
//	                                              nodes (the others are found)
//	redis://10.0.0.1:26379,10.0.0.2:26379/0?master_set=mymaster
//	                                              Sentinel: the sentinels'
//	                                              addresses and the master
//	                                              set's name
//
// A single address is asked whether it runs in cluster mode, so one node
// of a cluster is enough. With Sentinel, the store asks the sentinels for
// the master, follows it when they fail over, and reads and writes only
// on the master. The client-side cache works on all three: on a cluster,
// each node tracks the keys the store read from it.
//
// Keep Redis's maxmemory-policy at noeviction (its default): an evicting
// policy would sign users out at random and break the indexes, where
// noeviction makes a full Redis refuse new sessions with an error.
//
// # Keys
//
// With the default prefix "sessionkit:":
//
//	sessionkit:s:<id>    hash: v (version), e (expiry, Unix ms), u (user ID),
//	                     p (provider session IDs, NUL-separated), d (data),
//	                     o (other user IDs, NUL-separated; absent if none)
//	sessionkit:u:<user>  sorted set of the IDs of the sessions the user is
//	                     signed in to (u or o), scored by expiry
//	sessionkit:p:<sid>   sorted set of a provider session's IDs, scored by expiry
//	sessionkit:l:<key>   a lock: the holder's random token
//	sessionkit:c:<key>   a one-time marker
//
// Every key expires with what it holds (PEXPIREAT for sessions and
// indexes, PX for locks and markers).
//
// # One key per command, and what that costs
//
// Every command and every Lua script of the store touches exactly one key,
// declared to Redis, so each runs on one node of a cluster whatever slots
// the keys hash to; the keys carry no hash tags, which spreads sessions
// and indexes evenly over the slots. A session's record is the one source
// of truth: its compare-and-set write is one script on its key. The
// indexes are kept beside it, each on its own slot, and are read as
// hints that the records confirm:
//
//   - Save adds the session to the indexes of its new users and provider
//     sessions before writing the record and again after, and removes it
//     from the indexes it left after; Delete removes it after deleting the
//     record. A removal re-reads the record and adds back what a
//     concurrent write made current, so no index ever misses a live
//     session that lists it (an index's scores never fall below the
//     expiry of a record it lists).
//   - ListByUser and ListByProviderSession read the index (one script on
//     its key, which also drops members past their score), then every
//     listed record in one pipeline spread over the nodes, and return the
//     records that still name the user or provider session. A member whose
//     record does not is removed as above. So a listing costs two round
//     trips, and a third and fourth when it prunes; Manager.RevokeUser
//     lists once, then deletes each session (two to three round trips
//     each, pipelined by nothing: sessions are deleted one by one).
//   - A Save costs three round trips (add to the indexes, write, add
//     again), four or five when the session leaves an index. A failure
//     after the record is written is not reported: the record is, and the
//     index entries written before it stand.
//
// # Failover
//
// Redis replicates asynchronously: a write acknowledged by a master that
// fails before its replica received it is lost when the replica is
// promoted (a new session, a rotated refresh token, a revocation). Sentinel
// and Redis Cluster bound this window, they do not close it; WAIT-based
// synchronous replication is not used. During a failover, calls fail with
// errors (sessionkit answers 503, ErrStoreUnavailable, and signs nobody
// out) until the client has found the new master.
package redisstore
