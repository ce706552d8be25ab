/* peers.c - per-address counts of unauthenticated connections, and the
 * summaries of warnings left out of the log.
 *
 * Owns: a dg_map from address to a heap uint32_t (entries exist only while
 * the count is above 0), and one dg_lograte per kind of warning.
 * Any loop thread: one mutex guards both.
 */
#include "peers.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "alloc.h"
#include "dg.h"
#include "log.h"
#include "lograte.h"
#include "map.h"

#define WARN_INTERVAL_MS 60000
#define WARN_PER_ADDRESS 5 /* lines per address per minute, per kind */
#define WARN_TOTAL 50      /* lines of all addresses per minute, per kind */
#define WARN_ADDRESSES 256 /* addresses tracked at once, per kind */

struct report_ctx {
    enum dg_peer_warning kind;
};

struct dg_peers {
    uint32_t max_unauth;
    dg_map *unauth;
    dg_lograte *warnings[DG_PEER_N_WARNINGS];
    struct report_ctx report_ctxs[DG_PEER_N_WARNINGS]; /* what each lograte's report logs */
    uv_mutex_t mu;
};

static const char *const what_left_out[DG_PEER_N_WARNINGS] = {
    [DG_PEER_HANDSHAKE_FAILED] = "failed handshakes",
    [DG_PEER_REFUSED] = "refused connections",
};

static const char *const action_of[DG_PEER_N_WARNINGS] = {
    [DG_PEER_HANDSHAKE_FAILED] = "handshake",
    [DG_PEER_REFUSED] = "accept",
};

static void report_cb(const char *key, uint64_t n, int64_t span_ms, void *ud)
{
    const struct report_ctx *r = ud;
    long long s = (long long)((span_ms + 999) / 1000);

    if (key)
        dg_log_warn("conn",
                    "peer=%s action=%s msg=\"%" PRIu64 " more %s from %s in the last %lld s\" "
                    "count=%" PRIu64,
                    key, action_of[r->kind], n, what_left_out[r->kind], key, s, n);
    else
        dg_log_warn("conn",
                    "action=%s msg=\"%" PRIu64 " more %s from other addresses in the last "
                    "%lld s\" count=%" PRIu64,
                    action_of[r->kind], n, what_left_out[r->kind], s, n);
}

dg_peers *dg_peers_new(uint32_t max_unauth)
{
    dg_peers *p = dg_xcalloc(1, sizeof *p);

    p->max_unauth = max_unauth;
    p->unauth = dg_map_new();
    uv_mutex_init(&p->mu);
    for (int i = 0; i < DG_PEER_N_WARNINGS; i++) {
        dg_lograte_opts o = {.n_per_key = WARN_PER_ADDRESS,
                             .n_total = WARN_TOTAL,
                             .interval_ms = WARN_INTERVAL_MS,
                             .max_keys = WARN_ADDRESSES,
                             .report = report_cb,
                             .ud = &p->report_ctxs[i]};

        p->report_ctxs[i].kind = (enum dg_peer_warning)i;
        p->warnings[i] = dg_lograte_new(&o);
    }
    return p;
}

static bool free_count(const void *k, size_t kl, void *v, void *ud)
{
    DG_UNUSED(k);
    DG_UNUSED(kl);
    DG_UNUSED(ud);
    free(v);
    return true;
}

void dg_peers_free(dg_peers *p)
{
    if (!p)
        return;
    dg_map_sweep(p->unauth, free_count, NULL);
    dg_map_free(p->unauth);
    for (int i = 0; i < DG_PEER_N_WARNINGS; i++)
        dg_lograte_free(p->warnings[i]);
    uv_mutex_destroy(&p->mu);
    free(p);
}

enum dg_peer_verdict dg_peers_add_unauth(dg_peers *p, const char *ip)
{
    size_t kl = strlen(ip);
    uint32_t *n, before;

    DG_ASSERT_LOOP_THREAD();
    uv_mutex_lock(&p->mu);
    n = dg_map_get(p->unauth, ip, kl);
    before = n ? *n : 0;
    if (!n) {
        n = dg_xcalloc(1, sizeof *n);
        dg_map_put(p->unauth, ip, kl, n, NULL);
    }
    (*n)++;
    uv_mutex_unlock(&p->mu);
    if (before < p->max_unauth)
        return DG_PEER_ACCEPT;
    return before < p->max_unauth + DG_PEERS_REFUSAL_SLOTS ? DG_PEER_REFUSE : DG_PEER_DROP;
}

void dg_peers_remove_unauth(dg_peers *p, const char *ip)
{
    size_t kl = strlen(ip);
    uint32_t *n;

    DG_ASSERT_LOOP_THREAD();
    uv_mutex_lock(&p->mu);
    n = dg_map_get(p->unauth, ip, kl);
    dg_assert(n && *n > 0); /* only what was added is removed */
    if (--*n == 0)
        free(dg_map_remove(p->unauth, ip, kl));
    uv_mutex_unlock(&p->mu);
}

uint32_t dg_peers_n_unauth(dg_peers *p, const char *ip)
{
    uint32_t *n, count;

    DG_ASSERT_LOOP_THREAD();
    uv_mutex_lock(&p->mu);
    n = dg_map_get(p->unauth, ip, strlen(ip));
    count = n ? *n : 0;
    uv_mutex_unlock(&p->mu);
    return count;
}

bool dg_peers_may_warn(dg_peers *p, enum dg_peer_warning w, const char *ip, int64_t now_ms)
{
    bool may;

    DG_ASSERT_LOOP_THREAD();
    uv_mutex_lock(&p->mu);
    may = dg_lograte_hit(p->warnings[w], ip, now_ms);
    uv_mutex_unlock(&p->mu);
    return may;
}

void dg_peers_report(dg_peers *p, int64_t now_ms, bool is_final)
{
    DG_ASSERT_LOOP_THREAD();
    uv_mutex_lock(&p->mu);
    for (int i = 0; i < DG_PEER_N_WARNINGS; i++)
        dg_lograte_flush(p->warnings[i], now_ms, is_final);
    uv_mutex_unlock(&p->mu);
}
