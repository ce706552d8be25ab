/* test_money.c - currency codes and their minor units, as the server checks
 * amounts and the CLI reads and prints them: the exponent of every currency
 * without two decimals, the default of two, which codes are valid, and amounts
 * read from and written as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Amounts as people type them, read as the CLI and the graphical client read them. */
static void test_parse_reads_amounts_as_typed(void **state)
{
    static const struct {
        const char *text, *currency;
        int rc;
        int64_t minor;
        const char *cur, *why;
    } cases[] = {
        {"12.34", NULL, DG_OK, 1234, "CNY", ""},
        {" 1,234.5 ", NULL, DG_OK, 123450, "CNY", ""},
        {"12.34 usd", NULL, DG_OK, 1234, "USD", ""},
        {"USD 12.34", NULL, DG_OK, 1234, "USD", ""},
        {"-5", "JPY", DG_OK, -5, "JPY", ""},
        {"1.5", "JPY", DG_EINVAL, 0, "", "JPY amounts are whole numbers"},
        {"1.2345 KWD", NULL, DG_EINVAL, 0, "", "KWD amounts have at most 3 decimals"},
        {"12.34 USD", "CNY", DG_EINVAL, 0, "", "names USD, but the currency is CNY"},
        {"twelve", NULL, DG_EINVAL, 0, "", "not an amount (like 1234.56)"},
        {"12 dollars", NULL, DG_EINVAL, 0, "", "not an amount with a currency (like 12.34 USD)"},
        {"99999999999999999999", NULL, DG_EINVAL, 0, "", "too large"},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char cur[4] = "", why[128] = "";
        int64_t minor = 0;
        int rc = dg_money_parse(cases[i].text, cases[i].currency, &minor, cur, why, sizeof why);

        if (rc != cases[i].rc || strcmp(why, cases[i].why) != 0 ||
            (rc == DG_OK && (minor != cases[i].minor || strcmp(cur, cases[i].cur) != 0)))
            fail_msg("\"%s\": rc %d minor %lld %s why \"%s\"", cases[i].text, rc, (long long)minor,
                     cur, why);
    }
}

static void test_format_groups_digits_by_the_currency(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(dg_money_format(1234500, "CNY", buf, sizeof buf), "CNY 12,345.00");
    assert_string_equal(dg_money_format(-1050, "USD", buf, sizeof buf), "USD -10.50");
    assert_string_equal(dg_money_format(1234567, "JPY", buf, sizeof buf), "JPY 1,234,567");
    assert_string_equal(dg_money_format(5, "KWD", buf, sizeof buf), "KWD 0.005");
    assert_string_equal(dg_money_format(7, NULL, buf, sizeof buf), "CNY 0.07");
    assert_string_equal(dg_money_format(INT64_MIN, "CNY", buf, sizeof buf),
                        "CNY -92,233,720,368,547,758.08");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exponent_follows_iso_4217_minor_units),
        cmocka_unit_test(test_valid_codes_are_three_upper_case_letters),
        cmocka_unit_test(test_parse_reads_amounts_as_typed),
        cmocka_unit_test(test_format_groups_digits_by_the_currency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
