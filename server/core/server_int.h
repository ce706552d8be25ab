/* server_int.h - struct dg_server, for server.c (its accessors and job
 * queues) and serve.c (which makes it, runs it and tears it down) only.
 * Everything else sees the opaque type of server.h.
 */
#ifndef DG_SERVER_INT_H
#define DG_SERVER_INT_H

#include "auth.h"
#include "server.h"
#include "tls.h"
#include "writer.h"

struct dg_server {
    uv_loop_t loop;
    dg_config cfg; /* frozen after start */
    dg_tls_conf *tls;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm, sighup; /* each stops the server cleanly */
    uv_signal_t sigsweep; /* SIGUSR1 runs the sweep now; started in test builds only (clock.h) */
    uv_timer_t sweep;     /* once a second: timeouts, throttle expiry, upkeep */
    uv_timer_t drain;     /* during shutdown: waits for in-flight work */
    dg_completions *done; /* every job comes back through here */
    dg_writer *writer;
    dg_pool *readers;
    /* The loop's own read-only connection: cheap reads run on it, on the
     * loop (dg_server_read_here). It never waits on a lock. */
    struct dg_store *loop_store;
    /* Records of reads and refusals taken during this loop iteration, sent
     * to the writer as one job when the iteration's I/O is done
     * (dg_server_write_record_of_read); NULL when none is open. */
    struct read_records *records;
    uv_check_t records_check; /* sends the open batch after the poll phase */
    uv_idle_t records_idle;   /* while a batch is open: the poll does not block */
    dg_pool *hashers;
    dg_pool *background;        /* one thread for long jobs: scheduled backups */
    struct dg_backups *backups; /* the backup schedule (backups.h); NULL when off */
    dg_backup_status last_backup;
    int64_t started_at;                   /* unix ms */
    struct dg_checkpointer *checkpointer; /* checkpoint.h */
    struct dg_conns *conns;               /* the open connections (conn.h) */
    dg_sessions *sessions;
    struct dg_throttle *throttle;
    struct dg_peers *peers; /* per-address connection counts and log summaries (peers.h) */
    struct dg_users *users; /* account directory (users.h) */
    struct dg_feed *feed;   /* change notifications (feed.h) */
    struct dg_remind *remind;           /* the reminders' timer (remind.h) */
    struct dg_audit_later *audit_later; /* records waiting for writes to resume */
    char server_id[40];
    uint64_t feed_epoch;
    uint32_t password_min_len; /* setting password_min_length */
    uint32_t restricted_tiers; /* setting restricted_tiers: tier bits (perm.h) */
    uv_mutex_t team_lock;      /* guards team: handlers on any thread read it */
    dg_team team;              /* the team's settings (team.h) */
    dg_team_meta team_meta;    /* which change they are; guarded by team_lock */
    /* Verified against when the user name is unknown, so the answer takes as
     * long as for a wrong password. Read-only after start (hasher threads read it). */
    char dummy_hash[DG_PASSWORD_HASH_MAX];
    uint64_t n_jobs;    /* jobs submitted and not yet done */
    int64_t touched_ms; /* dg_mono_ms when sessions' activity last went to the store */
    bool is_draining;
    bool is_storage_suspect; /* the writer was read-only at shutdown: no clean marker */
    int64_t drain_started_ms;
};

/* The loop's handles for the batches of records (serve.c: at start, and
 * after the last job at shutdown). */
int dg_server_records_init(dg_server *srv);
void dg_server_records_close(dg_server *srv);

#endif
