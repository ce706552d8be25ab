/* h_duplicates.c - DuplicatesScan: candidate duplicate customers in the
 * whole base, a page at a time, for managers and admins to fold together
 * with Merge.
 *
 * Who may ask is the role's right ("record.duplicates", perm.c), checked by
 * dispatch; those roles see every customer, so a page is not filtered.
 * One read job per page on a reader (store_dups.c walks the key indexes);
 * each answered page is audited with its size. The cursor is text the
 * client passes back: "v1.KIND.AFTER_ID.HEX_OF_KEY".
 * Loop thread, except scan_run (a reader thread).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "h_common.h"
#include "handlers.h"
#include "hex.h"
#include "record_pb.h"

#define SCAN_DEFAULT 100
#define SCAN_MAX 1000
#define KEY_MAX (200 * 4) /* bytes of a key: made from a name of at most 200 characters */

struct scan {
    dg_job job;
    dg_req *req;
    dg_dup_cursor from, next;
    size_t limit;
    dg_dup_pair *pairs;
    size_t n_pairs;
};

static void scan_run(dg_job *job, void *ctx)
{
    struct scan *s = (struct scan *)job;
    dg_store *st = ctx;
    int rc;

    if ((rc = dg_store_read_begin(st)) != DG_OK) {
        job->rc = rc;
        return;
    }
    rc = dg_store_dup_scan(st, &s->from, s->limit, s->req->arena, &s->pairs, &s->n_pairs, &s->next);
    dg_store_read_end(st);
    job->rc = rc;
}

/* ------------------------------------------------------------ cursors */

static char *cursor_format(dg_req *req, const dg_dup_cursor *c)
{
    size_t n = strlen(c->key);
    char *hex = dg_req_alloc(req, 2 * n + 1);

    dg_hex_encode((const uint8_t *)c->key, n, hex);
    return dg_req_printf(req, "v1.%d.%" PRId64 ".%s", (int)c->kind, c->after_id, hex);
}

/* DG_OK with *out (its key in the request's arena), or DG_EINVAL. */
static int cursor_parse(dg_req *req, const char *text, dg_dup_cursor *out)
{
    int kind, n_read = 0;
    long long after_id;
    const char *hex;
    size_t hex_len;
    char *key;

    if (sscanf(text, "v1.%d.%lld.%n", &kind, &after_id, &n_read) != 2 || n_read == 0 || kind < 0 ||
        kind >= DG_DUP_N || after_id < 0)
        return DG_EINVAL;
    hex = text + n_read;
    hex_len = strlen(hex);
    if (hex_len % 2 || hex_len / 2 > KEY_MAX || !(key = dg_req_alloc(req, hex_len / 2 + 1)))
        return DG_EINVAL;
    if (dg_hex_decode(hex, (uint8_t *)key, hex_len / 2) != DG_OK)
        return DG_EINVAL;
    key[hex_len / 2] = '\0';
    if (strlen(key) != hex_len / 2)
        return DG_EINVAL; /* a NUL inside */
    *out = (dg_dup_cursor){(enum dg_dup_reason)kind, key, after_id};
    return DG_OK;
}

/* ------------------------------------------------------------ the answer */

static Dangan__V1__DuplicateCustomer *customer_pb(dg_req *req, const dg_dup_customer *c)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const dg_field *tier = &e->fields[dg_entity_field_index(e, "tier")];
    Dangan__V1__DuplicateCustomer *p = dg_req_alloc(req, sizeof *p);

    dangan__v1__duplicate_customer__init(p);
    p->id = c->id;
    p->code = (char *)c->code; /* in the request's arena (the scan put them there) */
    p->name = (char *)c->name;
    p->owner = c->owner_id ? dg_user_ref_pb(req, c->owner_id) : NULL;
    p->tier = (Dangan__V1__Tier)dg_enum_value(tier->enum_desc, c->tier);
    return p;
}

static Dangan__V1__DuplicatePair *pair_pb(dg_req *req, const dg_dup_pair *d)
{
    Dangan__V1__DuplicatePair *p = dg_req_alloc(req, sizeof *p);
    size_t n = 0;

    dangan__v1__duplicate_pair__init(p);
    p->keep = customer_pb(req, &d->keep);
    p->drop = customer_pb(req, &d->drop);
    p->reasons = dg_req_alloc(req, DG_DUP_N * sizeof *p->reasons);
    p->reasons[n++] = (char *)dg_store_dup_reason_name(d->found_by);
    for (int k = 0; k < DG_DUP_N; k++)
        if ((d->reasons >> k & 1) && k != (int)d->found_by)
            p->reasons[n++] = (char *)dg_store_dup_reason_name((enum dg_dup_reason)k);
    p->n_reasons = n;
    p->score = (uint32_t)d->score;
    return p;
}

static void scan_done(dg_job *job)
{
    struct scan *s = (struct scan *)job;
    dg_req *req = s->req;
    Dangan__V1__DuplicatesScanResponse *r;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(s);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__duplicates_scan_response__init(r);
    r->pairs = dg_req_alloc(req, (s->n_pairs ? s->n_pairs : 1) * sizeof *r->pairs);
    for (size_t i = 0; i < s->n_pairs; i++)
        r->pairs[i] = pair_pb(req, &s->pairs[i]);
    r->n_pairs = s->n_pairs;
    r->next_cursor = s->next.kind < DG_DUP_N ? cursor_format(req, &s->next) : "";
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DUPLICATES_SCAN;
    req->resp.duplicates_scan = r;
    /* a page names customers of every owner and tier: its reading is audited */
    dg_h_audit_then_reply(req, "customer", 0,
                          json_pack("{s:s,s:I,s:b}", "read", "duplicates", "pairs",
                                    (json_int_t)s->n_pairs, "complete", !r->next_cursor[0]));
    free(s);
}

void dg_h_duplicates_scan(dg_req *req)
{
    const Dangan__V1__DuplicatesScanRequest *m = req->msg->duplicates_scan;
    dg_dup_cursor from = {DG_DUP_NAME, "", 0};
    struct scan *s;
    int rc;

    if (m->limit > SCAN_MAX)
        dg_req_violation(req, "limit", "at most 1000");
    if (m->cursor && m->cursor[0] && cursor_parse(req, m->cursor, &from) != DG_OK)
        dg_req_violation(req, "cursor", "not a cursor from a previous page");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    s = dg_xcalloc(1, sizeof *s);
    s->req = req;
    s->from = from;
    s->limit = m->limit ? m->limit : SCAN_DEFAULT;
    s->job.run = scan_run;
    s->job.done = scan_done;
    if ((rc = dg_server_read(req->srv, &s->job)) != DG_OK) {
        free(s);
        dg_h_fail_job(req, rc);
    }
}
