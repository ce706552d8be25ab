/* tz.h - a team's time zone (an IANA name such as "Asia/Shanghai"): the
 * local date and time of a UTC instant, and the UTC instant a local day
 * starts, through ICU's calendar (daylight saving and historical offsets
 * included). Dates are "YYYY-MM-DD" text, as the records store them.
 * Pure; any thread (each call uses a calendar of its own).
 */
#ifndef DG_TZ_H
#define DG_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_TZ_NAME_MAX 64 /* with the NUL; the longest IANA name is 32 */
#define DG_DATE_LEN 11    /* "YYYY-MM-DD" and the NUL */

/* True if `zone` is a time zone ICU knows by that name ("UTC", "Asia/Shanghai"). */
bool dg_tz_valid(const char *zone);

/* The local date of `utc_ms` in `zone` into out. DG_OK or DG_EINVAL (unknown zone). */
int dg_tz_date(const char *zone, int64_t utc_ms, char out[DG_DATE_LEN]);

/* "YYYY-MM-DD HH:MM" local time of `utc_ms` in `zone` (needs 17 bytes). DG_OK or DG_EINVAL. */
int dg_tz_format(const char *zone, int64_t utc_ms, char *buf, size_t len);

/* The UTC instant (ms) at which local day `date` starts in `zone` (its first
 * local minute, which is 00:00 except where a zone skips midnight).
 * DG_OK, or DG_EINVAL for an unknown zone or a date that is not YYYY-MM-DD. */
int dg_tz_day_start(const char *zone, const char *date, int64_t *utc_ms);

/* UTC offset of `zone` at `utc_ms` in ms (+8 h: 28800000). DG_OK or DG_EINVAL. */
int dg_tz_offset_ms(const char *zone, int64_t utc_ms, int32_t *offset);

/* Calendar arithmetic on dates, no zone involved. */
/* `date` plus `days` (may be negative) into out. DG_OK or DG_EINVAL. */
int dg_date_add_days(const char *date, int days, char out[DG_DATE_LEN]);
/* Days from `a` to `b` (b - a) into *days. DG_OK or DG_EINVAL. */
int dg_date_diff_days(const char *a, const char *b, int *days);

#endif
