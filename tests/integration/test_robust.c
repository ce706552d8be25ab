/* test_robust.c - bad input closes only the offending connection, with a
 * clear error where one can be given, while a logged-in bystander keeps
 * working: garbage instead of TLS, garbage frames inside TLS, invalid UTF-8,
 * oversized lengths, wrong frame kinds, unknown requests, timeouts, a full
 * server, one address holding many connections without logging in, and a
 * scan's failed handshakes (summarised in the log, not one line each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "frame.h"

static dgt_server srv;
static dg_client *bystander; /* logged in for the whole group; must never notice anything */

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    bystander = dgt_login(&srv, "admin", srv.admin_password);
    return 0;
}

static int teardown(void **state)
{
    dg_reply *r;

    (void)state;
    assert_int_equal(dg_client_whoami(bystander, &r), DG_OK);
    dg_reply_free(r);
    dg_client_close(bystander);
    dgt_server_stop(&srv);
    return 0;
}

static void assert_bystander_fine(void)
{
    int64_t rtt;
    dg_reply *r;

    assert_int_equal(dg_client_ping(bystander, &rtt), DG_OK);
    assert_int_equal(dg_client_whoami(bystander, &r), DG_OK);
    dg_reply_free(r);
}

static dgt_raw *raw_after_hello_from(int port, const char *source_ip)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    dgt_raw_opts o = {.source_ip = source_ip};
    Dangan__V1__Frame *f;
    dgt_raw *r;

    assert_int_equal(dgt_raw_connect(port, &o, &r), 0);
    hello.protocol_major = 1;
    hello.client_name = "test_robust";
    req.id = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    return r;
}

static dgt_raw *raw_after_hello(int port)
{
    return raw_after_hello_from(port, NULL);
}

/* Reads the error reply, checks it, and checks that the connection then closes. */
static void expect_error_then_close(dgt_raw *r, uint64_t id, int code, const char *reason,
                                    const char *in_message)
{
    Dangan__V1__Frame *f;

    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_RESPONSE);
    assert_int_equal(f->response->id, id);
    assert_int_equal(f->response->status->code, code);
    assert_string_equal(f->response->status->reason, reason);
    if (in_message)
        assert_non_null(strstr(f->response->status->message, in_message));
    dangan__v1__frame__free_unpacked(f, NULL);
    assert_true(dgt_raw_wait_closed(r, 5000));
}

static void test_plain_tcp_garbage_closes_only_that_connection(void **state)
{
    static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = dgt_tcp_connect(srv.port);

    (void)state;
    assert_true(fd >= 0);
    assert_true(write(fd, junk, sizeof junk - 1) > 0);
    assert_true(dgt_tcp_wait_closed(fd, 5000));
    close(fd);
    assert_bystander_fine();
}

static void test_garbage_frame_inside_tls_is_answered_then_closed(void **state)
{
    uint8_t frame[4 + 64];
    dgt_raw *r = raw_after_hello(srv.port);

    (void)state;
    dg_frame_put_header(frame, 64);
    for (int i = 0; i < 64; i++)
        frame[4 + i] = (uint8_t)(0xf7 ^ (i * 37)); /* not a protobuf */
    assert_int_equal(dgt_raw_write(r, frame, sizeof frame), 0);
    expect_error_then_close(r, 0, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_frame", NULL);
    dgt_raw_close(r);
    assert_bystander_fine();
}

static void test_invalid_utf8_is_named_with_its_field_and_request(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    dgt_raw *r = raw_after_hello(srv.port);
    uint8_t *buf, *p;
    size_t n;

    (void)state;
    login.username = "ZZZZ";
    login.password = "whatever-password";
    req.id = 77;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    buf = dgt_pack_request(&req, &n);
    p = memmem(buf, n, "ZZZZ", 4);
    assert_non_null(p);
    memcpy(p, "\xff\xfe\xc0\xaf", 4); /* not UTF-8 */
    assert_int_equal(dgt_raw_write(r, buf, n), 0);
    free(buf);
    expect_error_then_close(r, 77, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_frame",
                            "request.login.username");
    dgt_raw_close(r);
    assert_bystander_fine();
}

static void test_embedded_nul_in_a_string_is_rejected(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    dgt_raw *r = raw_after_hello(srv.port);
    uint8_t *buf, *p;
    size_t n;

    (void)state;
    login.username = "adminXtail"; /* "admin\0tail" would log in as "admin" if truncated */
    login.password = srv.admin_password;
    req.id = 78;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    buf = dgt_pack_request(&req, &n);
    p = memmem(buf, n, "adminXtail", 10);
    p[5] = '\0';
    assert_int_equal(dgt_raw_write(r, buf, n), 0);
    free(buf);
    expect_error_then_close(r, 78, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_frame", "NUL");
    dgt_raw_close(r);
}

static void test_oversized_lengths_close_the_connection(void **state)
{
    static const uint32_t lengths[] = {65537, 4u << 20, 0xffffffffu};

    (void)state;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        dgt_raw *r = raw_after_hello(srv.port);
        uint8_t hdr[4];

        dg_frame_put_header(hdr, lengths[i]);
        assert_int_equal(dgt_raw_write(r, hdr, 4), 0); /* the body never follows */
        expect_error_then_close(r, 0, DANGAN__V1__CODE__RESOURCE_EXHAUSTED, "frame_too_large",
                                "over the limit");
        dgt_raw_close(r);
    }
    assert_bystander_fine();
}

static void test_logged_in_connections_may_send_larger_frames(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    char *big = malloc(200 * 1024);
    dg_reply *r;

    (void)state;
    memset(big, 'x', 200 * 1024 - 1);
    big[200 * 1024 - 1] = '\0';
    hello.protocol_major = 1;
    hello.client_name = big; /* a 200 KiB frame: over the pre-login limit */
    req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    r = dgt_call(bystander, &req);
    /* Refused by validation, not by the frame limit: the connection stays. */
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_int_equal(dg_reply_response(r)->status->n_field_violations, 1);
    dg_reply_free(r);
    free(big);
    assert_bystander_fine();
}

static void test_response_frames_from_a_client_are_refused(void **state)
{
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    Dangan__V1__Response resp = DANGAN__V1__RESPONSE__INIT;
    dgt_raw *r = raw_after_hello(srv.port);
    uint8_t buf[64];
    size_t n;

    (void)state;
    resp.id = 9;
    f.kind_case = DANGAN__V1__FRAME__KIND_RESPONSE;
    f.response = &resp;
    n = dangan__v1__frame__pack(&f, buf + 4);
    dg_frame_put_header(buf, (uint32_t)n);
    assert_int_equal(dgt_raw_write(r, buf, n + 4), 0);
    expect_error_then_close(r, 0, DANGAN__V1__CODE__INVALID_ARGUMENT, "invalid_frame", "Request");
    dgt_raw_close(r);
}

static void test_request_id_zero_is_refused_and_connection_stays(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    dgt_raw *r = raw_after_hello(srv.port);
    Dangan__V1__Frame *f;

    (void)state;
    req.id = 0;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_string_equal(f->response->status->reason, "request_id_required");
    dangan__v1__frame__free_unpacked(f, NULL);
    req.id = 3;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    dgt_raw_close(r);
}

static void test_unknown_request_type_is_unimplemented(void **state)
{
    /* Frame{request{id: 5, field 999: empty message}} written by hand: a
     * request type from a newer client. */
    static const uint8_t body[] = {0x0a, 0x05, 0x08, 0x05, 0xba, 0x3e, 0x00};
    uint8_t frame[4 + sizeof body];
    dgt_raw *r = raw_after_hello(srv.port);
    Dangan__V1__Frame *f;

    (void)state;
    /* field 999, wire type 2: tag = 999 << 3 | 2 = 7994 = varint 0xba 0x3e */
    dg_frame_put_header(frame, (uint32_t)sizeof body);
    memcpy(frame + 4, body, sizeof body);
    assert_int_equal(dgt_raw_write(r, frame, sizeof frame), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->response->id, 5);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__UNIMPLEMENTED);
    assert_string_equal(f->response->status->reason, "unknown_request");
    assert_non_null(strstr(f->response->status->message, "client newer"));
    dangan__v1__frame__free_unpacked(f, NULL);
    dgt_raw_close(r);
}

/* ------------------------------------------------------------ own servers */

/* Timeouts run on dangand-test's clock, which the test moves: long ones
 * (10 minutes), checked a minute before and a minute after, so the real time
 * a step takes cannot matter. */
#define TIMEOUT_MS (10 * 60 * 1000)
#define MARGIN_MS (60 * 1000)

/* A connection that never starts its TLS handshake is closed once the
 * handshake timeout has passed, and not before. */
static void test_silent_connections_are_closed_after_the_handshake_timeout(void **state)
{
    static const char accepted[] = "msg=\"accepted\"";
    char ini[128];
    dgt_server s;
    int fd;

    (void)state;
    snprintf(ini, sizeof ini, "[limits]\nhandshake_timeout_ms = %d\n", TIMEOUT_MS);
    /* the debug log says when the server has accepted: its timeout starts there */
    dgt_server_start_debug(&s, ini, DANGAND_TEST_PATH);
    fd = dgt_tcp_connect(s.port);
    dgt_log_wait(&s, accepted, 0);
    dgt_clock_advance(&s, TIMEOUT_MS - MARGIN_MS);
    dgt_server_sweep(&s);
    assert_false(dgt_tcp_wait_closed(fd, 0));
    dgt_clock_advance(&s, 2 * MARGIN_MS);
    dgt_server_sweep(&s);
    assert_true(dgt_tcp_wait_closed(fd, 5000)); /* closed by that sweep: on its way */
    close(fd);
    assert_true(dgt_log_has(&s, "handshake timeout"));
    dgt_server_stop(&s);
}

/* A connection that said Hello but never logs in is told login_timeout and
 * closed once the pre-login timeout has passed, and not before. */
static void test_connections_without_login_are_closed_after_the_prelogin_timeout(void **state)
{
    Dangan__V1__Frame *f;
    char ini[128];
    dgt_server s;
    dgt_raw *r;

    (void)state;
    snprintf(ini, sizeof ini, "[limits]\nprelogin_timeout_ms = %d\nidle_timeout_ms = %d\n",
             TIMEOUT_MS, 2 * TIMEOUT_MS);
    dgt_server_start_prog(&s, ini, DANGAND_TEST_PATH);
    r = raw_after_hello(s.port); /* answered: accepted, its timeout running */
    dgt_clock_advance(&s, TIMEOUT_MS - MARGIN_MS);
    dgt_server_sweep(&s);
    assert_int_equal(dgt_raw_read_frame(r, 1, &f), -2); /* nothing yet */
    dgt_clock_advance(&s, 2 * MARGIN_MS);
    dgt_server_sweep(&s);
    expect_error_then_close(r, 0, DANGAN__V1__CODE__UNAUTHENTICATED, "login_timeout", NULL);
    dgt_raw_close(r);
    dgt_server_stop(&s);
}

static void test_a_full_server_says_so_and_keeps_serving_the_others(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    dgt_server s;
    dg_client *a, *b;
    dgt_raw *r;
    int64_t rtt;

    (void)state;
    dgt_server_start(&s, "[server]\nmax_connections = 2\n");
    a = dgt_login(&s, "admin", s.admin_password);
    b = dgt_connect(&s);
    assert_int_equal(dgt_raw_connect(s.port, NULL, &r), 0);
    req.id = 4;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    expect_error_then_close(r, 4, DANGAN__V1__CODE__UNAVAILABLE, "server_full", NULL);
    dgt_raw_close(r);
    assert_int_equal(dg_client_ping(a, &rtt), DG_OK);
    assert_int_equal(dg_client_ping(b, &rtt), DG_OK);
    dg_client_close(a);
    dg_client_close(b);
    dgt_server_stop(&s);
}

static void raw_login_ok(dgt_raw *r, const char *user, const char *password)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    Dangan__V1__Frame *f;

    login.username = (char *)user;
    login.password = (char *)password;
    req.id = 7;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 30000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
}

/* One address may keep only max_unauthenticated_per_address connections
 * that are not logged in; one more is told why and closed; logged-in
 * connections and other addresses are not affected. */
static void test_unauthenticated_connections_per_address_are_capped(void **state)
{
    dgt_server s;
    dg_client *bystander_here, *c;
    dg_client_opts o;
    dgt_raw *held[4], *r, *other;
    Dangan__V1__Frame *f;
    int64_t rtt;

    (void)state;
    dgt_server_start(&s, "[limits]\nmax_unauthenticated_per_address = 4\n");
    bystander_here = dgt_login(&s, "admin", s.admin_password); /* logged in: not counted */
    for (int i = 0; i < 4; i++)
        held[i] = raw_after_hello(s.port);
    /* once one of them logs in, there is room for another */
    raw_login_ok(held[0], "admin", s.admin_password);
    r = raw_after_hello(s.port);
    dgt_raw_close(held[0]);
    held[0] = r;
    /* four are not logged in now: a fifth is told why, then closed */
    assert_int_equal(dgt_raw_connect(s.port, NULL, &r), 0);
    assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
    assert_int_equal(f->response->id, 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
    assert_string_equal(f->response->status->reason, "too_many_unauthenticated");
    assert_non_null(strstr(f->response->status->message, "127.0.0.1"));
    assert_non_null(strstr(f->response->status->message, "at most 4"));
    dangan__v1__frame__free_unpacked(f, NULL);
    assert_true(dgt_raw_wait_closed(r, 5000));
    dgt_raw_close(r);
    /* libdangan passes the reason on */
    memset(&o, 0, sizeof o);
    o.server = s.addr;
    o.fingerprint = s.fingerprint;
    assert_int_not_equal(dg_client_open(&o, &c), DG_OK);
    print_message("libdangan: %s\n", dg_client_errmsg(c));
    assert_non_null(strstr(dg_client_errmsg(c), "not logged in"));
    dg_client_close(c);
    /* another address and the logged-in connection are not affected */
    other = raw_after_hello_from(s.port, "127.0.0.2");
    assert_int_equal(dg_client_ping(bystander_here, &rtt), DG_OK);
    dgt_raw_close(other);
    for (int i = 0; i < 4; i++)
        dgt_raw_close(held[i]);
    dg_client_close(bystander_here);
    dgt_server_stop(&s);
}

/* Connections still in their handshake count too; past a few refusals the
 * rest are closed at once, so one address holds at most cap + 4 slots. */
static void test_handshaking_connections_count_and_the_excess_is_closed_at_once(void **state)
{
    enum { N = 40, CAP = 4, REFUSING = 4 };
    int fds[N];
    dgt_server s;
    dg_client *bystander_here;
    dgt_raw *other;
    int64_t rtt;

    (void)state;
    dgt_server_start(&s, "[limits]\nmax_unauthenticated_per_address = 4\n");
    bystander_here = dgt_login(&s, "admin", s.admin_password);
    for (int i = 0; i < N; i++) {
        fds[i] = dgt_tcp_connect(s.port); /* and then silence: no ClientHello */
        assert_true(fds[i] >= 0);
    }
    /* accepted in order: the first CAP + REFUSING wait in their handshake */
    for (int i = CAP + REFUSING; i < N; i++)
        assert_true(dgt_tcp_wait_closed(fds[i], 5000));
    for (int i = 0; i < CAP + REFUSING; i++)
        assert_false(dgt_tcp_wait_closed(fds[i], 20));
    other = raw_after_hello_from(s.port, "127.0.0.2");
    assert_int_equal(dg_client_ping(bystander_here, &rtt), DG_OK);
    /* the log names the refusals a few times, not once per connection */
    assert_true(dgt_log_count(&s, "are not logged in;") <= 5);
    assert_true(dgt_log_count(&s, "are not logged in;") >= 1);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    dgt_raw_close(other);
    dg_client_close(bystander_here);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    assert_true(dgt_log_has(&s, "more refused connections from 127.0.0.1"));
    assert_false(dgt_log_has(&s, " error "));
    dgt_rmtree(s.root);
}

/* A scan: 40 connections that fail the TLS handshake. The first few are
 * logged, the rest summarised in one line (here at shutdown, which reports
 * what the current minute left out). */
static void test_failed_handshakes_are_logged_a_few_times_then_summarised(void **state)
{
    static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    enum { N = 40 };
    dgt_server s;
    int n_lines;

    (void)state;
    dgt_server_start(&s, NULL);
    for (int i = 0; i < N; i++) {
        int fd = dgt_tcp_connect(s.port);

        assert_true(fd >= 0);
        assert_true(write(fd, junk, sizeof junk - 1) > 0);
        assert_true(dgt_tcp_wait_closed(fd, 5000));
        close(fd);
    }
    n_lines = dgt_log_count(&s, "user=- action=handshake msg=");
    print_message("%d of %d failed handshakes logged one by one\n", n_lines, N);
    assert_int_equal(n_lines, 5);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    assert_true(dgt_log_has(&s, "msg=\"35 more failed handshakes from 127.0.0.1 in the last"));
    assert_false(dgt_log_has(&s, " error "));
    dgt_rmtree(s.root);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_plain_tcp_garbage_closes_only_that_connection),
        cmocka_unit_test(test_garbage_frame_inside_tls_is_answered_then_closed),
        cmocka_unit_test(test_invalid_utf8_is_named_with_its_field_and_request),
        cmocka_unit_test(test_embedded_nul_in_a_string_is_rejected),
        cmocka_unit_test(test_oversized_lengths_close_the_connection),
        cmocka_unit_test(test_logged_in_connections_may_send_larger_frames),
        cmocka_unit_test(test_response_frames_from_a_client_are_refused),
        cmocka_unit_test(test_request_id_zero_is_refused_and_connection_stays),
        cmocka_unit_test(test_unknown_request_type_is_unimplemented),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_silent_connections_are_closed_after_the_handshake_timeout),
        cmocka_unit_test(test_connections_without_login_are_closed_after_the_prelogin_timeout),
        cmocka_unit_test(test_a_full_server_says_so_and_keeps_serving_the_others),
        cmocka_unit_test(test_unauthenticated_connections_per_address_are_capped),
        cmocka_unit_test(test_handshaking_connections_count_and_the_excess_is_closed_at_once),
        cmocka_unit_test(test_failed_handshakes_are_logged_a_few_times_then_summarised),
    };
    int failed = cmocka_run_group_tests_name("shared server", shared, setup, teardown);

    return failed + cmocka_run_group_tests_name("servers of their own", own, NULL, NULL);
}
