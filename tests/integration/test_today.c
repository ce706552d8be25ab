/* test_today.c - `dangan today` (the Today request) against a dangand-test
 * whose clock the test drives: fixed data with hand-computed lists for each
 * section and tier at the cadence boundary, across midnight in the team's
 * zone (Asia/Shanghai, the default) while this process and the CLI run in
 * UTC: at 23:58 Shanghai (15:58Z) an item is due tomorrow, after 00:00
 * Shanghai (16:00Z, the same UTC date) it is due today. Managers' --owner
 * and --team, a sales user refused another's list (audited), a restricted
 * customer left out of a list of one who may not see it, and the same lists
 * after a database of the previous schema migrates (the backfill).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fixture.h"
#include "tz.h"

#define DAY_MS (24LL * 3600 * 1000)

static dgt_server srv;
static char cfg_admin[256], cfg_rep1[256], cfg_rep2[256], cfg_mgr[256];
static dgt_run run;               /* big buffers: static, not on the stack */
static char today_l[DG_DATE_LEN]; /* the Shanghai date at 23:58 (L) */
static char a_due_code[32];       /* A-due's code: rep1's tasks are on it */

#define CLI(cfg, ...)                                                                              \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, NULL, argv_);                                                           \
    } while (0)

#define CLI_OK(cfg, ...)                                                                           \
    do {                                                                                           \
        CLI(cfg, __VA_ARGS__);                                                                     \
        if (run.status != 0)                                                                       \
            fail_msg("exit %d\nstdout: %s\nstderr: %s", run.status, run.out, run.err);             \
    } while (0)

/* Date L + days. */
static const char *day(int days)
{
    static char buf[8][DG_DATE_LEN];
    static int next;
    char *out = buf[next++ % 8];

    assert_int_equal(dg_date_add_days(today_l, days, out), DG_OK);
    return out;
}

/* "DATE(L + days)THH:MM+08:00": a Shanghai local time. */
static const char *at(int days, const char *hhmm)
{
    static char buf[8][48];
    static int next;
    char *out = buf[next++ % 8];

    snprintf(out, 48, "%sT%s+08:00", day(days), hhmm);
    return out;
}

/* A customer of `owner` (tier "" for none); its code into code. */
static void customer(const char *name, const char *tier, const char *owner, char code[32])
{
    char set_tier[32], set_owner[64];

    snprintf(set_tier, sizeof set_tier, "tier=%s", tier);
    snprintf(set_owner, sizeof set_owner, "owner=%s", owner);
    if (tier[0])
        CLI_OK(cfg_admin, "--json", "customer", "add", "--name", name, "--set", set_tier, "--set",
               set_owner, "--force");
    else
        CLI_OK(cfg_admin, "--json", "customer", "add", "--name", name, "--set", set_owner,
               "--force");
    {
        json_error_t e;
        json_t *j = json_loads(run.out, 0, &e);

        assert_non_null(j);
        snprintf(code, 32, "%s",
                 json_string_value(json_object_get(
                     json_object_get(json_object_get(j, "record"), "customer"), "code")));
        json_decref(j);
    }
}

static void note(const char *code, const char *channel, const char *when, const char *follow_up)
{
    if (follow_up)
        CLI_OK(cfg_admin, "note", "add", code, "--channel", channel, "--summary", "记录", "--at",
               when, "--next-follow-up", follow_up);
    else
        CLI_OK(cfg_admin, "note", "add", code, "--channel", channel, "--summary", "记录", "--at",
               when);
}

/* A task; its id. */
static long long task(const char *code, const char *title, const char *due, const char *assignee)
{
    json_t *j;
    long long id;

    CLI_OK(cfg_admin, "--json", "task", "add", code, "--due", due, "--title", title, "--assignee",
           assignee);
    j = json_loads(run.out, 0, NULL);
    assert_non_null(j);
    id = (long long)json_integer_value(
        json_object_get(json_object_get(json_object_get(j, "record"), "task"), "id"));
    json_decref(j);
    return id;
}

static void contract(const char *code, const char *expires)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/contract-%s-%s.txt", srv.root, code, expires);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "contract of %s until %s\n", code, expires);
    fclose(f);
    CLI_OK(cfg_admin, "doc", "upload", code, path, "--kind", "contract", "--expires", expires);
}

/* A contract of `code` (file `tag`) expiring on `expires`; its id. */
static long long contract_tagged(const char *code, const char *tag, const char *expires)
{
    char path[512];
    long long id = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/contract-%s-%s.txt", srv.root, code, tag);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "contract %s of %s until %s\n", tag, code, expires);
    fclose(f);
    CLI_OK(cfg_admin, "doc", "upload", code, path, "--kind", "contract", "--expires", expires);
    assert_int_equal(sscanf(run.out, "Uploaded document %lld", &id), 1);
    return id;
}

/* The total of one section of rep1's list in a `today --json` output. */
static long long section_total(const char *out, const char *name)
{
    json_t *j = json_loads(out, 0, NULL), *l, *s;
    long long total = -1;
    size_t i, k;

    assert_non_null(j);
    json_array_foreach(json_object_get(j, "lists"), i, l)
    {
        json_array_foreach(json_object_get(l, "sections"), k, s)
        {
            if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
                total = (long long)json_integer_value(json_object_get(s, "total"));
        }
    }
    json_decref(j);
    return total;
}

/* "name:days,name:days" of one section of list `list` (by user name) of a
 * `dangan today --json` output. */
static char *section(const char *out, const char *user, const char *name)
{
    static char buf[1024];
    json_error_t e;
    json_t *j = json_loads(out, 0, &e), *lists, *l;
    size_t i, k;

    if (!j)
        fail_msg("not JSON: %s", out);
    buf[0] = '\0';
    lists = json_object_get(j, "lists");
    json_array_foreach(lists, i, l)
    {
        json_t *s, *it;

        if (strcmp(json_string_value(json_object_get(json_object_get(l, "user"), "username")),
                   user) != 0)
            continue;
        json_array_foreach(json_object_get(l, "sections"), k, s)
        {
            size_t m;

            if (strcmp(json_string_value(json_object_get(s, "name")), name) != 0)
                continue;
            json_array_foreach(json_object_get(s, "items"), m, it)
            {
                json_t *days = json_object_get(it, "days");
                /* tasks by their title, the rest by their customer's name */
                const char *label = json_string_value(
                    json_object_get(it, strstr(name, "tasks") ? "title" : "customer_name"));
                snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s:%lld",
                         buf[0] ? "," : "", label, days ? (long long)json_integer_value(days) : 0);
            }
        }
    }
    json_decref(j);
    return buf;
}

#define SECTION_IS(user, name, want)                                                               \
    do {                                                                                           \
        const char *got_ = section(run.out, user, name);                                           \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("%s %s: got \"%s\", wanted \"%s\"", user, name, got_, want);                  \
    } while (0)

static void login_as(char *cfg, size_t len, const char *user, const char *password)
{
    dgt_tempdir(cfg, len);
    dgt_cli_login(&run, cfg, &srv, user, password);
}

/* The data, relative to L (the Shanghai date at 23:58). Cadence by tier
 * (the defaults): A call 7 visit 60, B 7 and 90, C 14 and 120. X-due was
 * last called and visited exactly the cadence before L (due on L, 0 days
 * past), X-next a day later (due on L + 1); an e-mail the day before is no
 * call. */
static void make_data(void)
{
    static const struct {
        const char *tier;
        int call, visit;
    } tiers[] = {{"a", 7, 60}, {"b", 7, 90}, {"c", 14, 120}};
    char code[32], a_due[32], secret[32], name[32];

    for (size_t i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%c-due", 'A' + (int)i);
        customer(name, tiers[i].tier, "rep1", code);
        if (i == 0) {
            snprintf(a_due, sizeof a_due, "%s", code);
            snprintf(a_due_code, sizeof a_due_code, "%s", code);
        }
        note(code, "phone", at(-tiers[i].call, "12:00"), NULL);
        note(code, "visit", at(-tiers[i].visit, "12:00"), NULL);
        note(code, "email", at(-1, "12:00"), NULL);
        snprintf(name, sizeof name, "%c-next", 'A' + (int)i);
        customer(name, tiers[i].tier, "rep1", code);
        note(code, "phone", at(1 - tiers[i].call, "00:05"), NULL);
        note(code, "meeting", at(1 - tiers[i].visit, "00:05"), NULL);
    }
    /* dormant after 90 days: the week before is the window */
    customer("D-5left", "", "rep1", code);
    note(code, "email", at(-85, "10:00"), NULL);
    customer("D-8left", "", "rep1", code);
    note(code, "im", at(-82, "10:00"), NULL);
    customer("D-gone", "", "rep1", code);
    note(code, "im", at(-90, "10:00"), NULL);
    /* follow-ups: the newest note's date, unless a later note answered it */
    customer("F-today", "", "rep1", code);
    note(code, "phone", at(-3, "10:00"), day(0));
    customer("F-tomorrow", "", "rep1", code);
    note(code, "phone", at(-3, "10:00"), day(1));
    customer("F-answered", "", "rep1", code);
    note(code, "phone", at(-5, "10:00"), day(-2));
    note(code, "email", at(-1, "10:00"), NULL);
    customer("F-late", "", "rep1", code);
    note(code, "phone", at(-10, "10:00"), day(-4));
    /* contracts: within 30 days, expired and not renewed */
    customer("K-soon", "", "rep1", code);
    contract(code, day(10));
    customer("K-far", "", "rep1", code);
    contract(code, day(31));
    customer("K-expired", "", "rep1", code);
    contract(code, day(-3));
    customer("K-renewed", "", "rep1", code);
    contract(code, day(-3));
    contract(code, day(300));
    /* tasks */
    task(a_due, "t-overdue", at(-3, "10:00"), "rep1");
    task(a_due, "t-today", at(0, "10:00"), "rep1");
    task(a_due, "t-tomorrow", at(1, "09:00"), "rep1");
    snprintf(code, sizeof code, "%lld", task(a_due, "t-done", at(-1, "10:00"), "rep1"));
    CLI_OK(cfg_admin, "task", "done", code);
    /* rep1's task on a customer handed over to rep2 (the task kept), then
     * made tier A: restricted, and rep1 no longer its owner */
    customer("R-secret", "b", "rep1", secret);
    task(secret, "t-secret", at(0, "11:00"), "rep1");
    CLI_OK(cfg_admin, "customer", "reassign", secret, "--to", "rep2", "--keep-tasks");
    CLI_OK(cfg_admin, "customer", "edit", secret, "--set", "tier=a");
}

static void expect_day_l(const char *user)
{
    SECTION_IS(user, "overdue_tasks", "t-overdue:3");
    SECTION_IS(user, "calls_due", "A-due:0,B-due:0,C-due:0");
    SECTION_IS(user, "visits_due", "A-due:0,B-due:0,C-due:0");
    SECTION_IS(user, "follow_ups", "F-late:4,F-today:0");
    SECTION_IS(user, "contracts", "K-expired:-3,K-soon:10");
    SECTION_IS(user, "turning_dormant", "D-5left:5");
}

static void expect_day_m(void)
{
    SECTION_IS("rep1", "overdue_tasks", "t-overdue:4,t-today:1");
    SECTION_IS("rep1", "tasks_today", "t-tomorrow:0");
    SECTION_IS("rep1", "calls_due", "A-due:1,B-due:1,C-due:1,A-next:0,B-next:0,C-next:0");
    SECTION_IS("rep1", "visits_due", "A-due:1,B-due:1,C-due:1,A-next:0,B-next:0,C-next:0");
    SECTION_IS("rep1", "follow_ups", "F-late:5,F-today:1,F-tomorrow:0");
    SECTION_IS("rep1", "contracts", "K-expired:-4,K-soon:9,K-far:30");
    SECTION_IS("rep1", "turning_dormant", "D-5left:4,D-8left:7");
}

static void test_today_across_midnight_in_shanghai(void **state)
{
    int64_t now = (int64_t)time(NULL) * 1000, target;
    time_t secs;
    struct tm tm;

    (void)state;
    /* 15:58Z (23:58 Shanghai) today or tomorrow, at least a minute away */
    secs = (time_t)(now / 1000);
    gmtime_r(&secs, &tm);
    tm.tm_hour = 15;
    tm.tm_min = 58;
    tm.tm_sec = 0;
    target = (int64_t)timegm(&tm) * 1000;
    if (target < now + 60000)
        target += DAY_MS;
    secs = (time_t)(target / 1000);
    gmtime_r(&secs, &tm);
    strftime(today_l, sizeof today_l, "%Y-%m-%d", &tm);

    dgt_server_start_prog(&srv, NULL, DANGAND_TEST_PATH);
    dgt_clock_advance(&srv, target - now);
    dgt_make_user(&srv, "rep1", DANGAN__V1__ROLE__ROLE_SALES, "rep1-password-1234");
    dgt_make_user(&srv, "rep2", DANGAN__V1__ROLE__ROLE_SALES, "rep2-password-1234");
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "mgr-password-12345");
    login_as(cfg_admin, sizeof cfg_admin, "admin", srv.admin_password);
    login_as(cfg_rep1, sizeof cfg_rep1, "rep1", "rep1-password-1234");
    login_as(cfg_rep2, sizeof cfg_rep2, "rep2", "rep2-password-1234");
    login_as(cfg_mgr, sizeof cfg_mgr, "mgr", "mgr-password-12345");
    make_data();

    /* 23:58 Shanghai: day L */
    CLI_OK(cfg_rep1, "--json", "today");
    {
        json_t *j = json_loads(run.out, 0, NULL);

        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "time_zone")), "Asia/Shanghai");
        if (strcmp(json_string_value(json_object_get(j, "today")), today_l) != 0)
            fail_msg("today is %s, wanted %s (did setting up take over 2 minutes?)",
                     json_string_value(json_object_get(j, "today")), today_l);
        json_decref(j);
    }
    expect_day_l("rep1");
    SECTION_IS("rep1", "tasks_today", "t-today:0"); /* not R-secret's: restricted */
    /* a manager sees rep1's list, the restricted customer's task included */
    CLI_OK(cfg_mgr, "--json", "today", "--owner", "rep1");
    expect_day_l("rep1");
    SECTION_IS("rep1", "tasks_today", "t-today:0,t-secret:0");
    CLI_OK(cfg_mgr, "--json", "today", "--team");
    expect_day_l("rep1");
    SECTION_IS("rep2", "tasks_today", "");
    SECTION_IS("mgr", "calls_due", "");
    /* sales see their own list only, and the refusal is on record */
    CLI(cfg_rep2, "--json", "today", "--owner", "rep1");
    assert_int_equal(run.status, 6);
    assert_non_null(strstr(run.err, "PERMISSION_DENIED"));
    CLI(cfg_rep2, "today", "--team");
    assert_int_equal(run.status, 6);
    CLI_OK(cfg_admin, "--json", "audit", "list", "--action", "today.read", "--outcome", "denied");
    assert_non_null(strstr(run.out, "not_own_list"));
    /* the human list: sections, marks, names */
    CLI_OK(cfg_rep1, "today");
    assert_non_null(strstr(run.out, "Overdue tasks"));
    assert_non_null(strstr(run.out, "3 days overdue"));
    assert_non_null(strstr(run.out, "A-due"));
    assert_non_null(strstr(run.out, "Asia/Shanghai"));

    /* past midnight in Shanghai (16:00:30Z at the latest, the same UTC date) */
    dgt_clock_advance(&srv, 150 * 1000);
    CLI_OK(cfg_rep1, "--json", "today");
    expect_day_m();

    /* a database of the previous schema: the columns filled on migration */
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_schema_back_to(&srv, 12);
    dgt_server_restart_same_port(&srv);
    assert_true(dgt_log_has(&srv, "msg=\"schema migrated\" version=13"));
    CLI_OK(cfg_rep1, "--json", "today");
    expect_day_m();

    /* what the list keeps beside the records follows their writes: two
     * contracts expiring the same day are both listed, one archived leaves
     * the other; an archived customer's tasks leave the list and its count */
    {
        char tie[32], id[32];

        customer("K-tie", "", "rep1", tie);
        contract_tagged(tie, "one", day(20));
        snprintf(id, sizeof id, "%lld", contract_tagged(tie, "two", day(20)));
        CLI_OK(cfg_rep1, "--json", "today");
        SECTION_IS("rep1", "contracts", "K-expired:-4,K-soon:9,K-tie:19,K-tie:19,K-far:30");
        assert_int_equal(section_total(run.out, "contracts"), 5);
        CLI_OK(cfg_admin, "doc", "archive", id);
        CLI_OK(cfg_rep1, "--json", "today");
        SECTION_IS("rep1", "contracts", "K-expired:-4,K-soon:9,K-tie:19,K-far:30");
        assert_int_equal(section_total(run.out, "contracts"), 4);
        assert_int_equal(section_total(run.out, "overdue_tasks"), 2);
        CLI_OK(cfg_admin, "customer", "archive", a_due_code);
        CLI_OK(cfg_rep1, "--json", "today");
        SECTION_IS("rep1", "overdue_tasks", "");
        SECTION_IS("rep1", "tasks_today", "");
        assert_int_equal(section_total(run.out, "overdue_tasks"), 0);
        assert_int_equal(section_total(run.out, "tasks_today"), 0);
    }
    dgt_server_stop(&srv);
}

/* Usage errors need no server; viewers and auditors have no list. */
static void test_today_usage(void **state)
{
    char cfg[256];

    (void)state;
    dgt_tempdir(cfg, sizeof cfg);
    CLI(cfg, "today", "--team", "--owner", "x");
    assert_int_equal(run.status, 2);
    CLI(cfg, "today", "--limit", "0");
    assert_int_equal(run.status, 2);
    CLI(cfg, "today", "extra");
    assert_int_equal(run.status, 2);
    dgt_rmtree(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_today_usage),
        cmocka_unit_test(test_today_across_midnight_in_shanghai),
    };

    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
