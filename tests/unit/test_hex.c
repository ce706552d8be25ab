/* test_hex.c - hex encode/decode and certificate fingerprint text: the
 * round trip, what decode refuses, the three accepted fingerprint spellings,
 * wrong lengths, and the shape of the formatted fingerprint. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "hex.h"

/* fp[i] = i * 7 + 1: every byte different, both nibbles vary. */
static void sample_fp(uint8_t fp[DG_FINGERPRINT_LEN])
{
    for (size_t i = 0; i < DG_FINGERPRINT_LEN; i++)
        fp[i] = (uint8_t)(i * 7 + 1);
}

/* Hex text of `n` sample bytes, upper-case, joined by `sep` (may be ""). */
static void sample_text(char *out, size_t cap, size_t n, const char *sep)
{
    size_t at = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(out + at, cap - at, "%s%02X", i ? sep : "", (unsigned)(i * 7 + 1) & 0xff);

        assert_true(k > 0 && (size_t)k < cap - at);
        at += (size_t)k;
    }
}

static void test_hex_encode_writes_lower_case_pairs_and_nul(void **state)
{
    static const uint8_t in[] = {0x00, 0x09, 0x0a, 0xab, 0xf0, 0xff};
    char out[2 * sizeof in + 2];

    (void)state;
    memset(out, 'X', sizeof out);

    dg_hex_encode(in, sizeof in, out);

    assert_string_equal(out, "00090aabf0ff");
    assert_int_equal(out[sizeof out - 1], 'X'); /* nothing past the NUL */
}

static void test_hex_decode_round_trips_every_byte_value(void **state)
{
    uint8_t in[256], back[256];
    char text[2 * 256 + 1];

    (void)state;
    for (size_t i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    dg_hex_encode(in, sizeof in, text);

    assert_int_equal(dg_hex_decode(text, back, sizeof back), DG_OK);

    assert_memory_equal(back, in, sizeof in);
}

static void test_hex_decode_accepts_upper_case_and_separators(void **state)
{
    static const uint8_t expect[] = {0xab, 0xcd, 0xef, 0x01};
    static const char *const texts[] = {"ABCDEF01",    "abCDeF01",      "AB:CD:EF:01",
                                        "ab cd ef 01", ":AB:CD:EF:01:", "AB::CD  EF:01"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(texts); i++) {
        uint8_t out[sizeof expect];

        print_message("case: \"%s\"\n", texts[i]);
        assert_int_equal(dg_hex_decode(texts[i], out, sizeof out), DG_OK);
        assert_memory_equal(out, expect, sizeof expect);
    }
}

/* `out` is exactly n bytes: ASan catches a decoder writing past it. */
static void test_hex_decode_rejects_bad_text(void **state)
{
    static const struct {
        const char *name;
        const char *text;
    } cases[] = {
        {"odd length", "abc"},
        {"single digit", "a"},
        {"too short", "ab"},
        {"too long", "abcdef"},
        {"empty", ""},
        {"non-hex letter", "abzz"},
        {"non-hex second digit", "a:bg"},
        {"0x prefix", "0xab"},
        {"separator inside a pair", "a:bcd"},
        {"trailing garbage", "abcd!"},
        {"minus sign", "-abc"},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        uint8_t out[2];

        print_message("case: %s\n", cases[i].name);
        assert_int_equal(dg_hex_decode(cases[i].text, out, sizeof out), DG_EINVAL);
    }
}

static void test_hex_decode_of_nothing_into_nothing_is_ok(void **state)
{
    uint8_t out[1] = {0x5a};

    (void)state;
    assert_int_equal(dg_hex_decode("", out, 0), DG_OK);
    assert_int_equal(dg_hex_decode(":", out, 0), DG_OK);
    assert_int_equal(dg_hex_decode("00", out, 0), DG_EINVAL);
    assert_int_equal(out[0], 0x5a);
}

static void test_fingerprint_parse_accepts_the_three_spellings(void **state)
{
    static const struct {
        const char *prefix;
        const char *sep;
    } cases[] = {
        {"", ":"}, {"", ""}, {"SHA256:", ":"}, {"SHA256:", ""}, {"sha256:", ":"}, {"", " "},
    };
    uint8_t expect[DG_FINGERPRINT_LEN];

    (void)state;
    sample_fp(expect);
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char text[160], body[128];
        uint8_t fp[DG_FINGERPRINT_LEN];

        sample_text(body, sizeof body, DG_FINGERPRINT_LEN, cases[i].sep);
        snprintf(text, sizeof text, "%s%s", cases[i].prefix, body);
        print_message("case: %s\n", text);

        assert_int_equal(dg_fingerprint_parse(text, fp), DG_OK);
        assert_memory_equal(fp, expect, DG_FINGERPRINT_LEN);
    }
}

static void test_fingerprint_parse_accepts_lower_case_digits(void **state)
{
    char text[128];
    uint8_t fp[DG_FINGERPRINT_LEN], expect[DG_FINGERPRINT_LEN];

    (void)state;
    sample_fp(expect);
    sample_text(text, sizeof text, DG_FINGERPRINT_LEN, "");
    for (char *c = text; *c; c++)
        *c = (char)tolower((unsigned char)*c);

    assert_int_equal(dg_fingerprint_parse(text, fp), DG_OK);
    assert_memory_equal(fp, expect, DG_FINGERPRINT_LEN);
}

static void test_fingerprint_parse_rejects_wrong_lengths(void **state)
{
    static const struct {
        size_t n;
        const char *sep;
    } cases[] = {
        {31, ":"}, {31, ""}, {33, ":"}, {33, ""}, {0, ""}, {1, ""}, {64, ""},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char text[256];
        uint8_t fp[DG_FINGERPRINT_LEN];

        sample_text(text, sizeof text, cases[i].n, cases[i].sep);
        print_message("case: %zu bytes \"%s\"\n", cases[i].n, text);
        assert_int_equal(dg_fingerprint_parse(text, fp), DG_EINVAL);
    }
}

static void test_fingerprint_parse_rejects_other_prefixes(void **state)
{
    static const char *const prefixes[] = {"SHA1:", "SHA256", "SHA-256:", " SHA256:", "MD5:"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(prefixes); i++) {
        char text[160], body[128];
        uint8_t fp[DG_FINGERPRINT_LEN];

        sample_text(body, sizeof body, DG_FINGERPRINT_LEN, ":");
        snprintf(text, sizeof text, "%s%s", prefixes[i], body);
        print_message("case: %s\n", text);
        assert_int_equal(dg_fingerprint_parse(text, fp), DG_EINVAL);
    }
}

static void test_audit_head_round_trips_and_rejects_bad_text(void **state)
{
    static const char *const bad[] = {
        "",
        ":",
        "12",
        "12:",
        ":0000000000000000000000000000000000000000000000000000000000000000",
        "-1:0000000000000000000000000000000000000000000000000000000000000000",
        "1x:0000000000000000000000000000000000000000000000000000000000000000",
        "99999999999999999999:0000000000000000000000000000000000000000000000000000000000000000",
        "7:000000000000000000000000000000000000000000000000000000000000000",
        "7:00000000000000000000000000000000000000000000000000000000000000000",
        "7:zz00000000000000000000000000000000000000000000000000000000000000",
    };
    uint8_t hash[32], back[32];
    char text[DG_AUDIT_HEAD_TEXT_LEN];
    int64_t seq = 0;

    (void)state;
    sample_fp(hash);
    dg_audit_head_format(9223372036854775807LL, hash, text);
    assert_int_equal(dg_audit_head_parse(text, &seq, back), DG_OK);
    assert_int_equal(seq, 9223372036854775807LL);
    assert_memory_equal(back, hash, 32);
    dg_audit_head_format(42, hash, text);
    assert_int_equal(strlen(text), 3 + 64);
    assert_int_equal(dg_audit_head_parse(text, &seq, back), DG_OK);
    assert_int_equal(seq, 42);
    for (size_t i = 0; i < DG_ARRAY_LEN(bad); i++) {
        print_message("case: %s\n", bad[i]);
        assert_int_equal(dg_audit_head_parse(bad[i], &seq, back), DG_EINVAL);
    }
}

static void test_fingerprint_format_is_upper_case_colon_separated(void **state)
{
    uint8_t fp[DG_FINGERPRINT_LEN];
    char out[DG_FINGERPRINT_TEXT_LEN];
    char expect[128];

    (void)state;
    sample_fp(fp);
    sample_text(expect, sizeof expect, DG_FINGERPRINT_LEN, ":");

    dg_fingerprint_format(fp, out);

    assert_string_equal(out, expect);
    assert_int_equal(strlen(out), DG_FINGERPRINT_TEXT_LEN - 1);
    for (size_t i = 0; i < DG_FINGERPRINT_LEN; i++) {
        assert_true(isxdigit((unsigned char)out[3 * i]) && !islower((unsigned char)out[3 * i]));
        if (i + 1 < DG_FINGERPRINT_LEN)
            assert_int_equal(out[3 * i + 2], ':');
    }
}

static void test_fingerprint_format_output_parses_back(void **state)
{
    uint8_t fp[DG_FINGERPRINT_LEN], back[DG_FINGERPRINT_LEN];
    char text[DG_FINGERPRINT_TEXT_LEN];

    (void)state;
    for (size_t i = 0; i < DG_FINGERPRINT_LEN; i++)
        fp[i] = (uint8_t)(0xff - i * 5);
    dg_fingerprint_format(fp, text);

    assert_int_equal(dg_fingerprint_parse(text, back), DG_OK);
    assert_memory_equal(back, fp, DG_FINGERPRINT_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_encode_writes_lower_case_pairs_and_nul),
        cmocka_unit_test(test_hex_decode_round_trips_every_byte_value),
        cmocka_unit_test(test_hex_decode_accepts_upper_case_and_separators),
        cmocka_unit_test(test_hex_decode_rejects_bad_text),
        cmocka_unit_test(test_hex_decode_of_nothing_into_nothing_is_ok),
        cmocka_unit_test(test_fingerprint_parse_accepts_the_three_spellings),
        cmocka_unit_test(test_fingerprint_parse_accepts_lower_case_digits),
        cmocka_unit_test(test_fingerprint_parse_rejects_wrong_lengths),
        cmocka_unit_test(test_fingerprint_parse_rejects_other_prefixes),
        cmocka_unit_test(test_fingerprint_format_is_upper_case_colon_separated),
        cmocka_unit_test(test_audit_head_round_trips_and_rejects_bad_text),
        cmocka_unit_test(test_fingerprint_format_output_parses_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
