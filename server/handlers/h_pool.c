/* h_pool.c - PoolClaim and PoolRelease: the public pool's write requests
 * (claims.h does the work in the writer's transaction). A claim lost to
 * someone faster, or refused at the team's limit, is answered
 * FAILED_PRECONDITION and audited as denied; the loser is told who holds the
 * customer now. PoolList is a list (h_query.c).
 * Loop thread, except the *_run functions (writer thread).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "record_pb.h"
#include "users.h"

struct pool_job {
    dg_write_job w; /* first: the job */
    bool is_claim;
    int64_t id;
    char code[64];
    int max_claims;
    int64_t holder, claimed;
    char holder_name[DG_USERNAME_MAX + DG_DISPLAY_NAME_MAX * 4 + 8];
};

/* ------------------------------------------------------------ writer */

static int pool_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct pool_job *p = (struct pool_job *)w;
    dg_record *byc;
    dg_user u;
    int rc;

    if (p->code[0]) {
        rc = dg_store_customer_by_code(c->tx->store, p->code, c->arena, &byc);
        if (rc == DG_ENOTFOUND) {
            snprintf(w->m.field, sizeof w->m.field, "code");
            snprintf(w->m.why, sizeof w->m.why, "no such customer");
            return rc;
        }
        if (rc != DG_OK)
            return rc;
        p->id = byc->id;
    }
    w->entity_id = p->id;
    w->audit.rec.entity_id = p->id;
    if (!p->is_claim)
        return dg_pool_release(c, p->id, &w->m);
    rc = dg_pool_claim(c, p->id, p->max_claims, &w->m, &p->holder, &p->claimed);
    if (rc == DG_ESTATE && p->holder && dg_store_user_by_id(c->tx->store, p->holder, &u) == DG_OK)
        snprintf(p->holder_name, sizeof p->holder_name, "%s (%s)",
                 u.display_name[0] ? u.display_name : u.username, u.username);
    return rc;
}

static json_t *pool_detail(dg_write_job *w)
{
    struct pool_job *p = (struct pool_job *)w;

    if (!p->is_claim) /* the owner change's own record has the owner before and after */
        return json_pack("{s:b}", "released", true);
    return json_pack("{s:I,s:I}", "claimed", (json_int_t)p->claimed, "max_claims",
                     (json_int_t)p->max_claims);
}

/* ------------------------------------------------------------ loop */

static void pool_answer(dg_write_job *w)
{
    struct pool_job *p = (struct pool_job *)w;
    dg_req *req = w->req;
    dg_perm_who who = dg_h_who(req);
    dg_record *r = w->m.record;
    Dangan__V1__Customer *cust = NULL;

    if (r && dg_perm_mask_record(&who, dg_customer_owner(r), r, req->arena) == DG_OK)
        cust = dg_record_to_pb(req, r)->customer;
    if (p->is_claim) {
        Dangan__V1__PoolClaimResponse *res = dg_req_alloc(req, sizeof *res);

        dangan__v1__pool_claim_response__init(res);
        res->customer = cust;
        res->claimed = (uint32_t)p->claimed;
        res->max_claims = (uint32_t)(p->max_claims > 0 ? p->max_claims : 0);
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_POOL_CLAIM;
        req->resp.pool_claim = res;
    } else {
        Dangan__V1__PoolReleaseResponse *res = dg_req_alloc(req, sizeof *res);

        dangan__v1__pool_release_response__init(res);
        res->customer = cust;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_POOL_RELEASE;
        req->resp.pool_release = res;
    }
    dg_req_reply(req);
}

static void pool_answer_failure(dg_write_job *w, int rc)
{
    struct pool_job *p = (struct pool_job *)w;
    const char *reason = w->m.reason;
    char msg[720];

    if (rc == DG_ESTATE && reason && strcmp(reason, "already_claimed") == 0) {
        snprintf(msg, sizeof msg, "already claimed: %s holds this customer now",
                 p->holder_name[0] ? p->holder_name : "another user");
        dg_h_refuse_detail(
            w->req, DG_ESTATE, "customer", p->id,
            json_pack("{s:s,s:I}", "reason", reason, "holder", (json_int_t)p->holder), reason, msg);
    } else if (rc == DG_ESTATE && reason) {
        dg_h_refuse_detail(w->req, DG_ESTATE, "customer", p->id, dg_h_reason_detail(reason), reason,
                           w->m.why);
    } else {
        dg_h_answer_failed_write(w->req, rc, &w->m, "customer", p->id);
    }
}

static const dg_write_ops pool_ops = {
    .run = pool_run,
    .detail = pool_detail,
    .answer = pool_answer,
    .answer_failure = pool_answer_failure,
};

static void submit(dg_req *req, bool is_claim, int64_t id, const char *code)
{
    struct pool_job *p;
    dg_team team;

    if (id <= 0 && !code[0]) {
        dg_req_violation(req, "customer_id", "name a customer by id or code");
        dg_req_fail(req, DG_EINVAL, "invalid_argument",
                    "customer_id: name a customer by id or code");
        return;
    }
    p = dg_xcalloc(1, sizeof *p);
    p->is_claim = is_claim;
    p->id = id;
    snprintf(p->code, sizeof p->code, "%s", code);
    dg_server_team(req->srv, &team);
    p->max_claims = team.pool_max_claims;
    /* claims have no idempotency key: claiming one's own customer again is harmless */
    dg_write_job_init(&p->w, &pool_ops, req, DG_IDEM_CREATE, NULL, NULL, "customer", id);
    dg_write_job_submit(&p->w);
}

void dg_h_pool_claim(dg_req *req)
{
    const Dangan__V1__PoolClaimRequest *m = req->msg->pool_claim;

    submit(req, true, m->customer_id, m->code);
}

void dg_h_pool_release(dg_req *req)
{
    const Dangan__V1__PoolReleaseRequest *m = req->msg->pool_release;

    submit(req, false, m->customer_id, m->code);
}
