/* h_records.c - Create, Update, Archive, Restore and Batch of dossier records.
 *
 * A handler converts and validates on the loop thread (so bad input is
 * answered at once, with the field named), then hands one write job to the
 * writer. The job checks the idempotency key, runs the change through
 * records.c (rows, search document, change row, audit record), and records
 * the key, all in one savepoint of the group commit. Its done callback
 * answers: the record, a version conflict (ABORTED with the current record
 * and the conflicting fields), likely duplicates (ALREADY_EXISTS with them)
 * or the refusal with its field.
 * Loop thread, except the *_run functions (writer thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "h_common.h"
#include "h_record_pb.h"
#include "handlers.h"
#include "log.h"
#include "records.h"

#define IDEM_KEY_MAX 128
#define BATCH_MAX_OPS 10000

enum rec_op { OP_CREATE, OP_UPDATE, OP_ARCHIVE, OP_RESTORE };

/* What an op left behind for the answer. Small on purpose: a batch holds
 * 10,000 ops, and the full dg_mutation (several KiB with its duplicate
 * hints) is kept once per job, for the op that runs and the one that fails. */
struct op_result {
    dg_record *record; /* after the change (or, on a retry, as it is now) */
    int64_t seq;       /* the change-feed seq it wrote, 0 if none */
};

/* One mutation as the writer runs it. */
struct op {
    enum rec_op op;
    dg_record *rec; /* create: the new record; update: the patch */
    const char **mask;
    size_t n_mask;
    int64_t expected_version;
    bool allow_duplicate;
    enum dg_kind kind; /* archive / restore */
    int64_t id;
    int ref_op; /* batch: customer_id comes from this earlier op's record, or -1 */
    struct op_result m;
};

struct rec_job {
    dg_job job;
    dg_req *req;
    char username[DG_USERNAME_MAX + 1];
    char peer[DG_PEER_MAX];
    dg_actor who;
    int64_t now;
    struct op *ops;
    size_t n_ops;
    size_t failed; /* index of the op that failed; SIZE_MAX: the idempotency lookup did */
    dg_mutation m; /* the op running, then the one that failed */
    enum dg_idem_request request;
    char idem_key[IDEM_KEY_MAX + 1];
    uint8_t req_hash[32];
    bool is_replay;
};

/* ------------------------------------------------------------ the write job */

static int run_op(dg_rec_ctx *c, struct rec_job *j, size_t i)
{
    struct op *o = &j->ops[i];
    int rc = DG_EINVAL;

    if (o->ref_op >= 0) {
        const dg_record *parent = j->ops[o->ref_op].m.record;

        o->rec->v[0].i = parent->id; /* children: field 0 is customer_id */
        o->rec->customer_id = parent->id;
    }
    memset(&j->m, 0, sizeof j->m);
    switch (o->op) {
    case OP_CREATE:
        rc = dg_rec_create(c, o->rec, o->allow_duplicate, &j->m);
        break;
    case OP_UPDATE:
        rc = dg_rec_update(c, o->rec, o->mask, o->n_mask, o->expected_version, &j->m);
        break;
    case OP_ARCHIVE:
    case OP_RESTORE:
        rc =
            dg_rec_set_archived(c, o->kind, o->id, o->expected_version, o->op == OP_ARCHIVE, &j->m);
        break;
    }
    o->m = (struct op_result){j->m.record, j->m.seq};
    return rc;
}

/* Stores what the ops produced under the job's idempotency key. */
static int remember(dg_rec_ctx *c, struct rec_job *j)
{
    dg_idem_result r = {.request = j->request, .n_records = j->n_ops};
    dg_idem_ref *refs = dg_arena_calloc(c->arena, j->n_ops, sizeof *refs);

    if (!refs)
        return DG_ENOMEM;
    for (size_t i = 0; i < j->n_ops; i++)
        refs[i] = (dg_idem_ref){j->ops[i].m.record->kind, j->ops[i].m.record->id};
    r.records = refs;
    memcpy(r.request_hash, j->req_hash, sizeof r.request_hash);
    return dg_store_idem_put(c->tx->store, j->who.user_id, j->idem_key, &r, j->now);
}

/* A retry: the records the first attempt produced, as they are now. The
 * lookup checked that there is one per op. */
static int replay(dg_rec_ctx *c, struct rec_job *j, const dg_idem_result *first)
{
    for (size_t i = 0; i < j->n_ops; i++) {
        int rc = dg_store_rec_get(c->tx->store, first->records[i].kind, first->records[i].id,
                                  c->arena, &j->ops[i].m.record);

        if (rc == DG_ENOTFOUND) { /* records are archived, never deleted */
            snprintf(j->m.why, sizeof j->m.why, "op %zu: %s %lld is gone", i,
                     dg_entity_get(first->records[i].kind)->name, (long long)first->records[i].id);
            j->m.is_result_damaged = true;
            rc = DG_ECORRUPT;
        }
        if (rc != DG_OK)
            return rc;
    }
    j->is_replay = true;
    return DG_OK;
}

static void rec_run(dg_job *job, void *ctx)
{
    struct rec_job *j = (struct rec_job *)job;
    dg_wtx *tx = ctx;
    dg_rec_ctx c = {tx, tx->collator, &j->who, j->req->arena, j->now};
    dg_idem_result first;
    int rc = DG_OK;

    if (j->idem_key[0]) {
        rc = dg_h_idem_lookup(tx, j->who.user_id, j->idem_key, j->req_hash, j->request, j->n_ops,
                              c.arena, &first, &j->m);
        if (rc != DG_ENOTFOUND) {
            job->rc = rc == DG_OK ? replay(&c, j, &first) : rc;
            j->failed = SIZE_MAX;
            return;
        }
    }
    for (j->failed = 0; j->failed < j->n_ops; j->failed++)
        if ((rc = run_op(&c, j, j->failed)) != DG_OK)
            break;
    if (rc == DG_OK && j->idem_key[0])
        rc = remember(&c, j);
    job->rc = rc;
}

/* ------------------------------------------------------------ answers */

static const char *reason_for(int rc)
{
    switch (rc) {
    case DG_EINVAL:
        return "invalid_argument";
    case DG_ENOTFOUND:
        return "not_found";
    case DG_ESTATE:
        return "failed_precondition";
    case DG_EEXIST:
        return "already_exists";
    default:
        return "storage_error";
    }
}

/* The response body of a single-op request carrying `r`. */
static void set_body(dg_req *req, enum rec_op op, const dg_record *r)
{
    Dangan__V1__Record *pr = r ? dg_h_record_to_pb(req, r) : NULL;

    switch (op) {
    case OP_CREATE: {
        Dangan__V1__CreateResponse *b = dg_req_alloc(req, sizeof *b);

        dangan__v1__create_response__init(b);
        b->record = pr;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_CREATE;
        req->resp.create = b;
        break;
    }
    case OP_UPDATE: {
        Dangan__V1__UpdateResponse *b = dg_req_alloc(req, sizeof *b);

        dangan__v1__update_response__init(b);
        b->record = pr;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_UPDATE;
        req->resp.update = b;
        break;
    }
    case OP_ARCHIVE: {
        Dangan__V1__ArchiveResponse *b = dg_req_alloc(req, sizeof *b);

        dangan__v1__archive_response__init(b);
        b->record = pr;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_ARCHIVE;
        req->resp.archive = b;
        break;
    }
    case OP_RESTORE: {
        Dangan__V1__RestoreResponse *b = dg_req_alloc(req, sizeof *b);

        dangan__v1__restore_response__init(b);
        b->record = pr;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_RESTORE;
        req->resp.restore = b;
        break;
    }
    }
}

static void answer_conflict(dg_req *req, const struct op *o, const dg_mutation *m, bool is_batch)
{
    if (!is_batch)
        set_body(req, o->op, m->record);
    req->has_error_body = true;
    if (!is_batch && o->op == OP_UPDATE) {
        req->resp.update->conflicting_fields = (char **)m->conflicts;
        req->resp.update->n_conflicting_fields = m->n_conflicts;
    }
    req->status.conflicting_fields = (char **)m->conflicts;
    req->status.n_conflicting_fields = m->n_conflicts;
    dg_req_fail(req, DG_ECONFLICT, "version_conflict",
                "someone else changed %s%s since the version you saw; the record is now at "
                "version %lld: merge and retry",
                m->conflicts[0], m->n_conflicts > 1 ? " (and more)" : "",
                (long long)m->record->version);
}

static void answer_duplicates(dg_req *req, const dg_mutation *m, bool is_batch)
{
    Dangan__V1__CreateResponse *b;

    req->has_error_body = true;
    if (is_batch) {
        dg_req_fail(req, DG_EEXIST, "likely_duplicate",
                    "a customer with the same %s exists (id %lld)", m->dups[0].matched_on,
                    (long long)m->dups[0].customer_id);
        return;
    }
    set_body(req, OP_CREATE, NULL);
    b = req->resp.create;
    b->duplicates = dg_req_alloc(req, m->n_dups * sizeof *b->duplicates);
    for (size_t i = 0; i < m->n_dups; i++) {
        Dangan__V1__DuplicateHint *h = dg_req_alloc(req, sizeof *h);

        dangan__v1__duplicate_hint__init(h);
        h->customer_id = m->dups[i].customer_id;
        h->matched_on = (char *)m->dups[i].matched_on;
        h->code = (char *)m->dups[i].code;
        h->name = (char *)m->dups[i].name;
        h->owner = dg_h_user_ref(req, m->dups[i].owner_id); /* who to talk to: 撞单 */
        b->duplicates[i] = h;
    }
    b->n_duplicates = m->n_dups;
    dg_req_fail(req, DG_EEXIST, "likely_duplicate",
                "a customer with the same %s exists: %s %s; create anyway with allow_duplicate",
                m->dups[0].matched_on, m->dups[0].code, m->dups[0].name);
}

/* Answers a failed op: not found, conflict, duplicates, or a refusal naming
 * its field. In a batch (is_batch) the BatchResponse body set by the caller
 * stays. */
static void answer_failure(dg_req *req, const struct op *o, const dg_mutation *m, int rc,
                           const char *path_prefix, bool is_batch)
{
    enum dg_kind kind = o->op == OP_CREATE || o->op == OP_UPDATE ? o->rec->kind : o->kind;
    int64_t id = o->op == OP_CREATE ? 0 : (o->op == OP_UPDATE ? o->rec->id : o->id);
    const char *entity = dg_entity_get(kind)->name;
    char path[160];

    if (rc == DG_ENOTFOUND && m->field[0]) {
        /* what the record names (its customer) is missing, or hidden: alike */
        snprintf(path, sizeof path, "%s%s", path_prefix, m->field);
        dg_req_violation(req, path, m->why);
        dg_h_not_found(req, m->is_hidden, entity, id, "%s: %s", m->field, m->why);
    } else if (rc == DG_ENOTFOUND) {
        /* the record itself is missing, or in a dossier hidden from the actor */
        dg_h_not_found(req, m->is_hidden, entity, id, "no such %s", entity);
    } else if (rc == DG_EDENIED) {
        snprintf(path, sizeof path, "%s%s", path_prefix, m->field);
        dg_req_violation(req, path, m->why);
        dg_h_deny(req, "record", 0, "permission_denied", m->why);
    } else if (rc == DG_ECONFLICT) {
        answer_conflict(req, o, m, is_batch);
    } else if (rc == DG_EEXIST && m->n_dups) {
        answer_duplicates(req, m, is_batch);
    } else if (m->field[0]) {
        snprintf(path, sizeof path, "%s%s", path_prefix, m->field);
        dg_req_violation(req, path, m->why);
        dg_req_fail(req, rc, reason_for(rc), "%s: %s", m->field, m->why);
    } else {
        dg_h_fail_job(req, rc);
    }
}

static void single_done(dg_job *job)
{
    struct rec_job *j = (struct rec_job *)job;
    dg_req *req = j->req;
    struct op *o = &j->ops[0];

    if (job->rc == DG_OK) {
        set_body(req, o->op, o->m.record);
        dg_req_reply(req);
    } else if (j->failed == SIZE_MAX && dg_h_answer_idem_failure(req, job->rc, &j->m)) {
        /* a reused key, or a damaged stored answer */
    } else {
        answer_failure(req, o, &j->m, job->rc, "record.", false);
    }
    free(j);
}

static struct rec_job *new_job(dg_req *req, size_t n_ops, enum dg_idem_request request,
                               const char *idem_key)
{
    dg_session *s = dg_conn_session(req->conn);
    struct rec_job *j = dg_xcalloc(1, sizeof *j);

    j->req = req;
    j->ops = dg_req_alloc(req, n_ops * sizeof *j->ops);
    j->n_ops = n_ops;
    for (size_t i = 0; i < n_ops; i++)
        j->ops[i].ref_op = -1;
    snprintf(j->username, sizeof j->username, "%s", s->username);
    snprintf(j->peer, sizeof j->peer, "%s", dg_conn_peer(req->conn));
    j->who =
        (dg_actor){s->user_id, j->username, j->peer, s->role, dg_server_restricted_tiers(req->srv)};
    j->now = dg_now_ms();
    snprintf(j->idem_key, sizeof j->idem_key, "%s", idem_key ? idem_key : "");
    j->request = request;
    j->job.run = rec_run;
    return j;
}

static bool check_idem_key(dg_req *req, const char *key)
{
    if (strlen(key) > IDEM_KEY_MAX) {
        dg_req_violation(req, "idempotency_key", "at most 128 bytes");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "idempotency_key is too long");
        return false;
    }
    return true;
}

static void submit(dg_req *req, struct rec_job *j, void (*done)(dg_job *))
{
    int rc;

    j->job.done = done;
    if ((rc = dg_server_write(req->srv, &j->job)) != DG_OK) {
        free(j);
        dg_h_fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ validation */

struct vctx {
    dg_req *req;
    const char *prefix;
};

static void on_violation(void *ud, const char *field, const char *problem)
{
    struct vctx *v = ud;
    char path[160];

    snprintf(path, sizeof path, "%s%s", v->prefix, field);
    dg_req_violation(v->req, path, problem);
}

/* Converts and validates one create op; violations are added to the
 * request. In a batch, `n_before` earlier ops exist and a child may name its
 * customer as -N, the customer created by op N (1-based). */
static int prepare_create(dg_req *req, const Dangan__V1__CreateRequest *m, const char *prefix,
                          struct op *o, size_t n_before)
{
    char path[64];
    int rc;

    snprintf(path, sizeof path, "%srecord", prefix);
    rc = dg_h_record_from_pb(req, m->record, path, NULL, 0, true, &o->rec);
    if (rc != DG_OK)
        return rc;
    if (o->rec->kind != DG_KIND_CUSTOMER && o->rec->v[0].i < 0) {
        /* -N in unsigned arithmetic: negating INT64_MIN as an int64 is undefined */
        uint64_t n = 0 - (uint64_t)o->rec->v[0].i;

        if (n > n_before) {
            snprintf(path, sizeof path, "%srecord.%s.customer_id", prefix,
                     dg_h_kind_field(o->rec->kind));
            dg_req_violation(req, path, "-N must name an earlier op of this batch");
            return DG_EINVAL;
        }
        o->ref_op = (int)(n - 1);
        o->rec->v[0].i = 1; /* a placeholder for validation; the writer sets the real id */
    }
    snprintf(path, sizeof path, "%srecord.%s.", prefix, dg_h_kind_field(o->rec->kind));
    if (dg_record_validate(o->rec, true, on_violation, &(struct vctx){req, path}))
        return DG_EINVAL;
    o->op = OP_CREATE;
    o->allow_duplicate = m->allow_duplicate;
    return DG_OK;
}

static int prepare_update(dg_req *req, const Dangan__V1__UpdateRequest *m, const char *prefix,
                          struct op *o)
{
    char path[64];
    int rc;

    if (m->n_update_mask == 0 || m->n_update_mask > DG_MAX_FIELDS + 32) {
        snprintf(path, sizeof path, "%supdate_mask", prefix);
        dg_req_violation(req, path, "name the fields to change (1 to 96 of them)");
        return DG_EINVAL;
    }
    if (m->expected_version < 1) {
        snprintf(path, sizeof path, "%sexpected_version", prefix);
        dg_req_violation(req, path, "the version you last saw is required");
        return DG_EINVAL;
    }
    snprintf(path, sizeof path, "%srecord", prefix);
    rc = dg_h_record_from_pb(req, m->record, path, (const char *const *)m->update_mask,
                             m->n_update_mask, false, &o->rec);
    if (rc != DG_OK)
        return rc;
    if (o->rec->id <= 0) {
        snprintf(path, sizeof path, "%srecord.%s.id", prefix, dg_h_kind_field(o->rec->kind));
        dg_req_violation(req, path, "required");
        return DG_EINVAL;
    }
    snprintf(path, sizeof path, "%srecord.%s.", prefix, dg_h_kind_field(o->rec->kind));
    if (dg_record_validate(o->rec, false, on_violation, &(struct vctx){req, path}))
        return DG_EINVAL;
    o->op = OP_UPDATE;
    o->mask = (const char **)m->update_mask;
    o->n_mask = m->n_update_mask;
    o->expected_version = m->expected_version;
    return DG_OK;
}

static int prepare_archive(dg_req *req, int kind, int64_t id, int64_t version, bool archive,
                           const char *prefix, struct op *o)
{
    char path[64];

    if (!dg_entity_get((enum dg_kind)kind) || id <= 0) {
        snprintf(path, sizeof path, "%s%s", prefix, id <= 0 ? "id" : "kind");
        dg_req_violation(req, path, "required");
        return DG_EINVAL;
    }
    o->op = archive ? OP_ARCHIVE : OP_RESTORE;
    o->kind = (enum dg_kind)kind;
    o->id = id;
    o->expected_version = version;
    return DG_OK;
}

static void refuse_invalid(dg_req *req, int rc)
{
    if (rc == DG_ENOMEM) {
        dg_req_fail(req, rc, "too_large", "the request needs more memory than allowed");
        return;
    }
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                req->status.n_field_violations ? req->status.field_violations[0]->field : "request",
                req->status.n_field_violations ? req->status.field_violations[0]->description
                                               : "invalid");
}

/* ------------------------------------------------------------ single-op handlers */

/* Submits a prepared single-op job, or refuses the request if preparing it failed. */
static void single(dg_req *req, const ProtobufCMessage *body, struct rec_job *j, int rc)
{
    if (rc != DG_OK) {
        free(j);
        refuse_invalid(req, rc);
        return;
    }
    if (j->idem_key[0])
        dg_h_request_hash(req, body, j->req_hash);
    submit(req, j, single_done);
}

void dg_h_create(dg_req *req)
{
    const Dangan__V1__CreateRequest *m = req->msg->create;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, 1, DG_IDEM_CREATE, m->idempotency_key);
    single(req, &m->base, j, prepare_create(req, m, "", &j->ops[0], 0));
}

void dg_h_update(dg_req *req)
{
    const Dangan__V1__UpdateRequest *m = req->msg->update;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, 1, DG_IDEM_UPDATE, m->idempotency_key);
    single(req, &m->base, j, prepare_update(req, m, "", &j->ops[0]));
}

void dg_h_archive(dg_req *req)
{
    const Dangan__V1__ArchiveRequest *m = req->msg->archive;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, 1, DG_IDEM_ARCHIVE, m->idempotency_key);
    single(req, &m->base, j,
           prepare_archive(req, m->kind, m->id, m->expected_version, true, "", &j->ops[0]));
}

void dg_h_restore(dg_req *req)
{
    const Dangan__V1__RestoreRequest *m = req->msg->restore;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, 1, DG_IDEM_RESTORE, m->idempotency_key);
    single(req, &m->base, j,
           prepare_archive(req, m->kind, m->id, m->expected_version, false, "", &j->ops[0]));
}

/* ------------------------------------------------------------ batch */

/* Room in a frame for what surrounds a BatchResponse (Frame, Response, Status). */
#define BATCH_REPLY_SLACK 1024

/* Replaces the records of an applied batch's reply with references: kind,
 * id, version and (customers) code. */
static void abridge(dg_req *req, const struct rec_job *j, Dangan__V1__BatchResponse *b)
{
    for (size_t i = 0; i < j->n_ops; i++)
        b->records[i] = dg_h_record_ref_to_pb(req, j->ops[i].m.record);
    b->records_abridged = true;
}

static void batch_done(dg_job *job)
{
    struct rec_job *j = (struct rec_job *)job;
    dg_req *req = j->req;
    Dangan__V1__BatchResponse *b = dg_req_alloc(req, sizeof *b);
    char prefix[32];

    dangan__v1__batch_response__init(b);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_BATCH;
    req->resp.batch = b;
    if (job->rc == DG_OK) {
        b->records = dg_req_alloc(req, j->n_ops * sizeof *b->records);
        for (size_t i = 0; i < j->n_ops; i++)
            b->records[i] = dg_h_record_to_pb(req, j->ops[i].m.record);
        b->n_records = j->n_ops;
        if (dangan__v1__batch_response__get_packed_size(b) + BATCH_REPLY_SLACK >
            dg_server_config(req->srv)->max_frame_after_login)
            abridge(req, j, b); /* applied: say so, rather than response_too_large */
        dg_req_reply(req);
    } else if (j->failed == SIZE_MAX && dg_h_answer_idem_failure(req, job->rc, &j->m)) {
        /* a reused key, or a damaged stored answer */
    } else if (j->failed < j->n_ops) {
        snprintf(prefix, sizeof prefix, "ops[%zu].", j->failed);
        b->failed_op = (uint32_t)j->failed;
        dg_log_debug("records", "action=%s msg=\"batch rolled back\" failed_op=%zu", req->action,
                     j->failed);
        req->has_error_body = true;
        answer_failure(req, &j->ops[j->failed], &j->m, job->rc, prefix, true);
    } else {
        dg_h_fail_job(req, job->rc);
    }
    free(j);
}

static int prepare_batch_op(dg_req *req, const Dangan__V1__BatchOp *b, size_t i, struct op *ops)
{
    char prefix[48];
    int rc;

    snprintf(prefix, sizeof prefix, "ops[%zu].", i);
    switch (b->op_case) {
    case DANGAN__V1__BATCH_OP__OP_CREATE:
        rc = prepare_create(req, b->create, prefix, &ops[i], i);
        if (rc == DG_OK && ops[i].ref_op >= 0 &&
            !(ops[ops[i].ref_op].op == OP_CREATE &&
              ops[ops[i].ref_op].rec->kind == DG_KIND_CUSTOMER)) {
            snprintf(prefix, sizeof prefix, "ops[%zu].record", i);
            dg_req_violation(req, prefix, "-N must name an op that creates a customer");
            rc = DG_EINVAL;
        }
        return rc;
    case DANGAN__V1__BATCH_OP__OP_UPDATE:
        return prepare_update(req, b->update, prefix, &ops[i]);
    case DANGAN__V1__BATCH_OP__OP_ARCHIVE:
        return prepare_archive(req, b->archive->kind, b->archive->id, b->archive->expected_version,
                               true, prefix, &ops[i]);
    case DANGAN__V1__BATCH_OP__OP_RESTORE:
        return prepare_archive(req, b->restore->kind, b->restore->id, b->restore->expected_version,
                               false, prefix, &ops[i]);
    default:
        snprintf(prefix, sizeof prefix, "ops[%zu]", i);
        dg_req_violation(req, prefix, "an op (create, update, archive, restore) is required");
        return DG_EINVAL;
    }
}

void dg_h_batch(dg_req *req)
{
    const Dangan__V1__BatchRequest *m = req->msg->batch;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    if (m->n_ops == 0 || m->n_ops > BATCH_MAX_OPS) {
        dg_req_violation(req, "ops", "1 to 10000 ops");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "a batch holds 1 to 10000 ops");
        return;
    }
    j = new_job(req, m->n_ops, DG_IDEM_BATCH, m->idempotency_key);
    for (size_t i = 0; i < m->n_ops; i++) {
        int rc = prepare_batch_op(req, m->ops[i], i, j->ops);

        if (rc != DG_OK) {
            Dangan__V1__BatchResponse *b = dg_req_alloc(req, sizeof *b);

            free(j);
            dangan__v1__batch_response__init(b);
            b->failed_op = (uint32_t)i;
            req->resp.body_case = DANGAN__V1__RESPONSE__BODY_BATCH;
            req->resp.batch = b;
            req->has_error_body = true;
            refuse_invalid(req, rc);
            return;
        }
    }
    if (j->idem_key[0])
        dg_h_request_hash(req, &m->base, j->req_hash);
    submit(req, j, batch_done);
}
