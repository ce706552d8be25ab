/* documents.h - what an upload, its chunks, its finish and an archive of a
 * document write, inside the writer's transaction: the rows (store_docs.h),
 * and for the document itself its change-feed row and audit record, all of
 * it or none of it.
 *
 * Who may: a document is part of its customer's dossier. Uploading and
 * archiving need the right to change that dossier (perm.c, as for a
 * contact); a customer the actor may not see, and every document in it, is
 * refused exactly as one that does not exist (m->is_hidden says which, for
 * the audit record). An upload belongs to the user who began it; to anyone
 * else it does not exist.
 * Runs on: the writer thread.
 */
#ifndef DG_DOCUMENTS_H
#define DG_DOCUMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "records.h"
#include "store_docs.h"

/* The chunk size of new uploads: 1 MiB, or less when the connection's
 * frame limit (`max_frame`, bytes) could not carry a chunk and its
 * envelope (a power of two, at least 16 KiB). */
uint32_t dg_doc_chunk_size(uint32_t max_frame);

/* Unfinished uploads a user may have at once: each may hold up to the size
 * limit on disk until it is finished or abandoned (a week). */
#define DG_DOC_MAX_OPEN_UPLOADS 32

/* Begins an upload of `u` (customer_id, declared metadata, size, sha256,
 * chunk_size filled by the caller; user and time from c): checks the
 * customer, then stores it (u->id set). DG_OK, DG_ENOTFOUND, DG_EDENIED,
 * DG_ESTATE (archived customer), DG_EFULL (DG_DOC_MAX_OPEN_UPLOADS
 * unfinished already: m->field "upload_id"), or a store error; m says why. */
int dg_doc_begin(dg_rec_ctx *c, dg_doc_upload *u, dg_mutation *m);

/* Stores `len` bytes at `offset` of upload `upload_id`: offset must be
 * where the upload stands and len chunk_size, or the rest for the last
 * chunk. *received: the bytes stored after it. DG_OK, DG_ENOTFOUND (no
 * such upload of the actor), DG_ESTATE (finished, or another offset:
 * m->field "offset"), DG_EINVAL (a wrong length), or a store error. */
int dg_doc_append(dg_rec_ctx *c, int64_t upload_id, int64_t offset, const uint8_t *data, size_t len,
                  int64_t *received, dg_mutation *m);

/* The actor's upload `upload_id` (any state): DG_OK, DG_ENOTFOUND. */
int dg_doc_upload_of(dg_store *st, const dg_actor *who, int64_t upload_id, dg_arena *a,
                     dg_doc_upload **out);

/* Finishes upload `upload_id`, whose stored bytes hash to `verified` (the
 * caller hashed them), or with `verified` NULL to the running hash the
 * writer kept as they arrived (dg_store_doc_upload_hash); when it has none,
 * or it does not match, DG_EAGAIN: hash the stored bytes and call again.
 * They must be all of it and match the declared hash.
 * Seals the content, or shares an identical stored one (*is_dedup), makes
 * the document with its change row and audit record; *out the document.
 * A finished upload answers its document again (*is_replay). DG_OK,
 * DG_ENOTFOUND, DG_EDENIED, DG_ESTATE (incomplete, or the customer
 * archived), DG_EINVAL (m->field "sha256": the bytes do not match), or a
 * store error. */
int dg_doc_finish(dg_rec_ctx *c, int64_t upload_id, const uint8_t verified[DG_DOC_SHA256_LEN],
                  dg_doc **out, bool *is_dedup, bool *is_replay, dg_mutation *m);

/* Drops the actor's upload and its stored bytes (a wrong hash). */
int dg_doc_discard(dg_rec_ctx *c, int64_t upload_id);

/* Archives document `id` (version + 1) with its change row and audit
 * record; *out the document after. DG_OK, DG_ENOTFOUND (none, or hidden:
 * m->is_hidden), DG_EDENIED, DG_ESTATE (already archived, or its customer
 * is), or a store error. */
int dg_doc_archive(dg_rec_ctx *c, int64_t id, dg_doc **out, dg_mutation *m);

/* Abandoned uploads: those begun more than `max_age_ms` before `now` and
 * never finished are deleted with their bytes (at most `max`); *n how many. */
int dg_doc_prune_uploads(dg_store *st, int64_t now, int64_t max_age_ms, int max, int *n);

#endif
