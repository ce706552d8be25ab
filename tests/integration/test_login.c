/* test_login.c - logging in and out over real TLS: tokens, identical answers
 * for unknown users and wrong passwords, sessions across connections,
 * revocation, password changes, and the audit record (hash-chained) that
 * each of them leaves. The server is dangand-test: password checks are
 * counted through its argon2 probe, never timed. Idle and absolute expiry
 * are test_login_expiry.c's, throttling test_login_throttle.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit.h"
#include "clock.h"
#include "fixture.h"
#include "login_calls.h"

static dgt_server srv;

/* The shared server tolerates many failures from 127.0.0.1; the throttling
 * tests start servers of their own. */
static const char SHARED_INI[] =
    "[login]\npeer_failures = 100000\naccount_failures = 1000\npair_failures = 1000\n";

static int setup(void **state)
{
    (void)state;
    dgt_server_start_prog(&srv, SHARED_INI, DANGAND_TEST_PATH);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

static void test_login_returns_token_and_session(void **state)
{
    dg_client *c = dgt_connect(&srv);
    dg_reply *r = login_reply(c, "admin", srv.admin_password);
    const Dangan__V1__LoginResponse *l = dg_reply_response(r)->login;
    int64_t now = dg_now_ms();

    (void)state;
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_int_equal(strlen(l->token), 64);
    assert_string_equal(l->session->user->username, "admin");
    assert_int_equal(l->session->user->role, DANGAN__V1__ROLE__ROLE_ADMIN);
    /* absolute expiry 10 h, idle 30 min (docs/security.md) */
    assert_true(l->session->expires_at_ms > now + 10 * 3600 * 1000LL - 60000);
    assert_int_equal(l->session->idle_timeout_ms, 30 * 60 * 1000);
    dg_reply_free(r);
    dg_client_close(c);
}

static void test_user_names_are_case_insensitive(void **state)
{
    dg_client *c = dgt_connect(&srv);

    (void)state;
    assert_int_equal(dg_client_login(c, "ADMIN", srv.admin_password, NULL), DG_OK);
    dg_client_close(c);
}

/* What the argon2 probe of dangand-test logs for each password check, and
 * the cost of a hash made with the default [passwords] settings. */
static const char VERIFIED[] = "msg=\"argon2id verification\"";
static const char DEFAULT_COST[] = "msg=\"argon2id verification\" cost=m=19456,t=2,p=1\n";

/* The newest audit record's seq. */
static int64_t audit_head(const dgt_server *s)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t seq;

    dgt_db_path(s, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM audit_log", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return seq;
}

/* The audit records after `after` are two denied logins, of `first` then
 * `second`, alike in everything but the name they were for. */
static void assert_two_denials_alike(const dgt_server *s, int64_t after, const char *first,
                                     const char *second)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;

    dgt_db_path(s, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(username, ' '), count(*), "
                                        "count(DISTINCT action || entity || outcome || "
                                        "coalesce(detail, '') || coalesce(peer, '')), "
                                        "min(action), min(outcome) "
                                        "FROM (SELECT * FROM audit_log WHERE seq > ? ORDER BY seq)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, after);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 1), 2);
    assert_int_equal(sqlite3_column_int(st, 2), 1); /* the same action, outcome, detail, peer */
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "session.login");
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "denied");
    {
        char names[256];

        snprintf(names, sizeof names, "%s %s", first, second);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), names);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The reply's Status as bytes: the same bytes say the same thing. */
static size_t packed_status(const dg_reply *r, uint8_t *out, size_t cap)
{
    const Dangan__V1__Status *st = dg_reply_response(r)->status;
    size_t n = dangan__v1__status__get_packed_size(st);

    assert_true(n <= cap);
    return dangan__v1__status__pack(st, out);
}

/* An unknown name and a wrong password run the same path: each costs one
 * argon2id verification of a hash of the same cost (the unknown name's
 * against a dummy hash), gets the same reply and leaves the same audit
 * record. Counted through dangand-test's argon2 probe, not timed. */
static void test_unknown_user_and_wrong_password_look_the_same(void **state)
{
    dg_client *c = dgt_connect(&srv);

    (void)state;
    for (int i = 0; i < 5; i++) {
        int n_verified = dgt_log_count(&srv, VERIFIED);
        int n_default = dgt_log_count(&srv, DEFAULT_COST);
        int64_t head = audit_head(&srv);
        uint8_t wrong[512], unknown[512];
        size_t wrong_len, unknown_len;
        dg_reply *a, *b;

        a = login_reply(c, "admin", "not the password at all");
        assert_int_equal(dgt_log_count(&srv, VERIFIED), n_verified + 1);
        b = login_reply(c, "nobody-here", "not the password at all");
        assert_int_equal(dgt_log_count(&srv, VERIFIED), n_verified + 2);
        assert_int_equal(dgt_log_count(&srv, DEFAULT_COST), n_default + 2);
        assert_status(a, DANGAN__V1__CODE__UNAUTHENTICATED, "bad_credentials");
        wrong_len = packed_status(a, wrong, sizeof wrong);
        unknown_len = packed_status(b, unknown, sizeof unknown);
        assert_int_equal(wrong_len, unknown_len);
        assert_memory_equal(wrong, unknown, wrong_len);
        assert_int_equal(dg_reply_response(a)->body_case, dg_reply_response(b)->body_case);
        assert_two_denials_alike(&srv, head, "admin", "nobody-here");
        dg_reply_free(a);
        dg_reply_free(b);
    }
    dg_client_close(c);
}

static void test_requests_before_login_are_unauthenticated(void **state)
{
    dg_client *c = dgt_connect(&srv);
    dg_reply *r = whoami_reply(c);

    (void)state;
    assert_status(r, DANGAN__V1__CODE__UNAUTHENTICATED, "login_required");
    dg_reply_free(r);
    dg_client_close(c);
}

static void test_hello_must_come_first(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    Dangan__V1__Frame *f;
    dgt_raw *r;

    (void)state;
    assert_int_equal(dgt_raw_connect(srv.port, NULL, &r), 0);
    login.username = "admin";
    login.password = srv.admin_password;
    req.id = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__FAILED_PRECONDITION);
    assert_string_equal(f->response->status->reason, "hello_required");
    dangan__v1__frame__free_unpacked(f, NULL);
    /* Ping needs neither Hello nor login. */
    req.id = 2;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    dgt_raw_close(r);
}

static void test_token_resumes_the_session_on_a_new_connection(void **state)
{
    char token[DG_CLIENT_TOKEN_LEN + 1];
    dg_client *a = dgt_connect(&srv), *b = dgt_connect(&srv);
    dg_reply *r;

    (void)state;
    assert_int_equal(dg_client_login(a, "admin", srv.admin_password, token), DG_OK);
    assert_int_equal(dg_client_authenticate(b, token), DG_OK);
    r = whoami_reply(b);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_string_equal(dg_reply_response(r)->whoami->session->user->username, "admin");
    dg_reply_free(r);
    dg_client_close(a);
    dg_client_close(b);
}

static void test_bogus_tokens_are_refused(void **state)
{
    static const char *const tokens[] = {
        "0000000000000000000000000000000000000000000000000000000000000000", /* unknown */
        "not-a-token",                                                      /* malformed */
        "",
    };
    dg_client *c = dgt_connect(&srv);
    const char *reason;

    (void)state;
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        assert_int_equal(dg_client_authenticate(c, tokens[i]), DG_EAUTH);
        dg_client_last_status(c, &reason, NULL);
        assert_string_equal(reason, "invalid_token");
    }
    dg_client_close(c);
}

static void test_logout_revokes_the_token_everywhere(void **state)
{
    char token[DG_CLIENT_TOKEN_LEN + 1];
    dg_client *a = dgt_connect(&srv), *b = dgt_connect(&srv), *c = dgt_connect(&srv);
    const char *reason;
    dg_reply *r;

    (void)state;
    assert_int_equal(dg_client_login(a, "admin", srv.admin_password, token), DG_OK);
    assert_int_equal(dg_client_authenticate(b, token), DG_OK);
    assert_int_equal(dg_client_logout(a), DG_OK);
    /* b shared that session: its next request is refused. */
    r = whoami_reply(b);
    assert_status(r, DANGAN__V1__CODE__UNAUTHENTICATED, "session_revoked");
    dg_reply_free(r);
    /* and the token cannot be used again anywhere. */
    assert_int_equal(dg_client_authenticate(c, token), DG_EAUTH);
    dg_client_last_status(c, &reason, NULL);
    assert_string_equal(reason, "session_revoked");
    /* a itself is logged out too. */
    r = whoami_reply(a);
    assert_status(r, DANGAN__V1__CODE__UNAUTHENTICATED, "login_required");
    dg_reply_free(r);
    dg_client_close(a);
    dg_client_close(b);
    dg_client_close(c);
}

static void test_change_password_rules_and_revocation(void **state)
{
    static const char fresh[] = "correct horse battery staple 档案";
    char old_token[DG_CLIENT_TOKEN_LEN + 1], new_token[DG_CLIENT_TOKEN_LEN + 1];
    dg_client *a = dgt_connect(&srv), *other = dgt_connect(&srv), *c;
    const char *reason;
    dg_reply *r;

    (void)state;
    assert_int_equal(dg_client_login(a, "admin", srv.admin_password, old_token), DG_OK);
    assert_int_equal(dg_client_login(other, "admin", srv.admin_password, NULL), DG_OK);
    /* wrong current password */
    assert_int_equal(dg_client_change_password(a, "wrong", fresh, NULL), DG_EDENIED);
    dg_client_last_status(a, &reason, NULL);
    assert_string_equal(reason, "wrong_current_password");
    /* too short: 14 characters */
    assert_int_equal(dg_client_change_password(a, srv.admin_password, "fourteen chars", NULL),
                     DG_EINVAL);
    /* success: this connection continues with a new token */
    assert_int_equal(dg_client_change_password(a, srv.admin_password, fresh, new_token), DG_OK);
    assert_string_not_equal(old_token, new_token);
    r = whoami_reply(a);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_reply_free(r);
    /* every other session of the user ended */
    r = whoami_reply(other);
    assert_status(r, DANGAN__V1__CODE__UNAUTHENTICATED, "session_revoked");
    dg_reply_free(r);
    c = dgt_connect(&srv);
    assert_int_equal(dg_client_authenticate(c, old_token), DG_EAUTH);
    assert_int_equal(dg_client_authenticate(c, new_token), DG_OK);
    assert_int_equal(dg_client_login(c, "admin", srv.admin_password, NULL), DG_EAUTH);
    assert_int_equal(dg_client_login(c, "admin", fresh, NULL), DG_OK);
    snprintf(srv.admin_password, sizeof srv.admin_password, "%s", fresh);
    dg_client_close(a);
    dg_client_close(other);
    dg_client_close(c);
}

/* ------------------------------------------------------------ audit */

struct audit_counts {
    int login_ok, login_denied, logout, passwd_ok, passwd_denied, unknown_user_named;
    int64_t checked;
    int64_t first_bad;
};

static void read_audit(const dgt_server *s, struct audit_counts *n)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    uint8_t prev[32] = {0};

    memset(n, 0, sizeof *n);
    dgt_db_path(s, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, at, coalesce(user_id,0), username, peer, "
                                        "action, entity, coalesce(entity_id,0), outcome, detail, "
                                        "hash FROM audit_log ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        dg_audit_rec r = {
            .seq = sqlite3_column_int64(st, 0),
            .at = sqlite3_column_int64(st, 1),
            .user_id = sqlite3_column_int64(st, 2),
            .username = (const char *)sqlite3_column_text(st, 3),
            .peer = (const char *)sqlite3_column_text(st, 4),
            .action = (const char *)sqlite3_column_text(st, 5),
            .entity = (const char *)sqlite3_column_text(st, 6),
            .entity_id = sqlite3_column_int64(st, 7),
            .outcome = (const char *)sqlite3_column_text(st, 8),
            .detail = (const char *)sqlite3_column_text(st, 9),
        };
        uint8_t h[32];

        dg_audit_hash(prev, &r, h);
        if (n->first_bad == 0 && memcmp(h, sqlite3_column_blob(st, 10), 32) != 0)
            n->first_bad = r.seq;
        memcpy(prev, h, 32);
        n->checked++;
        bool ok = strcmp(r.outcome, "ok") == 0;
        if (!strcmp(r.action, "session.login"))
            ok ? n->login_ok++ : n->login_denied++;
        if (!strcmp(r.action, "session.login") && !strcmp(r.username, "nobody-here"))
            n->unknown_user_named++;
        if (!strcmp(r.action, "session.logout") && ok)
            n->logout++;
        if (!strcmp(r.action, "user.change_password"))
            ok ? n->passwd_ok++ : n->passwd_denied++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A password longer than any can be is named as such, not as "required". */
static void test_an_overlong_password_is_refused_as_too_long(void **state)
{
    char *long_password = malloc(30001);
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ChangePasswordRequest chpw = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;
    const Dangan__V1__Status *st;
    dg_reply *r;

    (void)state;
    memset(long_password, 'x', 30000);
    long_password[30000] = '\0';
    r = login_reply(c, "admin", long_password);
    st = dg_reply_response(r)->status;
    assert_status(r, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_argument");
    assert_non_null(strstr(st->message, "too long"));
    assert_non_null(strstr(st->message, "at most 1024 bytes"));
    assert_int_equal(st->n_field_violations, 1);
    assert_string_equal(st->field_violations[0]->field, "login.password");
    assert_non_null(strstr(st->field_violations[0]->description, "30000"));
    dg_reply_free(r);
    chpw.current_password = long_password;
    chpw.new_password = "a perfectly good new password";
    req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
    req.change_password = &chpw;
    r = dgt_call(c, &req);
    st = dg_reply_response(r)->status;
    assert_status(r, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_argument");
    assert_non_null(strstr(st->message, "too long"));
    assert_string_equal(st->field_violations[0]->field, "change_password.current_password");
    dg_reply_free(r);
    /* an empty one is still "required" */
    r = login_reply(c, "admin", "");
    assert_status(r, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_argument");
    assert_non_null(strstr(dg_reply_response(r)->status->message, "required"));
    dg_reply_free(r);
    free(long_password);
    dg_client_close(c);
}

static void test_every_login_logout_and_password_change_is_audited(void **state)
{
    struct audit_counts n;

    (void)state;
    read_audit(&srv, &n);
    assert_int_equal(n.first_bad, 0); /* the hash chain holds */
    assert_true(n.login_ok >= 6);
    assert_true(n.login_denied >= 11); /* 10 looking the same, 1 after the password change */
    assert_int_equal(n.unknown_user_named, 5);
    assert_int_equal(n.logout, 1);
    assert_int_equal(n.passwd_ok, 1);
    assert_int_equal(n.passwd_denied, 1); /* the too-short attempt never reached the store */
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_login_returns_token_and_session),
        cmocka_unit_test(test_user_names_are_case_insensitive),
        cmocka_unit_test(test_unknown_user_and_wrong_password_look_the_same),
        cmocka_unit_test(test_requests_before_login_are_unauthenticated),
        cmocka_unit_test(test_hello_must_come_first),
        cmocka_unit_test(test_token_resumes_the_session_on_a_new_connection),
        cmocka_unit_test(test_bogus_tokens_are_refused),
        cmocka_unit_test(test_logout_revokes_the_token_everywhere),
        cmocka_unit_test(test_change_password_rules_and_revocation),
        cmocka_unit_test(test_an_overlong_password_is_refused_as_too_long),
        cmocka_unit_test(test_every_login_logout_and_password_change_is_audited),
    };

    return cmocka_run_group_tests_name("shared server", shared, setup, teardown);
}
