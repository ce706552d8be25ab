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
#include "record_pb.h"
#include "h_write.h"
#include "handlers.h"
#include "log.h"
#include "records.h"

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
    dg_write_job w; /* first: the job; w.m is the op running, then the one that failed */
    struct op *ops;
    size_t n_ops;
    size_t failed; /* index of the op that failed; SIZE_MAX: none ran (the lookup failed) */
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
    memset(&j->w.m, 0, sizeof j->w.m);
    switch (o->op) {
    case OP_CREATE:
        rc = dg_rec_create(c, o->rec, o->allow_duplicate, &j->w.m);
        break;
    case OP_UPDATE:
        rc = dg_rec_update(c, o->rec, o->mask, o->n_mask, o->expected_version, &j->w.m);
        break;
    case OP_ARCHIVE:
    case OP_RESTORE:
        rc = dg_rec_set_archived(c, o->kind, o->id, o->expected_version, o->op == OP_ARCHIVE,
                                 &j->w.m);
        break;
    }
    o->m = (struct op_result){j->w.m.record, j->w.m.seq};
    return rc;
}

static int rec_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct rec_job *j = (struct rec_job *)w;
    int rc;

    for (j->failed = 0; j->failed < j->n_ops; j->failed++)
        if ((rc = run_op(c, j, j->failed)) != DG_OK)
            return rc;
    return DG_OK;
}

/* What a retry gets: the records the ops produced. */
static int rec_remember(dg_write_job *w, dg_rec_ctx *c, dg_idem_result *out)
{
    struct rec_job *j = (struct rec_job *)w;
    dg_idem_ref *refs = dg_arena_calloc(c->arena, j->n_ops, sizeof *refs);

    if (!refs)
        return DG_ENOMEM;
    for (size_t i = 0; i < j->n_ops; i++)
        refs[i] = (dg_idem_ref){j->ops[i].m.record->kind, j->ops[i].m.record->id};
    out->records = refs;
    return DG_OK;
}

/* A retry: the records the first attempt produced, as they are now. The
 * lookup checked that there is one per op. */
static int rec_replay(dg_write_job *w, dg_rec_ctx *c, const dg_idem_result *first)
{
    struct rec_job *j = (struct rec_job *)w;

    for (size_t i = 0; i < j->n_ops; i++) {
        int rc = dg_store_rec_get(c->tx->store, first->records[i].kind, first->records[i].id,
                                  c->arena, &j->ops[i].m.record);

        if (rc == DG_ENOTFOUND) { /* records are archived, never deleted */
            snprintf(w->m.why, sizeof w->m.why, "op %zu: %s %lld is gone", i,
                     dg_entity_get(first->records[i].kind)->name, (long long)first->records[i].id);
            w->m.is_result_damaged = true;
            rc = DG_ECORRUPT;
        }
        if (rc != DG_OK)
            return rc;
    }
    return DG_OK;
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

/* The response body of each single-op request: a message whose one field is
 * `record`, in the Response's oneof at `body`. */
static const struct {
    const ProtobufCMessageDescriptor *desc;
    Dangan__V1__Response__BodyCase body;
} single_bodies[] = {
    [OP_CREATE] = {&dangan__v1__create_response__descriptor, DANGAN__V1__RESPONSE__BODY_CREATE},
    [OP_UPDATE] = {&dangan__v1__update_response__descriptor, DANGAN__V1__RESPONSE__BODY_UPDATE},
    [OP_ARCHIVE] = {&dangan__v1__archive_response__descriptor, DANGAN__V1__RESPONSE__BODY_ARCHIVE},
    [OP_RESTORE] = {&dangan__v1__restore_response__descriptor, DANGAN__V1__RESPONSE__BODY_RESTORE},
};

/* The response body of a single-op request carrying `r` (NULL: none). */
static void set_body(dg_req *req, enum rec_op op, const dg_record *r)
{
    const ProtobufCMessageDescriptor *d = single_bodies[op].desc;
    const ProtobufCFieldDescriptor *rec =
        protobuf_c_message_descriptor_get_field_by_name(d, "record");
    const ProtobufCFieldDescriptor *body = protobuf_c_message_descriptor_get_field(
        &dangan__v1__response__descriptor, (unsigned)single_bodies[op].body);
    ProtobufCMessage *b = dg_req_alloc(req, d->sizeof_message);

    dg_assert(rec && body && rec->type == PROTOBUF_C_TYPE_MESSAGE);
    protobuf_c_message_init(d, b);
    *(Dangan__V1__Record **)((char *)b + rec->offset) = r ? dg_record_to_pb(req, r) : NULL;
    req->resp.body_case = single_bodies[op].body;
    *(ProtobufCMessage **)((char *)&req->resp + body->offset) = b;
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
        h->owner = dg_user_ref_pb(req, m->dups[i].owner_id); /* who to talk to: 撞单 */
        b->duplicates[i] = h;
    }
    b->n_duplicates = m->n_dups;
    dg_req_fail(req, DG_EEXIST, "likely_duplicate",
                "a customer with the same %s exists: %s %s; create anyway with allow_duplicate",
                m->dups[0].matched_on, m->dups[0].code, m->dups[0].name);
}

/* A likely twin the caller may not see: one answer whatever it is (no id,
 * name, owner or field of it; no field violation), allow_duplicate or not;
 * the audit record names it for the manager who resolves it. */
static void answer_hidden_twin(dg_req *req, const struct op *o, const dg_mutation *m)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const char *name = o->rec->v[dg_entity_field_index(e, "name")].s;

    dg_h_refuse_detail(req, DG_EEXIST, "customer", m->hidden_twin_id,
                       json_pack("{s:s,s:I,s:s,s:s,s:b}", "reason", "duplicate_hidden", "twin_id",
                                 (json_int_t)m->hidden_twin_id, "matched_on",
                                 m->hidden_matched_on, "name", name ? name : "",
                                 "allow_duplicate", o->allow_duplicate),
                       "duplicate_hidden",
                       "a matching customer already exists that you cannot see; ask a manager "
                       "(adding it anyway is not possible)");
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
    } else if (rc == DG_EEXIST && m->hidden_twin_id) {
        answer_hidden_twin(req, o, m);
    } else if (rc == DG_EEXIST && m->n_dups) {
        answer_duplicates(req, m, is_batch);
    } else if (m->field[0]) {
        snprintf(path, sizeof path, "%s%s", path_prefix, m->field);
        dg_req_violation(req, path, m->why);
        dg_req_fail(req, rc, m->reason ? m->reason : reason_for(rc), "%s: %s", m->field, m->why);
    } else {
        dg_h_fail_job(req, rc);
    }
}

static void single_answer(dg_write_job *w)
{
    struct op *o = &((struct rec_job *)w)->ops[0];

    set_body(w->req, o->op, o->m.record);
    dg_req_reply(w->req);
}

static void single_answer_failure(dg_write_job *w, int rc)
{
    answer_failure(w->req, &((struct rec_job *)w)->ops[0], &w->m, rc, "record.", false);
}

static const dg_write_ops single_ops = {
    .run = rec_run,
    .replay = rec_replay,
    .remember = rec_remember,
    .answer = single_answer,
    .answer_failure = single_answer_failure,
};

/* A job of n_ops ops for `body` (its idempotency key already checked). */
static struct rec_job *new_job(dg_req *req, const dg_write_ops *ops, size_t n_ops,
                               enum dg_idem_request request, const ProtobufCMessage *body,
                               const char *idem_key)
{
    struct rec_job *j = dg_xcalloc(1, sizeof *j);

    j->ops = dg_req_alloc(req, n_ops * sizeof *j->ops);
    j->n_ops = n_ops;
    j->failed = SIZE_MAX;
    for (size_t i = 0; i < n_ops; i++)
        j->ops[i].ref_op = -1;
    /* each record is audited by records.c: no record of the request itself */
    dg_write_job_init(&j->w, ops, req, request, body, idem_key, NULL, 0);
    j->w.n_records = n_ops;
    return j;
}

static bool check_idem_key(dg_req *req, const char *key)
{
    if (!dg_write_key_ok(req, key)) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "idempotency_key is too long");
        return false;
    }
    return true;
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
    rc = dg_record_from_pb(req, m->record, path, NULL, 0, true, &o->rec);
    if (rc != DG_OK)
        return rc;
    if (o->rec->kind != DG_KIND_CUSTOMER && o->rec->v[0].i < 0) {
        /* -N in unsigned arithmetic: negating INT64_MIN as an int64 is undefined */
        uint64_t n = 0 - (uint64_t)o->rec->v[0].i;

        if (n > n_before) {
            snprintf(path, sizeof path, "%srecord.%s.customer_id", prefix,
                     dg_kind_field(o->rec->kind));
            dg_req_violation(req, path, "-N must name an earlier op of this batch");
            return DG_EINVAL;
        }
        o->ref_op = (int)(n - 1);
        o->rec->v[0].i = 1; /* a placeholder for validation; the writer sets the real id */
    }
    snprintf(path, sizeof path, "%srecord.%s.", prefix, dg_kind_field(o->rec->kind));
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
    rc = dg_record_from_pb(req, m->record, path, (const char *const *)m->update_mask,
                           m->n_update_mask, false, &o->rec);
    if (rc != DG_OK)
        return rc;
    if (o->rec->id <= 0) {
        snprintf(path, sizeof path, "%srecord.%s.id", prefix, dg_kind_field(o->rec->kind));
        dg_req_violation(req, path, "required");
        return DG_EINVAL;
    }
    snprintf(path, sizeof path, "%srecord.%s.", prefix, dg_kind_field(o->rec->kind));
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
static void single(dg_req *req, struct rec_job *j, int rc)
{
    if (rc != DG_OK) {
        free(j);
        refuse_invalid(req, rc);
        return;
    }
    dg_write_job_submit(&j->w);
}

void dg_h_create(dg_req *req)
{
    const Dangan__V1__CreateRequest *m = req->msg->create;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, &single_ops, 1, DG_IDEM_CREATE, &m->base, m->idempotency_key);
    single(req, j, prepare_create(req, m, "", &j->ops[0], 0));
}

void dg_h_update(dg_req *req)
{
    const Dangan__V1__UpdateRequest *m = req->msg->update;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, &single_ops, 1, DG_IDEM_UPDATE, &m->base, m->idempotency_key);
    single(req, j, prepare_update(req, m, "", &j->ops[0]));
}

void dg_h_archive(dg_req *req)
{
    const Dangan__V1__ArchiveRequest *m = req->msg->archive;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, &single_ops, 1, DG_IDEM_ARCHIVE, &m->base, m->idempotency_key);
    single(req, j, prepare_archive(req, m->kind, m->id, m->expected_version, true, "", &j->ops[0]));
}

void dg_h_restore(dg_req *req)
{
    const Dangan__V1__RestoreRequest *m = req->msg->restore;
    struct rec_job *j;

    if (!check_idem_key(req, m->idempotency_key))
        return;
    j = new_job(req, &single_ops, 1, DG_IDEM_RESTORE, &m->base, m->idempotency_key);
    single(req, j,
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
        b->records[i] = dg_record_ref_to_pb(req, j->ops[i].m.record);
    b->records_abridged = true;
}

/* The BatchResponse of `req`, empty. */
static Dangan__V1__BatchResponse *batch_body(dg_req *req)
{
    Dangan__V1__BatchResponse *b = dg_req_alloc(req, sizeof *b);

    dangan__v1__batch_response__init(b);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_BATCH;
    req->resp.batch = b;
    return b;
}

static void batch_answer(dg_write_job *w)
{
    struct rec_job *j = (struct rec_job *)w;
    dg_req *req = w->req;
    Dangan__V1__BatchResponse *b = batch_body(req);

    b->records = dg_req_alloc(req, j->n_ops * sizeof *b->records);
    for (size_t i = 0; i < j->n_ops; i++)
        b->records[i] = dg_record_to_pb(req, j->ops[i].m.record);
    b->n_records = j->n_ops;
    if (dangan__v1__batch_response__get_packed_size(b) + BATCH_REPLY_SLACK >
        dg_server_config(req->srv)->max_frame_after_login)
        abridge(req, j, b); /* applied: say so, rather than response_too_large */
    dg_req_reply(req);
}

static void batch_answer_failure(dg_write_job *w, int rc)
{
    struct rec_job *j = (struct rec_job *)w;
    dg_req *req = w->req;
    Dangan__V1__BatchResponse *b = batch_body(req);
    char prefix[32];

    if (j->failed >= j->n_ops) {
        dg_h_fail_job(req, rc);
        return;
    }
    snprintf(prefix, sizeof prefix, "ops[%zu].", j->failed);
    b->failed_op = (uint32_t)j->failed;
    dg_log_debug("records", "action=%s msg=\"batch rolled back\" failed_op=%zu", req->action,
                 j->failed);
    req->has_error_body = true;
    answer_failure(req, &j->ops[j->failed], &w->m, rc, prefix, true);
}

static const dg_write_ops batch_ops = {
    .run = rec_run,
    .replay = rec_replay,
    .remember = rec_remember,
    .answer = batch_answer,
    .answer_failure = batch_answer_failure,
};

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
    j = new_job(req, &batch_ops, m->n_ops, DG_IDEM_BATCH, &m->base, m->idempotency_key);
    for (size_t i = 0; i < m->n_ops; i++) {
        int rc = prepare_batch_op(req, m->ops[i], i, j->ops);

        if (rc != DG_OK) {
            free(j);
            batch_body(req)->failed_op = (uint32_t)i;
            req->has_error_body = true;
            refuse_invalid(req, rc);
            return;
        }
    }
    dg_write_job_submit(&j->w);
}
