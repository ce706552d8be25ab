/* h_feed.c - Subscribe and Unsubscribe: the change feed's requests.
 *
 * Checks the filter, makes the subscription in the feed engine (feed.c),
 * answers with its id and the head, then starts it, so the answer goes out
 * before the first event.
 * Loop thread.
 */
#include "dg.h"
#include "entity.h"
#include "feed.h"
#include "h_common.h"
#include "handlers.h"

void dg_h_subscribe(dg_req *req)
{
    const Dangan__V1__SubscribeRequest *m = req->msg->subscribe;
    const Dangan__V1__SubscribeFilter *flt = m->filter;
    dg_feed *f = dg_server_feed(req->srv);
    dg_feed_filter filter = {.with_records = m->with_records};
    dg_feed_since since = {0, 0};
    bool has_since = m->since != NULL;
    Dangan__V1__SubscribeResponse *r;
    dg_sub *s;

    if (flt && flt->n_customer_ids > DG_FEED_MAX_FILTER_IDS)
        dg_req_violation(req, "filter.customer_ids", "at most 1000");
    for (size_t i = 0; flt && i < flt->n_kinds; i++)
        if (!dg_entity_get((enum dg_kind)flt->kinds[i]) &&
            flt->kinds[i] != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT)
            dg_req_violation(req, "filter.kinds", "not a record kind or documents");
    if (dg_feed_subs_of(f, req->conn) >= DG_FEED_MAX_SUBS_PER_CONN)
        dg_req_violation(req, "subscribe", "at most 16 subscriptions per connection");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    if (flt) {
        filter.is_mine = flt->mine;
        for (size_t i = 0; i < flt->n_kinds; i++)
            filter.kinds |= 1u << flt->kinds[i];
        filter.customer_ids = flt->customer_ids;
        filter.n_customer_ids = flt->n_customer_ids;
    }
    if (has_since) { /* m is gone once answered */
        since.epoch = m->since->epoch;
        since.seq = (int64_t)m->since->seq;
    }
    s = dg_feed_subscribe(f, req->conn, &filter);

    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__subscribe_response__init(r);
    r->subscription_id = dg_feed_sub_id(s);
    r->head = dg_req_alloc(req, sizeof *r->head);
    dangan__v1__cursor__init(r->head);
    r->head->epoch = dg_server_feed_epoch(req->srv);
    r->head->seq = (uint64_t)dg_feed_head(f);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_SUBSCRIBE;
    req->resp.subscribe = r;
    dg_req_reply(req); /* the answer goes out before the first event */
    dg_feed_start(s, has_since ? &since : NULL);
}

void dg_h_unsubscribe(dg_req *req)
{
    uint64_t id = req->msg->unsubscribe->subscription_id;
    Dangan__V1__UnsubscribeResponse *r;

    if (dg_feed_unsubscribe(dg_server_feed(req->srv), req->conn, id) != DG_OK) {
        dg_req_fail(req, DG_ENOTFOUND, "not_found", "no subscription %llu on this connection",
                    (unsigned long long)id);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__unsubscribe_response__init(r);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_UNSUBSCRIBE;
    req->resp.unsubscribe = r;
    dg_req_reply(req);
}
