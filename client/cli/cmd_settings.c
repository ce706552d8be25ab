/* cmd_settings.c - dangan settings show|set: the team's settings (the time
 * zone every time is shown in, the tiers' cadence, the ABC shares, the
 * dormant and lost thresholds, the public pool's rules, reminder lead times,
 * the deal pipeline's stages). Anyone logged in reads them; admins set them,
 * KEY=VALUE at a time, based on the version just read (a concurrent change
 * is refused, exit 7). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"

static const char SHOW_HELP[] =
    "usage: dangan settings show [--json]\n"
    "\n"
    "The team's settings, one KEY VALUE per line as `settings set` takes them.\n"
    "--json prints the TeamSettings message (per-tier lists indexed [unused, A, B, C]).\n";

static const char SET_HELP[] =
    "usage: dangan settings set KEY=VALUE ...\n"
    "\n"
    "Changes the team's settings (admins). Keys:\n"
    "  time_zone=Asia/Shanghai       the zone every date, \"today\" and time is in\n"
    "  currency=CNY                  revenue and ABC count deals in it\n"
    "  call.a=7 call.b=7 call.c=14   call cadence per tier, days (0: none)\n"
    "  visit.a=60 visit.b=90 ...     visit cadence per tier, days (0: none)\n"
    "  shares=20/40/40               A/B/C shares of the ranked customers, percent (sum 100)\n"
    "  dormant_after_days=90         no interaction this long: dormant\n"
    "  lost_after_days=180           ... this long: suggested lost\n"
    "  pool.max_claims=20            pool customers one sales user may hold\n"
    "  pool.return_after_days=0      owner logged nothing this long: back to the pool (0: off)\n"
    "  remind.task_minutes=15        a task's reminder, minutes before it is due\n"
    "  remind.follow_up_at=09:00     a follow-up date's reminder, time of that day\n"
    "  remind.contract_days=30       a contract's reminder, days before it expires\n"
    "  stages=NAME:LABEL:PCT:KIND,... the pipeline in order; KIND open, won or lost\n"
    "                                (exactly one won, at least one lost)\n"
    "A change someone else made since this command read the settings is refused (exit 7).\n";

static const char *const keys[] = {"time_zone",
                                   "currency",
                                   "call.a",
                                   "call.b",
                                   "call.c",
                                   "visit.a",
                                   "visit.b",
                                   "visit.c",
                                   "shares",
                                   "dormant_after_days",
                                   "lost_after_days",
                                   "pool.max_claims",
                                   "pool.return_after_days",
                                   "remind.task_minutes",
                                   "remind.follow_up_at",
                                   "remind.contract_days",
                                   "stages"};
static const char *const kinds[] = {"open", "won", "lost"};

static int get_settings(cli *c, dg_reply **r)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetTeamSettingsRequest m = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
    req.get_team_settings = &m;
    return cli_rec_call(c, &req, r);
}

static int tier_at(const int32_t *v, size_t n, int i)
{
    return (size_t)i < n ? v[i] : 0;
}

static void print_settings(const Dangan__V1__TeamSettings *s)
{
    static const char *const tier[] = {"", "a", "b", "c"};
    char key[32], when[40];

    printf("%-24s %s\n", "time_zone", s->time_zone);
    printf("%-24s %s\n", "currency", s->currency);
    for (int i = 1; i <= 3; i++) {
        snprintf(key, sizeof key, "call.%s", tier[i]);
        printf("%-24s %d days\n", key, tier_at(s->call_every_days, s->n_call_every_days, i));
    }
    for (int i = 1; i <= 3; i++) {
        snprintf(key, sizeof key, "visit.%s", tier[i]);
        printf("%-24s %d days\n", key, tier_at(s->visit_every_days, s->n_visit_every_days, i));
    }
    printf("%-24s %d/%d/%d (A/B/C %%)\n", "shares",
           tier_at(s->tier_share_pct, s->n_tier_share_pct, 1),
           tier_at(s->tier_share_pct, s->n_tier_share_pct, 2),
           tier_at(s->tier_share_pct, s->n_tier_share_pct, 3));
    printf("%-24s %d days\n", "dormant_after_days", s->dormant_after_days);
    printf("%-24s %d days\n", "lost_after_days", s->lost_after_days);
    printf("%-24s %d\n", "pool.max_claims", s->pool_max_claims);
    if (s->pool_return_after_days)
        printf("%-24s %d days\n", "pool.return_after_days", s->pool_return_after_days);
    else
        printf("%-24s 0 (off)\n", "pool.return_after_days");
    printf("%-24s %d minutes\n", "remind.task_minutes", s->task_remind_before_minutes);
    printf("%-24s %02d:%02d\n", "remind.follow_up_at", s->follow_up_remind_minute / 60,
           s->follow_up_remind_minute % 60);
    printf("%-24s %d days\n", "remind.contract_days", s->contract_remind_before_days);
    printf("stages (NAME:LABEL:PCT:KIND)\n");
    for (size_t i = 0; i < s->n_stages; i++) {
        const Dangan__V1__PipelineStage *st = s->stages[i];

        printf("  %s:%s:%d:%s\n", st->name, st->label, st->probability,
               (unsigned)st->kind < 3 ? kinds[st->kind] : "?");
    }
    if (s->version)
        printf("version %lld, changed %s by %s\n", (long long)s->version,
               cli_time(s->updated_at_ms, when, sizeof when),
               s->updated_by && s->updated_by->username[0] ? s->updated_by->username : "?");
    else
        printf("version 0: the defaults, never changed\n");
}

static int settings_show(cli *c)
{
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        fputs(SHOW_HELP, stdout);
        return EXIT_OK;
    }
    if (c->argc != 1)
        return cli_usage(c, "settings show takes no arguments");
    if ((rc = get_settings(c, &r)) != EXIT_OK)
        return rc;
    if (c->is_json)
        cli_print_json(cli_pb_to_json(&dg_reply_response(r)->get_team_settings->settings->base));
    else
        print_settings(dg_reply_response(r)->get_team_settings->settings);
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ set */

/* What `settings set` sends: the settings read, with the assignments made.
 * Strings point into the reply or argv; the arrays are its own. */
struct edit {
    Dangan__V1__TeamSettings s;
    int32_t call[4], visit[4], share[4];
    Dangan__V1__PipelineStage stage[16], *stage_ptr[16];
    char stage_text[2048]; /* the stages= value, cut in place */
};

static bool int_value(const char *v, int lo, int hi, int32_t *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return false;
    *out = (int32_t)n;
    return true;
}

static int parse_stages(cli *c, struct edit *e, const char *v)
{
    char *save = NULL, *item;
    size_t n = 0;

    if (strlen(v) >= sizeof e->stage_text)
        return cli_usage(c, "stages: too long");
    snprintf(e->stage_text, sizeof e->stage_text, "%s", v);
    for (item = strtok_r(e->stage_text, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        Dangan__V1__PipelineStage *st = &e->stage[n];
        char *part[4] = {NULL, NULL, NULL, NULL}, *p = item;
        int np = 0;
        int32_t pct = 0;

        if (n >= DG_ARRAY_LEN(e->stage))
            return cli_usage(c, "stages: at most %zu", DG_ARRAY_LEN(e->stage));
        while (np < 4 && p) {
            part[np++] = p;
            if ((p = strchr(p, ':')))
                *p++ = '\0';
        }
        if (p || np < 3)
            return cli_usage(c, "stages: each is NAME:LABEL:PCT[:KIND], not \"%s\"", item);
        if (!int_value(part[2], 0, 100, &pct))
            return cli_usage(c, "stages: %s: a probability is 0 to 100, not \"%s\"", part[0],
                             part[2]);
        dangan__v1__pipeline_stage__init(st);
        st->name = part[0];
        st->label = part[1];
        st->probability = pct;
        st->kind = DANGAN__V1__STAGE_KIND__STAGE_KIND_OPEN;
        if (part[3]) {
            size_t k;

            for (k = 0; k < 3 && strcmp(part[3], kinds[k]) != 0; k++)
                ;
            if (k == 3)
                return cli_usage(c, "stages: %s: kind open, won or lost, not \"%s\"", part[0],
                                 part[3]);
            st->kind = (Dangan__V1__StageKind)k;
        }
        e->stage_ptr[n++] = st;
    }
    e->s.stages = e->stage_ptr;
    e->s.n_stages = n;
    return EXIT_OK;
}

static int assign(cli *c, struct edit *e, const char *arg)
{
    const char *eq = strchr(arg, '='), *v, *near;
    char key[64];
    int32_t *tier = NULL, n = 0;
    size_t klen;
    int h, m;

    if (!eq || eq == arg)
        return cli_usage(c, "settings set takes KEY=VALUE, not \"%s\"", arg);
    klen = (size_t)(eq - arg);
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, arg, klen);
    key[klen] = '\0';
    v = eq + 1;
    if (!strcmp(key, "time_zone")) {
        e->s.time_zone = (char *)v;
    } else if (!strcmp(key, "currency")) {
        e->s.currency = (char *)v;
    } else if (!strncmp(key, "call.", 5) || !strncmp(key, "visit.", 6)) {
        const char *t = strchr(key, '.') + 1;

        tier = key[0] == 'c' ? e->call : e->visit;
        if (strlen(t) != 1 || t[0] < 'a' || t[0] > 'c')
            goto unknown;
        if (!int_value(v, 0, 100000, &n))
            return cli_usage(c, "%s: a number of days, not \"%s\"", key, v);
        tier[t[0] - 'a' + 1] = n;
    } else if (!strcmp(key, "shares")) {
        if (sscanf(v, "%d/%d/%d%n", &e->share[1], &e->share[2], &e->share[3], &h) != 3 ||
            v[h] != '\0')
            return cli_usage(c, "shares: A/B/C percentages such as 20/40/40, not \"%s\"", v);
    } else if (!strcmp(key, "remind.follow_up_at")) {
        if (sscanf(v, "%2d:%2d%n", &h, &m, &n) != 2 || v[n] || h < 0 || h > 23 || m < 0 || m > 59)
            return cli_usage(c, "remind.follow_up_at: a time of day HH:MM, not \"%s\"", v);
        e->s.follow_up_remind_minute = h * 60 + m;
    } else if (!strcmp(key, "stages")) {
        return parse_stages(c, e, v);
    } else {
        static const struct {
            const char *key;
            size_t off;
        } ints[] = {
            {"dormant_after_days", offsetof(Dangan__V1__TeamSettings, dormant_after_days)},
            {"lost_after_days", offsetof(Dangan__V1__TeamSettings, lost_after_days)},
            {"pool.max_claims", offsetof(Dangan__V1__TeamSettings, pool_max_claims)},
            {"pool.return_after_days", offsetof(Dangan__V1__TeamSettings, pool_return_after_days)},
            {"remind.task_minutes", offsetof(Dangan__V1__TeamSettings, task_remind_before_minutes)},
            {"remind.contract_days",
             offsetof(Dangan__V1__TeamSettings, contract_remind_before_days)},
        };

        for (size_t i = 0; i < DG_ARRAY_LEN(ints); i++) {
            if (strcmp(key, ints[i].key) != 0)
                continue;
            if (!int_value(v, -1000000, 1000000, &n))
                return cli_usage(c, "%s: a whole number, not \"%s\"", key, v);
            *(int32_t *)((char *)&e->s + ints[i].off) = n;
            return EXIT_OK;
        }
        goto unknown;
    }
    return EXIT_OK;
unknown:
    near = cli_suggest(key, keys, DG_ARRAY_LEN(keys));
    if (near)
        return cli_usage(c, "unknown setting \"%s\"; did you mean %s?", key, near);
    return cli_usage(c, "unknown setting \"%s\" (dangan settings set --help lists them)", key);
}

static void copy_tiers(int32_t out[4], const int32_t *v, size_t n)
{
    for (int i = 0; i < 4; i++)
        out[i] = tier_at(v, n, i);
}

static int settings_set(cli *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SetTeamSettingsRequest m = DANGAN__V1__SET_TEAM_SETTINGS_REQUEST__INIT;
    const Dangan__V1__TeamSettings *cur;
    struct edit *e;
    dg_reply *r, *done;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        fputs(SET_HELP, stdout);
        return EXIT_OK;
    }
    if (c->argc < 2)
        return cli_usage(c, "settings set takes KEY=VALUE ...");
    if ((rc = get_settings(c, &r)) != EXIT_OK)
        return rc;
    cur = dg_reply_response(r)->get_team_settings->settings;
    e = calloc(1, sizeof *e);
    if (!e) {
        dg_reply_free(r);
        return cli_fail(c, EXIT_SERVER, "INTERNAL", "out_of_memory", "out of memory");
    }
    e->s = *cur; /* shallow: strings and stages stay the reply's until assigned */
    copy_tiers(e->call, cur->call_every_days, cur->n_call_every_days);
    copy_tiers(e->visit, cur->visit_every_days, cur->n_visit_every_days);
    copy_tiers(e->share, cur->tier_share_pct, cur->n_tier_share_pct);
    e->s.call_every_days = e->call;
    e->s.visit_every_days = e->visit;
    e->s.tier_share_pct = e->share;
    e->s.n_call_every_days = e->s.n_visit_every_days = e->s.n_tier_share_pct = 4;
    e->s.updated_by = NULL;
    for (int i = 1; i < c->argc && rc == EXIT_OK; i++)
        rc = assign(c, e, c->argv[i]);
    if (rc == EXIT_OK) {
        m.settings = &e->s;
        req.body_case = DANGAN__V1__REQUEST__BODY_SET_TEAM_SETTINGS;
        req.set_team_settings = &m;
        rc = cli_rec_call(c, &req, &done);
    }
    if (rc == EXIT_OK) {
        const Dangan__V1__TeamSettings *s = dg_reply_response(done)->set_team_settings->settings;

        if (c->is_json)
            cli_print_json(cli_pb_to_json(&s->base));
        else
            printf("team settings saved (version %lld)\n", (long long)s->version);
        dg_reply_free(done);
    }
    free(e);
    dg_reply_free(r);
    return rc;
}

int cmd_settings(cli *c)
{
    static const cli_sub subs[] = {
        {"show", settings_show, "show [--json]"},
        {"set", settings_set, "set KEY=VALUE ..."},
    };

    return cli_subcommand(c, "settings", subs, DG_ARRAY_LEN(subs),
                          "The team's settings: time zone, cadence, shares, thresholds, pool, "
                          "reminders, stages.\n");
}
