/* h_deal.c - DealMove: a deal to another stage of the team's pipeline.
 *
 * A move is an update of the deal's stage (and of the probability, expected
 * close date and lost reason it gives) through dg_rec_update, so it gets the
 * same checks (who may change the dossier, field-level version conflicts),
 * the pipeline's rules (records_deal.c), one change row and the deal's audit
 * record; the request adds its own audit record. Idempotency keys answer a
 * retry with the deal as it is then.
 * Loop thread, except the *_run functions (writer thread).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "record_pb.h"
#include "records.h"

struct move {
    dg_write_job w;   /* first: the job */
    dg_record *patch; /* the deal's id and the values the move sets */
    const char *mask[4];
    size_t n_mask;
    int64_t expected_version;
    dg_record *deal; /* after the move (a retry: as it is now) */
};

/* ------------------------------------------------------------ writer */

static int move_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct move *mv = (struct move *)w;
    int rc = dg_rec_update(c, mv->patch, mv->mask, mv->n_mask, mv->expected_version, &w->m);

    mv->deal = w->m.record;
    return rc;
}

static int move_replay(dg_write_job *w, dg_rec_ctx *c, const dg_idem_result *first)
{
    struct move *mv = (struct move *)w;
    int rc =
        dg_store_rec_get(c->tx->store, DG_KIND_DEAL, first->records[0].id, c->arena, &mv->deal);

    if (rc == DG_ENOTFOUND) { /* records are archived, never deleted */
        snprintf(w->m.why, sizeof w->m.why, "deal %lld is gone", (long long)first->records[0].id);
        w->m.is_result_damaged = true;
        rc = DG_ECORRUPT;
    }
    return rc;
}

static json_t *move_detail(dg_write_job *w)
{
    struct move *mv = (struct move *)w;
    const dg_entity *e = dg_entity_get(DG_KIND_DEAL);

    return json_pack("{s:s,s:I,s:b}", "stage", mv->deal->v[dg_entity_field_index(e, "stage")].s,
                     "version", (json_int_t)mv->deal->version, "changed", w->m.seq != 0);
}

static int move_remember(dg_write_job *w, dg_rec_ctx *c, dg_idem_result *out)
{
    struct move *mv = (struct move *)w;
    dg_idem_ref *ref = dg_arena_calloc(c->arena, 1, sizeof *ref);

    if (!ref)
        return DG_ENOMEM;
    *ref = (dg_idem_ref){DG_KIND_DEAL, mv->deal->id};
    out->records = ref;
    return DG_OK;
}

/* ------------------------------------------------------------ loop */

static Dangan__V1__DealMoveResponse *move_body(dg_req *req, const dg_record *deal)
{
    Dangan__V1__DealMoveResponse *b = dg_req_alloc(req, sizeof *b);

    dangan__v1__deal_move_response__init(b);
    b->record = deal ? dg_record_to_pb(req, deal) : NULL;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DEAL_MOVE;
    req->resp.deal_move = b;
    return b;
}

static void move_answer(dg_write_job *w)
{
    move_body(w->req, ((struct move *)w)->deal);
    dg_req_reply(w->req);
}

static void move_answer_failure(dg_write_job *w, int rc)
{
    struct move *mv = (struct move *)w;
    dg_req *req = w->req;
    const dg_mutation *m = &w->m;

    if (rc == DG_ENOTFOUND && !m->field[0]) {
        /* the deal is missing, or in a dossier hidden from the caller: alike */
        dg_h_not_found(req, m->is_hidden, "deal", mv->patch->id, "no such deal");
        return;
    }
    if (rc != DG_ECONFLICT) {
        dg_h_answer_failed_write(req, rc, m, "deal", mv->patch->id);
        return;
    }
    move_body(req, m->record);
    req->has_error_body = true;
    req->status.conflicting_fields = (char **)m->conflicts;
    req->status.n_conflicting_fields = m->n_conflicts;
    dg_req_fail(req, DG_ECONFLICT, "version_conflict",
                "someone else changed %s since the version you saw; the deal is now at version "
                "%lld: look again, then move it",
                m->conflicts[0], (long long)m->record->version);
}

static const dg_write_ops move_ops = {
    .run = move_run,
    .replay = move_replay,
    .detail = move_detail,
    .remember = move_remember,
    .answer = move_answer,
    .answer_failure = move_answer_failure,
};

/* Sets field `name` of the patch as given and names it in the mask. */
static dg_value *give(struct move *mv, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(DG_KIND_DEAL), name);

    mv->patch->given |= 1ull << i;
    mv->mask[mv->n_mask++] = name;
    return &mv->patch->v[i];
}

static void on_violation(void *ud, const char *field, const char *problem)
{
    dg_req_violation(ud, field, problem);
}

void dg_h_deal_move(dg_req *req)
{
    const Dangan__V1__DealMoveRequest *m = req->msg->deal_move;
    struct move *mv = dg_xcalloc(1, sizeof *mv);

    if (m->deal_id <= 0)
        dg_req_violation(req, "deal_id", "required");
    if (!m->stage[0])
        dg_req_violation(req, "stage", "required: a stage of the team's pipeline");
    if (m->expected_version < 1)
        dg_req_violation(req, "expected_version", "the version you last saw is required");
    (void)dg_write_key_ok(req, m->idempotency_key); /* adds its violation */
    if (!(mv->patch = dg_record_new(req->arena, DG_KIND_DEAL)))
        dg_req_violation(req, "deal_id", "out of memory");
    if (mv->patch && !req->status.n_field_violations) {
        mv->patch->id = m->deal_id;
        give(mv, "stage")->s = m->stage;
        if (m->with_probability)
            give(mv, "probability")->i = m->probability;
        if (m->expected_close_on[0])
            give(mv, "expected_close_on")->s = m->expected_close_on;
        if (m->lost_reason[0])
            give(mv, "lost_reason")->s = m->lost_reason;
        (void)dg_record_validate(mv->patch, false, on_violation, req);
    }
    if (req->status.n_field_violations) {
        free(mv);
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    mv->expected_version = m->expected_version;
    /* the change itself is audited as the deal's update; this record names the request */
    dg_write_job_init(&mv->w, &move_ops, req, DG_IDEM_DEAL_MOVE, &m->base, m->idempotency_key,
                      "deal", m->deal_id);
    mv->w.n_records = 1;
    dg_write_job_submit(&mv->w);
}
