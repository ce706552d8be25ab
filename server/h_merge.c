/* h_merge.c - Merge: two files of one customer become one.
 *
 * Managers and admins (perm.c). One write job moves every child record of
 * the dropped customer into the kept one's dossier through dg_rec_move (each
 * with its change row and audit record), archives the dropped customer
 * (restorable, and its history stays), and writes one audit record for the
 * merge. All of it commits together or not at all. Loop thread, except
 * merge_run (writer thread).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "h_common.h"
#include "h_record_pb.h"
#include "handlers.h"
#include "records.h"

#define PAGE 1000
#define SCRATCH_BUDGET (64u << 20) /* one page of records and their moves */
#define IDEM_KEY_MAX 128

static const enum dg_kind child_kinds[] = {DG_KIND_CONTACT, DG_KIND_INTERACTION, DG_KIND_DEAL,
                                           DG_KIND_FEEDBACK, DG_KIND_TASK};

struct merge {
    dg_job job;
    dg_req *req;
    dg_actor who;
    char username[DG_USERNAME_MAX + 1];
    char peer[DG_PEER_MAX];
    int64_t now;
    int64_t keep_id, drop_id;
    char idem_key[IDEM_KEY_MAX + 1];
    uint8_t req_hash[32];
    uint32_t moved;
    dg_record *keep; /* after the merge, for the reply */
    dg_mutation m;   /* the failing step, for the answer */
    struct dg_audit_buf audit;
};

/* Moves every record of `kind` from drop to keep; moved rows leave the
 * filter, so each page starts from the top again. */
static int move_all(dg_rec_ctx *job_ctx, struct merge *g, enum dg_kind kind)
{
    dg_list_query q = {
        .kind = kind, .customer_id = g->drop_id, .include_archived = true, .limit = PAGE};
    dg_rec_ctx c = *job_ctx;
    dg_list_page page;
    int rc;

    do { /* a scratch arena per page: a big dossier must not pile up its records */
        c.arena = dg_arena_new(SCRATCH_BUDGET);
        rc = dg_store_rec_list(c.tx->store, &q, c.arena, &page);
        for (size_t i = 0; rc == DG_OK && i < page.n; i++) {
            rc = dg_rec_move(&c, kind, page.records[i]->id, g->keep_id, &g->m);
            g->moved += rc == DG_OK;
        }
        dg_arena_free(c.arena); /* g->m keeps only its fixed-size texts from it */
    } while (rc == DG_OK && page.n > 0 && page.has_more);
    return rc;
}

static int merge_all(dg_rec_ctx *c, struct merge *g)
{
    int rc;

    /* Both must be live customers the actor may change; one hidden from the
     * actor is refused as a missing one, before anything else is said of it. */
    if ((rc = dg_rec_check_customer(c, g->keep_id, &g->m)) != DG_OK) {
        if (g->m.field[0])
            snprintf(g->m.field, sizeof g->m.field, "keep_id");
        return rc;
    }
    if ((rc = dg_rec_check_customer(c, g->drop_id, &g->m)) != DG_OK) {
        if (g->m.field[0])
            snprintf(g->m.field, sizeof g->m.field, "drop_id");
        if (rc == DG_ESTATE)
            snprintf(g->m.why, sizeof g->m.why, "that customer is archived (merged already?)");
        return rc;
    }
    for (size_t k = 0; k < DG_ARRAY_LEN(child_kinds); k++)
        if ((rc = move_all(c, g, child_kinds[k])) != DG_OK) {
            if (!strcmp(g->m.field, "assignee")) /* a task of the dropped one */
                snprintf(g->m.field, sizeof g->m.field, "drop_id");
            return rc;
        }
    if ((rc = dg_rec_set_archived(c, DG_KIND_CUSTOMER, g->drop_id, 0, true, &g->m)) != DG_OK)
        return rc;
    return dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, g->keep_id, c->arena, &g->keep);
}

static void merge_run(dg_job *job, void *ctx)
{
    struct merge *g = (struct merge *)job;
    dg_wtx *tx = ctx;
    dg_rec_ctx c = {tx, tx->collator, &g->who, g->req->arena, g->now};
    dg_idem_result first;
    json_t *detail;
    int rc;

    if (g->idem_key[0]) {
        rc = dg_h_idem_lookup(tx, g->who.user_id, g->idem_key, g->req_hash, DG_IDEM_MERGE, 0,
                              c.arena, &first, &g->m);
        if (rc == DG_OK) { /* a retry: answer with the kept record as it is now */
            g->moved = first.moved;
            job->rc = dg_store_rec_get(tx->store, DG_KIND_CUSTOMER, g->keep_id, c.arena, &g->keep);
            return;
        }
        if (rc != DG_ENOTFOUND) {
            job->rc = rc;
            return;
        }
    }
    if ((job->rc = merge_all(&c, g)) != DG_OK)
        return;
    detail = json_pack("{s:I,s:I,s:I}", "keep_id", (json_int_t)g->keep_id, "drop_id",
                       (json_int_t)g->drop_id, "moved", (json_int_t)g->moved);
    if ((job->rc = dg_h_audit_append_json(tx, &g->audit, detail)) != DG_OK)
        return;
    if (g->idem_key[0]) {
        dg_idem_result done = {.request = DG_IDEM_MERGE, .moved = g->moved};

        memcpy(done.request_hash, g->req_hash, sizeof done.request_hash);
        job->rc = dg_store_idem_put(tx->store, g->who.user_id, g->idem_key, &done, g->now);
    }
}

static void merge_free(struct merge *g)
{
    dg_h_audit_fini(&g->audit);
    free(g);
}

static void merge_done(dg_job *job)
{
    struct merge *g = (struct merge *)job;
    dg_req *req = g->req;
    Dangan__V1__MergeResponse *res;

    if (job->rc == DG_OK) {
        res = dg_req_alloc(req, sizeof *res);
        dangan__v1__merge_response__init(res);
        res->keep = dg_h_record_to_pb(req, g->keep);
        res->moved = g->moved;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_MERGE;
        req->resp.merge = res;
        dg_req_reply(req);
    } else {
        dg_h_answer_failed_write(req, job->rc, &g->m, "customer", g->drop_id);
    }
    merge_free(g);
}

void dg_h_merge(dg_req *req)
{
    const Dangan__V1__MergeRequest *m = req->msg->merge;
    const dg_session *s = dg_conn_session(req->conn);
    struct merge *g;
    int rc;

    if (m->keep_id <= 0)
        dg_req_violation(req, "keep_id", "required");
    if (m->drop_id <= 0)
        dg_req_violation(req, "drop_id", "required");
    else if (m->drop_id == m->keep_id)
        dg_req_violation(req, "drop_id", "a customer cannot be merged into itself");
    if (strlen(m->idempotency_key) > IDEM_KEY_MAX)
        dg_req_violation(req, "idempotency_key", "at most 128 bytes");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    g = dg_xcalloc(1, sizeof *g);
    g->req = req;
    snprintf(g->username, sizeof g->username, "%s", s->username);
    snprintf(g->peer, sizeof g->peer, "%s", dg_conn_peer(req->conn));
    g->who =
        (dg_actor){s->user_id, g->username, g->peer, s->role, dg_server_restricted_tiers(req->srv)};
    g->now = dg_now_ms();
    g->keep_id = m->keep_id;
    g->drop_id = m->drop_id;
    snprintf(g->idem_key, sizeof g->idem_key, "%s", m->idempotency_key);
    if (g->idem_key[0])
        dg_h_request_hash(req, &m->base, g->req_hash);
    dg_h_audit_fill(&g->audit, req, s->user_id, s->username, "customer", m->keep_id, "ok", NULL);
    g->job.run = merge_run;
    g->job.done = merge_done;
    if ((rc = dg_server_write(req->srv, &g->job)) != DG_OK) {
        merge_free(g);
        dg_h_fail_job(req, rc);
    }
}
