/* h_common.c - what request handlers share: audit records that own their
 * strings, refusals that are audited before they are answered, answers for
 * failed jobs, request hashes for idempotency keys, session descriptions
 * for replies. (Write jobs themselves: h_write.c.)
 * Loop thread, except dg_h_audit_only_run and dg_h_audit_append_json
 * (writer thread). */
#include "h_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "clock.h"
#include "dg.h"
#include "log.h"
#include "utf8.h"

void dg_h_audit_fill(struct dg_audit_buf *a, dg_req *req, int64_t user_id, const char *username,
                     const char *entity, int64_t entity_id, const char *outcome, json_t *detail)
{
    /* Names as typed may be long or odd: keep at most 64 characters' worth. */
    dg_utf8_copy(a->username, sizeof a->username, username);
    snprintf(a->peer, sizeof a->peer, "%s", dg_conn_peer(req->conn));
    if (!detail)
        detail = json_object();
    free(a->detail);
    a->detail = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (!a->detail)
        a->detail = strdup("{}");
    dg_assert(a->detail);
    a->rec = (dg_audit_rec){
        .at = dg_now_ms(),
        .user_id = user_id,
        .username = a->username,
        .peer = a->peer,
        .action = req->action,
        .entity = entity,
        .entity_id = entity_id,
        .outcome = outcome,
        .detail = a->detail,
    };
}

json_t *dg_h_reason_detail(const char *reason)
{
    return json_pack("{s:s}", "reason", reason);
}

void dg_h_audit_fini(struct dg_audit_buf *a)
{
    free(a->detail);
    a->detail = NULL;
}

struct denial {
    dg_job job;
    dg_req *req;
    struct dg_audit_buf audit;
    int rc; /* the answer: DG_EDENIED, DG_ENOTFOUND, or DG_OK to send req->resp */
    char reason[64];
    char message[256];
};

static void denial_run(dg_job *job, void *ctx)
{
    dg_h_audit_only_run(job, ctx, &((struct denial *)job)->audit);
}

static void denial_done(dg_job *job)
{
    struct denial *d = (struct denial *)job;

    if (job->rc != DG_OK)
        dg_h_fail_job(d->req, job->rc);
    else if (d->rc == DG_OK)
        dg_req_reply(d->req);
    else
        dg_req_fail(d->req, d->rc, d->reason, "%s", d->message);
    dg_h_audit_fini(&d->audit);
    free(d);
}

/* Queues the audit record, answering when it is committed. */
static void audit_first(dg_req *req, int answer, const char *entity, int64_t entity_id,
                        const char *outcome, json_t *detail, const char *reason,
                        const char *message)
{
    const dg_session *s = dg_conn_session(req->conn);
    struct denial *d = dg_xcalloc(1, sizeof *d);
    int rc;

    d->req = req;
    d->rc = answer;
    snprintf(d->reason, sizeof d->reason, "%s", reason);
    snprintf(d->message, sizeof d->message, "%s", message);
    dg_h_audit_fill(&d->audit, req, s ? s->user_id : 0, s ? s->username : "", entity, entity_id,
                    outcome, detail);
    d->job.run = denial_run;
    d->job.done = denial_done;
    /* The record of a read or a refusal: the answer waits for its commit,
     * not for the disk (see dg_store_skip_sync). Nothing in the data
     * changed, and a killed server keeps the record. */
    if ((rc = dg_server_write_audit_only(req->srv, &d->job)) != DG_OK) {
        dg_h_audit_fini(&d->audit);
        free(d);
        dg_h_fail_job(req, rc);
    }
}

void dg_h_deny(dg_req *req, const char *entity, int64_t entity_id, const char *reason,
               const char *message)
{
    audit_first(req, DG_EDENIED, entity, entity_id, "denied", dg_h_reason_detail(reason), reason,
                message);
}

void dg_h_refuse(dg_req *req, int rc, const char *entity, int64_t entity_id, const char *reason,
                 const char *message)
{
    /* The answer looks like any other miss; only the audit record says why. */
    audit_first(req, rc, entity, entity_id, "denied", dg_h_reason_detail(reason),
                rc == DG_ENOTFOUND ? "not_found" : reason, message);
}

void dg_h_refuse_detail(dg_req *req, int rc, const char *entity, int64_t entity_id,
                        json_t *detail, const char *reason, const char *message)
{
    audit_first(req, rc, entity, entity_id, "denied", detail, reason, message);
}

void dg_h_not_found(dg_req *req, bool is_hidden, const char *entity, int64_t entity_id,
                    const char *fmt, ...)
{
    char message[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (is_hidden)
        dg_h_refuse(req, DG_ENOTFOUND, entity, entity_id, "restricted_tier", message);
    else
        dg_req_fail(req, DG_ENOTFOUND, "not_found", "%s", message);
}

void dg_h_audit_then_reply(dg_req *req, const char *entity, int64_t entity_id, json_t *detail)
{
    audit_first(req, DG_OK, entity, entity_id, "ok", detail, "", "");
}

void dg_h_request_hash(dg_req *req, const ProtobufCMessage *body, uint8_t out[32])
{
    size_t n = protobuf_c_message_get_packed_size(body);
    uint8_t *buf = dg_req_alloc(req, n ? n : 1);

    protobuf_c_message_pack(body, buf);
    (void)mbedtls_sha256_ret(buf, n, out, 0); /* cannot fail for memory input */
}

dg_perm_who dg_h_who(dg_req *req)
{
    const dg_session *s = dg_conn_session(req->conn);

    return (dg_perm_who){s->user_id, s->role, dg_server_restricted_tiers(req->srv)};
}

int dg_h_audit_append_json(dg_wtx *tx, struct dg_audit_buf *a, json_t *detail)
{
    free(a->detail);
    a->detail = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    a->rec.detail = a->detail;
    if (!a->detail)
        return DG_ENOMEM;
    return dg_audit_append(tx->store, tx->audit, &a->rec);
}

void dg_h_answer_failed_write(dg_req *req, int rc, const dg_mutation *m, const char *entity,
                              int64_t entity_id)
{
    if (rc == DG_ENOTFOUND && m->field[0]) {
        dg_req_violation(req, m->field, m->why);
        dg_h_not_found(req, m->is_hidden, entity, entity_id, "%s: %s", m->field, m->why);
    } else if (rc == DG_ENOTFOUND) {
        dg_h_not_found(req, m->is_hidden, entity, entity_id, "no such customer");
    } else if (rc == DG_EDENIED) {
        dg_h_deny(req, entity, entity_id, "permission_denied", m->why);
    } else if (m->field[0]) {
        dg_req_violation(req, m->field, m->why);
        dg_req_fail(req, rc,
                    m->reason                ? m->reason
                    : rc == DG_ESTATE ? "failed_precondition"
                                      : "invalid_argument",
                    "%s: %s", m->field, m->why);
    } else {
        dg_h_fail_job(req, rc);
    }
}

/* Answers a request whose job could not be queued or failed in the store. */
void dg_h_fail_job(dg_req *req, int rc)
{
    switch (rc) {
    case DG_EFULL:
        dg_req_retry_after(req, 1000);
        dg_req_fail(req, rc, "overloaded", "the server is overloaded; try again shortly");
        break;
    case DG_EREADONLY:
        dg_req_fail(req, rc, "read_only",
                    "the server refuses writes after a storage error; an administrator must "
                    "check the disk and restart it");
        break;
    case DG_EBUSY:
        dg_req_retry_after(req, 500);
        dg_req_fail(req, rc, "busy", "the database is busy; try again");
        break;
    case DG_ENOMEM:
        dg_req_fail(req, rc, "too_large",
                    "the answer needs more server memory than one request may use ([limits] "
                    "request_memory_mib); ask for less (a smaller page)");
        break;
    case DG_ENOSPC:
        dg_req_retry_after(req, 5000);
        dg_req_fail(req, rc, "disk_full",
                    "the server's disk is full; nothing was saved; writes resume by themselves "
                    "once an administrator frees space");
        break;
    default:
        dg_req_fail(req, rc, "storage_error", "storage error: %s", dg_strerror(rc));
        break;
    }
}

Dangan__V1__SessionInfo *dg_h_session_info(dg_req *req, const dg_session *s)
{
    Dangan__V1__SessionInfo *si = dg_req_alloc(req, sizeof *si);
    Dangan__V1__UserRef *u = dg_req_alloc(req, sizeof *u);

    dangan__v1__session_info__init(si);
    dangan__v1__user_ref__init(u);
    u->id = s->user_id;
    u->username = dg_req_strdup(req, s->username);
    u->role = (Dangan__V1__Role)s->role;
    si->user = u;
    si->created_at_ms = s->created_at;
    si->expires_at_ms = s->expires_at;
    si->idle_timeout_ms = dg_server_config(req->srv)->session_idle_s * 1000u;
    si->must_change_password = s->must_change_password;
    {
        dg_team t;

        dg_server_team(req->srv, &t);
        si->team_time_zone = dg_req_strdup(req, t.time_zone);
    }
    return si;
}

/* A session template for the registry from a user and a stored session row. */
void dg_h_session_from(dg_session *s, const dg_user *u, const dg_session_row *row, int64_t now)
{
    memset(s, 0, sizeof *s);
    s->id = row->id;
    memcpy(s->token_hash, row->token_hash, DG_TOKEN_HASH_LEN);
    s->user_id = u->id;
    snprintf(s->username, sizeof s->username, "%s", u->username);
    s->role = u->role;
    s->must_change_password = u->must_change_password;
    s->created_at = row->created_at;
    s->expires_at = row->expires_at;
    s->last_active_at = now;
    s->persisted_seen_at = now;
}

void dg_h_new_session_row(dg_session_row *row, dg_req *req, int64_t user_id,
                          const uint8_t hash[DG_TOKEN_HASH_LEN], int64_t now)
{
    memset(row, 0, sizeof *row);
    memcpy(row->token_hash, hash, DG_TOKEN_HASH_LEN);
    row->user_id = user_id;
    row->created_at = now;
    row->expires_at = now + (int64_t)dg_server_config(req->srv)->session_absolute_s * 1000;
    snprintf(row->peer, sizeof row->peer, "%s", dg_conn_peer(req->conn));
}

/* Write job body for records that change nothing else (denials). */
void dg_h_audit_only_run(dg_job *job, void *ctx, struct dg_audit_buf *a)
{
    dg_wtx *tx = ctx;

    job->rc = dg_audit_append(tx->store, tx->audit, &a->rec);
}
