/* test_map.c - dg_map: put/get/replace/remove, growth far past the initial
 * table, binary keys, copied keys, and sweeping a subset (with the visitor
 * freeing what it removes, checked for leaks under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "map.h"

/* Distinct values to store: the map only compares pointers. */
static int v1, v2, v3;

static size_t key_of(char *out, size_t cap, int i)
{
    int n = snprintf(out, cap, "user-%d", i);

    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static void test_map_get_returns_value_put_under_key(void **state)
{
    dg_map *m = dg_map_new();

    (void)state;
    dg_map_put(m, "zhang", 5, &v1, NULL);
    dg_map_put(m, "li", 2, &v2, NULL);

    assert_ptr_equal(dg_map_get(m, "zhang", 5), &v1);
    assert_ptr_equal(dg_map_get(m, "li", 2), &v2);
    assert_int_equal(dg_map_count(m), 2);
    dg_map_free(m);
}

static void test_map_get_of_missing_key_returns_null(void **state)
{
    dg_map *m = dg_map_new();

    (void)state;
    assert_null(dg_map_get(m, "zhang", 5));
    dg_map_put(m, "zhang", 5, &v1, NULL);

    assert_null(dg_map_get(m, "zhan", 4));   /* a prefix */
    assert_null(dg_map_get(m, "zhangs", 6)); /* an extension */
    assert_null(dg_map_get(m, "Zhang", 5));
    dg_map_free(m);
}

static void test_map_put_new_key_reports_no_old_value(void **state)
{
    dg_map *m = dg_map_new();
    void *old = &v3;

    (void)state;
    dg_map_put(m, "zhang", 5, &v1, &old);

    assert_null(old);
    dg_map_free(m);
}

static void test_map_put_existing_key_replaces_and_returns_old_value(void **state)
{
    dg_map *m = dg_map_new();
    void *old = NULL;

    (void)state;
    dg_map_put(m, "zhang", 5, &v1, NULL);

    dg_map_put(m, "zhang", 5, &v2, &old);

    assert_ptr_equal(old, &v1);
    assert_ptr_equal(dg_map_get(m, "zhang", 5), &v2);
    assert_int_equal(dg_map_count(m), 1);
    dg_map_free(m);
}

static void test_map_remove_returns_value_and_forgets_key(void **state)
{
    dg_map *m = dg_map_new();

    (void)state;
    dg_map_put(m, "zhang", 5, &v1, NULL);
    dg_map_put(m, "li", 2, &v2, NULL);

    assert_ptr_equal(dg_map_remove(m, "zhang", 5), &v1);

    assert_null(dg_map_get(m, "zhang", 5));
    assert_ptr_equal(dg_map_get(m, "li", 2), &v2);
    assert_int_equal(dg_map_count(m), 1);
    dg_map_free(m);
}

static void test_map_remove_of_missing_key_returns_null(void **state)
{
    dg_map *m = dg_map_new();

    (void)state;
    dg_map_put(m, "zhang", 5, &v1, NULL);

    assert_null(dg_map_remove(m, "li", 2));
    assert_int_equal(dg_map_count(m), 1);
    dg_map_free(m);
}

/* Values are the key's index cast to a pointer (never dereferenced). */
static void test_map_growth_keeps_every_key_retrievable(void **state)
{
    enum { N = 50000 };
    dg_map *m = dg_map_new();
    char key[32];

    (void)state;
    for (int i = 0; i < N; i++)
        dg_map_put(m, key, key_of(key, sizeof key, i), (void *)(uintptr_t)(i + 1), NULL);

    assert_int_equal(dg_map_count(m), N);
    for (int i = 0; i < N; i++)
        assert_int_equal((uintptr_t)dg_map_get(m, key, key_of(key, sizeof key, i)), i + 1);
    dg_map_free(m);
}

static void test_map_removing_half_after_growth_keeps_the_rest(void **state)
{
    enum { N = 20000 };
    dg_map *m = dg_map_new();
    char key[32];

    (void)state;
    for (int i = 0; i < N; i++)
        dg_map_put(m, key, key_of(key, sizeof key, i), (void *)(uintptr_t)(i + 1), NULL);

    for (int i = 0; i < N; i += 2)
        assert_int_equal((uintptr_t)dg_map_remove(m, key, key_of(key, sizeof key, i)), i + 1);

    assert_int_equal(dg_map_count(m), N / 2);
    for (int i = 0; i < N; i++) {
        void *v = dg_map_get(m, key, key_of(key, sizeof key, i));

        assert_int_equal((uintptr_t)v, i % 2 ? (uintptr_t)(i + 1) : 0);
    }
    dg_map_free(m);
}

static void test_map_binary_keys_with_nul_bytes_are_distinct(void **state)
{
    static const struct {
        const char *key;
        size_t len;
    } keys[] = {
        {"a", 1},
        {"a\0", 2},
        {"a\0b", 3},
        {"a\0c", 3},
        {"\0", 1},
        {"\0\0", 2},
        {"", 0},
        {"\0\0\0\0\0\0\0\0", 8},
        {"\0\0\0\0\0\0\0\0\0", 9}, /* across SipHash's 8-byte block */
    };
    dg_map *m = dg_map_new();

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(keys); i++)
        dg_map_put(m, keys[i].key, keys[i].len, (void *)(uintptr_t)(i + 1), NULL);

    assert_int_equal(dg_map_count(m), DG_ARRAY_LEN(keys));
    for (size_t i = 0; i < DG_ARRAY_LEN(keys); i++)
        assert_int_equal((uintptr_t)dg_map_get(m, keys[i].key, keys[i].len), i + 1);
    dg_map_free(m);
}

static void test_map_copies_keys(void **state)
{
    dg_map *m = dg_map_new();
    char key[] = "zhang";

    (void)state;
    dg_map_put(m, key, 5, &v1, NULL);
    memcpy(key, "li\0\0\0", 5);

    assert_ptr_equal(dg_map_get(m, "zhang", 5), &v1);
    assert_null(dg_map_get(m, key, 5));
    dg_map_free(m);
}

struct sweep_log {
    size_t n_visited;
    size_t n_bad_keys;
};

/* Removes (and frees) entries whose int value is even. */
static bool drop_even_cb(const void *key, size_t key_len, void *value, void *ud)
{
    struct sweep_log *log = ud;
    int v = *(int *)value;
    char expect[32];

    log->n_visited++;
    if (key_len != key_of(expect, sizeof expect, v) || memcmp(key, expect, key_len) != 0)
        log->n_bad_keys++;
    if (v % 2 == 0) {
        free(value);
        return true;
    }
    return false;
}

static void test_map_sweep_removes_exactly_the_chosen_entries(void **state)
{
    enum { N = 1000 };
    dg_map *m = dg_map_new();
    struct sweep_log log = {0, 0};
    char key[32];

    (void)state;
    for (int i = 0; i < N; i++) {
        int *v = malloc(sizeof *v);

        *v = i;
        dg_map_put(m, key, key_of(key, sizeof key, i), v, NULL);
    }

    dg_map_sweep(m, drop_even_cb, &log);

    assert_int_equal(log.n_visited, N);
    assert_int_equal(log.n_bad_keys, 0);
    assert_int_equal(dg_map_count(m), N / 2);
    for (int i = 0; i < N; i++) {
        int *v = dg_map_remove(m, key, key_of(key, sizeof key, i));

        if (i % 2) {
            assert_non_null(v);
            assert_int_equal(*v, i);
            free(v);
        } else {
            assert_null(v);
        }
    }
    assert_int_equal(dg_map_count(m), 0);
    dg_map_free(m);
}

static bool drop_all_cb(const void *key, size_t key_len, void *value, void *ud)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)ud;
    return true;
}

static void test_map_is_usable_after_sweeping_everything(void **state)
{
    dg_map *m = dg_map_new();
    char key[32];

    (void)state;
    for (int i = 0; i < 100; i++)
        dg_map_put(m, key, key_of(key, sizeof key, i), &v1, NULL);

    dg_map_sweep(m, drop_all_cb, NULL);

    assert_int_equal(dg_map_count(m), 0);
    assert_null(dg_map_get(m, key, key_of(key, sizeof key, 7)));
    dg_map_put(m, "zhang", 5, &v2, NULL);
    assert_ptr_equal(dg_map_get(m, "zhang", 5), &v2);
    dg_map_free(m);
}

static void test_map_free_accepts_null(void **state)
{
    (void)state;
    dg_map_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_get_returns_value_put_under_key),
        cmocka_unit_test(test_map_get_of_missing_key_returns_null),
        cmocka_unit_test(test_map_put_new_key_reports_no_old_value),
        cmocka_unit_test(test_map_put_existing_key_replaces_and_returns_old_value),
        cmocka_unit_test(test_map_remove_returns_value_and_forgets_key),
        cmocka_unit_test(test_map_remove_of_missing_key_returns_null),
        cmocka_unit_test(test_map_growth_keeps_every_key_retrievable),
        cmocka_unit_test(test_map_removing_half_after_growth_keeps_the_rest),
        cmocka_unit_test(test_map_binary_keys_with_nul_bytes_are_distinct),
        cmocka_unit_test(test_map_copies_keys),
        cmocka_unit_test(test_map_sweep_removes_exactly_the_chosen_entries),
        cmocka_unit_test(test_map_is_usable_after_sweeping_everything),
        cmocka_unit_test(test_map_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
