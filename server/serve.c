/* serve.c - `dangand serve`: start-up, signals, timers, shutdown.
 *
 * Owns: the dg_server (server_int.h) and everything hanging off it (the
 * loops (loops.c), the listener, writer, pools, sessions, throttle, the data
 * directory lock).
 * Start-up: the data directory is checked before anything writes (check.h),
 * then the database opens, then TLS, then the listener (last: scripts act on
 * its "listening" line), then the threads of loops 1..n-1.
 * Shutdown order: stop accepting → every loop stops reading requests → each
 * waits for its in-flight requests (up to shutdown_grace_ms) → closes its
 * connections gracefully → waits for its last jobs → its thread ends; then
 * loop 0 stops pools and writer (the writer commits what is queued) → close
 * the database → exit 0.
 * Runs on: loop 0 (the thread that called dg_serve_run).
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
#include "loops.h"
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
#define FD_RESERVE 64 /* descriptors kept for SQLite, logs, the listener */
#define HASH_QUEUE_MAX 256

/* ------------------------------------------------------------ timers and signals */

static void session_cb(dg_session *s, void *ud)
{
    dg_upkeep_session(ud, s);
}

/* Loop 0's sweep: its connections, and the upkeep of what all share. */
static void sweep_cb(uv_timer_t *t)
{
    struct dg_loop *l = t->data;
    dg_server *srv = l->srv;
    int64_t now = dg_mono_ms();

    dg_conns_sweep(l->conns);
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
    sweep_cb(&srv->loops[0].sweep);
    dg_loops_sweep_now(srv); /* every loop's connections, before the log line says so */
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

/* Last step of a shutdown, once every loop is drained and the others have
 * ended: everything that runs jobs stops, then loop 0's handles. */
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
    /* The loop's read connection before the writer's: the last to close
     * checkpoints the WAL and removes it. */
    dg_store_close(srv->loops[0].store);
    srv->loops[0].store = NULL;
    /* After a storage error the next start must look at the database again. */
    srv->is_storage_suspect = dg_writer_is_readonly(srv->writer);
    dg_writer_free(srv->writer); /* joins after committing its queue; closes the database */
    srv->readers = srv->hashers = NULL;
    srv->writer = NULL;
    dg_loop_close(&srv->loops[0]); /* the last completions, fetches included */
    dg_remind_free(srv->remind);
    srv->remind = NULL;
    dg_peers_report(srv->peers, dg_mono_ms(), true); /* what was left out of the log */
    uv_close((uv_handle_t *)&srv->sigint, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sigterm, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sighup, close_cb_noop);
    uv_close((uv_handle_t *)&srv->sigsweep, close_cb_noop);
    dg_log_info("server", "msg=\"stopped\"");
}

static void drain_cb(uv_timer_t *t)
{
    struct dg_loop *l = t->data;

    if (dg_loop_drained(l) && dg_loops_others_done(l->srv)) {
        uv_timer_stop(t);
        finish_shutdown(l->srv);
    }
}

static void start_shutdown(dg_server *srv, const char *why)
{
    if (srv->is_draining) {
        dg_log_warn("server", "msg=\"second signal: closing connections now\"");
        dg_loops_close_conns(srv);
        return;
    }
    dg_log_info("server", "msg=\"shutting down\" signal=%s connections=%u loops=%u", why,
                (unsigned)dg_server_connections(srv), srv->n_loops);
    __atomic_store_n(&srv->is_draining, true, __ATOMIC_RELEASE);
    dg_audit_later_flush(srv->audit_later, srv); /* a last chance; the writer runs its queue */
    dg_remind_stop(srv->remind);
    dg_loops_drain(srv, drain_cb); /* closes the listener, stops the sweeps */
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
    dg_loops_accept(srv); /* to the next loop in turn */
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

/* Search documents a crash left queued (dg_store_search_defer) go into the
 * index before the first search. */
static int apply_search_queue(dg_store *st)
{
    int64_t n;
    int rc = dg_store_search_defer(st, false);

    n = dg_store_search_queued(st);
    if (rc == DG_OK && n > 0) {
        if ((rc = dg_store_begin(st)) == DG_OK && (rc = dg_store_search_apply(st)) == DG_OK)
            rc = dg_store_commit(st);
        if (rc != DG_OK)
            dg_store_rollback(st);
    }
    if (rc != DG_OK)
        dg_log_error("server", "msg=\"cannot apply the search queue\" error=\"%s\"",
                     dg_store_errmsg(st));
    else if (n > 0)
        dg_log_info("server", "msg=\"applied the search queue\" documents=%lld", (long long)n);
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
    dg_writer_search so = {srv->cfg.search_apply_ops, srv->cfg.search_idle_ms};
    dg_store *st;
    int rc;

    snprintf(path, sizeof path, "%s/%s", srv->cfg.data_dir, DG_DB_FILE);
    if ((rc = dg_store_open(path, true, &st, err, sizeof err)) != DG_OK) {
        dg_log_error("server", "msg=\"cannot open the database\" error=\"%s\"", err);
        return rc;
    }
    if ((rc = rekey(st)) != DG_OK || (rc = dupkeys(st)) != DG_OK || (rc = reindex(st)) != DG_OK ||
        (rc = apply_search_queue(st)) != DG_OK || (rc = bulk_indexes(st)) != DG_OK ||
        (rc = load_identity(srv, st, feed_head)) != DG_OK || (rc = load_team(srv, st)) != DG_OK ||
        (rc = dg_users_load(srv->users, st)) != DG_OK ||
        (rc = dg_writer_new(st, srv->loops[0].done, srv->cfg.writer_queue, &so, &srv->writer)) !=
            DG_OK) {
        dg_store_close(st);
        return rc;
    }
    if ((rc = dg_pool_new(&ro, srv->loops[0].done, &srv->readers)) != DG_OK ||
        (rc = dg_loops_open_store(srv, path)) != DG_OK ||
        (rc = dg_pool_new(&bo, srv->loops[0].done, &srv->background)) != DG_OK ||
        (rc = dg_checkpointer_start(path, &srv->checkpointer)) != DG_OK)
        return rc;
    return dg_pool_new(&ho, srv->loops[0].done, &srv->hashers);
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
    char cert[1200], key[1200];

    snprintf(cert, sizeof cert, "%s/%s", srv->cfg.data_dir, DG_CERT_FILE);
    snprintf(key, sizeof key, "%s/%s", srv->cfg.data_dir, DG_KEY_FILE);
    return dg_loops_open_tls(srv, cert, key);
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

static int start_listening(dg_server *srv, uint32_t max_conns, int64_t feed_head)
{
    struct dg_loop *l0 = &srv->loops[0];
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
    uv_tcp_init(&l0->uv, &l0->listener);
    l0->listener.data = srv;
    dg_loops_serve(srv, feed_head, max_conns, (uv_stream_t *)&l0->listener, sweep_cb);
    rc = uv_tcp_bind(&l0->listener, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l0->listener, 511, connection_cb);
    if (rc != 0) {
        dg_log_error("server", "msg=\"cannot listen\" listen=%s error=\"%s\"", srv->cfg.listen,
                     uv_strerror(rc));
        return DG_EIO;
    }
    uv_tcp_getsockname(&l0->listener, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
        snprintf(bound, sizeof bound, "[%s]:%u", host,
                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
        snprintf(bound, sizeof bound, "%s:%u", host, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    /* Tests and scripts wait for this line and read the port from addr=. */
    dg_log_info("server",
                "msg=\"listening\" addr=%s version=%s data=%s max_connections=%u loops=%u", bound,
                DANGAN_VERSION, srv->cfg.data_dir, (unsigned)max_conns, srv->n_loops);
    return DG_OK;
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
    unsigned n_loops = srv->cfg.loops ? srv->cfg.loops : (unsigned)uv_available_parallelism();
    int64_t feed_head = 0;
    int rc;

    srv->sessions = dg_sessions_new(session_cb, srv);
    srv->audit_later = dg_audit_later_new();
    srv->users = dg_users_new();
    srv->throttle = dg_throttle_new(&to);
    srv->peers = dg_peers_new(srv->cfg.max_unauth_per_address);
    if ((rc = dg_loops_new(srv, n_loops)) != DG_OK)
        return rc;
    if ((rc = open_storage(srv, &feed_head)) != DG_OK || (rc = make_dummy_hash(srv)) != DG_OK ||
        (rc = open_tls(srv)) != DG_OK)
        return rc;
    srv->feed_head = feed_head;
    srv->remind = dg_remind_new(srv);
    srv->started_at = dg_now_ms();
    srv->backups = dg_backups_new(srv);
    uv_signal_init(&srv->loops[0].uv, &srv->sigint);
    uv_signal_init(&srv->loops[0].uv, &srv->sigterm);
    uv_signal_init(&srv->loops[0].uv, &srv->sighup);
    uv_signal_init(&srv->loops[0].uv, &srv->sigsweep);
    srv->sigint.data = srv->sigterm.data = srv->sighup.data = srv->sigsweep.data = srv;
    uv_signal_start(&srv->sigint, signal_cb, SIGINT);
    uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
    /* A hang-up (the terminal closed) stops cleanly too: dangand has no
     * configuration to reload, and dying by the default action would leave
     * no clean-shutdown marker (the next start checks the database). */
    uv_signal_start(&srv->sighup, signal_cb, SIGHUP);
    if (dg_clock_is_driven()) /* never in production: SIGUSR1 keeps its default there */
        uv_signal_start(&srv->sigsweep, sweep_now_cb, SIGUSR1);
    srv->touched_ms = dg_mono_ms();
    /* Last: scripts and tests act on the "listening" line, and a SIGTERM
     * sent then must find its handler (not end the process unclean). The
     * other loops' threads start after it: nothing fails after them. */
    if ((rc = start_listening(srv, max_connections(srv), feed_head)) != DG_OK)
        return rc;
    return dg_loops_start_threads(srv);
}

/* After a failed start: stop whatever started, close every handle, drain the loop. */
static void abort_start(dg_server *srv)
{
    dg_checkpointer_stop(srv->checkpointer);
    dg_pool_free(srv->readers);
    dg_pool_free(srv->hashers);
    dg_pool_free(srv->background);
    dg_backups_free(srv->backups);
    for (unsigned i = 0; i < srv->n_loops; i++) {
        dg_store_close(srv->loops[i].store);
        srv->loops[i].store = NULL;
    }
    dg_writer_free(srv->writer);
    srv->writer = NULL;
    dg_remind_free(srv->remind);
    srv->remind = NULL;
    dg_loops_abort(srv); /* closes every loop's handles, signals and timers included */
}

/* The server struct itself, once everything it held is closed. */
static void free_server(dg_server *srv)
{
    uv_mutex_destroy(&srv->team_lock);
    uv_mutex_destroy(&srv->state_lock);
    uv_mutex_destroy(&srv->inbox_lock);
    uv_sem_destroy(&srv->swept);
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
    uv_mutex_init(&srv->state_lock);
    uv_mutex_init(&srv->inbox_lock);
    uv_sem_init(&srv->swept, 0);
    /* A client closing mid-reply must not kill the server; libuv does not
     * suppress SIGPIPE for us. */
    signal(SIGPIPE, SIG_IGN);
    if ((rc = check_data_dir(cfg->data_dir)) != DG_OK ||
        (rc = lock_data_dir(cfg->data_dir, &lock_fd)) != DG_OK) {
        free_server(srv);
        return 1;
    }
    if ((rc = startup_check(cfg->data_dir)) != DG_OK) {
        close(lock_fd);
        free_server(srv);
        return rc == DG_ECORRUPT ? DG_EXIT_REFUSED : 1;
    }
    if ((rc = start(srv)) != DG_OK) {
        abort_start(srv);
    } else {
        uv_run(&srv->loops[0].uv, UV_RUN_DEFAULT); /* until every loop has stopped */
        mark_clean(srv);
        exit_code = 0;
    }
    if (!dg_loops_free(srv))
        exit_code = 1;
    dg_sessions_free(srv->sessions);
    dg_audit_later_free(srv->audit_later);
    dg_users_free(srv->users);
    dg_throttle_free(srv->throttle);
    dg_peers_free(srv->peers);
    close(lock_fd);
    free_server(srv);
    return exit_code;
}
