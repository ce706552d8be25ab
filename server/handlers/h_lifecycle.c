/* h_lifecycle.c - LifecycleSuggest: status changes suggested from activity
 * and deals with the team's thresholds (docs/customer-file.md, "Lifecycle").
 * Days are whole days in the team's time zone between the last contact (or,
 * never contacted, the creation) and today:
 *   potential → active  a won deal, or a meeting or visit within the last
 *                       dormant_after_days days ("won_deal", "recent_contact")
 *   active → dormant    no contact for dormant_after_days days ("no_contact")
 *   dormant → lost      no contact for lost_after_days days ("no_contact")
 *   dormant → active    contacted within dormant_after_days days ("new_activity")
 *   lost → active       the same ("new_activity")
 * Managers and admins: every customer, or one owner's; sales: their own.
 * Applying is the client's: an update of each status (Batch), lost ones
 * with a churn reason. Loop thread, except life_run (a reader).
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dg.h"
#include "h_common.h"
#include "handlers.h"
#include "team.h"
#include "users.h"

#define LIFE_DEFAULT 1000
#define LIFE_MAX 10000

struct life_job {
    dg_job job;
    dg_req *req;
    dg_team team;
    dg_life_query q;
    const char *won[DG_STAGES_MAX];
    char today[DG_DATE_LEN];
    dg_life_fact *facts;
    size_t n;
};

static void life_run(dg_job *job, void *ctx)
{
    struct life_job *j = (struct life_job *)job;
    dg_store *st = ctx;
    int rc = dg_store_read_begin(st);

    if (rc == DG_OK)
        rc = dg_store_lifecycle_facts(st, &j->q, j->req->arena, &j->facts, &j->n);
    dg_store_read_end(st);
    job->rc = rc;
}

static int status_value(const char *name)
{
    static const char *const names[] = {"", "potential", "active", "dormant", "lost"};

    for (int i = 1; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return 0;
}

/* The suggestion for one customer, or false for none. */
static bool suggest(const struct life_job *j, const dg_life_fact *f, int *to, const char **rule,
                    int *days)
{
    char last[DG_DATE_LEN];
    int since;

    *days = -1;
    if (f->last_contact_at && dg_tz_date(j->team.time_zone, f->last_contact_at, last) == DG_OK)
        (void)dg_date_diff_days(last, j->today, days);
    since = *days;
    if (since < 0 && dg_tz_date(j->team.time_zone, f->created_at, last) == DG_OK)
        (void)dg_date_diff_days(last, j->today, &since);
    switch (status_value(f->status)) {
    case 1:
        *to = 2;
        *rule = f->last_won_at ? "won_deal" : "recent_contact";
        return f->last_won_at || f->recent_meeting;
    case 2:
        *to = 3;
        *rule = "no_contact";
        return since >= j->team.dormant_after_days;
    case 3:
        if (since >= j->team.lost_after_days) {
            *to = 4;
            *rule = "no_contact";
            return true;
        }
        *to = 2; /* contacted again within the dormancy window */
        *rule = "new_activity";
        return *days >= 0 && *days < j->team.dormant_after_days;
    case 4:
        *to = 2;
        *rule = "new_activity";
        return *days >= 0 && *days < j->team.dormant_after_days;
    default:
        return false;
    }
}

static void life_done(dg_job *job)
{
    struct life_job *j = (struct life_job *)job;
    dg_req *req = j->req;
    Dangan__V1__LifecycleSuggestResponse *r;
    size_t shown;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(j);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__lifecycle_suggest_response__init(r);
    shown = DG_MIN(j->n, j->q.limit);
    r->truncated = j->n > j->q.limit;
    r->today = dg_req_strdup(req, j->today);
    r->suggestions = dg_req_alloc(req, (shown ? shown : 1) * sizeof *r->suggestions);
    for (size_t i = 0; i < shown; i++) {
        const dg_life_fact *f = &j->facts[i];
        Dangan__V1__LifecycleSuggestion *s;
        const dg_user_info *u;
        const char *rule;
        char day[DG_DATE_LEN];
        int to, days;

        if (!suggest(j, f, &to, &rule, &days))
            continue;
        s = dg_req_alloc(req, sizeof *s);
        dangan__v1__lifecycle_suggestion__init(s);
        s->customer_id = f->id;
        s->code = (char *)f->code;
        s->name = (char *)f->name;
        u = f->owner_id ? dg_users_by_id(dg_server_users(req->srv), f->owner_id) : NULL;
        s->owner = dg_req_strdup(req, u ? u->username : "");
        s->status = (Dangan__V1__CustomerStatus)status_value(f->status);
        s->suggested = (Dangan__V1__CustomerStatus)to;
        s->rule = (char *)rule;
        s->days_since_contact = days;
        s->last_contact_on =
            dg_req_strdup(req, f->last_contact_at && dg_tz_date(j->team.time_zone,
                                                                f->last_contact_at, day) == DG_OK
                                   ? day
                                   : "");
        s->last_won_on = dg_req_strdup(
            req, f->last_won_at && dg_tz_date(j->team.time_zone, f->last_won_at, day) == DG_OK
                     ? day
                     : "");
        s->version = f->version;
        r->suggestions[r->n_suggestions++] = s;
    }
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LIFECYCLE_SUGGEST;
    req->resp.lifecycle_suggest = r;
    dg_req_reply(req);
    free(j);
}

void dg_h_lifecycle_suggest(dg_req *req)
{
    const Dangan__V1__LifecycleSuggestRequest *m = req->msg->lifecycle_suggest;
    dg_perm_who who = dg_h_who(req);
    struct life_job *j = dg_xcalloc(1, sizeof *j);
    char first[DG_DATE_LEN];
    int rc;

    dg_server_team(req->srv, &j->team);
    j->req = req;
    j->q.limit = m->limit ? DG_MIN(m->limit, LIFE_MAX) : LIFE_DEFAULT;
    if (!dg_perm_sees_all(who.role)) {
        j->q.owner_id = who.user_id; /* sales: their own customers */
    } else if (m->owner[0]) {
        const dg_user_info *u = strcmp(m->owner, "me") == 0
                                    ? dg_users_by_id(dg_server_users(req->srv), who.user_id)
                                    : dg_users_by_name(dg_server_users(req->srv), m->owner);

        if (!u) {
            free(j);
            dg_req_violation(req, "owner", "no such user");
            dg_req_fail(req, DG_EINVAL, "invalid_argument", "owner: no such user");
            return;
        }
        j->q.owner_id = u->id;
    }
    for (int i = 0; i < j->team.n_stages; i++)
        if (j->team.stages[i].kind == DG_STAGE_WON)
            j->won[j->q.n_won++] = j->team.stages[i].name;
    j->q.won_stages = j->won;
    /* contacts on or after the first day of the dormancy window are recent */
    if (dg_tz_date(j->team.time_zone, dg_now_ms(), j->today) != DG_OK ||
        dg_date_add_days(j->today, 1 - j->team.dormant_after_days, first) != DG_OK ||
        dg_tz_day_start(j->team.time_zone, first, &j->q.recent_since) != DG_OK) {
        free(j);
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "the team's time zone is not usable");
        return;
    }
    j->q.dormant_before = j->q.recent_since;
    if (dg_date_add_days(j->today, 1 - j->team.lost_after_days, first) != DG_OK ||
        dg_tz_day_start(j->team.time_zone, first, &j->q.lost_before) != DG_OK) {
        free(j);
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "the team's time zone is not usable");
        return;
    }
    j->job.run = life_run;
    j->job.done = life_done;
    if ((rc = dg_server_read(req->srv, &j->job)) != DG_OK) {
        free(j);
        dg_h_fail_job(req, rc);
    }
}
