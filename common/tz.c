/* tz.c - time zones through ICU's calendar (ucal), dates by civil arithmetic. */
#include "tz.h"

#include <stdio.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "dg.h"

/* A Gregorian calendar in `zone`, or NULL if ICU does not know the zone. */
static UCalendar *open_calendar(const char *zone)
{
    UChar id[DG_TZ_NAME_MAX], canonical[DG_TZ_NAME_MAX];
    UBool is_system = 0;
    UErrorCode status = U_ZERO_ERROR;

    if (!zone || strlen(zone) >= DG_TZ_NAME_MAX || !*zone)
        return NULL;
    u_uastrncpy(id, zone, DG_TZ_NAME_MAX);
    /* ucal_open falls back to "Etc/Unknown" (UTC) for a name it does not
     * know; a name that has no canonical system ID is refused instead. */
    ucal_getCanonicalTimeZoneID(id, -1, canonical, DG_TZ_NAME_MAX, &is_system, &status);
    if (U_FAILURE(status) || !is_system)
        return NULL;
    UCalendar *cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &status);
    if (U_FAILURE(status)) {
        if (cal)
            ucal_close(cal);
        return NULL;
    }
    return cal;
}

bool dg_tz_valid(const char *zone)
{
    UCalendar *cal = open_calendar(zone);

    if (!cal)
        return false;
    ucal_close(cal);
    return true;
}

/* Local fields of `utc_ms`: year, month 1-12, day, hour, minute. */
static int local_fields(const char *zone, int64_t utc_ms, int f[5])
{
    static const UCalendarDateFields which[5] = {UCAL_YEAR, UCAL_MONTH, UCAL_DATE,
                                                 UCAL_HOUR_OF_DAY, UCAL_MINUTE};
    UErrorCode status = U_ZERO_ERROR;
    UCalendar *cal = open_calendar(zone);

    if (!cal)
        return DG_EINVAL;
    ucal_setMillis(cal, (UDate)utc_ms, &status);
    for (int i = 0; i < 5; i++)
        f[i] = ucal_get(cal, which[i], &status);
    ucal_close(cal);
    if (U_FAILURE(status))
        return DG_EINVAL;
    f[1] += 1; /* UCAL_MONTH counts from 0 */
    return DG_OK;
}

int dg_tz_date(const char *zone, int64_t utc_ms, char out[DG_DATE_LEN])
{
    int f[5];
    int rc = local_fields(zone, utc_ms, f);

    if (rc != DG_OK)
        return rc;
    snprintf(out, DG_DATE_LEN, "%04u-%02u-%02u", (unsigned)f[0] % 10000u, (unsigned)f[1] % 100u,
             (unsigned)f[2] % 100u);
    return DG_OK;
}

int dg_tz_format(const char *zone, int64_t utc_ms, char *buf, size_t len)
{
    int f[5];
    int rc = local_fields(zone, utc_ms, f);

    if (rc != DG_OK)
        return rc;
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", f[0] % 10000, f[1] % 100, f[2] % 100,
             f[3] % 100, f[4] % 100);
    return DG_OK;
}

/* "YYYY-MM-DD" into y, m, d; false unless it is a real calendar date. */
static bool parse_date(const char *date, int *y, int *m, int *d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (date[i] < '0' || date[i] > '9'))
            return false;
    *y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
    *m = (date[5] - '0') * 10 + (date[6] - '0');
    *d = (date[8] - '0') * 10 + (date[9] - '0');
    if (*m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
        return false;
    bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    return !(*m == 2 && *d == 29 && !leap);
}

int dg_tz_day_start(const char *zone, const char *date, int64_t *utc_ms)
{
    int y, m, d;
    UErrorCode status = U_ZERO_ERROR;

    if (!parse_date(date, &y, &m, &d))
        return DG_EINVAL;
    UCalendar *cal = open_calendar(zone);
    if (!cal)
        return DG_EINVAL;
    /* Lenient: a local midnight that a zone skips resolves to the first
     * minute that exists after it. */
    ucal_clear(cal);
    ucal_setDateTime(cal, y, m - 1, d, 0, 0, 0, &status);
    UDate ms = ucal_getMillis(cal, &status);
    ucal_close(cal);
    if (U_FAILURE(status))
        return DG_EINVAL;
    *utc_ms = (int64_t)ms;
    return DG_OK;
}

int dg_tz_offset_ms(const char *zone, int64_t utc_ms, int32_t *offset)
{
    UErrorCode status = U_ZERO_ERROR;
    UCalendar *cal = open_calendar(zone);

    if (!cal)
        return DG_EINVAL;
    ucal_setMillis(cal, (UDate)utc_ms, &status);
    int32_t zone_off = ucal_get(cal, UCAL_ZONE_OFFSET, &status);
    int32_t dst_off = ucal_get(cal, UCAL_DST_OFFSET, &status);
    ucal_close(cal);
    if (U_FAILURE(status))
        return DG_EINVAL;
    *offset = zone_off + dst_off;
    return DG_OK;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int dg_date_add_days(const char *date, int days, char out[DG_DATE_LEN])
{
    int y, m, d;

    if (!parse_date(date, &y, &m, &d))
        return DG_EINVAL;
    civil_from_days(days_from_civil(y, m, d) + days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return DG_EINVAL;
    snprintf(out, DG_DATE_LEN, "%04d-%02d-%02d", y, m, d);
    return DG_OK;
}

int dg_date_diff_days(const char *a, const char *b, int *days)
{
    int ya, ma, da, yb, mb, db;

    if (!parse_date(a, &ya, &ma, &da) || !parse_date(b, &yb, &mb, &db))
        return DG_EINVAL;
    *days = (int)(days_from_civil(yb, mb, db) - days_from_civil(ya, ma, da));
    return DG_OK;
}
