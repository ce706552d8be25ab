/* test_schema_v6.c - a database of schema v5 opened by this dangand: what
 * v5 kept as text is converted, value by value, into the typed rows and
 * columns of v6 (a record's field versions, a change's view before and
 * after and its changed fields), and the server behaves on it as v5 did: a
 * replay of the change feed brings each subscriber the same changes, fields
 * and Hidden events, and an update is refused exactly when a field it names
 * changed after the version it saw.
 *
 * The database (tests/integration/data/schema_v5.sql) was made by the v5
 * dangand (git main before schema v6) running this file's make_v5_history:
 * build this test against it and run
 *   DGT_MAKE_V5_DUMP=/path/schema_v5.sql ./test_schema_v6
 * which runs the history on a fresh server and dumps its database. The
 * expectations are worked out from the v5 text itself, with a parser of the
 * tests' own (v5_database.c), so every row the history left is checked.
 * Here: the conversion, and conflicts by the converted field versions; the
 * replay of the change feed is test_schema_v6_feed.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "fixture.h"
#include "v5_database.h"

/* ------------------------------------------------------------ requests */

static int64_t record_version(const Dangan__V1__Record *r)
{
    switch (r->kind_case) {
    case DANGAN__V1__RECORD__KIND_CUSTOMER:
        return r->customer->version;
    case DANGAN__V1__RECORD__KIND_CONTACT:
        return r->contact->version;
    case DANGAN__V1__RECORD__KIND_INTERACTION:
        return r->interaction->version;
    case DANGAN__V1__RECORD__KIND_DEAL:
        return r->deal->version;
    case DANGAN__V1__RECORD__KIND_FEEDBACK:
        return r->feedback->version;
    case DANGAN__V1__RECORD__KIND_TASK:
        return r->task->version;
    default:
        fail_msg("a reply without a record");
        return 0;
    }
}

/* Creates `rec` as `c`; returns the new record's id. */
static int64_t create(dg_client *c, Dangan__V1__Record *rec)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int64_t id;

    m.record = rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        fail_msg("create: %s", dg_reply_response(r)->status->message);
    id = dgt_record_id(dg_reply_response(r)->create->record);
    dg_reply_free(r);
    return id;
}

/* Sends an update of `field` of `rec` (its id set) as `c`, having seen
 * `expected`; the caller frees the reply. */
static dg_reply *update_seen(dg_client *c, Dangan__V1__Record *rec, const char *field,
                             int64_t expected)
{
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    char *mask[] = {(char *)field};

    m.record = rec;
    m.expected_version = expected;
    m.update_mask = mask;
    m.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    return dgt_call(c, &req);
}

/* The version record (kind, id) has now, as `c` sees it. */
static int64_t version_now(dg_client *c, int kind, int64_t id)
{
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int64_t v;

    g.kind = kind;
    g.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    v = record_version(dg_reply_response(r)->get->record);
    dg_reply_free(r);
    return v;
}

/* Updates `field` of `rec` as `c` at the version it has now. */
static void update(dg_client *c, Dangan__V1__Record *rec, const char *field)
{
    ok(update_seen(c, rec, field, version_now(c, (int)rec->kind_case, dgt_record_id(rec))), field);
}

/* The record of kind `k` wrapping `msg` (a Customer, Contact, ...). */
static Dangan__V1__Record wrap(Dangan__V1__Record__KindCase k, void *msg)
{
    Dangan__V1__Record r = DANGAN__V1__RECORD__INIT;

    r.kind_case = k;
    switch (k) {
    case DANGAN__V1__RECORD__KIND_CUSTOMER:
        r.customer = msg;
        break;
    case DANGAN__V1__RECORD__KIND_CONTACT:
        r.contact = msg;
        break;
    case DANGAN__V1__RECORD__KIND_INTERACTION:
        r.interaction = msg;
        break;
    case DANGAN__V1__RECORD__KIND_DEAL:
        r.deal = msg;
        break;
    case DANGAN__V1__RECORD__KIND_FEEDBACK:
        r.feedback = msg;
        break;
    case DANGAN__V1__RECORD__KIND_TASK:
        r.task = msg;
        break;
    default:
        fail_msg("no such kind");
    }
    return r;
}

static int64_t new_customer(dg_client *c, const char *name, const char *owner,
                            Dangan__V1__Tier tier)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    Dangan__V1__Record rec = wrap(DANGAN__V1__RECORD__KIND_CUSTOMER, &cu);

    cu.name = (char *)name;
    cu.tier = tier;
    o.username = (char *)owner;
    cu.owner = &o;
    return create(c, &rec);
}

static int64_t new_contact(dg_client *c, int64_t customer, const char *name)
{
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Record rec = wrap(DANGAN__V1__RECORD__KIND_CONTACT, &ct);

    ct.customer_id = customer;
    ct.name = (char *)name;
    return create(c, &rec);
}

static void archive(dg_client *c, int kind, int64_t id, bool restore)
{
    Dangan__V1__ArchiveRequest a = DANGAN__V1__ARCHIVE_REQUEST__INIT;
    Dangan__V1__RestoreRequest rs = DANGAN__V1__RESTORE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    if (restore) {
        rs.kind = kind;
        rs.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_RESTORE;
        req.restore = &rs;
    } else {
        a.kind = kind;
        a.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
        req.archive = &a;
    }
    ok(dgt_call(c, &req), restore ? "restore" : "archive");
}

/* ------------------------------------------------------------ the v5 history */

/* Generator: the history on a fresh server, its database dumped to `out`
 * (run against the v5 dangand; see the file header). */
static void make_v5_history(const char *out)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Interaction in = DANGAN__V1__INTERACTION__INIT;
    Dangan__V1__Deal dl = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Feedback fb = DANGAN__V1__FEEDBACK__INIT;
    Dangan__V1__Task tk = DANGAN__V1__TASK__INIT;
    Dangan__V1__Money amount = DANGAN__V1__MONEY__INIT;
    Dangan__V1__CustomValue cv = DANGAN__V1__CUSTOM_VALUE__INIT, *cvs[] = {&cv};
    Dangan__V1__CustomField field = DANGAN__V1__CUSTOM_FIELD__INIT;
    Dangan__V1__DefineFieldRequest def = DANGAN__V1__DEFINE_FIELD_REQUEST__INIT;
    Dangan__V1__MergeRequest merge = DANGAN__V1__MERGE_REQUEST__INIT;
    Dangan__V1__ReassignRequest hand = DANGAN__V1__REASSIGN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec;
    char *tags[] = {"重点", "华东"};
    int64_t c1 = C1;
    dg_client *admin, *mgr, *s1;
    char db[512], cmd[2048];

    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, S1_PASSWORD);
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, S2_PASSWORD);
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, MGR_PASSWORD);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    mgr = dgt_login(&srv, "mgr", MGR_PASSWORD);
    s1 = dgt_login(&srv, "s1", S1_PASSWORD);

    field.name = "region_code";
    field.type = DANGAN__V1__FIELD_TYPE__FIELD_TYPE_TEXT;
    def.field = &field;
    req.body_case = DANGAN__V1__REQUEST__BODY_DEFINE_FIELD;
    req.define_field = &def;
    ok(dgt_call(admin, &req), "define field"); /* a change row of no record */

    assert_int_equal(new_customer(mgr, "迁移甲公司", "s1", DANGAN__V1__TIER__TIER_B), C1);
    cu.id = C1;
    rec = wrap(DANGAN__V1__RECORD__KIND_CUSTOMER, &cu);
    cu.phone = "021-5555-0101";
    update(s1, &rec, "phone");
    cu.tags = tags;
    cu.n_tags = 2;
    update(s1, &rec, "tags");
    cv.name = "region_code";
    cv.value = "HD-01";
    cu.custom = cvs;
    cu.n_custom = 1;
    update(s1, &rec, "custom.region_code");

    assert_int_equal(new_contact(s1, C1, "甲联系人"), K1);
    ct.id = K1;
    ct.title = "采购经理";
    rec = wrap(DANGAN__V1__RECORD__KIND_CONTACT, &ct);
    update(s1, &rec, "title");

    in.customer_id = C1;
    in.channel = DANGAN__V1__CHANNEL__CHANNEL_PHONE;
    in.summary = "电话沟通";
    rec = wrap(DANGAN__V1__RECORD__KIND_INTERACTION, &in);
    assert_int_equal(in.id = create(s1, &rec), I1);
    in.place = "上海";
    update(s1, &rec, "place");

    dl.customer_id = C1;
    amount.amount_minor = 880000;
    amount.currency = "CNY";
    dl.amount = &amount;
    rec = wrap(DANGAN__V1__RECORD__KIND_DEAL, &dl);
    assert_int_equal(dl.id = create(s1, &rec), D1);
    dl.notes = "首单";
    update(s1, &rec, "notes");
    archive(s1, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL, D1, false);
    archive(s1, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL, D1, true);

    fb.customer_id = C1;
    fb.kind = DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_PRAISE;
    fb.text = "送货及时";
    rec = wrap(DANGAN__V1__RECORD__KIND_FEEDBACK, &fb);
    assert_int_equal(fb.id = create(s1, &rec), F1);
    fb.status = DANGAN__V1__FEEDBACK_STATUS__FEEDBACK_STATUS_CLOSED;
    update(s1, &rec, "status");

    tk.customer_id = C1;
    tk.title = "寄送合同"; /* open, assigned to s1: it moves with C1 */
    rec = wrap(DANGAN__V1__RECORD__KIND_TASK, &tk);
    assert_int_equal(tk.id = create(s1, &rec), T1);
    tk.notes = "快递";
    update(s1, &rec, "notes");

    assert_int_equal(new_customer(mgr, "迁移乙公司", "s2", DANGAN__V1__TIER__TIER_A), C2);
    assert_int_equal(new_customer(mgr, "迁移丙公司", "s2", DANGAN__V1__TIER__TIER_B), C3);
    assert_int_equal(new_contact(mgr, C3, "丙联系人"), K3);
    merge.keep_id = C1;
    merge.drop_id = C3;
    req.body_case = DANGAN__V1__REQUEST__BODY_MERGE;
    req.merge = &merge;
    ok(dgt_call(mgr, &req), "merge"); /* K3 moves from s2's view into s1's */
    assert_int_equal(new_customer(s1, "迁移丁公司", "s1", DANGAN__V1__TIER__TIER_UNSPECIFIED), C4);

    cu = (Dangan__V1__Customer)DANGAN__V1__CUSTOMER__INIT;
    cu.id = C1;
    cu.tier = DANGAN__V1__TIER__TIER_A; /* restricted: s2 loses it, s1 owns it */
    rec = wrap(DANGAN__V1__RECORD__KIND_CUSTOMER, &cu);
    update(mgr, &rec, "tier");
    hand.customer_ids = &c1;
    hand.n_customer_ids = 1;
    hand.to_user = "s2"; /* s1 loses C1 and its open task */
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &hand;
    ok(dgt_call(mgr, &req), "reassign");

    dg_client_close(s1);
    dg_client_close(mgr);
    dg_client_close(admin);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_db_path(&srv, db, sizeof db);
    snprintf(cmd, sizeof cmd,
             "(sqlite3 '%s' .dump && sqlite3 '%s' 'PRAGMA user_version' |"
             " sed 's/^/PRAGMA user_version = /; s/$/;/') > '%s'",
             db, db, out);
    assert_int_equal(system(cmd), 0);
    dgt_rmtree(srv.root);
}

/* The columns of `table` include `column`. */
static bool has_column(const char *table, const char *column)
{
    char sql[160];

    snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
             table, column);
    return count_rows(sql) == 1;
}

static void test_every_v5_text_is_converted_value_by_value(void **state)
{
    sqlite3 *db = db_open();
    sqlite3_stmt *s;
    size_t n_views = 0, n_items = 0, n_versions = 0;

    (void)state;
    /* a change's view: owner and tier name, or both NULL */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, vis_before_owner, vis_before_tier,"
                                        " vis_after_owner, vis_after_tier FROM changes"
                                        " ORDER BY seq",
                                        -1, &s, NULL),
                     SQLITE_OK);
    for (size_t i = 0; sqlite3_step(s) == SQLITE_ROW; i++) {
        const struct v5_change *c = &changes[i];
        const struct vis *want[2] = {&c->before, &c->after};

        assert_true(i < n_changes);
        assert_int_equal(sqlite3_column_int64(s, 0), c->seq);
        for (int b = 0; b < 2; b++) {
            int col_owner = 1 + 2 * b;

            if (!want[b]->is_set) {
                assert_int_equal(sqlite3_column_type(s, col_owner), SQLITE_NULL);
                assert_int_equal(sqlite3_column_type(s, col_owner + 1), SQLITE_NULL);
                continue;
            }
            assert_int_equal(sqlite3_column_type(s, col_owner), SQLITE_INTEGER);
            assert_int_equal(sqlite3_column_int64(s, col_owner), want[b]->owner);
            assert_string_equal(col(s, col_owner + 1), want[b]->tier);
            n_views++;
        }
    }
    sqlite3_finalize(s);
    assert_int_equal(count_rows("SELECT count(*) FROM changes"), (int64_t)n_changes);

    /* a change's fields: its rows in order */
    for (size_t i = 0; i < n_changes; i++) {
        size_t k = 0;

        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT field FROM change_fields WHERE seq = ?1"
                                            " ORDER BY pos",
                                            -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(s, 1, changes[i].seq);
        for (; sqlite3_step(s) == SQLITE_ROW; k++) {
            assert_true(k < changes[i].n_fields);
            assert_string_equal(col(s, 0), changes[i].fields[k]);
        }
        assert_int_equal(k, changes[i].n_fields);
        n_items += k;
        sqlite3_finalize(s);
    }
    assert_int_equal(count_rows("SELECT count(*) FROM change_fields"), (int64_t)n_items);

    /* a record's field versions: one row per item */
    for (size_t i = 0; i < n_fvers; i++) {
        const struct v5_fver *f = &fvers[i];

        for (size_t k = 0; k < f->n; k++) {
            assert_int_equal(sqlite3_prepare_v2(db,
                                                "SELECT version FROM field_versions"
                                                " WHERE kind = ?1 AND record_id = ?2"
                                                " AND field = ?3",
                                                -1, &s, NULL),
                             SQLITE_OK);
            sqlite3_bind_int(s, 1, f->kind);
            sqlite3_bind_int64(s, 2, f->id);
            sqlite3_bind_text(s, 3, f->field[k], -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_ROW)
                fail_msg("kind %d id %lld: no version of %s", f->kind, (long long)f->id,
                         f->field[k]);
            assert_int_equal(sqlite3_column_int64(s, 0), f->version[k]);
            sqlite3_finalize(s);
        }
        n_versions += f->n;
    }
    assert_int_equal(count_rows("SELECT count(*) FROM field_versions"), (int64_t)n_versions);
    sqlite3_close(db);

    /* the history has every shape: views with and without, every kind's versions */
    assert_true(n_views > 20);
    assert_true(n_items > 40);
    assert_int_equal(count_rows("SELECT count(DISTINCT kind) FROM field_versions"), 6);
    assert_int_equal(count_rows("SELECT version FROM field_versions WHERE kind = 1"
                                " AND record_id = 1 AND field = 'custom.region_code'"),
                     4);
    assert_int_equal(count_rows("SELECT version FROM field_versions WHERE kind = 4"
                                " AND record_id = 1 AND field = 'archived'"),
                     4);
    assert_int_equal(count_rows("SELECT version FROM field_versions WHERE kind = 1"
                                " AND record_id = 2 AND field = 'name'"),
                     5);
    assert_int_equal(count_rows("SELECT count(*) FROM field_versions WHERE kind = 1"
                                " AND record_id = 4"),
                     0);
    assert_int_equal(count_rows("SELECT count(*) FROM changes WHERE vis_after_owner IS NULL"
                                " AND vis_before_owner = 0 AND vis_before_tier = ''"),
                     1);
    assert_int_equal(count_rows("SELECT count(*) FROM changes WHERE vis_after_tier = 'zz'"), 1);

    /* and the text is gone */
    for (const char *const *t = (const char *const[]){"customers", "contacts", "interactions",
                                                        "deals", "feedback", "tasks", NULL};
         *t; t++)
        assert_false(has_column(*t, "fver"));
    assert_false(has_column("changes", "fields"));
    assert_false(has_column("changes", "vis_before"));
    assert_false(has_column("changes", "vis_after"));
}

/* ------------------------------------------------------------ conflicts */

/* Updates `field` of `rec` as `c`, having seen version `seen`: refused as a
 * conflict naming that field, or applied. */
static void expect_conflict(dg_client *c, Dangan__V1__Record *rec, const char *field, int64_t seen,
                            bool is_conflict)
{
    dg_reply *r = update_seen(c, rec, field, seen);
    const Dangan__V1__Status *st = dg_reply_response(r)->status;

    if (!is_conflict) {
        if (dgt_code(r) != 0)
            fail_msg("%s at %lld: %s", field, (long long)seen, st->message);
    } else {
        if (dgt_code(r) != DANGAN__V1__CODE__ABORTED)
            fail_msg("%s at %lld: not a conflict (%s)", field, (long long)seen, st->message);
        assert_int_equal(st->n_conflicting_fields, 1);
        assert_string_equal(st->conflicting_fields[0], field);
    }
    dg_reply_free(r);
}

static void test_updates_conflict_by_the_v5_field_versions(void **state)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Deal dl = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Task tk = DANGAN__V1__TASK__INIT;
    Dangan__V1__CustomValue cv = DANGAN__V1__CUSTOM_VALUE__INIT, *cvs[] = {&cv};
    Dangan__V1__Record rec = wrap(DANGAN__V1__RECORD__KIND_CUSTOMER, &cu);
    char *tags[] = {"华南"};
    dg_client *mgr = dgt_login(&srv, "mgr", MGR_PASSWORD);
    int64_t now;

    (void)state;
    /* C1: phone changed at 2, tags at 3, custom.region_code at 4 */
    cu.id = C1;
    cu.phone = "021-5555-0202";
    expect_conflict(mgr, &rec, "phone", 1, true);
    cu.tags = tags;
    cu.n_tags = 1;
    expect_conflict(mgr, &rec, "tags", 2, true);
    cv.name = "region_code";
    cv.value = "HN-02";
    cu.custom = cvs;
    cu.n_custom = 1;
    expect_conflict(mgr, &rec, "custom.region_code", 3, true);
    /* a field nobody changed since creation: seen at 1 is no conflict */
    cu.name = "迁移甲公司（新）";
    expect_conflict(mgr, &rec, "name", 1, false);
    now = version_now(mgr, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, C1);
    assert_int_equal(count_rows("SELECT version FROM field_versions WHERE kind = 1"
                                " AND record_id = 1 AND field = 'name'"),
                     now);
    /* and the versions it did not touch are still there */
    expect_conflict(mgr, &rec, "phone", 1, true);
    expect_conflict(mgr, &rec, "phone", 2, false);

    ct.id = K1; /* title changed at 2 */
    ct.title = "总经理";
    rec = wrap(DANGAN__V1__RECORD__KIND_CONTACT, &ct);
    expect_conflict(mgr, &rec, "title", 1, true);
    dl.id = D1; /* notes changed at 2, then archived and restored */
    dl.notes = "二单";
    rec = wrap(DANGAN__V1__RECORD__KIND_DEAL, &dl);
    expect_conflict(mgr, &rec, "notes", 1, true);
    dl.place = "杭州";
    expect_conflict(mgr, &rec, "place", 1, false);
    tk.id = T1; /* notes changed at 2; the hand-over changed its assignee at 3 */
    tk.notes = "挂号信";
    rec = wrap(DANGAN__V1__RECORD__KIND_TASK, &tk);
    expect_conflict(mgr, &rec, "notes", 1, true);
    expect_conflict(mgr, &rec, "notes", 2, false);
    dg_client_close(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_v5_text_is_converted_value_by_value),
        cmocka_unit_test(test_updates_conflict_by_the_v5_field_versions),
    };
    const char *dump = getenv("DGT_MAKE_V5_DUMP");

    if (dump) {
        make_v5_history(dump);
        return 0;
    }
    return cmocka_run_group_tests(tests, v5_setup, v5_teardown);
}
