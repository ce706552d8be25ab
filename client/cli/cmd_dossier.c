/* cmd_dossier.c - the rest of a customer's dossier: `dangan contact`, `note`
 * (interactions), `deal`, `feedback` and `task`. Each child record belongs to one customer, named
 * by the CUSTOMER argument (an id or a code); afterwards records are named by id. `dangan field`
 * (custom fields) is in cmd_field.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

#define LIST_MAX 1000

enum {
    OPT_SET = 256,
    OPT_NAME,
    OPT_CHANNEL,
    OPT_SUMMARY,
    OPT_AT,
    OPT_FOLLOW_UP,
    OPT_AMOUNT,
    OPT_CURRENCY,
    OPT_KIND,
    OPT_SCORE,
    OPT_TEXT,
    OPT_DUE,
    OPT_TITLE,
    OPT_ASSIGNEE,
    OPT_SORT,
    OPT_LIMIT,
    OPT_CURSOR,
    OPT_ALL,
    OPT_ARCHIVED,
    OPT_OPEN,
    OPT_MINE,
    OPT_DUE_BEFORE,
    OPT_INCLUDE_DONE,
    OPT_STAGE,
    OPT_PROBABILITY,
    OPT_EXPECTED_CLOSE,
    OPT_REASON,
};

static const cli_kind *kind_of(Dangan__V1__EntityKind k)
{
    return cli_kind_get(k);
}

#define K_CONTACT kind_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT)
#define K_NOTE kind_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION)
#define K_DEAL kind_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL)
#define K_FEEDBACK kind_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK)
#define K_TASK kind_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK)

static int help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

/* ------------------------------------------------------------ add, for every kind */

/* The flags of one `KIND add`: each named flag sets one field of the record. */
struct flag_field {
    int opt;
    const char *field;
    const char *flag; /* for messages: "--name" */
    bool is_required;
};

struct add_spec {
    const cli_kind *(*kind)(void);
    const char *help;
    const struct option *opts;
    const struct flag_field *flags;
    size_t n_flags;
};

/* --amount DECIMAL with --currency: the deal's Money. */
static int set_amount(cli *c, ProtobufCMessage *body, const char *amount, const char *currency)
{
    Dangan__V1__Deal *d = (Dangan__V1__Deal *)body;
    char why[128], cur[4];
    int64_t minor;

    if (cli_parse_money(amount, currency, &minor, cur, why, sizeof why) != DG_OK)
        return cli_usage(c, "bad value for --amount: \"%s\" (%s)", amount, why);
    if (d->amount)
        dangan__v1__money__free_unpacked(d->amount, NULL);
    d->amount = (Dangan__V1__Money *)cli_msg_new(&dangan__v1__money__descriptor);
    d->amount->amount_minor = minor;
    d->amount->currency = dg_xstrdup(cur);
    return EXIT_OK;
}

/* Values of the named flags, by index into spec->flags. */
struct add_args {
    const char *value[8];
    const char *amount, *currency;
    cli_edits edits;
};

static int check_flag_value(cli *c, const struct flag_field *f, const char *value)
{
    int64_t ms;
    char *end;
    long v;

    if ((strcmp(f->field, "next_follow_up") == 0 || strcmp(f->field, "expected_close_on") == 0) &&
        value[0] && !cli_date_valid(value))
        return cli_usage(c, "bad value for %s: \"%s\" (a date like 2026-11-22)", f->flag, value);
    if (strstr(f->field, "_ms") && value[0] && cli_parse_time(value, &ms) != DG_OK)
        return cli_usage(c,
                         "bad value for %s: \"%s\" (a date like 2026-11-22, or a time like "
                         "2026-11-22T09:30, local unless a zone like +08:00 or Z follows)",
                         f->flag, value);
    if (strcmp(f->field, "satisfaction") == 0) {
        v = strtol(value, &end, 10);
        if (*end || v < 1 || v > 5)
            return cli_usage(c, "--score must be 1 to 5, got \"%s\"", value);
    }
    return EXIT_OK;
}

/* Builds the record from the flags and --set items; nothing is sent. */
static int build_child(cli *c, const struct add_spec *spec, struct add_args *a,
                       Dangan__V1__Record **out)
{
    const cli_kind *k = spec->kind();
    ProtobufCMessage *body;
    Dangan__V1__Record *rec = cli_record_new(k, &body);
    int rc = EXIT_OK;

    for (size_t i = 0; rc == EXIT_OK && i < spec->n_flags; i++) {
        if (a->value[i] && (rc = check_flag_value(c, &spec->flags[i], a->value[i])) == EXIT_OK)
            rc = cli_field_set(c, k, body, spec->flags[i].field, a->value[i]);
    }
    if (rc == EXIT_OK && a->amount)
        rc = set_amount(c, body, a->amount, a->currency);
    else if (rc == EXIT_OK && a->currency)
        rc = cli_usage(c, "--currency goes with --amount");
    if (rc == EXIT_OK)
        rc = cli_edits_apply(c, k, body, &a->edits, NULL, NULL);
    for (size_t i = 0; rc == EXIT_OK && i < spec->n_flags; i++) {
        char value[64];

        if (spec->flags[i].is_required &&
            !cli_field_text(body, spec->flags[i].field, value, sizeof value))
            rc = cli_usage(c, "%s add: %s is required", k->name, spec->flags[i].flag);
    }
    if (rc == EXIT_OK && k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL &&
        !((Dangan__V1__Deal *)body)->amount)
        rc = cli_usage(c, "deal add: --amount DECIMAL is required");
    if (rc != EXIT_OK) {
        dangan__v1__record__free_unpacked(rec, NULL);
        return rc;
    }
    *out = rec;
    return EXIT_OK;
}

static int child_add(cli *c, const struct add_spec *spec)
{
    struct add_args a;
    Dangan__V1__Record *rec = NULL;
    const char *customer;
    int64_t customer_id;
    int opt, rc = EXIT_OK;

    memset(&a, 0, sizeof a);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", spec->opts, NULL)) != -1) {
        size_t i;

        for (i = 0; i < spec->n_flags && spec->flags[i].opt != opt; i++)
            ;
        if (i < spec->n_flags)
            a.value[i] = optarg;
        else if (opt == OPT_SET)
            cli_edits_add(&a.edits, optarg, false);
        else if (opt == OPT_AMOUNT)
            a.amount = optarg;
        else if (opt == OPT_CURRENCY)
            a.currency = optarg;
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        cli_edits_fini(&a.edits);
        return help(spec->help);
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "%s add takes one CUSTOMER (an id or a code like C-000123)",
                       spec->kind()->name);
    customer = rc == EXIT_OK ? c->argv[optind] : NULL;
    if (rc == EXIT_OK)
        rc = build_child(c, spec, &a, &rec);
    cli_edits_fini(&a.edits);
    if (rc == EXIT_OK && (rc = cli_customer_id(c, customer, &customer_id)) != EXIT_OK)
        dangan__v1__record__free_unpacked(rec, NULL);
    if (rc != EXIT_OK)
        return rc;
    cli_msg_set_i64((ProtobufCMessage *)cli_record_body(rec), "customer_id", customer_id);
    return cli_op_create(c, spec->kind(), rec, false, customer);
}

/* ------------------------------------------------------------ list, for every kind */

struct list_spec {
    const cli_kind *(*kind)(void);
    const char *help;
    const char *sort; /* default order */
    bool is_customer_optional;
    bool has_open;  /* --open */
    bool has_tasks; /* --mine, --due-before, --include-done */
};

static int list_flag(cli *c, const struct list_spec *spec, int opt, Dangan__V1__ListRequest *l,
                     bool *is_all, bool *is_mine)
{
    Dangan__V1__ListFilter *f = l->filter;
    int64_t ms;

    switch (opt) {
    case OPT_SORT:
        if (cli_check_sort(c, spec->kind(), optarg) != EXIT_OK)
            return EXIT_USAGE;
        cli_replace_str(&l->sort, optarg);
        return EXIT_OK;
    case OPT_LIMIT:
        return cli_parse_count(c, "--limit", optarg, LIST_MAX, &l->limit);
    case OPT_CURSOR:
        cli_replace_str(&l->cursor, optarg);
        return EXIT_OK;
    case OPT_ALL:
        *is_all = true;
        return EXIT_OK;
    case OPT_ARCHIVED:
        f->include_archived = true;
        return EXIT_OK;
    case OPT_OPEN:
        if (!spec->has_open)
            break;
        f->open_only = true;
        return EXIT_OK;
    case OPT_MINE:
        if (!spec->has_tasks)
            break;
        *is_mine = true;
        return EXIT_OK;
    case OPT_INCLUDE_DONE:
        if (!spec->has_tasks)
            break;
        f->open_only = false;
        return EXIT_OK;
    case OPT_DUE_BEFORE:
        if (!spec->has_tasks)
            break;
        if (cli_parse_time(optarg, &ms) != DG_OK)
            return cli_usage(c, "bad value for --due-before: \"%s\" (a date like 2026-11-22)",
                             optarg);
        f->due_before_ms = ms;
        return EXIT_OK;
    default:
        break;
    }
    return cli_bad_option(c);
}

static int child_list(cli *c, const struct list_spec *spec)
{
    static const struct option opts[] = {{"sort", required_argument, NULL, OPT_SORT},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"cursor", required_argument, NULL, OPT_CURSOR},
                                         {"all", no_argument, NULL, OPT_ALL},
                                         {"archived", no_argument, NULL, OPT_ARCHIVED},
                                         {"open", no_argument, NULL, OPT_OPEN},
                                         {"mine", no_argument, NULL, OPT_MINE},
                                         {"due-before", required_argument, NULL, OPT_DUE_BEFORE},
                                         {"include-done", no_argument, NULL, OPT_INCLUDE_DONE},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ListRequest *l =
        (Dangan__V1__ListRequest *)cli_msg_new(&dangan__v1__list_request__descriptor);
    bool is_all = false, is_mine = false, has_customer;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req->list = l;
    l->kind = spec->kind()->kind;
    l->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    l->filter->open_only = spec->has_tasks; /* tasks: open ones unless --include-done */
    cli_replace_str(&l->sort, spec->sort);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            dangan__v1__request__free_unpacked(req, NULL);
            return help(spec->help);
        }
        rc = list_flag(c, spec, opt, l, &is_all, &is_mine);
    }
    has_customer = optind == c->argc - 1;
    if (rc == EXIT_OK && !(has_customer || (spec->is_customer_optional && optind == c->argc)))
        rc = cli_usage(c, "%s list takes %sone CUSTOMER (an id or a code like C-000123)",
                       spec->kind()->name, spec->is_customer_optional ? "at most " : "");
    if (rc == EXIT_OK && has_customer)
        rc = cli_customer_id(c, c->argv[optind], &l->filter->customer_id);
    if (rc == EXIT_OK && is_mine)
        rc = cli_my_user_id(c, &l->filter->assignee_id);
    if (rc == EXIT_OK)
        rc = cli_print_list(c, req, is_all, !has_customer);
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

#define LIST_FLAGS_HELP                                                                            \
    "  --sort KEY      created, updated; notes, deals, feedback: at; tasks: due; -KEY reverses\n"  \
    "  --limit N       rows per page (default 50); --cursor C continues; --all: every page\n"      \
    "  --archived      include archived records\n"

/* ------------------------------------------------------------ contact */

static const cli_kind *contact_kind(void)
{
    return K_CONTACT;
}

static const struct option contact_add_opts[] = {{"name", required_argument, NULL, OPT_NAME},
                                                 {"set", required_argument, NULL, OPT_SET},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {NULL, 0, NULL, 0}};
static const struct flag_field contact_add_flags[] = {{OPT_NAME, "name", "--name", true}};
static const struct add_spec contact_add_spec = {
    contact_kind,
    "usage: dangan contact add CUSTOMER --name NAME [--set FIELD=VALUE]...\n"
    "\n"
    "Adds a person to a customer's dossier.\n"
    "  --set FIELD=VALUE  role (legal_person, key_person, main_contact, other), title,\n"
    "                     mobile, office_phone, email, im, birthday=1980-02-29, notes...\n",
    contact_add_opts, contact_add_flags, DG_ARRAY_LEN(contact_add_flags)};

static int contact_add(cli *c)
{
    return child_add(c, &contact_add_spec);
}

static int contact_edit(cli *c)
{
    return cli_cmd_edit(c, K_CONTACT,
                        "usage: dangan contact edit ID --set FIELD=VALUE... [--unset FIELD]... "
                        "[--version N]\n\nChanges the named fields of a contact (see `dangan "
                        "customer edit --help`).\n",
                        NULL);
}

static int contact_rm(cli *c)
{
    return cli_cmd_archive(c, K_CONTACT, true,
                           "usage: dangan contact rm ID\n\nRemoves a contact from the dossier "
                           "(archived: `dangan contact restore ID` brings it back).\n",
                           "Removed");
}

static int contact_restore(cli *c)
{
    return cli_cmd_archive(c, K_CONTACT, false,
                           "usage: dangan contact restore ID\n\nBrings a removed contact back.\n",
                           "Restored");
}

static int contact_list(cli *c)
{
    static const struct list_spec spec = {contact_kind,
                                          "usage: dangan contact list CUSTOMER [--sort F] "
                                          "[--limit N] [--all] [--archived]\n\nThe people of a "
                                          "customer.\n" LIST_FLAGS_HELP,
                                          "created",
                                          false,
                                          false,
                                          false};

    return child_list(c, &spec);
}

int cmd_contact(cli *c)
{
    static const cli_sub subs[] = {
        {"add", contact_add, "add CUSTOMER --name NAME [--set FIELD=VALUE]..."},
        {"edit", contact_edit, "edit ID --set FIELD=VALUE... [--unset FIELD]... [--version N]"},
        {"rm", contact_rm, "rm ID"},
        {"restore", contact_restore, "restore ID"},
        {"list", contact_list, "list CUSTOMER"},
    };

    return cli_subcommand(c, "contact", subs, DG_ARRAY_LEN(subs),
                          "The people of a customer. CUSTOMER is an id or a code (C-000123).\n");
}

/* ------------------------------------------------------------ note */

static const cli_kind *note_kind(void)
{
    return K_NOTE;
}

static const struct option note_add_opts[] = {
    {"channel", required_argument, NULL, OPT_CHANNEL},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"at", required_argument, NULL, OPT_AT},
    {"next-follow-up", required_argument, NULL, OPT_FOLLOW_UP},
    {"set", required_argument, NULL, OPT_SET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const struct flag_field note_add_flags[] = {
    {OPT_CHANNEL, "channel", "--channel", true},
    {OPT_SUMMARY, "summary", "--summary", true},
    {OPT_AT, "at_ms", "--at", false},
    {OPT_FOLLOW_UP, "next_follow_up", "--next-follow-up", false}};
static const struct add_spec note_add_spec = {
    note_kind,
    "usage: dangan note add CUSTOMER --channel phone|email|meeting|visit|im|other\n"
    "                       --summary TEXT [--at TIME] [--next-follow-up DATE]\n"
    "                       [--set FIELD=VALUE]...\n"
    "\n"
    "Logs a call, visit, meeting or message with a customer.\n"
    "  --at TIME              when it happened (default now): 2026-11-22T09:30,\n"
    "                         local time unless a zone is given (Z, +08:00)\n"
    "  --next-follow-up DATE  when to follow up, e.g. 2026-12-01\n"
    "  --set FIELD=VALUE      place, participants, content, contact_id\n",
    note_add_opts, note_add_flags, DG_ARRAY_LEN(note_add_flags)};

static int note_add(cli *c)
{
    return child_add(c, &note_add_spec);
}

static int note_list(cli *c)
{
    static const struct list_spec spec = {note_kind,
                                          "usage: dangan note list CUSTOMER [--sort F] "
                                          "[--limit N] [--all] [--archived]\n\nA customer's "
                                          "interactions, latest first.\n" LIST_FLAGS_HELP,
                                          "-at",
                                          false,
                                          false,
                                          false};

    return child_list(c, &spec);
}

static int note_edit(cli *c)
{
    return cli_cmd_edit(c, K_NOTE,
                        "usage: dangan note edit ID --set FIELD=VALUE... [--unset FIELD]... "
                        "[--version N]\n",
                        NULL);
}

static int note_rm(cli *c)
{
    return cli_cmd_archive(c, K_NOTE, true, "usage: dangan note rm ID\n\nArchives a note.\n",
                           "Removed");
}

int cmd_note(cli *c)
{
    static const cli_sub subs[] = {
        {"add", note_add,
         "add CUSTOMER --channel C --summary TEXT [--at TIME] [--next-follow-up DATE]"},
        {"list", note_list, "list CUSTOMER"},
        {"edit", note_edit, "edit ID --set FIELD=VALUE... [--version N]"},
        {"rm", note_rm, "rm ID"},
    };

    return cli_subcommand(c, "note", subs, DG_ARRAY_LEN(subs),
                          "The communication log: calls, visits, meetings, messages.\n");
}

/* ------------------------------------------------------------ deal */

static const cli_kind *deal_kind(void)
{
    return K_DEAL;
}

static const struct option deal_add_opts[] = {
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"currency", required_argument, NULL, OPT_CURRENCY},
    {"at", required_argument, NULL, OPT_AT},
    {"stage", required_argument, NULL, OPT_STAGE},
    {"probability", required_argument, NULL, OPT_PROBABILITY},
    {"expected-close", required_argument, NULL, OPT_EXPECTED_CLOSE},
    {"reason", required_argument, NULL, OPT_REASON},
    {"set", required_argument, NULL, OPT_SET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const struct flag_field deal_add_flags[] = {
    {OPT_AT, "at_ms", "--at", false},
    {OPT_STAGE, "stage", "--stage", false},
    {OPT_PROBABILITY, "probability", "--probability", false},
    {OPT_EXPECTED_CLOSE, "expected_close_on", "--expected-close", false},
    {OPT_REASON, "lost_reason", "--reason", false}};
static const struct add_spec deal_add_spec = {
    deal_kind,
    "usage: dangan deal add CUSTOMER --amount DECIMAL [--currency CNY] [--at DATE]\n"
    "                       [--stage STAGE] [--probability N] [--expected-close DATE]\n"
    "                       [--reason TEXT] [--set FIELD=VALUE]...\n"
    "\n"
    "Records a deal or order. A deal starts at the pipeline's first stage (lead)\n"
    "unless --stage names another; its probability is the stage's unless given.\n"
    "  --stage STAGE      a stage of the team's pipeline (won: a deal closed now)\n"
    "  --probability N    chance to win, 1-100\n"
    "  --expected-close DATE  when it should close\n"
    "  --reason TEXT      why it was lost (a lost stage needs one)\n"
    "  --amount DECIMAL   e.g. 12345.67 or 12,345.67 (as many decimals as the currency\n"
    "                     has: CNY and USD 2, JPY 0)\n"
    "  --currency CODE    ISO 4217 code (default CNY)\n"
    "  --at DATE          when (default now)\n"
    "  --set FIELD=VALUE  number, place, content, person_in_charge, breach=yes, notes\n",
    deal_add_opts, deal_add_flags, DG_ARRAY_LEN(deal_add_flags)};

static int deal_add(cli *c)
{
    return child_add(c, &deal_add_spec);
}

static int deal_edit(cli *c)
{
    return cli_cmd_edit(c, K_DEAL,
                        "usage: dangan deal edit ID --set FIELD=VALUE... [--unset FIELD]... "
                        "[--version N]\n",
                        NULL);
}

static int deal_rm(cli *c)
{
    return cli_cmd_archive(c, K_DEAL, true, "usage: dangan deal rm ID\n\nArchives a deal.\n",
                           "Removed");
}

int cmd_deal(cli *c)
{
    static const cli_sub subs[] = {
        {"add", deal_add,
         "add CUSTOMER --amount DECIMAL [--currency CNY] [--at DATE] [--stage STAGE]"},
        {"list", cli_deal_list, "list [CUSTOMER] [--stage S[,S]] [--owner USER|me]"},
        {"move", cli_deal_move,
         "move ID STAGE [--reason TEXT] [--probability N] [--expected-close DATE]"},
        {"edit", deal_edit, "edit ID --set FIELD=VALUE... [--version N]"},
        {"rm", deal_rm, "rm ID"},
    };

    return cli_subcommand(c, "deal", subs, DG_ARRAY_LEN(subs), "Deals and orders.\n");
}

/* ------------------------------------------------------------ feedback */

static const cli_kind *feedback_kind(void)
{
    return K_FEEDBACK;
}

static const struct option feedback_add_opts[] = {{"kind", required_argument, NULL, OPT_KIND},
                                                  {"score", required_argument, NULL, OPT_SCORE},
                                                  {"text", required_argument, NULL, OPT_TEXT},
                                                  {"set", required_argument, NULL, OPT_SET},
                                                  {"help", no_argument, NULL, 'h'},
                                                  {NULL, 0, NULL, 0}};
static const struct flag_field feedback_add_flags[] = {
    {OPT_KIND, "kind", "--kind", true},
    {OPT_SCORE, "satisfaction", "--score", false},
    {OPT_TEXT, "text", "--text", true}};
static const struct add_spec feedback_add_spec = {
    feedback_kind,
    "usage: dangan feedback add CUSTOMER --kind complaint|suggestion|praise|survey\n"
    "                           [--score 1-5] --text TEXT [--set FIELD=VALUE]...\n"
    "\n"
    "Records what a customer said. --score is their satisfaction, 1 (low) to 5.\n"
    "  --set FIELD=VALUE  status (open, in_progress, resolved, closed), resolution, at_ms\n",
    feedback_add_opts, feedback_add_flags, DG_ARRAY_LEN(feedback_add_flags)};

static int feedback_add(cli *c)
{
    return child_add(c, &feedback_add_spec);
}

static int feedback_list(cli *c)
{
    static const struct list_spec spec = {
        feedback_kind,
        "usage: dangan feedback list [CUSTOMER] [--open] [--sort F] [--limit N] [--all]\n"
        "                            [--archived]\n\n"
        "Feedback of one customer, or of all.\n"
        "  --open          only open or in-progress feedback\n" LIST_FLAGS_HELP,
        "-at",
        true,
        true,
        false};

    return child_list(c, &spec);
}

static int feedback_edit(cli *c)
{
    return cli_cmd_edit(c, K_FEEDBACK,
                        "usage: dangan feedback edit ID --set FIELD=VALUE... [--unset FIELD]... "
                        "[--version N]\n\n"
                        "E.g. --set status=resolved --set resolution=\"refunded\".\n",
                        NULL);
}

int cmd_feedback(cli *c)
{
    static const cli_sub subs[] = {
        {"add", feedback_add, "add CUSTOMER --kind K [--score 1-5] --text TEXT"},
        {"list", feedback_list, "list [CUSTOMER] [--open]"},
        {"edit", feedback_edit, "edit ID --set FIELD=VALUE... [--version N]"},
    };

    return cli_subcommand(c, "feedback", subs, DG_ARRAY_LEN(subs),
                          "Complaints, suggestions, praise and surveys.\n");
}

/* ------------------------------------------------------------ task */

static const cli_kind *task_kind(void)
{
    return K_TASK;
}

static const struct option task_add_opts[] = {{"due", required_argument, NULL, OPT_DUE},
                                              {"title", required_argument, NULL, OPT_TITLE},
                                              {"assignee", required_argument, NULL, OPT_ASSIGNEE},
                                              {"set", required_argument, NULL, OPT_SET},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
static const struct flag_field task_add_flags[] = {{OPT_DUE, "due_at_ms", "--due", true},
                                                   {OPT_TITLE, "title", "--title", true},
                                                   {OPT_ASSIGNEE, "assignee", "--assignee", false}};
static const struct add_spec task_add_spec = {
    task_kind,
    "usage: dangan task add CUSTOMER --due DATE --title TEXT [--assignee USER]\n"
    "                       [--set FIELD=VALUE]...\n"
    "\n"
    "A follow-up to do for a customer.\n"
    "  --due DATE        2026-11-22 (or a time: 2026-11-22T15:00)\n"
    "  --assignee USER   who does it (default you)\n"
    "  --set FIELD=VALUE notes\n",
    task_add_opts, task_add_flags, DG_ARRAY_LEN(task_add_flags)};

static int task_add(cli *c)
{
    return child_add(c, &task_add_spec);
}

static int task_list(cli *c)
{
    static const struct list_spec spec = {
        task_kind,
        "usage: dangan task list [CUSTOMER] [--mine] [--due-before DATE] [--include-done]\n"
        "                        [--sort F] [--limit N] [--all] [--archived]\n\n"
        "Open tasks, soonest due first: of one customer, or of all.\n"
        "  --mine            only tasks assigned to you\n"
        "  --due-before D    only tasks due before D (2026-12-01)\n"
        "  --include-done    done tasks too\n" LIST_FLAGS_HELP,
        "due",
        true,
        false,
        true};

    return child_list(c, &spec);
}

static int task_done(cli *c)
{
    static const char usage_text[] = "usage: dangan task done ID\n\nMarks a task done.\n";
    cli_edits e = {0};
    int rc;

    if (cli_wants_help(c->argc, c->argv))
        return help(usage_text);
    if (c->argc != 2 || c->argv[1][0] == '-')
        return cli_usage(c, "task done takes one ID");
    cli_edits_add(&e, "done=yes", false);
    rc = cli_op_edit(c, K_TASK, c->argv[1], &e, 0, "Done:");
    cli_edits_fini(&e);
    return rc;
}

static int task_edit(cli *c)
{
    return cli_cmd_edit(c, K_TASK,
                        "usage: dangan task edit ID --set FIELD=VALUE... [--unset FIELD]... "
                        "[--version N]\n\n"
                        "E.g. --set due_at_ms=2026-12-01 --set assignee=alice.\n",
                        NULL);
}

int cmd_task(cli *c)
{
    static const cli_sub subs[] = {
        {"add", task_add, "add CUSTOMER --due DATE --title TEXT [--assignee USER]"},
        {"list", task_list, "list [CUSTOMER] [--mine] [--due-before DATE] [--include-done]"},
        {"done", task_done, "done ID"},
        {"edit", task_edit, "edit ID --set FIELD=VALUE... [--version N]"},
    };

    return cli_subcommand(c, "task", subs, DG_ARRAY_LEN(subs), "Follow-ups to do.\n");
}
