/* feed.h - live change notifications (docs/protocol.md): subscriptions and their
 * events.
 *
 * A subscription behind the newest changes (a replay after a reconnect, or
 * a slow reader) reads the `changes` table after its cursor, through a read
 * job on the reader pool, one batch at a time. A live one is served from
 * the ring: the recent changes, which the writer hands over with each
 * commit (dg_feed_committed) or, when it could not or some subscriber wants
 * records, one read brings for all. A subscription whose connection has
 * more than an output cap queued gets nothing until the client reads (slow
 * consumers are demoted, not buffered). Each event is checked against the
 * subscriber's session and permissions when it is sent: a record that
 * leaves its view gives `Hidden`, a revoked session ends its subscriptions.
 *
 * Owns: the subscriptions, the ring, its timers. Loop thread only.
 */
#ifndef DG_FEED_H
#define DG_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "writer.h"

typedef struct dg_feed dg_feed;

/* A feed that starts at `head` (the newest committed change seq). */
dg_feed *dg_feed_new(dg_server *srv, int64_t head);
/* The newest committed change seq. The feed is the one owner of the head:
 * the writer hands it every commit (dg_feed_committed), whatever the commit
 * changed (records, a merge, a reassignment). */
int64_t dg_feed_head(const dg_feed *f);
/* No new fetches from now on (shutdown); answers still complete. */
void dg_feed_stop(dg_feed *f);
/* Frees the feed and its subscriptions, after every job has completed. */
void dg_feed_free(dg_feed *f);
/* A commit's change rows (dg_writer_take_committed): the newest committed
 * change seq is now c->head. Takes and frees `c`. */
void dg_feed_committed(dg_feed *f, dg_committed *c);
/* The connection is going away: its subscriptions end. */
void dg_feed_conn_gone(dg_feed *f, dg_conn *c);
/* The connection's output drained (dg_conn_notify_drained): its
 * subscriptions that stopped because it was full go on. */
void dg_feed_conn_drained(dg_feed *f, dg_conn *c);

/* ---- subscriptions (their requests are h_feed.c's) */

#define DG_FEED_MAX_SUBS_PER_CONN 16
#define DG_FEED_MAX_FILTER_IDS 1000

typedef struct dg_sub dg_sub;

/* What a subscription wants: changes of these customers (none: every one it
 * may see), of these kinds (bit per dg_kind; 0: every kind), of customers it
 * owns only; with the record as it is now, masked for it. */
typedef struct dg_feed_filter {
    const int64_t *customer_ids; /* copied; at most DG_FEED_MAX_FILTER_IDS */
    size_t n_customer_ids;
    uint32_t kinds;
    bool is_mine;
    bool with_records;
} dg_feed_filter;

/* Where a subscription resumes: after seq, in the feed of epoch. */
typedef struct dg_feed_since {
    uint64_t epoch;
    int64_t seq;
} dg_feed_since;

/* How many subscriptions connection `c` holds. */
size_t dg_feed_subs_of(const dg_feed *f, const dg_conn *c);
/* A new subscription of `c`. It sends nothing until dg_feed_start, so its
 * answer can go out before its first event; it ends with the connection. */
dg_sub *dg_feed_subscribe(dg_feed *f, dg_conn *c, const dg_feed_filter *flt);
uint64_t dg_feed_sub_id(const dg_sub *s);
/* Starts it: replays the changes after `since` (NULL: from now on), then
 * goes live; a cursor it cannot resume from (another epoch, ahead of the
 * head, pruned) ends it with ResyncRequired. */
void dg_feed_start(dg_sub *s, const dg_feed_since *since);
/* Ends subscription `id` of connection `c`: DG_OK, or DG_ENOTFOUND. */
int dg_feed_unsubscribe(dg_feed *f, const dg_conn *c, uint64_t id);

#endif
