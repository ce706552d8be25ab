/* test_login_expiry.c - sessions end over real TLS: left idle past the idle
 * timeout, or at the absolute expiry however busy, for the connection using
 * the session and for its token. Each test starts a dangand-test of its own
 * and moves its clock (dgt_clock_advance); the sweep runs when the test says
 * (dgt_server_sweep). Logging in and out: test_login.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "login_calls.h"

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

int main(void)
{
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_idle_session_expires),
        cmocka_unit_test(test_session_ends_at_its_absolute_expiry_despite_activity),
    };

    return cmocka_run_group_tests_name("session expiry, servers of their own", own, NULL, NULL);
}
