/* test_tz.c - the team's time zone: local dates across a day boundary in
 * Asia/Shanghai while the process runs in UTC, day starts, daylight saving
 * in a zone that has it, unknown zones refused, and date arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dg.h"
#include "tz.h"

/* 2026-12-07T15:59:59.999Z and the ms after it: 23:59:59.999 and 00:00 in Shanghai. */
#define LAST_MS_OF_DEC7_SHANGHAI 1796659199999LL

static void test_the_local_date_turns_at_local_midnight_not_utc(void **state)
{
    char date[DG_DATE_LEN], when[32];

    (void)state;
    setenv("TZ", "UTC", 1); /* the machine's zone plays no part */
    tzset();
    assert_int_equal(dg_tz_date("Asia/Shanghai", LAST_MS_OF_DEC7_SHANGHAI, date), DG_OK);
    assert_string_equal(date, "2026-12-07");
    assert_int_equal(dg_tz_date("Asia/Shanghai", LAST_MS_OF_DEC7_SHANGHAI + 1, date), DG_OK);
    assert_string_equal(date, "2026-12-08");
    assert_int_equal(dg_tz_date("UTC", LAST_MS_OF_DEC7_SHANGHAI + 1, date), DG_OK);
    assert_string_equal(date, "2026-12-07");
    assert_int_equal(dg_tz_format("Asia/Shanghai", 1796608800000LL, when, sizeof when), DG_OK);
    assert_string_equal(when, "2026-12-07 10:00"); /* 02:00Z */
}

static void test_a_day_starts_at_its_zones_midnight(void **state)
{
    int64_t ms = 0;
    int32_t off = 0;

    (void)state;
    assert_int_equal(dg_tz_day_start("Asia/Shanghai", "2026-12-08", &ms), DG_OK);
    assert_int_equal(ms, LAST_MS_OF_DEC7_SHANGHAI + 1);
    assert_int_equal(dg_tz_offset_ms("Asia/Shanghai", ms, &off), DG_OK);
    assert_int_equal(off, 8 * 3600 * 1000);
    /* Berlin: CET +1 in winter, CEST +2 after the last Sunday of March. */
    assert_int_equal(dg_tz_day_start("Europe/Berlin", "2026-03-28", &ms), DG_OK);
    assert_int_equal(ms, 1774652400000LL); /* 2026-03-27T23:00Z */
    assert_int_equal(dg_tz_day_start("Europe/Berlin", "2026-03-30", &ms), DG_OK);
    assert_int_equal(ms, 1774821600000LL); /* 2026-03-29T22:00Z */
}

static void test_unknown_zones_and_bad_dates_are_refused(void **state)
{
    static const char *const bad_zones[] = {"", "Mars/Base", "Asia/Shanghai ", "asia/shanghai_x",
                                            "../../etc/passwd", NULL};
    char date[DG_DATE_LEN];
    int64_t ms;

    (void)state;
    assert_true(dg_tz_valid("Asia/Shanghai"));
    assert_true(dg_tz_valid("UTC"));
    assert_true(dg_tz_valid("America/New_York"));
    for (size_t i = 0; i < DG_ARRAY_LEN(bad_zones); i++) {
        assert_false(dg_tz_valid(bad_zones[i]));
        assert_int_equal(dg_tz_date(bad_zones[i], 0, date), DG_EINVAL);
    }
    assert_int_equal(dg_tz_day_start("UTC", "2026-02-29", &ms), DG_EINVAL);
    assert_int_equal(dg_tz_day_start("UTC", "2026-13-01", &ms), DG_EINVAL);
    assert_int_equal(dg_tz_day_start("UTC", "2026-1-01", &ms), DG_EINVAL);
    assert_int_equal(dg_tz_day_start("UTC", "2028-02-29", &ms), DG_OK);
}

static void test_date_arithmetic_crosses_months_years_and_leap_days(void **state)
{
    char out[DG_DATE_LEN];
    int days = 0;

    (void)state;
    assert_int_equal(dg_date_add_days("2026-12-07", 30, out), DG_OK);
    assert_string_equal(out, "2027-01-06");
    assert_int_equal(dg_date_add_days("2028-03-01", -1, out), DG_OK);
    assert_string_equal(out, "2028-02-29");
    assert_int_equal(dg_date_add_days("2026-12-07", -365, out), DG_OK);
    assert_string_equal(out, "2025-12-07");
    assert_int_equal(dg_date_diff_days("2026-10-08", "2026-12-07", &days), DG_OK);
    assert_int_equal(days, 60);
    assert_int_equal(dg_date_diff_days("2026-12-07", "2026-10-08", &days), DG_OK);
    assert_int_equal(days, -60);
    assert_int_equal(dg_date_add_days("junk", 1, out), DG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_local_date_turns_at_local_midnight_not_utc),
        cmocka_unit_test(test_a_day_starts_at_its_zones_midnight),
        cmocka_unit_test(test_unknown_zones_and_bad_dates_are_refused),
        cmocka_unit_test(test_date_arithmetic_crosses_months_years_and_leap_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
