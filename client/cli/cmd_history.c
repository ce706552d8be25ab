/* cmd_history.c - `dangan customer history REF`: who changed which field of
 * a customer, from what to what, and when (masked as the server masks a Get).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "table.h"

#define HISTORY_LIMIT 50

static const char HISTORY_HELP[] =
    "usage: dangan customer history REF [--limit N]\n"
    "\n"
    "The changes of a customer's own fields, newest first: when, who, which field,\n"
    "from what, to what. Values you may not see are masked (138****5678).\n"
    "  --limit N   at most N changes (default 50, at most 1000)\n";

/* JSON text of a value as people read it: strings without their quotes. */
static const char *plain(const char *json, char *buf, size_t len)
{
    json_t *v = json[0] ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;

    if (v && json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else
        snprintf(buf, len, "%s", json);
    json_decref(v);
    return buf;
}

int cli_customer_history(cli *c)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char *const headers[] = {"TIME", "USER", "ACTION", "FIELD", "FROM", "TO"};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__HistoryRequest *m;
    const Dangan__V1__HistoryResponse *h;
    uint32_t limit = HISTORY_LIMIT;
    char when[40], from[512], to[512];
    dg_reply *r;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
    m = req->history =
        (Dangan__V1__HistoryRequest *)cli_msg_new(&dangan__v1__history_request__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == 'n')
            rc = cli_parse_count(c, "--limit", optarg, 1000, &limit);
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        fputs(HISTORY_HELP, stdout);
        return EXIT_OK;
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "customer history takes one REF");
    if (rc == EXIT_OK)
        rc = cli_customer_id(c, c->argv[optind], &m->id);
    if (rc == EXIT_OK) {
        m->kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m->limit = limit;
        rc = cli_rec_call(c, req, &r);
    }
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    h = dg_reply_response(r)->history;
    if (c->is_json) {
        cli_print_json(cli_pb_to_json(&h->base));
    } else if (h->n_entries == 0) {
        printf("No changes recorded.\n");
    } else {
        cli_table *t = cli_table_new(6, headers);

        for (size_t i = 0; i < h->n_entries; i++) {
            const Dangan__V1__HistoryEntry *e = h->entries[i];

            for (size_t k = 0; k < e->n_changes || (k == 0 && e->n_changes == 0); k++) {
                const char *cells[6] = {
                    cli_time(e->at_ms, when, sizeof when), e->username, e->action, "", "", ""};

                if (e->n_changes) {
                    cells[3] = e->changes[k]->field;
                    cells[4] = plain(e->changes[k]->before, from, sizeof from);
                    cells[5] = plain(e->changes[k]->after, to, sizeof to);
                }
                cli_table_add(t, cells);
            }
        }
        cli_table_print(t, stdout, 0, cli_term_width());
        cli_table_free(t);
    }
    dg_reply_free(r);
    return EXIT_OK;
}
