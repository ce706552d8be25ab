/* team.c - the team settings' defaults and lookups. Pure; any thread. */
#include "team.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "money.h"

void dg_team_defaults(dg_team *t)
{
    static const dg_stage stages[] = {
        {"lead", "线索", 10, DG_STAGE_OPEN},
        {"qualified", "需求确认", 25, DG_STAGE_OPEN},
        {"proposal", "方案报价", 50, DG_STAGE_OPEN},
        {"negotiation", "商务谈判", 75, DG_STAGE_OPEN},
        {"won", "赢单", 100, DG_STAGE_WON},
        {"lost", "输单", 0, DG_STAGE_LOST},
    };
    /* by dangan.v1.Tier: [1] A, [2] B, [3] C */
    static const int call[DG_TIER_SLOTS] = {0, 7, 7, 14};
    static const int visit[DG_TIER_SLOTS] = {0, 60, 90, 120};
    static const int share[DG_TIER_SLOTS] = {0, 20, 40, 40};

    memset(t, 0, sizeof *t);
    snprintf(t->time_zone, sizeof t->time_zone, "%s", "Asia/Shanghai");
    snprintf(t->currency, sizeof t->currency, "%s", "CNY");
    memcpy(t->call_every_days, call, sizeof call);
    memcpy(t->visit_every_days, visit, sizeof visit);
    memcpy(t->tier_share_pct, share, sizeof share);
    t->dormant_after_days = 90;
    t->lost_after_days = 180;
    t->pool_max_claims = 20;
    t->pool_return_after_days = 0;
    t->task_remind_before_minutes = 15;
    t->follow_up_remind_minute = 9 * 60;
    t->contract_remind_before_days = 30;
    t->n_stages = (int)DG_ARRAY_LEN(stages);
    memcpy(t->stages, stages, sizeof stages);
}

const dg_stage *dg_team_stage(const dg_team *t, const char *name)
{
    for (int i = 0; i < t->n_stages; i++)
        if (strcmp(t->stages[i].name, name) == 0)
            return &t->stages[i];
    return NULL;
}

static bool stage_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > DG_STAGE_NAME_MAX - 1)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool in_range(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

#define BAD(f, ...)                                                                                \
    do {                                                                                           \
        snprintf(field, field_len, "%s", f);                                                       \
        snprintf(why, why_len, __VA_ARGS__);                                                       \
        return false;                                                                              \
    } while (0)

bool dg_team_check(const dg_team *t, char *field, size_t field_len, char *why, size_t why_len)
{
    static const char *const tier[DG_TIER_SLOTS] = {"", "a", "b", "c"};
    int share = 0, won = 0, lost = 0;

    if (!dg_tz_valid(t->time_zone))
        BAD("time_zone", "unknown time zone \"%s\" (an IANA name such as Asia/Shanghai or UTC)",
            t->time_zone);
    if (!dg_currency_valid(t->currency))
        BAD("currency", "\"%s\" is not an ISO 4217 currency code such as CNY", t->currency);
    for (int i = 1; i < DG_TIER_SLOTS; i++) {
        char f[32];

        snprintf(f, sizeof f, "call.%s", tier[i]);
        if (!in_range(t->call_every_days[i], 0, DG_TEAM_CADENCE_MAX))
            BAD(f, "a call cadence is 0 (none) to %d days, not %d", DG_TEAM_CADENCE_MAX,
                t->call_every_days[i]);
        snprintf(f, sizeof f, "visit.%s", tier[i]);
        if (!in_range(t->visit_every_days[i], 0, DG_TEAM_CADENCE_MAX))
            BAD(f, "a visit cadence is 0 (none) to %d days, not %d", DG_TEAM_CADENCE_MAX,
                t->visit_every_days[i]);
        if (t->tier_share_pct[i] < 0)
            BAD("shares", "a share is 0 to 100 percent, not %d", t->tier_share_pct[i]);
        share += t->tier_share_pct[i];
    }
    if (share != 100)
        BAD("shares", "the A/B/C shares must add up to 100 percent, not %d", share);
    if (!in_range(t->dormant_after_days, 1, DG_TEAM_DAYS_MAX))
        BAD("dormant_after_days", "1 to %d days, not %d", DG_TEAM_DAYS_MAX, t->dormant_after_days);
    if (!in_range(t->lost_after_days, t->dormant_after_days + 1, DG_TEAM_DAYS_MAX))
        BAD("lost_after_days", "more than dormant_after_days (%d) and at most %d days, not %d",
            t->dormant_after_days, DG_TEAM_DAYS_MAX, t->lost_after_days);
    if (!in_range(t->pool_max_claims, 0, 100000))
        BAD("pool.max_claims", "0 to 100000, not %d", t->pool_max_claims);
    if (!in_range(t->pool_return_after_days, 0, DG_TEAM_DAYS_MAX))
        BAD("pool.return_after_days", "0 (off) to %d days, not %d", DG_TEAM_DAYS_MAX,
            t->pool_return_after_days);
    if (!in_range(t->task_remind_before_minutes, 0, 7 * 24 * 60))
        BAD("remind.task_minutes", "0 to %d minutes, not %d", 7 * 24 * 60,
            t->task_remind_before_minutes);
    if (!in_range(t->follow_up_remind_minute, 0, 24 * 60 - 1))
        BAD("remind.follow_up_at", "a time of day 00:00 to 23:59 (minute 0 to 1439), not %d",
            t->follow_up_remind_minute);
    if (!in_range(t->contract_remind_before_days, 0, 366))
        BAD("remind.contract_days", "0 to 366 days, not %d", t->contract_remind_before_days);
    if (!in_range(t->n_stages, 2, DG_STAGES_MAX))
        BAD("stages", "a pipeline has 2 to %d stages, not %d", DG_STAGES_MAX, t->n_stages);
    for (int i = 0; i < t->n_stages; i++) {
        const dg_stage *s = &t->stages[i];

        if (!stage_name_valid(s->name))
            BAD("stages", "stage name \"%s\": 1-32 of a-z 0-9 _", s->name);
        for (int j = 0; j < i; j++)
            if (strcmp(t->stages[j].name, s->name) == 0)
                BAD("stages", "stage \"%s\" is named twice", s->name);
        if (!in_range(s->probability, 0, 100))
            BAD("stages", "stage \"%s\": a probability is 0 to 100 percent, not %d", s->name,
                s->probability);
        if (s->kind != DG_STAGE_OPEN && s->kind != DG_STAGE_WON && s->kind != DG_STAGE_LOST)
            BAD("stages", "stage \"%s\": kind open, won or lost", s->name);
        won += s->kind == DG_STAGE_WON;
        lost += s->kind == DG_STAGE_LOST;
    }
    if (won != 1)
        BAD("stages", "exactly one stage must be of kind won (there are %d)", won);
    if (lost < 1)
        BAD("stages", "at least one stage must be of kind lost");
    return true;
}
