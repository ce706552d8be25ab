/* server.h - the running server: one libuv loop and everything it owns.
 *
 * struct dg_server is the context every connection and handler borrows; it
 * is created and torn down only by dg_server_run. No mutable globals: all
 * state hangs off this struct. Fields are loop-thread data unless noted.
 *
 * Shutdown (SIGINT/SIGTERM): stop accepting; stop reading requests; let
 * in-flight requests and jobs finish (up to shutdown_grace_ms); close
 * connections gracefully; stop the pools and the writer (its queue drains);
 * close the database; exit 0.
 */
#ifndef DG_SERVER_H
#define DG_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "model.h"
#include "pool.h"
#include "session.h"
#include "throttle.h"
#include "tls.h"
#include "writer.h"

typedef struct dg_conn dg_conn;

typedef struct dg_server {
    uv_loop_t loop;
    dg_config cfg; /* frozen after start */
    dg_tls_conf *tls;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    uv_signal_t sigsweep; /* SIGUSR1 runs the sweep now; started in test builds only (clock.h) */
    uv_timer_t sweep;     /* once a second: timeouts, throttle expiry */
    uv_timer_t drain;     /* during shutdown: waits for in-flight work */
    dg_completions *done; /* every job comes back through here */
    dg_writer *writer;
    dg_pool *readers;
    dg_pool *hashers;
    struct dg_checkpointer *checkpointer; /* checkpoint.h */
    dg_sessions *sessions;
    dg_throttle *throttle;
    struct dg_peers *peers; /* per-address connection counts and log summaries (peers.h) */
    struct dg_users *users; /* account directory (users.h) */
    struct dg_feed *feed;   /* change notifications (feed.h) */
    struct dg_audit_later *audit_later; /* records waiting for writes to resume */
    char server_id[40];
    uint64_t feed_epoch;
    uint32_t password_min_len; /* setting password_min_length */
    uint32_t restricted_tiers; /* setting restricted_tiers: tier bits (perm.h) */
    uint32_t max_connections;  /* cfg value capped by RLIMIT_NOFILE */
    /* Verified against when the user name is unknown, so the answer takes as
     * long as for a wrong password. Read-only after start (hasher threads read it). */
    char dummy_hash[DG_PASSWORD_HASH_MAX];
    dg_conn *conns; /* all open connections (list owned by conn.c) */
    uint32_t n_conns;
    uint64_t next_conn_id;
    uint64_t n_requests; /* requests in flight, all connections */
    uint64_t n_jobs;     /* jobs submitted and not yet done */
    int64_t touched_ms;  /* dg_mono_ms when sessions' activity last went to the store */
    bool is_draining;
    bool is_storage_suspect; /* the writer was read-only at shutdown: no clean marker */
    int64_t drain_started_ms;
} dg_server;

/* Runs the server until SIGINT/SIGTERM. Returns the process exit code: 0
 * after a clean shutdown, 1 if it could not start (the reason is logged),
 * DG_EXIT_REFUSED when the start-up check found the data directory unfit
 * (check.h; nothing was written; a restart would find the same). */
#define DG_EXIT_REFUSED 3
int dg_server_run(const dg_config *cfg);

/* Submit a job to the reader pool / hasher pool / writer, counting it for
 * shutdown. DG_OK, DG_EFULL (queue at its bound; no callback), DG_EREADONLY
 * (writer after an I/O error). Loop thread. */
int dg_server_read(dg_server *srv, dg_job *job);
int dg_server_hash(dg_server *srv, dg_job *job);
int dg_server_write(dg_server *srv, dg_job *job);
/* A write job that only records a read or a refusal (an audit record): its
 * commit need not wait for fsync (dg_store_skip_sync). */
int dg_server_write_record_of_read(dg_server *srv, dg_job *job);

#endif
