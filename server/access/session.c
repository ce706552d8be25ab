/* session.c - the in-memory session registry.
 *
 * Owns: every dg_session object and the token-hash map.
 * Invariants: a session is in the map iff it is not revoked; it is freed
 * when n_refs drops to 0 (revoked or not); sessions with n_refs == 0 exist
 * only inside dg_sessions_revoke_user and dg_sessions_add (which hands its
 * caller a reference).
 * Threads: any loop thread. One recursive mutex guards the map and every
 * session's n_refs and persisted_seen_at (on_evict and dg_sessions_each run
 * under it); last_active_at and is_revoked are written and read atomically
 * (a request on any loop reads them); the other fields never change once the
 * session is in the map.
 */
#include "session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

struct dg_sessions {
    pthread_mutex_t mu; /* recursive: on_evict may look sessions up */
    dg_map *by_hash;
    void (*on_evict)(dg_session *s, void *ud);
    void *ud;
};

dg_sessions *dg_sessions_new(void (*on_evict)(dg_session *s, void *ud), void *ud)
{
    dg_sessions *r = dg_xcalloc(1, sizeof *r);

    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&r->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    r->by_hash = dg_map_new();
    r->on_evict = on_evict;
    r->ud = ud;
    return r;
}

static bool free_entry(const void *key, size_t key_len, void *value, void *ud)
{
    DG_UNUSED(key);
    DG_UNUSED(key_len);
    DG_UNUSED(ud);
    free(value);
    return true;
}

void dg_sessions_free(dg_sessions *r)
{
    if (!r)
        return;
    dg_map_sweep(r->by_hash, free_entry, NULL);
    dg_map_free(r->by_hash);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

dg_session *dg_sessions_add(dg_sessions *r, const dg_session *tmpl)
{
    dg_session *s;

    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&r->mu);
    if (!(s = dg_map_get(r->by_hash, tmpl->token_hash, DG_TOKEN_HASH_LEN))) {
        s = dg_xmalloc(sizeof *s);
        *s = *tmpl;
        s->n_refs = 0;
        s->is_revoked = false;
        dg_map_put(r->by_hash, s->token_hash, DG_TOKEN_HASH_LEN, s, NULL);
    }
    s->n_refs++; /* the caller's */
    pthread_mutex_unlock(&r->mu);
    return s;
}

void dg_session_ref(dg_sessions *r, dg_session *s)
{
    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&r->mu);
    s->n_refs++;
    pthread_mutex_unlock(&r->mu);
}

void dg_session_unref(dg_sessions *r, dg_session *s)
{
    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&r->mu);
    dg_assert(s->n_refs > 0);
    if (--s->n_refs > 0) {
        pthread_mutex_unlock(&r->mu);
        return;
    }
    if (!dg_session_is_revoked(s)) {
        dg_map_remove(r->by_hash, s->token_hash, DG_TOKEN_HASH_LEN);
        if (r->on_evict)
            r->on_evict(s, r->ud);
    }
    pthread_mutex_unlock(&r->mu);
    free(s);
}

/* Under r->mu. */
static void revoke_locked(dg_sessions *r, dg_session *s)
{
    if (dg_session_is_revoked(s))
        return;
    __atomic_store_n(&s->is_revoked, true, __ATOMIC_RELEASE);
    dg_map_remove(r->by_hash, s->token_hash, DG_TOKEN_HASH_LEN);
    if (s->n_refs == 0)
        free(s);
}

void dg_sessions_revoke_hash(dg_sessions *r, const uint8_t hash[DG_TOKEN_HASH_LEN])
{
    dg_session *s;

    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&r->mu);
    if ((s = dg_map_get(r->by_hash, hash, DG_TOKEN_HASH_LEN)))
        revoke_locked(r, s);
    pthread_mutex_unlock(&r->mu);
}

struct revoke_ctx {
    int64_t user_id;
    int n;
};

static bool revoke_if_user(const void *key, size_t key_len, void *value, void *ud)
{
    dg_session *s = value;
    struct revoke_ctx *rc = ud;

    DG_UNUSED(key);
    DG_UNUSED(key_len);
    if (s->user_id != rc->user_id)
        return false;
    __atomic_store_n(&s->is_revoked, true, __ATOMIC_RELEASE);
    rc->n++;
    if (s->n_refs == 0)
        free(s);
    return true; /* drop from the map */
}

int dg_sessions_revoke_user(dg_sessions *r, int64_t user_id)
{
    struct revoke_ctx rc = {.user_id = user_id};

    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&r->mu);
    dg_map_sweep(r->by_hash, revoke_if_user, &rc);
    pthread_mutex_unlock(&r->mu);
    return rc.n;
}

struct each_ctx {
    void (*fn)(dg_session *s, void *ud);
    void *ud;
};

static bool visit(const void *key, size_t key_len, void *value, void *ud)
{
    struct each_ctx *e = ud;

    DG_UNUSED(key);
    DG_UNUSED(key_len);
    e->fn(value, e->ud);
    return false;
}

void dg_sessions_each(dg_sessions *r, void (*fn)(dg_session *s, void *ud), void *ud)
{
    struct each_ctx e = {fn, ud};

    DG_ASSERT_LOOP_THREAD();
    pthread_mutex_lock(&r->mu);
    dg_map_sweep(r->by_hash, visit, &e);
    pthread_mutex_unlock(&r->mu);
}

const char *dg_session_invalid_reason(const dg_session *s, int64_t now_ms, int64_t idle_ms)
{
    if (dg_session_is_revoked(s))
        return "session_revoked";
    if (now_ms >= s->expires_at || now_ms - dg_session_last_active(s) >= idle_ms)
        return "session_expired";
    return NULL;
}

bool dg_session_is_revoked(const dg_session *s)
{
    return __atomic_load_n(&s->is_revoked, __ATOMIC_ACQUIRE);
}

int64_t dg_session_last_active(const dg_session *s)
{
    return __atomic_load_n(&s->last_active_at, __ATOMIC_RELAXED);
}

void dg_session_touch(dg_session *s, int64_t now_ms)
{
    __atomic_store_n(&s->last_active_at, now_ms, __ATOMIC_RELAXED);
}
