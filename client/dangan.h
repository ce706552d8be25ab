/* dangan.h - libdangan, the C client library of dangan. This is its only
 * public header: it needs nothing from dangan's sources but itself and the
 * protobuf-c code generated from proto/dangan.proto (dangan.pb-c.h, installed
 * beside it). Build against the installed library with
 *
 *     cc app.c $(pkg-config --cflags --libs dangan)
 *
 * A dg_client is one TLS connection to dangand. It is opaque, holds no
 * global state, and belongs to one thread at a time. Calls are blocking;
 * requests can also be pipelined with dg_client_send / dg_client_wait.
 *
 *     dg_client_opts o = {.server = "127.0.0.1:7443", .fingerprint = "AB:CD:..."};
 *     dg_client *c;
 *     if (dg_client_open(&o, &c) != DG_CLIENT_OK) {
 *         fprintf(stderr, "%s\n", dg_client_errmsg(c));   // c may be NULL only on bad options
 *         dg_client_close(c);
 *     }
 *     char token[DG_CLIENT_TOKEN_LEN + 1];
 *     dg_client_login(c, "admin", password, token);
 *
 * Trust: the server is verified by a CA file (which may be the server's own
 * certificate) or by its pinned SHA-256 certificate fingerprint; a mismatch
 * refuses the connection, never falls back. dg_client_probe_fingerprint()
 * reads a server's fingerprint without trusting it, to ask a user first.
 *
 * Requests and responses are the generated protobuf-c types of
 * proto/dangan.proto (dangan.pb-c.h); docs/protocol.md describes them.
 * Return codes are the dg_client_err values below: DG_CLIENT_OK, a transport
 * error (DG_CLIENT_EIO, DG_CLIENT_ETLS, DG_CLIENT_ETRUST,
 * DG_CLIENT_ETIMEDOUT, DG_CLIENT_ECLOSED), or, for the convenience calls, the
 * error matching the server's Status (dg_client_err_from_code: DG_CLIENT_EAUTH
 * for UNAUTHENTICATED, DG_CLIENT_EDENIED, DG_CLIENT_ENOTFOUND...).
 * dg_client_errmsg() explains the last failure; dg_client_last_status()
 * gives the server's code and reason.
 */
#ifndef DANGAN_H
#define DANGAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dangan.pb-c.h"

/* What libdangan's calls return: 0 or one of these negative numbers (-15
 * and -22 are not used). The numbers are part of the ABI and never change. */
enum dg_client_err {
    DG_CLIENT_OK = 0,
    DG_CLIENT_EINVAL = -1,     /* bad argument; the server's INVALID_ARGUMENT, OUT_OF_RANGE */
    DG_CLIENT_ENOMEM = -2,     /* out of memory, or a reply over the decoding budget */
    DG_CLIENT_EAGAIN = -3,     /* dg_client_take: the reply has not arrived yet */
    DG_CLIENT_ETOOBIG = -4,    /* a request larger than a frame may be */
    DG_CLIENT_EPROTO = -5,     /* the server broke the protocol */
    DG_CLIENT_ECLOSED = -6,    /* the connection is closed */
    DG_CLIENT_ENOTFOUND = -7,  /* NOT_FOUND */
    DG_CLIENT_ECONFLICT = -8,  /* ABORTED: a version conflict */
    DG_CLIENT_EEXIST = -9,     /* ALREADY_EXISTS */
    DG_CLIENT_EDENIED = -10,   /* PERMISSION_DENIED */
    DG_CLIENT_EBUSY = -11,     /* UNAVAILABLE: try again later */
    DG_CLIENT_EIO = -12,       /* cannot resolve or connect; an unknown Status code */
    DG_CLIENT_EFULL = -13,     /* RESOURCE_EXHAUSTED */
    DG_CLIENT_ECORRUPT = -14,  /* DATA_LOSS */
    DG_CLIENT_ETIMEDOUT = -16, /* a deadline passed; DEADLINE_EXCEEDED */
    DG_CLIENT_ETLS = -17,      /* the TLS handshake or a TLS record failed */
    DG_CLIENT_ETRUST = -18,    /* the server's certificate is not the one trusted */
    DG_CLIENT_EAUTH = -19,     /* UNAUTHENTICATED: not logged in, bad credentials */
    DG_CLIENT_ESTATE = -20,    /* FAILED_PRECONDITION */
    DG_CLIENT_ENOTSUP = -21,   /* UNIMPLEMENTED */
};

/* Short English text for a dg_client_err ("not found"). Never NULL. */
const char *dg_client_strerror(int rc);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *dg_client_version(void);

#define DG_CLIENT_TOKEN_LEN 64
#define DG_CLIENT_FINGERPRINT_TEXT_LEN 96 /* "AB:CD:...:EF" with NUL */

typedef struct dg_client dg_client;

/* Called for each pushed Event during blocking calls and dg_client_poll;
 * the event is valid only during the call. */
typedef void (*dg_client_event_fn)(dg_client *c, const Dangan__V1__Event *ev, void *user);

typedef struct dg_client_opts {
    const char *server;      /* "host:port", "[v6]:port" */
    const char *ca_file;     /* PEM file to verify the server with, or NULL */
    const char *fingerprint; /* pinned SHA-256 of the server certificate, or NULL */
    int connect_timeout_ms;  /* 0: 10 s (covers TCP, TLS and Hello) */
    int request_timeout_ms;  /* 0: 60 s per blocking call */
    const char *client_name; /* sent in Hello; NULL: "libdangan/<version>" */
    dg_client_event_fn on_event;
    void *user;
} dg_client_opts;

/* Connects, verifies the server and exchanges Hello. On failure *out is
 * still set (unless the options are unusable or memory ran out) so the
 * caller can read dg_client_errmsg(); close it with dg_client_close either way. */
int dg_client_open(const dg_client_opts *opts, dg_client **out);
/* Closes the connection (TLS close_notify) and frees everything. Accepts NULL. */
void dg_client_close(dg_client *c);
/* Why the last call failed ("" after success). Never NULL for a non-NULL c. */
const char *dg_client_errmsg(const dg_client *c);

/* The server's Status from the last convenience call: code (gRPC number) and
 * stable reason ("bad_credentials"), "" when none. */
int dg_client_last_status(const dg_client *c, const char **reason, const char **message);

/* Reads the server's certificate fingerprint without trusting the server and
 * without sending it anything. `out` gets "AB:CD:...". */
int dg_client_probe_fingerprint(const char *server, int timeout_ms,
                                char out[DG_CLIENT_FINGERPRINT_TEXT_LEN], char *err,
                                size_t err_len);

/* The server's Hello reply; valid while the client is open. */
const Dangan__V1__HelloResponse *dg_client_hello(const dg_client *c);

/* ---- generic requests (pipelining) ---- */

typedef struct dg_reply dg_reply;

/* Queues a request; sets req->id (and *id) to a fresh id. At most 64 should
 * be in flight. DG_CLIENT_OK, DG_CLIENT_ECLOSED, DG_CLIENT_ETOOBIG. */
int dg_client_send(dg_client *c, Dangan__V1__Request *req, uint64_t *id);
/* Blocks until the response to `id` arrives (responses to other ids are kept
 * for their own waits). DG_CLIENT_OK (whatever the Status says),
 * DG_CLIENT_ETIMEDOUT, DG_CLIENT_ECLOSED, DG_CLIENT_EPROTO. Free *out with
 * dg_reply_free. */
int dg_client_wait(dg_client *c, uint64_t id, dg_reply **out);
/* dg_client_wait without blocking, for a caller driving many connections
 * from its own poll (see dg_client_fd): reads what has arrived and takes the
 * response to `id` if it is there. It also sends what dg_client_send queued
 * (requests go out when the connection runs), so call it once after sending.
 * DG_CLIENT_OK, DG_CLIENT_EAGAIN (not yet), DG_CLIENT_ECLOSED, DG_CLIENT_EPROTO. */
int dg_client_take(dg_client *c, uint64_t id, dg_reply **out);
/* send + wait. */
int dg_client_call(dg_client *c, Dangan__V1__Request *req, dg_reply **out);
/* The response inside a reply (owned by the reply). */
const Dangan__V1__Response *dg_reply_response(const dg_reply *r);
void dg_reply_free(dg_reply *r);
/* The dg_client_err for a Status code (DG_CLIENT_OK for OK). */
int dg_client_err_from_code(int code);

/* ---- session convenience calls ---- */

/* Logs in; `token` (may be NULL) gets the session token to keep. */
int dg_client_login(dg_client *c, const char *user, const char *password,
                    char token[DG_CLIENT_TOKEN_LEN + 1]);
/* Resumes a session with a token from an earlier login. */
int dg_client_authenticate(dg_client *c, const char *token);
/* The team's time zone ("Asia/Shanghai") as the last login, authenticate or
 * whoami answer gave it (SessionInfo.team_time_zone); "" before one, or
 * from a server that does not send it. */
const char *dg_client_team_zone(const dg_client *c);
int dg_client_logout(dg_client *c);
/* Round trip in microseconds. */
int dg_client_ping(dg_client *c, int64_t *rtt_us);
/* The caller's session; free *out with dg_reply_free (body: whoami). */
int dg_client_whoami(dg_client *c, dg_reply **out);
/* Changes the caller's password; every other session is revoked and `token`
 * gets this connection's new session token. */
int dg_client_change_password(dg_client *c, const char *current, const char *fresh,
                              char token[DG_CLIENT_TOKEN_LEN + 1]);

/* Runs the connection for up to timeout_ms (0: only what is ready now),
 * delivering events to on_event. DG_CLIENT_OK, or DG_CLIENT_ECLOSED when the connection
 * is gone. With subscriptions made by dg_client_subscribe and a session,
 * a lost connection is re-opened here (at most once a second) and every
 * subscription resumes after the last event it delivered: nothing missed,
 * nothing twice. */
int dg_client_poll(dg_client *c, int timeout_ms);

/* For callers with an event loop of their own (epoll, poll, a GUI): a file
 * descriptor that polls readable when the connection has input for
 * dg_client_poll(c, 0). It stays the same across reconnects and is closed by
 * dg_client_close; do not read it. Call dg_client_poll(c, 0) when it is
 * readable, and at least once a second for keepalive and reconnects. */
int dg_client_fd(dg_client *c);

/* ---- change feed ---- */

/* Subscribes (filter may be NULL: everything visible; since NULL: from
 * now) and keeps the subscription: its events reach on_event with *id as
 * subscription_id, across reconnects. with_records: each change event
 * carries the record as it is now, masked for this user. */
int dg_client_subscribe(dg_client *c, const Dangan__V1__SubscribeFilter *filter,
                        const Dangan__V1__Cursor *since, bool with_records, uint64_t *id);
/* Ends a subscription and forgets it. One the server ended with
 * ResyncRequired is not resumed after a reconnect; unsubscribing it only
 * forgets it here. */
int dg_client_unsubscribe(dg_client *c, uint64_t id);
/* Opens a new connection to the same server, authenticates with the
 * session of the last login, and resumes every subscription from its last
 * cursor. DG_CLIENT_OK or why not. */
int dg_client_reconnect(dg_client *c);

#endif
