/* test_dupkey.c - duplicate-detection keys, table-driven: company names
 * (places, legal forms, brackets, full-width, case, spacing, punctuation),
 * the coarser "similar name" stem, phone numbers (+86/0086, separators, the
 * trunk 0, mobile and landline, extensions, several numbers) and e-mail
 * addresses; pairs that must meet and pairs that must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "dupkey.h"

struct str_case {
    const char *in;
    const char *want;
};

static void check_table(char *(*fn)(const char *), const struct str_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = fn(cases[i].in);

        print_message("case: %s\n", cases[i].in);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void test_dupkey_name_drops_places_legal_forms_and_noise(void **state)
{
    static const struct str_case cases[] = {
        {"北京市迪金自动化设备有限公司", "迪金自动化设备"},
        {"北京迪金自动化设备有限公司", "迪金自动化设备"},
        {"迪金自动化设备", "迪金自动化设备"},
        {"华为技术有限公司", "华为技术"},
        {"华为技术", "华为技术"},
        {"深圳市华为技术有限公司", "华为技术"},
        {"广东省深圳市华为技术有限公司", "华为技术"}, /* one place after another */
        {"广东深圳华为技术股份有限公司", "华为技术"},
        {"上海市明达贸易有限责任公司", "明达贸易"},
        {"内蒙古自治区伊利实业集团股份有限公司", "伊利实业"},
        {"新疆维吾尔自治区天山纺织有限公司", "天山纺织"},
        {"安荣仓储（宁波）有限公司", "安荣仓储"}, /* full-width brackets */
        {"安荣仓储(宁波)有限公司", "安荣仓储"},
        {"宁波安荣仓储有限公司", "安荣仓储"},
        {"安荣仓储【宁波】有限公司", "安荣仓储"},
        {"北京银行", "北京银行"},   /* a place stays when less than 3 characters remain */
        {"北京市银行", "北京银行"}, /* ... in its short form */
        {"上海银行股份有限公司", "上海银行"},
        {"中信集团有限公司", "中信"},
        {"中信集团公司", "中信"},
        {"中信集团", "中信"},
        {"腾讯公司", "腾讯"},
        {"トヨタ株式会社", "トヨタ"},
        {"深圳 华为 技术 有限公司", "华为技术"},
        {"ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．", "acme"}, /* full-width letters, space and punctuation */
        {"ACME Co., Ltd.", "acme"},
        {"ACME Co.,Ltd", "acme"},
        {"Acme, Inc.", "acme"},
        {"Acme Limited", "acme"},
        {"Acme LLC", "acme"},
        {"Acme Corp.", "acme"},
        {"Acme Company Limited", "acme"}, /* legal forms go one after another */
        {"Acme Group Co., Ltd.", "acme"},
        {"Müller GmbH", "müller"},
        {"华为Co.,Ltd", "华为"}, /* a word starts where the script changes */
        {"Disco", "disco"},      /* "co" inside a word stays */
        {"Costco", "costco"},
        {"Zinc", "zinc"},
        {"AcmeLtd", "acmeltd"},
        {"有限公司", "有限公司"}, /* only a legal form: keep it */
        {"Inc.", "inc"},
        {"（宁波）", "宁波"}, /* only a bracketed part: keep it */
        {"  A-B  C \t", "abc"},
        {"...", ""},
        {"", ""},
    };

    (void)state;
    check_table(dg_dupkey_name, cases, DG_ARRAY_LEN(cases));
}

static void test_dupkey_name_rejects_invalid_utf8(void **state)
{
    (void)state;
    assert_null(dg_dupkey_name("ACME\xff Ltd"));
    assert_null(dg_dupkey_stem("ACME\xff Ltd"));
    assert_null(dg_dupkey_email("a\xff@b.cn"));
}

static void test_dupkey_stem_drops_branches_and_trade_words(void **state)
{
    static const struct str_case cases[] = {
        {"华为技术有限公司", "华为"},
        {"华为科技", "华为"},
        {"深圳市华为技术有限公司北京分公司", "华为"},
        {"北京迪金自动化设备有限公司", "迪金"},
        {"上海明达国际贸易有限公司", "明达"},
        {"Acme Trading Co., Ltd.", "acme"},
        {"Acme Technology International Inc.", "acme"},
        {"中国银行北京分行", "中国银行"},
        {"科技有限公司", ""}, /* nothing but trade words and a legal form */
        {"华科技", ""},       /* one character left: too little to be similar */
        {"AB Trading", ""},   /* two Latin letters: too little */
        {"北京银行", "北京银行"},
    };

    (void)state;
    check_table(dg_dupkey_stem, cases, DG_ARRAY_LEN(cases));
}

static void test_dupkey_phone_keeps_the_number_only(void **state)
{
    static const struct str_case cases[] = {
        {"138-0013-8000", "13800138000"},
        {"+86 13800138000", "13800138000"},
        {"0086 138 0013 8000", "13800138000"},
        {"(+86)138 0013 8000", "13800138000"},
        {"8613800138000", "13800138000"},
        {"＋８６ １３８００１３８０００", "13800138000"}, /* full-width */
        {"0755-2878-0808", "75528780808"},
        {"(0755) 28780808", "75528780808"},
        {"+86 755 2878 0808", "75528780808"},
        {"+86 (0)755 2878 0808", "75528780808"},
        {"010-12345678", "1012345678"},
        {"+86-10-12345678", "1012345678"},
        {"0755-28780808转8001", "75528780808"}, /* an extension */
        {"0755-28780808 ext. 12", "75528780808"},
        {"0755-28780808 / 13800138000", "75528780808"}, /* the first of two */
        {"13800138000，13900139000", "13800138000"},
        {"28780808", "28780808"},
        {"12345", ""}, /* too short to be a number */
        {"", ""},
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        size_t n;

        print_message("case: %s\n", cases[i].in);
        n = dg_dupkey_phone(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
}

static void test_dupkey_phone_truncates_to_cap(void **state)
{
    char out[4];

    (void)state;
    assert_int_equal(dg_dupkey_phone("138-0013-8000", out, sizeof out), 3);
    assert_string_equal(out, "138");
    assert_int_equal(dg_dupkey_phone("138-0013-8000", out, 1), 0);
    assert_string_equal(out, "");
}

static void test_dupkey_email_folds_case_and_space(void **state)
{
    static const struct str_case cases[] = {
        {" Sales@ACME.cn ", "sales@acme.cn"},
        {"sales@acme.cn", "sales@acme.cn"},
        {"mailto:Sales@Acme.CN", "sales@acme.cn"},
        {"<li@acme.cn>", "li@acme.cn"},
        {"li@acme.cn; wang@acme.cn", "li@acme.cn"},
        {"ＬＩ＠ＡＣＭＥ．ＣＮ", "li@acme.cn"},
        {"not an address", ""},
        {"@acme.cn", ""},
        {"", ""},
    };

    (void)state;
    check_table(dg_dupkey_email, cases, DG_ARRAY_LEN(cases));
}

/* The pairs the product promises to catch, and look-alikes it must not. */
static void test_dupkey_pairs_meet_or_not(void **state)
{
    static const struct {
        const char *a, *b;
        bool is_same;
    } pairs[] = {
        {"北京市迪金自动化设备有限公司", "北京迪金自动化设备有限公司", true},
        {"华为技术有限公司", "华为技术", true},
        {"安荣仓储（宁波）有限公司", "安荣仓储有限公司", true},
        {"北京银行", "上海银行", false},
        {"北京迪金", "上海迪金", false},
        {"华为技术", "华为科技", false}, /* similar (the stem), not the same */
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(pairs); i++) {
        char *a = dg_dupkey_name(pairs[i].a), *b = dg_dupkey_name(pairs[i].b);

        print_message("pair: %s / %s\n", pairs[i].a, pairs[i].b);
        assert_int_equal(strcmp(a, b) == 0, pairs[i].is_same);
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dupkey_name_drops_places_legal_forms_and_noise),
        cmocka_unit_test(test_dupkey_name_rejects_invalid_utf8),
        cmocka_unit_test(test_dupkey_stem_drops_branches_and_trade_words),
        cmocka_unit_test(test_dupkey_phone_keeps_the_number_only),
        cmocka_unit_test(test_dupkey_phone_truncates_to_cap),
        cmocka_unit_test(test_dupkey_email_folds_case_and_space),
        cmocka_unit_test(test_dupkey_pairs_meet_or_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
