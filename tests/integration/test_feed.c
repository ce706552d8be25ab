/* test_feed.c - live change notifications over real TLS: a colleague's edit
 * reaches a subscriber (and not one who may not see the record); a replay
 * from a cursor brings every change after it once, in order, then CaughtUp;
 * a cursor of another epoch gets ResyncRequired; a customer handed away
 * from a sales user gives that user Hidden; a revoked session gets nothing
 * more; filters by customer, kind and "mine" hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"

static dgt_server srv;
static dg_client *admin;

#define MAX_SEEN 4096

/* What one subscriber's connection received. */
struct inbox {
    size_t n;
    Dangan__V1__Event__BodyCase body[MAX_SEEN];
    int64_t id[MAX_SEEN], seq[MAX_SEEN];
    char op[MAX_SEEN][16];
    bool has_record[MAX_SEEN];
    char bank_account[MAX_SEEN][32]; /* of a customer record that came with it */
    int64_t at_ms[MAX_SEEN], committed_us[MAX_SEEN], got_us[MAX_SEEN]; /* changes */
    uint64_t sub_id[MAX_SEEN];
    int64_t stale_seq[MAX_SEEN]; /* ResyncRequired */
    uint64_t sub;
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
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

static dg_client *listener(const char *user, const char *password, struct inbox *in)
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
static dg_reply *subscribe_as(dg_client *c, int64_t since_seq, uint64_t epoch,
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

static dg_reply *subscribe(dg_client *c, int64_t since_seq, uint64_t epoch,
                           const Dangan__V1__SubscribeFilter *filter)
{
    return subscribe_as(c, since_seq, epoch, filter, false);
}

/* Polls until `pred` holds or 5 s pass. */
static bool wait_for(dg_client *c, struct inbox *in, bool (*pred)(const struct inbox *, void *),
                     void *arg)
{
    int64_t until = dg_mono_ms() + 5000;

    while (!pred(in, arg) && dg_mono_ms() < until)
        dg_client_poll(c, 50);
    return pred(in, arg);
}

static bool has_body(const struct inbox *in, void *arg)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == *(Dangan__V1__Event__BodyCase *)arg)
            return true;
    return false;
}

static bool has_change_of(const struct inbox *in, void *arg)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == DANGAN__V1__EVENT__BODY_CHANGE && in->id[i] == *(int64_t *)arg)
            return true;
    return false;
}

static bool has_hidden_of(const struct inbox *in, void *arg)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == DANGAN__V1__EVENT__BODY_HIDDEN && in->id[i] == *(int64_t *)arg)
            return true;
    return false;
}

static int64_t new_customer(const char *name, const char *owner, Dangan__V1__Tier tier)
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

/* Updates `field` of customer cu->id to its value in `cu`, as `c`, at the
 * version the customer has now. */
static void update_customer(dg_client *c, Dangan__V1__Customer *cu, const char *field)
{
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    char *mask[] = {(char *)field};
    dg_reply *r;

    g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    g.id = cu->id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = dgt_call(admin, &req);
    u.expected_version = dg_reply_response(r)->get->record->customer->version;
    dg_reply_free(r);
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = cu;
    u.record = &rec;
    u.update_mask = mask;
    u.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &u;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        fail_msg("update: %s", dg_reply_response(r)->status->message);
    dg_reply_free(r);
}

/* Sets the customer's phone or bank_account as `c`. */
static void set_text(dg_client *c, int64_t id, const char *field, const char *value)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;

    cu.id = id;
    if (strcmp(field, "phone") == 0)
        cu.phone = (char *)value;
    else
        cu.bank_account = (char *)value;
    update_customer(c, &cu, field);
}

static void set_phone(dg_client *c, int64_t id, const char *phone)
{
    set_text(c, id, "phone", phone);
}

static uint64_t server_epoch(void)
{
    dg_reply *r = subscribe(admin, -1, 0, NULL);
    uint64_t e = dg_reply_response(r)->subscribe->head->epoch;

    dg_reply_free(r);
    return e;
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(admin);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ tests */

/* The index of the first change of `id` in `in`; fails the test if none. */
static size_t change_index(const struct inbox *in, int64_t id)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->body[i] == DANGAN__V1__EVENT__BODY_CHANGE && in->id[i] == id)
            return i;
    fail_msg("no change of %lld", (long long)id);
    return 0;
}

static void test_an_edit_reaches_who_may_see_it_and_no_one_else(void **state)
{
    static struct inbox b, c;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    dg_client *cb = listener("s1", "sales-one-password-1", &b);
    dg_client *cc = listener("s2", "sales-two-password-1", &c);
    int64_t open = new_customer("订阅公开公司", "s2", DANGAN__V1__TIER__TIER_B);
    int64_t secret = new_customer("订阅机密公司", "s2", DANGAN__V1__TIER__TIER_A);
    dg_reply *r;
    size_t k;

    (void)state;
    dg_reply_free(subscribe(cb, -1, 0, NULL));
    dg_reply_free(subscribe(cc, -1, 0, NULL));
    assert_true(wait_for(cb, &b, has_body, &caught));
    set_phone(admin, open, "010-1111-0001");
    set_phone(admin, secret, "010-1111-0002");
    assert_true(wait_for(cb, &b, has_change_of, &open));
    assert_true(wait_for(cc, &c, has_change_of, &secret)); /* s2 owns it */
    /* a live change says when it committed: after the server took it, before it arrived */
    k = change_index(&b, open);
    assert_true(b.committed_us[k] >= b.at_ms[k] * 1000);
    assert_true(b.committed_us[k] <= b.got_us[k]);
    /* s1 may not see the tier-A customer of s2: give it time, then check */
    dg_client_poll(cb, 300);
    assert_false(has_change_of(&b, &secret));
    /* cursors only go forward */
    for (size_t i = 1; i < b.n; i++)
        assert_true(b.seq[i] >= b.seq[i - 1]);
    r = subscribe(cb, -1, 0, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    dg_client_close(cb);
    dg_client_close(cc);
}


/* with_records: each change carries the record, masked per subscriber as a
 * Get would be, live and in a replay; without it, no record. */
static void test_events_carry_the_record_masked_for_each_subscriber(void **state)
{
    static struct inbox own, other, plain, replay;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    const char *account = "6222020200112233445";
    int64_t id = new_customer("带记录订阅公司", "s2", DANGAN__V1__TIER__TIER_B);
    dg_client *c_own = listener("s2", "sales-two-password-1", &own);
    dg_client *c_other = listener("s1", "sales-one-password-1", &other);
    dg_client *c_plain = listener("s1", "sales-one-password-1", &plain);
    dg_client *c_replay;
    uint64_t epoch = server_epoch();
    dg_reply *r = subscribe_as(c_own, -1, 0, NULL, true);
    int64_t start = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    size_t i;

    (void)state;
    dg_reply_free(r);
    dg_reply_free(subscribe_as(c_other, -1, 0, NULL, true));
    dg_reply_free(subscribe(c_plain, -1, 0, NULL));
    assert_true(wait_for(c_other, &other, has_body, &caught));
    assert_true(wait_for(c_plain, &plain, has_body, &caught));
    set_text(admin, id, "bank_account", account);
    assert_true(wait_for(c_own, &own, has_change_of, &id));
    assert_true(wait_for(c_other, &other, has_change_of, &id));
    assert_true(wait_for(c_plain, &plain, has_change_of, &id));
    i = change_index(&own, id); /* the owner sees it all */
    assert_true(own.has_record[i]);
    assert_string_equal(own.bank_account[i], account);
    i = change_index(&other, id); /* a colleague sees it masked */
    assert_true(other.has_record[i]);
    assert_non_null(strchr(other.bank_account[i], '*'));
    assert_null(strstr(other.bank_account[i], account));
    assert_false(plain.has_record[change_index(&plain, id)]);
    /* a replay reads the records itself, masked alike */
    c_replay = listener("s1", "sales-one-password-1", &replay);
    dg_reply_free(subscribe_as(c_replay, start, epoch, NULL, true));
    assert_true(wait_for(c_replay, &replay, has_body, &caught));
    i = change_index(&replay, id);
    assert_true(replay.has_record[i]);
    assert_non_null(strchr(replay.bank_account[i], '*'));
    assert_null(strstr(replay.bank_account[i], account));
    dg_client_close(c_replay);
    dg_client_close(c_own);
    dg_client_close(c_other);
    dg_client_close(c_plain);
}

static int64_t feed_head(void);

static void reassign(int64_t id, const char *to)
{
    Dangan__V1__ReassignRequest m = DANGAN__V1__REASSIGN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    m.customer_ids = &id;
    m.n_customer_ids = 1;
    m.to_user = (char *)to;
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

static void set_tier(int64_t id, Dangan__V1__Tier tier)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;

    cu.id = id;
    cu.tier = tier;
    update_customer(admin, &cu, "tier");
}

/* The record an event carries is the record now, so who may see it, and
 * masked how, goes by the customer now: a change made while s1 owned the
 * customer, replayed after it went to s2, shows s1 the record masked; once
 * the customer is in a restricted tier, s1 gets the change without it. */
static void test_a_replayed_record_is_checked_against_its_customer_now(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    const char *account = "6222020200998877665";
    uint64_t epoch = server_epoch();
    int64_t start = feed_head();
    int64_t id = new_customer("换了主人的公司", "s1", DANGAN__V1__TIER__TIER_B);
    dg_client *cb;
    size_t i;

    (void)state;
    set_text(admin, id, "bank_account", account); /* while s1 owns it */
    reassign(id, "s2");
    cb = listener("s1", "sales-one-password-1", &b);
    dg_reply_free(subscribe_as(cb, start, epoch, NULL, true));
    assert_true(wait_for(cb, &b, has_body, &caught));
    for (i = 0; i < b.n; i++) { /* every change of it, the first ones included */
        if (b.body[i] != DANGAN__V1__EVENT__BODY_CHANGE || b.id[i] != id)
            continue;
        assert_true(b.has_record[i]);
        assert_null(strstr(b.bank_account[i], account));
    }
    dg_client_close(cb);

    set_tier(id, DANGAN__V1__TIER__TIER_A); /* now out of s1's view */
    cb = listener("s1", "sales-one-password-1", &b);
    dg_reply_free(subscribe_as(cb, start, epoch, NULL, true));
    assert_true(wait_for(cb, &b, has_body, &caught));
    assert_true(has_change_of(&b, &id)); /* the changes s1 could see then */
    for (i = 0; i < b.n; i++)
        if (b.body[i] == DANGAN__V1__EVENT__BODY_CHANGE && b.id[i] == id)
            assert_false(b.has_record[i]);
    dg_client_close(cb);
}

static void test_replay_from_a_cursor_brings_every_change_once_then_caught_up(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    uint64_t epoch = server_epoch();
    dg_reply *r = subscribe(admin, -1, 0, NULL);
    int64_t start = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    int64_t ids[300];
    dg_client *cb;
    size_t changes = 0, caught_at = 0;

    (void)state;
    dg_reply_free(r);
    /* more than one fetch batch (256) while nobody listens */
    for (int i = 0; i < 300; i++) {
        char name[64];

        snprintf(name, sizeof name, "重放公司%03d", i);
        ids[i] = new_customer(name, "s1", DANGAN__V1__TIER__TIER_C);
    }
    cb = listener("s1", "sales-one-password-1", &b);
    dg_reply_free(subscribe(cb, start, epoch, NULL));
    assert_true(wait_for(cb, &b, has_body, &caught));
    for (size_t i = 0; i < b.n; i++) {
        if (b.body[i] == DANGAN__V1__EVENT__BODY_CHANGE) {
            assert_int_equal(b.id[i], ids[changes]); /* in order, each once */
            assert_string_equal(b.op[i], "created");
            assert_int_equal(b.committed_us[i], 0); /* read back from the table */
            changes++;
        } else if (b.body[i] == DANGAN__V1__EVENT__BODY_CAUGHT_UP) {
            caught_at = i;
        }
    }
    assert_int_equal(changes, 300);
    assert_int_equal(caught_at, b.n - 1);
    dg_client_close(cb);
}

static void test_a_cursor_of_another_epoch_must_resync(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    dg_client *cb = listener("s1", "sales-one-password-1", &b);

    (void)state;
    dg_reply_free(subscribe(cb, 1, server_epoch() ^ 1, NULL));
    assert_true(wait_for(cb, &b, has_body, &resync));
    dg_client_close(cb);
}

/* ResyncRequired is no position to resume from: it carries no cursor (a
 * client saving every event's cursor saves nothing), names the stale seq
 * for messages only, and ends the subscription: nothing more comes for its
 * id, and libdangan does not resume it after a reconnect. */
static void test_resync_required_has_no_cursor_and_ends_the_subscription(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    Dangan__V1__Cursor stale = DANGAN__V1__CURSOR__INIT;
    dg_client *cb = listener("s1", "sales-one-password-1", &b);
    int64_t c;
    uint64_t id;
    size_t i, n;

    (void)state;
    stale.epoch = server_epoch() ^ 1;
    stale.seq = 3;
    assert_int_equal(dg_client_subscribe(cb, NULL, &stale, false, &id), DG_OK);
    assert_true(wait_for(cb, &b, has_body, &resync));
    for (i = 0; b.body[i] != resync; i++)
        ;
    assert_int_equal(b.seq[i], -1); /* no cursor */
    assert_int_equal(b.stale_seq[i], 3);
    assert_int_equal(b.sub_id[i], id);

    /* a change it would have seen: nothing arrives for the ended subscription */
    c = new_customer("重同步之后的公司", "s1", DANGAN__V1__TIER__TIER_B);
    dg_client_poll(cb, 400);
    assert_false(has_change_of(&b, &c));
    /* a reconnect does not subscribe it again (it would be refused again) */
    n = b.n;
    assert_int_equal(dg_client_reconnect(cb), DG_OK);
    dg_client_poll(cb, 400);
    assert_int_equal(b.n, n);
    assert_int_equal(dg_client_unsubscribe(cb, id), DG_OK); /* forgets it, asks nothing */
    dg_client_close(cb);
}

static void test_handing_a_customer_away_sends_hidden(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    int64_t a = new_customer("交出去的公司", "s1", DANGAN__V1__TIER__TIER_A);
    dg_client *cb = listener("s1", "sales-one-password-1", &b);
    Dangan__V1__ReassignRequest m = DANGAN__V1__REASSIGN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    (void)state;
    dg_reply_free(subscribe(cb, -1, 0, NULL));
    assert_true(wait_for(cb, &b, has_body, &caught));
    m.customer_ids = &a;
    m.n_customer_ids = 1;
    m.to_user = "s2";
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    assert_true(wait_for(cb, &b, has_hidden_of, &a)); /* tier A, no longer s1's */
    assert_false(has_change_of(&b, &a));
    dg_client_close(cb);
}

static void test_filters_and_a_revoked_session(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    Dangan__V1__SubscribeFilter f = DANGAN__V1__SUBSCRIBE_FILTER__INIT;
    int64_t mine = new_customer("过滤我的公司", "s1", DANGAN__V1__TIER__TIER_B);
    int64_t other = new_customer("过滤别人的公司", "s2", DANGAN__V1__TIER__TIER_B);
    dg_client *cb = listener("s1", "sales-one-password-1", &b);
    Dangan__V1__UserSetDisabledRequest d = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    (void)state;
    f.mine = true;
    dg_reply_free(subscribe(cb, -1, 0, &f));
    assert_true(wait_for(cb, &b, has_body, &caught));
    set_phone(admin, other, "010-2222-0001");
    set_phone(admin, mine, "010-2222-0002");
    assert_true(wait_for(cb, &b, has_change_of, &mine));
    assert_false(has_change_of(&b, &other)); /* visible, but not "mine" */

    /* disabled: the session is revoked, nothing more arrives */
    d.username = "s1";
    d.disabled = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED;
    req.user_set_disabled = &d;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    b.n = 0;
    set_phone(admin, mine, "010-2222-0003");
    dg_client_poll(cb, 600);
    assert_false(has_change_of(&b, &mine));
    d.disabled = false;
    r = dgt_call(admin, &req);
    dg_reply_free(r);
    dg_client_close(cb);
}

/* ------------------------------------------------------------ retention */

/* Creates one customer through `c`; its reply comes after the commit. */
static void create_one(dg_client *c, const char *name)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    dg_reply *r;

    cu.name = (char *)name;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

/* The feed's head now, on server `s`: (epoch, seq). */
static int64_t head_of(const dgt_server *s, uint64_t *epoch)
{
    dg_client *c = dgt_login(s, "admin", s->admin_password);
    dg_reply *r = subscribe(c, -1, 0, NULL);
    int64_t seq = (int64_t)dg_reply_response(r)->subscribe->head->seq;

    *epoch = dg_reply_response(r)->subscribe->head->epoch;
    dg_reply_free(r);
    dg_client_close(c);
    return seq;
}

/* Runs the sweep of dangand-test `s` now (what it prunes is gone when it
 * returns), then makes one more change. Logs in afresh: the clock may have
 * moved past any session. */
static void sweep_and_write(const dgt_server *s, const char *name)
{
    dg_client *c;

    dgt_server_sweep(s);
    c = dgt_login(s, "admin", s->admin_password);
    create_one(c, name);
    dg_client_close(c);
}

static bool has_end_of_replay(const struct inbox *in, void *arg)
{
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;

    (void)arg;
    return has_body(in, &caught) || has_body(in, &resync);
}

/* Subscribes on `s` from `since` (a fresh connection) and collects what
 * comes until CaughtUp or ResyncRequired, into `b`. */
static void replay_on(const dgt_server *s, int64_t since, uint64_t epoch, struct inbox *b)
{
    dg_client_opts o = {
        .server = s->addr, .fingerprint = s->fingerprint, .on_event = on_event, .user = b};
    dg_client *c;

    memset(b, 0, sizeof *b);
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, "admin", s->admin_password, NULL), DG_OK);
    dg_reply_free(subscribe(c, since, epoch, NULL));
    assert_true(wait_for(c, b, has_end_of_replay, NULL));
    dg_client_close(c);
}

static size_t n_changes(const struct inbox *b)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n; i++)
        n += b->body[i] == DANGAN__V1__EVENT__BODY_CHANGE;
    return n;
}

/* With room for only the newest 5 changes, the sweep prunes the rest: a
 * client away since before them gets ResyncRequired (no silent jump to the
 * oldest kept), one whose cursor is still kept resumes. */
static void test_pruning_while_away_gives_resync_not_a_jump(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    dgt_server small;
    dg_client *a;
    uint64_t epoch;
    int64_t start;

    (void)state;
    dgt_server_start_prog(&small, "[feed]\nretention_days = 0\nretention_changes = 5\n",
                          DANGAND_TEST_PATH);
    start = head_of(&small, &epoch);
    a = dgt_login(&small, "admin", small.admin_password);
    for (int i = 0; i < 19; i++) {
        char name[32];

        snprintf(name, sizeof name, "保留期公司%02d", i);
        create_one(a, name);
    }
    dg_client_close(a);
    sweep_and_write(&small, "保留期公司19"); /* prunes all but the newest 5 of these 20 */

    replay_on(&small, start + 1, epoch, &b); /* away since the first */
    assert_true(has_body(&b, &resync));
    assert_false(has_body(&b, &caught)); /* no silent jump to the oldest kept */
    assert_int_equal(n_changes(&b), 0);
    replay_on(&small, start + 17, epoch, &b); /* a recent cursor still resumes */
    assert_true(has_body(&b, &caught));
    assert_false(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 3);
    dgt_server_stop(&small);
}

/* With retention_days = 1 and no count to keep, a change is pruned once it
 * is a day old and not before: the clock moves, the sweep runs. */
static void test_changes_older_than_the_retention_period_are_pruned(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    const int64_t day_ms = 86400 * 1000LL, margin_ms = 60 * 1000;
    dgt_server own;
    dg_client *a;
    uint64_t epoch;
    int64_t start;

    (void)state;
    dgt_server_start_prog(&own, "[feed]\nretention_days = 1\nretention_changes = 0\n",
                          DANGAND_TEST_PATH);
    start = head_of(&own, &epoch);
    a = dgt_login(&own, "admin", own.admin_password);
    create_one(a, "一天前公司甲");
    create_one(a, "一天前公司乙");
    create_one(a, "一天前公司丙");
    dg_client_close(a);

    dgt_clock_advance(&own, day_ms - margin_ms); /* not yet a day old: all kept */
    sweep_and_write(&own, "一天后公司丁");
    replay_on(&own, start, epoch, &b);
    assert_false(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 4);

    dgt_clock_advance(&own, 2 * margin_ms); /* the first three are a day old; the fourth not */
    sweep_and_write(&own, "一天后公司戊");
    replay_on(&own, start, epoch, &b);
    assert_true(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 0);
    replay_on(&own, start + 3, epoch, &b);
    assert_false(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 2);
    dgt_server_stop(&own);
}

/* Three long free-text fields (not indexed for search): an event carrying
 * such a record is about 18 KB. */
static void fill_big(Dangan__V1__Customer *cu, int i, void *ud)
{
    static char text[2000 * 3 + 1];

    (void)i;
    (void)ud;
    if (!text[0])
        for (int k = 0; k < 2000; k++)
            memcpy(text + 3 * k, "档", 3); /* 2,000 characters, 6,000 bytes */
    cu->sales_history = cu->our_advantages = cu->our_weaknesses = text;
}

static void create_big_batch(int round, int n)
{
    char prefix[64];

    snprintf(prefix, sizeof prefix, "慢读者公司%02d-", round);
    dgt_create_customers_with(admin, n, prefix, fill_big, NULL);
}

/* The newest change now (a subscription's head, then unsubscribed: a
 * connection may hold only 16). */
static int64_t feed_head(void)
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

#define FEED_OUTPUT_CAP (256 * 1024) /* docs/protocol.md: events sent ahead of the reader */
#define BIG_EVENT 19000              /* a change of a fill_big customer, with its record */

/* An event of a subscription with records: a change must be the next one
 * after *last, carrying its record (CaughtUp may come too). */
static void take_event(const Dangan__V1__Frame *f, int64_t *last, size_t *changes)
{
    assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_EVENT);
    if (f->event->body_case != DANGAN__V1__EVENT__BODY_CHANGE) {
        assert_int_equal(f->event->body_case, DANGAN__V1__EVENT__BODY_CAUGHT_UP);
        return;
    }
    assert_int_equal((int64_t)f->event->cursor->seq, *last + 1);
    assert_non_null(f->event->change->record);
    *last = (int64_t)f->event->cursor->seq;
    (*changes)++;
}

/* A subscriber that stops reading while big events flow (records of about
 * 18 KB) is sent at most 256 KiB ahead of what it has read, not everything
 * it lacks: what the server queued for it is what arrives ahead of the
 * reply to a Ping it sends then, and that is at most the cap plus what the
 * kernel holds (the server socket's send buffer, one 64 KiB segment over
 * it, 32 KiB of ours). The backlog is made twice that, so a server that
 * kept it would fail here. Then it reads again and misses nothing. */
static void test_a_subscriber_that_stops_reading_has_no_more_than_its_cap_queued(void **state)
{
    const dgt_raw_opts o = {.rcvbuf = 16384};
    const long bound = FEED_OUTPUT_CAP + dgt_tcp_wmem_max() + 65536 + 2 * o.rcvbuf + BIG_EVENT;
    const int rounds = (int)(2 * bound / (100 * BIG_EVENT)) + 1; /* of 100 changes */
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SubscribeRequest sub = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    Dangan__V1__Frame *f;
    size_t bytes_ahead = 0, changes = 0;
    int64_t last;
    dgt_raw *r;

    (void)state;
    r = dgt_raw_admin(&srv, &o);
    sub.with_records = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &sub;
    req.id = 3;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    f = dgt_raw_reply(r, 3, NULL);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    last = (int64_t)f->response->subscribe->head->seq;
    dangan__v1__frame__free_unpacked(f, NULL);

    for (int k = 0; k < rounds; k++) /* not reading meanwhile */
        create_big_batch(k, 100);
    req.id = 4;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    for (;;) {
        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        if (f->kind_case == DANGAN__V1__FRAME__KIND_RESPONSE) {
            assert_int_equal(f->response->id, 4);
            assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
            dangan__v1__frame__free_unpacked(f, NULL);
            break;
        }
        bytes_ahead += 4 + dangan__v1__frame__get_packed_size(f);
        take_event(f, &last, &changes);
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    print_message("%zu of %d changes (%zu bytes) were queued ahead of the ping; bound %ld\n",
                  changes, rounds * 100, bytes_ahead, bound);
    assert_true((long)bytes_ahead <= bound);

    /* it reads again: every change, in order, none twice, each with its record */
    while (changes < (size_t)rounds * 100) {
        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        take_event(f, &last, &changes);
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    assert_int_equal(last, feed_head());
    dgt_raw_close(r);
}

/* ------------------------------------------------------------ killed clients */

/* A writer thread making changes in rounds; round k starts only once the
 * subscriber has dropped its connection k times, so the storm and the
 * drops interleave however fast either side runs. */
struct storm {
    int rounds;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int lives;    /* subscriber connections dropped so far; under mu */
    bool is_done; /* every round written; under mu */
};

static void *storm_main(void *arg)
{
    struct storm *st = arg;
    dg_client *w = dgt_login(&srv, "admin", srv.admin_password);

    for (int k = 0; k < st->rounds; k++) {
        char prefix[64];

        pthread_mutex_lock(&st->mu);
        while (st->lives < k)
            pthread_cond_wait(&st->cond, &st->mu);
        pthread_mutex_unlock(&st->mu);
        snprintf(prefix, sizeof prefix, "风暴%02d-", k);
        dgt_create_customers(w, 100, prefix, NULL, NULL);
    }
    dg_client_close(w);
    pthread_mutex_lock(&st->mu);
    st->is_done = true;
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static bool storm_is_done(struct storm *st)
{
    pthread_mutex_lock(&st->mu);
    bool is_done = st->is_done;
    pthread_mutex_unlock(&st->mu);
    return is_done;
}

/* Counts a dropped connection; returns how many there have been. */
static int storm_dropped(struct storm *st)
{
    pthread_mutex_lock(&st->mu);
    int lives = ++st->lives;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->mu);
    return lives;
}

struct tracker {
    uint64_t epoch;
    int64_t cursor;
    int64_t *seqs;
    size_t n, cap;
    bool is_caught_up;
};

static void track_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct tracker *t = user;

    (void)c;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_CAUGHT_UP)
        t->is_caught_up = true;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->seqs = realloc(t->seqs, t->cap * sizeof *t->seqs);
        assert_non_null(t->seqs);
    }
    t->seqs[t->n++] = (int64_t)ev->cursor->seq;
    t->cursor = (int64_t)ev->cursor->seq; /* saved after every event, as a client would */
}

static void test_clients_killed_mid_storm_miss_nothing_and_see_nothing_twice(void **state)
{
    struct storm st = {
        .rounds = 40, .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct tracker t = {0};
    dg_reply *r = subscribe(admin, -1, 0, NULL);
    int64_t start, end;
    pthread_t th;
    unsigned seed = 12345;
    int lives = 0, lives_after_storm = 0;
    bool was_done;

    (void)state;
    t.epoch = dg_reply_response(r)->subscribe->head->epoch;
    t.cursor = start = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);
    assert_int_equal(pthread_create(&th, NULL, storm_main, &st), 0);
    /* connect, listen for a random while, drop the connection; again and again */
    do {
        dg_client_opts o = {.server = srv.addr,
                            .fingerprint = srv.fingerprint,
                            .on_event = track_event,
                            .user = &t};
        dg_client *c;

        was_done = storm_is_done(&st);
        lives_after_storm += was_done;
        assert_int_equal(dg_client_open(&o, &c), DG_OK);
        assert_int_equal(dg_client_login(c, "admin", srv.admin_password, NULL), DG_OK);
        t.is_caught_up = false;
        dg_reply_free(subscribe(c, t.cursor, t.epoch, NULL));
        for (int64_t until = dg_mono_ms() + 20 + rand_r(&seed) % 200; dg_mono_ms() < until;)
            dg_client_poll(c, 10);
        if (was_done) { /* the storm is over: stay until caught up */
            for (int64_t until = dg_mono_ms() + 10000; !t.is_caught_up && dg_mono_ms() < until;)
                dg_client_poll(c, 20);
            assert_true(t.is_caught_up);
        }
        dg_client_close(c); /* mid-stream, events in flight are lost with it */
        lives = storm_dropped(&st);
    } while (!was_done);
    pthread_join(th, NULL);
    r = subscribe(admin, -1, 0, NULL);
    end = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);
    print_message("%d connections, %zu events, seqs %lld..%lld\n", lives, t.n, (long long)start + 1,
                  (long long)end);
    /* the union is every change once: gap-free and duplicate-free per seq */
    assert_int_equal(t.n, (size_t)(end - start));
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.seqs[i], start + 1 + (int64_t)i); /* also in order */
    free(t.seqs);
    assert_true(lives >= st.rounds); /* a drop between every two rounds */
    assert_int_equal(lives_after_storm, 1);
}

static size_t count_lines(const char *s, const char *needle)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_cli_watch_once_resumes_from_where_it_stopped(void **state)
{
    static dgt_run run;
    char cfg[256];
    const char *once[] = {"--json", "watch", "--once", NULL};
    const char *contacts_only[] = {"--json", "watch", "--once", "--entity", "contact", NULL};

    (void)state;
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    dgt_cli(&run, cfg, NULL, once); /* the first time: from now, nothing to show */
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "");

    new_customer("命令行观察甲", "s1", DANGAN__V1__TIER__TIER_B);
    new_customer("命令行观察乙", "s2", DANGAN__V1__TIER__TIER_B);
    dgt_cli(&run, cfg, NULL, once);
    assert_int_equal(run.status, 0);
    assert_int_equal(count_lines(run.out, "\"op\":\"created\""), 2);
    assert_int_equal(count_lines(run.out, "\n"), 2); /* one JSON object per line */

    dgt_cli(&run, cfg, NULL, once); /* nothing new since */
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "");

    new_customer("命令行观察丙", "s1", DANGAN__V1__TIER__TIER_B);
    dgt_cli(&run, cfg, NULL, contacts_only); /* a customer is not a contact */
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "");
    dgt_rmtree(cfg);
}

static void test_libdangan_resumes_its_subscriptions_after_a_server_restart(void **state)
{
    struct tracker t = {0};
    dg_client_opts o = {.server = NULL, .on_event = track_event, .user = &t};
    dgt_server own;
    dg_client *c, *w;
    uint64_t id;
    int64_t start, end;
    dg_reply *r;

    (void)state;
    dgt_server_start(&own, NULL);
    o.server = own.addr;
    o.fingerprint = own.fingerprint;
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, "admin", own.admin_password, NULL), DG_OK);
    assert_int_equal(dg_client_subscribe(c, NULL, NULL, false, &id), DG_OK);
    w = dgt_login(&own, "admin", own.admin_password);
    r = subscribe(w, -1, 0, NULL);
    start = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);
    dgt_create_customers(w, 50, "重连前", NULL, NULL);
    for (int64_t until = dg_mono_ms() + 5000; t.n < 50 && dg_mono_ms() < until;)
        dg_client_poll(c, 20);
    assert_int_equal(t.n, 50);
    dg_client_close(w);

    /* the server goes away; changes are made while the client is cut off */
    assert_int_equal(dgt_server_stop_keep(&own), 0);
    assert_int_equal(dg_client_poll(c, 100), DG_ECLOSED);
    dgt_server_restart_same_port(&own);
    w = dgt_login(&own, "admin", own.admin_password);
    dgt_create_customers(w, 70, "断线时", NULL, NULL);
    r = subscribe(w, -1, 0, NULL);
    end = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);

    /* polling alone brings the connection and the subscription back */
    for (int64_t until = dg_mono_ms() + 10000; t.n < 120 && dg_mono_ms() < until;)
        dg_client_poll(c, 50);
    assert_int_equal(t.n, (size_t)(end - start));
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.seqs[i], start + 1 + (int64_t)i); /* none missed, none twice */
    assert_int_equal(dg_client_unsubscribe(c, id), DG_OK);
    free(t.seqs);
    dg_client_close(w);
    dg_client_close(c);
    dgt_server_stop(&own);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_edit_reaches_who_may_see_it_and_no_one_else),
        cmocka_unit_test(test_events_carry_the_record_masked_for_each_subscriber),
        cmocka_unit_test(test_a_replayed_record_is_checked_against_its_customer_now),
        cmocka_unit_test(test_replay_from_a_cursor_brings_every_change_once_then_caught_up),
        cmocka_unit_test(test_a_cursor_of_another_epoch_must_resync),
        cmocka_unit_test(test_resync_required_has_no_cursor_and_ends_the_subscription),
        cmocka_unit_test(test_handing_a_customer_away_sends_hidden),
        cmocka_unit_test(test_filters_and_a_revoked_session),
        cmocka_unit_test(test_pruning_while_away_gives_resync_not_a_jump),
        cmocka_unit_test(test_changes_older_than_the_retention_period_are_pruned),
        cmocka_unit_test(test_a_subscriber_that_stops_reading_has_no_more_than_its_cap_queued),
        cmocka_unit_test(test_clients_killed_mid_storm_miss_nothing_and_see_nothing_twice),
        cmocka_unit_test(test_cli_watch_once_resumes_from_where_it_stopped),
        cmocka_unit_test(test_libdangan_resumes_its_subscriptions_after_a_server_restart),
    };

    return cmocka_run_group_tests_name("feed", tests, setup, teardown);
}
