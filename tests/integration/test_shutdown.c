/* test_shutdown.c - SIGTERM stops the server cleanly: in-flight work is
 * finished and durable, clients are disconnected, the database is intact and
 * the server starts again on the same data; one server per data directory. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "fixture.h"

static int64_t count_rows(const dgt_server *s, const char *sql)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;

    dgt_db_path(s, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Idle connections do not hold a shutdown up: with an hour's grace, the
 * server still exits at once (the fixture gives up after 30 s), without
 * waiting out the grace period. */
static void test_sigterm_with_idle_clients_exits_zero_and_disconnects_them(void **state)
{
    dgt_server s;
    dg_client *a, *b;
    int64_t rtt;

    (void)state;
    dgt_server_start(&s, "[limits]\nshutdown_grace_ms = 3600000\n");
    a = dgt_login(&s, "admin", s.admin_password);
    b = dgt_connect(&s);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    assert_false(dgt_log_has(&s, "grace period over"));
    assert_true(dgt_log_has(&s, "msg=\"stopped\""));
    assert_false(dgt_log_has(&s, " error "));
    assert_int_not_equal(dg_client_ping(a, &rtt), DG_OK);
    assert_int_not_equal(dg_client_ping(b, &rtt), DG_OK);
    dg_client_close(a);
    dg_client_close(b);
    dgt_rmtree(s.root);
}

/* A hang-up (the terminal that ran `dangand serve` closed, or a stray
 * `kill -HUP`) stops the server as SIGTERM does: cleanly, the clean-shutdown
 * marker written, so the next start does not check the database again. */
static void test_sighup_stops_cleanly_like_sigterm(void **state)
{
    dgt_server s;
    char path[512];

    (void)state;
    dgt_server_start(&s, NULL);
    assert_int_equal(dgt_server_stop_by(&s, SIGHUP), 0);
    assert_true(dgt_log_has(&s, "signal=SIGHUP"));
    assert_true(dgt_log_has(&s, "msg=\"stopped\""));
    snprintf(path, sizeof path, "%s/dangand.clean", s.data);
    assert_int_equal(access(path, F_OK), 0);
    dgt_rmtree(s.root);
}

static void test_sigterm_finishes_in_flight_logins_durably(void **state)
{
    enum { N = 8 };
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    dgt_server s;
    dg_client *c[N];
    uint64_t ids[N];
    int64_t sessions_before;

    (void)state;
    /* Eight logins of one account from one address at once: the throttle
     * counts them as failures until they are checked, so its limits are set
     * out of the way; this test is about shutdown. */
    dgt_server_start(&s, "[login]\npair_failures = 100\naccount_failures = 100\n"
                         "account_max_in_flight = 100\npeer_max_in_flight = 100\n");
    for (int i = 0; i < N; i++)
        c[i] = dgt_connect(&s);
    sessions_before = count_rows(&s, "SELECT count(*) FROM sessions");
    login.username = "admin";
    login.password = s.admin_password;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    /* One login per connection (a connection checks one password at a
     * time), all put on the wire together. Each spends tens of ms in
     * argon2id: most are still in flight when the signal lands. */
    for (int i = 0; i < N; i++)
        assert_int_equal(dg_client_send(c[i], &req, &ids[i]), DG_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(dg_client_poll(c[i], 0), DG_OK);
    /* The first answer shows the server has read the requests (sent
     * together, they arrive together); the other seven are still hashing. */
    for (int i = 0; i < N; i++) {
        dg_reply *r;

        assert_int_equal(dg_client_wait(c[i], ids[i], &r), DG_OK);
        if (i == 0)
            kill(s.pid, SIGTERM);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        dg_reply_free(r);
    }
    for (int i = 0; i < N; i++)
        dg_client_close(c[i]);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    /* Acknowledged means durable: every answered login is in the database. */
    assert_int_equal(count_rows(&s, "SELECT count(*) FROM sessions"), sessions_before + N);
    assert_int_equal(count_rows(&s, "SELECT count(*) FROM audit_log WHERE action = "
                                    "'session.login' AND outcome = 'ok'"),
                     N);
    assert_int_equal(count_rows(&s, "SELECT count(*) FROM pragma_integrity_check "
                                    "WHERE integrity_check = 'ok'"),
                     1);
    /* and the server comes back on the same data */
    dgt_server_restart(&s, NULL);
    c[0] = dgt_login(&s, "admin", s.admin_password);
    dg_client_close(c[0]);
    dgt_server_stop(&s);
}

static void test_second_server_on_the_same_data_is_refused(void **state)
{
    char cmd[2048];
    dgt_server s;
    int status;

    (void)state;
    dgt_server_start(&s, NULL);
    snprintf(cmd, sizeof cmd, "%s serve --data %s --listen 127.0.0.1:0 2>%s/second.log",
             DANGAND_PATH, s.data, s.root);
    status = system(cmd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    snprintf(cmd, sizeof cmd, "grep -q 'already using this data directory' %s/second.log", s.root);
    assert_int_equal(system(cmd), 0);
    dgt_server_stop(&s);
}

static void test_serve_refuses_a_data_dir_others_can_read(void **state)
{
    char cmd[2048];
    dgt_server s;

    (void)state;
    dgt_server_start(&s, NULL);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    snprintf(cmd, sizeof cmd,
             "chmod 755 %s && ! %s serve --data %s --listen 127.0.0.1:0 2>%s/open.log && "
             "grep -q 'chmod 700' %s/open.log",
             s.data, DANGAND_PATH, s.data, s.root, s.root);
    assert_int_equal(system(cmd), 0);
    dgt_rmtree(s.root);
}

/* A start that fails late - the address is taken, after the database, the
 * writer and the feed were set up - gives everything back: exit 1 with the
 * reason, and (under ASan) no leak. */
static void test_a_start_that_cannot_listen_frees_what_it_made(void **state)
{
    char cmd[2048];
    dgt_server s;
    int status;

    (void)state;
    dgt_server_start(&s, NULL);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    /* s.port is still the port it had; take it with a listener of our own */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    snprintf(cmd, sizeof cmd, "%s serve --data %s --listen 127.0.0.1:%d 2>%s/taken.log",
             DANGAND_PATH, s.data, s.port, s.root);
    status = system(cmd);
    close(fd);
    assert_true(WIFEXITED(status));
    snprintf(cmd, sizeof cmd, "cat %s/taken.log >&2", s.root);
    if (WEXITSTATUS(status) != 1)
        assert_int_equal(system(cmd), 0);
    assert_int_equal(WEXITSTATUS(status), 1);
    snprintf(cmd, sizeof cmd,
             "grep -q 'cannot listen' %s/taken.log && ! grep -q 'Sanitizer' %s/taken.log", s.root,
             s.root);
    assert_int_equal(system(cmd), 0);
    dgt_rmtree(s.root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_with_idle_clients_exits_zero_and_disconnects_them),
        cmocka_unit_test(test_sighup_stops_cleanly_like_sigterm),
        cmocka_unit_test(test_sigterm_finishes_in_flight_logins_durably),
        cmocka_unit_test(test_second_server_on_the_same_data_is_refused),
        cmocka_unit_test(test_serve_refuses_a_data_dir_others_can_read),
        cmocka_unit_test(test_a_start_that_cannot_listen_frees_what_it_made),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
