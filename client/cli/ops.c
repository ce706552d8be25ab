/* ops.c - the mutations every record kind shares: create (with the report of
 * likely duplicate customers), edit by version and update mask (with the
 * report of a conflict), archive and restore, and how their results print.
 *
 * Usage errors are found before anything is sent: the record is built and
 * every FIELD=VALUE parsed first, then REFs are resolved and the request
 * goes out. Under --json stdout gets the server's response body (e.g. the
 * UpdateResponse); failures go to stderr. Single-threaded.
 */
#include "rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"

#define TEXT_MAX 1024

/* ------------------------------------------------------------ edits */

void cli_edits_add(cli_edits *e, const char *item, bool is_unset)
{
    e->items = dg_xrealloc(e->items, (e->n + 1) * sizeof *e->items);
    e->is_unset = dg_xrealloc(e->is_unset, (e->n + 1) * sizeof *e->is_unset);
    e->items[e->n] = item;
    e->is_unset[e->n++] = is_unset;
}

void cli_edits_fini(cli_edits *e)
{
    free(e->items);
    free(e->is_unset);
    memset(e, 0, sizeof *e);
}

int cli_edits_apply(cli *c, const cli_kind *k, ProtobufCMessage *m, const cli_edits *e,
                    char ***mask, size_t *n_mask)
{
    for (size_t i = 0; i < e->n; i++) {
        int rc = cli_field_assign(c, k, m, e->items[i], e->is_unset[i], mask, n_mask);

        if (rc != EXIT_OK)
            return rc;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------ results */

/* What names a record in one line: "C-000001 北京天坛家具", "张三", "CNY 12.00". */
static const char *record_title(const cli_kind *k, const ProtobufCMessage *m, char *buf, size_t len)
{
    static const char *const names[] = {"name", "summary", "title", "amount", "text"};

    buf[0] = '\0';
    if (k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        return cli_customer_label(m, buf, len);
    for (size_t i = 0; i < DG_ARRAY_LEN(names); i++)
        if (cli_field_text(m, names[i], buf, len))
            break;
    return buf;
}

/* One line for people: "Added note #7 电话回访 (version 1)". */
static void print_done(cli *c, const char *verb, const cli_kind *k, const ProtobufCMessage *m,
                       const char *suffix)
{
    char title[TEXT_MAX];

    (void)c;
    record_title(k, m, title, sizeof title);
    if (k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        printf("%s customer %s (id %lld, version %lld)%s\n", verb, title,
               (long long)cli_msg_i64(m, "id"), (long long)cli_msg_i64(m, "version"), suffix);
    else
        printf("%s %s #%lld %s (version %lld)%s\n", verb, k->name, (long long)cli_msg_i64(m, "id"),
               title, (long long)cli_msg_i64(m, "version"), suffix);
}

/* Prints a successful mutation's reply; `verb` and `suffix` for people. */
static void print_result(cli *c, const cli_kind *k, const Dangan__V1__Response *resp,
                         const char *verb, const char *suffix)
{
    const ProtobufCMessage *body = cli_response_body(resp);
    const Dangan__V1__Record *rec = NULL;

    if (c->is_json) {
        cli_print_json(body ? cli_pb_to_json(body) : json_object());
        return;
    }
    if (body) /* Create/Update/Archive/RestoreResponse all start with `Record record = 1` */
        rec =
            *(Dangan__V1__Record *const *)((const char *)body + body->descriptor->fields[0].offset);
    if (rec && cli_record_body(rec))
        print_done(c, verb, k, cli_record_body(rec), suffix);
}

/* ------------------------------------------------------------ create */

/* ALREADY_EXISTS with likely duplicates: who they are (one Get each). */
static int report_duplicates(cli *c, const Dangan__V1__Status *st,
                             const Dangan__V1__CreateResponse *cr)
{
    json_t *dups = json_array();

    if (!c->is_json)
        fprintf(stderr, "dangan: not created: this looks like a customer who is already on file\n");
    for (size_t i = 0; i < cr->n_duplicates; i++) {
        const Dangan__V1__DuplicateHint *h = cr->duplicates[i];
        const Dangan__V1__Customer *cu = NULL;
        dg_reply *r = NULL;
        const char *owner = "";

        if (cli_rec_peek(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, h->customer_id, &r))
            cu = dg_reply_response(r)->get->record->customer;
        if (cu && cu->owner)
            owner = cu->owner->username;
        json_array_append_new(
            dups, json_pack("{s:I,s:s,s:s,s:s,s:s}", "customer_id", (json_int_t)h->customer_id,
                            "code", cu ? cu->code : h->code, "name", cu ? cu->name : h->name,
                            "owner", owner, "matched_on", h->matched_on));
        if (!c->is_json)
            fprintf(stderr, "  same %s as %s %s (id %lld, owner %s)\n", h->matched_on,
                    cu ? cu->code : "customer", cu ? cu->name : "", (long long)h->customer_id,
                    owner[0] ? owner : "unknown");
        dg_reply_free(r);
    }
    if (c->is_json)
        return cli_fail_status(c, st, json_pack("{s:o}", "duplicates", dups));
    json_decref(dups);
    fprintf(stderr, "If it is a different customer, add it anyway with --force.\n");
    return EXIT_EXISTS;
}

int cli_op_create(cli *c, const cli_kind *k, Dangan__V1__Record *rec, bool allow_duplicate,
                  const char *parent_label)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__CreateRequest *cr =
        (Dangan__V1__CreateRequest *)cli_msg_new(&dangan__v1__create_request__descriptor);
    const Dangan__V1__Status *st;
    char suffix[256] = "";
    dg_reply *r;
    int rc;

    cr->record = rec;
    cr->allow_duplicate = allow_duplicate;
    req->body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req->create = cr;
    rc = cli_rec_send(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    st = dg_reply_response(r)->status;
    if (st->code == DANGAN__V1__CODE__OK) {
        if (parent_label)
            snprintf(suffix, sizeof suffix, " for customer %s", parent_label);
        print_result(c, k, dg_reply_response(r), "Added", suffix);
    } else if (st->code == DANGAN__V1__CODE__ALREADY_EXISTS && dg_reply_response(r)->create &&
               dg_reply_response(r)->create->n_duplicates) {
        rc = report_duplicates(c, st, dg_reply_response(r)->create);
    } else {
        rc = cli_fail_status(c, st, NULL);
    }
    dg_reply_free(r);
    return rc;
}

/* ------------------------------------------------------------ edit */

/* ABORTED: what the others changed, as it is now. */
static int report_conflict(cli *c, const Dangan__V1__Status *st,
                           const Dangan__V1__UpdateResponse *u)
{
    const ProtobufCMessage *cur = u && u->record ? cli_record_body(u->record) : NULL;
    char value[TEXT_MAX];

    if (c->is_json) {
        json_t *fields = json_array();

        for (size_t i = 0; i < st->n_conflicting_fields; i++)
            json_array_append_new(fields, json_string(st->conflicting_fields[i]));
        return cli_fail_status(c, st,
                               json_pack("{s:o,s:o}", "conflicting_fields", fields, "record",
                                         cur ? cli_pb_to_json(&u->record->base) : json_null()));
    }
    fprintf(stderr, "dangan: %s\n", st->message);
    for (size_t i = 0; cur && i < st->n_conflicting_fields; i++) {
        bool is_set = cli_field_text(cur, st->conflicting_fields[i], value, sizeof value);

        fprintf(stderr, "  %s is now: %s\n", st->conflicting_fields[i],
                is_set || value[0] ? value : "(empty)");
    }
    if (cur)
        fprintf(stderr, "Check these, then repeat with --version %lld to apply your change.\n",
                (long long)cli_msg_i64(cur, "version"));
    return EXIT_CONFLICT;
}

/* The id (and, when *version is 0, the current version) of record `ref`. */
static int resolve_for_edit(cli *c, const cli_kind *k, const char *ref, int64_t *id,
                            int64_t *version)
{
    bool is_customer = k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    dg_reply *r;
    int rc;

    if (!cli_is_id(ref, id) && !is_customer)
        return cli_parse_id(c, ref, "ID", id);
    if (*version && cli_is_id(ref, id))
        return EXIT_OK;
    rc = cli_rec_get(c, k->kind, cli_is_id(ref, id) ? *id : 0, ref, false, &r);
    if (rc != EXIT_OK)
        return rc;
    *id = cli_msg_i64(cli_record_body(dg_reply_response(r)->get->record), "id");
    if (!*version)
        *version = cli_msg_i64(cli_record_body(dg_reply_response(r)->get->record), "version");
    dg_reply_free(r);
    return EXIT_OK;
}

static void mask_text(char *const *mask, size_t n, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, ":");

    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, " %s%s", mask[i], i + 1 < n ? "," : "");
}

/* A customer set to lost needs a churn reason: asked for on a terminal
 * when the edit gives none (the server refuses it without one). */
static int ask_churn_reason(cli *c, const cli_kind *k, ProtobufCMessage *body, char ***mask,
                            size_t *n_mask)
{
    Dangan__V1__Customer *cu = (Dangan__V1__Customer *)body;
    char reason[512];
    bool sets_status = false;

    if (k->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER ||
        cu->status != DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST)
        return EXIT_OK;
    for (size_t i = 0; i < *n_mask; i++) {
        if (strcmp((*mask)[i], "churn_reason") == 0)
            return EXIT_OK;
        sets_status |= strcmp((*mask)[i], "status") == 0;
    }
    if (!sets_status || c->is_json || !isatty(STDIN_FILENO))
        return EXIT_OK; /* the server says churn_reason_required */
    if (cli_read_text("Why was this customer lost (churn reason)? ", reason, sizeof reason) !=
            DG_OK ||
        !reason[0])
        return cli_usage(c, "a lost customer needs a churn reason (--reason TEXT)");
    cli_replace_str(&cu->churn_reason, reason);
    *mask = dg_xrealloc(*mask, (*n_mask + 1) * sizeof **mask);
    (*mask)[(*n_mask)++] = dg_xstrdup("churn_reason");
    return EXIT_OK;
}

int cli_op_edit(cli *c, const cli_kind *k, const char *ref, const cli_edits *e, int64_t version,
                const char *verb)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__UpdateRequest *u =
        (Dangan__V1__UpdateRequest *)cli_msg_new(&dangan__v1__update_request__descriptor);
    const Dangan__V1__Status *st;
    ProtobufCMessage *body;
    char fields[TEXT_MAX];
    int64_t id = 0;
    dg_reply *r;
    int rc;

    req->body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req->update = u;
    u->record = cli_record_new(k, &body);
    if (e->n == 0)
        rc = cli_usage(c, "nothing to change: give --set FIELD=VALUE or --unset FIELD");
    else if ((rc = cli_edits_apply(c, k, body, e, &u->update_mask, &u->n_update_mask)) == EXIT_OK)
        rc = resolve_for_edit(c, k, ref, &id, &version);
    if (rc == EXIT_OK)
        rc = ask_churn_reason(c, k, body, &u->update_mask, &u->n_update_mask);
    if (rc == EXIT_OK) {
        cli_msg_set_i64(body, "id", id);
        u->expected_version = version;
        mask_text(u->update_mask, u->n_update_mask, fields, sizeof fields);
        rc = cli_rec_send(c, req, &r);
    }
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    st = dg_reply_response(r)->status;
    if (st->code == DANGAN__V1__CODE__OK)
        print_result(c, k, dg_reply_response(r), verb ? verb : "Saved", verb ? "" : fields);
    else if (st->code == DANGAN__V1__CODE__ABORTED)
        rc = report_conflict(c, st, dg_reply_response(r)->update);
    else
        rc = cli_fail_status(c, st, NULL);
    dg_reply_free(r);
    return rc;
}

/* ------------------------------------------------------------ archive, restore */

int cli_op_archive(cli *c, const cli_kind *k, const char *ref, bool archive, const char *verb)
{
    Dangan__V1__Request *req = cli_request_new();
    int64_t id;
    dg_reply *r;
    int rc;

    if (k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        rc = cli_customer_id(c, ref, &id);
    else
        rc = cli_parse_id(c, ref, "ID", &id);
    if (rc == EXIT_OK && archive) {
        Dangan__V1__ArchiveRequest *a =
            (Dangan__V1__ArchiveRequest *)cli_msg_new(&dangan__v1__archive_request__descriptor);

        a->kind = k->kind;
        a->id = id;
        req->body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
        req->archive = a;
    } else if (rc == EXIT_OK) {
        Dangan__V1__RestoreRequest *a =
            (Dangan__V1__RestoreRequest *)cli_msg_new(&dangan__v1__restore_request__descriptor);

        a->kind = k->kind;
        a->id = id;
        req->body_case = DANGAN__V1__REQUEST__BODY_RESTORE;
        req->restore = a;
    }
    if (rc == EXIT_OK)
        rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    print_result(c, k, dg_reply_response(r), verb, "");
    dg_reply_free(r);
    return EXIT_OK;
}
