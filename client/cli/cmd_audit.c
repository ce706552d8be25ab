/* cmd_audit.c - `dangan audit`: read and check the tamper-evident audit log
 * (admins and auditors): list with filters, verify the hash chain, export
 * the current head to check later that nothing was cut off.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "hex.h"
#include "rec.h"
#include "table.h"

enum {
    OPT_USER = 256,
    OPT_ACTION,
    OPT_CUSTOMER,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_OUTCOME,
    OPT_LIMIT,
    OPT_HEAD,
    OPT_OUTPUT,
};

#define LIST_DEFAULT 50
#define PAGE_MAX 1000

static int help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

static const char LIST_HELP[] =
    "usage: dangan audit list [--user U] [--action A] [--customer REF] [--since TIME]\n"
    "                         [--until TIME] [--outcome ok|denied|error] [--limit N]\n"
    "\n"
    "The audit log, newest first (admins and auditors).\n"
    "  --user U        records of this user (as typed at login, for failed logins)\n"
    "  --action A      an action (record.update) or every action of a group (record.)\n"
    "  --customer REF  records about this customer (code or id)\n"
    "  --since TIME    at or after TIME (2026-11-22, 2026-11-22T09:30, ...; local time\n"
    "                  unless a zone follows)\n"
    "  --until TIME    before TIME\n"
    "  --outcome O     ok, denied or error\n"
    "  --limit N       at most N records (default 50; 0: all of them)\n";

static json_t *record_json(const Dangan__V1__AuditRecord *r)
{
    char hex[65];
    json_t *o = cli_pb_to_json(&r->base);
    json_t *detail = json_loads(r->detail, 0, NULL);

    dg_hex_encode(r->hash.data, r->hash.len < 32 ? r->hash.len : 32, hex);
    json_object_set_new(o, "hash", json_string(hex));
    if (detail) /* an object, not a string holding one */
        json_object_set_new(o, "detail", detail);
    return o;
}

static void print_table(const Dangan__V1__AuditRecord *const *recs, size_t n)
{
    static const char *const headers[] = {"SEQ",    "TIME",   "USER",    "PEER",
                                          "ACTION", "ENTITY", "OUTCOME", "DETAIL"};
    char seq[24], at[40], entity[80];
    const char *cells[8];
    cli_table *t = cli_table_new(8, headers);

    for (size_t i = 0; i < n; i++) {
        const Dangan__V1__AuditRecord *r = recs[i];

        snprintf(seq, sizeof seq, "%llu", (unsigned long long)r->seq);
        if (r->entity_id)
            snprintf(entity, sizeof entity, "%s %lld", r->entity, (long long)r->entity_id);
        else
            snprintf(entity, sizeof entity, "%s", r->entity);
        cells[0] = seq;
        cells[1] = cli_time(r->at_ms, at, sizeof at);
        cells[2] = r->username;
        cells[3] = r->peer;
        cells[4] = r->action;
        cells[5] = entity;
        cells[6] = r->outcome;
        cells[7] = strcmp(r->detail, "{}") == 0 ? "" : r->detail;
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, 0, cli_term_width());
    cli_table_free(t);
}

/* Parses the list options into q (and -o FILE into *output when it is not
 * NULL); EXIT_OK, -1 for --help, or an exit code. */
static int list_options(cli *c, Dangan__V1__AuditQueryRequest *q, uint32_t *limit,
                        const char **output)
{
    static const struct option opts[] = {
        {"user", required_argument, NULL, OPT_USER},
        {"action", required_argument, NULL, OPT_ACTION},
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"outcome", required_argument, NULL, OPT_OUTCOME},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *customer = NULL;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK &&
           (opt = getopt_long(c->argc, c->argv, output ? "ho:" : "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
        case OPT_OUTPUT:
            if (!output)
                rc = cli_bad_option(c);
            else
                *output = optarg;
            break;
        case OPT_USER:
            cli_replace_str(&q->username, optarg);
            break;
        case OPT_ACTION:
            cli_replace_str(&q->action, optarg);
            break;
        case OPT_CUSTOMER:
            customer = optarg;
            break;
        case OPT_SINCE:
            if (cli_parse_time(optarg, &q->since_ms) != 0)
                rc = cli_usage(c, "bad --since \"%s\": use 2026-11-22 or 2026-11-22T09:30", optarg);
            break;
        case OPT_UNTIL:
            if (cli_parse_time(optarg, &q->until_ms) != 0)
                rc = cli_usage(c, "bad --until \"%s\": use 2026-11-22 or 2026-11-22T09:30", optarg);
            break;
        case OPT_OUTCOME:
            if (strcmp(optarg, "ok") != 0 && strcmp(optarg, "denied") != 0 &&
                strcmp(optarg, "error") != 0)
                rc = cli_usage(c, "bad --outcome \"%s\" (ok, denied or error)", optarg);
            else
                cli_replace_str(&q->outcome, optarg);
            break;
        case OPT_LIMIT:
            if (strcmp(optarg, "0") == 0)
                *limit = 0; /* all of them */
            else
                rc = cli_parse_count(c, "--limit", optarg, 100000000, limit);
            break;
        case 'h':
            return -1;
        default:
            rc = cli_bad_option(c);
        }
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "audit %s takes no arguments besides its options",
                       output ? "export" : "list");
    if (rc == EXIT_OK && customer) {
        rc = cli_customer_id(c, customer, &q->entity_id);
        if (rc == EXIT_OK)
            cli_replace_str(&q->entity, "customer");
    }
    return rc;
}

static int audit_list(cli *c)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__AuditQueryRequest *q;
    Dangan__V1__AuditRecord **all = NULL;
    dg_reply **replies = NULL;
    size_t n_all = 0, n_replies = 0;
    uint32_t limit = LIST_DEFAULT;
    json_t *arr;
    int rc;

    req->body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    q = req->audit_query =
        (Dangan__V1__AuditQueryRequest *)cli_msg_new(&dangan__v1__audit_query_request__descriptor);
    rc = list_options(c, q, &limit, NULL);
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        return help(LIST_HELP);
    }
    /* Pages of up to PAGE_MAX until `limit` records (or all of them, limit 0). */
    while (rc == EXIT_OK) {
        const Dangan__V1__AuditQueryResponse *page;
        dg_reply *r;
        size_t want = limit ? limit - n_all : PAGE_MAX;

        q->limit = (uint32_t)(want < PAGE_MAX ? want : PAGE_MAX);
        if ((rc = cli_rec_call(c, req, &r)) != EXIT_OK)
            break;
        replies = dg_xrealloc(replies, (n_replies + 1) * sizeof *replies);
        replies[n_replies++] = r;
        page = dg_reply_response(r)->audit_query;
        all = dg_xrealloc(all, (n_all + page->n_records + 1) * sizeof *all);
        memcpy(all + n_all, page->records, page->n_records * sizeof *all);
        n_all += page->n_records;
        if (!page->next_before_seq || (limit && n_all >= limit))
            break;
        q->before_seq = page->next_before_seq;
    }
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc == EXIT_OK) {
        if (c->is_json) {
            arr = json_array();
            for (size_t i = 0; i < n_all; i++)
                json_array_append_new(arr, record_json(all[i]));
            cli_print_json(arr);
        } else if (n_all == 0) {
            printf("No audit records match.\n");
        } else {
            print_table((const Dangan__V1__AuditRecord *const *)all, n_all);
        }
    }
    for (size_t i = 0; i < n_replies; i++)
        dg_reply_free(replies[i]);
    free(replies);
    free(all);
    return rc;
}

/* ------------------------------------------------------------ export */

static const char EXPORT_HELP[] =
    "usage: dangan audit export -o FILE.csv [--user U] [--action A] [--customer REF]\n"
    "                           [--since TIME] [--until TIME] [--outcome O] [--limit N]\n"
    "\n"
    "Writes the audit records that match (newest first; all of them unless --limit)\n"
    "to a CSV file (UTF-8 with a byte-order mark, so spreadsheet programs show\n"
    "Chinese correctly). Admins and auditors; every export is itself audited with\n"
    "its row count.\n";

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break. Text a spreadsheet would run as a formula (=, +, -, @ first; user
 * names are typed by anyone at the login prompt) gets a leading apostrophe. */
static void csv_field(FILE *f, const char *s, bool last)
{
    if (s[0] && strchr("=+-@", s[0]))
        fputc('\'', f);
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
}

static void csv_record(FILE *f, const Dangan__V1__AuditRecord *r)
{
    char seq[24], at[40], uid[24], eid[24], hash[65];

    snprintf(seq, sizeof seq, "%llu", (unsigned long long)r->seq);
    cli_time(r->at_ms, at, sizeof at);
    snprintf(uid, sizeof uid, "%lld", (long long)r->user_id);
    snprintf(eid, sizeof eid, "%lld", (long long)r->entity_id);
    dg_hex_encode(r->hash.data, r->hash.len < 32 ? r->hash.len : 32, hash);
    csv_field(f, seq, false);
    csv_field(f, at, false);
    csv_field(f, uid, false);
    csv_field(f, r->username, false);
    csv_field(f, r->peer, false);
    csv_field(f, r->action, false);
    csv_field(f, r->entity, false);
    csv_field(f, eid, false);
    csv_field(f, r->outcome, false);
    csv_field(f, r->detail, false);
    csv_field(f, hash, true);
}

/* The file, created or truncated with mode 0600: it holds personal data. */
static FILE *open_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (fd >= 0 && !f)
        close(fd);
    return f;
}

static int audit_export(cli *c)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__AuditExportRequest *x;
    Dangan__V1__AuditQueryRequest *q;
    const char *output = NULL;
    uint32_t limit = 0;
    size_t n_rows = 0;
    FILE *f = NULL;
    int rc;

    req->body_case = DANGAN__V1__REQUEST__BODY_AUDIT_EXPORT;
    x = req->audit_export = (Dangan__V1__AuditExportRequest *)cli_msg_new(
        &dangan__v1__audit_export_request__descriptor);
    q = x->query =
        (Dangan__V1__AuditQueryRequest *)cli_msg_new(&dangan__v1__audit_query_request__descriptor);
    rc = list_options(c, q, &limit, &output);
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        fputs(EXPORT_HELP, stdout);
        return EXIT_OK;
    }
    if (rc == EXIT_OK && !output)
        rc = cli_usage(c, "audit export: -o FILE.csv is required");
    if (rc == EXIT_OK && !(f = open_private(output)))
        rc = cli_usage(c, "cannot write %s: %s", output, strerror(errno));
    if (rc == EXIT_OK) {
        fputs("\xEF\xBB\xBF", f); /* UTF-8 BOM */
        fputs("seq,time,user_id,username,peer,action,entity,entity_id,outcome,detail,hash\r\n", f);
    }
    while (rc == EXIT_OK) {
        const Dangan__V1__AuditExportResponse *page;
        dg_reply *r;
        size_t want = limit ? limit - n_rows : PAGE_MAX;

        q->limit = (uint32_t)(want < PAGE_MAX ? want : PAGE_MAX);
        if ((rc = cli_rec_call(c, req, &r)) != EXIT_OK)
            break;
        page = dg_reply_response(r)->audit_export;
        for (size_t i = 0; i < page->n_records; i++)
            csv_record(f, page->records[i]);
        n_rows += page->n_records;
        q->before_seq = page->next_before_seq;
        dg_reply_free(r);
        if (!q->before_seq || (limit && n_rows >= limit))
            break;
    }
    dangan__v1__request__free_unpacked(req, NULL);
    if (f && fclose(f) != 0 && rc == EXIT_OK)
        rc = cli_fail(c, EXIT_SERVER, "UNKNOWN", "write_failed", "cannot write %s", output);
    if (rc != EXIT_OK) {
        if (f)
            remove(output); /* no half file that looks whole */
        return rc;
    }
    if (c->is_json)
        cli_print_json(json_pack("{s:s,s:I}", "file", output, "rows", (json_int_t)n_rows));
    else
        printf("Exported %zu audit record%s to %s.\n", n_rows, n_rows == 1 ? "" : "s", output);
    return EXIT_OK;
}

static json_t *head_json(const Dangan__V1__AuditHead *h)
{
    char hex[65] = "";

    if (h && h->hash.len == 32)
        dg_hex_encode(h->hash.data, 32, hex);
    return json_pack("{s:I,s:s}", "seq", (json_int_t)(h ? h->seq : 0), "hash", hex);
}

static const char *head_text(const Dangan__V1__AuditHead *h, char out[DG_AUDIT_HEAD_TEXT_LEN])
{
    static const uint8_t zero[32];

    dg_audit_head_format(h ? (int64_t)h->seq : 0, h && h->hash.len == 32 ? h->hash.data : zero,
                         out);
    return out;
}

static const char VERIFY_HELP[] =
    "usage: dangan audit verify [--head SEQ:HASH]\n"
    "\n"
    "Recomputes the audit log's hash chain on the server (admins and auditors) and\n"
    "names the first record that was changed, removed, inserted or reordered.\n"
    "Exit 0 when intact, 1 when not.\n"
    "  --head SEQ:HASH  a head saved earlier with `dangan audit head`: the log must\n"
    "                   still reach it, which also catches records cut off the end\n"
    "The server's data directory can also be checked offline:\n"
    "  dangand audit-verify --data DIR [--head SEQ:HASH]\n";

static int audit_verify(cli *c)
{
    static const struct option opts[] = {{"head", required_argument, NULL, OPT_HEAD},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__AuditVerifyRequest *v;
    const Dangan__V1__AuditVerifyResponse *res;
    char head[DG_AUDIT_HEAD_TEXT_LEN];
    int64_t seq;
    uint8_t hash[32];
    dg_reply *r;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY;
    v = req->audit_verify = (Dangan__V1__AuditVerifyRequest *)cli_msg_new(
        &dangan__v1__audit_verify_request__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_HEAD) {
            if (dg_audit_head_parse(optarg, &seq, hash) != DG_OK) {
                rc = cli_usage(
                    c, "bad --head \"%s\": use SEQ:HASH as `dangan audit head` prints it", optarg);
            } else {
                if (v->expect) /* the last --head wins */
                    dangan__v1__audit_head__free_unpacked(v->expect, NULL);
                v->expect =
                    (Dangan__V1__AuditHead *)cli_msg_new(&dangan__v1__audit_head__descriptor);
                v->expect->seq = (uint64_t)seq;
                v->expect->hash.data = dg_xmalloc(32);
                memcpy(v->expect->hash.data, hash, 32);
                v->expect->hash.len = 32;
            }
        } else if (opt == 'h') {
            rc = -1;
        } else {
            rc = cli_bad_option(c);
        }
    }
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        return help(VERIFY_HELP);
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "audit verify takes no arguments besides --head");
    if (rc == EXIT_OK)
        rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    res = dg_reply_response(r)->audit_verify;
    if (c->is_json) {
        json_t *o = json_pack("{s:b,s:I}", "ok", res->ok, "checked", (json_int_t)res->checked);

        json_object_set_new(o, "first_bad_seq",
                            res->ok ? json_null() : json_integer((json_int_t)res->first_bad_seq));
        if (!res->ok)
            json_object_set_new(o, "problem", json_string(res->problem));
        json_object_set_new(o, "head", head_json(res->head));
        cli_print_json(o);
    } else if (res->ok) {
        printf("Audit log intact: %llu records verified.\nhead %s\n",
               (unsigned long long)res->checked, head_text(res->head, head));
    } else {
        printf("Audit log BROKEN at record %llu: %s\n%llu records before it verified; the log "
               "ends at %s\n",
               (unsigned long long)res->first_bad_seq, res->problem,
               (unsigned long long)res->checked, head_text(res->head, head));
    }
    rc = res->ok ? EXIT_OK : EXIT_SERVER;
    dg_reply_free(r);
    return rc;
}

static int audit_head(cli *c)
{
    Dangan__V1__Request *req;
    const Dangan__V1__AuditHead *h;
    char head[DG_AUDIT_HEAD_TEXT_LEN];
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv))
        return help("usage: dangan audit head\n\n"
                    "Prints the newest audit record's SEQ:HASH. Keep it somewhere the server\n"
                    "cannot reach; `dangan audit verify --head SEQ:HASH` later proves that no\n"
                    "record up to it was cut off or rewritten.\n");
    if (c->argc != 1)
        return cli_usage(c, "audit head takes no arguments");
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_AUDIT_HEAD;
    req->audit_head =
        (Dangan__V1__AuditHeadRequest *)cli_msg_new(&dangan__v1__audit_head_request__descriptor);
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    h = dg_reply_response(r)->audit_head->head;
    if (c->is_json)
        cli_print_json(head_json(h));
    else
        printf("%s\n", head_text(h, head));
    dg_reply_free(r);
    return EXIT_OK;
}

int cmd_audit(cli *c)
{
    static const cli_sub subs[] = {
        {"list", audit_list,
         "list [--user U] [--action A] [--customer REF] [--since TIME] [--until TIME] "
         "[--outcome ok|denied|error] [--limit N]"},
        {"export", audit_export, "export -o FILE.csv [list filters]"},
        {"verify", audit_verify, "verify [--head SEQ:HASH]"},
        {"head", audit_head, "head"},
    };

    return cli_subcommand(c, "audit", subs, DG_ARRAY_LEN(subs),
                          "The tamper-evident audit log (admins and auditors).\n");
}
