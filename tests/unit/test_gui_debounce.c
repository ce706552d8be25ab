/* test_gui_debounce.c - search as you type (client/gtk/logic/one_in_flight.c):
 * the first keystroke's search goes at once; while it is on its way the
 * keystrokes after it wait, only the newest is kept, and it goes when the
 * answer (or a failure) comes; with nothing waiting, nothing more goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "one_in_flight.h"

static void test_first_goes_at_once(void **state)
{
    dg_one_in_flight f = {0};

    (void)state;
    assert_true(dg_one_in_flight_ask(&f, 1));
    assert_int_equal(dg_one_in_flight_answered(&f), 0);
    assert_true(dg_one_in_flight_ask(&f, 2)); /* answered: the next goes at once too */
}

static void test_typed_meanwhile_waits_and_only_the_newest_goes(void **state)
{
    dg_one_in_flight f = {0};

    (void)state;
    assert_true(dg_one_in_flight_ask(&f, 1));  /* "1" */
    assert_false(dg_one_in_flight_ask(&f, 2)); /* "13" waits */
    assert_false(dg_one_in_flight_ask(&f, 3)); /* "135" replaces it */
    assert_int_equal(dg_one_in_flight_answered(&f), 3);
    assert_true(dg_one_in_flight_ask(&f, 3)); /* the caller sends it: on its way */
    assert_false(dg_one_in_flight_ask(&f, 4));
    assert_int_equal(dg_one_in_flight_answered(&f), 4);
}

static void test_a_stale_waiting_ticket_is_not_resent(void **state)
{
    dg_one_in_flight f = {0};

    (void)state;
    assert_true(dg_one_in_flight_ask(&f, 1));
    assert_false(dg_one_in_flight_ask(&f, 2));
    /* the caller found ticket 2 stale (the search was cleared) and did not
     * ask again: nothing is on its way, the next keystroke goes at once */
    assert_int_equal(dg_one_in_flight_answered(&f), 2);
    assert_true(dg_one_in_flight_ask(&f, 5));
}

static void test_a_failure_counts_as_an_answer(void **state)
{
    dg_one_in_flight f = {0};

    (void)state;
    assert_true(dg_one_in_flight_ask(&f, 1));
    assert_false(dg_one_in_flight_ask(&f, 2));
    /* the connection was lost: the reply handler says answered all the same */
    assert_int_equal(dg_one_in_flight_answered(&f), 2);
    assert_int_equal(dg_one_in_flight_answered(&f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_goes_at_once),
        cmocka_unit_test(test_typed_meanwhile_waits_and_only_the_newest_goes),
        cmocka_unit_test(test_a_stale_waiting_ticket_is_not_resent),
        cmocka_unit_test(test_a_failure_counts_as_an_answer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
