/* test_cli_help.c - finding one's way in the dangan CLI: `dangan help CMD
 * [SUB]` is `dangan CMD [SUB] --help` for every command and subcommand it
 * lists; an unknown command, subcommand, --set/--unset field or --sort key
 * is a usage error (exit 2, nothing sent) that names the nearest known name
 * ("did you mean tier?"); and every sort key the CLI accepts is one the real
 * server sorts by. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define MAX_NAMES 32

static dgt_server srv;
static char cfg[256];
static dgt_run run; /* big buffers: static, not on the stack */
static char first_out[sizeof run.out];
static char customer[32]; /* a customer's id, for the child lists */

#define CLI(...)                                                                                   \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, NULL, argv_);                                                           \
    } while (0)

static int setup(void **state)
{
    json_t *j;

    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    CLI("--json", "customer", "add", "--name", "帮助测试有限公司");
    assert_int_equal(run.status, 0);
    j = json_loads(run.out, 0, NULL);
    assert_non_null(j);
    snprintf(customer, sizeof customer, "%lld",
             (long long)json_integer_value(
                 json_object_get(json_object_get(json_object_get(j, "record"), "customer"), "id")));
    json_decref(j);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(cfg);
    dgt_server_stop(&srv);
    return 0;
}

/* The first word of each indented line after the line `heading` in `text`,
 * up to the next blank line: the commands a help text lists. */
static size_t listed_names(const char *text, const char *heading, char names[][64])
{
    const char *p = strstr(text, heading);
    size_t n = 0;

    if (!p)
        fail_msg("no \"%s\" in:\n%s", heading, text);
    for (p = strchr(p, '\n'); p && p[1] == ' ' && n < MAX_NAMES; p = strchr(p + 1, '\n')) {
        if (sscanf(p + 1, " %63[^ \n]", names[n]) == 1)
            n++;
    }
    return n;
}

/* Runs argv_a and argv_b and asserts both exit 0 with the same stdout. */
static void assert_same_help(const char *const *argv_a, const char *const *argv_b)
{
    dgt_cli(&run, cfg, NULL, argv_a);
    if (run.status != 0)
        fail_msg("dangan %s %s %s: exit %d: %s", argv_a[0], argv_a[1], argv_a[2] ? argv_a[2] : "",
                 run.status, run.err);
    snprintf(first_out, sizeof first_out, "%s", run.out);
    dgt_cli(&run, cfg, NULL, argv_b);
    assert_int_equal(run.status, 0);
    if (strcmp(first_out, run.out) != 0)
        fail_msg("dangan %s %s %s printed:\n%s\nbut dangan %s %s %s printed:\n%s", argv_a[0],
                 argv_a[1], argv_a[2] ? argv_a[2] : "", first_out, argv_b[0], argv_b[1],
                 argv_b[2] ? argv_b[2] : "", run.out);
}

static void test_help_cmd_sub_is_cmd_sub_dash_dash_help_for_every_command(void **state)
{
    char cmds[MAX_NAMES][64], subs[MAX_NAMES][64], group_help[sizeof run.out];
    size_t n_cmds, n_groups = 0, n_subs_all = 0;

    (void)state;
    CLI("--help");
    n_cmds = listed_names(run.out, "commands:", cmds);
    assert_true(n_cmds >= 16);
    for (size_t i = 0; i < n_cmds; i++) {
        const char *help_cmd[] = {"help", cmds[i], NULL};
        const char *cmd_help[] = {cmds[i], "--help", NULL};
        char usage[96];

        assert_same_help(help_cmd, cmd_help);
        snprintf(usage, sizeof usage, "usage: dangan %s", cmds[i]);
        assert_non_null(strstr(run.out, usage)); /* the command's help, not the top level's */
        snprintf(usage, sizeof usage, "usage: dangan %s <command>", cmds[i]);
        if (strncmp(run.out, usage, strlen(usage)) != 0)
            continue;
        n_groups++;
        snprintf(group_help, sizeof group_help, "%s", run.out);
        size_t n_subs = listed_names(group_help, "commands:", subs);
        for (size_t k = 0; k < n_subs; k++) {
            const char *help_cmd_sub[] = {"help", cmds[i], subs[k], NULL};
            char want[160];

            /* `help CMD SUB` becomes `CMD SUB --help` before any command
             * runs: its usage line shows it reached the subcommand */
            dgt_cli(&run, cfg, NULL, help_cmd_sub);
            assert_int_equal(run.status, 0);
            snprintf(want, sizeof want, "usage: dangan %s %s", cmds[i], subs[k]);
            if (strncmp(run.out, want, strlen(want)) != 0)
                fail_msg("dangan help %s %s printed:\n%s", cmds[i], subs[k], run.out);
            n_subs_all++;
        }
    }
    assert_int_equal(n_groups, 13); /* customer, contact, note, deal, feedback, task, field, user,
                                       audit, server, doc, settings, pool */
    assert_true(n_subs_all >= 40);
}

static void test_help_sub_inside_a_group_is_sub_dash_dash_help(void **state)
{
    static const char *const subs[] = {"add", "list", "edit", "reassign"};

    (void)state;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        const char *help_cmd_sub[] = {"help", "customer", subs[i], NULL};
        const char *cmd_help_sub[] = {"customer", "help", subs[i], NULL};
        const char *cmd_sub_help[] = {"customer", subs[i], "--help", NULL};

        assert_same_help(help_cmd_sub, cmd_sub_help);
        assert_same_help(cmd_help_sub, cmd_sub_help);
    }
}

static void test_help_customer_shows_the_customer_help(void **state)
{
    (void)state;
    CLI("help", "customer");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "usage: dangan customer <command>"));
    assert_null(strstr(run.out, "watch"));
    CLI("help");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "usage: dangan [--server"));
}

/* Runs argv (a usage error), asserts exit 2, nothing on stdout, and that
 * stderr suggests `want` ("did you mean want?"), or nothing when want is NULL. */
static void assert_suggests(const char *const *argv, const char *want)
{
    char expect[128];

    dgt_cli(&run, cfg, NULL, argv);
    if (run.status != 2)
        fail_msg("dangan %s %s: exit %d, wanted 2: %s", argv[0], argv[1] ? argv[1] : "", run.status,
                 run.err);
    assert_string_equal(run.out, "");
    if (!want) {
        if (strstr(run.err, "did you mean"))
            fail_msg("dangan %s %s suggested something: %s", argv[0], argv[1] ? argv[1] : "",
                     run.err);
        return;
    }
    snprintf(expect, sizeof expect, "; did you mean %s?", want);
    if (!strstr(run.err, expect))
        fail_msg("dangan %s %s: wanted \"%s\" in: %s", argv[0], argv[1] ? argv[1] : "", expect,
                 run.err);
}

static void test_unknown_command_names_the_nearest(void **state)
{
    static const struct {
        const char *typed, *want;
    } cases[] = {
        {"custmer", "customer"}, {"cust", "customer"}, {"wacth", "watch"}, {"logni", "login"},
        {"hlep", "help"},        {"tsk", "task"},      {"xyzzy", NULL},    {"客户", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {cases[i].typed, NULL};
        const char *help_argv[] = {"help", cases[i].typed, NULL};

        assert_suggests(argv, cases[i].want);
        assert_non_null(strstr(run.err, "unknown command"));
        assert_suggests(help_argv, cases[i].want);
    }
}

static void test_unknown_subcommand_names_the_nearest(void **state)
{
    static const char *const cases[][4] = {
        {"customer", "ad", "add"},       {"customer", "serach", "search"},
        {"user", "set-rol", "set-role"}, {"audit", "verfy", "verify"},
        {"field", "lsit", "list"},       {"task", "don", "done"},
        {"contact", "remove", NULL},     {"note", "frobnicate", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {cases[i][0], cases[i][1], NULL};

        assert_suggests(argv, cases[i][2]);
        assert_non_null(strstr(run.err, "has no command"));
    }
}

static void test_unknown_field_names_the_nearest(void **state)
{
    /* the field wanted, then the command line */
    static const char *const cases[][9] = {
        {"tier", "customer", "add", "--name", "X", "--set", "teir=a"},
        {"registered_capital", "customer", "add", "--name", "X", "--set", "registered_captial=5"},
        {"phone", "customer", "edit", "1", "--unset", "phnoe"},
        {"mobile", "contact", "add", "1", "--name", "张三", "--set", "mobil=13812345678"},
        {"number", "deal", "add", "1", "--amount", "5", "--set", "numbr=7"},
        {"status", "feedback", "edit", "1", "--set", "stauts=resolved"},
        {NULL, "customer", "add", "--name", "X", "--set", "colour=red"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_suggests(&cases[i][1], cases[i][0]);
        assert_non_null(strstr(run.err, "unknown field \""));
    }
    assert_non_null(strstr(run.err, "customer fields: code, kind, name, short_name")); /* colour */
    CLI("customer", "add", "--name", "X", "--set", "teir=a");
    assert_non_null(strstr(run.err, "dangan: unknown field \"teir\"; did you mean tier?"));
    CLI("--json", "customer", "add", "--name", "X", "--set", "teir=a");
    assert_int_equal(run.status, 2);
    json_t *j = json_loads(run.err, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                        "unknown field \"teir\"; did you mean tier?");
    json_decref(j);
}

static void test_unknown_sort_key_names_the_nearest(void **state)
{
    static const char *const cases[][8] = {
        {"name", "customer", "list", "--sort", "nmae"},
        {"-tier", "customer", "list", "--sort", "-tire"},
        {"last_contact", "customer", "list", "--sort", "last_contcat"},
        {"due", "task", "list", "--sort", "deu"},
        {"-at", "deal", "list", "1", "--sort", "-ta"},
        {NULL, "note", "list", "1", "--sort", "due"}, /* a task's key, not a note's */
        {NULL, "contact", "list", "1", "--sort", "at"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_suggests(&cases[i][1], cases[i][0]);
        assert_non_null(strstr(run.err, "unknown sort key \""));
    }
    assert_non_null(strstr(run.err, "contacts sort by created, updated"));
}

/* The sort keys the CLI accepts for `words` (a list command), from the usage
 * error an unknown key gets: "...; KINDs sort by a, b, c (-KEY reverses)". */
static size_t cli_sort_keys(const char *const *words, char keys[][64])
{
    const char *argv[8], *p;
    size_t n = 0, w = 0;

    for (; words[w]; w++)
        argv[w] = words[w];
    argv[w++] = "--sort";
    argv[w++] = "zzzzzzzz";
    argv[w] = NULL;
    dgt_cli(&run, cfg, NULL, argv);
    assert_int_equal(run.status, 2);
    p = strstr(run.err, " sort by ");
    if (!p)
        fail_msg("no sort keys listed: %s", run.err);
    for (p += 9; n < MAX_NAMES && sscanf(p, "%63[a-z_]", keys[n]) == 1; n++) {
        p += strlen(keys[n]);
        if (strncmp(p, ", ", 2) != 0) {
            n++;
            break;
        }
        p += 2;
    }
    return n;
}

static void test_every_sort_key_the_cli_accepts_the_server_sorts_by(void **state)
{
    const char *const lists[][4] = {
        {"customer", "list", NULL},           {"contact", "list", customer, NULL},
        {"note", "list", customer, NULL},     {"deal", "list", customer, NULL},
        {"feedback", "list", customer, NULL}, {"task", "list", customer, NULL},
    };
    char keys[MAX_NAMES][64], reversed[80];
    size_t n_all = 0;

    (void)state;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        size_t n = cli_sort_keys(lists[i], keys);

        assert_true(n >= 2);
        for (size_t k = 0; k < n; k++) {
            const char *argv[8] = {"--json", lists[i][0], lists[i][1]};
            size_t w = 3;

            snprintf(reversed, sizeof reversed, "-%s", keys[k]);
            if (lists[i][2])
                argv[w++] = lists[i][2];
            argv[w++] = "--sort";
            argv[w++] = k % 2 ? reversed : keys[k];
            argv[w] = NULL;
            dgt_cli(&run, cfg, NULL, argv);
            if (run.status != 0)
                fail_msg("%s list --sort %s: exit %d: %s", lists[i][0], argv[w - 1], run.status,
                         run.err);
            n_all++;
        }
    }
    assert_int_equal(n_all, 6 + 2 + 3 + 3 + 3 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_cmd_sub_is_cmd_sub_dash_dash_help_for_every_command),
        cmocka_unit_test(test_help_sub_inside_a_group_is_sub_dash_dash_help),
        cmocka_unit_test(test_help_customer_shows_the_customer_help),
        cmocka_unit_test(test_unknown_command_names_the_nearest),
        cmocka_unit_test(test_unknown_subcommand_names_the_nearest),
        cmocka_unit_test(test_unknown_field_names_the_nearest),
        cmocka_unit_test(test_unknown_sort_key_names_the_nearest),
        cmocka_unit_test(test_every_sort_key_the_cli_accepts_the_server_sorts_by),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
