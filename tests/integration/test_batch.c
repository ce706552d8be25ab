/* test_batch.c - Batch at the limits Hello advertises, over real TLS.
 *
 * A batch holds up to 10,000 ops (proto/dangan.proto, BatchRequest) in a
 * frame of at most Limits.max_frame_after_login bytes. Batches of exactly
 * 10,000 minimal creates, one-field updates, archives and restores are
 * served; 10,001 of any kind is refused naming the limit, and the
 * connection stays open for the next request. A frame within the frame
 * limit that would take too much memory to decode is refused the same way.
 * A child op naming its customer as -N is checked for every N the wire can
 * carry, INT64_MIN included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define LIMIT 10000

static dgt_server srv;
static dg_client *cli;
static int64_t *ids; /* the LIMIT customers the create test made */

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    cli = dgt_login(&srv, "admin", srv.admin_password);
    ids = calloc(LIMIT + 1, sizeof *ids);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(ids);
    dg_client_close(cli);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ batches */

enum op_kind { CREATE, UPDATE, ARCHIVE, RESTORE };

/* n ops of one kind; customers 0..n-1 of `ids` for the others than create.
 * Everything is allocated per op so that the request is as a client builds it. */
struct batch {
    Dangan__V1__BatchRequest m;
    Dangan__V1__BatchOp *ops, **ptrs;
    Dangan__V1__CreateRequest *creates;
    Dangan__V1__UpdateRequest *updates;
    Dangan__V1__ArchiveRequest *archives;
    Dangan__V1__RestoreRequest *restores;
    Dangan__V1__Record *recs;
    Dangan__V1__Customer *customers;
    char (*names)[16];
};

static char *notes_mask[] = {"notes"};

static void build(struct batch *b, enum op_kind kind, size_t n, int64_t version)
{
    memset(b, 0, sizeof *b);
    dangan__v1__batch_request__init(&b->m);
    b->ops = calloc(n, sizeof *b->ops);
    b->ptrs = calloc(n, sizeof *b->ptrs);
    b->creates = calloc(n, sizeof *b->creates);
    b->updates = calloc(n, sizeof *b->updates);
    b->archives = calloc(n, sizeof *b->archives);
    b->restores = calloc(n, sizeof *b->restores);
    b->recs = calloc(n, sizeof *b->recs);
    b->customers = calloc(n, sizeof *b->customers);
    b->names = calloc(n, sizeof *b->names);
    assert_non_null(b->names);
    for (size_t i = 0; i < n; i++) {
        Dangan__V1__BatchOp *op = &b->ops[i];

        dangan__v1__batch_op__init(op);
        dangan__v1__record__init(&b->recs[i]);
        dangan__v1__customer__init(&b->customers[i]);
        b->recs[i].kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        b->recs[i].customer = &b->customers[i];
        switch (kind) {
        case CREATE: /* minimal: a short name; the codes are generated */
            snprintf(b->names[i], sizeof b->names[i], "c%zu", i);
            b->customers[i].name = b->names[i];
            dangan__v1__create_request__init(&b->creates[i]);
            b->creates[i].record = &b->recs[i];
            b->creates[i].allow_duplicate = true;
            op->op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
            op->create = &b->creates[i];
            break;
        case UPDATE: /* one field */
            b->customers[i].id = ids[i % LIMIT];
            b->customers[i].notes = "n";
            dangan__v1__update_request__init(&b->updates[i]);
            b->updates[i].record = &b->recs[i];
            b->updates[i].update_mask = notes_mask;
            b->updates[i].n_update_mask = 1;
            b->updates[i].expected_version = version;
            op->op_case = DANGAN__V1__BATCH_OP__OP_UPDATE;
            op->update = &b->updates[i];
            break;
        case ARCHIVE:
            dangan__v1__archive_request__init(&b->archives[i]);
            b->archives[i].kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
            b->archives[i].id = ids[i % LIMIT];
            b->archives[i].expected_version = version;
            op->op_case = DANGAN__V1__BATCH_OP__OP_ARCHIVE;
            op->archive = &b->archives[i];
            break;
        case RESTORE:
            dangan__v1__restore_request__init(&b->restores[i]);
            b->restores[i].kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
            b->restores[i].id = ids[i % LIMIT];
            b->restores[i].expected_version = version;
            op->op_case = DANGAN__V1__BATCH_OP__OP_RESTORE;
            op->restore = &b->restores[i];
            break;
        }
        b->ptrs[i] = op;
    }
    b->m.ops = b->ptrs;
    b->m.n_ops = n;
}

static void release(struct batch *b)
{
    free(b->ops);
    free(b->ptrs);
    free(b->creates);
    free(b->updates);
    free(b->archives);
    free(b->restores);
    free(b->recs);
    free(b->customers);
    free(b->names);
}

static dg_reply *send_batch(enum op_kind kind, size_t n, int64_t version)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    struct batch b;
    dg_reply *r;

    build(&b, kind, n, version);
    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = &b.m;
    r = dgt_call(cli, &req);
    release(&b);
    return r;
}

/* Served: every op's record comes back, at `version`. */
static void assert_served(dg_reply *r, int64_t version, bool archived)
{
    const Dangan__V1__BatchResponse *b;

    if (dgt_code(r) != 0)
        fail_msg("batch refused: %s %s", dgt_reason(r), dg_reply_response(r)->status->message);
    b = dg_reply_response(r)->batch;
    assert_int_equal(b->n_records, LIMIT);
    for (size_t i = 0; i < LIMIT; i++) {
        assert_int_equal(b->records[i]->customer->version, version);
        assert_int_equal(b->records[i]->customer->archived, archived);
        if (version == 1)
            ids[i] = b->records[i]->customer->id;
        else
            assert_int_equal(b->records[i]->customer->id, ids[i]);
    }
    dg_reply_free(r);
}

/* One over: refused naming the limit; the connection answers the next request. */
static void assert_one_over_is_refused(enum op_kind kind, int64_t version)
{
    dg_reply *r = send_batch(kind, LIMIT + 1, version);
    const Dangan__V1__Status *st = dg_reply_response(r)->status;
    Dangan__V1__Request ping = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest p = DANGAN__V1__PING_REQUEST__INIT;

    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_non_null(strstr(st->message, "10000"));
    assert_int_equal(st->n_field_violations, 1);
    assert_string_equal(st->field_violations[0]->field, "ops");
    dg_reply_free(r);
    ping.body_case = DANGAN__V1__REQUEST__BODY_PING;
    ping.ping = &p;
    r = dgt_call(cli, &ping);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

/* Run in order: the creates make the customers the others change. */
static void test_10000_minimal_creates_are_served(void **state)
{
    (void)state;
    assert_served(send_batch(CREATE, LIMIT, 0), 1, false);
    assert_one_over_is_refused(CREATE, 0);
}

static void test_10000_one_field_updates_are_served(void **state)
{
    (void)state;
    assert_served(send_batch(UPDATE, LIMIT, 1), 2, false);
    assert_one_over_is_refused(UPDATE, 2);
}

static void test_10000_archives_are_served(void **state)
{
    (void)state;
    assert_served(send_batch(ARCHIVE, LIMIT, 2), 3, true);
    assert_one_over_is_refused(ARCHIVE, 3);
}

static void test_10000_restores_are_served(void **state)
{
    (void)state;
    assert_served(send_batch(RESTORE, LIMIT, 3), 4, false);
    assert_one_over_is_refused(RESTORE, 4);
}

/* ------------------------------------------------------------ op references */

static dg_reply *create_contact(int64_t customer_id)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Contact co = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    co.customer_id = customer_id;
    co.name = "王经理";
    rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec.contact = &co;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(cli, &req);
}

/* -N names op N of a batch; a lone create has none. INT64_MIN has no
 * positive counterpart in int64 (negating it is undefined behaviour). */
static void test_a_negative_customer_id_out_of_range_is_refused(void **state)
{
    static const int64_t bad[] = {INT64_MIN, INT64_MIN + 1, -1};

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dg_reply *r = create_contact(bad[i]);
        const Dangan__V1__Status *st = dg_reply_response(r)->status;

        print_message("customer_id=%lld\n", (long long)bad[i]);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
        assert_int_equal(st->n_field_violations, 1);
        assert_string_equal(st->field_violations[0]->field, "record.contact.customer_id");
        dg_reply_free(r);
    }
}

/* ------------------------------------------------------------ decoding cost */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* A length-prefixed Frame{request{id, batch{n empty ops}}}: 2 bytes an op on
 * the wire, ~100 bytes each once decoded. */
static uint8_t *empty_ops_frame(uint64_t id, size_t n_ops, size_t *len)
{
    const ProtobufCFieldDescriptor *batch =
        protobuf_c_message_descriptor_get_field_by_name(&dangan__v1__request__descriptor, "batch");
    size_t ops_len = 2 * n_ops, req_len, at = 4;
    uint8_t *f = malloc(ops_len + 64), req_head[32];
    size_t rh = 0;

    req_head[rh++] = 0x08; /* Request.id */
    rh += put_varint(req_head + rh, id);
    rh += put_varint(req_head + rh, (uint64_t)batch->id << 3 | 2);
    rh += put_varint(req_head + rh, ops_len);
    req_len = rh + ops_len;
    f[at++] = 0x0a; /* Frame.request */
    at += put_varint(f + at, req_len);
    memcpy(f + at, req_head, rh);
    at += rh;
    for (size_t i = 0; i < n_ops; i++) { /* BatchRequest.ops, empty */
        f[at++] = 0x0a;
        f[at++] = 0x00;
    }
    f[0] = (uint8_t)((at - 4) >> 24);
    f[1] = (uint8_t)((at - 4) >> 16);
    f[2] = (uint8_t)((at - 4) >> 8);
    f[3] = (uint8_t)(at - 4);
    *len = at;
    return f;
}

/* Within the frame limit but over what a request may take to decode: that
 * request is refused with the limit, and the connection goes on. */
static void test_a_frame_too_costly_to_decode_is_refused_and_the_connection_stays(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    Dangan__V1__Frame *f;
    dgt_raw *r;
    size_t len;
    uint8_t *frame = empty_ops_frame(2, 1500000, &len); /* 3 MB: under the 4 MiB limit */

    (void)state;
    assert_int_equal(dgt_raw_connect(srv.port, NULL, &r), 0);
    hello.protocol_major = 1;
    req.id = 9;
    req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    login.username = "admin";
    login.password = srv.admin_password;
    req.id = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);

    assert_int_equal(dgt_raw_write(r, frame, len), 0);
    assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
    assert_int_equal(f->response->id, 2);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
    assert_string_equal(f->response->status->reason, "request_too_large");
    assert_non_null(strstr(f->response->status->message, "KiB of memory, more than its budget of"));
    dangan__v1__frame__free_unpacked(f, NULL);

    req.id = 3;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
    assert_int_equal(f->response->id, 3);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    dgt_raw_close(r);
    free(frame);
}

/* A batch whose request fits in a frame but whose reply would not (the
 * server adds codes, times and user references to every record) is applied,
 * and says so: OK with each record abridged to its kind, id, version and
 * code, not response_too_large for a batch that was written. */
static void test_an_applied_batch_too_big_to_echo_answers_with_references(void **state)
{
    enum { N = 30 };
    static char notes[700 * 3 + 1];
    Dangan__V1__BatchRequest m = DANGAN__V1__BATCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__BatchOp ops[N], *ptrs[N];
    Dangan__V1__CreateRequest cr[N];
    Dangan__V1__Record recs[N];
    Dangan__V1__Customer cus[N];
    char names[N][32];
    const Dangan__V1__BatchResponse *b;
    dgt_server small;
    dg_client *c;
    dg_reply *r;

    (void)state;
    for (int k = 0; k < 700; k++)
        memcpy(notes + 3 * k, "档", 3);
    for (int i = 0; i < N; i++) {
        dangan__v1__batch_op__init(&ops[i]);
        dangan__v1__create_request__init(&cr[i]);
        dangan__v1__record__init(&recs[i]);
        dangan__v1__customer__init(&cus[i]);
        snprintf(names[i], sizeof names[i], "回声公司%02d", i);
        cus[i].name = names[i];
        cus[i].notes = notes;
        recs[i].kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        recs[i].customer = &cus[i];
        cr[i].record = &recs[i];
        cr[i].allow_duplicate = true;
        ops[i].op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
        ops[i].create = &cr[i];
        ptrs[i] = &ops[i];
    }
    m.ops = ptrs;
    m.n_ops = N;
    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = &m;
    assert_true(dangan__v1__request__get_packed_size(&req) < 65536 - 64); /* it fits */

    dgt_server_start(&small, "[limits]\nmax_frame_after_login = 65536\n");
    c = dgt_login(&small, "admin", small.admin_password);
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    b = dg_reply_response(r)->batch;
    assert_true(b->records_abridged);
    assert_int_equal(b->n_records, N);
    for (int i = 0; i < N; i++) {
        const Dangan__V1__Customer *cu = b->records[i]->customer;

        assert_non_null(cu);
        assert_true(cu->id > 0);
        assert_int_equal(cu->version, 1);
        assert_true(strncmp(cu->code, "C-", 2) == 0);
        assert_string_equal(cu->notes, ""); /* abridged */
    }
    {
        Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
        Dangan__V1__Request gr = DANGAN__V1__REQUEST__INIT;
        dg_reply *got;

        g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        g.id = b->records[N - 1]->customer->id;
        gr.body_case = DANGAN__V1__REQUEST__BODY_GET;
        gr.get = &g;
        got = dgt_call(c, &gr);
        assert_int_equal(dgt_code(got), DANGAN__V1__CODE__OK);
        assert_string_equal(dg_reply_response(got)->get->record->customer->notes, notes);
        assert_string_equal(dg_reply_response(got)->get->record->customer->name, names[N - 1]);
        dg_reply_free(got);
    }
    dg_reply_free(r);
    dg_client_close(c);
    dgt_server_stop(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_10000_minimal_creates_are_served),
        cmocka_unit_test(test_10000_one_field_updates_are_served),
        cmocka_unit_test(test_10000_archives_are_served),
        cmocka_unit_test(test_10000_restores_are_served),
        cmocka_unit_test(test_a_frame_too_costly_to_decode_is_refused_and_the_connection_stays),
        cmocka_unit_test(test_a_negative_customer_id_out_of_range_is_refused),
        cmocka_unit_test(test_an_applied_batch_too_big_to_echo_answers_with_references),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
