/* test_validate.c - the descriptor-driven wire walk, against Frame: UTF-8 and
 * NUL in strings, enum values, wire types, lengths, unknown fields and group
 * wire types. protobuf-c cannot produce most of this input, so the bytes are
 * built by hand (wire.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dangan.pb-c.h"
#include "dg.h"
#include "validate.h"
#include "wire.h"

#define FRAME (&dangan__v1__frame__descriptor)

/* Raw bytes in a table: a string literal and its length without the NUL. */
struct raw_case {
    const char *name;
    const char *bytes;
    size_t len;
    const char *path; /* expected in `why`, or NULL */
};
#define RAW(s) s, sizeof(s) - 1

static int validate(const void *p, size_t len, char *why, size_t why_len)
{
    return dg_validate_wire(FRAME, p, len, why, why_len);
}

/* Each case must be rejected with DG_EPROTO and, if given, name its path. */
static void expect_rejected(const struct raw_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char why[256] = "";

        print_message("case: %s\n", cases[i].name);
        assert_int_equal(validate(cases[i].bytes, cases[i].len, why, sizeof why), DG_EPROTO);
        assert_true(why[0] != '\0');
        if (cases[i].path)
            assert_non_null(strstr(why, cases[i].path));
    }
}

/* Frame{response: Response{id, status: Status{code}}} */
static void response_with_code(wire *out, uint64_t code)
{
    wire status = {.n = 0}, resp = {.n = 0};

    wire_uint(&status, 1, code);
    wire_uint(&resp, 1, 5);
    wire_msg(&resp, 2, &status);
    out->n = 0;
    wire_msg(out, 2, &resp);
}

/* Frame{response: Response{login: LoginResponse{session: SessionInfo{user: UserRef{role}}}}} */
static void response_with_role(wire *out, uint64_t role)
{
    wire user = {.n = 0}, session = {.n = 0}, login = {.n = 0}, resp = {.n = 0};

    wire_uint(&user, 1, 3);
    wire_bytes(&user, 2, "张三", strlen("张三"));
    wire_uint(&user, 3, role);
    wire_msg(&session, 1, &user);
    wire_bytes(&login, 1, "tok", 3);
    wire_msg(&login, 2, &session);
    wire_uint(&resp, 1, 5);
    wire_msg(&resp, 11, &login);
    out->n = 0;
    wire_msg(out, 2, &resp);
}

static void test_validate_accepts_chinese_strings(void **state)
{
    Dangan__V1__LoginRequest login = DANGAN__V1__LOGIN_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    uint8_t buf[128];
    size_t n;
    char why[256] = "untouched";

    (void)state;
    login.username = "张三";
    login.password = "密码-𝄞-ok"; /* includes a 4-byte character */
    req.id = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &login;
    f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    f.request = &req;
    assert_true(dangan__v1__frame__get_packed_size(&f) <= sizeof buf);
    n = dangan__v1__frame__pack(&f, buf);

    assert_int_equal(validate(buf, n, why, sizeof why), DG_OK);
    assert_string_equal(why, "");
}

static void test_validate_accepts_empty_frame(void **state)
{
    char why[256];

    (void)state;
    assert_int_equal(validate("", 0, why, sizeof why), DG_OK);
}

static void test_validate_rejects_invalid_utf8_naming_the_field(void **state)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"overlong slash C0 AF", RAW("\xc0\xaf")},
        {"overlong 3-byte E0 80 AF", RAW("\xe0\x80\xaf")},
        {"surrogate ED A0 80", RAW("\xed\xa0\x80")},
        {"truncated E4 BD", RAW("\xe4\xbd")},
        {"truncated at the end after ASCII", RAW("zhang\xe4\xbd")},
        {"0xFF byte", RAW("a\xff")},
        {"lone continuation byte", RAW("\x80")},
        {"above U+10FFFF F4 90 80 80", RAW("\xf4\x90\x80\x80")},
        {"embedded NUL", RAW("zh\0ang")},
        {"only a NUL", RAW("\0")},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        wire w;
        char why[256] = "";

        print_message("case: %s\n", cases[i].name);
        wire_login_frame(&w, 1, cases[i].bytes, cases[i].len, "pw");

        assert_int_equal(validate(w.b, w.n, why, sizeof why), DG_EPROTO);
        assert_non_null(strstr(why, "request.login.username"));
    }
}

/* The path must follow the field that is wrong, not the first string seen. */
static void test_validate_names_password_when_password_is_invalid(void **state)
{
    wire login = {.n = 0}, req = {.n = 0}, frame = {.n = 0};
    char why[256] = "";

    (void)state;
    wire_bytes(&login, 1, "zhang", 5);
    wire_bytes(&login, 2, "pa\xc0\xafss", 6);
    wire_uint(&req, 1, 1);
    wire_msg(&req, 11, &login);
    wire_msg(&frame, 1, &req);

    assert_int_equal(validate(frame.b, frame.n, why, sizeof why), DG_EPROTO);
    assert_non_null(strstr(why, "request.login.password"));
    assert_null(strstr(why, "username"));
}

static void test_validate_checks_every_element_of_a_repeated_string(void **state)
{
    wire hello = {.n = 0}, req = {.n = 0}, frame = {.n = 0};
    char why[256] = "";

    (void)state;
    wire_bytes(&hello, 4, "feed", 4);
    wire_bytes(&hello, 4, "au\xed\xa0\x80", 5);
    wire_msg(&req, 10, &hello);
    wire_msg(&frame, 1, &req);

    assert_int_equal(validate(frame.b, frame.n, why, sizeof why), DG_EPROTO);
    assert_non_null(strstr(why, "request.hello.capabilities"));
}

static void test_validate_accepts_largest_declared_enum_values(void **state)
{
    wire code, role;
    char why[256] = "";

    (void)state;
    response_with_code(&code, DANGAN__V1__CODE__UNAUTHENTICATED);
    response_with_role(&role, DANGAN__V1__ROLE__ROLE_AUDITOR);

    assert_int_equal(validate(code.b, code.n, why, sizeof why), DG_OK);
    assert_int_equal(validate(role.b, role.n, why, sizeof why), DG_OK);
}

static void test_validate_rejects_unknown_enum_values(void **state)
{
    static const struct {
        const char *name;
        void (*build)(wire *out, uint64_t value);
        uint64_t value;
        const char *path;
    } cases[] = {
        {"Status.code 99", response_with_code, 99, "response.status.code"},
        {"Status.code one past the last", response_with_code, 17, "response.status.code"},
        {"Status.code -1", response_with_code, UINT64_MAX, "response.status.code"},
        {"UserRef.role 99", response_with_role, 99, "response.login.session.user.role"},
        {"UserRef.role 6", response_with_role, 6, "response.login.session.user.role"},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        wire w;
        char why[256] = "";

        print_message("case: %s\n", cases[i].name);
        cases[i].build(&w, cases[i].value);

        assert_int_equal(validate(w.b, w.n, why, sizeof why), DG_EPROTO);
        assert_non_null(strstr(why, cases[i].path));
    }
}

static void test_validate_rejects_wrong_wire_type_for_known_field(void **state)
{
    static const struct raw_case cases[] = {
        /* Frame{request(1): Request{id(1) as bytes}} */
        {"uint64 as length-delimited", RAW("\x0a\x03\x0a\x01\x2a"), "request.id"},
        /* Frame{request: Request{login(11): LoginRequest{username(1) as varint}}} */
        {"string as varint", RAW("\x0a\x04\x5a\x02\x08\x01"), "request.login.username"},
        {"message as fixed32", RAW("\x0d\x01\x02\x03\x04"), "request"},
        {"message as varint", RAW("\x08\x01"), "request"},
        /* Frame{event(3): Event{cursor(2): Cursor{epoch(1, fixed64) as varint}}} */
        {"fixed64 as varint", RAW("\x1a\x04\x12\x02\x08\x01"), "event.cursor.epoch"},
        /* Frame{response(2): Response{status(2): Status{code(1) as fixed32}}} */
        {"enum as fixed32", RAW("\x12\x07\x12\x05\x0d\x01\x00\x00\x00"), "response.status.code"},
        /* Frame{response: Response{status: Status{code as bytes}}}: not a packed field */
        {"singular enum as length-delimited", RAW("\x12\x05\x12\x03\x0a\x01\x01"),
         "response.status.code"},
        /* Frame{request: Request{ping(14): PingRequest{client_time_ms(1) as fixed64}}} */
        {"int64 as fixed64", RAW("\x0a\x0b\x72\x09\x09\x01\x02\x03\x04\x05\x06\x07\x08"),
         "request.ping.client_time_ms"},
    };

    (void)state;
    expect_rejected(cases, DG_ARRAY_LEN(cases));
}

static void test_validate_rejects_length_running_past_the_end(void **state)
{
    static const struct raw_case cases[] = {
        {"request longer than the frame", RAW("\x0a\x0a\x08\x01"), "request"},
        {"length varint truncated", RAW("\x0a\x80"), "request"},
        {"length 2^32-1", RAW("\x0a\xff\xff\xff\xff\x0f"), "request"},
        {"length 2^64-1", RAW("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), "request"},
        /* The username's length fits in the frame but not in its LoginRequest:
         * Frame{request: Request{login: LoginRequest{username len 5, 1 byte}, id 7, id 7}} */
        {"past the end of the enclosing message",
         RAW("\x0a\x09\x5a\x03\x0a\x05\x61\x08\x07\x08\x07"), "request.login.username"},
    };

    (void)state;
    expect_rejected(cases, DG_ARRAY_LEN(cases));
}

static void test_validate_rejects_truncated_scalars(void **state)
{
    static const struct raw_case cases[] = {
        {"varint cut short", RAW("\x0a\x02\x08\x80"), "request.id"},
        {"varint over 10 bytes", RAW("\x0a\x0c\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
         "request.id"},
        /* Frame{event: Event{cursor: Cursor{epoch: 3 of 8 bytes}}} */
        {"fixed64 cut short", RAW("\x1a\x06\x12\x04\x09\x01\x02\x03"), "event.cursor.epoch"},
    };

    (void)state;
    expect_rejected(cases, DG_ARRAY_LEN(cases));
}

static void test_validate_rejects_malformed_tags(void **state)
{
    static const struct raw_case cases[] = {
        {"tag cut short", RAW("\x80"), NULL},
        {"field number 0", RAW("\x00\x01"), NULL},
        {"field number 2^29", RAW("\x80\x80\x80\x80\x10\x01"), NULL},
        {"field number 0 inside Request", RAW("\x0a\x02\x00\x01"), "request"},
    };

    (void)state;
    expect_rejected(cases, DG_ARRAY_LEN(cases));
}

static void test_validate_accepts_unknown_well_formed_fields(void **state)
{
    static const uint8_t fixed64[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t fixed32[4] = {1, 2, 3, 4};
    wire login = {.n = 0}, req = {.n = 0}, frame = {.n = 0};
    char why[256] = "untouched";

    (void)state;
    wire_bytes(&login, 1, "zhang", 5);
    wire_uint(&login, 9, 1);
    wire_uint(&req, 1, 7);
    /* 990-993: numbers no version of Request uses (a newer client's fields) */
    wire_uint(&req, 990, UINT64_MAX);
    wire_bytes(&req, 991, "\xff\xfe\x00", 3); /* unknown: bytes, no UTF-8 rule */
    wire_tag(&req, 992, WIRE_FIXED32);
    wire_raw(&req, fixed32, sizeof fixed32);
    wire_tag(&req, 993, WIRE_FIXED64);
    wire_raw(&req, fixed64, sizeof fixed64);
    wire_msg(&req, 11, &login);
    wire_uint(&frame, 15, 1);
    wire_msg(&frame, 1, &req);
    wire_bytes(&frame, 536870911, "", 0); /* the largest field number */

    assert_int_equal(validate(frame.b, frame.n, why, sizeof why), DG_OK);
    assert_string_equal(why, "");
}

static void test_validate_rejects_malformed_unknown_fields(void **state)
{
    static const struct raw_case cases[] = {
        /* Frame{request: Request{field 100 (tag A2 06), length 5, no bytes}} */
        {"unknown length past end", RAW("\x0a\x03\xa2\x06\x05"), "request"},
        /* Frame{request: Request{field 102 (tag B1 06) fixed64, 3 bytes}} */
        {"unknown fixed64 cut short", RAW("\x0a\x05\xb1\x06\x01\x02\x03"), "request"},
        /* Frame{request: Request{field 101 (tag AD 06) fixed32, 2 bytes}} */
        {"unknown fixed32 cut short", RAW("\x0a\x04\xad\x06\x01\x02"), "request"},
        /* Frame{field 15 varint cut short} */
        {"unknown varint cut short", RAW("\x78\x80"), NULL},
    };

    (void)state;
    expect_rejected(cases, DG_ARRAY_LEN(cases));
}

static void test_validate_rejects_group_and_reserved_wire_types(void **state)
{
    static const struct raw_case cases[] = {
        {"start group on a known field", RAW("\x0b\x0c"), "request"},
        {"start/end group, unknown field 50", RAW("\x93\x03\x94\x03"), NULL},
        {"end group, unknown field 50", RAW("\x94\x03"), NULL},
        {"start group inside Request", RAW("\x0a\x02\x93\x03"), "request"},
        {"wire type 6", RAW("\x96\x03\x01"), NULL},
        {"wire type 7", RAW("\x97\x03\x01"), NULL},
    };

    (void)state;
    expect_rejected(cases, DG_ARRAY_LEN(cases));
}

/* `why` is bounded by why_len and always terminated. */
static void test_validate_truncates_why_to_its_buffer(void **state)
{
    char buf[16];
    wire w;

    (void)state;
    memset(buf, 'X', sizeof buf);
    wire_login_frame(&w, 1, "\xff", 1, "pw");

    assert_int_equal(validate(w.b, w.n, buf, 8), DG_EPROTO);
    assert_int_equal(strlen(buf), 7);
    for (size_t i = 8; i < sizeof buf; i++)
        assert_int_equal(buf[i], 'X');
}

/* protobuf-c merges a singular message given twice (its repeated fields
 * are concatenated into new arrays each time: quadratic), and keeps the
 * last of two oneof members; no encoder writes either. */
static void test_validate_rejects_a_singular_field_or_oneof_given_twice(void **state)
{
    wire login = {.n = 0}, req = {.n = 0};
    wire twice = {.n = 0}, two_members = {.n = 0}, scalar_twice = {.n = 0};
    wire repeated = {.n = 0}, hello = {.n = 0};
    char why[256];

    (void)state;
    wire_bytes(&login, 1, "zhang", 5);
    /* Frame.request twice */
    wire_uint(&req, 1, 7);
    wire_msg(&twice, 1, &req);
    wire_msg(&twice, 1, &req);
    assert_int_equal(validate(twice.b, twice.n, why, sizeof why), DG_EPROTO);
    assert_non_null(strstr(why, "more than once"));
    /* Request.id twice */
    req.n = 0;
    wire_uint(&req, 1, 7);
    wire_uint(&req, 1, 8);
    wire_msg(&scalar_twice, 1, &req);
    assert_int_equal(validate(scalar_twice.b, scalar_twice.n, why, sizeof why), DG_EPROTO);
    assert_non_null(strstr(why, "request.id"));
    /* Request.login and Request.hello: two members of the body oneof */
    req.n = 0;
    wire_msg(&req, 11, &login);
    wire_msg(&req, 10, &hello);
    wire_msg(&two_members, 1, &req);
    assert_int_equal(validate(two_members.b, two_members.n, why, sizeof why), DG_EPROTO);
    assert_non_null(strstr(why, "oneof"));
    /* a repeated field may come in any number of pieces */
    wire_bytes(&hello, 4, "feed", 4);
    wire_bytes(&hello, 4, "audit", 5);
    req.n = 0;
    wire_msg(&req, 10, &hello);
    wire_msg(&repeated, 1, &req);
    assert_int_equal(validate(repeated.b, repeated.n, why, sizeof why), DG_OK);
}

/* The walk tracks at most 128 fields per message (validate.c, MAX_FIELDS):
 * every message a Frame can hold must fit. */
static size_t max_fields(const ProtobufCMessageDescriptor *d, int depth)
{
    size_t most = d->n_fields;

    if (depth > 40)
        return most; /* recursive types: seen already */
    for (size_t i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE) {
            size_t n = max_fields(d->fields[i].descriptor, depth + 1);

            most = n > most ? n : most;
        }
    return most;
}

static void test_validate_every_message_fits_its_field_tracking(void **state)
{
    (void)state;
    assert_true(max_fields(FRAME, 0) <= 128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_accepts_chinese_strings),
        cmocka_unit_test(test_validate_accepts_empty_frame),
        cmocka_unit_test(test_validate_rejects_invalid_utf8_naming_the_field),
        cmocka_unit_test(test_validate_names_password_when_password_is_invalid),
        cmocka_unit_test(test_validate_checks_every_element_of_a_repeated_string),
        cmocka_unit_test(test_validate_accepts_largest_declared_enum_values),
        cmocka_unit_test(test_validate_rejects_unknown_enum_values),
        cmocka_unit_test(test_validate_rejects_wrong_wire_type_for_known_field),
        cmocka_unit_test(test_validate_rejects_length_running_past_the_end),
        cmocka_unit_test(test_validate_rejects_truncated_scalars),
        cmocka_unit_test(test_validate_rejects_malformed_tags),
        cmocka_unit_test(test_validate_accepts_unknown_well_formed_fields),
        cmocka_unit_test(test_validate_rejects_malformed_unknown_fields),
        cmocka_unit_test(test_validate_rejects_group_and_reserved_wire_types),
        cmocka_unit_test(test_validate_truncates_why_to_its_buffer),
        cmocka_unit_test(test_validate_rejects_a_singular_field_or_oneof_given_twice),
        cmocka_unit_test(test_validate_every_message_fits_its_field_tracking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
