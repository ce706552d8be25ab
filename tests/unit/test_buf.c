/* test_buf.c - dg_buf: append at the tail, consume at the head, reserve and
 * commit, compaction instead of growth when the head is dead space, reset,
 * steal and fini. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "dg.h"

/* Fills p[0..n) with a pattern that depends on the absolute offset `at`. */
static void pattern(uint8_t *p, size_t n, size_t at)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((at + i) * 31 + 7);
}

static void assert_pattern(const uint8_t *p, size_t n, size_t at)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i], (uint8_t)((at + i) * 31 + 7));
}

static void test_buf_append_makes_bytes_readable_in_order(void **state)
{
    dg_buf b = DG_BUF_INIT;

    (void)state;
    dg_buf_append(&b, "hello ", 6);
    dg_buf_append(&b, "张三", strlen("张三"));

    assert_int_equal(dg_buf_avail(&b), 6 + strlen("张三"));
    assert_memory_equal(dg_buf_head(&b), "hello 张三", dg_buf_avail(&b));
    dg_buf_fini(&b);
}

static void test_buf_append_of_zero_bytes_changes_nothing(void **state)
{
    dg_buf b = DG_BUF_INIT;

    (void)state;
    dg_buf_append(&b, NULL, 0);

    assert_int_equal(dg_buf_avail(&b), 0);
    assert_null(b.data); /* nothing allocated */
    dg_buf_fini(&b);
}

static void test_buf_head_of_buffer_without_storage_is_null(void **state)
{
    dg_buf b = DG_BUF_INIT;

    (void)state;
    assert_int_equal(dg_buf_avail(&b), 0);
    assert_null(dg_buf_head(&b));
}

static void test_buf_consume_drops_bytes_from_the_head(void **state)
{
    dg_buf b = DG_BUF_INIT;

    (void)state;
    dg_buf_append(&b, "abcdef", 6);

    dg_buf_consume(&b, 2);

    assert_int_equal(dg_buf_avail(&b), 4);
    assert_memory_equal(dg_buf_head(&b), "cdef", 4);
    dg_buf_fini(&b);
}

static void test_buf_consume_of_everything_rewinds_to_the_start(void **state)
{
    dg_buf b = DG_BUF_INIT;

    (void)state;
    dg_buf_append(&b, "abcdef", 6);

    dg_buf_consume(&b, 6);

    assert_int_equal(dg_buf_avail(&b), 0);
    assert_int_equal(b.off, 0);
    assert_int_equal(b.len, 0);
    dg_buf_fini(&b);
}

static void test_buf_reserve_then_commit_appends_only_committed_bytes(void **state)
{
    dg_buf b = DG_BUF_INIT;
    uint8_t *p;

    (void)state;
    dg_buf_append(&b, "ab", 2);
    p = dg_buf_reserve(&b, 100);
    memcpy(p, "cdefgh", 6);

    dg_buf_commit(&b, 3);

    assert_int_equal(dg_buf_avail(&b), 5);
    assert_memory_equal(dg_buf_head(&b), "abcde", 5);
    assert_true(b.cap - b.len >= 97);
    dg_buf_fini(&b);
}

/* The consumed head is reused before the buffer grows: no realloc. */
static void test_buf_append_compacts_consumed_head_instead_of_growing(void **state)
{
    dg_buf b = DG_BUF_INIT;
    uint8_t chunk[200];
    size_t cap;

    (void)state;
    pattern(chunk, 200, 0);
    dg_buf_append(&b, chunk, 200);
    cap = b.cap;
    dg_buf_consume(&b, 150);
    pattern(chunk, cap - 100, 200);

    dg_buf_append(&b, chunk, cap - 100); /* fits only once the 150 dead bytes go */

    assert_int_equal(b.cap, cap);
    assert_int_equal(dg_buf_avail(&b), 50 + cap - 100);
    assert_pattern(dg_buf_head(&b), dg_buf_avail(&b), 150);
    dg_buf_fini(&b);
}

static void test_buf_grows_keeping_content_across_many_appends_and_consumes(void **state)
{
    dg_buf b = DG_BUF_INIT;
    uint8_t chunk[997]; /* odd size: never aligned with the capacity */
    size_t written = 0, read = 0;

    (void)state;
    while (written < 2u * 1024u * 1024u) {
        pattern(chunk, sizeof chunk, written);
        dg_buf_append(&b, chunk, sizeof chunk);
        written += sizeof chunk;
        if (written % (7 * sizeof chunk) == 0) { /* drain some now and then */
            size_t n = dg_buf_avail(&b) / 2;

            assert_pattern(dg_buf_head(&b), n, read);
            dg_buf_consume(&b, n);
            read += n;
        }
    }

    assert_int_equal(dg_buf_avail(&b), written - read);
    assert_pattern(dg_buf_head(&b), dg_buf_avail(&b), read);
    dg_buf_fini(&b);
}

static void test_buf_reset_empties_but_keeps_storage(void **state)
{
    dg_buf b = DG_BUF_INIT;
    uint8_t *data;
    size_t cap;

    (void)state;
    dg_buf_append(&b, "abcdef", 6);
    dg_buf_consume(&b, 1);
    data = b.data;
    cap = b.cap;

    dg_buf_reset(&b);

    assert_int_equal(dg_buf_avail(&b), 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    dg_buf_fini(&b);
}

static void test_buf_steal_moves_unread_bytes_to_offset_zero(void **state)
{
    dg_buf b = DG_BUF_INIT;
    uint8_t *out = NULL;
    size_t n;

    (void)state;
    dg_buf_append(&b, "abcdef", 6);
    dg_buf_consume(&b, 2);

    n = dg_buf_steal(&b, &out);

    assert_int_equal(n, 4);
    assert_memory_equal(out, "cdef", 4);
    assert_null(b.data);
    assert_int_equal(dg_buf_avail(&b), 0);
    assert_int_equal(b.cap, 0);
    free(out);
    dg_buf_fini(&b); /* harmless on the emptied buffer */
}

static void test_buf_steal_of_empty_buffer_returns_zero(void **state)
{
    static uint8_t sentinel;
    dg_buf b = DG_BUF_INIT;
    uint8_t *out = &sentinel;

    (void)state;
    assert_int_equal(dg_buf_steal(&b, &out), 0);
    assert_ptr_not_equal(out, &sentinel);
    free(out); /* NULL or a block: either way ours now */
}

static void test_buf_is_reusable_after_fini(void **state)
{
    dg_buf b = DG_BUF_INIT;

    (void)state;
    dg_buf_append(&b, "abc", 3);
    dg_buf_fini(&b);
    assert_int_equal(dg_buf_avail(&b), 0);

    dg_buf_append(&b, "xyz", 3);

    assert_memory_equal(dg_buf_head(&b), "xyz", 3);
    dg_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_makes_bytes_readable_in_order),
        cmocka_unit_test(test_buf_append_of_zero_bytes_changes_nothing),
        cmocka_unit_test(test_buf_head_of_buffer_without_storage_is_null),
        cmocka_unit_test(test_buf_consume_drops_bytes_from_the_head),
        cmocka_unit_test(test_buf_consume_of_everything_rewinds_to_the_start),
        cmocka_unit_test(test_buf_reserve_then_commit_appends_only_committed_bytes),
        cmocka_unit_test(test_buf_append_compacts_consumed_head_instead_of_growing),
        cmocka_unit_test(test_buf_grows_keeping_content_across_many_appends_and_consumes),
        cmocka_unit_test(test_buf_reset_empties_but_keeps_storage),
        cmocka_unit_test(test_buf_steal_moves_unread_bytes_to_offset_zero),
        cmocka_unit_test(test_buf_steal_of_empty_buffer_returns_zero),
        cmocka_unit_test(test_buf_is_reusable_after_fini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
