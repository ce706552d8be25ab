/* throttle.c - failure counters per account name and per peer address.
 *
 * Owns: two dg_maps of struct counter. Bounded at MAX_ENTRIES each: when a
 * table is full, expired entries are swept; if it is still full, a new account
 * name is not tracked (the per-address limit still applies to the sprayer).
 */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

#define MAX_ENTRIES 100000
#define BASE_DELAY_MS 1000

struct counter {
    uint32_t n_failures;
    int64_t first_at; /* start of the current window */
    int64_t last_at;
};

struct dg_throttle {
    dg_throttle_opts o;
    dg_map *accounts;
    dg_map *peers;
};

dg_throttle *dg_throttle_new(const dg_throttle_opts *opts)
{
    dg_throttle *t = dg_xcalloc(1, sizeof *t);

    t->o = *opts;
    t->accounts = dg_map_new();
    t->peers = dg_map_new();
    return t;
}

static bool free_all(const void *k, size_t kl, void *v, void *ud)
{
    DG_UNUSED(k);
    DG_UNUSED(kl);
    DG_UNUSED(ud);
    free(v);
    return true;
}

void dg_throttle_free(dg_throttle *t)
{
    if (!t)
        return;
    dg_map_sweep(t->accounts, free_all, NULL);
    dg_map_sweep(t->peers, free_all, NULL);
    dg_map_free(t->accounts);
    dg_map_free(t->peers);
    free(t);
}

static int64_t account_delay_ms(const dg_throttle *t, uint32_t n_failures)
{
    uint32_t over = n_failures - t->o.account_failures;
    int64_t delay = BASE_DELAY_MS;

    for (uint32_t i = 0; i < over && delay < t->o.account_max_delay_ms; i++)
        delay *= 2;
    return DG_MIN(delay, t->o.account_max_delay_ms);
}

/* When the penalty earned by a counter ends (0 when none was earned). */
static int64_t penalty_end(const dg_throttle *t, const struct counter *c, bool is_account)
{
    if (is_account)
        return c->n_failures >= t->o.account_failures
                   ? c->last_at + account_delay_ms(t, c->n_failures)
                   : 0;
    return c->n_failures >= t->o.peer_failures ? c->last_at + t->o.peer_block_ms : 0;
}

int64_t dg_throttle_wait_ms(dg_throttle *t, const char *account, const char *peer_ip,
                            int64_t now_ms)
{
    /* A block or delay earned inside the window runs its full length from the
     * last failure even when the window ends meanwhile. */
    struct counter *p = peer_ip ? dg_map_get(t->peers, peer_ip, strlen(peer_ip)) : NULL;
    struct counter *a = account ? dg_map_get(t->accounts, account, strlen(account)) : NULL;
    int64_t wait = 0;

    if (p && now_ms < penalty_end(t, p, false))
        wait = penalty_end(t, p, false) - now_ms;
    if (a && now_ms < penalty_end(t, a, true))
        wait = DG_MAX(wait, penalty_end(t, a, true) - now_ms);
    return wait;
}

static bool drop_expired(const void *k, size_t kl, void *v, void *ud)
{
    struct counter *c = v;
    const int64_t *limits = ud; /* [now, keep_ms] */

    DG_UNUSED(k);
    DG_UNUSED(kl);
    if (limits[0] - c->last_at <= limits[1])
        return false;
    free(c);
    return true;
}

static int64_t keep_ms(const dg_throttle *t)
{
    return DG_MAX(DG_MAX(t->o.account_window_ms, t->o.account_max_delay_ms), t->o.peer_block_ms);
}

static void count(dg_throttle *t, dg_map *m, const char *key, bool is_account, int64_t now_ms)
{
    int64_t window_ms = is_account ? t->o.account_window_ms : t->o.peer_block_ms;
    struct counter *c = dg_map_get(m, key, strlen(key));

    /* A failure outside the window starts a fresh count, unless a penalty is
     * still running (a login that was hashing when the block began must not
     * lift it). */
    if (c && now_ms - c->first_at > window_ms && now_ms >= penalty_end(t, c, is_account)) {
        c->n_failures = 0;
        c->first_at = now_ms;
    }
    if (!c) {
        if (dg_map_count(m) >= MAX_ENTRIES) {
            int64_t limits[2] = {now_ms, keep_ms(t)};

            dg_map_sweep(m, drop_expired, limits);
            if (dg_map_count(m) >= MAX_ENTRIES)
                return;
        }
        c = dg_xcalloc(1, sizeof *c);
        c->first_at = now_ms;
        dg_map_put(m, key, strlen(key), c, NULL);
    }
    c->n_failures++;
    c->last_at = now_ms;
}

void dg_throttle_failure(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms)
{
    if (account)
        count(t, t->accounts, account, true, now_ms);
    if (peer_ip)
        count(t, t->peers, peer_ip, false, now_ms);
}

void dg_throttle_success(dg_throttle *t, const char *account)
{
    free(dg_map_remove(t->accounts, account, strlen(account)));
}

void dg_throttle_sweep(dg_throttle *t, int64_t now_ms)
{
    int64_t limits[2] = {now_ms, keep_ms(t)};

    dg_map_sweep(t->accounts, drop_expired, limits);
    dg_map_sweep(t->peers, drop_expired, limits);
}
