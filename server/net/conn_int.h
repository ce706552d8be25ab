/* conn_int.h - private to conn.c (a connection's life, its requests and
 * replies) and conn_accept.c (taking connections: from the listener, or
 * handed over by loop 0): the structures they share and what each calls of
 * the other. The loop thread of the table.
 */
#ifndef DG_CONN_INT_H
#define DG_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "conn.h"
#include "server.h"
#include "stream.h"

/* Beyond max_connections a few more are accepted so they can be told
 * "server full" in a proper reply; beyond those, accepted and closed at once. */
#define OVERFLOW_SLOTS 64
#define MAX_VIOLATIONS 32

/* The table of open connections (one per loop). */
struct dg_conns {
    dg_server *srv;
    uv_stream_t *listener; /* NULL: connections are handed over (dg_conns_adopt) */
    dg_conn_hooks hooks;
    dg_conn *list;
    uint32_t n, max;       /* open on this loop; max_connections (capped by the open-file limit) */
    dg_conns_total *total; /* open on every loop, and the last id given: atomic */
    uint64_t n_requests;   /* in flight, all this loop's connections */
};

struct dg_conn {
    dg_conns *table;
    dg_server *srv;
    dg_stream *stream; /* NULL once closed */
    uint64_t id;
    char peer[64];
    char peer_ip[48];
    dg_session *session;     /* referenced; NULL before login */
    const char *session_end; /* why the last session ended ("session_expired"), or NULL */
    bool has_hello;
    bool is_checking_password; /* a Login or ChangePassword is being hashed */
    bool is_closing;
    bool is_over_capacity;
    bool is_unauth_counted; /* counted in the server's peers as not logged in */
    bool is_refused;        /* over its address's cap: told why after the handshake, closed */
    bool is_paused;         /* by us: too many requests in flight, or draining */
    unsigned n_inflight;
    int64_t accepted_ms;  /* monotonic */
    int64_t last_read_ms; /* monotonic */
    dg_buf out;           /* scratch for packing one reply */
    dg_buf cork;          /* events packed while corked, sent at once */
    bool is_corked;
    dg_conn *prev, *next;
};

/* conn.c */
extern const dg_stream_cbs conn_cbs;
void conn_close(dg_conn *c, bool graceful);

#endif
