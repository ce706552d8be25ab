/* cmd_records.c - `dangan customer`: add, show, edit, archive, restore, list,
 * search. The generic parts (FIELD=VALUE, create/edit/archive, tables) live
 * in fields.c, ops.c and show.c; this file turns command lines into requests.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

#define LIST_MAX 1000
#define SEARCH_MAX 200
#define ALL_PAGE 500 /* page size when --all follows the cursors */

enum {
    OPT_TIER = 256,
    OPT_STATUS,
    OPT_OWNER,
    OPT_INDUSTRY,
    OPT_REGION,
    OPT_TAG,
    OPT_CUSTOM,
    OPT_ARCHIVED,
    OPT_SORT,
    OPT_LIMIT,
    OPT_CURSOR,
    OPT_ALL,
    OPT_SET,
    OPT_UNSET,
    OPT_VERSION,
    OPT_RECENT,
    OPT_REASON,
};

#define FILTER_OPTIONS                                                                             \
    {"tier", required_argument, NULL, OPT_TIER}, {"status", required_argument, NULL, OPT_STATUS},  \
        {"owner", required_argument, NULL, OPT_OWNER},                                             \
        {"industry", required_argument, NULL, OPT_INDUSTRY},                                       \
        {"region", required_argument, NULL, OPT_REGION},                                           \
        {"tag", required_argument, NULL, OPT_TAG},                                                 \
        {"custom", required_argument, NULL, OPT_CUSTOM},                                           \
    {                                                                                              \
        "archived", no_argument, NULL, OPT_ARCHIVED                                                \
    }

static const cli_kind *customer_kind(void)
{
    return cli_kind_get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER);
}

static int help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

/* ------------------------------------------------------------ add */

static const char ADD_HELP[] =
    "usage: dangan customer add --name NAME [--kind company|person] [--set FIELD=VALUE]...\n"
    "                           [--force]\n"
    "\n"
    "Adds a customer to the file; its code (C-000123) is given by the server unless\n"
    "--set code=... names one. A customer with the same name, phone or e-mail as one\n"
    "on file is refused as a likely duplicate (exit 8) and the existing one shown.\n"
    "  --name NAME           the customer's full name\n"
    "  --kind company|person default company\n"
    "  --set FIELD=VALUE     any field of the customer file, e.g. tier=a,\n"
    "                        phone=010-6512-3456, registered_capital=5000000,\n"
    "                        registered_capital=\"2000000 USD\", owner=me, tags=vip,north,\n"
    "                        founded_on=2001-05-20, custom.NAME=VALUE (see dangan field list)\n"
    "  --force               add it even if it looks like a duplicate\n";

static int customer_add(cli *c)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},    {"kind", required_argument, NULL, 'k'},
        {"set", required_argument, NULL, OPT_SET}, {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const cli_kind *k = customer_kind();
    const char *name = NULL, *kind = NULL;
    cli_edits edits = {0};
    ProtobufCMessage *body;
    Dangan__V1__Record *rec;
    bool is_force = false;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            name = optarg;
            break;
        case 'k':
            kind = optarg;
            break;
        case OPT_SET:
            cli_edits_add(&edits, optarg, false);
            break;
        case 'f':
            is_force = true;
            break;
        case 'h':
            cli_edits_fini(&edits);
            return help(ADD_HELP);
        default:
            rc = cli_bad_option(c);
        }
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "customer add takes no arguments besides its options");
    rec = cli_record_new(k, &body);
    if (rc == EXIT_OK && name)
        rc = cli_field_set(c, k, body, "name", name);
    if (rc == EXIT_OK && kind)
        rc = cli_field_set(c, k, body, "kind", kind);
    if (rc == EXIT_OK)
        rc = cli_edits_apply(c, k, body, &edits, NULL, NULL);
    if (rc == EXIT_OK && !cli_msg_str(body, "name")[0])
        rc = cli_usage(c, "--name NAME is required");
    cli_edits_fini(&edits);
    if (rc != EXIT_OK) {
        dangan__v1__record__free_unpacked(rec, NULL);
        return rc;
    }
    return cli_op_create(c, k, rec, is_force, NULL);
}

/* ------------------------------------------------------------ show */

static const char SHOW_HELP[] =
    "usage: dangan customer show REF [--recent N]\n"
    "\n"
    "Shows a customer's whole dossier: the customer file, people, recent\n"
    "interactions, deals with totals per currency, open tasks and feedback.\n"
    "REF is the customer's id or code (C-000123). --json prints the GetResponse.\n"
    "  --recent N   how many recent interactions to show (default 20, at most 200)\n";

static int customer_show(cli *c)
{
    static const struct option opts[] = {{"recent", required_argument, NULL, OPT_RECENT},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req;
    const Dangan__V1__GetResponse *g;
    uint32_t recent = 0;
    int64_t id = 0;
    dg_reply *r;
    int opt, rc;

    cli_getopt_reset();
    while ((opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_RECENT:
            if ((rc = cli_parse_count(c, "--recent", optarg, 200, &recent)) != EXIT_OK)
                return rc;
            break;
        case 'h':
            return help(SHOW_HELP);
        default:
            return cli_bad_option(c);
        }
    }
    if (optind != c->argc - 1)
        return cli_usage(c, "customer show takes one REF (an id or a code like C-000123)");
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_GET;
    req->get = (Dangan__V1__GetRequest *)cli_msg_new(&dangan__v1__get_request__descriptor);
    req->get->kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    if (cli_is_id(c->argv[optind], &id))
        req->get->id = id;
    else
        cli_replace_str(&req->get->code, c->argv[optind]);
    for (char *p = req->get->code; *p; p++) /* codes are upper case: c-000123 finds C-000123 */
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    req->get->dossier = true;
    req->get->recent_interactions = recent;
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    g = dg_reply_response(r)->get;
    if (c->is_json)
        cli_print_json(cli_pb_to_json(&g->base));
    else
        cli_show_dossier(c, g);
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ edit, archive, restore */

static const char EDIT_HELP[] =
    "usage: dangan customer edit REF --set FIELD=VALUE... [--unset FIELD]... [--version N]\n"
    "\n"
    "Changes the named fields and only those. If someone changed one of them since\n"
    "the version you saw, nothing is saved and their values are shown (exit 7);\n"
    "changes to other fields meanwhile do not get in the way.\n"
    "  --set FIELD=VALUE   new value (FIELD= with nothing clears it)\n"
    "  --unset FIELD       clear a field (tags, custom.NAME too)\n"
    "  --version N         the version your change is based on (default: the current one)\n"
    "  --reason TEXT       the churn reason (why it was lost), required with status=lost;\n"
    "                      asked for on a terminal when missing\n"
    "Fields: see `dangan customer add --help`; an unknown FIELD lists them all.\n";

/* `KIND edit` for any kind: customer edit, contact edit, task edit... */
int cli_cmd_edit(cli *c, const cli_kind *k, const char *usage_text, const char *verb)
{
    static const struct option opts[] = {{"set", required_argument, NULL, OPT_SET},
                                         {"unset", required_argument, NULL, OPT_UNSET},
                                         {"version", required_argument, NULL, OPT_VERSION},
                                         {"reason", required_argument, NULL, OPT_REASON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli_edits edits = {0};
    char *reason = NULL; /* "churn_reason=TEXT" */
    int64_t version = 0;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_SET:
        case OPT_UNSET:
            cli_edits_add(&edits, optarg, opt == OPT_UNSET);
            break;
        case OPT_VERSION:
            if (!cli_is_id(optarg, &version))
                rc = cli_usage(c, "--version must be a version number (1 or more)");
            break;
        case OPT_REASON: /* customers: the churn reason of status=lost */
            if (k->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER) {
                rc = cli_bad_option(c);
                break;
            }
            free(reason);
            reason = dg_xmalloc(strlen(optarg) + 16);
            sprintf(reason, "churn_reason=%s", optarg);
            cli_edits_add(&edits, reason, false);
            break;
        case 'h':
            cli_edits_fini(&edits);
            free(reason);
            return help(usage_text);
        default:
            rc = cli_bad_option(c);
        }
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "%s edit takes one %s", k->name,
                       k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER ? "REF" : "ID");
    if (rc == EXIT_OK)
        rc = cli_op_edit(c, k, c->argv[optind], &edits, version, verb);
    cli_edits_fini(&edits);
    free(reason);
    return rc;
}

static int customer_edit(cli *c)
{
    return cli_cmd_edit(c, customer_kind(), EDIT_HELP, NULL);
}

/* archive / restore / rm for any kind. */
int cli_cmd_archive(cli *c, const cli_kind *k, bool archive, const char *usage_text,
                    const char *verb)
{
    if (cli_wants_help(c->argc, c->argv))
        return help(usage_text);
    if (c->argc != 2 || c->argv[1][0] == '-')
        return cli_usage(c, "%s %s takes one %s", k->name, c->argv[0],
                         k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER ? "REF" : "ID");
    return cli_op_archive(c, k, c->argv[1], archive, verb);
}

static int customer_archive(cli *c)
{
    return cli_cmd_archive(c, customer_kind(), true,
                           "usage: dangan customer archive REF\n\nArchives a customer: it leaves "
                           "lists and searches but nothing is deleted;\n`dangan customer restore "
                           "REF` brings it back.\n",
                           "Archived");
}

static int customer_restore(cli *c)
{
    return cli_cmd_archive(c, customer_kind(), false,
                           "usage: dangan customer restore REF\n\nBrings an archived customer "
                           "back (see `dangan customer list --archived`).\n",
                           "Restored");
}

/* ------------------------------------------------------------ list filters */

/* "a,b" for --tier/--status: appends each value to the filter's enum list. */
static int add_enums(cli *c, const char *flag, const ProtobufCEnumDescriptor *d, const char *arg,
                     int **values, size_t *n)
{
    char *copy = dg_xstrdup(arg), *save = NULL, choices[256];
    int rc = EXIT_OK;

    for (char *tok = strtok_r(copy, ",", &save); tok && rc == EXIT_OK;
         tok = strtok_r(NULL, ",", &save)) {
        int v = cli_enum_parse(d, tok);

        if (v < 0) {
            rc = cli_usage(c, "bad value for %s: \"%s\" (%s)", flag, tok,
                           cli_enum_choices(d, choices, sizeof choices));
            break;
        }
        *values = dg_xrealloc(*values, (*n + 1) * sizeof **values);
        (*values)[(*n)++] = v;
    }
    free(copy);
    return rc;
}

static int add_custom_filter(cli *c, Dangan__V1__ListFilter *f, const char *arg)
{
    const char *eq = strchr(arg, '=');
    Dangan__V1__CustomValue *cv;

    if (!eq || eq == arg)
        return cli_usage(c, "--custom needs NAME=VALUE, got \"%s\"", arg);
    if (f->n_custom == 4)
        return cli_usage(c, "at most 4 --custom filters");
    cv = (Dangan__V1__CustomValue *)cli_msg_new(&dangan__v1__custom_value__descriptor);
    cv->name = dg_xstrndup(arg, (size_t)(eq - arg));
    cv->value = dg_xstrdup(eq + 1);
    f->custom = dg_xrealloc(f->custom, (f->n_custom + 1) * sizeof *f->custom);
    f->custom[f->n_custom++] = cv;
    return EXIT_OK;
}

/* One of FILTER_OPTIONS into the filter; EXIT_OK or a usage error. */
static int filter_flag(cli *c, int opt, const char *arg, Dangan__V1__ListFilter *f)
{
    switch (opt) {
    case OPT_TIER:
        return add_enums(c, "--tier", &dangan__v1__tier__descriptor, arg, (int **)&f->tiers,
                         &f->n_tiers);
    case OPT_STATUS:
        return add_enums(c, "--status", &dangan__v1__customer_status__descriptor, arg,
                         (int **)&f->statuses, &f->n_statuses);
    case OPT_OWNER:
        cli_replace_str(&f->owner, arg);
        return EXIT_OK;
    case OPT_INDUSTRY:
        cli_replace_str(&f->industry, arg);
        return EXIT_OK;
    case OPT_REGION:
        cli_replace_str(&f->region, arg);
        return EXIT_OK;
    case OPT_TAG:
        cli_replace_str(&f->tag, arg);
        return EXIT_OK;
    case OPT_CUSTOM:
        return add_custom_filter(c, f, arg);
    case OPT_ARCHIVED:
        f->include_archived = true;
        return EXIT_OK;
    default:
        return cli_bad_option(c);
    }
}

int cli_list_filter_option(cli *c, const char *name, const char *arg, Dangan__V1__ListFilter *f)
{
    static const struct option opts[] = {FILTER_OPTIONS};

    for (size_t i = 0; i < DG_ARRAY_LEN(opts); i++)
        if (!strcmp(opts[i].name, name))
            return filter_flag(c, opts[i].val, arg, f);
    return cli_usage(c, "unknown filter --%s", name);
}

#define FILTER_HELP                                                                                \
    "  --tier T          a, b or c (repeat or a,b for several)\n"                                  \
    "  --status S        potential, active, dormant or lost (repeat or comma-separate)\n"          \
    "  --owner USER      the owner's user name, or me\n"                                           \
    "  --industry X      --region X   --tag X   exact values\n"                                    \
    "  --custom NAME=V   custom field NAME equals V (up to 4)\n"                                   \
    "  --archived        include archived customers\n"

/* ------------------------------------------------------------ list */

static const char LIST_HELP[] =
    "usage: dangan customer list [--tier T] [--status S] [--owner USER|me] [--industry X]\n"
    "                            [--region X] [--tag X] [--custom NAME=VALUE] [--archived]\n"
    "                            [--sort FIELD|-FIELD] [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists customers, a page at a time: when more follow, the cursor for the next\n"
    "page is printed on stderr (and is next_cursor under --json).\n" FILTER_HELP
    "  --sort FIELD      name (pinyin order, the default), code, created, updated, tier,\n"
    "                    last_contact; -FIELD reverses\n"
    "  --limit N         rows per page (default 50, at most 1000)\n"
    "  --cursor C        continue after a previous page\n"
    "  --all             follow the cursors to the end\n";

int cli_print_list(cli *c, Dangan__V1__Request *req, bool is_all, bool with_customer)
{
    const cli_kind *k = cli_kind_get(req->list->kind);
    const ProtobufCMessage **msgs;
    cli_pages pages;
    int rc;

    if (is_all && !req->list->limit)
        req->list->limit = ALL_PAGE;
    if ((rc = cli_list_pages(c, req, is_all, &pages)) != EXIT_OK)
        return rc;
    if (c->is_json) {
        cli_print_json(cli_pages_json(&pages));
    } else if (pages.n == 0) {
        printf("No %s%s found.\n", k->name,
               k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK ? "" : "s");
    } else {
        msgs = dg_xcalloc(pages.n, sizeof *msgs);
        for (size_t i = 0; i < pages.n; i++)
            msgs[i] = cli_record_body(pages.records[i]);
        cli_show_table(c, k, msgs, pages.n, with_customer, 0);
        if (k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL && !pages.next_cursor[0])
            cli_show_totals(msgs, pages.n);
        free(msgs);
    }
    cli_pages_hint(c, &pages);
    cli_pages_fini(&pages);
    return EXIT_OK;
}

static int customer_list(cli *c)
{
    static const struct option opts[] = {FILTER_OPTIONS,
                                         {"sort", required_argument, NULL, OPT_SORT},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"cursor", required_argument, NULL, OPT_CURSOR},
                                         {"all", no_argument, NULL, OPT_ALL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ListRequest *l =
        (Dangan__V1__ListRequest *)cli_msg_new(&dangan__v1__list_request__descriptor);
    bool is_all = false;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req->list = l;
    l->kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    l->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_SORT:
            if ((rc = cli_check_sort(c, customer_kind(), optarg)) == EXIT_OK)
                cli_replace_str(&l->sort, optarg);
            break;
        case OPT_LIMIT:
            rc = cli_parse_count(c, "--limit", optarg, LIST_MAX, &l->limit);
            break;
        case OPT_CURSOR:
            cli_replace_str(&l->cursor, optarg);
            break;
        case OPT_ALL:
            is_all = true;
            break;
        case 'h':
            dangan__v1__request__free_unpacked(req, NULL);
            return help(LIST_HELP);
        default:
            rc = filter_flag(c, opt, optarg, l->filter);
        }
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "customer list takes no arguments besides its options");
    if (rc == EXIT_OK)
        rc = cli_print_list(c, req, is_all, false);
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

/* ------------------------------------------------------------ search */

static const char SEARCH_HELP[] =
    "usage: dangan customer search QUERY [--limit N] [list filters]\n"
    "\n"
    "Finds customers by part of a name or short name, a contact's name, a phone\n"
    "number (any separators), an e-mail, an address or notes; Chinese or Latin,\n"
    "any case, full- or half-width. Best matches first; MATCHED says where.\n"
    "  --limit N         at most N results (default 20, at most 200)\n" FILTER_HELP;

static void print_hits(cli *c, const Dangan__V1__SearchResponse *s)
{
    static const char *const headers[] = {"CODE",   "NAME",  "MATCHED", "TIER",
                                          "STATUS", "OWNER", "REGION"};
    static const char *const fields[] = {"code", "name", NULL, "tier", "status", "owner", "region"};
    char text[DG_ARRAY_LEN(headers)][512];
    const char *cells[DG_ARRAY_LEN(headers)];
    cli_table *t;

    (void)c;
    if (s->n_hits == 0) {
        printf("No customers found.\n");
        return;
    }
    t = cli_table_new(DG_ARRAY_LEN(headers), headers);
    cli_table_flex(t, 1);
    cli_table_flex(t, 6);
    for (size_t i = 0; i < s->n_hits; i++) {
        const Dangan__V1__SearchHit *h = s->hits[i];

        for (size_t col = 0; col < DG_ARRAY_LEN(headers); col++) {
            text[col][0] = '\0';
            if (fields[col])
                cli_field_text(&h->customer->base, fields[col], text[col], sizeof text[col]);
            for (size_t m = 0; !fields[col] && m < h->n_matched; m++)
                snprintf(text[col] + strlen(text[col]), sizeof text[col] - strlen(text[col]),
                         "%s%s", m ? ", " : "", h->matched[m]);
            cells[col] = text[col];
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, 0, cli_term_width());
    cli_table_free(t);
}

static int customer_search(cli *c)
{
    static const struct option opts[] = {FILTER_OPTIONS,
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__SearchRequest *s =
        (Dangan__V1__SearchRequest *)cli_msg_new(&dangan__v1__search_request__descriptor);
    dg_reply *r;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req->search = s;
    s->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_LIMIT) {
            rc = cli_parse_count(c, "--limit", optarg, SEARCH_MAX, &s->limit);
        } else if (opt == 'h') {
            dangan__v1__request__free_unpacked(req, NULL);
            return help(SEARCH_HELP);
        } else {
            rc = filter_flag(c, opt, optarg, s->filter);
        }
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "customer search takes one QUERY (quote it if it has spaces)");
    if (rc == EXIT_OK) {
        cli_replace_str(&s->query, c->argv[optind]);
        rc = cli_rec_call(c, req, &r);
    }
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    if (c->is_json)
        cli_print_json(cli_pb_to_json(&dg_reply_response(r)->search->base));
    else
        print_hits(c, dg_reply_response(r)->search);
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ the group */

int cmd_customer(cli *c)
{
    static const cli_sub subs[] = {
        {"add", customer_add,
         "add --name NAME [--kind company|person] [--set FIELD=VALUE]... [--force]"},
        {"show", customer_show, "show REF                  the whole dossier"},
        {"edit", customer_edit, "edit REF --set FIELD=VALUE... [--unset FIELD]... [--version N]"},
        {"archive", customer_archive, "archive REF"},
        {"restore", customer_restore, "restore REF"},
        {"list", customer_list,
         "list [--tier T] [--status S] [--owner USER|me] [--sort F] [--limit N] [--all] ..."},
        {"search", customer_search, "search QUERY [--limit N] [list filters]"},
        {"history", cli_customer_history, "history REF               who changed what, when"},
        {"reassign", cli_customer_reassign, "reassign (REF... | --from USER) --to USER"},
        {"merge", cli_customer_merge, "merge KEEP DROP           two files of one customer"},
        {"duplicates", cli_customer_duplicates,
         "duplicates [--limit N] [--all]  likely duplicates in the whole base"},
    };

    return cli_subcommand(c, "customer", subs, DG_ARRAY_LEN(subs),
                          "The customer file. REF is a customer's id or code (C-000123).\n");
}
