/* test_robust.c - bad input closes only the offending connection, with a
 * clear error where one can be given, while a logged-in bystander keeps
 * working: garbage instead of TLS, garbage frames inside TLS, invalid UTF-8,
 * oversized lengths, wrong frame kinds, unknown requests, timeouts, a full
 * server. */
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

static dgt_raw *raw_after_hello(int port)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    Dangan__V1__Frame *f;
    dgt_raw *r;

    assert_int_equal(dgt_raw_connect(port, NULL, &r), 0);
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

static void test_silent_connections_are_closed_after_the_handshake_timeout(void **state)
{
    dgt_server s;
    int fd;

    (void)state;
    dgt_server_start(&s, "[limits]\nhandshake_timeout_ms = 300\n");
    fd = dgt_tcp_connect(s.port);
    assert_true(dgt_tcp_wait_closed(fd, 5000)); /* the sweep runs once a second */
    close(fd);
    assert_true(dgt_log_has(&s, "handshake timeout"));
    dgt_server_stop(&s);
}

static void test_connections_without_login_are_closed_after_the_prelogin_timeout(void **state)
{
    dgt_server s;
    dgt_raw *r;

    (void)state;
    dgt_server_start(&s, "[limits]\nprelogin_timeout_ms = 500\n");
    r = raw_after_hello(s.port);
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
    };
    int failed = cmocka_run_group_tests_name("shared server", shared, setup, teardown);

    return failed + cmocka_run_group_tests_name("servers of their own", own, NULL, NULL);
}
