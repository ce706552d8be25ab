/* test_reports.c - Report against a real server over TLS, on fixed data
 * whose every number is computed by hand below.
 *
 * The test process runs in UTC and the team in Asia/Shanghai (the default
 * settings): a deal won at 00:30 Shanghai on 1 February is 16:30 UTC on
 * 31 January and counts in February; a call at 00:30 Shanghai on Monday
 * counts in that Monday's week. A sales user never counts a restricted
 * customer of someone else's (tier A of s2), nor its deals and feedback;
 * the manager does. The at-risk list follows the clock: a customer last
 * contacted 80 days ago is nearing dormancy (90 days) and is past it once
 * the server's clock has moved 11 days on.
 *
 * The world:
 *   c1 甲制造 tier B active, s1, 制造业/上海      deals D1 won CNY 100.00 (Jan 31 23:30 SH),
 *                                                D3 won USD 50.00 (Mar 15), D4 proposal
 *                                                CNY 1000.00 50 %
 *   c2 乙电子 tier A active, s1, 制造业/北京      D2 won CNY 200.00 (Feb 1 00:30 SH),
 *                                                D6 lost CNY 999.00
 *   c3 丙金融SECRET tier A lost 价格, s2, 金融业   D5 won CNY 400.00 (Feb 10)  (hidden from s1)
 *   c4 丁贸易 tier C lost 价格, s1
 *   c5 戊物流 tier B lost 服务, s2                D7 lead CNY 300.00 10 %
 *   c6 己餐饮 tier B active, s2                   an email 80 days ago
 * Interactions by s1: c1 phone Mon Jan 5 10:00, c2 phone Mon Jan 12 00:30 SH
 * (Sunday in UTC), c1 meeting Jan 13, c1 email Jan 6 (not a call or visit).
 * Feedback: c1 survey 4 (Jan 10), c1 complaint 5 resolved (Jan 20), c2
 * complaint open (Feb 1 00:30 SH), c3 complaint 1 open (Jan 15).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"

#define DAY_MS 86400000LL

static dgt_server srv;
static dg_client *admin, *mgr, *s1;
static int64_t c1, c2, c3, c4, c5, c6;
static char cfg_mgr[512], cfg_s1[512], cfg_viewer[512];

/* ------------------------------------------------------------ data */

/* Unix ms of a local time at UTC offset `off_h` hours. */
static int64_t at(int y, int mo, int d, int h, int mi, int off_h)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};

    return ((int64_t)timegm(&tm) - (int64_t)off_h * 3600) * 1000;
}

static int64_t create(dg_client *c, Dangan__V1__Record *rec)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    dg_reply *r;
    int64_t id;

    m.record = rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        fail_msg("create: %s", dg_reply_response(r)->status->message);
    id = dgt_record_id(dg_reply_response(r)->create->record);
    dg_reply_free(r);
    return id;
}

static int64_t customer(const char *name, Dangan__V1__Tier tier, Dangan__V1__CustomerStatus status,
                        const char *owner, const char *industry, const char *region,
                        const char *churn)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;

    cu.name = (char *)name;
    cu.tier = tier;
    cu.status = status;
    cu.industry = (char *)industry;
    cu.region = (char *)region;
    cu.churn_reason = (char *)churn;
    o.username = (char *)owner;
    cu.owner = &o;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    return create(admin, &rec);
}

static void deal(int64_t cust, int64_t when, int64_t minor, const char *cur, const char *stage,
                 int probability)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Deal d = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Money m = DANGAN__V1__MONEY__INIT;

    d.customer_id = cust;
    d.at_ms = when;
    m.amount_minor = minor;
    m.currency = (char *)cur;
    d.amount = &m;
    d.stage = (char *)stage;
    d.probability = probability;
    d.lost_reason = !strcmp(stage, "lost") ? "价格太高" : "";
    rec.kind_case = DANGAN__V1__RECORD__KIND_DEAL;
    rec.deal = &d;
    create(admin, &rec);
}

static void note(dg_client *c, int64_t cust, int64_t when, Dangan__V1__Channel channel)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Interaction i = DANGAN__V1__INTERACTION__INIT;

    i.customer_id = cust;
    i.at_ms = when;
    i.channel = channel;
    i.summary = "联系";
    rec.kind_case = DANGAN__V1__RECORD__KIND_INTERACTION;
    rec.interaction = &i;
    create(c, &rec);
}

static void feedback(int64_t cust, int64_t when, Dangan__V1__FeedbackKind kind, int sat,
                     Dangan__V1__FeedbackStatus status)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Feedback f = DANGAN__V1__FEEDBACK__INIT;

    f.customer_id = cust;
    f.at_ms = when;
    f.kind = kind;
    f.satisfaction = sat;
    f.status = status;
    f.text = "意见";
    rec.kind_case = DANGAN__V1__RECORD__KIND_FEEDBACK;
    rec.feedback = &f;
    create(admin, &rec);
}

static int setup(void **state)
{
    dgt_run run;

    (void)state;
    dgt_server_start_prog(&srv, NULL, DANGAND_TEST_PATH);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-password-1");
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    dgt_make_user(&srv, "view", DANGAN__V1__ROLE__ROLE_VIEWER, "viewer-password-1");
    mgr = dgt_login(&srv, "mgr", "manager-password-1");
    s1 = dgt_login(&srv, "s1", "sales-one-password-1");

    c1 = customer("甲制造", DANGAN__V1__TIER__TIER_B,
                  DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE, "s1", "制造业", "上海", "");
    c2 = customer("乙电子", DANGAN__V1__TIER__TIER_A,
                  DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE, "s1", "制造业", "北京", "");
    c3 = customer("丙金融SECRET", DANGAN__V1__TIER__TIER_A,
                  DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST, "s2", "金融业", "", "价格");
    c4 = customer("丁贸易", DANGAN__V1__TIER__TIER_C,
                  DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST, "s1", "", "", "价格");
    c5 = customer("戊物流", DANGAN__V1__TIER__TIER_B,
                  DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST, "s2", "", "", "服务");
    c6 = customer("己餐饮", DANGAN__V1__TIER__TIER_B,
                  DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE, "s2", "", "", "");

    deal(c1, at(2026, 1, 31, 23, 30, 8), 10000, "CNY", "won", 100);
    deal(c2, at(2026, 2, 1, 0, 30, 8), 20000, "CNY", "won", 100);
    deal(c1, at(2026, 3, 15, 4, 0, 0), 5000, "USD", "won", 100);
    deal(c3, at(2026, 2, 10, 12, 0, 8), 40000, "CNY", "won", 100);
    deal(c1, at(2026, 1, 10, 12, 0, 8), 100000, "CNY", "proposal", 50);
    deal(c2, at(2026, 1, 20, 12, 0, 8), 99900, "CNY", "lost", 0);
    deal(c5, at(2026, 1, 25, 12, 0, 8), 30000, "CNY", "lead", 10);

    note(s1, c1, at(2026, 1, 5, 10, 0, 8), DANGAN__V1__CHANNEL__CHANNEL_PHONE);
    note(s1, c2, at(2026, 1, 12, 0, 30, 8), DANGAN__V1__CHANNEL__CHANNEL_PHONE);
    note(s1, c1, at(2026, 1, 13, 15, 0, 8), DANGAN__V1__CHANNEL__CHANNEL_MEETING);
    note(s1, c1, at(2026, 1, 6, 9, 0, 8), DANGAN__V1__CHANNEL__CHANNEL_EMAIL);
    note(admin, c6, (int64_t)time(NULL) * 1000 - 80 * DAY_MS, DANGAN__V1__CHANNEL__CHANNEL_EMAIL);

    feedback(c1, at(2026, 1, 10, 12, 0, 8), DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_SURVEY, 4,
             DANGAN__V1__FEEDBACK_STATUS__FEEDBACK_STATUS_CLOSED);
    feedback(c1, at(2026, 1, 20, 12, 0, 8), DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_COMPLAINT, 5,
             DANGAN__V1__FEEDBACK_STATUS__FEEDBACK_STATUS_RESOLVED);
    feedback(c2, at(2026, 2, 1, 0, 30, 8), DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_COMPLAINT, 0,
             DANGAN__V1__FEEDBACK_STATUS__FEEDBACK_STATUS_OPEN);
    feedback(c3, at(2026, 1, 15, 12, 0, 8), DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_COMPLAINT, 1,
             DANGAN__V1__FEEDBACK_STATUS__FEEDBACK_STATUS_OPEN);

    snprintf(cfg_mgr, sizeof cfg_mgr, "%s/cli-mgr", srv.root);
    snprintf(cfg_s1, sizeof cfg_s1, "%s/cli-s1", srv.root);
    snprintf(cfg_viewer, sizeof cfg_viewer, "%s/cli-view", srv.root);
    dgt_cli_login(&run, cfg_mgr, &srv, "mgr", "manager-password-1");
    dgt_cli_login(&run, cfg_s1, &srv, "s1", "sales-one-password-1");
    dgt_cli_login(&run, cfg_viewer, &srv, "view", "viewer-password-1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(s1);
    dg_client_close(mgr);
    dg_client_close(admin);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ reading */

static dg_reply *report(dg_client *c, const char *kind, const char *from, const char *to,
                        const char *by, const char *owner)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ReportRequest m = DANGAN__V1__REPORT_REQUEST__INIT;

    m.kind = (char *)kind;
    m.from = (char *)from;
    m.to = (char *)to;
    m.by = (char *)by;
    m.owner = (char *)owner;
    req.body_case = DANGAN__V1__REQUEST__BODY_REPORT;
    req.report = &m;
    return dgt_call(c, &req);
}

static const Dangan__V1__ReportSection *sect(const dg_reply *r, const char *name)
{
    const Dangan__V1__ReportResponse *p = dg_reply_response(r)->report;

    assert_int_equal(dgt_code(r), 0);
    for (size_t i = 0; i < p->n_sections; i++)
        if (!strcmp(p->sections[i]->name, name))
            return p->sections[i];
    fail_msg("no section %s", name);
    return NULL;
}

/* Row `row` of the section as "a|b|c": every cell's text or number
 * (money: minor units and currency; decimals: hundredths; empty: "-"). */
static const char *line(const Dangan__V1__ReportSection *s, const Dangan__V1__ReportRow *row)
{
    static char out[1024];
    size_t n = 0;

    out[0] = '\0';
    for (size_t k = 0; k < row->n_cells && n < sizeof out - 64; k++) {
        const Dangan__V1__ReportCell *c = row->cells[k];
        const char *sep = k ? "|" : "";

        switch (s->columns[k]->type) {
        case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_INT:
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", sep, (long long)c->number);
            break;
        case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_MONEY:
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld %s", sep, (long long)c->number,
                                  c->currency);
            break;
        case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DECIMAL:
            if (c->is_empty)
                n += (size_t)snprintf(out + n, sizeof out - n, "%s-", sep);
            else
                n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", sep, (long long)c->number);
            break;
        default:
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", sep, c->text);
        }
    }
    return out;
}

/* The section's rows then its totals, one line each, joined by newlines. */
static const char *table(const Dangan__V1__ReportSection *s)
{
    static char out[8192];
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < s->n_rows; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s\n", line(s, s->rows[i]));
    for (size_t i = 0; i < s->n_totals; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "T %s\n", line(s, s->totals[i]));
    return out;
}

static void expect(dg_client *c, const char *kind, const char *from, const char *to, const char *by,
                   const char *owner, const char *section, const char *want)
{
    dg_reply *r = report(c, kind, from, to, by, owner);

    if (dgt_code(r) != 0)
        fail_msg("report %s: %s", kind, dg_reply_response(r)->status->message);
    assert_string_equal(table(sect(r, section)), want);
    dg_reply_free(r);
}

/* ------------------------------------------------------------ tests */

static void test_summary_counts_what_each_user_may_see(void **state)
{
    (void)state;
    expect(mgr, "summary", "", "", "", "", "by_tier",
           "a|2|3333\nb|3|5000\nc|1|1667\nT Total|6|10000\n");
    expect(s1, "summary", "", "", "", "", "by_tier",
           "a|1|2000\nb|3|6000\nc|1|2000\nT Total|5|10000\n");
    expect(mgr, "summary", "", "", "status", "", "by_status",
           "active|3|5000\nlost|3|5000\nT Total|6|10000\n");
    expect(mgr, "summary", "", "", "industry", "", "by_industry",
           "制造业|2|3333\n金融业|1|1667\n|3|5000\nT Total|6|10000\n");
    expect(mgr, "summary", "", "", "owner", "", "by_owner",
           "s1|3|5000\ns2|3|5000\nT Total|6|10000\n");
    expect(mgr, "summary", "", "", "", "s2", "by_owner", "s2|3|10000\nT Total|3|10000\n");
}

static void test_revenue_counts_won_deals_in_the_teams_months(void **state)
{
    (void)state;
    /* D2 is 2026-01-31T16:30Z: January in UTC, February in Shanghai */
    expect(mgr, "revenue", "2026-01-01", "2026-03-31", "month", "", "revenue",
           "2026-01|2026-01-01|2026-01-31|CNY|1|10000 CNY\n"
           "2026-02|2026-02-01|2026-02-28|CNY|2|60000 CNY\n"
           "2026-03|2026-03-01|2026-03-31|USD|1|5000 USD\n"
           "T Total|||CNY|3|70000 CNY\nT Total|||USD|1|5000 USD\n");
    expect(s1, "revenue", "2026-01-01", "2026-03-31", "", "", "revenue",
           "2026-01|2026-01-01|2026-01-31|CNY|1|10000 CNY\n"
           "2026-02|2026-02-01|2026-02-28|CNY|1|20000 CNY\n"
           "2026-03|2026-03-01|2026-03-31|USD|1|5000 USD\n"
           "T Total|||CNY|2|30000 CNY\nT Total|||USD|1|5000 USD\n");
    expect(mgr, "revenue", "2026-01-15", "2026-06-30", "quarter", "", "revenue",
           "2026-Q1|2026-01-15|2026-03-31|CNY|3|70000 CNY\n"
           "2026-Q1|2026-01-15|2026-03-31|USD|1|5000 USD\n"
           "2026-Q2|2026-04-01|2026-06-30|CNY|0|0 CNY\n"
           "T Total|||CNY|3|70000 CNY\nT Total|||USD|1|5000 USD\n");
    expect(mgr, "revenue", "2026-01-01", "2026-03-31", "owner", "", "revenue",
           "s1|CNY|2|30000 CNY\ns1|USD|1|5000 USD\ns2|CNY|1|40000 CNY\n"
           "T Total|CNY|3|70000 CNY\nT Total|USD|1|5000 USD\n");
    /* the last day of January ends at 16:00Z on the 31st */
    expect(mgr, "revenue", "2026-01-31", "2026-01-31", "month", "", "revenue",
           "2026-01|2026-01-31|2026-01-31|CNY|1|10000 CNY\nT Total|||CNY|1|10000 CNY\n");
}

static void test_pipeline_weighs_open_deals_in_stage_order(void **state)
{
    (void)state;
    expect(mgr, "pipeline", "", "", "", "", "pipeline",
           "lead|线索||CNY|1|30000 CNY|3000 CNY\n"
           "qualified|需求确认||CNY|0|0 CNY|0 CNY\n"
           "proposal|方案报价||CNY|1|100000 CNY|50000 CNY\n"
           "negotiation|商务谈判||CNY|0|0 CNY|0 CNY\n"
           "T Total|||CNY|2|130000 CNY|53000 CNY\n");
}

static void test_activity_counts_calls_and_visits_per_week_against_cadence(void **state)
{
    (void)state;
    /* s1 owns c1 (B) and c2 (A): calls 7/7 + 7/7 = 2.00 a week, visits
     * 7/90 + 7/60 = 0.08 + 0.12; s2 owns c6 (B) among the customers not lost */
    expect(mgr, "activity", "2026-01-05", "2026-01-18", "", "", "activity",
           "2026-01-05|s1|1|200|0|20\n2026-01-05|s2|0|100|0|8\n"
           "2026-01-12|s1|1|200|1|20\n2026-01-12|s2|0|100|0|8\n"
           "T Total||2|600|1|56\n");
    expect(mgr, "activity", "2026-01-05", "2026-01-18", "", "s1", "activity",
           "2026-01-05|s1|1|200|0|20\n2026-01-12|s1|1|200|1|20\nT Total||2|400|1|40\n");
}

static void test_churn_lists_follow_the_clock_and_visibility(void **state)
{
    dg_reply *r;

    (void)state;
    expect(mgr, "churn", "", "", "", "", "by_reason",
           "价格|2|6667\n服务|1|3333\nT Total|3|10000\n");
    expect(s1, "churn", "", "", "", "", "by_reason", "价格|1|5000\n服务|1|5000\nT Total|2|10000\n");
    expect(mgr, "churn", "", "", "", "", "risk", "past|2|6667\nnearing|1|3333\nT Total|3|10000\n");
    r = report(mgr, "churn", "", "", "", "");
    {
        const Dangan__V1__ReportSection *s = sect(r, "at_risk");

        assert_int_equal(s->n_rows, 3);
        assert_string_equal(s->rows[0]->cells[1]->text, "乙电子");
        assert_string_equal(s->rows[0]->cells[5]->text, "2026-01-12");
        assert_string_equal(s->rows[1]->cells[1]->text, "甲制造");
        assert_string_equal(s->rows[2]->cells[1]->text, "己餐饮");
        assert_int_equal(s->rows[2]->cells[6]->number, 80);
        assert_string_equal(s->rows[2]->cells[7]->text, "nearing");
        s = sect(r, "win_back");
        assert_int_equal(s->n_rows, 3);
        assert_string_equal(s->rows[0]->cells[1]->text, "丙金融SECRET");
        assert_string_equal(s->rows[0]->cells[4]->text, "价格");
    }
    dg_reply_free(r);
    r = report(s1, "churn", "", "", "", "");
    assert_int_equal(sect(r, "win_back")->n_rows, 2);
    assert_null(strstr(table(sect(r, "win_back")), "SECRET"));
    dg_reply_free(r);
}

/* Last: the clock moves 11 days on (sessions expire; a new login), and c6,
 * then 91 days without contact, is past dormancy. */
static void test_at_risk_follows_the_clock(void **state)
{
    dg_client *m;

    (void)state;
    dgt_clock_advance(&srv, 11 * DAY_MS);
    m = dgt_login(&srv, "mgr", "manager-password-1");
    expect(m, "churn", "", "", "", "", "risk", "past|3|10000\nT Total|3|10000\n");
    dg_client_close(m);
}

static void test_satisfaction_by_month(void **state)
{
    (void)state;
    expect(mgr, "satisfaction", "2026-01-01", "2026-02-28", "", "", "satisfaction",
           "2026-01|2026-01-01|2026-01-31|3|3|333|2|1|1\n"
           "2026-02|2026-02-01|2026-02-28|1|0|-|1|1|0\n"
           "T Total|||4|3|333|3|2|1\n");
    expect(s1, "satisfaction", "2026-01-01", "2026-02-28", "", "", "satisfaction",
           "2026-01|2026-01-01|2026-01-31|2|2|450|1|0|1\n"
           "2026-02|2026-02-01|2026-02-28|1|0|-|1|1|0\n"
           "T Total|||3|2|450|2|1|1\n");
}

static void test_bad_requests_are_refused(void **state)
{
    static const char *const bad[][5] = {
        {"forecast", "", "", "", ""},
        {"revenue", "2026-02-30", "", "", ""},
        {"revenue", "2026-03-01", "2026-02-01", "", ""},
        {"revenue", "", "", "year", ""},
        {"revenue", "", "", "", "nobody"},
        {"summary", "2026-01-01", "", "", ""},
        {"revenue", "2000-01-01", "2026-01-01", "week", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dg_reply *r = report(mgr, bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4]);

        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
        dg_reply_free(r);
    }
}

/* ------------------------------------------------------------ the CLI */

static void cli(dgt_run *run, const char *cfg, const char *const *argv)
{
    dgt_cli(run, cfg, NULL, argv);
}

static void test_cli_shows_tables_json_and_refuses_bad_input(void **state)
{
    dgt_run run;

    (void)state;
    cli(&run, cfg_mgr,
        (const char *const[]){"report", "revenue", "--from", "2026-01-01", "--to", "2026-03-31",
                              NULL});
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "Won deals by period"));
    assert_non_null(strstr(run.out, "CNY 600.00"));
    assert_non_null(strstr(run.out, "USD 50.00"));

    cli(&run, cfg_mgr, (const char *const[]){"--json", "report", "pipeline", NULL});
    assert_int_equal(run.status, 0);
    {
        json_t *doc = json_loads(run.out, 0, NULL), *row;

        assert_non_null(doc);
        row = json_array_get(
            json_object_get(json_array_get(json_object_get(doc, "sections"), 0), "rows"), 2);
        assert_string_equal(json_string_value(json_object_get(row, "stage")), "proposal");
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(row, "weighted"), "amount_minor")),
            50000);
        json_decref(doc);
    }

    cli(&run, cfg_s1, (const char *const[]){"--json", "report", "churn", NULL});
    assert_int_equal(run.status, 0);
    assert_null(strstr(run.out, "SECRET"));
    { /* the lists say how many they leave out: none here */
        json_t *doc = json_loads(run.out, 0, NULL), *secs = json_object_get(doc, "sections");

        assert_non_null(doc);
        for (size_t i = 0; i < json_array_size(secs); i++) {
            const char *name = json_string_value(json_object_get(json_array_get(secs, i), "name"));

            if (!strcmp(name, "at_risk") || !strcmp(name, "win_back"))
                assert_int_equal(
                    json_integer_value(json_object_get(json_array_get(secs, i), "more")), 0);
            else
                assert_null(json_object_get(json_array_get(secs, i), "more"));
        }
        assert_non_null(strstr(run.out, "\"more\": 0"));
        json_decref(doc);
    }
    cli(&run, cfg_s1, (const char *const[]){"report", "summary", "--by", "industry", NULL});
    assert_int_equal(run.status, 0);
    assert_null(strstr(run.out, "金融业"));

    {
        static const char *const bad[][8] = {
            {"report", "forecast", NULL},
            {"report", "revenue", "--from", "2026-13-01", NULL},
            {"report", "revenue", "--from", "2026-03-01", "--to", "2026-02-01", NULL},
            {"report", "revenue", "--owner", "nobody", NULL},
            {"report", "revenue", "-o", "x.pdf", NULL},
        };

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            cli(&run, cfg_mgr, bad[i]);
            assert_int_equal(run.status, 2);
            assert_non_null(strchr(run.err, '\n'));
        }
    }
}

static void test_cli_writes_csv_and_xlsx(void **state)
{
    dgt_run run;
    char csv[600], xlsx[600], buf[4096];
    FILE *f;
    size_t n;
    struct stat st;

    (void)state;
    snprintf(csv, sizeof csv, "%s/revenue.csv", srv.root);
    snprintf(xlsx, sizeof xlsx, "%s/churn.xlsx", srv.root);
    cli(&run, cfg_s1,
        (const char *const[]){"report", "revenue", "--from", "2026-01-01", "--to", "2026-03-31",
                              "-o", csv, NULL});
    assert_int_equal(run.status, 0);
    f = fopen(csv, "rb");
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    {
        static const char head[] =
            "\xef\xbb\xbfrevenue\r\nperiod,from,to,currency,deals,amount\r\n";

        assert_memory_equal(buf, head, sizeof head - 1);
    }
    assert_non_null(strstr(buf, "2026-02,2026-02-01,2026-02-28,CNY,1,200.00\r\n"));
    assert_non_null(strstr(buf, "Total,,,CNY,2,300.00\r\n"));

    cli(&run, cfg_s1, (const char *const[]){"report", "churn", "-o", xlsx, NULL});
    assert_int_equal(run.status, 0);
    assert_int_equal(stat(xlsx, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    f = fopen(xlsx, "rb");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, 2, f), 2);
    fclose(f);
    assert_memory_equal(buf, "PK", 2);

    /* viewers read reports but do not export them */
    snprintf(csv, sizeof csv, "%s/viewer.csv", srv.root);
    cli(&run, cfg_viewer, (const char *const[]){"report", "summary", "-o", csv, NULL});
    assert_int_equal(run.status, 6);
    assert_int_not_equal(stat(csv, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_counts_what_each_user_may_see),
        cmocka_unit_test(test_revenue_counts_won_deals_in_the_teams_months),
        cmocka_unit_test(test_pipeline_weighs_open_deals_in_stage_order),
        cmocka_unit_test(test_activity_counts_calls_and_visits_per_week_against_cadence),
        cmocka_unit_test(test_churn_lists_follow_the_clock_and_visibility),
        cmocka_unit_test(test_satisfaction_by_month),
        cmocka_unit_test(test_bad_requests_are_refused),
        cmocka_unit_test(test_cli_shows_tables_json_and_refuses_bad_input),
        cmocka_unit_test(test_cli_writes_csv_and_xlsx),
        cmocka_unit_test(test_at_risk_follows_the_clock),
    };

    setenv("TZ", "UTC", 1); /* the machine in UTC, the team in Asia/Shanghai */
    tzset();
    return cmocka_run_group_tests_name("reports", tests, setup, teardown);
}
