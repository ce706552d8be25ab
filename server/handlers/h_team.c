/* h_team.c - GetTeamSettings (anyone logged in: clients need the zone,
 * the cadence and the stages) and SetTeamSettings (admins): the whole
 * settings, based on the version they were read at. A Set is checked
 * (team.h: dg_team_check), refused with its reason and audited when unsound,
 * written on the writer with an audit record naming each changed setting
 * before → after, and only then, once committed, made the server's copy.
 * Loop thread, except team_run and team_detail (writer thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "users.h"

static const char *const tier_names[DG_TIER_SLOTS] = {"", "a", "b", "c"};
static const char *const kind_names[] = {"open", "won", "lost"};

static int32_t *tier_list(dg_req *req, const int v[DG_TIER_SLOTS], size_t *n)
{
    int32_t *out = dg_req_alloc(req, DG_TIER_SLOTS * sizeof *out);

    for (int i = 0; i < DG_TIER_SLOTS; i++)
        out[i] = v[i];
    *n = DG_TIER_SLOTS;
    return out;
}

static Dangan__V1__TeamSettings *team_to_pb(dg_req *req, const dg_team *t, const dg_team_meta *m)
{
    Dangan__V1__TeamSettings *p = dg_req_alloc(req, sizeof *p);
    const dg_user_info *by =
        m->updated_by ? dg_users_by_id(dg_server_users(req->srv), m->updated_by) : NULL;

    dangan__v1__team_settings__init(p);
    p->time_zone = dg_req_strdup(req, t->time_zone);
    p->currency = dg_req_strdup(req, t->currency);
    p->call_every_days = tier_list(req, t->call_every_days, &p->n_call_every_days);
    p->visit_every_days = tier_list(req, t->visit_every_days, &p->n_visit_every_days);
    p->tier_share_pct = tier_list(req, t->tier_share_pct, &p->n_tier_share_pct);
    p->dormant_after_days = t->dormant_after_days;
    p->lost_after_days = t->lost_after_days;
    p->pool_max_claims = t->pool_max_claims;
    p->pool_return_after_days = t->pool_return_after_days;
    p->task_remind_before_minutes = t->task_remind_before_minutes;
    p->follow_up_remind_minute = t->follow_up_remind_minute;
    p->contract_remind_before_days = t->contract_remind_before_days;
    p->stages = dg_req_alloc(req, (size_t)(t->n_stages ? t->n_stages : 1) * sizeof *p->stages);
    for (int i = 0; i < t->n_stages; i++) {
        Dangan__V1__PipelineStage *s = dg_req_alloc(req, sizeof *s);

        dangan__v1__pipeline_stage__init(s);
        s->name = dg_req_strdup(req, t->stages[i].name);
        s->label = dg_req_strdup(req, t->stages[i].label);
        s->probability = t->stages[i].probability;
        s->kind = (Dangan__V1__StageKind)t->stages[i].kind;
        p->stages[p->n_stages++] = s;
    }
    p->version = m->version;
    p->updated_at_ms = m->updated_at;
    if (m->updated_by) {
        Dangan__V1__UserRef *u = dg_req_alloc(req, sizeof *u);

        dangan__v1__user_ref__init(u);
        u->id = m->updated_by;
        u->username = dg_req_strdup(req, by ? by->username : "");
        p->updated_by = u;
    }
    return p;
}

void dg_h_get_team_settings(dg_req *req)
{
    Dangan__V1__GetTeamSettingsResponse *r = dg_req_alloc(req, sizeof *r);
    dg_team t;
    dg_team_meta m;

    dg_server_team_meta(req->srv, &t, &m);
    dangan__v1__get_team_settings_response__init(r);
    r->settings = team_to_pb(req, &t, &m);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_GET_TEAM_SETTINGS;
    req->resp.get_team_settings = r;
    dg_req_reply(req);
}

/* ------------------------------------------------------------ set */

struct team_job {
    dg_write_job w;         /* first: the job */
    dg_team t;              /* as asked */
    dg_team_meta m;         /* asked: the version it was based on; after: as stored */
    dg_team old;            /* as stored before */
    int64_t stored_version; /* on a version conflict */
    char stage_in_use[DG_STAGE_NAME_MAX];
    int64_t stage_deals;
};

static int team_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct team_job *j = (struct team_job *)w;
    dg_team_meta stored;
    int rc = dg_store_team_get(c->tx->store, &j->old, &stored);

    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    if (stored.version != j->m.version) {
        j->stored_version = stored.version;
        return DG_ECONFLICT;
    }
    for (int i = 0; i < j->old.n_stages; i++) {
        const char *name = j->old.stages[i].name;
        int64_t n;

        if (dg_team_stage(&j->t, name))
            continue;
        if ((rc = dg_store_deals_in_stage(c->tx->store, name, &n)) != DG_OK)
            return rc;
        if (n > 0) {
            snprintf(j->stage_in_use, sizeof j->stage_in_use, "%s", name);
            j->stage_deals = n;
            return DG_ESTATE;
        }
    }
    j->m = (dg_team_meta){stored.version + 1, w->now, w->who.user_id};
    return dg_store_team_put(c->tx->store, &j->t, &j->m);
}

static void diff_int(json_t *changes, const char *name, int before, int after)
{
    if (before != after)
        json_object_set_new(changes, name, json_pack("[ii]", before, after));
}

static void diff_str(json_t *changes, const char *name, const char *before, const char *after)
{
    if (strcmp(before, after) != 0)
        json_object_set_new(changes, name, json_pack("[ss]", before, after));
}

/* "lead:线索:10:open,..." */
static char *stages_text(const dg_team *t)
{
    size_t len = 1;
    char *out;

    for (int i = 0; i < t->n_stages; i++)
        len += strlen(t->stages[i].name) + strlen(t->stages[i].label) + 20;
    out = dg_xcalloc(1, len);
    for (int i = 0; i < t->n_stages; i++) {
        size_t at = strlen(out);

        snprintf(out + at, len - at, "%s%s:%s:%d:%s", i ? "," : "", t->stages[i].name,
                 t->stages[i].label, t->stages[i].probability, kind_names[t->stages[i].kind]);
    }
    return out;
}

/* {"version": N, "changes": {"call.a": [7, 5], ...}}: each changed setting,
 * named as `dangan settings set` names it, before and after. */
static json_t *team_detail(dg_write_job *w)
{
    struct team_job *j = (struct team_job *)w;
    const dg_team *a = &j->old, *b = &j->t;
    json_t *ch = json_object();
    char *sa, *sb, f[32];

    diff_str(ch, "time_zone", a->time_zone, b->time_zone);
    diff_str(ch, "currency", a->currency, b->currency);
    for (int i = 1; i < DG_TIER_SLOTS; i++) {
        snprintf(f, sizeof f, "call.%s", tier_names[i]);
        diff_int(ch, f, a->call_every_days[i], b->call_every_days[i]);
        snprintf(f, sizeof f, "visit.%s", tier_names[i]);
        diff_int(ch, f, a->visit_every_days[i], b->visit_every_days[i]);
        snprintf(f, sizeof f, "share.%s", tier_names[i]);
        diff_int(ch, f, a->tier_share_pct[i], b->tier_share_pct[i]);
    }
    diff_int(ch, "dormant_after_days", a->dormant_after_days, b->dormant_after_days);
    diff_int(ch, "lost_after_days", a->lost_after_days, b->lost_after_days);
    diff_int(ch, "pool.max_claims", a->pool_max_claims, b->pool_max_claims);
    diff_int(ch, "pool.return_after_days", a->pool_return_after_days, b->pool_return_after_days);
    diff_int(ch, "remind.task_minutes", a->task_remind_before_minutes,
             b->task_remind_before_minutes);
    diff_int(ch, "remind.follow_up_minute", a->follow_up_remind_minute, b->follow_up_remind_minute);
    diff_int(ch, "remind.contract_days", a->contract_remind_before_days,
             b->contract_remind_before_days);
    sa = stages_text(a);
    sb = stages_text(b);
    diff_str(ch, "stages", sa, sb);
    free(sa);
    free(sb);
    return json_pack("{s:I,s:o}", "version", (json_int_t)j->m.version, "changes", ch);
}

static void team_answer(dg_write_job *w)
{
    struct team_job *j = (struct team_job *)w;
    Dangan__V1__SetTeamSettingsResponse *r = dg_req_alloc(w->req, sizeof *r);

    /* Committed: from now on every request sees the new settings. */
    dg_server_set_team_meta(w->req->srv, &j->t, &j->m);
    dangan__v1__set_team_settings_response__init(r);
    r->settings = team_to_pb(w->req, &j->t, &j->m);
    w->req->resp.body_case = DANGAN__V1__RESPONSE__BODY_SET_TEAM_SETTINGS;
    w->req->resp.set_team_settings = r;
    dg_req_reply(w->req);
}

static void team_answer_failure(dg_write_job *w, int rc)
{
    struct team_job *j = (struct team_job *)w;
    char msg[256];

    if (rc == DG_ECONFLICT) {
        snprintf(msg, sizeof msg,
                 "someone else changed the team settings since version %lld (now version "
                 "%lld): read them again and retry",
                 (long long)j->m.version, (long long)j->stored_version);
        dg_h_refuse_detail(w->req, DG_ECONFLICT, "team_settings", 0,
                           json_pack("{s:s,s:I,s:I}", "reason", "version_conflict", "based_on",
                                     (json_int_t)j->m.version, "stored",
                                     (json_int_t)j->stored_version),
                           "version_conflict", msg);
    } else if (rc == DG_ESTATE) {
        snprintf(msg, sizeof msg,
                 "stage \"%s\" cannot be removed: %lld deal%s still use it; move them to "
                 "another stage first",
                 j->stage_in_use, (long long)j->stage_deals, j->stage_deals == 1 ? "" : "s");
        dg_req_violation(w->req, "stages", msg);
        dg_h_refuse_detail(w->req, DG_ESTATE, "team_settings", 0,
                           json_pack("{s:s,s:s,s:I}", "reason", "stage_in_use", "stage",
                                     j->stage_in_use, "deals", (json_int_t)j->stage_deals),
                           "stage_in_use", msg);
    } else {
        dg_h_fail_job(w->req, rc);
    }
}

static const dg_write_ops team_ops = {
    .run = team_run,
    .detail = team_detail,
    .answer = team_answer,
    .answer_failure = team_answer_failure,
};

/* Copies a string setting; false when it does not fit. */
static bool take_str(char *dst, size_t len, const char *src)
{
    if (strlen(src) >= len)
        return false;
    memcpy(dst, src, strlen(src) + 1);
    return true;
}

static bool take_tiers(int v[DG_TIER_SLOTS], const int32_t *src, size_t n)
{
    if (n != DG_TIER_SLOTS)
        return false;
    for (int i = 0; i < DG_TIER_SLOTS; i++)
        v[i] = i ? src[i] : 0;
    return true;
}

/* The settings of the request into t; false with the offending setting in
 * field and why. */
static bool team_from_pb(const Dangan__V1__TeamSettings *p, dg_team *t, char *field,
                         size_t field_len, char *why, size_t why_len)
{
    memset(t, 0, sizeof *t);
#define REFUSE(f, w)                                                                               \
    do {                                                                                           \
        snprintf(field, field_len, "%s", f);                                                       \
        snprintf(why, why_len, "%s", w);                                                           \
        return false;                                                                              \
    } while (0)
    if (!take_str(t->time_zone, sizeof t->time_zone, p->time_zone))
        REFUSE("time_zone", "unknown time zone (too long)");
    if (!take_str(t->currency, sizeof t->currency, p->currency))
        REFUSE("currency", "not an ISO 4217 currency code such as CNY");
    if (!take_tiers(t->call_every_days, p->call_every_days, p->n_call_every_days))
        REFUSE("call", "call_every_days has 4 entries: [0] unused, A, B, C");
    if (!take_tiers(t->visit_every_days, p->visit_every_days, p->n_visit_every_days))
        REFUSE("visit", "visit_every_days has 4 entries: [0] unused, A, B, C");
    if (!take_tiers(t->tier_share_pct, p->tier_share_pct, p->n_tier_share_pct))
        REFUSE("shares", "tier_share_pct has 4 entries: [0] unused, A, B, C");
    t->dormant_after_days = p->dormant_after_days;
    t->lost_after_days = p->lost_after_days;
    t->pool_max_claims = p->pool_max_claims;
    t->pool_return_after_days = p->pool_return_after_days;
    t->task_remind_before_minutes = p->task_remind_before_minutes;
    t->follow_up_remind_minute = p->follow_up_remind_minute;
    t->contract_remind_before_days = p->contract_remind_before_days;
    if (p->n_stages > DG_STAGES_MAX)
        REFUSE("stages", "a pipeline has 2 to 12 stages");
    for (size_t i = 0; i < p->n_stages; i++) {
        dg_stage *s = &t->stages[t->n_stages++];

        if (!take_str(s->name, sizeof s->name, p->stages[i]->name))
            REFUSE("stages", "a stage name is 1-32 of a-z 0-9 _");
        if (!take_str(s->label, sizeof s->label, p->stages[i]->label))
            REFUSE("stages", "a stage label is at most 96 bytes");
        if (!s->label[0])
            memcpy(s->label, s->name, sizeof s->name);
        s->probability = p->stages[i]->probability;
        if ((int)p->stages[i]->kind < 0 || (int)p->stages[i]->kind > DG_STAGE_LOST)
            REFUSE("stages", "a stage's kind is open, won or lost");
        s->kind = (dg_stage_kind)p->stages[i]->kind;
    }
#undef REFUSE
    return dg_team_check(t, field, field_len, why, why_len);
}

void dg_h_set_team_settings(dg_req *req)
{
    const Dangan__V1__TeamSettings *p = req->msg->set_team_settings->settings;
    struct team_job *j = dg_xcalloc(1, sizeof *j);
    char field[64] = "settings", why[200] = "the settings are missing", msg[300];

    if (!p || !team_from_pb(p, &j->t, field, sizeof field, why, sizeof why)) {
        free(j);
        snprintf(msg, sizeof msg, "%s: %s", field, why);
        dg_req_violation(req, field, why);
        dg_h_refuse_detail(
            req, DG_EINVAL, "team_settings", 0,
            json_pack("{s:s,s:s,s:s}", "reason", "invalid_argument", "field", field, "why", why),
            "invalid_argument", msg);
        return;
    }
    j->m.version = p->version;
    dg_write_job_init(&j->w, &team_ops, req, DG_IDEM_ANY_RECORDS, NULL, NULL, "team_settings", 0);
    dg_write_job_submit(&j->w);
}
