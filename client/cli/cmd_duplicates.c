/* cmd_duplicates.c - `dangan customer duplicates`: candidate duplicate
 * customers in the whole base (managers and admins), each pair with its
 * reasons, a score and the `customer merge` that would fold it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

enum { OPT_LIMIT = 256, OPT_CURSOR, OPT_ALL };

static const char DUPLICATES_HELP[] =
    "usage: dangan customer duplicates [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Scans every live customer for likely duplicates (managers and admins): pairs\n"
    "sharing a name, e-mail or phone once normalised (places, legal forms,\n"
    "brackets, full-width, +86 and separators do not count), or a similar name\n"
    "(the same without trade words and branches). SCORE is 0-100. KEEP is the\n"
    "older file; fold a pair with `dangan customer merge KEEP DROP`.\n"
    "When more follow, the cursor for the next page is printed on stderr (and is\n"
    "next_cursor under --json).\n"
    "  --limit N    pairs per page (default 100, at most 1000)\n"
    "  --cursor C   continue after a previous page\n"
    "  --all        follow the cursors to the end\n";

static const char *owner_of(const Dangan__V1__DuplicateCustomer *d)
{
    return d->owner && d->owner->username[0] ? d->owner->username : "-";
}

static void add_rows(cli_table *t, const Dangan__V1__DuplicatesScanResponse *page)
{
    for (size_t i = 0; i < page->n_pairs; i++) {
        const Dangan__V1__DuplicatePair *p = page->pairs[i];
        char score[16], reasons[96] = "";
        const char *cells[7];

        snprintf(score, sizeof score, "%u", p->score);
        for (size_t k = 0; k < p->n_reasons; k++) {
            if (k)
                strncat(reasons, ",", sizeof reasons - strlen(reasons) - 1);
            strncat(reasons, p->reasons[k], sizeof reasons - strlen(reasons) - 1);
        }
        cells[0] = score;
        cells[1] = reasons;
        cells[2] = p->keep->code;
        cells[3] = p->drop->code;
        cells[4] = p->keep->name;
        cells[5] = p->drop->name;
        cells[6] = owner_of(p->keep);
        if (strcmp(owner_of(p->keep), owner_of(p->drop)) != 0) {
            static char both[160];

            snprintf(both, sizeof both, "%s / %s", owner_of(p->keep), owner_of(p->drop));
            cells[6] = both;
        }
        cli_table_add(t, cells);
    }
}

/* One page into `pairs` (--json) or `t`, counted in *n_seen; *cursor
 * becomes the next one ("" at the end). */
static int fetch_page(cli *c, uint32_t limit, char **cursor, json_t *pairs, cli_table *t,
                      size_t *n_seen)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__DuplicatesScanRequest *m = (Dangan__V1__DuplicatesScanRequest *)cli_msg_new(
        &dangan__v1__duplicates_scan_request__descriptor);
    const Dangan__V1__DuplicatesScanResponse *page;
    dg_reply *r;
    int rc;

    req->body_case = DANGAN__V1__REQUEST__BODY_DUPLICATES_SCAN;
    req->duplicates_scan = m;
    m->limit = limit;
    cli_replace_str(&m->cursor, *cursor);
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    page = dg_reply_response(r)->duplicates_scan;
    for (size_t i = 0; c->is_json && i < page->n_pairs; i++) {
        json_t *p = cli_pb_to_json(&page->pairs[i]->base);

        json_object_set_new(p, "merge",
                            json_sprintf("dangan customer merge %s %s", page->pairs[i]->keep->code,
                                         page->pairs[i]->drop->code));
        json_array_append_new(pairs, p);
    }
    if (!c->is_json)
        add_rows(t, page);
    *n_seen += page->n_pairs;
    if (page->next_cursor[0] && strcmp(page->next_cursor, *cursor) == 0) {
        dg_reply_free(r);
        return cli_fail(c, EXIT_SERVER, "INTERNAL", "cursor_stuck",
                        "the server answered a page with the cursor it was asked for;"
                        " stopping instead of paging forever");
    }
    free(*cursor);
    *cursor = dg_xstrdup(page->next_cursor);
    dg_reply_free(r);
    return EXIT_OK;
}

static int parse_args(cli *c, uint32_t *limit, char **cursor, bool *is_all)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, OPT_LIMIT},
                                         {"cursor", required_argument, NULL, OPT_CURSOR},
                                         {"all", no_argument, NULL, OPT_ALL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_LIMIT)
            rc = cli_parse_count(c, "--limit", optarg, PAGE_MAX, limit);
        else if (opt == OPT_CURSOR)
            cli_replace_str(cursor, optarg);
        else if (opt == OPT_ALL)
            *is_all = true;
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "customer duplicates takes no arguments besides its options");
    return rc;
}

int cli_customer_duplicates(cli *c)
{
    static const char *const headers[] = {"SCORE",     "REASONS",   "KEEP",  "DROP",
                                          "KEEP NAME", "DROP NAME", "OWNERS"};
    uint32_t limit = PAGE_DEFAULT;
    char *cursor = dg_xstrdup("");
    bool is_all = false;
    size_t n_seen = 0;
    json_t *pairs = json_array();
    cli_table *t = cli_table_new(7, headers);
    int rc = parse_args(c, &limit, &cursor, &is_all);

    if (rc == -1)
        fputs(DUPLICATES_HELP, stdout);
    if (rc == EXIT_OK)
        rc = fetch_page(c, limit, &cursor, pairs, t, &n_seen);
    while (rc == EXIT_OK && is_all && cursor[0])
        rc = fetch_page(c, limit, &cursor, pairs, t, &n_seen);
    if (rc == EXIT_OK && c->is_json) {
        cli_print_json(json_pack("{s:o,s:s}", "pairs", pairs, "next_cursor", cursor));
        pairs = NULL;
    } else if (rc == EXIT_OK && n_seen == 0) {
        printf("No likely duplicates%s.\n", cursor[0] ? " on this page" : "");
    } else if (rc == EXIT_OK) {
        cli_table_flex(t, 4);
        cli_table_flex(t, 5);
        cli_table_print(t, stdout, 0, cli_term_width());
        printf("Fold a pair into its older file with: dangan customer merge KEEP DROP\n");
    }
    if (rc == EXIT_OK && cursor[0] && !c->is_json)
        fprintf(stderr, "More pairs follow: dangan customer duplicates --cursor %s\n", cursor);
    json_decref(pairs);
    cli_table_free(t);
    free(cursor);
    return rc == -1 ? EXIT_OK : rc;
}
