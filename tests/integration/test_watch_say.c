/* test_watch_say.c - `dangan watch` in sentences, over real TLS: a watcher
 * reads exactly "王伟 changed 深圳华信科技 (C-…): tier b → a" for an edit,
 * "added a call to …: 回访报价" for a new note and "archived …" for an
 * archive, times in the team's zone; a sales watcher sees a colleague's
 * sensitive field masked before and after, its owner sees it as is; and a
 * restricted customer's values never reach a sales watcher, also not as the
 * values before the change that took the customer out of the restricted
 * tier; a first watch with --since SEQ replays from SEQ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"
#include "tz.h"

#define PW "watch-say-password-1"

static dgt_server srv;
static dgt_run run;

/* A user with a display name (may be NULL) and password PW. */
static void make_user(const char *name, const char *display, int role)
{
    static const char temporary[] = "temporary-password-1";
    Dangan__V1__UserAddRequest add = DANGAN__V1__USER_ADD_REQUEST__INIT;
    Dangan__V1__ChangePasswordRequest chpw = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    dg_reply *r;

    add.username = (char *)name;
    add.display_name = (char *)(display ? display : "");
    add.role = (Dangan__V1__Role)role;
    add.password = (char *)temporary;
    req.body_case = DANGAN__V1__REQUEST__BODY_USER_ADD;
    req.user_add = &add;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    dg_client_close(c);
    c = dgt_login(&srv, name, temporary);
    chpw.current_password = (char *)temporary;
    chpw.new_password = (char *)PW;
    req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
    req.change_password = &chpw;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    dg_client_close(c);
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    make_user("wang.wei", "王伟", DANGAN__V1__ROLE__ROLE_MANAGER);
    make_user("li.na", "李娜", DANGAN__V1__ROLE__ROLE_SALES);
    make_user("zhao.lei", NULL, DANGAN__V1__ROLE__ROLE_SALES);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

/* A config dir logged in as `user` (PW, or the admin's). */
static void session(char *cfg, size_t len, const char *user)
{
    dgt_tempdir(cfg, len);
    dgt_cli_login(&run, cfg, &srv, user, strcmp(user, "admin") == 0 ? srv.admin_password : PW);
}

/* Runs the CLI in `cfg`; fails the test unless it exits 0. */
static void ok(const char *cfg, const char *const *argv)
{
    dgt_cli(&run, cfg, NULL, argv);
    if (run.status != 0)
        fail_msg("dangan %s %s: exit %d: %s", argv[0], argv[1], run.status, run.err);
}

/* `watch --once` in `cfg` (from its saved position), human or --json. */
static void watch_once(const char *cfg, bool is_json)
{
    const char *human[] = {"watch", "--once", NULL};
    const char *json[] = {"--json", "watch", "--once", NULL};

    ok(cfg, is_json ? json : human);
}

/* Adds a customer as the session in `cfg`; its code into code[]. */
static void add_customer(const char *cfg, const char *name, const char *const *sets, char *code,
                         size_t len)
{
    const char *argv[16] = {"--json", "customer", "add", "--name", name};
    size_t n = 5;
    json_t *doc;

    for (; *sets; sets++) {
        argv[n++] = "--set";
        argv[n++] = *sets;
    }
    argv[n] = NULL;
    ok(cfg, argv);
    doc = json_loads(run.out, 0, NULL);
    assert_non_null(doc);
    snprintf(code, len, "%s",
             json_string_value(json_object_get(
                 json_object_get(json_object_get(doc, "record"), "customer"), "code")));
    json_decref(doc);
    assert_true(code[0]);
}

/* Line i (0-based) of `text` into out, without its newline. */
static void line_of(const char *text, int i, char *out, size_t len)
{
    const char *p = text;

    for (; i > 0 && p; i--)
        p = (p = strchr(p, '\n')) ? p + 1 : NULL;
    assert_non_null(p);
    snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;

    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

static void test_a_watcher_reads_each_change_as_a_sentence(void **state)
{
    char mgr[256], mgr_json[256], ww[256], code[32], want[256], line[512], when[32];
    const char *sets[] = {"tier=b", NULL};
    const char *edit[] = {"customer", "edit", code, "--set", "tier=a", NULL};
    const char *note[] = {"note", "add", code, "--channel", "phone", "--summary", "回访报价", NULL};
    const char *archive[] = {"customer", "archive", code, NULL};
    json_t *ev;

    (void)state;
    session(mgr, sizeof mgr, "admin");
    session(mgr_json, sizeof mgr_json, "admin");
    session(ww, sizeof ww, "wang.wei");
    watch_once(mgr, false); /* both start from now */
    watch_once(mgr_json, true);

    add_customer(ww, "深圳华信科技", sets, code, sizeof code);
    ok(ww, edit);
    ok(ww, note);
    ok(ww, archive);

    watch_once(mgr, false);
    assert_int_equal(count_lines(run.out), 4);
    {
        static const char *const said[][2] = {
            {"王伟 added customer 深圳华信科技 (", "): tier b"},
            {"王伟 changed 深圳华信科技 (", "): tier b → a"},
            {"王伟 added a call to 深圳华信科技 (", "): 回访报价"},
            {"王伟 archived 深圳华信科技 (", ")"},
        };
        char human[65536];

        snprintf(human, sizeof human, "%s", run.out);
        watch_once(mgr_json, true);
        for (int i = 0; i < 4; i++) {
            char js[4096];

            line_of(human, i, line, sizeof line);
            snprintf(want, sizeof want, "%s%s%s", said[i][0], code, said[i][1]);
            assert_string_equal(line + strlen("YYYY-MM-DD HH:MM  "), want);
            /* the time is the change's, in the team's zone (the machine runs in UTC) */
            line_of(run.out, i, js, sizeof js);
            assert_non_null(ev = json_loads(js, 0, NULL));
            assert_int_equal(dg_tz_format("Asia/Shanghai",
                                          json_integer_value(json_object_get(ev, "at_ms")), when,
                                          sizeof when),
                             DG_OK);
            assert_memory_equal(line, when, strlen(when));
            assert_string_equal(json_string_value(json_object_get(ev, "actor_name")), "王伟");
            assert_string_equal(json_string_value(json_object_get(ev, "customer_code")), code);
            json_decref(ev);
        }
    }
    /* --json: the tier's values, as they were and are */
    line_of(run.out, 1, line, sizeof line);
    assert_non_null(strstr(line, "\"values\":[{\"field\":\"tier\",\"masked\":false,\"new_value\":"
                                 "\"a\",\"old_value\":\"b\",\"old_withheld\":false}]"));
    dgt_rmtree(mgr);
    dgt_rmtree(mgr_json);
    dgt_rmtree(ww);
}

static void test_a_sales_watcher_sees_a_colleagues_sensitive_field_masked(void **state)
{
    char ln[256], zl[256], code[32], want[256], line[512];
    const char *sets[] = {"owner=zhao.lei", "tier=c", "bank_account=6222020200112233", NULL};
    const char *edit[] = {"customer", "edit", code, "--set", "bank_account=6222020200998877", NULL};
    char admin[256];

    (void)state;
    session(ln, sizeof ln, "li.na");
    session(zl, sizeof zl, "zhao.lei");
    session(admin, sizeof admin, "admin");
    watch_once(ln, false);
    watch_once(zl, false);
    add_customer(admin, "华南物流", sets, code, sizeof code);
    ok(zl, edit);

    watch_once(ln, false);
    assert_int_equal(count_lines(run.out), 2);
    line_of(run.out, 1, line, sizeof line);
    snprintf(want, sizeof want,
             "zhao.lei changed 华南物流 (%s): bank_account 622*********2233 → 622*********8877",
             code);
    assert_string_equal(line + strlen("YYYY-MM-DD HH:MM  "), want);
    assert_null(strstr(run.out, "6222020200"));

    watch_once(zl, false); /* the owner sees it as it is */
    line_of(run.out, 1, line, sizeof line);
    snprintf(want, sizeof want,
             "zhao.lei changed 华南物流 (%s): bank_account 6222020200112233 → 6222020200998877",
             code);
    assert_string_equal(line + strlen("YYYY-MM-DD HH:MM  "), want);
    dgt_rmtree(ln);
    dgt_rmtree(zl);
    dgt_rmtree(admin);
}

static void test_a_restricted_customers_values_never_reach_a_sales_watcher(void **state)
{
    char ln[256], ww[256], code[32], want[256], line[512];
    const char *sets[] = {"owner=wang.wei", "tier=a", "notes=CANARY-NOTES-1",
                          "bank_account=CANARY-BANK-1", NULL};
    const char *edit[] = {"customer",
                          "edit",
                          code,
                          "--set",
                          "notes=CANARY-NOTES-2",
                          "--set",
                          "bank_account=CANARY-BANK-2",
                          NULL};
    const char *out[] = {"customer", "edit",           code, "--set", "tier=b",
                         "--set",    "notes=公开备注", NULL};
    const char *json[] = {"--json", "watch", "--once", NULL};
    char js[256];

    (void)state;
    session(ln, sizeof ln, "li.na");
    session(js, sizeof js, "li.na");
    session(ww, sizeof ww, "wang.wei");
    watch_once(ln, false);
    watch_once(js, true);
    add_customer(ww, "CANARY-NAME-机密客户", sets, code, sizeof code);
    ok(ww, edit);
    ok(ww, out); /* out of the restricted tier: li.na sees it from now on */

    watch_once(ln, false);
    assert_int_equal(count_lines(run.out), 1);
    line_of(run.out, 0, line, sizeof line);
    snprintf(want, sizeof want,
             "王伟 changed CANARY-NAME-机密客户 (%s): tier now b, notes now 公开备注", code);
    assert_string_equal(line + strlen("YYYY-MM-DD HH:MM  "), want);
    assert_null(strstr(run.out, "CANARY-NOTES"));
    assert_null(strstr(run.out, "CANARY-BANK"));
    ok(js, json);
    assert_int_equal(count_lines(run.out), 1);
    assert_null(strstr(run.out, "CANARY-NOTES"));
    assert_null(strstr(run.out, "CANARY-BANK"));
    assert_non_null(strstr(run.out, "\"old_value\":\"\",\"old_withheld\":true"));
    dgt_rmtree(ln);
    dgt_rmtree(js);
    dgt_rmtree(ww);
}

/* A first watch with --since SEQ (no position saved yet) prints what came
 * after SEQ: the short subscription that learns the server's epoch does not
 * move the position to the head. */
static void test_a_first_watch_since_seq_replays_from_there(void **state)
{
    char adm[256], fresh[256], ww[256], code[32], line[4096], since[32];
    const char *sets[] = {"tier=c", NULL};
    const char *edit[] = {"customer", "edit", code, "--set", "tier=b", NULL};
    const char *from[] = {"--json", "watch", "--once", "--since", since, NULL};
    json_t *ev;
    json_int_t first, second;

    (void)state;
    session(adm, sizeof adm, "admin");
    session(ww, sizeof ww, "wang.wei");
    watch_once(adm, true); /* from now */
    add_customer(ww, "成都远景商贸", sets, code, sizeof code);
    ok(ww, edit);
    watch_once(adm, true);
    assert_int_equal(count_lines(run.out), 2);
    line_of(run.out, 0, line, sizeof line);
    assert_non_null(ev = json_loads(line, 0, NULL));
    first = json_integer_value(json_object_get(ev, "seq"));
    json_decref(ev);
    line_of(run.out, 1, line, sizeof line);
    assert_non_null(ev = json_loads(line, 0, NULL));
    second = json_integer_value(json_object_get(ev, "seq"));
    json_decref(ev);
    assert_true(first > 0 && second > first);

    session(fresh, sizeof fresh, "admin"); /* no saved position */
    snprintf(since, sizeof since, "%lld", (long long)first);
    ok(fresh, from);
    assert_int_equal(count_lines(run.out), 1);
    line_of(run.out, 0, line, sizeof line);
    assert_non_null(ev = json_loads(line, 0, NULL));
    assert_int_equal(json_integer_value(json_object_get(ev, "seq")), second);
    assert_string_equal(json_string_value(json_object_get(ev, "customer_code")), code);
    json_decref(ev);
    dgt_rmtree(adm);
    dgt_rmtree(fresh);
    dgt_rmtree(ww);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_watcher_reads_each_change_as_a_sentence),
        cmocka_unit_test(test_a_sales_watcher_sees_a_colleagues_sensitive_field_masked),
        cmocka_unit_test(test_a_restricted_customers_values_never_reach_a_sales_watcher),
        cmocka_unit_test(test_a_first_watch_since_seq_replays_from_there),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
