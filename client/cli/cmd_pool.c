/* cmd_pool.c - `dangan pool` (the public pool, 公海: list, claim, release)
 * and `dangan lifecycle` (suggested status changes, and applying them).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

enum {
    OPT_TIER = 256,
    OPT_INDUSTRY,
    OPT_REGION,
    OPT_SORT,
    OPT_LIMIT,
    OPT_CURSOR,
    OPT_OWNER,
    OPT_REASON
};

static const cli_kind *customer_kind(void)
{
    return cli_kind_get(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER);
}

/* ------------------------------------------------------------ pool list */

static const char POOL_LIST_HELP[] =
    "usage: dangan pool list [--tier T] [--industry X] [--region X] [--sort FIELD]\n"
    "                        [--limit N] [--cursor C]\n"
    "\n"
    "Lists the public pool (公海): live customers without an owner that you may\n"
    "see (restricted tiers are left out for sales), a page at a time; when more\n"
    "follow, the cursor for the next page is printed on stderr.\n"
    "  --tier T          a, b or c (repeat or a,b)\n"
    "  --industry X      --region X   exact values\n"
    "  --sort FIELD      name (default), code, created, updated, tier, last_contact\n"
    "  --limit N         rows per page (default 50, at most 1000)\n"
    "  --cursor C        continue after a previous page\n";

static int pool_list(cli *c)
{
    static const struct option opts[] = {{"tier", required_argument, NULL, OPT_TIER},
                                         {"industry", required_argument, NULL, OPT_INDUSTRY},
                                         {"region", required_argument, NULL, OPT_REGION},
                                         {"sort", required_argument, NULL, OPT_SORT},
                                         {"limit", required_argument, NULL, OPT_LIMIT},
                                         {"cursor", required_argument, NULL, OPT_CURSOR},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__PoolListRequest *l =
        (Dangan__V1__PoolListRequest *)cli_msg_new(&dangan__v1__pool_list_request__descriptor);
    const Dangan__V1__ListResponse *res;
    dg_reply *r;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_POOL_LIST;
    req->pool_list = l;
    l->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_TIER:
            rc = cli_list_filter_option(c, "tier", optarg, l->filter);
            break;
        case OPT_INDUSTRY:
            rc = cli_list_filter_option(c, "industry", optarg, l->filter);
            break;
        case OPT_REGION:
            rc = cli_list_filter_option(c, "region", optarg, l->filter);
            break;
        case OPT_SORT:
            if ((rc = cli_check_sort(c, customer_kind(), optarg)) == EXIT_OK)
                cli_replace_str(&l->sort, optarg);
            break;
        case OPT_LIMIT:
            rc = cli_parse_count(c, "--limit", optarg, 1000, &l->limit);
            break;
        case OPT_CURSOR:
            cli_replace_str(&l->cursor, optarg);
            break;
        case 'h':
            dangan__v1__request__free_unpacked(req, NULL);
            fputs(POOL_LIST_HELP, stdout);
            return EXIT_OK;
        default:
            rc = cli_bad_option(c);
        }
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "pool list takes no arguments besides its options");
    if (rc == EXIT_OK)
        rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    res = dg_reply_response(r)->pool_list;
    if (c->is_json) {
        cli_print_json(cli_pb_to_json(&res->base));
    } else if (res->n_records == 0) {
        printf("The pool is empty.\n");
    } else {
        const ProtobufCMessage **msgs = dg_xcalloc(res->n_records, sizeof *msgs);

        for (size_t i = 0; i < res->n_records; i++)
            msgs[i] = cli_record_body(res->records[i]);
        cli_show_table(c, customer_kind(), msgs, res->n_records, false, 0);
        free(msgs);
    }
    if (!c->is_json && res->next_cursor[0])
        fprintf(stderr, "More in the pool: dangan pool list --cursor %s\n", res->next_cursor);
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ claim, release */

static const char CLAIM_HELP[] =
    "usage: dangan pool claim CUSTOMER\n"
    "\n"
    "Makes you the owner of a pool customer (id or code). If a colleague was\n"
    "faster, says who holds it now. Sales hold at most the team's number of\n"
    "customers claimed from the pool; releasing one frees its place.\n";

static const char RELEASE_HELP[] =
    "usage: dangan pool release CUSTOMER\n"
    "\n"
    "Returns a customer (id or code) to the pool: its owner, or a manager or\n"
    "admin. The change is audited like any hand-over.\n";

static int claim_or_release(cli *c, bool is_claim)
{
    Dangan__V1__Request *req;
    char label[256];
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        fputs(is_claim ? CLAIM_HELP : RELEASE_HELP, stdout);
        return EXIT_OK;
    }
    if (c->argc != 2)
        return cli_usage(c, "pool %s takes one CUSTOMER", is_claim ? "claim" : "release");
    req = cli_request_new();
    if (is_claim) {
        req->body_case = DANGAN__V1__REQUEST__BODY_POOL_CLAIM;
        req->pool_claim = (Dangan__V1__PoolClaimRequest *)cli_msg_new(
            &dangan__v1__pool_claim_request__descriptor);
    } else {
        req->body_case = DANGAN__V1__REQUEST__BODY_POOL_RELEASE;
        req->pool_release = (Dangan__V1__PoolReleaseRequest *)cli_msg_new(
            &dangan__v1__pool_release_request__descriptor);
    }
    {
        int64_t id = 0;
        char **code = is_claim ? &req->pool_claim->code : &req->pool_release->code;

        if (cli_is_id(c->argv[1], &id))
            *(is_claim ? &req->pool_claim->customer_id : &req->pool_release->customer_id) = id;
        else
            cli_replace_str(code, c->argv[1]);
    }
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    if (is_claim) {
        const Dangan__V1__PoolClaimResponse *res = dg_reply_response(r)->pool_claim;

        if (c->is_json)
            cli_print_json(cli_pb_to_json(&res->base));
        else if (res->max_claims)
            printf("Claimed %s: yours now (%u of %u pool claims).\n",
                   cli_customer_label(&res->customer->base, label, sizeof label), res->claimed,
                   res->max_claims);
        else
            printf("Claimed %s: yours now.\n",
                   cli_customer_label(&res->customer->base, label, sizeof label));
    } else {
        const Dangan__V1__PoolReleaseResponse *res = dg_reply_response(r)->pool_release;

        if (c->is_json)
            cli_print_json(cli_pb_to_json(&res->base));
        else
            printf("Returned %s to the pool.\n",
                   cli_customer_label(&res->customer->base, label, sizeof label));
    }
    dg_reply_free(r);
    return EXIT_OK;
}

static int pool_claim(cli *c)
{
    return claim_or_release(c, true);
}

static int pool_release(cli *c)
{
    return claim_or_release(c, false);
}

int cmd_pool(cli *c)
{
    static const cli_sub subs[] = {
        {"list", pool_list, "list [--tier T] [--industry X] [--region X] [--limit N] [--cursor C]"},
        {"claim", pool_claim, "claim CUSTOMER"},
        {"release", pool_release, "release CUSTOMER"},
    };

    return cli_subcommand(c, "pool", subs, DG_ARRAY_LEN(subs),
                          "The public pool (公海): customers without an owner, claimed and "
                          "released by sales.");
}
