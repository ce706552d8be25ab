/* serve.c - `dangand serve`: start-up, the loop, signals, timers, shutdown.
 *
 * Owns: the dg_server (server_int.h) and everything hanging off it (loop,
 * TLS config, listener, connections, writer, pools, completion queue,
 * sessions, throttle, feed, the data directory lock), and the wiring of the
 * layers: connections hand requests to the dispatcher and tell the feed when
 * they go or drain; commits reach the feed.
 * Start-up: the data directory is checked before anything writes (check.h),
 * then the database opens, then TLS, then the listener (last: scripts act on
 * its "listening" line).
 * Shutdown order: stop accepting → stop reading requests → wait for
 * in-flight requests (up to shutdown_grace_ms) → close connections
 * gracefully → wait for the last jobs → stop pools and writer (the writer
 * commits what is queued) → close the database → exit 0.
 * Runs on: the loop thread (the thread that called dg_serve_run).
 */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "audit_later.h"
#include "auth.h"
#include "backups.h"
#include "check.h"
#include "clock.h"
#include "conn.h"
#include "dispatch.h"
#include "dg.h"
#include "dupkey.h"
#include "feed.h"
#include "init.h"
#include "log.h"
#include "peers.h"
#include "perm.h"
#include "store.h"
#include "checkpoint.h"
#include "records.h"
#include "remind.h"
#include "server_int.h"
#include "throttle.h"
#include "pool_return.h"
#include "upkeep.h"
#include "users.h"

#define SWEEP_MS 1000
#define DRAIN_TICK_MS 20
#define FD_RESERVE 64 /* descriptors kept for SQLite, logs, the listener */
#define HASH_QUEUE_MAX 256

static void job_done_hook(void *ud)
{
    dg_server *srv = ud;

    dg_assert(srv->n_jobs > 0);
    srv->n_jobs--;
    /* a commit may have added changes: the feed takes them */
    if (srv->writer)
        for (dg_committed *c = dg_writer_take_committed(srv->writer), *next; c; c = next) {
            next = c->next;
            dg_remind_committed(srv->remind, c);
            if (srv->feed)
                dg_feed_committed(srv->feed, c);
            else
                dg_committed_free(c);
        }
}

/* ------------------------------------------------------------ the layers' hooks */

static void conn_request(dg_req *req, void *ud)
{
    DG_UNUSED(ud);
    dg_dispatch(req);
}

static void conn_gone(dg_conn *c, void *ud)
{
    dg_server *srv = ud;

    if (srv->feed)
        dg_feed_conn_gone(srv->feed, c);
}

static void conn_drained(dg_conn *c, void *ud)
{
    dg_server *srv = ud;

    if (srv->feed)
        dg_feed_conn_drained(srv->feed, c);
}

static void session_cb(dg_session *s, void *ud)
{
    dg_upkeep_session(ud, s);
}

/* ------------------------------------------------------------ timers and signals */

static void sweep_cb(uv_timer_t *t)
{
    dg_server *srv = t->data;
    int64_t now = dg_mono_ms();

    dg_conns_sweep(srv->conns);
    dg_throttle_sweep(srv->throttle, dg_now_ms());
    dg_audit_later_flush(srv->audit_later, srv);
    dg_upkeep_prune_feed(srv);
    dg_remind_sweep(srv->remind);
    dg_backups_sweep(srv->backups, srv);
    dg_pool_return_sweep(srv);
    /* By the clock, not by counting sweeps: the timer runs late under load,
     * and a driven clock (clock.h) moves between sweeps. */
    if (now - srv->touched_ms >= DG_UPKEEP_EVERY_MS) {
        srv->touched_ms = now;
        dg_sessions_each(srv->sessions, session_cb, srv);
        dg_upkeep_prune_idempotency_keys(srv);
    }
}

/* The last job of a sweep run on request: the writer runs its queue in
 * order, so when this one is done, whatever the sweep wrote is committed. */
static void swept_run(dg_job *job, void *ctx)
{
    DG_UNUSED(ctx);
    job->rc = DG_OK;
}

static void swept_done(dg_job *job)
{
    dg_log_info("server", "msg=\"swept on request\"");
    free(job);
}

/* A test that moved the driven clock (clock.h) has the sweep run at once
 * instead of waiting for the timer; the log line tells it that the sweep
 * has run and that what it wrote (pruning, sessions' activity) is stored. */
static void sweep_now_cb(uv_signal_t *h, int signum)
{
    dg_server *srv = h->data;
    dg_job *job;

    DG_UNUSED(signum);
    if (srv->is_draining) /* the timer is stopped too: nothing more to sweep */
        return;
    sweep_cb(&srv->sweep);
    job = dg_xcalloc(1, sizeof *job);
    job->run = swept_run;
    job->done = swept_done;
    if (dg_server_write_record_of_read(srv, job) != DG_OK)
        swept_done(job); /* the writer takes nothing: there is nothing to wait for */
}

static void close_cb_noop(uv_handle_t *h)
{
    DG_UNUSED(h);
}

/* Last step of a shutdown: everything that runs jobs stops, then the handles. */
static void finish_shutdown(dg_server *srv)
{
    dg_checkpointer_stop(srv->checkpointer);
    srv->checkpointer = NULL;
    dg_pool_free(srv->readers);
    dg_pool_free(srv->hashers);
    dg_pool_free(srv->background);
    srv->background = NULL;
    dg_backups_free(srv->backups); /* no job in flight: shutdown waited for them */
    srv->backups = NULL;
    dg_server_records_close(srv);
    dg_store_close(srv->loop_store);
    srv->loop_store = NULL;
    /* After a storage error the next start must look at the database again. */
    srv->is_storage_suspect = dg_writer_is_readonly(srv->writer);
    dg_writer_free(srv->writer); /* joins after committing its queue; closes the database */
    srv->readers = srv->hashers = NULL;
    srv->writer = NULL;
    dg_completions_close(srv->done); /* the last completions, fetches included */
    srv->done = NULL;
    dg_feed_free(srv->feed);
    srv->feed = NULL;
    dg_remind_free(srv->remind);
    srv->remind = NULL;
    dg_peers_report(srv->peers, dg_mono_ms(), true); /* what was left out of the log */
    uv_close((uv_handle_t *)&srv->sweep, close_cb_noop);
    uv_close((uv_handle_t *)&srv->drain, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sigint, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sigterm, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sighup, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sigsweep, close_cb_noop);
    dg_log_info("server", "msg=\"stopped\"");
}

static void drain_cb(uv_timer_t *t)
{
    dg_server *srv = t->data;
    int64_t waited = dg_mono_ms() - srv->drain_started_ms;
    uint64_t n_requests = dg_conns_requests(srv->conns);

    if (dg_conns_count(srv->conns) && (n_requests == 0 || waited > srv->cfg.shutdown_grace_ms)) {
        if (n_requests)
            dg_log_warn("server",
                        "msg=\"shutdown grace period over; closing connections\" "
                        "requests_in_flight=%" PRIu64,
                        n_requests);
        dg_conns_close_all(srv->conns);
    }
    if (dg_conns_count(srv->conns) == 0 && dg_conns_requests(srv->conns) == 0 && srv->n_jobs == 0) {
        uv_timer_stop(t);
        finish_shutdown(srv);
    }
}

static void start_shutdown(dg_server *srv, const char *why)
{
    if (srv->is_draining) {
        dg_log_warn("server", "msg=\"second signal: closing connections now\"");
        dg_conns_close_all(srv->conns);
        return;
    }
    dg_log_info("server",
                "msg=\"shutting down\" signal=%s connections=%u requests_in_flight=%" PRIu64, why,
                (unsigned)dg_conns_count(srv->conns), dg_conns_requests(srv->conns));
    srv->is_draining = true;
    srv->drain_started_ms = dg_mono_ms();
    dg_audit_later_flush(srv->audit_later, srv); /* a last chance; the writer runs its queue */
    uv_close((uv_handle_t *)&srv->listener, close_cb_noop);
    uv_timer_stop(&srv->sweep);
    dg_feed_stop(srv->feed);
    dg_remind_stop(srv->remind);
    dg_conns_pause_all(srv->conns);
    uv_timer_start(&srv->drain, drain_cb, 0, DRAIN_TICK_MS);
}

static void signal_cb(uv_signal_t *h, int signum)
{
    start_shutdown(h->data, signum == SIGINT ? "SIGINT" : signum == SIGHUP ? "SIGHUP" : "SIGTERM");
}

static void connection_cb(uv_stream_t *listener, int status)
{
    dg_server *srv = listener->data;

    if (status < 0) {
        dg_log_warn("server", "msg=\"accept failed\" error=\"%s\"", uv_strerror(status));
        return;
    }
    dg_conns_accept(srv->conns);
}

/* ------------------------------------------------------------ start-up */

static int open_reader(void *ud, void **ctx)
{
    char err[512];
    int rc = dg_store_open(ud, false, (dg_store **)ctx, err, sizeof err);

    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot open a read connection\" error=\"%s\"", err);
    return rc;
}

/* The loop's own read connection, for the reads it runs itself
 * (dg_server_read_here): it never sleeps on a lock. */
static int open_loop_store(dg_server *srv, char *path)
{
    int rc = open_reader(path, (void **)&srv->loop_store);

    if (rc == DG_OK)
        dg_store_never_wait(srv->loop_store);
    return rc;
}

static void close_reader(void *ctx)
{
    dg_store_close(ctx);
}

/* Refuses a data directory others can read: it holds personal data and keys. */
static int check_data_dir(const char *dir)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        dg_log_error("server",
                     "msg=\"no data directory\" data=%s error=\"%s\" hint=\"create one "
                     "with: dangand init --data %s\"",
                     dir, strerror(errno), dir);
        return DG_ENOTFOUND;
    }
    if (!S_ISDIR(st.st_mode)) {
        dg_log_error("server", "msg=\"not a directory\" data=%s", dir);
        return DG_EINVAL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        dg_log_error("server",
                     "msg=\"data directory is accessible by group or others\" data=%s "
                     "mode=%04o hint=\"chmod 700 %s\"",
                     dir, (unsigned)(st.st_mode & 07777), dir);
        return DG_EDENIED;
    }
    return DG_OK;
}

/* One dangand per data directory: two writers would break group commit. */
static int lock_data_dir(const char *dir, int *fd_out)
{
    char err[1400];
    int rc = dg_data_dir_lock(dir, "serve", false, fd_out, err, sizeof err);

    if (rc == DG_EBUSY)
        dg_log_error("server",
                     "msg=\"another dangand is already using this data directory\" data=%s", dir);
    else if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot lock the data directory\" error=\"%s\"", err);
    return rc;
}

/* Before anything opens the database for writing: the data directory is
 * checked (check.h), in full after an unclean shutdown, and refused with
 * the reason and the fix when it is not fit; nothing has been written then. */
static int startup_check(const char *dir)
{
    dg_check_report r;
    char err[512];
    int rc = dg_check_run(dir, DG_CHECK_STARTUP, &r);

    for (size_t i = 0; i < r.n_items; i++) {
        const dg_check_item *it = &r.items[i];

        if (it->status == DG_CHECK_FAIL)
            dg_log_error("check",
                         "msg=\"refusing to start\" check=\"%s\" problem=\"%s\" fix=\"%s\"",
                         it->name, it->message, it->fix);
        else if (it->status == DG_CHECK_WARN)
            dg_log_warn("check", "msg=\"starting anyway\" check=\"%s\" problem=\"%s\" fix=\"%s\"",
                        it->name, it->message, it->fix);
    }
    if (rc != DG_OK)
        return rc;
    dg_log_info(
        "check", "msg=\"data directory checked\" last_shutdown=%s recover_wal=%s elapsed_ms=%lld",
        r.was_clean ? "clean" : "unclean", r.has_wal ? "yes" : "no", (long long)r.elapsed_ms);
    if ((rc = dg_check_unmark_clean(dir, err, sizeof err)) != DG_OK)
        dg_log_error("check", "msg=\"cannot start\" error=\"%s\"", err);
    return rc;
}

/* At the end of a clean shutdown, the database closed: the next start may
 * skip the structure check. */
static void mark_clean(const dg_server *srv)
{
    char err[512];

    if (srv->is_storage_suspect)
        return;
    if (dg_check_mark_clean(srv->cfg.data_dir, err, sizeof err) != DG_OK)
        dg_log_warn("check",
                    "msg=\"cannot record the clean shutdown; the next start checks "
                    "the database in full\" error=\"%s\"",
                    err);
}

static int load_identity(dg_server *srv, dg_store *st, int64_t *feed_head)
{
    char epoch[32];
    int64_t min_len, restricted;

    if (dg_store_meta_get(st, "server_id", srv->server_id, sizeof srv->server_id) != DG_OK ||
        dg_store_meta_get(st, "feed_epoch", epoch, sizeof epoch) != DG_OK ||
        dg_store_setting_int(st, "password_min_length", DG_PASSWORD_MIN_CHARS, &min_len) != DG_OK ||
        dg_store_setting_int(st, DG_PERM_SETTING_RESTRICTED, DG_PERM_DEFAULT_RESTRICTED,
                             &restricted) != DG_OK ||
        dg_store_feed_head(st, feed_head) != DG_OK) {
        dg_log_error("server",
                     "msg=\"database lacks its identity; was it made by dangand init?\" "
                     "error=\"%s\"",
                     dg_store_errmsg(st));
        return DG_ECORRUPT;
    }
    srv->feed_epoch = strtoull(epoch, NULL, 10);
    srv->password_min_len = (uint32_t)min_len;
    srv->restricted_tiers = (uint32_t)restricted & (DG_TIER_BIT_A | DG_TIER_BIT_B | DG_TIER_BIT_C);
    return DG_OK;
}

/* The team's settings as stored (the defaults when none are). */
static int load_team(dg_server *srv, dg_store *st)
{
    dg_team t;
    dg_team_meta m;
    int rc = dg_store_team_get(st, &t, &m);

    if (rc == DG_ENOTFOUND)
        rc = DG_OK;
    if (rc != DG_OK) {
        dg_log_error("server", "msg=\"cannot read the team settings\" error=\"%s\"",
                     dg_store_errmsg(st));
        return rc;
    }
    dg_server_set_team_meta(srv, &t, &m);
    return DG_OK;
}

/* Name sort keys follow ICU's collation data; rebuild them if it changed. */
static int rekey(dg_store *st)
{
    int n, rc = dg_rec_rekey_if_needed(st, &n);

    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot rebuild name sort keys\" error=\"%s\"",
                     dg_store_errmsg(st));
    else if (n)
        dg_log_info("server",
                    "msg=\"rebuilt name sort keys for a new collation\" icu=%s "
                    "customers=%d",
                    dg_collate_version(), n);
    return rc;
}

/* Duplicate keys follow their rules (dupkey.h). */
static int dupkeys(dg_store *st)
{
    int n, rc = dg_rec_dupkeys_if_needed(st, &n);

    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot recompute duplicate keys\" error=\"%s\"",
                     dg_store_errmsg(st));
    else if (n)
        dg_log_info("server", "msg=\"recomputed duplicate keys\" version=%d customers=%d",
                    DG_DUPKEY_VERSION, n);
    return rc;
}

/* The search index follows its document layout and tokenizer version. */
static int reindex(dg_store *st)
{
    int n, rc = dg_rec_reindex_if_needed(st, &n);

    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot rebuild the search index\" error=\"%s\"",
                     dg_store_errmsg(st));
    else if (n)
        dg_log_info("server", "msg=\"rebuilt the search index\" version=%s records=%d",
                    DG_SEARCH_INDEX_VERSION, n);
    return rc;
}

/* Indexes a bulk load (dangand demo-data) set aside and, cut off, did not
 * make again (store_bulk.c). */
static int bulk_indexes(dg_store *st)
{
    int n, rc = dg_store_bulk_indexes_restore(st, &n);

    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot make the indexes a bulk load left out\" error=\"%s\"",
                     dg_store_errmsg(st));
    else if (n)
        dg_log_info("server", "msg=\"made the indexes a bulk load left out\" indexes=%d", n);
    return rc;
}

/* Opens the database, the writer, the readers and the hashers; *feed_head
 * gets the newest committed change seq, for the feed that owns it from then on. */
static int open_storage(dg_server *srv, int64_t *feed_head)
{
    char path[1200], err[512];
    unsigned n_hashers =
        srv->cfg.hash_threads ? srv->cfg.hash_threads : (unsigned)uv_available_parallelism();
    dg_pool_opts ro = {.name = "reader",
                       .n_threads = srv->cfg.readers,
                       .max_queued = srv->cfg.reader_queue,
                       .ctx_open = open_reader,
                       .ctx_close = close_reader,
                       .ud = path};
    dg_pool_opts ho = {.name = "hasher", .n_threads = n_hashers, .max_queued = HASH_QUEUE_MAX};
    dg_pool_opts bo = {.name = "background", .n_threads = 1, .max_queued = 1};
    dg_store *st;
    int rc;

    snprintf(path, sizeof path, "%s/%s", srv->cfg.data_dir, DG_DB_FILE);
    if ((rc = dg_store_open(path, true, &st, err, sizeof err)) != DG_OK) {
        dg_log_error("server", "msg=\"cannot open the database\" error=\"%s\"", err);
        return rc;
    }
    if ((rc = rekey(st)) != DG_OK || (rc = dupkeys(st)) != DG_OK || (rc = reindex(st)) != DG_OK ||
        (rc = bulk_indexes(st)) != DG_OK || (rc = load_identity(srv, st, feed_head)) != DG_OK ||
        (rc = load_team(srv, st)) != DG_OK || (rc = dg_users_load(srv->users, st)) != DG_OK ||
        (rc = dg_writer_new(st, srv->done, srv->cfg.writer_queue, &srv->writer)) != DG_OK) {
        dg_store_close(st);
        return rc;
    }
    if ((rc = dg_pool_new(&ro, srv->done, &srv->readers)) != DG_OK ||
        (rc = open_loop_store(srv, path)) != DG_OK ||
        (rc = dg_pool_new(&bo, srv->done, &srv->background)) != DG_OK ||
        (rc = dg_checkpointer_start(path, &srv->checkpointer)) != DG_OK)
        return rc;
    return dg_pool_new(&ho, srv->done, &srv->hashers);
}

static int make_dummy_hash(dg_server *srv)
{
    char pw[33];
    dg_argon2_params p = {srv->cfg.argon2_memory_kib, srv->cfg.argon2_iterations,
                          srv->cfg.argon2_lanes};
    int rc;

    dg_password_generate(pw, 32);
    rc = dg_password_hash(&p, pw, srv->dummy_hash, sizeof srv->dummy_hash);
    dg_wipe(pw, sizeof pw);
    if (rc != DG_OK)
        dg_log_error("server", "msg=\"argon2id does not work with these parameters\"");
    return rc;
}

static int open_tls(dg_server *srv)
{
    char cert[1200], key[1200], err[512];
    int rc;

    snprintf(cert, sizeof cert, "%s/%s", srv->cfg.data_dir, DG_CERT_FILE);
    snprintf(key, sizeof key, "%s/%s", srv->cfg.data_dir, DG_KEY_FILE);
    rc = dg_tls_conf_new_server(cert, key, &srv->tls, err, sizeof err);
    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot load TLS certificate and key\" error=\"%s\"", err);
    return rc;
}

/* max_connections, capped so accept never fails with EMFILE (docs/security.md). */
static uint32_t max_connections(const dg_server *srv)
{
    struct rlimit rl;
    rlim_t usable;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return srv->cfg.max_connections;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* raise the soft limit if we may; else live with it */
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    usable = rl.rlim_cur > FD_RESERVE + 64 + 64 ? rl.rlim_cur - FD_RESERVE - 64 : 16;
    if (usable >= srv->cfg.max_connections)
        return srv->cfg.max_connections;
    dg_log_warn("server",
                "msg=\"max_connections lowered to fit the open-file limit\" "
                "max_connections=%u nofile=%llu",
                (unsigned)usable, (unsigned long long)rl.rlim_cur);
    return (uint32_t)usable;
}

static int start_listening(dg_server *srv, uint32_t max_conns)
{
    char host[256], port[16], bound[256 + 16]; /* "[host]:port" */
    const char *colon = strrchr(srv->cfg.listen, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    struct sockaddr_storage ss;
    int len = sizeof ss, rc;

    snprintf(host, sizeof host, "%.*s", (int)(colon - srv->cfg.listen), srv->cfg.listen);
    snprintf(port, sizeof port, "%s", colon + 1);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:7443 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    /* Start-up only, before the loop runs: a blocking lookup is fine here. */
    if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0) {
        dg_log_error("server", "msg=\"cannot resolve listen address\" listen=%s error=\"%s\"",
                     srv->cfg.listen, gai_strerror(rc));
        return DG_EINVAL;
    }
    uv_tcp_init(&srv->loop, &srv->listener);
    srv->listener.data = srv;
    srv->conns = dg_conns_new(srv, (uv_stream_t *)&srv->listener, max_conns,
                              &(dg_conn_hooks){conn_request, conn_gone, conn_drained, srv});
    rc = uv_tcp_bind(&srv->listener, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 511, connection_cb);
    if (rc != 0) {
        dg_log_error("server", "msg=\"cannot listen\" listen=%s error=\"%s\"", srv->cfg.listen,
                     uv_strerror(rc));
        return DG_EIO;
    }
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
        snprintf(bound, sizeof bound, "[%s]:%u", host,
                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
        snprintf(bound, sizeof bound, "%s:%u", host, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    /* Tests and scripts wait for this line and read the port from addr=. */
    dg_log_info("server", "msg=\"listening\" addr=%s version=%s data=%s max_connections=%u", bound,
                DANGAN_VERSION, srv->cfg.data_dir, (unsigned)max_conns);
    return DG_OK;
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    DG_UNUSED(arg);
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int start(dg_server *srv)
{
    dg_throttle_opts to = {
        .pair_failures = srv->cfg.login_pair_failures,
        .pair_max_delay_ms = (int64_t)srv->cfg.login_pair_max_delay_s * 1000,
        .account_failures = srv->cfg.login_account_failures,
        .account_window_ms = (int64_t)srv->cfg.login_account_window_s * 1000,
        .account_max_delay_ms = (int64_t)srv->cfg.login_account_max_delay_s * 1000,
        .peer_failures = srv->cfg.login_peer_failures,
        .peer_block_ms = (int64_t)srv->cfg.login_peer_block_s * 1000,
        .account_max_in_flight = srv->cfg.login_account_max_in_flight,
        .peer_max_in_flight = srv->cfg.login_peer_max_in_flight,
        .known_ms = (int64_t)srv->cfg.login_known_address_days * 86400 * 1000,
    };
    int64_t feed_head = 0;
    int rc;

    srv->sessions = dg_sessions_new(session_cb, srv);
    srv->audit_later = dg_audit_later_new();
    srv->users = dg_users_new();
    srv->throttle = dg_throttle_new(&to);
    srv->peers = dg_peers_new(srv->cfg.max_unauth_per_address);
    if ((rc = dg_completions_new(&srv->loop, job_done_hook, srv, &srv->done)) != DG_OK ||
        (rc = dg_server_records_init(srv)) != DG_OK)
        return rc;
    if ((rc = open_storage(srv, &feed_head)) != DG_OK || (rc = make_dummy_hash(srv)) != DG_OK ||
        (rc = open_tls(srv)) != DG_OK)
        return rc;
    srv->feed = dg_feed_new(srv, feed_head);
    srv->remind = dg_remind_new(srv);
    srv->started_at = dg_now_ms();
    srv->backups = dg_backups_new(srv);
    uv_signal_init(&srv->loop, &srv->sigint);
    uv_signal_init(&srv->loop, &srv->sigterm);
    uv_signal_init(&srv->loop, &srv->sighup);
    uv_signal_init(&srv->loop, &srv->sigsweep);
    srv->sigint.data = srv->sigterm.data = srv->sighup.data = srv->sigsweep.data = srv;
    uv_signal_start(&srv->sigint, signal_cb, SIGINT);
    uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
    /* A hang-up (the terminal closed) stops cleanly too: dangand has no
     * configuration to reload, and dying by the default action would leave
     * no clean-shutdown marker (the next start checks the database). */
    uv_signal_start(&srv->sighup, signal_cb, SIGHUP);
    if (dg_clock_is_driven()) /* never in production: SIGUSR1 keeps its default there */
        uv_signal_start(&srv->sigsweep, sweep_now_cb, SIGUSR1);
    uv_timer_init(&srv->loop, &srv->sweep);
    uv_timer_init(&srv->loop, &srv->drain);
    srv->sweep.data = srv->drain.data = srv;
    srv->touched_ms = dg_mono_ms();
    uv_timer_start(&srv->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
    /* Last: scripts and tests act on the "listening" line, and a SIGTERM
     * sent then must find its handler (not end the process unclean). */
    return start_listening(srv, max_connections(srv));
}

/* After a failed start: stop whatever started, close every handle, drain the loop. */
static void abort_start(dg_server *srv)
{
    dg_checkpointer_stop(srv->checkpointer);
    dg_pool_free(srv->readers);
    dg_pool_free(srv->hashers);
    dg_pool_free(srv->background);
    dg_backups_free(srv->backups);
    dg_store_close(srv->loop_store);
    dg_writer_free(srv->writer);
    if (srv->done)
        dg_completions_close(srv->done);
    /* The feed frees itself in its handles' close callbacks: it closes them
     * here, before the walk below closes whatever is left without one. */
    dg_feed_free(srv->feed);
    srv->feed = NULL;
    dg_remind_free(srv->remind);
    srv->remind = NULL;
    uv_walk(&srv->loop, close_walk_cb, NULL);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
}

/* The server struct itself, once everything it held is closed. */
static void free_server(dg_server *srv)
{
    uv_mutex_destroy(&srv->team_lock);
    free(srv);
}

int dg_serve_run(const dg_config *cfg)
{
    dg_server *srv = dg_xcalloc(1, sizeof *srv);
    int lock_fd = -1, rc, exit_code = 1;

    dg_thread_set_role(DG_THREAD_LOOP);
    srv->cfg = *cfg;
    dg_team_defaults(&srv->team);
    uv_mutex_init(&srv->team_lock);
    /* A client closing mid-reply must not kill the server; libuv does not
     * suppress SIGPIPE for us. */
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&srv->loop) != 0) {
        free_server(srv);
        return 1;
    }
    if ((rc = check_data_dir(cfg->data_dir)) != DG_OK ||
        (rc = lock_data_dir(cfg->data_dir, &lock_fd)) != DG_OK) {
        uv_loop_close(&srv->loop);
        free_server(srv);
        return 1;
    }
    if ((rc = startup_check(cfg->data_dir)) != DG_OK) {
        close(lock_fd);
        uv_loop_close(&srv->loop);
        free_server(srv);
        return rc == DG_ECORRUPT ? DG_EXIT_REFUSED : 1;
    }
    if ((rc = start(srv)) != DG_OK) {
        abort_start(srv);
    } else {
        uv_run(&srv->loop, UV_RUN_DEFAULT);
        mark_clean(srv);
        exit_code = 0;
    }
    if (uv_loop_close(&srv->loop) != 0) {
        dg_log_error("server", "msg=\"event loop still had open handles at exit\"");
        exit_code = 1;
    }
    dg_sessions_free(srv->sessions);
    dg_audit_later_free(srv->audit_later);
    dg_users_free(srv->users);
    dg_throttle_free(srv->throttle);
    dg_peers_free(srv->peers);
    dg_conns_free(srv->conns);
    dg_tls_conf_free(srv->tls);
    close(lock_fd);
    free_server(srv);
    return exit_code;
}
