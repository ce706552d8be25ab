/* documents.c - uploads, finishes and archives of documents inside the
 * writer's transaction: see documents.h. Runs on: the writer thread
 * (dg_doc_chunk_size: any thread).
 */
#include "documents.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "dg.h"
#include "perm.h"
#include "writer.h"

#define CHUNK_MAX (1u << 20)
#define CHUNK_MIN (16u << 10)
#define ENVELOPE 4096 /* a chunk request's bytes besides the chunk */

uint32_t dg_doc_chunk_size(uint32_t max_frame)
{
    uint32_t c = CHUNK_MAX;

    while (c > CHUNK_MIN && c + ENVELOPE > max_frame)
        c /= 2;
    return c;
}

static int refuse(dg_mutation *m, int rc, const char *field, const char *why)
{
    snprintf(m->field, sizeof m->field, "%s", field);
    snprintf(m->why, sizeof m->why, "%s", why);
    return rc;
}

static dg_visibility visibility_of(const dg_record *customer)
{
    return (dg_visibility){true, dg_customer_owner(customer), (int)dg_customer_tier(customer)};
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static const char *customer_text(const dg_record *customer, const char *name)
{
    return customer->v[dg_entity_field_index(dg_entity_get(DG_KIND_CUSTOMER), name)].s;
}

/* The values the change row keeps of document `d`'s items (as a record's,
 * records_values.c): a new one's kind, title and expiry; archived. */
static void doc_values(const dg_doc *d, bool is_new, const char *const *fields, size_t n,
                       const char **olds, const char **news)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i], "archived") == 0) {
            olds[i] = is_new ? NULL : d->is_archived ? "false" : "true";
            news[i] = d->is_archived ? "true" : "false";
        } else if (is_new && strcmp(fields[i], "kind") == 0) {
            news[i] = d->kind;
        } else if (is_new && strcmp(fields[i], "title") == 0) {
            news[i] = d->title;
        } else if (is_new && strcmp(fields[i], "expires_on") == 0) {
            news[i] = d->expires_on;
        }
    }
}

/* The document's change row and audit record ("document.VERB"), with
 * `detail` (taken) and the change's seq in it. */
static int doc_change(dg_rec_ctx *c, const dg_doc *d, const dg_record *customer, const char *op,
                      const char *verb, const char *const *fields, size_t n_fields, json_t *detail,
                      dg_mutation *m)
{
    const char *olds[8] = {0}, *news[8] = {0};
    bool is_new = strcmp(op, "created") == 0;
    dg_change ch = {.at = c->now,
                    .actor_id = c->who->user_id,
                    .entity = "document",
                    .entity_id = d->id,
                    .customer_id = d->customer_id,
                    .op = op,
                    .version = d->version,
                    .fields = fields,
                    .n_fields = n_fields,
                    .old_values = is_new ? NULL : olds,
                    .new_values = news,
                    .vis_before =
                        strcmp(op, "created") ? visibility_of(customer) : (dg_visibility){0},
                    .customer_name = customer_text(customer, "name"),
                    .customer_code = customer_text(customer, "code"),
                    .vis_after = visibility_of(customer)};
    char action[48], *text;
    int rc;

    if (!detail)
        return DG_ENOMEM;
    dg_assert(n_fields <= DG_ARRAY_LEN(news));
    doc_values(d, is_new, fields, n_fields, olds, news);
    if ((rc = dg_wtx_change_append(c->tx, &ch, &m->seq)) != DG_OK) {
        json_decref(detail);
        return rc;
    }
    json_object_set_new(detail, "change_seq", json_integer((json_int_t)m->seq));
    json_object_set_new(detail, "customer_id", json_integer((json_int_t)d->customer_id));
    text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (!text)
        return DG_ENOMEM;
    snprintf(action, sizeof action, "document.%s", verb);
    dg_audit_rec rec = {.at = c->now,
                        .user_id = c->who->user_id,
                        .username = c->who->username,
                        .peer = c->who->peer,
                        .action = action,
                        .entity = "document",
                        .entity_id = d->id,
                        .outcome = "ok",
                        .detail = text};
    rc = dg_audit_append(c->tx->store, c->tx->audit, &rec);
    free(text);
    return rc;
}

/* The live customer whose dossier the actor may change, read back. */
static int dossier(dg_rec_ctx *c, int64_t customer_id, dg_record **out, dg_mutation *m)
{
    int rc = dg_rec_check_customer(c, customer_id, m);

    return rc == DG_OK
               ? dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, customer_id, c->arena, out)
               : rc;
}

int dg_doc_begin(dg_rec_ctx *c, dg_doc_upload *u, dg_mutation *m)
{
    dg_record *customer;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    int64_t n_open;

    if ((rc = dossier(c, u->customer_id, &customer, m)) != DG_OK ||
        (rc = dg_store_doc_uploads_open(c->tx->store, c->who->user_id, &n_open)) != DG_OK)
        return rc;
    if (n_open >= DG_DOC_MAX_OPEN_UPLOADS)
        return refuse(m, DG_EFULL, "upload_id",
                      "you have 32 unfinished uploads: finish them, or wait a week until the "
                      "server drops them");
    u->user_id = c->who->user_id;
    u->created_at = c->now;
    return dg_store_doc_upload_new(c->tx->store, u);
}

int dg_doc_upload_of(dg_store *st, const dg_actor *who, int64_t upload_id, dg_arena *a,
                     dg_doc_upload **out)
{
    int rc = dg_store_doc_upload_get(st, upload_id, a, out);

    if (rc == DG_OK && (*out)->user_id != who->user_id)
        return DG_ENOTFOUND; /* someone else's upload does not exist for this user */
    return rc;
}

static int no_upload(dg_mutation *m)
{
    return refuse(m, DG_ENOTFOUND, "upload_id", "no such upload");
}

int dg_doc_append(dg_rec_ctx *c, int64_t upload_id, int64_t offset, const uint8_t *data, size_t len,
                  int64_t *received, dg_mutation *m)
{
    dg_doc_upload *u;
    char why[160];
    int64_t want;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    if ((rc = dg_doc_upload_of(c->tx->store, c->who, upload_id, c->arena, &u)) != DG_OK)
        return rc == DG_ENOTFOUND ? no_upload(m) : rc;
    if (u->document_id)
        return refuse(m, DG_ESTATE, "upload_id", "the upload is finished");
    if (offset != u->received) {
        snprintf(why, sizeof why,
                 "the upload stands at %lld bytes; send the chunk at that offset (DocUploadStatus)",
                 (long long)u->received);
        return refuse(m, DG_ESTATE, "offset", why);
    }
    want = u->size - offset < u->chunk_size ? u->size - offset : u->chunk_size;
    if ((int64_t)len != want || len == 0) {
        snprintf(why, sizeof why, "%zu bytes; this chunk must hold %lld", len, (long long)want);
        return refuse(m, DG_EINVAL, "data", why);
    }
    if ((rc = dg_store_doc_upload_append(c->tx->store, u, offset / u->chunk_size, data, len)) !=
        DG_OK)
        return rc;
    *received = u->received + (int64_t)len;
    return DG_OK;
}

/* A finished upload's document again. */
static int replay_finish(dg_rec_ctx *c, const dg_doc_upload *u, dg_doc **out, dg_mutation *m)
{
    dg_record *customer;
    int rc = dossier(c, u->customer_id, &customer, m);

    return rc == DG_OK ? dg_store_doc_get(c->tx->store, u->document_id, c->arena, out) : rc;
}

/* The upload's content sealed, or dropped for an identical stored one:
 * the content id the document uses. */
static int store_content(dg_rec_ctx *c, const dg_doc_upload *u, int64_t *content_id, bool *is_dedup)
{
    int rc = dg_store_doc_content_by_hash(c->tx->store, u->sha256, content_id);

    *is_dedup = rc == DG_OK;
    if (rc == DG_ENOTFOUND) {
        *content_id = u->content_id;
        return dg_store_doc_content_seal(c->tx->store, u->content_id, u->sha256);
    }
    if (rc != DG_OK)
        return rc;
    /* the upload must point at the kept content before its own goes */
    if ((rc = dg_store_doc_upload_done(c->tx->store, u->id, *content_id, 0)) != DG_OK)
        return rc;
    return dg_store_doc_content_drop(c->tx->store, u->content_id);
}

int dg_doc_finish(dg_rec_ctx *c, int64_t upload_id, const uint8_t verified[DG_DOC_SHA256_LEN],
                  dg_doc **out, bool *is_dedup, bool *is_replay, dg_mutation *m)
{
    static const char *const fields[] = {"kind",       "title", "doc_date",
                                         "expires_on", "notes", "file_name"};
    dg_doc_upload *u;
    dg_record *customer;
    dg_doc *d;
    char sha[2 * DG_DOC_SHA256_LEN + 1];
    uint8_t running[DG_DOC_SHA256_LEN];
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    *is_dedup = *is_replay = false;
    if ((rc = dg_doc_upload_of(c->tx->store, c->who, upload_id, c->arena, &u)) != DG_OK)
        return rc == DG_ENOTFOUND ? no_upload(m) : rc;
    if (u->document_id) {
        *is_replay = true;
        return replay_finish(c, u, out, m);
    }
    if ((rc = dossier(c, u->customer_id, &customer, m)) != DG_OK)
        return rc;
    if (u->received != u->size)
        return refuse(m, DG_ESTATE, "upload_id", "not every byte has arrived (DocUploadStatus)");
    if (!verified) { /* a mismatch too is left to the reader's hash of what is stored */
        if (dg_store_doc_upload_hash(c->tx->store, u, running) != DG_OK ||
            memcmp(running, u->sha256, DG_DOC_SHA256_LEN) != 0)
            return DG_EAGAIN;
        verified = running;
    }
    if (memcmp(verified, u->sha256, DG_DOC_SHA256_LEN) != 0)
        return refuse(m, DG_EINVAL, "sha256", "the bytes received do not have this SHA-256");
    if (!(d = dg_arena_calloc(c->arena, 1, sizeof *d)))
        return DG_ENOMEM;
    if ((rc = store_content(c, u, &d->content_id, is_dedup)) != DG_OK)
        return rc;
    *d = (dg_doc){.customer_id = u->customer_id,
                  .kind = u->kind,
                  .title = u->title,
                  .doc_date = u->doc_date,
                  .expires_on = u->expires_on,
                  .notes = u->notes,
                  .file_name = u->file_name,
                  .content_id = d->content_id,
                  .size = u->size,
                  .chunk_size = u->chunk_size,
                  .version = 1,
                  .created_at = c->now,
                  .created_by = c->who->user_id};
    memcpy(d->sha256, u->sha256, DG_DOC_SHA256_LEN);
    if ((rc = dg_store_doc_insert(c->tx->store, d)) != DG_OK ||
        (rc = dg_store_doc_upload_done(c->tx->store, u->id, d->content_id, d->id)) != DG_OK)
        return rc;
    /* a shared content keeps the chunk size it was stored with */
    if (*is_dedup && (rc = dg_store_doc_get(c->tx->store, d->id, c->arena, &d)) != DG_OK)
        return rc;
    hex(u->sha256, DG_DOC_SHA256_LEN, sha);
    *out = d;
    return doc_change(c, d, customer, "created", "create", fields, DG_ARRAY_LEN(fields),
                      json_pack("{s:s,s:s,s:I,s:s,s:b}", "kind", d->kind, "title", d->title, "size",
                                (json_int_t)d->size, "sha256", sha, "deduplicated", *is_dedup),
                      m);
}

int dg_doc_discard(dg_rec_ctx *c, int64_t upload_id)
{
    dg_doc_upload *u;
    int rc = dg_doc_upload_of(c->tx->store, c->who, upload_id, c->arena, &u);

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    if (rc == DG_ENOTFOUND || (rc == DG_OK && u->document_id))
        return DG_OK; /* gone already, or finished meanwhile: nothing to drop */
    return rc == DG_OK ? dg_store_doc_upload_discard(c->tx->store, u) : rc;
}

int dg_doc_archive(dg_rec_ctx *c, int64_t id, dg_doc **out, dg_mutation *m)
{
    static const char *const fields[] = {"archived"};
    dg_record *customer;
    dg_doc *d;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    rc = dg_store_doc_get(c->tx->store, id, c->arena, &d);
    if (rc == DG_OK)
        rc = dossier(c, d->customer_id, &customer, m);
    if (rc == DG_ENOTFOUND) {
        bool is_hidden = m->is_hidden;

        /* a hidden customer's document reads as a missing one */
        refuse(m, DG_ENOTFOUND, "id", "no such document");
        m->is_hidden = is_hidden;
        return DG_ENOTFOUND;
    }
    if (rc != DG_OK)
        return rc;
    if (d->is_archived)
        return refuse(m, DG_ESTATE, "id", "already archived");
    d->version++;
    d->is_archived = true;
    d->archived_at = c->now;
    d->archived_by = c->who->user_id;
    if ((rc = dg_store_doc_archive(c->tx->store, id, d->version, c->now, c->who->user_id)) != DG_OK)
        return rc;
    *out = d;
    return doc_change(c, d, customer, "archived", "archive", fields, 1,
                      json_pack("{s:s,s:s}", "kind", d->kind, "title", d->title), m);
}

int dg_doc_prune_uploads(dg_store *st, int64_t now, int64_t max_age_ms, int max, int *n)
{
    return dg_store_doc_uploads_prune(st, now - max_age_ms, max, n);
}
