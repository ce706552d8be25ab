/* client.c - libdangan: one blocking TLS connection to dangand.
 *
 * Owns: a private libuv loop, a timer for deadlines, the stream (TLS +
 * frames, common/stream.c), the TLS configuration, replies received but not
 * yet waited for, and the Hello reply.
 * Invariants: the loop runs only inside a call (run_until); every reply
 * belongs either to the received list or to the caller who waited for it.
 * Threads: whichever single thread uses the client.
 */
#include "dangan.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "frame.h"
#include "hex.h"
#include "pb.h"
#include "stream.h"
#include "tls.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_REQUEST_MS 60000
#define PROTOCOL_MAJOR 1
#define PROTOCOL_MINOR 0
#define RECONNECT_EVERY_MS 1000

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
    struct sub *subs;
    int64_t next_retry_ms; /* monotonic: when poll may try to reconnect again */
};

/* The public codes are the internal ones under other names: every code a
 * call returns passes through unchanged. */
#define SAME_CODE(name) _Static_assert((int)DG_CLIENT_##name == (int)DG_##name, "DG_CLIENT_" #name)
SAME_CODE(OK);
SAME_CODE(EINVAL);
SAME_CODE(ENOMEM);
SAME_CODE(EAGAIN);
SAME_CODE(ETOOBIG);
SAME_CODE(EPROTO);
SAME_CODE(ECLOSED);
SAME_CODE(ENOTFOUND);
SAME_CODE(ECONFLICT);
SAME_CODE(EEXIST);
SAME_CODE(EDENIED);
SAME_CODE(EBUSY);
SAME_CODE(EIO);
SAME_CODE(EFULL);
SAME_CODE(ECORRUPT);
SAME_CODE(ETIMEDOUT);
SAME_CODE(ETLS);
SAME_CODE(ETRUST);
SAME_CODE(EAUTH);
SAME_CODE(ESTATE);
SAME_CODE(ENOTSUP);

const char *dg_client_strerror(int rc)
{
    return dg_strerror(rc);
}

const char *dg_client_version(void)
{
    return DANGAN_VERSION;
}

static void set_err(dg_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(dg_client *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

const char *dg_client_errmsg(const dg_client *c)
{
    return c ? c->err : "no client";
}

int dg_client_last_status(const dg_client *c, const char **reason, const char **message)
{
    if (reason)
        *reason = c->last_reason;
    if (message)
        *message = c->err;
    return c->last_code;
}

int dg_client_err_from_code(int code)
{
    switch (code) {
    case DANGAN__V1__CODE__OK:
        return DG_OK;
    case DANGAN__V1__CODE__INVALID_ARGUMENT:
    case DANGAN__V1__CODE__OUT_OF_RANGE:
        return DG_EINVAL;
    case DANGAN__V1__CODE__NOT_FOUND:
        return DG_ENOTFOUND;
    case DANGAN__V1__CODE__ALREADY_EXISTS:
        return DG_EEXIST;
    case DANGAN__V1__CODE__PERMISSION_DENIED:
        return DG_EDENIED;
    case DANGAN__V1__CODE__RESOURCE_EXHAUSTED:
        return DG_EFULL;
    case DANGAN__V1__CODE__FAILED_PRECONDITION:
        return DG_ESTATE;
    case DANGAN__V1__CODE__ABORTED:
        return DG_ECONFLICT;
    case DANGAN__V1__CODE__UNAVAILABLE:
        return DG_EBUSY;
    case DANGAN__V1__CODE__UNAUTHENTICATED:
        return DG_EAUTH;
    case DANGAN__V1__CODE__UNIMPLEMENTED:
        return DG_ENOTSUP;
    case DANGAN__V1__CODE__DEADLINE_EXCEEDED:
        return DG_ETIMEDOUT;
    case DANGAN__V1__CODE__DATA_LOSS:
        return DG_ECORRUPT;
    default:
        return DG_EIO;
    }
}

/* ------------------------------------------------------------ stream callbacks */

static void on_ready(dg_stream *s, void *ud)
{
    dg_client *c = ud;

    c->is_ready = true;
    c->has_peer_fp = dg_tls_peer_fingerprint(dg_stream_tls(s), c->peer_fp) == DG_OK;
}

/* A Subscribe answered: the subscription's server id is known from this
 * frame on, so events that follow in the same read already find it. */
static void note_subscribed(dg_client *c, const Dangan__V1__Response *resp)
{
    if (resp->body_case != DANGAN__V1__RESPONSE__BODY_SUBSCRIBE)
        return;
    for (struct sub *sb = c->subs; sb; sb = sb->next) {
        if (sb->subscribe_req_id != resp->id)
            continue;
        sb->subscribe_req_id = 0;
        sb->server_id = resp->subscribe->subscription_id;
        if (!sb->id) /* a new one: the caller knows it by the first server id */
            sb->id = sb->server_id;
        return;
    }
}

static int on_frame(dg_stream *s, const uint8_t *p, uint32_t len, void *ud)
{
    dg_client *c = ud;
    dg_arena *a = c->frame_arena; /* events reuse one arena; a reply takes it */
    Dangan__V1__Frame *f;
    char why[256];

    DG_UNUSED(s);
    c->frame_arena = NULL;
    if (a)
        dg_arena_reset(a, dg_pb_decode_budget(len));
    else
        a = dg_arena_new(dg_pb_decode_budget(len));
    if (dg_pb_unpack_frame(p, len, a, &f, why, sizeof why) != DG_OK) {
        dg_arena_free(a);
        set_err(c, "the server sent a bad frame: %s", why);
        c->stream_rc = DG_EPROTO;
        dg_stream_close(c->stream, false);
        return DG_OK;
    }
    if (f->kind_case == DANGAN__V1__FRAME__KIND_RESPONSE && f->response->id == 0) {
        /* No request of ours has id 0: the server says why it is closing
         * (login timeout, too many connections); kept for the error message. */
        const Dangan__V1__Status *st = f->response->status;

        if (st)
            snprintf(c->last_words, sizeof c->last_words, "%s (%s)", st->message, st->reason);
        dg_arena_free(a);
        return DG_OK;
    }
    if (f->kind_case == DANGAN__V1__FRAME__KIND_RESPONSE) {
        dg_reply *r = dg_xcalloc(1, sizeof *r);
        dg_reply **tail = &c->received;

        r->id = f->response->id;
        r->arena = a;
        r->resp = f->response;
        note_subscribed(c, f->response);
        while (*tail)
            tail = &(*tail)->next;
        *tail = r;
        return DG_OK;
    }
    if (f->kind_case == DANGAN__V1__FRAME__KIND_EVENT) {
        for (struct sub *sb = c->subs; sb; sb = sb->next) {
            if (sb->server_id != f->event->subscription_id)
                continue;
            f->event->subscription_id = sb->id; /* the id the caller knows */
            if (f->event->body_case == DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED) {
                sb->is_ended = true; /* no cursor: nothing to resume from */
                sb->has_cursor = false;
            } else if (f->event->cursor) {
                sb->epoch = f->event->cursor->epoch;
                sb->seq = f->event->cursor->seq;
                sb->has_cursor = true;
            }
            break;
        }
        if (c->on_event)
            c->on_event(c, f->event, c->user);
    }
    if (c->frame_arena) /* on_event made calls that decoded frames of their own */
        dg_arena_free(a);
    else
        c->frame_arena = a;
    return DG_OK;
}

static void on_error(dg_stream *s, int rc, void *ud)
{
    dg_client *c = ud;

    if (c->stream_rc == DG_OK) {
        c->stream_rc = rc == DG_ETOOBIG ? DG_EPROTO : rc;
        if (rc == DG_ECLOSED && c->last_words[0])
            set_err(c, "the server closed the connection: %s", c->last_words);
        else if (rc == DG_ECLOSED)
            set_err(c, "the server closed the connection");
        else
            set_err(c, "%s", dg_stream_errmsg(s));
    }
    dg_stream_close(s, false);
}

static void on_closed(dg_stream *s, void *ud)
{
    dg_client *c = ud;

    DG_UNUSED(s);
    c->stream = NULL;
    if (c->stream_rc == DG_OK) {
        c->stream_rc = DG_ECLOSED;
        if (c->last_words[0])
            set_err(c, "the server closed the connection: %s", c->last_words);
        else
            set_err(c, "the connection is closed");
    }
}

static const dg_stream_cbs client_cbs = {
    .on_ready = on_ready,
    .on_frame = on_frame,
    .on_error = on_error,
    .on_drain = NULL,
    .on_closed = on_closed,
};

/* ------------------------------------------------------------ running the loop */

static void timer_cb(uv_timer_t *t)
{
    dg_client *c = t->data;

    c->has_timed_out = true;
}

/* Runs the loop until done(c, arg) holds, the stream fails, or timeout_ms
 * passes (< 0: no timeout; 0: only what is ready). */
static int run_until(dg_client *c, bool (*done)(dg_client *c, void *arg), void *arg, int timeout_ms)
{
    c->has_timed_out = false;
    if (timeout_ms == 0 && c->stream) /* only what is ready now */
        uv_run(&c->loop, UV_RUN_NOWAIT);
    if (timeout_ms > 0)
        uv_timer_start(&c->timer, timer_cb, (uint64_t)timeout_ms, 0);
    while (!done(c, arg)) {
        if (c->stream_rc != DG_OK || !c->stream)
            break;
        if (c->has_timed_out || timeout_ms == 0)
            break;
        uv_run(&c->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&c->timer);
    if (done(c, arg))
        return DG_OK;
    if (c->stream_rc != DG_OK)
        return c->stream_rc;
    if (timeout_ms == 0)
        return DG_EAGAIN;
    set_err(c, "timed out after %d ms", timeout_ms);
    return DG_ETIMEDOUT;
}

static bool is_ready(dg_client *c, void *arg)
{
    DG_UNUSED(arg);
    return c->is_ready;
}

static bool has_reply(dg_client *c, void *arg)
{
    uint64_t id = *(uint64_t *)arg;

    for (dg_reply *r = c->received; r; r = r->next)
        if (r->id == id)
            return true;
    return false;
}

static bool never(dg_client *c, void *arg)
{
    DG_UNUSED(c);
    DG_UNUSED(arg);
    return false;
}

/* ------------------------------------------------------------ connecting */

static int split_host_port(const char *server, char *host, size_t host_len, char *port,
                           size_t port_len)
{
    const char *colon = strrchr(server, ':');
    size_t n;

    if (!colon || !colon[1])
        return DG_EINVAL;
    n = (size_t)(colon - server);
    if (server[0] == '[' && n >= 2 && server[n - 1] == ']') { /* [::1]:7443 */
        server++;
        n -= 2;
    }
    if (n == 0 || n >= host_len || strlen(colon + 1) >= port_len)
        return DG_EINVAL;
    memcpy(host, server, n);
    host[n] = '\0';
    snprintf(port, port_len, "%s", colon + 1);
    return DG_OK;
}

static dg_client *client_new(const dg_client_opts *o)
{
    dg_client *c = dg_xcalloc(1, sizeof *c);

    if (uv_loop_init(&c->loop) != 0) {
        free(c);
        return NULL;
    }
    uv_timer_init(&c->loop, &c->timer);
    c->timer.data = c;
    c->stream_rc = DG_OK;
    c->on_event = o ? o->on_event : NULL;
    c->user = o ? o->user : NULL;
    c->request_timeout_ms =
        o && o->request_timeout_ms > 0 ? o->request_timeout_ms : DEFAULT_REQUEST_MS;
    if (o) {
        snprintf(c->server, sizeof c->server, "%s", o->server ? o->server : "");
        snprintf(c->client_name, sizeof c->client_name, "%s", o->client_name ? o->client_name : "");
        c->connect_timeout_ms =
            o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
    }
    return c;
}

/* Closes a stream that failed during connect, keeping rc and the message. */
static void drop_stream(dg_client *c, int rc)
{
    if (c->stream_rc == DG_OK)
        c->stream_rc = rc; /* so on_closed does not overwrite the message */
    if (c->stream)
        dg_stream_close(c->stream, false);
    while (c->stream)
        uv_run(&c->loop, UV_RUN_ONCE);
}

/* TCP connect, TLS handshake and verification, to the first address that answers. */
static int connect_stream(dg_client *c, const char *server, int timeout_ms)
{
    char port[16], detail[512];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = DG_EIO, gai;

    if (split_host_port(server, c->host, sizeof c->host, port, sizeof port) != DG_OK) {
        set_err(c, "server must be HOST:PORT, got \"%s\"", server);
        return DG_EINVAL;
    }
    /* A blocking client may resolve names blocking. */
    if ((gai = getaddrinfo(c->host, port, &hints, &ai)) != 0) {
        set_err(c, "cannot resolve %s: %s", c->host, gai_strerror(gai));
        return DG_EIO;
    }
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        c->stream_rc = DG_OK;
        c->is_ready = false;
        c->last_words[0] = '\0';
        if ((rc = dg_stream_new(&c->loop, c->tls, c->host, &client_cbs, c, &c->stream)) != DG_OK) {
            set_err(c, "%s: cannot set up TLS", server);
            break;
        }
        dg_stream_set_frame_limit(c->stream, DG_FRAME_MAX_CEILING);
        if (dg_stream_connect(c->stream, a->ai_addr) != DG_OK) {
            rc = DG_EIO;
            set_err(c, "%s", dg_stream_errmsg(c->stream));
        } else {
            rc = run_until(c, is_ready, NULL, timeout_ms);
        }
        if (rc == DG_OK)
            break;
        if (rc == DG_ETIMEDOUT)
            set_err(c, "no answer within %d ms", timeout_ms);
        snprintf(detail, sizeof detail, "%s", c->err);
        drop_stream(c, rc);
        set_err(c, "%s: %s", server, detail);
        if (rc == DG_ETRUST || rc == DG_ETLS || rc == DG_EPROTO)
            break; /* the server answered and is the wrong one: don't try other addresses */
    }
    freeaddrinfo(ai);
    return rc;
}

static int say_hello(dg_client *c, const char *client_name)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    char name[64];
    int rc;

    snprintf(name, sizeof name, "libdangan/%s", DANGAN_VERSION);
    hello.protocol_major = PROTOCOL_MAJOR;
    hello.protocol_minor = PROTOCOL_MINOR;
    hello.client_name = (char *)(client_name ? client_name : name);
    req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    if ((rc = dg_client_call(c, &req, &c->hello)) != DG_OK)
        return rc;
    if (c->hello->resp->status->code != DANGAN__V1__CODE__OK ||
        c->hello->resp->body_case != DANGAN__V1__RESPONSE__BODY_HELLO) {
        const Dangan__V1__Status *st = c->hello->resp->status;

        set_err(c, "the server refused Hello: %s", st->message);
        return dg_client_err_from_code(st->code);
    }
    return DG_OK;
}

int dg_client_open(const dg_client_opts *o, dg_client **out)
{
    dg_tls_client_opts to = {0};
    uint8_t pin[DG_FINGERPRINT_LEN];
    dg_client *c;
    char err[256];
    int rc;

    *out = NULL;
    if (!o || !o->server)
        return DG_EINVAL;
    if (!(c = client_new(o)))
        return DG_ENOMEM;
    *out = c;
    if (o->fingerprint) {
        if (dg_fingerprint_parse(o->fingerprint, pin) != DG_OK) {
            set_err(c, "fingerprint must be 64 hex digits (colons allowed)");
            return DG_EINVAL;
        }
        to.pin_sha256 = pin;
    } else if (o->ca_file) {
        to.ca_path = o->ca_file;
    }
    if ((rc = dg_tls_conf_new_client(&to, &c->tls, err, sizeof err)) != DG_OK) {
        set_err(c, "%s", err);
        return rc;
    }
    rc = connect_stream(c, o->server,
                        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS);
    if (rc != DG_OK)
        return rc;
    if ((rc = say_hello(c, o->client_name)) != DG_OK)
        return rc;
    c->err[0] = '\0';
    return DG_OK;
}

static void subs_free(dg_client *c)
{
    while (c->subs) {
        struct sub *next = c->subs->next;

        free(c->subs->filter);
        free(c->subs);
        c->subs = next;
    }
}

int dg_client_probe_fingerprint(const char *server, int timeout_ms,
                                char out[DG_CLIENT_FINGERPRINT_TEXT_LEN], char *err, size_t err_len)
{
    dg_tls_client_opts to = {.is_probe = true};
    dg_client *c = client_new(NULL);
    int rc;

    if (!c)
        return DG_ENOMEM;
    rc = dg_tls_conf_new_client(&to, &c->tls, c->err, sizeof c->err);
    if (rc == DG_OK)
        rc = connect_stream(c, server, timeout_ms > 0 ? timeout_ms : DEFAULT_CONNECT_MS);
    if (rc == DG_OK && !c->has_peer_fp) {
        set_err(c, "the server sent no certificate");
        rc = DG_ETRUST;
    }
    if (rc == DG_OK)
        dg_fingerprint_format(c->peer_fp, out); /* nothing was sent to the server */
    else
        snprintf(err, err_len, "%s", c->err);
    dg_client_close(c);
    return rc;
}

void dg_client_close(dg_client *c)
{
    if (!c)
        return;
    if (c->stream) {
        dg_stream_close(c->stream, c->stream_rc == DG_OK);
        while (c->stream)
            uv_run(&c->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&c->timer, NULL);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&c->loop); /* every handle is closed by now */
    while (c->received) {
        dg_reply *next = c->received->next;

        dg_reply_free(c->received);
        c->received = next;
    }
    dg_reply_free(c->hello);
    dg_arena_free(c->frame_arena);
    subs_free(c);
    dg_wipe(c->token, sizeof c->token);
    dg_tls_conf_free(c->tls);
    dg_buf_fini(&c->scratch);
    free(c);
}

const Dangan__V1__HelloResponse *dg_client_hello(const dg_client *c)
{
    return c->hello ? c->hello->resp->hello : NULL;
}

/* ------------------------------------------------------------ requests */

int dg_client_send(dg_client *c, Dangan__V1__Request *req, uint64_t *id)
{
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    int rc;

    if (!c->stream || c->stream_rc != DG_OK) {
        if (c->stream_rc == DG_OK)
            set_err(c, "not connected");
        return DG_ECLOSED;
    }
    req->id = ++c->next_id;
    f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    f.request = req;
    dg_buf_reset(&c->scratch);
    if ((rc = dg_pb_pack_frame(&f, DG_FRAME_MAX_CEILING, &c->scratch)) != DG_OK) {
        set_err(c, "request too large");
        return rc;
    }
    rc = dg_stream_send(c->stream, dg_buf_head(&c->scratch), dg_buf_avail(&c->scratch));
    if (rc != DG_OK) {
        set_err(c, "cannot send: %s", dg_stream_errmsg(c->stream));
        return rc;
    }
    if (id)
        *id = req->id;
    return DG_OK;
}

/* Unlinks the received reply to `id` into *out. */
static int take_reply(dg_client *c, uint64_t id, dg_reply **out)
{
    for (dg_reply **pr = &c->received; *pr; pr = &(*pr)->next) {
        if ((*pr)->id == id) {
            *out = *pr;
            *pr = (*pr)->next;
            (*out)->next = NULL;
            return DG_OK;
        }
    }
    return DG_EPROTO; /* unreachable: has_reply said it was there */
}

int dg_client_wait(dg_client *c, uint64_t id, dg_reply **out)
{
    int rc = run_until(c, has_reply, &id, c->request_timeout_ms);

    *out = NULL;
    return rc == DG_OK ? take_reply(c, id, out) : rc;
}

int dg_client_take(dg_client *c, uint64_t id, dg_reply **out)
{
    int rc;

    *out = NULL;
    if (!has_reply(c, &id) && !c->stream)
        return c->stream_rc != DG_OK ? c->stream_rc : DG_ECLOSED;
    rc = run_until(c, has_reply, &id, 0);
    return rc == DG_OK ? take_reply(c, id, out) : rc;
}

int dg_client_call(dg_client *c, Dangan__V1__Request *req, dg_reply **out)
{
    uint64_t id;
    int rc = dg_client_send(c, req, &id);

    *out = NULL;
    return rc == DG_OK ? dg_client_wait(c, id, out) : rc;
}

const Dangan__V1__Response *dg_reply_response(const dg_reply *r)
{
    return r->resp;
}

void dg_reply_free(dg_reply *r)
{
    if (!r)
        return;
    dg_arena_free(r->arena);
    free(r);
}

int dg_client_poll(dg_client *c, int timeout_ms)
{
    int rc;

    /* A lost connection with subscriptions to keep comes back by itself,
     * at most once a second. */
    if (!c->stream && c->subs && c->token[0]) {
        if (dg_mono_ms() < c->next_retry_ms)
            return DG_ECLOSED;
        c->next_retry_ms = dg_mono_ms() + RECONNECT_EVERY_MS;
        if ((rc = dg_client_reconnect(c)) != DG_OK)
            return DG_ECLOSED;
    }
    rc = run_until(c, never, NULL, timeout_ms);
    return rc == DG_ETIMEDOUT || rc == DG_EAGAIN ? DG_OK : rc;
}

int dg_client_fd(dg_client *c)
{
    return uv_backend_fd(&c->loop); /* the loop's epoll set: readable when any of it is */
}

/* Waits for the reply to request `id` and turns a non-OK Status into its
 * dg_err, remembering code and reason (the reply is in *out whenever one came). */
static int wait_checked(dg_client *c, uint64_t id, dg_reply **out)
{
    const Dangan__V1__Status *st;
    int rc = dg_client_wait(c, id, out);

    c->last_code = rc == DG_OK ? 0 : -1;
    c->last_reason[0] = '\0';
    if (rc != DG_OK)
        return rc;
    st = (*out)->resp->status;
    if (!st) {
        set_err(c, "the server sent a response without a status");
        return DG_EPROTO;
    }
    c->last_code = st->code;
    snprintf(c->last_reason, sizeof c->last_reason, "%s", st->reason);
    if (st->code == DANGAN__V1__CODE__OK) {
        c->err[0] = '\0';
        return DG_OK;
    }
    set_err(c, "%s", st->message[0] ? st->message : st->reason);
    return dg_client_err_from_code(st->code);
}

/* Sends `req`, then wait_checked. */
static int call_checked(dg_client *c, Dangan__V1__Request *req, dg_reply **out)
{
    uint64_t id;
    int rc = dg_client_send(c, req, &id);

    *out = NULL;
    if (rc != DG_OK) {
        c->last_code = -1;
        c->last_reason[0] = '\0';
        return rc;
    }
    return wait_checked(c, id, out);
}

/* call_checked for requests whose reply body the caller does not need. */
static int call_simple(dg_client *c, Dangan__V1__Request *req)
{
    dg_reply *r;
    int rc = call_checked(c, req, &r);

    dg_reply_free(r);
    return rc;
}

static void copy_token(char *dst, const char *src)
{
    if (dst)
        snprintf(dst, DG_CLIENT_TOKEN_LEN + 1, "%s", src);
}

int dg_client_login(dg_client *c, const char *user, const char *password,
                    char token[DG_CLIENT_TOKEN_LEN + 1])
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;
    dg_reply *r;
    int rc;

    m.username = (char *)user;
    m.password = (char *)password;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &m;
    rc = call_checked(c, &req, &r);
    if (rc == DG_OK) {
        copy_token(token, r->resp->login->token);
        copy_token(c->token, r->resp->login->token);
    }
    dg_reply_free(r);
    return rc;
}

int dg_client_authenticate(dg_client *c, const char *token)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuthenticateRequest m = DANGAN__V1__AUTHENTICATE_REQUEST__INIT;

    int rc;

    m.token = (char *)token;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUTHENTICATE;
    req.authenticate = &m;
    if ((rc = call_simple(c, &req)) == DG_OK && token != c->token)
        copy_token(c->token, token);
    return rc;
}

int dg_client_logout(dg_client *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LogoutRequest m = DANGAN__V1__LOGOUT_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_LOGOUT;
    req.logout = &m;
    return call_simple(c, &req);
}

int dg_client_ping(dg_client *c, int64_t *rtt_us)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest m = DANGAN__V1__PING_REQUEST__INIT;
    int64_t t0 = dg_mono_us();
    int rc;

    m.client_time_ms = dg_now_ms();
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &m;
    rc = call_simple(c, &req);
    if (rtt_us)
        *rtt_us = dg_mono_us() - t0;
    return rc;
}

int dg_client_whoami(dg_client *c, dg_reply **out)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__WhoamiRequest m = DANGAN__V1__WHOAMI_REQUEST__INIT;
    int rc;

    req.body_case = DANGAN__V1__REQUEST__BODY_WHOAMI;
    req.whoami = &m;
    rc = call_checked(c, &req, out);
    if (rc != DG_OK) {
        dg_reply_free(*out);
        *out = NULL;
    }
    return rc;
}

int dg_client_change_password(dg_client *c, const char *current, const char *fresh,
                              char token[DG_CLIENT_TOKEN_LEN + 1])
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ChangePasswordRequest m = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;
    dg_reply *r;
    int rc;

    m.current_password = (char *)current;
    m.new_password = (char *)fresh;
    req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
    req.change_password = &m;
    rc = call_checked(c, &req, &r);
    if (rc == DG_OK) {
        copy_token(token, r->resp->change_password->token);
        copy_token(c->token, r->resp->change_password->token);
    }
    dg_reply_free(r);
    return rc;
}

/* ------------------------------------------------------------ subscriptions */

/* Sends Subscribe for `sb` (from its cursor, or from `since`, or from now)
 * and records the server's id for it. */
static int subscribe_one(dg_client *c, struct sub *sb, const Dangan__V1__Cursor *since)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Cursor at = DANGAN__V1__CURSOR__INIT;
    Dangan__V1__SubscribeFilter *filter = NULL;
    dg_reply *r = NULL;
    int rc;

    if (sb->filter &&
        !(filter = dangan__v1__subscribe_filter__unpack(NULL, sb->filter_len, sb->filter)))
        return DG_EPROTO;
    m.filter = filter;
    m.with_records = sb->with_records;
    if (sb->has_cursor) {
        at.epoch = sb->epoch;
        at.seq = sb->seq;
        m.since = &at;
    } else {
        m.since = (Dangan__V1__Cursor *)since;
    }
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    sb->is_ended = false;
    rc = dg_client_send(c, &req, &sb->subscribe_req_id);
    if (filter)
        dangan__v1__subscribe_filter__free_unpacked(filter, NULL);
    if (rc == DG_OK)
        rc = wait_checked(c, sb->subscribe_req_id, &r);
    sb->subscribe_req_id = 0; /* answered (note_subscribed took the id) or failed */
    if (rc != DG_OK) {
        dg_reply_free(r);
        return rc;
    }
    if (!sb->has_cursor && !since && r->resp->subscribe->head) { /* from now: the head */
        sb->epoch = r->resp->subscribe->head->epoch;
        sb->seq = r->resp->subscribe->head->seq;
        sb->has_cursor = true;
    }
    dg_reply_free(r);
    return DG_OK;
}

int dg_client_subscribe(dg_client *c, const Dangan__V1__SubscribeFilter *filter,
                        const Dangan__V1__Cursor *since, bool with_records, uint64_t *id)
{
    struct sub *sb = dg_xcalloc(1, sizeof *sb);
    int rc;

    sb->with_records = with_records;
    if (filter) {
        sb->filter_len = dangan__v1__subscribe_filter__get_packed_size(filter);
        sb->filter = dg_xmalloc(sb->filter_len ? sb->filter_len : 1);
        dangan__v1__subscribe_filter__pack(filter, sb->filter);
    }
    /* listed first: events right behind the answer must find it */
    sb->next = c->subs;
    c->subs = sb;
    if ((rc = subscribe_one(c, sb, since)) != DG_OK) {
        c->subs = sb->next;
        free(sb->filter);
        free(sb);
        return rc;
    }
    if (id)
        *id = sb->id;
    return DG_OK;
}

int dg_client_unsubscribe(dg_client *c, uint64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UnsubscribeRequest m = DANGAN__V1__UNSUBSCRIBE_REQUEST__INIT;

    for (struct sub **p = &c->subs; *p; p = &(*p)->next) {
        struct sub *sb = *p;

        if (sb->id != id)
            continue;
        bool is_ended = sb->is_ended;

        *p = sb->next;
        m.subscription_id = sb->server_id;
        free(sb->filter);
        free(sb);
        req.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
        req.unsubscribe = &m;
        return c->stream && !is_ended ? call_simple(c, &req) : DG_OK;
    }
    set_err(c, "no subscription %llu", (unsigned long long)id);
    return DG_ENOTFOUND;
}

int dg_client_reconnect(dg_client *c)
{
    int rc;

    if (c->stream) {
        dg_stream_close(c->stream, false);
        while (c->stream)
            uv_run(&c->loop, UV_RUN_ONCE);
    }
    while (c->received) { /* answers of the old connection */
        dg_reply *next = c->received->next;

        dg_reply_free(c->received);
        c->received = next;
    }
    dg_reply_free(c->hello);
    c->hello = NULL;
    if ((rc = connect_stream(c, c->server, c->connect_timeout_ms)) != DG_OK ||
        (rc = say_hello(c, c->client_name[0] ? c->client_name : NULL)) != DG_OK)
        return rc;
    if (c->token[0] && (rc = dg_client_authenticate(c, c->token)) != DG_OK)
        return rc;
    for (struct sub *sb = c->subs; sb; sb = sb->next)
        if (!sb->is_ended && (rc = subscribe_one(c, sb, NULL)) != DG_OK)
            return rc;
    c->err[0] = '\0';
    return DG_OK;
}
