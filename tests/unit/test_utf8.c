/* test_utf8.c - strict validation (RFC 3629 plus "no NUL"), terminal width of
 * CJK, full-width and combining characters, and fitting text into columns
 * without splitting a character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "utf8.h"

struct bytes_case {
    const char *name;
    const char *bytes;
    size_t len;
};
#define RAW(s) s, sizeof(s) - 1

static void test_utf8_valid_accepts_well_formed_text(void **state)
{
    static const struct bytes_case cases[] = {
        {"empty", RAW("")},
        {"ASCII", RAW("Zhang San, 42")},
        {"U+0001", RAW("\x01")},
        {"U+007F last 1-byte", RAW("\x7f")},
        {"U+0080 first 2-byte", RAW("\xc2\x80")},
        {"U+07FF last 2-byte", RAW("\xdf\xbf")},
        {"U+0800 first 3-byte", RAW("\xe0\xa0\x80")},
        {"U+D7FF below surrogates", RAW("\xed\x9f\xbf")},
        {"U+E000 above surrogates", RAW("\xee\x80\x80")},
        {"U+FFFF last 3-byte", RAW("\xef\xbf\xbf")},
        {"U+10000 first 4-byte", RAW("\xf0\x90\x80\x80")},
        {"U+10FFFF last code point", RAW("\xf4\x8f\xbf\xbf")},
        {"Chinese", RAW("张三")},
        {"mixed", RAW("Zhang张-é-𝄞")},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_true(dg_utf8_valid(cases[i].bytes, cases[i].len));
    }
}

static void test_utf8_valid_rejects_malformed_text(void **state)
{
    static const struct bytes_case cases[] = {
        {"overlong '/' C0 AF", RAW("\xc0\xaf")},
        {"overlong C1 BF", RAW("\xc1\xbf")},
        {"overlong 3-byte E0 80 AF", RAW("\xe0\x80\xaf")},
        {"overlong 3-byte E0 9F BF (U+07FF)", RAW("\xe0\x9f\xbf")},
        {"overlong 4-byte F0 80 80 AF", RAW("\xf0\x80\x80\xaf")},
        {"overlong 4-byte F0 8F BF BF (U+FFFF)", RAW("\xf0\x8f\xbf\xbf")},
        {"surrogate ED A0 80 (U+D800)", RAW("\xed\xa0\x80")},
        {"surrogate ED BF BF (U+DFFF)", RAW("\xed\xbf\xbf")},
        {"truncated E4 BD", RAW("\xe4\xbd")},
        {"truncated 4-byte F0 90 80", RAW("\xf0\x90\x80")},
        {"truncated 2-byte at end", RAW("abc\xc3")},
        {"lone continuation 80", RAW("\x80")},
        {"continuation BF after ASCII", RAW("a\xbf")},
        {"0xFF byte", RAW("\xff")},
        {"0xFE byte", RAW("\xfe")},
        {"above U+10FFFF F4 90 80 80", RAW("\xf4\x90\x80\x80")},
        {"lead F5", RAW("\xf5\x80\x80\x80")},
        {"ASCII where a continuation belongs", RAW("\xe4\x41\x80")},
        {"embedded NUL", RAW("zh\0ang")},
        {"NUL inside a would-be sequence", RAW("\xe4\x00\xbd")},
        {"only NUL", RAW("\0")},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_false(dg_utf8_valid(cases[i].bytes, cases[i].len));
    }
}

/* len, not a terminating NUL, bounds the check. */
static void test_utf8_valid_reads_only_len_bytes(void **state)
{
    const char *s = "张三"; /* E5 BC A0 E4 B8 89 */

    (void)state;
    assert_true(dg_utf8_valid(s, 3));
    assert_false(dg_utf8_valid(s, 4));
    assert_false(dg_utf8_valid(s, 5));
    assert_true(dg_utf8_valid(s, 6));
    assert_true(dg_utf8_valid("\xff", 0));
}

static void test_utf8_width_counts_terminal_columns(void **state)
{
    static const struct {
        const char *s;
        size_t cols;
    } cases[] = {
        {"", 0},          {"abc", 3},  {"张三", 4},
        {"Zhang张", 7},   {"ＡＢ", 4}, /* full-width Latin U+FF21 U+FF22 */
        {"e\xcc\x81", 1},              /* e + U+0301 combining acute */
        {"\xcc\x81", 0},               /* a combining mark alone */
        {"한국어", 6},                 /* Hangul syllables are wide */
        {"ｶﾀｶﾅ", 4},                   /* half-width katakana stays narrow */
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("case: \"%s\"\n", cases[i].s);
        assert_int_equal(dg_utf8_width(cases[i].s), cases[i].cols);
    }
}

static void test_utf8_width_counts_each_invalid_byte_as_one(void **state)
{
    static const struct {
        const char *name;
        const char *s;
        size_t cols;
    } cases[] = {
        {"0xFF 0xFE", "\xff\xfe", 2},
        {"truncated E4 BD after ASCII", "a\xe4\xbd", 3},
        {"overlong C0 AF", "\xc0\xaf", 2},
        {"truncated sequence then a wide character", "\xe4\xbd张", 4},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(dg_utf8_width(cases[i].s), cases[i].cols);
    }
}

static void test_utf8_fit_returns_longest_prefix_within_columns(void **state)
{
    static const struct {
        const char *s;
        size_t max_cols;
        size_t bytes;
        size_t cols;
    } cases[] = {
        {"abc", 10, 3, 3}, {"abc", 2, 2, 2},     {"abc", 0, 0, 0},        {"张三", 4, 6, 4},
        {"张三", 3, 3, 2}, /* the second character would need columns 3-4 */
        {"张三", 1, 0, 0}, {"Zhang张", 6, 5, 5}, {"e\xcc\x81x", 1, 3, 1}, /* the combining mark
                                                                             stays with its base */
        {"", 5, 0, 0},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        size_t cols = 99;

        print_message("case: \"%s\" in %zu\n", cases[i].s, cases[i].max_cols);
        assert_int_equal(dg_utf8_fit(cases[i].s, cases[i].max_cols, &cols), cases[i].bytes);
        assert_int_equal(cols, cases[i].cols);
    }
}

/* Whatever the width, the prefix ends on a character boundary, is within the
 * limit, and *cols is the width of exactly that prefix. */
static void test_utf8_fit_never_splits_a_character(void **state)
{
    static const char *const texts[] = {"Zhang张三-ＡＢ-𝄞é", "张三李四王五", "a\xcc\x81张"};

    (void)state;
    for (size_t t = 0; t < DG_ARRAY_LEN(texts); t++) {
        const char *s = texts[t];
        size_t total = dg_utf8_width(s);

        for (size_t max = 0; max <= total + 1; max++) {
            char prefix[64];
            size_t cols;
            size_t n = dg_utf8_fit(s, max, &cols);

            print_message("case: \"%s\" in %zu\n", s, max);
            assert_true(n < sizeof prefix);
            assert_true(dg_utf8_valid(s, n));
            assert_true(((unsigned char)s[n] & 0xc0) != 0x80); /* next byte starts a character */
            assert_true(cols <= max);
            memcpy(prefix, s, n);
            prefix[n] = '\0';
            assert_int_equal(dg_utf8_width(prefix), cols);
        }
        size_t cols;
        assert_int_equal(dg_utf8_fit(s, total, &cols), strlen(s));
        assert_int_equal(cols, total);
    }
}

static void test_copy_never_splits_a_character(void **state)
{
    char out[8];

    (void)state;
    /* "张伟明" is 9 bytes: 7 bytes of room hold two whole characters, not 2⅓ */
    assert_string_equal(dg_utf8_copy(out, sizeof out, "张伟明"), "张伟");
    assert_true(dg_utf8_valid(out, strlen(out)));
    assert_string_equal(dg_utf8_copy(out, sizeof out, "abc"), "abc");
    assert_string_equal(dg_utf8_copy(out, sizeof out, "abcdefghij"), "abcdefg");
    assert_string_equal(dg_utf8_copy(out, 5, "a张"), "a张");
    assert_string_equal(dg_utf8_copy(out, 4, "a张"), "a");
    assert_string_equal(dg_utf8_copy(out, 4, "ab张"), "ab");
    assert_string_equal(dg_utf8_copy(out, 1, "张"), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_never_splits_a_character),
        cmocka_unit_test(test_utf8_valid_accepts_well_formed_text),
        cmocka_unit_test(test_utf8_valid_rejects_malformed_text),
        cmocka_unit_test(test_utf8_valid_reads_only_len_bytes),
        cmocka_unit_test(test_utf8_width_counts_terminal_columns),
        cmocka_unit_test(test_utf8_width_counts_each_invalid_byte_as_one),
        cmocka_unit_test(test_utf8_fit_returns_longest_prefix_within_columns),
        cmocka_unit_test(test_utf8_fit_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
