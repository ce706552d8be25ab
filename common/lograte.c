/* lograte.c - per-key counts of logged and left-out events.
 *
 * Owns: a dg_map of struct entry (at most max_keys) and the tally of keys
 * that did not fit. An entry lives from the first event of its key until
 * its interval is reported, so the table never holds stale keys for long.
 */
#include "lograte.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

struct entry {
    int64_t start_at; /* first event of the interval */
    uint32_t n_logged;
    uint64_t n_left_out;
};

struct dg_lograte {
    dg_lograte_opts o;
    dg_map *keys;
    struct entry others; /* events of keys the table had no room for */
    int64_t total_start_at;
    uint32_t n_total_logged;
};

dg_lograte *dg_lograte_new(const dg_lograte_opts *opts)
{
    dg_lograte *r = dg_xcalloc(1, sizeof *r);

    dg_assert(opts->interval_ms > 0 && opts->report);
    r->o = *opts;
    r->keys = dg_map_new();
    return r;
}

static bool free_entry(const void *k, size_t kl, void *v, void *ud)
{
    DG_UNUSED(k);
    DG_UNUSED(kl);
    DG_UNUSED(ud);
    free(v);
    return true;
}

void dg_lograte_free(dg_lograte *r)
{
    if (!r)
        return;
    dg_map_sweep(r->keys, free_entry, NULL);
    dg_map_free(r->keys);
    free(r);
}

/* Reports what `e` left out of the interval ending at `now` and starts a new one. */
static void report_entry(dg_lograte *r, const char *key, struct entry *e, int64_t now)
{
    if (e->n_left_out)
        r->o.report(key, e->n_left_out, now - e->start_at, r->o.ud);
    e->start_at = now;
    e->n_logged = 0;
    e->n_left_out = 0;
}

bool dg_lograte_hit(dg_lograte *r, const char *key, int64_t now_ms)
{
    size_t kl = strlen(key);
    struct entry *e = dg_map_get(r->keys, key, kl);

    if (now_ms - r->total_start_at >= r->o.interval_ms) {
        r->total_start_at = now_ms;
        r->n_total_logged = 0;
    }
    if (e && now_ms - e->start_at >= r->o.interval_ms)
        report_entry(r, key, e, now_ms);
    if (!e && dg_map_count(r->keys) >= r->o.max_keys)
        dg_lograte_flush(r, now_ms, false);
    if (!e && dg_map_count(r->keys) >= r->o.max_keys) {
        if (r->others.n_left_out == 0)
            r->others.start_at = now_ms;
        r->others.n_left_out++;
        return false;
    }
    if (!e) {
        e = dg_xcalloc(1, sizeof *e);
        e->start_at = now_ms;
        dg_map_put(r->keys, key, kl, e, NULL);
    }
    if (e->n_logged < r->o.n_per_key && r->n_total_logged < r->o.n_total) {
        e->n_logged++;
        r->n_total_logged++;
        return true;
    }
    e->n_left_out++;
    return false;
}

struct flush_ctx {
    dg_lograte *r;
    int64_t now;
    bool is_final;
};

static bool flush_entry(const void *k, size_t kl, void *v, void *ud)
{
    struct flush_ctx *f = ud;
    struct entry *e = v;
    char key[256];

    if (!f->is_final && f->now - e->start_at < f->r->o.interval_ms)
        return false;
    if (e->n_left_out) {
        /* keys are addresses: far shorter than this; a longer one is cut */
        size_t n = kl < sizeof key ? kl : sizeof key - 1;

        memcpy(key, k, n);
        key[n] = '\0';
        report_entry(f->r, key, e, f->now);
    }
    free(e);
    return true;
}

void dg_lograte_flush(dg_lograte *r, int64_t now_ms, bool is_final)
{
    struct flush_ctx f = {r, now_ms, is_final};

    dg_map_sweep(r->keys, flush_entry, &f);
    if (r->others.n_left_out && (is_final || now_ms - r->others.start_at >= r->o.interval_ms))
        report_entry(r, NULL, &r->others, now_ms);
}
