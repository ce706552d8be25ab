/* session.h - logged-in sessions held in memory while connections use them.
 *
 * The store holds every session (token hash, expiry, revocation); this
 * registry holds those bound to at least one live connection, keyed by token
 * hash, so requests are checked without touching the database. A session
 * leaves memory when its last connection lets go (on_evict may persist its
 * last activity first). Revoking removes it from the map at once, so the
 * token stops working; connections still holding the object see is_revoked on
 * their next request. Any loop thread: a mutex guards the registry and the
 * references; last_active_at and is_revoked are read and written through the
 * functions below (atomically); the other fields never change once the
 * session is registered.
 */
#ifndef DG_SESSION_H
#define DG_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

typedef struct dg_session {
    int64_t id; /* sessions.id */
    uint8_t token_hash[DG_TOKEN_HASH_LEN];
    int64_t user_id;
    char username[DG_USERNAME_MAX + 1];
    enum dg_role role;
    bool must_change_password;
    int64_t created_at;        /* unix ms */
    int64_t expires_at;        /* absolute expiry, unix ms */
    int64_t last_active_at;    /* unix ms, updated on every request */
    int64_t persisted_seen_at; /* last_seen_at as the store has it */
    bool is_revoked;
    unsigned n_refs; /* connections bound to it */
} dg_session;

typedef struct dg_sessions dg_sessions;

/* on_evict runs when a session leaves memory (last reference dropped), before
 * it is freed, e.g. to persist last_active_at. May be NULL. */
dg_sessions *dg_sessions_new(void (*on_evict)(dg_session *s, void *ud), void *ud);
/* Frees the registry and any sessions still in it. Accepts NULL. */
void dg_sessions_free(dg_sessions *r);

/* Registers a copy of `tmpl`; returns the registered session (an existing
 * one with the same hash wins) with one reference, the caller's: bind it to
 * the connection, then dg_session_unref (another loop may revoke it meanwhile). */
dg_session *dg_sessions_add(dg_sessions *r, const dg_session *tmpl);
/* References are held by connections. unref frees when the last one goes. */
void dg_session_ref(dg_sessions *r, dg_session *s);
void dg_session_unref(dg_sessions *r, dg_session *s);
/* Marks the live session with this token hash revoked and forgets its token
 * (nothing when none is in memory). */
void dg_sessions_revoke_hash(dg_sessions *r, const uint8_t hash[DG_TOKEN_HASH_LEN]);
/* Revokes every in-memory session of a user; returns how many. */
int dg_sessions_revoke_user(dg_sessions *r, int64_t user_id);

/* Calls fn for every live session in memory, under the registry's lock. fn
 * must not add or remove sessions. */
void dg_sessions_each(dg_sessions *r, void (*fn)(dg_session *s, void *ud), void *ud);

/* Why a session can no longer be used, or NULL if it can:
 * "session_revoked" or "session_expired" (absolute or idle). */
const char *dg_session_invalid_reason(const dg_session *s, int64_t now_ms, int64_t idle_ms);
bool dg_session_is_revoked(const dg_session *s);
/* last_active_at, read and written atomically (a request on any loop). */
int64_t dg_session_last_active(const dg_session *s);
void dg_session_touch(dg_session *s, int64_t now_ms);

#endif
