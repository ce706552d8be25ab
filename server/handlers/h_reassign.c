/* h_reassign.c - Reassign: hand customers over to another owner (离职交接).
 *
 * Managers and admins (perm.c). One write job: it picks the customers (the
 * chosen ones, or all that from_user owns, archived ones too), changes each
 * one's owner through dg_rec_update - so each gets its change row, its audit
 * record and the permission checks of any update - moves their open tasks
 * assigned to the previous owner the same way, and appends one audit record
 * for the hand-over as a whole. All of it commits together or not at all.
 * Loop thread, except reassign_run (writer thread).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "records.h"
#include "users.h"

#define MAX_CUSTOMERS 10000
#define TASKS_PAGE 1000
#define LIST_BUDGET (256u << 20)   /* up to MAX_CUSTOMERS full records, briefly */
#define SCRATCH_BUDGET (64u << 20) /* one customer and a page of its tasks */

struct reassign {
    dg_write_job w;     /* first: the job */
    const int64_t *ids; /* chosen customers (in the request), or NULL */
    size_t n_ids;
    int64_t from_id, to_id;
    char from_name[DG_USERNAME_MAX + 1], to_name[DG_USERNAME_MAX + 1];
    bool keep_tasks;
    uint32_t n_customers, n_tasks;
};

/* ------------------------------------------------------------ writer */

/* Every customer from_id owns, archived ones included. */
static int owned_by(dg_store *st, int64_t owner, int64_t **ids, size_t *n)
{
    dg_list_query q = {.kind = DG_KIND_CUSTOMER,
                       .owner_id = owner,
                       .include_archived = true,
                       .limit = MAX_CUSTOMERS + 1};
    dg_arena *a = dg_arena_new(LIST_BUDGET); /* the records, only until their ids are copied */
    dg_list_page page;
    int rc = dg_store_rec_list(st, &q, a, &page);

    if (rc == DG_OK && page.n > MAX_CUSTOMERS)
        rc = DG_ETOOBIG;
    if (rc == DG_OK) {
        *ids = dg_xcalloc(page.n ? page.n : 1, sizeof **ids);
        for (size_t i = 0; i < page.n; i++)
            (*ids)[i] = page.records[i]->id;
        *n = page.n;
    }
    dg_arena_free(a);
    return rc;
}

/* Sets one USER field of record (kind, id) to `user` through dg_rec_update. */
static int set_user_field(dg_rec_ctx *c, enum dg_kind kind, int64_t id, const char *field,
                          int64_t user, dg_mutation *m, bool *changed)
{
    const char *mask[] = {field};
    dg_record *cur, *patch;
    int rc = dg_store_rec_get(c->tx->store, kind, id, c->arena, &cur);

    if (rc != DG_OK)
        return rc;
    if (!(patch = dg_record_new(c->arena, kind)))
        return DG_ENOMEM;
    patch->id = id;
    patch->v[dg_entity_field_index(dg_entity_get(kind), field)].i = user;
    rc = dg_rec_update(c, patch, mask, 1, cur->version, m);
    *changed = rc == DG_OK && m->seq != 0;
    return rc;
}

/* Open tasks of `customer` assigned to `from` move to `to`. */
static int move_tasks(dg_rec_ctx *c, struct reassign *r, int64_t customer, int64_t from)
{
    dg_list_query q = {.kind = DG_KIND_TASK,
                       .customer_id = customer,
                       .assignee_id = from,
                       .open_only = true,
                       .limit = TASKS_PAGE};
    dg_list_page page;
    bool changed;
    int rc;

    do {
        if ((rc = dg_store_rec_list(c->tx->store, &q, c->arena, &page)) != DG_OK)
            return rc;
        for (size_t i = 0; i < page.n; i++) {
            rc = set_user_field(c, DG_KIND_TASK, page.records[i]->id, "assignee", r->to_id, &r->w.m,
                                &changed);
            if (rc != DG_OK)
                return rc;
            r->n_tasks += changed;
        }
        /* moved tasks leave the filter: the next page starts again from the top */
    } while (page.has_more);
    return DG_OK;
}

/* One customer and its open tasks, with a scratch arena of its own: a
 * hand-over of thousands of customers must not pile up their records. */
static int hand_over_one(dg_rec_ctx *job_ctx, struct reassign *r, int64_t id)
{
    dg_rec_ctx c = *job_ctx;
    dg_record *cust;
    int64_t before;
    bool changed;
    int rc;

    c.arena = dg_arena_new(SCRATCH_BUDGET);
    rc = dg_store_rec_get(c.tx->store, DG_KIND_CUSTOMER, id, c.arena, &cust);
    if (rc == DG_ENOTFOUND ||
        (rc == DG_OK &&
         !dg_perm_sees(&(dg_perm_who){r->w.who.user_id, r->w.who.role, r->w.who.restricted},
                       dg_customer_owner(cust), dg_customer_tier(cust)))) {
        /* one hidden from the actor is answered as a missing one, archived
         * or not; only its attempt is audited */
        memset(&r->w.m, 0, sizeof r->w.m);
        r->w.m.is_hidden = rc == DG_OK;
        rc = DG_ENOTFOUND;
    }
    /* archived records do not change; restore one first to hand it over */
    if (rc == DG_OK && !cust->is_archived) {
        before = cust->v[dg_entity_field_index(dg_entity_get(DG_KIND_CUSTOMER), "owner")].i;
        rc = set_user_field(&c, DG_KIND_CUSTOMER, id, "owner", r->to_id, &r->w.m, &changed);
        r->n_customers += rc == DG_OK && changed;
        if (rc == DG_OK && !r->keep_tasks && before && before != r->to_id)
            rc = move_tasks(&c, r, id, before);
    }
    dg_arena_free(c.arena); /* r->m keeps only its fixed-size texts from it */
    return rc;
}

static int hand_over(dg_rec_ctx *c, struct reassign *r)
{
    int64_t *owned = NULL;
    size_t n = r->n_ids;
    int rc = DG_OK;

    if (!r->ids && (rc = owned_by(c->tx->store, r->from_id, &owned, &n)) != DG_OK)
        return rc;
    for (size_t i = 0; i < n && rc == DG_OK; i++)
        rc = hand_over_one(c, r, r->ids ? r->ids[i] : owned[i]);
    free(owned);
    return rc;
}

static int reassign_run(dg_write_job *w, dg_rec_ctx *c)
{
    return hand_over(c, (struct reassign *)w);
}

/* A retry: the first answer's counts. */
static int reassign_replay(dg_write_job *w, dg_rec_ctx *c, const dg_idem_result *first)
{
    struct reassign *r = (struct reassign *)w;

    DG_UNUSED(c);
    r->n_customers = first->customers;
    r->n_tasks = first->tasks;
    return DG_OK;
}

static json_t *reassign_detail(dg_write_job *w)
{
    struct reassign *r = (struct reassign *)w;

    return json_pack("{s:s,s:s,s:I,s:I,s:b}", "from", r->from_name, "to", r->to_name, "customers",
                     (json_int_t)r->n_customers, "tasks", (json_int_t)r->n_tasks, "chosen",
                     r->ids != NULL);
}

static int reassign_remember(dg_write_job *w, dg_rec_ctx *c, dg_idem_result *out)
{
    struct reassign *r = (struct reassign *)w;

    DG_UNUSED(c);
    out->customers = r->n_customers;
    out->tasks = r->n_tasks;
    return DG_OK;
}

/* ------------------------------------------------------------ loop */

static void reassign_answer(dg_write_job *w)
{
    struct reassign *r = (struct reassign *)w;
    dg_req *req = w->req;
    Dangan__V1__ReassignResponse *res = dg_req_alloc(req, sizeof *res);

    dangan__v1__reassign_response__init(res);
    res->customers = r->n_customers;
    res->tasks = r->n_tasks;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_REASSIGN;
    req->resp.reassign = res;
    dg_req_reply(req);
}

static void reassign_answer_failure(dg_write_job *w, int rc)
{
    struct reassign *r = (struct reassign *)w;

    if (rc == DG_ETOOBIG)
        dg_req_fail(w->req, DG_EINVAL, "too_many",
                    "%s owns more than %d customers: hand them over in parts", r->from_name,
                    MAX_CUSTOMERS);
    else
        dg_h_answer_failed_write(w->req, rc, &w->m, "customer", 0);
}

static const dg_write_ops reassign_ops = {
    .run = reassign_run,
    .replay = reassign_replay,
    .detail = reassign_detail,
    .remember = reassign_remember,
    .answer = reassign_answer,
    .answer_failure = reassign_answer_failure,
};

/* A user by name (enabled ones only, unless `may_be_disabled`), or a
 * violation of `field`. */
static const dg_user_info *user_named(dg_req *req, const char *field, const char *name,
                                      bool may_be_disabled)
{
    const dg_user_info *u = dg_users_by_name(dg_server_users(req->srv), name);

    if (!u || (u->is_disabled && !may_be_disabled)) {
        dg_req_violation(req, field, may_be_disabled ? "no such user" : "no such (enabled) user");
        return NULL;
    }
    return u;
}

void dg_h_reassign(dg_req *req)
{
    const Dangan__V1__ReassignRequest *m = req->msg->reassign;
    const dg_user_info *from = NULL, *to = NULL;
    struct reassign *r;

    if (m->n_customer_ids == 0 && !m->from_user[0])
        dg_req_violation(req, "customer_ids", "name customers, or from_user for all they own");
    if (m->n_customer_ids && m->from_user[0])
        dg_req_violation(req, "from_user", "either customer_ids or from_user, not both");
    if (m->n_customer_ids > MAX_CUSTOMERS)
        dg_req_violation(req, "customer_ids", "at most 10000");
    for (size_t i = 0; i < m->n_customer_ids; i++)
        if (m->customer_ids[i] <= 0) {
            dg_req_violation(req, "customer_ids", "ids are positive");
            break;
        }
    if (m->from_user[0] && !m->n_customer_ids)
        from =
            user_named(req, "from_user", m->from_user, true); /* a leaver is often disabled first */
    to = user_named(req, "to_user", m->to_user, false);
    if (to && to->role != DG_ROLE_SALES && to->role != DG_ROLE_MANAGER && to->role != DG_ROLE_ADMIN)
        dg_req_violation(req, "to_user", "owners are sales, managers or admins");
    (void)dg_write_key_ok(req, m->idempotency_key); /* adds its violation */
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    r = dg_xcalloc(1, sizeof *r);
    r->ids = m->n_customer_ids ? m->customer_ids : NULL;
    r->n_ids = m->n_customer_ids;
    r->from_id = from ? from->id : 0;
    snprintf(r->from_name, sizeof r->from_name, "%s", from ? from->username : "");
    r->to_id = to->id;
    snprintf(r->to_name, sizeof r->to_name, "%s", to->username);
    r->keep_tasks = m->keep_tasks;
    /* the hand-over's own record names the new owner */
    dg_write_job_init(&r->w, &reassign_ops, req, DG_IDEM_REASSIGN, &m->base, m->idempotency_key,
                      "user", r->to_id);
    dg_write_job_submit(&r->w);
}
