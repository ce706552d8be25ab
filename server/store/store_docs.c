/* store_docs.c - documents, their content and uploads: the SQL behind
 * store_docs.h. Content chunks are read one row at a time, so hashing a
 * content of any size holds one chunk in memory.
 * Runs on: the thread that owns the connection.
 */
#include "store_docs.h"

#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

static const char SQL_CONTENT_NEW[] =
    "INSERT INTO doc_contents(sha256, size, chunk_size, created_at) VALUES (NULL, ?1, ?2, ?3)";
static const char SQL_UPLOAD_NEW[] =
    "INSERT INTO doc_uploads(user_id, customer_id, content_id, kind, title, doc_date, expires_on,"
    " notes, file_name, size, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
    " ?10, ?11, ?12)";
static const char SQL_UPLOAD_GET[] =
    "SELECT u.id, u.user_id, u.customer_id, u.content_id, u.kind, u.title, u.doc_date,"
    " u.expires_on, u.notes, u.file_name, u.size, u.received, u.sha256, c.chunk_size,"
    " u.created_at, coalesce(u.document_id, 0)"
    " FROM doc_uploads AS u JOIN doc_contents AS c ON c.id = u.content_id WHERE u.id = ?1";
static const char SQL_CHUNK_PUT[] =
    "INSERT INTO doc_chunks(content_id, idx, data) VALUES (?1, ?2, ?3)";
static const char SQL_UPLOAD_RECEIVED[] =
    "UPDATE doc_uploads SET received = received + ?2 WHERE id = ?1";
static const char SQL_UPLOAD_DELETE[] = "DELETE FROM doc_uploads WHERE id = ?1";
static const char SQL_CONTENT_DROP_UNUSED[] =
    "DELETE FROM doc_contents WHERE id = ?1 AND sha256 IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM documents WHERE content_id = ?1)"
    " AND NOT EXISTS (SELECT 1 FROM doc_uploads WHERE content_id = ?1)";
static const char SQL_UPLOAD_DONE[] =
    "UPDATE doc_uploads SET content_id = ?2, document_id = ?3 WHERE id = ?1";
static const char SQL_UPLOADS_STALE[] =
    "SELECT id, content_id FROM doc_uploads WHERE document_id IS NULL AND created_at < ?1"
    " ORDER BY id LIMIT ?2";
static const char SQL_UPLOADS_OPEN[] =
    "SELECT count(*) FROM doc_uploads WHERE user_id = ?1 AND document_id IS NULL";
static const char SQL_CHUNKS_OF[] =
    "SELECT idx, data FROM doc_chunks WHERE content_id = ?1 ORDER BY idx";
static const char SQL_CONTENT_BY_HASH[] = "SELECT id FROM doc_contents WHERE sha256 = ?1";
static const char SQL_CONTENT_SEAL[] = "UPDATE doc_contents SET sha256 = ?2 WHERE id = ?1";
static const char SQL_CONTENT_DROP[] = "DELETE FROM doc_contents WHERE id = ?1";
static const char SQL_CONTENT_STATS[] =
    "SELECT count(*), coalesce(sum(size), 0) FROM doc_contents WHERE sha256 IS NOT NULL";
static const char SQL_CONTENTS_SEALED[] =
    "SELECT id, sha256, size, chunk_size FROM doc_contents WHERE sha256 IS NOT NULL AND id > ?1"
    " ORDER BY id LIMIT 100";
static const char SQL_DOC_INSERT[] =
    "INSERT INTO documents(customer_id, kind, title, doc_date, expires_on, notes, file_name,"
    " content_id, version, archived, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
    " ?8, ?9, 0, ?10, ?11)";
#define DOC_COLUMNS                                                                                \
    "d.id, d.customer_id, d.kind, d.title, d.doc_date, d.expires_on, d.notes, d.file_name,"        \
    " d.content_id, c.size, c.sha256, c.chunk_size, d.version, d.archived, d.created_at,"          \
    " coalesce(d.created_by, 0), d.archived_at, coalesce(d.archived_by, 0)"
static const char SQL_DOC_GET[] =
    "SELECT " DOC_COLUMNS " FROM documents AS d JOIN doc_contents AS c"
    " ON c.id = d.content_id WHERE d.id = ?1";
/* ?2 kind or NULL, ?3 'YYYY-' prefix or NULL, ?4 include archived, ?5 limit */
static const char SQL_DOC_LIST[] =
    "SELECT " DOC_COLUMNS " FROM documents AS d JOIN doc_contents AS c ON c.id = d.content_id"
    " WHERE d.customer_id = ?1 AND (?2 IS NULL OR d.kind = ?2)"
    " AND (?3 IS NULL OR substr(d.doc_date, 1, 5) = ?3) AND (?4 OR d.archived = 0)"
    " ORDER BY CASE d.kind WHEN 'contract' THEN 1 WHEN 'invoice' THEN 2 WHEN 'quotation' THEN 3"
    " WHEN 'correspondence' THEN 4 WHEN 'licence' THEN 5 ELSE 6 END, d.doc_date, d.id LIMIT ?5";
static const char SQL_DOC_ARCHIVE[] =
    "UPDATE documents SET archived = 1, version = ?2, archived_at = ?3, archived_by = ?4"
    " WHERE id = ?1";
static const char SQL_CHUNK_GET[] =
    "SELECT data FROM doc_chunks WHERE content_id = ?1 AND idx = ?2";

/* Steps a statement expected to be done (an INSERT, UPDATE, DELETE). */
static int run(dg_store *st, sqlite3_stmt *s)
{
    return s ? store_exec_stmt(st, s) : store_err(st, sqlite3_errcode(st->db));
}

/* The first row of `s`: DG_OK with the row current, DG_ENOTFOUND (reset), or
 * an error (reset). */
static int first_row(dg_store *st, sqlite3_stmt *s)
{
    int rc;

    if (!s)
        return store_err(st, sqlite3_errcode(st->db));
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return DG_OK;
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
}

static bool col_hash(sqlite3_stmt *s, int col, uint8_t out[DG_DOC_SHA256_LEN])
{
    const void *p = sqlite3_column_blob(s, col);

    if (!p || sqlite3_column_bytes(s, col) != DG_DOC_SHA256_LEN)
        return false;
    memcpy(out, p, DG_DOC_SHA256_LEN);
    return true;
}

int dg_store_doc_upload_new(dg_store *st, dg_doc_upload *u)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CONTENT_NEW);
    int rc;

    if (s) {
        sqlite3_bind_int64(s, 1, u->size);
        sqlite3_bind_int64(s, 2, u->chunk_size);
        sqlite3_bind_int64(s, 3, u->created_at);
    }
    if ((rc = run(st, s)) != DG_OK)
        return rc;
    u->content_id = sqlite3_last_insert_rowid(st->db);
    if ((s = store_stmt(st, SQL_UPLOAD_NEW))) {
        sqlite3_bind_int64(s, 1, u->user_id);
        sqlite3_bind_int64(s, 2, u->customer_id);
        sqlite3_bind_int64(s, 3, u->content_id);
        store_bind_text(s, 4, u->kind);
        store_bind_text(s, 5, u->title);
        store_bind_text(s, 6, u->doc_date);
        store_bind_text(s, 7, u->expires_on);
        store_bind_text(s, 8, u->notes);
        store_bind_text(s, 9, u->file_name);
        sqlite3_bind_int64(s, 10, u->size);
        sqlite3_bind_blob(s, 11, u->sha256, DG_DOC_SHA256_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(s, 12, u->created_at);
    }
    if ((rc = run(st, s)) != DG_OK)
        return rc;
    u->id = sqlite3_last_insert_rowid(st->db);
    return DG_OK;
}

int dg_store_doc_upload_get(dg_store *st, int64_t id, dg_arena *a, dg_doc_upload **out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_UPLOAD_GET);
    dg_doc_upload *u;
    int rc;

    if (s)
        sqlite3_bind_int64(s, 1, id);
    if ((rc = first_row(st, s)) != DG_OK)
        return rc;
    if (!(u = dg_arena_calloc(a, 1, sizeof *u))) {
        sqlite3_reset(s);
        return DG_ENOMEM;
    }
    u->id = sqlite3_column_int64(s, 0);
    u->user_id = sqlite3_column_int64(s, 1);
    u->customer_id = sqlite3_column_int64(s, 2);
    u->content_id = sqlite3_column_int64(s, 3);
    u->kind = store_col_dup(s, 4, a);
    u->title = store_col_dup(s, 5, a);
    u->doc_date = store_col_dup(s, 6, a);
    u->expires_on = store_col_dup(s, 7, a);
    u->notes = store_col_dup(s, 8, a);
    u->file_name = store_col_dup(s, 9, a);
    u->size = sqlite3_column_int64(s, 10);
    u->received = sqlite3_column_int64(s, 11);
    rc = col_hash(s, 12, u->sha256) ? DG_OK : DG_ECORRUPT;
    u->chunk_size = (uint32_t)sqlite3_column_int64(s, 13);
    u->created_at = sqlite3_column_int64(s, 14);
    u->document_id = sqlite3_column_int64(s, 15);
    sqlite3_reset(s);
    if (rc == DG_OK &&
        (!u->kind || !u->title || !u->doc_date || !u->expires_on || !u->notes || !u->file_name))
        rc = DG_ENOMEM;
    *out = u;
    return rc;
}

static struct store_doc_hash *running_hash(dg_store *st, int64_t upload_id)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(st->doc_hashes); i++)
        if (st->doc_hashes[i].upload_id == upload_id)
            return &st->doc_hashes[i];
    return NULL;
}

static void forget_hash(struct store_doc_hash *h)
{
    if (!h)
        return;
    mbedtls_sha256_free(&h->ctx);
    h->upload_id = 0;
}

/* Adds a stored chunk to the upload's running hash: one from offset 0 on
 * starts it (in the least recently used slot), one at the next offset
 * extends it, any other ends it. */
static void hash_chunk(dg_store *st, const dg_doc_upload *u, const uint8_t *data, size_t len)
{
    struct store_doc_hash *h = running_hash(st, u->id);

    if (h && h->next != u->received) {
        forget_hash(h);
        h = NULL;
    }
    if (!h && u->received == 0) {
        h = &st->doc_hashes[0];
        for (size_t i = 1; i < DG_ARRAY_LEN(st->doc_hashes) && h->upload_id; i++)
            if (!st->doc_hashes[i].upload_id || st->doc_hashes[i].used < h->used)
                h = &st->doc_hashes[i];
        forget_hash(h->upload_id ? h : NULL);
        h->upload_id = u->id;
        h->next = 0;
        mbedtls_sha256_init(&h->ctx);
        (void)mbedtls_sha256_starts_ret(&h->ctx, 0); /* cannot fail for SHA-256 */
    }
    if (!h)
        return;
    if (len)
        (void)mbedtls_sha256_update_ret(&h->ctx, data, len);
    h->next += (int64_t)len;
    h->used = ++st->doc_hash_tick;
}

int dg_store_doc_upload_hash(dg_store *st, const dg_doc_upload *u, uint8_t out[DG_DOC_SHA256_LEN])
{
    struct store_doc_hash *h = running_hash(st, u->id);
    int rc = DG_ENOTFOUND;

    if (h && h->next == u->size && u->received == u->size) {
        (void)mbedtls_sha256_finish_ret(&h->ctx, out);
        rc = DG_OK;
    }
    forget_hash(h);
    return rc;
}

int dg_store_doc_upload_append(dg_store *st, const dg_doc_upload *u, int64_t idx,
                               const uint8_t *data, size_t len)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CHUNK_PUT);
    int rc;

    if (s) {
        sqlite3_bind_int64(s, 1, u->content_id);
        sqlite3_bind_int64(s, 2, idx);
        sqlite3_bind_blob64(s, 3, len ? data : (const void *)"", len, SQLITE_STATIC);
    }
    if ((rc = run(st, s)) != DG_OK)
        return rc;
    if ((s = store_stmt(st, SQL_UPLOAD_RECEIVED))) {
        sqlite3_bind_int64(s, 1, u->id);
        sqlite3_bind_int64(s, 2, (int64_t)len);
    }
    if ((rc = run(st, s)) == DG_OK)
        hash_chunk(st, u, data, len);
    return rc;
}

static int drop_upload(dg_store *st, int64_t upload_id, int64_t content_id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_UPLOAD_DELETE);
    int rc;

    if (s)
        sqlite3_bind_int64(s, 1, upload_id);
    if ((rc = run(st, s)) != DG_OK)
        return rc;
    if ((s = store_stmt(st, SQL_CONTENT_DROP_UNUSED)))
        sqlite3_bind_int64(s, 1, content_id);
    return run(st, s);
}

int dg_store_doc_upload_discard(dg_store *st, const dg_doc_upload *u)
{
    forget_hash(running_hash(st, u->id));
    return drop_upload(st, u->id, u->content_id);
}

int dg_store_doc_upload_done(dg_store *st, int64_t upload_id, int64_t content_id,
                             int64_t document_id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_UPLOAD_DONE);

    if (s) {
        sqlite3_bind_int64(s, 1, upload_id);
        sqlite3_bind_int64(s, 2, content_id);
        store_bind_id(s, 3, document_id);
    }
    return run(st, s);
}

int dg_store_doc_uploads_open(dg_store *st, int64_t user_id, int64_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_UPLOADS_OPEN);
    int rc;

    if (s)
        sqlite3_bind_int64(s, 1, user_id);
    if ((rc = first_row(st, s)) != DG_OK)
        return rc;
    *n = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return DG_OK;
}

int dg_store_doc_uploads_prune(dg_store *st, int64_t before, int max, int *n)
{
    int64_t ids[64][2];
    int k = 0, rc = DG_OK;
    sqlite3_stmt *s = store_stmt(st, SQL_UPLOADS_STALE);

    *n = 0;
    if (!s)
        return store_err(st, sqlite3_errcode(st->db));
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int(s, 2, max < 64 ? max : 64);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ids[k][0] = sqlite3_column_int64(s, 0);
        ids[k][1] = sqlite3_column_int64(s, 1);
        k++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store_err(st, rc);
    for (int i = 0; i < k; i++) {
        if ((rc = drop_upload(st, ids[i][0], ids[i][1])) != DG_OK)
            return rc;
        (*n)++;
    }
    return DG_OK;
}

int dg_store_doc_content_hash(dg_store *st, int64_t content_id, uint32_t chunk_size,
                              uint8_t out[DG_DOC_SHA256_LEN], int64_t *n_bytes, bool *is_whole)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CHUNKS_OF);
    mbedtls_sha256_context ctx;
    int64_t expect = 0;
    bool was_short = false;
    int rc;

    if (!s)
        return store_err(st, sqlite3_errcode(st->db));
    *n_bytes = 0;
    *is_whole = true;
    mbedtls_sha256_init(&ctx);
    (void)mbedtls_sha256_starts_ret(&ctx, 0); /* cannot fail for SHA-256 */
    sqlite3_bind_int64(s, 1, content_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(s, 1);
        int len = sqlite3_column_bytes(s, 1);

        /* in order, no gap, and only the last one shorter than chunk_size */
        if (sqlite3_column_int64(s, 0) != expect++ || was_short || (uint32_t)len > chunk_size)
            *is_whole = false;
        was_short = (uint32_t)len < chunk_size;
        if (len > 0)
            (void)mbedtls_sha256_update_ret(&ctx, p, (size_t)len);
        *n_bytes += len;
    }
    sqlite3_reset(s);
    (void)mbedtls_sha256_finish_ret(&ctx, out);
    mbedtls_sha256_free(&ctx);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_doc_content_by_hash(dg_store *st, const uint8_t sha256[DG_DOC_SHA256_LEN], int64_t *id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CONTENT_BY_HASH);
    int rc;

    if (s)
        sqlite3_bind_blob(s, 1, sha256, DG_DOC_SHA256_LEN, SQLITE_STATIC);
    if ((rc = first_row(st, s)) != DG_OK)
        return rc;
    *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return DG_OK;
}

int dg_store_doc_content_seal(dg_store *st, int64_t content_id,
                              const uint8_t sha256[DG_DOC_SHA256_LEN])
{
    sqlite3_stmt *s = store_stmt(st, SQL_CONTENT_SEAL);

    if (s) {
        sqlite3_bind_int64(s, 1, content_id);
        sqlite3_bind_blob(s, 2, sha256, DG_DOC_SHA256_LEN, SQLITE_STATIC);
    }
    return run(st, s);
}

int dg_store_doc_content_drop(dg_store *st, int64_t content_id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CONTENT_DROP);

    if (s)
        sqlite3_bind_int64(s, 1, content_id);
    return run(st, s);
}

int dg_store_doc_content_stats(dg_store *st, int64_t *n_contents, int64_t *n_bytes)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CONTENT_STATS);
    int rc = first_row(st, s);

    if (rc != DG_OK)
        return rc;
    *n_contents = sqlite3_column_int64(s, 0);
    *n_bytes = sqlite3_column_int64(s, 1);
    sqlite3_reset(s);
    return DG_OK;
}

int dg_store_doc_insert(dg_store *st, dg_doc *d)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DOC_INSERT);
    int rc;

    if (s) {
        sqlite3_bind_int64(s, 1, d->customer_id);
        store_bind_text(s, 2, d->kind);
        store_bind_text(s, 3, d->title);
        store_bind_text(s, 4, d->doc_date);
        store_bind_text(s, 5, d->expires_on);
        store_bind_text(s, 6, d->notes);
        store_bind_text(s, 7, d->file_name);
        sqlite3_bind_int64(s, 8, d->content_id);
        sqlite3_bind_int64(s, 9, d->version);
        sqlite3_bind_int64(s, 10, d->created_at);
        store_bind_id(s, 11, d->created_by);
    }
    if ((rc = run(st, s)) != DG_OK)
        return rc;
    d->id = sqlite3_last_insert_rowid(st->db);
    return DG_OK;
}

/* The current row (DOC_COLUMNS) into `d`, strings in `a`. */
static int read_doc(sqlite3_stmt *s, dg_arena *a, dg_doc *d)
{
    d->id = sqlite3_column_int64(s, 0);
    d->customer_id = sqlite3_column_int64(s, 1);
    d->kind = store_col_dup(s, 2, a);
    d->title = store_col_dup(s, 3, a);
    d->doc_date = store_col_dup(s, 4, a);
    d->expires_on = store_col_dup(s, 5, a);
    d->notes = store_col_dup(s, 6, a);
    d->file_name = store_col_dup(s, 7, a);
    d->content_id = sqlite3_column_int64(s, 8);
    d->size = sqlite3_column_int64(s, 9);
    if (!col_hash(s, 10, d->sha256))
        return DG_ECORRUPT; /* a document's content is always sealed */
    d->chunk_size = (uint32_t)sqlite3_column_int64(s, 11);
    d->version = sqlite3_column_int64(s, 12);
    d->is_archived = sqlite3_column_int64(s, 13) != 0;
    d->created_at = sqlite3_column_int64(s, 14);
    d->created_by = sqlite3_column_int64(s, 15);
    d->archived_at = sqlite3_column_int64(s, 16);
    d->archived_by = sqlite3_column_int64(s, 17);
    if (!d->kind || !d->title || !d->doc_date || !d->expires_on || !d->notes || !d->file_name)
        return DG_ENOMEM;
    return DG_OK;
}

int dg_store_doc_get(dg_store *st, int64_t id, dg_arena *a, dg_doc **out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DOC_GET);
    int rc;

    if (s)
        sqlite3_bind_int64(s, 1, id);
    if ((rc = first_row(st, s)) != DG_OK)
        return rc;
    if (!(*out = dg_arena_calloc(a, 1, sizeof **out)))
        rc = DG_ENOMEM;
    else
        rc = read_doc(s, a, *out);
    sqlite3_reset(s);
    return rc;
}

int dg_store_doc_archive(dg_store *st, int64_t id, int64_t version, int64_t at, int64_t by)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DOC_ARCHIVE);

    if (s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, version);
        sqlite3_bind_int64(s, 3, at);
        store_bind_id(s, 4, by);
    }
    return run(st, s);
}

int dg_store_doc_list(dg_store *st, const dg_doc_query *q, dg_arena *a, dg_doc **out, size_t *n,
                      bool *has_more)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DOC_LIST);
    char year[8];
    dg_doc *docs;
    int rc = DG_OK, step;

    *n = 0;
    *has_more = false;
    if (!s)
        return store_err(st, sqlite3_errcode(st->db));
    if (!(docs = dg_arena_calloc(a, q->limit ? q->limit : 1, sizeof *docs)))
        return DG_ENOMEM;
    snprintf(year, sizeof year, "%04d-", q->year);
    sqlite3_bind_int64(s, 1, q->customer_id);
    store_bind_text(s, 2, q->kind);
    store_bind_text(s, 3, q->year ? year : NULL);
    sqlite3_bind_int(s, 4, q->include_archived);
    sqlite3_bind_int64(s, 5, (int64_t)q->limit + 1);
    while (rc == DG_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == q->limit) {
            *has_more = true;
            break;
        }
        rc = read_doc(s, a, &docs[(*n)++]);
    }
    if (rc == DG_OK && !*has_more && step != SQLITE_DONE)
        rc = store_err(st, step);
    sqlite3_reset(s);
    *out = docs;
    return rc;
}

int dg_store_doc_chunk_get(dg_store *st, int64_t content_id, int64_t idx, dg_arena *a,
                           const uint8_t **data, size_t *len)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CHUNK_GET);
    uint8_t *copy;
    int rc;

    if (s) {
        sqlite3_bind_int64(s, 1, content_id);
        sqlite3_bind_int64(s, 2, idx);
    }
    if ((rc = first_row(st, s)) != DG_OK)
        return rc;
    *len = (size_t)sqlite3_column_bytes(s, 0);
    if (!(copy = dg_arena_alloc(a, *len ? *len : 1))) {
        sqlite3_reset(s);
        return DG_ENOMEM;
    }
    if (*len)
        memcpy(copy, sqlite3_column_blob(s, 0), *len);
    sqlite3_reset(s);
    *data = copy;
    return DG_OK;
}

/* One sealed content against its hash and size; bad() when it fails. */
static int verify_one(dg_store *st, int64_t id, const uint8_t want[DG_DOC_SHA256_LEN], int64_t size,
                      uint32_t chunk_size,
                      void (*bad)(void *ud, int64_t content_id, const char *why), void *ud)
{
    uint8_t got[DG_DOC_SHA256_LEN];
    int64_t n_bytes;
    bool is_whole;
    char why[160];
    int rc = dg_store_doc_content_hash(st, id, chunk_size, got, &n_bytes, &is_whole);

    if (rc != DG_OK)
        return rc;
    if (n_bytes != size || !is_whole)
        snprintf(why, sizeof why, "its chunks hold %lld bytes%s, %lld expected", (long long)n_bytes,
                 is_whole ? "" : " out of order or cut", (long long)size);
    else if (memcmp(got, want, DG_DOC_SHA256_LEN) != 0)
        snprintf(why, sizeof why, "its bytes do not hash to its SHA-256");
    else
        return DG_OK;
    bad(ud, id, why);
    return DG_OK;
}

int dg_store_doc_verify(dg_store *st, void (*bad)(void *ud, int64_t content_id, const char *why),
                        void *ud, int64_t *n)
{
    struct {
        int64_t id, size;
        uint8_t sha[DG_DOC_SHA256_LEN];
        uint32_t chunk_size;
    } page[100];
    int64_t after = 0;
    int k, rc, step;

    *n = 0;
    do { /* a page of content rows at a time: hashing runs other statements */
        sqlite3_stmt *s = store_stmt(st, SQL_CONTENTS_SEALED);

        if (!s)
            return store_err(st, sqlite3_errcode(st->db));
        sqlite3_bind_int64(s, 1, after);
        for (k = 0; (step = sqlite3_step(s)) == SQLITE_ROW; k++) {
            page[k].id = sqlite3_column_int64(s, 0);
            if (!col_hash(s, 1, page[k].sha))
                memset(page[k].sha, 0, DG_DOC_SHA256_LEN); /* cannot match: reported */
            page[k].size = sqlite3_column_int64(s, 2);
            page[k].chunk_size = (uint32_t)sqlite3_column_int64(s, 3);
        }
        sqlite3_reset(s);
        if (step != SQLITE_DONE)
            return store_err(st, step);
        for (int i = 0; i < k; i++) {
            if ((rc = verify_one(st, page[i].id, page[i].sha, page[i].size, page[i].chunk_size, bad,
                                 ud)) != DG_OK)
                return rc;
            (*n)++;
            after = page[i].id;
        }
    } while (k == (int)DG_ARRAY_LEN(page));
    return DG_OK;
}
