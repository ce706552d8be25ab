/* feed.h - live change notifications (DESIGN §8): subscriptions and their
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

#include <stdint.h>

#include "conn.h"
#include "writer.h"

typedef struct dg_feed dg_feed;
struct dg_server;

/* A feed that starts at `head` (the newest committed change seq). */
dg_feed *dg_feed_new(struct dg_server *srv, int64_t head);
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

/* Request handlers (dispatch.c). */
void dg_h_subscribe(dg_req *req);
void dg_h_unsubscribe(dg_req *req);

#endif
