/* cmd_deal.c - the deal pipeline from the command line: `dangan deal move`
 * (a deal to another stage of the team's pipeline) and `dangan deal list`
 * (deals of one customer or of everyone, by stage and by the customer's
 * owner). `deal add`, `edit` and `rm` are in cmd_dossier.c. The stages are
 * the server's: an unknown one is refused by the server with the list of
 * the pipeline's stages, which is printed as it comes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "rec.h"

#define LIST_MAX 1000
#define REASON_MAX 2000 /* bytes: 500 characters of up to 4 bytes */

enum {
    OPT_REASON = 256,
    OPT_PROBABILITY,
    OPT_EXPECTED_CLOSE,
    OPT_VERSION,
    OPT_STAGE,
    OPT_OWNER,
    OPT_CUSTOMER,
    OPT_SORT,
    OPT_LIMIT,
    OPT_CURSOR,
    OPT_ALL,
    OPT_ARCHIVED,
};

static int help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

/* ------------------------------------------------------------ move */

static const char MOVE_HELP[] =
    "usage: dangan deal move ID STAGE [--reason TEXT] [--probability N]\n"
    "                        [--expected-close DATE] [--version N]\n"
    "\n"
    "Moves a deal to a stage of the team's pipeline (lead, qualified, proposal,\n"
    "negotiation, won, lost by default). The stage brings its default probability;\n"
    "won sets the deal's date to now (its close date); lost needs a reason.\n"
    "  --reason TEXT          why the deal was lost (asked for on a terminal)\n"
    "  --probability N        chance to win, 0-100, instead of the stage's\n"
    "  --expected-close DATE  when it should close, e.g. 2026-12-31\n"
    "  --version N            the version you saw (default: the current one)\n";

struct move_args {
    int64_t id;
    const char *stage, *reason, *close;
    bool has_probability;
    uint32_t probability;
    int64_t version;
};

static int move_flag(cli *c, int opt, struct move_args *a)
{
    char *end;
    long v;

    switch (opt) {
    case OPT_REASON:
        a->reason = optarg;
        return EXIT_OK;
    case OPT_PROBABILITY:
        v = strtol(optarg, &end, 10);
        if (!optarg[0] || *end || v < 0 || v > 100)
            return cli_usage(c, "--probability must be 0 to 100, got \"%s\"", optarg);
        a->has_probability = true;
        a->probability = (uint32_t)v;
        return EXIT_OK;
    case OPT_EXPECTED_CLOSE:
        if (!cli_date_valid(optarg))
            return cli_usage(c, "bad value for --expected-close: \"%s\" (a date like 2026-12-31)",
                             optarg);
        a->close = optarg;
        return EXIT_OK;
    case OPT_VERSION:
        v = strtol(optarg, &end, 10);
        if (!optarg[0] || *end || v < 1)
            return cli_usage(c, "--version must be a positive number, got \"%s\"", optarg);
        a->version = v;
        return EXIT_OK;
    default:
        return cli_bad_option(c);
    }
}

/* The deal's current version (a Get), when --version was not given. */
static int current_version(cli *c, int64_t id, int64_t *version)
{
    dg_reply *r;
    int rc = cli_rec_get(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL, id, NULL, false, &r);

    if (rc != EXIT_OK)
        return rc;
    *version = dg_reply_response(r)->get->record->deal->version;
    dg_reply_free(r);
    return EXIT_OK;
}

/* Sends the move; *reply set whatever the Status says. */
static int send_move(cli *c, const struct move_args *a, dg_reply **reply)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__DealMoveRequest *m =
        (Dangan__V1__DealMoveRequest *)cli_msg_new(&dangan__v1__deal_move_request__descriptor);
    int rc;

    req->body_case = DANGAN__V1__REQUEST__BODY_DEAL_MOVE;
    req->deal_move = m;
    m->deal_id = a->id;
    m->expected_version = a->version;
    cli_replace_str(&m->stage, a->stage);
    cli_replace_str(&m->lost_reason, a->reason ? a->reason : "");
    cli_replace_str(&m->expected_close_on, a->close ? a->close : "");
    m->with_probability = a->has_probability;
    m->probability = (int32_t)a->probability;
    rc = cli_rec_send(c, req, reply);
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

static bool is_reason(const dg_reply *r, const char *reason)
{
    const Dangan__V1__Status *st = dg_reply_response(r)->status;

    return st && st->reason && strcmp(st->reason, reason) == 0;
}

static int print_moved(cli *c, const dg_reply *r)
{
    const Dangan__V1__Deal *d = dg_reply_response(r)->deal_move->record->deal;

    if (c->is_json) {
        cli_print_json(cli_pb_to_json(&dg_reply_response(r)->deal_move->base));
        return EXIT_OK;
    }
    printf("Deal %lld is at %s (%d%%), version %lld.\n", (long long)d->id, d->stage, d->probability,
           (long long)d->version);
    return EXIT_OK;
}

int cli_deal_move(cli *c)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, OPT_REASON},
        {"probability", required_argument, NULL, OPT_PROBABILITY},
        {"expected-close", required_argument, NULL, OPT_EXPECTED_CLOSE},
        {"version", required_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct move_args a = {0};
    char reason[REASON_MAX];
    dg_reply *r = NULL;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == 'h')
            return help(MOVE_HELP);
        rc = move_flag(c, opt, &a);
    }
    if (rc == EXIT_OK && optind != c->argc - 2)
        rc = cli_usage(c, "deal move takes a deal ID and a STAGE");
    if (rc == EXIT_OK)
        rc = cli_parse_id(c, c->argv[optind], "deal", &a.id);
    if (rc != EXIT_OK)
        return rc;
    a.stage = c->argv[optind + 1];
    if ((rc = cli_rec_session(c)) != EXIT_OK ||
        (!a.version && (rc = current_version(c, a.id, &a.version)) != EXIT_OK) ||
        (rc = send_move(c, &a, &r)) != EXIT_OK)
        return rc;
    if (is_reason(r, "lost_reason_required") && !c->is_json && isatty(STDIN_FILENO)) {
        /* a lost deal says why: ask, as a form would */
        dg_reply_free(r);
        r = NULL;
        if (cli_read_text("Why was the deal lost? ", reason, sizeof reason) != DG_OK || !reason[0])
            return cli_usage(c, "a deal moved to %s needs a reason: give --reason TEXT", a.stage);
        a.reason = reason;
        if ((rc = send_move(c, &a, &r)) != EXIT_OK)
            return rc;
    } else if (is_reason(r, "lost_reason_required")) {
        dg_reply_free(r);
        return cli_usage(c, "a deal moved to %s needs a reason: give --reason TEXT", a.stage);
    }
    if (dg_reply_response(r)->status && dg_reply_response(r)->status->code != 0)
        rc = cli_fail_status(c, dg_reply_response(r)->status, NULL);
    else
        rc = print_moved(c, r);
    dg_reply_free(r);
    return rc;
}

/* ------------------------------------------------------------ list */

static const char LIST_HELP[] =
    "usage: dangan deal list [CUSTOMER] [--stage S[,S...]] [--owner USER|me]\n"
    "                        [--customer C] [--sort F] [--limit N] [--all] [--archived]\n"
    "\n"
    "Deals, latest first: of one customer (CUSTOMER or --customer, an id or a code),\n"
    "or of every customer you may see. Shows the customer's code and name, the stage,\n"
    "its probability, the amount and the expected close date.\n"
    "  --stage S[,S]   only deals at these stages (at most 8)\n"
    "  --owner U       only deals of customers owned by user U (me: yours)\n"
    "  --sort KEY      at, created, updated; -KEY reverses\n"
    "  --limit N       rows per page (default 50); --cursor C continues; --all: every page\n"
    "  --archived      include archived deals\n";

/* --stage a,b: each name a filter stage (the server checks them). */
static int add_stages(cli *c, Dangan__V1__ListFilter *f, const char *arg)
{
    char *copy = dg_xstrdup(arg), *save = NULL;

    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (f->n_stages == 8) {
            free(copy);
            return cli_usage(c, "--stage takes at most 8 stages");
        }
        f->stages = dg_xrealloc(f->stages, (f->n_stages + 1) * sizeof *f->stages);
        f->stages[f->n_stages++] = dg_xstrdup(s);
    }
    free(copy);
    return f->n_stages ? EXIT_OK : cli_usage(c, "--stage needs a stage name");
}

static int list_flag(cli *c, int opt, Dangan__V1__ListRequest *l, const char **customer,
                     bool *is_all)
{
    const cli_kind *k = cli_kind_get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL);

    switch (opt) {
    case OPT_STAGE:
        return add_stages(c, l->filter, optarg);
    case OPT_OWNER:
        cli_replace_str(&l->filter->owner, optarg);
        return EXIT_OK;
    case OPT_CUSTOMER:
        *customer = optarg;
        return EXIT_OK;
    case OPT_SORT:
        if (cli_check_sort(c, k, optarg) != EXIT_OK)
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
        l->filter->include_archived = true;
        return EXIT_OK;
    default:
        return cli_bad_option(c);
    }
}

int cli_deal_list(cli *c)
{
    static const struct option opts[] = {{"stage", required_argument, NULL, OPT_STAGE},
                                         {"owner", required_argument, NULL, OPT_OWNER},
                                         {"customer", required_argument, NULL, OPT_CUSTOMER},
                                         {"sort", required_argument, NULL, OPT_SORT},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"cursor", required_argument, NULL, OPT_CURSOR},
                                         {"all", no_argument, NULL, OPT_ALL},
                                         {"archived", no_argument, NULL, OPT_ARCHIVED},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ListRequest *l =
        (Dangan__V1__ListRequest *)cli_msg_new(&dangan__v1__list_request__descriptor);
    const char *customer = NULL;
    bool is_all = false;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req->list = l;
    l->kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL;
    l->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    cli_replace_str(&l->sort, "-at");
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            dangan__v1__request__free_unpacked(req, NULL);
            return help(LIST_HELP);
        }
        rc = list_flag(c, opt, l, &customer, &is_all);
    }
    if (rc == EXIT_OK && optind < c->argc && (customer || optind != c->argc - 1))
        rc = cli_usage(c, "deal list takes at most one CUSTOMER (an id or a code like C-000123)");
    if (rc == EXIT_OK && optind == c->argc - 1)
        customer = c->argv[optind];
    if (rc == EXIT_OK && customer)
        rc = cli_customer_id(c, customer, &l->filter->customer_id);
    if (rc == EXIT_OK)
        rc = cli_print_list(c, req, is_all, !customer);
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}
