/* test_users.c - accounts over real TLS: admins add users (generated or
 * given passwords, changed at first login), list them, change roles,
 * disable, enable and reset passwords; each change ends the user's live
 * sessions at once and leaves one audit record with before/after; the last
 * enabled admin stays; nobody but an admin may do any of it, and each
 * refusal is audited. Plus the `dangan user` commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"

static dgt_server srv;
static dgt_run run; /* big buffers: static, not on the stack */

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static dg_reply *call(dg_client *c, Dangan__V1__Request__BodyCase body, void *msg)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    req.body_case = body;
    switch (body) {
    case DANGAN__V1__REQUEST__BODY_USER_ADD:
        req.user_add = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_USER_LIST:
        req.user_list = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_USER_SET_ROLE:
        req.user_set_role = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED:
        req.user_set_disabled = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_USER_RESET_PASSWORD:
        req.user_reset_password = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_AUDIT_QUERY:
        req.audit_query = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_LIST:
        req.list = msg;
        break;
    case DANGAN__V1__REQUEST__BODY_COLLEAGUES:
        req.colleagues = msg;
        break;
    default:
        fail_msg("no such body in this test");
    }
    return dgt_call(c, &req);
}

static dg_client *admin(void)
{
    return dgt_login(&srv, "admin", srv.admin_password);
}

/* Adds a user as admin; `password` NULL: generated, copied to out_pw. */
static dg_reply *add_user(const char *name, Dangan__V1__Role role, const char *password)
{
    Dangan__V1__UserAddRequest m = DANGAN__V1__USER_ADD_REQUEST__INIT;
    dg_client *c = admin();
    dg_reply *r;

    m.username = (char *)name;
    m.role = role;
    m.display_name = "测试用户";
    m.password = (char *)(password ? password : "");
    r = call(c, DANGAN__V1__REQUEST__BODY_USER_ADD, &m);
    dg_client_close(c);
    return r;
}

static void make_user(const char *name, Dangan__V1__Role role, const char *password)
{
    dgt_make_user(&srv, name, role, password);
}

/* A request that needs a full session: listing customers. */
static int list_code(dg_client *c)
{
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    dg_reply *r;
    int code;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.limit = 1;
    r = call(c, DANGAN__V1__REQUEST__BODY_LIST, &m);
    code = dgt_code(r);
    dg_reply_free(r);
    return code;
}

/* Audit records of `action` about user `target_id`, newest first. */
static dg_reply *audit_of(const char *action, int64_t target_id)
{
    Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_client *c = admin();
    dg_reply *r;

    m.action = (char *)action;
    m.entity = "user";
    m.entity_id = target_id;
    m.limit = 100;
    r = call(c, DANGAN__V1__REQUEST__BODY_AUDIT_QUERY, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_client_close(c);
    return r;
}

static size_t audit_count(const char *action, int64_t target_id)
{
    dg_reply *r = audit_of(action, target_id);
    size_t n = dg_reply_response(r)->audit_query->n_records;

    dg_reply_free(r);
    return n;
}

static int login_code(const char *user, const char *password)
{
    dg_client *c = dgt_connect(&srv);
    int rc = dg_client_login(c, user, password, NULL);

    dg_client_close(c);
    return rc;
}

/* ------------------------------------------------------------ tests */

static void test_added_user_must_change_its_generated_password_first(void **state)
{
    dg_reply *r;
    const Dangan__V1__UserAddResponse *a;
    char pw[64];
    dg_client *c;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ChangePasswordRequest m = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;

    (void)state;
    r = add_user("Zhang.Min", DANGAN__V1__ROLE__ROLE_SALES, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    a = dg_reply_response(r)->user_add;
    assert_string_equal(a->user->username, "zhang.min"); /* stored lower-case */
    assert_string_equal(a->user->display_name, "测试用户");
    assert_int_equal(a->user->role, DANGAN__V1__ROLE__ROLE_SALES);
    assert_true(a->user->must_change_password);
    assert_true(strlen(a->generated_password) >= 16);
    snprintf(pw, sizeof pw, "%s", a->generated_password);
    assert_int_equal(audit_count("user.add", a->user->id), 1);
    {
        dg_reply *ar = audit_of("user.add", a->user->id);
        const char *detail = dg_reply_response(ar)->audit_query->records[0]->detail;

        assert_non_null(strstr(detail, "\"role\":\"sales\""));
        assert_null(strstr(detail, pw)); /* never the password */
        assert_null(strstr(detail, "argon2"));
        dg_reply_free(ar);
    }
    dg_reply_free(r);

    c = dgt_login(&srv, "zhang.min", pw);
    assert_int_equal(list_code(c), DANGAN__V1__CODE__FAILED_PRECONDITION);
    m.current_password = pw;
    m.new_password = "zhang-min-own-password";
    req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
    req.change_password = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_reply_free(r);
    assert_int_equal(list_code(c), DANGAN__V1__CODE__OK);
    dg_client_close(c);
}

static void test_bad_and_duplicate_users_are_refused_naming_the_field(void **state)
{
    dg_reply *r;

    (void)state;
    make_user("dup.user", DANGAN__V1__ROLE__ROLE_VIEWER, "dup-user-password-1");
    r = add_user("DUP.user", DANGAN__V1__ROLE__ROLE_SALES, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_non_null(strstr(dg_reply_response(r)->status->message, "dup.user"));
    dg_reply_free(r);

    r = add_user("has space", DANGAN__V1__ROLE__ROLE_SALES, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_string_equal(dg_reply_response(r)->status->field_violations[0]->field, "username");
    dg_reply_free(r);

    r = add_user("no.role", DANGAN__V1__ROLE__ROLE_UNSPECIFIED, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_string_equal(dg_reply_response(r)->status->field_violations[0]->field, "role");
    dg_reply_free(r);

    r = add_user("short.pw", DANGAN__V1__ROLE__ROLE_SALES, "short");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_string_equal(dg_reply_response(r)->status->field_violations[0]->field, "password");
    dg_reply_free(r);
}

static void test_role_change_ends_live_sessions_at_once(void **state)
{
    Dangan__V1__UserSetRoleRequest m = DANGAN__V1__USER_SET_ROLE_REQUEST__INIT;
    dg_client *live, *a;
    dg_reply *r, *w;

    (void)state;
    make_user("wang.wei", DANGAN__V1__ROLE__ROLE_SALES, "wang-wei-password-1");
    live = dgt_login(&srv, "wang.wei", "wang-wei-password-1");
    assert_int_equal(list_code(live), DANGAN__V1__CODE__OK);

    a = admin();
    m.username = "wang.wei";
    m.role = DANGAN__V1__ROLE__ROLE_VIEWER;
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_ROLE, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_int_equal(dg_reply_response(r)->user_set_role->user->role,
                     DANGAN__V1__ROLE__ROLE_VIEWER);
    /* the live one and the one make_user's password change opened (closed, not logged out) */
    assert_int_equal(dg_reply_response(r)->user_set_role->revoked_sessions, 2);
    assert_int_equal(audit_count("user.set_role", dg_reply_response(r)->user_set_role->user->id),
                     1);
    dg_reply_free(r);
    dg_client_close(a);

    /* the open connection's very next request is refused */
    assert_int_equal(list_code(live), DANGAN__V1__CODE__UNAUTHENTICATED);
    dg_client_close(live);
    /* a new login carries the new role */
    live = dgt_login(&srv, "wang.wei", "wang-wei-password-1");
    assert_int_equal(dg_client_whoami(live, &w), DG_OK);
    assert_int_equal(dg_reply_response(w)->whoami->session->user->role,
                     DANGAN__V1__ROLE__ROLE_VIEWER);
    dg_reply_free(w);
    dg_client_close(live);
}

static void test_disable_refuses_logins_and_enable_restores_them(void **state)
{
    Dangan__V1__UserSetDisabledRequest m = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;
    dg_client *live, *a;
    dg_reply *r;
    int64_t id;

    (void)state;
    make_user("liu.yang", DANGAN__V1__ROLE__ROLE_MANAGER, "liu-yang-password-1");
    live = dgt_login(&srv, "liu.yang", "liu-yang-password-1");
    a = admin();
    m.username = "liu.yang";
    m.disabled = true;
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_true(dg_reply_response(r)->user_set_disabled->user->disabled);
    assert_int_equal(dg_reply_response(r)->user_set_disabled->revoked_sessions, 2);
    id = dg_reply_response(r)->user_set_disabled->user->id;
    dg_reply_free(r);
    assert_int_equal(list_code(live), DANGAN__V1__CODE__UNAUTHENTICATED);
    dg_client_close(live);
    assert_int_not_equal(login_code("liu.yang", "liu-yang-password-1"), DG_OK);

    m.disabled = false;
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_false(dg_reply_response(r)->user_set_disabled->user->disabled);
    dg_reply_free(r);
    assert_int_equal(login_code("liu.yang", "liu-yang-password-1"), DG_OK);
    assert_int_equal(audit_count("user.set_disabled", id), 2);
    {
        dg_reply *ar = audit_of("user.set_disabled", id);
        const char *newest = dg_reply_response(ar)->audit_query->records[0]->detail;

        assert_non_null(strstr(newest, "\"before\":{\"disabled\":true}"));
        assert_non_null(strstr(newest, "\"after\":{\"disabled\":false}"));
        dg_reply_free(ar);
    }
    dg_client_close(a);
}

static void test_reset_password_replaces_it_and_forces_a_change(void **state)
{
    Dangan__V1__UserResetPasswordRequest m = DANGAN__V1__USER_RESET_PASSWORD_REQUEST__INIT;
    dg_client *a, *c;
    dg_reply *r;
    char pw[64];

    (void)state;
    make_user("zhao.lei", DANGAN__V1__ROLE__ROLE_SALES, "zhao-lei-password-1");
    a = admin();
    m.username = "zhao.lei";
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_RESET_PASSWORD, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_true(dg_reply_response(r)->user_reset_password->user->must_change_password);
    snprintf(pw, sizeof pw, "%s", dg_reply_response(r)->user_reset_password->generated_password);
    assert_true(strlen(pw) >= 16);
    dg_reply_free(r);
    dg_client_close(a);

    assert_int_not_equal(login_code("zhao.lei", "zhao-lei-password-1"), DG_OK);
    c = dgt_login(&srv, "zhao.lei", pw);
    assert_int_equal(list_code(c), DANGAN__V1__CODE__FAILED_PRECONDITION);
    dg_client_close(c);
}

static void test_the_last_enabled_admin_stays(void **state)
{
    Dangan__V1__UserSetDisabledRequest d = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;
    Dangan__V1__UserSetRoleRequest s = DANGAN__V1__USER_SET_ROLE_REQUEST__INIT;
    dg_client *a = admin();
    dg_reply *r;

    (void)state;
    d.username = "admin";
    d.disabled = true;
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED, &d);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    assert_non_null(strstr(dg_reply_response(r)->status->message, "last enabled admin"));
    dg_reply_free(r);
    s.username = "admin";
    s.role = DANGAN__V1__ROLE__ROLE_MANAGER;
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_ROLE, &s);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    dg_reply_free(r);
    /* still an admin with a working session */
    assert_int_equal(list_code(a), DANGAN__V1__CODE__OK);

    /* with a second admin, the first may step down */
    make_user("second.admin", DANGAN__V1__ROLE__ROLE_ADMIN, "second-admin-password");
    s.username = "second.admin";
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_ROLE, &s);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_reply_free(r);
    dg_client_close(a);
}

/* Colleagues: a sales user learns the enabled users' ids and names (to pick
 * an owner to filter by), by user name, and nothing of a disabled one. */
static void test_colleagues_are_the_enabled_users_by_name(void **state)
{
    Dangan__V1__UserSetDisabledRequest off = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;
    Dangan__V1__ColleaguesRequest m = DANGAN__V1__COLLEAGUES_REQUEST__INIT;
    const Dangan__V1__ColleaguesResponse *cl;
    dg_client *c, *a;
    dg_reply *r;
    bool seen_gone = false, seen_zhou = false;

    (void)state;
    make_user("zhou.min", DANGAN__V1__ROLE__ROLE_SALES, "zhou-min-password-1");
    make_user("gone.user", DANGAN__V1__ROLE__ROLE_VIEWER, "gone-user-password-1");
    a = admin();
    off.username = "gone.user";
    off.disabled = true;
    r = call(a, DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED, &off);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_reply_free(r);
    dg_client_close(a);

    c = dgt_login(&srv, "zhou.min", "zhou-min-password-1");
    r = call(c, DANGAN__V1__REQUEST__BODY_COLLEAGUES, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    cl = dg_reply_response(r)->colleagues;
    assert_non_null(cl);
    assert_true(cl->n_colleagues >= 2); /* admin and zhou.min at least */
    for (size_t i = 0; i < cl->n_colleagues; i++) {
        assert_true(cl->colleagues[i]->id > 0);
        if (i > 0)
            assert_true(strcmp(cl->colleagues[i - 1]->username, cl->colleagues[i]->username) < 0);
        seen_gone = seen_gone || !strcmp(cl->colleagues[i]->username, "gone.user");
        seen_zhou = seen_zhou || !strcmp(cl->colleagues[i]->username, "zhou.min");
    }
    assert_true(seen_zhou);
    assert_false(seen_gone);
    dg_reply_free(r);
    dg_client_close(c);
}

static void test_only_admins_manage_users_and_refusals_are_audited(void **state)
{
    Dangan__V1__UserAddRequest add = DANGAN__V1__USER_ADD_REQUEST__INIT;
    Dangan__V1__UserListRequest list = DANGAN__V1__USER_LIST_REQUEST__INIT;
    Dangan__V1__UserSetRoleRequest role = DANGAN__V1__USER_SET_ROLE_REQUEST__INIT;
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_client *c, *a;
    dg_reply *r;
    size_t before;

    (void)state;
    make_user("chen.jing", DANGAN__V1__ROLE__ROLE_MANAGER, "chen-jing-password-1");
    a = admin();
    q.username = "chen.jing";
    q.outcome = "denied";
    q.limit = 100;
    r = call(a, DANGAN__V1__REQUEST__BODY_AUDIT_QUERY, &q);
    before = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);

    c = dgt_login(&srv, "chen.jing", "chen-jing-password-1");
    add.username = "sneaky";
    add.role = DANGAN__V1__ROLE__ROLE_ADMIN;
    r = call(c, DANGAN__V1__REQUEST__BODY_USER_ADD, &add);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(r);
    r = call(c, DANGAN__V1__REQUEST__BODY_USER_LIST, &list);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(r);
    role.username = "chen.jing";
    role.role = DANGAN__V1__ROLE__ROLE_ADMIN;
    r = call(c, DANGAN__V1__REQUEST__BODY_USER_SET_ROLE, &role);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(r);
    dg_client_close(c);

    r = call(a, DANGAN__V1__REQUEST__BODY_AUDIT_QUERY, &q);
    assert_int_equal(dg_reply_response(r)->audit_query->n_records, before + 3);
    assert_string_equal(dg_reply_response(r)->audit_query->records[0]->action, "user.set_role");
    dg_reply_free(r);
    assert_int_equal(login_code("sneaky", "anything-at-all-1"), DG_EAUTH);
    dg_client_close(a);
}

static void test_cli_user_commands(void **state)
{
    char cfg[256];
    json_t *j;
    json_error_t e;

    (void)state;
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    {
        const char *argv[] = {"--json", "user",           "add",  "sun.li", "--role",
                              "viewer", "--display-name", "孙丽", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        j = json_loads(run.out, 0, &e);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "user"), "role")),
                            "viewer");
        assert_true(strlen(json_string_value(json_object_get(j, "generated_password"))) >= 16);
        json_decref(j);
    }
    {
        const char *argv[] = {"user", "add", "he.ping", "--role", "sales", "--password-stdin",
                              NULL};

        dgt_cli(&run, cfg, "he-ping-password-1\n", argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "Added he.ping (sales)"));
        assert_null(strstr(run.out, "Password for")); /* nothing generated to show */
    }
    {
        const char *argv[] = {"user", "list", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "孙丽"));
        assert_non_null(strstr(run.out, "must change password"));
    }
    {
        const char *argv[] = {"user", "set-role", "sun.li", "auditor", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "sun.li (auditor)"));
    }
    {
        const char *argv[] = {"user", "set-role", "sun.li", "boss", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 2);
        assert_non_null(strstr(run.err, "auditor"));
    }
    {
        const char *dis[] = {"user", "disable", "sun.li", NULL};
        const char *en[] = {"--json", "user", "enable", "sun.li", NULL};

        dgt_cli(&run, cfg, NULL, dis);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "disabled"));
        dgt_cli(&run, cfg, NULL, en);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "\"disabled\": false"));
    }
    {
        const char *argv[] = {"user", "reset-password", "nobody.here", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 5);
    }
    {
        const char *argv[] = {"user", "reset-password", "sun.li", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "Password for sun.li: "));
    }
    dgt_rmtree(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_added_user_must_change_its_generated_password_first),
        cmocka_unit_test(test_bad_and_duplicate_users_are_refused_naming_the_field),
        cmocka_unit_test(test_role_change_ends_live_sessions_at_once),
        cmocka_unit_test(test_disable_refuses_logins_and_enable_restores_them),
        cmocka_unit_test(test_reset_password_replaces_it_and_forces_a_change),
        cmocka_unit_test(test_the_last_enabled_admin_stays),
        cmocka_unit_test(test_only_admins_manage_users_and_refusals_are_audited),
        cmocka_unit_test(test_colleagues_are_the_enabled_users_by_name),
        cmocka_unit_test(test_cli_user_commands),
    };

    return cmocka_run_group_tests_name("users", tests, setup, teardown);
}
