/* feed_int.h - private to feed.c (subscriptions, delivery, the feed's
 * life) and feed_ring.c (reading changes, the ring of recent ones, the
 * fan-out): the structures they share and what each calls of the other.
 * Loop thread, except fetch jobs' run (a reader thread).
 */
#ifndef DG_FEED_INT_H
#define DG_FEED_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "feed.h"
#include "store.h"

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

/* A document's changes in the feed: EntityKind ENTITY_KIND_DOCUMENT, a
 * number past the record kinds (dg_kind), used only to name and filter
 * events; no record is ever read for it. */
#define FEED_KIND_DOCUMENT ((enum dg_kind)DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT)

/* How a ChangeEvent's values are shown to a subscriber (ChangedValue): bit
 * VAL_MASKED, sensitive values masked; bit VAL_NO_OLD, the values before
 * withheld (it could not see the record then). */
enum { VAL_MASKED = 1, VAL_NO_OLD = 2, VAL_VARIANTS = 4 };
/* The record a ChangeEvent carries: none, as read, or masked. */
enum { REC_NONE, REC_AS_IS, REC_MASKED, REC_MODES };

/* What every subscriber's check needs of a change row, worked out once. */
struct row_meta {
    enum dg_kind kind;
    const dg_reminder *reminder; /* a reminder: its payload, for its recipient alone */
    bool has_before, has_after; /* a view before / after the change */
    int64_t owner_before, tier_before, owner_after, tier_after;
    /* Which value bits make a different event: VAL_MASKED when a sensitive
     * value is kept, VAL_NO_OLD when values before are kept and the view
     * changed. Others share the event without the bit. */
    unsigned val_bits;
    /* The packed ChangeEvents by record mode and value bits, shared by every
     * subscriber that gets the same: without a record, packed with the row;
     * with_records, on first need (pack_with_record). */
    uint8_t *packed[REC_MODES][VAL_VARIANTS];
    size_t packed_len[REC_MODES][VAL_VARIANTS];
    /* with_records: the record and its customer as read (NULL: gone, or
     * not read). Who may see the record, and how masked, goes by the
     * customer as read, not as it was at the change: the record shows what
     * it is now. */
    dg_record *rec, *customer;
    bool is_rec_packed;
};

/* One read of new changes, kept while it is among the newest RING_ROWS. */
struct ring_batch {
    struct ring_batch *next, *prev; /* newer, older */
    dg_arena *arena;                /* the rows when read; their metas and packed changes */
    dg_committed *shared;           /* the rows when a commit handed them over: every loop's
                                     * feed reads them, none changes them; or NULL */
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

void feed_sub_free(dg_sub *s);
void feed_sub_end(dg_sub *s);
void feed_send_simple(dg_sub *s, Dangan__V1__Event__BodyCase body, int64_t seq);
void feed_end_with_resync(dg_sub *s, int64_t stale_seq, const char *reason);
struct row_meta feed_meta_of(dg_feed *f, const dg_change_row *row, dg_arena *a);
bool feed_deliver(dg_sub *s, const dg_change_row *row, struct row_meta *m, dg_arena *pack);
void feed_end_unservable(dg_sub *s);
bool feed_session_ok(dg_sub *s);
void feed_serve_from_ring(dg_sub *s);
void feed_ring_drop_oldest(dg_feed *f);
void feed_ring_append(dg_feed *f, dg_arena *a, dg_change_row *rows, size_t n, dg_record **recs,
                      dg_record **customers, bool has_records);
void feed_ring_append_shared(dg_feed *f, dg_committed *c);
void feed_fanout_start(dg_feed *f);
void feed_ring_fetch(dg_feed *f);
void feed_fetch_start(dg_sub *s);

#endif
