/* h_docs.c - uploading a document: DocUploadBegin, DocUploadChunk,
 * DocUploadStatus, DocUploadFinish (docs/protocol.md, "Documents").
 *
 * Begin and each chunk are write jobs (documents.c stores them); the writer
 * keeps a running SHA-256 of each upload as its chunks arrive in order.
 * Status is a read job. Finish is a write job that makes the document when
 * that running hash covers every byte and matches; otherwise (the server
 * restarted meanwhile, chunks were sent again, or the hash differs) a read
 * job hashes the stored bytes on a reader thread, one chunk at a time, so
 * the writer is never held up by a large file, and a second write job makes
 * the document, or drops the upload when its bytes do not have the declared
 * SHA-256. Loop thread, except the jobs' run functions (reader or writer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "documents.h"
#include "h_docs.h"
#include "h_write.h"
#include "handlers.h"

#define TITLE_MAX 200     /* characters */
#define NOTES_MAX 2000    /* characters */
#define FILE_NAME_MAX 255 /* bytes */

static const char *const kind_names[] = {
    NULL, "contract", "invoice", "quotation", "correspondence", "licence", "other"};

const char *dg_h_doc_kind_name(int kind)
{
    return kind > 0 && kind < (int)DG_ARRAY_LEN(kind_names) ? kind_names[kind] : NULL;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* YYYY-MM-DD, a day of the calendar (years 1900-2999). */
static bool is_date(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

static bool fail_violations(dg_req *req)
{
    if (!req->status.n_field_violations)
        return false;
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                req->status.field_violations[0]->field,
                req->status.field_violations[0]->description);
    return true;
}

/* ------------------------------------------------------------ begin */

struct begin {
    dg_write_job w; /* first: the job */
    dg_doc_upload u;
};

static int begin_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct begin *b = (struct begin *)w;

    return dg_doc_begin(c, &b->u, &w->m);
}

static void begin_answer(dg_write_job *w)
{
    struct begin *b = (struct begin *)w;
    dg_req *req = w->req;
    Dangan__V1__DocUploadBeginResponse *res = dg_req_alloc(req, sizeof *res);

    dangan__v1__doc_upload_begin_response__init(res);
    res->upload_id = b->u.id;
    res->chunk_size = b->u.chunk_size;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_UPLOAD_BEGIN;
    req->resp.doc_upload_begin = res;
    dg_req_reply(req);
}

static void begin_failure(dg_write_job *w, int rc)
{
    if (rc == DG_EFULL && w->m.field[0]) {
        dg_req_violation(w->req, w->m.field, w->m.why);
        dg_req_fail(w->req, rc, "too_many_uploads", "%s", w->m.why);
        return;
    }
    dg_h_answer_failed_write(w->req, rc, &w->m, w->entity, w->entity_id);
}

static const dg_write_ops begin_ops = {
    .run = begin_run, .answer = begin_answer, .answer_failure = begin_failure};

/* The size limit: refused with its own reason, so a client can say so. */
static bool refuse_too_large(dg_req *req, int64_t size)
{
    uint32_t max_mib = dg_server_config(req->srv)->doc_max_size_mib;

    if (size <= (int64_t)max_mib << 20)
        return false;
    dg_req_violation(req, "size", "larger than this server accepts");
    dg_req_fail(req, DG_EINVAL, "document_too_large",
                "the file is %.1f MiB; this server accepts documents of at most %u MiB "
                "([documents] max_size_mib)",
                (double)size / (1 << 20), max_mib);
    return true;
}

static void check_begin(dg_req *req, const Dangan__V1__DocUploadBeginRequest *m)
{
    if (m->customer_id <= 0)
        dg_req_violation(req, "customer_id", "required");
    if (!dg_h_doc_kind_name(m->kind))
        dg_req_violation(req, "kind",
                         "required: contract, invoice, quotation, correspondence, "
                         "licence or other");
    if (!m->title[0] || utf8_chars(m->title) > TITLE_MAX)
        dg_req_violation(req, "title", "1 to 200 characters");
    if (m->doc_date[0] && !is_date(m->doc_date))
        dg_req_violation(req, "doc_date", "a date YYYY-MM-DD");
    if (m->expires_on[0] && !is_date(m->expires_on))
        dg_req_violation(req, "expires_on", "a date YYYY-MM-DD");
    if (utf8_chars(m->notes) > NOTES_MAX)
        dg_req_violation(req, "notes", "at most 2000 characters");
    if (strlen(m->file_name) > FILE_NAME_MAX || strchr(m->file_name, '/'))
        dg_req_violation(req, "file_name", "a file name without directories, at most 255 bytes");
    for (const char *p = m->file_name; *p; p++)
        if ((unsigned char)*p < 0x20) {
            dg_req_violation(req, "file_name", "no control characters");
            break;
        }
    if (m->size < 0)
        dg_req_violation(req, "size", "0 or more bytes");
    if (m->sha256.len != DG_DOC_SHA256_LEN)
        dg_req_violation(req, "sha256", "32 bytes: the SHA-256 of the whole file");
}

/* Today's date (UTC) for a document given none. */
static void today(char out[11])
{
    time_t t = (time_t)(dg_now_ms() / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void dg_h_doc_upload_begin(dg_req *req)
{
    const Dangan__V1__DocUploadBeginRequest *m = req->msg->doc_upload_begin;
    struct begin *b;
    char *date;

    check_begin(req, m);
    if (fail_violations(req) || refuse_too_large(req, m->size))
        return;
    b = dg_xcalloc(1, sizeof *b);
    b->u = (dg_doc_upload){
        .customer_id = m->customer_id,
        .kind = dg_h_doc_kind_name(m->kind),
        .title = m->title,
        .doc_date = m->doc_date,
        .expires_on = m->expires_on,
        .notes = m->notes,
        .file_name = m->file_name,
        .size = m->size,
        .chunk_size = dg_doc_chunk_size(dg_server_config(req->srv)->max_frame_after_login)};
    memcpy(b->u.sha256, m->sha256.data, DG_DOC_SHA256_LEN);
    if (!m->doc_date[0] && (date = dg_req_alloc(req, 11))) {
        today(date);
        b->u.doc_date = date;
    }
    dg_write_job_init(&b->w, &begin_ops, req, DG_IDEM_ANY_RECORDS, NULL, NULL, "customer",
                      m->customer_id);
    dg_write_job_submit(&b->w);
}

/* ------------------------------------------------------------ chunk */

struct chunk {
    dg_write_job w; /* first: the job */
    int64_t upload_id, offset, received;
    const uint8_t *data; /* in the request's arena */
    size_t len;
};

static int chunk_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct chunk *k = (struct chunk *)w;

    return dg_doc_append(c, k->upload_id, k->offset, k->data, k->len, &k->received, &w->m);
}

static void chunk_answer(dg_write_job *w)
{
    struct chunk *k = (struct chunk *)w;
    dg_req *req = w->req;
    Dangan__V1__DocUploadChunkResponse *res = dg_req_alloc(req, sizeof *res);

    dangan__v1__doc_upload_chunk_response__init(res);
    res->received = k->received;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_UPLOAD_CHUNK;
    req->resp.doc_upload_chunk = res;
    dg_req_reply(req);
}

/* A chunk at the wrong offset has its own reason: the client asks where
 * the upload stands and goes on from there. */
static void chunk_failure(dg_write_job *w, int rc)
{
    if (rc == DG_ESTATE && !strcmp(w->m.field, "offset")) {
        dg_req_violation(w->req, w->m.field, w->m.why);
        dg_req_fail(w->req, rc, "upload_offset_mismatch", "offset: %s", w->m.why);
        return;
    }
    dg_h_answer_failed_write(w->req, rc, &w->m, w->entity, w->entity_id);
}

static const dg_write_ops chunk_ops = {
    .run = chunk_run, .answer = chunk_answer, .answer_failure = chunk_failure};

void dg_h_doc_upload_chunk(dg_req *req)
{
    const Dangan__V1__DocUploadChunkRequest *m = req->msg->doc_upload_chunk;
    struct chunk *k;

    if (m->upload_id <= 0)
        dg_req_violation(req, "upload_id", "required");
    if (m->offset < 0)
        dg_req_violation(req, "offset", "0 or more");
    if (fail_violations(req))
        return;
    k = dg_xcalloc(1, sizeof *k);
    k->upload_id = m->upload_id;
    k->offset = m->offset;
    k->data = m->data.data;
    k->len = m->data.len;
    dg_write_job_init(&k->w, &chunk_ops, req, DG_IDEM_ANY_RECORDS, NULL, NULL, "upload",
                      m->upload_id);
    /* A chunk a power cut loses is sent again: the client asks where the
     * upload stands (DocUploadStatus) before it finishes, and the finish
     * is durable and checks every byte. */
    k->w.may_skip_sync = true;
    dg_write_job_submit(&k->w);
}

/* ------------------------------------------------------------ status */

struct upload_read {
    dg_job job;
    dg_req *req;
    dg_actor who;
    int64_t upload_id;
    dg_doc_upload *u;
    uint8_t sha256[DG_DOC_SHA256_LEN]; /* finish: what the stored bytes hash to */
    bool is_hashed;                    /* finish: sha256 is set */
    bool is_intact; /* ... and the chunks are in order and hold the declared size */
};

static struct upload_read *upload_read_new(dg_req *req, int64_t upload_id)
{
    struct upload_read *r = dg_xcalloc(1, sizeof *r);
    const dg_session *s = dg_conn_session(req->conn);

    r->req = req;
    r->who = (dg_actor){.user_id = s->user_id, .role = s->role};
    r->upload_id = upload_id;
    return r;
}

static void upload_read_submit(struct upload_read *r, void (*run)(dg_job *, void *),
                               void (*done)(dg_job *))
{
    dg_req *req = r->req;
    int rc;

    r->job.run = run;
    r->job.done = done;
    if ((rc = dg_server_read(req->srv, &r->job)) != DG_OK) {
        free(r);
        dg_h_fail_job(req, rc);
    }
}

static void status_run(dg_job *job, void *ctx)
{
    struct upload_read *r = (struct upload_read *)job;
    dg_store *st = ctx;

    if ((job->rc = dg_store_read_begin(st)) != DG_OK)
        return;
    job->rc = dg_doc_upload_of(st, &r->who, r->upload_id, r->req->arena, &r->u);
    dg_store_read_end(st);
}

static void no_such_upload(dg_req *req)
{
    dg_req_violation(req, "upload_id", "no such upload");
    dg_req_fail(req, DG_ENOTFOUND, "not_found", "upload_id: no such upload");
}

static void status_done(dg_job *job)
{
    struct upload_read *r = (struct upload_read *)job;
    dg_req *req = r->req;
    Dangan__V1__DocUploadStatusResponse *res;

    if (job->rc == DG_ENOTFOUND) {
        no_such_upload(req);
    } else if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
    } else {
        res = dg_req_alloc(req, sizeof *res);
        dangan__v1__doc_upload_status_response__init(res);
        res->received = r->u->received;
        res->size = r->u->size;
        res->chunk_size = r->u->chunk_size;
        res->document_id = r->u->document_id;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_UPLOAD_STATUS;
        req->resp.doc_upload_status = res;
        dg_req_reply(req);
    }
    free(r);
}

void dg_h_doc_upload_status(dg_req *req)
{
    const Dangan__V1__DocUploadStatusRequest *m = req->msg->doc_upload_status;

    if (m->upload_id <= 0) {
        no_such_upload(req);
        return;
    }
    upload_read_submit(upload_read_new(req, m->upload_id), status_run, status_done);
}

/* ------------------------------------------------------------ finish */

struct finish {
    dg_write_job w; /* first: the job */
    int64_t upload_id;
    uint8_t verified[DG_DOC_SHA256_LEN];
    bool has_verified; /* verified is set (else: the writer's running hash) */
    bool is_discard;   /* the bytes did not match: drop the upload, then refuse */
    bool is_dedup, is_replay;
    dg_doc *doc;
};

static int finish_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct finish *f = (struct finish *)w;

    if (f->is_discard)
        return dg_doc_discard(c, f->upload_id);
    return dg_doc_finish(c, f->upload_id, f->has_verified ? f->verified : NULL, &f->doc,
                         &f->is_dedup, &f->is_replay, &w->m);
}

static void finish_answer(dg_write_job *w)
{
    struct finish *f = (struct finish *)w;
    dg_req *req = w->req;
    Dangan__V1__DocUploadFinishResponse *res;

    if (f->is_discard) {
        dg_req_violation(req, "sha256", "the bytes received do not have this SHA-256");
        dg_req_fail(req, DG_EINVAL, "checksum_mismatch",
                    "the bytes received do not have the SHA-256 given at DocUploadBegin; the "
                    "upload was dropped: upload the file again");
        return;
    }
    res = dg_req_alloc(req, sizeof *res);
    dangan__v1__doc_upload_finish_response__init(res);
    res->document = dg_h_doc_pb(req, f->doc);
    res->deduplicated = f->is_dedup;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DOC_UPLOAD_FINISH;
    req->resp.doc_upload_finish = res;
    dg_req_reply(req);
}

static void hash_run(dg_job *job, void *ctx);
static void hash_done(dg_job *job);

/* No running hash to trust: the reader hashes what is stored, then again. */
static void finish_failure(dg_write_job *w, int rc)
{
    struct finish *f = (struct finish *)w;

    if (rc == DG_EAGAIN && !f->has_verified)
        upload_read_submit(upload_read_new(w->req, f->upload_id), hash_run, hash_done);
    else
        dg_h_answer_failed_write(w->req, rc, &w->m, w->entity, w->entity_id);
}

static const dg_write_ops finish_ops = {
    .run = finish_run, .answer = finish_answer, .answer_failure = finish_failure};

/* Queues a finish job; `verified` NULL: with the writer's running hash. */
static void submit_finish(dg_req *req, int64_t upload_id, const uint8_t *verified, bool is_discard)
{
    const Dangan__V1__DocUploadFinishRequest *m = req->msg->doc_upload_finish;
    struct finish *f = dg_xcalloc(1, sizeof *f);

    f->upload_id = upload_id;
    f->has_verified = verified != NULL;
    if (verified)
        memcpy(f->verified, verified, DG_DOC_SHA256_LEN);
    f->is_discard = is_discard;
    dg_write_job_init(&f->w, &finish_ops, req, DG_IDEM_ANY_RECORDS, &m->base, NULL, "upload",
                      upload_id);
    dg_write_job_submit(&f->w);
}

/* Reader thread: the upload, and unless it is finished or incomplete, the
 * SHA-256 of its stored bytes. */
static void hash_run(dg_job *job, void *ctx)
{
    struct upload_read *r = (struct upload_read *)job;
    dg_store *st = ctx;
    int64_t n_bytes;
    bool is_whole;

    if ((job->rc = dg_store_read_begin(st)) != DG_OK)
        return;
    job->rc = dg_doc_upload_of(st, &r->who, r->upload_id, r->req->arena, &r->u);
    if (job->rc == DG_OK && !r->u->document_id && r->u->received == r->u->size) {
        job->rc = dg_store_doc_content_hash(st, r->u->content_id, r->u->chunk_size, r->sha256,
                                            &n_bytes, &is_whole);
        r->is_hashed = job->rc == DG_OK;
        r->is_intact = is_whole && n_bytes == r->u->size;
    }
    dg_store_read_end(st);
}

static void hash_done(dg_job *job)
{
    struct upload_read *r = (struct upload_read *)job;
    dg_req *req = r->req;
    bool is_discard;

    if (job->rc != DG_OK) {
        if (job->rc == DG_ENOTFOUND)
            no_such_upload(req);
        else
            dg_h_fail_job(req, job->rc);
        free(r);
        return;
    }
    is_discard =
        r->is_hashed && (!r->is_intact || memcmp(r->sha256, r->u->sha256, DG_DOC_SHA256_LEN) != 0);
    /* incomplete or finished: the write job says so, or answers the document again */
    submit_finish(req, r->upload_id, r->is_hashed ? r->sha256 : r->u->sha256, is_discard);
    free(r);
}

void dg_h_doc_upload_finish(dg_req *req)
{
    const Dangan__V1__DocUploadFinishRequest *m = req->msg->doc_upload_finish;

    if (m->upload_id <= 0) {
        no_such_upload(req);
        return;
    }
    submit_finish(req, m->upload_id, NULL, false);
}
