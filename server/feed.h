/* feed.h - live change notifications (DESIGN §8): subscriptions and their
 * events.
 *
 * Every subscription pulls its events from the `changes` table, through a
 * read job on the reader pool, starting after its cursor: the replay after
 * a reconnect and the live stream are the same code, and nothing is held in
 * server memory but one batch per subscription at a time. A commit only
 * wakes the subscriptions up (dg_feed_kick). A subscription whose
 * connection has more than an output cap queued fetches nothing until the
 * client reads (slow consumers are demoted, not buffered). Each event is
 * checked against the subscriber's session and permissions when it is sent:
 * a record that leaves its view gives `Hidden`, a revoked session ends its
 * subscriptions.
 *
 * Owns: the subscriptions, the tick timer. Loop thread only.
 */
#ifndef DG_FEED_H
#define DG_FEED_H

#include <stdint.h>

#include "conn.h"

typedef struct dg_feed dg_feed;
struct dg_server;

/* A feed that starts at `head` (the newest committed change seq). */
dg_feed *dg_feed_new(struct dg_server *srv, int64_t head);
/* No new fetches from now on (shutdown); answers still complete. */
void dg_feed_stop(dg_feed *f);
/* Frees the feed and its subscriptions, after every job has completed. */
void dg_feed_free(dg_feed *f);
/* The newest committed change seq is now `head`: wake the subscriptions. */
void dg_feed_kick(dg_feed *f, int64_t head);
/* The connection is going away: its subscriptions end. */
void dg_feed_conn_gone(dg_feed *f, dg_conn *c);

/* Request handlers (dispatch.c). */
void dg_h_subscribe(dg_req *req);
void dg_h_unsubscribe(dg_req *req);

#endif
