/* test_pipeline.c - pipelining and flow control: many requests in flight get
 * every answer exactly once; a client that stops reading makes the server
 * stop reading too (bounded memory) and loses nothing when it reads again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"

#define N_PINGS 1000

static void test_1000_pipelined_pings_are_all_answered(void **state)
{
    dgt_server s;
    dg_client *c;
    uint64_t ids[N_PINGS];

    (void)state;
    dgt_server_start(&s, NULL);
    c = dgt_login(&s, "admin", s.admin_password);
    for (int i = 0; i < N_PINGS; i++) {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;

        ping.client_time_ms = i; /* echoed: proves each answer belongs to its request */
        req.body_case = DANGAN__V1__REQUEST__BODY_PING;
        req.ping = &ping;
        assert_int_equal(dg_client_send(c, &req, &ids[i]), DG_OK);
    }
    /* Wait in reverse order: answers for later ids are kept until asked for. */
    for (int i = N_PINGS - 1; i >= 0; i--) {
        dg_reply *r;

        assert_int_equal(dg_client_wait(c, ids[i], &r), DG_OK);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        assert_int_equal(dg_reply_response(r)->ping->client_time_ms, i);
        dg_reply_free(r);
    }
    dg_client_close(c);
    dgt_server_stop(&s);
}

static void test_1000_frames_in_one_write_are_all_answered(void **state)
{
    dgt_server s;
    dgt_raw *r;
    uint8_t *all = NULL;
    size_t len = 0;
    char seen[N_PINGS + 1] = {0};

    (void)state;
    dgt_server_start(&s, NULL);
    assert_int_equal(dgt_raw_connect(s.port, NULL, &r), 0);
    for (int i = 1; i <= N_PINGS; i++) {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
        size_t n;
        uint8_t *one;

        req.id = (uint64_t)i;
        req.body_case = DANGAN__V1__REQUEST__BODY_PING;
        req.ping = &ping;
        one = dgt_pack_request(&req, &n);
        all = realloc(all, len + n);
        memcpy(all + len, one, n);
        len += n;
        free(one);
    }
    assert_int_equal(dgt_raw_write(r, all, len), 0); /* many frames per TLS record */
    for (int i = 0; i < N_PINGS; i++) {
        Dangan__V1__Frame *f;

        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
        assert_true(f->response->id >= 1 && f->response->id <= N_PINGS);
        assert_int_equal(seen[f->response->id], 0); /* exactly once */
        seen[f->response->id] = 1;
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    free(all);
    dgt_raw_close(r);
    dgt_server_stop(&s);
}

/* A client that writes requests but does not read: with small water marks
 * the server must stop reading from it, so the client's writes block (long
 * before 2,000,000 pings), and the replies it holds stay under its queue cap:
 * none is refused as reply_queue_full. Then everything is answered, in
 * order. (The server's resident memory meanwhile is not asserted: it
 * depends on the allocator and the machine; see tests/bench/README.md.) */
static void test_a_client_that_stops_reading_is_paused_not_buffered(void **state)
{
    enum { MAX_REQUESTS = 2000000 };
    dgt_raw_opts o = {.rcvbuf = 16384};
    dgt_server s;
    dgt_raw *r;
    uint64_t written = 0, answered = 0;
    int64_t stuck_since = 0, deadline;
    uint8_t frame[64];
    size_t frame_len;

    (void)state;
    dgt_server_start(&s, "[limits]\nwrite_high_water = 65536\nwrite_low_water = 16384\n");
    assert_int_equal(dgt_raw_connect(s.port, &o, &r), 0);
    dgt_raw_set_nonblock(r);
    deadline = dg_mono_ms() + 60000;
    /* Phase 1: write, never read, until the socket stays full for a second
     * (a server that is merely slow only ends this phase sooner). */
    for (;;) {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;

        req.id = written + 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_PING;
        req.ping = &ping;
        uint8_t *p = dgt_pack_request(&req, &frame_len);
        memcpy(frame, p, frame_len);
        free(p);
        int rc = dgt_raw_try_write(r, frame, frame_len);
        assert_true(rc >= 0);
        if (rc == 1) {
            written++;
            stuck_since = 0;
            assert_true(written < MAX_REQUESTS); /* must block long before this */
            continue;
        }
        if (!stuck_since)
            stuck_since = dg_mono_ms();
        if (dg_mono_ms() - stuck_since > 1000)
            break;
        assert_true(dg_mono_ms() < deadline);
        usleep(1000);
    }
    print_message("blocked after %llu requests\n", (unsigned long long)written);
    /* Phase 2: read everything, finishing the pending write on the way. */
    bool pending = true;
    deadline = dg_mono_ms() + 120000;
    while (answered < written + (pending ? 1 : 0)) {
        Dangan__V1__Frame *f;
        int rc;

        if (pending && (rc = dgt_raw_try_write(r, frame, frame_len)) == 1) {
            pending = false;
            written++;
        }
        rc = dgt_raw_try_read_frame(r, &f);
        if (rc == 0) {
            answered++;
            assert_int_equal(f->response->id, answered); /* in order, none missing */
            assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
            dangan__v1__frame__free_unpacked(f, NULL);
            continue;
        }
        assert_int_equal(rc, -2);
        assert_true(dg_mono_ms() < deadline);
        usleep(200);
    }
    assert_int_equal(answered, written);
    dgt_raw_close(r);
    dgt_server_stop(&s);
}

/* ------------------------------------------------------------ replies and events past the caps */

/* A free-text field of 6,000 bytes (2,000 characters, not searched). */
static void fill_6k(Dangan__V1__Customer *cu, int i, void *ud)
{
    static char text[2000 * 3 + 1];

    (void)i;
    (void)ud;
    if (!text[0])
        for (int k = 0; k < 2000; k++)
            memcpy(text + 3 * k, "档", 3);
    cu->sales_history = text;
}

static void send_list(dgt_raw *r, uint64_t id, uint32_t limit)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.limit = limit;
    req.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
}

static void send_ping(dgt_raw *r, uint64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;

    req.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
}

/* 64 pipelined lists of about 600 KB each from a client that does not read:
 * reading stops at write_high_water, but the 64 already in flight would
 * still queue some 38 MB. What they may queue is bounded (write_high_water
 * plus one frame): the rest are answered RESOURCE_EXHAUSTED reply_queue_full,
 * small, and the connection goes on. */
static void test_pipelined_big_replies_stop_at_the_queue_cap(void **state)
{
    enum { N = 64 };
    dgt_raw_opts o = {.rcvbuf = 0};
    dgt_server s;
    dg_client *admin;
    dgt_raw *r;
    int ok = 0, full = 0;

    (void)state;
    /* the debug log has a line for every request answered */
    dgt_server_start_debug(&s, "[limits]\nwrite_high_water = 1048576\nwrite_low_water = 262144\n",
                           NULL);
    admin = dgt_login(&s, "admin", s.admin_password);
    dgt_create_customers_with(admin, 100, "大回复公司", fill_6k, NULL);
    r = dgt_raw_admin(&s, &o);
    for (uint64_t i = 0; i < N; i++)
        send_list(r, 100 + i, 100);
    dgt_log_wait(&s, "action=record.list code=", N - 1); /* all answered: queued or refused */
    for (int i = 0; i < N; i++) { /* in the order they were answered */
        Dangan__V1__Frame *f;
        const Dangan__V1__Status *st;

        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_RESPONSE);
        st = f->response->status;
        if (st->code == DANGAN__V1__CODE__OK) {
            assert_int_equal(f->response->list->n_records, 100);
            ok++;
        } else {
            assert_int_equal(st->code, DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
            assert_string_equal(st->reason, "reply_queue_full");
            full++;
        }
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    print_message("%d answered, %d refused as reply_queue_full\n", ok, full);
    /* the queue (1 MiB + one 4 MiB frame) and the kernel's socket buffers
     * (at most 4 MiB on the server's side, 16 KiB on ours) hold ~17 of them */
    assert_true(ok >= 2);
    assert_true(full >= N / 2);
    send_list(r, 1000, 10); /* and the connection goes on */
    {
        Dangan__V1__Frame *f = dgt_raw_reply(r, 1000, NULL);

        assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    dgt_raw_close(r);
    dg_client_close(admin);
    dgt_server_stop(&s);
}

/* A subscriber far behind that reads a little is served a slice at a time
 * (the feed's output cap, 256 KiB), not everything it lacks at once (some
 * 13 MB here). What the server queued is what arrives ahead of a Ping sent
 * then: at most the slice plus the kernel's socket buffers (tcp_wmem's
 * 4 MiB on the server's side, 16 KiB on ours: ~700 events), not the
 * backlog of ~2,200. Events count against the connection's queue like
 * replies do (cap here: 960 KiB + one 64 KiB frame), so the Ping is
 * answered, not refused. Then every change arrives, in order, once. */
static void test_a_far_behind_subscriber_is_served_in_slices(void **state)
{
    enum { BATCHES = 300, PER_BATCH = 8 };
    dgt_raw_opts o = {.rcvbuf = 16384};
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SubscribeRequest sub = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    dgt_server s;
    dg_client *admin;
    dgt_raw *r;
    Dangan__V1__Frame *f;
    uint64_t last = 0;
    size_t events = 0, changes = 0;

    (void)state;
    dgt_server_start(&s, "[limits]\nwrite_high_water = 983040\nwrite_low_water = 262144\n"
                         "max_frame_after_login = 65536\n");
    admin = dgt_login(&s, "admin", s.admin_password);
    r = dgt_raw_admin(&s, &o);
    sub.with_records = true;
    req.id = 3;
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &sub;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    f = dgt_raw_reply(r, 3, NULL);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    last = f->response->subscribe->head->seq;
    dangan__v1__frame__free_unpacked(f, NULL);

    for (int k = 0; k < BATCHES; k++) { /* 2,400 changes of ~6 KB; not reading */
        char prefix[32];

        snprintf(prefix, sizeof prefix, "切片%03d-", k);
        dgt_create_customers_with(admin, PER_BATCH, prefix, fill_6k, NULL);
    }
    for (int i = 0; i < 200; i++) { /* a little, then nothing for a while */
        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    usleep(700 * 1000);
    send_ping(r, 4);
    f = dgt_raw_reply(r, 4, &events);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
    print_message("%zu events were queued ahead of the ping\n", events);
    assert_true(events < 1400);

    /* everything, in order, once: 200 + events were read already */
    changes = 200 + events;
    last += changes - 1; /* the CaughtUp came first */
    while (changes < BATCHES * PER_BATCH + 1) {
        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_EVENT);
        assert_int_equal(f->event->body_case, DANGAN__V1__EVENT__BODY_CHANGE);
        assert_int_equal(f->event->cursor->seq, last + 1);
        assert_non_null(f->event->change->record);
        last = f->event->cursor->seq;
        changes++;
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    dgt_raw_close(r);
    dg_client_close(admin);
    dgt_server_stop(&s);
}

/* A reply that needs more memory than a request may use ([limits]
 * request_memory_mib) is RESOURCE_EXHAUSTED for that request: never an
 * abort, whether the read or the building of the reply runs out. Pages of
 * every size from small to far too big, and the server answers on. */
static void test_a_reply_over_the_request_memory_is_refused_not_fatal(void **state)
{
    dgt_server s;
    dg_client *admin;
    int ok = 0, refused = 0, overdrawn = 0;

    (void)state;
    dgt_server_start(&s, "[limits]\nrequest_memory_mib = 1\n");
    admin = dgt_login(&s, "admin", s.admin_password);
    for (int k = 0; k < 15; k++) { /* 300, in batches whose replies fit in 1 MiB */
        char prefix[32];

        snprintf(prefix, sizeof prefix, "预算%02d-", k);
        dgt_create_customers_with(admin, 20, prefix, fill_6k, NULL);
    }
    for (uint32_t limit = 5; limit <= 300; limit += 5) {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
        dg_reply *rep;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.limit = limit;
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &m;
        rep = dgt_call(admin, &req);
        if (dgt_code(rep) == DANGAN__V1__CODE__OK) {
            assert_int_equal(dg_reply_response(rep)->list->n_records, limit);
            ok++;
        } else {
            assert_int_equal(dgt_code(rep), DANGAN__V1__CODE__RESOURCE_EXHAUSTED);
            assert_true(strcmp(dgt_reason(rep), "reply_too_large") == 0 ||
                        strcmp(dgt_reason(rep), "too_large") == 0);
            overdrawn += strcmp(dgt_reason(rep), "reply_too_large") == 0;
            refused++;
        }
        dg_reply_free(rep);
    }
    print_message("%d pages answered, %d refused (%d while building the reply)\n", ok, refused,
                  overdrawn);
    /* small pages fit; some ran out while the reply was built, others in the read */
    assert_true(ok > 0 && overdrawn > 0 && refused > overdrawn);
    dg_client_close(admin);
    dgt_server_stop(&s); /* exits 0, no error logged: it never aborted */
}

#define N_RESTRICTED_GETS 200

/* A burst of reads of a restricted (tier A) customer: each answer waits for
 * its audit record, and the records of one loop iteration reach the writer
 * as one job. With the writer's queue at its smallest (16 jobs), 200
 * pipelined gets would overrun it one job each; as one batch each is
 * answered, after its record. */
static void test_a_burst_of_restricted_reads_is_one_writer_job(void **state)
{
    dgt_server s;
    dg_client *c;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    uint64_t ids[N_RESTRICTED_GETS];
    dg_reply *r;
    int64_t id;

    (void)state;
    dgt_server_start(&s, "[store]\nwriter_queue = 16\n[limits]\nmax_in_flight = 1024\n");
    c = dgt_login(&s, "admin", s.admin_password);
    cu.name = "受限客户 甲公司";
    cu.tier = DANGAN__V1__TIER__TIER_A; /* restricted by default */
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    for (int i = 0; i < N_RESTRICTED_GETS; i++) {
        Dangan__V1__Request g = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__GetRequest get = DANGAN__V1__GET_REQUEST__INIT;

        get.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        get.id = id;
        g.body_case = DANGAN__V1__REQUEST__BODY_GET;
        g.get = &get;
        assert_int_equal(dg_client_send(c, &g, &ids[i]), DG_OK);
    }
    for (int i = 0; i < N_RESTRICTED_GETS; i++) {
        assert_int_equal(dg_client_wait(c, ids[i], &r), DG_OK);
        if (dgt_code(r) != DANGAN__V1__CODE__OK)
            fail_msg("get %d: %s", i, dg_reply_response(r)->status->reason);
        assert_int_equal(dg_reply_response(r)->get->record->customer->id, id);
        dg_reply_free(r);
    }
    dg_client_close(c);
    dgt_server_stop(&s);
}

/* Gets and History pages are bounded by the request: the loop answers them
 * on its own connection. With one reader and its queue at its smallest (16
 * jobs), 200 pipelined ones would overrun the reader pool; none reaches it. */
static void test_a_burst_of_gets_and_history_pages_is_read_on_the_loop(void **state)
{
    dgt_server s;
    dg_client *c;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    uint64_t ids[N_RESTRICTED_GETS];
    dg_reply *r;
    int64_t id;

    (void)state;
    dgt_server_start(&s, "[store]\nreaders = 1\nreader_queue = 16\n"
                         "[limits]\nmax_in_flight = 1024\n");
    c = dgt_login(&s, "admin", s.admin_password);
    cu.name = "普通客户 乙公司";
    cu.tier = DANGAN__V1__TIER__TIER_B;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    for (int i = 0; i < N_RESTRICTED_GETS; i++) {
        Dangan__V1__Request g = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__GetRequest get = DANGAN__V1__GET_REQUEST__INIT;
        Dangan__V1__HistoryRequest h = DANGAN__V1__HISTORY_REQUEST__INIT;

        if (i % 2) {
            h.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
            h.id = id;
            g.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
            g.history = &h;
        } else {
            get.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
            get.id = id;
            get.dossier = true;
            g.body_case = DANGAN__V1__REQUEST__BODY_GET;
            g.get = &get;
        }
        assert_int_equal(dg_client_send(c, &g, &ids[i]), DG_OK);
    }
    for (int i = 0; i < N_RESTRICTED_GETS; i++) {
        assert_int_equal(dg_client_wait(c, ids[i], &r), DG_OK);
        if (dgt_code(r) != DANGAN__V1__CODE__OK)
            fail_msg("request %d: %s", i, dg_reply_response(r)->status->reason);
        if (i % 2 == 0)
            assert_int_equal(dg_reply_response(r)->get->record->customer->id, id);
        dg_reply_free(r);
    }
    dg_client_close(c);
    dgt_server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_1000_pipelined_pings_are_all_answered),
        cmocka_unit_test(test_1000_frames_in_one_write_are_all_answered),
        cmocka_unit_test(test_a_burst_of_restricted_reads_is_one_writer_job),
        cmocka_unit_test(test_a_burst_of_gets_and_history_pages_is_read_on_the_loop),
        cmocka_unit_test(test_a_client_that_stops_reading_is_paused_not_buffered),
        cmocka_unit_test(test_pipelined_big_replies_stop_at_the_queue_cap),
        cmocka_unit_test(test_a_far_behind_subscriber_is_served_in_slices),
        cmocka_unit_test(test_a_reply_over_the_request_memory_is_refused_not_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
