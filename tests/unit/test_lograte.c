/* test_lograte.c - the bound on repeated log lines, driven by an explicit
 * clock: per-key and total allowances, the summary once an interval ends,
 * the tally of keys the table has no room for, the final flush. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "lograte.h"

#define MINUTE 60000
#define T0 5000000 /* a monotonic start far from 0 */

struct reports {
    int n;
    char key[8][64]; /* "" for the tally of untracked keys */
    uint64_t left_out[8];
    int64_t span_ms[8];
};

static void record(const char *key, uint64_t n, int64_t span_ms, void *ud)
{
    struct reports *r = ud;

    assert_true(r->n < 8);
    snprintf(r->key[r->n], sizeof r->key[r->n], "%s", key ? key : "");
    r->left_out[r->n] = n;
    r->span_ms[r->n] = span_ms;
    r->n++;
}

static dg_lograte *new_rate(struct reports *r, uint32_t per_key, uint32_t total, uint32_t keys)
{
    dg_lograte_opts o = {per_key, total, MINUTE, keys, record, r};

    memset(r, 0, sizeof *r);
    return dg_lograte_new(&o);
}

static int hits(dg_lograte *lr, const char *key, int64_t at, int n)
{
    int n_logged = 0;

    for (int i = 0; i < n; i++)
        n_logged += dg_lograte_hit(lr, key, at + i);
    return n_logged;
}

static void test_lograte_logs_the_first_n_then_summarises_the_rest(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 5, 1000, 16);

    (void)state;
    assert_int_equal(hits(lr, "10.0.0.1", T0, 236), 5);
    dg_lograte_flush(lr, T0 + MINUTE - 1, false);
    assert_int_equal(r.n, 0); /* the minute is not over */
    dg_lograte_flush(lr, T0 + MINUTE, false);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.key[0], "10.0.0.1");
    assert_int_equal(r.left_out[0], 231);
    assert_int_equal(r.span_ms[0], MINUTE);
    assert_int_equal(hits(lr, "10.0.0.1", T0 + MINUTE, 3), 3); /* a fresh minute */
    dg_lograte_free(lr);
}

static void test_lograte_keys_are_counted_separately(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 2, 1000, 16);

    (void)state;
    assert_int_equal(hits(lr, "a", T0, 10), 2);
    assert_int_equal(hits(lr, "b", T0, 10), 2);
    dg_lograte_flush(lr, T0 + MINUTE + 10, false);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.left_out[0] + r.left_out[1], 16);
    dg_lograte_free(lr);
}

static void test_lograte_total_allowance_bounds_all_keys(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 5, 7, 16);
    char key[16];
    int n_logged = 0;

    (void)state;
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "10.0.0.%d", i);
        n_logged += hits(lr, key, T0 + i * 10, 5);
    }
    assert_int_equal(n_logged, 7);
    dg_lograte_free(lr);
}

static void test_lograte_untracked_keys_are_tallied_together(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 1, 1000, 4);
    char key[16];
    int n_logged = 0;

    (void)state;
    for (int i = 0; i < 100; i++) { /* a scan from 100 addresses within a minute */
        snprintf(key, sizeof key, "10.1.0.%d", i);
        n_logged += dg_lograte_hit(lr, key, T0 + i);
    }
    assert_int_equal(n_logged, 4);
    dg_lograte_flush(lr, T0 + 100, true);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.key[0], "");
    assert_int_equal(r.left_out[0], 96);
    dg_lograte_free(lr);
}

static void test_lograte_final_flush_reports_unfinished_intervals(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 3, 1000, 16);

    (void)state;
    hits(lr, "10.0.0.1", T0, 40);
    dg_lograte_flush(lr, T0 + 2000, true);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.left_out[0], 37);
    assert_int_equal(r.span_ms[0], 2000);
    dg_lograte_free(lr);
}

static void test_lograte_nothing_left_out_reports_nothing(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 5, 1000, 16);

    (void)state;
    assert_int_equal(hits(lr, "10.0.0.1", T0, 5), 5);
    dg_lograte_flush(lr, T0 + MINUTE, false);
    dg_lograte_flush(lr, T0 + 2 * MINUTE, true);
    assert_int_equal(r.n, 0);
    dg_lograte_free(lr);
}

static void test_lograte_hit_after_the_interval_reports_it_first(void **state)
{
    struct reports r;
    dg_lograte *lr = new_rate(&r, 1, 1000, 16);

    (void)state;
    hits(lr, "10.0.0.1", T0, 4);
    assert_true(dg_lograte_hit(lr, "10.0.0.1", T0 + MINUTE + 5)); /* no flush ran meanwhile */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.left_out[0], 3);
    dg_lograte_free(lr);
}

static void test_lograte_free_accepts_null(void **state)
{
    (void)state;
    dg_lograte_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lograte_logs_the_first_n_then_summarises_the_rest),
        cmocka_unit_test(test_lograte_keys_are_counted_separately),
        cmocka_unit_test(test_lograte_total_allowance_bounds_all_keys),
        cmocka_unit_test(test_lograte_untracked_keys_are_tallied_together),
        cmocka_unit_test(test_lograte_final_flush_reports_unfinished_intervals),
        cmocka_unit_test(test_lograte_nothing_left_out_reports_nothing),
        cmocka_unit_test(test_lograte_hit_after_the_interval_reports_it_first),
        cmocka_unit_test(test_lograte_free_accepts_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
