/* h_today.c - Today: the day's contact list (客户联络一览表) of one user, or
 * of every user for managers and admins (docs/customer-file.md, "The day's
 * list").
 *
 * The team's settings are copied when the request starts, and "today" is
 * the date of the server's clock in the team's time zone: every threshold
 * below is a local date turned into the UTC instant that day starts
 * (common/tz.h), so a day boundary in Asia/Shanghai is at 16:00 UTC. One read
 * job on a reader fetches each section's first items and counts
 * (store_today.c), computes each item's days, orders each section (most
 * overdue first, then by name in pinyin order) and keeps the first `limit`.
 * Who may read whose list is perm.c's (dg_perm_may_read_list); a refusal is
 * audited. The list leaves out customers the caller may not see, inside the
 * query, and a list that shows restricted customers is audited, as a page of
 * a list is. Loop thread, except today_run (a reader thread).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dg.h"
#include "log.h"
#include "h_common.h"
#include "handlers.h"
#include "record_pb.h"
#include "store_today.h"
#include "team.h"
#include "tz.h"
#include "users.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 1000

struct section {
    dg_today_item *items;
    size_t n;
    uint32_t total;
    bool more;                     /* more than total: the count stopped */
    int *days;                     /* per item, by the section's rule (TodayItem.days) */
    int *since_call, *since_visit; /* per item: days since the last call, visit; -1: never */
};

struct list {
    int64_t user_id;
    struct section s[DG_TODAY_N];
};

struct today {
    dg_job job;
    dg_req *req;
    dg_team team;    /* copied when the request started */
    int64_t now_ms;  /* the server's clock then */
    int64_t user_id; /* the list's user; 0: every user's (team) */
    dg_today_query q;
    char today[DG_DATE_LEN];
    char contract_until[DG_DATE_LEN];
    struct list *lists;
    size_t n_lists;
    int64_t run_us, run_cpu_us; /* the reader's time and its CPU time, for the debug log */
    /* When the zone's offset was the same all through the last two years
     * (no daylight saving: Asia/Shanghai), a local date is plain arithmetic
     * on instants since then; else each one is asked of ICU. */
    bool is_fixed;
    int32_t fixed_offset;
    int64_t fixed_since, today_index; /* today_index: days since 1970-01-01, local */
};

#define DAY_MS (24LL * 3600 * 1000)
#define FIXED_MONTHS 25

/* ------------------------------------------------------------ the team's day */

/* The UTC instant local day `today` + `days` starts. */
static int day_start(const struct today *t, int days, int64_t *out)
{
    char date[DG_DATE_LEN];
    int rc = dg_date_add_days(t->today, days, date);

    return rc == DG_OK ? dg_tz_day_start(t->team.time_zone, date, out) : rc;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* Samples the zone's offset monthly over the last two years and tomorrow:
 * the same everywhere, and local dates of instants in that time are
 * arithmetic (ICU opens a calendar per call: some 15 us each). */
static void fixed_offset_check(struct today *t)
{
    int32_t off, first;

    t->is_fixed = false;
    if (dg_tz_offset_ms(t->team.time_zone, t->now_ms + DAY_MS, &first) != DG_OK)
        return;
    for (int k = 0; k <= FIXED_MONTHS; k++)
        if (dg_tz_offset_ms(t->team.time_zone, t->now_ms - k * 30 * DAY_MS, &off) != DG_OK ||
            off != first)
            return;
    t->is_fixed = true;
    t->fixed_offset = first;
    t->fixed_since = t->now_ms - FIXED_MONTHS * 30 * DAY_MS;
    t->today_index = floor_div(t->now_ms + first, DAY_MS);
}

/* Thresholds of the query from today's date: a customer is due for a call
 * when its last call's local date is at least the cadence before today, so
 * before the start of day (today - cadence + 1). */
static int prepare_day(struct today *t)
{
    const dg_team *tm = &t->team;
    dg_today_query *q = &t->q;
    int rc;

    if ((rc = dg_tz_date(tm->time_zone, t->now_ms, t->today)) != DG_OK ||
        (rc = day_start(t, 0, &q->today_start)) != DG_OK ||
        (rc = day_start(t, 1, &q->tomorrow_start)) != DG_OK ||
        (rc = dg_date_add_days(t->today, tm->contract_remind_before_days, t->contract_until)) !=
            DG_OK)
        return rc;
    for (int tier = 1; tier < DG_TIER_SLOTS && rc == DG_OK; tier++) {
        q->call_before[tier] = q->visit_before[tier] = 0;
        if (tm->call_every_days[tier] > 0)
            rc = day_start(t, 1 - tm->call_every_days[tier], &q->call_before[tier]);
        if (rc == DG_OK && tm->visit_every_days[tier] > 0)
            rc = day_start(t, 1 - tm->visit_every_days[tier], &q->visit_before[tier]);
    }
    /* turning dormant: the last contact 1 to 7 days short of the threshold */
    if (rc == DG_OK)
        rc = day_start(t, 1 - tm->dormant_after_days, &q->dormant_from);
    if (rc == DG_OK)
        rc = day_start(t, 8 - tm->dormant_after_days, &q->dormant_to);
    q->today = t->today;
    q->contract_until = t->contract_until;
    if (rc == DG_OK)
        fixed_offset_check(t);
    return rc;
}

/* Days from the local date of `ms` to today (0: today). */
static int days_since(const struct today *t, int64_t ms)
{
    char date[DG_DATE_LEN];
    int d = 0;

    if (t->is_fixed && ms >= t->fixed_since && ms <= t->now_ms + DAY_MS)
        return (int)(t->today_index - floor_div(ms + t->fixed_offset, DAY_MS));
    if (dg_tz_date(t->team.time_zone, ms, date) != DG_OK ||
        dg_date_diff_days(date, t->today, &d) != DG_OK)
        return 0;
    return d;
}

static int days_between(const char *from, const char *to)
{
    int d = 0;

    return dg_date_diff_days(from, to, &d) == DG_OK ? d : 0;
}

/* TodayItem.days of an item, and its sort key (smaller first). */
static int item_days(const struct today *t, enum dg_today_section sec, const dg_today_item *it,
                     int64_t *key)
{
    int cadence, d;
    int64_t last;

    switch (sec) {
    case DG_TODAY_OVERDUE_TASKS:
        d = days_since(t, it->due_at_ms);
        *key = -(int64_t)d;
        return d;
    case DG_TODAY_TASKS_TODAY:
        *key = it->due_at_ms;
        return 0;
    case DG_TODAY_CALLS_DUE:
    case DG_TODAY_VISITS_DUE:
        last = sec == DG_TODAY_CALLS_DUE ? it->last_call_at : it->last_visit_at;
        cadence = sec == DG_TODAY_CALLS_DUE ? t->team.call_every_days[it->tier]
                                            : t->team.visit_every_days[it->tier];
        if (!last) {
            *key = INT64_MIN; /* never: first */
            return -1;
        }
        d = days_since(t, last) - cadence;
        *key = -(int64_t)d;
        return d;
    case DG_TODAY_FOLLOW_UPS:
        d = days_between(it->follow_up_on, t->today);
        *key = -(int64_t)d;
        return d;
    case DG_TODAY_CONTRACTS:
        d = days_between(t->today, it->expires_on);
        *key = d;
        return d;
    case DG_TODAY_TURNING_DORMANT:
        d = t->team.dormant_after_days - days_since(t, it->last_contact_at);
        *key = d;
        return d;
    default:
        dg_assert(0);
        return 0;
    }
}

struct ranked {
    int64_t key;
    int days;
    const dg_today_item *it;
};

static int rank_cmp(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    size_t n =
        a->it->name_key_len < b->it->name_key_len ? a->it->name_key_len : b->it->name_key_len;
    int c;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if ((c = memcmp(a->it->name_key, b->it->name_key, n)) != 0)
        return c;
    if (a->it->name_key_len != b->it->name_key_len)
        return a->it->name_key_len < b->it->name_key_len ? -1 : 1;
    if (a->it->customer_id != b->it->customer_id)
        return a->it->customer_id < b->it->customer_id ? -1 : 1;
    return (a->it->task_id + a->it->document_id > b->it->task_id + b->it->document_id) -
           (a->it->task_id + a->it->document_id < b->it->task_id + b->it->document_id);
}

/* Orders a section's items and keeps the first `limit`, with their days. */
static int rank(struct today *t, enum dg_today_section sec, struct section *s, dg_arena *a)
{
    struct ranked *r;
    dg_today_item *sorted;

    if (!s->n)
        return DG_OK;
    r = malloc(s->n * sizeof *r);
    sorted = dg_arena_alloc(a, s->n * sizeof *sorted);
    s->days = dg_arena_alloc(a, s->n * sizeof *s->days);
    s->since_call = dg_arena_alloc(a, s->n * sizeof *s->since_call);
    s->since_visit = dg_arena_alloc(a, s->n * sizeof *s->since_visit);
    if (!r || !sorted || !s->days || !s->since_call || !s->since_visit) {
        free(r);
        return DG_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        r[i].it = &s->items[i];
        r[i].days = item_days(t, sec, &s->items[i], &r[i].key);
    }
    qsort(r, s->n, sizeof *r, rank_cmp);
    if (s->n > t->q.limit)
        s->n = t->q.limit;
    for (size_t i = 0; i < s->n; i++) {
        sorted[i] = *r[i].it;
        s->days[i] = r[i].days;
        s->since_call[i] = sorted[i].last_call_at ? days_since(t, sorted[i].last_call_at) : -1;
        s->since_visit[i] = sorted[i].last_visit_at ? days_since(t, sorted[i].last_visit_at) : -1;
    }
    s->items = sorted;
    free(r);
    return DG_OK;
}

/* The calling thread's CPU time: what a read costs whatever else the
 * machine runs. */
static int64_t thread_cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void today_run(dg_job *job, void *ctx)
{
    struct today *t = (struct today *)job;
    dg_arena *a = t->req->arena;
    dg_store *st = ctx;
    int64_t *ids = &t->user_id, t0 = dg_mono_us(), cpu0 = thread_cpu_us();
    size_t n_ids = 1;
    int rc;

    if ((rc = prepare_day(t)) != DG_OK) {
        job->rc = rc;
        return;
    }
    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    if (!t->user_id)
        rc = dg_store_today_users(st, a, &ids, &n_ids);
    if (rc == DG_OK && !(t->lists = dg_arena_calloc(a, n_ids ? n_ids : 1, sizeof *t->lists)))
        rc = DG_ENOMEM;
    for (size_t u = 0; u < n_ids && rc == DG_OK; u++) {
        struct list *l = &t->lists[t->n_lists++];

        l->user_id = t->q.user_id = ids[u];
        for (int sec = 0; sec < DG_TODAY_N && rc == DG_OK; sec++) {
            struct section *s = &l->s[sec];

            rc = dg_store_today_section(st, &t->q, (enum dg_today_section)sec, a, &s->items, &s->n,
                                        &s->total, &s->more);
            if (rc == DG_OK)
                rc = rank(t, (enum dg_today_section)sec, s, a);
        }
    }
    dg_store_read_end(st);
    job->rc = rc;
    t->run_us = dg_mono_us() - t0;
    t->run_cpu_us = thread_cpu_us() - cpu0;
}

/* ------------------------------------------------------------ the answer */

static Dangan__V1__TodayItem *item_pb(dg_req *req, const struct today *t, enum dg_today_section sec,
                                      const struct section *s, size_t i)
{
    const dg_today_item *it = &s->items[i];
    Dangan__V1__TodayItem *p = dg_req_alloc(req, sizeof *p);

    dangan__v1__today_item__init(p);
    p->customer_id = it->customer_id;
    p->customer_code = (char *)it->code; /* in the request's arena */
    p->customer_name = (char *)it->name;
    p->tier = (Dangan__V1__Tier)it->tier;
    p->task_id = it->task_id;
    p->title = (char *)(it->title ? it->title : "");
    p->due_at_ms = it->due_at_ms;
    p->days = s->days[i];
    p->last_call_at_ms = it->last_call_at;
    p->last_visit_at_ms = it->last_visit_at;
    p->last_contact_at_ms = it->last_contact_at;
    p->days_since_call = s->since_call[i];
    p->days_since_visit = s->since_visit[i];
    if (sec == DG_TODAY_CALLS_DUE)
        p->cadence_days = t->team.call_every_days[it->tier];
    else if (sec == DG_TODAY_VISITS_DUE)
        p->cadence_days = t->team.visit_every_days[it->tier];
    p->interaction_id = it->interaction_id;
    p->follow_up_on = (char *)(it->follow_up_on ? it->follow_up_on : "");
    p->summary = (char *)(it->summary ? it->summary : "");
    p->document_id = it->document_id;
    p->expires_on = (char *)(it->expires_on ? it->expires_on : "");
    return p;
}

static void today_done(dg_job *job)
{
    struct today *t = (struct today *)job;
    dg_req *req = t->req;
    dg_perm_who who = dg_h_who(req);
    Dangan__V1__TodayResponse *r;
    json_t *restricted;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(t);
        return;
    }
    restricted = json_array();
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__today_response__init(r);
    r->time_zone = dg_req_strdup(req, t->team.time_zone);
    r->today = dg_req_strdup(req, t->today);
    r->now_ms = t->now_ms;
    r->lists = dg_req_alloc(req, (t->n_lists ? t->n_lists : 1) * sizeof *r->lists);
    for (size_t u = 0; u < t->n_lists; u++) {
        const struct list *l = &t->lists[u];
        Dangan__V1__TodayList *pl = dg_req_alloc(req, sizeof *pl);

        dangan__v1__today_list__init(pl);
        pl->user = dg_user_ref_pb(req, l->user_id);
        pl->sections = dg_req_alloc(req, DG_TODAY_N * sizeof *pl->sections);
        for (int sec = 0; sec < DG_TODAY_N; sec++) {
            const struct section *s = &l->s[sec];
            Dangan__V1__TodaySection *ps = dg_req_alloc(req, sizeof *ps);

            dangan__v1__today_section__init(ps);
            ps->name = (char *)dg_today_section_name((enum dg_today_section)sec);
            ps->total = s->total;
            ps->more = s->more;
            ps->items = dg_req_alloc(req, (s->n ? s->n : 1) * sizeof *ps->items);
            for (size_t i = 0; i < s->n; i++) {
                ps->items[i] = item_pb(req, t, (enum dg_today_section)sec, s, i);
                if (dg_perm_is_restricted(&who, s->items[i].tier))
                    json_array_append_new(restricted,
                                          json_integer((json_int_t)s->items[i].customer_id));
            }
            ps->n_items = s->n;
            pl->sections[pl->n_sections++] = ps;
        }
        r->lists[r->n_lists++] = pl;
    }
    dg_log_debug("today", "user=%lld lists=%zu read_us=%lld read_cpu_us=%lld",
                 (long long)t->user_id, t->n_lists, (long long)t->run_us, (long long)t->run_cpu_us);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_TODAY;
    req->resp.today = r;
    if (json_array_size(restricted) == 0 || dg_req_is_over_budget(req)) {
        json_decref(restricted);
        dg_req_reply(req);
    } else { /* every read of a restricted customer is on record (docs/security.md) */
        dg_h_audit_then_reply(req, "customer", t->user_id,
                              json_pack("{s:s,s:I,s:o}", "read", "today", "user",
                                        (json_int_t)t->user_id, "restricted_ids", restricted));
    }
    free(t);
}

void dg_h_today(dg_req *req)
{
    const Dangan__V1__TodayRequest *m = req->msg->today;
    dg_perm_who who = dg_h_who(req);
    const dg_user_info *owner = NULL;
    struct today *t;
    int rc;

    if (m->limit > LIMIT_MAX)
        dg_req_violation(req, "limit", "at most 1000");
    if (m->team && m->owner && m->owner[0])
        dg_req_violation(req, "owner", "either team or owner");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    if (m->owner && m->owner[0])
        owner = dg_users_by_name(dg_server_users(req->srv), m->owner);
    /* a name that is no user's is nobody's list: refused like another's */
    if (!dg_perm_may_read_list(&who, m->team                   ? 0
                                     : owner                   ? owner->id
                                     : m->owner && m->owner[0] ? -1
                                                               : who.user_id)) {
        dg_h_deny(req, "user", owner ? owner->id : 0, "not_own_list",
                  "sales see their own day's list only");
        return;
    }
    if (m->owner && m->owner[0] && !owner) {
        dg_req_violation(req, "owner", "no such user");
        dg_req_fail(req, DG_ENOTFOUND, "no_such_user", "no user called %s", m->owner);
        return;
    }
    t = dg_xcalloc(1, sizeof *t);
    t->req = req;
    dg_server_team(req->srv, &t->team);
    t->now_ms = dg_now_ms();
    t->user_id = m->team ? 0 : owner ? owner->id : who.user_id;
    t->q.limit = m->limit ? m->limit : LIMIT_DEFAULT;
    if (!dg_perm_sees_all(who.role)) { /* restricted tiers out unless owned (perm.c) */
        t->q.n_restricted = dg_perm_restricted_names(who.restricted, t->q.restricted);
        t->q.viewer_id = who.user_id;
    }
    t->job.run = today_run;
    t->job.done = today_done;
    if ((rc = dg_server_read(req->srv, &t->job)) != DG_OK) {
        free(t);
        dg_h_fail_job(req, rc);
    }
}
