/* when.c - every date and time the CLI shows or reads is in the team's time
 * zone (SessionInfo.team_time_zone, from the session this run resumed), so
 * 10:00 in Beijing reads 10:00 on a machine set to UTC; with --utc, UTC
 * (ISO-8601 with Z) for scripts. --json keeps instants as unix ms. Against
 * a server that does not send the zone, the machine's zone, as before.
 * Single-threaded, like the CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "rec.h"
#include "tz.h"

static struct {
    cli *c;
    bool is_tried; /* a session resumed to learn the zone (cli_zone_for_input) */
    char zone[DG_TZ_NAME_MAX];
} when;

void cli_when_init(cli *c)
{
    when.c = c;
}

/* The zone to show and read times in: "UTC" under --utc, the team's zone
 * once a session told it, else NULL (the machine's zone). */
static const char *zone(void)
{
    if (when.c && when.c->is_utc)
        return "UTC";
    if (!when.zone[0] && when.c && when.c->client) {
        const char *z = dg_client_team_zone(when.c->client);

        if (z[0] && dg_tz_valid(z))
            snprintf(when.zone, sizeof when.zone, "%s", z);
    }
    return when.zone[0] ? when.zone : NULL;
}

/* The same for reading a time the user typed: options are read before the
 * command talks to the server, so this resumes the session first (the one
 * the command goes on with), quietly: if that fails, the zone is the
 * machine's and the command, which cannot run without the session, says why
 * when it tries again (after any usage error of its own). */
static const char *zone_for_input(void)
{
    if (when.c && !when.c->is_utc && !when.c->client && !when.is_tried) {
        int rc;

        when.is_tried = true;
        when.c->is_quiet = true;
        rc = cli_rec_session(when.c);
        when.c->is_quiet = false;
        if (rc != EXIT_OK) {
            dg_client_close(when.c->client);
            when.c->client = NULL;
        }
    }
    return zone();
}

/* The local calendar time of unix_ms in the zone (seconds precision). */
static void local_tm(int64_t unix_ms, struct tm *tm)
{
    const char *z = zone();
    int32_t off = 0;
    time_t t;

    if (!z) {
        t = (time_t)(unix_ms / 1000);
        localtime_r(&t, tm);
        return;
    }
    if (dg_tz_offset_ms(z, unix_ms, &off) != DG_OK)
        off = 0;
    t = (time_t)((unix_ms + off) / 1000);
    gmtime_r(&t, tm);
}

const char *cli_time(int64_t unix_ms, char *buf, size_t len)
{
    const char *z = zone();
    struct tm tm;

    if (when.c && when.c->is_utc) {
        time_t t = (time_t)(unix_ms / 1000);

        gmtime_r(&t, &tm);
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
    }
    if (z && len >= 17 && dg_tz_format(z, unix_ms, buf, len) == DG_OK)
        return buf;
    local_tm(unix_ms, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

const char *cli_time_seconds(int64_t unix_ms, char *buf, size_t len)
{
    struct tm tm;

    if (when.c && when.c->is_utc)
        return cli_time(unix_ms, buf, len);
    local_tm(unix_ms, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char *cli_day_or_time(int64_t unix_ms, char *buf, size_t len)
{
    struct tm tm;

    local_tm(unix_ms, &tm);
    if (tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0 && unix_ms % 1000 == 0) {
        strftime(buf, len, "%Y-%m-%d", &tm);
        return buf;
    }
    return cli_time(unix_ms, buf, len);
}

const char *cli_today(char buf[16])
{
    struct tm tm;

    (void)zone_for_input(); /* options are read before the session resumes */
    local_tm(dg_now_ms(), &tm);
    strftime(buf, 16, "%Y-%m-%d", &tm);
    return buf;
}

int cli_local_to_utc(struct tm *tm, int64_t *unix_ms)
{
    const char *z = zone_for_input();
    int64_t naive;
    int32_t off1 = 0, off2 = 0;
    time_t t;

    if (!z) {
        tm->tm_isdst = -1; /* the machine zone's own rule for that day */
        t = mktime(tm);
        if (t == (time_t)-1)
            return DG_EINVAL;
        *unix_ms = (int64_t)t * 1000;
        return DG_OK;
    }
    /* The offset at the wall time taken as UTC, then at the instant that
     * gives: right on both sides of a change of offset. */
    naive = (int64_t)timegm(tm) * 1000;
    if (dg_tz_offset_ms(z, naive, &off1) != DG_OK ||
        dg_tz_offset_ms(z, naive - off1, &off2) != DG_OK)
        return DG_EINVAL;
    *unix_ms = naive - off2;
    return DG_OK;
}
