/* cmd_handover.c - `dangan customer reassign` (hand customers over to
 * another owner, 离职交接, with their open tasks) and `dangan customer
 * merge` (two files of one customer become one). Managers and admins.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"

enum { OPT_FROM = 256, OPT_TO, OPT_KEEP_TASKS };

static const char REASSIGN_HELP[] =
    "usage: dangan customer reassign (REF... | --from USER) --to USER [--keep-tasks]\n"
    "\n"
    "Hands customers over to USER in one transaction (managers and admins): the\n"
    "customers named (id or code), or with --from every customer that user owns -\n"
    "for a colleague who leaves (离职交接). Their open tasks assigned to the\n"
    "previous owner move too, unless --keep-tasks. Archived customers stay as\n"
    "they are. Every change is audited.\n";

int cli_customer_reassign(cli *c)
{
    static const struct option opts[] = {{"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"keep-tasks", no_argument, NULL, OPT_KEEP_TASKS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ReassignRequest *m;
    const Dangan__V1__ReassignResponse *res;
    const char *from = NULL, *to = NULL;
    dg_reply *r;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    m = req->reassign =
        (Dangan__V1__ReassignRequest *)cli_msg_new(&dangan__v1__reassign_request__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_FROM)
            from = optarg;
        else if (opt == OPT_TO)
            to = optarg;
        else if (opt == OPT_KEEP_TASKS)
            m->keep_tasks = true;
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        fputs(REASSIGN_HELP, stdout);
        return EXIT_OK;
    }
    if (rc == EXIT_OK && !to)
        rc = cli_usage(c, "customer reassign: --to USER is required");
    if (rc == EXIT_OK && !from == (optind == c->argc))
        rc = cli_usage(c, "customer reassign: name customers (REF...) or --from USER, not both");
    if (rc == EXIT_OK && from)
        cli_replace_str(&m->from_user, from);
    if (rc == EXIT_OK) {
        cli_replace_str(&m->to_user, to);
        for (int i = optind; i < c->argc && rc == EXIT_OK; i++) {
            int64_t id;

            if ((rc = cli_customer_id(c, c->argv[i], &id)) == EXIT_OK) {
                m->customer_ids =
                    dg_xrealloc(m->customer_ids, (m->n_customer_ids + 1) * sizeof(int64_t));
                m->customer_ids[m->n_customer_ids++] = id;
            }
        }
    }
    if (rc == EXIT_OK)
        rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    res = dg_reply_response(r)->reassign;
    if (c->is_json)
        cli_print_json(json_pack("{s:I,s:I,s:s}", "customers", (json_int_t)res->customers, "tasks",
                                 (json_int_t)res->tasks, "to", to));
    else
        printf("Handed %u customer%s and %u open task%s over to %s.\n", res->customers,
               res->customers == 1 ? "" : "s", res->tasks, res->tasks == 1 ? "" : "s", to);
    dg_reply_free(r);
    return EXIT_OK;
}

static const char MERGE_HELP[] =
    "usage: dangan customer merge KEEP DROP\n"
    "\n"
    "Two files of one customer become one (managers and admins): every contact,\n"
    "interaction, deal, feedback and task of DROP moves into KEEP's dossier and\n"
    "DROP is archived (restorable; its history stays). KEEP's own fields stay as\n"
    "they are. KEEP and DROP are ids or codes.\n";

int cli_customer_merge(cli *c)
{
    Dangan__V1__Request *req;
    const Dangan__V1__MergeResponse *res;
    int64_t keep, drop;
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        fputs(MERGE_HELP, stdout);
        return EXIT_OK;
    }
    if (c->argc != 3)
        return cli_usage(c, "customer merge takes KEEP and DROP");
    if ((rc = cli_customer_id(c, c->argv[1], &keep)) != EXIT_OK ||
        (rc = cli_customer_id(c, c->argv[2], &drop)) != EXIT_OK)
        return rc;
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_MERGE;
    req->merge = (Dangan__V1__MergeRequest *)cli_msg_new(&dangan__v1__merge_request__descriptor);
    req->merge->keep_id = keep;
    req->merge->drop_id = drop;
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    res = dg_reply_response(r)->merge;
    if (c->is_json)
        cli_print_json(json_pack("{s:o,s:I}", "keep", cli_pb_to_json(&res->keep->base), "moved",
                                 (json_int_t)res->moved));
    else
        printf("Merged %s into %s: %u record%s moved; %s is archived.\n", c->argv[2], c->argv[1],
               res->moved, res->moved == 1 ? "" : "s", c->argv[2]);
    dg_reply_free(r);
    return EXIT_OK;
}
