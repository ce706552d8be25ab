/* backups.c - scheduled backups: the schedule, the run, the record.
 *
 * Once a day at [backup] time (the server's time zone, TZ), the sweep
 * starts a run on the background thread (dg_server_background): the loop
 * never waits for it. The run is dangand backup's (backup.c): SQLite's
 * online backup through a connection of its own, the copy verified
 * (structure, the whole audit chain) and, with a key_file, sealed and read
 * back; named dangan-YYYYMMDDTHHMMSSZ.db (.dgbk when encrypted) in
 * [backup] dir with its .sha256. Only after a verified copy are the copies
 * beyond [backup] keep removed, oldest first: a failing run never costs
 * one that worked. Back on the loop, the result is kept for `dangan server
 * stats`, logged, and audited as system.backup (outcome ok or error) by a
 * write job; an audit record the writer cannot take waits in audit_later.
 *
 * Owns: the schedule (next run), whether a run is in flight.
 * Runs on: the loop thread; run_run on the background thread, which sees
 * only its own struct run.
 */
#include "backups.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "audit_later.h"
#include "backup.h"
#include "clock.h"
#include "dg.h"
#include "log.h"
#include "writer.h"

#define PREFIX "dangan-"
#define STAMP_LEN 16 /* 20261207T023000Z */
#define MAX_KEPT_SCAN 100000

struct dg_backups {
    int64_t next_at; /* unix ms of the next run */
    bool is_running;
};

/* One run: what it needs (copied: the worker touches nothing else) and
 * what it found. */
struct run {
    dg_job job;
    dg_backups *b;
    dg_server *srv;
    char data_dir[1024], dir[1024], key_file[1024];
    uint32_t keep;
    dg_backup_status st;
    int n_removed;
};

/* The first instant after `now_ms` at `minute` of a day, local time. */
static int64_t next_due(int64_t now_ms, int32_t minute)
{
    time_t now = (time_t)(now_ms / 1000), t;
    struct tm tm;

    localtime_r(&now, &tm);
    tm.tm_hour = minute / 60;
    tm.tm_min = minute % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if ((int64_t)t * 1000 <= now_ms) {
        tm.tm_mday++; /* mktime normalises the month and the DST change */
        tm.tm_hour = minute / 60;
        tm.tm_min = minute % 60;
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    return (int64_t)t * 1000;
}

/* What `dangan server stats` says of the schedule. */
static void note_next(dg_server *srv, int64_t next_at)
{
    dg_backup_status st;

    dg_server_last_backup(srv, &st);
    st.is_scheduled = true;
    st.is_encrypted = dg_server_config(srv)->backup_key_file[0] != '\0';
    st.next_at = next_at;
    dg_server_set_last_backup(srv, &st);
}

dg_backups *dg_backups_new(dg_server *srv)
{
    const dg_config *cfg = dg_server_config(srv);
    dg_backups *b;
    char at[32];

    if (cfg->backup_minute < 0)
        return NULL;
    b = dg_xcalloc(1, sizeof *b);
    b->next_at = next_due(dg_now_ms(), cfg->backup_minute);
    note_next(srv, b->next_at);
    if (cfg->backup_key_file[0]) { /* a key file that cannot work is said at start, not at 02:30 */
        dg_backup_secret secret;
        char err[1400];

        if (dg_backup_secret_from_file(cfg->backup_key_file, &secret, err, sizeof err) != DG_OK)
            dg_log_warn("backup",
                        "msg=\"the backup key file cannot be used; the scheduled backups will "
                        "fail until it can\" error=\"%s\"",
                        err);
        dg_backup_secret_wipe(&secret);
    }
    if (access(cfg->backup_dir, W_OK) != 0)
        dg_log_warn("backup",
                    "msg=\"the backup directory is not writable now; the scheduled backups "
                    "will fail until it is\" dir=%s error=\"%s\"",
                    cfg->backup_dir, strerror(errno));
    dg_log_info("backup", "msg=\"scheduled backups\" dir=%s keep=%u encrypted=%s next=%s",
                cfg->backup_dir, (unsigned)cfg->backup_keep, cfg->backup_key_file[0] ? "yes" : "no",
                dg_iso8601_utc(b->next_at, at, sizeof at));
    return b;
}

void dg_backups_free(dg_backups *b)
{
    if (b)
        dg_assert(!b->is_running);
    free(b);
}

/* ------------------------------------------------------------ the run (background thread) */

/* A name this schedule gave: PREFIX, a stamp, .db or .dgbk. */
static bool is_ours(const char *name)
{
    size_t n = strlen(name), base = strlen(PREFIX) + STAMP_LEN;

    if (strncmp(name, PREFIX, strlen(PREFIX)) != 0 || n < base)
        return false;
    for (size_t i = strlen(PREFIX); i < base; i++) {
        char c = name[i];

        if (!((c >= '0' && c <= '9') || (i == strlen(PREFIX) + 8 && c == 'T') ||
              (i == base - 1 && c == 'Z')))
            return false;
    }
    return strcmp(name + base, ".db") == 0 || strcmp(name + base, ".dgbk") == 0;
}

static int by_name_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Removes this schedule's copies beyond the newest `keep` (and their
 * checksum files); their stamps sort as their times. */
static int prune(const char *dir, uint32_t keep)
{
    char **names = NULL, path[2400];
    size_t n = 0, cap = 0;
    struct dirent *e;
    int removed = 0;
    DIR *d = opendir(dir);

    if (!d)
        return 0;
    while ((e = readdir(d)) && n < MAX_KEPT_SCAN) {
        if (!is_ours(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = dg_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = dg_xstrdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name_desc);
    for (size_t i = 0; i < n; i++) {
        if (i >= keep) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            removed += unlink(path) == 0;
            snprintf(path, sizeof path, "%s/%s.sha256", dir, names[i]);
            (void)unlink(path); /* absent when it was copied in by hand: fine */
        }
        free(names[i]);
    }
    free(names);
    return removed;
}

static void run_run(dg_job *job, void *ctx)
{
    struct run *r = (struct run *)job;
    dg_backup_secret secret;
    dg_backup_result res;
    char stamp[32];
    time_t now;
    struct tm tm;
    bool is_sealed = r->key_file[0] != '\0';
    int rc = DG_OK;

    DG_UNUSED(ctx);
    now = (time_t)(dg_now_ms() / 1000);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(r->st.file, sizeof r->st.file, "%s/" PREFIX "%s%s", r->dir, stamp,
             is_sealed ? ".dgbk" : ".db");
    /* read at every run: a new key file takes effect without a restart */
    if (is_sealed)
        rc = dg_backup_secret_from_file(r->key_file, &secret, r->st.error, sizeof r->st.error);
    if (rc == DG_OK)
        rc = dg_backup_run(r->data_dir, r->st.file, is_sealed ? &secret : NULL, &res, NULL,
                           r->st.error, sizeof r->st.error);
    if (is_sealed)
        dg_backup_secret_wipe(&secret);
    r->st.is_ok = rc == DG_OK;
    if (rc == DG_OK) {
        r->st.bytes = res.bytes;
        r->n_removed = prune(r->dir, r->keep);
    }
    r->st.at = dg_now_ms();
    job->rc = rc;
}

/* ------------------------------------------------------------ the record (writer) */

struct record {
    dg_job job;
    dg_server *srv;
    dg_audit_rec rec;
    char *detail;
};

static void record_run(dg_job *job, void *ctx)
{
    struct record *a = (struct record *)job;
    dg_wtx *tx = ctx;

    job->rc = dg_audit_append(tx->store, tx->audit, &a->rec);
}

static void record_done(dg_job *job)
{
    struct record *a = (struct record *)job;

    if (job->rc != DG_OK &&
        (!dg_audit_later_may(job->rc) ||
         dg_audit_later_add(dg_server_audit_later(a->srv), &a->rec, job->rc) != DG_OK))
        dg_log_warn("backup", "msg=\"cannot audit the scheduled backup\" error=\"%s\"",
                    dg_strerror(job->rc));
    /* tests wait for this line: the run and its record are complete */
    dg_log_info("backup", "msg=\"scheduled backup recorded\" outcome=%s", a->rec.outcome);
    free(a->detail);
    free(a);
}

static void audit_run(dg_server *srv, const struct run *r, bool is_encrypted)
{
    struct record *a = dg_xcalloc(1, sizeof *a);
    json_t *d = r->st.is_ok ? json_pack("{s:s,s:I,s:b,s:i}", "file", r->st.file, "bytes",
                                        (json_int_t)r->st.bytes, "encrypted", is_encrypted,
                                        "removed", r->n_removed)
                            : json_pack("{s:s,s:b,s:s}", "file", r->st.file, "encrypted",
                                        is_encrypted, "error", r->st.error);

    a->detail = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    a->srv = srv;
    a->rec = (dg_audit_rec){.at = r->st.at,
                            .username = "",
                            .peer = "local",
                            .action = "system.backup",
                            .entity = "system",
                            .outcome = r->st.is_ok ? "ok" : "error",
                            .detail = a->detail ? a->detail : "{}"};
    a->job.run = record_run;
    a->job.done = record_done;
    if (dg_server_write(srv, &a->job) != DG_OK) {
        a->job.rc = dg_server_is_read_only(srv) ? DG_EREADONLY : DG_EFULL;
        record_done(&a->job);
    }
}

static void run_done(dg_job *job)
{
    struct run *r = (struct run *)job;

    r->b->is_running = false;
    r->st.is_scheduled = true;
    r->st.is_encrypted = r->key_file[0] != '\0';
    r->st.next_at = r->b->next_at;
    dg_server_set_last_backup(r->srv, &r->st);
    if (r->st.is_ok)
        dg_log_info("backup",
                    "msg=\"scheduled backup written and verified\" file=%s bytes=%" PRId64
                    " removed=%d",
                    r->st.file, r->st.bytes, r->n_removed);
    else
        dg_log_warn("backup", "msg=\"scheduled backup failed\" file=%s error=\"%s\"", r->st.file,
                    r->st.error);
    audit_run(r->srv, r, r->key_file[0] != '\0');
    free(r);
}

void dg_backups_sweep(dg_backups *b, dg_server *srv)
{
    const dg_config *cfg;
    int64_t now = dg_now_ms();
    struct run *r;

    if (!b || now < b->next_at)
        return;
    cfg = dg_server_config(srv);
    b->next_at = next_due(now, cfg->backup_minute);
    note_next(srv, b->next_at);
    if (b->is_running) {
        dg_log_warn("backup", "msg=\"scheduled backup skipped: the previous one still runs\"");
        return;
    }
    r = dg_xcalloc(1, sizeof *r);
    r->b = b;
    r->srv = srv;
    snprintf(r->data_dir, sizeof r->data_dir, "%s", cfg->data_dir);
    snprintf(r->dir, sizeof r->dir, "%s", cfg->backup_dir);
    snprintf(r->key_file, sizeof r->key_file, "%s", cfg->backup_key_file);
    r->keep = cfg->backup_keep;
    r->job.run = run_run;
    r->job.done = run_done;
    if (dg_server_background(srv, &r->job) != DG_OK) {
        dg_log_warn("backup", "msg=\"scheduled backup skipped: the background thread is busy\"");
        free(r);
        return;
    }
    b->is_running = true;
    dg_log_info("backup", "msg=\"scheduled backup started\"");
}
