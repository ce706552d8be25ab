/* test_pb.c - budgeted unpack and framed pack: a valid Frame decodes, the
 * arena budget bounds decoding, every allocation failure is clean, malformed
 * bytes are DG_EPROTO, the pack header is big-endian and over-limit frames
 * leave the output untouched, the request-id peek survives invalid content,
 * the measured need bounds what protobuf-c allocates, and a frame that would
 * decode to more than dg_pb_decode_max allows is refused before anything is
 * allocated while a 10,000-op batch decodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "dg.h"
#include "frame.h"
#include "pb.h"
#include "validate.h"
#include "wire.h"

#define BIG_BUDGET (1024u * 1024u)

/* A Frame holding Request{id, login{username, password}}, built on the stack
 * with the generated initialisers. */
struct login_frame {
    Dangan__V1__LoginRequest login;
    Dangan__V1__Request req;
    Dangan__V1__Frame frame;
};

static void login_frame_init(struct login_frame *lf, uint64_t id, const char *user,
                             const char *password)
{
    *lf = (struct login_frame){
        .login = DANGAN__V1__LOGIN_REQUEST__INIT,
        .req = DANGAN__V1__REQUEST__INIT,
        .frame = DANGAN__V1__FRAME__INIT,
    };
    lf->login.username = (char *)user;
    lf->login.password = (char *)password;
    lf->req.id = id;
    lf->req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    lf->req.login = &lf->login;
    lf->frame.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    lf->frame.request = &lf->req;
}

/* Packs `f` without a length prefix into out[cap]; returns the length. */
static size_t pack_plain(const Dangan__V1__Frame *f, uint8_t *out, size_t cap)
{
    size_t n = dangan__v1__frame__get_packed_size(f);

    assert_true(n <= cap);
    assert_int_equal(dangan__v1__frame__pack(f, out), n);
    return n;
}

static size_t pack_login(uint64_t id, const char *user, const char *password, uint8_t *out,
                         size_t cap)
{
    struct login_frame lf;

    login_frame_init(&lf, id, user, password);
    return pack_plain(&lf.frame, out, cap);
}

/* Request{id, hello{capabilities...}}: repeated strings need an array allocation. */
static size_t pack_hello(uint8_t *out, size_t cap)
{
    static char *caps[] = {"feed", "audit", "档案"};
    Dangan__V1__HelloRequest hello = DANGAN__V1__HELLO_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;

    hello.protocol_major = 1;
    hello.client_name = "dangan-cli/0.1.0";
    hello.n_capabilities = DG_ARRAY_LEN(caps);
    hello.capabilities = caps;
    req.id = 9;
    req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    req.hello = &hello;
    f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    f.request = &req;
    return pack_plain(&f, out, cap);
}

/* Response{status{code, violations[2]}, login{token, session{user{...}}}}: deep nesting. */
static size_t pack_login_response(uint8_t *out, size_t cap)
{
    Dangan__V1__FieldViolation v1 = DANGAN__V1__FIELD_VIOLATION__INIT;
    Dangan__V1__FieldViolation v2 = DANGAN__V1__FIELD_VIOLATION__INIT;
    Dangan__V1__FieldViolation *vs[] = {&v1, &v2};
    Dangan__V1__Status status = DANGAN__V1__STATUS__INIT;
    Dangan__V1__UserRef user = DANGAN__V1__USER_REF__INIT;
    Dangan__V1__SessionInfo session = DANGAN__V1__SESSION_INFO__INIT;
    Dangan__V1__LoginResponse login = DANGAN__V1__LOGIN_RESPONSE__INIT;
    Dangan__V1__Response resp = DANGAN__V1__RESPONSE__INIT;
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;

    v1.field = "login.username";
    v1.description = "too long";
    v2.field = "login.password";
    v2.description = "empty";
    status.code = DANGAN__V1__CODE__OK;
    status.reason = "ok";
    status.n_field_violations = DG_ARRAY_LEN(vs);
    status.field_violations = vs;
    user.id = 3;
    user.username = "张三";
    user.role = DANGAN__V1__ROLE__ROLE_SALES;
    session.user = &user;
    session.expires_at_ms = 1700000000000;
    login.token = "00112233445566778899aabbccddeeff";
    login.session = &session;
    resp.id = 12;
    resp.status = &status;
    resp.body_case = DANGAN__V1__RESPONSE__BODY_LOGIN;
    resp.login = &login;
    f.kind_case = DANGAN__V1__FRAME__KIND_RESPONSE;
    f.response = &resp;
    return pack_plain(&f, out, cap);
}

static void test_pb_unpack_frame_decodes_login_request(void **state)
{
    uint8_t wire_bytes[256];
    size_t n = pack_login(42, "张三", "s3cret", wire_bytes, sizeof wire_bytes);
    dg_arena *a = dg_arena_new(BIG_BUDGET);
    Dangan__V1__Frame *f = NULL;
    char why[128] = "untouched";

    (void)state;
    assert_int_equal(dg_pb_unpack_frame(wire_bytes, n, a, &f, why, sizeof why), DG_OK);

    assert_non_null(f);
    assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_REQUEST);
    assert_int_equal(f->request->id, 42);
    assert_int_equal(f->request->body_case, DANGAN__V1__REQUEST__BODY_LOGIN);
    assert_string_equal(f->request->login->username, "张三");
    assert_string_equal(f->request->login->password, "s3cret");
    assert_true(dg_arena_used(a) > 0); /* decoded into the arena, not the heap */
    dg_arena_free(a);
}

static void test_pb_unpack_frame_returns_enomem_when_budget_is_tiny(void **state)
{
    uint8_t wire_bytes[256];
    size_t n = pack_login(42, "zhang", "s3cret", wire_bytes, sizeof wire_bytes);
    dg_arena *a = dg_arena_new(16);
    Dangan__V1__Frame *f = NULL;
    char why[128] = "";

    (void)state;
    assert_int_equal(dg_pb_unpack_frame(wire_bytes, n, a, &f, why, sizeof why), DG_ENOMEM);

    assert_null(f);
    assert_non_null(strstr(why, "budget"));
    assert_true(dg_arena_used(a) <= 16);
    dg_arena_free(a);
}

/* Twice the measured need is always enough (chunk tails); less is refused
 * before anything is allocated. */
static void test_pb_unpack_frame_fits_in_twice_its_measured_need(void **state)
{
    uint8_t wire_bytes[256];
    size_t n = pack_login(42, "zhang", "s3cret", wire_bytes, sizeof wire_bytes);
    Dangan__V1__Frame *f = NULL;
    char why[128];
    size_t need;

    (void)state;
    assert_int_equal(dg_validate_wire_measure(&dangan__v1__frame__descriptor, wire_bytes, n, &need,
                                              why, sizeof why),
                     DG_OK);
    dg_arena *enough = dg_arena_new(2 * need);
    dg_arena *short_by_one = dg_arena_new(2 * need - 1);
    assert_int_equal(dg_pb_unpack_frame(wire_bytes, n, enough, &f, why, sizeof why), DG_OK);
    assert_true(dg_arena_used(enough) <= need);
    assert_int_equal(dg_pb_unpack_frame(wire_bytes, n, short_by_one, &f, why, sizeof why),
                     DG_ENOMEM);
    assert_int_equal(dg_arena_used(short_by_one), 0);
    dg_arena_free(enough);
    dg_arena_free(short_by_one);
}

typedef size_t (*pack_fn)(uint8_t *out, size_t cap);

static size_t pack_login_42(uint8_t *out, size_t cap)
{
    return pack_login(42, "张三", "s3cret", out, cap);
}

/* SQLite's faultsim: fail allocation N for N = 1, 2, ... until the decode
 * succeeds. Every failure must be a clean DG_ENOMEM (ASan checks for leaks
 * and stray accesses in protobuf-c's error paths). */
static void test_pb_unpack_frame_fails_cleanly_at_every_allocation(void **state)
{
    static const struct {
        const char *name;
        pack_fn pack;
    } cases[] = {
        {"login request", pack_login_42},
        {"hello with repeated strings", pack_hello},
        {"nested login response", pack_login_response},
    };

    static Dangan__V1__Frame sentinel; /* unpack must overwrite *out even on failure */

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        uint8_t wire_bytes[512];
        size_t n = cases[i].pack(wire_bytes, sizeof wire_bytes);
        unsigned long nth;
        int rc = DG_ENOMEM;

        print_message("case: %s\n", cases[i].name);
        for (nth = 1; nth < 1000 && rc != DG_OK; nth++) {
            dg_arena *a = dg_arena_new(BIG_BUDGET);
            Dangan__V1__Frame *f = &sentinel;
            char why[128] = "";

            dg_arena_fail_after(a, nth);
            rc = dg_pb_unpack_frame(wire_bytes, n, a, &f, why, sizeof why);
            if (rc == DG_OK) {
                assert_non_null(f);
                assert_int_not_equal(f->kind_case, DANGAN__V1__FRAME__KIND__NOT_SET);
            } else {
                assert_int_equal(rc, DG_ENOMEM);
                assert_null(f);
                assert_true(why[0] != '\0');
            }
            dg_arena_free(a);
        }
        assert_int_equal(rc, DG_OK);
        assert_true(nth > 2); /* at least one injected failure was exercised */
    }
}

/* Every proper non-empty prefix of a Frame cuts its one top-level field short. */
static void test_pb_unpack_frame_rejects_every_truncation_with_eproto(void **state)
{
    uint8_t wire_bytes[256];
    size_t n = pack_login(42, "zhang", "s3cret", wire_bytes, sizeof wire_bytes);

    (void)state;
    for (size_t cut = 1; cut < n; cut++) {
        dg_arena *a = dg_arena_new(BIG_BUDGET);
        Dangan__V1__Frame *f = NULL;
        char why[128] = "";

        assert_int_equal(dg_pb_unpack_frame(wire_bytes, cut, a, &f, why, sizeof why), DG_EPROTO);
        assert_null(f);
        assert_true(why[0] != '\0');
        dg_arena_free(a);
    }
}

static void test_pb_unpack_frame_rejects_malformed_bytes_with_eproto(void **state)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"truncated tag", "\x80", 1},         {"field number 0", "\x00\x01", 2},
        {"request as varint", "\x08\x01", 2}, {"length past end", "\x0a\x05\x08\x01", 4},
        {"group wire type", "\x0b\x0c", 2},   {"ascii text", "hello world", 11},
    };

    static Dangan__V1__Frame sentinel; /* unpack must overwrite *out even on failure */

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        dg_arena *a = dg_arena_new(BIG_BUDGET);
        Dangan__V1__Frame *f = &sentinel;
        char why[128];

        print_message("case: %s\n", cases[i].name);
        assert_int_equal(dg_pb_unpack_frame((const uint8_t *)cases[i].bytes, cases[i].len, a, &f,
                                            why, sizeof why),
                         DG_EPROTO);
        assert_null(f);
        dg_arena_free(a);
    }
}

static void test_pb_unpack_frame_rejects_invalid_utf8_naming_the_field(void **state)
{
    wire w;
    dg_arena *a = dg_arena_new(BIG_BUDGET);
    Dangan__V1__Frame *f = NULL;
    char why[128] = "";

    (void)state;
    wire_login_frame(&w, 42, "\xff\xfe", 2, "pw");
    assert_int_equal(dg_pb_unpack_frame(w.b, w.n, a, &f, why, sizeof why), DG_EPROTO);
    assert_null(f);
    assert_non_null(strstr(why, "request.login.username"));
    dg_arena_free(a);
}

/* A payload over 255 bytes so both low header bytes are non-zero. */
static void test_pb_pack_frame_writes_big_endian_length_then_payload(void **state)
{
    char password[301];
    struct login_frame lf;
    uint8_t expect[512];
    dg_buf out = DG_BUF_INIT;
    size_t n;

    (void)state;
    memset(password, 'p', sizeof password - 1);
    password[sizeof password - 1] = '\0';
    login_frame_init(&lf, 7, "zhang", password);
    n = pack_plain(&lf.frame, expect, sizeof expect);
    assert_true(n > 255 && n < 65536);

    assert_int_equal(dg_pb_pack_frame(&lf.frame, DG_FRAME_MAX_BEFORE_LOGIN, &out), DG_OK);

    assert_int_equal(dg_buf_avail(&out), DG_FRAME_HEADER_LEN + n);
    const uint8_t *h = dg_buf_head(&out);
    assert_int_equal(h[0], 0);
    assert_int_equal(h[1], 0);
    assert_int_equal(h[2], (n >> 8) & 0xff);
    assert_int_equal(h[3], n & 0xff);
    assert_memory_equal(h + DG_FRAME_HEADER_LEN, expect, n);
    dg_buf_fini(&out);
}

static void test_pb_pack_frame_output_is_read_back_by_frame_next_and_unpack(void **state)
{
    struct login_frame lf;
    dg_buf out = DG_BUF_INIT;
    const uint8_t *payload;
    uint32_t len;
    dg_arena *a = dg_arena_new(BIG_BUDGET);
    Dangan__V1__Frame *f = NULL;
    char why[128];

    (void)state;
    login_frame_init(&lf, 77, "李四", "pw");
    assert_int_equal(dg_pb_pack_frame(&lf.frame, DG_FRAME_MAX_BEFORE_LOGIN, &out), DG_OK);

    assert_int_equal(dg_frame_next(&out, DG_FRAME_MAX_BEFORE_LOGIN, &payload, &len), DG_OK);
    assert_int_equal(dg_pb_unpack_frame(payload, len, a, &f, why, sizeof why), DG_OK);
    assert_int_equal(f->request->id, 77);
    assert_string_equal(f->request->login->username, "李四");
    dg_arena_free(a);
    dg_buf_fini(&out);
}

static void test_pb_pack_frame_appends_after_existing_bytes(void **state)
{
    struct login_frame lf;
    dg_buf out = DG_BUF_INIT;
    uint8_t expect[256];
    size_t n;

    (void)state;
    login_frame_init(&lf, 7, "zhang", "pw");
    n = pack_plain(&lf.frame, expect, sizeof expect);
    dg_buf_append(&out, "abc", 3);

    assert_int_equal(dg_pb_pack_frame(&lf.frame, DG_FRAME_MAX_BEFORE_LOGIN, &out), DG_OK);

    assert_int_equal(dg_buf_avail(&out), 3 + DG_FRAME_HEADER_LEN + n);
    assert_memory_equal(dg_buf_head(&out), "abc", 3);
    assert_memory_equal(dg_buf_head(&out) + 3 + DG_FRAME_HEADER_LEN, expect, n);
    dg_buf_fini(&out);
}

static void test_pb_pack_frame_refuses_over_limit_leaving_buffer_unchanged(void **state)
{
    struct login_frame lf;
    dg_buf out = DG_BUF_INIT;
    size_t n;

    (void)state;
    login_frame_init(&lf, 7, "zhang", "pw");
    n = dangan__v1__frame__get_packed_size(&lf.frame);
    dg_buf_append(&out, "abc", 3);

    assert_int_equal(dg_pb_pack_frame(&lf.frame, (uint32_t)n - 1, &out), DG_ETOOBIG);

    assert_int_equal(dg_buf_avail(&out), 3);
    assert_memory_equal(dg_buf_head(&out), "abc", 3);
    dg_buf_fini(&out);
}

static void test_pb_pack_frame_accepts_frame_exactly_at_limit(void **state)
{
    struct login_frame lf;
    dg_buf out = DG_BUF_INIT;
    size_t n;

    (void)state;
    login_frame_init(&lf, 7, "zhang", "pw");
    n = dangan__v1__frame__get_packed_size(&lf.frame);

    assert_int_equal(dg_pb_pack_frame(&lf.frame, (uint32_t)n, &out), DG_OK);

    assert_int_equal(dg_buf_avail(&out), DG_FRAME_HEADER_LEN + n);
    dg_buf_fini(&out);
}

/* The feed frames a change packed once; each subscriber's bytes must be what
 * protobuf-c would pack for the same Event, zero fields left out alike. */
static void test_pb_frame_change_event_matches_protobuf_c_byte_for_byte(void **state)
{
    static const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, UINT64_MAX};
    char *fields[] = {"phone", "名称"};
    Dangan__V1__UserRef actor = DANGAN__V1__USER_REF__INIT;
    Dangan__V1__ChangeEvent ch = DANGAN__V1__CHANGE_EVENT__INIT;
    uint8_t packed[256];
    size_t packed_len;

    (void)state;
    actor.id = 7;
    actor.username = "王芳";
    ch.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    ch.id = 123456;
    ch.customer_id = 123456;
    ch.op = "updated";
    ch.version = 9;
    ch.actor = &actor;
    ch.at_ms = 1795000000000;
    ch.fields = fields;
    ch.n_fields = 2;
    for (int empty = 0; empty < 2; empty++) {
        Dangan__V1__ChangeEvent none = DANGAN__V1__CHANGE_EVENT__INIT;
        const Dangan__V1__ChangeEvent *body = empty ? &none : &ch;

        packed_len = dangan__v1__change_event__pack(body, packed);
        for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
            for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
                Dangan__V1__Cursor cur = DANGAN__V1__CURSOR__INIT;
                Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;
                Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
                dg_buf want = {0}, got = {0};

                cur.epoch = values[k];
                cur.seq = values[(k + i) % (sizeof values / sizeof *values)];
                ev.subscription_id = values[i];
                ev.cursor = &cur;
                ev.body_case = DANGAN__V1__EVENT__BODY_CHANGE;
                ev.change = (Dangan__V1__ChangeEvent *)body;
                f.kind_case = DANGAN__V1__FRAME__KIND_EVENT;
                f.event = &ev;
                assert_int_equal(dg_pb_pack_frame(&f, 1u << 20, &want), DG_OK);
                dg_buf_append(&got, "x", 1); /* appends after what is there */
                dg_pb_frame_change_event(ev.subscription_id, cur.epoch, cur.seq, packed, packed_len,
                                         &got);
                assert_int_equal(dg_buf_avail(&got), 1 + dg_buf_avail(&want));
                assert_memory_equal(dg_buf_head(&got) + 1, dg_buf_head(&want), dg_buf_avail(&want));
                dg_buf_fini(&want);
                dg_buf_fini(&got);
            }
        }
    }
}

static void test_pb_peek_request_id_finds_id_despite_invalid_utf8_username(void **state)
{
    uint8_t wire_bytes[256];
    size_t n;
    dg_arena *a = dg_arena_new(BIG_BUDGET);
    Dangan__V1__Frame *f = NULL;
    char why[128];

    (void)state;
    /* protobuf-c packs whatever bytes it is given; the server must still name the request. */
    n = pack_login(4242, "zh\xff\xc0\xafng", "pw", wire_bytes, sizeof wire_bytes);
    assert_int_equal(dg_pb_unpack_frame(wire_bytes, n, a, &f, why, sizeof why), DG_EPROTO);

    assert_int_equal(dg_pb_peek_request_id(wire_bytes, n), 4242);
    dg_arena_free(a);
}

static void test_pb_peek_request_id_finds_id_after_the_body(void **state)
{
    wire login = {.n = 0}, req = {.n = 0}, frame = {.n = 0};

    (void)state;
    wire_bytes(&login, 1, "\xed\xa0\x80", 3); /* surrogate: invalid */
    wire_msg(&req, 11, &login);
    wire_uint(&req, 1, UINT64_C(0x123456789abc));
    wire_uint(&frame, 15, 1); /* an unknown field before the request */
    wire_msg(&frame, 1, &req);

    assert_int_equal(dg_pb_peek_request_id(frame.b, frame.n), UINT64_C(0x123456789abc));
}

static void test_pb_peek_request_id_returns_zero_for_garbage(void **state)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"empty", "", 0},
        {"truncated tag", "\x80", 1},
        {"0xff bytes", "\xff\xff\xff\xff", 4},
        {"ascii text", "hello world", 11},
        {"request length past end", "\x0a\x05\x08\x2a", 4},
        {"request as varint", "\x08\x2a", 2},
        {"response, not request", "\x12\x02\x08\x2a", 4},
        {"request without id", "\x0a\x02\x72\x00", 4},
        {"id as length-delimited", "\x0a\x03\x0a\x01\x2a", 5},
        {"id varint truncated", "\x0a\x02\x08\xaa", 4},
        {"group wire type first", "\x0b\x0a\x02\x08\x2a", 5},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(dg_pb_peek_request_id((const uint8_t *)cases[i].bytes, cases[i].len), 0);
    }
}

static void test_pb_decode_max_is_16x_clamped_to_32m_and_64m(void **state)
{
    static const struct {
        size_t len, max;
    } cases[] = {
        {0, 32u << 20},
        {1, 32u << 20},
        {2u << 20, 32u << 20},
        {3u << 20, 48u << 20},
        {4u << 20, 64u << 20},
        {DG_FRAME_MAX_CEILING, 64u << 20},
        {SIZE_MAX / 16 + 1, 64u << 20}, /* len * 16 would wrap */
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("len=%zu\n", cases[i].len);
        assert_int_equal(dg_pb_decode_max(cases[i].len), cases[i].max);
        assert_int_equal(dg_pb_decode_budget(cases[i].len), 2 * cases[i].max);
    }
}

/* ---- the measured need against what protobuf-c really allocates ---- */

/* A heap allocator that adds up what each allocation would cost in an arena. */
struct counting {
    ProtobufCAllocator pc;
    size_t cost;
};

static void *counting_alloc(void *data, size_t size)
{
    struct counting *c = data;

    c->cost += dg_arena_cost(size);
    return malloc(size ? size : 1);
}

static void counting_free(void *data, void *p)
{
    (void)data;
    free(p);
}

/* protobuf-c's own allocations for `p` never exceed the measured need. */
static size_t assert_need_bounds_unpack(const uint8_t *p, size_t len)
{
    struct counting c = {{counting_alloc, counting_free, &c}, 0};
    char why[256];
    size_t need = 0;
    Dangan__V1__Frame *f;

    assert_int_equal(
        dg_validate_wire_measure(&dangan__v1__frame__descriptor, p, len, &need, why, sizeof why),
        DG_OK);
    f = dangan__v1__frame__unpack(&c.pc, len, p);
    assert_non_null(f);
    dangan__v1__frame__free_unpacked(f, &c.pc);
    print_message("len=%zu allocated=%zu need=%zu\n", len, c.cost, need);
    assert_true(c.cost <= need);
    return need;
}

/* A Frame holding a Batch of n ops; the caller fills the ops. Freed by batch_free. */
struct batch_frame {
    Dangan__V1__Frame f;
    Dangan__V1__Request req;
    Dangan__V1__BatchRequest batch;
    Dangan__V1__BatchOp *ops, **ptrs;
    Dangan__V1__CreateRequest *creates;
    Dangan__V1__Record *recs;
    Dangan__V1__Customer *customers;
    char (*names)[16];
};

static uint8_t *pack_batch_of_creates(size_t n, size_t *len)
{
    static char *tags[] = {"重点", "vip"};
    struct batch_frame b = {.f = DANGAN__V1__FRAME__INIT, .req = DANGAN__V1__REQUEST__INIT};
    uint8_t *out;

    dangan__v1__batch_request__init(&b.batch);
    b.ops = calloc(n, sizeof *b.ops);
    b.ptrs = calloc(n, sizeof *b.ptrs);
    b.creates = calloc(n, sizeof *b.creates);
    b.recs = calloc(n, sizeof *b.recs);
    b.customers = calloc(n, sizeof *b.customers);
    b.names = calloc(n, sizeof *b.names);
    for (size_t i = 0; i < n; i++) {
        dangan__v1__batch_op__init(&b.ops[i]);
        dangan__v1__create_request__init(&b.creates[i]);
        dangan__v1__record__init(&b.recs[i]);
        dangan__v1__customer__init(&b.customers[i]);
        snprintf(b.names[i], sizeof b.names[i], "c%zu", i);
        b.customers[i].name = b.names[i];
        if (i % 3 == 0) { /* some with a repeated field */
            b.customers[i].tags = tags;
            b.customers[i].n_tags = DG_ARRAY_LEN(tags);
        }
        b.recs[i].kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        b.recs[i].customer = &b.customers[i];
        b.creates[i].record = &b.recs[i];
        b.ops[i].op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
        b.ops[i].create = &b.creates[i];
        b.ptrs[i] = &b.ops[i];
    }
    b.batch.ops = b.ptrs;
    b.batch.n_ops = n;
    b.req.id = 77;
    b.req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    b.req.batch = &b.batch;
    b.f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    b.f.request = &b.req;
    *len = dangan__v1__frame__get_packed_size(&b.f);
    out = malloc(*len);
    assert_int_equal(dangan__v1__frame__pack(&b.f, out), *len);
    free(b.ops);
    free(b.ptrs);
    free(b.creates);
    free(b.recs);
    free(b.customers);
    free(b.names);
    return out;
}

static void test_pb_measured_need_bounds_what_protobuf_c_allocates(void **state)
{
    static const int64_t ids[] = {1, 300, 70000, -1, 1LL << 40};
    pack_fn packs[] = {pack_login_42, pack_hello, pack_login_response};
    Dangan__V1__ReassignRequest ra = DANGAN__V1__REASSIGN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    uint8_t small[512], *big;
    size_t n;
    wire w = {.n = 0}, inner = {.n = 0};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(packs); i++)
        assert_need_bounds_unpack(small, packs[i](small, sizeof small));
    /* packed varints */
    ra.customer_ids = (int64_t *)ids;
    ra.n_customer_ids = DG_ARRAY_LEN(ids);
    ra.to_user = "s1";
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &ra;
    f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    f.request = &req;
    assert_need_bounds_unpack(small, pack_plain(&f, small, sizeof small));
    /* unknown fields, kept by protobuf-c: a varint, a fixed32 and bytes */
    wire_uint(&inner, 1, 5);
    wire_uint(&inner, 900, 12345);
    wire_tag(&inner, 901, WIRE_FIXED32);
    wire_raw(&inner, "\1\2\3\4", 4);
    wire_bytes(&inner, 902, "unknown bytes", 13);
    wire_msg(&w, 1, &inner);
    assert_need_bounds_unpack(w.b, w.n);
    /* a batch at the op limit: many members, member slabs, repeated strings */
    big = pack_batch_of_creates(10000, &n);
    assert_true(assert_need_bounds_unpack(big, n) < dg_pb_decode_max(n));
    free(big);
}

/* A batch of 10,000 minimal creates is within every advertised limit: its
 * decode fits the budget a server gives any frame. */
static void test_pb_unpack_frame_decodes_a_10000_op_batch(void **state)
{
    size_t n;
    uint8_t *wire_bytes = pack_batch_of_creates(10000, &n);
    dg_arena *a = dg_arena_new(dg_pb_decode_budget(n));
    Dangan__V1__Frame *f = NULL;
    char why[160] = "";

    (void)state;
    assert_true(n < DG_FRAME_MAX_AFTER_LOGIN);
    if (dg_pb_unpack_frame(wire_bytes, n, a, &f, why, sizeof why) != DG_OK)
        fail_msg("%s", why);
    assert_int_equal(f->request->batch->n_ops, 10000);
    assert_string_equal(f->request->batch->ops[9999]->create->record->customer->name, "c9999");
    dg_arena_free(a);
    free(wire_bytes);
}

/* A 4 MiB frame of empty ops would decode to ~100 times its size: refused
 * with the need and the limit, before any allocation. */
static void test_pb_unpack_frame_refuses_a_frame_needing_too_much(void **state)
{
    size_t n_ops = 1u << 20, len;
    uint8_t *ops = malloc(2 * n_ops), *frame;
    dg_arena *a = dg_arena_new(dg_pb_decode_budget(4u << 20));
    Dangan__V1__Frame *f = NULL;
    char why[160] = "";
    size_t at = 0;

    (void)state;
    for (size_t i = 0; i < n_ops; i++) { /* BatchRequest.ops = 1, empty BatchOp */
        ops[2 * i] = 0x0a;
        ops[2 * i + 1] = 0x00;
    }
    /* Frame{request = 1: Request{batch: BatchRequest{ops...}}} */
    frame = malloc(2 * n_ops + 64);
    const ProtobufCFieldDescriptor *fb =
        protobuf_c_message_descriptor_get_field_by_name(&dangan__v1__request__descriptor, "batch");
    wire req = {.n = 0}, outer = {.n = 0};

    assert_non_null(fb);
    wire_tag(&req, fb->id, WIRE_LEN);
    wire_varint(&req, 2 * n_ops);
    wire_tag(&outer, 1, WIRE_LEN);
    wire_varint(&outer, req.n + 2 * n_ops);
    memcpy(frame, outer.b, outer.n);
    at = outer.n;
    memcpy(frame + at, req.b, req.n);
    at += req.n;
    memcpy(frame + at, ops, 2 * n_ops);
    at += 2 * n_ops;
    len = at;
    assert_int_equal(dg_pb_unpack_frame(frame, len, a, &f, why, sizeof why), DG_ENOMEM);
    assert_null(f);
    assert_int_equal(dg_arena_used(a), 0);
    assert_non_null(strstr(why, "KiB"));
    print_message("%s\n", why);
    dg_arena_free(a);
    free(frame);
    free(ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pb_unpack_frame_decodes_login_request),
        cmocka_unit_test(test_pb_unpack_frame_returns_enomem_when_budget_is_tiny),
        cmocka_unit_test(test_pb_unpack_frame_fits_in_twice_its_measured_need),
        cmocka_unit_test(test_pb_unpack_frame_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_pb_unpack_frame_rejects_every_truncation_with_eproto),
        cmocka_unit_test(test_pb_unpack_frame_rejects_malformed_bytes_with_eproto),
        cmocka_unit_test(test_pb_unpack_frame_rejects_invalid_utf8_naming_the_field),
        cmocka_unit_test(test_pb_pack_frame_writes_big_endian_length_then_payload),
        cmocka_unit_test(test_pb_pack_frame_output_is_read_back_by_frame_next_and_unpack),
        cmocka_unit_test(test_pb_pack_frame_appends_after_existing_bytes),
        cmocka_unit_test(test_pb_pack_frame_refuses_over_limit_leaving_buffer_unchanged),
        cmocka_unit_test(test_pb_pack_frame_accepts_frame_exactly_at_limit),
        cmocka_unit_test(test_pb_frame_change_event_matches_protobuf_c_byte_for_byte),
        cmocka_unit_test(test_pb_peek_request_id_finds_id_despite_invalid_utf8_username),
        cmocka_unit_test(test_pb_peek_request_id_finds_id_after_the_body),
        cmocka_unit_test(test_pb_peek_request_id_returns_zero_for_garbage),
        cmocka_unit_test(test_pb_decode_max_is_16x_clamped_to_32m_and_64m),
        cmocka_unit_test(test_pb_measured_need_bounds_what_protobuf_c_allocates),
        cmocka_unit_test(test_pb_unpack_frame_decodes_a_10000_op_batch),
        cmocka_unit_test(test_pb_unpack_frame_refuses_a_frame_needing_too_much),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
