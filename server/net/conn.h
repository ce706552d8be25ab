/* conn.h - client connections: bytes in, requests out; replies and events
 * in, bytes out. The lowest layer of the server: it knows nothing of what
 * requests mean, of handlers or of the change feed. Who does hands it hooks
 * (dg_conn_hooks): each decoded request goes to on_request, which answers it
 * exactly once (dg_req_reply, dg_req_fail); on_gone tells that a connection is
 * going away, on_drained that its queued output fell to a mark asked for.
 *
 * A connection owns its stream and holds a reference on its session. It is
 * freed only when both its stream has closed and no request of it is in
 * flight, so a dg_req may always touch req->conn. Replies to a connection
 * that is gone are dropped. The thread of the loop that took it only.
 */
#ifndef DG_CONN_H
#define DG_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "alloc.h"
#include "dangan.pb-c.h"
#include "session.h"

typedef struct dg_server dg_server; /* server.h: borrowed, opaque here */
typedef struct dg_conn dg_conn;
typedef struct dg_conns dg_conns;

typedef struct dg_req {
    dg_conn *conn;
    dg_server *srv;
    uint64_t id;
    const char *action; /* route name for logs and audit, e.g. "session.login" */
    dg_arena *arena;    /* owns msg, and everything the response points to */
    Dangan__V1__Request *msg;
    Dangan__V1__Response resp;
    Dangan__V1__Status status;
    int64_t started_us;
    bool is_close_after; /* close the connection once the reply is queued */
    bool has_error_body; /* keep resp's body although the status is not OK (conflicts,
                          * likely duplicates, the failed op of a batch) */
    bool is_over_budget; /* the reply outgrew [limits] request_memory_mib: it will be
                          * RESOURCE_EXHAUSTED, whatever is built */
} dg_req;

typedef struct dg_conn_hooks {
    /* A decoded, not yet validated request (req->msg); the callee answers it
     * exactly once. The connection may pause reading until it is. */
    void (*on_request)(dg_req *req, void *ud);
    /* The connection is about to be freed: let go of every pointer to it. May be NULL. */
    void (*on_gone)(dg_conn *c, void *ud);
    /* Its queued output fell to the mark of dg_conn_notify_drained. May be NULL. */
    void (*on_drained)(dg_conn *c, void *ud);
    void *ud;
} dg_conn_hooks;

/* The connections of one of the server's loops: they accept from `listener`
 * (borrowed; NULL for a loop that is handed its connections), at most
 * `max_connections` of them on all loops together (a few more are told
 * "server full"), and call `hooks` (copied). Free with dg_conns_free once
 * every connection is gone (dg_conns_count is 0). */
dg_conns *dg_conns_new(dg_server *srv, uv_stream_t *listener, uint32_t max_connections,
                       const dg_conn_hooks *hooks);
void dg_conns_free(dg_conns *cs);
/* Accepts a pending connection from the listener. */
void dg_conns_accept(dg_conns *cs);
/* A connection loop 0 accepted for another loop: the socket (a descriptor
 * of its own) and what it was counted as, in accept order (against
 * max_connections, and as not logged in for its address). */
typedef struct dg_conn_ticket {
    int fd;
    uint32_t n_all; /* connections on all loops, this one included */
    int verdict;    /* dg_peers_add_unauth's (peers.h) */
    char peer_ip[48];
} dg_conn_ticket;
/* Loop 0: takes the pending connection off the listener for another loop;
 * false when there is none to hand over (refused: over the hard cap). */
bool dg_conns_hand_over(dg_conns *cs, dg_conn_ticket *t);
/* The other loop: makes the connection of a ticket (owns its fd from now on). */
void dg_conns_adopt(dg_conns *cs, const dg_conn_ticket *t);
/* A ticket no loop will take (it is shutting down): closed, uncounted. */
void dg_conns_drop_ticket(dg_conns *cs, const dg_conn_ticket *t);
/* Timeouts and expiry for every connection (the 1 s sweep). */
void dg_conns_sweep(dg_conns *cs);
/* Shutdown: stop reading requests on every connection. */
void dg_conns_pause_all(dg_conns *cs);
/* Shutdown: close every connection gracefully. */
void dg_conns_close_all(dg_conns *cs);
/* Open connections of this loop; requests in flight on all of them. */
uint32_t dg_conns_count(const dg_conns *cs);
uint64_t dg_conns_requests(const dg_conns *cs);

/* Sends req->resp with req->status (OK unless set) and frees the request and
 * its arena. Exactly once per request. */
void dg_req_reply(dg_req *req);
/* Sets the status (code from `rc` via dg_status_from_err), then replies. */
void dg_req_fail(dg_req *req, int rc, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a field violation to the status; call before dg_req_fail. */
void dg_req_violation(dg_req *req, const char *field, const char *description);
void dg_req_retry_after(dg_req *req, int64_t ms);
/* Reply memory, zeroed; never NULL. Once the request's budget ([limits]
 * request_memory_mib, which its read jobs share) is spent, it marks the
 * request over budget and overdraws by exactly what is asked: the reply then
 * goes out as RESOURCE_EXHAUSTED `reply_too_large` instead of its body.
 * Handlers that convert many records stop early at dg_req_is_over_budget.
 * Only real OOM aborts. */
void *dg_req_alloc(dg_req *req, size_t n);
bool dg_req_is_over_budget(const dg_req *req);
/* Strings in reply memory, the same way: never NULL. */
char *dg_req_strdup(dg_req *req, const char *s);
char *dg_req_strndup(dg_req *req, const char *s, size_t n);
char *dg_req_printf(dg_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Between cork and uncork, events are packed into one buffer and sent
 * together (one TLS record, one write) at uncork. */
void dg_conn_cork(dg_conn *c);
void dg_conn_uncork(dg_conn *c);
/* Queues one pushed event (a Frame with an Event). */
void dg_conn_send_event(dg_conn *c, Dangan__V1__Event *ev);
/* Queues a change event whose ChangeEvent is already packed (once, for
 * every subscriber it goes to). */
void dg_conn_send_change_event(dg_conn *c, uint64_t sub_id, uint64_t epoch, uint64_t seq,
                               const uint8_t *change, size_t change_len);
/* Bytes queued for the peer and not yet written to the socket, events
 * packed while corked included. A response that would take this past
 * write_high_water + max_frame_after_login is answered RESOURCE_EXHAUSTED
 * `reply_queue_full` instead (a client that pipelines and does not read). */
size_t dg_conn_pending(const dg_conn *c);
/* Calls the on_drained hook once this connection's queued output has fallen
 * to `bytes` or below. */
void dg_conn_notify_drained(dg_conn *c, size_t bytes);
/* False once the connection is closing. */
bool dg_conn_is_open(const dg_conn *c);
const char *dg_conn_peer(const dg_conn *c);    /* "ip:port" */
const char *dg_conn_peer_ip(const dg_conn *c); /* "ip" */
uint64_t dg_conn_id(const dg_conn *c);
bool dg_conn_has_hello(const dg_conn *c);
void dg_conn_set_hello(dg_conn *c);
bool dg_conn_is_over_capacity(const dg_conn *c);
/* At most one password check (Login, ChangePassword) runs per connection, so
 * pipelined guesses cannot pass the throttle together: true while one runs. */
bool dg_conn_is_checking_password(const dg_conn *c);
void dg_conn_set_checking_password(dg_conn *c, bool is_checking);
/* The session bound to this connection, or NULL. */
dg_session *dg_conn_session(dg_conn *c);
/* Binds `s` (takes a reference, lifts the frame limit to the post-login one),
 * replacing any previous session. */
void dg_conn_bind_session(dg_conn *c, dg_session *s);
/* Drops the binding (frame limit back to the pre-login one). */
void dg_conn_unbind_session(dg_conn *c);
/* Drops a session that can no longer be used, remembering why (a static
 * reason string such as "session_expired") for the next request's answer. */
void dg_conn_end_session(dg_conn *c, const char *reason);
/* Why the connection's last session ended, or NULL (logged out / never logged in). */
const char *dg_conn_session_end(const dg_conn *c);

#endif
