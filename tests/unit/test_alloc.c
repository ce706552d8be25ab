/* test_alloc.c - the budgeted arena (budget accounting, alignment, chunks,
 * fault injection, string helpers, raising the budget) and the aborting
 * dg_x* string helpers. Leaks show up under -DDANGAN_SANITIZE=ON. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "dg.h"

#define ALIGN alignof(max_align_t)

static void test_arena_allocations_succeed_exactly_up_to_budget(void **state)
{
    dg_arena *a = dg_arena_new(8 * ALIGN);

    (void)state;
    for (int i = 0; i < 8; i++)
        assert_non_null(dg_arena_alloc(a, ALIGN));
    assert_int_equal(dg_arena_used(a), 8 * ALIGN);

    assert_null(dg_arena_alloc(a, 1));
    dg_arena_free(a);
}

/* A small arena takes a whole first chunk from the heap: its footprint
 * counts that chunk, not the few bytes used, and grows with new chunks. */
static void test_arena_footprint_counts_whole_chunks(void **state)
{
    dg_arena *a = dg_arena_new(1u << 20);
    size_t empty = dg_arena_footprint(a), one;

    (void)state;
    assert_non_null(dg_arena_alloc(a, 10));
    one = dg_arena_footprint(a);
    assert_true(one >= empty + 4096);
    assert_true(dg_arena_used(a) < 100);
    assert_non_null(dg_arena_alloc(a, 8192)); /* past the first chunk */
    assert_true(dg_arena_footprint(a) >= one + 8192);
    dg_arena_free(a);
}

static void test_arena_single_allocation_of_whole_budget(void **state)
{
    static const struct {
        size_t budget;
        size_t n;
        int ok;
    } cases[] = {
        {4096, 4096, 1},
        {4096, 4097, 0},
        {4096, SIZE_MAX, 0}, /* rounding must not wrap */
        {4096, SIZE_MAX - ALIGN + 1, 0},
        {4096, SIZE_MAX - ALIGN, 0},
        {0, 1, 0},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        dg_arena *a = dg_arena_new(cases[i].budget);

        print_message("budget=%zu n=%zu\n", cases[i].budget, cases[i].n);
        if (cases[i].ok)
            assert_non_null(dg_arena_alloc(a, cases[i].n));
        else
            assert_null(dg_arena_alloc(a, cases[i].n));
        dg_arena_free(a);
    }
}

static void test_arena_used_counts_sizes_rounded_to_alignment(void **state)
{
    dg_arena *a = dg_arena_new(1024);

    (void)state;
    assert_int_equal(dg_arena_used(a), 0);
    assert_non_null(dg_arena_alloc(a, 1));
    assert_int_equal(dg_arena_used(a), ALIGN);
    assert_non_null(dg_arena_alloc(a, ALIGN + 1));
    assert_int_equal(dg_arena_used(a), 3 * ALIGN);
    dg_arena_free(a);
}

static void test_arena_refused_allocation_leaves_usage_unchanged(void **state)
{
    dg_arena *a = dg_arena_new(4 * ALIGN);

    (void)state;
    assert_non_null(dg_arena_alloc(a, 2 * ALIGN));
    assert_null(dg_arena_alloc(a, 3 * ALIGN));

    assert_int_equal(dg_arena_used(a), 2 * ALIGN);
    assert_non_null(dg_arena_alloc(a, 2 * ALIGN)); /* what is left is still usable */
    dg_arena_free(a);
}

static void test_arena_pointers_are_aligned_and_disjoint(void **state)
{
    static const size_t sizes[] = {1, 3, 7, 8, 13, 16, 17, 31, 100, 1000, 4000, 5};
    unsigned char *p[DG_ARRAY_LEN(sizes)];
    dg_arena *a = dg_arena_new(64 * 1024);

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(sizes); i++) {
        p[i] = dg_arena_alloc(a, sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % ALIGN, 0);
        memset(p[i], (int)i + 1, sizes[i]); /* ASan: the whole size is ours */
    }
    for (size_t i = 0; i < DG_ARRAY_LEN(sizes); i++) {
        for (size_t j = 0; j < sizes[i]; j++)
            assert_int_equal(p[i][j], i + 1);
    }
    dg_arena_free(a);
}

static void test_arena_serves_allocations_larger_than_a_chunk(void **state)
{
    /* Chunks start at 4 KiB and stop growing at 1 MiB. */
    static const size_t sizes[] = {5000, 3u * 1024u * 1024u, 16, 2u * 1024u * 1024u + 1u, 16};
    unsigned char *p[DG_ARRAY_LEN(sizes)];
    dg_arena *a = dg_arena_new(8u * 1024u * 1024u);

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(sizes); i++) {
        p[i] = dg_arena_alloc(a, sizes[i]);
        assert_non_null(p[i]);
        memset(p[i], (int)i + 1, sizes[i]);
    }
    for (size_t i = 0; i < DG_ARRAY_LEN(sizes); i++) {
        assert_int_equal(p[i][0], i + 1);
        assert_int_equal(p[i][sizes[i] - 1], i + 1);
    }
    dg_arena_free(a);
}

/* A chunk the arena moves past keeps its free tail reserved, so the tail
 * counts against the budget: otherwise alternating small and large
 * allocations reserve up to twice the budget. */
static void test_arena_charges_the_tail_of_a_chunk_it_moves_past(void **state)
{
    const size_t big = 2u * 1024u * 1024u; /* over the largest chunk: a chunk of its own */
    dg_arena *a = dg_arena_new(8u * 1024u * 1024u);

    (void)state;
    assert_non_null(dg_arena_alloc(a, ALIGN));

    assert_non_null(dg_arena_alloc(a, big));

    assert_true(dg_arena_used(a) > ALIGN + big);
    assert_true(dg_arena_used(a) <= ALIGN + big + 1024u * 1024u);
    dg_arena_free(a);
}

static void test_arena_refuses_allocation_whose_skipped_tail_breaks_the_budget(void **state)
{
    const size_t big = 2u * 1024u * 1024u;
    dg_arena *a = dg_arena_new(ALIGN + big); /* room for both, not for the tail too */

    (void)state;
    assert_non_null(dg_arena_alloc(a, ALIGN));

    assert_null(dg_arena_alloc(a, big));

    assert_int_equal(dg_arena_used(a), ALIGN);
    dg_arena_free(a);
}

static void test_arena_many_small_allocations_span_chunks(void **state)
{
    enum { N = 20000 };
    static uint32_t *p[N];
    dg_arena *a = dg_arena_new(N * ALIGN);

    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        p[i] = dg_arena_alloc(a, sizeof *p[i]);
        assert_non_null(p[i]);
        *p[i] = i;
    }
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(*p[i], i);
    assert_null(dg_arena_alloc(a, 1)); /* N * ALIGN used: budget exhausted */
    dg_arena_free(a);
}

/* "Allocation number nth, counted from now, and every later one fail." */
static void test_arena_fail_after_fails_nth_allocation_from_now_and_later(void **state)
{
    dg_arena *a = dg_arena_new(1024 * 1024);

    (void)state;
    for (int i = 0; i < 5; i++) /* history before the call must not count */
        assert_non_null(dg_arena_alloc(a, 8));
    dg_arena_fail_after(a, 3);

    assert_non_null(dg_arena_alloc(a, 8));
    assert_non_null(dg_arena_alloc(a, 8));
    assert_null(dg_arena_alloc(a, 8));
    assert_null(dg_arena_alloc(a, 8));
    assert_null(dg_arena_alloc(a, 1));
    dg_arena_free(a);
}

static void test_arena_fail_after_one_fails_the_next_allocation(void **state)
{
    dg_arena *a = dg_arena_new(1024);

    (void)state;
    dg_arena_fail_after(a, 1);

    assert_null(dg_arena_alloc(a, 8));
    assert_int_equal(dg_arena_used(a), 0); /* an injected failure uses no budget */
    dg_arena_free(a);
}

static void test_arena_fail_after_applies_to_calloc_strdup_and_printf(void **state)
{
    dg_arena *a = dg_arena_new(1024);

    (void)state;
    dg_arena_fail_after(a, 1);

    assert_null(dg_arena_calloc(a, 2, 8));
    assert_null(dg_arena_strdup(a, "x"));
    assert_null(dg_arena_strndup(a, "xyz", 2));
    assert_null(dg_arena_printf(a, "%d", 42));
    dg_arena_free(a);
}

static void test_arena_fail_after_zero_turns_injection_off(void **state)
{
    dg_arena *a = dg_arena_new(1024);

    (void)state;
    dg_arena_fail_after(a, 1);
    assert_null(dg_arena_alloc(a, 8));

    dg_arena_fail_after(a, 0);

    assert_non_null(dg_arena_alloc(a, 8));
    assert_non_null(dg_arena_alloc(a, 8));
    dg_arena_free(a);
}

static void test_arena_calloc_returns_zeroed_memory(void **state)
{
    void *dirty = dg_xmalloc(8192);
    dg_arena *a;
    unsigned char *p;

    (void)state;
    /* Arena chunks come from malloc, which need not return zeroes: leave
     * garbage for it to reuse (and under ASan malloc fills new blocks with
     * 0xbe), so a calloc that forgot to clear shows. */
    memset(dirty, 0xa5, 8192);
    free(dirty);
    a = dg_arena_new(64 * 1024);

    p = dg_arena_calloc(a, 100, 3);

    assert_non_null(p);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(p[i], 0);
    dg_arena_free(a);
}

static void test_arena_calloc_refuses_overflowing_count(void **state)
{
    dg_arena *a = dg_arena_new(SIZE_MAX);

    (void)state;
    assert_null(dg_arena_calloc(a, SIZE_MAX / 8 + 1, 8));
    assert_null(dg_arena_calloc(a, 2, SIZE_MAX / 2 + 1));
    assert_int_equal(dg_arena_used(a), 0);
    dg_arena_free(a);
}

static void test_arena_strdup_copies_the_string(void **state)
{
    dg_arena *a = dg_arena_new(1024);
    char src[] = "张三";
    char *p;

    (void)state;
    p = dg_arena_strdup(a, src);
    src[0] = 'X';

    assert_string_equal(p, "张三");
    dg_arena_free(a);
}

static void test_arena_strndup_copies_at_most_n_bytes(void **state)
{
    static const struct {
        const char *s;
        size_t n;
        const char *expect;
    } cases[] = {
        {"abcdef", 3, "abc"},
        {"abc", 10, "abc"},
        {"abc", 0, ""},
        {"ab\0cd", 5, "ab"},
    };
    dg_arena *a = dg_arena_new(1024);

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char *p = dg_arena_strndup(a, cases[i].s, cases[i].n);

        assert_non_null(p);
        assert_string_equal(p, cases[i].expect);
    }
    dg_arena_free(a);
}

static void test_arena_strndup_charges_only_the_bytes_it_copies(void **state)
{
    dg_arena *a = dg_arena_new(1024);

    (void)state;
    assert_non_null(dg_arena_strndup(a, "abc", 500));

    assert_int_equal(dg_arena_used(a), ALIGN); /* "abc" + NUL, not n + 1 */
    dg_arena_free(a);
}

static void test_arena_strdup_returns_null_over_budget(void **state)
{
    dg_arena *a = dg_arena_new(ALIGN);
    char s[2 * ALIGN];

    (void)state;
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 1] = '\0';

    assert_null(dg_arena_strdup(a, s));
    assert_non_null(dg_arena_strndup(a, s, ALIGN - 1)); /* plus NUL: exactly ALIGN */
    dg_arena_free(a);
}

static void test_arena_printf_formats_into_the_arena(void **state)
{
    dg_arena *a = dg_arena_new(1024);
    char *p;

    (void)state;
    p = dg_arena_printf(a, "%s=%d;%x", "张三", -42, 255u);

    assert_non_null(p);
    assert_string_equal(p, "张三=-42;ff");
    assert_int_equal(dg_arena_used(a), (strlen(p) + 1 + ALIGN - 1) / ALIGN * ALIGN);
    dg_arena_free(a);
}

static void test_arena_printf_returns_null_over_budget(void **state)
{
    dg_arena *a = dg_arena_new(ALIGN);

    (void)state;
    assert_null(dg_arena_printf(a, "%0*d", (int)ALIGN, 7)); /* ALIGN digits + NUL */
    assert_int_equal(dg_arena_used(a), 0);
    dg_arena_free(a);
}

static void test_arena_set_budget_raises_the_limit(void **state)
{
    dg_arena *a = dg_arena_new(2 * ALIGN);

    (void)state;
    assert_non_null(dg_arena_alloc(a, 2 * ALIGN));
    assert_null(dg_arena_alloc(a, ALIGN));

    dg_arena_set_budget(a, 5 * ALIGN);

    assert_non_null(dg_arena_alloc(a, 3 * ALIGN));
    assert_null(dg_arena_alloc(a, 1));
    dg_arena_free(a);
}

static void test_arena_set_budget_below_usage_refuses_further_allocations(void **state)
{
    dg_arena *a = dg_arena_new(8 * ALIGN);

    (void)state;
    assert_non_null(dg_arena_alloc(a, 4 * ALIGN));

    dg_arena_set_budget(a, 2 * ALIGN);

    assert_null(dg_arena_alloc(a, 1));
    assert_int_equal(dg_arena_used(a), 4 * ALIGN);
    dg_arena_free(a);
}

static void test_arena_reset_forgets_usage_and_applies_the_new_budget(void **state)
{
    dg_arena *a = dg_arena_new(1 << 20);
    char *p;

    (void)state;
    for (int i = 0; i < 100; i++) /* several chunks */
        assert_non_null(dg_arena_alloc(a, 1000));
    dg_arena_reset(a, 5000);
    assert_int_equal(dg_arena_used(a), 0);
    assert_non_null(p = dg_arena_alloc(a, 4096));
    memset(p, 1, 4096);                   /* really usable (ASan checks) */
    assert_null(dg_arena_alloc(a, 1000)); /* the new budget holds */
    dg_arena_reset(a, 64);                /* smaller than the kept chunk: still bounded */
    assert_null(dg_arena_alloc(a, 128));
    assert_non_null(dg_arena_alloc(a, 64));
    dg_arena_free(a);
}

static void test_arena_free_accepts_null(void **state)
{
    (void)state;
    dg_arena_free(NULL);
}

static void test_xstrdup_and_xstrndup_copy(void **state)
{
    char *a = dg_xstrdup("张三");
    char *b = dg_xstrndup("abcdef", 3);
    char *c = dg_xstrndup("ab", 10);

    (void)state;
    assert_string_equal(a, "张三");
    assert_string_equal(b, "abc");
    assert_string_equal(c, "ab");
    free(a);
    free(b);
    free(c);
}

static void test_xasprintf_formats_a_new_string(void **state)
{
    char big[3000];
    char *p;

    (void)state;
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    p = dg_xasprintf("[%s|%u]", big, 7u);

    assert_int_equal(strlen(p), sizeof big - 1 + 4);
    assert_int_equal(p[0], '[');
    assert_string_equal(p + sizeof big, "|7]");
    free(p);
}

static void test_xmalloc_and_xcalloc_accept_zero(void **state)
{
    void *a = dg_xmalloc(0);
    void *b = dg_xcalloc(0, 8);
    void *c = dg_xrealloc(NULL, 0);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_allocations_succeed_exactly_up_to_budget),
        cmocka_unit_test(test_arena_single_allocation_of_whole_budget),
        cmocka_unit_test(test_arena_footprint_counts_whole_chunks),
        cmocka_unit_test(test_arena_used_counts_sizes_rounded_to_alignment),
        cmocka_unit_test(test_arena_refused_allocation_leaves_usage_unchanged),
        cmocka_unit_test(test_arena_pointers_are_aligned_and_disjoint),
        cmocka_unit_test(test_arena_serves_allocations_larger_than_a_chunk),
        cmocka_unit_test(test_arena_charges_the_tail_of_a_chunk_it_moves_past),
        cmocka_unit_test(test_arena_refuses_allocation_whose_skipped_tail_breaks_the_budget),
        cmocka_unit_test(test_arena_many_small_allocations_span_chunks),
        cmocka_unit_test(test_arena_fail_after_fails_nth_allocation_from_now_and_later),
        cmocka_unit_test(test_arena_fail_after_one_fails_the_next_allocation),
        cmocka_unit_test(test_arena_fail_after_applies_to_calloc_strdup_and_printf),
        cmocka_unit_test(test_arena_fail_after_zero_turns_injection_off),
        cmocka_unit_test(test_arena_calloc_returns_zeroed_memory),
        cmocka_unit_test(test_arena_calloc_refuses_overflowing_count),
        cmocka_unit_test(test_arena_strdup_copies_the_string),
        cmocka_unit_test(test_arena_strndup_copies_at_most_n_bytes),
        cmocka_unit_test(test_arena_strndup_charges_only_the_bytes_it_copies),
        cmocka_unit_test(test_arena_strdup_returns_null_over_budget),
        cmocka_unit_test(test_arena_printf_formats_into_the_arena),
        cmocka_unit_test(test_arena_printf_returns_null_over_budget),
        cmocka_unit_test(test_arena_set_budget_raises_the_limit),
        cmocka_unit_test(test_arena_set_budget_below_usage_refuses_further_allocations),
        cmocka_unit_test(test_arena_reset_forgets_usage_and_applies_the_new_budget),
        cmocka_unit_test(test_arena_free_accepts_null),
        cmocka_unit_test(test_xstrdup_and_xstrndup_copy),
        cmocka_unit_test(test_xasprintf_formats_a_new_string),
        cmocka_unit_test(test_xmalloc_and_xcalloc_accept_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
