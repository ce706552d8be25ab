/* feed_ring.c - where the feed's changes come from: a subscription's own
 * reads of the table (a replay, or a cursor older than the ring), the ring of
 * recent changes (handed over by the writer, or one read for all), and the
 * fan-out that serves every live subscriber from it, a slice up to the
 * output cap at a time.
 * Loop thread, except fetch_run (a reader thread).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "feed_int.h"
#include "log.h"
#include "server.h"

/* ------------------------------------------------------------ fetching */

static void fanout_cb(uv_idle_t *h);

/* Reads one record; NULL when it is gone. */
static int read_one(dg_store *st, enum dg_kind kind, int64_t id, dg_arena *a, dg_record **out)
{
    int rc = dg_store_rec_get(st, kind, id, a, out);

    if (rc == DG_ENOTFOUND) {
        *out = NULL;
        return DG_OK;
    }
    return rc;
}

/* Each row's record and its customer as they are now, in the same read
 * transaction. */
static int read_records(dg_store *st, struct fetch *x)
{
    x->recs = dg_arena_calloc(x->arena, x->n, sizeof *x->recs);
    x->customers = dg_arena_calloc(x->arena, x->n, sizeof *x->customers);
    if (!x->recs || !x->customers)
        return DG_ENOMEM;
    for (size_t i = 0; i < x->n; i++) {
        const dg_change *c = &x->rows[i].c;
        enum dg_kind kind = dg_kind_parse(c->entity);
        int rc = DG_OK;

        if (kind == DG_KIND_NONE)
            continue;
        rc = read_one(st, kind, c->entity_id, x->arena, &x->recs[i]);
        if (rc == DG_OK && kind == DG_KIND_CUSTOMER)
            x->customers[i] = x->recs[i];
        else if (rc == DG_OK)
            rc = read_one(st, DG_KIND_CUSTOMER, c->customer_id, x->arena, &x->customers[i]);
        if (rc != DG_OK)
            return rc;
    }
    return DG_OK;
}

static void fetch_run(dg_job *job, void *ctx)
{
    struct fetch *x = (struct fetch *)job;
    dg_store *st = ctx;

    if ((job->rc = dg_store_read_begin(st)) != DG_OK)
        return;
    job->rc = dg_store_changes_after(st, x->after, x->limit, x->arena, &x->rows, &x->n, &x->oldest);
    if (job->rc == DG_OK && x->with_records && x->n)
        job->rc = read_records(st, x);
    dg_store_read_end(st);
}

/* Brings the ring's byte count up to date with what batch `b` holds now:
 * rows, records, and what was packed of them. Whole chunks: a commit of one
 * change hands over an arena of a few hundred bytes used in 4 KiB. */
static void ring_charge(dg_feed *f, struct ring_batch *b)
{
    size_t now = dg_arena_footprint(b->arena) + (b->pack ? dg_arena_footprint(b->pack) : 0) +
                 (b->shared ? dg_arena_footprint(b->shared->arena) : 0) + b->n * sizeof *b->meta;

    f->ring_bytes += now - b->bytes; /* it only grows */
    b->bytes = now;
}

/* The oldest ring batch with changes after `cursor`. A live subscriber is a
 * batch or two behind, so the search starts at the newest end. */
static struct ring_batch *first_batch_after(dg_feed *f, int64_t cursor)
{
    struct ring_batch *b = f->ring_tail;

    while (b && b->prev && b->prev->rows[b->prev->n - 1].seq > cursor)
        b = b->prev;
    return b;
}

/* True when `s`'s connection has more than OUTPUT_CAP queued (events packed
 * while corked included): `s` gets nothing more until the client reads, and
 * the tick resumes it. */
static bool output_full(dg_sub *s)
{
    if (dg_conn_pending(s->conn) <= OUTPUT_CAP)
        return false;
    s->is_dirty = true;
    dg_conn_notify_drained(s->conn, OUTPUT_CAP / 2); /* dg_feed_conn_drained */
    return true;
}

/* Sends `s` the ring's changes after its cursor, in one write, up to
 * OUTPUT_CAP queued. A cursor older than the ring reads the table instead; a
 * full connection waits for the tick. */
void feed_serve_from_ring(dg_sub *s)
{
    dg_feed *f = s->feed;
    bool is_ok = true;

    if (s->is_fetching || s->cursor >= f->ring_hi)
        return;
    if (s->cursor < f->ring_lo) {
        feed_fetch_start(s);
        return;
    }
    if (s->with_records && !f->ring_tail->has_records) {
        feed_fetch_start(s); /* the ring was read without records: read them itself */
        return;
    }
    if (output_full(s))
        return;
    s->is_dirty = false; /* until output_full says otherwise */
    dg_conn_cork(s->conn);
    for (struct ring_batch *b = first_batch_after(f, s->cursor); b && is_ok && !s->is_dirty;
         b = b->next) {
        size_t lo = 0, hi = b->n;

        while (lo < hi) { /* the first row after the cursor */
            size_t mid = lo + (hi - lo) / 2;

            if (b->rows[mid].seq <= s->cursor)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (s->with_records && !b->has_records) {
            feed_fetch_start(s);
            break;
        }
        if (s->with_records && !b->pack)
            b->pack = dg_arena_new(PACK_BUDGET);
        for (size_t i = lo; i < b->n && !output_full(s); i++) {
            if (!(is_ok = feed_deliver(s, &b->rows[i], &b->meta[i], b->pack)))
                break;
            s->cursor = b->rows[i].seq;
        }
        if (b->pack)
            ring_charge(f, b); /* records packed on first need */
    }
    dg_conn_uncork(s->conn);
    if (!is_ok)
        feed_end_unservable(s);
}

static void sub_fetch_done(struct fetch *x)
{
    dg_sub *s = x->sub;
    dg_arena *pack;
    bool is_ok = true;

    s->is_fetching = false;
    if (!s->conn || !dg_conn_is_open(s->conn) || !feed_session_ok(s)) {
        feed_sub_free(s);
        return;
    }
    if (x->job.rc != DG_OK) {
        dg_log_warn("feed", "subscription=%llu msg=\"cannot read the change feed\" error=\"%s\"",
                    (unsigned long long)s->id, dg_strerror(x->job.rc));
        s->is_dirty = true; /* the tick tries again */
        return;
    }
    if (x->oldest > 0 && x->after + 1 < x->oldest) {
        /* pruned past the cursor: never a silent jump */
        feed_end_with_resync(s, x->after, "cursor_too_old");
        return;
    }
    pack = x->with_records ? dg_arena_new(PACK_BUDGET) : NULL;
    dg_conn_cork(s->conn);
    s->is_dirty = false;
    for (size_t i = 0; i < x->n && !output_full(s); i++) {
        struct row_meta m = feed_meta_of(s->feed, &x->rows[i], x->arena);

        m.rec = x->recs ? x->recs[i] : NULL;
        m.customer = x->customers ? x->customers[i] : NULL;
        if (!(is_ok = feed_deliver(s, &x->rows[i], &m, pack)))
            break;
        s->cursor = x->rows[i].seq;
    }
    dg_conn_uncork(s->conn);
    dg_arena_free(pack);
    if (!is_ok) {
        feed_end_unservable(s);
        return;
    }
    if (s->is_dirty) /* full: the rest is read again once the client reads */
        return;
    if (x->n == x->limit) {
        feed_fetch_start(s);
        return;
    }
    if (!s->is_live) {
        s->is_live = true;
        feed_send_simple(s, DANGAN__V1__EVENT__BODY_CAUGHT_UP, s->cursor);
    }
    s->is_dirty = false;
    feed_serve_from_ring(s); /* what committed while it read */
}

void feed_ring_drop_oldest(dg_feed *f)
{
    struct ring_batch *b = f->ring;

    f->ring = b->next;
    if (f->ring)
        f->ring->prev = NULL;
    else
        f->ring_tail = NULL;
    f->ring_n -= b->n;
    f->ring_bytes -= b->bytes;
    f->ring_freed += b->bytes;
    if (b->n)
        f->ring_lo = b->rows[b->n - 1].seq;
    dg_arena_free(b->arena);
    dg_arena_free(b->pack);
    dg_committed_free(b->shared);
    free(b->meta);
    free(b);
}

static void ring_fetch_done(struct fetch *x)
{
    dg_feed *f = x->feed;

    f->is_ring_fetching = false;
    if (x->job.rc != DG_OK || f->is_stopping) {
        if (x->job.rc != DG_OK)
            dg_log_warn("feed", "msg=\"cannot read the change feed\" error=\"%s\"",
                        dg_strerror(x->job.rc));
        dg_arena_free(x->arena);
        return; /* the tick tries again */
    }
    if (x->n == 0) {
        dg_arena_free(x->arena);
        return;
    }
    feed_ring_append(f, x->arena, x->rows, x->n, x->recs, x->customers, x->with_records);
    feed_fanout_start(f);
    if (f->ring_hi < f->head)
        feed_ring_fetch(f); /* committed while it read */
}

/* Puts `n` change rows after the ring's end (they live in arena `a`, which
 * the ring now owns), with their records when read for subscribers
 * with_records, and drops the oldest batches past the ring's bounds. */
void feed_ring_append(dg_feed *f, dg_arena *a, dg_change_row *rows, size_t n, dg_record **recs,
                      dg_record **customers, bool has_records)
{
    struct ring_batch *b = dg_xcalloc(1, sizeof *b);

    b->arena = a;
    b->rows = rows;
    b->n = n;
    b->has_records = has_records;
    b->meta = dg_xcalloc(b->n, sizeof *b->meta);
    for (size_t i = 0; i < b->n; i++) {
        b->meta[i] = feed_meta_of(f, &b->rows[i], b->arena);
        b->meta[i].rec = recs ? recs[i] : NULL;
        b->meta[i].customer = customers ? customers[i] : NULL;
    }
    b->prev = f->ring_tail;
    if (f->ring_tail)
        f->ring_tail->next = b;
    else
        f->ring = b;
    f->ring_tail = b;
    f->ring_n += b->n;
    ring_charge(f, b);
    f->ring_hi = b->rows[b->n - 1].seq;
    while (f->ring && f->ring != f->ring_tail &&
           (f->ring_n > RING_ROWS || f->ring_bytes > RING_BYTES))
        feed_ring_drop_oldest(f);
}

/* The same with the rows of a commit, which every loop's feed shares: this
 * ring takes a reference, and packs into an arena of its own. */
void feed_ring_append_shared(dg_feed *f, dg_committed *c)
{
    dg_committed_ref(c);
    feed_ring_append(f, dg_arena_new(FETCH_BUDGET), c->rows, c->n, NULL, NULL, false);
    f->ring_tail->shared = c;
    ring_charge(f, f->ring_tail);
}

/* One loop turn's share of a fan-out; the last starts the next fan-out,
 * after its pause, when the ring grew meanwhile. */
static void fanout_cb(uv_idle_t *h)
{
    dg_feed *f = h->data;
    int64_t t0 = dg_mono_us(), now;

    for (int n = 0; f->fanout_next && n < FANOUT_CHUNK; n++) {
        dg_sub *s = f->fanout_next;

        f->fanout_next = s->next;
        if (s->conn && s->is_live && feed_session_ok(s))
            feed_serve_from_ring(s);
    }
    now = dg_mono_us();
    f->fanout_busy_us += now - t0;
    if (f->fanout_next)
        return;
    uv_idle_stop(h);
    f->fanout_after_us = now + f->fanout_busy_us / FANOUT_PAUSE_DIVISOR;
    if (f->ring_hi > f->fanout_hi)
        feed_fanout_start(f); /* the ring grew while it served */
}

static void fetch_done(dg_job *job)
{
    struct fetch *x = (struct fetch *)job;

    if (x->sub) {
        sub_fetch_done(x);
        dg_arena_free(x->arena);
    } else {
        ring_fetch_done(x); /* keeps or frees the arena */
    }
    free(x);
}

static struct fetch *fetch_submit(dg_feed *f, dg_sub *s, int64_t after)
{
    struct fetch *x = dg_xcalloc(1, sizeof *x);

    x->feed = f;
    x->sub = s;
    x->after = after;
    x->with_records = s ? s->with_records : f->n_record_subs > 0;
    x->limit = x->with_records ? RECORD_FETCH_ROWS : s ? FETCH_ROWS : LIVE_FETCH_ROWS;
    x->arena = dg_arena_new(x->with_records ? RECORD_FETCH_BUDGET : FETCH_BUDGET);
    x->job.run = fetch_run;
    x->job.done = fetch_done;
    if (dg_server_read(f->srv, &x->job) != DG_OK) {
        dg_arena_free(x->arena);
        free(x);
        return NULL; /* overloaded: the tick tries again */
    }
    return x;
}

static void pace_cb(uv_timer_t *t)
{
    feed_fanout_start(t->data);
}

/* Starts serving every live subscriber the ring's new changes, unless a
 * fan-out is under way (it starts another when it ends) or the last one's
 * pause lasts. */
void feed_fanout_start(dg_feed *f)
{
    int64_t wait_us;

    if (f->is_stopping || uv_is_active((uv_handle_t *)&f->pace) ||
        uv_is_active((uv_handle_t *)&f->fanout))
        return;
    wait_us = f->fanout_after_us - dg_mono_us();
    if (wait_us > 0) {
        uv_timer_start(&f->pace, pace_cb, (uint64_t)(wait_us + 999) / 1000, 0);
        return;
    }
    f->fanout_next = f->subs;
    f->fanout_busy_us = 0;
    f->fanout_hi = f->ring_hi;
    uv_idle_start(&f->fanout, fanout_cb);
}

/* One read of the changes after the ring's end, for every live
 * subscription. It does not wait for a fan-out: the subscribers a fan-out
 * has yet to serve get what committed meanwhile. */
void feed_ring_fetch(dg_feed *f)
{
    if (f->is_ring_fetching || f->is_stopping)
        return;
    if (fetch_submit(f, NULL, f->ring_hi))
        f->is_ring_fetching = true;
}

/* Starts a subscription's own read after its cursor (a replay, or a cursor
 * older than the ring), unless one runs, its connection's output is full
 * (the tick resumes it) or the feed is stopping. */
void feed_fetch_start(dg_sub *s)
{
    dg_feed *f = s->feed;

    if (s->is_fetching || f->is_stopping || !s->conn || dg_conn_pending(s->conn) > OUTPUT_CAP) {
        s->is_dirty = true;
        return;
    }
    if (!fetch_submit(f, s, s->cursor)) {
        s->is_dirty = true;
        return;
    }
    s->is_fetching = true;
    s->is_dirty = false;
}
