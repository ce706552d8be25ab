/* feed.c - Subscribe, Unsubscribe and the events they bring: see feed.h.
 *
 * A subscription's life: Subscribe answers with its id at once; the first
 * fetch replays the changes after `since` (a fresh subscription starts at
 * the head and is caught up at once); when a fetch comes back short the
 * subscription sends CaughtUp and is live; from then on it is served from
 * the ring: each commit's changes go onto the ring's end (handed over by
 * the writer, or read), and a fan-out sends every live subscriber what it
 * lacks. One that fell behind the ring reads the table again. The tick
 * resumes subscriptions that stopped because their connection's output was
 * full, and sends Progress to idle ones.
 */
#include "feed.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "entity.h"
#include "h_record_pb.h"
#include "log.h"
#include "perm.h"
#include "server.h"
#include "users.h"

#define FETCH_ROWS 256
#define FETCH_BUDGET (4u << 20) /* one batch of change rows */
/* With records (Subscribe with_records) a batch is smaller and its memory
 * larger: a record may hold long notes. Packing them (the record as is and
 * masked) takes its own arena. */
#define RECORD_FETCH_ROWS 64
#define RECORD_FETCH_BUDGET (16u << 20)
#define PACK_BUDGET (64u << 20)
#define OUTPUT_CAP (256u << 10) /* queued bytes beyond which a subscription waits */
#define TICK_MS 200
#define PROGRESS_MS 10000
#define RING_ROWS 8192         /* recent changes kept for live subscriptions */
#define RING_BYTES (48u << 20) /* and their memory, records and packed events included */
#define LIVE_FETCH_ROWS 1024   /* one read of new changes for all of them */
#define TRIM_BYTES (8u << 20)  /* the ring freed this much: return it to the system */
/* A fan-out serves every live subscriber, FANOUT_CHUNK of them per loop
 * turn so requests and commits go on in between. The ring is read after
 * every commit, fan-out or not, so the subscribers a fan-out has yet to
 * serve get what committed meanwhile; one that ends with new changes in the
 * ring starts the next. That one waits a quarter of the time this one's
 * serving took: under load each subscriber's write then carries more
 * changes (fewer writes, fewer TLS records) and the loop keeps time for
 * requests. With dangan-bench --watchers 500 --rate 1000 the event p99 was
 * 63 ms with no pause, 49-60 ms with a quarter and 61-76 ms with half, when
 * the ring read waited for the fan-out; 33-41 ms since it does not. */
#define FANOUT_CHUNK 32
#define FANOUT_PAUSE_DIVISOR 4

struct dg_sub {
    dg_sub *prev, *next;
    dg_feed *feed;
    dg_conn *conn; /* NULL once the connection is gone or it unsubscribed */
    uint64_t id;
    int64_t cursor; /* every change up to here was sent or skipped */
    int64_t *customer_ids;
    size_t n_customer_ids;
    bool is_mine;
    bool with_records; /* change events carry the record, masked for it */
    uint32_t kinds;    /* bit per dg_kind; 0: every kind */
    bool is_live, is_fetching, is_dirty;
    int64_t last_sent_ms; /* monotonic */
};

/* One read of new changes, kept while it is among the newest RING_ROWS. */
/* What every subscriber's check needs of a change row, worked out once. */
struct row_meta {
    enum dg_kind kind;
    bool has_before, has_after; /* a view before / after the change */
    int64_t owner_before, tier_before, owner_after, tier_after;
    uint8_t *change; /* the packed ChangeEvent, the same for every subscriber */
    size_t change_len;
    /* with_records: the record and its customer as read (NULL: gone, or
     * not read), and the ChangeEvent packed with the record as is and
     * masked, on first need. Who may see the record, and how masked, goes
     * by the customer as read, not as it was at the change: the record
     * shows what it is now. */
    dg_record *rec, *customer;
    bool is_rec_packed;
    uint8_t *change_rec, *change_masked;
    size_t change_rec_len, change_masked_len;
};

struct ring_batch {
    struct ring_batch *next, *prev; /* newer, older */
    dg_arena *arena;
    dg_change_row *rows;
    struct row_meta *meta;
    size_t n;
    bool has_records; /* read for subscribers with_records */
    dg_arena *pack;   /* the ChangeEvents packed with records, on first need */
    size_t bytes;     /* what it holds, as last charged to the ring (ring_charge) */
};

struct dg_feed {
    dg_server *srv;
    dg_sub *subs;
    unsigned n_record_subs; /* of them, with_records */
    uint64_t next_id;
    int64_t head; /* newest committed change seq */
    bool is_stopping;
    uv_timer_t tick;
    /* The ring: every change with ring_lo < seq <= ring_hi, oldest batch
     * first. Live subscriptions are served from it; one read per commit
     * feeds them all. Older cursors read the table themselves. */
    struct ring_batch *ring, *ring_tail;
    size_t ring_n;
    size_t ring_bytes; /* the sum of its batches' bytes */
    size_t ring_freed; /* bytes of batches dropped since the last trim */
    int64_t ring_lo, ring_hi;
    bool is_ring_fetching;
    int64_t fanout_after_us; /* monotonic: no fan-out starts before this */
    uv_timer_t pace;         /* the fan-out put off until fanout_after_us */
    uv_idle_t fanout;        /* active while a fan-out is under way */
    dg_sub *fanout_next;     /* the next subscriber it serves; NULL: done */
    int64_t fanout_busy_us;  /* time spent serving in this fan-out */
    int64_t fanout_hi;       /* the ring's end when this fan-out started */
    int n_open_handles;      /* tick, pace, fanout: f is freed when all closed */
};

struct fetch {
    dg_job job;
    dg_feed *feed;
    dg_sub *sub; /* NULL: the ring's read */
    dg_arena *arena;
    int64_t after;
    uint32_t limit;        /* rows */
    bool with_records;     /* read each row's record and customer too */
    dg_record **recs;      /* with_records: per row, NULL when gone */
    dg_record **customers; /* with_records: per row, the record's customer now */
    dg_change_row *rows;
    size_t n;
    int64_t oldest;
};

/* ------------------------------------------------------------ subscriptions */

static void sub_free(dg_sub *s)
{
    dg_feed *f = s->feed;

    if (f->fanout_next == s)
        f->fanout_next = s->next;
    if (s->with_records)
        f->n_record_subs--;
    if (s->prev)
        s->prev->next = s->next;
    else
        f->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s->customer_ids);
    free(s);
}

/* Ends a subscription: at once, or when its fetch comes back. */
static void sub_end(dg_sub *s)
{
    s->conn = NULL;
    if (!s->is_fetching)
        sub_free(s);
}

/* An event at position `seq`; the caller picks the body. */
static void send_event(dg_sub *s, Dangan__V1__Event *ev, int64_t seq)
{
    Dangan__V1__Cursor cursor = DANGAN__V1__CURSOR__INIT;

    cursor.epoch = dg_server_feed_epoch(s->feed->srv);
    cursor.seq = (uint64_t)seq;
    ev->subscription_id = s->id;
    ev->cursor = &cursor;
    dg_conn_send_event(s->conn, ev);
    s->last_sent_ms = dg_mono_ms();
}

static void send_simple(dg_sub *s, Dangan__V1__Event__BodyCase body, int64_t seq)
{
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;
    Dangan__V1__CaughtUp cu = DANGAN__V1__CAUGHT_UP__INIT;
    Dangan__V1__Progress pr = DANGAN__V1__PROGRESS__INIT;

    ev.body_case = body;
    if (body == DANGAN__V1__EVENT__BODY_CAUGHT_UP)
        ev.caught_up = &cu;
    else
        ev.progress = &pr;
    send_event(s, &ev, seq);
}

/* Ends `s` with ResyncRequired: the subscription cannot go on without a gap.
 * The event has no cursor, so no client can save it and resume into another
 * history; `stale_seq` (the position it could not go on from) is only for
 * messages. */
static void end_with_resync(dg_sub *s, int64_t stale_seq, const char *reason)
{
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;
    Dangan__V1__ResyncRequired rs = DANGAN__V1__RESYNC_REQUIRED__INIT;

    rs.reason = (char *)reason;
    rs.stale_seq = stale_seq > 0 ? (uint64_t)stale_seq : 0;
    ev.body_case = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    ev.resync_required = &rs;
    ev.subscription_id = s->id;
    dg_conn_send_event(s->conn, &ev);
    sub_end(s);
}

/* ------------------------------------------------------------ one change, one subscriber */

static bool passes_filter(const dg_sub *s, const dg_change *c, enum dg_kind kind, int64_t owner)
{
    bool found = s->n_customer_ids == 0;

    if (s->kinds && !(s->kinds & (1u << kind)))
        return false;
    for (size_t i = 0; i < s->n_customer_ids && !found; i++)
        found = s->customer_ids[i] == c->customer_id;
    if (!found)
        return false;
    return !s->is_mine || owner == dg_conn_session(s->conn)->user_id;
}

static Dangan__V1__UserRef *actor_ref(dg_arena *a, dg_feed *f, int64_t id)
{
    const dg_user_info *u = id ? dg_users_by_id(dg_server_users(f->srv), id) : NULL;
    Dangan__V1__UserRef *r;

    if (!u || !(r = dg_arena_alloc(a, sizeof *r)))
        return NULL;
    dangan__v1__user_ref__init(r);
    r->id = u->id;
    r->username = dg_arena_strdup(a, u->username);
    r->role = (Dangan__V1__Role)u->role;
    return r->username ? r : NULL;
}

/* The ChangeEvent of `row` with `rec` (may be NULL), packed into `a`; NULL
 * when out of memory. */
static uint8_t *pack_change(dg_feed *f, const dg_change_row *row, enum dg_kind kind,
                            const dg_record *rec, dg_arena *a, size_t *len)
{
    const dg_change *c = &row->c;
    Dangan__V1__ChangeEvent ch = DANGAN__V1__CHANGE_EVENT__INIT;
    uint8_t *out;

    ch.kind = (Dangan__V1__EntityKind)kind;
    ch.id = c->entity_id;
    ch.customer_id = c->customer_id;
    ch.op = (char *)c->op;
    ch.version = c->version;
    ch.actor = actor_ref(a, f, c->actor_id);
    ch.at_ms = c->at;
    ch.committed_at_us = row->committed_us;
    ch.fields = (char **)c->fields; /* only read by the packer */
    ch.n_fields = c->n_fields;
    if (rec) {
        /* the record encoder needs only an arena (PACK_BUDGET, far above
         * a batch's records) and the users, as a request would give it */
        dg_req builder = {.srv = f->srv, .action = "feed.event", .arena = a};

        ch.record = dg_h_record_to_pb(&builder, rec);
        if (dg_req_is_over_budget(&builder))
            return NULL; /* past PACK_BUDGET: the event cannot be made */
    }
    *len = dangan__v1__change_event__get_packed_size(&ch);
    if ((out = dg_arena_alloc(a, *len ? *len : 1)))
        dangan__v1__change_event__pack(&ch, out);
    return out;
}

/* What every subscriber's check needs of `row`, and its packed change, in `a`. */
static struct row_meta meta_of(dg_feed *f, const dg_change_row *row, dg_arena *a)
{
    struct row_meta m = {.kind = dg_kind_parse(row->c.entity)};

    m.has_before = row->c.vis_before.is_set;
    m.owner_before = row->c.vis_before.owner_id;
    m.tier_before = row->c.vis_before.tier;
    m.has_after = row->c.vis_after.is_set;
    m.owner_after = row->c.vis_after.owner_id;
    m.tier_after = row->c.vis_after.tier;
    if (m.kind != DG_KIND_NONE)
        m.change = pack_change(f, row, m.kind, NULL, a, &m.change_len);
    return m;
}

/* Packs `m`'s change with its record as read, then masked as a viewer
 * would see it (in place: the unmasked bytes are packed first). */
static void pack_with_record(dg_feed *f, const dg_change_row *row, struct row_meta *m, dg_arena *a)
{
    dg_perm_who viewer = {0, DG_ROLE_VIEWER, dg_server_restricted_tiers(f->srv)};

    m->is_rec_packed = true;
    m->change_rec = pack_change(f, row, m->kind, m->rec, a, &m->change_rec_len);
    if (m->rec && dg_perm_mask_record(&viewer, dg_customer_owner(m->customer), m->rec, a) != DG_OK)
        return; /* no masked bytes: nothing goes to those who may not see it all */
    m->change_masked = pack_change(f, row, m->kind, m->rec, a, &m->change_masked_len);
}

/* The packed change `s` gets, or NULL (out of memory: the event is skipped,
 * logged once per row). */
static const uint8_t *change_for(dg_sub *s, const dg_perm_who *who, const dg_change_row *row,
                                 struct row_meta *m, dg_arena *pack, size_t *len)
{
    if (!s->with_records || !m->rec || !m->customer ||
        !dg_perm_sees(who, dg_customer_owner(m->customer), dg_customer_tier(m->customer))) {
        /* no record, or one that has left this subscriber's view since */
        *len = m->change_len;
        return m->change;
    }
    if (!m->is_rec_packed) {
        pack_with_record(s->feed, row, m, pack);
        if (!m->change_rec || !m->change_masked)
            dg_log_error("feed", "seq=%lld msg=\"cannot pack a change with its record\"",
                         (long long)row->seq);
    }
    if (dg_perm_sees_sensitive(who, dg_customer_owner(m->customer))) {
        *len = m->change_rec_len;
        return m->change_rec;
    }
    *len = m->change_masked_len;
    return m->change_masked;
}

/* Sends what subscriber `s` may know of change `row`: the change, Hidden
 * when the record left its view, or nothing. False when it owes `s` an event
 * it cannot make (out of memory): the caller must not move the cursor past
 * it, and ends the subscription with ResyncRequired, never a silent gap. */
static bool deliver(dg_sub *s, const dg_change_row *row, struct row_meta *m, dg_arena *pack)
{
    const dg_change *c = &row->c;
    const dg_session *sess = dg_conn_session(s->conn);
    dg_perm_who who = {sess->user_id, sess->role, dg_server_restricted_tiers(s->feed->srv)};
    enum dg_kind kind = m->kind;
    int64_t owner_b = m->owner_before, owner_a = m->owner_after;
    bool sees_b = m->has_before && dg_perm_sees(&who, owner_b, m->tier_before);
    bool sees_a = m->has_after && dg_perm_sees(&who, owner_a, m->tier_after);
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;

    if (kind == DG_KIND_NONE)
        return true;
    if (sees_a && passes_filter(s, c, kind, owner_a)) {
        size_t len;
        const uint8_t *bytes = change_for(s, &who, row, m, pack, &len);

        if (!bytes)
            return false;
        dg_conn_send_change_event(s->conn, s->id, dg_server_feed_epoch(s->feed->srv),
                                  (uint64_t)row->seq, bytes, len);
        s->last_sent_ms = dg_mono_ms();
    } else if (sees_b && !sees_a && passes_filter(s, c, kind, owner_b)) {
        Dangan__V1__Hidden h = DANGAN__V1__HIDDEN__INIT;

        h.kind = (Dangan__V1__EntityKind)kind;
        h.id = c->entity_id;
        h.customer_id = c->customer_id;
        ev.body_case = DANGAN__V1__EVENT__BODY_HIDDEN;
        ev.hidden = &h;
        send_event(s, &ev, row->seq);
    }
    return true;
}

/* After deliver failed: the subscriber reloads rather than miss a change. */
static void end_unservable(dg_sub *s)
{
    end_with_resync(s, s->cursor, "event_unavailable");
}

/* Is the subscriber's session still good? A revoked or expired one ends its
 * subscriptions without a word (the next request says why). */
static bool session_ok(dg_sub *s)
{
    dg_session *sess = dg_conn_session(s->conn);
    int64_t idle = (int64_t)dg_server_config(s->feed->srv)->session_idle_s * 1000;

    return sess && !dg_session_invalid_reason(sess, dg_now_ms(), idle);
}

/* ------------------------------------------------------------ fetching */

static void fetch_start(dg_sub *s);
static void ring_fetch(dg_feed *f);
static void fanout_cb(uv_idle_t *h);
static void fanout_start(dg_feed *f);
static void ring_append(dg_feed *f, dg_arena *a, dg_change_row *rows, size_t n, dg_record **recs,
                        dg_record **customers, bool has_records);

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
                 b->n * sizeof *b->meta;

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
static void serve_from_ring(dg_sub *s)
{
    dg_feed *f = s->feed;
    bool is_ok = true;

    if (s->is_fetching || s->cursor >= f->ring_hi)
        return;
    if (s->cursor < f->ring_lo) {
        fetch_start(s);
        return;
    }
    if (s->with_records && !f->ring_tail->has_records) {
        fetch_start(s); /* the ring was read without records: read them itself */
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
            fetch_start(s);
            break;
        }
        if (s->with_records && !b->pack)
            b->pack = dg_arena_new(PACK_BUDGET);
        for (size_t i = lo; i < b->n && !output_full(s); i++) {
            if (!(is_ok = deliver(s, &b->rows[i], &b->meta[i], b->pack)))
                break;
            s->cursor = b->rows[i].seq;
        }
        if (b->pack)
            ring_charge(f, b); /* records packed on first need */
    }
    dg_conn_uncork(s->conn);
    if (!is_ok)
        end_unservable(s);
}

static void sub_fetch_done(struct fetch *x)
{
    dg_sub *s = x->sub;
    dg_arena *pack;
    bool is_ok = true;

    s->is_fetching = false;
    if (!s->conn || !dg_conn_is_open(s->conn) || !session_ok(s)) {
        sub_free(s);
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
        end_with_resync(s, x->after, "cursor_too_old");
        return;
    }
    pack = x->with_records ? dg_arena_new(PACK_BUDGET) : NULL;
    dg_conn_cork(s->conn);
    s->is_dirty = false;
    for (size_t i = 0; i < x->n && !output_full(s); i++) {
        struct row_meta m = meta_of(s->feed, &x->rows[i], x->arena);

        m.rec = x->recs ? x->recs[i] : NULL;
        m.customer = x->customers ? x->customers[i] : NULL;
        if (!(is_ok = deliver(s, &x->rows[i], &m, pack)))
            break;
        s->cursor = x->rows[i].seq;
    }
    dg_conn_uncork(s->conn);
    dg_arena_free(pack);
    if (!is_ok) {
        end_unservable(s);
        return;
    }
    if (s->is_dirty) /* full: the rest is read again once the client reads */
        return;
    if (x->n == x->limit) {
        fetch_start(s);
        return;
    }
    if (!s->is_live) {
        s->is_live = true;
        send_simple(s, DANGAN__V1__EVENT__BODY_CAUGHT_UP, s->cursor);
    }
    s->is_dirty = false;
    serve_from_ring(s); /* what committed while it read */
}

static void ring_drop_oldest(dg_feed *f)
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
    ring_append(f, x->arena, x->rows, x->n, x->recs, x->customers, x->with_records);
    fanout_start(f);
    if (f->ring_hi < f->head)
        ring_fetch(f); /* committed while it read */
}

/* Puts `n` change rows after the ring's end (they live in arena `a`, which
 * the ring now owns), with their records when read for subscribers
 * with_records, and drops the oldest batches past the ring's bounds. */
static void ring_append(dg_feed *f, dg_arena *a, dg_change_row *rows, size_t n, dg_record **recs,
                        dg_record **customers, bool has_records)
{
    struct ring_batch *b = dg_xcalloc(1, sizeof *b);

    b->arena = a;
    b->rows = rows;
    b->n = n;
    b->has_records = has_records;
    b->meta = dg_xcalloc(b->n, sizeof *b->meta);
    for (size_t i = 0; i < b->n; i++) {
        b->meta[i] = meta_of(f, &b->rows[i], b->arena);
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
        ring_drop_oldest(f);
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
        if (s->conn && s->is_live && session_ok(s))
            serve_from_ring(s);
    }
    now = dg_mono_us();
    f->fanout_busy_us += now - t0;
    if (f->fanout_next)
        return;
    uv_idle_stop(h);
    f->fanout_after_us = now + f->fanout_busy_us / FANOUT_PAUSE_DIVISOR;
    if (f->ring_hi > f->fanout_hi)
        fanout_start(f); /* the ring grew while it served */
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
    fanout_start(t->data);
}

/* Starts serving every live subscriber the ring's new changes, unless a
 * fan-out is under way (it starts another when it ends) or the last one's
 * pause lasts. */
static void fanout_start(dg_feed *f)
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
static void ring_fetch(dg_feed *f)
{
    if (f->is_ring_fetching || f->is_stopping)
        return;
    if (fetch_submit(f, NULL, f->ring_hi))
        f->is_ring_fetching = true;
}

/* Starts a subscription's own read after its cursor (a replay, or a cursor
 * older than the ring), unless one runs, its connection's output is full
 * (the tick resumes it) or the feed is stopping. */
static void fetch_start(dg_sub *s)
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

/* ------------------------------------------------------------ the feed */

static void tick_cb(uv_timer_t *t)
{
    dg_feed *f = t->data;
    int64_t now = dg_mono_ms();

#ifdef __GLIBC__
    /* glibc keeps freed memory for reuse. The ring's churn (batches of
     * records of tens of KB, in chunks of every size) would keep tens of MB
     * of it resident that no batch will reuse: give it back. */
    if (f->ring_freed >= TRIM_BYTES) {
        int64_t t0 = dg_mono_us();

        malloc_trim(0);
        dg_log_debug("feed", "msg=\"heap trimmed\" freed_bytes=%zu us=%lld", f->ring_freed,
                     (long long)(dg_mono_us() - t0));
        f->ring_freed = 0;
    }
#endif

    if (f->ring_hi < f->head)
        ring_fetch(f);
    for (dg_sub *s = f->subs, *next; s; s = next) {
        next = s->next;
        if (!s->conn || s->is_fetching)
            continue;
        if (!session_ok(s)) {
            sub_end(s);
        } else if (!s->is_live) { /* a replay that had to wait */
            if (s->is_dirty)
                fetch_start(s);
        } else if (s->cursor < f->ring_hi) { /* behind: the ring, or the table */
            serve_from_ring(s);
        } else if (now - s->last_sent_ms >= PROGRESS_MS) {
            send_simple(s, DANGAN__V1__EVENT__BODY_PROGRESS, s->cursor);
        }
    }
}

dg_feed *dg_feed_new(dg_server *srv, int64_t head)
{
    dg_feed *f = dg_xcalloc(1, sizeof *f);

    f->srv = srv;
    f->head = f->ring_lo = f->ring_hi = head;
    uv_timer_init(dg_server_loop(srv), &f->tick);
    f->tick.data = f;
    uv_timer_start(&f->tick, tick_cb, TICK_MS, TICK_MS);
    uv_timer_init(dg_server_loop(srv), &f->pace);
    f->pace.data = f;
    uv_idle_init(dg_server_loop(srv), &f->fanout);
    f->fanout.data = f;
    f->n_open_handles = 3;
    return f;
}

int64_t dg_feed_head(const dg_feed *f)
{
    return f->head;
}

void dg_feed_stop(dg_feed *f)
{
    if (!f)
        return;
    f->is_stopping = true;
    uv_timer_stop(&f->tick);
    uv_timer_stop(&f->pace);
    uv_idle_stop(&f->fanout);
    f->fanout_next = NULL;
}

static void handle_closed(uv_handle_t *h)
{
    dg_feed *f = h->data;

    if (--f->n_open_handles == 0)
        free(f);
}

void dg_feed_free(dg_feed *f)
{
    if (!f)
        return;
    while (f->subs) /* every fetch has completed by now */
        sub_free(f->subs);
    while (f->ring)
        ring_drop_oldest(f);
    uv_close((uv_handle_t *)&f->tick, handle_closed);
    uv_close((uv_handle_t *)&f->pace, handle_closed);
    uv_close((uv_handle_t *)&f->fanout, handle_closed); /* the last frees f */
}

void dg_feed_committed(dg_feed *f, dg_committed *c)
{
    if (c->head > f->head)
        f->head = c->head;
    /* The rows follow on the ring's end, and no read would bring records
     * some subscriber wants: they go straight in. Otherwise the ring reads
     * them, with the rest of what it lacks. */
    if (c->rows && c->after == f->ring_hi && !f->is_ring_fetching && !f->is_stopping &&
        f->n_record_subs == 0) {
        ring_append(f, c->arena, c->rows, c->n, NULL, NULL, false);
        c->arena = NULL;
        fanout_start(f);
    } else if (f->ring_hi < f->head) {
        ring_fetch(f);
    }
    dg_committed_free(c);
}

void dg_feed_conn_gone(dg_feed *f, dg_conn *c)
{
    for (dg_sub *s = f->subs, *next; s; s = next) {
        next = s->next;
        if (s->conn == c)
            sub_end(s);
    }
}

void dg_feed_conn_drained(dg_feed *f, dg_conn *c)
{
    if (f->is_stopping)
        return;
    for (dg_sub *s = f->subs, *next; s; s = next) {
        next = s->next; /* serving may end s, never another */
        if (s->conn != c || s->is_fetching || !s->is_dirty)
            continue;
        if (s->is_live)
            serve_from_ring(s);
        else
            fetch_start(s);
    }
}

/* ------------------------------------------------------------ requests */

size_t dg_feed_subs_of(const dg_feed *f, const dg_conn *c)
{
    size_t n = 0;

    for (const dg_sub *s = f->subs; s; s = s->next)
        n += s->conn == c;
    return n;
}

dg_sub *dg_feed_subscribe(dg_feed *f, dg_conn *c, const dg_feed_filter *flt)
{
    dg_sub *s = dg_xcalloc(1, sizeof *s);

    s->feed = f;
    s->conn = c;
    s->id = ++f->next_id;
    s->last_sent_ms = dg_mono_ms();
    s->with_records = flt->with_records;
    f->n_record_subs += s->with_records;
    s->is_mine = flt->is_mine;
    s->kinds = flt->kinds;
    if (flt->n_customer_ids) {
        s->customer_ids = dg_xcalloc(flt->n_customer_ids, sizeof *s->customer_ids);
        memcpy(s->customer_ids, flt->customer_ids, flt->n_customer_ids * sizeof *s->customer_ids);
        s->n_customer_ids = flt->n_customer_ids;
    }
    s->next = f->subs;
    if (f->subs)
        f->subs->prev = s;
    f->subs = s;
    return s;
}

uint64_t dg_feed_sub_id(const dg_sub *s)
{
    return s->id;
}

void dg_feed_start(dg_sub *s, const dg_feed_since *since)
{
    dg_feed *f = s->feed;

    if (since && since->epoch != dg_server_feed_epoch(f->srv)) {
        end_with_resync(s, since->seq, "epoch_changed");
    } else if (since && (since->seq < 0 || since->seq > f->head)) {
        end_with_resync(s, since->seq, "cursor_ahead");
    } else if (since) {
        s->cursor = since->seq;
        fetch_start(s);
    } else { /* from now: nothing to replay */
        s->cursor = f->head;
        s->is_live = true;
        send_simple(s, DANGAN__V1__EVENT__BODY_CAUGHT_UP, s->cursor);
    }
}

int dg_feed_unsubscribe(dg_feed *f, const dg_conn *c, uint64_t id)
{
    for (dg_sub *s = f->subs; s; s = s->next) {
        if (s->id == id && s->conn == c) {
            sub_end(s);
            return DG_OK;
        }
    }
    return DG_ENOTFOUND;
}
