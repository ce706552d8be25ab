/* test_damaged.c - damaged data directories are refused before anything is
 * written. A table of damage, each applied to a copy of a healthy data
 * directory (stopped cleanly): `dangand serve` exits 1 naming the problem
 * and the fix, `dangand check` (text and --json) fails naming the same, and
 * the SHA-256 of every file in the directory is what it was. Beside it:
 * the server's own WAL after a kill -9 is recovered, a clean restart skips
 * the structure check, and `dangand check` passes a healthy directory and
 * refuses to run beside a server. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <mbedtls/sha256.h>

#include "clock.h"
#include "fixture.h"

static dgt_server healthy; /* stopped cleanly; copied for each case */
static dgt_server other;   /* another database, killed: its WAL holds transactions */
static char work[256];     /* where the damaged copies go */
static dgt_run run;        /* big buffers: static */

/* ------------------------------------------------------------ files */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* "name sha256\n" for every regular file under dir, sorted by name. */
struct listing {
    char text[16384];
};

static void hash_file(const char *path, char hex[65])
{
    unsigned char buf[65536], sum[32];
    mbedtls_sha256_context ctx;
    FILE *f = fopen(path, "rb");
    size_t n;

    assert_non_null(f);
    mbedtls_sha256_init(&ctx);
    assert_int_equal(mbedtls_sha256_starts_ret(&ctx, 0), 0);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(mbedtls_sha256_update_ret(&ctx, buf, n), 0);
    fclose(f);
    assert_int_equal(mbedtls_sha256_finish_ret(&ctx, sum), 0);
    mbedtls_sha256_free(&ctx);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sum[i]);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(const char *dir, const char *prefix, struct listing *l)
{
    char *names[64], path[1024], rel[512], hex[65];
    struct dirent *e;
    size_t n = 0;
    DIR *d = opendir(dir);

    assert_non_null(d);
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(rel, sizeof rel, "%s%s", prefix, names[i]);
        assert_int_equal(lstat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            char sub[520];

            snprintf(sub, sizeof sub, "%s/", rel);
            list_dir(path, sub, l);
        } else {
            hash_file(path, hex);
            snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "%s %o %lld %s\n",
                     rel, (unsigned)(sb.st_mode & 0777), (long long)sb.st_size, hex);
        }
        free(names[i]);
    }
}

static void snapshot(const char *dir, struct listing *l)
{
    l->text[0] = '\0';
    list_dir(dir, "", l);
}

/* ------------------------------------------------------------ running dangand */

/* Runs `dangand serve` on dir; returns its exit status, or fails the test
 * when it is still running (it served a damaged directory) after 30 s. Its
 * stderr lands in `err`. */
static int serve_once(const char *dir, char *err, size_t err_len)
{
    char log[512];
    int64_t until = dg_mono_ms() + 30000;
    int status;
    FILE *f;
    size_t n;
    pid_t pid;

    snprintf(log, sizeof log, "%s/serve.log", work);
    if ((pid = fork()) == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, 2);
        close(fd);
        execl(DANGAND_PATH, DANGAND_PATH, "serve", "--data", dir, "--listen", "127.0.0.1:0",
              (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (dg_mono_ms() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("dangand serve started on a damaged data directory");
        }
        usleep(20000);
    }
    f = fopen(log, "r");
    assert_non_null(f);
    n = fread(err, 1, err_len - 1, f);
    err[n] = '\0';
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A fresh copy of the healthy data directory; its path goes to `out`. */
static void copy_healthy(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", work, name);
    sh("rm -rf '%s' && cp -a '%s' '%s'", out, healthy.data, out);
}

/* ------------------------------------------------------------ damage */

static void overwrite(const char *path, long at, int byte, size_t n)
{
    FILE *f = fopen(path, "r+b");

    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    for (size_t i = 0; i < n; i++)
        fputc(byte, f);
    fclose(f);
}

static void zero_header(const char *dir)
{
    char db[600];

    snprintf(db, sizeof db, "%s/dangan.db", dir);
    overwrite(db, 0, 0, 100);
}

static void truncate_half(const char *dir)
{
    char db[600];
    struct stat sb;

    snprintf(db, sizeof db, "%s/dangan.db", dir);
    assert_int_equal(stat(db, &sb), 0);
    assert_int_equal(truncate(db, (sb.st_size / 2) / 4096 * 4096), 0);
}

static void make_empty(const char *dir)
{
    char db[600];

    snprintf(db, sizeof db, "%s/dangan.db", dir);
    assert_int_equal(truncate(db, 0), 0);
}

/* The page-type byte (offset 0 of a page) of the last 26 pages: pages the
 * server does not read when it opens the database. */
static void flip_page_types(const char *dir)
{
    char db[600];
    struct stat sb;
    long n_pages;
    FILE *f;

    snprintf(db, sizeof db, "%s/dangan.db", dir);
    assert_int_equal(stat(db, &sb), 0);
    n_pages = (long)(sb.st_size / 4096);
    assert_true(n_pages > 2 * 26);
    assert_non_null(f = fopen(db, "r+b"));
    for (long page = n_pages - 25; page <= n_pages; page++) {
        int c;

        assert_int_equal(fseek(f, (page - 1) * 4096, SEEK_SET), 0);
        c = fgetc(f);
        assert_int_equal(fseek(f, (page - 1) * 4096, SEEK_SET), 0);
        fputc(c ^ 0xff, f);
    }
    fclose(f);
}

static void make_text(const char *dir)
{
    sh("printf 'these are my notes\\nnot a database\\n' > '%s/dangan.db'", dir);
}

static void foreign_wal(const char *dir)
{
    sh("cp '%s/dangan.db-wal' '%s/dangan.db-wal'", other.data, dir);
}

static void foreign_wal_with_owner(const char *dir)
{
    sh("cp '%s/dangan.db-wal' '%s/dangan.db-walid' '%s/'", other.data, other.data, dir);
}

static void key_readable(const char *dir)
{
    sh("chmod 644 '%s/tls/key.pem'", dir);
}

static void future_schema(const char *dir)
{
    char db[600];

    /* user_version lives in the header at offset 60 (big-endian) */
    snprintf(db, sizeof db, "%s/dangan.db", dir);
    overwrite(db, 60, 0, 3);
    overwrite(db, 63, 99, 1);
}

static const struct damage {
    const char *name;
    void (*apply)(const char *dir);
    const char *check; /* the check that fails */
    const char *says;  /* in its message */
} damages[] = {
    {"zeroed-header", zero_header, "database file", "header was wiped"},
    {"truncated", truncate_half, "database file", "is truncated"},
    {"zero-bytes", make_empty, "database file", "empty (0 bytes)"},
    {"flipped-page-types", flip_page_types, "structure", "Page "},
    {"text-file", make_text, "database file", "text file"},
    {"foreign-wal", foreign_wal, "write-ahead log", "no dangan.db-walid"},
    {"foreign-wal-with-owner", foreign_wal_with_owner, "write-ahead log", "application id"},
    {"key-mode-0644", key_readable, "file modes", "private key"},
    {"future-schema", future_schema, "database file", "newer than this dangand"},
};

static void test_each_damage_is_refused_and_nothing_is_written(void **state)
{
    static char err[65536];
    static struct listing before, after;
    char dir[400], needle[200];

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(damages); i++) {
        const struct damage *d = &damages[i];
        const char *argv[] = {"check", "--data", dir, NULL};
        const char *json_argv[] = {"check", "--data", dir, "--json", NULL};
        json_t *doc, *checks;
        bool is_named = false;

        print_message("damage: %s\n", d->name);
        copy_healthy(d->name, dir, sizeof dir);
        d->apply(dir);
        snapshot(dir, &before);

        /* the server refuses (exit 3), naming the check, the problem and a fix */
        assert_int_equal(serve_once(dir, err, sizeof err), 3);
        snprintf(needle, sizeof needle, "check=\"%s\"", d->check);
        if (!strstr(err, needle) || !strstr(err, d->says) || !strstr(err, "fix=\""))
            fail_msg("%s: serve said:\n%s", d->name, err);
        assert_null(strstr(err, "msg=\"listening\""));
        assert_null(strstr(err, "Sanitizer")); /* exit codes alone would hide it */
        assert_null(strstr(err, "runtime error"));

        /* so does dangand check, in words and in JSON */
        dgt_dangand(&run, argv);
        assert_int_equal(run.status, 1);
        assert_null(strstr(run.err, "Sanitizer"));
        assert_null(strstr(run.err, "runtime error"));
        snprintf(needle, sizeof needle, "FAIL  %s", d->check);
        if (!strstr(run.out, needle) || !strstr(run.out, d->says) || !strstr(run.out, "fix: "))
            fail_msg("%s: check said:\n%s", d->name, run.out);
        dgt_dangand(&run, json_argv);
        assert_int_equal(run.status, 1);
        assert_non_null(doc = json_loads(run.out, 0, NULL));
        assert_true(json_is_false(json_object_get(doc, "ok")));
        checks = json_object_get(doc, "checks");
        for (size_t k = 0; k < json_array_size(checks); k++) {
            json_t *c = json_array_get(checks, k);

            if (strcmp(json_string_value(json_object_get(c, "name")), d->check) == 0) {
                assert_string_equal(json_string_value(json_object_get(c, "status")), "fail");
                assert_non_null(strstr(json_string_value(json_object_get(c, "message")), d->says));
                assert_non_null(json_object_get(c, "fix"));
                is_named = true;
            }
        }
        assert_true(is_named);
        json_decref(doc);

        /* and nothing in the directory changed */
        snapshot(dir, &after);
        if (strcmp(before.text, after.text) != 0)
            fail_msg("%s: files changed\nbefore:\n%s\nafter:\n%s", d->name, before.text,
                     after.text);
    }
}

/* ------------------------------------------------------------ healthy ones */

/* The server's own WAL after kill -9: checked as its own, recovered, every
 * acknowledged write there; and the next clean restart skips the structure
 * check. */
static void test_own_wal_after_a_crash_is_recovered(void **state)
{
    dgt_server s;
    dg_client *c;
    struct stat sb;
    char wal[400];
    const char *argv[] = {"check", "--data", s.data, "--quick", NULL};

    (void)state;
    dgt_server_start(&s, NULL);
    c = dgt_login(&s, "admin", s.admin_password);
    for (int i = 0; i < 5; i++) {
        char prefix[32];

        snprintf(prefix, sizeof prefix, "崩溃前公司%d号", i);
        dgt_create_customers(c, 3, prefix, NULL, NULL);
    }
    dg_client_close(c);
    dgt_server_kill(&s);
    snprintf(wal, sizeof wal, "%s/dangan.db-wal", s.data);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 0);

    dgt_dangand(&run, argv);
    if (run.status != 0)
        fail_msg("check after a crash:\n%s", run.out);
    assert_non_null(strstr(run.out, "from an unclean shutdown"));

    dgt_server_restart(&s, NULL);
    assert_true(dgt_log_has(&s, "last_shutdown=unclean recover_wal=yes"));
    c = dgt_login(&s, "admin", s.admin_password);
    for (int i = 0; i < 5; i++) {
        char name[48];

        snprintf(name, sizeof name, "崩溃前公司%d号00002", i);
        assert_int_equal(dgt_count_named(c, name), 1);
    }
    dg_client_close(c);
    assert_int_equal(dgt_server_stop_keep(&s), 0);
    dgt_server_restart(&s, NULL);
    assert_true(dgt_log_has(&s, "last_shutdown=clean recover_wal=no"));
    dgt_server_stop(&s);
}

static void test_check_passes_a_healthy_directory_and_waits_for_the_server(void **state)
{
    const char *argv[] = {"check", "--data", healthy.data, NULL};
    const char *json_argv[] = {"check", "--data", healthy.data, "--json", NULL};
    json_t *doc;

    (void)state;
    dgt_dangand(&run, argv);
    if (run.status != 0)
        fail_msg("check of a healthy directory:\n%s", run.out);
    assert_non_null(strstr(run.out, "integrity_check: ok"));
    assert_non_null(strstr(run.out, "records chain correctly"));
    dgt_dangand(&run, json_argv);
    assert_int_equal(run.status, 0);
    assert_non_null(doc = json_loads(run.out, 0, NULL));
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_true(json_is_true(json_object_get(doc, "clean_shutdown")));
    json_decref(doc);

    dgt_server_restart(&healthy, NULL); /* a running server: check waits for it to stop */
    dgt_dangand(&run, argv);
    assert_int_equal(run.status, 1);
    assert_non_null(strstr(run.err, "stop the server first"));
    assert_int_equal(dgt_server_stop_keep(&healthy), 0);
}

/* ------------------------------------------------------------ setup */

static int setup(void **state)
{
    dg_client *c;

    (void)state;
    dgt_tempdir(work, sizeof work);
    dgt_server_start(&healthy, NULL);
    c = dgt_login(&healthy, "admin", healthy.admin_password);
    for (int i = 0; i < 5; i++) { /* enough pages that the last ones hold only data */
        char prefix[32];

        snprintf(prefix, sizeof prefix, "健康公司%d批", i);
        dgt_create_customers(c, 100, prefix, NULL, "有一些备注，足够长的备注，让每一页都装满数据");
    }
    dg_client_close(c);
    assert_int_equal(dgt_server_stop_keep(&healthy), 0);

    dgt_server_start(&other, NULL);
    c = dgt_login(&other, "admin", other.admin_password);
    dgt_create_customers(c, 40, "别家公司", NULL, "别家的备注");
    dg_client_close(c);
    dgt_server_kill(&other);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(work);
    dgt_rmtree(healthy.root);
    dgt_rmtree(other.root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_damage_is_refused_and_nothing_is_written),
        cmocka_unit_test(test_own_wal_after_a_crash_is_recovered),
        cmocka_unit_test(test_check_passes_a_healthy_directory_and_waits_for_the_server),
    };

    return cmocka_run_group_tests_name("damaged", tests, setup, teardown);
}
