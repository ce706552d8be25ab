/* store_inspect.c - looking at a database without using it: a read-only
 * connection that enforces nothing and migrates nothing (immutable, or
 * through the database's own WAL), and SQLite's structure checks. For
 * dangand check, the start-up check and verifying copies (check.c,
 * backup.c).
 *
 * Owns: nothing beyond the connections it returns. Runs on: the caller's
 * thread.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "dg.h"
#include "vfs.h"

/* "file:" + `path` percent-encoded + `query`, for SQLITE_OPEN_URI. */
static int file_uri(const char *path, const char *query, char *out, size_t out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t at = 0;

    at += (size_t)snprintf(out, out_len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && at + 4 < out_len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-~", *p)) {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = hex[*p >> 4];
            out[at++] = hex[*p & 15];
        }
    }
    if (at + strlen(query) + 1 > out_len)
        return DG_ETOOBIG;
    snprintf(out + at, out_len - at, "%s", query);
    return DG_OK;
}

int dg_store_open_inspect(const char *path, bool with_wal, dg_store **out, char *err,
                          size_t err_len)
{
    dg_store *st = dg_xcalloc(1, sizeof *st);
    char uri[4200];
    int on = 0, rc;

    *out = NULL;
    st->dyn = dg_map_new();
    if ((rc = file_uri(path, with_wal ? "" : "?immutable=1", uri, sizeof uri)) != DG_OK) {
        snprintf(err, err_len, "database path too long: %s", path);
        goto fail;
    }
    rc = (rc = store_configure()) != SQLITE_OK
             ? rc
             : sqlite3_open_v2(uri, &st->db,
                               SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
                                   SQLITE_OPEN_EXRESCODE,
                               DG_VFS_NAME);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        rc = store_err(st, rc);
        goto fail;
    }
    /* A damaged or crafted file is what this connection is for: defensive,
     * no functions from the schema, and nothing it could write. */
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
    if ((rc = sqlite3_exec(st->db, "PRAGMA query_only=ON; PRAGMA mmap_size=0;", NULL, NULL,
                           NULL)) != SQLITE_OK)
        rc = store_err(st, rc);
    if (rc != DG_OK || (rc = store_search_register(st)) != DG_OK) {
        snprintf(err, err_len, "cannot read database %s: %s", path, st->err);
        goto fail;
    }
    *out = st;
    return DG_OK;
fail:
    dg_store_close(st);
    return rc;
}

/* Runs a check pragma: DG_OK with "ok", or DG_ECORRUPT with its first
 * complaints joined in `verdict` (its "*** in database main ***" heading
 * left out). */
static int check_pragma(dg_store *st, const char *sql, char *verdict, size_t len)
{
    sqlite3_stmt *s;
    size_t at = 0;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    verdict[0] = '\0';
    if (rc != SQLITE_OK) {
        rc = store_err(st, rc);
        snprintf(verdict, len, "%s", st->err);
        return rc;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);

        if (t && strncmp(t, "*** in database", 15) == 0) /* the heading, and its newline */
            t = strchr(t, '\n') ? strchr(t, '\n') + 1 : "";
        if (!t || !*t || at + 4 >= len)
            continue;
        at += (size_t)snprintf(verdict + at, len - at, "%s%s", at ? "; " : "", t);
        if (at >= len)
            at = len - 1;
    }
    for (char *p = verdict; *p; p++) /* one line: it goes into logs */
        if (*p == '\n')
            *p = ' ';
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        rc = store_err(st, rc);
        snprintf(verdict, len, "%s", st->err);
        return rc;
    }
    return strcmp(verdict, "ok") == 0 ? DG_OK : DG_ECORRUPT;
}

int dg_store_bytes_of(dg_store *st, const char *prefix, int64_t *bytes)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT coalesce(sum(pgsize), 0) FROM dbstat"
                                " WHERE substr(name, 1, length(?1)) = ?1",
                                -1, &s, NULL);

    if (rc != SQLITE_OK)
        return store_err(st, rc);
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *bytes = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static int64_t file_size(const char *path)
{
    struct stat sb;

    return path && stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

void dg_store_file_bytes(dg_store *st, int64_t *db_bytes, int64_t *wal_bytes)
{
    const char *db = sqlite3_db_filename(st->db, "main");
    char wal[4200];

    snprintf(wal, sizeof wal, "%s-wal", db ? db : "");
    *db_bytes = file_size(db);
    *wal_bytes = db ? file_size(wal) : 0;
}

int dg_store_quick_check(dg_store *st, char *err, size_t err_len)
{
    char verdict[512];
    int rc = check_pragma(st, "PRAGMA quick_check(10)", verdict, sizeof verdict);

    snprintf(err, err_len, "%s", rc == DG_ECORRUPT ? verdict : rc != DG_OK ? st->err : "");
    return rc;
}

int dg_store_integrity_check(dg_store *st, char *err, size_t err_len)
{
    char verdict[512];
    int rc = check_pragma(st, "PRAGMA integrity_check(10)", verdict, sizeof verdict);

    snprintf(err, err_len, "%s", rc == DG_ECORRUPT ? verdict : rc != DG_OK ? st->err : "");
    return rc;
}
