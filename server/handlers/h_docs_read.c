/* h_docs_read.c - a customer's documents: DocList, DocGet, DocReadChunk
 * (reads, on a reader thread) and DocArchive (a write job).
 *
 * A document follows its customer's visibility (perm.c): in a restricted
 * customer's dossier the caller may not see, it is answered exactly as a
 * missing one and the attempt audited. Every read of a restricted
 * customer's documents is audited, as a Get of its records is; every chunk
 * of content read is audited whoever the customer is: a download leaves
 * its trail. Loop thread, except read_run (reader) and archive_run (writer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "documents.h"
#include "h_docs.h"
#include "h_write.h"
#include "handlers.h"
#include "record_pb.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 5000

Dangan__V1__Document *dg_h_doc_pb(dg_req *req, const dg_doc *d)
{
    Dangan__V1__Document *p = dg_req_alloc(req, sizeof *p);

    if (!p)
        return NULL;
    dangan__v1__document__init(p);
    p->id = d->id;
    p->customer_id = d->customer_id;
    for (int k = 1; dg_h_doc_kind_name(k); k++)
        if (!strcmp(dg_h_doc_kind_name(k), d->kind))
            p->kind = (Dangan__V1__DocKind)k;
    p->title = (char *)d->title;
    p->doc_date = (char *)d->doc_date;
    p->expires_on = (char *)d->expires_on;
    p->notes = (char *)d->notes;
    p->file_name = (char *)d->file_name;
    p->size = d->size;
    p->sha256.data = (uint8_t *)d->sha256;
    p->sha256.len = DG_DOC_SHA256_LEN;
    p->chunk_size = d->chunk_size;
    p->version = d->version;
    p->archived = d->is_archived;
    p->created_at_ms = d->created_at;
    p->created_by = dg_user_ref_pb(req, d->created_by);
    p->archived_at_ms = d->archived_at;
    return p;
}

/* ------------------------------------------------------------ reads */

enum doc_query { Q_LIST, Q_GET, Q_CHUNK };

struct doc_read {
    dg_job job;
    dg_req *req;
    enum doc_query q;
    int64_t id;      /* Q_GET, Q_CHUNK: the document */
    int64_t offset;  /* Q_CHUNK */
    dg_doc_query lq; /* Q_LIST */
    dg_doc *doc;     /* Q_GET, Q_CHUNK */
    dg_doc *docs;    /* Q_LIST */
    size_t n_docs;
    bool has_more;
    dg_record *customer; /* whose visibility decides */
    const uint8_t *data; /* Q_CHUNK, in the request's arena */
    size_t len;
    bool is_bad_offset;
};

static void read_run(dg_job *job, void *ctx)
{
    struct doc_read *r = (struct doc_read *)job;
    dg_store *st = ctx;
    dg_arena *a = r->req->arena;
    int rc;

    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    if (r->q == Q_LIST) {
        rc = dg_store_rec_get(st, DG_KIND_CUSTOMER, r->lq.customer_id, a, &r->customer);
        if (rc == DG_OK)
            rc = dg_store_doc_list(st, &r->lq, a, &r->docs, &r->n_docs, &r->has_more);
    } else {
        rc = dg_store_doc_get(st, r->id, a, &r->doc);
        if (rc == DG_OK)
            rc = dg_store_rec_get(st, DG_KIND_CUSTOMER, r->doc->customer_id, a, &r->customer);
    }
    if (rc == DG_OK && r->q == Q_CHUNK) {
        r->is_bad_offset = r->offset % r->doc->chunk_size != 0 ||
                           (r->offset >= r->doc->size && !(r->offset == 0 && r->doc->size == 0));
        if (!r->is_bad_offset && r->doc->size > 0)
            rc = dg_store_doc_chunk_get(st, r->doc->content_id, r->offset / r->doc->chunk_size, a,
                                        &r->data, &r->len);
        if (rc == DG_ENOTFOUND)
            rc = DG_ECORRUPT; /* a sealed content lacks a chunk: `dangand check` names it */
    }
    dg_store_read_end(st);
    job->rc = rc;
}

static void submit_read(dg_req *req, struct doc_read *r, void (*done)(dg_job *))
{
    int rc;

    r->req = req;
    r->job.run = read_run;
    r->job.done = done;
    if ((rc = dg_server_read(req->srv, &r->job)) != DG_OK) {
        free(r);
        dg_h_fail_job(req, rc);
    }
}

/* Answers a read that failed or that the caller may not see; true when it
 * did. A hidden customer's documents are answered as missing ones. */
static bool answer_unseen(struct doc_read *r, const char *field, const char *what)
{
    dg_req *req = r->req;
    dg_perm_who who = dg_h_who(req);
    bool is_hidden = r->job.rc == DG_OK && !dg_perm_sees(&who, dg_customer_owner(r->customer),
                                                         dg_customer_tier(r->customer));

    if (r->job.rc != DG_OK && r->job.rc != DG_ENOTFOUND) {
        dg_h_fail_job(req, r->job.rc);
        return true;
    }
    if (r->job.rc == DG_OK && !is_hidden)
        return false;
    dg_req_violation(req, field, what);
    dg_h_not_found(req, is_hidden, r->q == Q_LIST ? "customer" : "document",
                   r->q == Q_LIST ? r->lq.customer_id : r->id, "%s: %s", field, what);
    return true;
}

static bool is_restricted(dg_req *req, const dg_record *customer)
{
    dg_perm_who who = dg_h_who(req);

    return dg_perm_is_restricted(&who, dg_customer_tier(customer));
}

static void list_done(dg_job *job)
{
    struct doc_read *r = (struct doc_read *)job;
    dg_req *req = r->req;
    Dangan__V1__DocListResponse *res;

    if (answer_unseen(r, "customer_id", "no such customer")) {
        free(r);
        return;
    }
    res = dg_req_alloc(req, sizeof *res);
    dangan__v1__doc_list_response__init(res);
    res->documents = dg_req_alloc(req, (r->n_docs ? r->n_docs : 1) * sizeof *res->documents);
    for (size_t i = 0; res->documents && i < r->n_docs; i++)
        res->documents[res->n_documents++] = dg_h_doc_pb(req, &r->docs[i]);
    res->has_more = r->has_more;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_LIST;
    req->resp.doc_list = res;
    if (is_restricted(req, r->customer))
        dg_h_audit_then_reply(req, "customer", r->lq.customer_id,
                              json_pack("{s:I}", "documents", (json_int_t)r->n_docs));
    else
        dg_req_reply(req);
    free(r);
}

void dg_h_doc_list(dg_req *req)
{
    const Dangan__V1__DocListRequest *m = req->msg->doc_list;
    struct doc_read *r;

    if (m->customer_id <= 0)
        dg_req_violation(req, "customer_id", "required");
    if (m->kind && !dg_h_doc_kind_name(m->kind))
        dg_req_violation(req, "kind", "not a document kind");
    if (m->year < 0 || m->year > 2999)
        dg_req_violation(req, "year", "a year, or 0 for every year");
    if (m->limit > LIST_MAX)
        dg_req_violation(req, "limit", "at most 5000");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    r = dg_xcalloc(1, sizeof *r);
    r->q = Q_LIST;
    r->lq = (dg_doc_query){.customer_id = m->customer_id,
                           .kind = m->kind ? dg_h_doc_kind_name(m->kind) : NULL,
                           .year = m->year,
                           .include_archived = m->include_archived,
                           .limit = m->limit ? m->limit : LIST_DEFAULT};
    submit_read(req, r, list_done);
}

static void get_done(dg_job *job)
{
    struct doc_read *r = (struct doc_read *)job;
    dg_req *req = r->req;
    Dangan__V1__DocGetResponse *res;

    if (answer_unseen(r, "id", "no such document")) {
        free(r);
        return;
    }
    res = dg_req_alloc(req, sizeof *res);
    dangan__v1__doc_get_response__init(res);
    res->document = dg_h_doc_pb(req, r->doc);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_GET;
    req->resp.doc_get = res;
    if (is_restricted(req, r->customer))
        dg_h_audit_then_reply(req, "document", r->id,
                              json_pack("{s:I}", "customer_id", (json_int_t)r->customer->id));
    else
        dg_req_reply(req);
    free(r);
}

void dg_h_doc_get(dg_req *req)
{
    const Dangan__V1__DocGetRequest *m = req->msg->doc_get;
    struct doc_read *r;

    if (m->id <= 0) {
        dg_req_violation(req, "id", "required");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "id: required");
        return;
    }
    r = dg_xcalloc(1, sizeof *r);
    r->q = Q_GET;
    r->id = m->id;
    submit_read(req, r, get_done);
}

static void chunk_done(dg_job *job)
{
    struct doc_read *r = (struct doc_read *)job;
    dg_req *req = r->req;
    Dangan__V1__DocReadChunkResponse *res;

    if (answer_unseen(r, "id", "no such document")) {
        free(r);
        return;
    }
    if (r->is_bad_offset) {
        dg_req_violation(req, "offset", "a multiple of the document's chunk_size below its size");
        dg_req_fail(req, DG_EINVAL, "invalid_argument",
                    "offset: a multiple of the document's chunk_size (%u) below its size (%lld)",
                    r->doc->chunk_size, (long long)r->doc->size);
        free(r);
        return;
    }
    res = dg_req_alloc(req, sizeof *res);
    dangan__v1__doc_read_chunk_response__init(res);
    res->data.data = (uint8_t *)r->data;
    res->data.len = r->len;
    res->size = r->doc->size;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_READ_CHUNK;
    req->resp.doc_read_chunk = res;
    /* every download is audited, chunk by chunk: none is read unrecorded */
    dg_h_audit_then_reply(req, "document", r->id,
                          json_pack("{s:I,s:I,s:I,s:I}", "customer_id", (json_int_t)r->customer->id,
                                    "offset", (json_int_t)r->offset, "length", (json_int_t)r->len,
                                    "size", (json_int_t)r->doc->size));
    free(r);
}

void dg_h_doc_read_chunk(dg_req *req)
{
    const Dangan__V1__DocReadChunkRequest *m = req->msg->doc_read_chunk;
    struct doc_read *r;

    if (m->id <= 0)
        dg_req_violation(req, "id", "required");
    if (m->offset < 0)
        dg_req_violation(req, "offset", "0 or more");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    r = dg_xcalloc(1, sizeof *r);
    r->q = Q_CHUNK;
    r->id = m->id;
    r->offset = m->offset;
    submit_read(req, r, chunk_done);
}

/* ------------------------------------------------------------ archive */

struct archive {
    dg_write_job w; /* first: the job */
    int64_t id;
    dg_doc *doc;
};

static int archive_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct archive *g = (struct archive *)w;

    return dg_doc_archive(c, g->id, &g->doc, &w->m);
}

static void archive_answer(dg_write_job *w)
{
    struct archive *g = (struct archive *)w;
    dg_req *req = w->req;
    Dangan__V1__DocArchiveResponse *res = dg_req_alloc(req, sizeof *res);

    dangan__v1__doc_archive_response__init(res);
    res->document = dg_h_doc_pb(req, g->doc);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_ARCHIVE;
    req->resp.doc_archive = res;
    dg_req_reply(req);
}

static const dg_write_ops archive_ops = {.run = archive_run, .answer = archive_answer};

void dg_h_doc_archive(dg_req *req)
{
    const Dangan__V1__DocArchiveRequest *m = req->msg->doc_archive;
    struct archive *g;

    if (m->id <= 0) {
        dg_req_violation(req, "id", "required");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "id: required");
        return;
    }
    g = dg_xcalloc(1, sizeof *g);
    g->id = m->id;
    dg_write_job_init(&g->w, &archive_ops, req, DG_IDEM_ANY_RECORDS, NULL, NULL, "document", m->id);
    dg_write_job_submit(&g->w);
}
