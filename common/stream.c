/* stream.c - libuv TCP + TLS + frames.
 *
 * Owns: the uv_tcp_t, an idle handle (flushes coalesced output and delivers
 * frames buffered while paused), a timer (deadline for a graceful close), the
 * TLS session, the plaintext input buffer and the uv_write requests in flight.
 * Invariants: freed only after all three handles' close callbacks ran; once
 * is_closing is set nothing new is queued and no frame is delivered.
 * Runs on: the loop thread.
 */
#include "stream.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "frame.h"

#define READ_CHUNK (64 * 1024)
#define CLOSE_GRACE_MS 5000
#define N_HANDLES 3

struct dg_stream {
    uv_tcp_t tcp;
    uv_idle_t idle;
    uv_timer_t close_timer;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    const dg_stream_cbs *cbs;
    void *ud;
    dg_tls *tls;
    dg_buf in; /* decrypted plaintext: frames */
    uint32_t frame_limit;
    uint32_t rejected_len;
    size_t write_high, write_low;
    size_t n_write_bytes;      /* bytes handed to uv_write, not yet completed */
    size_t notify_below;       /* dg_stream_notify_below's mark, when wants_notify */
    bool wants_notify;
    int64_t write_progress_ms; /* last time queued output moved (monotonic) */
    int n_open_handles;
    bool is_reading;
    bool is_ready;
    bool is_closing;
    bool is_read_done; /* no more input will be read or delivered */
    bool is_broken;    /* the connection cannot carry output either */
    bool is_paused_by_owner;
    bool is_paused_by_writes;
    bool has_frames_to_deliver; /* resumed: deliver what is buffered */
    char peer[64];
    char err[256];
};

struct write_req {
    uv_write_t req;
    dg_stream *s;
    uint8_t *data;
    size_t len;
};

static void pump(dg_stream *s);
static void update_reading(dg_stream *s);
static void idle_cb(uv_idle_t *h);

static void set_err(dg_stream *s, const char *what, int uv_rc)
{
    if (uv_rc)
        snprintf(s->err, sizeof s->err, "%s: %s", what, uv_strerror(uv_rc));
    else
        snprintf(s->err, sizeof s->err, "%s", what);
}

/* Reports the first failure to the owner; later ones are dropped. A frame
 * over the limit or the peer's EOF ends reading but still lets a last reply
 * out; socket and TLS failures end writing too. */
static void report(dg_stream *s, int rc)
{
    if (rc != DG_ETOOBIG && rc != DG_ECLOSED)
        s->is_broken = true;
    if (s->is_read_done || s->is_closing)
        return;
    s->is_read_done = true;
    update_reading(s);
    s->cbs->on_error(s, rc, s->ud);
}

static void schedule_idle(dg_stream *s)
{
    /* Cannot fail for an initialised idle handle with a callback. */
    if (!s->is_closing)
        (void)uv_idle_start(&s->idle, idle_cb);
}

size_t dg_stream_pending(const dg_stream *s)
{
    return s->n_write_bytes + dg_buf_avail(dg_tls_cout(s->tls));
}

/* Output fell to the low-water mark: read again (and tell the owner); or
 * to the owner's own mark: tell it. */
static void resume_if_drained(dg_stream *s)
{
    bool is_drained = false;

    if (s->is_paused_by_writes && dg_stream_pending(s) <= s->write_low) {
        s->is_paused_by_writes = false;
        update_reading(s);
        is_drained = true;
    }
    if (s->wants_notify && dg_stream_pending(s) <= s->notify_below) {
        s->wants_notify = false;
        is_drained = true;
    }
    if (is_drained && s->cbs->on_drain && !s->is_closing)
        s->cbs->on_drain(s, s->ud);
}

void dg_stream_notify_below(dg_stream *s, size_t bytes)
{
    s->notify_below = bytes;
    s->wants_notify = true;
}

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    dg_stream *s = w->s;

    s->n_write_bytes -= w->len;
    free(w->data);
    free(w);
    s->write_progress_ms = dg_mono_ms();
    if (status < 0) {
        if (status != UV_ECANCELED) {
            set_err(s, "write failed", status);
            report(s, DG_EIO);
        }
        return;
    }
    resume_if_drained(s);
}

static void flush(dg_stream *s)
{
    dg_buf *out = dg_tls_cout(s->tls);
    struct write_req *w;
    uv_buf_t b;
    int rc;

    if (dg_buf_avail(out) == 0)
        return;
    /* Nothing queued: write straight to the socket. Most replies fit, and
     * skip uv_write's request, copy and poll-set update (an epoll_ctl per
     * write in libuv 1.44). What the socket does not take is queued. */
    if (s->n_write_bytes == 0) {
        b = uv_buf_init((char *)dg_buf_head(out), (unsigned)dg_buf_avail(out));
        rc = uv_try_write((uv_stream_t *)&s->tcp, &b, 1);
        if (rc > 0)
            dg_buf_consume(out, (size_t)rc);
        else if (rc != UV_EAGAIN) {
            set_err(s, "write failed", rc);
            report(s, DG_EIO);
            return;
        }
        if (dg_buf_avail(out) == 0) {
            resume_if_drained(s); /* no write_cb will come for these bytes */
            return;
        }
    }
    w = dg_xmalloc(sizeof *w);
    w->s = s;
    w->len = dg_buf_steal(out, &w->data);
    b = uv_buf_init((char *)w->data, (unsigned)w->len);
    if (s->n_write_bytes == 0)
        s->write_progress_ms = dg_mono_ms();
    rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, write_cb);
    if (rc != 0) {
        free(w->data);
        free(w);
        set_err(s, "write failed", rc);
        report(s, DG_EIO);
        return;
    }
    s->n_write_bytes += w->len;
}

static void deliver_frames(dg_stream *s)
{
    while (!s->is_paused_by_owner && !s->is_closing && !s->is_read_done) {
        const uint8_t *p;
        uint32_t len;
        int rc = dg_frame_next(&s->in, s->frame_limit, &p, &len);

        if (rc == DG_EAGAIN)
            return;
        if (rc == DG_ETOOBIG) {
            s->rejected_len = len;
            snprintf(s->err, sizeof s->err, "frame of %u bytes is over the limit of %u", len,
                     s->frame_limit);
            report(s, DG_ETOOBIG);
            return;
        }
        rc = s->cbs->on_frame(s, p, len, s->ud);
        dg_buf_consume(&s->in, DG_FRAME_HEADER_LEN + len);
        if (rc == DG_EAGAIN)
            dg_stream_pause(s);
    }
}

static void idle_cb(uv_idle_t *h)
{
    dg_stream *s = h->data;

    uv_idle_stop(h);
    if (s->has_frames_to_deliver) {
        s->has_frames_to_deliver = false;
        deliver_frames(s);
    }
    flush(s);
}

/* Advances TLS with whatever ciphertext arrived, then delivers frames. */
static void pump(dg_stream *s)
{
    int rc = dg_tls_pull(s->tls, &s->in);

    if (dg_buf_avail(dg_tls_cout(s->tls)) > 0)
        flush(s); /* handshake messages go out at once */
    /* Whatever was decrypted before a close_notify (or a bad record) counts:
     * a peer may finish the handshake, say its last words and close in one
     * write. So: ready first, then the frames, then the error. */
    if (!s->is_ready && dg_tls_is_established(s->tls)) {
        s->is_ready = true;
        if (s->cbs->on_ready)
            s->cbs->on_ready(s, s->ud);
    }
    if (s->is_ready)
        deliver_frames(s);
    if (rc != DG_OK) {
        snprintf(s->err, sizeof s->err, "%s", dg_tls_errmsg(s->tls));
        report(s, rc);
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    dg_stream *s = h->data;

    DG_UNUSED(suggested);
    buf->base = (char *)dg_buf_reserve(dg_tls_cin(s->tls), READ_CHUNK);
    buf->len = READ_CHUNK;
}

static void read_cb(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
    dg_stream *s = h->data;

    DG_UNUSED(buf);
    if (n > 0) {
        dg_buf_commit(dg_tls_cin(s->tls), (size_t)n);
        pump(s);
    } else if (n == UV_EOF) {
        set_err(s, "the peer closed the connection", 0);
        report(s, DG_ECLOSED);
    } else if (n < 0) {
        set_err(s, "read failed", (int)n);
        report(s, DG_EIO);
    }
}

static void update_reading(dg_stream *s)
{
    bool want =
        !s->is_closing && !s->is_read_done && !s->is_paused_by_owner && !s->is_paused_by_writes;

    if (want == s->is_reading)
        return;
    if (want) {
        if (uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, read_cb) != 0)
            return;
    } else {
        uv_read_stop((uv_stream_t *)&s->tcp);
    }
    s->is_reading = want;
}

int dg_stream_new(uv_loop_t *loop, dg_tls_conf *conf, const char *host, const dg_stream_cbs *cbs,
                  void *ud, dg_stream **out)
{
    dg_stream *s = dg_xcalloc(1, sizeof *s);
    int rc;

    *out = NULL;
    rc = dg_tls_new(conf, host, &s->tls);
    if (rc != DG_OK) {
        free(s);
        return rc;
    }
    s->cbs = cbs;
    s->ud = ud;
    s->frame_limit = DG_FRAME_MAX_BEFORE_LOGIN;
    s->write_high = 8u * 1024 * 1024;
    s->write_low = 2u * 1024 * 1024;
    /* These cannot fail on a valid loop. */
    uv_tcp_init(loop, &s->tcp);
    uv_idle_init(loop, &s->idle);
    uv_timer_init(loop, &s->close_timer);
    s->tcp.data = s->idle.data = s->close_timer.data = s;
    s->n_open_handles = N_HANDLES;
    *out = s;
    return DG_OK;
}

uv_stream_t *dg_stream_handle(dg_stream *s)
{
    return (uv_stream_t *)&s->tcp;
}

static void remember_peer(dg_stream *s)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char host[48];

    if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        uv_ip4_name(a, host, sizeof host);
        snprintf(s->peer, sizeof s->peer, "%s:%u", host, ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        uv_ip6_name(a, host, sizeof host);
        snprintf(s->peer, sizeof s->peer, "[%s]:%u", host, ntohs(a->sin6_port));
    }
}

int dg_stream_start(dg_stream *s)
{
    remember_peer(s);
    (void)uv_tcp_nodelay(&s->tcp, 1); /* latency of small frames; failure is harmless */
    (void)uv_tcp_keepalive(&s->tcp, 1, 60);
    update_reading(s);
    if (!s->is_reading) {
        set_err(s, "cannot start reading", 0);
        return DG_EIO;
    }
    pump(s); /* a client's first pump writes its ClientHello */
    return DG_OK;
}

static void connect_cb(uv_connect_t *req, int status)
{
    dg_stream *s = req->data;

    if (status == UV_ECANCELED)
        return;
    if (status < 0) {
        set_err(s, "cannot connect", status);
        report(s, DG_EIO);
        return;
    }
    if (dg_stream_start(s) != DG_OK)
        report(s, DG_EIO);
}

int dg_stream_connect(dg_stream *s, const struct sockaddr *addr)
{
    int rc;

    s->connect_req.data = s;
    rc = uv_tcp_connect(&s->connect_req, &s->tcp, addr, connect_cb);
    if (rc != 0) {
        set_err(s, "cannot connect", rc);
        return DG_EIO;
    }
    return DG_OK;
}

void dg_stream_set_frame_limit(dg_stream *s, uint32_t limit)
{
    s->frame_limit = limit;
}

void dg_stream_set_write_marks(dg_stream *s, size_t high, size_t low)
{
    s->write_high = high;
    s->write_low = low;
}

int dg_stream_send(dg_stream *s, const uint8_t *p, size_t len)
{
    int rc;

    if (s->is_closing || s->is_broken || !s->is_ready)
        return DG_ECLOSED;
    rc = dg_tls_push(s->tls, p, len);
    if (rc != DG_OK) {
        snprintf(s->err, sizeof s->err, "%s", dg_tls_errmsg(s->tls));
        return rc;
    }
    schedule_idle(s);
    if (!s->is_paused_by_writes && dg_stream_pending(s) > s->write_high) {
        s->is_paused_by_writes = true;
        update_reading(s);
    }
    return DG_OK;
}

int64_t dg_stream_write_stall_ms(const dg_stream *s, int64_t now_mono_ms)
{
    if (s->n_write_bytes == 0)
        return 0;
    return now_mono_ms - s->write_progress_ms;
}

void dg_stream_pause(dg_stream *s)
{
    s->is_paused_by_owner = true;
    update_reading(s);
}

void dg_stream_resume(dg_stream *s)
{
    if (!s->is_paused_by_owner)
        return;
    s->is_paused_by_owner = false;
    update_reading(s);
    s->has_frames_to_deliver = true;
    schedule_idle(s);
}

static void handle_closed_cb(uv_handle_t *h)
{
    dg_stream *s = h->data;

    if (--s->n_open_handles > 0)
        return;
    s->cbs->on_closed(s, s->ud);
    dg_tls_free(s->tls);
    dg_buf_fini(&s->in);
    free(s);
}

static void close_handles(dg_stream *s)
{
    if (uv_is_closing((uv_handle_t *)&s->tcp))
        return;
    uv_close((uv_handle_t *)&s->tcp, handle_closed_cb);
    uv_close((uv_handle_t *)&s->idle, handle_closed_cb);
    uv_close((uv_handle_t *)&s->close_timer, handle_closed_cb);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    DG_UNUSED(status); /* closing either way */
    close_handles(req->data);
}

static void close_timer_cb(uv_timer_t *t)
{
    close_handles(t->data); /* the peer did not take our last bytes in time */
}

void dg_stream_close(dg_stream *s, bool graceful)
{
    if (s->is_closing) {
        if (!graceful)
            close_handles(s);
        return;
    }
    if (graceful && s->is_ready && !s->is_broken)
        dg_tls_close_notify(s->tls);
    if (graceful && !s->is_broken)
        flush(s);
    s->is_closing = true;
    update_reading(s);
    uv_idle_stop(&s->idle);
    if (graceful && s->n_write_bytes > 0) {
        s->shutdown_req.data = s;
        if (uv_shutdown(&s->shutdown_req, (uv_stream_t *)&s->tcp, shutdown_cb) == 0) {
            uv_timer_start(&s->close_timer, close_timer_cb, CLOSE_GRACE_MS, 0);
            return;
        }
    }
    close_handles(s);
}

bool dg_stream_is_ready(const dg_stream *s)
{
    return s->is_ready;
}

bool dg_stream_is_closing(const dg_stream *s)
{
    return s->is_closing;
}

dg_tls *dg_stream_tls(dg_stream *s)
{
    return s->tls;
}

const char *dg_stream_peer(const dg_stream *s)
{
    return s->peer;
}

const char *dg_stream_errmsg(const dg_stream *s)
{
    return s->err;
}

uint32_t dg_stream_rejected_len(const dg_stream *s)
{
    return s->rejected_len;
}
