/* test_tls_policy.c - who may talk to dangand, and how: pinned fingerprint,
 * CA file, refusals of wrong identities, old protocol versions, non-AEAD
 * suites, missing ALPN, session tickets. A real server over real TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/ssl.h>

#include "certgen.h"
#include "fixture.h"

static dgt_server srv;

static int setup(void **state)
{
    (void)state;
    /* debug: every answered request is logged with its action. */
    dgt_server_start(&srv, "[server]\nlog_level = debug\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

static void test_pinned_fingerprint_connects_and_says_hello(void **state)
{
    dg_client *c = dgt_connect(&srv);
    const Dangan__V1__HelloResponse *h = dg_client_hello(c);
    int64_t rtt;

    (void)state;
    assert_non_null(h);
    assert_int_equal(h->protocol_major, 1);
    assert_int_equal(strlen(h->server_id), 32);
    assert_int_equal(h->limits->max_frame_before_login, 65536);
    assert_int_not_equal(h->feed_head->epoch, 0);
    assert_int_equal(dg_client_ping(c, &rtt), DG_OK);
    dg_client_close(c);
}

static void test_wrong_fingerprint_is_refused_before_anything_is_sent(void **state)
{
    char wrong[sizeof srv.fingerprint];
    dg_client_opts o = {.server = srv.addr, .fingerprint = wrong};
    int hellos_before = dgt_log_count(&srv, "action=session.hello");
    dg_client *c;

    (void)state;
    snprintf(wrong, sizeof wrong, "%s", srv.fingerprint);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A'; /* one nibble off */
    assert_int_equal(dg_client_open(&o, &c), DG_ETRUST);
    assert_non_null(strstr(dg_client_errmsg(c), "does not match"));
    dg_client_close(c);
    /* Nothing reached the dispatcher: no fallback, no Hello. */
    assert_int_equal(dgt_log_count(&srv, "action=session.hello"), hellos_before);
}

static void test_server_cert_as_ca_file_verifies_ip_and_name(void **state)
{
    char ca[400], by_name[64];
    dg_client_opts o = {.ca_file = ca};
    dg_client *c;

    (void)state;
    snprintf(ca, sizeof ca, "%s/tls/cert.pem", srv.data);
    o.server = srv.addr; /* 127.0.0.1: an iPAddress SAN */
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    dg_client_close(c);
    snprintf(by_name, sizeof by_name, "localhost:%d", srv.port); /* a dNSName SAN */
    o.server = by_name;
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    dg_client_close(c);
}

static void test_unrelated_ca_is_refused(void **state)
{
    char dir[256], key[320], cert[320], err[256];
    const char *sans[] = {"127.0.0.1"};
    dg_client_opts o = {.server = srv.addr, .ca_file = cert};
    dg_client *c;

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    assert_int_equal(dg_certgen_write(key, cert, sans, 1, 30, err, sizeof err), DG_OK);
    assert_int_equal(dg_client_open(&o, &c), DG_ETRUST);
    assert_non_null(strstr(dg_client_errmsg(c), "not trusted"));
    dg_client_close(c);
    dgt_rmtree(dir);
}

static void test_probe_reads_the_fingerprint_init_printed(void **state)
{
    char fp[DG_CLIENT_FINGERPRINT_TEXT_LEN], err[256];

    (void)state;
    assert_int_equal(dg_client_probe_fingerprint(srv.addr, 5000, fp, err, sizeof err), DG_OK);
    assert_string_equal(fp, srv.fingerprint);
}

static void test_tls_1_1_is_refused(void **state)
{
    dgt_raw_opts o = {.max_minor = MBEDTLS_SSL_MINOR_VERSION_2};
    dgt_raw *r;

    (void)state;
    assert_int_not_equal(dgt_raw_connect(srv.port, &o, &r), 0);
}

static void test_non_aead_suites_are_refused(void **state)
{
    static const int cbc[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 0};
    static const int cbc_sha1[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, 0};
    static const int rsa_gcm[] = {MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0};
    const int *suites[] = {cbc, cbc_sha1, rsa_gcm};
    dgt_raw *r;

    (void)state;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        dgt_raw_opts o = {.ciphersuites = suites[i]};

        assert_int_not_equal(dgt_raw_connect(srv.port, &o, &r), 0);
    }
}

static void test_each_aead_suite_works(void **state)
{
    static const int gcm128[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0};
    static const int gcm256[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0};
    static const int chacha[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
    const int *suites[] = {gcm128, gcm256, chacha};

    (void)state;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
        dgt_raw_opts o = {.ciphersuites = suites[i]};
        Dangan__V1__Frame *f;
        dgt_raw *r;

        assert_int_equal(dgt_raw_connect(srv.port, &o, &r), 0);
        req.id = 5;
        req.body_case = DANGAN__V1__REQUEST__BODY_PING;
        req.ping = &ping;
        assert_int_equal(dgt_raw_send_request(r, &req), 0);
        assert_int_equal(dgt_raw_read_frame(r, 5000, &f), 0);
        assert_int_equal(f->response->id, 5);
        assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
        dangan__v1__frame__free_unpacked(f, NULL);
        dgt_raw_close(r);
    }
}

static void test_client_without_alpn_is_dropped(void **state)
{
    /* From an address of its own: the refused handshakes of the tests above
     * used up 127.0.0.1's allowance of such warnings for this minute. */
    dgt_raw_opts o = {.without_alpn = true, .source_ip = "127.0.0.5"};
    dgt_raw *r;
    int rc = dgt_raw_connect(srv.port, &o, &r);

    (void)state;
    /* Either the handshake fails or the server hangs up right after it. */
    if (rc == 0) {
        assert_true(dgt_raw_wait_closed(r, 5000));
        dgt_raw_close(r);
    }
    assert_true(dgt_log_has(&srv, "did not negotiate ALPN dangan/1"));
}

static void test_server_issues_no_session_tickets(void **state)
{
    dgt_raw *r;

    (void)state;
    assert_int_equal(dgt_raw_connect(srv.port, NULL, &r), 0);
    assert_false(dgt_raw_got_ticket(r));
    dgt_raw_close(r);
}

static void test_renegotiation_is_refused(void **state)
{
    dgt_raw_opts o = {.allow_renegotiation = true};
    dgt_raw *r;

    (void)state;
    assert_int_equal(dgt_raw_connect(srv.port, &o, &r), 0);
    assert_int_not_equal(dgt_raw_renegotiate(r), 0);
    dgt_raw_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_fingerprint_connects_and_says_hello),
        cmocka_unit_test(test_wrong_fingerprint_is_refused_before_anything_is_sent),
        cmocka_unit_test(test_server_cert_as_ca_file_verifies_ip_and_name),
        cmocka_unit_test(test_unrelated_ca_is_refused),
        cmocka_unit_test(test_probe_reads_the_fingerprint_init_printed),
        cmocka_unit_test(test_tls_1_1_is_refused),
        cmocka_unit_test(test_non_aead_suites_are_refused),
        cmocka_unit_test(test_each_aead_suite_works),
        cmocka_unit_test(test_client_without_alpn_is_dropped),
        cmocka_unit_test(test_server_issues_no_session_tickets),
        cmocka_unit_test(test_renegotiation_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
