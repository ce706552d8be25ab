/* test_throttle.c - login throttling driven by explicit clocks (no sleeping):
 * the per (account, address) delay, the bounded account-wide delay and the
 * known addresses exempt from it, the per-address block, attempts in flight
 * counted from admission, windows, sweeping, bounded tables, token logins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "throttle.h"

#define T0 1700000000000 /* an arbitrary unix-ms start: real clocks are far from 0 */
#define WINDOW_MS 60000
#define PAIR_MAX_DELAY_MS 10000
#define ACCOUNT_MAX_DELAY_MS 4000
#define BLOCK_MS 30000
#define KNOWN_MS (24 * 3600 * 1000LL)
#define A "10.0.0.1" /* the guessing address */
#define B "10.0.0.2" /* the owner's address */
#define C "10.0.0.3" /* a third address that never logged in */

static const dg_throttle_opts base_opts = {
    .pair_failures = 5,
    .pair_max_delay_ms = PAIR_MAX_DELAY_MS,
    .account_failures = 5,
    .account_window_ms = WINDOW_MS,
    .account_max_delay_ms = ACCOUNT_MAX_DELAY_MS,
    .peer_failures = 1000, /* far away unless a test lowers it */
    .peer_block_ms = BLOCK_MS,
    .account_max_in_flight = 1000,
    .peer_max_in_flight = 1000,
    .known_ms = KNOWN_MS,
};

static dg_throttle *throttle_with(dg_throttle_opts o)
{
    dg_throttle *t = dg_throttle_new(&o);

    assert_non_null(t);
    return t;
}

static dg_throttle *new_throttle(uint32_t peer_failures)
{
    dg_throttle_opts o = base_opts;

    o.peer_failures = peer_failures;
    return throttle_with(o);
}

/* One whole attempt: admitted (asserted) and settled with `outcome`. */
static void attempt(dg_throttle *t, const char *account, const char *peer, int64_t at,
                    enum dg_throttle_outcome outcome)
{
    dg_throttle_ticket tk;
    int64_t wait;

    assert_int_equal(dg_throttle_admit(t, account, peer, at, &tk, &wait), DG_OK);
    dg_throttle_settle(t, account, peer, &tk, outcome, at);
}

/* n failed attempts, 1 ms apart from `at`; returns the time of the last. */
static int64_t fail_n(dg_throttle *t, const char *account, const char *peer, int64_t at, int n)
{
    for (int i = 0; i < n; i++)
        attempt(t, account, peer, at + i, DG_THROTTLE_FAILED);
    return at + n - 1;
}

/* How long an attempt must wait now (0: it would be admitted). Leaves no
 * trace: an admitted probe is abandoned. *rc_out (may be NULL) gets the code. */
static int64_t probe_rc(dg_throttle *t, const char *account, const char *peer, int64_t now,
                        int *rc_out)
{
    dg_throttle_ticket tk;
    int64_t wait;
    int rc = dg_throttle_admit(t, account, peer, now, &tk, &wait);

    if (rc_out)
        *rc_out = rc;
    if (rc == DG_OK) {
        dg_throttle_settle(t, account, peer, &tk, DG_THROTTLE_ABANDONED, now);
        return 0;
    }
    assert_true(wait > 0);
    return wait;
}

static int64_t probe(dg_throttle *t, const char *account, const char *peer, int64_t now)
{
    int rc;
    int64_t wait = probe_rc(t, account, peer, now, &rc);

    assert_true(rc == DG_OK || rc == DG_EFULL);
    return wait;
}

/* ------------------------------------------------------------ per (account, address) */

static void test_throttle_first_five_attempts_need_no_wait(void **state)
{
    dg_throttle *t = new_throttle(1000);

    (void)state;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(probe(t, "alice", A, T0 + i), 0);
        attempt(t, "alice", A, T0 + i, DG_THROTTLE_FAILED);
    }
    dg_throttle_free(t);
}

static void test_throttle_sixth_attempt_waits_1000_ms_after_last_failure(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", A, T0, 5);

    (void)state;
    assert_int_equal(probe(t, "alice", A, last), 1000);
    assert_int_equal(probe(t, "alice", A, last + 400), 600);
    assert_int_equal(probe(t, "alice", A, last + 999), 1);
    assert_int_equal(probe(t, "alice", A, last + 1000), 0);
    dg_throttle_free(t);
}

static void test_throttle_pair_delay_doubles_per_failure_up_to_max(void **state)
{
    /* delays after failure 5, 6, 7, ...: PAIR_MAX_DELAY_MS = 10 s caps the 16 s step */
    static const int64_t want[] = {
        1000, 2000, 4000, 8000, PAIR_MAX_DELAY_MS, PAIR_MAX_DELAY_MS, PAIR_MAX_DELAY_MS};
    dg_throttle *t = new_throttle(1000);
    int64_t now = fail_n(t, "alice", A, T0, 4) + 1;

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(want); i++) {
        /* each failure comes exactly when the previous delay allows the attempt */
        assert_int_equal(probe(t, "alice", A, now), 0);
        attempt(t, "alice", A, now, DG_THROTTLE_FAILED);
        assert_int_equal(probe(t, "alice", A, now), want[i]);
        now += want[i];
    }
    dg_throttle_free(t);
}

/* Guessing that waits out every delay keeps the longest one: the count is not
 * forgotten while failures keep coming. */
static void test_throttle_pair_delay_is_capped_after_many_failures(void **state)
{
    dg_throttle *t = new_throttle(100000);
    int64_t now = T0;

    (void)state;
    for (int i = 0; i < 5000; i++) { /* 2^4995 s, were it not capped; 14 hours of guessing */
        now += probe(t, "alice", A, now);
        attempt(t, "alice", A, now, DG_THROTTLE_FAILED);
    }
    assert_int_equal(probe(t, "alice", A, now), PAIR_MAX_DELAY_MS);
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
        int64_t last = fail_n(t, names[i], A, T0, 5);

        assert_int_equal(probe(t, names[i], A, last), 1000);
        assert_int_equal(probe(t, names[i], C, last), 1000);
        dg_throttle_free(t);
    }
}

static void test_throttle_counts_each_name_separately(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", A, T0, 5);

    (void)state;
    assert_int_equal(probe(t, "bob", A, last), 0);
    assert_int_equal(probe(t, "Alice", A, last), 0); /* callers normalise */
    assert_int_equal(probe(t, "alice2", A, last), 0);
    dg_throttle_free(t);
}

static void test_throttle_success_clears_the_pair_count(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now = fail_n(t, "alice", A, T0, 4) + 1;

    (void)state;
    attempt(t, "alice", A, now, DG_THROTTLE_SUCCEEDED);
    now = fail_n(t, "alice", A, now + 1, 4);
    assert_int_equal(probe(t, "alice", A, now), 0); /* 4 fresh failures, not 8 */
    attempt(t, "alice", A, now + 1, DG_THROTTLE_FAILED);
    assert_int_equal(probe(t, "alice", A, now + 1), 1000);
    dg_throttle_free(t);
}

static void test_throttle_success_keeps_peer_count(void **state)
{
    dg_throttle *t = new_throttle(8);
    int64_t now = fail_n(t, "alice", A, T0, 4) + 1;

    (void)state;
    attempt(t, "alice", A, now, DG_THROTTLE_SUCCEEDED);
    now = fail_n(t, "bob", A, now + 1, 4); /* 8 failures from the address in all */
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, now), BLOCK_MS);
    assert_int_equal(probe(t, "carol", A, now), BLOCK_MS);
    dg_throttle_free(t);
}

/* ------------------------------------------------------------ per account, known addresses */

/* The scenario of a lockout: failures for admin from A must not stop the
 * right password from B, which logged in before; they do slow A. */
static void test_throttle_failures_elsewhere_do_not_stop_a_known_address(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now;

    (void)state;
    attempt(t, "admin", B, T0, DG_THROTTLE_SUCCEEDED);
    assert_true(dg_throttle_is_known(t, "admin", B, T0));
    now = fail_n(t, "admin", A, T0 + 1000, 5);
    assert_int_equal(probe(t, "admin", A, now), 1000); /* A is slowed */
    assert_int_equal(probe(t, "admin", B, now), 0);    /* B is not */
    attempt(t, "admin", B, now, DG_THROTTLE_SUCCEEDED);
    dg_throttle_free(t);
}

static void test_throttle_account_failures_delay_unknown_addresses_a_bounded_time(void **state)
{
    /* Many guessing addresses, one guess each: each pair stays under its
     * limit, but the account's count grows. An address that never logged in
     * waits a delay that doubles up to ACCOUNT_MAX_DELAY_MS, never longer. */
    dg_throttle *t = new_throttle(1000);
    char addr[32];
    int64_t now = T0;

    (void)state;
    for (int i = 0; i < 40; i++) {
        snprintf(addr, sizeof addr, "192.168.0.%d", i + 1);
        now += probe(t, "admin", addr, now);
        attempt(t, "admin", addr, now, DG_THROTTLE_FAILED);
    }
    assert_int_equal(probe(t, "admin", C, now), ACCOUNT_MAX_DELAY_MS);
    assert_int_equal(probe(t, "admin", C, now + ACCOUNT_MAX_DELAY_MS), 0);
    dg_throttle_free(t);
}

static void test_throttle_account_delay_starts_after_account_failures(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now;

    (void)state;
    fail_n(t, "admin", A, T0, 2);
    now = fail_n(t, "admin", B, T0 + 10, 2);
    assert_int_equal(probe(t, "admin", C, now), 0); /* 4 of 5 */
    attempt(t, "admin", C, now + 1, DG_THROTTLE_FAILED);
    assert_int_equal(probe(t, "admin", C, now + 1), 1000);
    assert_int_equal(probe(t, "admin", "10.9.9.9", now + 1), 1000);
    dg_throttle_free(t);
}

static void test_throttle_known_address_still_has_its_own_pair_limit(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last;

    (void)state;
    attempt(t, "admin", B, T0, DG_THROTTLE_SUCCEEDED);
    last = fail_n(t, "admin", B, T0 + 1, 5);
    assert_int_equal(probe(t, "admin", B, last), 1000);
    dg_throttle_free(t);
}

static void test_throttle_known_address_is_forgotten_after_known_ms(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now = T0 + KNOWN_MS + 1;
    int64_t last;

    (void)state;
    attempt(t, "admin", B, T0, DG_THROTTLE_SUCCEEDED);
    last = fail_n(t, "admin", A, now, 5);
    assert_false(dg_throttle_is_known(t, "admin", B, last));
    assert_int_equal(probe(t, "admin", B, last), 1000);
    dg_throttle_free(t);
}

static void test_throttle_known_is_per_account(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last;

    (void)state;
    attempt(t, "alice", B, T0, DG_THROTTLE_SUCCEEDED);
    last = fail_n(t, "admin", A, T0 + 1, 5);
    assert_false(dg_throttle_is_known(t, "admin", B, last));
    assert_int_equal(probe(t, "admin", B, last), 1000);
    dg_throttle_free(t);
}

static void test_throttle_no_address_is_known_when_known_ms_is_0(void **state)
{
    dg_throttle_opts o = base_opts;
    dg_throttle *t;

    (void)state;
    o.known_ms = 0;
    t = throttle_with(o);
    attempt(t, "admin", B, T0, DG_THROTTLE_SUCCEEDED);
    assert_false(dg_throttle_is_known(t, "admin", B, T0));
    dg_throttle_free(t);
}

static void test_throttle_known_table_is_bounded_and_forgets_the_oldest(void **state)
{
    dg_throttle_opts o = base_opts;
    dg_throttle *t;
    char addr[32];

    (void)state;
    o.max_entries = 3;
    t = throttle_with(o);
    for (int i = 0; i < 4; i++) {
        snprintf(addr, sizeof addr, "10.1.0.%d", i);
        attempt(t, "admin", addr, T0 + i, DG_THROTTLE_SUCCEEDED);
    }
    assert_false(dg_throttle_is_known(t, "admin", "10.1.0.0", T0 + 4));
    for (int i = 1; i < 4; i++) {
        snprintf(addr, sizeof addr, "10.1.0.%d", i);
        assert_true(dg_throttle_is_known(t, "admin", addr, T0 + 4));
    }
    dg_throttle_free(t);
}

/* ------------------------------------------------------------ in flight */

/* 64 guesses sent together: the first ones are counted as failures the
 * moment they are admitted, so no more than the limit get past the check. */
static void test_throttle_attempts_in_flight_count_from_admission(void **state)
{
    dg_throttle *t = new_throttle(1000);
    dg_throttle_ticket tk[64];
    int64_t wait;
    int n_admitted = 0, n_busy = 0;

    (void)state;
    for (int i = 0; i < 64; i++) {
        int rc = dg_throttle_admit(t, "admin", A, T0, &tk[n_admitted], &wait);

        if (rc == DG_OK)
            n_admitted++;
        else if (rc == DG_EBUSY)
            n_busy++;
    }
    assert_int_equal(n_admitted, 5);
    assert_int_equal(n_busy, 59);
    for (int i = 0; i < n_admitted; i++)
        dg_throttle_settle(t, "admin", A, &tk[i], DG_THROTTLE_FAILED, T0 + 50);
    assert_int_equal(probe(t, "admin", A, T0 + 50), 1000); /* now the settled failures speak */
    dg_throttle_free(t);
}

static void test_throttle_busy_ends_when_the_attempts_in_flight_succeed(void **state)
{
    dg_throttle *t = new_throttle(1000);
    dg_throttle_ticket tk[5];
    int64_t wait;
    int rc;

    (void)state;
    for (int i = 0; i < 5; i++)
        assert_int_equal(dg_throttle_admit(t, "admin", A, T0, &tk[i], &wait), DG_OK);
    assert_int_equal(probe_rc(t, "admin", A, T0, &rc), 1000);
    assert_int_equal(rc, DG_EBUSY);
    for (int i = 0; i < 5; i++)
        dg_throttle_settle(t, "admin", A, &tk[i], DG_THROTTLE_SUCCEEDED, T0 + 10);
    assert_int_equal(probe(t, "admin", A, T0 + 10), 0);
    dg_throttle_free(t);
}

static void test_throttle_abandoned_attempts_count_as_nothing(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last;

    (void)state;
    for (int i = 0; i < 20; i++)
        attempt(t, "admin", A, T0 + i, DG_THROTTLE_ABANDONED);
    last = fail_n(t, "admin", A, T0 + 20, 2);
    assert_int_equal(probe(t, "admin", A, last), 0);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, last), 0);
    dg_throttle_free(t);
}

static void test_throttle_caps_attempts_in_flight_per_account(void **state)
{
    dg_throttle_opts o = base_opts;
    dg_throttle_ticket tk[3], extra;
    dg_throttle *t;
    int64_t wait;
    char addr[32];

    (void)state;
    o.account_max_in_flight = 3;
    t = throttle_with(o);
    for (int i = 0; i < 3; i++) {
        snprintf(addr, sizeof addr, "10.2.0.%d", i);
        assert_int_equal(dg_throttle_admit(t, "admin", addr, T0, &tk[i], &wait), DG_OK);
    }
    assert_int_equal(dg_throttle_admit(t, "admin", C, T0, &extra, &wait), DG_EBUSY);
    assert_true(wait > 0);
    assert_int_equal(probe(t, "bob", C, T0), 0); /* other accounts go on */
    dg_throttle_settle(t, "admin", "10.2.0.0", &tk[0], DG_THROTTLE_SUCCEEDED, T0 + 5);
    assert_int_equal(dg_throttle_admit(t, "admin", C, T0 + 5, &extra, &wait), DG_OK);
    dg_throttle_settle(t, "admin", C, &extra, DG_THROTTLE_ABANDONED, T0 + 6);
    for (int i = 1; i < 3; i++) {
        snprintf(addr, sizeof addr, "10.2.0.%d", i);
        dg_throttle_settle(t, "admin", addr, &tk[i], DG_THROTTLE_ABANDONED, T0 + 6);
    }
    dg_throttle_free(t);
}

static void test_throttle_caps_attempts_in_flight_per_address(void **state)
{
    dg_throttle_opts o = base_opts;
    dg_throttle_ticket tk[4], extra;
    dg_throttle *t;
    int64_t wait;
    char name[32];

    (void)state;
    o.peer_max_in_flight = 4;
    t = throttle_with(o);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "user%d", i);
        assert_int_equal(dg_throttle_admit(t, name, A, T0, &tk[i], &wait), DG_OK);
    }
    assert_int_equal(dg_throttle_admit(t, "user9", A, T0, &extra, &wait), DG_EBUSY);
    assert_int_equal(probe(t, "user9", B, T0), 0); /* other addresses go on */
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "user%d", i);
        dg_throttle_settle(t, name, A, &tk[i], DG_THROTTLE_FAILED, T0 + 5);
    }
    assert_int_equal(probe(t, "user9", A, T0 + 5), 0);
    dg_throttle_free(t);
}

/* Several connections from one address guessing many names at once: the
 * address rule holds however the attempts interleave. */
static void test_throttle_peer_limit_holds_for_attempts_in_flight(void **state)
{
    dg_throttle *t = new_throttle(20);
    dg_throttle_ticket tk[8];
    char names[8][16];
    int64_t now = T0, wait;
    int n_admitted_total = 0;

    (void)state;
    for (int round = 0; round < 10; round++, now += 100) {
        int n = 0;

        for (int i = 0; i < 8; i++) {
            snprintf(names[n], sizeof names[n], "u%d-%d", round, i);
            if (dg_throttle_admit(t, names[n], A, now, &tk[n], &wait) == DG_OK)
                n++;
        }
        for (int i = 0; i < n; i++)
            dg_throttle_settle(t, names[i], A, &tk[i], DG_THROTTLE_FAILED, now + 50);
        n_admitted_total += n;
    }
    assert_int_equal(n_admitted_total, 20);
    dg_throttle_free(t);
}

static void test_throttle_known_address_is_not_busy_for_others_in_flight(void **state)
{
    dg_throttle *t = new_throttle(1000);
    dg_throttle_ticket tk;
    int64_t last, wait;

    (void)state;
    attempt(t, "admin", B, T0, DG_THROTTLE_SUCCEEDED);
    last = fail_n(t, "admin", A, T0 + 1, 4);
    assert_int_equal(dg_throttle_admit(t, "admin", C, last, &tk, &wait), DG_OK); /* the 5th */
    assert_int_equal(probe(t, "admin", B, last), 0);
    dg_throttle_settle(t, "admin", C, &tk, DG_THROTTLE_FAILED, last + 1);
    dg_throttle_free(t);
}

/* ------------------------------------------------------------ per address */

static void test_throttle_blocks_peer_for_block_ms_after_peer_failures(void **state)
{
    static const char *const names[] = {"a", "b", "c"}; /* spraying: one try per name */
    dg_throttle *t = new_throttle(3);
    int64_t last = T0;

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++) {
        last = T0 + (int64_t)i;
        assert_int_equal(probe(t, names[i], A, last), 0);
        attempt(t, names[i], A, last, DG_THROTTLE_FAILED);
    }
    assert_int_equal(probe(t, "d", A, last), BLOCK_MS);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, last + BLOCK_MS - 1), 1);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, last + BLOCK_MS), 0);
    dg_throttle_free(t);
}

static void test_throttle_peer_block_applies_to_known_addresses_too(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last;

    (void)state;
    attempt(t, "admin", A, T0, DG_THROTTLE_SUCCEEDED);
    last = fail_n(t, "x", A, T0 + 1, 3);
    assert_int_equal(probe(t, "admin", A, last), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_peer_block_leaves_other_addresses_alone(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = fail_n(t, "a", A, T0, 1);

    (void)state;
    attempt(t, "b", A, T0 + 1, DG_THROTTLE_FAILED);
    last = T0 + 2;
    attempt(t, "c", A, last, DG_THROTTLE_FAILED);
    assert_true(dg_throttle_peer_wait_ms(t, A, last) > 0);
    assert_int_equal(dg_throttle_peer_wait_ms(t, B, last), 0);
    assert_int_equal(probe(t, "d", B, last), 0);
    assert_int_equal(dg_throttle_peer_wait_ms(t, "::1", last), 0);
    dg_throttle_free(t);
}

/* Failures spread over the window still earn the full block after the last of
 * them: the block may not end early because the counting window ran out. */
static void test_throttle_peer_block_lasts_block_ms_when_failures_were_spread(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = T0 + BLOCK_MS - 1000;

    (void)state;
    attempt(t, "a", A, T0, DG_THROTTLE_FAILED);
    attempt(t, "b", A, T0 + BLOCK_MS / 2, DG_THROTTLE_FAILED);
    attempt(t, "c", A, last, DG_THROTTLE_FAILED);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, last), BLOCK_MS);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, T0 + BLOCK_MS + 1),
                     last + BLOCK_MS - (T0 + BLOCK_MS + 1));
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, last + BLOCK_MS), 0);
    dg_throttle_free(t);
}

/* Same for pairs: a delay earned inside the window is served in full. */
static void test_throttle_pair_delay_outlasting_window_is_served_in_full(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = T0 + WINDOW_MS - 500;

    (void)state;
    fail_n(t, "alice", A, T0, 4);
    attempt(t, "alice", A, last, DG_THROTTLE_FAILED); /* 5th, still inside the window */
    assert_int_equal(probe(t, "alice", A, T0 + WINDOW_MS + 1), last + 1000 - (T0 + WINDOW_MS + 1));
    dg_throttle_free(t);
}

/* A failure that lands after the window but while the block still runs (a
 * login that was hashing when the block began) must not lift the block. */
static void test_throttle_failure_during_a_block_does_not_lift_it(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t last = T0 + BLOCK_MS - 1000, late = T0 + BLOCK_MS + 10;
    dg_throttle_ticket tk;
    int64_t wait;

    (void)state;
    attempt(t, "a", A, T0, DG_THROTTLE_FAILED);
    attempt(t, "b", A, T0 + 1, DG_THROTTLE_FAILED);
    assert_int_equal(dg_throttle_admit(t, "d", A, T0 + 2, &tk, &wait), DG_OK); /* hashing */
    dg_throttle_peer_failure(t, A, last); /* blocked until last + BLOCK_MS */
    dg_throttle_settle(t, "d", A, &tk, DG_THROTTLE_FAILED, late); /* window over, block on */
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, late), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_pair_failures_after_a_quiet_window_start_fresh_count(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t now = fail_n(t, "alice", A, T0, 4) + WINDOW_MS + 1;

    (void)state;
    attempt(t, "alice", A, now, DG_THROTTLE_FAILED); /* 1st of a new count, not the 5th */
    assert_int_equal(probe(t, "alice", A, now), 0);
    now = fail_n(t, "alice", A, now + 1, 3);
    assert_int_equal(probe(t, "alice", A, now), 0);
    attempt(t, "alice", A, now + 1, DG_THROTTLE_FAILED); /* 5th of the new window */
    assert_int_equal(probe(t, "alice", A, now + 1), 1000);
    dg_throttle_free(t);
}

static void test_throttle_peer_failures_outside_window_start_fresh_count(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t now = T0 + BLOCK_MS + 1;

    (void)state;
    attempt(t, "a", A, T0, DG_THROTTLE_FAILED);
    attempt(t, "b", A, T0 + 1, DG_THROTTLE_FAILED);
    attempt(t, "c", A, now, DG_THROTTLE_FAILED);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, now), 0);
    attempt(t, "d", A, now + 1, DG_THROTTLE_FAILED);
    attempt(t, "e", A, now + 2, DG_THROTTLE_FAILED);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, now + 2), BLOCK_MS);
    dg_throttle_free(t);
}

/* ------------------------------------------------------------ tokens, sweeping, bounds */

static void test_throttle_token_failures_count_toward_peer_block(void **state)
{
    dg_throttle *t = new_throttle(3);

    (void)state;
    for (int i = 0; i < 3; i++)
        dg_throttle_peer_failure(t, A, T0 + i);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, T0 + 2), BLOCK_MS);
    assert_int_equal(probe(t, "alice", A, T0 + 2), BLOCK_MS);
    dg_throttle_free(t);
}

static void test_throttle_token_failures_delay_no_account(void **state)
{
    static const char *const names[] = {"alice", "", "(null)"};
    dg_throttle *t = new_throttle(1000);

    (void)state;
    for (int i = 0; i < 10; i++)
        dg_throttle_peer_failure(t, A, T0 + i);
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, T0 + 9), 0);
    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++) {
        assert_int_equal(probe(t, names[i], A, T0 + 9), 0);
        assert_int_equal(probe(t, names[i], B, T0 + 9), 0);
    }
    dg_throttle_free(t);
}

static void test_throttle_asking_to_wait_is_not_a_failure(void **state)
{
    dg_throttle *t = new_throttle(1000);
    int64_t last = fail_n(t, "alice", B, T0, 5);

    (void)state;
    for (int i = 0; i < 100; i++) /* refused attempts: they earn nothing more */
        assert_int_equal(probe(t, "alice", B, last), 1000);
    assert_int_equal(probe(t, "alice", B, last + 1000), 0);
    dg_throttle_free(t);
}

static void test_throttle_sweep_keeps_entries_still_in_force(void **state)
{
    dg_throttle *t = new_throttle(3);
    int64_t now = T0 + BLOCK_MS / 2;
    int64_t last_peer;

    (void)state;
    for (int i = 0; i < 4; i++) { /* 4 of 5 for alice, each from an address of its own */
        char addr[32];

        snprintf(addr, sizeof addr, "10.0.1.%d", i);
        attempt(t, "alice", addr, T0 + i, DG_THROTTLE_FAILED);
    }
    for (int i = 0; i < 3; i++)
        dg_throttle_peer_failure(t, A, T0 + i); /* address blocked */
    last_peer = T0 + 2;
    dg_throttle_sweep(t, now); /* both still matter now */
    assert_int_equal(dg_throttle_peer_wait_ms(t, A, now), last_peer + BLOCK_MS - now);
    attempt(t, "alice", "10.0.0.8", now, DG_THROTTLE_FAILED);
    assert_int_equal(probe(t, "alice", "10.0.0.8", now), 1000);
    dg_throttle_free(t);
}

static void test_throttle_sweep_drops_expired_entries(void **state)
{
    /* Afterwards the table behaves as if it had never seen these names and
     * addresses; under ASan a swept entry still reachable would also show. */
    dg_throttle *t = new_throttle(3);
    char name[32], addr[32];
    int64_t now = T0 + WINDOW_MS + PAIR_MAX_DELAY_MS + BLOCK_MS + 10;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "user%d", i);
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        fail_n(t, name, addr, T0, 3);
    }
    dg_throttle_sweep(t, now);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "user%d", i);
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(probe(t, name, addr, now), 0);
        attempt(t, name, addr, now, DG_THROTTLE_FAILED);
        assert_int_equal(probe(t, name, addr, now), 0); /* 1 failure, not 4 */
    }
    dg_throttle_free(t);
}

static void test_throttle_sweep_never_drops_attempts_in_flight(void **state)
{
    dg_throttle *t = new_throttle(1000);
    dg_throttle_ticket tk;
    int64_t wait, later = T0 + 10 * (WINDOW_MS + PAIR_MAX_DELAY_MS + BLOCK_MS);

    (void)state;
    assert_int_equal(dg_throttle_admit(t, "alice", A, T0, &tk, &wait), DG_OK);
    dg_throttle_sweep(t, later);
    /* settle asserts that the counters it was admitted into are still there */
    dg_throttle_settle(t, "alice", A, &tk, DG_THROTTLE_FAILED, later);
    dg_throttle_free(t);
}

static void test_throttle_full_tables_still_apply_the_peer_rule(void **state)
{
    dg_throttle_opts o = base_opts;
    dg_throttle *t;
    char name[32];
    int n_admitted = 0;

    (void)state;
    o.max_entries = 8;
    o.peer_failures = 20;
    t = throttle_with(o);
    for (int i = 0; i < 100; i++) {
        dg_throttle_ticket tk;
        int64_t wait;

        snprintf(name, sizeof name, "spray%d", i);
        if (dg_throttle_admit(t, name, A, T0 + i, &tk, &wait) == DG_OK) {
            n_admitted++;
            dg_throttle_settle(t, name, A, &tk, DG_THROTTLE_FAILED, T0 + i);
        }
    }
    assert_int_equal(n_admitted, 20);
    dg_throttle_free(t);
}

static void test_throttle_long_names_are_keyed_safely(void **state)
{
    char long_name[2000];
    dg_throttle *t = new_throttle(1000);
    int64_t last;

    (void)state;
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    last = fail_n(t, long_name, A, T0, 5);
    assert_int_equal(probe(t, long_name, A, last), 1000);
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
        cmocka_unit_test(test_throttle_pair_delay_doubles_per_failure_up_to_max),
        cmocka_unit_test(test_throttle_pair_delay_is_capped_after_many_failures),
        cmocka_unit_test(test_throttle_delay_applies_to_any_name_existing_or_not),
        cmocka_unit_test(test_throttle_counts_each_name_separately),
        cmocka_unit_test(test_throttle_success_clears_the_pair_count),
        cmocka_unit_test(test_throttle_success_keeps_peer_count),
        cmocka_unit_test(test_throttle_failures_elsewhere_do_not_stop_a_known_address),
        cmocka_unit_test(test_throttle_account_failures_delay_unknown_addresses_a_bounded_time),
        cmocka_unit_test(test_throttle_account_delay_starts_after_account_failures),
        cmocka_unit_test(test_throttle_known_address_still_has_its_own_pair_limit),
        cmocka_unit_test(test_throttle_known_address_is_forgotten_after_known_ms),
        cmocka_unit_test(test_throttle_known_is_per_account),
        cmocka_unit_test(test_throttle_no_address_is_known_when_known_ms_is_0),
        cmocka_unit_test(test_throttle_known_table_is_bounded_and_forgets_the_oldest),
        cmocka_unit_test(test_throttle_attempts_in_flight_count_from_admission),
        cmocka_unit_test(test_throttle_busy_ends_when_the_attempts_in_flight_succeed),
        cmocka_unit_test(test_throttle_abandoned_attempts_count_as_nothing),
        cmocka_unit_test(test_throttle_caps_attempts_in_flight_per_account),
        cmocka_unit_test(test_throttle_caps_attempts_in_flight_per_address),
        cmocka_unit_test(test_throttle_peer_limit_holds_for_attempts_in_flight),
        cmocka_unit_test(test_throttle_known_address_is_not_busy_for_others_in_flight),
        cmocka_unit_test(test_throttle_blocks_peer_for_block_ms_after_peer_failures),
        cmocka_unit_test(test_throttle_peer_block_applies_to_known_addresses_too),
        cmocka_unit_test(test_throttle_peer_block_leaves_other_addresses_alone),
        cmocka_unit_test(test_throttle_peer_block_lasts_block_ms_when_failures_were_spread),
        cmocka_unit_test(test_throttle_pair_delay_outlasting_window_is_served_in_full),
        cmocka_unit_test(test_throttle_failure_during_a_block_does_not_lift_it),
        cmocka_unit_test(test_throttle_pair_failures_after_a_quiet_window_start_fresh_count),
        cmocka_unit_test(test_throttle_peer_failures_outside_window_start_fresh_count),
        cmocka_unit_test(test_throttle_token_failures_count_toward_peer_block),
        cmocka_unit_test(test_throttle_token_failures_delay_no_account),
        cmocka_unit_test(test_throttle_asking_to_wait_is_not_a_failure),
        cmocka_unit_test(test_throttle_sweep_keeps_entries_still_in_force),
        cmocka_unit_test(test_throttle_sweep_drops_expired_entries),
        cmocka_unit_test(test_throttle_sweep_never_drops_attempts_in_flight),
        cmocka_unit_test(test_throttle_full_tables_still_apply_the_peer_rule),
        cmocka_unit_test(test_throttle_long_names_are_keyed_safely),
        cmocka_unit_test(test_throttle_free_accepts_null),
    };

    /* The throttle is loop-thread state: it asserts it runs on one. */
    dg_thread_set_role(DG_THREAD_LOOP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
