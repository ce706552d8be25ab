/* feed_world.c - what the change-feed tests share: see feed_world.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "feed_world.h"

dgt_server srv;
dg_client *admin;

void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct inbox *in = user;

    (void)c;
    if (in->n == MAX_SEEN)
        return;
    in->body[in->n] = ev->body_case;
    in->seq[in->n] = ev->cursor ? (int64_t)ev->cursor->seq : -1;
    in->sub_id[in->n] = ev->subscription_id;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED)
        in->stale_seq[in->n] = (int64_t)ev->resync_required->stale_seq;
    in->id[in->n] = ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE   ? ev->change->id
                    : ev->body_case == DANGAN__V1__EVENT__BODY_HIDDEN ? ev->hidden->id
                                                                      : 0;
    snprintf(in->op[in->n], sizeof in->op[0], "%s",
             ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE ? ev->change->op : "");
    in->has_record[in->n] = ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE && ev->change->record;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE) {
        in->got_us[in->n] = dg_now_us();
        in->at_ms[in->n] = ev->change->at_ms;
        in->committed_us[in->n] = ev->change->committed_at_us;
    }
    if (in->has_record[in->n] && ev->change->record->customer)
        snprintf(in->bank_account[in->n], sizeof in->bank_account[0], "%s",
                 ev->change->record->customer->bank_account);
    in->n++;
}

dg_client *listener(const char *user, const char *password, struct inbox *in)
{
    dg_client_opts o = {
        .server = srv.addr, .fingerprint = srv.fingerprint, .on_event = on_event, .user = in};
    dg_client *c;

    memset(in, 0, sizeof *in);
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, user, password, NULL), DG_OK);
    return c;
}

/* Subscribes; since_seq < 0: from now. Returns the reply (caller frees). */
dg_reply *subscribe_as(dg_client *c, int64_t since_seq, uint64_t epoch,
                       const Dangan__V1__SubscribeFilter *filter, bool with_records)
{
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Cursor since = DANGAN__V1__CURSOR__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    if (since_seq >= 0) {
        since.epoch = epoch;
        since.seq = (uint64_t)since_seq;
        m.since = &since;
    }
    m.filter = (Dangan__V1__SubscribeFilter *)filter;
    m.with_records = with_records;
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    return dgt_call(c, &req);
}

dg_reply *subscribe(dg_client *c, int64_t since_seq, uint64_t epoch,
                    const Dangan__V1__SubscribeFilter *filter)
{
    return subscribe_as(c, since_seq, epoch, filter, false);
}

/* Polls until `pred` holds or 5 s pass. */
bool wait_for(dg_client *c, struct inbox *in, bool (*pred)(const struct inbox *, void *), void *arg)
{
    int64_t until = dg_mono_ms() + 5000;

    while (!pred(in, arg) && dg_mono_ms() < until)
        dg_client_poll(c, 50);
    return pred(in, arg);
}

bool has_body(const struct inbox *in, void *arg)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == *(Dangan__V1__Event__BodyCase *)arg)
            return true;
    return false;
}

bool has_change_of(const struct inbox *in, void *arg)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == DANGAN__V1__EVENT__BODY_CHANGE && in->id[i] == *(int64_t *)arg)
            return true;
    return false;
}

bool has_hidden_of(const struct inbox *in, void *arg)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == DANGAN__V1__EVENT__BODY_HIDDEN && in->id[i] == *(int64_t *)arg)
            return true;
    return false;
}

int64_t new_customer(const char *name, const char *owner, Dangan__V1__Tier tier)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    cu.tier = tier;
    o.username = (char *)owner;
    cu.owner = &o;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    return id;
}

int64_t feed_head(void)
{
    Dangan__V1__UnsubscribeRequest u = DANGAN__V1__UNSUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r = subscribe(admin, -1, 0, NULL);
    int64_t head;

    assert_int_equal(dgt_code(r), 0);
    head = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    u.subscription_id = dg_reply_response(r)->subscribe->subscription_id;
    dg_reply_free(r);
    req.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
    req.unsubscribe = &u;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    return head;
}

int feed_world_setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    return 0;
}

int feed_world_teardown(void **state)
{
    (void)state;
    dg_client_close(admin);
    dgt_server_stop(&srv);
    return 0;
}
