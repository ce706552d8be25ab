/* test_records.c - customer dossiers over real TLS: every kind's create,
 * get, update, archive, restore and list; field-level concurrency; idempotent
 * retries; batches all or nothing; group-commit isolation; search in Chinese
 * and Latin text and by phone; paging while rows are inserted; one change row
 * and one audit record per mutation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"

static dgt_server srv;
static dg_client *cli;

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    cli = dgt_login(&srv, "admin", srv.admin_password);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(cli);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ request helpers */

static dg_reply *send_create(dg_client *c, Dangan__V1__Record *rec, const char *idem, bool dup)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.record = rec;
    m.idempotency_key = (char *)(idem ? idem : "");
    m.allow_duplicate = dup;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(c, &req);
}

static Dangan__V1__Record customer_rec(Dangan__V1__Customer *cu)
{
    Dangan__V1__Record r = DANGAN__V1__RECORD__INIT;

    r.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    r.customer = cu;
    return r;
}

/* Creates a customer; returns its id (asserting success). */
static int64_t new_customer(const char *name, const char *phone, const char *notes)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Record rec;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    cu.phone = (char *)(phone ? phone : "");
    cu.notes = (char *)(notes ? notes : "");
    rec = customer_rec(&cu);
    r = send_create(cli, &rec, NULL, true);
    if (dgt_code(r) != 0)
        fail_msg("create %s: %s", name, dg_reply_response(r)->status->message);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    return id;
}

static dg_reply *get_rec(dg_client *c, int kind, int64_t id, bool dossier)
{
    Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = kind;
    m.id = id;
    m.dossier = dossier;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &m;
    return dgt_call(c, &req);
}

static dg_reply *update_customer(dg_client *c, Dangan__V1__Customer *patch, const char *field,
                                 int64_t expected, const char *idem)
{
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = customer_rec(patch);
    char *mask[] = {(char *)field};

    m.record = &rec;
    m.expected_version = expected;
    m.update_mask = mask;
    m.n_update_mask = 1;
    m.idempotency_key = (char *)(idem ? idem : "");
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    return dgt_call(c, &req);
}

static dg_reply *archive(dg_client *c, int kind, int64_t id, bool restore)
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
    return dgt_call(c, &req);
}

static dg_reply *list_page(dg_client *c, int kind, int64_t customer_id, const char *sort,
                           uint32_t limit, const char *cursor)
{
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    f.customer_id = customer_id;
    m.kind = kind;
    m.filter = &f;
    m.sort = (char *)(sort ? sort : "");
    m.limit = limit;
    m.cursor = (char *)(cursor ? cursor : "");
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    return dgt_call(c, &req);
}

static dg_reply *search(dg_client *c, const char *q)
{
    Dangan__V1__SearchRequest m = DANGAN__V1__SEARCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.query = (char *)q;
    m.limit = 50;
    req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req.search = &m;
    return dgt_call(c, &req);
}

static bool hits_contain(dg_reply *r, int64_t id)
{
    const Dangan__V1__SearchResponse *s = dg_reply_response(r)->search;

    for (size_t i = 0; s && i < s->n_hits; i++)
        if (s->hits[i]->customer->id == id)
            return true;
    return false;
}

static int64_t count_rows(const char *sql)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;

    dgt_db_path(&srv, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ------------------------------------------------------------ tests */

static void test_customer_create_get_update_archive_restore(void **state)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT, patch = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Money capital = DANGAN__V1__MONEY__INIT;
    char *tags[] = {"重点", "5g"};
    Dangan__V1__Record rec;
    const Dangan__V1__Customer *got;
    dg_reply *r;
    int64_t id;

    (void)state;
    cu.name = "杭州西湖贸易有限公司";
    cu.short_name = "西湖贸易";
    cu.tier = DANGAN__V1__TIER__TIER_B;
    cu.founded_on = "2008-08-08";
    capital.amount_minor = 50000000; /* 500,000.00 CNY */
    cu.registered_capital = &capital;
    cu.tags = tags;
    cu.n_tags = 2;
    rec = customer_rec(&cu);
    r = send_create(cli, &rec, NULL, false);
    assert_int_equal(dgt_code(r), 0);
    got = dg_reply_response(r)->create->record->customer;
    id = got->id;
    assert_true(strncmp(got->code, "C-", 2) == 0); /* generated */
    assert_int_equal(got->version, 1);
    assert_string_equal(got->owner->username, "admin"); /* the creator by default */
    assert_string_equal(got->registered_capital->currency, "CNY");
    dg_reply_free(r);

    r = get_rec(cli, 1, id, false);
    got = dg_reply_response(r)->get->record->customer;
    assert_string_equal(got->name, "杭州西湖贸易有限公司");
    assert_int_equal(got->n_tags, 2);
    assert_int_equal(got->tier, DANGAN__V1__TIER__TIER_B);
    assert_true(dg_reply_response(r)->get->snapshot->seq > 0);
    dg_reply_free(r);

    patch.id = id;
    patch.industry = "批发零售";
    r = update_customer(cli, &patch, "industry", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->update->record->customer->version, 2);
    dg_reply_free(r);

    r = archive(cli, 1, id, false);
    assert_int_equal(dgt_code(r), 0);
    assert_true(dg_reply_response(r)->archive->record->customer->archived);
    dg_reply_free(r);
    r = update_customer(cli, &patch, "industry", 3, NULL); /* archived: restore first */
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    dg_reply_free(r);
    r = archive(cli, 1, id, true);
    assert_int_equal(dgt_code(r), 0);
    assert_false(dg_reply_response(r)->restore->record->customer->archived);
    assert_int_equal(dg_reply_response(r)->restore->record->customer->version, 4);
    dg_reply_free(r);
}

static void test_validation_errors_name_the_field(void **state)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Record rec;
    const Dangan__V1__Status *st;
    dg_reply *r;

    (void)state;
    cu.name = "";
    cu.email = "not-an-address";
    cu.founded_on = "2023-02-30";
    rec = customer_rec(&cu);
    r = send_create(cli, &rec, NULL, false);
    st = dg_reply_response(r)->status;
    assert_int_equal(st->code, DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_int_equal(st->n_field_violations, 3);
    assert_string_equal(st->field_violations[0]->field, "record.customer.name");
    assert_string_equal(st->field_violations[1]->field, "record.customer.email");
    assert_string_equal(st->field_violations[2]->field, "record.customer.founded_on");
    dg_reply_free(r);
}

/* Each child kind: create under a customer, get, update, archive, list. */
static void test_every_child_kind_round_trips(void **state)
{
    int64_t cid = new_customer("成都天府物流有限公司", NULL, NULL);
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Interaction in = DANGAN__V1__INTERACTION__INIT;
    Dangan__V1__Deal dl = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Feedback fb = DANGAN__V1__FEEDBACK__INIT;
    Dangan__V1__Task tk = DANGAN__V1__TASK__INIT;
    Dangan__V1__Money amount = DANGAN__V1__MONEY__INIT;
    Dangan__V1__Record recs[5];
    int kinds[5] = {2, 3, 4, 5, 6};

    (void)state;
    ct.customer_id = cid;
    ct.name = "赵敏";
    ct.title = "采购经理";
    in.customer_id = cid;
    in.channel = DANGAN__V1__CHANNEL__CHANNEL_PHONE;
    in.summary = "电话沟通报价";
    dl.customer_id = cid;
    amount.amount_minor = 880000;
    dl.amount = &amount;
    fb.customer_id = cid;
    fb.kind = DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_PRAISE;
    fb.satisfaction = 5;
    fb.text = "送货及时";
    tk.customer_id = cid;
    tk.title = "寄送合同";
    for (int i = 0; i < 5; i++) {
        recs[i] = (Dangan__V1__Record)DANGAN__V1__RECORD__INIT;
        recs[i].kind_case = (Dangan__V1__Record__KindCase)kinds[i];
    }
    recs[0].contact = &ct;
    recs[1].interaction = &in;
    recs[2].deal = &dl;
    recs[3].feedback = &fb;
    recs[4].task = &tk;
    for (int i = 0; i < 5; i++) {
        dg_reply *r = send_create(cli, &recs[i], NULL, false);
        const Dangan__V1__Record *created;
        Dangan__V1__UpdateRequest um = DANGAN__V1__UPDATE_REQUEST__INIT;
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        char *mask_notes[] = {"notes"}, *mask_status[] = {"status"}, *mask_done[] = {"done"},
             *mask_place[] = {"place"};
        int64_t id;

        assert_int_equal(dgt_code(r), 0);
        created = dg_reply_response(r)->create->record;
        assert_int_equal((int)created->kind_case, kinds[i]);
        id = *(int64_t *)((char *)created->contact + 3 * 0 +
                          protobuf_c_message_descriptor_get_field_by_name(
                              ((ProtobufCMessage *)created->contact)->descriptor, "id")
                              ->offset);
        dg_reply_free(r);
        /* update one field of each */
        switch (kinds[i]) {
        case 2:
            ct.id = id;
            ct.notes = "喜欢喝茶";
            um.update_mask = mask_notes;
            break;
        case 3:
            in.id = id;
            in.place = "成都";
            um.update_mask = mask_place;
            break;
        case 4:
            dl.id = id;
            dl.notes = "首单";
            um.update_mask = mask_notes;
            break;
        case 5:
            fb.id = id;
            fb.status = DANGAN__V1__FEEDBACK_STATUS__FEEDBACK_STATUS_CLOSED;
            um.update_mask = mask_status;
            break;
        case 6:
            tk.id = id;
            tk.done = 1;
            um.update_mask = mask_done;
            break;
        }
        um.n_update_mask = 1;
        um.record = &recs[i];
        um.expected_version = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = &um;
        r = dgt_call(cli, &req);
        assert_int_equal(dgt_code(r), 0);
        if (kinds[i] == 6) /* the server stamps completion */
            assert_true(dg_reply_response(r)->update->record->task->done_at_ms > 0);
        dg_reply_free(r);
        r = get_rec(cli, kinds[i], id, false);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
        r = list_page(cli, kinds[i], cid, NULL, 10, NULL);
        assert_int_equal(dg_reply_response(r)->list->n_records, 1);
        dg_reply_free(r);
        r = archive(cli, kinds[i], id, false);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
        r = list_page(cli, kinds[i], cid, NULL, 10, NULL);
        assert_int_equal(dg_reply_response(r)->list->n_records, 0); /* archived are hidden */
        dg_reply_free(r);
    }
}

static void test_dossier_comes_back_in_one_round_trip(void **state)
{
    int64_t cid = new_customer("南京紫金电子科技有限公司", NULL, NULL);
    Dangan__V1__Deal d1 = DANGAN__V1__DEAL__INIT, d2 = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Money m1 = DANGAN__V1__MONEY__INIT, m2 = DANGAN__V1__MONEY__INIT;
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    const Dangan__V1__Dossier *d;
    dg_reply *r;

    (void)state;
    m1.amount_minor = 100000;
    m2.amount_minor = 250050;
    d1.customer_id = d2.customer_id = cid;
    d1.amount = &m1;
    d2.amount = &m2;
    rec.kind_case = DANGAN__V1__RECORD__KIND_DEAL;
    rec.deal = &d1;
    dg_reply_free(send_create(cli, &rec, NULL, false));
    rec.deal = &d2;
    dg_reply_free(send_create(cli, &rec, NULL, false));
    ct.customer_id = cid;
    ct.name = "孙丽";
    rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec.contact = &ct;
    dg_reply_free(send_create(cli, &rec, NULL, false));
    r = get_rec(cli, 1, cid, true);
    d = dg_reply_response(r)->get->dossier;
    assert_non_null(d);
    assert_int_equal(d->n_contacts, 1);
    assert_int_equal(d->n_deals, 2);
    assert_int_equal(d->n_deal_totals, 1);
    assert_string_equal(d->deal_totals[0]->currency, "CNY");
    assert_int_equal(d->deal_totals[0]->amount_minor, 350050);
    assert_int_equal(d->deal_totals[0]->count, 2);
    dg_reply_free(r);
}

static void test_concurrent_edits_of_different_fields_both_land(void **state)
{
    int64_t id = new_customer("武汉长江机械有限公司", NULL, NULL);
    Dangan__V1__Customer a = DANGAN__V1__CUSTOMER__INIT, b = DANGAN__V1__CUSTOMER__INIT;
    dg_client *other = dgt_login(&srv, "admin", srv.admin_password);
    const Dangan__V1__Customer *got;
    dg_reply *r;

    (void)state;
    a.id = b.id = id;
    a.region = "湖北";
    b.website = "https://cjjx.example.cn";
    /* Both saw version 1. */
    r = update_customer(cli, &a, "region", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = update_customer(other, &b, "website", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = get_rec(cli, 1, id, false);
    got = dg_reply_response(r)->get->record->customer;
    assert_string_equal(got->region, "湖北");
    assert_string_equal(got->website, "https://cjjx.example.cn");
    assert_int_equal(got->version, 3);
    dg_reply_free(r);
    dg_client_close(other);
}

static void test_same_field_conflict_is_aborted_with_current_values(void **state)
{
    int64_t id = new_customer("西安古城文化传媒有限公司", NULL, NULL);
    Dangan__V1__Customer a = DANGAN__V1__CUSTOMER__INIT, b = DANGAN__V1__CUSTOMER__INIT;
    const Dangan__V1__Response *resp;
    dg_reply *r;

    (void)state;
    a.id = b.id = id;
    a.phone = "029-8888-1111";
    b.phone = "029-8888-2222";
    r = update_customer(cli, &a, "phone", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = update_customer(cli, &b, "phone", 1, NULL); /* saw version 1, phone changed since */
    resp = dg_reply_response(r);
    assert_int_equal(resp->status->code, DANGAN__V1__CODE__ABORTED);
    assert_string_equal(resp->status->reason, "version_conflict");
    assert_int_equal(resp->status->n_conflicting_fields, 1);
    assert_string_equal(resp->status->conflicting_fields[0], "phone");
    assert_non_null(resp->update);
    assert_string_equal(resp->update->record->customer->phone, "029-8888-1111");
    assert_int_equal(resp->update->record->customer->version, 2);
    dg_reply_free(r);
    /* Setting it to what it already is is no conflict. */
    r = update_customer(cli, &a, "phone", 1, NULL);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->update->record->customer->version, 2);
    dg_reply_free(r);
}

static void test_idempotent_retry_applies_once(void **state)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT, patch = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Record rec;
    int64_t before = count_rows("SELECT count(*) FROM customers"), id1, id2;
    dg_reply *r;

    (void)state;
    cu.name = "青岛啤酒花园餐饮有限公司";
    rec = customer_rec(&cu);
    r = send_create(cli, &rec, "import-row-42", false);
    assert_int_equal(dgt_code(r), 0);
    id1 = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    r = send_create(cli, &rec, "import-row-42", false); /* the retry after a lost answer */
    assert_int_equal(dgt_code(r), 0);
    id2 = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    assert_int_equal(id1, id2);
    assert_int_equal(count_rows("SELECT count(*) FROM customers"), before + 1);
    /* the same key for a different request is refused */
    cu.name = "另一家公司";
    r = send_create(cli, &rec, "import-row-42", false);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
    assert_string_equal(dgt_reason(r), "idempotency_key_reused");
    dg_reply_free(r);
    /* updates too */
    patch.id = id1;
    patch.notes = "第一次";
    r = update_customer(cli, &patch, "notes", 1, "edit-7");
    assert_int_equal(dg_reply_response(r)->update->record->customer->version, 2);
    dg_reply_free(r);
    r = update_customer(cli, &patch, "notes", 1, "edit-7");
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->update->record->customer->version, 2);
    dg_reply_free(r);
}

static void test_likely_duplicates_are_refused_with_the_twin(void **state)
{
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Record rec;
    int64_t id = new_customer("厦门鹭岛海运有限公司", "+86 592-555-0101", NULL);
    const Dangan__V1__Response *resp;
    dg_reply *r;

    (void)state;
    cu.name = "厦门鹭岛海运"; /* the legal form stripped: the same name */
    rec = customer_rec(&cu);
    r = send_create(cli, &rec, NULL, false);
    resp = dg_reply_response(r);
    assert_int_equal(resp->status->code, DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_string_equal(resp->status->reason, "likely_duplicate");
    assert_int_equal(resp->create->n_duplicates, 1);
    assert_int_equal(resp->create->duplicates[0]->customer_id, id);
    /* who owns the twin, so the two salespeople can talk (撞单) */
    assert_string_equal(resp->create->duplicates[0]->name, "厦门鹭岛海运有限公司");
    assert_true(strncmp(resp->create->duplicates[0]->code, "C-", 2) == 0);
    assert_string_equal(resp->create->duplicates[0]->owner->username, "admin");
    dg_reply_free(r);
    cu.name = "鹭岛物流";
    cu.phone = "0592 5550101"; /* same digits */
    r = send_create(cli, &rec, NULL, false);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_string_equal(dg_reply_response(r)->create->duplicates[0]->matched_on, "phone");
    dg_reply_free(r);
    r = send_create(cli, &rec, NULL, true); /* allow_duplicate */
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

static dg_reply *batch(Dangan__V1__BatchOp **ops, size_t n)
{
    Dangan__V1__BatchRequest m = DANGAN__V1__BATCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.ops = ops;
    m.n_ops = n;
    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = &m;
    return dgt_call(cli, &req);
}

static void test_batch_is_all_or_nothing(void **state)
{
    Dangan__V1__Customer c1 = DANGAN__V1__CUSTOMER__INIT, c3 = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Record r1 = DANGAN__V1__RECORD__INIT, r2 = DANGAN__V1__RECORD__INIT,
                       r3 = DANGAN__V1__RECORD__INIT;
    Dangan__V1__CreateRequest cr1 = DANGAN__V1__CREATE_REQUEST__INIT,
                              cr2 = DANGAN__V1__CREATE_REQUEST__INIT,
                              cr3 = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__BatchOp o1 = DANGAN__V1__BATCH_OP__INIT, o2 = DANGAN__V1__BATCH_OP__INIT,
                        o3 = DANGAN__V1__BATCH_OP__INIT;
    Dangan__V1__BatchOp *ops[] = {&o1, &o2, &o3};
    int64_t customers = count_rows("SELECT count(*) FROM customers");
    int64_t contacts = count_rows("SELECT count(*) FROM contacts");
    int64_t changes = count_rows("SELECT count(*) FROM changes");
    const Dangan__V1__Response *resp;
    dg_reply *r;

    (void)state;
    c1.name = "沈阳北方重工有限公司";
    c1.code = "C-B00001";
    ct.customer_id = -1; /* the customer op 1 creates */
    ct.name = "刘洋";
    c3.name = "大连港湾有限公司";
    c3.code = "C-B00001"; /* taken by op 1: the batch fails at op 3 */
    r1.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    r1.customer = &c1;
    r2.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    r2.contact = &ct;
    r3.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    r3.customer = &c3;
    cr1.record = &r1;
    cr2.record = &r2;
    cr3.record = &r3;
    cr1.allow_duplicate = cr3.allow_duplicate = 1;
    o1.op_case = o2.op_case = o3.op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
    o1.create = &cr1;
    o2.create = &cr2;
    o3.create = &cr3;
    r = batch(ops, 3);
    resp = dg_reply_response(r);
    assert_int_equal(resp->status->code, DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_int_equal(resp->batch->failed_op, 2);
    assert_string_equal(resp->status->field_violations[0]->field, "ops[2].code");
    dg_reply_free(r);
    assert_int_equal(count_rows("SELECT count(*) FROM customers"), customers);
    assert_int_equal(count_rows("SELECT count(*) FROM contacts"), contacts);
    assert_int_equal(count_rows("SELECT count(*) FROM changes"), changes);
    /* fixed: everything lands, the contact under the new customer */
    c3.code = "C-B00002";
    r = batch(ops, 3);
    resp = dg_reply_response(r);
    assert_int_equal(resp->status->code, 0);
    assert_int_equal(resp->batch->n_records, 3);
    assert_int_equal(resp->batch->records[1]->contact->customer_id,
                     resp->batch->records[0]->customer->id);
    dg_reply_free(r);
}

static void test_a_failing_write_does_not_roll_back_its_neighbours(void **state)
{
    enum { N = 40 };
    uint64_t ids[N];
    int64_t before = count_rows("SELECT count(*) FROM customers");
    int ok = 0, refused = 0;

    (void)state;
    /* Pipelined: they reach the writer together and share group commits.
     * Every fifth reuses one code, so those fail inside the same batches. */
    for (int i = 0; i < N; i++) {
        Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
        Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__Record rec;
        char name[64], code[32];

        snprintf(name, sizeof name, "并发测试公司%02d", i);
        snprintf(code, sizeof code, i % 5 == 4 ? "C-DUP" : "C-P%04d", i);
        cu.name = name;
        cu.code = code;
        rec = customer_rec(&cu);
        m.record = &rec;
        m.allow_duplicate = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
        req.create = &m;
        assert_int_equal(dg_client_send(cli, &req, &ids[i]), DG_OK);
    }
    for (int i = 0; i < N; i++) {
        dg_reply *r;

        assert_int_equal(dg_client_wait(cli, ids[i], &r), DG_OK);
        if (dgt_code(r) == 0)
            ok++;
        else if (dgt_code(r) == DANGAN__V1__CODE__ALREADY_EXISTS)
            refused++;
        dg_reply_free(r);
    }
    assert_int_equal(ok, N - N / 5 + 1); /* every unique code, and the first "C-DUP" */
    assert_int_equal(refused, N / 5 - 1);
    assert_int_equal(count_rows("SELECT count(*) FROM customers"), before + ok);
}

static void test_search_finds_chinese_latin_and_phones(void **state)
{
    int64_t hw = new_customer("深圳市华为技术有限公司", "+86 755-2878-0808",
                              "Met their team at the Barcelona fair");
    int64_t zh = new_customer("苏州园林设计院", NULL, NULL);
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    static const struct {
        const char *q;
        int which; /* 0: huawei, 1: the contact's customer */
    } cases[] = {
        {"华为", 0},
        {"华", 0},
        {"张", 1},
        {"张建国", 1},
        {"13912345678", 1},
        {"139-1234-5678", 1},
        {"139 1234 5678", 1},
        {"+86 139 1234 5678", 1},
        {"075528780808", 0},
        {"0755-2878-0808", 0},
        {"barcelona", 0},
        {"BARCELONA", 0},
        {"ｂａｒｃｅｌｏｎａ", 0},
        {"celon", 0},
        {"fair", 0},
    };
    dg_reply *r;

    (void)state;
    ct.customer_id = zh;
    ct.name = "张建国";
    ct.mobile = "139 1234 5678";
    rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec.contact = &ct;
    dg_reply_free(send_create(cli, &rec, NULL, false));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = search(cli, cases[i].q);
        if (!hits_contain(r, cases[i].which ? zh : hw))
            fail_msg("search \"%s\" did not find its customer", cases[i].q);
        dg_reply_free(r);
    }
    r = search(cli, "xyzzy-nothing");
    assert_int_equal(dg_reply_response(r)->search->n_hits, 0);
    dg_reply_free(r);
    r = search(cli, "!!!");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
}

static void test_paging_returns_every_row_once_while_rows_are_inserted(void **state)
{
    dg_client *writer = dgt_login(&srv, "admin", srv.admin_password);
    char *cursor = NULL;
    int64_t existing = count_rows("SELECT count(*) FROM customers WHERE archived_at IS NULL");
    int64_t *seen = calloc(100000, sizeof *seen);
    size_t n_seen = 0;
    int page = 0;

    (void)state;
    for (int i = 0; i < 60; i++) {
        char name[64];

        snprintf(name, sizeof name, "分页测试%03d号客户", i);
        new_customer(name, NULL, NULL);
    }
    existing += 60;
    do {
        dg_reply *r = list_page(cli, 1, 0, "name", 7, cursor);
        const Dangan__V1__ListResponse *l = dg_reply_response(r)->list;

        assert_non_null(l);
        for (size_t i = 0; i < l->n_records; i++) {
            int64_t id = l->records[i]->customer->id;

            for (size_t k = 0; k < n_seen; k++)
                if (seen[k] == id)
                    fail_msg("customer %lld returned twice", (long long)id);
            seen[n_seen++] = id;
        }
        free(cursor);
        cursor = l->next_cursor[0] ? strdup(l->next_cursor) : NULL;
        dg_reply_free(r);
        /* Someone adds customers between our pages. */
        {
            Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
            Dangan__V1__Record rec;
            char name[64];

            snprintf(name, sizeof name, "翻页期间新增%03d", page++);
            cu.name = name;
            rec = customer_rec(&cu);
            dg_reply_free(send_create(writer, &rec, NULL, true));
        }
    } while (cursor);
    /* Everything that existed before paging began was returned exactly once. */
    assert_true((int64_t)n_seen >= existing);
    free(seen);
    dg_client_close(writer);
}

static void test_cursor_from_another_sort_is_refused(void **state)
{
    dg_reply *r = list_page(cli, 1, 0, "name", 2, NULL);
    char *cursor = strdup(dg_reply_response(r)->list->next_cursor);

    (void)state;
    dg_reply_free(r);
    assert_true(cursor[0]);
    r = list_page(cli, 1, 0, "-updated", 2, cursor);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
    r = list_page(cli, 1, 0, "name", 2, "bm90IGEgY3Vyc29y");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
    free(cursor);
}

/* Run last: every mutation of the whole group left one change row and one
 * audit record naming it. */
static void test_every_mutation_has_one_change_row_and_one_audit_record(void **state)
{
    (void)state;
    int64_t changes = count_rows("SELECT count(*) FROM changes WHERE entity != 'custom_field'");
    int64_t audited = count_rows(
        "SELECT count(*) FROM audit_log WHERE action GLOB '*.create' OR action GLOB '*.update'"
        " OR action GLOB '*.archive' OR action GLOB '*.restore'");
    int64_t matched = count_rows("SELECT count(*) FROM changes c JOIN audit_log a"
                                 " ON a.entity = c.entity AND a.entity_id = c.entity_id"
                                 " AND json_extract(a.detail, '$.change_seq') = c.seq");
    int64_t orphans =
        count_rows("SELECT count(*) FROM changes c WHERE (SELECT count(*) FROM audit_log a"
                   " WHERE json_extract(a.detail, '$.change_seq') = c.seq) != 1");

    assert_true(changes > 50);
    assert_int_equal(audited, changes);
    assert_int_equal(matched, changes);
    assert_int_equal(orphans, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_customer_create_get_update_archive_restore),
        cmocka_unit_test(test_validation_errors_name_the_field),
        cmocka_unit_test(test_every_child_kind_round_trips),
        cmocka_unit_test(test_dossier_comes_back_in_one_round_trip),
        cmocka_unit_test(test_concurrent_edits_of_different_fields_both_land),
        cmocka_unit_test(test_same_field_conflict_is_aborted_with_current_values),
        cmocka_unit_test(test_idempotent_retry_applies_once),
        cmocka_unit_test(test_likely_duplicates_are_refused_with_the_twin),
        cmocka_unit_test(test_batch_is_all_or_nothing),
        cmocka_unit_test(test_a_failing_write_does_not_roll_back_its_neighbours),
        cmocka_unit_test(test_search_finds_chinese_latin_and_phones),
        cmocka_unit_test(test_paging_returns_every_row_once_while_rows_are_inserted),
        cmocka_unit_test(test_cursor_from_another_sort_is_refused),
        cmocka_unit_test(test_every_mutation_has_one_change_row_and_one_audit_record),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
