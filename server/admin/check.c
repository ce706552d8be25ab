/* check.c - dangand check and the start-up check (see check.h).
 *
 * Owns, for one run: the inspection connection it opens. Reads files with
 * plain reads first, so a file SQLite would misread (empty, cut short, a
 * foreign WAL) is refused before SQLite sees it; writes nothing but the
 * clean-shutdown marker, and that only when asked.
 */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "clock.h"
#include "config.h"
#include "dg.h"
#include "hex.h"
#include "init.h"
#include "store.h"
#include "store_docs.h"
#include "walid.h"

#define PATH_LEN 1200
#define SQLITE_MAGIC "SQLite format 3"

/* What the plain reads of the database file found, for the later checks. */
struct db_facts {
    uint32_t page_size;
    uint32_t app_id;
    int64_t size;
    dg_wal_info wal;
};

struct run {
    const char *dir;
    dg_check_depth depth;
    dg_check_report *r;
    char db[PATH_LEN];
    struct db_facts f;
};

static dg_check_item *item(struct run *x, const char *name)
{
    dg_check_item *it = &x->r->items[x->r->n_items++];

    dg_assert(x->r->n_items <= DG_CHECK_MAX_ITEMS);
    *it = (dg_check_item){.name = name, .status = DG_CHECK_OK};
    return it;
}

static void say(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

#define OK(it, ...) say((it)->message, sizeof(it)->message, __VA_ARGS__)
#define FAIL(it, ...)                                                                              \
    ((it)->status = DG_CHECK_FAIL, say((it)->message, sizeof(it)->message, __VA_ARGS__))
#define FIX(it, ...) say((it)->fix, sizeof(it)->fix, __VA_ARGS__)

static void skip(struct run *x, const char *name, const char *why)
{
    dg_check_item *it = item(x, name);

    it->status = DG_CHECK_SKIPPED;
    OK(it, "%s", why);
}

static bool failed(const struct run *x)
{
    return dg_check_first_failure(x->r) != NULL;
}

/* ------------------------------------------------------------ files */

static void check_dir(struct run *x)
{
    dg_check_item *it = item(x, "data directory");
    struct stat sb;

    if (stat(x->dir, &sb) != 0) {
        FAIL(it, "%s: %s", x->dir, strerror(errno));
        FIX(it, "create a data directory with `dangand init --data %s`", x->dir);
    } else if (!S_ISDIR(sb.st_mode)) {
        FAIL(it, "%s is not a directory", x->dir);
        FIX(it, "--data names the directory `dangand init` made");
    } else if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        FAIL(it, "%s is open to group or others (mode %04o): it holds personal data and keys",
             x->dir, (unsigned)(sb.st_mode & 07777));
        FIX(it, "chmod 700 %s", x->dir);
    } else {
        OK(it, "%s (mode %04o)", x->dir, (unsigned)(sb.st_mode & 07777));
    }
}

/* Files that must stay private, and what group or others may not do. */
static const struct {
    const char *name;
    mode_t forbidden;
    bool is_required;
    const char *why;
} private_files[] = {
    {DG_TLS_DIR, S_IRWXG | S_IRWXO, true, "holds the server's private key"},
    {DG_KEY_FILE, S_IRWXG | S_IRWXO, true, "is the server's private key"},
    {DG_CERT_FILE, S_IWGRP | S_IWOTH, true, "is the certificate clients trust"},
    {DG_DB_FILE, S_IRWXG | S_IRWXO, false, "holds personal data"},
    {DG_DB_FILE "-wal", S_IRWXG | S_IRWXO, false, "holds personal data"},
    {DG_DB_FILE "-shm", S_IRWXG | S_IRWXO, false, "holds the database's WAL index"},
    {DG_DB_FILE "-walid", S_IRWXG | S_IRWXO, false, "says whose the WAL is"},
    {DG_CONF_FILE, S_IWGRP | S_IWOTH, false, "holds the server's settings"},
};

static void check_modes(struct run *x)
{
    dg_check_item *it = item(x, "file modes");
    char p[PATH_LEN];
    struct stat sb;

    for (size_t i = 0; i < DG_ARRAY_LEN(private_files); i++) {
        snprintf(p, sizeof p, "%s/%s", x->dir, private_files[i].name);
        if (stat(p, &sb) != 0) {
            if (errno == ENOENT && !private_files[i].is_required)
                continue;
            FAIL(it, "%s: %s", p, strerror(errno));
            FIX(it,
                "%s comes with the data directory; restore it from a copy of the directory, "
                "or make a new directory with `dangand init`",
                private_files[i].name);
            return;
        }
        if (sb.st_mode & private_files[i].forbidden) {
            bool is_dir = S_ISDIR(sb.st_mode);

            FAIL(it, "%s %s but is %s by group or others (mode %04o)", p, private_files[i].why,
                 private_files[i].forbidden & (S_IRGRP | S_IROTH) ? "open" : "writable",
                 (unsigned)(sb.st_mode & 07777));
            FIX(it, "chmod %s %s%s", is_dir ? "700" : "600", p,
                strcmp(private_files[i].name, DG_KEY_FILE) == 0
                    ? "; whoever could read it may have the key: consider making a new data "
                      "directory and moving the database into it"
                    : "");
            return;
        }
    }
    OK(it, "the key and the database files are private");
}

static void check_settings(struct run *x)
{
    dg_check_item *it = item(x, "settings");
    char p[PATH_LEN], err[512];
    dg_config c;
    int rc;

    dg_config_defaults(&c);
    snprintf(p, sizeof p, "%s/%s", x->dir, DG_CONF_FILE);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", x->dir);
    rc = dg_config_load(&c, p, err, sizeof err);
    if (rc == DG_ENOTFOUND) {
        OK(it, "no %s: the defaults", DG_CONF_FILE);
        return;
    }
    if (rc == DG_OK)
        rc = dg_config_check(&c, err, sizeof err);
    if (rc != DG_OK) {
        FAIL(it, "%s", err);
        FIX(it, "correct %s (deploy/dangand.conf.example lists every setting)", p);
        return;
    }
    OK(it, "%s", p);
}

/* ------------------------------------------------------------ the database file */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What a file that is no SQLite database starts with, for the message. */
static void describe_foreign(const uint8_t *p, size_t n, char *out, size_t len)
{
    size_t zeros = 0, text = 0;

    for (size_t i = 0; i < n; i++) {
        zeros += p[i] == 0;
        text += isprint(p[i]) || p[i] == '\n' || p[i] == '\r' || p[i] == '\t' || p[i] >= 0x80;
    }
    if (zeros == n) {
        snprintf(out, len, "its first %zu bytes are all zero: the header was wiped", n);
    } else if (text == n) {
        size_t k = 0;
        char quoted[48];

        for (size_t i = 0; i < n && k + 1 < sizeof quoted; i++)
            quoted[k++] = isprint(p[i]) && p[i] != '"' ? (char)p[i] : '.';
        quoted[k] = '\0';
        snprintf(out, len, "it is a text file, not an SQLite database (it starts '%.32s')", quoted);
    } else {
        snprintf(out, len, "it is not an SQLite database (no SQLite header)");
    }
}

static void db_fix(dg_check_item *it, const struct run *x)
{
    FIX(it,
        "restore the last backup with the server stopped: `dangand restore --data %s --from "
        "BACKUP` (it keeps the damaged file aside); without a backup, keep a copy of the "
        "directory and ask for help before anything writes to it",
        x->dir);
}

/* The header fields SQLite trusts, read without SQLite. */
static void check_db_header(struct run *x, dg_check_item *it, const uint8_t *h, int64_t size)
{
    uint32_t page_size = (uint32_t)h[16] << 8 | h[17], n_pages = be32(h + 28);
    int64_t user_version = (int32_t)be32(h + 60);

    if (page_size == 1)
        page_size = 65536;
    if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0 ||
        (h[18] != 1 && h[18] != 2) || (h[19] != 1 && h[19] != 2)) {
        FAIL(it, "%s: its header is damaged (page size %u, format %u/%u)", x->db, page_size, h[18],
             h[19]);
        db_fix(it, x);
        return;
    }
    x->f.page_size = page_size;
    x->f.app_id = be32(h + 68);
    /* A checkpoint cut short by a power cut may leave part of its last
     * page; the WAL still holds it then, and the structure check decides. */
    if (size % page_size != 0 && x->f.wal.n_committed == 0) {
        FAIL(it,
             "%s is %" PRId64 " bytes, not a whole number of %u-byte pages: it was cut short "
             "or something was appended",
             x->db, size, page_size);
        db_fix(it, x);
        return;
    }
    /* The header's page count is valid when its two change counters agree.
     * A WAL with transactions may hold the pages past the end of the file
     * (a checkpoint cut short): then the structure check decides. */
    if (be32(h + 92) == be32(h + 24) && n_pages > 0 && (int64_t)n_pages * page_size > size &&
        x->f.wal.n_committed == 0) {
        FAIL(it,
             "%s is truncated: its header counts %u pages (%" PRId64 " bytes), the file "
             "has %" PRId64 " bytes",
             x->db, n_pages, (int64_t)n_pages * page_size, size);
        db_fix(it, x);
        return;
    }
    if (user_version > DG_SCHEMA_VERSION) {
        FAIL(it, "%s has schema v%" PRId64 ", newer than this dangand knows (v%d)", x->db,
             user_version, DG_SCHEMA_VERSION);
        FIX(it, "run the dangand version that wrote it (or a newer one); to go back to this "
                "version, restore a backup taken by it");
        return;
    }
    OK(it, "%s: %.1f MiB, %u-byte pages, schema v%" PRId64, x->db, (double)size / (1024.0 * 1024.0),
       page_size, user_version);
}

static void check_db_file(struct run *x)
{
    dg_check_item *it = item(x, "database file");
    uint8_t h[100];
    struct stat sb;
    ssize_t n;
    int fd;

    if (stat(x->db, &sb) != 0) {
        FAIL(it, "%s: %s", x->db, strerror(errno));
        db_fix(it, x);
        return;
    }
    if (!S_ISREG(sb.st_mode)) {
        FAIL(it, "%s is not a regular file", x->db);
        db_fix(it, x);
        return;
    }
    x->f.size = sb.st_size;
    if (sb.st_size == 0) {
        FAIL(it, "%s is empty (0 bytes): the database is gone", x->db);
        db_fix(it, x);
        return;
    }
    if ((fd = open(x->db, O_RDONLY | O_CLOEXEC)) < 0 || (n = pread(fd, h, sizeof h, 0)) < 0) {
        FAIL(it, "cannot read %s: %s", x->db, strerror(errno));
        FIX(it, "dangand runs as the user that owns the data directory");
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    if (n >= (ssize_t)sizeof SQLITE_MAGIC && memcmp(h, SQLITE_MAGIC, sizeof SQLITE_MAGIC) != 0) {
        char what[160];

        describe_foreign(h, (size_t)n < 64 ? (size_t)n : 64, what, sizeof what);
        FAIL(it, "%s: %s", x->db, what);
        db_fix(it, x);
        return;
    }
    if (n < (ssize_t)sizeof h) {
        FAIL(it, "%s is %zd bytes: too short to hold an SQLite header (truncated)", x->db, n);
        db_fix(it, x);
        return;
    }
    check_db_header(x, it, h, sb.st_size);
}

/* ------------------------------------------------------------ the WAL */

static void wal_fix(dg_check_item *it, const struct run *x)
{
    FIX(it,
        "if this file was copied here, move %s-wal (with %s-shm and %s-walid) out of %s: the "
        "database then opens as of its last checkpoint, and the file stays for inspection. If it "
        "is this database's own log, written by a dangand that kept no owner records, stop here "
        "and apply it by hand on a copy of the directory first (`sqlite3 COPY/dangan.db "
        "'PRAGMA wal_checkpoint(TRUNCATE)'`)",
        DG_DB_FILE, DG_DB_FILE, DG_DB_FILE, x->dir);
}

static const dg_walid *owner_of(const dg_wal_info *wi)
{
    for (int i = 0; i < wi->n_owners; i++)
        if (wi->owners[i].salt[0] == wi->salt[0] && wi->owners[i].salt[1] == wi->salt[1])
            return &wi->owners[i];
    return NULL;
}

/* The plain read of the WAL comes before the database file's checks (a
 * truncated file is fine when the WAL holds the rest); its verdict here. */
static void check_wal(struct run *x)
{
    dg_check_item *it = item(x, "write-ahead log");
    const dg_wal_info *wi = &x->f.wal;
    const dg_walid *owner;

    if (!wi->exists) {
        OK(it, "none");
        return;
    }
    if (!wi->has_header || wi->n_committed == 0) {
        OK(it, "%s-wal holds no committed transaction (%" PRId64 " bytes); SQLite starts it over",
           DG_DB_FILE, wi->size);
        return;
    }
    x->r->has_wal = true;
    if (x->f.page_size && wi->page_size != x->f.page_size) {
        FAIL(it,
             "%s/%s-wal was written for a database with %u-byte pages; %s has %u-byte pages: "
             "it belongs to another database",
             x->dir, DG_DB_FILE, wi->page_size, DG_DB_FILE, x->f.page_size);
        wal_fix(it, x);
        return;
    }
    if (!(owner = owner_of(wi))) {
        FAIL(it,
             "%s/%s-wal holds %u committed transactions, but %s: SQLite would apply pages "
             "of another database over this one",
             x->dir, DG_DB_FILE, wi->n_commits,
             wi->n_owners ? "its salts match no owner record in dangan.db-walid (it comes from "
                            "another database, or from an earlier life of this one)"
                          : "there is no dangan.db-walid saying dangand wrote it for this "
                            "database");
        wal_fix(it, x);
        return;
    }
    if (owner->app_id != 0 && owner->app_id != x->f.app_id) {
        FAIL(it,
             "%s/%s-wal was written over the database with application id %08x; %s has "
             "%08x: it belongs to another database (with its owner records)",
             x->dir, DG_DB_FILE, owner->app_id, DG_DB_FILE, x->f.app_id);
        wal_fix(it, x);
        return;
    }
    OK(it,
       "%u transactions (%u pages) from an unclean shutdown, written over this database; "
       "recovered at start",
       wi->n_commits, wi->n_committed);
}

/* ------------------------------------------------------------ clean-shutdown marker */

/* The database file's identity as the marker holds it. */
static int db_identity(const char *db, char *out, size_t len)
{
    struct stat sb;

    if (stat(db, &sb) != 0)
        return DG_EIO;
    snprintf(out, len, "dev=%llu ino=%llu size=%lld mtime=%lld.%09ld ctime=%lld.%09ld\n",
             (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino, (long long)sb.st_size,
             (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec, (long long)sb.st_ctim.tv_sec,
             sb.st_ctim.tv_nsec);
    return DG_OK;
}

#define MARKER_HEAD "dangand clean shutdown v1\n"

static bool was_clean(const struct run *x)
{
    char p[PATH_LEN], want[256], have[512] = "";
    FILE *f;
    size_t n;

    snprintf(p, sizeof p, "%s/%s", x->dir, DG_CLEAN_FILE);
    if (x->f.wal.n_committed > 0 || !(f = fopen(p, "r")))
        return false;
    n = fread(have, 1, sizeof have - 1, f);
    fclose(f);
    have[n] = '\0';
    if (strncmp(have, MARKER_HEAD, strlen(MARKER_HEAD)) != 0 ||
        db_identity(x->db, want, sizeof want) != DG_OK)
        return false;
    return strcmp(have + strlen(MARKER_HEAD), want) == 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return DG_EIO;
    rc = fsync(fd) == 0 ? DG_OK : DG_EIO;
    close(fd);
    return rc;
}

int dg_check_mark_clean(const char *data_dir, char *err, size_t err_len)
{
    char db[PATH_LEN], p[PATH_LEN], tmp[PATH_LEN + 8], id[256];
    FILE *f;
    int fd;

    snprintf(db, sizeof db, "%s/%s", data_dir, DG_DB_FILE);
    snprintf(p, sizeof p, "%s/%s", data_dir, DG_CLEAN_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    if (db_identity(db, id, sizeof id) != DG_OK) {
        snprintf(err, err_len, "cannot stat %s: %s", db, strerror(errno));
        return DG_EIO;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DG_EIO;
    }
    fprintf(f, "%s%s", MARKER_HEAD, id);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        (void)unlink(tmp);
        return DG_EIO;
    }
    fclose(f);
    if (rename(tmp, p) != 0 || sync_dir(data_dir) != DG_OK) {
        snprintf(err, err_len, "cannot write %s: %s", p, strerror(errno));
        (void)unlink(tmp);
        return DG_EIO;
    }
    return DG_OK;
}

int dg_check_unmark_clean(const char *data_dir, char *err, size_t err_len)
{
    char p[PATH_LEN];

    snprintf(p, sizeof p, "%s/%s", data_dir, DG_CLEAN_FILE);
    if (unlink(p) != 0) {
        if (errno == ENOENT)
            return DG_OK;
        snprintf(err, err_len, "cannot remove %s: %s", p, strerror(errno));
        return DG_EIO;
    }
    if (sync_dir(data_dir) != DG_OK) {
        snprintf(err, err_len, "cannot sync %s: %s", data_dir, strerror(errno));
        return DG_EIO;
    }
    return DG_OK;
}

/* ------------------------------------------------------------ through SQLite */

static void check_structure(struct run *x, dg_store *st, bool is_full)
{
    dg_check_item *it = item(x, "structure");
    char why[512];
    int64_t t0 = dg_mono_ms();
    int rc = is_full ? dg_store_integrity_check(st, why, sizeof why)
                     : dg_store_quick_check(st, why, sizeof why);

    if (rc == DG_OK) {
        OK(it, "%s: ok (%.1f s)", is_full ? "integrity_check" : "quick_check",
           (double)(dg_mono_ms() - t0) / 1000.0);
        return;
    }
    FAIL(it, "%s: %s", x->db, why);
    db_fix(it, x);
}

static void check_schema(struct run *x, dg_store *st)
{
    dg_check_item *it = item(x, "schema");
    char server_id[64] = "", epoch[32] = "";
    int64_t v = 0;

    if (dg_store_schema_version(st, &v) != DG_OK ||
        dg_store_meta_get(st, "server_id", server_id, sizeof server_id) != DG_OK ||
        dg_store_meta_get(st, "feed_epoch", epoch, sizeof epoch) != DG_OK) {
        FAIL(it, "%s lacks the identity `dangand init` gives a database (%s)", x->db,
             dg_store_errmsg(st)[0] ? dg_store_errmsg(st) : "no server_id or feed_epoch");
        db_fix(it, x);
        return;
    }
    if (v < DG_SCHEMA_VERSION)
        OK(it, "v%" PRId64 " (migrated to v%d when the server starts), server id %s", v,
           DG_SCHEMA_VERSION, server_id);
    else
        OK(it, "v%" PRId64 ", server id %s", v, server_id);
}

static void check_audit(struct run *x, dg_store *st, bool is_full)
{
    dg_check_item *it = item(x, "audit chain");
    char head[DG_AUDIT_HEAD_TEXT_LEN];
    dg_audit_verdict v;
    int rc =
        is_full ? dg_audit_verify(st, NULL, &v) : dg_audit_verify_tail(st, DG_CHECK_AUDIT_TAIL, &v);

    if (rc != DG_OK) {
        FAIL(it, "cannot read the audit log: %s", dg_store_errmsg(st));
        db_fix(it, x);
        return;
    }
    if (!v.ok) {
        FAIL(it, "the audit log is broken at record %" PRId64 ": %s", v.first_bad_seq, v.problem);
        if (x->depth == DG_CHECK_STARTUP)
            it->status = DG_CHECK_WARN;
        FIX(it,
            "keep this directory as evidence and restore the last good backup (`dangand restore "
            "--data %s --from BACKUP`); `dangand audit-verify --data %s` names the record",
            x->dir, x->dir);
        return;
    }
    dg_audit_head_format(v.head.seq, v.head.hash, head);
    if (is_full)
        OK(it, "%" PRId64 " records chain correctly, head %s", v.checked, head);
    else
        OK(it, "the newest %" PRId64 " records chain correctly, head %s",
           v.checked < DG_CHECK_AUDIT_TAIL ? v.checked : DG_CHECK_AUDIT_TAIL, head);
}

struct bad_docs {
    int64_t n, first_id;
    char first_why[200];
};

static void note_bad_content(void *ud, int64_t content_id, const char *why)
{
    struct bad_docs *b = ud;

    if (b->n++ == 0) {
        b->first_id = content_id;
        snprintf(b->first_why, sizeof b->first_why, "%s", why);
    }
}

/* Every stored document content against its SHA-256: the full check only
 * (it reads every byte of every document). */
static void check_documents(struct run *x, dg_store *st, bool is_full)
{
    dg_check_item *it;
    struct bad_docs b = {0};
    int64_t n = 0, v = 0;

    if (!is_full) {
        skip(x, "documents", "not checked: `dangand check` reads every document");
        return;
    }
    it = item(x, "documents");
    if (dg_store_schema_version(st, &v) == DG_OK && v < 7) {
        OK(it, "none stored (schema v%" PRId64 ")", v);
        return;
    }
    if (dg_store_doc_verify(st, note_bad_content, &b, &n) != DG_OK) {
        FAIL(it, "cannot read the documents: %s", dg_store_errmsg(st));
        db_fix(it, x);
        return;
    }
    if (b.n == 0) {
        OK(it, "%" PRId64 " stored contents match their SHA-256", n);
        return;
    }
    FAIL(it,
         "%" PRId64 " of %" PRId64 " stored document contents are damaged; content %" PRId64 ": %s",
         b.n, n, b.first_id, b.first_why);
    FIX(it,
        "restore the last good backup (`dangand restore --data %s --from BACKUP`), or ask the "
        "documents' owners to upload them again",
        x->dir);
}

static void check_with_sqlite(struct run *x, bool is_full)
{
    static const char *const names[] = {"structure", "schema", "audit chain", "documents"};
    dg_store *st;
    char why[600];

    if (failed(x)) {
        for (size_t i = 0; i < DG_ARRAY_LEN(names); i++)
            skip(x, names[i], "not checked: an earlier check failed");
        return;
    }
    if (dg_store_open_inspect(x->db, x->r->has_wal, &st, why, sizeof why) != DG_OK) {
        dg_check_item *it = item(x, "structure");

        FAIL(it, "%s", why);
        db_fix(it, x);
        skip(x, "schema", "not checked: the database does not open");
        skip(x, "audit chain", "not checked: the database does not open");
        skip(x, "documents", "not checked: the database does not open");
        return;
    }
    check_structure(x, st, is_full);
    if (failed(x)) {
        skip(x, "schema", "not checked: the structure is damaged");
        skip(x, "audit chain", "not checked: the structure is damaged");
        skip(x, "documents", "not checked: the structure is damaged");
    } else if (dg_store_read_begin(st) == DG_OK) {
        check_schema(x, st);
        if (failed(x)) {
            skip(x, "audit chain", "not checked: the schema is not dangan's");
            skip(x, "documents", "not checked: the schema is not dangan's");
        } else {
            check_audit(x, st, is_full);
            check_documents(x, st, is_full);
        }
        dg_store_read_end(st);
    } else {
        dg_check_item *it = item(x, "schema");

        FAIL(it, "cannot read %s: %s", x->db, dg_store_errmsg(st));
        db_fix(it, x);
        skip(x, "audit chain", "not checked: the database cannot be read");
        skip(x, "documents", "not checked: the database cannot be read");
    }
    dg_store_close(st);
}

/* ------------------------------------------------------------ run, print */

int dg_check_run(const char *data_dir, dg_check_depth depth, dg_check_report *r)
{
    struct run x = {.dir = data_dir, .depth = depth, .r = r};
    int64_t t0 = dg_mono_ms();
    int rc, wal_errno;

    memset(r, 0, sizeof *r);
    snprintf(x.db, sizeof x.db, "%s/%s", data_dir, DG_DB_FILE);
    check_dir(&x);
    if (failed(&x)) {
        static const char *const rest[] = {"file modes",      "settings",  "database file",
                                           "write-ahead log", "structure", "schema",
                                           "audit chain",     "documents"};

        for (size_t i = 0; i < DG_ARRAY_LEN(rest); i++)
            skip(&x, rest[i], "not checked: the data directory is not usable");
    } else {
        check_modes(&x);
        check_settings(&x);
        rc = dg_wal_inspect(x.db, &x.f.wal);
        wal_errno = errno;
        check_db_file(&x);
        if (rc != DG_OK) {
            dg_check_item *it = item(&x, "write-ahead log");

            FAIL(it, "cannot read %s-wal or %s-walid: %s", x.db, x.db, strerror(wal_errno));
            FIX(it, "dangand runs as the user that owns the data directory");
        } else {
            check_wal(&x);
        }
        r->was_clean = !failed(&x) && was_clean(&x);
        if (depth == DG_CHECK_STARTUP && r->was_clean && !failed(&x)) {
            skip(&x, "structure",
                 "not checked: the last run shut down cleanly and the file "
                 "is as it left it");
            skip(&x, "schema", "checked when the server opens the database");
            skip(&x, "audit chain", "not checked: clean shutdown");
            skip(&x, "documents", "not checked: `dangand check` reads every document");
        } else {
            check_with_sqlite(&x, depth == DG_CHECK_FULL);
        }
    }
    r->ok = !failed(&x);
    r->elapsed_ms = dg_mono_ms() - t0;
    return r->ok ? DG_OK : DG_ECORRUPT;
}

const dg_check_item *dg_check_first_failure(const dg_check_report *r)
{
    for (size_t i = 0; i < r->n_items; i++)
        if (r->items[i].status == DG_CHECK_FAIL)
            return &r->items[i];
    return NULL;
}

static const char *status_name(dg_check_status s)
{
    return s == DG_CHECK_OK     ? "ok"
           : s == DG_CHECK_FAIL ? "FAIL"
           : s == DG_CHECK_WARN ? "WARN"
                                : "skip";
}

static void print_json(const dg_check_report *r, const char *data_dir, FILE *out)
{
    json_t *items = json_array(), *doc;
    char *text;

    for (size_t i = 0; i < r->n_items; i++) {
        const dg_check_item *it = &r->items[i];
        json_t *o = json_pack("{s:s,s:s,s:s}", "name", it->name, "status",
                              it->status == DG_CHECK_OK     ? "ok"
                              : it->status == DG_CHECK_FAIL ? "fail"
                              : it->status == DG_CHECK_WARN ? "warn"
                                                            : "skipped",
                              "message", it->message);

        if (o && it->status != DG_CHECK_OK && it->status != DG_CHECK_SKIPPED)
            json_object_set_new(o, "fix", json_string(it->fix));
        json_array_append_new(items, o ? o : json_null());
    }
    doc = json_pack("{s:b,s:s,s:b,s:I,s:o}", "ok", r->ok, "data", data_dir, "clean_shutdown",
                    r->was_clean, "elapsed_ms", (json_int_t)r->elapsed_ms, "checks", items);
    text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    fprintf(out, "%s\n", text ? text : "{\"ok\": false}");
    free(text);
    json_decref(doc);
}

void dg_check_print(const dg_check_report *r, const char *data_dir, bool json, FILE *out)
{
    if (json) {
        print_json(r, data_dir, out);
        return;
    }
    for (size_t i = 0; i < r->n_items; i++) {
        const dg_check_item *it = &r->items[i];

        fprintf(out, "%-4s  %-16s %s\n", status_name(it->status), it->name, it->message);
        if ((it->status == DG_CHECK_FAIL || it->status == DG_CHECK_WARN) && it->fix[0])
            fprintf(out, "      %-16s fix: %s\n", "", it->fix);
    }
    fprintf(out, "%s: %s (%.1f s)\n", data_dir, r->ok ? "ok" : "NOT fit to serve",
            (double)r->elapsed_ms / 1000.0);
}
