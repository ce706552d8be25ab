/* test_throttle.c - login throttling driven by explicit clocks (no sleeping):
 * the per-account delay (free attempts, then 1 s doubling to a cap), the
 * per-address block, windows, success, sweeping, token logins (no account). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "dg.h"
#include "throttle.h"

#define T0 1700000000000 /* an arbitrary unix-ms start: real clocks are far from 0 */
#define WINDOW_MS 60000
#define MAX_DELAY_MS 10000
#define BLOCK_MS 30000

/* Account rules only: the address limit is far away unless a test lowers it. */
static dg_throttle *new_throttle(uint32_t peer_failures)
{
    const dg_throttle_opts o = {
        .account_failures = 5,
        .account_window_ms = WINDOW_MS,
        .account_max_delay_ms = MAX_DELAY_MS,
        .peer_failures = peer_failures,
        .peer_block_ms = BLOCK_MS,
    };
    dg_throttle *t = dg_throttle_new(&o);

    assert_non_null(t);
    return t;
}

/* n failures for `account` from `peer`, 1 ms apart from `at`; returns the time of the last. */
static int64_t fail_n(dg_throttle *t, const char *account, const char *peer, int64_t at, int n)
{
    for (int i = 0; i < n; i++)
        dg_throttle_failure(t, account, peer, at + i);
    return at + n - 1;
}

static void test_throttle_first_five_attempts_need_no_wait(void **state)
{
    dg_throttle *t = new_throttle(1000);

    (void)state;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", T0 + i), 0);
        dg_throttle_failure(t, "alice", "10.0.0.1", T0 + i);
    }
    dg_throttle_free(t);
}

static void test_throttle_sixth_attempt_waits_1000_ms_after_last_failure(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", "10.0.0.1", T0, 5);

    (void)state;
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last), 1000);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last + 400), 600);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last + 999), 1);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last + 1000), 0);
    dg_throttle_free(t);
}

static void test_throttle_delay_doubles_per_failure_up_to_max(void **state)
{
    /* delays after failure 5, 6, 7, ...: MAX_DELAY_MS = 10 s caps the 16 s step */
    static const int64_t want[] = {1000,         2000,         4000,        8000,
                                   MAX_DELAY_MS, MAX_DELAY_MS, MAX_DELAY_MS};
    dg_throttle *t = new_throttle(1000);
    int64_t now = fail_n(t, "alice", "10.0.0.1", T0, 4) + 1;

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(want); i++) {
        /* each failure comes exactly when the previous delay allows the attempt */
        assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now), 0);
        dg_throttle_failure(t, "alice", "10.0.0.1", now);
        assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now), want[i]);
        now += want[i];
    }
    dg_throttle_free(t);
}

static void test_throttle_delay_is_capped_after_many_failures(void **state)
{
    dg_throttle *t = new_throttle(100000);
    int64_t last = fail_n(t, "alice", "10.0.0.1", T0, 5000); /* 2^4995 s, were it not capped */

    (void)state;
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last), MAX_DELAY_MS);
    dg_throttle_free(t);
}

static void test_throttle_delay_applies_to_the_name_from_any_address(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", "10.0.0.1", T0, 5);

    (void)state;
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "192.168.7.7", last), 1000);
    dg_throttle_free(t);
}

static void test_throttle_delay_applies_to_any_name_existing_or_not(void **state)
{
    /* The throttle knows names only: a name no account has is delayed the same
     * way, so the delay reveals nothing about which accounts exist. */
    static const char *const names[] = {"alice", "no-such-user-7f3a", "x", "张三"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++) {
        dg_throttle *t = new_throttle(1000);
        int64_t last = fail_n(t, names[i], "10.0.0.1", T0, 5);

        assert_int_equal(dg_throttle_wait_ms(t, names[i], "10.0.0.1", last), 1000);
        dg_throttle_free(t);
    }
}

static void test_throttle_counts_each_name_separately(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", "10.0.0.1", T0, 5);

    (void)state;
    assert_int_equal(dg_throttle_wait_ms(t, "bob", "10.0.0.1", last), 0);
    assert_int_equal(dg_throttle_wait_ms(t, "Alice", "10.0.0.1", last), 0); /* callers normalise */
    assert_int_equal(dg_throttle_wait_ms(t, "alice2", "10.0.0.1", last), 0);
    dg_throttle_free(t);
}

static void test_throttle_success_clears_account_count(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now = fail_n(t, "alice", "10.0.0.1", T0, 5) + 1000;

    (void)state;
    dg_throttle_success(t, "alice");
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now), 0);
    now = fail_n(t, "alice", "10.0.0.1", now, 4);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now), 0); /* 4 fresh failures */
    dg_throttle_failure(t, "alice", "10.0.0.1", now + 1);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now + 1), 1000);
    dg_throttle_free(t);
}

static void test_throttle_success_keeps_peer_count(void **state)
{
    dg_throttle *t = new_throttle(8);
    int64_t now = fail_n(t, "alice", "10.0.0.1", T0, 5) + 1000;

    (void)state;
    dg_throttle_success(t, "alice");
    now = fail_n(t, "bob", "10.0.0.1", now, 3); /* 8 failures from the address in all */
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", now), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_success_for_unknown_name_is_harmless(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", "10.0.0.1", T0, 5);

    (void)state;
    dg_throttle_success(t, "bob");
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last), 1000);
    dg_throttle_free(t);
}

static void test_throttle_blocks_peer_for_block_ms_after_peer_failures(void **state)
{
    static const char *const names[] = {"a", "b", "c"}; /* spraying: one try per name */
    dg_throttle *t = new_throttle(3);
    int64_t last = T0;

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++) {
        assert_int_equal(dg_throttle_wait_ms(t, names[i], "10.0.0.1", T0 + (int64_t)i), 0);
        last = T0 + (int64_t)i;
        dg_throttle_failure(t, names[i], "10.0.0.1", last);
    }
    assert_int_equal(dg_throttle_wait_ms(t, "d", "10.0.0.1", last), BLOCK_MS);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last + BLOCK_MS - 1), 1);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last + BLOCK_MS), 0);
    dg_throttle_free(t);
}

static void test_throttle_peer_block_leaves_other_addresses_alone(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = T0;

    (void)state;
    dg_throttle_failure(t, "a", "10.0.0.1", T0);
    dg_throttle_failure(t, "b", "10.0.0.1", T0 + 1);
    last = T0 + 2;
    dg_throttle_failure(t, "c", "10.0.0.1", last);
    assert_true(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last) > 0);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.2", last), 0);
    assert_int_equal(dg_throttle_wait_ms(t, "d", "10.0.0.2", last), 0);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "::1", last), 0);
    dg_throttle_free(t);
}

/* Failures spread over the window still earn the full block after the last of
 * them: the block may not end early because the counting window ran out. */
static void test_throttle_peer_block_lasts_block_ms_when_failures_were_spread(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = T0 + BLOCK_MS - 1000;

    (void)state;
    dg_throttle_failure(t, "a", "10.0.0.1", T0);
    dg_throttle_failure(t, "b", "10.0.0.1", T0 + BLOCK_MS / 2);
    dg_throttle_failure(t, "c", "10.0.0.1", last);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last), BLOCK_MS);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", T0 + BLOCK_MS + 1),
                     last + BLOCK_MS - (T0 + BLOCK_MS + 1));
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last + BLOCK_MS), 0);
    dg_throttle_free(t);
}

/* Same for accounts: a delay earned inside the window is served in full. */
static void test_throttle_account_delay_outlasting_window_is_served_in_full(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = T0 + WINDOW_MS - 500;

    (void)state;
    fail_n(t, "alice", "10.0.0.1", T0, 4);
    dg_throttle_failure(t, "alice", "10.0.0.1", last); /* 5th, still inside the window */
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", T0 + WINDOW_MS + 1),
                     last + 1000 - (T0 + WINDOW_MS + 1));
    dg_throttle_free(t);
}

/* A failure that lands after the window but while the block still runs (a
 * login that was hashing when the block began) must not lift the block. */
static void test_throttle_failure_during_a_block_does_not_lift_it(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = T0 + BLOCK_MS - 1000, late = T0 + BLOCK_MS + 10;

    (void)state;
    dg_throttle_failure(t, "a", "10.0.0.1", T0);
    dg_throttle_failure(t, "b", "10.0.0.1", T0 + 1);
    dg_throttle_failure(t, "c", "10.0.0.1", last); /* blocked until last + BLOCK_MS */
    dg_throttle_failure(t, "d", "10.0.0.1", late); /* window over, block still on */
    assert_true(dg_throttle_wait_ms(t, NULL, "10.0.0.1", late) > 0);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", late), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_account_failures_outside_window_start_fresh_count(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now = T0 + WINDOW_MS + 1;

    (void)state;
    fail_n(t, "alice", "10.0.0.1", T0, 4);
    dg_throttle_failure(t, "alice", "10.0.0.1", now); /* 1st of a new window, not the 5th */
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now), 0);
    now = fail_n(t, "alice", "10.0.0.1", now + 1, 3);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now), 0);
    dg_throttle_failure(t, "alice", "10.0.0.1", now + 1); /* 5th of the new window */
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", now + 1), 1000);
    dg_throttle_free(t);
}

static void test_throttle_peer_failures_outside_window_start_fresh_count(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t now = T0 + BLOCK_MS + 1;

    (void)state;
    dg_throttle_failure(t, "a", "10.0.0.1", T0);
    dg_throttle_failure(t, "b", "10.0.0.1", T0 + 1);
    dg_throttle_failure(t, "c", "10.0.0.1", now);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", now), 0);
    dg_throttle_failure(t, "d", "10.0.0.1", now + 1);
    dg_throttle_failure(t, "e", "10.0.0.1", now + 2);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", now + 2), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_sweep_keeps_entries_still_in_force(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t now = T0 + BLOCK_MS / 2;
    int64_t last_peer;

    (void)state;
    fail_n(t, "alice", "10.0.0.9", T0, 4);          /* 4 of 5 for alice */
    last_peer = fail_n(t, NULL, "10.0.0.1", T0, 3); /* address blocked */
    dg_throttle_sweep(t, now);                      /* both still matter now */
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", now), last_peer + BLOCK_MS - now);
    dg_throttle_failure(t, "alice", "10.0.0.8", now);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.8", now), 1000);
    dg_throttle_free(t);
}

static void test_throttle_sweep_drops_expired_entries(void **state)
{
    /* Afterwards the table behaves as if it had never seen these names and
     * addresses; under ASan a swept entry still reachable would also show. */
    dg_throttle *t = new_throttle(3);
    char name[32], addr[32];
    int64_t now = T0 + WINDOW_MS + MAX_DELAY_MS + BLOCK_MS + 10;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "user%d", i);
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        fail_n(t, name, addr, T0, 5);
    }
    dg_throttle_sweep(t, now);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "user%d", i);
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(dg_throttle_wait_ms(t, name, addr, now), 0);
        dg_throttle_failure(t, name, addr, now);
        assert_int_equal(dg_throttle_wait_ms(t, name, addr, now), 0); /* 1 failure, not 6 */
    }
    dg_throttle_free(t);
}

static void test_throttle_null_account_counts_toward_peer_block(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = fail_n(t, NULL, "10.0.0.1", T0, 3);

    (void)state;
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last), BLOCK_MS);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", last), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_null_account_delays_no_account(void **state)
{
    static const char *const names[] = {"alice", "", "(null)"};
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, NULL, "10.0.0.1", T0, 10);

    (void)state;
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last), 0);
    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++)
        assert_int_equal(dg_throttle_wait_ms(t, names[i], "10.0.0.2", last), 0);
    dg_throttle_free(t);
}

static void test_throttle_asking_to_wait_is_not_a_failure(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last;

    (void)state;
    for (int i = 0; i < 100; i++)
        assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.1", T0 + i), 0);
    last = fail_n(t, "alice", "10.0.0.2", T0 + 100, 4);
    assert_int_equal(dg_throttle_wait_ms(t, "alice", "10.0.0.3", last), 0);
    assert_int_equal(dg_throttle_wait_ms(t, NULL, "10.0.0.1", last), 0);
    dg_throttle_free(t);
}

static void test_throttle_free_accepts_null(void **state)
{
    (void)state;
    dg_throttle_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttle_first_five_attempts_need_no_wait),
        cmocka_unit_test(test_throttle_sixth_attempt_waits_1000_ms_after_last_failure),
        cmocka_unit_test(test_throttle_delay_doubles_per_failure_up_to_max),
        cmocka_unit_test(test_throttle_delay_is_capped_after_many_failures),
        cmocka_unit_test(test_throttle_delay_applies_to_the_name_from_any_address),
        cmocka_unit_test(test_throttle_delay_applies_to_any_name_existing_or_not),
        cmocka_unit_test(test_throttle_counts_each_name_separately),
        cmocka_unit_test(test_throttle_success_clears_account_count),
        cmocka_unit_test(test_throttle_success_keeps_peer_count),
        cmocka_unit_test(test_throttle_success_for_unknown_name_is_harmless),
        cmocka_unit_test(test_throttle_blocks_peer_for_block_ms_after_peer_failures),
        cmocka_unit_test(test_throttle_peer_block_leaves_other_addresses_alone),
        cmocka_unit_test(test_throttle_peer_block_lasts_block_ms_when_failures_were_spread),
        cmocka_unit_test(test_throttle_account_delay_outlasting_window_is_served_in_full),
        cmocka_unit_test(test_throttle_failure_during_a_block_does_not_lift_it),
        cmocka_unit_test(test_throttle_account_failures_outside_window_start_fresh_count),
        cmocka_unit_test(test_throttle_peer_failures_outside_window_start_fresh_count),
        cmocka_unit_test(test_throttle_sweep_keeps_entries_still_in_force),
        cmocka_unit_test(test_throttle_sweep_drops_expired_entries),
        cmocka_unit_test(test_throttle_null_account_counts_toward_peer_block),
        cmocka_unit_test(test_throttle_null_account_delays_no_account),
        cmocka_unit_test(test_throttle_asking_to_wait_is_not_a_failure),
        cmocka_unit_test(test_throttle_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
