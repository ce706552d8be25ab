/* h_audit.c - AuditQuery, AuditVerify, AuditHead: reading the audit log.
 *
 * Admins and auditors only (perm.c, applied by dispatch; anyone else is
 * refused with an audit record of the attempt). Nothing here (or anywhere in the server) changes or
 * deletes an audit record. All three run as jobs on the reader pool in one read transaction: a
 * verification of a million records takes about a second there and never blocks the loop. Loop
 * thread, except the *_run functions.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "dg.h"
#include "h_common.h"
#include "handlers.h"
#include "perm.h"

#define QUERY_DEFAULT 50
#define QUERY_MAX 1000
#define FILTER_TEXT_MAX 128

enum audit_op { OP_QUERY, OP_EXPORT, OP_VERIFY, OP_HEAD };

struct audit_job {
    dg_job job;
    dg_req *req;
    enum audit_op op;
    dg_audit_filter filter;
    dg_audit_row *rows;
    size_t n_rows;
    dg_audit_chain expect;
    bool has_expect;
    dg_audit_verdict verdict;
    dg_audit_chain head;
    bool is_masked; /* the reader may not see sensitive values */
};

/* The detail with the values of sensitive fields (in its before/after)
 * masked, for readers who may not see them (docs/security.md: audit details obey the
 * same rule as replies). The record's hash covers the stored detail, so
 * AuditVerify (on the server) is the way to check a masked page. Reader
 * thread: a page may hold a thousand details to parse. */
static const char *masked_detail(dg_arena *a, const dg_audit_rec *r)
{
    const dg_entity *e = dg_entity_get(dg_kind_parse(r->entity));
    const char *sides[] = {"before", "after"};
    json_t *d;
    char buf[512], *text;
    const char *out;
    bool changed = false;

    if (!e || !(d = json_loads(r->detail, 0, NULL)))
        return r->detail;
    for (size_t k = 0; k < DG_ARRAY_LEN(sides); k++) {
        json_t *side = json_object_get(d, sides[k]), *v;
        const char *key;

        json_object_foreach(side, key, v)
        {
            int fi = dg_entity_field_index(e, key);

            if (fi < 0 || !(e->fields[fi].flags & DG_FF_SENSITIVE) || !json_is_string(v))
                continue;
            dg_perm_mask_text(json_string_value(v), e->fields[fi].type, buf, sizeof buf);
            json_object_set_new(side, key, json_string(buf));
            changed = true;
        }
    }
    text = changed ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    if (!text)
        return r->detail;
    out = dg_arena_strdup(a, text);
    free(text);
    return out ? out : "{}"; /* out of budget: nothing rather than too much */
}

static void audit_run(dg_job *job, void *ctx)
{
    struct audit_job *j = (struct audit_job *)job;
    dg_store *st = ctx;
    int rc;

    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    switch (j->op) {
    case OP_QUERY:
    case OP_EXPORT:
        rc = dg_store_audit_query(st, &j->filter, j->req->arena, &j->rows, &j->n_rows);
        for (size_t i = 0; rc == DG_OK && j->is_masked && i < j->n_rows; i++)
            j->rows[i].rec.detail = masked_detail(j->req->arena, &j->rows[i].rec);
        break;
    case OP_VERIFY:
        rc = dg_audit_verify(st, j->has_expect ? &j->expect : NULL, &j->verdict);
        break;
    case OP_HEAD:
        rc = dg_audit_chain_load(st, &j->head);
        break;
    }
    dg_store_read_end(st);
    job->rc = rc;
}

static Dangan__V1__AuditHead *head_pb(dg_req *req, const dg_audit_chain *c)
{
    Dangan__V1__AuditHead *h = dg_req_alloc(req, sizeof *h);
    uint8_t *hash = dg_req_alloc(req, DG_AUDIT_HASH_LEN);

    dangan__v1__audit_head__init(h);
    memcpy(hash, c->hash, DG_AUDIT_HASH_LEN);
    h->seq = (uint64_t)c->seq;
    h->hash = (ProtobufCBinaryData){DG_AUDIT_HASH_LEN, hash};
    return h;
}

static Dangan__V1__AuditRecord *record_pb(dg_req *req, dg_audit_row *row)
{
    Dangan__V1__AuditRecord *p = dg_req_alloc(req, sizeof *p);
    const dg_audit_rec *r = &row->rec;

    dangan__v1__audit_record__init(p);
    p->seq = (uint64_t)r->seq;
    p->at_ms = r->at;
    p->user_id = r->user_id;
    /* The strings already live in the request's arena (the query put them there). */
    p->username = (char *)r->username;
    p->peer = (char *)r->peer;
    p->action = (char *)r->action;
    p->entity = (char *)r->entity;
    p->entity_id = r->entity_id;
    p->outcome = (char *)r->outcome;
    p->detail = (char *)r->detail; /* masked by audit_run for who may not see all */
    p->hash = (ProtobufCBinaryData){row->hash_len < 32 ? row->hash_len : 32, row->hash};
    return p;
}

/* The page's records; *next: where the next page starts (0: none). */
static Dangan__V1__AuditRecord **records_pb(dg_req *req, struct audit_job *j, uint64_t *next)
{
    Dangan__V1__AuditRecord **recs = dg_req_alloc(req, (j->n_rows ? j->n_rows : 1) * sizeof *recs);

    for (size_t i = 0; i < j->n_rows; i++)
        recs[i] = record_pb(req, &j->rows[i]);
    /* A full page may have more behind it; the next page starts below its last seq. */
    *next = j->n_rows == j->filter.limit && j->rows[j->n_rows - 1].rec.seq > 1
                ? (uint64_t)j->rows[j->n_rows - 1].rec.seq
                : 0;
    return recs;
}

static void reply_query(dg_req *req, struct audit_job *j)
{
    Dangan__V1__AuditQueryResponse *r = dg_req_alloc(req, sizeof *r);

    dangan__v1__audit_query_response__init(r);
    r->records = records_pb(req, j, &r->next_before_seq);
    r->n_records = j->n_rows;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_AUDIT_QUERY;
    req->resp.audit_query = r;
}

/* Sets the export page and audits it: who exported how many rows, with
 * which filter. The reply goes once that record is committed. */
static void reply_export(dg_req *req, struct audit_job *j)
{
    Dangan__V1__AuditExportResponse *r = dg_req_alloc(req, sizeof *r);
    const dg_audit_filter *f = &j->filter;

    dangan__v1__audit_export_response__init(r);
    r->records = records_pb(req, j, &r->next_before_seq);
    r->n_records = j->n_rows;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_AUDIT_EXPORT;
    req->resp.audit_export = r;
    dg_h_audit_then_reply(req, "audit_log", 0,
                          json_pack("{s:I,s:{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:I}}", "rows",
                                    (json_int_t)j->n_rows, "filter", "username", f->username,
                                    "action", f->action, "entity", f->entity, "entity_id",
                                    (json_int_t)f->entity_id, "since", (json_int_t)f->since,
                                    "until", (json_int_t)f->until, "outcome", f->outcome,
                                    "before_seq", (json_int_t)f->before_seq));
}

static void reply_verify(dg_req *req, struct audit_job *j)
{
    Dangan__V1__AuditVerifyResponse *r = dg_req_alloc(req, sizeof *r);
    const dg_audit_verdict *v = &j->verdict;

    dangan__v1__audit_verify_response__init(r);
    r->ok = v->ok;
    r->checked = (uint64_t)v->checked;
    r->first_bad_seq = (uint64_t)v->first_bad_seq;
    r->problem = dg_req_strdup(req, v->problem);
    r->head = head_pb(req, &v->head);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_AUDIT_VERIFY;
    req->resp.audit_verify = r;
}

static void audit_done(dg_job *job)
{
    struct audit_job *j = (struct audit_job *)job;
    dg_req *req = j->req;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(j);
        return;
    }
    switch (j->op) {
    case OP_QUERY:
        reply_query(req, j);
        break;
    case OP_EXPORT:
        reply_export(req, j);
        free(j);
        return; /* answered once the export's audit record is committed */
    case OP_VERIFY:
        reply_verify(req, j);
        break;
    case OP_HEAD: {
        Dangan__V1__AuditHeadResponse *r = dg_req_alloc(req, sizeof *r);

        dangan__v1__audit_head_response__init(r);
        r->head = head_pb(req, &j->head);
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_AUDIT_HEAD;
        req->resp.audit_head = r;
        break;
    }
    }
    free(j);
    dg_req_reply(req);
}

static void submit(dg_req *req, struct audit_job *j)
{
    int rc;

    j->req = req;
    j->job.run = audit_run;
    j->job.done = audit_done;
    if ((rc = dg_server_read(req->srv, &j->job)) != DG_OK) {
        free(j);
        dg_h_fail_job(req, rc);
    }
}

static void check_text(dg_req *req, const char *field, const char *s)
{
    if (strlen(s) > FILTER_TEXT_MAX)
        dg_req_violation(req, field, "too long");
}

static void query_or_export(dg_req *req, const Dangan__V1__AuditQueryRequest *m, enum audit_op op)
{
    struct audit_job *j;

    check_text(req, "username", m->username);
    check_text(req, "action", m->action);
    check_text(req, "entity", m->entity);
    check_text(req, "outcome", m->outcome);
    if (m->entity_id != 0 && !m->entity[0])
        dg_req_violation(req, "entity_id", "needs entity");
    if (m->limit > QUERY_MAX)
        dg_req_violation(req, "limit", "at most 1000");
    if (m->before_seq > INT64_MAX)
        dg_req_violation(req, "before_seq", "out of range");
    if (m->since_ms && m->until_ms && m->until_ms <= m->since_ms)
        dg_req_violation(req, "until_ms", "must be after since_ms");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    j = dg_xcalloc(1, sizeof *j);
    j->op = op;
    j->is_masked = !dg_perm_sees_all(dg_conn_session(req->conn)->role);
    j->filter = (dg_audit_filter){
        .username = m->username,
        .action = m->action,
        .entity = m->entity,
        .entity_id = m->entity_id,
        .since = m->since_ms,
        .until = m->until_ms,
        .outcome = m->outcome,
        .before_seq = (int64_t)m->before_seq,
        .limit = m->limit ? m->limit : QUERY_DEFAULT,
    };
    submit(req, j);
}

void dg_h_audit_query(dg_req *req)
{
    query_or_export(req, req->msg->audit_query, OP_QUERY);
}

void dg_h_audit_export(dg_req *req)
{
    static const Dangan__V1__AuditQueryRequest all = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    const Dangan__V1__AuditExportRequest *m = req->msg->audit_export;

    query_or_export(req, m->query ? m->query : &all, OP_EXPORT);
}

void dg_h_audit_verify(dg_req *req)
{
    const Dangan__V1__AuditVerifyRequest *m = req->msg->audit_verify;
    struct audit_job *j;

    if (m->expect && (m->expect->hash.len != DG_AUDIT_HASH_LEN || m->expect->seq > INT64_MAX)) {
        dg_req_violation(req, "expect", "a head is a seq and a 32-byte hash");
        dg_req_fail(req, DG_EINVAL, "invalid_argument",
                    "expect: a head is a seq and a 32-byte hash, as AuditHead returns it");
        return;
    }
    j = dg_xcalloc(1, sizeof *j);
    j->op = OP_VERIFY;
    if (m->expect) {
        j->has_expect = true;
        j->expect.seq = (int64_t)m->expect->seq;
        memcpy(j->expect.hash, m->expect->hash.data, DG_AUDIT_HASH_LEN);
    }
    submit(req, j);
}

void dg_h_audit_head(dg_req *req)
{
    struct audit_job *j;

    j = dg_xcalloc(1, sizeof *j);
    j->op = OP_HEAD;
    submit(req, j);
}
