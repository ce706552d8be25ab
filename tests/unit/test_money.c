/* test_money.c - currency codes and their minor units, as the server checks
 * amounts and the CLI reads and prints them: the exponent of every currency
 * without two decimals, the default of two, and which codes are valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dg.h"
#include "money.h"

static void test_exponent_follows_iso_4217_minor_units(void **state)
{
    static const struct {
        const char *code;
        int exponent;
    } cases[] = {
        {"CNY", 2}, {"USD", 2}, {"EUR", 2}, {"HKD", 2}, {"JPY", 0}, {"KRW", 0}, {"VND", 0},
        {"CLP", 0}, {"ISK", 0}, {"UGX", 0}, {"XAF", 0}, {"XOF", 0}, {"BHD", 3}, {"KWD", 3},
        {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"IQD", 3}, {"LYD", 3}, {"ZZZ", 2},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        int got = dg_currency_exponent(cases[i].code);

        if (got != cases[i].exponent)
            fail_msg("%s: exponent %d, expected %d", cases[i].code, got, cases[i].exponent);
    }
}

static void test_valid_codes_are_three_upper_case_letters(void **state)
{
    static const char *const good[] = {"CNY", "USD", "JPY", "AAA", "ZZZ"};
    static const char *const bad[] = {"",    "C",   "CN",     "CNYX",      "cny", "Cny",
                                      "CN1", "C Y", "CN\xC3", "\xC3\xA9X", "CN-"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(good); i++)
        if (!dg_currency_valid(good[i]))
            fail_msg("\"%s\" refused", good[i]);
    for (size_t i = 0; i < DG_ARRAY_LEN(bad); i++)
        if (dg_currency_valid(bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exponent_follows_iso_4217_minor_units),
        cmocka_unit_test(test_valid_codes_are_three_upper_case_letters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
