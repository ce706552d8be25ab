/* client_int.h - what the files of libdangan share (client.c: the
 * connection, its loop and requests; client_session.c: login and the other
 * session calls; client_subs.c: subscriptions and reconnecting). Not
 * installed; nothing here is exported from libdangan.so (libdangan.map).
 */
#ifndef DG_CLIENT_INT_H
#define DG_CLIENT_INT_H

#include <uv.h>

#include "alloc.h"
#include "buf.h"
#include "dangan.h"
#include "stream.h"
#include "tls.h"

struct dg_reply {
    dg_reply *next;
    uint64_t id;
    dg_arena *arena; /* owns resp */
    Dangan__V1__Response *resp;
};

/* A subscription made with dg_client_subscribe: resumed after a reconnect. */
struct sub {
    struct sub *next;
    uint64_t id;        /* the caller's id: the server's at the first subscribe */
    uint64_t server_id; /* the server's, for this connection */
    uint8_t *filter;    /* packed SubscribeFilter, or NULL */
    size_t filter_len;
    bool with_records;
    uint64_t epoch, seq; /* the last cursor received */
    bool has_cursor;
    bool is_ended;             /* the server ended it (ResyncRequired): not resumed */
    uint64_t subscribe_req_id; /* its Subscribe awaiting an answer, or 0 */
};

struct dg_client {
    uv_loop_t loop;
    uv_timer_t timer;
    dg_tls_conf *tls;
    dg_stream *stream; /* NULL once closed */
    bool is_ready;
    bool has_timed_out;
    int stream_rc; /* first transport failure, DG_OK while healthy */
    uint64_t next_id;
    dg_reply *received; /* responses not waited for yet */
    dg_reply *hello;
    dg_client_event_fn on_event;
    void *user;
    int request_timeout_ms;
    char host[256];
    uint8_t peer_fp[DG_FINGERPRINT_LEN];
    bool has_peer_fp;
    dg_buf scratch;
    dg_arena *frame_arena; /* kept between event frames; NULL while a reply has it */
    int last_code;
    char last_reason[64];
    char err[512];
    char last_words[320]; /* why the server closed: its unsolicited (id 0) error, or "" */
    /* for dg_client_reconnect */
    char server[256];
    char client_name[128];
    int connect_timeout_ms;
    char token[DG_CLIENT_TOKEN_LEN + 1]; /* the session, once logged in or authenticated */
    char team_zone[64]; /* SessionInfo.team_time_zone of the last session answer, or "" */
    struct sub *subs;
    int64_t next_retry_ms; /* monotonic: when poll may try to reconnect again */
};

/* Records the message dg_client_errmsg returns. */
void dgc_set_err(dg_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Connects the stream to `server` ("host:port") and completes the TLS
 * handshake with the pinned fingerprint, within timeout_ms. */
int dgc_connect_stream(dg_client *c, const char *server, int timeout_ms);
/* Hello; keeps the server's answer in c->hello. */
int dgc_say_hello(dg_client *c, const char *client_name);
/* Waits for the reply to request `id` and turns a non-OK Status into its
 * dg_err, remembering code and reason (the reply is in *out whenever one
 * came: the caller frees it). */
int dgc_wait_checked(dg_client *c, uint64_t id, dg_reply **out);
/* Sends `req`, then dgc_wait_checked. */
int dgc_call_checked(dg_client *c, Dangan__V1__Request *req, dg_reply **out);
/* dgc_call_checked for requests whose reply body the caller does not need. */
int dgc_call_simple(dg_client *c, Dangan__V1__Request *req);
/* Frees every subscription (client_subs.c). */
void dgc_subs_free(dg_client *c);

#endif
