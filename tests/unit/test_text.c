/* test_text.c - folding (full-width, case, compatibility forms), phone
 * digits, the two tokenizer modes with their byte
 * offsets, the substring property the search relies on (every substring of
 * a document is found by its query tokens), and FTS5 expression building. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "dg.h"
#include "text.h"
#include "utf8.h"

#define RAW(s) s, sizeof(s) - 1

struct str_case {
    const char *in;
    const char *want;
};

/* ---------------------------------------------------------------- folding */

struct fold_case {
    const char *name;
    const char *in;
    size_t len;
    const char *want;
};

static void test_text_fold_maps_to_nfkc_casefold(void **state)
{
    static const struct fold_case cases[] = {
        {"full-width letters and digits", RAW("ＡＢＣ１２３"), "abc123"},
        {"full-width brand", RAW("Ｈｕａｗｅｉ"), "huawei"},
        {"full-width upper", RAW("ＫＴＶ"), "ktv"},
        {"ideographic space", RAW("张\u3000三"), "张 三"},
        {"ASCII case", RAW("Zhang SAN"), "zhang san"},
        {"sharp s folds to ss", RAW("Straße"), "strasse"},
        {"Greek final sigma", RAW("ΟΔΟΣ"), "οδοσ"},
        {"ligature fi", RAW("\ufb01nance"), "finance"},
        {"circled digit", RAW("①号"), "1号"},
        {"square 株式会社", RAW("\u337f"), "株式会社"},
        {"parenthesized 株", RAW("\u3231"), "(株)"},
        {"half-width katakana", RAW("ｶﾀｶﾅ"), "カタカナ"},
        {"decomposed e acute composes", RAW("e\u0301"), "\u00e9"},
        {"full-width punctuation", RAW("（＋８６）"), "(+86)"},
        {"soft hyphen is ignorable", RAW("ab\u00adcd"), "abcd"},
        {"zero-width space is ignorable", RAW("华\u200b为"), "华为"},
        {"CJK untouched", RAW("深圳市华为技术有限公司"), "深圳市华为技术有限公司"},
        {"Hangul untouched", RAW("한국어"), "한국어"},
        {"empty", RAW(""), ""},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        size_t len = 12345;
        char *got;

        print_message("case: %s\n", cases[i].name);
        got = dg_text_fold(cases[i].in, cases[i].len, &len);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        assert_int_equal(len, strlen(cases[i].want));
        free(got);
    }
}

static void test_text_fold_uses_len_not_nul(void **state)
{
    char *got = dg_text_fold("ＡＢＣ", 3, NULL); /* just the first character */

    (void)state;
    assert_string_equal(got, "a");
    free(got);
}

static void test_text_fold_rejects_invalid_utf8(void **state)
{
    static const struct fold_case cases[] = {
        {"stray continuation", RAW("ab\x80"), NULL},
        {"0xff", RAW("\xff"), NULL},
        {"overlong '/'", RAW("\xc0\xaf"), NULL},
        {"surrogate U+D800", RAW("\xed\xa0\x80"), NULL},
        {"truncated 中", RAW("\xe4\xb8"), NULL},
        {"above U+10FFFF", RAW("\xf4\x90\x80\x80"), NULL},
        {"embedded NUL", RAW("a\0b"), NULL},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        size_t len = 99;

        print_message("case: %s\n", cases[i].name);
        assert_null(dg_text_fold(cases[i].in, cases[i].len, &len));
        assert_int_equal(len, 0);
    }
}

/* ---------------------------------------------------------------- phone digits */

static void test_text_phone_digits_drop_separators_and_country_code(void **state)
{
    static const struct str_case cases[] = {
        {"+86 138-1234-5678", "13812345678"},
        {"(010) 6552 1234", "01065521234"},
        {"138 1234 5678", "13812345678"},
        {"+8613812345678", "13812345678"},
        {"0086 138 1234 5678", "13812345678"},
        {"(+86) 138 1234 5678", "13812345678"},
        {"   +86 10 6552 1234", "1065521234"},
        {"＋８６ １３８－１２３４－５６７８", "13812345678"},
        {"\u3000+86 138", "138"},
        {"（＋８６）138", "138"},
        {"86 138 1234 5678", "8613812345678"}, /* no "+": could be a local number */
        {"+1 555 0100", "15550100"},           /* only China's code is dropped */
        {"tel: 010-1234 ext. 5", "01012345"},
        {"138 +86", "13886"}, /* a code after the start is just digits */
        {"1\3772\3003", "123"},
        {"", ""},
        {"no digits", ""},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char out[64];
        size_t n;

        print_message("case: %s\n", cases[i].in);
        n = dg_text_phone_digits(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
}

static void test_text_phone_digits_truncate_to_cap(void **state)
{
    char out[4];

    (void)state;
    assert_int_equal(dg_text_phone_digits("+86 138-1234-5678", out, sizeof out), 3);
    assert_string_equal(out, "138");
    assert_int_equal(dg_text_phone_digits("138", out, 1), 0);
    assert_string_equal(out, "");
}

/* ---------------------------------------------------------------- tokenizer */

/* Tokens rendered as "tok[start,end) tok[start,end)" for table comparison. */
struct tok_text {
    const char *input;
    char buf[2048];
    size_t len;
};

static int collect_text_cb(void *ud, const char *tok, size_t tok_len, size_t start, size_t end)
{
    struct tok_text *t = ud;
    int n;

    assert_true(tok_len > 0);
    assert_int_equal(tok_len, end - start);
    assert_ptr_equal(tok, t->input + start);
    n = snprintf(t->buf + t->len, sizeof t->buf - t->len, "%s%.*s[%zu,%zu)", t->len ? " " : "",
                 (int)tok_len, tok, start, end);
    assert_true(n > 0 && (size_t)n < sizeof t->buf - t->len);
    t->len += (size_t)n;
    return 0;
}

struct tok_case {
    const char *name;
    const char *in;
    size_t len;
    const char *want;
};

static void check_tok_cases(const struct tok_case *cases, size_t n_cases,
                            int (*tokenize)(const char *, size_t, dg_tok_emit, void *))
{
    for (size_t i = 0; i < n_cases; i++) {
        struct tok_text t = {.input = cases[i].in};

        print_message("case: %s\n", cases[i].name);
        assert_int_equal(tokenize(cases[i].in, cases[i].len, collect_text_cb, &t), DG_OK);
        assert_string_equal(t.buf, cases[i].want);
    }
}

static void test_tok_document_one_token_per_character(void **state)
{
    static const struct tok_case cases[] = {
        {"Chinese bigrams", RAW("华为技术"), "华为[0,6) 为技[3,9) 技术[6,12) 术[9,12)"},
        {"Latin trigrams", RAW("abcd"), "abc[0,3) bcd[1,4) cd[2,4) d[3,4)"},
        {"short Latin run", RAW("ab"), "ab[0,2) b[1,2)"},
        {"one CJK char", RAW("张"), "张[0,3)"},
        {"mixed runs", RAW("华为p30手机"),
         "华为[0,6) 为[3,6) p30[6,9) 30[7,9) 0[8,9) 手机[9,15) 机[12,15)"},
        {"space and punctuation separate", RAW("ab, cd"), "ab[0,2) b[1,2) cd[4,6) d[5,6)"},
        {"email", RAW("li@qq.cn"), "li[0,2) i[1,2) qq[3,5) q[4,5) cn[6,8) n[7,8)"},
        {"emoji separates", RAW("a😀b"), "a[0,1) b[5,6)"},
        {"katakana middle dot separates", RAW("ジョン・ドウ"),
         "ジョ[0,6) ョン[3,9) ン[6,9) ドウ[12,18) ウ[15,18)"},
        {"iteration mark is CJK", RAW("佐々木"), "佐々[0,6) 々木[3,9) 木[6,9)"},
        {"Hangul syllables", RAW("한국어"), "한국[0,6) 국어[3,9) 어[6,9)"},
        {"digits then Han", RAW("2023年"), "202[0,3) 023[1,4) 23[2,4) 3[3,4) 年[4,7)"},
        {"combining mark stays with its letter", RAW("aq\u0303z"),
         "aq\u0303z[0,5) q\u0303z[1,5) z[4,5)"},
        {"mark after Han", RAW("华\u0303为"), "华\u0303为[0,8) 为[5,8)"},
        {"orphan mark separates", RAW("\u0303ab"), "ab[2,4) b[3,4)"},
        {"invalid byte separates", RAW("ab\377cd"), "ab[0,2) b[1,2) cd[3,5) d[4,5)"},
        {"NUL separates", RAW("ab\0cd"), "ab[0,2) b[1,2) cd[3,5) d[4,5)"},
        {"truncated sequence at end", RAW("ab\xe4\xb8"), "ab[0,2) b[1,2)"},
        {"only separators", RAW(" ,.!? "), ""},
        {"empty", RAW(""), ""},
    };

    (void)state;
    check_tok_cases(cases, DG_ARRAY_LEN(cases), dg_tok_document);
}

static void test_tok_query_full_windows_or_whole_short_run(void **state)
{
    static const struct tok_case cases[] = {
        {"Chinese", RAW("华为技术"), "华为[0,6) 为技[3,9) 技术[6,12)"},
        {"exactly one CJK window", RAW("华为"), "华为[0,6)"},
        {"one CJK char", RAW("张"), "张[0,3)"},
        {"Latin", RAW("abcd"), "abc[0,3) bcd[1,4)"},
        {"exactly one Latin window", RAW("abc"), "abc[0,3)"},
        {"short Latin run", RAW("ab"), "ab[0,2)"},
        {"mixed runs", RAW("华为p30手机"), "华为[0,6) p30[6,9) 手机[9,15)"},
        {"words", RAW("huawei p"), "hua[0,3) uaw[1,4) awe[2,5) wei[3,6) p[7,8)"},
        {"combining mark", RAW("aq\u0303z"), "aq\u0303z[0,5)"},
        {"only separators", RAW("--"), ""},
    };

    (void)state;
    check_tok_cases(cases, DG_ARRAY_LEN(cases), dg_tok_query);
}

static int stop_cb(void *ud, const char *tok, size_t tok_len, size_t start, size_t end)
{
    int *n_calls = ud;

    (void)tok, (void)tok_len, (void)start, (void)end;
    ++*n_calls;
    return 42;
}

static void test_tok_stops_at_first_nonzero_emit(void **state)
{
    int n_calls = 0;

    (void)state;
    assert_int_equal(dg_tok_document(RAW("华为 abc"), stop_cb, &n_calls), 42);
    assert_int_equal(n_calls, 1);
    n_calls = 0;
    assert_int_equal(dg_tok_query(RAW("华为 abc"), stop_cb, &n_calls), 42);
    assert_int_equal(n_calls, 1);
}

/* ---------------------------------------------------------------- substring property */

#define MAX_TOKS 512

struct tok {
    size_t start;
    size_t end;
};

struct tok_list {
    const char *base;
    struct tok toks[MAX_TOKS];
    size_t n;
};

static int collect_cb(void *ud, const char *tok, size_t tok_len, size_t start, size_t end)
{
    struct tok_list *l = ud;

    assert_ptr_equal(tok, l->base + start);
    assert_int_equal(tok_len, end - start);
    assert_true(l->n < MAX_TOKS);
    l->toks[l->n++] = (struct tok){start, end};
    return 0;
}

static bool tok_eq(const struct tok_list *a, size_t i, const struct tok_list *b, size_t j)
{
    size_t n = a->toks[i].end - a->toks[i].start;

    return n == b->toks[j].end - b->toks[j].start &&
           memcmp(a->base + a->toks[i].start, b->base + b->toks[j].start, n) == 0;
}

static bool tok_has_prefix(const struct tok_list *a, size_t i, const struct tok_list *b, size_t j)
{
    size_t n = b->toks[j].end - b->toks[j].start;

    return n <= a->toks[i].end - a->toks[i].start &&
           memcmp(a->base + a->toks[i].start, b->base + b->toks[j].start, n) == 0;
}

/* Oracle for "is this single query token a short run, i.e. a prefix query":
 * it has fewer characters than its class's window. Counted independently of
 * text.c: code points that are not marks; CJK by the blocks our documents use. */
static bool is_short_run(const char *s, size_t len)
{
    size_t n_chars = 0, pos = 0;
    bool is_cjk = false;

    while (pos < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)s + pos, (utf8proc_ssize_t)(len - pos), &cp);
        utf8proc_category_t cat;

        assert_true(n > 0);
        cat = utf8proc_category(cp);
        if (cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_MC &&
            cat != UTF8PROC_CATEGORY_ME) {
            if (n_chars++ == 0)
                is_cjk = (cp >= 0x3000 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7af);
        }
        pos += (size_t)n;
    }
    return n_chars < (is_cjk ? DG_TEXT_K_CJK : DG_TEXT_K_WORD);
}

/* True if the query tokens q[from..to) (one run) match the document: as a
 * phrase at consecutive positions, or, for a short run, as a prefix. */
static bool run_matches(const struct tok_list *doc, const struct tok_list *q, size_t from,
                        size_t to)
{
    bool is_prefix = to - from == 1 && is_short_run(q->base + q->toks[from].start,
                                                    q->toks[from].end - q->toks[from].start);

    for (size_t p = 0; p + (to - from) <= doc->n; p++) {
        size_t t = 0;

        if (is_prefix) {
            if (tok_has_prefix(doc, p, q, from))
                return true;
            continue;
        }
        while (from + t < to && tok_eq(doc, p + t, q, from + t))
            t++;
        if (from + t == to)
            return true;
    }
    return false;
}

/* Starts of characters (code points that are not combining marks) plus len:
 * the places a user's substring can begin or end. */
static size_t char_bounds(const char *s, size_t len, size_t *bounds, size_t cap)
{
    size_t n = 0, pos = 0;

    while (pos < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + pos, (utf8proc_ssize_t)(len - pos), &cp);
        utf8proc_category_t cat;

        assert_true(k > 0);
        cat = utf8proc_category(cp);
        if (cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_MC &&
            cat != UTF8PROC_CATEGORY_ME) {
            assert_true(n < cap);
            bounds[n++] = pos;
        }
        pos += (size_t)k;
    }
    assert_true(n < cap);
    bounds[n++] = len;
    return n;
}

static void check_every_substring_found(const char *raw)
{
    size_t len, bounds[256], n_bounds;
    char *doc_text = dg_text_fold(raw, strlen(raw), &len);
    struct tok_list *doc = calloc(1, sizeof *doc);
    struct tok_list *q = calloc(1, sizeof *q);
    size_t n_checked = 0;

    assert_non_null(doc_text);
    assert_non_null(doc);
    assert_non_null(q);
    doc->base = doc_text;
    assert_int_equal(dg_tok_document(doc_text, len, collect_cb, doc), DG_OK);
    n_bounds = char_bounds(doc_text, len, bounds, DG_ARRAY_LEN(bounds));
    for (size_t i = 0; i < n_bounds; i++) {
        for (size_t j = i + 1; j < n_bounds; j++) {
            const char *sub = doc_text + bounds[i];

            q->base = sub;
            q->n = 0;
            assert_int_equal(dg_tok_query(sub, bounds[j] - bounds[i], collect_cb, q), DG_OK);
            /* Group the query tokens into runs: windows of one run overlap,
             * tokens of different runs never do. */
            for (size_t from = 0, to; from < q->n; from = to) {
                for (to = from + 1; to < q->n && q->toks[to].start < q->toks[to - 1].end; to++)
                    ;
                if (!run_matches(doc, q, from, to))
                    fail_msg("doc \"%s\": query \"%.*s\" run %zu not found", doc_text,
                             (int)(bounds[j] - bounds[i]), sub, from);
                n_checked++;
            }
        }
    }
    assert_true(n_checked > 0);
    free(q);
    free(doc);
    free(doc_text);
}

/* A deterministic "random" document from a small alphabet that mixes every
 * class and separator, so runs of all lengths meet each other. */
static void make_random_doc(uint32_t seed, char *out, size_t cap)
{
    static const char *const alphabet[] = {
        "a", "b", "c", "1", "2", "张", "华", "为", "技", "ア", "한", " ", "-", "（", "\u0303", "é",
    };
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; i < 24; i++) {
        const char *piece;

        seed = seed * 1103515245u + 12345u;
        piece = alphabet[(seed >> 16) % DG_ARRAY_LEN(alphabet)];
        assert_true(len + strlen(piece) < cap);
        memcpy(out + len, piece, strlen(piece) + 1);
        len += strlen(piece);
    }
}

static void test_tok_query_tokens_of_every_substring_match_document(void **state)
{
    static const char *const docs[] = {
        "深圳市华为技术有限公司",           "张三 13812345678 zhangsan@example.com",
        "华为p30手机 Huawei P30 Pro 256GB", "北京市朝阳区建国路88号SOHO现代城A座1001室",
        "aaaaab ababab 哈哈哈哈 ",          "Café Müller GmbH, Ｓｔｒａßｅ 12",
        "株式会社トヨタ自動車 한국어 사전", "x",
    };
    char buf[256];

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(docs); i++)
        check_every_substring_found(docs[i]);
    for (uint32_t seed = 1; seed <= 40; seed++) {
        make_random_doc(seed, buf, sizeof buf);
        check_every_substring_found(buf);
    }
}

/* ---------------------------------------------------------------- search expressions */

static void test_text_search_expr_builds_fts5_terms(void **state)
{
    static const struct str_case cases[] = {
        {"华为", "\"华为\""},
        {"张", "\"张\"*"},
        {"Huawei P30", "\"huawei\" AND \"p30\""},
        {"ab", "\"ab\"*"},
        {"abc", "\"abc\""},
        {"138-1234-5678", "\"13812345678\""},
        {"+86 138 1234 5678", "\"13812345678\""},
        {"(010) 6552.1234", "\"01065521234\""},
        {"０１０－１２３４５", "\"01012345\""},
        {"0086 1", "\"1\"*"},             /* phone-like; the country code leaves one digit */
        {"12-34", "\"12\"* AND \"34\"*"}, /* 4 digits: not a phone number */
        {"1234", "\"1234\""},
        {"ＡＣＭＥ 深圳", "\"acme\" AND \"深圳\""},
        {"  华为，技术  ", "\"华为\" AND \"技术\""},
        {"li@qq.com", "\"li\"* AND \"qq\"* AND \"com\""},
        {"ab\"cd\"", "\"ab\"* AND \"cd\"*"}, /* a quote cannot reach FTS5 */
        {"a OR b NOT c", "\"a\"* AND \"or\"* AND \"b\"* AND \"not\" AND \"c\"*"},
        {"华为p30手机", "\"华为\" AND \"p30\" AND \"手机\""},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char out[256];

        print_message("case: %s\n", cases[i].in);
        assert_int_equal(dg_text_search_expr(cases[i].in, out, sizeof out), DG_OK);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_text_search_expr_caps_runs_at_16(void **state)
{
    char out[512];

    (void)state;
    assert_int_equal(dg_text_search_expr("a b c d e f g h i j k l m n o p q r", out, sizeof out),
                     DG_OK);
    assert_string_equal(out, "\"a\"* AND \"b\"* AND \"c\"* AND \"d\"* AND \"e\"* AND \"f\"* AND "
                             "\"g\"* AND \"h\"* AND \"i\"* AND \"j\"* AND \"k\"* AND \"l\"* AND "
                             "\"m\"* AND \"n\"* AND \"o\"* AND \"p\"*");
}

static void test_text_search_expr_rejects_query_without_runs(void **state)
{
    static const char *const cases[] = {"",     "   ", "\u3000", "!!!",       "--",
                                        "\"\"", "😀",   "\xff",   "ab\xc0\xaf"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char out[64] = "junk";

        print_message("case %zu\n", i);
        assert_int_equal(dg_text_search_expr(cases[i], out, sizeof out), DG_EINVAL);
        assert_string_equal(out, "");
    }
}

static void test_text_search_expr_reports_too_small_buffer(void **state)
{
    const char *want = "\"华为\" AND \"ab\"*";
    size_t need = strlen(want) + 1;
    char out[64];

    (void)state;
    for (size_t cap = 0; cap < need; cap++) {
        memset(out, 'x', sizeof out);
        assert_int_equal(dg_text_search_expr("华为 ab", out, cap), DG_ETOOBIG);
        if (cap > 0)
            assert_string_equal(out, "");
        assert_int_equal(out[cap], 'x'); /* nothing written past cap */
    }
    assert_int_equal(dg_text_search_expr("华为 ab", out, need), DG_OK);
    assert_string_equal(out, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_fold_maps_to_nfkc_casefold),
        cmocka_unit_test(test_text_fold_uses_len_not_nul),
        cmocka_unit_test(test_text_fold_rejects_invalid_utf8),
        cmocka_unit_test(test_text_phone_digits_drop_separators_and_country_code),
        cmocka_unit_test(test_text_phone_digits_truncate_to_cap),
        cmocka_unit_test(test_tok_document_one_token_per_character),
        cmocka_unit_test(test_tok_query_full_windows_or_whole_short_run),
        cmocka_unit_test(test_tok_stops_at_first_nonzero_emit),
        cmocka_unit_test(test_tok_query_tokens_of_every_substring_match_document),
        cmocka_unit_test(test_text_search_expr_builds_fts5_terms),
        cmocka_unit_test(test_text_search_expr_caps_runs_at_16),
        cmocka_unit_test(test_text_search_expr_rejects_query_without_runs),
        cmocka_unit_test(test_text_search_expr_reports_too_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
