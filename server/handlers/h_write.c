/* h_write.c - the write job every write handler uses: see h_write.h.
 * Loop thread, except write_run (writer thread). */
#include "h_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "log.h"

bool dg_write_key_ok(dg_req *req, const char *key)
{
    DG_ASSERT_LOOP_THREAD();
    if (key && strlen(key) > DG_IDEM_KEY_MAX) {
        dg_req_violation(req, "idempotency_key", "at most 128 bytes");
        return false;
    }
    return true;
}

/* Whether a key stored for `stored` may answer `request`. */
static bool idem_request_fits(enum dg_idem_request stored, enum dg_idem_request request)
{
    if (stored == DG_IDEM_ANY_RECORDS)
        return request >= DG_IDEM_CREATE && request <= DG_IDEM_BATCH;
    return stored == request;
}

/* What the first request with this idempotency key answered. DG_OK (a
 * retry: *out holds the first answer, its records in `a`), DG_ENOTFOUND (a
 * new request: go on), DG_ESTATE with m->is_key_reused (the key came with
 * another request: another body, or another kind of request), DG_ECORRUPT
 * with m->is_result_damaged (the stored answer is damaged, or holds other
 * than `n_records` records - the ops of this request; logged), or a store
 * error. Writer thread. */
static int idem_lookup(dg_wtx *tx, int64_t user_id, const char *key, const uint8_t req_hash[32],
                       enum dg_idem_request request, size_t n_records, dg_arena *a,
                       dg_idem_result *out, dg_mutation *m)
{
    int rc = dg_store_idem_get(tx->store, user_id, key, a, out);

    if (rc == DG_OK && (memcmp(out->request_hash, req_hash, 32) != 0 ||
                        !idem_request_fits(out->request, request))) {
        m->is_key_reused = true;
        return DG_ESTATE;
    }
    if (rc == DG_OK && out->n_records != n_records) {
        /* The same request came with another number of ops: never made by us. */
        snprintf(m->why, sizeof m->why, "%zu records stored for %zu ops", out->n_records,
                 n_records);
        rc = DG_ECORRUPT;
    } else if (rc == DG_ECORRUPT) {
        snprintf(m->why, sizeof m->why, "%s", dg_store_errmsg(tx->store));
    }
    if (rc == DG_ECORRUPT) {
        m->is_result_damaged = true;
        dg_log_warn("records",
                    "msg=\"stored idempotency result is damaged\" user_id=%lld why=\"%s\"",
                    (long long)user_id, m->why);
    }
    return rc;
}

/* Answers a failed idem_lookup (a reused key, a damaged answer) and returns
 * true; false when `rc` and `m` are no such failure. Loop thread. */
static bool answer_idem_failure(dg_req *req, int rc, const dg_mutation *m)
{
    if (rc == DG_ESTATE && m->is_key_reused) {
        dg_req_fail(req, DG_ESTATE, "idempotency_key_reused",
                    "this idempotency key was used for a different request");
        return true;
    }
    if (rc == DG_ECORRUPT && m->is_result_damaged) {
        dg_req_fail(req, DG_ECORRUPT, "idempotency_result_damaged",
                    "the stored answer to this idempotency key is damaged, so it cannot be "
                    "replayed; the request was not applied again. An administrator should check "
                    "the database (dangand check)");
        return true;
    }
    return false;
}

static void write_run(dg_job *job, void *ctx)
{
    dg_write_job *w = (dg_write_job *)job;
    dg_wtx *tx = ctx;
    dg_rec_ctx c = {tx, tx->collator, &w->who, w->req->arena, w->now, &w->team, false};
    dg_idem_result first, done = {.request = w->request, .n_records = w->n_records};
    json_t *detail;
    int rc;

    if (w->idem_key[0]) {
        rc = idem_lookup(tx, w->who.user_id, w->idem_key, w->req_hash, w->request, w->n_records,
                         c.arena, &first, &w->m);
        if (rc == DG_OK) {
            w->is_replay = true;
            job->rc = w->ops->replay ? w->ops->replay(w, &c, &first) : DG_OK;
            return;
        }
        if (rc != DG_ENOTFOUND) {
            job->rc = rc;
            return;
        }
    }
    if ((rc = w->ops->run(w, &c)) != DG_OK) {
        job->rc = rc;
        return;
    }
    if (w->ops->detail && (detail = w->ops->detail(w)) &&
        (rc = dg_h_audit_append_json(tx, &w->audit, detail)) != DG_OK) {
        job->rc = rc;
        return;
    }
    if (w->idem_key[0]) {
        memcpy(done.request_hash, w->req_hash, sizeof done.request_hash);
        if ((rc = w->ops->remember(w, &c, &done)) == DG_OK)
            rc = dg_store_idem_put(tx->store, w->who.user_id, w->idem_key, &done, w->now);
    }
    job->rc = rc;
}

static void write_free(dg_write_job *w)
{
    dg_h_audit_fini(&w->audit);
    if (w->ops->free)
        w->ops->free(w);
    else
        free(w);
}

static void write_done(dg_job *job)
{
    dg_write_job *w = (dg_write_job *)job;

    if (job->rc == DG_OK)
        w->ops->answer(w);
    else if (answer_idem_failure(w->req, job->rc, &w->m))
        ; /* a reused key, or a damaged stored answer */
    else if (w->ops->answer_failure)
        w->ops->answer_failure(w, job->rc);
    else
        dg_h_answer_failed_write(w->req, job->rc, &w->m, w->entity, w->entity_id);
    write_free(w);
}

void dg_write_job_init(dg_write_job *w, const dg_write_ops *ops, dg_req *req,
                       enum dg_idem_request request, const ProtobufCMessage *body,
                       const char *idem_key, const char *entity, int64_t entity_id)
{
    const dg_session *s = dg_conn_session(req->conn);

    DG_ASSERT_LOOP_THREAD();
    w->ops = ops;
    w->req = req;
    w->request = request;
    snprintf(w->username, sizeof w->username, "%s", s->username);
    snprintf(w->peer, sizeof w->peer, "%s", dg_conn_peer(req->conn));
    w->who =
        (dg_actor){s->user_id, w->username, w->peer, s->role, dg_server_restricted_tiers(req->srv)};
    w->now = dg_now_ms();
    dg_server_team(req->srv, &w->team);
    snprintf(w->idem_key, sizeof w->idem_key, "%s", idem_key ? idem_key : "");
    if (w->idem_key[0])
        dg_h_request_hash(req, body, w->req_hash);
    w->entity = entity;
    w->entity_id = entity_id;
    if (ops->detail)
        dg_h_audit_fill(&w->audit, req, s->user_id, s->username, entity, entity_id, "ok", NULL);
    w->job.run = write_run;
    w->job.done = write_done;
}

void dg_write_job_submit(dg_write_job *w)
{
    dg_req *req = w->req;
    int rc = w->may_skip_sync ? dg_server_write_record_of_read(req->srv, &w->job)
                              : dg_server_write(req->srv, &w->job);

    DG_ASSERT_LOOP_THREAD();
    if (rc != DG_OK) {
        write_free(w);
        dg_h_fail_job(req, rc);
    }
}
