/* h_tiers.c - Tiers (the ABC suggestion, a page at a time) and TiersApply
 * (the suggestion applied in one transaction), for managers and admins
 * (perm.c; refusals are audited by dispatch).
 *
 * Tiers is a read job: the whole ranking is computed for each page
 * (tiers.c), and the page is cut from it by rank; the cursor is the rank
 * to go on from ("r" and a number), so a ranking that moves between pages
 * may show a customer twice or not at all. Each answered page is audited.
 * TiersApply is a write job: the ranking is computed again inside the
 * writer's transaction, and every customer whose tier differs is updated
 * there (tiers.c), with one audit record for the request.
 * Loop thread, except tiers_run (a reader) and apply_run (the writer).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "record_pb.h"
#include "tiers.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

struct tiers_read {
    dg_job job;
    dg_req *req;
    dg_team team;
    dg_perm_who who;
    int64_t now;
    size_t from, limit; /* the page: ranks from+1 .. from+limit of those listed */
    bool changes_only;
    dg_tiers t;
    dg_tier_row *page; /* copies of the page's rows, in rank order (request arena) */
    size_t n_page;
    dg_record **customers; /* the page's customers, for code and name */
    size_t *ranks;         /* 1-based rank of each page row */
    bool has_more;
};

/* ------------------------------------------------------------ Tiers (reader) */

static int cut_page(dg_store *st, struct tiers_read *r)
{
    dg_arena *a = r->req->arena;
    size_t seen = 0;
    int rc;

    r->page = dg_arena_calloc(a, r->limit, sizeof *r->page);
    r->ranks = dg_arena_calloc(a, r->limit, sizeof *r->ranks);
    r->customers = dg_arena_calloc(a, r->limit, sizeof *r->customers);
    if (!r->page || !r->ranks || !r->customers)
        return DG_ENOMEM;
    for (size_t i = 0; i < r->t.n; i++) {
        if (r->changes_only && r->t.rows[i].suggested == r->t.rows[i].tier)
            continue;
        if (seen++ < r->from)
            continue;
        if (r->n_page == r->limit) {
            r->has_more = true;
            break;
        }
        r->ranks[r->n_page] = i + 1;
        r->page[r->n_page++] = r->t.rows[i];
    }
    for (size_t i = 0; i < r->n_page; i++)
        if ((rc = dg_store_rec_get(st, DG_KIND_CUSTOMER, r->page[i].customer_id, a,
                                   &r->customers[i])) != DG_OK)
            return rc;
    return DG_OK;
}

static void tiers_run(dg_job *job, void *ctx)
{
    struct tiers_read *r = (struct tiers_read *)job;
    dg_store *st = ctx;
    int rc;

    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    rc = dg_tiers_compute(st, &r->team, &r->who, r->now, &r->t);
    if (rc == DG_OK)
        rc = cut_page(st, r);
    dg_store_read_end(st);
    job->rc = rc;
}

/* ------------------------------------------------------------ Tiers (answer) */

static Dangan__V1__Money *money_pb(dg_req *req, int64_t amount, const char *currency)
{
    Dangan__V1__Money *m = dg_req_alloc(req, sizeof *m);

    dangan__v1__money__init(m);
    m->amount_minor = amount;
    m->currency = dg_req_strdup(req, currency);
    return m;
}

static Dangan__V1__TierSuggestion *suggestion_pb(struct tiers_read *r, size_t i)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    Dangan__V1__TierSuggestion *p = dg_req_alloc(r->req, sizeof *p);

    dangan__v1__tier_suggestion__init(p);
    p->customer_id = r->page[i].customer_id;
    p->code = (char *)r->customers[i]->v[dg_entity_field_index(e, "code")].s;
    p->name = (char *)r->customers[i]->v[dg_entity_field_index(e, "name")].s;
    p->current = (Dangan__V1__Tier)r->page[i].tier;
    p->suggested = (Dangan__V1__Tier)r->page[i].suggested;
    p->revenue = money_pb(r->req, r->page[i].revenue, r->team.currency);
    p->rank = (uint32_t)r->ranks[i];
    return p;
}

static void tiers_done(dg_job *job)
{
    struct tiers_read *r = (struct tiers_read *)job;
    dg_req *req = r->req;
    Dangan__V1__TiersResponse *b;

    if (job->rc != DG_OK) {
        if (job->rc == DG_EINVAL)
            dg_req_fail(req, DG_ESTATE, "failed_precondition",
                        "the team's time zone %s cannot be used", r->team.time_zone);
        else
            dg_h_fail_job(req, job->rc);
        dg_tiers_fini(&r->t);
        free(r);
        return;
    }
    b = dg_req_alloc(req, sizeof *b);
    dangan__v1__tiers_response__init(b);
    b->customers = dg_req_alloc(req, (r->n_page ? r->n_page : 1) * sizeof *b->customers);
    for (size_t i = 0; i < r->n_page; i++)
        b->customers[i] = suggestion_pb(r, i);
    b->n_customers = r->n_page;
    b->next_cursor = r->has_more ? dg_req_printf(req, "r%zu", r->from + r->n_page) : "";
    b->totals = dg_req_alloc(req, 3 * sizeof *b->totals);
    for (int tier = 1; tier <= 3; tier++) {
        Dangan__V1__TierTotal *t = dg_req_alloc(req, sizeof *t);

        dangan__v1__tier_total__init(t);
        t->tier = (Dangan__V1__Tier)tier;
        t->current = r->t.current[tier];
        t->suggested = r->t.suggested[tier];
        t->revenue = money_pb(req, r->t.revenue[tier], r->team.currency);
        b->totals[b->n_totals++] = t;
    }
    b->ranked = (uint32_t)r->t.n;
    b->changes = r->t.changes;
    b->window_start_ms = r->t.from_ms;
    b->window_end_ms = r->t.to_ms;
    b->currency = dg_req_strdup(req, r->team.currency);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_TIERS;
    req->resp.tiers = b;
    /* a page names customers of every owner and tier, with their revenue */
    dg_h_audit_then_reply(req, "customer", 0,
                          json_pack("{s:s,s:I,s:I,s:b}", "read", "tiers", "customers",
                                    (json_int_t)r->n_page, "ranked", (json_int_t)r->t.n,
                                    "changes_only", r->changes_only));
    dg_tiers_fini(&r->t);
    free(r);
}

/* A cursor: "r" and the number of customers listed before the page. */
static bool cursor_parse(const char *text, size_t *from)
{
    char *end;
    unsigned long long v;

    if (text[0] != 'r' || text[1] < '0' || text[1] > '9')
        return false;
    v = strtoull(text + 1, &end, 10);
    if (*end || v > UINT32_MAX)
        return false;
    *from = (size_t)v;
    return true;
}

void dg_h_tiers(dg_req *req)
{
    const Dangan__V1__TiersRequest *m = req->msg->tiers;
    size_t from = 0;
    struct tiers_read *r;
    int rc;

    if (m->limit > PAGE_MAX)
        dg_req_violation(req, "limit", "at most 1000");
    if (m->cursor[0] && !cursor_parse(m->cursor, &from))
        dg_req_violation(req, "cursor", "not a cursor from a previous page");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    r = dg_xcalloc(1, sizeof *r);
    r->req = req;
    dg_server_team(req->srv, &r->team);
    r->who = dg_h_who(req);
    r->now = dg_now_ms();
    r->from = from;
    r->limit = m->limit ? m->limit : PAGE_DEFAULT;
    r->changes_only = m->changes_only;
    r->job.run = tiers_run;
    r->job.done = tiers_done;
    if ((rc = dg_server_read(req->srv, &r->job)) != DG_OK) {
        free(r);
        dg_h_fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ TiersApply */

struct apply {
    dg_write_job w; /* first: the job */
    uint32_t changed, ranked;
};

static int apply_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct apply *a = (struct apply *)w;

    return dg_tiers_apply(c, &a->changed, &a->ranked, &w->m);
}

static int apply_replay(dg_write_job *w, dg_rec_ctx *c, const dg_idem_result *first)
{
    struct apply *a = (struct apply *)w;

    DG_UNUSED(c);
    a->changed = first->customers;
    a->ranked = first->moved;
    return DG_OK;
}

static json_t *apply_detail(dg_write_job *w)
{
    struct apply *a = (struct apply *)w;

    return json_pack("{s:I,s:I}", "changed", (json_int_t)a->changed, "ranked",
                     (json_int_t)a->ranked);
}

static int apply_remember(dg_write_job *w, dg_rec_ctx *c, dg_idem_result *out)
{
    struct apply *a = (struct apply *)w;

    DG_UNUSED(c);
    out->customers = a->changed;
    out->moved = a->ranked;
    return DG_OK;
}

static void apply_answer(dg_write_job *w)
{
    struct apply *a = (struct apply *)w;
    dg_req *req = w->req;
    Dangan__V1__TiersApplyResponse *b = dg_req_alloc(req, sizeof *b);

    dangan__v1__tiers_apply_response__init(b);
    b->changed = a->changed;
    b->ranked = a->ranked;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_TIERS_APPLY;
    req->resp.tiers_apply = b;
    dg_req_reply(req);
}

static void apply_answer_failure(dg_write_job *w, int rc)
{
    if (rc == DG_EINVAL && !w->m.field[0])
        dg_req_fail(w->req, DG_ESTATE, "failed_precondition",
                    "the team's time zone %s cannot be used", w->team.time_zone);
    else
        dg_h_answer_failed_write(w->req, rc, &w->m, "customer", 0);
}

static const dg_write_ops apply_ops = {
    .run = apply_run,
    .replay = apply_replay,
    .detail = apply_detail,
    .remember = apply_remember,
    .answer = apply_answer,
    .answer_failure = apply_answer_failure,
};

void dg_h_tiers_apply(dg_req *req)
{
    const Dangan__V1__TiersApplyRequest *m = req->msg->tiers_apply;
    struct apply *a;

    if (!dg_write_key_ok(req, m->idempotency_key)) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "idempotency_key is too long");
        return;
    }
    a = dg_xcalloc(1, sizeof *a);
    dg_write_job_init(&a->w, &apply_ops, req, DG_IDEM_TIERS_APPLY, &m->base, m->idempotency_key,
                      "customer", 0);
    a->w.job.is_alone = true; /* it may change every customer: a transaction of its own */
    dg_write_job_submit(&a->w);
}
