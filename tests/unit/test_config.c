/* test_config.c - dangand settings: the defaults, INI files in a
 * temp dir (values applied; a bad line names file, line and key), the
 * cross-field check, and the order defaults < file < dg_config_set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "dg.h"

/* Per-test temp dir; every file a test writes lives in it and is removed in teardown. */
struct fixture {
    char dir[256];
    char paths[4][300];
    size_t n_paths;
};

static int setup_dir(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    const char *tmp = getenv("TMPDIR");

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "%s/dg-test-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown_dir(void **state)
{
    struct fixture *fx = *state;
    int rc;

    for (size_t i = 0; i < fx->n_paths; i++)
        (void)unlink(fx->paths[i]); /* a case may have removed its own file already */
    rc = rmdir(fx->dir);            /* fails the test if anything unexpected was left behind */
    free(fx);
    return rc;
}

/* Writes `text` to a new file in the fixture's dir; returns its path (owned by the fixture). */
static const char *write_file(struct fixture *fx, const char *name, const char *text)
{
    char *path;
    FILE *f;

    assert_true(fx->n_paths < DG_ARRAY_LEN(fx->paths));
    path = fx->paths[fx->n_paths++];
    assert_true(strlen(fx->dir) + 1 + strlen(name) < sizeof fx->paths[0]);
    strcpy(path, fx->dir);
    strcat(path, "/");
    strcat(path, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_config_defaults_match_design_s11(void **state)
{
    dg_config c;

    (void)state;
    memset(&c, 0xa5, sizeof c); /* defaults must not depend on what was there before */
    dg_config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:7443");
    assert_int_equal(c.max_connections, 1000);
    assert_int_equal(c.max_frame_after_login, 4u * 1024 * 1024);
    assert_int_equal(c.max_in_flight, 64);
    assert_int_equal(c.write_high_water, 8u * 1024 * 1024);
    assert_int_equal(c.write_low_water, 2u * 1024 * 1024);
    assert_int_equal(c.handshake_timeout_ms, 10000);
    assert_int_equal(c.prelogin_timeout_ms, 30000);
    assert_int_equal(c.idle_timeout_ms, 45000);
    assert_int_equal(c.session_idle_s, 30 * 60);
    assert_int_equal(c.session_absolute_s, 10 * 3600);
    assert_int_equal(c.max_unauth_per_address, 32);
    assert_int_equal(c.login_pair_failures, 5);
    assert_int_equal(c.login_pair_max_delay_s, 15 * 60);
    assert_int_equal(c.login_account_failures, 5);
    assert_int_equal(c.login_account_window_s, 15 * 60);
    assert_int_equal(c.login_account_max_delay_s, 60);
    assert_int_equal(c.login_peer_failures, 20);
    assert_int_equal(c.login_peer_block_s, 15 * 60);
    assert_int_equal(c.login_account_max_in_flight, 4);
    assert_int_equal(c.login_peer_max_in_flight, 8);
    assert_int_equal(c.login_known_address_days, 30);
    assert_int_equal(c.argon2_memory_kib, 19456);
    assert_int_equal(c.argon2_iterations, 2);
    assert_int_equal(c.argon2_lanes, 1);
    assert_string_equal(c.data_dir, ""); /* no default: the operator must choose */
}

static void test_config_load_applies_values_from_every_section(void **state)
{
    struct fixture *fx = *state;
    const char *path = write_file(fx, "dangand.ini",
                                  "; comment\n"
                                  "[server]\n"
                                  "listen = 0.0.0.0:9000\n"
                                  "log_level = warn\n"
                                  "max_connections = 200\n"
                                  "[limits]\n"
                                  "max_in_flight = 16\n"
                                  "idle_timeout_ms = 5000\n"
                                  "max_unauthenticated_per_address = 9\n"
                                  "[sessions]\n"
                                  "idle_timeout_s = 600\n"
                                  "[login]\n"
                                  "peer_failures = 7\n"
                                  "pair_failures = 3\n"
                                  "pair_max_delay_s = 120\n"
                                  "account_max_delay_s = 30\n"
                                  "account_max_in_flight = 2\n"
                                  "peer_max_in_flight = 6\n"
                                  "known_address_days = 0\n"
                                  "[passwords]\n"
                                  "argon2_memory_kib = 65536\n"
                                  "[store]\n"
                                  "readers = 4\n");
    char err[512] = "";
    dg_config c;

    dg_config_defaults(&c);
    assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_OK);
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_int_equal(c.log_level, DG_LOG_WARN);
    assert_int_equal(c.max_connections, 200);
    assert_int_equal(c.max_in_flight, 16);
    assert_int_equal(c.idle_timeout_ms, 5000);
    assert_int_equal(c.session_idle_s, 600);
    assert_int_equal(c.max_unauth_per_address, 9);
    assert_int_equal(c.login_peer_failures, 7);
    assert_int_equal(c.login_pair_failures, 3);
    assert_int_equal(c.login_pair_max_delay_s, 120);
    assert_int_equal(c.login_account_max_delay_s, 30);
    assert_int_equal(c.login_account_max_in_flight, 2);
    assert_int_equal(c.login_peer_max_in_flight, 6);
    assert_int_equal(c.login_known_address_days, 0);
    assert_int_equal(c.argon2_memory_kib, 65536);
    assert_int_equal(c.readers, 4);
}

static void test_config_load_leaves_unnamed_keys_at_defaults(void **state)
{
    struct fixture *fx = *state;
    const char *path = write_file(fx, "dangand.ini", "[limits]\nmax_in_flight = 16\n");
    char err[512] = "";
    dg_config c, d;

    dg_config_defaults(&c);
    dg_config_defaults(&d);
    assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_OK);
    c.max_in_flight = d.max_in_flight; /* the one key the file named */
    assert_memory_equal(&c, &d, sizeof c);
}

/* Each bad line sits after some good ones, so the reported line number is checked. */
static const struct bad_line {
    const char *what;
    const char *file;
    const char *line_tag; /* ":N:" as it must appear after the path */
    const char *key;      /* must be named in the error */
} bad_lines[] = {
    {"non-number", "[limits]\nmax_in_flight = 8\nidle_timeout_ms = soon\n",
     ":3:", "idle_timeout_ms"},
    {"trailing junk", "[limits]\nidle_timeout_ms = 500ms\n", ":2:", "idle_timeout_ms"},
    {"empty value", "[limits]\nmax_in_flight =\n", ":2:", "max_in_flight"},
    {"negative", "[server]\nlisten = 127.0.0.1:1\n\n[limits]\nmax_in_flight = -1\n",
     ":5:", "max_in_flight"},
    {"negative zero", "[login]\npeer_failures = -0\n", ":2:", "peer_failures"},
    {"no pair failures allowed", "[login]\npair_failures = 0\n", ":2:", "pair_failures"},
    {"nothing in flight allowed", "[login]\npeer_max_in_flight = 0\n", ":2:", "peer_max_in_flight"},
    {"known for ten years and a day", "[login]\nknown_address_days = 3651\n",
     ":2:", "known_address_days"},
    {"no unauthenticated connection allowed", "[limits]\nmax_unauthenticated_per_address = 0\n",
     ":2:", "max_unauthenticated_per_address"},
    {"above maximum", "[limits]\nmax_in_flight = 1025\n", ":2:", "max_in_flight"},
    {"below minimum", "[server]\nmax_connections = 0\n", ":2:", "max_connections"},
    {"beyond 64 bits", "[store]\nreaders = 99999999999999999999999\n", ":2:", "readers"},
    {"beyond 32 bits", "[store]\nwriter_queue = 4294967312\n", ":2:", "writer_queue"},
    {"frame over ceiling", "[limits]\nmax_frame_after_login = 16777216\n",
     ":2:", "max_frame_after_login"},
    {"unknown key", "[limits]\nmax_in_flight = 8\nmax_in_flite = 8\n", ":3:", "max_in_flite"},
    {"unknown section", "[limits]\nmax_in_flight = 8\n[limitz]\nmax_in_flight = 8\n",
     ":4:", "limitz"},
    {"key outside any section", "max_in_flight = 8\n", ":1:", "max_in_flight"},
    {"listen without port", "[server]\nlisten = 127.0.0.1\n", ":2:", "listen"},
    {"bad log level", "[server]\nlog_level = loud\n", ":2:", "log_level"},
    {"first of two bad lines", "[limits]\nmax_in_flight = x\nidle_timeout_ms = y\n",
     ":2:", "max_in_flight"},
};

static void test_config_load_rejects_bad_value_naming_file_line_and_key(void **state)
{
    struct fixture *fx = *state;

    for (size_t i = 0; i < DG_ARRAY_LEN(bad_lines); i++) {
        const struct bad_line *b = &bad_lines[i];
        char name[32], err[512] = "", where[400];
        const char *path;
        dg_config c;

        snprintf(name, sizeof name, "bad%zu.ini", i);
        fx->n_paths = 0; /* reuse the slot: the previous case's file is removed below */
        path = write_file(fx, name, b->file);
        snprintf(where, sizeof where, "%s%s", path, b->line_tag);
        dg_config_defaults(&c);
        print_message("case: %s\n", b->what);
        assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_EINVAL);
        assert_non_null(strstr(err, where));
        assert_non_null(strstr(err, b->key));
        assert_int_equal(unlink(path), 0);
    }
    fx->n_paths = 0;
}

static void test_config_load_missing_file_is_enotfound(void **state)
{
    struct fixture *fx = *state;
    char path[400], err[512] = "";
    dg_config c;

    snprintf(path, sizeof path, "%s/absent.ini", fx->dir);
    dg_config_defaults(&c);
    assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_ENOTFOUND);
    assert_non_null(strstr(err, path));
}

static void test_config_set_rejects_bad_value_naming_key(void **state)
{
    char err[256] = "";
    dg_config c;

    (void)state;
    dg_config_defaults(&c);
    assert_int_equal(dg_config_set(&c, "limits", "idle_timeout_ms", "99", err, sizeof err),
                     DG_EINVAL);
    assert_non_null(strstr(err, "idle_timeout_ms"));
    assert_int_equal(c.idle_timeout_ms, 45000); /* a rejected value changes nothing */
}

static void test_config_check_rejects_low_water_not_below_high_water(void **state)
{
    static const struct {
        uint32_t low, high;
    } cases[] = {{8u << 20, 8u << 20}, {9u << 20, 8u << 20}, {1u << 30, 65536}};

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        char err[256] = "";
        dg_config c;

        dg_config_defaults(&c);
        snprintf(c.data_dir, sizeof c.data_dir, "/var/lib/dangan");
        c.write_low_water = cases[i].low;
        c.write_high_water = cases[i].high;
        assert_int_equal(dg_config_check(&c, err, sizeof err), DG_EINVAL);
        assert_non_null(strstr(err, "write_low_water"));
    }
}

static void test_config_check_rejects_empty_data_dir(void **state)
{
    char err[256] = "";
    dg_config c;

    (void)state;
    dg_config_defaults(&c);
    assert_int_equal(dg_config_check(&c, err, sizeof err), DG_EINVAL);
    assert_true(err[0] != '\0');
}

static void test_config_check_accepts_defaults_with_data_dir(void **state)
{
    char err[256] = "";
    dg_config c;

    (void)state;
    dg_config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "/var/lib/dangan");
    assert_int_equal(dg_config_check(&c, err, sizeof err), DG_OK);
}

static void test_config_file_overrides_defaults_and_set_overrides_file(void **state)
{
    struct fixture *fx = *state;
    const char *path =
        write_file(fx, "dangand.ini", "[limits]\nmax_in_flight = 16\nidle_timeout_ms = 5000\n");
    char err[512] = "";
    dg_config c;

    dg_config_defaults(&c);
    assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_OK);
    assert_int_equal(dg_config_set(&c, "limits", "idle_timeout_ms", "7000", err, sizeof err),
                     DG_OK);
    assert_int_equal(c.handshake_timeout_ms, 10000); /* default: nobody set it */
    assert_int_equal(c.max_in_flight, 16);           /* file */
    assert_int_equal(c.idle_timeout_ms, 7000);       /* set, after the file */
}

static void test_config_second_file_overrides_first(void **state)
{
    struct fixture *fx = *state;
    const char *first = write_file(fx, "a.ini",
                                   "[limits]\nmax_in_flight = 16\n"
                                   "idle_timeout_ms = 5000\n");
    const char *second = write_file(fx, "b.ini", "[limits]\nidle_timeout_ms = 6000\n");
    char err[512] = "";
    dg_config c;

    dg_config_defaults(&c);
    assert_int_equal(dg_config_load(&c, first, err, sizeof err), DG_OK);
    assert_int_equal(dg_config_load(&c, second, err, sizeof err), DG_OK);
    assert_int_equal(c.max_in_flight, 16);
    assert_int_equal(c.idle_timeout_ms, 6000);
}

static void test_config_last_duplicate_key_in_a_file_wins(void **state)
{
    struct fixture *fx = *state;
    const char *path = write_file(fx, "dangand.ini",
                                  "[limits]\nmax_in_flight = 16\n"
                                  "[limits]\nmax_in_flight = 32\n");
    char err[512] = "";
    dg_config c;

    dg_config_defaults(&c);
    assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_OK);
    assert_int_equal(c.max_in_flight, 32);
}

/* deploy/dangand.conf.example names every setting with its default value:
 * loading it must change nothing, and it must name the settings added last. */
static void test_config_example_file_states_the_defaults(void **state)
{
    static const char *const must_name[] = {"max_unauthenticated_per_address",
                                            "pair_failures",
                                            "known_address_days",
                                            "peer_max_in_flight",
                                            "retention_changes",
                                            "key_file"};
    char path[1024], err[512] = "", text[16384];
    dg_config c, d;
    size_t n;
    FILE *f;

    (void)state;
    snprintf(path, sizeof path, "%s/deploy/dangand.conf.example", SOURCE_DIR);
    dg_config_defaults(&c);
    dg_config_defaults(&d);
    assert_int_equal(dg_config_load(&c, path, err, sizeof err), DG_OK);
    assert_memory_equal(&c, &d, sizeof c);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; i < DG_ARRAY_LEN(must_name); i++)
        assert_non_null(strstr(text, must_name[i]));
}

/* [backup] time is HH:MM of a day, and goes with a dir. */
static void test_config_backup_time_and_dir(void **state)
{
    static const char *const bad[] = {"2:30", "24:00", "02:60", "0230", "02:30x", "", "-1:00"};
    char err[512] = "";
    dg_config c;

    (void)state;
    dg_config_defaults(&c);
    c.data_dir[0] = '/';
    assert_int_equal(c.backup_minute, -1);
    assert_int_equal(dg_config_set(&c, "backup", "time", "02:30", err, sizeof err), DG_OK);
    assert_int_equal(c.backup_minute, 150);
    assert_int_equal(dg_config_check(&c, err, sizeof err), DG_EINVAL); /* no dir */
    assert_non_null(strstr(err, "time and dir"));
    assert_int_equal(dg_config_set(&c, "backup", "dir", "backups", err, sizeof err), DG_EINVAL);
    assert_int_equal(dg_config_set(&c, "backup", "dir", "/var/backups/dangan", err, sizeof err),
                     DG_OK);
    assert_int_equal(dg_config_check(&c, err, sizeof err), DG_OK);
    for (size_t i = 0; i < DG_ARRAY_LEN(bad); i++)
        if (dg_config_set(&c, "backup", "time", bad[i], err, sizeof err) != DG_EINVAL)
            fail_msg("[backup] time = %s accepted", bad[i]);
    assert_int_equal(dg_config_set(&c, "backup", "keep", "0", err, sizeof err), DG_EINVAL);
}

#define DIR_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_dir, teardown_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_match_design_s11),
        DIR_TEST(test_config_load_applies_values_from_every_section),
        DIR_TEST(test_config_load_leaves_unnamed_keys_at_defaults),
        DIR_TEST(test_config_load_rejects_bad_value_naming_file_line_and_key),
        DIR_TEST(test_config_load_missing_file_is_enotfound),
        cmocka_unit_test(test_config_set_rejects_bad_value_naming_key),
        cmocka_unit_test(test_config_check_rejects_low_water_not_below_high_water),
        cmocka_unit_test(test_config_check_rejects_empty_data_dir),
        cmocka_unit_test(test_config_check_accepts_defaults_with_data_dir),
        DIR_TEST(test_config_file_overrides_defaults_and_set_overrides_file),
        DIR_TEST(test_config_second_file_overrides_first),
        DIR_TEST(test_config_last_duplicate_key_in_a_file_wins),
        cmocka_unit_test(test_config_example_file_states_the_defaults),
        cmocka_unit_test(test_config_backup_time_and_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
