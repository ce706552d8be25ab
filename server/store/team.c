/* team.c - the team settings' defaults and lookups. Pure; any thread. */
#include "team.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"

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
