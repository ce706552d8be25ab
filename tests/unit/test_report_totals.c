/* test_report_totals.c - the reports read running totals (deal_totals,
 * interaction_totals, kept by triggers) and partial indexes; this checks
 * them against a full recomputation over the records, the SQL the reports
 * ran before, on random data put through random changes: tiers and owners
 * changed, customers archived and restored, deals moved between stages,
 * re-dated, re-priced, archived, deleted, records moved by merges,
 * interactions edited and deleted. Every report is compared for the admin
 * (every customer), for sales users who may not see restricted tiers of
 * others, and for one owner, in four time zones (the team's zone changing
 * needs no rebuild: the totals are by UTC day, and a period's partial days
 * are read from the records).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "alloc.h"
#include "fixture.h"
#include "report.h"
#include "store.h"
#include "team.h"

#define N_CUSTOMERS 240
#define N_DEALS 900
#define N_INTERACTIONS 1400
#define N_CHANGES 700
#define T0 INT64_C(1735689600000) /* 2025-01-01T00:00Z */
#define SPAN_MS (INT64_C(400) * 86400000)

static char dir[256], path[320];
static sqlite3 *db;
static uint64_t rnd_state = 88172645463325252u;

static uint64_t rnd(uint64_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state % n;
}

static void exec(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    char *err = NULL;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

/* Appends every row of a query, columns joined by '|', to buf. */
static void rows_of(char *buf, size_t len, const char *sql)
{
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int k = 0; k < sqlite3_column_count(s); k++) {
            const unsigned char *t = sqlite3_column_text(s, k);

            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", k ? "|" : "",
                     t ? (const char *)t : "");
        }
        snprintf(buf + strlen(buf), len - strlen(buf), "\n");
    }
    sqlite3_finalize(s);
}

/* ------------------------------------------------------------ world */

static const char *const TIERS[] = {"a", "b", "c", ""};
static const char *const STAGES[] = {"lead", "qualified", "proposal", "negotiation", "won", "lost"};
static const char *const CHANNELS[] = {"phone", "visit", "meeting", "email", "im"};
static const char *const STATUSES[] = {"potential", "active", "dormant", "lost"};
static const char *const REASONS[] = {"", "价格", "服务", "竞争"};

static const char *owner_sql(void)
{
    static char v[8];

    if (rnd(6) == 0)
        return "NULL";
    snprintf(v, sizeof v, "%d", 101 + (int)rnd(5));
    return v;
}

static int64_t when(void)
{
    static const int64_t midnights[] = {0, 16 * 3600000, 5 * 3600000, 4 * 3600000,
                                        18 * 3600000 + 1800000};

    if (rnd(8) == 0) /* a local midnight of one of the zones, or UTC's */
        return T0 + (int64_t)rnd(400) * 86400000 + midnights[rnd(5)] - (int64_t)rnd(2);
    return T0 + (int64_t)rnd((uint64_t)SPAN_MS / 60000) * 60000 + (int64_t)rnd(2) * 59999;
}

static void add_deal(void)
{
    exec("INSERT INTO deals(version, customer_id, at_ms, amount, amount_currency, stage,"
         " probability, archived_at, created_at, updated_at) VALUES (1, %d, %lld, %d, '%s',"
         " '%s', %d, %s, 1, 1)",
         1 + (int)rnd(N_CUSTOMERS), (long long)when(), (int)rnd(100000), rnd(5) ? "CNY" : "USD",
         STAGES[rnd(6)], (int)rnd(101), rnd(12) ? "NULL" : "5");
}

static void add_interaction(void)
{
    exec("INSERT INTO interactions(version, customer_id, at_ms, channel, summary, archived_at,"
         " created_at, updated_at, created_by) VALUES (1, %d, %lld, '%s', 's', %s, 1, 1, %s)",
         1 + (int)rnd(N_CUSTOMERS), (long long)when(), CHANNELS[rnd(5)], rnd(12) ? "NULL" : "5",
         owner_sql());
}

static void make_world(void)
{
    exec("BEGIN");
    for (int u = 101; u <= 105; u++)
        exec("INSERT INTO users(id, username, role, password_hash, created_at, updated_at,"
             " password_changed_at) VALUES (%d, 'user%d', 'sales', 'x', 1, 1, 1)",
             u, 106 - u);
    for (int c = 1; c <= N_CUSTOMERS; c++) {
        const char *status = STATUSES[rnd(4)];

        exec("INSERT INTO customers(id, version, code, name, tier, status, owner_id,"
             " archived_at, created_at, updated_at, last_contact_at, churn_reason)"
             " VALUES (%d, 1, 'C-%06d', 'n%d', '%s', '%s', %s, %s, %lld, 1, %lld, '%s')",
             c, c, c, TIERS[rnd(4)], status, owner_sql(), rnd(15) ? "NULL" : "7", (long long)when(),
             rnd(5) ? (long long)when() : 0LL, !strcmp(status, "lost") ? REASONS[rnd(4)] : "");
    }
    for (int i = 0; i < N_DEALS; i++)
        add_deal();
    for (int i = 0; i < N_INTERACTIONS; i++)
        add_interaction();
    exec("COMMIT");
}

static int one_of(const char *table)
{
    char sql[160], buf[32] = "";

    snprintf(sql, sizeof sql,
             "SELECT id FROM %s ORDER BY id LIMIT 1 OFFSET abs(%d) %% "
             "max(1, (SELECT count(*) FROM %s))",
             table, (int)rnd(100000), table);
    rows_of(buf, sizeof buf, sql);
    return atoi(buf);
}

static void change_something(void)
{
    int c = 1 + (int)rnd(N_CUSTOMERS), c2 = 1 + (int)rnd(N_CUSTOMERS);
    int d = one_of("deals"), i = one_of("interactions");

    switch (rnd(16)) {
    case 0:
        exec("UPDATE customers SET tier = '%s' WHERE id = %d", TIERS[rnd(4)], c);
        break;
    case 1:
        exec("UPDATE customers SET owner_id = %s WHERE id = %d", owner_sql(), c);
        break;
    case 2:
        exec("UPDATE customers SET archived_at = CASE WHEN archived_at IS NULL THEN 9"
             " ELSE NULL END WHERE id = %d",
             c);
        break;
    case 3: /* a merge: c's records move to c2, c is archived */
        if (c == c2)
            break;
        exec("BEGIN; UPDATE deals SET customer_id = %d WHERE customer_id = %d;"
             " UPDATE interactions SET customer_id = %d WHERE customer_id = %d;"
             " UPDATE customers SET archived_at = 11 WHERE id = %d; COMMIT",
             c2, c, c2, c, c);
        break;
    case 4:
        exec("UPDATE deals SET stage = '%s', probability = %d WHERE id = %d", STAGES[rnd(6)],
             (int)rnd(101), d);
        break;
    case 5:
        exec("UPDATE deals SET at_ms = %lld, amount = %d WHERE id = %d", (long long)when(),
             (int)rnd(100000), d);
        break;
    case 6:
        exec("UPDATE deals SET archived_at = CASE WHEN archived_at IS NULL THEN 9 ELSE NULL END,"
             " amount_currency = '%s' WHERE id = %d",
             rnd(2) ? "CNY" : "USD", d);
        break;
    case 7:
        exec("DELETE FROM deals WHERE id = %d", d);
        break;
    case 8:
        exec("UPDATE interactions SET channel = '%s' WHERE id = %d", CHANNELS[rnd(5)], i);
        break;
    case 9:
        exec("UPDATE interactions SET archived_at = CASE WHEN archived_at IS NULL THEN 9"
             " ELSE NULL END, at_ms = %lld WHERE id = %d",
             (long long)when(), i);
        break;
    case 10:
        exec("UPDATE interactions SET created_by = %s WHERE id = %d", owner_sql(), i);
        break;
    case 11:
        exec("DELETE FROM interactions WHERE id = %d", i);
        break;
    case 12:
        add_deal();
        break;
    case 13:
        add_interaction();
        break;
    case 14: {
        const char *status = STATUSES[rnd(4)];

        exec("UPDATE customers SET status = '%s', churn_reason = '%s', last_contact_at = %lld"
             " WHERE id = %d",
             status, !strcmp(status, "lost") ? REASONS[rnd(4)] : "",
             rnd(4) ? (long long)when() : 0LL, c);
        break;
    }
    default: /* several customers at once, as a classification does */
        exec("UPDATE customers SET tier = '%s', owner_id = %s WHERE id %% 7 = %d", TIERS[rnd(3)],
             owner_sql(), (int)rnd(7));
        break;
    }
}

/* ------------------------------------------------------------ the reports */

struct viewer {
    const char *name;
    size_t n_restricted;
    const char *restricted[3];
    int64_t viewer_id, owner_id;
};

static const struct viewer VIEWERS[] = {
    {"admin", 0, {NULL}, 0, 0},
    {"sales 102", 1, {"a"}, 102, 0},
    {"sales 104 (a, b restricted)", 2, {"a", "b"}, 104, 0},
    {"admin, owner 103", 0, {NULL}, 0, 103},
    {"sales 101, owner 105", 1, {"a"}, 101, 105},
};

/* The visibility filter on alias c, as the reports' (store_rec_filter). */
static void where_visible(char *out, size_t len, const struct viewer *v, bool with_owner)
{
    snprintf(out, len, " AND c.archived_at IS NULL");
    if (v->n_restricted)
        snprintf(out + strlen(out), len - strlen(out),
                 " AND (c.tier NOT IN ('%s', '%s') OR c.owner_id = %lld)", v->restricted[0],
                 v->n_restricted > 1 ? v->restricted[1] : v->restricted[0],
                 (long long)v->viewer_id);
    if (with_owner && v->owner_id)
        snprintf(out + strlen(out), len - strlen(out), " AND c.owner_id = %lld",
                 (long long)v->owner_id);
}

static char *computed(const struct viewer *v, const dg_team *team, dg_report_kind kind,
                      const char *by, const dg_report_period *per, size_t n_per,
                      int64_t at_risk_before, int64_t dormant_before)
{
    dg_store *st;
    char err[256];
    dg_arena *a = dg_arena_new(64u << 20);
    dg_report out;
    dg_report_query q = {.kind = kind,
                         .by = by,
                         .periods = per,
                         .n_periods = n_per,
                         .owner_id = v->owner_id,
                         .n_restricted = v->n_restricted,
                         .viewer_id = v->viewer_id,
                         .team = team,
                         .today = "2026-01-01",
                         .at_risk_before = at_risk_before,
                         .dormant_before = dormant_before};
    size_t len = 1 << 20;
    char *buf = calloc(1, len);

    memcpy(q.restricted, v->restricted, sizeof q.restricted);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_store_read_begin(st), DG_OK);
    assert_int_equal(dg_store_report(st, &q, a, &out), DG_OK);
    for (size_t i = 0; i < out.n_sections; i++) {
        const dg_rsection *s = &out.sections[i];

        snprintf(buf + strlen(buf), len - strlen(buf), "[%s]\n", s->name);
        for (size_t r = 0; r < s->n_rows; r++) {
            const dg_rcell *c = &s->rows[r * s->n_cols];

            if (kind == DG_REPORT_ACTIVITY) { /* the counts, not the cadence's targets */
                if (c[2].num + c[4].num)
                    snprintf(buf + strlen(buf), len - strlen(buf), "%s|%s|%lld|%lld\n", c[0].text,
                             c[1].text, (long long)c[2].num, (long long)c[4].num);
                continue;
            }
            for (size_t k = 0; k < s->n_cols; k++) {
                if (kind == DG_REPORT_CHURN && !strcmp(s->name, "at_risk") && k != 0 && k != 7)
                    continue; /* the code and the state */
                if (kind == DG_REPORT_CHURN && !strcmp(s->name, "win_back") && k != 0)
                    continue;
                if (s->cols[k].type == DG_RT_TEXT)
                    snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", k ? "|" : "",
                             c[k].text ? c[k].text : "");
                else if (s->cols[k].type != DG_RT_DATE)
                    snprintf(buf + strlen(buf), len - strlen(buf), "%s%lld", k ? "|" : "",
                             (long long)c[k].num);
            }
            snprintf(buf + strlen(buf), len - strlen(buf), "\n");
        }
    }
    dg_store_read_end(st);
    dg_store_close(st);
    dg_arena_free(a);
    return buf;
}

/* What the reports computed before the totals: every record read. */
static char *recomputed(const struct viewer *v, const dg_team *team, dg_report_kind kind,
                        const char *by, const dg_report_period *per, size_t n_per,
                        int64_t at_risk_before, int64_t dormant_before)
{
    size_t len = 1 << 20;
    char *buf = calloc(1, len), vis[256], vis_no_owner[256], sql[16384];
    bool by_owner = !strcmp(by, "owner");

    where_visible(vis, sizeof vis, v, true);
    where_visible(vis_no_owner, sizeof vis_no_owner, v, false);
    if (kind == DG_REPORT_REVENUE) {
        snprintf(buf, len, "[revenue]\n");
        for (size_t p = 0; p < n_per; p++) {
            size_t before = strlen(buf);

            snprintf(sql, sizeof sql,
                     "SELECT %s, d.amount_currency, count(*), sum(d.amount) FROM deals d"
                     " JOIN customers c ON c.id = d.customer_id%s WHERE d.archived_at IS NULL"
                     " AND d.stage = 'won' AND d.at_ms >= %lld AND d.at_ms < %lld%s"
                     " GROUP BY %s d.amount_currency ORDER BY %s 2",
                     by_owner ? "coalesce(u.username, '')"
                              : "'"
                                "P'",
                     by_owner ? " LEFT JOIN users u ON u.id = c.owner_id" : "",
                     (long long)per[p].lo, (long long)per[p].hi, vis, by_owner ? "c.owner_id," : "",
                     by_owner ? "c.owner_id IS NULL, 1," : "");
            rows_of(buf, len, sql);
            if (!by_owner && strlen(buf) == before)
                snprintf(buf + before, len - before, "P|%s|0|0\n", team->currency);
            /* the label is the period's */
            for (char *l = buf + before; !by_owner && *l; l = strchr(l, '\n') + 1) {
                memmove(l + strlen(per[p].label), l + 1, strlen(l + 1) + 1);
                memcpy(l, per[p].label, strlen(per[p].label));
            }
        }
    } else if (kind == DG_REPORT_PIPELINE) {
        snprintf(buf, len, "[pipeline]\n");
        for (int i = 0; i < team->n_stages; i++) {
            size_t before = strlen(buf);

            if (team->stages[i].kind != DG_STAGE_OPEN)
                continue;
            snprintf(sql, sizeof sql,
                     "SELECT '%s', '%s', %s, d.amount_currency, count(*), sum(d.amount),"
                     " CASE WHEN sum(d.amount * d.probability) >= 0 THEN"
                     " (sum(d.amount * d.probability) + 50) / 100 ELSE"
                     " -((-sum(d.amount * d.probability) + 50) / 100) END FROM deals d"
                     " JOIN customers c ON c.id = d.customer_id%s WHERE d.archived_at IS NULL"
                     " AND d.stage = '%s'%s GROUP BY %s d.amount_currency ORDER BY %s 4",
                     team->stages[i].name, team->stages[i].label,
                     by_owner ? "coalesce(u.username, '')" : "''",
                     by_owner ? " LEFT JOIN users u ON u.id = c.owner_id" : "",
                     team->stages[i].name, vis, by_owner ? "c.owner_id," : "",
                     by_owner ? "c.owner_id IS NULL, 3," : "");
            rows_of(buf, len, sql);
            if (strlen(buf) == before)
                snprintf(buf + before, len - before, "%s|%s||%s|0|0|0\n", team->stages[i].name,
                         team->stages[i].label, team->currency);
        }
    } else if (kind == DG_REPORT_ACTIVITY) {
        snprintf(buf, len, "[activity]\n");
        for (size_t p = 0; p < n_per; p++) {
            char owner[64] = "";

            if (v->owner_id)
                snprintf(owner, sizeof owner, " AND i.created_by = %lld", (long long)v->owner_id);
            snprintf(sql, sizeof sql,
                     "SELECT '%s', coalesce(u.username, ''), sum(i.channel = 'phone'),"
                     " sum(i.channel IN ('visit', 'meeting')) FROM interactions i"
                     " JOIN customers c ON c.id = i.customer_id"
                     " LEFT JOIN users u ON u.id = i.created_by WHERE i.archived_at IS NULL"
                     " AND i.channel IN ('phone', 'visit', 'meeting') AND i.at_ms >= %lld"
                     " AND i.at_ms < %lld%s%s GROUP BY i.created_by ORDER BY 2",
                     per[p].label, (long long)per[p].lo, (long long)per[p].hi, owner, vis_no_owner);
            rows_of(buf, len, sql);
        }
    } else {
#define SINCE "(CASE WHEN c.last_contact_at > 0 THEN c.last_contact_at ELSE c.created_at END)"
        snprintf(buf, len, "[by_reason]\n");
        snprintf(sql, sizeof sql,
                 "SELECT c.churn_reason, count(*), (count(*) * 20000 + t.n) / (2 * t.n)"
                 " FROM customers c, (SELECT count(*) AS n FROM customers c WHERE"
                 " c.status = 'lost'%s) t WHERE c.status = 'lost'%s GROUP BY c.churn_reason"
                 " ORDER BY c.churn_reason = '', count(*) DESC, c.churn_reason",
                 vis, vis);
        rows_of(buf, len, sql);
        snprintf(buf + strlen(buf), len - strlen(buf), "[risk]\n");
        snprintf(sql, sizeof sql,
                 "SELECT CASE WHEN " SINCE " < %lld THEN 'past' ELSE 'nearing' END, count(*),"
                 " (count(*) * 20000 + t.n) / (2 * t.n) FROM customers c, (SELECT count(*) AS n"
                 " FROM customers c WHERE c.status != 'lost' AND " SINCE " < %lld%s) t"
                 " WHERE c.status != 'lost' AND " SINCE " < %lld%s GROUP BY 1 ORDER BY 1 DESC",
                 (long long)dormant_before, (long long)at_risk_before, vis,
                 (long long)at_risk_before, vis);
        rows_of(buf, len, sql);
        snprintf(buf + strlen(buf), len - strlen(buf), "[at_risk]\n");
        snprintf(sql, sizeof sql,
                 "SELECT c.code, CASE WHEN " SINCE " < %lld THEN 'past' ELSE 'nearing' END"
                 " FROM customers c WHERE c.status != 'lost' AND " SINCE " < %lld%s"
                 " ORDER BY " SINCE ", c.id LIMIT %d",
                 (long long)dormant_before, (long long)at_risk_before, vis, DG_REPORT_LIST_MAX);
        rows_of(buf, len, sql);
        snprintf(buf + strlen(buf), len - strlen(buf), "[win_back]\n");
        snprintf(sql, sizeof sql,
                 "SELECT c.code FROM customers c WHERE c.status = 'lost'%s"
                 " ORDER BY c.last_contact_at DESC, c.id LIMIT %d",
                 vis, DG_REPORT_LIST_MAX);
        rows_of(buf, len, sql);
#undef SINCE
    }
    (void)at_risk_before;
    return buf;
}

/* Months (or weeks from a Monday) of local days in `zone`, as the Report
 * handler cuts them. */
static size_t periods(const char *zone, bool weeks, dg_report_period *per, size_t max)
{
    char day[DG_DATE_LEN] = "2024-12-30", next[24];
    size_t n = 0;

    if (!weeks)
        snprintf(day, sizeof day, "2024-12-01");
    while (n < max && strcmp(day, "2026-03-01") < 0) {
        dg_report_period *p = &per[n++];

        if (weeks) {
            dg_date_add_days(day, 7, next);
        } else {
            unsigned y = (unsigned)atoi(day) % 10000u, m = (unsigned)atoi(day + 5) % 13u;

            snprintf(next, sizeof next, "%04u-%02u-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
            next[DG_DATE_LEN - 1] = '\0';
        }
        snprintf(p->label, sizeof p->label, "%s", day);
        snprintf(p->from, sizeof p->from, "%s", day);
        assert_int_equal(dg_tz_day_start(zone, day, &p->lo), DG_OK);
        assert_int_equal(dg_tz_day_start(zone, next, &p->hi), DG_OK);
        memcpy(day, next, sizeof day);
    }
    return n;
}

static void compare_all(const char *when_label)
{
    static const char *const ZONES[] = {"Asia/Shanghai", "America/New_York", "Asia/Kolkata", "UTC"};
    static dg_report_period per[160];
    dg_team team;
    int64_t risk_before = T0 + 300 * INT64_C(86400000) + 3600000 * 5;

    dg_team_defaults(&team);
    for (size_t z = 0; z < DG_ARRAY_LEN(ZONES); z++) {
        snprintf(team.time_zone, sizeof team.time_zone, "%s", ZONES[z]);
        for (size_t vi = 0; vi < DG_ARRAY_LEN(VIEWERS); vi++) {
            const struct viewer *v = &VIEWERS[vi];
            struct {
                dg_report_kind kind;
                const char *by;
                bool weeks;
            } cases[] = {
                {DG_REPORT_REVENUE, "month", false},  {DG_REPORT_REVENUE, "week", true},
                {DG_REPORT_REVENUE, "owner", false},  {DG_REPORT_PIPELINE, "", false},
                {DG_REPORT_PIPELINE, "owner", false}, {DG_REPORT_ACTIVITY, "week", true},
                {DG_REPORT_ACTIVITY, "month", false}, {DG_REPORT_CHURN, "", false},
            };

            for (size_t k = 0; k < DG_ARRAY_LEN(cases); k++) {
                size_t n = periods(ZONES[z], cases[k].weeks, per, DG_ARRAY_LEN(per));
                char *got, *want;

                if (!strcmp(cases[k].by, "owner")) { /* one period: the whole range */
                    per[0].hi = per[n - 1].hi;
                    n = 1;
                }
                got = computed(v, &team, cases[k].kind, cases[k].by, per, n, risk_before,
                               risk_before - 14 * INT64_C(86400000));
                want = recomputed(v, &team, cases[k].kind, cases[k].by, per, n, risk_before,
                                  risk_before - 14 * INT64_C(86400000));
                if (strcmp(got, want) != 0) {
                    print_error("%s: %s, %s, report %d by '%s' differs from a recomputation\n",
                                when_label, ZONES[z], v->name, (int)cases[k].kind, cases[k].by);
                    assert_string_equal(got, want);
                }
                free(got);
                free(want);
            }
        }
    }
}

/* The totals hold what a recomputation from the records gives. */
static void totals_match_the_records(void)
{
    static char kept[1 << 18], again[1 << 18];

    kept[0] = again[0] = '\0';
    rows_of(kept, sizeof kept,
            "SELECT stage, day, tier, owner_id, currency, n, amount, weighted FROM deal_totals"
            " WHERE n != 0 ORDER BY 1, 2, 3, 4, 5");
    rows_of(again, sizeof again,
            "SELECT d.stage, d.at_ms / 86400000, c.tier, coalesce(c.owner_id, 0),"
            " d.amount_currency, count(*), sum(d.amount), sum(d.amount * d.probability)"
            " FROM deals d JOIN customers c ON c.id = d.customer_id WHERE d.archived_at IS NULL"
            " AND c.archived_at IS NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5");
    assert_string_equal(kept, again);
    kept[0] = again[0] = '\0';
    rows_of(kept, sizeof kept,
            "SELECT day, created_by, tier, owner_id, calls, visits FROM interaction_totals"
            " WHERE calls != 0 OR visits != 0 ORDER BY 1, 2, 3, 4");
    rows_of(again, sizeof again,
            "SELECT i.at_ms / 86400000, coalesce(i.created_by, 0), c.tier,"
            " coalesce(c.owner_id, 0), sum(i.channel = 'phone'),"
            " sum(i.channel IN ('visit', 'meeting')) FROM interactions i JOIN customers c"
            " ON c.id = i.customer_id WHERE i.archived_at IS NULL AND c.archived_at IS NULL"
            " AND i.channel IN ('phone', 'visit', 'meeting') GROUP BY 1, 2, 3, 4"
            " ORDER BY 1, 2, 3, 4");
    assert_string_equal(kept, again);
    kept[0] = again[0] = '\0';
    rows_of(kept, sizeof kept,
            "SELECT tier, owner_id, status, n FROM customer_totals WHERE n != 0 ORDER BY 1, 2, 3");
    rows_of(again, sizeof again,
            "SELECT tier, coalesce(owner_id, 0), status, count(*) FROM customers"
            " WHERE archived_at IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
    assert_string_equal(kept, again);
}

static void test_reports_equal_a_recomputation_through_random_changes(void **state)
{
    dg_store *st;
    char err[256];

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.db", dir);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    dg_store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    make_world();
    totals_match_the_records();
    compare_all("the data as made");
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N_CHANGES / 3; i++)
            change_something();
        totals_match_the_records();
        compare_all(round == 0 ? "after changes" : "after more changes");
    }
    sqlite3_close(db);
    dgt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_equal_a_recomputation_through_random_changes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
