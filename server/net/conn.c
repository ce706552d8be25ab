/* conn.c - one client connection, from accept to the last close callback.
 *
 * Owns: the stream (TLS + frames), the reference on the bound session, the
 * scratch buffer replies are packed into, and the count of requests in flight.
 * Borrows: the server.
 * Invariants: freed only when the stream has closed (stream == NULL) and
 * n_inflight == 0; once is_closing is set nothing new is read or dispatched;
 * reading is paused while n_inflight >= max_in_flight; from accept to free, a
 * connection without a session is counted in the server's peers (is_unauth_counted),
 * which caps such connections per address (peers.h).
 * Runs on: the loop thread of its table (each loop has its own table; the
 * count against max_connections and the ids are shared, atomically).
 */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn_int.h"
#include "dg.h"
#include "frame.h"
#include "log.h"
#include "pb.h"
#include "peers.h"
#include "server.h"
#include "status.h"
#include "stream.h"

void conn_close(dg_conn *c, bool graceful)
{
    if (!c->stream || c->is_closing)
        return;
    c->is_closing = true;
    dg_stream_close(c->stream, graceful);
}

static void conn_free(dg_conn *c)
{
    dg_conns *cs = c->table;

    dg_assert(!c->stream && c->n_inflight == 0);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cs->n--;
    __atomic_sub_fetch(&cs->total->n, 1, __ATOMIC_RELAXED);
    if (cs->hooks.on_gone)
        cs->hooks.on_gone(c, cs->hooks.ud);
    dg_conn_unbind_session(c);
    if (c->is_unauth_counted)
        dg_peers_remove_unauth(dg_server_peers(c->srv), c->peer_ip);
    dg_buf_fini(&c->out);
    dg_buf_fini(&c->cork);
    free(c);
}

static const char *user_of(const dg_conn *c)
{
    return c->session ? c->session->username : "-";
}

/* Replaces what `f`'s response says with a bodiless RESOURCE_EXHAUSTED and
 * packs that into c->out instead (a few hundred bytes: always fits). */
static void pack_exhausted(dg_conn *c, Dangan__V1__Frame *f, Dangan__V1__Status *st,
                           const char *reason, const char *message)
{
    int rc;

    st->code = DANGAN__V1__CODE__RESOURCE_EXHAUSTED;
    st->reason = (char *)reason;
    st->message = (char *)message;
    f->response->status = st;
    f->response->body_case = DANGAN__V1__RESPONSE__BODY__NOT_SET;
    dg_buf_reset(&c->out);
    rc = dg_pb_pack_frame(f, dg_server_config(c->srv)->max_frame_after_login, &c->out);
    dg_assert(rc == DG_OK);
}

/* Packs and queues one response. A reply too big for a frame, or one the
 * connection's queue has no room for, becomes an error of that request. */
static void send_response(dg_conn *c, Dangan__V1__Response *resp)
{
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    Dangan__V1__Status st = DANGAN__V1__STATUS__INIT;
    const dg_config *cfg = dg_server_config(c->srv);
    size_t cap = (size_t)cfg->write_high_water + cfg->max_frame_after_login;

    if (!c->stream || c->is_closing)
        return;
    f.kind_case = DANGAN__V1__FRAME__KIND_RESPONSE;
    f.response = resp;
    dg_buf_reset(&c->out);
    if (dg_pb_pack_frame(&f, cfg->max_frame_after_login, &c->out) == DG_ETOOBIG) {
        pack_exhausted(c, &f, &st, "response_too_large",
                       "the reply is larger than the frame limit; ask for less (a smaller page)");
    } else if (dg_conn_pending(c) + dg_buf_avail(&c->out) > cap) {
        /* Reading stopped at write_high_water, but the requests already in
         * flight still answer: bound what they may queue. */
        dg_log_warn("conn",
                    "conn=%llu peer=%s user=%s msg=\"reply dropped: the client is not reading\" "
                    "pending=%zu len=%zu",
                    (unsigned long long)c->id, c->peer, user_of(c), dg_conn_pending(c),
                    dg_buf_avail(&c->out));
        pack_exhausted(c, &f, &st, "reply_queue_full",
                       "too many replies are waiting for you to read them; read, then retry");
    }
    if (dg_stream_send(c->stream, dg_buf_head(&c->out), dg_buf_avail(&c->out)) != DG_OK)
        conn_close(c, false);
    if (c->out.cap > 256 * 1024)
        dg_buf_fini(&c->out); /* don't keep a big scratch buffer per idle connection */
}

void dg_conn_cork(dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    c->is_corked = true;
}

void dg_conn_uncork(dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
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

    DG_ASSERT_LOOP_THREAD();
    if (!c->stream || c->is_closing)
        return;
    f.kind_case = DANGAN__V1__FRAME__KIND_EVENT;
    f.event = ev;
    if (c->is_corked) { /* one TLS record and one write for the whole batch */
        (void)dg_pb_pack_frame(&f, dg_server_config(c->srv)->max_frame_after_login, &c->cork);
        return;
    }
    dg_buf_reset(&c->out);
    /* an event is a few hundred bytes: far below any frame limit */
    if (dg_pb_pack_frame(&f, dg_server_config(c->srv)->max_frame_after_login, &c->out) != DG_OK)
        return;
    if (dg_stream_send(c->stream, dg_buf_head(&c->out), dg_buf_avail(&c->out)) != DG_OK)
        conn_close(c, false);
}

void dg_conn_send_change_event(dg_conn *c, uint64_t sub_id, uint64_t epoch, uint64_t seq,
                               const uint8_t *change, size_t change_len)
{
    DG_ASSERT_LOOP_THREAD();
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
    DG_ASSERT_LOOP_THREAD();
    if (!c->stream || c->is_closing)
        return 0;
    return dg_stream_pending(c->stream) + dg_buf_avail(&c->cork);
}

void dg_conn_notify_drained(dg_conn *c, size_t bytes)
{
    DG_ASSERT_LOOP_THREAD();
    if (c->stream && !c->is_closing)
        dg_stream_notify_below(c->stream, bytes);
}

bool dg_conn_is_open(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
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
    c->table->n_requests--;
    if (!c->stream) {
        if (c->n_inflight == 0)
            conn_free(c);
        return;
    }
    if (c->is_paused && !c->is_closing && !dg_server_is_draining(srv) &&
        c->n_inflight < dg_server_config(srv)->max_in_flight) {
        c->is_paused = false;
        dg_stream_resume(c->stream);
    }
}

void dg_req_reply(dg_req *req)
{
    dg_conn *c = req->conn;
    int64_t took_us = dg_mono_us() - req->started_us;

    DG_ASSERT_LOOP_THREAD();
    req->resp.id = req->id;
    req->resp.status = &req->status;
    if (req->is_over_budget) {
        /* whatever it says, it was built past the request's memory */
        dangan__v1__status__init(&req->status);
        req->status.code = DANGAN__V1__CODE__RESOURCE_EXHAUSTED;
        req->status.reason = "reply_too_large";
        req->status.message = "the reply needs more server memory than one request may use "
                              "([limits] request_memory_mib); ask for less (a smaller page)";
        req->has_error_body = false;
    }
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

    DG_ASSERT_LOOP_THREAD();
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

    DG_ASSERT_LOOP_THREAD();
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
    DG_ASSERT_LOOP_THREAD();
    req->status.retry_after_ms = ms <= 0 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void *dg_req_alloc(dg_req *req, size_t n)
{
    void *p = dg_arena_calloc(req->arena, 1, n);

    DG_ASSERT_LOOP_THREAD();
    if (p)
        return p;
    if (!req->is_over_budget)
        dg_log_warn("conn", "action=%s msg=\"reply over the request's memory budget\" mib=%u",
                    req->action, (unsigned)dg_server_config(req->srv)->request_memory_mib);
    req->is_over_budget = true;
    if (!(p = dg_arena_calloc_overdraft(req->arena, n))) {
        dg_log_error("conn", "action=%s msg=\"out of memory building a reply\" bytes=%zu",
                     req->action, n);
        abort();
    }
    return p;
}

bool dg_req_is_over_budget(const dg_req *req)
{
    DG_ASSERT_LOOP_THREAD();
    return req->is_over_budget;
}

char *dg_req_strdup(dg_req *req, const char *s)
{
    DG_ASSERT_LOOP_THREAD();
    return dg_req_strndup(req, s, strlen(s));
}

char *dg_req_strndup(dg_req *req, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = dg_req_alloc(req, len + 1); /* zeroed: terminated */

    DG_ASSERT_LOOP_THREAD();
    memcpy(p, s, len);
    return p;
}

char *dg_req_printf(dg_req *req, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    DG_ASSERT_LOOP_THREAD();
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    dg_assert(n >= 0); /* our own formats */
    p = dg_req_alloc(req, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

const char *dg_conn_peer(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->peer;
}

const char *dg_conn_peer_ip(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->peer_ip;
}

uint64_t dg_conn_id(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->id;
}

bool dg_conn_has_hello(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->has_hello;
}

void dg_conn_set_hello(dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    c->has_hello = true;
}

bool dg_conn_is_over_capacity(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->is_over_capacity;
}

bool dg_conn_is_checking_password(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->is_checking_password;
}

void dg_conn_set_checking_password(dg_conn *c, bool is_checking)
{
    DG_ASSERT_LOOP_THREAD();
    c->is_checking_password = is_checking;
}

dg_session *dg_conn_session(dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->session;
}

void dg_conn_bind_session(dg_conn *c, dg_session *s)
{
    DG_ASSERT_LOOP_THREAD();
    dg_session_ref(dg_server_sessions(c->srv), s); /* first: s may be the one being replaced */
    dg_conn_unbind_session(c);
    c->session = s;
    c->session_end = NULL;
    if (c->is_unauth_counted) {
        dg_peers_remove_unauth(dg_server_peers(c->srv), c->peer_ip);
        c->is_unauth_counted = false;
    }
    if (c->stream)
        dg_stream_set_frame_limit(c->stream, dg_server_config(c->srv)->max_frame_after_login);
}

void dg_conn_end_session(dg_conn *c, const char *reason)
{
    DG_ASSERT_LOOP_THREAD();
    dg_conn_unbind_session(c);
    c->session_end = reason;
}

const char *dg_conn_session_end(const dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    return c->session_end;
}

void dg_conn_unbind_session(dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    if (!c->session)
        return;
    dg_session_unref(dg_server_sessions(c->srv), c->session);
    c->session = NULL;
    if (c->stream)
        dg_stream_set_frame_limit(c->stream, DG_FRAME_MAX_BEFORE_LOGIN);
    if (c->stream && !c->is_closing) {
        /* Counted again, never refused: the cap is for new connections. */
        (void)dg_peers_add_unauth(dg_server_peers(c->srv), c->peer_ip);
        c->is_unauth_counted = true;
    }
}

static int on_frame(dg_stream *s, const uint8_t *p, uint32_t len, void *ud)
{
    dg_conn *c = ud;
    dg_server *srv = c->srv;
    const dg_config *cfg = dg_server_config(srv);
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
    /* Decoding is done: the rest of the budget is for reading and building the reply. */
    dg_arena_set_budget(a, dg_arena_used(a) + (size_t)cfg->request_memory_mib * 1024 * 1024);
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
    c->table->n_requests++;
    c->table->hooks.on_request(req, c->table->hooks.ud);
    if (c->n_inflight >= cfg->max_in_flight || dg_server_is_draining(srv)) {
        c->is_paused = true;
        return DG_EAGAIN;
    }
    return DG_OK;
}

static void on_ready(dg_stream *s, void *ud)
{
    dg_conn *c = ud;
    uint32_t cap = dg_server_config(c->srv)->max_unauth_per_address;
    char msg[200];

    dg_log_debug("conn", "conn=%llu peer=%s action=handshake msg=\"TLS established\" suite=%s",
                 (unsigned long long)c->id, c->peer, dg_tls_ciphersuite(dg_stream_tls(s)));
    if (!c->is_refused)
        return;
    /* Others of the address may have logged in during the handshake. */
    if (dg_peers_n_unauth(dg_server_peers(c->srv), c->peer_ip) <= cap) {
        c->is_refused = false;
        return;
    }
    snprintf(msg, sizeof msg,
             "too many connections from %s are not logged in (at most %u); log in on them or "
             "close some, then try again",
             c->peer_ip, (unsigned)cap);
    reply_and_close(c, 0, DANGAN__V1__CODE__RESOURCE_EXHAUSTED, "too_many_unauthenticated", msg);
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
        /* A scan fails one handshake per connection: those are summarised. */
        if (dg_stream_is_ready(s) ||
            dg_peers_may_warn(dg_server_peers(c->srv), DG_PEER_HANDSHAKE_FAILED, c->peer_ip,
                              dg_mono_ms()))
            dg_log_warn("conn", "conn=%llu peer=%s user=%s action=%s msg=\"%s\"",
                        (unsigned long long)c->id, c->peer, user_of(c),
                        dg_stream_is_ready(s) ? "io" : "handshake", dg_stream_errmsg(s));
        conn_close(c, false);
        break;
    }
}

/* The client read what was queued: subscriptions that stopped for it go on. */
static void on_drain(dg_stream *s, void *ud)
{
    dg_conn *c = ud;

    DG_UNUSED(s);
    if (c->table->hooks.on_drained)
        c->table->hooks.on_drained(c, c->table->hooks.ud);
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

const dg_stream_cbs conn_cbs = {
    .on_ready = on_ready,
    .on_frame = on_frame,
    .on_error = on_error,
    .on_drain = on_drain,
    .on_closed = on_closed,
};

static void sweep_one(dg_conn *c, int64_t now_mono, int64_t now_ms)
{
    const dg_config *cfg = dg_server_config(c->srv);
    const char *why;

    if (!c->stream || c->is_closing)
        return;
    if (!dg_stream_is_ready(c->stream)) {
        if (now_mono - c->accepted_ms > cfg->handshake_timeout_ms) {
            if (dg_peers_may_warn(dg_server_peers(c->srv), DG_PEER_HANDSHAKE_FAILED, c->peer_ip,
                                  now_mono))
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

void dg_conns_sweep(dg_conns *cs)
{
    int64_t now_mono = dg_mono_ms(), now_ms = dg_now_ms();

    DG_ASSERT_LOOP_THREAD();
    for (dg_conn *c = cs->list, *next; c; c = next) {
        next = c->next; /* sweep_one may close, never free: frees happen in callbacks */
        sweep_one(c, now_mono, now_ms);
    }
    dg_peers_report(dg_server_peers(cs->srv), now_mono, false);
}

void dg_conns_pause_all(dg_conns *cs)
{
    DG_ASSERT_LOOP_THREAD();
    for (dg_conn *c = cs->list; c; c = c->next) {
        if (c->stream && !c->is_closing && !c->is_paused) {
            c->is_paused = true;
            dg_stream_pause(c->stream);
        }
    }
}

void dg_conns_close_all(dg_conns *cs)
{
    DG_ASSERT_LOOP_THREAD();
    for (dg_conn *c = cs->list; c; c = c->next)
        conn_close(c, true);
}

dg_conns *dg_conns_new(dg_server *srv, uv_stream_t *listener, uint32_t max_connections,
                       const dg_conn_hooks *hooks)
{
    dg_conns *cs = dg_xcalloc(1, sizeof *cs);

    DG_ASSERT_LOOP_THREAD();
    dg_assert(hooks->on_request);
    cs->srv = srv;
    cs->listener = listener;
    cs->max = max_connections;
    cs->total = dg_server_conns_total(srv);
    cs->hooks = *hooks;
    return cs;
}

void dg_conns_free(dg_conns *cs)
{
    DG_ASSERT_LOOP_THREAD();
    if (!cs)
        return;
    dg_assert(!cs->list);
    free(cs);
}

uint32_t dg_conns_count(const dg_conns *cs)
{
    DG_ASSERT_LOOP_THREAD();
    return cs->n;
}

uint64_t dg_conns_requests(const dg_conns *cs)
{
    DG_ASSERT_LOOP_THREAD();
    return cs->n_requests;
}
