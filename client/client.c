/* client.c - libdangan: one blocking TLS connection to dangand (the
 * connection, its loop, sending and receiving; session calls in
 * client_session.c, subscriptions in client_subs.c).
 *
 * Owns: a private libuv loop, a timer for deadlines, the stream (TLS +
 * frames, common/stream.c), the TLS configuration, replies received but not
 * yet waited for, and the Hello reply.
 * Invariants: the loop runs only inside a call (run_until); every reply
 * belongs either to the received list or to the caller who waited for it.
 * Threads: whichever single thread uses the client.
 */
#include "client_int.h"

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

void dgc_set_err(dg_client *c, const char *fmt, ...)
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
        dgc_set_err(c, "the server sent a bad frame: %s", why);
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
            dgc_set_err(c, "the server closed the connection: %s", c->last_words);
        else if (rc == DG_ECLOSED)
            dgc_set_err(c, "the server closed the connection");
        else
            dgc_set_err(c, "%s", dg_stream_errmsg(s));
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
            dgc_set_err(c, "the server closed the connection: %s", c->last_words);
        else
            dgc_set_err(c, "the connection is closed");
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
    dgc_set_err(c, "timed out after %d ms", timeout_ms);
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
int dgc_connect_stream(dg_client *c, const char *server, int timeout_ms)
{
    char port[16], detail[512];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = DG_EIO, gai;

    if (split_host_port(server, c->host, sizeof c->host, port, sizeof port) != DG_OK) {
        dgc_set_err(c, "server must be HOST:PORT, got \"%s\"", server);
        return DG_EINVAL;
    }
    /* A blocking client may resolve names blocking. */
    if ((gai = getaddrinfo(c->host, port, &hints, &ai)) != 0) {
        dgc_set_err(c, "cannot resolve %s: %s", c->host, gai_strerror(gai));
        return DG_EIO;
    }
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        c->stream_rc = DG_OK;
        c->is_ready = false;
        c->last_words[0] = '\0';
        if ((rc = dg_stream_new(&c->loop, c->tls, c->host, &client_cbs, c, &c->stream)) != DG_OK) {
            dgc_set_err(c, "%s: cannot set up TLS", server);
            break;
        }
        dg_stream_set_frame_limit(c->stream, DG_FRAME_MAX_CEILING);
        if (dg_stream_connect(c->stream, a->ai_addr) != DG_OK) {
            rc = DG_EIO;
            dgc_set_err(c, "%s", dg_stream_errmsg(c->stream));
        } else {
            rc = run_until(c, is_ready, NULL, timeout_ms);
        }
        if (rc == DG_OK)
            break;
        if (rc == DG_ETIMEDOUT)
            dgc_set_err(c, "no answer within %d ms", timeout_ms);
        snprintf(detail, sizeof detail, "%s", c->err);
        drop_stream(c, rc);
        dgc_set_err(c, "%s: %s", server, detail);
        if (rc == DG_ETRUST || rc == DG_ETLS || rc == DG_EPROTO)
            break; /* the server answered and is the wrong one: don't try other addresses */
    }
    freeaddrinfo(ai);
    return rc;
}

int dgc_say_hello(dg_client *c, const char *client_name)
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

        dgc_set_err(c, "the server refused Hello: %s", st->message);
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
            dgc_set_err(c, "fingerprint must be 64 hex digits (colons allowed)");
            return DG_EINVAL;
        }
        to.pin_sha256 = pin;
    } else if (o->ca_file) {
        to.ca_path = o->ca_file;
    }
    if ((rc = dg_tls_conf_new_client(&to, &c->tls, err, sizeof err)) != DG_OK) {
        dgc_set_err(c, "%s", err);
        return rc;
    }
    rc = dgc_connect_stream(c, o->server,
                            o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS);
    if (rc != DG_OK)
        return rc;
    if ((rc = dgc_say_hello(c, o->client_name)) != DG_OK)
        return rc;
    c->err[0] = '\0';
    return DG_OK;
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
        rc = dgc_connect_stream(c, server, timeout_ms > 0 ? timeout_ms : DEFAULT_CONNECT_MS);
    if (rc == DG_OK && !c->has_peer_fp) {
        dgc_set_err(c, "the server sent no certificate");
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
    dgc_subs_free(c);
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
            dgc_set_err(c, "not connected");
        return DG_ECLOSED;
    }
    req->id = ++c->next_id;
    f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    f.request = req;
    dg_buf_reset(&c->scratch);
    if ((rc = dg_pb_pack_frame(&f, DG_FRAME_MAX_CEILING, &c->scratch)) != DG_OK) {
        dgc_set_err(c, "request too large");
        return rc;
    }
    rc = dg_stream_send(c->stream, dg_buf_head(&c->scratch), dg_buf_avail(&c->scratch));
    if (rc != DG_OK) {
        dgc_set_err(c, "cannot send: %s", dg_stream_errmsg(c->stream));
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

int dgc_wait_checked(dg_client *c, uint64_t id, dg_reply **out)
{
    const Dangan__V1__Status *st;
    int rc = dg_client_wait(c, id, out);

    c->last_code = rc == DG_OK ? 0 : -1;
    c->last_reason[0] = '\0';
    if (rc != DG_OK)
        return rc;
    st = (*out)->resp->status;
    if (!st) {
        dgc_set_err(c, "the server sent a response without a status");
        return DG_EPROTO;
    }
    c->last_code = st->code;
    snprintf(c->last_reason, sizeof c->last_reason, "%s", st->reason);
    if (st->code == DANGAN__V1__CODE__OK) {
        c->err[0] = '\0';
        return DG_OK;
    }
    dgc_set_err(c, "%s", st->message[0] ? st->message : st->reason);
    return dg_client_err_from_code(st->code);
}

int dgc_call_checked(dg_client *c, Dangan__V1__Request *req, dg_reply **out)
{
    uint64_t id;
    int rc = dg_client_send(c, req, &id);

    *out = NULL;
    if (rc != DG_OK) {
        c->last_code = -1;
        c->last_reason[0] = '\0';
        return rc;
    }
    return dgc_wait_checked(c, id, out);
}

int dgc_call_simple(dg_client *c, Dangan__V1__Request *req)
{
    dg_reply *r;
    int rc = dgc_call_checked(c, req, &r);

    dg_reply_free(r);
    return rc;
}
