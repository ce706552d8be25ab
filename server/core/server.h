/* server.h - what the running server shares with the code that serves
 * requests: its settings, its services and the queues that run jobs.
 *
 * A dg_server is made and torn down by dg_serve_run (serve.h), which owns
 * it. Everything else borrows it, opaquely: connections, the dispatcher, the
 * handlers and the feed read what they need through the functions below and
 * never change it. Services (sessions, users, throttle, feed...) are handed
 * out as pointers; each has its own module and contract. Any loop thread
 * (each call acts for the loop of the thread that makes it), except where
 * noted.
 */
#ifndef DG_SERVER_H
#define DG_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "pool.h"
#include "session.h"
#include "team.h"

typedef struct dg_server dg_server;

/* Settings, frozen at start. */
const dg_config *dg_server_config(const dg_server *srv);
/* The event loop of the calling thread: the server runs `[server] loops` of
 * them, each on its own thread with the connections it accepted. A job
 * submitted below comes back to the loop that submitted it. */
uv_loop_t *dg_server_loop(dg_server *srv);
/* Which loop that is (0: the one that also runs signals, the sweep,
 * reminders and backups), and how many there are. */
unsigned dg_server_loop_index(dg_server *srv);
unsigned dg_server_n_loops(const dg_server *srv);
/* The server's identity and feed epoch (from the database, read at start). */
const char *dg_server_id(const dg_server *srv);
uint64_t dg_server_feed_epoch(const dg_server *srv);
/* Policy settings of the database (settings table), read at start. */
uint32_t dg_server_password_min_len(const dg_server *srv);
uint32_t dg_server_restricted_tiers(const dg_server *srv); /* tier bits (perm.h) */
/* A hash verified when a user name is unknown, so that answer takes as long
 * as for a wrong password. Read-only after start; any thread. */
const char *dg_server_dummy_hash(const dg_server *srv);
/* True once a shutdown started: no new work is taken. Any thread. */
bool dg_server_is_draining(const dg_server *srv);
/* True after a storage error made the writer refuse writes until restart. */
bool dg_server_is_read_only(const dg_server *srv);

/* The team's settings (team.h), copied out under a lock: any thread. */
void dg_server_team(dg_server *srv, dg_team *out);
/* Replaces them, once the store holds the new ones: any thread. */
void dg_server_set_team(dg_server *srv, const dg_team *team);
/* The same with which change they are (GetTeamSettings, SetTeamSettings). */
void dg_server_team_meta(dg_server *srv, dg_team *out, dg_team_meta *meta);
void dg_server_set_team_meta(dg_server *srv, const dg_team *team, const dg_team_meta *meta);

/* Services: borrowed, valid while the server runs. Sessions, throttle,
 * peers, users and the audit backlog are shared by every loop (each locks
 * inside); the feed, the TLS configuration and the connections are the
 * calling loop's own. */
dg_sessions *dg_server_sessions(dg_server *srv);
struct dg_throttle *dg_server_throttle(dg_server *srv);       /* throttle.h */
struct dg_peers *dg_server_peers(dg_server *srv);             /* peers.h */
struct dg_users *dg_server_users(dg_server *srv);             /* users.h */
struct dg_feed *dg_server_feed(dg_server *srv);               /* feed.h */
struct dg_audit_later *dg_server_audit_later(dg_server *srv); /* audit_later.h */
struct dg_tls_conf *dg_server_tls(dg_server *srv);            /* tls.h */

/* The calling loop's connections (conn.h). */
struct dg_conns *dg_server_conns(dg_server *srv);
/* Every loop's connections counted together (conn.c keeps it; atomic). */
typedef struct dg_conns_total {
    uint32_t n;       /* open, on all loops */
    uint64_t next_id; /* the last connection id given */
} dg_conns_total;
dg_conns_total *dg_server_conns_total(dg_server *srv);
/* Open connections on all loops (any loop thread). */
uint32_t dg_server_connections(dg_server *srv);
/* The newest change seq any loop's feed was handed (any thread). */
int64_t dg_server_feed_head(const dg_server *srv);
/* When the server started serving (unix ms). */
int64_t dg_server_started_at(const dg_server *srv);

/* The last scheduled backup, as `dangan server stats` shows it. */
typedef struct dg_backup_status {
    bool is_scheduled; /* [backup] time and dir are set */
    bool is_encrypted; /* [backup] key_file is set */
    int64_t next_at;   /* unix ms of the next run, when scheduled */
    int64_t at;        /* unix ms it ended; 0: none has run since the start */
    bool is_ok;        /* written and verified (and older copies pruned) */
    int64_t bytes;     /* the file's size when is_ok */
    char file[1100];
    char error[512]; /* why it failed, when !is_ok */
} dg_backup_status;
/* Copied out under a lock (any loop thread). */
void dg_server_last_backup(dg_server *srv, dg_backup_status *out);
/* The scheduled backups (backups.c) report each run here. */
void dg_server_set_last_backup(dg_server *srv, const dg_backup_status *st);

/* Submit a job to the reader pool / hasher pool / writer, counting it for
 * shutdown. DG_OK, DG_EFULL (queue at its bound; no callback), DG_EREADONLY
 * (writer after an I/O error). */
int dg_server_read(dg_server *srv, dg_job *job);
/* A read whose work the request bounds (a record by id or code, a dossier,
 * a page of history) runs at once, on the loop thread and the loop's own
 * read-only connection: `run`, then `done`, before this returns DG_OK. A
 * read that would have to wait for a lock (DG_EBUSY: the loop never waits)
 * goes to the reader pool instead, as dg_server_read. Long or unbounded
 * reads (search, lists, export, audit verify) use dg_server_read. */
int dg_server_read_here(dg_server *srv, dg_job *job);
int dg_server_hash(dg_server *srv, dg_job *job);
int dg_server_write(dg_server *srv, dg_job *job);
/* A write job that only records a read or a refusal (an audit record): its
 * commit need not wait for fsync (dg_store_skip_sync). */
int dg_server_write_record_of_read(dg_server *srv, dg_job *job);
/* Loop thread. Whether committed search documents wait in search_queue
 * (writer.h: dg_writer_search_queued): a search must then first have the
 * writer apply them, with dg_server_search_catch_up(srv, job), which sets
 * job->run; `done` runs once the index has them (rc DG_OK) or could not
 * take them (a store error). Its commit waits for no fsync. DG_OK,
 * DG_EFULL or DG_EREADONLY (no callback), as dg_server_write. */
bool dg_server_search_is_behind(dg_server *srv);
int dg_server_search_catch_up(dg_server *srv, dg_job *job);
/* Loop thread. A job that reads on the writer's connection what the writer
 * alone can see, in a transaction of its own that it always has rolled
 * back (its `run` returns an error on purpose, and keeps its result
 * itself): a search through the queue that could not be written into the
 * index (a full disk, a read-only writer). It runs on a read-only writer
 * too. DG_OK, or DG_EFULL (no callback). */
int dg_server_read_in_writer(dg_server *srv, dg_job *job);
/* The same for a job whose `run` only appends audit records (a read of a
 * restricted customer, a refusal), so that only the storage can fail it. The
 * jobs taken in one loop iteration reach the writer together, as one job
 * run in one savepoint (at most 256 a job): a burst of restricted reads
 * wakes the writer once. Each job's `done` runs once the batch is committed;
 * if the batch fails, every job in it gets the batch's error. */
int dg_server_write_audit_only(dg_server *srv, dg_job *job);
/* Submit a long job that uses no pooled connection (a scheduled backup) to
 * the one background thread, counting it for shutdown (which waits for it).
 * DG_OK, DG_EFULL when one is already queued (no callback). */
int dg_server_background(dg_server *srv, dg_job *job);

#endif
