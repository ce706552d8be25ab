/* test_stream.c - dg_stream over a real loopback TCP connection and TLS, both
 * ends on one libuv loop: frames sent just before a graceful close all reach
 * the peer before it hears of the close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "certgen.h"
#include "fixture.h"
#include "frame.h"
#include "stream.h"

enum { N_FRAMES = 5 };

struct end {
    dg_stream *s;
    bool is_ready, is_closed;
    int error_rc;
    int n_frames;      /* frames received */
    int n_before_error; /* frames received before on_error */
};

static struct end server_end, client_end;
static uv_tcp_t listener;
static dg_tls_conf *server_conf, *client_conf;

static void on_ready(dg_stream *s, void *ud)
{
    struct end *e = ud;
    uint8_t frame[DG_FRAME_HEADER_LEN + 16];

    DG_UNUSED(s);
    e->is_ready = true;
    if (e != &server_end)
        return;
    /* The server says its last words and closes at once: the frames and the
     * close_notify leave in the same write. */
    for (int i = 0; i < N_FRAMES; i++) {
        dg_frame_put_header(frame, 16);
        memset(frame + DG_FRAME_HEADER_LEN, 'a' + i, 16);
        assert_int_equal(dg_stream_send(e->s, frame, sizeof frame), DG_OK);
    }
    dg_stream_close(e->s, true);
}

static int on_frame(dg_stream *s, const uint8_t *p, uint32_t len, void *ud)
{
    struct end *e = ud;

    DG_UNUSED(s);
    assert_int_equal(len, 16);
    assert_int_equal(p[0], 'a' + e->n_frames);
    e->n_frames++;
    return DG_OK;
}

static void on_error(dg_stream *s, int rc, void *ud)
{
    struct end *e = ud;

    e->error_rc = rc;
    e->n_before_error = e->n_frames;
    dg_stream_close(s, true);
}

static void on_closed(dg_stream *s, void *ud)
{
    struct end *e = ud;

    DG_UNUSED(s);
    e->is_closed = true;
    e->s = NULL;
}

static const dg_stream_cbs cbs = {.on_ready = on_ready,
                                  .on_frame = on_frame,
                                  .on_error = on_error,
                                  .on_closed = on_closed};

static void on_connection(uv_stream_t *l, int status)
{
    assert_int_equal(status, 0);
    assert_int_equal(dg_stream_new(l->loop, server_conf, NULL, &cbs, &server_end,
                                   &server_end.s),
                     DG_OK);
    assert_int_equal(uv_accept(l, dg_stream_handle(server_end.s)), 0);
    assert_int_equal(dg_stream_start(server_end.s), DG_OK);
    uv_close((uv_handle_t *)l, NULL); /* one connection is all this test needs */
}

static void test_frames_before_a_graceful_close_are_all_delivered(void **state)
{
    const char *sans[] = {"localhost", "127.0.0.1"};
    char dir[256], key[320], cert[320], err[256];
    uint8_t fp[DG_FINGERPRINT_LEN];
    dg_tls_client_opts o = {.pin_sha256 = fp};
    struct sockaddr_in addr;
    int addr_len = sizeof addr;
    uv_loop_t loop;

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    assert_int_equal(dg_certgen_write(key, cert, sans, 2, 30, err, sizeof err), DG_OK);
    assert_int_equal(dg_tls_conf_new_server(cert, key, &server_conf, err, sizeof err), DG_OK);
    assert_int_equal(dg_tls_cert_file_fingerprint(cert, fp), DG_OK);
    assert_int_equal(dg_tls_conf_new_client(&o, &client_conf, err, sizeof err), DG_OK);

    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(uv_tcp_init(&loop, &listener), 0);
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&listener, 1, on_connection), 0);
    assert_int_equal(uv_tcp_getsockname(&listener, (struct sockaddr *)&addr, &addr_len), 0);
    assert_int_equal(dg_stream_new(&loop, client_conf, "localhost", &cbs, &client_end,
                                   &client_end.s),
                     DG_OK);
    assert_int_equal(dg_stream_connect(client_end.s, (const struct sockaddr *)&addr), DG_OK);
    for (int i = 0; i < 10000 && !(server_end.is_closed && client_end.is_closed); i++)
        uv_run(&loop, UV_RUN_ONCE);

    assert_true(client_end.is_ready);
    assert_true(server_end.is_closed);
    assert_true(client_end.is_closed);
    assert_int_equal(client_end.error_rc, DG_ECLOSED);
    assert_int_equal(client_end.n_before_error, N_FRAMES);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    dg_tls_conf_free(client_conf);
    dg_tls_conf_free(server_conf);
    dgt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_before_a_graceful_close_are_all_delivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
