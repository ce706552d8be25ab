/* session.c - the in-memory session registry.
 *
 * Owns: every dg_session object and the token-hash map.
 * Invariants: a session is in the map iff it is not revoked; it is freed
 * when n_refs drops to 0 (revoked or not); sessions with n_refs == 0 exist
 * only between dg_sessions_add and the first dg_session_ref.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

struct dg_sessions {
    dg_map *by_hash;
    void (*on_evict)(dg_session *s, void *ud);
    void *ud;
};

dg_sessions *dg_sessions_new(void (*on_evict)(dg_session *s, void *ud), void *ud)
{
    dg_sessions *r = dg_xcalloc(1, sizeof *r);

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
    free(r);
}

dg_session *dg_sessions_find(dg_sessions *r, const uint8_t hash[DG_TOKEN_HASH_LEN])
{
    DG_ASSERT_LOOP_THREAD();
    return dg_map_get(r->by_hash, hash, DG_TOKEN_HASH_LEN);
}

dg_session *dg_sessions_add(dg_sessions *r, const dg_session *tmpl)
{
    dg_session *s = dg_sessions_find(r, tmpl->token_hash);

    DG_ASSERT_LOOP_THREAD();
    if (s)
        return s;
    s = dg_xmalloc(sizeof *s);
    *s = *tmpl;
    s->n_refs = 0;
    s->is_revoked = false;
    dg_map_put(r->by_hash, s->token_hash, DG_TOKEN_HASH_LEN, s, NULL);
    return s;
}

void dg_session_ref(dg_session *s)
{
    DG_ASSERT_LOOP_THREAD();
    s->n_refs++;
}

void dg_session_unref(dg_sessions *r, dg_session *s)
{
    DG_ASSERT_LOOP_THREAD();
    dg_assert(s->n_refs > 0);
    if (--s->n_refs > 0)
        return;
    if (!s->is_revoked) {
        dg_map_remove(r->by_hash, s->token_hash, DG_TOKEN_HASH_LEN);
        if (r->on_evict)
            r->on_evict(s, r->ud);
    }
    free(s);
}

void dg_sessions_revoke(dg_sessions *r, dg_session *s)
{
    DG_ASSERT_LOOP_THREAD();
    if (s->is_revoked)
        return;
    s->is_revoked = true;
    dg_map_remove(r->by_hash, s->token_hash, DG_TOKEN_HASH_LEN);
    if (s->n_refs == 0)
        free(s);
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
    s->is_revoked = true;
    rc->n++;
    if (s->n_refs == 0)
        free(s);
    return true; /* drop from the map */
}

int dg_sessions_revoke_user(dg_sessions *r, int64_t user_id)
{
    struct revoke_ctx rc = {.user_id = user_id};

    DG_ASSERT_LOOP_THREAD();
    dg_map_sweep(r->by_hash, revoke_if_user, &rc);
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
    dg_map_sweep(r->by_hash, visit, &e);
}

const char *dg_session_invalid_reason(const dg_session *s, int64_t now_ms, int64_t idle_ms)
{
    if (s->is_revoked)
        return "session_revoked";
    if (now_ms >= s->expires_at || now_ms - s->last_active_at >= idle_ms)
        return "session_expired";
    return NULL;
}
