/* cmd_tiers.c - `dangan tiers`: the ABC suggestion (customers ranked by
 * their won revenue of the last twelve months, split by the team's shares)
 * next to each customer's tier, and `dangan tiers apply`, which applies it
 * on the server in one transaction (managers and admins). The rule is the
 * server's (docs/protocol.md, "ABC classification").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

#define PAGE_MAX 1000
#define ALL_PAGE 1000

enum { OPT_CHANGES_ONLY = 256, OPT_LIMIT, OPT_CURSOR, OPT_ALL, OPT_YES, OPT_DRY_RUN };

static const char TIERS_HELP[] =
    "usage: dangan tiers [--changes-only] [--limit N] [--cursor C] [--all]\n"
    "       dangan tiers apply [--yes] [--dry-run]\n"
    "\n"
    "The ABC classification (managers and admins): every customer ranked by the\n"
    "revenue of its won deals in the team's currency over the last twelve months,\n"
    "the top 20% suggested A, the next 40% B, the rest C (the team's shares;\n"
    "equal revenue at a boundary gets the better tier; no revenue: C).\n"
    "  --changes-only  only customers whose suggested tier differs from theirs\n"
    "  --limit N       customers per page (default 100, at most 1000)\n"
    "  --cursor C      the next page; --all: every page\n"
    "\n"
    "`tiers apply` sets every customer's tier to its suggestion in one audited\n"
    "transaction (asks first on a terminal; --yes otherwise). --dry-run shows the\n"
    "changes it would make.\n";

static const char *tier_text(Dangan__V1__Tier t)
{
    static const char *const names[] = {"-", "a", "b", "c"};

    return (int)t >= 0 && (int)t < 4 ? names[t] : "?";
}

static void print_page(const Dangan__V1__TiersResponse *t, cli_table *table)
{
    for (size_t i = 0; i < t->n_customers; i++) {
        const Dangan__V1__TierSuggestion *s = t->customers[i];
        char rank[16], revenue[64], change[32];
        const char *cells[5];

        snprintf(rank, sizeof rank, "%u", s->rank);
        cli_money_text(s->revenue ? s->revenue->amount_minor : 0, t->currency, revenue,
                       sizeof revenue);
        snprintf(change, sizeof change, "%s%s%s", tier_text(s->current),
                 s->current == s->suggested ? "" : " → ",
                 s->current == s->suggested ? "" : tier_text(s->suggested));
        cells[0] = rank;
        cells[1] = s->code;
        cells[2] = s->name;
        cells[3] = revenue;
        cells[4] = change;
        cli_table_add(table, cells);
    }
}

static void print_summary(const Dangan__V1__TiersResponse *t)
{
    char from[32], to[32], money[64];

    printf("Revenue %s to %s in %s: %u customers ranked, %u to change.\n",
           cli_time(t->window_start_ms, from, sizeof from),
           cli_time(t->window_end_ms, to, sizeof to), t->currency, t->ranked, t->changes);
    for (size_t i = 0; i < t->n_totals; i++) {
        const Dangan__V1__TierTotal *x = t->totals[i];

        printf("  %s: %u now, %u suggested (%s)\n", tier_text(x->tier), x->current, x->suggested,
               cli_money_text(x->revenue ? x->revenue->amount_minor : 0, t->currency, money,
                              sizeof money));
    }
}

/* Sends one Tiers request; *out set on EXIT_OK. */
static int fetch(cli *c, Dangan__V1__TiersRequest *m, dg_reply **out)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__TiersRequest *copy =
        (Dangan__V1__TiersRequest *)cli_msg_new(&dangan__v1__tiers_request__descriptor);
    int rc;

    copy->limit = m->limit;
    copy->changes_only = m->changes_only;
    cli_replace_str(&copy->cursor, m->cursor);
    req->body_case = DANGAN__V1__REQUEST__BODY_TIERS;
    req->tiers = copy;
    rc = cli_rec_call(c, req, out);
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

/* The pages asked for: JSON (one TiersResponse, customers of every page),
 * or a table and the totals. */
static int show(cli *c, Dangan__V1__TiersRequest *m, bool is_all)
{
    static const char *const headers[] = {"RANK", "CODE", "NAME", "REVENUE", "TIER"};
    cli_table *table = cli_table_new(5, headers);
    json_t *doc = NULL, *customers = json_array();
    dg_reply *r = NULL, *first = NULL;
    const Dangan__V1__TiersResponse *t;
    int rc;

    cli_table_align_right(table, 0);
    cli_table_align_right(table, 3);
    cli_table_flex(table, 2);
    do {
        if ((rc = fetch(c, m, &r)) != EXIT_OK)
            break;
        t = dg_reply_response(r)->tiers;
        print_page(t, table);
        for (size_t i = 0; i < t->n_customers; i++)
            json_array_append_new(customers, cli_pb_to_json(&t->customers[i]->base));
        cli_replace_str(&m->cursor, t->next_cursor);
        if (!first)
            first = r;
        else
            dg_reply_free(r);
    } while (is_all && m->cursor[0]);
    if (rc == EXIT_OK && c->is_json) {
        doc = cli_pb_to_json(&dg_reply_response(first)->tiers->base);
        json_object_set_new(doc, "customers", customers);
        json_object_set_new(doc, "next_cursor", json_string(m->cursor));
        customers = NULL;
        cli_print_json(doc);
    } else if (rc == EXIT_OK) {
        t = dg_reply_response(first)->tiers;
        print_summary(t);
        cli_table_print(table, stdout, 0, cli_term_width());
        if (m->cursor[0])
            fprintf(stderr, "more: repeat with --cursor %s (or --all for everything)\n", m->cursor);
    }
    json_decref(customers);
    cli_table_free(table);
    dg_reply_free(first);
    return rc;
}

static int tiers_list(cli *c)
{
    static const struct option opts[] = {{"changes-only", no_argument, NULL, OPT_CHANGES_ONLY},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"cursor", required_argument, NULL, OPT_CURSOR},
                                         {"all", no_argument, NULL, OPT_ALL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__TiersRequest *m =
        (Dangan__V1__TiersRequest *)cli_msg_new(&dangan__v1__tiers_request__descriptor);
    bool is_all = false;
    int opt, rc = EXIT_OK;

    cli_replace_str(&m->cursor, "");
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(TIERS_HELP, stdout);
            dangan__v1__tiers_request__free_unpacked(m, NULL);
            return EXIT_OK;
        case OPT_CHANGES_ONLY:
            m->changes_only = true;
            break;
        case OPT_LIMIT:
            rc = cli_parse_count(c, "--limit", optarg, PAGE_MAX, &m->limit);
            break;
        case OPT_CURSOR:
            cli_replace_str(&m->cursor, optarg);
            break;
        case OPT_ALL:
            is_all = true;
            break;
        default:
            rc = cli_bad_option(c);
            break;
        }
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "tiers takes no arguments but `apply`");
    if (rc == EXIT_OK && is_all && !m->limit)
        m->limit = ALL_PAGE;
    if (rc == EXIT_OK)
        rc = show(c, m, is_all);
    dangan__v1__tiers_request__free_unpacked(m, NULL);
    return rc;
}

static int tiers_apply(cli *c)
{
    static const struct option opts[] = {{"yes", no_argument, NULL, OPT_YES},
                                         {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req;
    Dangan__V1__TiersApplyRequest *m;
    bool is_yes = false, is_dry = false;
    const Dangan__V1__TiersApplyResponse *a;
    dg_reply *r;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(TIERS_HELP, stdout);
            return EXIT_OK;
        }
        if (opt == OPT_YES)
            is_yes = true;
        else if (opt == OPT_DRY_RUN)
            is_dry = true;
        else
            rc = cli_bad_option(c);
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "tiers apply takes no arguments");
    if (rc != EXIT_OK)
        return rc;
    if (is_dry) {
        Dangan__V1__TiersRequest *q =
            (Dangan__V1__TiersRequest *)cli_msg_new(&dangan__v1__tiers_request__descriptor);

        q->changes_only = true;
        q->limit = ALL_PAGE;
        cli_replace_str(&q->cursor, "");
        rc = show(c, q, true);
        dangan__v1__tiers_request__free_unpacked(q, NULL);
        return rc;
    }
    if (!is_yes && (!isatty(STDIN_FILENO) || c->is_json))
        return cli_usage(c, "tiers apply changes the tier of every customer whose suggestion "
                            "differs: confirm with --yes (see them first with `dangan tiers "
                            "--changes-only`)");
    if (!is_yes && !cli_confirm("Set every customer's tier to its suggestion? [y/N] "))
        return cli_fail(c, EXIT_USAGE, "CANCELLED", "cancelled", "nothing was changed");
    req = cli_request_new();
    m = (Dangan__V1__TiersApplyRequest *)cli_msg_new(&dangan__v1__tiers_apply_request__descriptor);
    cli_replace_str(&m->idempotency_key, "");
    req->body_case = DANGAN__V1__REQUEST__BODY_TIERS_APPLY;
    req->tiers_apply = m;
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    a = dg_reply_response(r)->tiers_apply;
    if (c->is_json)
        cli_print_json(cli_pb_to_json(&a->base));
    else
        printf("Changed the tier of %u of %u customers.\n", a->changed, a->ranked);
    dg_reply_free(r);
    return EXIT_OK;
}

int cmd_tiers(cli *c)
{
    if (c->argc > 1 && strcmp(c->argv[1], "apply") == 0) {
        c->argc--;
        c->argv++;
        return tiers_apply(c);
    }
    return tiers_list(c);
}
