/* h_query.c - Get (with the whole dossier), List, Search, and custom fields.
 *
 * Reads run as jobs: a Get on the loop's own connection
 * (dg_server_read_here), the others on the reader pool; each in one read
 * transaction that also reads the change-feed head: the snapshot cursor in
 * the reply marks exactly the state the answer reflects (docs/protocol.md),
 * so "read, then subscribe from the snapshot" misses nothing. Records come back in the request's
 * arena and are converted to protobuf on the loop thread.
 * List pages are keyset-paginated: the cursor holds the sort key (with its
 * storage class) and id of the last row, so a page costs the same anywhere
 * in the list and rows inserted meanwhile neither repeat nor shift others;
 * no COUNT(*).
 * Loop thread; the *_run functions on a reader, or on the loop for a Get.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "audit.h"
#include "clock.h"
#include "dg.h"
#include "h_common.h"
#include "record_pb.h"
#include "handlers.h"
#include "hex.h"
#include "text.h"
#include "utf8.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000
#define SEARCH_DEFAULT 20
#define SEARCH_MAX 200
#define SEARCH_MAX_SCAN 5000
#define RECENT_DEFAULT 20
#define RECENT_MAX 200
#define EXPR_MAX 1024

enum query { Q_GET, Q_LIST, Q_SEARCH, Q_FIELDS };

struct read_job {
    dg_job job;
    dg_job catch_up; /* search: the writer's apply of search_queue, first */
    int searched_rc; /* search in the writer (search_in_writer_run): its outcome */
    dg_req *req;
    enum query q;
    /* get */
    enum dg_kind kind;
    int64_t id;
    const char *code;
    bool want_dossier;
    uint32_t recent;
    dg_record *rec;
    dg_record *customer;  /* get, and lists of one customer's children: whose dossier */
    dg_record **dossiers; /* lists of children: each record's customer (NULL: unknown) */
    dg_dossier dossier;
    /* list, search */
    dg_list_query lq;
    const char *sort_name;
    bool is_pool; /* PoolList: answered as such */
    dg_list_page page;
    char expr[EXPR_MAX];
    uint32_t limit;
    dg_search_hit *hits;
    size_t n_hits;
    /* fields */
    dg_custom_field *fields;
    size_t n_fields;
    int64_t snapshot;
};

/* Each listed child's customer (owner and tier decide masking and auditing),
 * read in the list's own transaction; a page's children mostly share a few. */
static int load_dossiers(dg_store *st, struct read_job *j, dg_arena *a)
{
    size_t n = j->page.n;
    int rc = DG_OK;

    if (!(j->dossiers = dg_arena_calloc(a, n ? n : 1, sizeof *j->dossiers)))
        return DG_ENOMEM;
    for (size_t i = 0; i < n && rc == DG_OK; i++) {
        int64_t cid = j->page.records[i]->customer_id;

        for (size_t k = 0; k < i && !j->dossiers[i]; k++)
            if (j->dossiers[k] && j->dossiers[k]->id == cid)
                j->dossiers[i] = j->dossiers[k];
        if (!j->dossiers[i])
            rc = dg_store_rec_get(st, DG_KIND_CUSTOMER, cid, a, &j->dossiers[i]);
    }
    return rc;
}

static void read_run(dg_job *job, void *ctx)
{
    struct read_job *j = (struct read_job *)job;
    dg_store *st = ctx;
    dg_arena *a = j->req->arena;
    int rc;

    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    switch (j->q) {
    case Q_GET:
        rc = j->code ? dg_store_customer_by_code(st, j->code, a, &j->rec)
                     : dg_store_rec_get(st, j->kind, j->id, a, &j->rec);
        if (rc == DG_OK)
            rc = j->rec->kind == DG_KIND_CUSTOMER
                     ? (j->customer = j->rec, DG_OK)
                     : dg_store_rec_get(st, DG_KIND_CUSTOMER, j->rec->customer_id, a, &j->customer);
        if (rc == DG_OK && j->want_dossier)
            rc = dg_store_dossier(st, j->rec->id, j->recent, a, &j->dossier);
        break;
    case Q_LIST:
        rc = dg_store_rec_list(st, &j->lq, a, &j->page);
        if (rc == DG_OK && j->lq.kind != DG_KIND_CUSTOMER)
            rc = load_dossiers(st, j, a);
        break;
    case Q_SEARCH:
        rc = dg_store_search(st, j->expr, &j->lq, j->limit, SEARCH_MAX_SCAN, a, &j->hits,
                             &j->n_hits);
        break;
    case Q_FIELDS:
        rc = dg_store_field_list(st, a, &j->fields, &j->n_fields);
        break;
    }
    if (rc == DG_OK)
        rc = dg_store_feed_head(st, &j->snapshot);
    dg_store_read_end(st);
    job->rc = rc;
}

static Dangan__V1__Cursor *snapshot(dg_req *req, int64_t seq)
{
    Dangan__V1__Cursor *c = dg_req_alloc(req, sizeof *c);

    dangan__v1__cursor__init(c);
    c->epoch = dg_server_feed_epoch(req->srv);
    c->seq = (uint64_t)seq;
    return c;
}

/* ------------------------------------------------------------ permissions (perm.c) */

/* Lists and searches: restricted tiers the user does not own are left out
 * inside the query. */
static void scope(dg_req *req, dg_list_query *q)
{
    dg_perm_who who = dg_h_who(req);

    if (dg_perm_sees_all(who.role))
        return;
    q->n_restricted = dg_perm_restricted_names(who.restricted, q->restricted);
    q->viewer_id = who.user_id;
}

/* Masks sensitive fields in place for users who may not see them. */
static int mask(dg_req *req, const dg_perm_who *who, int64_t owner, dg_record **recs, size_t n)
{
    int rc = DG_OK;

    for (size_t i = 0; i < n && rc == DG_OK; i++)
        rc = dg_perm_mask_record(
            who, recs[i]->kind == DG_KIND_CUSTOMER ? dg_customer_owner(recs[i]) : owner, recs[i],
            req->arena);
    return rc;
}

static int mask_dossier(dg_req *req, const dg_perm_who *who, int64_t owner, dg_dossier *d)
{
    int rc = mask(req, who, owner, d->contacts, d->n_contacts);

    if (rc == DG_OK)
        rc = mask(req, who, owner, d->interactions, d->n_interactions);
    if (rc == DG_OK)
        rc = mask(req, who, owner, d->deals, d->n_deals);
    if (rc == DG_OK)
        rc = mask(req, who, owner, d->open_tasks, d->n_open_tasks);
    if (rc == DG_OK)
        rc = mask(req, who, owner, d->feedback, d->n_feedback);
    return rc;
}

/* Replies, after auditing the read when the page shows restricted customers
 * (docs/security.md: every read of a restricted record is on record): one audit
 * record for the page, naming them. `dossiers`: each child's customer
 * (unused for a page of customers). */
static void reply_audited(dg_req *req, const dg_perm_who *who, const dg_record *const *recs,
                          size_t n, dg_record *const *dossiers)
{
    json_t *ids;

    if (dg_req_is_over_budget(req)) { /* refused whole (dg_req_reply): nothing was read */
        dg_req_reply(req);
        return;
    }
    ids = json_array();
    for (size_t i = 0; i < n; i++) {
        const dg_record *c = recs[i]->kind == DG_KIND_CUSTOMER ? recs[i] : dossiers[i];

        if (c && dg_perm_is_restricted(who, dg_customer_tier(c)))
            json_array_append_new(ids, json_integer((json_int_t)recs[i]->id));
    }
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        dg_req_reply(req);
        return;
    }
    dg_h_audit_then_reply(
        req, dg_entity_get(recs[0]->kind)->name, 0,
        json_pack("{s:s,s:o}", "kind", dg_entity_get(recs[0]->kind)->name, "restricted_ids", ids));
}

static void submit_read(dg_req *req, struct read_job *j, void (*done)(dg_job *))
{
    int rc;

    j->req = req;
    j->job.run = read_run;
    j->job.done = done;
    /* A get (with its dossier) is bounded by the request: the loop runs it
     * itself; lists and searches go to the reader pool. */
    rc = j->q == Q_GET ? dg_server_read_here(req->srv, &j->job) : dg_server_read(req->srv, &j->job);
    if (rc != DG_OK) {
        free(j);
        dg_h_fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ get */

static Dangan__V1__Dossier *dossier_pb(dg_req *req, const dg_dossier *d)
{
    Dangan__V1__Dossier *p = dg_req_alloc(req, sizeof *p);
    Dangan__V1__FeedbackSummary *fs = dg_req_alloc(req, sizeof *fs);

    dangan__v1__dossier__init(p);
    dangan__v1__feedback_summary__init(fs);
#define LIST_OF(dst, n_dst, src, n_src)                                                            \
    do {                                                                                           \
        (dst) = dg_req_alloc(req, ((n_src) ? (n_src) : 1) * sizeof *(dst));                        \
        for (size_t i_ = 0; i_ < (n_src); i_++)                                                    \
            (dst)[i_] = (void *)dg_record_body_to_pb(req, (src)[i_]);                              \
        (n_dst) = (n_src);                                                                         \
    } while (0)
    LIST_OF(p->contacts, p->n_contacts, d->contacts, d->n_contacts);
    LIST_OF(p->recent_interactions, p->n_recent_interactions, d->interactions, d->n_interactions);
    LIST_OF(p->deals, p->n_deals, d->deals, d->n_deals);
    LIST_OF(p->open_tasks, p->n_open_tasks, d->open_tasks, d->n_open_tasks);
    LIST_OF(p->recent_feedback, p->n_recent_feedback, d->feedback, d->n_feedback);
#undef LIST_OF
    p->interaction_count = d->interaction_count;
    p->deal_totals = dg_req_alloc(req, (d->n_totals ? d->n_totals : 1) * sizeof *p->deal_totals);
    for (size_t i = 0; i < d->n_totals; i++) {
        Dangan__V1__MoneyTotal *t = dg_req_alloc(req, sizeof *t);

        dangan__v1__money_total__init(t);
        t->currency = (char *)d->totals[i].currency;
        t->amount_minor = d->totals[i].amount;
        t->count = d->totals[i].count;
        p->deal_totals[i] = t;
    }
    p->n_deal_totals = d->n_totals;
    fs->total = d->fb_total;
    fs->open = d->fb_open;
    fs->average_satisfaction = d->fb_average;
    fs->complaints = d->fb_complaints;
    fs->suggestions = d->fb_suggestions;
    fs->praise = d->fb_praise;
    fs->surveys = d->fb_surveys;
    p->feedback_summary = fs;
    return p;
}

static void get_done(dg_job *job)
{
    struct read_job *j = (struct read_job *)job;
    dg_req *req = j->req;
    Dangan__V1__GetResponse *r;
    dg_perm_who who;
    const char *entity = dg_entity_get(j->kind)->name;
    int rc = job->rc;

    if (rc == DG_OK) {
        who = dg_h_who(req);
        if (!dg_perm_sees(&who, dg_customer_owner(j->customer), dg_customer_tier(j->customer))) {
            /* It does not exist for this user: answered as a missing one, audited. */
            dg_h_not_found(req, true, entity, j->rec->id, "no such %s", entity);
            free(j);
            return;
        }
        rc = dg_perm_mask_record(&who, dg_customer_owner(j->customer), j->rec, req->arena);
        if (rc == DG_OK && j->want_dossier)
            rc = mask_dossier(req, &who, dg_customer_owner(j->customer), &j->dossier);
    }
    if (rc == DG_ENOTFOUND) {
        dg_h_not_found(req, false, entity, 0, "no such %s", entity);
    } else if (rc != DG_OK) {
        dg_h_fail_job(req, rc);
    } else {
        r = dg_req_alloc(req, sizeof *r);
        dangan__v1__get_response__init(r);
        r->record = dg_record_to_pb(req, j->rec);
        if (j->want_dossier)
            r->dossier = dossier_pb(req, &j->dossier);
        r->snapshot = snapshot(req, j->snapshot);
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_GET;
        req->resp.get = r;
        /* Every read of a restricted customer's file is audited (docs/security.md). */
        if (dg_perm_is_restricted(&who, dg_customer_tier(j->customer)))
            dg_h_audit_then_reply(req, entity, j->rec->id,
                                  json_pack("{s:I,s:b}", "customer_id", (json_int_t)j->customer->id,
                                            "dossier", j->want_dossier));
        else
            dg_req_reply(req);
    }
    free(j);
}

void dg_h_get(dg_req *req)
{
    const Dangan__V1__GetRequest *m = req->msg->get;
    struct read_job *j;

    if (!dg_entity_get((enum dg_kind)m->kind))
        dg_req_violation(req, "kind", "required");
    else if (m->id <= 0 &&
             !(m->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER && m->code[0]))
        dg_req_violation(req, "id", "an id (or, for customers, a code) is required");
    if (m->dossier && m->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        dg_req_violation(req, "dossier", "only customers have a dossier");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s",
                    req->status.field_violations[0]->description);
        return;
    }
    j = dg_xcalloc(1, sizeof *j);
    j->q = Q_GET;
    j->kind = (enum dg_kind)m->kind;
    j->id = m->id;
    j->code = m->id <= 0 ? m->code : NULL;
    j->want_dossier = m->dossier;
    j->recent =
        m->recent_interactions ? DG_MIN(m->recent_interactions, RECENT_MAX) : RECENT_DEFAULT;
    submit_read(req, j, get_done);
}

/* ------------------------------------------------------------ list filter, sort, cursor */

static const char *const *enum_names(dg_req *req, const ProtobufCEnumDescriptor *d,
                                     const int *values, size_t n)
{
    const char **out = dg_req_alloc(req, (n ? n : 1) * sizeof *out);
    char buf[64];

    for (size_t i = 0; i < n; i++) {
        const char *name = dg_enum_name(d, values[i], buf, sizeof buf);

        out[i] = dg_req_strdup(req, name ? name : "");
    }
    return out;
}

/* The deal stages of the filter: names of the team's pipeline, at most 8;
 * false (answered) otherwise, listing the stages. */
static bool stages_from(dg_req *req, const Dangan__V1__ListFilter *f, dg_list_query *q)
{
    dg_team team;
    char list[DG_STAGES_MAX * DG_STAGE_NAME_MAX];
    size_t n = 0;

    if (f->n_stages == 0)
        return true;
    if (f->n_stages > 8) {
        dg_req_violation(req, "filter.stages", "at most 8 stages");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "filter.stages: at most 8 stages");
        return false;
    }
    dg_server_team(req->srv, &team);
    for (size_t i = 0; i < f->n_stages; i++) {
        if (dg_team_stage(&team, f->stages[i]))
            continue;
        list[0] = '\0';
        for (int k = 0; k < team.n_stages; k++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "",
                                  team.stages[k].name);
        dg_req_violation(req, "filter.stages", "not a stage of the pipeline");
        dg_req_fail(req, DG_EINVAL, "unknown_stage", "unknown stage \"%s\"; the stages are: %s",
                    f->stages[i], list);
        return false;
    }
    q->stages = (const char *const *)f->stages;
    q->n_stages = f->n_stages;
    return true;
}

/* Fills q's filter from the protobuf one; false (answered) on a bad filter. */
static bool filter_from(dg_req *req, enum dg_kind kind, const Dangan__V1__ListFilter *f,
                        dg_list_query *q)
{
    q->kind = kind;
    if (!f)
        return true;
    q->tiers = enum_names(req, &dangan__v1__tier__descriptor, (const int *)f->tiers, f->n_tiers);
    q->n_tiers = DG_MIN(f->n_tiers, 8);
    q->statuses = enum_names(req, &dangan__v1__customer_status__descriptor,
                             (const int *)f->statuses, f->n_statuses);
    q->n_statuses = DG_MIN(f->n_statuses, 8);
    q->intentions = enum_names(req, &dangan__v1__intention__descriptor, (const int *)f->intentions,
                               f->n_intentions);
    q->n_intentions = DG_MIN(f->n_intentions, 8);
    q->values = enum_names(req, &dangan__v1__customer_value__descriptor, (const int *)f->values,
                           f->n_values);
    q->n_values = DG_MIN(f->n_values, 8);
    q->industry = f->industry[0] ? f->industry : NULL;
    q->region = f->region[0] ? f->region : NULL;
    q->tag = f->tag[0] ? f->tag : NULL;
    q->owner_id = f->owner_id;
    if (f->owner[0]) {
        const dg_user_info *u =
            strcmp(f->owner, "me") == 0
                ? dg_users_by_id(dg_server_users(req->srv), dg_conn_session(req->conn)->user_id)
                : dg_users_by_name(dg_server_users(req->srv), f->owner);

        if (!u) {
            dg_req_violation(req, "filter.owner", "no such user");
            dg_req_fail(req, DG_EINVAL, "invalid_argument", "filter.owner: no such user");
            return false;
        }
        q->owner_id = u->id;
    }
    if (f->n_custom) {
        dg_custom_value *cv = dg_req_alloc(req, f->n_custom * sizeof *cv);

        for (size_t i = 0; i < f->n_custom; i++)
            cv[i] = (dg_custom_value){f->custom[i]->name, f->custom[i]->value};
        q->custom = cv;
        q->n_custom = DG_MIN(f->n_custom, 4);
    }
    q->customer_id = f->customer_id;
    q->include_archived = f->include_archived;
    q->open_only = f->open_only;
    q->assignee_id = f->assignee_id;
    q->due_before = f->due_before_ms;
    return stages_from(req, f, q);
}

/* Every sort a list accepts. `key` is the storage class of the column (the
 * schema's: all are NOT NULL in STRICT tables); a cursor's key must have it. */
static const struct {
    enum dg_kind kind; /* DG_KIND_NONE: every kind but customers */
    const char *name;
    const char *column;
    enum dg_key_type key;
} sorts[] = {
    {DG_KIND_CUSTOMER, "name", "name_key", DG_KEY_BLOB},
    {DG_KIND_CUSTOMER, "code", "code", DG_KEY_TEXT},
    {DG_KIND_CUSTOMER, "created", "id", DG_KEY_INT},
    {DG_KIND_CUSTOMER, "updated", "updated_at", DG_KEY_INT},
    {DG_KIND_CUSTOMER, "tier", "tier", DG_KEY_TEXT},
    {DG_KIND_CUSTOMER, "last_contact", "last_contact_at", DG_KEY_INT},
    {DG_KIND_NONE, "created", "id", DG_KEY_INT},
    {DG_KIND_NONE, "updated", "updated_at", DG_KEY_INT},
    {DG_KIND_INTERACTION, "at", "at_ms", DG_KEY_INT},
    {DG_KIND_DEAL, "at", "at_ms", DG_KEY_INT},
    {DG_KIND_FEEDBACK, "at", "at_ms", DG_KEY_INT},
    {DG_KIND_TASK, "due", "due_at_ms", DG_KEY_INT},
};

static bool sort_from(dg_req *req, enum dg_kind kind, const char *sort, dg_list_query *q,
                      const char **name, enum dg_key_type *key)
{
    bool desc = sort[0] == '-';
    const char *n = desc ? sort + 1 : sort;

    if (!n[0]) { /* defaults: customers by name, the rest newest first */
        n = kind == DG_KIND_CUSTOMER ? "name" : "created";
        desc = kind != DG_KIND_CUSTOMER;
    }
    for (size_t i = 0; i < DG_ARRAY_LEN(sorts); i++) {
        bool kind_fits =
            sorts[i].kind == kind || (sorts[i].kind == DG_KIND_NONE && kind != DG_KIND_CUSTOMER);

        if (kind_fits && strcmp(sorts[i].name, n) == 0) {
            q->sort_column = sorts[i].column;
            q->is_desc = desc;
            *name = sorts[i].name;
            *key = sorts[i].key;
            return true;
        }
    }
    dg_req_violation(req, "sort", "unknown sort for this kind of record");
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "cannot sort %ss by \"%s\"",
                dg_entity_get(kind)->name, n);
    return false;
}

/* Cursor text: base64url (no padding) of "v2|SORT|DIR|KEY|ID": DIR 1 for
 * descending; KEY "i:" and a decimal integer, "t:" and the hex of UTF-8
 * text, or "b:" and the hex of a blob: the key keeps its storage class, which
 * decides where it falls among the rows. Version 1 had no "t:": it wrote text
 * keys as "b:" (bound as blobs, they fell after every row), so a v1 "b:" key
 * is read with the class of its sort's column. */
static const char KEY_TAG[] = {[DG_KEY_INT] = 'i', [DG_KEY_TEXT] = 't', [DG_KEY_BLOB] = 'b'};

static char *cursor_encode(dg_req *req, const char *sort, bool desc, const dg_list_page *p)
{
    const dg_sort_key *k = &p->last_key;
    char *raw, *key, *out;
    size_t raw_len, out_len;

    if (k->type == DG_KEY_INT) {
        key = dg_req_printf(req, "%lld", (long long)k->i);
    } else {
        key = dg_req_alloc(req, k->len * 2 + 1);
        dg_hex_encode(k->data, k->len, key);
    }
    raw = dg_req_printf(req, "v2|%s|%d|%c:%s|%lld", sort, desc ? 1 : 0, KEY_TAG[k->type], key,
                        (long long)p->records[p->n - 1]->id);
    raw_len = strlen(raw);
    out = dg_req_alloc(req, raw_len * 2 + 8);
    mbedtls_base64_encode((unsigned char *)out, raw_len * 2 + 8, &out_len,
                          (const unsigned char *)raw, raw_len);
    for (size_t i = 0; i < out_len; i++) /* URL-safe, no padding: fits in a shell argument */
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (out_len && out[out_len - 1] == '=')
        out[--out_len] = '\0';
    return out;
}

/* Parses KEY ("i:…", "t:…", "b:…") into q->after_key; false if malformed or
 * not of the sort's class `want`. */
static bool key_decode(dg_req *req, char *key, int version, enum dg_key_type want, dg_list_query *q)
{
    dg_sort_key *k = &q->after_key;
    size_t hex_len;
    uint8_t *bytes;
    char *end;

    if (strncmp(key, "i:", 2) == 0) {
        k->type = DG_KEY_INT;
        k->i = strtoll(key + 2, &end, 10);
        return key[2] && !*end && want == DG_KEY_INT;
    }
    if (strncmp(key, "t:", 2) == 0 && version >= 2)
        k->type = DG_KEY_TEXT;
    else if (strncmp(key, "b:", 2) == 0)
        k->type = version == 1 && want == DG_KEY_TEXT ? DG_KEY_TEXT : DG_KEY_BLOB;
    else
        return false;
    hex_len = strlen(key + 2);
    bytes = dg_req_alloc(req, hex_len / 2 + 1);
    if (hex_len % 2 || dg_hex_decode(key + 2, bytes, hex_len / 2) != DG_OK)
        return false;
    k->data = bytes;
    k->len = hex_len / 2;
    if (k->type == DG_KEY_TEXT && !dg_utf8_valid((const char *)bytes, k->len))
        return false;
    return k->type == want;
}

static bool cursor_decode(dg_req *req, const char *text, const char *sort, bool desc,
                          enum dg_key_type want, dg_list_query *q)
{
    size_t n = strlen(text), raw_len;
    char *b64 = dg_req_alloc(req, n + 4), *raw = dg_req_alloc(req, n + 4), *key, *id, *end;
    char prefix[64];
    int version;

    for (size_t i = 0; i < n; i++)
        b64[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
    while (n % 4)
        b64[n++] = '=';
    if (mbedtls_base64_decode((unsigned char *)raw, n + 3, &raw_len, (unsigned char *)b64, n))
        goto bad;
    raw[raw_len] = '\0';
    if (strncmp(raw, "v2|", 3) == 0)
        version = 2;
    else if (strncmp(raw, "v1|", 3) == 0)
        version = 1;
    else
        goto bad;
    snprintf(prefix, sizeof prefix, "v%d|%s|%d|", version, sort, desc ? 1 : 0);
    if (strncmp(raw, prefix, strlen(prefix)) != 0) {
        dg_req_violation(req, "cursor", "the cursor belongs to a different sort");
        dg_req_fail(req, DG_EINVAL, "invalid_argument",
                    "cursor: it belongs to a different sort; start without one");
        return false;
    }
    key = raw + strlen(prefix);
    if (!(id = strrchr(key, '|')))
        goto bad;
    *id++ = '\0';
    q->after_id = strtoll(id, &end, 10);
    if (!*id || *end || !key_decode(req, key, version, want, q))
        goto bad;
    q->has_after = true;
    return true;
bad:
    dg_req_violation(req, "cursor", "not a cursor from a previous page");
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "cursor: not a cursor from a previous page");
    return false;
}

/* ------------------------------------------------------------ list */

static void list_done(dg_job *job)
{
    struct read_job *j = (struct read_job *)job;
    dg_req *req = j->req;
    Dangan__V1__ListResponse *r;
    dg_perm_who who = dg_h_who(req);
    int rc = job->rc;

    if (rc == DG_OK)
        for (size_t i = 0; rc == DG_OK && i < j->page.n; i++)
            rc = mask(req, &who, j->dossiers ? dg_customer_owner(j->dossiers[i]) : -1,
                      &j->page.records[i], 1);
    if (rc != DG_OK) {
        dg_h_fail_job(req, rc);
        free(j);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__list_response__init(r);
    r->records = dg_req_alloc(req, (j->page.n ? j->page.n : 1) * sizeof *r->records);
    /* over budget, the reply is refused whole: converting the rest is waste */
    while (r->n_records < j->page.n && !dg_req_is_over_budget(req)) {
        r->records[r->n_records] = dg_record_to_pb(req, j->page.records[r->n_records]);
        r->n_records++;
    }
    if (j->page.has_more && j->page.n)
        r->next_cursor = cursor_encode(req, j->sort_name, j->lq.is_desc, &j->page);
    r->snapshot = snapshot(req, j->snapshot);
    if (j->is_pool) {
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_POOL_LIST;
        req->resp.pool_list = r;
    } else {
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LIST;
        req->resp.list = r;
    }
    reply_audited(req, &who, (const dg_record *const *)j->page.records, j->page.n, j->dossiers);
    free(j);
}

void dg_h_list(dg_req *req)
{
    const Dangan__V1__ListRequest *m = req->msg->list;
    struct read_job *j;
    enum dg_kind kind = (enum dg_kind)m->kind;
    enum dg_key_type key;

    if (!dg_entity_get(kind)) {
        dg_req_violation(req, "kind", "required");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "kind: required");
        return;
    }
    j = dg_xcalloc(1, sizeof *j);
    j->q = Q_LIST;
    j->lq.limit = m->limit ? DG_MIN(m->limit, LIST_MAX) : LIST_DEFAULT;
    if (!filter_from(req, kind, m->filter, &j->lq) ||
        !sort_from(req, kind, m->sort, &j->lq, &j->sort_name, &key) ||
        (m->cursor[0] &&
         !cursor_decode(req, m->cursor, j->sort_name, j->lq.is_desc, key, &j->lq))) {
        free(j);
        return;
    }
    scope(req, &j->lq);
    submit_read(req, j, list_done);
}

/* The pool: a list of customers without an owner, answered as PoolList. */
void dg_h_pool_list(dg_req *req)
{
    const Dangan__V1__PoolListRequest *m = req->msg->pool_list;
    struct read_job *j;
    enum dg_key_type key;

    if (m->filter && (m->filter->owner_id || m->filter->owner[0] || m->filter->customer_id)) {
        dg_req_violation(req, "filter.owner", "pool customers have no owner");
        dg_req_fail(req, DG_EINVAL, "invalid_argument",
                    "filter.owner: pool customers have no owner");
        return;
    }
    j = dg_xcalloc(1, sizeof *j);
    j->q = Q_LIST;
    j->is_pool = true;
    j->lq.limit = m->limit ? DG_MIN(m->limit, LIST_MAX) : LIST_DEFAULT;
    if (!filter_from(req, DG_KIND_CUSTOMER, m->filter, &j->lq) ||
        !sort_from(req, DG_KIND_CUSTOMER, m->sort, &j->lq, &j->sort_name, &key) ||
        (m->cursor[0] &&
         !cursor_decode(req, m->cursor, j->sort_name, j->lq.is_desc, key, &j->lq))) {
        free(j);
        return;
    }
    j->lq.pool_only = true;
    j->lq.include_archived = false;
    scope(req, &j->lq);
    submit_read(req, j, list_done);
}

/* ------------------------------------------------------------ search */

static void search_done(dg_job *job)
{
    struct read_job *j = (struct read_job *)job;
    dg_req *req = j->req;
    Dangan__V1__SearchResponse *r;
    dg_perm_who who;

    if (job->rc == DG_EINVAL) {
        dg_req_violation(req, "query", "cannot be searched");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "query: cannot be searched");
        free(j);
        return;
    }
    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(j);
        return;
    }
    who = dg_h_who(req);
    for (size_t i = 0; i < j->n_hits; i++) {
        if (dg_perm_mask_record(&who, dg_customer_owner(j->hits[i].customer), j->hits[i].customer,
                                req->arena) != DG_OK) {
            dg_h_fail_job(req, DG_ENOMEM);
            free(j);
            return;
        }
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__search_response__init(r);
    r->hits = dg_req_alloc(req, (j->n_hits ? j->n_hits : 1) * sizeof *r->hits);
    for (size_t i = 0; i < j->n_hits; i++) {
        Dangan__V1__SearchHit *h = dg_req_alloc(req, sizeof *h);

        dangan__v1__search_hit__init(h);
        h->customer = (Dangan__V1__Customer *)dg_record_body_to_pb(req, j->hits[i].customer);
        h->score = j->hits[i].score;
        h->matched = dg_req_alloc(req, sizeof *h->matched);
        h->matched[0] = (char *)j->hits[i].matched;
        h->n_matched = 1;
        r->hits[i] = h;
    }
    r->n_hits = j->n_hits;
    r->snapshot = snapshot(req, j->snapshot);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_SEARCH;
    req->resp.search = r;
    {
        const dg_record **found = dg_req_alloc(req, (j->n_hits ? j->n_hits : 1) * sizeof *found);

        for (size_t i = 0; i < j->n_hits; i++)
            found[i] = j->hits[i].customer;
        reply_audited(req, &who, found, j->n_hits, NULL);
    }
    free(j);
}

static struct read_job *of_catch_up(dg_job *job)
{
    return (struct read_job *)((char *)job - offsetof(struct read_job, catch_up));
}

/* Writer thread: the search, with search_queue applied inside a
 * transaction the writer then rolls back (nothing of it is written). */
static void search_in_writer_run(dg_job *job, void *ctx)
{
    struct read_job *j = of_catch_up(job);
    dg_store *st = ((const dg_wtx *)ctx)->store;
    int rc = dg_store_search_apply(st);

    if (rc == DG_OK)
        rc = dg_store_search(st, j->expr, &j->lq, j->limit, SEARCH_MAX_SCAN, j->req->arena,
                             &j->hits, &j->n_hits);
    if (rc == DG_OK)
        rc = dg_store_feed_head(st, &j->snapshot);
    j->searched_rc = rc;
    job->rc = DG_EAGAIN; /* not a failure: it has the writer roll all of it back */
}

static void searched_in_writer(dg_job *job)
{
    struct read_job *j = of_catch_up(job);

    if (j->searched_rc == DG_OK || j->searched_rc == DG_EINVAL) {
        j->job.rc = j->searched_rc;
        search_done(&j->job);
    } else { /* the writer could not even read: the index as it is */
        submit_read(j->req, j, search_done);
    }
}

/* The index has what the answered writes queued: the search can go. If the
 * writer could not write them into it (a full disk, an I/O error), the
 * writer searches with them applied in a transaction it rolls back: the
 * answer still has every answered write, and nothing is written. */
static void search_caught_up(dg_job *job)
{
    struct read_job *j = of_catch_up(job);

    if (job->rc == DG_OK) {
        submit_read(j->req, j, search_done);
        return;
    }
    j->catch_up = (dg_job){.run = search_in_writer_run, .done = searched_in_writer};
    if (dg_server_read_in_writer(j->req->srv, &j->catch_up) != DG_OK)
        submit_read(j->req, j, search_done);
}

void dg_h_search(dg_req *req)
{
    const Dangan__V1__SearchRequest *m = req->msg->search;
    struct read_job *j;
    int rc;

    j = dg_xcalloc(1, sizeof *j);
    j->q = Q_SEARCH;
    j->limit = m->limit ? DG_MIN(m->limit, SEARCH_MAX) : SEARCH_DEFAULT;
    rc = dg_text_search_expr(m->query, j->expr, sizeof j->expr);
    if (rc != DG_OK) {
        free(j);
        dg_req_violation(req, "query", rc == DG_ETOOBIG ? "too long" : "nothing to search for");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "query: %s",
                    rc == DG_ETOOBIG ? "too long" : "type some letters, digits or characters");
        return;
    }
    if (!filter_from(req, DG_KIND_CUSTOMER, m->filter, &j->lq)) {
        free(j);
        return;
    }
    scope(req, &j->lq);
    /* Read your writes: the search documents of every answered write are
     * committed, but maybe only to search_queue (docs/architecture.md). */
    if (dg_server_search_is_behind(req->srv)) {
        j->req = req;
        j->catch_up.done = search_caught_up;
        if ((rc = dg_server_search_catch_up(req->srv, &j->catch_up)) != DG_OK) {
            free(j);
            dg_h_fail_job(req, rc); /* the writer's queue is full: overloaded */
        }
        return;
    }
    submit_read(req, j, search_done);
}

/* ------------------------------------------------------------ custom fields (read) */

static void fields_done(dg_job *job)
{
    struct read_job *j = (struct read_job *)job;
    dg_req *req = j->req;
    Dangan__V1__ListFieldsResponse *r;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(j);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__list_fields_response__init(r);
    r->fields = dg_req_alloc(req, (j->n_fields ? j->n_fields : 1) * sizeof *r->fields);
    for (size_t i = 0; i < j->n_fields; i++)
        r->fields[i] = dg_h_field_to_pb(req, &j->fields[i]);
    r->n_fields = j->n_fields;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LIST_FIELDS;
    req->resp.list_fields = r;
    dg_req_reply(req);
    free(j);
}

void dg_h_list_fields(dg_req *req)
{
    struct read_job *j;

    j = dg_xcalloc(1, sizeof *j);
    j->q = Q_FIELDS;
    submit_read(req, j, fields_done);
}
