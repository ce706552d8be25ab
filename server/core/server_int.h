/* server_int.h - struct dg_server and its loops, for server.c (its
 * accessors and job queues) and serve.c (which makes it, runs it and tears
 * it down) only. Everything else sees the opaque type of server.h.
 */
#ifndef DG_SERVER_INT_H
#define DG_SERVER_INT_H

#include "auth.h"
#include "server.h"
#include "tls.h"
#include "writer.h"

/* A committed batch's change rows on their way to one loop's feed. */
struct dg_inbox_item {
    struct dg_inbox_item *next;
    struct dg_committed *c; /* a reference of its own */
};

/* One event loop on its own thread (loop 0: the thread that called
 * dg_serve_run), with the connections it accepted. Everything here is its
 * thread's alone, except where noted. */
struct dg_loop {
    dg_server *srv;
    unsigned index;
    uv_loop_t uv;
    uv_thread_t thread; /* loops 1..n-1 */
    bool has_thread;
    dg_tls_conf *tls;  /* its own: the TLS random generator is not shared */
    uv_tcp_t listener; /* loop 0 only: it hands accepted sockets to the others */
    struct dg_conns *conns;
    dg_completions *done; /* every job this loop submits comes back here */
    uint64_t n_jobs;      /* jobs it submitted that are not yet done */
    /* The loop's own read-only connection: cheap reads run on it, on the
     * loop (dg_server_read_here). It never waits on a lock. */
    struct dg_store *store;
    /* Records of reads and refusals taken during this loop iteration, sent
     * to the writer as one job when the iteration's I/O is done
     * (dg_server_write_audit_only); NULL when none is open. */
    struct read_records *records;
    uv_check_t records_check; /* sends the open batch after the poll phase */
    uv_idle_t records_idle;   /* while a batch is open: the poll does not block */
    struct dg_feed *feed;     /* its connections' subscriptions (feed.h) */
    uv_timer_t sweep;         /* once a second: its connections' timeouts (loop 0: all upkeep) */
    uv_timer_t drain;         /* during shutdown: waits for its in-flight work */
    int64_t drain_started_ms;
    bool is_draining;
    /* Other threads reach it through `wake`: commits for its feed and
     * sockets loop 0 accepted for it (under srv->inbox_lock, with
     * is_closed), and commands (atomic bits: loops.c). */
    uv_async_t wake;
    struct dg_inbox_item *inbox, **inbox_end;
    struct loop_handover *handover; /* accepted for it, not yet taken (loops.c) */
    bool is_closed;                 /* under inbox_lock: wake is closed, nothing more is posted */
    int command;                    /* atomic: bits of what another thread asks of it (loops.c) */
    int is_done;                    /* atomic: its shutdown finished, its thread is ending */
};

struct dg_server {
    dg_config cfg; /* frozen after start */
    struct dg_loop *loops;
    unsigned n_loops;
    uv_signal_t sigint, sigterm, sighup; /* each stops the server cleanly (loop 0) */
    uv_signal_t sigsweep; /* SIGUSR1 runs the sweep now; started in test builds only (clock.h) */
    dg_writer *writer;
    dg_pool *readers;
    dg_pool *hashers;
    dg_pool *background;        /* one thread for long jobs: scheduled backups */
    struct dg_backups *backups; /* the backup schedule (backups.h); NULL when off; loop 0 */
    uv_mutex_t state_lock;      /* guards last_backup */
    dg_backup_status last_backup;
    int64_t started_at;                   /* unix ms */
    struct dg_checkpointer *checkpointer; /* checkpoint.h */
    dg_conns_total conns_total;           /* every loop's connections, counted together */
    dg_sessions *sessions;
    struct dg_throttle *throttle;
    struct dg_peers *peers; /* per-address connection counts and log summaries (peers.h) */
    struct dg_users *users; /* account directory (users.h) */
    struct dg_remind *remind;           /* the reminders' timer (remind.h); loop 0 */
    struct dg_audit_later *audit_later; /* records waiting for writes to resume */
    /* Commits go from the writer to every loop's feed in commit order: the
     * loop that takes them from the writer posts them to each inbox under
     * this lock. It guards the loops' hand-over queues too. */
    uv_mutex_t inbox_lock;
    uv_sem_t swept;     /* a loop ran the sweep asked for (SIGUSR1, test builds) */
    unsigned next_loop; /* loop 0: the loop the next accepted connection goes to */
    int64_t feed_head;  /* atomic: the newest change seq taken from the writer */
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
    int64_t touched_ms; /* dg_mono_ms when sessions' activity last went to the store (loop 0) */
    bool is_draining;   /* atomic */
    bool is_storage_suspect; /* the writer was read-only at shutdown: no clean marker */
};

/* The loop the calling thread runs (serve.c sets it as each loop starts). */
void dg_server_enter_loop(struct dg_loop *l);
struct dg_loop *dg_server_current_loop(void);
/* Takes what the writer committed and posts it to every loop's inbox, in
 * commit order (any loop thread). */
void dg_server_take_commits(dg_server *srv);

/* A loop's handles for the batches of records (serve.c: at start, and
 * after its last job at shutdown). */
int dg_server_records_init(struct dg_loop *l);
void dg_server_records_close(struct dg_loop *l);

#endif
