/* test_suggest.c - the CLI's "did you mean": the edit distance (insert,
 * delete, change, swap neighbours: 1 each) and which name it suggests for a
 * typed word, or none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static void test_edit_distance_counts_each_edit_once(void **state)
{
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"", "", 0},         {"tier", "tier", 0},      {"", "abc", 3},
        {"abc", "", 3},      {"teir", "tier", 1},      {"custmer", "customer", 1},
        {"tier", "tire", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
        {"lsit", "list", 1}, {"deu", "due", 1},        {"abcdef", "badcfe", 3},
        {"add", "ad", 1},    {"phone", "phnoe", 1},    {"due", "at", 3},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t d = cli_edit_distance(cases[i].a, cases[i].b);

        if (d != cases[i].d)
            fail_msg("\"%s\" to \"%s\": %zu, expected %zu", cases[i].a, cases[i].b, d, cases[i].d);
        assert_int_equal(cli_edit_distance(cases[i].b, cases[i].a), d); /* symmetric */
    }
}

static void test_edit_distance_of_an_overlong_word_is_infinite(void **state)
{
    char long_word[200];

    (void)state;
    memset(long_word, 'a', sizeof long_word - 1);
    long_word[sizeof long_word - 1] = '\0';
    assert_true(cli_edit_distance(long_word, "a") == SIZE_MAX);
    long_word[64] = '\0';
    assert_int_equal(cli_edit_distance(long_word, "a"), 63);
}

static void test_suggest_the_nearest_name_or_a_unique_prefix(void **state)
{
    static const char *const names[] = {"add",  "show",   "edit",    "archive",  "restore",
                                        "list", "search", "history", "reassign", "merge"};
    static const struct {
        const char *typed, *want;
    } cases[] = {
        {"ad", "add"},          {"shwo", "show"},    {"serach", "search"}, {"lst", "list"},
        {"histroy", "history"}, {"hist", "history"}, {"mer", "merge"},     {"reasign", "reassign"},
        {"re", NULL},           {"x", NULL},         {"zzzz", NULL},       {"", NULL},
        {"delete", NULL},       {"客户", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = cli_suggest(cases[i].typed, names, sizeof names / sizeof names[0]);

        if (cases[i].want ? !got || strcmp(got, cases[i].want) != 0 : got != NULL)
            fail_msg("\"%s\": suggested %s, expected %s", cases[i].typed, got ? got : "nothing",
                     cases[i].want ? cases[i].want : "nothing");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_distance_counts_each_edit_once),
        cmocka_unit_test(test_edit_distance_of_an_overlong_word_is_infinite),
        cmocka_unit_test(test_suggest_the_nearest_name_or_a_unique_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
