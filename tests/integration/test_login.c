/* test_login.c - logging in and out over real TLS: tokens, identical answers
 * for unknown users and wrong passwords, sessions across connections,
 * revocation, password changes, throttling (pipelined guesses, guesses from
 * many connections, no lockout of an address that logged in before), idle
 * and absolute expiry, and the audit record (hash-chained) that each of them
 * leaves. Distinct peers are distinct loopback addresses (127.0.0.2, ...).
 * The servers are dangand-test: expiry and throttling are driven by moving
 * their clock (dgt_clock_advance), and password checks are counted through
 * its argon2 probe, never timed. */
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

static dg_reply *login_reply(dg_client *c, const char *user, const char *password)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;

    m.username = (char *)user;
    m.password = (char *)password;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &m;
    return dgt_call(c, &req);
}

static dg_reply *whoami_reply(dg_client *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__WhoamiRequest m = DANGAN__V1__WHOAMI_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_WHOAMI;
    req.whoami = &m;
    return dgt_call(c, &req);
}

static void assert_status(dg_reply *r, int code, const char *reason)
{
    assert_int_equal(dgt_code(r), code);
    assert_string_equal(dgt_reason(r), reason);
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

/* ------------------------------------------------------------ own servers */

/* Servers whose clock the test moves, with connections that never idle out
 * (24 h) and may be without a session for an hour: only the session's own
 * expiry can end it. */
static const char DRIVEN_INI[] =
    "[limits]\nidle_timeout_ms = 86400000\nprelogin_timeout_ms = 3600000\n";
#define IDLE_MS (30 * 60 * 1000LL)       /* [sessions] idle_timeout_s, the default */
#define ABSOLUTE_MS (10 * 3600 * 1000LL) /* [sessions] absolute_timeout_s, the default */
#define MARGIN_MS (60 * 1000LL)          /* more than the real time a step can take */

static void expect_whoami(dg_client *c, int code, const char *reason)
{
    dg_reply *r = whoami_reply(c);

    assert_int_equal(dgt_code(r), code);
    if (reason)
        assert_string_equal(dgt_reason(r), reason);
    dg_reply_free(r);
}

/* A new connection's Authenticate with `token` is refused as expired. */
static void expect_token_expired(const dgt_server *s, const char *token)
{
    dg_client *d = dgt_connect(s);
    const char *reason;

    assert_int_equal(dg_client_authenticate(d, token), DG_EAUTH);
    dg_client_last_status(d, &reason, NULL);
    assert_string_equal(reason, "session_expired");
    dg_client_close(d);
}

/* Used within its idle timeout (10 minutes here), a session lives on; left
 * idle past it, the sweep ends it, the connection's next request says so,
 * and its token no longer resumes it anywhere. */
static void test_idle_session_expires(void **state)
{
    const int64_t idle_ms = 10 * 60 * 1000;
    char ini[256], token[DG_CLIENT_TOKEN_LEN + 1];
    dgt_server s;
    dg_client *c;

    (void)state;
    snprintf(ini, sizeof ini, "%s[sessions]\nidle_timeout_s = %d\n", DRIVEN_INI,
             (int)(idle_ms / 1000));
    dgt_server_start_prog(&s, ini, DANGAND_TEST_PATH);
    c = dgt_connect(&s);
    assert_int_equal(dg_client_login(c, "admin", s.admin_password, token), DG_OK);
    for (int i = 0; i < 3; i++) { /* half an hour in all, never idle for 10 minutes */
        dgt_clock_advance(&s, idle_ms - MARGIN_MS);
        dgt_server_sweep(&s);
        expect_whoami(c, DANGAN__V1__CODE__OK, NULL);
    }
    dgt_clock_advance(&s, idle_ms + MARGIN_MS);
    dgt_server_sweep(&s);
    expect_whoami(c, DANGAN__V1__CODE__UNAUTHENTICATED, "session_expired");
    expect_token_expired(&s, token);
    dg_client_close(c);
    dgt_server_stop(&s);
}

/* Busy all along (a request every 29 minutes), the session still ends at
 * its absolute expiry, 10 hours after the login, and not before: for the
 * connection using it and for its token. The last leg runs on a connection
 * that resumed the session 20 minutes before the end. */
static void test_session_ends_at_its_absolute_expiry_despite_activity(void **state)
{
    const int64_t step = IDLE_MS - MARGIN_MS;
    char token[DG_CLIENT_TOKEN_LEN + 1];
    int64_t elapsed = 0;
    dgt_server s;
    dg_client *c, *d;

    (void)state;
    dgt_server_start_prog(&s, DRIVEN_INI, DANGAND_TEST_PATH);
    c = dgt_connect(&s);
    assert_int_equal(dg_client_login(c, "admin", s.admin_password, token), DG_OK);
    for (; elapsed + step < ABSOLUTE_MS - MARGIN_MS; elapsed += step) {
        dgt_clock_advance(&s, step);
        dgt_server_sweep(&s);
        expect_whoami(c, DANGAN__V1__CODE__OK, NULL);
    }
    /* a minute on, the sweep stores that activity: the token resumes it */
    dgt_clock_advance(&s, MARGIN_MS);
    elapsed += MARGIN_MS;
    dgt_server_sweep(&s);
    d = dgt_connect(&s);
    assert_int_equal(dg_client_authenticate(d, token), DG_OK);
    expect_whoami(d, DANGAN__V1__CODE__OK, NULL);
    dgt_clock_advance(&s, ABSOLUTE_MS - elapsed + MARGIN_MS); /* under the idle timeout */
    dgt_server_sweep(&s);
    expect_whoami(d, DANGAN__V1__CODE__UNAUTHENTICATED, "session_expired");
    expect_token_expired(&s, token);
    dg_client_close(d);
    dg_client_close(c);
    dgt_server_stop(&s);
}

/* Wrong passwords for `user` on `c` until the answer is login_throttled
 * with at least `min_ms` to wait, moving the clock over each shorter wait:
 * each wait is longer than the one before (the delay doubles with every
 * failure). Returns the wait. */
static uint32_t throttle_until(const dgt_server *s, dg_client *c, const char *user, uint32_t min_ms)
{
    uint32_t last = 0;

    for (int i = 0; i < 40; i++) {
        dg_reply *r = login_reply(c, user, "a wrong password");
        uint32_t wait = dg_reply_response(r)->status->retry_after_ms;

        if (strcmp(dgt_reason(r), "login_throttled") != 0) {
            assert_status(r, DANGAN__V1__CODE__UNAUTHENTICATED, "bad_credentials");
            dg_reply_free(r);
            continue;
        }
        dg_reply_free(r);
        assert_true(wait > last);
        if (wait >= min_ms)
            return wait;
        dgt_clock_advance(s, wait);
        last = wait;
    }
    fail_msg("%s was never throttled for %u ms", user, min_ms);
    return 0;
}

/* After account_failures, an account waits before every try from an address
 * it never logged in from: 1 s, doubling with each failure, at most 60 s;
 * an unknown name alike. The right password gets in once the wait is over.
 * The clock moves: the waits are long, so no real time can matter. */
static void test_account_throttling_delays_then_recovers(void **state)
{
    dgt_server s;
    dg_client *c;
    dg_reply *r;
    uint32_t wait_ms;
    char ini[256];

    (void)state;
    /* its connection, never logged in, outlives the two minutes the waits take */
    snprintf(ini, sizeof ini, "%s[login]\naccount_failures = 3\n", DRIVEN_INI);
    dgt_server_start_prog(&s, ini, DANGAND_TEST_PATH);
    c = dgt_connect(&s);
    wait_ms = throttle_until(&s, c, "admin", 50000); /* ... 16 s, 32 s, then the cap */
    assert_true(wait_ms <= 60000);                   /* account_max_delay_s */
    r = login_reply(c, "admin", s.admin_password);   /* even the right password waits */
    assert_status(r, DANGAN__V1__CODE__RESOURCE_EXHAUSTED, "login_throttled");
    assert_true(dg_reply_response(r)->status->retry_after_ms <= wait_ms);
    dg_reply_free(r);
    throttle_until(&s, c, "ghost", 30000); /* a name nobody has: the same */
    r = login_reply(c, "ghost", "anything");
    assert_status(r, DANGAN__V1__CODE__RESOURCE_EXHAUSTED, "login_throttled");
    dg_reply_free(r);
    dgt_clock_advance(&s, wait_ms); /* what admin was told to wait (some of it passed already) */
    r = login_reply(c, "admin", s.admin_password);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_reply_free(r);
    dg_client_close(c);
    dgt_server_stop(&s);
}

static void test_peer_address_is_blocked_after_many_failures(void **state)
{
    dgt_server s;
    dg_client *c;
    dg_reply *r;
    uint32_t wait_ms;
    char name[32];

    (void)state;
    /* its connection, never logged in, must outlive the 15 minutes it waits */
    dgt_server_start_prog(&s,
                          "[login]\npeer_failures = 4\n[limits]\nidle_timeout_ms = 86400000\n"
                          "prelogin_timeout_ms = 3600000\n",
                          DANGAND_TEST_PATH);
    c = dgt_connect(&s);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "spray%d", i); /* a different account each time */
        r = login_reply(c, name, "password123");
        assert_status(r, DANGAN__V1__CODE__UNAUTHENTICATED, "bad_credentials");
        dg_reply_free(r);
    }
    r = login_reply(c, "admin", s.admin_password);
    assert_status(r, DANGAN__V1__CODE__RESOURCE_EXHAUSTED, "login_throttled");
    wait_ms = dg_reply_response(r)->status->retry_after_ms;
    assert_true(wait_ms > 14 * 60 * 1000 && wait_ms <= 15 * 60 * 1000); /* peer_block_s */
    dg_reply_free(r);
    /* the block ends when it said it would */
    dgt_clock_advance(&s, wait_ms);
    r = login_reply(c, "admin", s.admin_password);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    dg_reply_free(r);
    dg_client_close(c);
    dgt_server_stop(&s);
}

/* ------------------------------------------------------------ guessing over raw TLS */

/* A raw TLS connection from `source_ip` (NULL: 127.0.0.1) that has said Hello. */
static dgt_raw *raw_hello_from(const dgt_server *s, const char *source_ip)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    dgt_raw_opts o = {.source_ip = source_ip};
    Dangan__V1__Frame *f;
    dgt_raw *r;

    assert_int_equal(dgt_raw_connect(s->port, &o, &r), 0);
    hello.protocol_major = 1;
    hello.client_name = "test_login";
    req.id = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    return r;
}

static uint8_t *pack_login(uint64_t id, const char *user, const char *password, size_t *len)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;

    m.username = (char *)user;
    m.password = (char *)password;
    req.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &m;
    return dgt_pack_request(&req, len);
}

static void raw_send_login(dgt_raw *r, uint64_t id, const char *user, const char *password)
{
    size_t n;
    uint8_t *buf = pack_login(id, user, password, &n);

    assert_int_equal(dgt_raw_write(r, buf, n), 0);
    free(buf);
}

/* Sends a Login and returns its reply (free with dangan__v1__frame__free_unpacked). */
static Dangan__V1__Frame *raw_login(dgt_raw *r, uint64_t id, const char *user, const char *password)
{
    Dangan__V1__Frame *f;

    raw_send_login(r, id, user, password);
    assert_int_equal(dgt_raw_read_frame(r, 30000, &f), 0);
    assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_RESPONSE);
    assert_int_equal(f->response->id, id);
    return f;
}

static void expect_login(dgt_raw *r, uint64_t id, const char *user, const char *password, int code,
                         const char *reason)
{
    Dangan__V1__Frame *f = raw_login(r, id, user, password);

    assert_int_equal(f->response->status->code, code);
    if (reason)
        assert_string_equal(f->response->status->reason, reason);
    dangan__v1__frame__free_unpacked(f, NULL);
}

/* Answers to guesses, by reason. Only bad_credentials means a password was checked. */
struct tally {
    int checked, in_progress, throttled, busy;
};

static void tally_reply(struct tally *t, Dangan__V1__Frame *f)
{
    const char *reason = f->response->status->reason;

    if (strcmp(reason, "bad_credentials") == 0)
        t->checked++;
    else if (strcmp(reason, "login_in_progress") == 0)
        t->in_progress++;
    else if (strcmp(reason, "login_throttled") == 0)
        t->throttled++;
    else if (strcmp(reason, "login_busy") == 0)
        t->busy++;
    else
        fail_msg("unexpected answer to a guess: %s", reason);
    dangan__v1__frame__free_unpacked(f, NULL);
}

/* Denied logins the audit log says were checked (reason bad_credentials). */
static int audited_checks(const dgt_server *s)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int n;

    dgt_db_path(s, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM audit_log WHERE action = "
                                        "'session.login' AND outcome = 'denied' AND "
                                        "detail LIKE '%bad_credentials%'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* 64 wrong passwords sent in one write on one connection: only one is
 * checked at a time, so the throttle counts each before the next; the rest
 * are told a check is running, and the connection stays usable. */
static void test_pipelined_logins_on_one_connection_are_checked_one_at_a_time(void **state)
{
    enum { N = 64 };
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    struct tally t = {0};
    dgt_server s;
    dgt_raw *r;
    Dangan__V1__Frame *f;

    (void)state;
    dgt_server_start(&s, NULL);
    r = raw_hello_from(&s, NULL);
    for (int i = 0; i < N; i++) {
        size_t n;
        uint8_t *one = pack_login(100 + (uint64_t)i, "admin", "a wrong guess", &n);

        wire = realloc(wire, wire_len + n);
        memcpy(wire + wire_len, one, n);
        wire_len += n;
        free(one);
    }
    assert_int_equal(dgt_raw_write(r, wire, wire_len), 0);
    free(wire);
    for (int i = 0; i < N; i++) {
        assert_int_equal(dgt_raw_read_frame(r, 30000, &f), 0);
        tally_reply(&t, f);
    }
    print_message("checked %d, in progress %d, throttled %d, busy %d\n", t.checked, t.in_progress,
                  t.throttled, t.busy);
    assert_true(t.checked >= 1 && t.checked <= 5); /* pair_failures */
    assert_true(t.in_progress > 0);
    assert_int_equal(audited_checks(&s), t.checked);
    /* the connection goes on: the right password, asked alone, gets in */
    expect_login(r, 1000, "admin", s.admin_password, DANGAN__V1__CODE__OK, NULL);
    dgt_raw_close(r);
    dgt_server_stop(&s);
}

/* Guesses from several connections of one address at once, round after
 * round: the attempts in flight count from admission, so at most the limit
 * is checked, for one account (pair_failures) and for many (peer_failures). */
static void guess_from_connections(const dgt_server *s, bool is_spray, int n_rounds,
                                   struct tally *t)
{
    enum { N_CONNS = 8 };
    dgt_raw *conns[N_CONNS];
    char name[32];

    for (int i = 0; i < N_CONNS; i++)
        conns[i] = raw_hello_from(s, NULL);
    for (int round = 0; round < n_rounds; round++) {
        for (int i = 0; i < N_CONNS; i++) {
            snprintf(name, sizeof name, "spray-%d-%d", round, i);
            raw_send_login(conns[i], 10 + (uint64_t)round, is_spray ? name : "admin",
                           "a wrong guess");
        }
        for (int i = 0; i < N_CONNS; i++) {
            Dangan__V1__Frame *f;

            assert_int_equal(dgt_raw_read_frame(conns[i], 30000, &f), 0);
            assert_int_equal(f->response->id, 10 + (uint64_t)round);
            tally_reply(t, f);
        }
    }
    for (int i = 0; i < N_CONNS; i++)
        dgt_raw_close(conns[i]);
    print_message("checked %d, in progress %d, throttled %d, busy %d\n", t->checked, t->in_progress,
                  t->throttled, t->busy);
}

static void test_logins_from_many_connections_of_one_address_check_at_most_the_limit(void **state)
{
    struct tally t = {0};
    dgt_server s;

    (void)state;
    dgt_server_start(&s, NULL);
    guess_from_connections(&s, false, 6, &t);
    assert_true(t.checked >= 1 && t.checked <= 5); /* pair_failures */
    assert_int_equal(t.checked + t.throttled + t.busy, 8 * 6);
    assert_int_equal(audited_checks(&s), t.checked);
    dgt_server_stop(&s);
}

static void
test_spraying_from_many_connections_of_one_address_checks_at_most_the_limit(void **state)
{
    struct tally t = {0};
    dgt_server s;

    (void)state;
    dgt_server_start(&s, "[login]\npeer_failures = 12\n");
    guess_from_connections(&s, true, 4, &t);
    assert_true(t.checked >= 1 && t.checked <= 12); /* peer_failures */
    assert_int_equal(audited_checks(&s), t.checked);
    dgt_server_stop(&s);
}

/* Nobody can lock out an account: failures for admin from A do not stop
 * the right password from B, which logged in before; they do stop further
 * guesses from A, and an address that never logged in waits a short delay. */
static void
test_failures_from_one_address_do_not_lock_out_an_address_that_logged_in_before(void **state)
{
    static const char *const A = "127.0.0.3", *const B = "127.0.0.2", *const C = "127.0.0.4";
    dgt_server s;
    dgt_raw *a, *b, *c;
    Dangan__V1__Frame *f;
    uint64_t id = 10;
    uint32_t wait_ms = 0;

    (void)state;
    /* A's connection outlives the minute its guesses take on the moved clock */
    dgt_server_start_prog(&s, DRIVEN_INI, DANGAND_TEST_PATH);
    b = raw_hello_from(&s, B);
    expect_login(b, 2, "admin", s.admin_password, DANGAN__V1__CODE__OK, NULL);
    dgt_raw_close(b);
    a = raw_hello_from(&s, A);
    /* guesses from A until the account's delay is over 30 s (moving the clock over the
     * shorter ones), so that the checks below are not a race with real time */
    while (wait_ms < 30000) {
        f = raw_login(a, id++, "admin", "a wrong guess");
        if (strcmp(f->response->status->reason, "login_throttled") == 0) {
            assert_true(f->response->status->retry_after_ms > wait_ms);
            wait_ms = f->response->status->retry_after_ms;
            if (wait_ms < 30000)
                dgt_clock_advance(&s, wait_ms);
        } else {
            assert_string_equal(f->response->status->reason, "bad_credentials");
        }
        dangan__v1__frame__free_unpacked(f, NULL);
        assert_true(id < 40);
    }
    /* A is slowed down ... */
    f = raw_login(a, id++, "admin", s.admin_password);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
    assert_string_equal(f->response->status->reason, "login_throttled");
    dangan__v1__frame__free_unpacked(f, NULL);
    /* ... an address the account never logged in from waits the account's delay
     * (account_max_delay_s at most) ... */
    c = raw_hello_from(&s, C);
    f = raw_login(c, 2, "admin", s.admin_password);
    assert_string_equal(f->response->status->reason, "login_throttled");
    assert_true(f->response->status->retry_after_ms > 0);
    assert_true(f->response->status->retry_after_ms <= 60000);
    dangan__v1__frame__free_unpacked(f, NULL);
    /* ... and B, which logged in before, is not locked out. */
    b = raw_hello_from(&s, B);
    expect_login(b, 2, "admin", s.admin_password, DANGAN__V1__CODE__OK, NULL);
    dgt_raw_close(a);
    dgt_raw_close(b);
    dgt_raw_close(c);
    dgt_server_stop(&s);
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
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_idle_session_expires),
        cmocka_unit_test(test_session_ends_at_its_absolute_expiry_despite_activity),
        cmocka_unit_test(test_account_throttling_delays_then_recovers),
        cmocka_unit_test(test_peer_address_is_blocked_after_many_failures),
        cmocka_unit_test(test_pipelined_logins_on_one_connection_are_checked_one_at_a_time),
        cmocka_unit_test(test_logins_from_many_connections_of_one_address_check_at_most_the_limit),
        cmocka_unit_test(
            test_spraying_from_many_connections_of_one_address_checks_at_most_the_limit),
        cmocka_unit_test(
            test_failures_from_one_address_do_not_lock_out_an_address_that_logged_in_before),
    };
    int failed = cmocka_run_group_tests_name("shared server", shared, setup, teardown);

    return failed + cmocka_run_group_tests_name("servers of their own", own, NULL, NULL);
}
