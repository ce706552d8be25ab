/* test_auth.c - the auth primitives: user-name syntax, tokens (text and
 * SHA-256), the new-password policy, generated passwords, argon2id hashing.
 * Hashing uses tiny argon2 parameters except where the defaults are the point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "config.h"
#include "dg.h"
#include "hex.h"

static const dg_argon2_params small_params = {.memory_kib = 64, .iterations = 1, .lanes = 1};

/* Fills `out` with `n` copies of `unit` (which may be a multi-byte UTF-8 character). */
static char *repeat(char *out, size_t out_len, const char *unit, size_t n)
{
    size_t unit_len = strlen(unit);

    assert_true(n * unit_len < out_len);
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * unit_len, unit, unit_len);
    out[n * unit_len] = '\0';
    return out;
}

static void test_username_normalize_accepts_and_lowercases(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Admin", "admin"},
        {"a.b_c-d", "a.b_c-d"},
        {"ALICE.Smith", "alice.smith"},
        {"7eleven", "7eleven"},
        {"a", "a"},
        {"x-", "x-"},
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char out[DG_USERNAME_MAX + 1];

        assert_int_equal(dg_username_normalize(cases[i].in, out), DG_OK);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_username_normalize_accepts_64_characters(void **state)
{
    char in[DG_USERNAME_MAX + 1], want[DG_USERNAME_MAX + 1], out[DG_USERNAME_MAX + 1];

    (void)state;
    repeat(in, sizeof in, "B", DG_USERNAME_MAX);
    repeat(want, sizeof want, "b", DG_USERNAME_MAX);
    assert_int_equal(dg_username_normalize(in, out), DG_OK);
    assert_string_equal(out, want);
}

static void test_username_normalize_rejects_bad_names(void **state)
{
    char too_long[DG_USERNAME_MAX + 2];
    const char *cases[] = {
        "",
        repeat(too_long, sizeof too_long, "a", DG_USERNAME_MAX + 1),
        ".alice",
        "-alice",
        "_alice",
        "al ice",
        " alice",
        "alice\n",
        "张三",
        "a张三",
        "jos\xc3\xa9", /* josé */
        "alice@example.com",
        "a/b",
        "a\\b",
        "a:b",
    };

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char out[DG_USERNAME_MAX + 1];

        print_message("case: \"%s\"\n", cases[i]);
        assert_int_equal(dg_username_normalize(cases[i], out), DG_EINVAL);
    }
}

static void test_token_new_text_is_64_lowercase_hex(void **state)
{
    char text[DG_TOKEN_TEXT_LEN + 1];
    uint8_t hash[DG_TOKEN_HASH_LEN];

    (void)state;
    memset(text, 'X', sizeof text);
    dg_token_new(text, hash);
    assert_int_equal(strlen(text), DG_TOKEN_TEXT_LEN);
    for (size_t i = 0; i < DG_TOKEN_TEXT_LEN; i++)
        assert_non_null(strchr("0123456789abcdef", text[i]));
}

static void test_token_hash_of_text_equals_hash_from_token_new(void **state)
{
    char text[DG_TOKEN_TEXT_LEN + 1];
    uint8_t hash_new[DG_TOKEN_HASH_LEN], hash_again[DG_TOKEN_HASH_LEN];

    (void)state;
    dg_token_new(text, hash_new);
    assert_int_equal(dg_token_hash(text, hash_again), DG_OK);
    assert_memory_equal(hash_again, hash_new, DG_TOKEN_HASH_LEN);
}

/* The stored form is SHA-256 over the 64 hex characters: pinned, because
 * changing it would silently invalidate every stored session. */
static void test_token_hash_is_sha256_of_hex_text(void **state)
{
    static const char text[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    uint8_t hash[DG_TOKEN_HASH_LEN];
    char hex[2 * DG_TOKEN_HASH_LEN + 1];

    (void)state;
    assert_int_equal(dg_token_hash(text, hash), DG_OK);
    dg_hex_encode(hash, sizeof hash, hex);
    assert_string_equal(hex, "a8ae6e6ee929abea3afcfc5258c8ccd6f85273e0d4626d26c7279f3250f77c8e");
}

static void test_token_hash_rejects_malformed_text(void **state)
{
    char short_text[DG_TOKEN_TEXT_LEN], long_text[DG_TOKEN_TEXT_LEN + 2];
    char upper[DG_TOKEN_TEXT_LEN + 1], non_hex[DG_TOKEN_TEXT_LEN + 1], space[DG_TOKEN_TEXT_LEN + 1];
    const char *cases[] = {
        "",
        repeat(short_text, sizeof short_text, "a", DG_TOKEN_TEXT_LEN - 1),
        repeat(long_text, sizeof long_text, "a", DG_TOKEN_TEXT_LEN + 1),
        repeat(upper, sizeof upper, "A", DG_TOKEN_TEXT_LEN),
        repeat(non_hex, sizeof non_hex, "g", DG_TOKEN_TEXT_LEN),
        space,
    };
    uint8_t hash[DG_TOKEN_HASH_LEN];

    (void)state;
    repeat(space, sizeof space, "0", DG_TOKEN_TEXT_LEN);
    space[31] = ' ';
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        print_message("case %zu: \"%s\"\n", i, cases[i]);
        assert_int_equal(dg_token_hash(cases[i], hash), DG_EINVAL);
    }
}

static void test_token_hash_rejects_one_upper_case_digit(void **state)
{
    char text[DG_TOKEN_TEXT_LEN + 1];
    uint8_t hash[DG_TOKEN_HASH_LEN];

    (void)state;
    repeat(text, sizeof text, "a", DG_TOKEN_TEXT_LEN);
    assert_int_equal(dg_token_hash(text, hash), DG_OK);
    text[DG_TOKEN_TEXT_LEN - 1] = 'F';
    assert_int_equal(dg_token_hash(text, hash), DG_EINVAL);
}

static void test_token_new_gives_different_tokens(void **state)
{
    char a[DG_TOKEN_TEXT_LEN + 1], b[DG_TOKEN_TEXT_LEN + 1];
    uint8_t ha[DG_TOKEN_HASH_LEN], hb[DG_TOKEN_HASH_LEN];

    (void)state;
    dg_token_new(a, ha);
    dg_token_new(b, hb);
    assert_string_not_equal(a, b);
    assert_memory_not_equal(ha, hb, DG_TOKEN_HASH_LEN);
}

static void test_password_policy_counts_characters_not_bytes(void **state)
{
    char pw[64], why[256] = "";

    (void)state;
    repeat(pw, sizeof pw, "张", 15);
    assert_int_equal(strlen(pw), 45);
    assert_int_equal(dg_password_check_policy(pw, "alice", 15, why, sizeof why), DG_OK);
}

static void test_password_policy_rejects_too_few_characters(void **state)
{
    static const struct {
        const char *unit;
        size_t n;
        uint32_t min;
    } cases[] = {
        {"a", 14, 15}, {"a", 0, 15}, {"a", 7, 8}, {"张", 14, 15}, {"\xf0\x9f\x94\x91", 7, 8}};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char pw[64], why[256] = "";

        repeat(pw, sizeof pw, cases[i].unit, cases[i].n);
        assert_int_equal(dg_password_check_policy(pw, "alice", cases[i].min, why, sizeof why),
                         DG_EINVAL);
    }
}

static void test_password_policy_accepts_exactly_the_minimum(void **state)
{
    static const struct {
        const char *unit;
        size_t n;
        uint32_t min;
    } cases[] = {{"a", 15, 15}, {"a", 8, 8}, {"\xf0\x9f\x94\x91", 8, 8}, {"\xc3\xa9", 15, 15}};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char pw[128], why[256] = "";

        repeat(pw, sizeof pw, cases[i].unit, cases[i].n);
        assert_int_equal(dg_password_check_policy(pw, "alice", cases[i].min, why, sizeof why),
                         DG_OK);
    }
}

static void test_password_policy_why_names_the_minimum(void **state)
{
    static const uint32_t mins[] = {8, 15, 23};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(mins); i++) {
        char why[256] = "", want[16];

        snprintf(want, sizeof want, "%u", mins[i]);
        assert_int_equal(dg_password_check_policy("short", "alice", mins[i], why, sizeof why),
                         DG_EINVAL);
        assert_non_null(strstr(why, want));
    }
}

static void test_password_policy_rejects_over_1024_bytes(void **state)
{
    char pw[2048], why[256] = "";

    (void)state;
    repeat(pw, sizeof pw, "a", DG_PASSWORD_MAX_BYTES);
    assert_int_equal(dg_password_check_policy(pw, "alice", 15, why, sizeof why), DG_OK);
    repeat(pw, sizeof pw, "a", DG_PASSWORD_MAX_BYTES + 1);
    assert_int_equal(dg_password_check_policy(pw, "alice", 15, why, sizeof why), DG_EINVAL);
}

static void test_password_policy_byte_limit_counts_bytes_not_characters(void **state)
{
    char pw[2048], why[256] = "";

    (void)state;
    repeat(pw, sizeof pw, "张", 342); /* 342 characters, 1026 bytes */
    assert_int_equal(dg_password_check_policy(pw, "alice", 15, why, sizeof why), DG_EINVAL);
}

static void test_password_policy_rejects_user_name_ignoring_case(void **state)
{
    static const char *const passwords[] = {"correct.horse.battery", "Correct.Horse.Battery",
                                            "CORRECT.HORSE.BATTERY"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(passwords); i++) {
        char why[256] = "";

        assert_int_equal(
            dg_password_check_policy(passwords[i], "correct.horse.battery", 15, why, sizeof why),
            DG_EINVAL);
    }
}

static void test_password_policy_accepts_password_containing_user_name(void **state)
{
    char why[256] = "";

    (void)state;
    assert_int_equal(
        dg_password_check_policy("alice-likes-long-walks", "alice", 15, why, sizeof why), DG_OK);
}

static void test_password_generate_has_length_and_alphabet(void **state)
{
    static const size_t lengths[] = {0, 1, 16, 500};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(lengths); i++) {
        char pw[512];

        memset(pw, 'X', sizeof pw);
        dg_password_generate(pw, lengths[i]);
        assert_int_equal(strlen(pw), lengths[i]);
        for (size_t j = 0; j < lengths[i]; j++) {
            assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                                   pw[j]));
            assert_null(strchr("0O1lIL", pw[j]));
        }
    }
}

static void test_password_generate_uses_many_symbols(void **state)
{
    bool seen[256] = {false};
    size_t n_seen = 0;
    char pw[2001];

    (void)state;
    /* 2000 draws from 54 symbols miss one with probability ~54 * (53/54)^2000 < 1e-15. */
    dg_password_generate(pw, 2000);
    for (size_t i = 0; i < 2000; i++) {
        unsigned char c = (unsigned char)pw[i];

        n_seen += !seen[c];
        seen[c] = true;
    }
    assert_int_equal(n_seen, 54);
}

static void test_password_generate_gives_different_passwords(void **state)
{
    char pw[32][21];

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(pw); i++) {
        dg_password_generate(pw[i], 20);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(pw[i], pw[j]);
    }
}

static void test_password_hash_then_verify_succeeds(void **state)
{
    static const char *const passwords[] = {"correct horse battery staple",
                                            "张三的密码很长很长很长很长很长很长"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(passwords); i++) {
        char phc[DG_PASSWORD_HASH_MAX];

        assert_int_equal(dg_password_hash(&small_params, passwords[i], phc, sizeof phc), DG_OK);
        assert_true(dg_password_verify(phc, passwords[i]));
    }
}

static void test_password_verify_rejects_wrong_password(void **state)
{
    static const char *const wrong[] = {"correct horse battery stapl",
                                        "Correct horse battery staple",
                                        "correct horse battery staple ", ""};
    char phc[DG_PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(
        dg_password_hash(&small_params, "correct horse battery staple", phc, sizeof phc), DG_OK);
    for (size_t i = 0; i < DG_ARRAY_LEN(wrong); i++)
        assert_false(dg_password_verify(phc, wrong[i]));
}

static void test_password_verify_rejects_malformed_phc(void **state)
{
    static const char *const phcs[] = {"", "not a phc string", "$argon2id$v=19$m=64,t=1,p=1$"};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(phcs); i++)
        assert_false(dg_password_verify(phcs[i], "anything"));
}

static void test_password_hash_uses_fresh_salt(void **state)
{
    char a[DG_PASSWORD_HASH_MAX], b[DG_PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(dg_password_hash(&small_params, "same password twice", a, sizeof a), DG_OK);
    assert_int_equal(dg_password_hash(&small_params, "same password twice", b, sizeof b), DG_OK);
    assert_string_not_equal(a, b);
}

static void test_password_hash_rejects_too_small_output(void **state)
{
    char phc[32];

    (void)state;
    assert_int_equal(
        dg_password_hash(&small_params, "correct horse battery staple", phc, sizeof phc),
        DG_EINVAL);
}

static void test_password_hash_with_default_params_is_owasp_phc(void **state)
{
    static const char prefix[] = "$argon2id$v=19$m=19456,t=2,p=1$";
    char phc[DG_PASSWORD_HASH_MAX];
    dg_argon2_params p;
    dg_config c;

    (void)state;
    dg_config_defaults(&c);
    p = (dg_argon2_params){.memory_kib = c.argon2_memory_kib,
                           .iterations = c.argon2_iterations,
                           .lanes = c.argon2_lanes};
    assert_int_equal(dg_password_hash(&p, "correct horse battery staple", phc, sizeof phc), DG_OK);
    assert_memory_equal(phc, prefix, sizeof prefix - 1);
    assert_true(dg_password_verify(phc, "correct horse battery staple"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_username_normalize_accepts_and_lowercases),
        cmocka_unit_test(test_username_normalize_accepts_64_characters),
        cmocka_unit_test(test_username_normalize_rejects_bad_names),
        cmocka_unit_test(test_token_new_text_is_64_lowercase_hex),
        cmocka_unit_test(test_token_hash_of_text_equals_hash_from_token_new),
        cmocka_unit_test(test_token_hash_is_sha256_of_hex_text),
        cmocka_unit_test(test_token_hash_rejects_malformed_text),
        cmocka_unit_test(test_token_hash_rejects_one_upper_case_digit),
        cmocka_unit_test(test_token_new_gives_different_tokens),
        cmocka_unit_test(test_password_policy_counts_characters_not_bytes),
        cmocka_unit_test(test_password_policy_rejects_too_few_characters),
        cmocka_unit_test(test_password_policy_accepts_exactly_the_minimum),
        cmocka_unit_test(test_password_policy_why_names_the_minimum),
        cmocka_unit_test(test_password_policy_rejects_over_1024_bytes),
        cmocka_unit_test(test_password_policy_byte_limit_counts_bytes_not_characters),
        cmocka_unit_test(test_password_policy_rejects_user_name_ignoring_case),
        cmocka_unit_test(test_password_policy_accepts_password_containing_user_name),
        cmocka_unit_test(test_password_generate_has_length_and_alphabet),
        cmocka_unit_test(test_password_generate_uses_many_symbols),
        cmocka_unit_test(test_password_generate_gives_different_passwords),
        cmocka_unit_test(test_password_hash_then_verify_succeeds),
        cmocka_unit_test(test_password_verify_rejects_wrong_password),
        cmocka_unit_test(test_password_verify_rejects_malformed_phc),
        cmocka_unit_test(test_password_hash_uses_fresh_salt),
        cmocka_unit_test(test_password_hash_rejects_too_small_output),
        cmocka_unit_test(test_password_hash_with_default_params_is_owasp_phc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
