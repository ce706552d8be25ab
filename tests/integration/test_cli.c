/* test_cli.c - the dangan CLI against a real server: trusting a server,
 * logging in and out, whoami/ping/passwd, --json output, exit codes and the
 * modes of the files it keeps (docs/cli.md). No terminal is attached, so every
 * prompt must fail cleanly instead of hanging. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fixture.h"

static dgt_server srv;
static char cfg[256];
static dgt_run run; /* big buffers: static, not on the stack */

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_tempdir(cfg, sizeof cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(cfg);
    dgt_server_stop(&srv);
    return 0;
}

#define CLI(input, ...)                                                                            \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

static json_t *stdout_json(void)
{
    json_error_t e;
    json_t *j = json_loads(run.out, 0, &e);

    if (!j)
        fail_msg("stdout is not JSON (%s): %s", e.text, run.out);
    return j;
}

static int file_mode(const char *name)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", cfg, name);
    if (stat(path, &st) != 0)
        return -1;
    return (int)(st.st_mode & 0777);
}

static void test_connect_without_terminal_or_yes_trusts_nothing(void **state)
{
    (void)state;
    CLI(NULL, "connect", srv.addr);
    assert_int_equal(run.status, 3);
    assert_non_null(strstr(run.err, srv.fingerprint)); /* shown so a human can compare */
    assert_int_equal(file_mode("known_servers"), -1);
}

static void test_connect_with_a_wrong_fingerprint_fails_and_stores_nothing(void **state)
{
    char wrong[sizeof srv.fingerprint];

    (void)state;
    snprintf(wrong, sizeof wrong, "%s", srv.fingerprint);
    wrong[1] = wrong[1] == '0' ? '1' : '0';
    CLI(NULL, "connect", srv.addr, "--fingerprint", wrong);
    assert_int_equal(run.status, 3);
    assert_non_null(strstr(run.err, "does not match"));
    assert_int_equal(file_mode("known_servers"), -1);
}

static void test_connect_to_nothing_is_exit_3(void **state)
{
    (void)state;
    CLI(NULL, "connect", "127.0.0.1:1", "--yes");
    assert_int_equal(run.status, 3);
    assert_non_null(strstr(run.err, "refused"));
}

static void test_connect_yes_trusts_and_remembers_the_server(void **state)
{
    (void)state;
    CLI(NULL, "--json", "connect", srv.addr, "--yes");
    assert_int_equal(run.status, 0);
    json_t *j = stdout_json();
    assert_string_equal(json_string_value(json_object_get(j, "fingerprint")), srv.fingerprint);
    json_decref(j);
    assert_int_equal(file_mode("known_servers"), 0600);
    assert_int_equal(file_mode("config"), 0600);
    assert_int_equal(file_mode(""), 0700); /* the directory itself */
}

static void test_commands_before_login_exit_4(void **state)
{
    (void)state;
    CLI(NULL, "whoami");
    assert_int_equal(run.status, 4);
    assert_non_null(strstr(run.err, "dangan login"));
}

static void test_bad_password_exits_4_with_json_error_on_stderr(void **state)
{
    (void)state;
    CLI("not-the-password\n", "--json", "login", "--user", "admin", "--password-stdin");
    assert_int_equal(run.status, 4);
    assert_string_equal(run.out, ""); /* stdout empty on failure */
    json_error_t e;
    json_t *j = json_loads(run.err, 0, &e);
    assert_non_null(j);
    json_t *err = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "UNAUTHENTICATED");
    assert_string_equal(json_string_value(json_object_get(err, "reason")), "bad_credentials");
    json_decref(j);
}

static void test_login_without_password_source_is_a_usage_error(void **state)
{
    (void)state;
    CLI(NULL, "login", "--user", "admin");
    assert_int_equal(run.status, 2);
    assert_non_null(strstr(run.err, "--password-stdin"));
}

/* A password longer than the CLI reads is refused as such, not cut short
 * (a cut password would be sent as another one); one the CLI reads but the
 * server refuses is named too long by the server. */
static void test_an_overlong_password_is_named_too_long(void **state)
{
    static char input[30002];

    (void)state;
    memset(input, 'x', 30000);
    input[30000] = '\n';
    CLI(input, "login", "--user", "admin", "--password-stdin");
    assert_int_equal(run.status, 2);
    assert_non_null(strstr(run.err, "too long"));
    input[1050] = '\n';
    input[1051] = '\0';
    CLI(input, "login", "--user", "admin", "--password-stdin");
    assert_int_not_equal(run.status, 0);
    assert_non_null(strstr(run.err, "too long: at most 1024 bytes"));
}

static void test_login_keeps_a_private_token_and_whoami_uses_it(void **state)
{
    char input[128];

    (void)state;
    snprintf(input, sizeof input, "%s\n", srv.admin_password);
    CLI(input, "login", "--user", "admin", "--password-stdin");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "Logged in"));
    assert_int_equal(file_mode("tokens"), 0600);
    CLI(NULL, "--json", "whoami");
    assert_int_equal(run.status, 0);
    json_t *j = stdout_json();
    assert_string_equal(json_string_value(json_object_get(j, "user")), "admin");
    assert_string_equal(json_string_value(json_object_get(j, "role")), "admin");
    json_decref(j);
    CLI(NULL, "whoami");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "admin (role admin)"));
}

static void test_ping_json_reports_round_trip(void **state)
{
    (void)state;
    CLI(NULL, "--json", "ping", "--count", "3");
    assert_int_equal(run.status, 0);
    json_t *j = stdout_json();
    assert_true(json_is_number(json_object_get(j, "rtt_ms")));
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
    json_decref(j);
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    CLI(NULL, "frobnicate");
    assert_int_equal(run.status, 2);
    CLI(NULL, "ping", "--count", "zero");
    assert_int_equal(run.status, 2);
    CLI(NULL, "ping", "--bogus");
    assert_int_equal(run.status, 2);
    CLI(NULL, "connect");
    assert_int_equal(run.status, 2);
}

static void test_every_command_has_help(void **state)
{
    static const char *const cmds[] = {"connect", "login", "logout", "whoami", "ping", "passwd"};

    (void)state;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        CLI(NULL, cmds[i], "--help");
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "usage: dangan"));
    }
}

static void test_passwd_enforces_policy_then_changes(void **state)
{
    static const char fresh[] = "a much longer pass phrase 客户档案";
    char input[256];

    (void)state;
    snprintf(input, sizeof input, "%s\nshort\n", srv.admin_password);
    CLI(input, "passwd", "--password-stdin");
    assert_int_equal(run.status, 9);
    assert_non_null(strstr(run.err, "at least 15"));
    snprintf(input, sizeof input, "%s\n%s\n", srv.admin_password, fresh);
    CLI(input, "passwd", "--password-stdin");
    assert_int_equal(run.status, 0);
    snprintf(srv.admin_password, sizeof srv.admin_password, "%s", fresh);
    CLI(NULL, "whoami"); /* the saved token was replaced by the new session's */
    assert_int_equal(run.status, 0);
}

static void test_logout_ends_the_session(void **state)
{
    (void)state;
    CLI(NULL, "logout");
    assert_int_equal(run.status, 0);
    CLI(NULL, "whoami");
    assert_int_equal(run.status, 4);
    CLI(NULL, "logout"); /* idempotent */
    assert_int_equal(run.status, 0);
}

static void test_ca_file_trust_works_too(void **state)
{
    char ca[400], other_cfg[256];

    (void)state;
    snprintf(ca, sizeof ca, "%s/tls/cert.pem", srv.data);
    snprintf(other_cfg, sizeof other_cfg, "%s", cfg);
    dgt_tempdir(cfg, sizeof cfg);
    CLI(NULL, "connect", srv.addr, "--ca", ca);
    assert_int_equal(run.status, 0);
    CLI(NULL, "ping");
    assert_int_equal(run.status, 0);
    dgt_rmtree(cfg);
    snprintf(cfg, sizeof cfg, "%s", other_cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_without_terminal_or_yes_trusts_nothing),
        cmocka_unit_test(test_connect_with_a_wrong_fingerprint_fails_and_stores_nothing),
        cmocka_unit_test(test_connect_to_nothing_is_exit_3),
        cmocka_unit_test(test_connect_yes_trusts_and_remembers_the_server),
        cmocka_unit_test(test_commands_before_login_exit_4),
        cmocka_unit_test(test_bad_password_exits_4_with_json_error_on_stderr),
        cmocka_unit_test(test_login_without_password_source_is_a_usage_error),
        cmocka_unit_test(test_an_overlong_password_is_named_too_long),
        cmocka_unit_test(test_login_keeps_a_private_token_and_whoami_uses_it),
        cmocka_unit_test(test_ping_json_reports_round_trip),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_every_command_has_help),
        cmocka_unit_test(test_passwd_enforces_policy_then_changes),
        cmocka_unit_test(test_logout_ends_the_session),
        cmocka_unit_test(test_ca_file_trust_works_too),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
