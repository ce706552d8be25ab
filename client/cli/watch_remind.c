/* watch_remind.c - a reminder for people: see watch_remind.h. Times are
 * shown in the zone the reminder carries (the team's), the machine's zone
 * playing no part. */
#include "watch_remind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

/* `ms` as "YYYY-MM-DD HH:MM" in `zone`, else in UTC with " UTC". */
static const char *zoned(const char *zone, int64_t ms, char *buf, size_t len)
{
    if (zone[0] && dg_tz_valid(zone) && dg_tz_format(zone, ms, buf, len) == DG_OK)
        return buf;
    if (dg_tz_format("UTC", ms, buf, len) != DG_OK)
        snprintf(buf, len, "%lld", (long long)ms);
    else
        strncat(buf, " UTC", len - strlen(buf) - 1);
    return buf;
}

static void print_json(const Dangan__V1__Event *ev, const Dangan__V1__Reminder *r, const char *kind,
                       const char *record_kind, const char *remind_at, const char *due_at)
{
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:I,s:s,s:s,s:s}", "seq",
        (json_int_t)(ev->cursor ? ev->cursor->seq : 0), "entity", "reminder", "op", "reminder",
        "kind", kind, "customer_id", (json_int_t)r->customer_id, "customer_code", r->customer_code,
        "customer_name", r->customer_name, "record_kind", record_kind, "record_id",
        (json_int_t)r->record_id, "due_at_ms", (json_int_t)r->due_at_ms, "due_on", r->due_on,
        "title", r->title, "remind_at_ms", (json_int_t)r->remind_at_ms, "time_zone", r->time_zone,
        "remind_at", remind_at, "due_at", due_at);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    if (line)
        printf("%s\n", line);
    free(line);
    json_decref(o);
}

void cli_watch_print_reminder(cli *c, const Dangan__V1__Event *ev)
{
    const Dangan__V1__Reminder *r = ev->reminder;
    char kind[48], record_kind[32], at[48], due[48];

    cli_enum_name(&dangan__v1__reminder_kind__descriptor, r->kind, kind, sizeof kind);
    cli_enum_name(&dangan__v1__entity_kind__descriptor, r->record_kind, record_kind,
                  sizeof record_kind);
    zoned(r->time_zone, r->remind_at_ms, at, sizeof at);
    zoned(r->time_zone, r->due_at_ms, due, sizeof due);
    if (c->is_json) {
        print_json(ev, r, kind, record_kind, at, due);
        return;
    }
    switch (r->kind) {
    case DANGAN__V1__REMINDER_KIND__REMINDER_KIND_TASK_DUE:
        printf("%s  reminder: task #%lld \"%s\" for %s (%s) is due %s\n", at,
               (long long)r->record_id, r->title, r->customer_name, r->customer_code, due);
        break;
    case DANGAN__V1__REMINDER_KIND__REMINDER_KIND_FOLLOW_UP:
        printf("%s  reminder: follow up %s (%s) on %s, as noted: \"%s\" (note #%lld)\n", at,
               r->customer_name, r->customer_code, r->due_on, r->title, (long long)r->record_id);
        break;
    case DANGAN__V1__REMINDER_KIND__REMINDER_KIND_CONTRACT_EXPIRING:
        printf("%s  reminder: contract \"%s\" of %s (%s) expires on %s (document #%lld)\n", at,
               r->title, r->customer_name, r->customer_code, r->due_on, (long long)r->record_id);
        break;
    case DANGAN__V1__REMINDER_KIND__REMINDER_KIND_POOL_RETURNED:
        printf("%s  notice: %s (%s) went back to the pool%s%s\n", at, r->customer_name,
               r->customer_code, r->title[0] ? ": " : "", r->title);
        break;
    default:
        printf("%s  reminder (%s): %s (%s)%s%s\n", at, kind, r->customer_name, r->customer_code,
               r->title[0] ? ": " : "", r->title);
        break;
    }
}
