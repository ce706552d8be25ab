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
#include "record_pb.h"
#include "h_write.h"
#include "handlers.h"
#include "records.h"

#define PAGE 1000
#define SCRATCH_BUDGET (64u << 20) /* one page of records and their moves */

static const enum dg_kind child_kinds[] = {DG_KIND_CONTACT, DG_KIND_INTERACTION, DG_KIND_DEAL,
                                           DG_KIND_FEEDBACK, DG_KIND_TASK};

struct merge {
    dg_write_job w; /* first: the job */
    int64_t keep_id, drop_id;
    uint32_t moved;
    dg_record *keep; /* after the merge, for the reply */
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
            rc = dg_rec_move(&c, kind, page.records[i]->id, g->keep_id, &g->w.m);
            g->moved += rc == DG_OK;
        }
        dg_arena_free(c.arena); /* g->w.m keeps only its fixed-size texts from it */
    } while (rc == DG_OK && page.n > 0 && page.has_more);
    return rc;
}

static int merge_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct merge *g = (struct merge *)w;
    int rc;

    /* Both must be live customers the actor may change; one hidden from the
     * actor is refused as a missing one, before anything else is said of it. */
    if ((rc = dg_rec_check_customer(c, g->keep_id, &w->m)) != DG_OK) {
        if (w->m.field[0])
            snprintf(w->m.field, sizeof w->m.field, "keep_id");
        return rc;
    }
    if ((rc = dg_rec_check_customer(c, g->drop_id, &w->m)) != DG_OK) {
        if (w->m.field[0])
            snprintf(w->m.field, sizeof w->m.field, "drop_id");
        if (rc == DG_ESTATE)
            snprintf(w->m.why, sizeof w->m.why, "that customer is archived (merged already?)");
        return rc;
    }
    for (size_t k = 0; k < DG_ARRAY_LEN(child_kinds); k++)
        if ((rc = move_all(c, g, child_kinds[k])) != DG_OK) {
            if (!strcmp(w->m.field, "assignee")) /* a task of the dropped one */
                snprintf(w->m.field, sizeof w->m.field, "drop_id");
            return rc;
        }
    if ((rc = dg_rec_set_archived(c, DG_KIND_CUSTOMER, g->drop_id, 0, true, &w->m)) != DG_OK)
        return rc;
    return dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, g->keep_id, c->arena, &g->keep);
}

/* A retry: the first answer's count, with the kept record as it is now. */
static int merge_replay(dg_write_job *w, dg_rec_ctx *c, const dg_idem_result *first)
{
    struct merge *g = (struct merge *)w;

    g->moved = first->moved;
    return dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, g->keep_id, c->arena, &g->keep);
}

static json_t *merge_detail(dg_write_job *w)
{
    struct merge *g = (struct merge *)w;

    return json_pack("{s:I,s:I,s:I}", "keep_id", (json_int_t)g->keep_id, "drop_id",
                     (json_int_t)g->drop_id, "moved", (json_int_t)g->moved);
}

static int merge_remember(dg_write_job *w, dg_rec_ctx *c, dg_idem_result *out)
{
    DG_UNUSED(c);
    out->moved = ((struct merge *)w)->moved;
    return DG_OK;
}

static void merge_answer(dg_write_job *w)
{
    struct merge *g = (struct merge *)w;
    dg_req *req = w->req;
    Dangan__V1__MergeResponse *res = dg_req_alloc(req, sizeof *res);

    dangan__v1__merge_response__init(res);
    res->keep = dg_record_to_pb(req, g->keep);
    res->moved = g->moved;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_MERGE;
    req->resp.merge = res;
    dg_req_reply(req);
}

static const dg_write_ops merge_ops = {
    .run = merge_run,
    .replay = merge_replay,
    .detail = merge_detail,
    .remember = merge_remember,
    .answer = merge_answer,
};

void dg_h_merge(dg_req *req)
{
    const Dangan__V1__MergeRequest *m = req->msg->merge;
    struct merge *g;

    if (m->keep_id <= 0)
        dg_req_violation(req, "keep_id", "required");
    if (m->drop_id <= 0)
        dg_req_violation(req, "drop_id", "required");
    else if (m->drop_id == m->keep_id)
        dg_req_violation(req, "drop_id", "a customer cannot be merged into itself");
    (void)dg_write_key_ok(req, m->idempotency_key); /* adds its violation */
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    g = dg_xcalloc(1, sizeof *g);
    g->keep_id = m->keep_id;
    g->drop_id = m->drop_id;
    /* a failure names the dropped customer; the merge's record, the kept one */
    dg_write_job_init(&g->w, &merge_ops, req, DG_IDEM_MERGE, &m->base, m->idempotency_key,
                      "customer", m->drop_id);
    g->w.audit.rec.entity_id = m->keep_id;
    dg_write_job_submit(&g->w);
}
