/* h_history.c - History: who changed which field of a record, from what to
 * what, and when - read from the audit log (its before/after details).
 *
 * Whoever may read the record may read its history (perm.c): a record in a
 * restricted tier the user may not see is not found (and the attempt
 * audited), and sensitive fields are masked as in a Get. One read job: the
 * record, its customer and a page of its audit records, newest first.
 * Loop thread; history_run too (dg_server_read_here), or a reader.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "h_common.h"
#include "handlers.h"
#include "perm.h"
#include "users.h"

#define HISTORY_DEFAULT 50
#define HISTORY_MAX 1000
#define MASK_MAX 512

struct history {
    dg_job job;
    dg_req *req;
    enum dg_kind kind;
    int64_t id;
    dg_audit_filter filter;
    dg_record *rec, *customer;
    dg_audit_row *rows;
    size_t n_rows;
};

static void history_run(dg_job *job, void *ctx)
{
    struct history *h = (struct history *)job;
    dg_store *st = ctx;
    dg_arena *a = h->req->arena;
    int rc;

    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    rc = dg_store_rec_get(st, h->kind, h->id, a, &h->rec);
    if (rc == DG_OK)
        rc = h->kind == DG_KIND_CUSTOMER
                 ? (h->customer = h->rec, DG_OK)
                 : dg_store_rec_get(st, DG_KIND_CUSTOMER, h->rec->customer_id, a, &h->customer);
    if (rc == DG_OK)
        rc = dg_store_audit_query(st, &h->filter, a, &h->rows, &h->n_rows);
    dg_store_read_end(st);
    job->rc = rc;
}

static int64_t customer_field(const dg_record *customer, const char *name)
{
    return customer->v[dg_entity_field_index(dg_entity_get(DG_KIND_CUSTOMER), name)].i;
}

/* A value as JSON text, masked when the field is sensitive and `masked`. */
static char *value_text(dg_req *req, const dg_field *f, json_t *v, bool masked)
{
    char *text, buf[MASK_MAX], *out;

    if (!v)
        return dg_req_strdup(req, "");
    if (f && f->type == DG_F_USER && json_is_integer(v)) { /* a user id: by name, as in a Get */
        const dg_user_info *u = dg_users_by_id(dg_server_users(req->srv), json_integer_value(v));

        if (u) {
            json_t *name = json_string(u->username);

            text = json_dumps(name, JSON_ENCODE_ANY | JSON_COMPACT);
            json_decref(name);
            out = dg_req_strdup(req, text ? text : "");
            free(text);
            return out;
        }
    }
    if (masked && f && (f->flags & DG_FF_SENSITIVE) && json_is_string(v)) {
        json_t *m;

        dg_perm_mask_text(json_string_value(v), f->type, buf, sizeof buf);
        m = json_string(buf);
        text = json_dumps(m, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(m);
    } else {
        text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    }
    out = dg_req_strdup(req, text ? text : "");
    free(text);
    return out;
}

/* The field changes of one audit record: every key of its before and after. */
static Dangan__V1__HistoryEntry *entry_pb(dg_req *req, const dg_entity *e, const dg_audit_row *row,
                                          bool masked)
{
    Dangan__V1__HistoryEntry *p = dg_req_alloc(req, sizeof *p);
    json_t *detail = json_loads(row->rec.detail, 0, NULL);
    json_t *before = json_object_get(detail, "before"), *after = json_object_get(detail, "after");
    size_t n = json_object_size(before) + json_object_size(after), k = 0;
    const char *key;
    json_t *v;

    dangan__v1__history_entry__init(p);
    p->seq = (uint64_t)row->rec.seq;
    p->at_ms = row->rec.at;
    p->username = (char *)row->rec.username; /* in the request's arena (the query put it there) */
    p->action = (char *)row->rec.action;
    p->changes = dg_req_alloc(req, (n ? n : 1) * sizeof *p->changes);
    json_object_foreach(after, key, v)
    {
        Dangan__V1__FieldChange *c = dg_req_alloc(req, sizeof *c);
        int fi = dg_entity_field_index(e, key);
        const dg_field *f = fi >= 0 ? &e->fields[fi] : NULL;

        dangan__v1__field_change__init(c);
        c->field = dg_req_strdup(req, key);
        c->before = value_text(req, f, json_object_get(before, key), masked);
        c->after = value_text(req, f, v, masked);
        p->changes[k++] = c;
    }
    json_object_foreach(before, key, v)
    {
        Dangan__V1__FieldChange *c;
        int fi;

        if (json_object_get(after, key))
            continue; /* listed with its after value */
        fi = dg_entity_field_index(e, key);
        c = dg_req_alloc(req, sizeof *c);
        dangan__v1__field_change__init(c);
        c->field = dg_req_strdup(req, key);
        c->before = value_text(req, fi >= 0 ? &e->fields[fi] : NULL, v, masked);
        c->after = dg_req_strdup(req, "");
        p->changes[k++] = c;
    }
    p->n_changes = k;
    json_decref(detail);
    return p;
}

static void history_done(dg_job *job)
{
    struct history *h = (struct history *)job;
    dg_req *req = h->req;
    const dg_entity *e = dg_entity_get(h->kind);
    Dangan__V1__HistoryResponse *r;
    dg_perm_who who;
    bool masked;

    if (job->rc == DG_ENOTFOUND) {
        dg_h_not_found(req, false, e->name, h->id, "no such %s", e->name);
        free(h);
        return;
    }
    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(h);
        return;
    }
    who = dg_h_who(req);
    if (!dg_perm_sees(&who, customer_field(h->customer, "owner"),
                      customer_field(h->customer, "tier"))) {
        dg_h_not_found(req, true, e->name, h->id, "no such %s", e->name); /* as a missing one */
        free(h);
        return;
    }
    masked = !dg_perm_sees_sensitive(&who, customer_field(h->customer, "owner"));
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__history_response__init(r);
    r->entries = dg_req_alloc(req, (h->n_rows ? h->n_rows : 1) * sizeof *r->entries);
    for (size_t i = 0; i < h->n_rows; i++)
        r->entries[i] = entry_pb(req, e, &h->rows[i], masked);
    r->n_entries = h->n_rows;
    if (h->n_rows == h->filter.limit)
        r->next_before_seq = (uint64_t)h->rows[h->n_rows - 1].rec.seq;
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_HISTORY;
    req->resp.history = r;
    /* as with a Get: reading a restricted customer's file is audited */
    if (dg_perm_is_restricted(&who, customer_field(h->customer, "tier")))
        dg_h_audit_then_reply(
            req, e->name, h->id,
            json_pack("{s:I,s:s}", "customer_id", (json_int_t)h->customer->id, "read", "history"));
    else
        dg_req_reply(req);
    free(h);
}

void dg_h_history(dg_req *req)
{
    const Dangan__V1__HistoryRequest *m = req->msg->history;
    const dg_entity *e = dg_entity_get((enum dg_kind)m->kind);
    struct history *h;
    int rc;

    if (!e)
        dg_req_violation(req, "kind", "required");
    if (m->id <= 0)
        dg_req_violation(req, "id", "required");
    if (m->limit > HISTORY_MAX)
        dg_req_violation(req, "limit", "at most 1000");
    if (m->before_seq > INT64_MAX)
        dg_req_violation(req, "before_seq", "out of range");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    h = dg_xcalloc(1, sizeof *h);
    h->req = req;
    h->kind = e->kind;
    h->id = m->id;
    h->filter = (dg_audit_filter){
        .action = dg_req_printf(req, "%s.", e->name), /* its changes, not reads */
        .entity = e->name,
        .entity_id = m->id,
        .outcome = "ok",
        .before_seq = (int64_t)m->before_seq,
        .limit = m->limit ? m->limit : HISTORY_DEFAULT,
    };
    h->job.run = history_run;
    h->job.done = history_done;
    /* A page of at most HISTORY_MAX rows through an index: the loop reads it itself. */
    if ((rc = dg_server_read_here(req->srv, &h->job)) != DG_OK) {
        free(h);
        dg_h_fail_job(req, rc);
    }
}
