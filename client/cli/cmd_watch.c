/* cmd_watch.c - `dangan watch`: colleagues' changes as they happen.
 *
 * Subscribes with the filters given and prints each change (a line for
 * people, or one JSON object per line with --json). The cursor of the last
 * event is saved in the config directory after every event, so a watch
 * started again without --since resumes where the last one stopped, and a
 * dropped connection is re-opened and resumed from it:
 * nothing is missed, nothing repeats (libdangan re-opens the connection and
 * resumes the subscription). Runs until interrupted, or with --once until it
 * is up to date.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "rec.h"
#include "watch_remind.h"

#define MAX_CUSTOMERS 100
#define RETRY_MS 200 /* while the connection is down; libdangan retries once a second */

enum { OPT_CUSTOMER = 256, OPT_MINE, OPT_ENTITY, OPT_SINCE, OPT_ONCE, OPT_RECORDS };

struct watch {
    cli *c;
    uint64_t epoch;
    int64_t seq;       /* the saved cursor; -1: none yet */
    bool is_resync;    /* the server asked for a reload */
    uint64_t probe_id; /* learn_epoch's short subscription: its events are not shown */
    bool is_probing;   /* learn_epoch runs: its events may come before its id */
    uint64_t sub_id;   /* the subscription libdangan keeps for us */
    bool is_caught_up; /* CaughtUp came: with --once, time to go */
    bool is_once;      /* --once: what changed since the cursor, then exit */
    bool with_records; /* --records: each change comes with the record */
    char cursor_path[1400];
};

static const char WATCH_HELP[] =
    "usage: dangan watch [--customer REF]... [--mine] [--entity KIND,...] [--since SEQ|now]\n"
    "                    [--once] [--records]\n"
    "\n"
    "Prints colleagues' changes as they happen, until interrupted; --json prints one\n"
    "JSON object per line. It remembers where it stopped (in the config directory)\n"
    "and resumes from there next time, and when the connection drops.\n"
    "  --customer REF   only these customers' dossiers (repeatable)\n"
    "  --mine           only customers you own\n"
    "  --entity KINDS   only these kinds: customer,contact,interaction,deal,feedback,task,\n"
    "                   document\n"
    "  --since SEQ|now  start after change SEQ, or with new changes only\n"
    "  --once           print what changed since the saved position, then exit\n"
    "                   (for scripts; the position is saved as with a watch)\n"
    "  --records        with --json: each change carries the record as it is now\n"
    "                   (\"record\"), masked as customer show would show it\n";

/* ------------------------------------------------------------ the cursor file */

static void cursor_path(struct watch *w)
{
    char name[300];

    snprintf(name, sizeof name, "%s", w->c->server);
    for (char *p = name; *p; p++)
        if (*p == ':' || *p == '/' || *p == '[' || *p == ']')
            *p = '_';
    snprintf(w->cursor_path, sizeof w->cursor_path, "%s/watch-%s.cursor", w->c->config_dir, name);
}

static void cursor_load(struct watch *w)
{
    FILE *f = fopen(w->cursor_path, "r");
    unsigned long long epoch, seq;

    w->seq = -1;
    if (f && fscanf(f, "%llu %llu", &epoch, &seq) == 2) {
        w->epoch = epoch;
        w->seq = (int64_t)seq;
    }
    if (f)
        fclose(f);
}

static void cursor_save(struct watch *w)
{
    char tmp[1500];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", w->cursor_path);
    if (!(f = fopen(tmp, "w")))
        return;
    fprintf(f, "%llu %lld\n", (unsigned long long)w->epoch, (long long)w->seq);
    if (fclose(f) == 0)
        rename(tmp, w->cursor_path); /* whole or not at all */
}

/* ------------------------------------------------------------ events */

static void print_change(struct watch *w, const Dangan__V1__Event *ev)
{
    char kind[32];
    const char *name;

    if (ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE) {
        const Dangan__V1__ChangeEvent *ch = ev->change;

        name = cli_enum_name(&dangan__v1__entity_kind__descriptor, ch->kind, kind, sizeof kind);
        if (w->c->is_json) {
            json_t *fields = json_array();

            for (size_t i = 0; i < ch->n_fields; i++)
                json_array_append_new(fields, json_string(ch->fields[i]));
            json_t *o =
                json_pack("{s:I,s:s,s:I,s:I,s:s,s:I,s:s,s:o,s:I}", "seq",
                          (json_int_t)ev->cursor->seq, "entity", name, "id", (json_int_t)ch->id,
                          "customer_id", (json_int_t)ch->customer_id, "op", ch->op, "version",
                          (json_int_t)ch->version, "actor", ch->actor ? ch->actor->username : "",
                          "fields", fields, "at_ms", (json_int_t)ch->at_ms);
            char *line;

            if (o) {
                json_t *values = json_array();

                for (size_t i = 0; i < ch->n_values; i++) {
                    const Dangan__V1__ChangedValue *v = ch->values[i];

                    json_array_append_new(
                        values, json_pack("{s:s,s:s,s:s,s:b,s:b}", "field", v->field, "old_value",
                                          v->old_value, "new_value", v->new_value, "masked",
                                          v->masked, "old_withheld", v->old_withheld));
                }
                json_object_set_new(o, "values", values);
                json_object_set_new(o, "actor_name", json_string(ch->actor_name));
                json_object_set_new(o, "customer_name", json_string(ch->customer_name));
                json_object_set_new(o, "customer_code", json_string(ch->customer_code));
            }
            if (o && ch->committed_at_us)
                json_object_set_new(o, "committed_at_us", json_integer(ch->committed_at_us));
            if (o && ch->record)
                json_object_set_new(o, "record", cli_pb_to_json(&ch->record->base));
            line = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

            if (line)
                printf("%s\n", line);
            free(line);
            json_decref(o);
        } else {
            cli_watch_say(w->c, stdout, ch);
        }
    } else { /* hidden */
        name = cli_enum_name(&dangan__v1__entity_kind__descriptor, ev->hidden->kind, kind,
                             sizeof kind);
        if (w->c->is_json)
            printf("{\"entity\":\"%s\",\"id\":%lld,\"op\":\"hidden\",\"seq\":%llu}\n", name,
                   (long long)ev->hidden->id, (unsigned long long)ev->cursor->seq);
        else
            printf("%s #%lld is no longer visible to you\n", name, (long long)ev->hidden->id);
    }
}

static void on_event(dg_client *client, const Dangan__V1__Event *ev, void *user)
{
    struct watch *w = user;

    (void)client;
    /* The probe's CaughtUp comes right behind its answer, often in the same
     * read, before its id is known here: it would move the cursor to the
     * head and skip what --since asked for. */
    if (w->is_probing || (w->probe_id && ev->subscription_id == w->probe_id))
        return;
    switch (ev->body_case) {
    case DANGAN__V1__EVENT__BODY_CHANGE:
    case DANGAN__V1__EVENT__BODY_HIDDEN:
        print_change(w, ev);
        break;
    case DANGAN__V1__EVENT__BODY_REMINDER:
        cli_watch_print_reminder(w->c, ev);
        break;
    case DANGAN__V1__EVENT__BODY_CAUGHT_UP:
        w->is_caught_up = true;
        if (!w->c->is_json && !w->is_once)
            fprintf(stderr, "dangan watch: up to date; waiting for changes\n");
        break;
    case DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED:
        w->is_resync = true;
        fprintf(stderr,
                "dangan watch: the server cannot resume from change %llu (%s); starting from "
                "now - reload what you show\n",
                (unsigned long long)ev->resync_required->stale_seq, ev->resync_required->reason);
        return; /* the cursor is not a position to keep */
    default:
        break;
    }
    fflush(stdout);
    if (ev->cursor) {
        w->epoch = ev->cursor->epoch;
        w->seq = (int64_t)ev->cursor->seq;
        cursor_save(w);
    }
}

/* ------------------------------------------------------------ the loop */

/* The server's current epoch, for a --since SEQ without a saved cursor: a
 * subscription from now tells it, and goes again at once. */
static int learn_epoch(struct watch *w)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__UnsubscribeRequest u = DANGAN__V1__UNSUBSCRIBE_REQUEST__INIT;
    dg_reply *r;
    uint64_t epoch;
    int rc;

    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    w->is_probing = true;
    rc = cli_rec_call(w->c, &req, &r);
    w->is_probing = false;
    if (rc != EXIT_OK)
        return rc;
    epoch = dg_reply_response(r)->subscribe->head->epoch;
    u.subscription_id = w->probe_id = dg_reply_response(r)->subscribe->subscription_id;
    dg_reply_free(r);
    req.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
    req.unsubscribe = &u;
    if ((rc = cli_rec_call(w->c, &req, &r)) == EXIT_OK)
        dg_reply_free(r);
    w->epoch = epoch;
    return rc;
}

/* Subscribes from the saved cursor (or from now, after a resync). libdangan
 * keeps the subscription: a dropped connection is re-opened by
 * dg_client_poll and the subscription resumes after its last event.
 * EXIT_OK or an exit code. */
static int subscribe(struct watch *w, const Dangan__V1__SubscribeFilter *filter)
{
    Dangan__V1__Cursor since = DANGAN__V1__CURSOR__INIT;
    bool from_cursor = w->seq >= 0 && !w->is_resync;
    int rc;

    if (from_cursor && w->epoch == 0 && (rc = learn_epoch(w)) != EXIT_OK)
        return rc;
    if (w->sub_id) /* ended by the server (a resync): forget it here too */
        (void)dg_client_unsubscribe(w->c->client, w->sub_id);
    since.epoch = w->epoch;
    since.seq = (uint64_t)w->seq;
    w->is_resync = false;
    rc = dg_client_subscribe(w->c->client, filter, from_cursor ? &since : NULL, w->with_records,
                             &w->sub_id);
    return rc == DG_OK ? EXIT_OK : cli_fail_call(w->c, rc);
}

static int parse_kinds(cli *c, const char *list, Dangan__V1__SubscribeFilter *f)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        char name[32], choices[128];
        int v;

        snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), p);
        v = cli_enum_parse(&dangan__v1__entity_kind__descriptor, name);
        if (v <= 0)
            return cli_usage(
                c, "bad --entity \"%s\" (%s)", name,
                cli_enum_choices(&dangan__v1__entity_kind__descriptor, choices, sizeof choices));
        f->kinds = dg_xrealloc(f->kinds, (f->n_kinds + 1) * sizeof *f->kinds);
        f->kinds[f->n_kinds++] = (Dangan__V1__EntityKind)v;
        p += n + (p[n] == ',');
    }
    return EXIT_OK;
}

int cmd_watch(cli *c)
{
    static const struct option opts[] = {{"customer", required_argument, NULL, OPT_CUSTOMER},
                                         {"mine", no_argument, NULL, OPT_MINE},
                                         {"entity", required_argument, NULL, OPT_ENTITY},
                                         {"since", required_argument, NULL, OPT_SINCE},
                                         {"once", no_argument, NULL, OPT_ONCE},
                                         {"records", no_argument, NULL, OPT_RECORDS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__SubscribeFilter f = DANGAN__V1__SUBSCRIBE_FILTER__INIT;
    static struct watch w; /* the event callback keeps a pointer to it */
    const char *refs[MAX_CUSTOMERS], *since = NULL;
    size_t n_refs = 0;
    bool is_down = false;
    int opt, rc = EXIT_OK;

    memset(&w, 0, sizeof w);
    w.c = c;
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_CUSTOMER && n_refs < MAX_CUSTOMERS)
            refs[n_refs++] = optarg;
        else if (opt == OPT_CUSTOMER)
            rc = cli_usage(c, "at most %d --customer", MAX_CUSTOMERS);
        else if (opt == OPT_MINE)
            f.mine = true;
        else if (opt == OPT_ENTITY)
            rc = parse_kinds(c, optarg, &f);
        else if (opt == OPT_SINCE)
            since = optarg;
        else if (opt == OPT_ONCE)
            w.is_once = true;
        else if (opt == OPT_RECORDS)
            w.with_records = true;
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        free(f.kinds);
        fputs(WATCH_HELP, stdout);
        return EXIT_OK;
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "watch takes no arguments besides its options");
    c->on_event = on_event;
    c->event_user = &w;
    if (rc == EXIT_OK)
        rc = cli_session(c);
    if (rc == EXIT_OK) {
        cursor_path(&w);
        cursor_load(&w);
        if (since && strcmp(since, "now") == 0) {
            w.seq = -1;
        } else if (since) {
            char *end;
            long long v = strtoll(since, &end, 10);

            if (*end || v < 0)
                rc = cli_usage(c, "bad --since \"%s\": a change number, or now", since);
            w.seq = v; /* the epoch is the saved one; a mismatch asks for a resync */
        }
    }
    f.customer_ids = n_refs ? dg_xcalloc(n_refs, sizeof *f.customer_ids) : NULL;
    for (size_t i = 0; rc == EXIT_OK && i < n_refs; i++)
        rc = cli_customer_id(c, refs[i], &f.customer_ids[f.n_customer_ids++]);
    if (rc == EXIT_OK)
        rc = subscribe(&w, &f);
    while (rc == EXIT_OK && !(w.is_once && w.is_caught_up)) {
        if (w.is_resync) {
            rc = subscribe(&w, &f); /* from now on */
        } else if (dg_client_poll(c->client, 1000) == DG_ECLOSED) {
            /* libdangan re-opens the connection on a later poll and resumes */
            if (!is_down)
                fprintf(stderr, "dangan watch: connection lost; reconnecting\n");
            is_down = true;
            usleep(RETRY_MS * 1000);
        } else if (is_down) {
            fprintf(stderr, "dangan watch: reconnected\n");
            is_down = false;
        }
    }
    free(f.customer_ids);
    free(f.kinds);
    return rc;
}
