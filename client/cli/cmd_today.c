/* cmd_today.c - `dangan today`: the day's contact list (客户联络一览表), one
 * screen per user: overdue tasks, tasks due today, customers due for a call
 * or a visit by their tier's cadence, follow-ups, contracts expiring,
 * customers turning dormant (docs/customer-file.md, "The day's list").
 * Dates and times are the team's, in the zone the server names in the reply.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "table.h"
#include "tz.h"

#define LIMIT_MAX 1000

enum { OPT_TEAM = 256, OPT_OWNER, OPT_LIMIT };

static const char TODAY_HELP[] =
    "usage: dangan today [--team | --owner USER] [--limit N] [--json]\n"
    "\n"
    "The day's contact list, in the team's time zone: overdue tasks (with the\n"
    "days overdue), tasks due today, customers due for a call (phone) or a\n"
    "visit (visit, meeting) by their tier's cadence, follow-up dates of notes\n"
    "not yet answered by a later note, contracts expiring within the reminder\n"
    "lead time (or expired and not renewed), and customers turning dormant\n"
    "within a week. Most overdue first, then by name.\n"
    "  --team       every user's list (managers and admins)\n"
    "  --owner U    user U's list (managers and admins)\n"
    "  --limit N    lines per section (default 50, at most 1000); the rest is counted\n";

struct view {
    const char *zone;
};

static const char *date_of(const struct view *v, int64_t ms, char *buf, size_t len)
{
    if (!ms)
        return "never";
    if (len < DG_DATE_LEN || dg_tz_date(v->zone, ms, buf) != DG_OK)
        snprintf(buf, len, "?");
    return buf;
}

static const char *time_of(const struct view *v, int64_t ms, char *buf, size_t len)
{
    if (dg_tz_format(v->zone, ms, buf, len) != DG_OK)
        snprintf(buf, len, "?");
    return buf;
}

static const char *tier_of(Dangan__V1__Tier t)
{
    static const char *const names[] = {"-", "A", "B", "C"};

    return t >= 0 && t < 4 ? names[t] : "-";
}

/* "3 days overdue", "due today", "never" ... */
static const char *overdue_mark(int days, char *buf, size_t len)
{
    if (days < 0)
        return "never";
    if (days == 0)
        return "due today";
    snprintf(buf, len, "%d day%s overdue", days, days == 1 ? "" : "s");
    return buf;
}

static void print_section(const struct view *v, const Dangan__V1__TodaySection *s)
{
    static const struct {
        const char *name, *title;
        size_t n_cols;
        const char *headers[6];
    } layouts[] = {
        {"overdue_tasks",
         "Overdue tasks 逾期任务",
         5,
         {"OVERDUE", "DUE", "CODE", "CUSTOMER", "TASK"}},
        {"tasks_today", "Tasks due today 今日任务", 4, {"DUE", "CODE", "CUSTOMER", "TASK"}},
        {"calls_due",
         "Calls due 应电话联络",
         6,
         {"STATUS", "TIER", "CODE", "CUSTOMER", "LAST CALL", "EVERY"}},
        {"visits_due",
         "Visits due 应拜访",
         6,
         {"STATUS", "TIER", "CODE", "CUSTOMER", "LAST VISIT", "EVERY"}},
        {"follow_ups", "Follow-ups 待跟进", 5, {"STATUS", "DATE", "CODE", "CUSTOMER", "NOTE"}},
        {"contracts",
         "Contracts expiring 合同到期",
         5,
         {"STATUS", "EXPIRES", "CODE", "CUSTOMER", "CONTRACT"}},
        {"turning_dormant",
         "Turning dormant 即将休眠",
         4,
         {"STATUS", "LAST CONTACT", "CODE", "CUSTOMER"}},
    };
    size_t k = 0;
    cli_table *t;

    while (k < DG_ARRAY_LEN(layouts) && strcmp(layouts[k].name, s->name) != 0)
        k++;
    if (k == DG_ARRAY_LEN(layouts))
        return; /* a section of a newer server */
    printf("\n%s (%u%s)\n", layouts[k].title, s->total, s->more ? "+" : "");
    if (!s->n_items) {
        printf("  none\n");
        return;
    }
    t = cli_table_new(layouts[k].n_cols, layouts[k].headers);
    cli_table_flex(t, layouts[k].n_cols - 1);
    for (size_t i = 0; i < s->n_items; i++) {
        const Dangan__V1__TodayItem *it = s->items[i];
        char mark[48], when[32], every[16];
        const char *cells[6] = {mark, when, it->customer_code, it->customer_name, "", ""};

        mark[0] = when[0] = '\0';
        switch (k) {
        case 0:
            overdue_mark(it->days, mark, sizeof mark);
            time_of(v, it->due_at_ms, when, sizeof when);
            cells[4] = it->title;
            break;
        case 1:
            cells[0] = time_of(v, it->due_at_ms, when, sizeof when);
            cells[1] = it->customer_code;
            cells[2] = it->customer_name;
            cells[3] = it->title;
            break;
        case 2:
        case 3:
            cells[0] = overdue_mark(it->days, mark, sizeof mark);
            cells[1] = tier_of(it->tier);
            cells[4] =
                date_of(v, k == 2 ? it->last_call_at_ms : it->last_visit_at_ms, when, sizeof when);
            snprintf(every, sizeof every, "%d days", it->cadence_days);
            cells[5] = every;
            break;
        case 4:
            cells[0] = overdue_mark(it->days, mark, sizeof mark);
            cells[1] = it->follow_up_on;
            cells[4] = it->summary;
            break;
        case 5:
            if (it->days < 0)
                snprintf(mark, sizeof mark, "expired %d day%s ago", -it->days,
                         it->days == -1 ? "" : "s");
            else if (it->days == 0)
                snprintf(mark, sizeof mark, "expires today");
            else
                snprintf(mark, sizeof mark, "in %d day%s", it->days, it->days == 1 ? "" : "s");
            cells[1] = it->expires_on;
            cells[4] = it->title;
            break;
        default:
            snprintf(mark, sizeof mark, "%d day%s left", it->days, it->days == 1 ? "" : "s");
            cells[1] = date_of(v, it->last_contact_at_ms, when, sizeof when);
            break;
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, 2, cli_term_width());
    cli_table_free(t);
    if (s->total > s->n_items)
        printf("  ... and %u%s more\n", (unsigned)(s->total - s->n_items), s->more ? "+" : "");
}

static void print_human(const Dangan__V1__TodayResponse *r)
{
    struct view v = {r->time_zone};

    for (size_t u = 0; u < r->n_lists; u++) {
        const Dangan__V1__TodayList *l = r->lists[u];

        printf("%s%s - today %s (%s)\n", u ? "\n" : "",
               l->user && l->user->username[0] ? l->user->username : "?", r->today, r->time_zone);
        for (size_t s = 0; s < l->n_sections; s++)
            print_section(&v, l->sections[s]);
    }
}

int cmd_today(cli *c)
{
    static const struct option opts[] = {{"team", no_argument, NULL, OPT_TEAM},
                                         {"owner", required_argument, NULL, OPT_OWNER},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__TodayRequest *m =
        (Dangan__V1__TodayRequest *)cli_msg_new(&dangan__v1__today_request__descriptor);
    dg_reply *reply = NULL;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_TODAY;
    req->today = m;
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_TEAM) {
            m->team = true;
        } else if (opt == OPT_OWNER) {
            cli_replace_str(&m->owner, optarg);
        } else if (opt == OPT_LIMIT) {
            char *end;
            long v = strtol(optarg, &end, 10);

            if (*end || end == optarg || v < 1 || v > LIMIT_MAX)
                rc = cli_usage(c, "bad --limit \"%s\": 1 to %d", optarg, LIMIT_MAX);
            m->limit = (uint32_t)v;
        } else if (opt == 'h') {
            rc = -1;
        } else {
            rc = cli_bad_option(c);
        }
    }
    if (rc == -1) {
        fputs(TODAY_HELP, stdout);
        rc = EXIT_OK;
    } else if (rc == EXIT_OK && optind != c->argc) {
        rc = cli_usage(c, "today takes no arguments besides its options");
    } else if (rc == EXIT_OK && m->team && m->owner[0]) {
        rc = cli_usage(c, "--team and --owner exclude each other");
    } else if (rc == EXIT_OK && (rc = cli_rec_call(c, req, &reply)) == EXIT_OK) {
        const Dangan__V1__TodayResponse *r = dg_reply_response(reply)->today;

        if (!r)
            rc = cli_fail(c, EXIT_SERVER, "INTERNAL", "protocol", "the server sent no list");
        else if (c->is_json)
            cli_print_json(cli_pb_to_json(&r->base));
        else
            print_human(r);
        dg_reply_free(reply);
    }
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}
