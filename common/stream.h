/* stream.h - one TLS connection on a libuv loop, delivering whole frames.
 *
 * bytes → (cin) → dg_tls_pull → plaintext (in) → dg_frame_next → on_frame
 * dg_stream_send(framed plaintext) → dg_tls_push → (cout) → uv_write
 *
 * Used by server connections (conn.c) and by libdangan. Output written during
 * one loop iteration is coalesced into one uv_write (flushed from an idle
 * handle). Reading is paused while the owner asks (dg_stream_pause, e.g. too
 * many requests in flight) or while queued output exceeds the high-water mark;
 * it resumes below the low-water mark. Memory per stream is bounded by the
 * frame limit plus one read chunk on input and the high-water mark on output
 * (plus whatever the owner queues while reading is paused).
 *
 * Lifetime: dg_stream_new() allocates; dg_stream_close() starts closing (safe
 * to call any number of times, from any callback); on_closed is the last
 * callback, after which the stream is freed. Loop thread only.
 */
#ifndef DG_STREAM_H
#define DG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "tls.h"

typedef struct dg_stream dg_stream;

typedef struct dg_stream_cbs {
    /* TLS is established (and, on a client, the server is trusted). */
    void (*on_ready)(dg_stream *s, void *ud);
    /* One complete frame payload, borrowed until return. Return DG_OK to go
     * on, DG_EAGAIN to stop delivery until dg_stream_resume(). */
    int (*on_frame)(dg_stream *s, const uint8_t *p, uint32_t len, void *ud);
    /* The stream cannot go on: rc is DG_ECLOSED (peer closed), DG_EIO
     * (socket error), DG_ETLS/DG_ETRUST/DG_EPROTO (handshake), DG_ETOOBIG
     * (frame over limit). Called at most once; reading has stopped; the owner
     * decides whether to close (usually at once). */
    void (*on_error)(dg_stream *s, int rc, void *ud);
    /* Queued output fell below the low-water mark after passing the high
     * one, or below what dg_stream_notify_below asked for. May be NULL. */
    void (*on_drain)(dg_stream *s, void *ud);
    /* Last callback; the stream is freed when it returns. */
    void (*on_closed)(dg_stream *s, void *ud);
} dg_stream_cbs;

/* A new, unconnected stream. `host` (clients) is for SNI and verification.
 * `cbs` must outlive the stream. DG_OK or DG_ENOMEM/DG_EIO. */
int dg_stream_new(uv_loop_t *loop, dg_tls_conf *conf, const char *host, const dg_stream_cbs *cbs,
                  void *ud, dg_stream **out);
/* The TCP handle, for uv_accept() on a server. */
uv_stream_t *dg_stream_handle(dg_stream *s);
/* Server: after uv_accept, start reading (the handshake follows). */
int dg_stream_start(dg_stream *s);
/* Client: connect to `addr`, then start the handshake. Failures arrive via on_error. */
int dg_stream_connect(dg_stream *s, const struct sockaddr *addr);

void dg_stream_set_frame_limit(dg_stream *s, uint32_t limit);
void dg_stream_set_write_marks(dg_stream *s, size_t high, size_t low);

/* Encrypts and queues already-framed plaintext. DG_OK, DG_ECLOSED (closing or
 * failed), DG_ETLS. Does not call back into the owner. */
int dg_stream_send(dg_stream *s, const uint8_t *p, size_t len);
/* Bytes queued for the socket and not yet written. */
size_t dg_stream_pending(const dg_stream *s);
/* Calls on_drain once, from the write completion that brings queued output
 * to `bytes` or below (never from inside this call). A later call replaces
 * the mark. For an owner that stopped queueing because output was full. */
void dg_stream_notify_below(dg_stream *s, size_t bytes);
/* How long queued output has made no progress (ms, monotonic), 0 if none is queued. */
int64_t dg_stream_write_stall_ms(const dg_stream *s, int64_t now_mono_ms);

/* Owner-driven flow control: stop delivering frames and reading; resume
 * later (buffered frames are delivered from the next loop iteration). */
void dg_stream_pause(dg_stream *s);
void dg_stream_resume(dg_stream *s);

/* Graceful: flush queued output and a TLS close_notify, then close (forced
 * after a few seconds). Not graceful: close now, dropping queued output. */
void dg_stream_close(dg_stream *s, bool graceful);

bool dg_stream_is_ready(const dg_stream *s);
bool dg_stream_is_closing(const dg_stream *s);
dg_tls *dg_stream_tls(dg_stream *s);
/* "addr:port" of the peer (empty if unknown). */
const char *dg_stream_peer(const dg_stream *s);
/* Why the stream failed ("" if it did not). */
const char *dg_stream_errmsg(const dg_stream *s);
/* The declared length of the frame that was over the limit (after DG_ETOOBIG). */
uint32_t dg_stream_rejected_len(const dg_stream *s);

#endif
