/* conn.c - one client connection, from accept to the last close callback.
 *
 * Owns: the stream (TLS + frames), the reference on the bound session, the
 * scratch buffer replies are packed into, and the count of requests in flight.
 * Borrows: the server.
 * Invariants: freed only when the stream has closed (stream == NULL) and
 * n_inflight == 0; once is_closing is set nothing new is read or dispatched;
 * reading is paused while n_inflight >= max_in_flight.
 * Runs on: the loop thread.
 */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "dispatch.h"
#include "feed.h"
#include "frame.h"
#include "log.h"
#include "pb.h"
#include "status.h"
#include "stream.h"

/* Beyond max_connections a few more are accepted so they can be told
 * "server full" in a proper reply; beyond those, accepted and closed at once. */
#define OVERFLOW_SLOTS 64
#define REPLY_BUDGET (64u * 1024u * 1024u)
#define MAX_VIOLATIONS 32

struct dg_conn {
    dg_server *srv;
    dg_stream *stream; /* NULL once closed */
    uint64_t id;
    char peer[64];
    char peer_ip[48];
    dg_session *session;     /* referenced; NULL before login */
    const char *session_end; /* why the last session ended ("session_expired"), or NULL */
    bool has_hello;
    bool is_closing;
    bool is_over_capacity;
    bool is_paused; /* by us: too many requests in flight, or draining */
    unsigned n_inflight;
    int64_t accepted_ms;  /* monotonic */
    int64_t last_read_ms; /* monotonic */
    dg_buf out;           /* scratch for packing one reply */
    dg_buf cork;          /* events packed while corked, sent at once */
    bool is_corked;
    dg_conn *prev, *next;
};

static void conn_close(dg_conn *c, bool graceful)
{
    if (!c->stream || c->is_closing)
        return;
    c->is_closing = true;
    dg_stream_close(c->stream, graceful);
}

static void conn_free(dg_conn *c)
{
    dg_server *srv = c->srv;

    dg_assert(!c->stream && c->n_inflight == 0);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    if (srv->feed)
        dg_feed_conn_gone(srv->feed, c);
    dg_conn_unbind_session(c);
    dg_buf_fini(&c->out);
    dg_buf_fini(&c->cork);
    free(c);
}

static const char *user_of(const dg_conn *c)
{
    return c->session ? c->session->username : "-";
}

/* Packs and queues one response. A reply too big for a frame becomes an error. */
static void send_response(dg_conn *c, Dangan__V1__Response *resp)
{
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    uint32_t limit = c->srv->cfg.max_frame_after_login;

    if (!c->stream || c->is_closing)
        return;
    f.kind_case = DANGAN__V1__FRAME__KIND_RESPONSE;
    f.response = resp;
    dg_buf_reset(&c->out);
    if (dg_pb_pack_frame(&f, limit, &c->out) == DG_ETOOBIG) {
        Dangan__V1__Status st = DANGAN__V1__STATUS__INIT;

        st.code = DANGAN__V1__CODE__RESOURCE_EXHAUSTED;
        st.reason = "response_too_large";
        st.message = "the reply is larger than the frame limit; ask for less (a smaller page)";
        resp->status = &st;
        resp->body_case = DANGAN__V1__RESPONSE__BODY__NOT_SET;
        dg_buf_reset(&c->out);
        int rc = dg_pb_pack_frame(&f, limit, &c->out);
        dg_assert(rc == DG_OK);
    }
    if (dg_stream_send(c->stream, dg_buf_head(&c->out), dg_buf_avail(&c->out)) != DG_OK)
        conn_close(c, false);
    if (c->out.cap > 256 * 1024)
        dg_buf_fini(&c->out); /* don't keep a big scratch buffer per idle connection */
}

void dg_conn_cork(dg_conn *c)
{
    c->is_corked = true;
}

void dg_conn_uncork(dg_conn *c)
{
    c->is_corked = false;
    if (c->stream && !c->is_closing && dg_buf_avail(&c->cork) &&
        dg_stream_send(c->stream, dg_buf_head(&c->cork), dg_buf_avail(&c->cork)) != DG_OK)
        conn_close(c, false);
    dg_buf_reset(&c->cork);
    if (c->cork.cap > 256 * 1024)
        dg_buf_fini(&c->cork);
}

void dg_conn_send_event(dg_conn *c, Dangan__V1__Event *ev)
{
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;

    if (!c->stream || c->is_closing)
        return;
    f.kind_case = DANGAN__V1__FRAME__KIND_EVENT;
    f.event = ev;
    if (c->is_corked) { /* one TLS record and one write for the whole batch */
        (void)dg_pb_pack_frame(&f, c->srv->cfg.max_frame_after_login, &c->cork);
        return;
    }
    dg_buf_reset(&c->out);
    /* an event is a few hundred bytes: far below any frame limit */
    if (dg_pb_pack_frame(&f, c->srv->cfg.max_frame_after_login, &c->out) != DG_OK)
        return;
    if (dg_stream_send(c->stream, dg_buf_head(&c->out), dg_buf_avail(&c->out)) != DG_OK)
        conn_close(c, false);
}

void dg_conn_send_change_event(dg_conn *c, uint64_t sub_id, uint64_t epoch, uint64_t seq,
                               const uint8_t *change, size_t change_len)
{
    if (!c->stream || c->is_closing)
        return;
    if (c->is_corked) {
        dg_pb_frame_change_event(sub_id, epoch, seq, change, change_len, &c->cork);
        return;
    }
    dg_buf_reset(&c->out);
    dg_pb_frame_change_event(sub_id, epoch, seq, change, change_len, &c->out);
    if (dg_stream_send(c->stream, dg_buf_head(&c->out), dg_buf_avail(&c->out)) != DG_OK)
        conn_close(c, false);
}

size_t dg_conn_pending(const dg_conn *c)
{
    return c->stream && !c->is_closing ? dg_stream_pending(c->stream) : 0;
}

bool dg_conn_is_open(const dg_conn *c)
{
    return c->stream && !c->is_closing;
}

/* A reply that does not belong to a dispatched request (bad frame, frame too
 * big, login timeout), followed by a graceful close. */
/* Refuses request `id` as RESOURCE_EXHAUSTED without closing. */
static void reply_only(dg_conn *c, uint64_t id, const char *reason, const char *message)
{
    Dangan__V1__Response resp = DANGAN__V1__RESPONSE__INIT;
    Dangan__V1__Status st = DANGAN__V1__STATUS__INIT;

    st.code = DANGAN__V1__CODE__RESOURCE_EXHAUSTED;
    st.reason = (char *)reason;
    st.message = (char *)message;
    resp.id = id;
    resp.status = &st;
    send_response(c, &resp);
}

static void reply_and_close(dg_conn *c, uint64_t id, Dangan__V1__Code code, const char *reason,
                            const char *message)
{
    Dangan__V1__Response resp = DANGAN__V1__RESPONSE__INIT;
    Dangan__V1__Status st = DANGAN__V1__STATUS__INIT;

    st.code = code;
    st.reason = (char *)reason;
    st.message = (char *)message;
    resp.id = id;
    resp.status = &st;
    send_response(c, &resp);
    conn_close(c, true);
}

static void request_finished(dg_conn *c)
{
    dg_server *srv = c->srv;

    dg_assert(c->n_inflight > 0);
    c->n_inflight--;
    srv->n_requests--;
    if (!c->stream) {
        if (c->n_inflight == 0)
            conn_free(c);
        return;
    }
    if (c->is_paused && !c->is_closing && !srv->is_draining &&
        c->n_inflight < srv->cfg.max_in_flight) {
        c->is_paused = false;
        dg_stream_resume(c->stream);
    }
}

void dg_req_reply(dg_req *req)
{
    dg_conn *c = req->conn;
    int64_t took_us = dg_mono_us() - req->started_us;

    req->resp.id = req->id;
    req->resp.status = &req->status;
    if (req->status.code != DANGAN__V1__CODE__OK && !req->has_error_body)
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY__NOT_SET; /* no partial bodies */
    send_response(c, &req->resp);
    if (req->status.code == DANGAN__V1__CODE__INTERNAL)
        dg_log_warn(
            "conn", "conn=%llu peer=%s user=%s action=%s msg=\"internal error\" detail=\"%s\"",
            (unsigned long long)c->id, c->peer, user_of(c), req->action, req->status.message);
    dg_log_debug("conn", "conn=%llu peer=%s user=%s action=%s code=%d us=%lld",
                 (unsigned long long)c->id, c->peer, user_of(c), req->action, req->status.code,
                 (long long)took_us);
    if (req->is_close_after)
        conn_close(c, true);
    dg_arena_free(req->arena);
    free(req);
    request_finished(c);
}

void dg_req_fail(dg_req *req, int rc, const char *reason, const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    req->status.code = dg_status_from_err(rc);
    req->status.reason = dg_req_strdup(req, reason);
    req->status.message = dg_req_strdup(req, msg);
    dg_req_reply(req);
}

void dg_req_violation(dg_req *req, const char *field, const char *description)
{
    Dangan__V1__FieldViolation *v;

    if (!req->status.field_violations)
        req->status.field_violations = dg_req_alloc(req, MAX_VIOLATIONS * sizeof(void *));
    if (req->status.n_field_violations >= MAX_VIOLATIONS)
        return;
    v = dg_req_alloc(req, sizeof *v);
    dangan__v1__field_violation__init(v);
    v->field = dg_req_strdup(req, field);
    v->description = dg_req_strdup(req, description);
    req->status.field_violations[req->status.n_field_violations++] = v;
}

void dg_req_retry_after(dg_req *req, int64_t ms)
{
    req->status.retry_after_ms = ms <= 0 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void *dg_req_alloc(dg_req *req, size_t n)
{
    void *p = dg_arena_calloc(req->arena, 1, n);

    if (!p) {
        /* The reply budget is 64 MiB above decoding; only real OOM gets here. */
        dg_log_error("conn", "action=%s msg=\"out of memory building a reply\" bytes=%zu",
                     req->action, n);
        abort();
    }
    return p;
}

char *dg_req_strdup(dg_req *req, const char *s)
{
    size_t n = strlen(s);
    char *p = dg_req_alloc(req, n + 1);

    memcpy(p, s, n + 1);
    return p;
}

const char *dg_conn_peer(const dg_conn *c)
{
    return c->peer;
}

const char *dg_conn_peer_ip(const dg_conn *c)
{
    return c->peer_ip;
}

uint64_t dg_conn_id(const dg_conn *c)
{
    return c->id;
}

bool dg_conn_has_hello(const dg_conn *c)
{
    return c->has_hello;
}

void dg_conn_set_hello(dg_conn *c)
{
    c->has_hello = true;
}

bool dg_conn_is_over_capacity(const dg_conn *c)
{
    return c->is_over_capacity;
}

dg_session *dg_conn_session(dg_conn *c)
{
    return c->session;
}

void dg_conn_bind_session(dg_conn *c, dg_session *s)
{
    dg_session_ref(s); /* first: s may be the one being replaced */
    dg_conn_unbind_session(c);
    c->session = s;
    c->session_end = NULL;
    if (c->stream)
        dg_stream_set_frame_limit(c->stream, c->srv->cfg.max_frame_after_login);
}

void dg_conn_end_session(dg_conn *c, const char *reason)
{
    dg_conn_unbind_session(c);
    c->session_end = reason;
}

const char *dg_conn_session_end(const dg_conn *c)
{
    return c->session_end;
}

void dg_conn_unbind_session(dg_conn *c)
{
    if (!c->session)
        return;
    dg_session_unref(c->srv->sessions, c->session);
    c->session = NULL;
    if (c->stream)
        dg_stream_set_frame_limit(c->stream, DG_FRAME_MAX_BEFORE_LOGIN);
}

static int on_frame(dg_stream *s, const uint8_t *p, uint32_t len, void *ud)
{
    dg_conn *c = ud;
    dg_server *srv = c->srv;
    char why[256];
    Dangan__V1__Frame *f;
    dg_req *req;
    dg_arena *a;
    int rc;

    DG_UNUSED(s);
    c->last_read_ms = dg_mono_ms();
    if (c->is_closing)
        return DG_OK;
    a = dg_arena_new(dg_pb_decode_budget(len));
    rc = dg_pb_unpack_frame(p, len, a, &f, why, sizeof why);
    if (rc == DG_ENOMEM && dg_pb_peek_request_id(p, len)) {
        /* Well-formed but too costly to decode: the frame was read whole, so
         * the stream is in step and only this request is refused. */
        dg_log_warn("conn",
                    "conn=%llu peer=%s user=%s action=read_frame msg=\"request too large\" "
                    "len=%u why=\"%s\"",
                    (unsigned long long)c->id, c->peer, user_of(c), len, why);
        reply_only(c, dg_pb_peek_request_id(p, len), "request_too_large", why);
        dg_arena_free(a);
        return DG_OK;
    }
    if (rc != DG_OK) {
        dg_log_warn(
            "conn",
            "conn=%llu peer=%s user=%s action=read_frame msg=\"bad frame\" len=%u why=\"%s\"",
            (unsigned long long)c->id, c->peer, user_of(c), len, why);
        reply_and_close(c, dg_pb_peek_request_id(p, len),
                        rc == DG_ENOMEM ? DANGAN__V1__CODE__RESOURCE_EXHAUSTED
                                        : DANGAN__V1__CODE__INVALID_ARGUMENT,
                        "invalid_frame", why);
        dg_arena_free(a);
        return DG_OK;
    }
    if (f->kind_case != DANGAN__V1__FRAME__KIND_REQUEST) {
        dg_log_warn("conn", "conn=%llu peer=%s action=read_frame msg=\"frame is not a request\"",
                    (unsigned long long)c->id, c->peer);
        reply_and_close(c, 0, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_frame",
                        "clients may only send Request frames");
        dg_arena_free(a);
        return DG_OK;
    }
    /* Decoding is done: the rest of the budget is for building the reply. */
    dg_arena_set_budget(a, dg_arena_used(a) + REPLY_BUDGET);
    req = dg_xcalloc(1, sizeof *req);
    req->conn = c;
    req->srv = srv;
    req->arena = a;
    req->msg = f->request;
    req->id = f->request->id;
    req->action = "unknown";
    req->started_us = dg_mono_us();
    dangan__v1__response__init(&req->resp);
    dangan__v1__status__init(&req->status);
    c->n_inflight++;
    srv->n_requests++;
    dg_dispatch(req);
    if (c->n_inflight >= srv->cfg.max_in_flight || srv->is_draining) {
        c->is_paused = true;
        return DG_EAGAIN;
    }
    return DG_OK;
}

static void on_ready(dg_stream *s, void *ud)
{
    dg_conn *c = ud;

    dg_log_debug("conn", "conn=%llu peer=%s action=handshake msg=\"TLS established\" suite=%s",
                 (unsigned long long)c->id, c->peer, dg_tls_ciphersuite(dg_stream_tls(s)));
}

static void on_error(dg_stream *s, int rc, void *ud)
{
    dg_conn *c = ud;
    char msg[160];

    switch (rc) {
    case DG_ECLOSED:
        dg_log_debug("conn", "conn=%llu peer=%s user=%s msg=\"peer closed\"",
                     (unsigned long long)c->id, c->peer, user_of(c));
        conn_close(c, true);
        break;
    case DG_ETOOBIG:
        dg_log_warn("conn",
                    "conn=%llu peer=%s user=%s action=read_frame msg=\"frame over limit\" len=%u",
                    (unsigned long long)c->id, c->peer, user_of(c), dg_stream_rejected_len(s));
        snprintf(msg, sizeof msg, "%s; closing the connection", dg_stream_errmsg(s));
        reply_and_close(c, 0, DANGAN__V1__CODE__RESOURCE_EXHAUSTED, "frame_too_large", msg);
        break;
    default:
        dg_log_warn("conn", "conn=%llu peer=%s user=%s action=%s msg=\"%s\"",
                    (unsigned long long)c->id, c->peer, user_of(c),
                    dg_stream_is_ready(s) ? "io" : "handshake", dg_stream_errmsg(s));
        conn_close(c, false);
        break;
    }
}

static void on_closed(dg_stream *s, void *ud)
{
    dg_conn *c = ud;

    DG_UNUSED(s);
    dg_log_debug("conn", "conn=%llu peer=%s user=%s msg=\"closed\"", (unsigned long long)c->id,
                 c->peer, user_of(c));
    c->stream = NULL;
    if (c->n_inflight == 0)
        conn_free(c);
}

static const dg_stream_cbs conn_cbs = {
    .on_ready = on_ready,
    .on_frame = on_frame,
    .on_error = on_error,
    .on_drain = NULL,
    .on_closed = on_closed,
};

static void refused_closed_cb(uv_handle_t *h)
{
    free(h);
}

/* Over the hard cap: take the connection off the backlog and drop it. */
static void refuse_connection(dg_server *srv)
{
    uv_tcp_t *t = dg_xmalloc(sizeof *t);

    uv_tcp_init(&srv->loop, t);
    (void)uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)t); /* closing either way */
    uv_close((uv_handle_t *)t, refused_closed_cb);
    dg_log_warn("conn", "msg=\"connection refused: server full\" connections=%u",
                (unsigned)srv->n_conns);
}

static void split_peer_ip(dg_conn *c)
{
    const char *colon = strrchr(c->peer, ':');
    size_t n = colon ? (size_t)(colon - c->peer) : strlen(c->peer);

    if (n >= sizeof c->peer_ip)
        n = sizeof c->peer_ip - 1;
    memcpy(c->peer_ip, c->peer, n);
    c->peer_ip[n] = '\0';
}

void dg_conn_accept(dg_server *srv)
{
    dg_conn *c;
    int rc;

    if (srv->n_conns >= srv->max_connections + OVERFLOW_SLOTS) {
        refuse_connection(srv);
        return;
    }
    c = dg_xcalloc(1, sizeof *c);
    c->srv = srv;
    c->id = ++srv->next_conn_id;
    c->accepted_ms = c->last_read_ms = dg_mono_ms();
    rc = dg_stream_new(&srv->loop, srv->tls, NULL, &conn_cbs, c, &c->stream);
    if (rc != DG_OK) {
        free(c);
        refuse_connection(srv);
        return;
    }
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    c->is_over_capacity = srv->n_conns > srv->max_connections;
    dg_stream_set_write_marks(c->stream, srv->cfg.write_high_water, srv->cfg.write_low_water);
    if (uv_accept((uv_stream_t *)&srv->listener, dg_stream_handle(c->stream)) != 0 ||
        dg_stream_start(c->stream) != DG_OK) {
        conn_close(c, false);
        return;
    }
    snprintf(c->peer, sizeof c->peer, "%s", dg_stream_peer(c->stream));
    split_peer_ip(c);
    dg_log_debug("conn", "conn=%llu peer=%s msg=\"accepted\"", (unsigned long long)c->id, c->peer);
}

static void sweep_one(dg_conn *c, int64_t now_mono, int64_t now_ms)
{
    const dg_config *cfg = &c->srv->cfg;
    const char *why;

    if (!c->stream || c->is_closing)
        return;
    if (!dg_stream_is_ready(c->stream)) {
        if (now_mono - c->accepted_ms > cfg->handshake_timeout_ms) {
            dg_log_warn("conn", "conn=%llu peer=%s action=handshake msg=\"handshake timeout\"",
                        (unsigned long long)c->id, c->peer);
            conn_close(c, false);
        }
        return;
    }
    if (dg_stream_write_stall_ms(c->stream, now_mono) > cfg->write_stall_timeout_ms) {
        dg_log_warn("conn", "conn=%llu peer=%s user=%s msg=\"peer stopped reading; closing\"",
                    (unsigned long long)c->id, c->peer, user_of(c));
        conn_close(c, false);
        return;
    }
    if (c->session) {
        why = dg_session_invalid_reason(c->session, now_ms, (int64_t)cfg->session_idle_s * 1000);
        if (why)
            dg_conn_end_session(c, why); /* let go of it now; the next request learns why */
    }
    if (!c->session && now_mono - c->accepted_ms > cfg->prelogin_timeout_ms && c->n_inflight == 0) {
        dg_log_info("conn", "conn=%llu peer=%s msg=\"no login in time; closing\"",
                    (unsigned long long)c->id, c->peer);
        reply_and_close(c, 0, DANGAN__V1__CODE__UNAUTHENTICATED, "login_timeout",
                        "no successful login in time; connection closed");
        return;
    }
    if (c->n_inflight == 0 && now_mono - c->last_read_ms > cfg->idle_timeout_ms) {
        dg_log_info("conn", "conn=%llu peer=%s user=%s msg=\"idle; closing\"",
                    (unsigned long long)c->id, c->peer, user_of(c));
        conn_close(c, true);
    }
}

void dg_conn_sweep_all(dg_server *srv)
{
    int64_t now_mono = dg_mono_ms(), now_ms = dg_now_ms();

    for (dg_conn *c = srv->conns, *next; c; c = next) {
        next = c->next; /* sweep_one may close, never free: frees happen in callbacks */
        sweep_one(c, now_mono, now_ms);
    }
}

void dg_conn_pause_all(dg_server *srv)
{
    for (dg_conn *c = srv->conns; c; c = c->next) {
        if (c->stream && !c->is_closing && !c->is_paused) {
            c->is_paused = true;
            dg_stream_pause(c->stream);
        }
    }
}

void dg_conn_close_all(dg_server *srv)
{
    for (dg_conn *c = srv->conns; c; c = c->next)
        conn_close(c, true);
}
