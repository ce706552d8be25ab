/* cmd_lifecycle.c - `dangan lifecycle`: suggested status changes
 * (potential → active → dormant → lost, and back to active) with their
 * evidence, and `dangan lifecycle apply`, which applies them in one Batch:
 * one transaction, one audited update and one change event per customer.
 * Lost needs a churn reason, given per customer with --reason.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

enum { OPT_OWNER = 256, OPT_REASON, OPT_LIMIT };

static const char LIFECYCLE_HELP[] =
    "usage: dangan lifecycle [--owner USER|me] [--limit N]\n"
    "       dangan lifecycle apply [--owner USER|me] [--reason CUSTOMER=TEXT]...\n"
    "\n"
    "Shows the status changes the customers' activity and deals suggest, with the\n"
    "evidence (last contact, days since, last won deal), counted in the team's\n"
    "time zone with its dormant and lost thresholds:\n"
    "  potential → active   a won deal, or a meeting or visit lately\n"
    "  active → dormant     no contact for dormant_after_days\n"
    "  dormant → lost       no contact for lost_after_days (needs a churn reason)\n"
    "  dormant/lost → active  contacted again\n"
    "Managers and admins see every customer (or --owner's); sales their own.\n"
    "`apply` makes the changes in one transaction, each audited with its own\n"
    "change event. A customer suggested lost changes only with\n"
    "--reason CUSTOMER=TEXT (CUSTOMER: its code or id); the others are listed.\n";

static const char *status_name(int v)
{
    static const char *const names[] = {"-", "potential", "active", "dormant", "lost"};

    return v >= 0 && v < 5 ? names[v] : "?";
}

static int fetch(cli *c, const char *owner, uint32_t limit, dg_reply **r)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__LifecycleSuggestRequest *m = (Dangan__V1__LifecycleSuggestRequest *)cli_msg_new(
        &dangan__v1__lifecycle_suggest_request__descriptor);
    int rc;

    req->body_case = DANGAN__V1__REQUEST__BODY_LIFECYCLE_SUGGEST;
    req->lifecycle_suggest = m;
    if (owner)
        cli_replace_str(&m->owner, owner);
    m->limit = limit;
    rc = cli_rec_call(c, req, r);
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

static void show(const Dangan__V1__LifecycleSuggestResponse *res)
{
    static const char *const headers[] = {"CODE", "NAME",         "OWNER", "NOW",     "SUGGESTED",
                                          "WHY",  "LAST CONTACT", "DAYS",  "LAST WON"};
    cli_table *t = cli_table_new(9, headers);

    cli_table_flex(t, 1);
    cli_table_align_right(t, 7);
    for (size_t i = 0; i < res->n_suggestions; i++) {
        const Dangan__V1__LifecycleSuggestion *s = res->suggestions[i];
        char days[16];
        const char *cells[9];

        snprintf(days, sizeof days, "%d", s->days_since_contact);
        cells[0] = s->code;
        cells[1] = s->name;
        cells[2] = s->owner[0] ? s->owner : "(pool)";
        cells[3] = status_name(s->status);
        cells[4] = status_name(s->suggested);
        cells[5] = s->rule;
        cells[6] = s->last_contact_on[0] ? s->last_contact_on : "never";
        cells[7] = s->days_since_contact >= 0 ? days : "-";
        cells[8] = s->last_won_on[0] ? s->last_won_on : "-";
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, 0, cli_term_width());
    cli_table_free(t);
}

/* The --reason given for suggestion s ("C-000001=..." or "17=..."), or NULL. */
static const char *reason_for(const Dangan__V1__LifecycleSuggestion *s, char **reasons, size_t n)
{
    char id[32];

    snprintf(id, sizeof id, "%lld", (long long)s->customer_id);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(reasons[i], '=');
        size_t k = (size_t)(eq - reasons[i]);

        if ((k == strlen(s->code) && strncmp(reasons[i], s->code, k) == 0) ||
            (k == strlen(id) && strncmp(reasons[i], id, k) == 0))
            return eq + 1;
    }
    return NULL;
}

static Dangan__V1__BatchOp *update_op(const Dangan__V1__LifecycleSuggestion *s, const char *reason)
{
    Dangan__V1__BatchOp *op = (Dangan__V1__BatchOp *)cli_msg_new(&dangan__v1__batch_op__descriptor);
    Dangan__V1__UpdateRequest *u =
        (Dangan__V1__UpdateRequest *)cli_msg_new(&dangan__v1__update_request__descriptor);
    ProtobufCMessage *body;
    Dangan__V1__Customer *cu;

    op->op_case = DANGAN__V1__BATCH_OP__OP_UPDATE;
    op->update = u;
    u->record = cli_record_new(cli_kind_get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER), &body);
    cu = (Dangan__V1__Customer *)body;
    cu->id = s->customer_id;
    cu->status = s->suggested;
    u->expected_version = s->version;
    u->update_mask = dg_xcalloc(2, sizeof *u->update_mask);
    u->update_mask[u->n_update_mask++] = dg_xstrdup("status");
    if (reason) {
        cli_replace_str(&cu->churn_reason, reason);
        u->update_mask[u->n_update_mask++] = dg_xstrdup("churn_reason");
    }
    return op;
}

static int apply(cli *c, const Dangan__V1__LifecycleSuggestResponse *res, char **reasons,
                 size_t n_reasons)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__BatchRequest *b =
        (Dangan__V1__BatchRequest *)cli_msg_new(&dangan__v1__batch_request__descriptor);
    size_t waiting = 0;
    dg_reply *r;
    int rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req->batch = b;
    b->ops = dg_xcalloc(res->n_suggestions + 1, sizeof *b->ops);
    for (size_t i = 0; i < res->n_suggestions; i++) {
        const Dangan__V1__LifecycleSuggestion *s = res->suggestions[i];
        const char *reason = reason_for(s, reasons, n_reasons);

        if (s->suggested == DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST && !reason) {
            if (!c->is_json)
                printf("%s %s: suggested lost (%d days without contact); give "
                       "--reason %s=TEXT to apply it\n",
                       s->code, s->name, s->days_since_contact, s->code);
            waiting++;
            continue;
        }
        b->ops[b->n_ops++] = update_op(s, reason);
    }
    if (b->n_ops)
        rc = cli_rec_call(c, req, &r);
    if (rc == EXIT_OK && b->n_ops)
        dg_reply_free(r);
    if (rc == EXIT_OK) {
        if (c->is_json)
            cli_print_json(json_pack("{s:I,s:I}", "applied", (json_int_t)b->n_ops, "waiting",
                                     (json_int_t)waiting));
        else
            printf("Applied %zu status change%s%s.\n", b->n_ops, b->n_ops == 1 ? "" : "s",
                   waiting ? "; the lost ones above wait for a reason" : "");
    }
    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

int cmd_lifecycle(cli *c)
{
    static const struct option opts[] = {{"owner", required_argument, NULL, OPT_OWNER},
                                         {"reason", required_argument, NULL, OPT_REASON},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const Dangan__V1__LifecycleSuggestResponse *res;
    const char *owner = NULL;
    char **reasons = NULL;
    size_t n_reasons = 0;
    uint32_t limit = 0;
    bool is_apply;
    dg_reply *r;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_OWNER:
            owner = optarg;
            break;
        case OPT_REASON:
            if (!strchr(optarg, '=') || optarg[0] == '=' || !strchr(optarg, '=')[1]) {
                rc = cli_usage(c, "--reason needs CUSTOMER=TEXT, got \"%s\"", optarg);
                break;
            }
            reasons = dg_xrealloc(reasons, (n_reasons + 1) * sizeof *reasons);
            reasons[n_reasons++] = optarg;
            break;
        case OPT_LIMIT:
            rc = cli_parse_count(c, "--limit", optarg, 10000, &limit);
            break;
        case 'h':
            free(reasons);
            fputs(LIFECYCLE_HELP, stdout);
            return EXIT_OK;
        default:
            rc = cli_bad_option(c);
        }
    }
    is_apply = optind < c->argc && strcmp(c->argv[optind], "apply") == 0;
    if (rc == EXIT_OK && optind + (is_apply ? 1 : 0) != c->argc)
        rc = cli_usage(c, "lifecycle takes no arguments but apply");
    if (rc == EXIT_OK && n_reasons && !is_apply)
        rc = cli_usage(c, "--reason goes with lifecycle apply");
    if (rc == EXIT_OK)
        rc = fetch(c, owner, limit, &r);
    if (rc != EXIT_OK) {
        free(reasons);
        return rc;
    }
    res = dg_reply_response(r)->lifecycle_suggest;
    if (is_apply)
        rc = apply(c, res, reasons, n_reasons);
    else if (c->is_json)
        cli_print_json(cli_pb_to_json(&res->base));
    else if (res->n_suggestions == 0)
        printf("No status changes suggested (today is %s).\n", res->today);
    else
        show(res);
    dg_reply_free(r);
    free(reasons);
    return rc;
}
