/* test_gui_merge.c - after ABORTED version_conflict (client/gtk/logic/merge.c,
 * record_msg.c): each field is classed from the version the form showed,
 * the user's edit and the server's record; the update sent again carries
 * only the user's changes and the user's choices, against the server's
 * version, so nothing anyone wrote is overwritten silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "entity.h"
#include "merge.h"
#include "record_msg.h"

static int idx(enum dg_kind kind, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(kind), name);

    assert_true(i >= 0);
    return i;
}

static void set(dg_record *r, const char *name, const char *s)
{
    r->v[idx(r->kind, name)].s = s;
}

static void set_i(dg_record *r, const char *name, int64_t i)
{
    r->v[idx(r->kind, name)].i = i;
}

/* base: what the form showed (v3); mine: the user's edit of it; theirs: the
 * server's record now (v5). */
struct world {
    dg_arena *a;
    dg_record *base, *mine, *theirs;
};

static void world_init(struct world *w)
{
    w->a = dg_arena_new(1 << 20);
    w->base = dg_record_new(w->a, DG_KIND_CUSTOMER);
    w->base->id = 42;
    w->base->version = 3;
    w->base->given = ~0ull;
    set(w->base, "name", "深圳华强科技");
    set(w->base, "phone", "0755-1111");
    set(w->base, "email", "old@hq.cn");
    set(w->base, "region", "广东");
    set(w->base, "industry", "电子");
    set_i(w->base, "tier", 1);
    w->mine = dg_record_copy(w->a, w->base);
    w->theirs = dg_record_copy(w->a, w->base);
    w->theirs->version = 5;
    set(w->mine, "phone", "0755-2222");  /* only mine */
    set(w->mine, "email", "mine@hq.cn"); /* both, differently */
    set(w->theirs, "email", "theirs@hq.cn");
    set(w->theirs, "region", "深圳");   /* only theirs */
    set(w->mine, "industry", "半导体"); /* both, the same */
    set(w->theirs, "industry", "半导体");
}

static void test_fields_are_classed_three_ways(void **state)
{
    struct world w;
    dg_merge m;
    int conflicts[4];

    (void)state;
    world_init(&w);
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "name")], DG_MERGE_SAME);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "phone")], DG_MERGE_MINE);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "region")], DG_MERGE_THEIRS);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "email")], DG_MERGE_CONFLICT);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "industry")], DG_MERGE_BOTH_EQUAL);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "tier")], DG_MERGE_SAME);
    assert_int_equal(dg_merge_conflicts(&m, conflicts, 4), 1);
    assert_string_equal(dg_merge_field_name(&m, conflicts[0]), "email");
    dg_arena_free(w.a);
}

static void test_no_update_while_a_conflict_is_undecided(void **state)
{
    struct world w;
    dg_merge m;
    dg_record *r;
    uint64_t fields;

    (void)state;
    world_init(&w);
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_false(dg_merge_is_decided(&m));
    assert_int_equal(dg_merge_result(&m, w.a, &r, &fields), DG_ESTATE);
    assert_null(r);
    /* only conflicts take a choice */
    assert_int_equal(dg_merge_choose(&m, idx(DG_KIND_CUSTOMER, "phone"), DG_MERGE_KEEP_MINE),
                     DG_EINVAL);
    assert_int_equal(dg_merge_choose(&m, idx(DG_KIND_CUSTOMER, "email"), DG_MERGE_UNDECIDED),
                     DG_EINVAL);
    dg_arena_free(w.a);
}

static void test_keeping_theirs_sends_only_my_other_changes(void **state)
{
    struct world w;
    dg_merge m;
    dg_record *r;
    uint64_t fields;
    int email = idx(DG_KIND_CUSTOMER, "email"), phone = idx(DG_KIND_CUSTOMER, "phone");

    (void)state;
    world_init(&w);
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_int_equal(dg_merge_choose(&m, email, DG_MERGE_KEEP_THEIRS), DG_OK);
    assert_int_equal(dg_merge_result(&m, w.a, &r, &fields), DG_OK);
    assert_int_equal(fields, 1ull << phone);
    assert_int_equal(r->version, 5);
    assert_string_equal(r->v[phone].s, "0755-2222");
    assert_string_equal(r->v[email].s, "theirs@hq.cn");
    assert_string_equal(r->v[idx(DG_KIND_CUSTOMER, "region")].s, "深圳");
    dg_arena_free(w.a);
}

static void test_keeping_mine_sends_it_against_their_version(void **state)
{
    struct world w;
    dg_merge m;
    dg_record *r;
    uint64_t fields;
    int email = idx(DG_KIND_CUSTOMER, "email"), phone = idx(DG_KIND_CUSTOMER, "phone");
    Dangan__V1__UpdateRequest *u, *back;
    uint8_t wire[1024];
    size_t len;

    (void)state;
    world_init(&w);
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_int_equal(dg_merge_choose(&m, email, DG_MERGE_KEEP_MINE), DG_OK);
    assert_int_equal(dg_merge_result(&m, w.a, &r, &fields), DG_OK);
    assert_int_equal(fields, (1ull << phone) | (1ull << email));
    assert_int_equal(dg_recmsg_update(w.a, r, fields, &u), DG_OK);
    /* what goes on the wire, read back as the server reads it */
    len = protobuf_c_message_get_packed_size(&u->base);
    assert_true(len <= sizeof wire);
    protobuf_c_message_pack(&u->base, wire);
    back = dangan__v1__update_request__unpack(NULL, len, wire);
    assert_non_null(back);
    assert_int_equal(back->expected_version, 5);
    assert_int_equal(back->n_update_mask, 2);
    assert_string_equal(back->update_mask[0], "phone");
    assert_string_equal(back->update_mask[1], "email");
    assert_int_equal(back->record->kind_case, DANGAN__V1__RECORD__KIND_CUSTOMER);
    assert_int_equal(back->record->customer->id, 42);
    assert_string_equal(back->record->customer->phone, "0755-2222");
    assert_string_equal(back->record->customer->email, "mine@hq.cn");
    assert_string_equal(back->record->customer->region, ""); /* not in the mask: not sent */
    dangan__v1__update_request__free_unpacked(back, NULL);
    dg_arena_free(w.a);
}

/* The user's change already made by someone else leaves nothing to send. */
static void test_nothing_to_send_when_theirs_has_my_changes(void **state)
{
    struct world w;
    dg_merge m;
    dg_record *r;
    uint64_t fields;
    Dangan__V1__UpdateRequest *u;

    (void)state;
    world_init(&w);
    w.mine = dg_record_copy(w.a, w.base);
    set(w.mine, "industry", "半导体");
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_int_equal(dg_merge_result(&m, w.a, &r, &fields), DG_OK);
    assert_int_equal(fields, 0);
    assert_int_equal(dg_recmsg_update(w.a, r, fields, &u), DG_EINVAL);
    dg_arena_free(w.a);
}

static void test_tags_merge_as_one_field(void **state)
{
    struct world w;
    dg_merge m;
    dg_record *r;
    uint64_t fields;
    const char *mine_tags[] = {"VIP", "华南"}, *their_tags[] = {"VIP", "重点"};
    int tags = DG_RECMSG_TAGS(dg_entity_get(DG_KIND_CUSTOMER));

    (void)state;
    world_init(&w);
    w.base->tags = mine_tags;
    w.base->n_tags = 1;
    w.theirs->tags = their_tags;
    w.theirs->n_tags = 2;
    w.mine->tags = mine_tags;
    w.mine->n_tags = 2;
    w.mine->has_tags = true;
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_int_equal(m.state[tags], DG_MERGE_CONFLICT);
    assert_string_equal(dg_merge_field_name(&m, tags), "tags");
    assert_int_equal(dg_merge_choose(&m, tags, DG_MERGE_KEEP_MINE), DG_OK);
    assert_int_equal(dg_merge_choose(&m, idx(DG_KIND_CUSTOMER, "email"), DG_MERGE_KEEP_THEIRS),
                     DG_OK);
    assert_int_equal(dg_merge_result(&m, w.a, &r, &fields), DG_OK);
    assert_true(fields & (1ull << tags));
    assert_int_equal(r->n_tags, 2);
    assert_string_equal(r->tags[1], "华南");
    dg_arena_free(w.a);
}

/* Any kind through its table; a record's customer is never the user's to change. */
static void test_other_kinds_merge_through_their_tables(void **state)
{
    dg_arena *a = dg_arena_new(1 << 16);
    dg_record *base = dg_record_new(a, DG_KIND_CONTACT), *mine, *theirs;
    dg_merge m;

    (void)state;
    base->id = 9;
    base->version = 1;
    base->given = ~0ull;
    set_i(base, "customer_id", 42);
    set(base, "mobile", "13800000000");
    mine = dg_record_copy(a, base);
    theirs = dg_record_copy(a, base);
    theirs->version = 2;
    set(mine, "mobile", "13911111111");
    set(theirs, "mobile", "13722222222");
    set_i(mine, "customer_id", 43);
    assert_int_equal(dg_merge_init(&m, base, mine, theirs), DG_OK);
    assert_int_equal(m.state[idx(DG_KIND_CONTACT, "mobile")], DG_MERGE_CONFLICT);
    assert_int_equal(m.state[idx(DG_KIND_CONTACT, "customer_id")], DG_MERGE_SAME);
    assert_int_equal(m.n, (int)dg_entity_get(DG_KIND_CONTACT)->n_fields);
    /* records of different ids are not one record's versions */
    theirs->id = 10;
    assert_int_equal(dg_merge_init(&m, base, mine, theirs), DG_EINVAL);
    dg_arena_free(a);
}

/* A field the user did not touch (not given) is never the user's change. */
static void test_fields_not_given_are_not_mine(void **state)
{
    struct world w;
    dg_merge m;

    (void)state;
    world_init(&w);
    w.mine->given = 1ull << idx(DG_KIND_CUSTOMER, "phone");
    assert_int_equal(dg_merge_init(&m, w.base, w.mine, w.theirs), DG_OK);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "email")], DG_MERGE_THEIRS);
    assert_int_equal(m.state[idx(DG_KIND_CUSTOMER, "phone")], DG_MERGE_MINE);
    dg_arena_free(w.a);
}

/* The server's record (a protobuf Customer) read into a dg_record. */
static void test_record_from_the_servers_message(void **state)
{
    Dangan__V1__Customer c = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef owner = DANGAN__V1__USER_REF__INIT;
    Dangan__V1__Money cap = DANGAN__V1__MONEY__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    char *tags[] = {"VIP", "华南"};
    dg_arena *a = dg_arena_new(1 << 20);
    const ProtobufCMessage *body;
    enum dg_kind kind;
    dg_record *r;

    (void)state;
    c.id = 42;
    c.version = 7;
    c.name = "深圳华强科技";
    c.phone = "138****5678";
    c.tier = DANGAN__V1__TIER__TIER_B;
    owner.id = 3;
    owner.username = "wang";
    c.owner = &owner;
    cap.amount_minor = 500000;
    cap.currency = "USD";
    c.registered_capital = &cap;
    c.tags = tags;
    c.n_tags = 2;
    c.updated_at_ms = 1795311000000LL;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &c;
    body = dg_recmsg_body(&rec, &kind);
    assert_int_equal(kind, DG_KIND_CUSTOMER);
    assert_int_equal(dg_recmsg_to_record(a, kind, body, &r), DG_OK);
    assert_int_equal(r->id, 42);
    assert_int_equal(r->version, 7);
    assert_int_equal(r->updated_at, 1795311000000LL);
    assert_string_equal(r->v[idx(DG_KIND_CUSTOMER, "name")].s, "深圳华强科技");
    assert_string_equal(r->v[idx(DG_KIND_CUSTOMER, "phone")].s, "138****5678");
    assert_int_equal(r->v[idx(DG_KIND_CUSTOMER, "tier")].i, 2);
    assert_int_equal(dg_customer_owner(r), 3);
    assert_int_equal(r->v[idx(DG_KIND_CUSTOMER, "registered_capital")].i, 500000);
    assert_string_equal(r->v[idx(DG_KIND_CUSTOMER, "registered_capital")].s, "USD");
    assert_string_equal(r->v[idx(DG_KIND_CUSTOMER, "email")].s, "");
    assert_int_equal(r->n_tags, 2);
    assert_string_equal(r->tags[1], "华南");
    /* a message of another kind is refused */
    assert_int_equal(dg_recmsg_to_record(a, DG_KIND_CONTACT, body, &r), DG_EINVAL);
    dg_arena_free(a);
}

static void test_update_refuses_fields_that_cannot_change(void **state)
{
    dg_arena *a = dg_arena_new(1 << 16);
    dg_record *r = dg_record_new(a, DG_KIND_TASK);
    Dangan__V1__UpdateRequest *u;

    (void)state;
    r->id = 5;
    r->version = 2;
    assert_int_equal(dg_recmsg_update(a, r, 1ull << idx(DG_KIND_TASK, "customer_id"), &u),
                     DG_EINVAL);
    assert_int_equal(dg_recmsg_update(a, r, 1ull << idx(DG_KIND_TASK, "done_at_ms"), &u),
                     DG_EINVAL);
    assert_int_equal(dg_recmsg_update(a, r, 1ull << idx(DG_KIND_TASK, "done"), &u), DG_OK);
    assert_int_equal(u->record->kind_case, DANGAN__V1__RECORD__KIND_TASK);
    assert_int_equal(u->record->task->id, 5);
    assert_int_equal(u->expected_version, 2);
    dg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_are_classed_three_ways),
        cmocka_unit_test(test_no_update_while_a_conflict_is_undecided),
        cmocka_unit_test(test_keeping_theirs_sends_only_my_other_changes),
        cmocka_unit_test(test_keeping_mine_sends_it_against_their_version),
        cmocka_unit_test(test_nothing_to_send_when_theirs_has_my_changes),
        cmocka_unit_test(test_tags_merge_as_one_field),
        cmocka_unit_test(test_other_kinds_merge_through_their_tables),
        cmocka_unit_test(test_fields_not_given_are_not_mine),
        cmocka_unit_test(test_record_from_the_servers_message),
        cmocka_unit_test(test_update_refuses_fields_that_cannot_change),
    };

    return cmocka_run_group_tests_name("gui_merge", tests, NULL, NULL);
}
