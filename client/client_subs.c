/* client_subs.c - libdangan's change-feed subscriptions, resumed from their
 * last cursor by dg_client_reconnect (which is here because resuming them is
 * most of what it does).
 */
#include "client_int.h"

#include <stdlib.h>

#include "alloc.h"
#include "dg.h"

void dgc_subs_free(dg_client *c)
{
    while (c->subs) {
        struct sub *next = c->subs->next;

        free(c->subs->filter);
        free(c->subs);
        c->subs = next;
    }
}

/* Sends Subscribe for `sb` (from its cursor, or from `since`, or from now)
 * and records the server's id for it. */
static int subscribe_one(dg_client *c, struct sub *sb, const Dangan__V1__Cursor *since)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Cursor at = DANGAN__V1__CURSOR__INIT;
    Dangan__V1__SubscribeFilter *filter = NULL;
    dg_reply *r = NULL;
    int rc;

    if (sb->filter &&
        !(filter = dangan__v1__subscribe_filter__unpack(NULL, sb->filter_len, sb->filter)))
        return DG_EPROTO;
    m.filter = filter;
    m.with_records = sb->with_records;
    if (sb->has_cursor) {
        at.epoch = sb->epoch;
        at.seq = sb->seq;
        m.since = &at;
    } else {
        m.since = (Dangan__V1__Cursor *)since;
    }
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    sb->is_ended = false;
    rc = dg_client_send(c, &req, &sb->subscribe_req_id);
    if (filter)
        dangan__v1__subscribe_filter__free_unpacked(filter, NULL);
    if (rc == DG_OK)
        rc = dgc_wait_checked(c, sb->subscribe_req_id, &r);
    sb->subscribe_req_id = 0; /* answered (note_subscribed took the id) or failed */
    if (rc == DG_OK && r->resp->body_case != DANGAN__V1__RESPONSE__BODY_SUBSCRIBE) {
        dgc_set_err(c, "the server answered Subscribe with another kind of answer");
        rc = DG_EPROTO;
    }
    if (rc != DG_OK) {
        dg_reply_free(r);
        return rc;
    }
    if (!sb->has_cursor && !since && r->resp->subscribe->head) { /* from now: the head */
        sb->epoch = r->resp->subscribe->head->epoch;
        sb->seq = r->resp->subscribe->head->seq;
        sb->has_cursor = true;
    }
    dg_reply_free(r);
    return DG_OK;
}

int dg_client_subscribe(dg_client *c, const Dangan__V1__SubscribeFilter *filter,
                        const Dangan__V1__Cursor *since, bool with_records, uint64_t *id)
{
    struct sub *sb = dg_xcalloc(1, sizeof *sb);
    int rc;

    sb->with_records = with_records;
    if (filter) {
        sb->filter_len = dangan__v1__subscribe_filter__get_packed_size(filter);
        sb->filter = dg_xmalloc(sb->filter_len ? sb->filter_len : 1);
        dangan__v1__subscribe_filter__pack(filter, sb->filter);
    }
    /* listed first: events right behind the answer must find it */
    sb->next = c->subs;
    c->subs = sb;
    if ((rc = subscribe_one(c, sb, since)) != DG_OK) {
        c->subs = sb->next;
        free(sb->filter);
        free(sb);
        return rc;
    }
    if (id)
        *id = sb->id;
    return DG_OK;
}

int dg_client_unsubscribe(dg_client *c, uint64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UnsubscribeRequest m = DANGAN__V1__UNSUBSCRIBE_REQUEST__INIT;

    for (struct sub **p = &c->subs; *p; p = &(*p)->next) {
        struct sub *sb = *p;

        if (sb->id != id)
            continue;
        bool is_ended = sb->is_ended;

        *p = sb->next;
        m.subscription_id = sb->server_id;
        free(sb->filter);
        free(sb);
        req.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
        req.unsubscribe = &m;
        return c->stream && !is_ended ? dgc_call_simple(c, &req) : DG_OK;
    }
    dgc_set_err(c, "no subscription %llu", (unsigned long long)id);
    return DG_ENOTFOUND;
}

int dg_client_reconnect(dg_client *c)
{
    int rc;

    if (c->stream) {
        dg_stream_close(c->stream, false);
        while (c->stream)
            uv_run(&c->loop, UV_RUN_ONCE);
    }
    while (c->received) { /* answers of the old connection */
        dg_reply *next = c->received->next;

        dg_reply_free(c->received);
        c->received = next;
    }
    dg_reply_free(c->hello);
    c->hello = NULL;
    if ((rc = dgc_connect_stream(c, c->server, c->connect_timeout_ms)) != DG_OK ||
        (rc = dgc_say_hello(c, c->client_name[0] ? c->client_name : NULL)) != DG_OK)
        return rc;
    if (c->token[0] && (rc = dg_client_authenticate(c, c->token)) != DG_OK)
        return rc;
    for (struct sub *sb = c->subs; sb; sb = sb->next)
        if (!sb->is_ended && (rc = subscribe_one(c, sb, NULL)) != DG_OK)
            return rc;
    c->err[0] = '\0';
    return DG_OK;
}
