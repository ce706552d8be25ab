/* test_login_throttle.c - guessing passwords over real TLS is throttled:
 * an account waits longer after each failure, up to a cap, and recovers; an
 * address spraying many accounts is blocked for a while; pipelined guesses
 * on one connection and guesses from many connections of one address are
 * checked at most up to the limit, each check audited; and no address can
 * lock an account out of one that logged in before. Distinct peers are
 * distinct loopback addresses (127.0.0.2, ...). Each test starts a dangand
 * of its own; the waits are crossed by moving a dangand-test's clock, never
 * by sleeping. Logging in and out: test_login.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "login_calls.h"

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
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_account_throttling_delays_then_recovers),
        cmocka_unit_test(test_peer_address_is_blocked_after_many_failures),
        cmocka_unit_test(test_pipelined_logins_on_one_connection_are_checked_one_at_a_time),
        cmocka_unit_test(test_logins_from_many_connections_of_one_address_check_at_most_the_limit),
        cmocka_unit_test(
            test_spraying_from_many_connections_of_one_address_checks_at_most_the_limit),
        cmocka_unit_test(
            test_failures_from_one_address_do_not_lock_out_an_address_that_logged_in_before),
    };

    return cmocka_run_group_tests_name("login throttling, servers of their own", own, NULL, NULL);
}
