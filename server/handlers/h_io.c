/* h_io.c - ImportBegin, ImportFinish, ExportBegin, ExportFinish: the rights
 * and the audit records of file imports and exports.
 *
 * Importing a file and exporting to one are rights of their own (perm.c:
 * "import." managers and admins, "export." sales too), checked by dispatch before
 * these handlers run; a refusal is audited there. The rows themselves travel
 * through Batch (import) and List (export), under the caller's record
 * rights, visibility and masks. Each handler is a write job that changes
 * nothing but appends its audit record: Begin names the file (its SHA-256 and
 * row count) or the filter and hands out an id; Finish carries the id and the
 * counts, so the audit log links the two. No state is kept between them.
 * Loop thread, except the *_run functions (writer thread).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "entity.h"
#include "h_write.h"
#include "handlers.h"

#define FILE_NAME_MAX 255
#define ID_BITS 0x1fffffffffffffull /* ids fit a JSON number exactly */

struct io_job {
    dg_write_job w; /* first: the job */
    Dangan__V1__Response__BodyCase body;
    uint64_t id;    /* import_id / export_id */
    json_t *detail; /* the audit record's detail, taken by the write job */
};

static int io_run(dg_write_job *w, dg_rec_ctx *c)
{
    DG_UNUSED(w);
    DG_UNUSED(c);
    return DG_OK; /* nothing but the request's own audit record */
}

static json_t *io_detail(dg_write_job *w)
{
    struct io_job *j = (struct io_job *)w;
    json_t *d = j->detail;

    j->detail = NULL;
    return d;
}

static void io_answer(dg_write_job *w)
{
    struct io_job *j = (struct io_job *)w;
    dg_req *req = w->req;

    req->resp.body_case = j->body;
    switch (j->body) {
    case DANGAN__V1__RESPONSE__BODY_IMPORT_BEGIN:
        req->resp.import_begin = dg_req_alloc(req, sizeof *req->resp.import_begin);
        dangan__v1__import_begin_response__init(req->resp.import_begin);
        req->resp.import_begin->import_id = j->id;
        break;
    case DANGAN__V1__RESPONSE__BODY_IMPORT_FINISH:
        req->resp.import_finish = dg_req_alloc(req, sizeof *req->resp.import_finish);
        dangan__v1__import_finish_response__init(req->resp.import_finish);
        break;
    case DANGAN__V1__RESPONSE__BODY_EXPORT_BEGIN:
        req->resp.export_begin = dg_req_alloc(req, sizeof *req->resp.export_begin);
        dangan__v1__export_begin_response__init(req->resp.export_begin);
        req->resp.export_begin->export_id = j->id;
        break;
    default:
        req->resp.export_finish = dg_req_alloc(req, sizeof *req->resp.export_finish);
        dangan__v1__export_finish_response__init(req->resp.export_finish);
        break;
    }
    dg_req_reply(req);
}

static void io_free(dg_write_job *w)
{
    struct io_job *j = (struct io_job *)w;

    json_decref(j->detail);
    free(j);
}

static const dg_write_ops io_ops = {
    .run = io_run,
    .detail = io_detail,
    .answer = io_answer,
    .free = io_free,
};

/* Answers the violations gathered so far; true when there were some. */
static bool refuse_invalid(dg_req *req)
{
    if (!req->status.n_field_violations)
        return false;
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                req->status.field_violations[0]->field,
                req->status.field_violations[0]->description);
    return true;
}

static void check_sha256(dg_req *req, const char *hex)
{
    size_t n = strlen(hex);

    if (n != 64 || strspn(hex, "0123456789abcdef") != n)
        dg_req_violation(req, "file_sha256", "64 lower-case hex digits");
}

static uint64_t new_id(void)
{
    uint64_t id = 0;

    while (id == 0) {
        dg_random(&id, sizeof id);
        id &= ID_BITS;
    }
    return id;
}

/* Queues the audit-only job; `entity` "import" or "export", the id its entity_id. */
static void submit(dg_req *req, const char *entity, uint64_t id,
                   Dangan__V1__Response__BodyCase body, json_t *detail)
{
    struct io_job *j = dg_xcalloc(1, sizeof *j);

    j->body = body;
    j->id = id;
    j->detail = detail;
    dg_write_job_init(&j->w, &io_ops, req, DG_IDEM_ANY_RECORDS, NULL, NULL, entity, (int64_t)id);
    dg_write_job_submit(&j->w);
}

static const char *kind_name(int kind)
{
    return kind > DG_KIND_NONE && kind < DG_KIND_COUNT ? dg_entity_get((enum dg_kind)kind)->name
                                                       : NULL;
}

void dg_h_import_begin(dg_req *req)
{
    const Dangan__V1__ImportBeginRequest *m = req->msg->import_begin;
    uint64_t id;

    if (m->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        dg_req_violation(req, "kind", "only customers (with their contacts) are imported");
    if (strlen(m->file_name) > FILE_NAME_MAX)
        dg_req_violation(req, "file_name", "at most 255 bytes");
    check_sha256(req, m->file_sha256);
    if (refuse_invalid(req))
        return;
    id = new_id();
    submit(req, "import", id, DANGAN__V1__RESPONSE__BODY_IMPORT_BEGIN,
           json_pack("{s:s,s:s,s:s,s:I,s:b}", "kind", kind_name(m->kind), "file", m->file_name,
                     "sha256", m->file_sha256, "rows", (json_int_t)m->rows, "dry_run", m->dry_run));
}

void dg_h_import_finish(dg_req *req)
{
    const Dangan__V1__ImportFinishRequest *m = req->msg->import_finish;

    if (m->import_id == 0 || m->import_id > ID_BITS)
        dg_req_violation(req, "import_id", "the id ImportBegin answered");
    check_sha256(req, m->file_sha256);
    if (refuse_invalid(req))
        return;
    submit(req, "import", m->import_id, DANGAN__V1__RESPONSE__BODY_IMPORT_FINISH,
           json_pack("{s:s,s:I,s:I,s:I,s:I}", "sha256", m->file_sha256, "created",
                     (json_int_t)m->created, "updated", (json_int_t)m->updated, "skipped",
                     (json_int_t)m->skipped, "rejected", (json_int_t)m->rejected));
}

/* What the filter asked for, for the audit record: the fields that are set. */
static json_t *filter_json(const Dangan__V1__ListFilter *f)
{
    json_t *o = json_object();
    const char *const texts[][2] = {
        {"owner", f ? f->owner : ""},
        {"industry", f ? f->industry : ""},
        {"region", f ? f->region : ""},
        {"tag", f ? f->tag : ""},
    };

    for (size_t i = 0; i < DG_ARRAY_LEN(texts); i++)
        if (texts[i][1] && texts[i][1][0])
            json_object_set_new(o, texts[i][0], json_string(texts[i][1]));
    if (f && f->n_tiers) {
        json_t *a = json_array();

        for (size_t i = 0; i < f->n_tiers; i++)
            json_array_append_new(a, json_integer(f->tiers[i]));
        json_object_set_new(o, "tiers", a);
    }
    if (f && f->n_statuses) {
        json_t *a = json_array();

        for (size_t i = 0; i < f->n_statuses; i++)
            json_array_append_new(a, json_integer(f->statuses[i]));
        json_object_set_new(o, "statuses", a);
    }
    if (f && f->customer_id)
        json_object_set_new(o, "customer_id", json_integer(f->customer_id));
    if (f && f->include_archived)
        json_object_set_new(o, "archived", json_true());
    return o;
}

/* The reports an export may carry (Report's kinds). */
static bool is_report(const char *s)
{
    static const char *const names[] = {"summary",  "revenue", "pipeline",
                                        "activity", "churn",   "satisfaction"};

    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++)
        if (!strcmp(s, names[i]))
            return true;
    return false;
}

void dg_h_export_begin(dg_req *req)
{
    const Dangan__V1__ExportBeginRequest *m = req->msg->export_begin;
    uint64_t id;

    if (m->report[0]) { /* a report's tables: computed by Report, under the same visibility */
        if (!is_report(m->report))
            dg_req_violation(req, "report",
                             "summary, revenue, pipeline, activity, churn or satisfaction");
        if (m->kind || m->filter)
            dg_req_violation(req, "kind", "a report export has no kind or filter");
        if (strcmp(m->format, "csv") != 0 && strcmp(m->format, "xlsx") != 0)
            dg_req_violation(req, "format", "csv or xlsx");
        if (refuse_invalid(req))
            return;
        id = new_id();
        submit(req, "export", id, DANGAN__V1__RESPONSE__BODY_EXPORT_BEGIN,
               json_pack("{s:s,s:s}", "report", m->report, "format", m->format));
        return;
    }
    if (!kind_name(m->kind))
        dg_req_violation(req, "kind", "required");
    if (strcmp(m->format, "csv") != 0 && strcmp(m->format, "xlsx") != 0)
        dg_req_violation(req, "format", "csv or xlsx");
    if (refuse_invalid(req))
        return;
    id = new_id();
    submit(req, "export", id, DANGAN__V1__RESPONSE__BODY_EXPORT_BEGIN,
           json_pack("{s:s,s:s,s:o}", "kind", kind_name(m->kind), "format", m->format, "filter",
                     filter_json(m->filter)));
}

void dg_h_export_finish(dg_req *req)
{
    const Dangan__V1__ExportFinishRequest *m = req->msg->export_finish;

    if (m->export_id == 0 || m->export_id > ID_BITS)
        dg_req_violation(req, "export_id", "the id ExportBegin answered");
    if (refuse_invalid(req))
        return;
    submit(req, "export", m->export_id, DANGAN__V1__RESPONSE__BODY_EXPORT_FINISH,
           json_pack("{s:I}", "rows", (json_int_t)m->rows));
}
