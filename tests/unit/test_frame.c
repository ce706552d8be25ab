/* test_frame.c - the length-prefix decoder: partial input, many frames per
 * buffer, zero length, limits checked from the header alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "dg.h"
#include "frame.h"

static size_t make_frame(uint8_t *out, const char *payload, uint32_t len)
{
    dg_frame_put_header(out, len);
    memcpy(out + 4, payload, len);
    return 4 + len;
}

static void test_frame_split_at_every_byte(void **state)
{
    uint8_t wire[64];
    size_t n = make_frame(wire, "hello", 5);

    (void)state;
    for (size_t cut = 0; cut <= n; cut++) {
        dg_buf in = DG_BUF_INIT;
        const uint8_t *p;
        uint32_t len;

        dg_buf_append(&in, wire, cut);
        assert_int_equal(dg_frame_next(&in, 1024, &p, &len), cut < n ? DG_EAGAIN : DG_OK);
        dg_buf_append(&in, wire + cut, n - cut);
        assert_int_equal(dg_frame_next(&in, 1024, &p, &len), DG_OK);
        assert_int_equal(len, 5);
        assert_memory_equal(p, "hello", 5);
        dg_buf_fini(&in);
    }
}

static void test_frame_many_frames_in_one_buffer(void **state)
{
    dg_buf in = DG_BUF_INIT;
    uint8_t wire[32];
    char payload[8];
    const uint8_t *p;
    uint32_t len;

    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(payload, sizeof payload, "f%03d", i);
        dg_buf_append(&in, wire, make_frame(wire, payload, 4));
    }
    for (int i = 0; i < 100; i++) {
        snprintf(payload, sizeof payload, "f%03d", i);
        assert_int_equal(dg_frame_next(&in, 1024, &p, &len), DG_OK);
        assert_int_equal(len, 4);
        assert_memory_equal(p, payload, 4);
        dg_buf_consume(&in, DG_FRAME_HEADER_LEN + len);
    }
    assert_int_equal(dg_frame_next(&in, 1024, &p, &len), DG_EAGAIN);
    assert_int_equal(dg_buf_avail(&in), 0);
    dg_buf_fini(&in);
}

static void test_frame_zero_length_is_a_frame(void **state)
{
    dg_buf in = DG_BUF_INIT;
    uint8_t hdr[4];
    const uint8_t *p;
    uint32_t len = 99;

    (void)state;
    dg_frame_put_header(hdr, 0);
    dg_buf_append(&in, hdr, 4);
    assert_int_equal(dg_frame_next(&in, 1024, &p, &len), DG_OK);
    assert_int_equal(len, 0);
    dg_buf_fini(&in);
}

static void test_frame_rejects_length_over_limit_before_alloc(void **state)
{
    dg_buf in = DG_BUF_INIT;
    uint8_t hdr[4];
    const uint8_t *p;
    uint32_t len;

    (void)state;
    /* Only the 4 header bytes exist: the verdict may not wait for the body. */
    dg_frame_put_header(hdr, 1025);
    dg_buf_append(&in, hdr, 4);
    assert_int_equal(dg_frame_next(&in, 1024, &p, &len), DG_ETOOBIG);
    assert_int_equal(len, 1025);
    assert_true(in.cap < 1025); /* nothing was reserved for the announced body */
    dg_buf_fini(&in);
}

static void test_frame_exactly_at_limit_is_accepted(void **state)
{
    dg_buf in = DG_BUF_INIT;
    static uint8_t wire[4 + 1024];
    const uint8_t *p;
    uint32_t len;

    (void)state;
    dg_frame_put_header(wire, 1024);
    dg_buf_append(&in, wire, sizeof wire);
    assert_int_equal(dg_frame_next(&in, 1024, &p, &len), DG_OK);
    assert_int_equal(len, 1024);
    dg_buf_fini(&in);
}

static void test_frame_rejects_0xffffffff(void **state)
{
    static const uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff};
    dg_buf in = DG_BUF_INIT;
    const uint8_t *p;
    uint32_t len;

    (void)state;
    dg_buf_append(&in, hdr, 4);
    assert_int_equal(dg_frame_next(&in, DG_FRAME_MAX_CEILING, &p, &len), DG_ETOOBIG);
    assert_int_equal(len, 0xffffffffu);
    dg_buf_fini(&in);
}

static void test_frame_header_is_big_endian(void **state)
{
    uint8_t hdr[4];

    (void)state;
    dg_frame_put_header(hdr, 0x01020304);
    assert_int_equal(hdr[0], 1);
    assert_int_equal(hdr[3], 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_split_at_every_byte),
        cmocka_unit_test(test_frame_many_frames_in_one_buffer),
        cmocka_unit_test(test_frame_zero_length_is_a_frame),
        cmocka_unit_test(test_frame_rejects_length_over_limit_before_alloc),
        cmocka_unit_test(test_frame_exactly_at_limit_is_accepted),
        cmocka_unit_test(test_frame_rejects_0xffffffff),
        cmocka_unit_test(test_frame_header_is_big_endian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
