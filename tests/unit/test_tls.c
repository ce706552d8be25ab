/* test_tls.c - the TLS module in memory: a client and a server dg_tls
 * pumping ciphertext between two buffers, no sockets. Certificates come from
 * certgen, so this also checks what dangand init writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "certgen.h"
#include "fixture.h"
#include "tls.h"

static char dir[256], key[320], cert[320];
static dg_tls_conf *server_conf;
static uint8_t fp[DG_FINGERPRINT_LEN];

static int setup(void **state)
{
    const char *sans[] = {"localhost", "127.0.0.1", "::1", "crm.example.lan"};
    char err[256];

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    assert_int_equal(dg_certgen_write(key, cert, sans, 4, 30, err, sizeof err), DG_OK);
    assert_int_equal(dg_tls_conf_new_server(cert, key, &server_conf, err, sizeof err), DG_OK);
    assert_int_equal(dg_tls_cert_file_fingerprint(cert, fp), DG_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_tls_conf_free(server_conf);
    dgt_rmtree(dir);
    return 0;
}

static void move(dg_buf *from, dg_buf *to)
{
    dg_buf_append(to, dg_buf_head(from), dg_buf_avail(from));
    dg_buf_reset(from);
}

/* Runs both ends until both are established or one fails; returns the
 * client's result (the server's in *server_rc). */
static int handshake(dg_tls *cli, dg_tls *srv, dg_buf *cli_plain, dg_buf *srv_plain, int *server_rc)
{
    int rc_c = DG_OK, rc_s = DG_OK;

    for (int i = 0; i < 20 && rc_c == DG_OK && rc_s == DG_OK; i++) {
        rc_c = dg_tls_pull(cli, cli_plain);
        move(dg_tls_cout(cli), dg_tls_cin(srv));
        rc_s = dg_tls_pull(srv, srv_plain);
        move(dg_tls_cout(srv), dg_tls_cin(cli));
        if (dg_tls_is_established(cli) && dg_tls_is_established(srv))
            break;
    }
    if (server_rc)
        *server_rc = rc_s;
    return rc_c;
}

static int connect_with(const dg_tls_client_opts *o, const char *host, dg_tls **cli_out,
                        dg_tls **srv_out, dg_tls_conf **conf_out)
{
    dg_buf a = DG_BUF_INIT, b = DG_BUF_INIT;
    char err[256];
    int rc;

    assert_int_equal(dg_tls_conf_new_client(o, conf_out, err, sizeof err), DG_OK);
    assert_int_equal(dg_tls_new(*conf_out, host, cli_out), DG_OK);
    assert_int_equal(dg_tls_new(server_conf, NULL, srv_out), DG_OK);
    rc = handshake(*cli_out, *srv_out, &a, &b, NULL);
    dg_buf_fini(&a);
    dg_buf_fini(&b);
    return rc;
}

static void done(dg_tls *c, dg_tls *s, dg_tls_conf *conf)
{
    dg_tls_free(c);
    dg_tls_free(s);
    dg_tls_conf_free(conf);
}

static void test_pinned_handshake_carries_data_both_ways(void **state)
{
    dg_tls_client_opts o = {.pin_sha256 = fp};
    dg_buf plain = DG_BUF_INIT;
    dg_tls *c, *s;
    dg_tls_conf *conf;

    (void)state;
    assert_int_equal(connect_with(&o, "localhost", &c, &s, &conf), DG_OK);
    assert_true(dg_tls_is_established(c) && dg_tls_is_established(s));
    assert_non_null(strstr(dg_tls_ciphersuite(c), "ECDHE-ECDSA"));
    assert_int_equal(dg_tls_push(c, (const uint8_t *)"档案", 6), DG_OK);
    move(dg_tls_cout(c), dg_tls_cin(s));
    assert_int_equal(dg_tls_pull(s, &plain), DG_OK);
    assert_int_equal(dg_buf_avail(&plain), 6);
    assert_memory_equal(dg_buf_head(&plain), "档案", 6);
    dg_buf_reset(&plain);
    assert_int_equal(dg_tls_push(s, (const uint8_t *)"ok", 2), DG_OK);
    move(dg_tls_cout(s), dg_tls_cin(c));
    assert_int_equal(dg_tls_pull(c, &plain), DG_OK);
    assert_memory_equal(dg_buf_head(&plain), "ok", 2);
    dg_buf_fini(&plain);
    done(c, s, conf);
}

static void test_wrong_pin_fails_with_trust_error_naming_the_fingerprint(void **state)
{
    uint8_t wrong[DG_FINGERPRINT_LEN];
    dg_tls_client_opts o = {.pin_sha256 = wrong};
    char text[DG_FINGERPRINT_TEXT_LEN];
    dg_tls *c, *s;
    dg_tls_conf *conf;

    (void)state;
    memcpy(wrong, fp, sizeof wrong);
    wrong[31] ^= 1;
    assert_int_equal(connect_with(&o, "localhost", &c, &s, &conf), DG_ETRUST);
    assert_false(dg_tls_is_established(c));
    dg_fingerprint_format(fp, text);
    assert_non_null(strstr(dg_tls_errmsg(c), text));
    done(c, s, conf);
}

static void test_probe_accepts_any_certificate_and_reports_it(void **state)
{
    dg_tls_client_opts o = {.is_probe = true};
    uint8_t seen[DG_FINGERPRINT_LEN];
    dg_tls *c, *s;
    dg_tls_conf *conf;

    (void)state;
    assert_int_equal(connect_with(&o, "127.0.0.1", &c, &s, &conf), DG_OK);
    assert_int_equal(dg_tls_peer_fingerprint(c, seen), DG_OK);
    assert_memory_equal(seen, fp, DG_FINGERPRINT_LEN);
    done(c, s, conf);
}

static void test_ca_mode_checks_names_and_ip_addresses(void **state)
{
    static const struct {
        const char *host;
        int rc;
    } cases[] = {
        {"localhost", DG_OK}, {"crm.example.lan", DG_OK},  {"127.0.0.1", DG_OK},
        {"::1", DG_OK},       {"evil.example", DG_ETRUST}, {"10.9.9.9", DG_ETRUST},
    };
    dg_tls_client_opts o = {.ca_path = cert};

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dg_tls *c, *s;
        dg_tls_conf *conf;

        assert_int_equal(connect_with(&o, cases[i].host, &c, &s, &conf), cases[i].rc);
        done(c, s, conf);
    }
}

static void test_close_notify_reaches_the_peer(void **state)
{
    dg_tls_client_opts o = {.pin_sha256 = fp};
    dg_buf plain = DG_BUF_INIT;
    dg_tls *c, *s;
    dg_tls_conf *conf;

    (void)state;
    assert_int_equal(connect_with(&o, "localhost", &c, &s, &conf), DG_OK);
    dg_tls_close_notify(c);
    move(dg_tls_cout(c), dg_tls_cin(s));
    assert_int_equal(dg_tls_pull(s, &plain), DG_ECLOSED);
    dg_buf_fini(&plain);
    done(c, s, conf);
}

static void test_server_refuses_a_key_others_can_read(void **state)
{
    dg_tls_conf *conf;
    char err[256];

    (void)state;
    chmod(key, 0644);
    assert_int_equal(dg_tls_conf_new_server(cert, key, &conf, err, sizeof err), DG_EDENIED);
    assert_non_null(strstr(err, "chmod 600"));
    chmod(key, 0600);
}

static void test_certgen_refuses_to_overwrite(void **state)
{
    const char *sans[] = {"localhost"};
    char err[256];

    (void)state;
    assert_int_equal(dg_certgen_write(key, cert, sans, 1, 30, err, sizeof err), DG_EEXIST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_handshake_carries_data_both_ways),
        cmocka_unit_test(test_wrong_pin_fails_with_trust_error_naming_the_fingerprint),
        cmocka_unit_test(test_probe_accepts_any_certificate_and_reports_it),
        cmocka_unit_test(test_ca_mode_checks_names_and_ip_addresses),
        cmocka_unit_test(test_close_notify_reaches_the_peer),
        cmocka_unit_test(test_server_refuses_a_key_others_can_read),
        cmocka_unit_test(test_certgen_refuses_to_overwrite),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
