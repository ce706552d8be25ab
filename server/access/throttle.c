/* throttle.c - failure counters per (account, address), per account and per
 * address, and the table of known addresses.
 *
 * Owns: four dg_maps: pairs, accounts and peers of struct counter, known of
 * struct known; each holds at most max_entries. A counter with attempts in
 * flight (n_pending > 0) is never dropped, so dg_throttle_settle finds every
 * counter dg_throttle_admit counted in (the ticket says which). When a table
 * is full, expired entries are swept; if it is still full, a new counter is
 * not made (the rules whose counters exist still hold) and a new known
 * address replaces the oldest one.
 * Pair keys are "account\0address"; account names are keyed by at most
 * NAME_KEY_MAX bytes (no account name is that long, so only names that can
 * never log in share a key, which only makes their throttling stricter).
 */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

#define DEFAULT_MAX_ENTRIES 100000
#define BASE_DELAY_MS 1000
#define BUSY_RETRY_MS 1000 /* an argon2id check takes well under this */
#define NAME_KEY_MAX 300
#define ADDR_KEY_MAX 64

enum { PAIR, ACCOUNT, PEER, N_RULES };

struct rule {
    uint32_t limit;       /* failures allowed before the penalty */
    int64_t window_ms;    /* failures older than this (and no penalty running) are forgotten */
    int64_t max_delay_ms; /* cap of the doubling delay; the block itself for a fixed rule */
    bool is_fixed;        /* the peer rule blocks for max_delay_ms, no doubling */
};

struct counter {
    uint32_t n_failures; /* settled failures in the current window */
    uint32_t n_pending;  /* admitted and not settled yet: counted as failures meanwhile */
    int64_t first_at;    /* first failure of the current window */
    int64_t last_at;     /* last settled failure (creation time before any) */
};

struct known {
    int64_t at; /* last successful login from this address to this account */
};

struct dg_throttle {
    dg_throttle_opts o;
    struct rule rules[N_RULES];
    dg_map *tables[N_RULES]; /* pairs, accounts, peers */
    dg_map *known;
    uint32_t max_entries;
    uv_mutex_t mu; /* every loop thread logs in through here */
};

struct key {
    char bytes[NAME_KEY_MAX + 1 + ADDR_KEY_MAX];
    size_t len;
};

static size_t clamp_len(const char *s, size_t max)
{
    size_t n = strlen(s);

    return n < max ? n : max;
}

static void make_key(struct key *k, int table, const char *account, const char *peer_ip)
{
    size_t a, p;

    account = account ? account : "";
    peer_ip = peer_ip ? peer_ip : "";
    a = clamp_len(account, NAME_KEY_MAX);
    p = clamp_len(peer_ip, ADDR_KEY_MAX);

    k->len = 0;
    if (table == PAIR || table == ACCOUNT) {
        memcpy(k->bytes, account, a);
        k->len = a;
    }
    if (table == PAIR)
        k->bytes[k->len++] = '\0';
    if (table == PAIR || table == PEER) {
        memcpy(k->bytes + k->len, peer_ip, p);
        k->len += p;
    }
}

dg_throttle *dg_throttle_new(const dg_throttle_opts *opts)
{
    dg_throttle *t = dg_xcalloc(1, sizeof *t);

    t->o = *opts;
    t->max_entries = opts->max_entries ? opts->max_entries : DEFAULT_MAX_ENTRIES;
    t->rules[PAIR] =
        (struct rule){opts->pair_failures, opts->account_window_ms, opts->pair_max_delay_ms, false};
    t->rules[ACCOUNT] = (struct rule){opts->account_failures, opts->account_window_ms,
                                      opts->account_max_delay_ms, false};
    t->rules[PEER] =
        (struct rule){opts->peer_failures, opts->peer_block_ms, opts->peer_block_ms, true};
    for (int i = 0; i < N_RULES; i++)
        t->tables[i] = dg_map_new();
    t->known = dg_map_new();
    uv_mutex_init(&t->mu);
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
    for (int i = 0; i < N_RULES; i++) {
        dg_map_sweep(t->tables[i], free_all, NULL);
        dg_map_free(t->tables[i]);
    }
    dg_map_sweep(t->known, free_all, NULL);
    dg_map_free(t->known);
    uv_mutex_destroy(&t->mu);
    free(t);
}

/* ------------------------------------------------------------ rules */

static int64_t delay_ms(const struct rule *r, uint32_t n_failures)
{
    uint32_t over = n_failures - r->limit;
    int64_t delay = BASE_DELAY_MS;

    if (r->is_fixed)
        return r->max_delay_ms;
    for (uint32_t i = 0; i < over && delay < r->max_delay_ms; i++)
        delay *= 2;
    return DG_MIN(delay, r->max_delay_ms);
}

/* When the penalty earned by settled failures ends (0 when none was earned).
 * A penalty earned inside the window runs its full length from the last
 * failure even when the window ends meanwhile. */
static int64_t penalty_end(const struct rule *r, const struct counter *c)
{
    return c->n_failures >= r->limit ? c->last_at + delay_ms(r, c->n_failures) : 0;
}

/* Settled failures that still count at `now`. A doubling rule forgets them
 * after a window without failures, so sustained guessing keeps the longest
 * delay; the address rule counts within a window from its first failure, so
 * occasional typos behind one address never add up to a block. Never while a
 * penalty runs. */
static uint32_t live_failures(const struct rule *r, const struct counter *c, int64_t now)
{
    int64_t since = r->is_fixed ? c->first_at : c->last_at;

    if (now - since > r->window_ms && now >= penalty_end(r, c))
        return 0;
    return c->n_failures;
}

static int64_t settled_wait(const struct rule *r, const struct counter *c, int64_t now)
{
    int64_t end = c ? penalty_end(r, c) : 0;

    return now < end ? end - now : 0;
}

/* True when the attempts in flight, should they all fail, use up what is
 * left of the allowance: the next attempt must learn their outcome first. */
static bool pending_use_up(const struct rule *r, const struct counter *c, int64_t now)
{
    return c && c->n_pending > 0 && live_failures(r, c, now) + c->n_pending >= r->limit;
}

static void count_failure(const struct rule *r, struct counter *c, int64_t now)
{
    /* A failure outside the window starts a fresh count, unless a penalty is
     * still running (a login that was hashing when the block began must not
     * lift it). */
    if (live_failures(r, c, now) == 0)
        c->n_failures = 0;
    if (c->n_failures == 0)
        c->first_at = now;
    c->n_failures++;
    c->last_at = now;
}

/* ------------------------------------------------------------ tables */

struct expiry {
    int64_t now;
    int64_t keep_ms;
};

static bool drop_expired(const void *k, size_t kl, void *v, void *ud)
{
    struct counter *c = v;
    const struct expiry *e = ud;

    DG_UNUSED(k);
    DG_UNUSED(kl);
    if (c->n_pending > 0 || (c->n_failures > 0 && e->now - c->last_at <= e->keep_ms))
        return false;
    free(c);
    return true;
}

static void sweep_table(dg_throttle *t, int table, int64_t now)
{
    const struct rule *r = &t->rules[table];
    struct expiry e = {now, DG_MAX(r->window_ms, r->max_delay_ms)};

    dg_map_sweep(t->tables[table], drop_expired, &e);
}

static struct counter *get_counter(dg_throttle *t, int table, const struct key *k)
{
    return dg_map_get(t->tables[table], k->bytes, k->len);
}

/* The counter under `k`, made if needed; NULL when the table is full. */
static struct counter *need_counter(dg_throttle *t, int table, const struct key *k, int64_t now)
{
    dg_map *m = t->tables[table];
    struct counter *c = dg_map_get(m, k->bytes, k->len);

    if (c)
        return c;
    if (dg_map_count(m) >= t->max_entries) {
        sweep_table(t, table, now);
        if (dg_map_count(m) >= t->max_entries)
            return NULL;
    }
    c = dg_xcalloc(1, sizeof *c);
    c->first_at = c->last_at = now;
    dg_map_put(m, k->bytes, k->len, c, NULL);
    return c;
}

static bool is_known(dg_throttle *t, const struct key *pair, int64_t now)
{
    struct known *kn = dg_map_get(t->known, pair->bytes, pair->len);

    return kn && now - kn->at <= t->o.known_ms;
}

struct oldest {
    int64_t at;
    struct key key;
    bool has_any;
};

static bool find_oldest(const void *k, size_t kl, void *v, void *ud)
{
    struct known *kn = v;
    struct oldest *o = ud;

    if (!o->has_any || kn->at < o->at) {
        o->has_any = true;
        o->at = kn->at;
        memcpy(o->key.bytes, k, kl);
        o->key.len = kl;
    }
    return false;
}

static bool drop_unknown(const void *k, size_t kl, void *v, void *ud)
{
    struct known *kn = v;
    const struct expiry *e = ud;

    DG_UNUSED(k);
    DG_UNUSED(kl);
    if (e->now - kn->at <= e->keep_ms)
        return false;
    free(kn);
    return true;
}

static void remember(dg_throttle *t, const struct key *pair, int64_t now)
{
    struct known *kn = dg_map_get(t->known, pair->bytes, pair->len);

    if (t->o.known_ms <= 0)
        return;
    if (!kn && dg_map_count(t->known) >= t->max_entries) {
        struct expiry e = {now, t->o.known_ms};
        struct oldest o = {0};

        dg_map_sweep(t->known, drop_unknown, &e);
        if (dg_map_count(t->known) >= t->max_entries) {
            /* Only real logins add entries, so this scan is rare. */
            dg_map_sweep(t->known, find_oldest, &o);
            free(dg_map_remove(t->known, o.key.bytes, o.key.len));
        }
    }
    if (!kn) {
        kn = dg_xcalloc(1, sizeof *kn);
        dg_map_put(t->known, pair->bytes, pair->len, kn, NULL);
    }
    kn->at = now;
}

/* ------------------------------------------------------------ API */

static int throttle_admit_locked(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms,
                      dg_throttle_ticket *ticket, int64_t *wait_ms)
{
    struct key keys[N_RULES];
    struct counter *c[N_RULES];
    bool is_exempt; /* from the account rule: a known address */
    int64_t wait = 0;

    DG_ASSERT_LOOP_THREAD();
    memset(ticket, 0, sizeof *ticket);
    for (int i = 0; i < N_RULES; i++) {
        make_key(&keys[i], i, account, peer_ip);
        c[i] = get_counter(t, i, &keys[i]);
    }
    is_exempt = is_known(t, &keys[PAIR], now_ms);
    for (int i = 0; i < N_RULES; i++)
        if (i != ACCOUNT || !is_exempt)
            wait = DG_MAX(wait, settled_wait(&t->rules[i], c[i], now_ms));
    if (wait > 0) {
        *wait_ms = wait;
        return DG_EFULL;
    }
    for (int i = 0; i < N_RULES; i++)
        if ((i != ACCOUNT || !is_exempt) && pending_use_up(&t->rules[i], c[i], now_ms))
            wait = BUSY_RETRY_MS;
    if ((c[ACCOUNT] && c[ACCOUNT]->n_pending >= t->o.account_max_in_flight) ||
        (c[PEER] && c[PEER]->n_pending >= t->o.peer_max_in_flight))
        wait = BUSY_RETRY_MS;
    if (wait > 0) {
        *wait_ms = wait;
        return DG_EBUSY;
    }
    for (int i = 0; i < N_RULES; i++)
        if ((c[i] = need_counter(t, i, &keys[i], now_ms)))
            c[i]->n_pending++;
    ticket->has_pair = c[PAIR] != NULL;
    ticket->has_account = c[ACCOUNT] != NULL;
    ticket->has_peer = c[PEER] != NULL;
    *wait_ms = 0;
    return DG_OK;
}

static void throttle_settle_locked(dg_throttle *t, const char *account, const char *peer_ip,
                        const dg_throttle_ticket *ticket, enum dg_throttle_outcome outcome,
                        int64_t now_ms)
{
    const bool held[N_RULES] = {ticket->has_pair, ticket->has_account, ticket->has_peer};
    struct key keys[N_RULES];
    struct counter *c[N_RULES];

    DG_ASSERT_LOOP_THREAD();
    for (int i = 0; i < N_RULES; i++) {
        make_key(&keys[i], i, account, peer_ip);
        c[i] = get_counter(t, i, &keys[i]);
        if (held[i]) {
            dg_assert(c[i] && c[i]->n_pending > 0); /* never dropped while pending */
            c[i]->n_pending--;
        }
    }
    switch (outcome) {
    case DG_THROTTLE_FAILED:
        for (int i = 0; i < N_RULES; i++)
            if ((c[i] = need_counter(t, i, &keys[i], now_ms)))
                count_failure(&t->rules[i], c[i], now_ms);
        break;
    case DG_THROTTLE_SUCCEEDED:
        if (c[PAIR]) {
            c[PAIR]->n_failures = 0;
            if (c[PAIR]->n_pending == 0)
                free(dg_map_remove(t->tables[PAIR], keys[PAIR].bytes, keys[PAIR].len));
        }
        remember(t, &keys[PAIR], now_ms);
        break;
    case DG_THROTTLE_ABANDONED:
        break;
    }
}

static int64_t throttle_peer_wait_ms_locked(dg_throttle *t, const char *peer_ip, int64_t now_ms)
{
    struct key k;

    DG_ASSERT_LOOP_THREAD();
    make_key(&k, PEER, NULL, peer_ip);
    return settled_wait(&t->rules[PEER], get_counter(t, PEER, &k), now_ms);
}

static void throttle_peer_failure_locked(dg_throttle *t, const char *peer_ip, int64_t now_ms)
{
    struct key k;
    struct counter *c;

    DG_ASSERT_LOOP_THREAD();
    make_key(&k, PEER, NULL, peer_ip);
    if ((c = need_counter(t, PEER, &k, now_ms)))
        count_failure(&t->rules[PEER], c, now_ms);
}

static bool throttle_is_known_locked(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms)
{
    struct key k;

    DG_ASSERT_LOOP_THREAD();
    make_key(&k, PAIR, account, peer_ip);
    return is_known(t, &k, now_ms);
}

static void throttle_sweep_locked(dg_throttle *t, int64_t now_ms)
{
    struct expiry e = {now_ms, t->o.known_ms};

    DG_ASSERT_LOOP_THREAD();
    for (int i = 0; i < N_RULES; i++)
        sweep_table(t, i, now_ms);
    dg_map_sweep(t->known, drop_unknown, &e);
}

/* ------------------------------------------------------------ the same, locked: any loop thread */

int dg_throttle_admit(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms,
                      dg_throttle_ticket *ticket, int64_t *wait_ms)
{
    int rc;

    uv_mutex_lock(&t->mu);
    rc = throttle_admit_locked(t, account, peer_ip, now_ms, ticket, wait_ms);
    uv_mutex_unlock(&t->mu);
    return rc;
}

void dg_throttle_settle(dg_throttle *t, const char *account, const char *peer_ip,
                        const dg_throttle_ticket *ticket, enum dg_throttle_outcome outcome,
                        int64_t now_ms)
{
    uv_mutex_lock(&t->mu);
    throttle_settle_locked(t, account, peer_ip, ticket, outcome, now_ms);
    uv_mutex_unlock(&t->mu);
}

int64_t dg_throttle_peer_wait_ms(dg_throttle *t, const char *peer_ip, int64_t now_ms)
{
    int64_t ms;

    uv_mutex_lock(&t->mu);
    ms = throttle_peer_wait_ms_locked(t, peer_ip, now_ms);
    uv_mutex_unlock(&t->mu);
    return ms;
}

void dg_throttle_peer_failure(dg_throttle *t, const char *peer_ip, int64_t now_ms)
{
    uv_mutex_lock(&t->mu);
    throttle_peer_failure_locked(t, peer_ip, now_ms);
    uv_mutex_unlock(&t->mu);
}

bool dg_throttle_is_known(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms)
{
    bool is;

    uv_mutex_lock(&t->mu);
    is = throttle_is_known_locked(t, account, peer_ip, now_ms);
    uv_mutex_unlock(&t->mu);
    return is;
}

void dg_throttle_sweep(dg_throttle *t, int64_t now_ms)
{
    uv_mutex_lock(&t->mu);
    throttle_sweep_locked(t, now_ms);
    uv_mutex_unlock(&t->mu);
}
