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

static json_t *customer_json(const Dangan__V1__DuplicateCustomer *d)
{
    const ProtobufCEnumValue *tier =
        protobuf_c_enum_descriptor_get_value(&dangan__v1__tier__descriptor, (int)d->tier);

    return json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)d->id, "code", d->code, "name",
                     d->name, "owner", d->owner ? d->owner->username : "", "tier",
                     tier ? tier->name : "");
}

/* Under --json the pairs are written as they come, one per line, so that
 * memory does not grow with the base: the document is whole once the last
 * page is in (or the command fails, with the cursor to go on from). */
static void print_json_pairs(const Dangan__V1__DuplicatesScanResponse *page, size_t n_before)
{
    for (size_t i = 0; i < page->n_pairs; i++) {
        const Dangan__V1__DuplicatePair *p = page->pairs[i];
        json_t *reasons = json_array(), *doc;

        for (size_t k = 0; k < p->n_reasons; k++)
            json_array_append_new(reasons, json_string(p->reasons[k]));
        doc = json_pack("{s:o,s:o,s:o,s:I,s:o}", "keep", customer_json(p->keep), "drop",
                        customer_json(p->drop), "reasons", reasons, "score", (json_int_t)p->score,
                        "merge",
                        json_sprintf("dangan customer merge %s %s", p->keep->code, p->drop->code));
        fputs(n_before + i ? ",\n" : "\n", stdout);
        json_dumpf(doc, stdout, JSON_COMPACT);
        json_decref(doc);
    }
}

/* Sends the request for the page at `cursor`; its id in *id, and in *ready
 * its answer if that came at once (else NULL). */
static int send_page(cli *c, uint32_t limit, const char *cursor, uint64_t *id, dg_reply **ready)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__DuplicatesScanRequest *m = (Dangan__V1__DuplicatesScanRequest *)cli_msg_new(
        &dangan__v1__duplicates_scan_request__descriptor);
    int rc = cli_rec_session(c);

    *ready = NULL;
    req->body_case = DANGAN__V1__REQUEST__BODY_DUPLICATES_SCAN;
    req->duplicates_scan = m;
    m->limit = limit;
    cli_replace_str(&m->cursor, cursor);
    if (rc == EXIT_OK && (rc = dg_client_send(c->client, req, id)) != DG_CLIENT_OK)
        rc = cli_fail(c, EXIT_SERVER, "UNAVAILABLE", "connection_lost", "%s",
                      dg_client_errmsg(c->client));
    else if (rc == EXIT_OK && dg_client_take(c->client, *id, ready) != DG_CLIENT_OK)
        *ready = NULL; /* sent; the answer comes later (or its failure, to wait_page) */
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

/* The answer to page request `id` (`ready` when it came already): EXIT_OK
 * with *out, or the failure told. */
static int wait_page(cli *c, uint64_t id, dg_reply *ready, dg_reply **out)
{
    const Dangan__V1__Status *st;
    int rc = DG_CLIENT_OK;

    *out = ready;
    if (!ready)
        rc = dg_client_wait(c->client, id, out);
    if (rc != DG_CLIENT_OK)
        return cli_fail(c, EXIT_SERVER, "UNAVAILABLE", "connection_lost", "%s",
                        dg_client_errmsg(c->client));
    st = dg_reply_response(*out)->status;
    if (st && st->code == DANGAN__V1__CODE__OK && dg_reply_response(*out)->duplicates_scan)
        return EXIT_OK;
    rc = st ? cli_fail_status(c, st, NULL)
            : cli_fail(c, EXIT_SERVER, "INTERNAL", "protocol",
                       "the server sent a response without a status");
    dg_reply_free(*out);
    *out = NULL;
    return rc;
}

/* Every page (one without `is_all`), printed (--json) or into `t`, counted
 * in *n_seen; *cursor becomes where the next would start ("" at the end).
 * The next page is asked for before this one is printed, so that the
 * server reads while the CLI writes. */
static int fetch_pages(cli *c, uint32_t limit, bool is_all, char **cursor, cli_table *t,
                       size_t *n_seen, bool *is_open)
{
    uint64_t id;
    dg_reply *r = NULL, *ready;
    int rc = send_page(c, limit, *cursor, &id, &ready);

    while (rc == EXIT_OK && (rc = wait_page(c, id, ready, &r)) == EXIT_OK) {
        const Dangan__V1__DuplicatesScanResponse *page = dg_reply_response(r)->duplicates_scan;
        bool is_more = is_all && page->next_cursor[0];

        if (page->next_cursor[0] && strcmp(page->next_cursor, *cursor) == 0)
            rc = cli_fail(c, EXIT_SERVER, "INTERNAL", "cursor_stuck",
                          "the server answered a page with the cursor it was asked for;"
                          " stopping instead of paging forever");
        if (rc == EXIT_OK && is_more)
            rc = send_page(c, limit, page->next_cursor, &id, &ready);
        if (rc == EXIT_OK) {
            if (c->is_json && !*is_open)
                fputs("{\"pairs\": [", stdout);
            *is_open = c->is_json;
            if (c->is_json)
                print_json_pairs(page, *n_seen);
            else
                add_rows(t, page);
            *n_seen += page->n_pairs;
            free(*cursor);
            *cursor = dg_xstrdup(page->next_cursor);
        }
        dg_reply_free(r);
        r = NULL;
        if (!is_more)
            break;
    }
    return rc;
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
    bool is_open = false; /* --json: the document is started */
    size_t n_seen = 0;
    cli_table *t = cli_table_new(7, headers);
    int rc = parse_args(c, &limit, &cursor, &is_all);

    if (rc == -1)
        fputs(DUPLICATES_HELP, stdout);
    if (rc == EXIT_OK)
        rc = fetch_pages(c, limit, is_all, &cursor, t, &n_seen, &is_open);
    if (is_open) {
        json_t *next = json_string(cursor);

        fputs(n_seen ? "\n], \"next_cursor\": " : "], \"next_cursor\": ", stdout);
        json_dumpf(next, stdout, JSON_ENCODE_ANY);
        fputs("}\n", stdout);
        json_decref(next);
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
    cli_table_free(t);
    free(cursor);
    return rc == -1 ? EXIT_OK : rc;
}
