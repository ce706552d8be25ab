/* team.h - the team's settings: how the sales team works, set by an admin
 * (TeamSettings in the protocol) with defaults from the customer-file guide
 * (docs/customer-file.md): the team's time zone, in which every date and
 * "today" is computed; each tier's call and visit cadence; the ABC shares;
 * when a customer turns dormant or lost; the public pool's rules; reminder
 * lead times; the deal pipeline's stages. A plain value: copied, never shared.
 */
#ifndef DG_TEAM_H
#define DG_TEAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

#define DG_TIER_SLOTS 4      /* indexed by dangan.v1.Tier: 1 A, 2 B, 3 C; 0 unused */
#define DG_STAGES_MAX 12     /* stages in a pipeline */
#define DG_STAGE_NAME_MAX 33 /* with the NUL: a-z 0-9 _, 1-32 characters */
#define DG_STAGE_LABEL_MAX 97

/* What reaching a stage means for a deal. */
typedef enum dg_stage_kind {
    DG_STAGE_OPEN = 0, /* still being worked: counts in the pipeline */
    DG_STAGE_WON = 1,  /* closed, revenue: counts in revenue and ABC */
    DG_STAGE_LOST = 2, /* closed, lost: needs a lost reason */
} dg_stage_kind;

typedef struct dg_stage {
    char name[DG_STAGE_NAME_MAX];   /* stored in deals.stage: "lead" */
    char label[DG_STAGE_LABEL_MAX]; /* shown: "线索" */
    int probability;                /* default chance to win, percent */
    dg_stage_kind kind;
} dg_stage;

typedef struct dg_team {
    char time_zone[DG_TZ_NAME_MAX]; /* IANA name: "Asia/Shanghai" */
    char currency[4];               /* revenue and ABC count deals in it: "CNY" */
    /* Contact cadence by tier, in days (0: none): A call every 7 days and
     * visit every 60, B 7 and 90, C 14 and 120. */
    int call_every_days[DG_TIER_SLOTS];
    int visit_every_days[DG_TIER_SLOTS];
    /* ABC shares in percent of the customers ranked by trailing-12-month
     * won revenue: A 20, B 40, C 40 (sum 100). */
    int tier_share_pct[DG_TIER_SLOTS];
    int dormant_after_days; /* no interaction for this long: dormant (90) */
    int lost_after_days;    /* ... and for this long: suggested lost (180) */
    int pool_max_claims;    /* pool customers a sales user may hold (20) */
    int pool_return_after_days; /* owner logged nothing for this long: back to the pool; 0 off */
    int task_remind_before_minutes; /* a task's reminder, before its due time (15) */
    int follow_up_remind_minute;    /* a follow-up date's reminder, minute of that day (540: 09:00) */
    int contract_remind_before_days; /* a contract's reminder, before it expires (30) */
    int n_stages;
    dg_stage stages[DG_STAGES_MAX]; /* in pipeline order */
} dg_team;

/* Which change of the settings a copy is: 0 until first set, raised by each
 * change; when and by whom (user id, 0 for none). */
typedef struct dg_team_meta {
    int64_t version;
    int64_t updated_at;
    int64_t updated_by;
} dg_team_meta;

/* The defaults: Asia/Shanghai, CNY, the guide's cadence and shares, and the
 * stages lead, qualified, proposal, negotiation, won, lost. */
void dg_team_defaults(dg_team *t);

#define DG_TEAM_CADENCE_MAX 366 /* days between calls or visits */
#define DG_TEAM_DAYS_MAX 3650   /* dormant, lost, pool return thresholds */

/* True if `t` is a sound set of settings; false with the offending setting's
 * name (as `dangan settings set` spells it: "time_zone", "call.a", "shares",
 * "stages") in `field` and why in `why`. Deals using a removed stage are the
 * caller's to check. */
bool dg_team_check(const dg_team *t, char *field, size_t field_len, char *why, size_t why_len);

/* The stage called `name`, or NULL. */
const dg_stage *dg_team_stage(const dg_team *t, const char *name);

#endif
