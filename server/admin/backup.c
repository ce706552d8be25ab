/* backup.c - dangand backup and dangand restore (docs/operations.md).
 *
 * A backup is a consistent copy of the database of one moment, taken with
 * SQLite's online backup while the server may be running, and verified
 * before it gets its name: the file's structure (quick_check) and the whole
 * audit hash chain. Its SHA-256 goes into FILE.sha256 (sha256sum's format):
 * SQLite pages carry no checksums, so a bit flipped in a stored text later
 * would pass every structural check. A restore runs with the server stopped
 * (it takes the data directory's lock): it checks the SHA-256 (or, for an
 * encrypted backup, opens it: every chunk authenticates), verifies the
 * backup as above, keeps the database it replaces in a directory of its
 * own, puts the copy in place, and gives it a new change-feed epoch, so
 * every client's cursor from before gets ResyncRequired instead of a silent
 * mix of two histories. The restore is itself audited in the restored log.
 * An encrypted backup
 * (backup_seal.c) is the verified copy sealed with AES-256-GCM under a key
 * derived from a passphrase or key file; its plain copy is made inside the
 * data directory and removed.
 *
 * Owns, for one run: the store connections it opens and the lock.
 */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/sha256.h>

#include "audit.h"
#include "backup_seal.h"
#include "clock.h"
#include "dg.h"
#include "hex.h"
#include "init.h"
#include "store.h"

#define PATH_LEN 1200

/* What a verified database holds. */
struct verified {
    dg_audit_chain head; /* the audit log's newest record */
    int64_t feed_head;   /* the newest change */
    int64_t schema;
};

/* Checks the database file at `path`: its structure, its schema version
 * (this program must know it) and the whole audit chain. The file is ours
 * alone and whole (no WAL: its last connection checkpointed it): it is read
 * as an immutable file, which leaves no -wal or -shm file beside it. */
static int verify_file(const char *path, struct verified *v, char *err, size_t err_len)
{
    dg_audit_verdict verdict;
    char why[512];
    dg_store *st;
    int rc;

    if ((rc = dg_store_open_inspect(path, false, &st, why, sizeof why)) != DG_OK) {
        snprintf(err, err_len, "%s is not a dangan database: %s", path, why);
        return rc;
    }
    if ((rc = dg_store_schema_version(st, &v->schema)) != DG_OK || v->schema != DG_SCHEMA_VERSION) {
        if (rc == DG_OK)
            snprintf(err, err_len, "%s is not a dangan database of schema v%d (it has v%lld)", path,
                     DG_SCHEMA_VERSION, (long long)v->schema);
        else
            snprintf(err, err_len, "%s is not a dangan database: %s", path, dg_store_errmsg(st));
        dg_store_close(st);
        return rc == DG_OK ? DG_ECORRUPT : rc;
    }
    if ((rc = dg_store_quick_check(st, why, sizeof why)) != DG_OK) {
        snprintf(err, err_len, "%s is damaged: %s", path, why);
    } else if ((rc = dg_store_read_begin(st)) == DG_OK) {
        if ((rc = dg_store_schema_version(st, &v->schema)) == DG_OK &&
            (rc = dg_audit_verify(st, NULL, &verdict)) == DG_OK &&
            (rc = dg_store_feed_head(st, &v->feed_head)) == DG_OK) {
            v->head = verdict.head;
            if (!verdict.ok) {
                snprintf(err, err_len, "the audit log in %s is broken at record %" PRId64 ": %s",
                         path, verdict.first_bad_seq, verdict.problem);
                rc = DG_ECORRUPT;
            }
        } else {
            snprintf(err, err_len, "cannot read %s: %s", path, dg_store_errmsg(st));
        }
        dg_store_read_end(st);
    } else {
        snprintf(err, err_len, "cannot read %s: %s", path, dg_store_errmsg(st));
    }
    dg_store_close(st);
    return rc;
}

static void fsync_dir_of(const char *path)
{
    char dir[PATH_LEN];
    char *slash;
    int fd;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(fd); /* the new name survives a crash; best effort beyond that */
        close(fd);
    }
}

/* Removes a database file and the WAL and shared-memory files beside it. */
static void remove_database(const char *path)
{
    char p[PATH_LEN + 64];

    (void)unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    (void)unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    (void)unlink(p);
}

/* A new, empty file `path` (mode 0600); a leftover of an interrupted run
 * is removed first. */
static int create_private(const char *path, int *fd_out, char *err, size_t err_len)
{
    int fd;

    remove_database(path);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return DG_EIO;
    }
    *fd_out = fd;
    return DG_OK;
}

/* Gives `part` the name `to`, never over an existing file. */
static int name_new_file(const char *part, const char *to, char *err, size_t err_len)
{
    if (link(part, to) != 0) {
        snprintf(err, err_len, "cannot name the copy %s: %s%s", to, strerror(errno),
                 errno == EEXIST ? " (a backup never overwrites a file)" : "");
        return errno == EEXIST ? DG_EEXIST : DG_EIO;
    }
    (void)unlink(part);
    fsync_dir_of(to);
    return DG_OK;
}

/* Copies the file `from` into the new file `to` and syncs it. */
static int copy_file(const char *from, const char *to, char *err, size_t err_len)
{
    uint8_t buf[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC), out, rc;
    ssize_t n = 0;

    if (in < 0) {
        snprintf(err, err_len, "cannot read %s: %s", from, strerror(errno));
        return DG_EIO;
    }
    if ((rc = create_private(to, &out, err, err_len)) != DG_OK) {
        close(in);
        return rc;
    }
    while (rc == DG_OK && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            rc = DG_EIO;
    if (rc != DG_OK || n < 0 || fsync(out) != 0) {
        snprintf(err, err_len, "cannot copy %s to %s: %s", from, to, strerror(errno));
        rc = DG_EIO;
    }
    close(in);
    close(out);
    if (rc != DG_OK)
        (void)unlink(to);
    return rc;
}

/* The SHA-256 of the file at `path`, in hex. */
static int file_sha256(const char *path, char hex[65], char *err, size_t err_len)
{
    mbedtls_sha256_context ctx;
    uint8_t buf[65536], sum[32];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = DG_OK;

    if (!f) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return DG_EIO;
    }
    mbedtls_sha256_init(&ctx);
    (void)mbedtls_sha256_starts_ret(&ctx, 0); /* cannot fail for SHA-256 */
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        (void)mbedtls_sha256_update_ret(&ctx, buf, n);
    if (ferror(f)) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        rc = DG_EIO;
    }
    (void)mbedtls_sha256_finish_ret(&ctx, sum);
    mbedtls_sha256_free(&ctx);
    fclose(f);
    dg_hex_encode(sum, sizeof sum, hex);
    return rc;
}

/* Writes NAME.sha256 for the content of `path` (the copy that will be
 * named `name`), as `sha256sum NAME` would. */
static int write_checksum(const char *path, const char *name, char *err, size_t err_len)
{
    char hex[65], sum_path[PATH_LEN + 8];
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    FILE *f;
    int fd, rc;

    if ((rc = file_sha256(path, hex, err, err_len)) != DG_OK)
        return rc;
    snprintf(sum_path, sizeof sum_path, "%s.sha256", name);
    fd = open(sum_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, err_len, "cannot write %s: %s", sum_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DG_EIO;
    }
    fprintf(f, "%s  %s\n", hex, base);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", sum_path, strerror(errno));
        fclose(f);
        return DG_EIO;
    }
    fclose(f);
    return DG_OK;
}

/* Checks `path` against its FILE.sha256. */
static int check_checksum(const char *path, char *err, size_t err_len)
{
    char want[80] = "", hex[65], sum_path[PATH_MAX + 8];
    FILE *f;
    int rc;

    snprintf(sum_path, sizeof sum_path, "%s.sha256", path);
    if (!(f = fopen(sum_path, "r"))) {
        snprintf(err, err_len,
                 "cannot read %s (%s): dangand backup writes it beside the backup; if you "
                 "trust this file, make one with `sha256sum %s > %s`",
                 sum_path, strerror(errno), path, sum_path);
        return DG_ENOTFOUND;
    }
    if (fscanf(f, "%64s", want) != 1)
        want[0] = '\0';
    fclose(f);
    if ((rc = file_sha256(path, hex, err, err_len)) != DG_OK)
        return rc;
    if (strcmp(want, hex) != 0) {
        snprintf(err, err_len,
                 "%s does not match its checksum in %s: it changed after the backup was taken",
                 path, sum_path);
        return DG_ECORRUPT;
    }
    return DG_OK;
}

static void print_head(FILE *out, const char *label, const struct verified *v)
{
    char head[DG_AUDIT_HEAD_TEXT_LEN];

    dg_audit_head_format(v->head.seq, v->head.hash, head);
    fprintf(out, "  %-22s %s\n", label, head);
}

/* Takes the online copy into `part` and verifies it. */
static int copy_and_verify(const char *db, const char *part, struct verified *v, char *err,
                           size_t err_len)
{
    dg_store *src;
    int fd, rc;

    if ((rc = create_private(part, &fd, err, err_len)) != DG_OK)
        return rc;
    close(fd);
    if ((rc = dg_store_open(db, false, &src, err, err_len)) == DG_OK) {
        rc = dg_store_backup_to(src, part, err, err_len);
        dg_store_close(src);
    }
    if (rc == DG_OK)
        rc = verify_file(part, v, err, err_len);
    return rc;
}

int dg_backup_run(const char *data_dir, const char *to, const dg_backup_secret *secret,
                  dg_backup_result *res, FILE *out, char *err, size_t err_len)
{
    char db[PATH_LEN], part[PATH_LEN + 8], plain[PATH_LEN + 40];
    struct verified v = {0};
    struct stat sb;
    uint32_t tag;
    int rc;

    snprintf(db, sizeof db, "%s/%s", data_dir, DG_DB_FILE);
    snprintf(part, sizeof part, "%s.part", to);
    if (lstat(to, &sb) == 0) {
        snprintf(err, err_len, "%s already exists; a backup never overwrites a file", to);
        return DG_EEXIST;
    }
    if (access(db, R_OK) != 0) {
        snprintf(err, err_len, "cannot read %s: %s", db, strerror(errno));
        return DG_ENOTFOUND;
    }
    /* A read connection: the server goes on writing; the copy is of one
     * moment. It is made and checked as FILE.part; only a verified copy
     * gets the name. An encrypted backup's plain copy stays inside DIR,
     * which already holds the database: not a byte of it reaches the
     * backup's medium unencrypted. */
    dg_random(&tag, sizeof tag);
    snprintf(plain, sizeof plain, "%s/%s.backup-%08x", data_dir, DG_DB_FILE, (unsigned)tag);
    if (!secret) {
        rc = copy_and_verify(db, part, &v, err, err_len);
    } else if ((rc = copy_and_verify(db, plain, &v, err, err_len)) == DG_OK) {
        (void)unlink(part);
        rc = dg_backup_seal_file(plain, part, secret, err, err_len);
    }
    if (secret)
        remove_database(plain);
    if (rc == DG_OK && (rc = write_checksum(part, to, err, err_len)) == DG_OK)
        rc = name_new_file(part, to, err, err_len);
    if (rc != DG_OK) {
        remove_database(part); /* not a backup anyone should rely on */
        return rc;
    }
    if (stat(to, &sb) != 0)
        sb.st_size = 0;
    if (res)
        *res = (dg_backup_result){.bytes = sb.st_size, .feed_head = v.feed_head};
    if (!out)
        return DG_OK;
    fprintf(out, "%s written and verified: %s (%.1f MiB), its SHA-256 in %s.sha256\n",
            secret ? "Encrypted backup" : "Backup", to, (double)sb.st_size / (1024.0 * 1024.0), to);
    print_head(out, "audit log intact to", &v);
    fprintf(out, "  %-22s %" PRId64 "\n", "changes up to", v.feed_head);
    fprintf(out, "Restore it with the server stopped: dangand restore --data %s --from %s%s\n",
            data_dir, to, secret ? " (it asks for the passphrase, or give --key-file)" : "");
    return DG_OK;
}

/* Moves the database being replaced (and its WAL, shared-memory and WAL
 * owner files) into DIR/before-restore-<time>/, whose path goes to `kept`. */
static int keep_old_database(const char *data_dir, char *kept, size_t kept_len, char *err,
                             size_t err_len)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-walid"};
    char stamp[32], from[PATH_LEN], to[PATH_LEN + 16];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(kept, kept_len, "%s/before-restore-%s", data_dir, stamp);
    if (mkdir(kept, 0700) != 0) {
        snprintf(err, err_len, "cannot create %s: %s", kept, strerror(errno));
        return DG_EIO;
    }
    for (size_t i = 0; i < DG_ARRAY_LEN(suffixes); i++) {
        snprintf(from, sizeof from, "%s/%s%s", data_dir, DG_DB_FILE, suffixes[i]);
        snprintf(to, sizeof to, "%s/%s%s", kept, DG_DB_FILE, suffixes[i]);
        if (rename(from, to) != 0 && errno != ENOENT) {
            snprintf(err, err_len, "cannot move %s aside: %s", from, strerror(errno));
            return DG_EIO;
        }
    }
    fsync_dir_of(to);   /* the kept directory's entries */
    fsync_dir_of(from); /* and DATA's */
    return DG_OK;
}

/* Gives the restored database a new change-feed epoch and records the
 * restore in its audit log, in one transaction. */
static int mark_restored(const char *db, const char *from, const struct verified *v,
                         uint64_t *epoch_out, char *err, size_t err_len)
{
    char epoch[24], old_epoch[32] = "", head[DG_AUDIT_HEAD_TEXT_LEN];
    char *detail;
    uint64_t e = 0;
    dg_audit_chain chain;
    dg_audit_rec rec;
    dg_store *st;
    json_t *d;
    int rc;

    if ((rc = dg_store_open(db, true, &st, err, err_len)) != DG_OK) /* migrates an older one */
        return rc;
    (void)dg_store_meta_get(st, "feed_epoch", old_epoch, sizeof old_epoch);
    while (e == 0 || strtoull(old_epoch, NULL, 10) == e)
        dg_random(&e, sizeof e);
    snprintf(epoch, sizeof epoch, "%" PRIu64, e);
    dg_audit_head_format(v->head.seq, v->head.hash, head);
    d = json_pack("{s:s,s:s,s:I,s:s,s:s}", "from", from, "backup_audit_head", head,
                  "backup_changes", (json_int_t)v->feed_head, "previous_epoch", old_epoch, "epoch",
                  epoch);
    detail = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    if (!detail) { /* a path that is not UTF-8, or no memory */
        snprintf(err, err_len, "cannot describe the restore for the audit log");
        dg_store_close(st);
        return DG_EINVAL;
    }
    rec = (dg_audit_rec){.at = dg_now_ms(),
                         .username = "",
                         .peer = "local",
                         .action = "system.restore",
                         .entity = "system",
                         .outcome = "ok",
                         .detail = detail};
    if ((rc = dg_store_begin(st)) != DG_OK ||
        (rc = dg_store_meta_put(st, "feed_epoch", epoch)) != DG_OK ||
        (rc = dg_audit_chain_load(st, &chain)) != DG_OK ||
        (rc = dg_audit_append(st, &chain, &rec)) != DG_OK || (rc = dg_store_commit(st)) != DG_OK) {
        snprintf(err, err_len, "cannot mark the database restored: %s", dg_store_errmsg(st));
        dg_store_rollback(st);
    }
    free(detail);
    dg_store_close(st);
    *epoch_out = e;
    return rc;
}

/* Brings the copy at `path` to this program's schema (an older backup is
 * migrated like a database at start-up). */
static int migrate_copy(const char *from, const char *path, char *err, size_t err_len)
{
    char why[512];
    dg_store *st;
    int rc = dg_store_open(path, true, &st, why, sizeof why);

    if (rc != DG_OK) {
        snprintf(err, err_len, "%s is not a dangan database this version can restore: %s", from,
                 why);
        return rc;
    }
    dg_store_close(st); /* the last connection: its WAL goes into the file */
    return DG_OK;
}

/* Brings the backup `from` into the new file `incoming`: an encrypted one is
 * opened with `secret` (its own authentication is its check; a checksum
 * file beside it is checked too when there is one), a plain one is checked
 * against its checksum file and copied. */
static int bring_in(const char *from, const char *incoming, const dg_backup_secret *secret,
                    char *err, size_t err_len)
{
    char sum_path[PATH_MAX + 8];
    int rc;

    if (!dg_backup_file_is_sealed(from)) {
        if ((rc = check_checksum(from, err, err_len)) != DG_OK)
            return rc;
        return copy_file(from, incoming, err, err_len);
    }
    if (!secret) {
        snprintf(err, err_len, "%s is encrypted: give its passphrase on stdin or --key-file FILE",
                 from);
        return DG_EAUTH;
    }
    snprintf(sum_path, sizeof sum_path, "%s.sha256", from);
    if (access(sum_path, F_OK) == 0 && (rc = check_checksum(from, err, err_len)) != DG_OK)
        return rc;
    return dg_backup_unseal_file(from, incoming, secret, err, err_len);
}

int dg_restore_run(const char *data_dir, const char *from, const dg_backup_secret *secret,
                   FILE *out, char *err, size_t err_len)
{
    char db[PATH_LEN], incoming[PATH_LEN], kept[PATH_LEN] = "", real_from[PATH_MAX];
    struct verified v = {0};
    struct stat sb;
    uint64_t epoch = 0;
    bool has_db;
    int lock_fd, rc;

    snprintf(db, sizeof db, "%s/%s", data_dir, DG_DB_FILE);
    snprintf(incoming, sizeof incoming, "%s/%s.restoring", data_dir, DG_DB_FILE);
    if (!realpath(from, real_from)) {
        snprintf(err, err_len, "cannot read %s: %s", from, strerror(errno));
        return DG_ENOTFOUND;
    }
    /* the database itself may be what was lost */
    if ((rc = dg_data_dir_lock(data_dir, "restore", false, &lock_fd, err, err_len)) != DG_OK)
        return rc;
    has_db = stat(db, &sb) == 0;
    /* Everything happens to a copy inside DIR first: checked, copied,
     * migrated, verified, given its new epoch. A bad backup, a failed
     * migration or a full disk leave DIR as it was. */
    if ((rc = bring_in(real_from, incoming, secret, err, err_len)) != DG_OK ||
        (rc = migrate_copy(real_from, incoming, err, err_len)) != DG_OK ||
        (rc = verify_file(incoming, &v, err, err_len)) != DG_OK ||
        (rc = mark_restored(incoming, real_from, &v, &epoch, err, err_len)) != DG_OK) {
        remove_database(incoming);
        goto done;
    }
    if (has_db && (rc = keep_old_database(data_dir, kept, sizeof kept, err, err_len)) != DG_OK) {
        remove_database(incoming);
        goto done;
    }
    if (rename(incoming, db) != 0) {
        snprintf(err, err_len,
                 "cannot put the restored database in place: %s; the previous one is in %s",
                 strerror(errno), has_db ? kept : "(none)");
        rc = DG_EIO;
        goto done;
    }
    fsync_dir_of(db);
    fprintf(out, "Restored %s from %s\n", data_dir, real_from);
    print_head(out, "backup's audit log to", &v);
    fprintf(out, "  %-22s %" PRId64 "\n", "changes up to", v.feed_head);
    fprintf(out, "  %-22s %" PRIu64 " (clients resynchronise)\n", "new feed epoch", epoch);
    fprintf(out, "  %-22s %s\n", "previous database in", has_db ? kept : "(there was none)");
done:
    close(lock_fd);
    return rc;
}
