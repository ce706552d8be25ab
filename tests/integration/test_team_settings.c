/* test_team_settings.c - the team's settings against a real server over
 * TLS: GetTeamSettings/SetTeamSettings round trip and the version they are
 * based on, every refusal with its reason (each audited), admins only, kept
 * across a restart, the zone in SessionInfo; and the CLI: `settings show|set`
 * and every time shown or typed in the team's zone while the machine runs in
 * UTC (10:00 in Shanghai is 02:00Z), --utc for the Z form. */
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

static dgt_server srv;
static char cfg[256];
static dgt_run run; /* big buffers: static, not on the stack */

#define CLI(input, ...)                                                                            \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

#define CLI_EXPECT(status_, ...)                                                                   \
    do {                                                                                           \
        CLI(NULL, __VA_ARGS__);                                                                    \
        if (run.status != (status_))                                                               \
            fail_msg("exit %d, wanted %d\nstdout: %s\nstderr: %s", run.status, (status_), run.out, \
                     run.err);                                                                     \
    } while (0)

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1); /* the machine runs in UTC; the team is in Asia/Shanghai */
    tzset();
    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-password-1");
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    assert_int_equal(run.status, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(cfg);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ protocol */

static dg_reply *get_settings(dg_client *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetTeamSettingsRequest m = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;
    dg_reply *r;

    req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
    req.get_team_settings = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    return r;
}

static dg_reply *set_settings(dg_client *c, Dangan__V1__TeamSettings *s)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SetTeamSettingsRequest m = DANGAN__V1__SET_TEAM_SETTINGS_REQUEST__INIT;

    m.settings = s;
    req.body_case = DANGAN__V1__REQUEST__BODY_SET_TEAM_SETTINGS;
    req.set_team_settings = &m;
    return dgt_call(c, &req);
}

static const Dangan__V1__TeamSettings *settings_of(const dg_reply *r)
{
    const Dangan__V1__Response *resp = dg_reply_response(r);

    return resp->body_case == DANGAN__V1__RESPONSE__BODY_GET_TEAM_SETTINGS
               ? resp->get_team_settings->settings
               : resp->set_team_settings->settings;
}

/* Admin's denied audit records of action team.settings so far. */
static size_t refusals(dg_client *c, const char *user)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_reply *r;
    size_t n;

    q.username = (char *)user;
    q.action = "team.settings";
    q.outcome = "denied";
    q.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    n = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);
    return n;
}

/* The detail of the newest "ok" audit record of action team.settings. */
static char *last_change_detail(dg_client *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_reply *r;
    char *detail;

    q.action = "team.settings";
    q.outcome = "ok";
    q.limit = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->audit_query->n_records, 1);
    detail = strdup(dg_reply_response(r)->audit_query->records[0]->detail);
    dg_reply_free(r);
    return detail;
}

/* A settings value the tests edit: a copy of what the server sent. */
struct edit {
    Dangan__V1__TeamSettings s;
    int32_t call[4], visit[4], share[4];
    Dangan__V1__PipelineStage st[12], *stp[12];
};

static void edit_from(struct edit *e, const Dangan__V1__TeamSettings *s)
{
    e->s = *s;
    for (int i = 0; i < 4; i++) {
        e->call[i] = s->call_every_days[i];
        e->visit[i] = s->visit_every_days[i];
        e->share[i] = s->tier_share_pct[i];
    }
    e->s.call_every_days = e->call;
    e->s.visit_every_days = e->visit;
    e->s.tier_share_pct = e->share;
    for (size_t i = 0; i < s->n_stages; i++) {
        e->st[i] = *s->stages[i];
        e->stp[i] = &e->st[i];
    }
    e->s.stages = e->stp;
    e->s.updated_by = NULL;
}

static void test_defaults_round_trip_and_version(void **state)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    dg_reply *r = get_settings(c), *w, *g;
    const Dangan__V1__TeamSettings *s = settings_of(r);
    struct edit e;
    char *detail;
    json_t *j, *ch;
    size_t n;

    (void)state;
    assert_string_equal(s->time_zone, "Asia/Shanghai");
    assert_string_equal(s->currency, "CNY");
    assert_int_equal(s->n_call_every_days, 4);
    assert_int_equal(s->call_every_days[1], 7);
    assert_int_equal(s->visit_every_days[1], 60);
    assert_int_equal(s->visit_every_days[2], 90);
    assert_int_equal(s->call_every_days[3], 14);
    assert_int_equal(s->visit_every_days[3], 120);
    assert_int_equal(s->tier_share_pct[1], 20);
    assert_int_equal(s->n_stages, 6);
    edit_from(&e, s);
    e.call[1] = 5;
    e.s.pool_max_claims = 8;
    e.st[0].label = "潜在线索";
    w = set_settings(c, &e.s);
    assert_int_equal(dgt_code(w), 0);
    assert_int_equal(settings_of(w)->version, s->version + 1);
    g = get_settings(c);
    assert_int_equal(settings_of(g)->call_every_days[1], 5);
    assert_int_equal(settings_of(g)->pool_max_claims, 8);
    assert_string_equal(settings_of(g)->stages[0]->label, "潜在线索");
    assert_int_equal(settings_of(g)->version, s->version + 1);
    assert_string_equal(settings_of(g)->updated_by->username, "admin");
    dg_reply_free(g);
    /* audited: each changed setting before → after, nothing else */
    detail = last_change_detail(c);
    j = json_loads(detail, 0, NULL);
    ch = json_object_get(j, "changes");
    assert_int_equal(json_object_size(ch), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(ch, "call.a"), 0)), 7);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(ch, "call.a"), 1)), 5);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(ch, "pool.max_claims"), 1)),
                     8);
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(ch, "stages"), 1)),
                           "lead:潜在线索:10:open,"));
    json_decref(j);
    free(detail);
    /* the same change again, based on the version before: someone changed them since */
    dg_reply_free(w);
    n = refusals(c, "admin");
    w = set_settings(c, &e.s);
    assert_int_equal(dgt_code(w), DANGAN__V1__CODE__ABORTED);
    assert_string_equal(dgt_reason(w), "version_conflict");
    dg_reply_free(w);
    assert_int_equal(refusals(c, "admin"), n + 1); /* audited */
    dg_reply_free(r);
    dg_client_close(c);
}

/* One refused change: its code, reason and a message naming `needle`. */
static void expect_refused(dg_client *c, struct edit *e, int code, const char *reason,
                           const char *needle)
{
    dg_reply *w;
    const Dangan__V1__Status *st;
    size_t before = refusals(c, "admin");

    w = set_settings(c, &e->s);
    st = dg_reply_response(w)->status;
    if (dgt_code(w) != code || strcmp(dgt_reason(w), reason) != 0 || !strstr(st->message, needle))
        fail_msg("wanted %d %s \"...%s...\", got %d %s \"%s\"", code, reason, needle, dgt_code(w),
                 dgt_reason(w), st->message);
    dg_reply_free(w);
    assert_int_equal(refusals(c, "admin"), before + 1);
}

static void test_every_unsound_change_is_refused_with_its_reason(void **state)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    dg_reply *r = get_settings(c), *w;
    struct edit e;
    const int inval = DANGAN__V1__CODE__INVALID_ARGUMENT;

    (void)state;
#define FRESH() edit_from(&e, settings_of(r))
    FRESH();
    e.s.time_zone = "Asia/Shanghia";
    expect_refused(c, &e, inval, "invalid_argument", "unknown time zone \"Asia/Shanghia\"");
    FRESH();
    e.share[1] = 30;
    expect_refused(c, &e, inval, "invalid_argument", "add up to 100 percent, not 110");
    FRESH();
    e.share[1] = -10;
    e.share[2] = 70;
    expect_refused(c, &e, inval, "invalid_argument", "shares: a share is 0 to 100");
    FRESH();
    e.visit[2] = 5000;
    expect_refused(c, &e, inval, "invalid_argument", "visit.b");
    FRESH();
    e.call[3] = -1;
    expect_refused(c, &e, inval, "invalid_argument", "call.c");
    FRESH();
    e.s.dormant_after_days = 0;
    expect_refused(c, &e, inval, "invalid_argument", "dormant_after_days");
    FRESH();
    e.s.lost_after_days = e.s.dormant_after_days;
    expect_refused(c, &e, inval, "invalid_argument", "lost_after_days");
    FRESH();
    e.s.currency = "CN";
    expect_refused(c, &e, inval, "invalid_argument", "\"CN\" is not an ISO 4217");
    FRESH();
    e.st[1].name = "Qualified";
    expect_refused(c, &e, inval, "invalid_argument", "stage name \"Qualified\"");
    FRESH();
    e.st[1].name = "lead";
    expect_refused(c, &e, inval, "invalid_argument", "stage \"lead\" is named twice");
    FRESH();
    e.st[4].kind = DANGAN__V1__STAGE_KIND__STAGE_KIND_OPEN; /* won → open: no won stage */
    expect_refused(c, &e, inval, "invalid_argument", "exactly one stage must be of kind won");
    FRESH();
    e.st[3].kind = DANGAN__V1__STAGE_KIND__STAGE_KIND_WON; /* two won */
    expect_refused(c, &e, inval, "invalid_argument", "(there are 2)");
    FRESH();
    e.s.n_stages = 5; /* lost removed */
    expect_refused(c, &e, inval, "invalid_argument", "at least one stage must be of kind lost");
    /* nothing refused changed anything */
    w = get_settings(c);
    assert_int_equal(settings_of(w)->version, settings_of(r)->version);
    dg_reply_free(w);
#undef FRESH
    dg_reply_free(r);
    dg_client_close(c);
}

static void test_a_stage_deals_use_cannot_be_removed(void **state)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    dg_reply *r;
    struct edit e;
    char code[32];
    json_t *j;

    (void)state;
    CLI_EXPECT(0, "--json", "customer", "add", "--name", "阶段测试客户", "--force");
    j = json_loads(run.out, 0, NULL);
    snprintf(code, sizeof code, "%s",
             json_string_value(json_object_get(
                 json_object_get(json_object_get(j, "record"), "customer"), "code")));
    json_decref(j);
    CLI_EXPECT(0, "deal", "add", code, "--amount", "100", "--set", "stage=proposal");
    CLI_EXPECT(0, "deal", "add", code, "--amount", "200", "--set", "stage=proposal");
    r = get_settings(c);
    edit_from(&e, settings_of(r));
    for (size_t i = 3; i < e.s.n_stages; i++) /* proposal (index 2) removed */
        e.stp[i - 1] = &e.st[i];
    e.s.n_stages--;
    expect_refused(c, &e, DANGAN__V1__CODE__FAILED_PRECONDITION, "stage_in_use",
                   "stage \"proposal\" cannot be removed: 2 deals still use it");
    dg_reply_free(r);
    dg_client_close(c);
}

static void test_only_admins_change_them_and_everyone_reads_them(void **state)
{
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password);
    dg_client *s1 = dgt_login(&srv, "s1", "sales-password-1");
    dg_reply *r = get_settings(s1), *w;
    struct edit e;
    size_t before = refusals(admin, "s1");

    (void)state;
    edit_from(&e, settings_of(r));
    e.call[1] = 1;
    w = set_settings(s1, &e.s);
    assert_int_equal(dgt_code(w), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(w);
    assert_int_equal(refusals(admin, "s1"), before + 1);
    dg_reply_free(r);
    CLI_EXPECT(0, "settings", "show"); /* the admin's CLI */
    dg_client_close(s1);
    dg_client_close(admin);
}

static void test_they_survive_a_restart_and_come_with_the_session(void **state)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    dg_reply *r = get_settings(c), *w;
    struct edit e;
    int64_t version;

    (void)state;
    edit_from(&e, settings_of(r));
    e.s.time_zone = "Europe/Berlin";
    e.s.follow_up_remind_minute = 8 * 60 + 30;
    w = set_settings(c, &e.s);
    assert_int_equal(dgt_code(w), 0);
    version = settings_of(w)->version;
    dg_reply_free(w);
    dg_reply_free(r);
    assert_string_equal(dg_client_team_zone(c), "Asia/Shanghai"); /* as its login said */
    dg_client_close(c);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_server_restart_same_port(&srv);
    c = dgt_login(&srv, "admin", srv.admin_password);
    assert_string_equal(dg_client_team_zone(c), "Europe/Berlin");
    r = get_settings(c);
    assert_string_equal(settings_of(r)->time_zone, "Europe/Berlin");
    assert_int_equal(settings_of(r)->follow_up_remind_minute, 8 * 60 + 30);
    assert_int_equal(settings_of(r)->version, version);
    /* back to Shanghai for the tests after this one */
    edit_from(&e, settings_of(r));
    e.s.time_zone = "Asia/Shanghai";
    w = set_settings(c, &e.s);
    assert_int_equal(dgt_code(w), 0);
    dg_reply_free(w);
    dg_reply_free(r);
    dg_client_close(c);
}

/* A database of the schema before the team settings (v9): it migrates, the
 * settings are the defaults, and they can be set. */
static void test_a_v9_database_migrates_to_the_defaults(void **state)
{
    dg_client *c;
    dg_reply *r, *w;
    struct edit e;

    (void)state;
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_schema_back_to(&srv, 9);
    dgt_server_restart_same_port(&srv);
    c = dgt_login(&srv, "admin", srv.admin_password);
    r = get_settings(c);
    assert_int_equal(settings_of(r)->version, 0);
    assert_string_equal(settings_of(r)->time_zone, "Asia/Shanghai");
    assert_int_equal(settings_of(r)->visit_every_days[3], 120);
    edit_from(&e, settings_of(r));
    e.s.lost_after_days = 200;
    w = set_settings(c, &e.s);
    assert_int_equal(dgt_code(w), 0);
    assert_int_equal(settings_of(w)->version, 1);
    dg_reply_free(w);
    dg_reply_free(r);
    dg_client_close(c);
}

/* ------------------------------------------------------------ the CLI */

static void test_cli_shows_and_reads_times_in_the_team_zone(void **state)
{
    char code[32], due[32];
    json_t *j;

    (void)state;
    CLI_EXPECT(0, "--json", "customer", "add", "--name", "时区测试客户", "--force");
    j = json_loads(run.out, 0, NULL);
    snprintf(code, sizeof code, "%s",
             json_string_value(json_object_get(
                 json_object_get(json_object_get(j, "record"), "customer"), "code")));
    json_decref(j);
    /* typed in the team's zone: 10:00 in Shanghai is 02:00Z */
    CLI_EXPECT(0, "--json", "task", "add", code, "--due", "2026-12-08 10:00", "--title", "回访");
    j = json_loads(run.out, 0, NULL);
    snprintf(due, sizeof due, "%lld",
             (long long)json_integer_value(json_object_get(
                 json_object_get(json_object_get(j, "record"), "task"), "due_at_ms")));
    json_decref(j);
    assert_string_equal(due, "1796695200000"); /* 2026-12-08T02:00:00Z */
    CLI_EXPECT(0, "task", "list", code);
    if (!strstr(run.out, "2026-12-08 10:00"))
        fail_msg("not in the team's zone:\n%s", run.out);
    CLI_EXPECT(0, "--utc", "task", "list", code);
    if (!strstr(run.out, "2026-12-08T02:00:00Z"))
        fail_msg("--utc shows no Z form:\n%s", run.out);
    CLI_EXPECT(0, "task", "list", "--due-before", "2026-12-08 10:01");
    assert_non_null(strstr(run.out, "回访"));
    CLI_EXPECT(0, "task", "list", "--due-before", "2026-12-08 10:00");
    assert_null(strstr(run.out, "回访"));
    CLI_EXPECT(0, "settings", "set", "time_zone=UTC");
    CLI_EXPECT(0, "task", "list", code);
    if (!strstr(run.out, "2026-12-08 02:00"))
        fail_msg("not in the team's new zone:\n%s", run.out);
    CLI_EXPECT(0, "settings", "set", "time_zone=Asia/Shanghai");
}

static void test_cli_settings_show_and_set(void **state)
{
    json_t *j;

    (void)state;
    CLI_EXPECT(0, "settings", "set", "call.a=6", "visit.b=80", "shares=10/45/45",
               "remind.follow_up_at=08:15", "pool.max_claims=12",
               "stages=lead:线索:10:open,deal:成交:100:won,lost:输单:0:lost,proposal:报价:50");
    CLI_EXPECT(0, "settings", "show");
    assert_non_null(strstr(run.out, "Asia/Shanghai"));
    assert_non_null(strstr(run.out, "10/45/45"));
    assert_non_null(strstr(run.out, "08:15"));
    assert_non_null(strstr(run.out, "deal:成交:100:won"));
    assert_non_null(strstr(run.out, "proposal:报价:50:open"));
    CLI_EXPECT(0, "--json", "settings", "show");
    j = json_loads(run.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "call_every_days"), 1)),
                     6);
    assert_int_equal(json_integer_value(json_object_get(j, "pool_max_claims")), 12);
    json_decref(j);
    CLI_EXPECT(2, "settings", "set", "call.aa=3");
    CLI_EXPECT(2, "settings", "set", "dormant_afterdays=30");
    assert_non_null(strstr(run.err, "did you mean dormant_after_days?"));
    CLI_EXPECT(9, "settings", "set", "shares=50/40/40");
    assert_non_null(strstr(run.err, "add up to 100 percent"));
    CLI_EXPECT(9, "settings", "set", "time_zone=Mars/Olympus");
    assert_non_null(strstr(run.err, "unknown time zone"));
    dgt_cli_login(&run, cfg, &srv, "s1", "sales-password-1");
    assert_int_equal(run.status, 0);
    CLI_EXPECT(0, "settings", "show");
    CLI_EXPECT(6, "settings", "set", "call.a=1");
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    assert_int_equal(run.status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_v9_database_migrates_to_the_defaults),
        cmocka_unit_test(test_defaults_round_trip_and_version),
        cmocka_unit_test(test_every_unsound_change_is_refused_with_its_reason),
        cmocka_unit_test(test_a_stage_deals_use_cannot_be_removed),
        cmocka_unit_test(test_only_admins_change_them_and_everyone_reads_them),
        cmocka_unit_test(test_they_survive_a_restart_and_come_with_the_session),
        cmocka_unit_test(test_cli_shows_and_reads_times_in_the_team_zone),
        cmocka_unit_test(test_cli_settings_show_and_set),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
