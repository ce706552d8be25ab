/* test_feed.c - live change notifications over real TLS: a colleague's edit
 * reaches a subscriber (and not one who may not see the record); a replay
 * from a cursor brings every change after it once, in order, then CaughtUp;
 * a cursor of another epoch gets ResyncRequired; a customer handed away
 * from a sales user gives that user Hidden; a revoked session gets nothing
 * more; filters by customer, kind and "mine" hold. Retention, slow and
 * killed subscribers and resuming after a restart: test_feed_resume.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feed_world.h"

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
    };

    return cmocka_run_group_tests_name("feed", tests, feed_world_setup, feed_world_teardown);
}
