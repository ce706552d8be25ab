/* store_docs.h - documents attached to a customer: their rows, their
 * content and uploads in progress (schema v7). Part of the storage seam
 * (store.h): our structs and dg_err codes only.
 *
 * Content is stored once per SHA-256 (a content row) as BLOB chunks of the
 * content's chunk_size, in order (idx = offset / chunk_size), inside the
 * database: backup, restore and the WAL's durability cover it as any row.
 * An upload owns a content row without a hash until it is finished; then
 * the content is sealed with its hash, or dropped for an identical one
 * already stored (deduplication).
 *
 * Write functions run inside the writer's transaction; reads on any
 * connection inside a read transaction. Strings returned live in the
 * caller's arena.
 */
#ifndef DG_STORE_DOCS_H
#define DG_STORE_DOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "store.h"

#define DG_DOC_SHA256_LEN 32

typedef struct dg_doc {
    int64_t id;
    int64_t customer_id;
    const char *kind; /* stored DocKind name: "contract", ... */
    const char *title;
    const char *doc_date;   /* YYYY-MM-DD */
    const char *expires_on; /* YYYY-MM-DD or "" */
    const char *notes;
    const char *file_name;
    int64_t content_id;
    int64_t size; /* bytes */
    uint8_t sha256[DG_DOC_SHA256_LEN];
    uint32_t chunk_size; /* bytes per stored chunk */
    int64_t version;
    bool is_archived;
    int64_t created_at, archived_at; /* unix ms; archived_at 0 unless archived */
    int64_t created_by, archived_by; /* user ids; 0: none */
} dg_doc;

typedef struct dg_doc_upload {
    int64_t id;
    int64_t user_id; /* who began it: only they may go on with it */
    int64_t customer_id;
    int64_t content_id;
    const char *kind, *title, *doc_date, *expires_on, *notes, *file_name;
    int64_t size;                      /* declared, bytes */
    int64_t received;                  /* bytes stored so far */
    uint8_t sha256[DG_DOC_SHA256_LEN]; /* declared */
    uint32_t chunk_size;
    int64_t created_at;
    int64_t document_id; /* 0 until finished */
} dg_doc_upload;

/* Inserts the upload's content row (no hash yet) and its row; sets u->id
 * and u->content_id. DG_OK or a store error. */
int dg_store_doc_upload_new(dg_store *st, dg_doc_upload *u);
/* The upload `id`. DG_OK, DG_ENOTFOUND, DG_ENOMEM or a store error. */
int dg_store_doc_upload_get(dg_store *st, int64_t id, dg_arena *a, dg_doc_upload **out);
/* Stores chunk `idx` of the upload's content and adds len to received. */
int dg_store_doc_upload_append(dg_store *st, const dg_doc_upload *u, int64_t idx,
                               const uint8_t *data, size_t len);
/* The SHA-256 of every byte the upload received, when this connection saw
 * them all arrive in order (dg_store_doc_upload_append keeps a running hash
 * of each upload, for a few at a time): DG_OK, or DG_ENOTFOUND (not known:
 * hash the stored chunks, dg_store_doc_content_hash). The running hash is
 * let go either way. */
int dg_store_doc_upload_hash(dg_store *st, const dg_doc_upload *u, uint8_t out[DG_DOC_SHA256_LEN]);
/* Deletes the upload and its content (chunks included) unless a document
 * uses that content. */
int dg_store_doc_upload_discard(dg_store *st, const dg_doc_upload *u);
/* Marks the upload finished: it made `document_id`, whose content is
 * `content_id` (the upload's own or the identical one it was deduplicated
 * to). */
int dg_store_doc_upload_done(dg_store *st, int64_t upload_id, int64_t content_id,
                             int64_t document_id);
/* How many unfinished uploads `user_id` has. */
int dg_store_doc_uploads_open(dg_store *st, int64_t user_id, int64_t *n);
/* Uploads begun before `before` (unix ms) and not finished, at most `max`:
 * deleted with their content; *n gets how many. */
int dg_store_doc_uploads_prune(dg_store *st, int64_t before, int max, int *n);

/* The SHA-256 of a content's chunks in order, and the bytes they hold
 * (*n_bytes), and whether the chunks are 0..k-1 each chunk_size long but
 * the last (*is_whole). Reads one chunk at a time. */
int dg_store_doc_content_hash(dg_store *st, int64_t content_id, uint32_t chunk_size,
                              uint8_t out[DG_DOC_SHA256_LEN], int64_t *n_bytes, bool *is_whole);
/* The sealed content with this hash: DG_OK (*id), DG_ENOTFOUND. */
int dg_store_doc_content_by_hash(dg_store *st, const uint8_t sha256[DG_DOC_SHA256_LEN],
                                 int64_t *id);
/* Gives an upload's content its (verified) hash. */
int dg_store_doc_content_seal(dg_store *st, int64_t content_id,
                              const uint8_t sha256[DG_DOC_SHA256_LEN]);
/* Deletes a content row and its chunks. */
int dg_store_doc_content_drop(dg_store *st, int64_t content_id);
/* Sealed content rows and their chunks' bytes, for statistics. */
int dg_store_doc_content_stats(dg_store *st, int64_t *n_contents, int64_t *n_bytes);

/* Inserts a document (d->id set). */
int dg_store_doc_insert(dg_store *st, dg_doc *d);
/* The document `id` with its content's size, hash and chunk size. */
int dg_store_doc_get(dg_store *st, int64_t id, dg_arena *a, dg_doc **out);
/* Archives document `id`: version, archived_at, archived_by. */
int dg_store_doc_archive(dg_store *st, int64_t id, int64_t version, int64_t at, int64_t by);

typedef struct dg_doc_query {
    int64_t customer_id;
    const char *kind; /* NULL: every kind */
    int year;         /* 0: every year */
    bool include_archived;
    uint32_t limit;
} dg_doc_query;
/* A customer's documents in filing order (kind, date, id), at most q->limit;
 * *has_more when more matched. */
int dg_store_doc_list(dg_store *st, const dg_doc_query *q, dg_arena *a, dg_doc **out, size_t *n,
                      bool *has_more);
/* Chunk `idx` of a content; *data points into `a`. DG_ENOTFOUND when absent. */
int dg_store_doc_chunk_get(dg_store *st, int64_t content_id, int64_t idx, dg_arena *a,
                           const uint8_t **data, size_t *len);

/* Verifies every sealed content: its chunks hash to its sha256 and hold
 * its size. Calls bad(ud, content_id, why) for each that does not; *n
 * gets how many were checked. DG_OK (whatever was found) or a store error. */
int dg_store_doc_verify(dg_store *st, void (*bad)(void *ud, int64_t content_id, const char *why),
                        void *ud, int64_t *n);

#endif
