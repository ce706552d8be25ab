/* test_documents_cli.c - `dangan doc` against a real server: a 50 MiB file
 * goes up and comes back byte for byte; documents are listed by kind, then
 * year and month; a download resumes from FILE.part; progress bars show on
 * a terminal and nowhere else; an upload an earlier run left unfinished goes
 * on where the server stands. */
#include <jansson.h>
#include <mbedtls/sha256.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "docs_world.h"

static void test_cli_round_trip_of_50_mib_is_byte_identical(void **state)
{
    size_t n = 50 * MIB, got_n;
    uint8_t *data = dgt_doc_bytes(n, 50), *got;
    char file[400], out[400], id[32];
    json_t *doc;

    (void)state;
    snprintf(file, sizeof file, "%s/big.bin", cfg);
    snprintf(out, sizeof out, "%s/back.bin", cfg);
    dgt_doc_write_file(file, data, n);
    snprintf(id, sizeof id, "%lld", (long long)customer);
    CLI(NULL, "--json", "doc", "upload", id, file, "--kind", "contract", "--title", "五十兆合同",
        "--date", "2026-11-03", "--expires", "2027-11-02");
    if (run.status != 0)
        fail_msg("upload: exit %d: %s", run.status, run.err);
    doc = json_loads(run.out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "document"), "size")),
                     (json_int_t)n);
    snprintf(
        id, sizeof id, "%lld",
        (long long)json_integer_value(json_object_get(json_object_get(doc, "document"), "id")));
    json_decref(doc);
    CLI(NULL, "--json", "doc", "get", id, "-o", out);
    if (run.status != 0)
        fail_msg("get: exit %d: %s", run.status, run.err);
    got = dgt_doc_read_file(out, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, data, n);
    free(got);
    free(data);
    unlink(file);
    unlink(out);
}

static void test_cli_lists_by_kind_then_year_and_month(void **state)
{
    char file[400], id[32];
    uint8_t *data = dgt_doc_bytes(1000, 7);
    const char *out;

    (void)state;
    snprintf(file, sizeof file, "%s/small.txt", cfg);
    dgt_doc_write_file(file, data, 1000);
    snprintf(id, sizeof id, "%lld", (long long)dgt_doc_customer(admin, "归档公司", NULL, 2));
    CLI(NULL, "doc", "upload", id, file, "--kind", "invoice", "--title", "二月发票", "--date",
        "2025-02-10");
    assert_int_equal(run.status, 0);
    CLI(NULL, "doc", "upload", id, file, "--kind", "contract", "--title", "旧合同", "--date",
        "2024-06-01");
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "shared")); /* the same bytes: deduplicated */
    CLI(NULL, "doc", "upload", id, file, "--kind", "invoice", "--title", "一月发票", "--date",
        "2025-01-20");
    assert_int_equal(run.status, 0);
    CLI(NULL, "doc", "list", id);
    assert_int_equal(run.status, 0);
    out = run.out;
    /* contract before invoice; within invoices 2025-01 before 2025-02 */
    assert_non_null(strstr(out, "contract\n  2024-06\n"));
    assert_true(strstr(out, "contract") < strstr(out, "invoice\n  2025-01\n"));
    assert_true(strstr(out, "2025-01") < strstr(out, "  2025-02\n"));
    assert_true(strstr(out, "一月发票") < strstr(out, "二月发票"));
    CLI(NULL, "--json", "doc", "list", id, "--kind", "invoice", "--year", "2025");
    assert_int_equal(run.status, 0);
    {
        json_t *doc = json_loads(run.out, 0, NULL);

        assert_int_equal(json_array_size(json_object_get(doc, "documents")), 2);
        json_decref(doc);
    }
    CLI(NULL, "doc", "list", id, "--kind", "bogus");
    assert_int_equal(run.status, 2);
    free(data);
    unlink(file);
}

static void test_cli_download_resumes_from_its_part_file(void **state)
{
    size_t n = 5 * MIB + 777, got_n;
    uint8_t *data = dgt_doc_bytes(n, 5), *got;
    int64_t id = dgt_doc_upload(admin, customer, data, n, NULL);
    char out[400], part[420], ids[32];
    json_t *doc;

    (void)state;
    snprintf(out, sizeof out, "%s/resumed.bin", cfg);
    snprintf(part, sizeof part, "%s.part", out);
    /* an interrupted download: two whole chunks and half of the third */
    dgt_doc_write_file(part, data, 2 * MIB + MIB / 2);
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    CLI(NULL, "--json", "doc", "get", ids, "-o", out);
    if (run.status != 0)
        fail_msg("get: exit %d: %s", run.status, run.err);
    doc = json_loads(run.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "resumed_from")), 2 * MIB);
    json_decref(doc);
    got = dgt_doc_read_file(out, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, data, n);
    assert_int_not_equal(access(part, F_OK), 0);
    free(got);
    free(data);
    unlink(out);
}

static void run_on_tty(const char *const *argv, char *out, size_t len)
{
    struct winsize ws = {.ws_row = 40, .ws_col = 120};
    const char *args[32] = {DANGAN_PATH};
    size_t n = 1, used = 0;
    int master, status;
    pid_t pid;

    for (size_t i = 0; argv[i] && n < 31; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    pid = forkpty(&master, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("DANGAN_CONFIG_DIR", cfg, 1);
        execv(DANGAN_PATH, (char *const *)args);
        _exit(127);
    }
    for (;;) {
        struct pollfd p = {master, POLLIN, 0};
        ssize_t k;

        if (poll(&p, 1, 60000) <= 0 || used + 1 >= len)
            break;
        k = read(master, out + used, len - 1 - used);
        if (k <= 0) /* EIO once the child is gone */
            break;
        used += (size_t)k;
    }
    out[used] = '\0';
    close(master);
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_progress_bars_show_on_a_terminal_only(void **state)
{
    static char out[1 << 16];
    size_t n = 4 * MIB;
    uint8_t *data = dgt_doc_bytes(n, 4);
    char file[400], back[400], id[32];

    (void)state;
    snprintf(file, sizeof file, "%s/bar.bin", cfg);
    snprintf(back, sizeof back, "%s/bar.out", cfg);
    dgt_doc_write_file(file, data, n);
    snprintf(id, sizeof id, "%lld", (long long)customer);
    run_on_tty((const char *const[]){"doc", "upload", id, file, "--kind", "other", NULL}, out,
               sizeof out);
    assert_non_null(strstr(out, "upload   ["));
    assert_non_null(strstr(out, "100%"));
    assert_non_null(strstr(out, "MiB/s"));
    assert_non_null(strstr(out, "Uploaded document"));
    snprintf(id, sizeof id, "%lld", (long long)dgt_doc_upload(admin, customer, data, n, NULL));
    run_on_tty((const char *const[]){"doc", "get", id, "-o", back, NULL}, out, sizeof out);
    assert_non_null(strstr(out, "download ["));
    assert_non_null(strstr(out, "100%"));
    /* not a terminal: no bar */
    unlink(back);
    CLI(NULL, "doc", "get", id, "-o", back);
    assert_int_equal(run.status, 0);
    assert_null(strstr(run.err, "MiB/s"));
    unlink(back);
    unlink(file);
    free(data);
}

/* An upload an earlier run left unfinished (its id kept in CONFIG_DIR/uploads,
 * part of its bytes on the server) goes on from where the server stands. */
static void test_cli_upload_goes_on_with_an_upload_begun_earlier(void **state)
{
    size_t n = 6 * MIB + 5;
    uint8_t *data = dgt_doc_bytes(n, 606), sha[32];
    char file[400], path[700], hex[65], id[32];
    dg_reply *r = dgt_doc_begin(admin, customer, data, n, NULL);
    int64_t up;
    FILE *f;

    (void)state;
    assert_int_equal(dgt_code(r), 0);
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    dg_reply_free(r);
    dgt_doc_send_rest(admin, up, data, 2 * MIB, 0, MIB); /* the run that was interrupted */
    assert_int_equal(mbedtls_sha256_ret(data, n, sha, 0), 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    snprintf(path, sizeof path, "%s/uploads/%lld-%s", cfg, (long long)customer, hex);
    {
        char dir[500];

        snprintf(dir, sizeof dir, "%s/uploads", cfg);
        (void)mkdir(dir, 0700); /* there already if an upload ran before */
    }
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "%s %lld\n", srv.addr, (long long)up);
    fclose(f);
    snprintf(file, sizeof file, "%s/earlier.bin", cfg);
    dgt_doc_write_file(file, data, n);
    snprintf(id, sizeof id, "%lld", (long long)customer);
    CLI(NULL, "doc", "upload", id, file, "--kind", "other");
    if (run.status != 0)
        fail_msg("upload: exit %d: %s", run.status, run.err);
    assert_non_null(strstr(run.err, "going on with the upload begun earlier, at 2.0 of 6.0 MiB"));
    assert_int_not_equal(access(path, F_OK), 0); /* finished: forgotten */
    r = dgt_doc_status(admin, up);
    assert_int_equal(dgt_code(r), 0);
    assert_true(dg_reply_response(r)->doc_upload_status->document_id > 0);
    dgt_doc_assert_download(admin, dg_reply_response(r)->doc_upload_status->document_id, data, n);
    dg_reply_free(r);
    unlink(file);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_round_trip_of_50_mib_is_byte_identical),
        cmocka_unit_test(test_cli_lists_by_kind_then_year_and_month),
        cmocka_unit_test(test_cli_download_resumes_from_its_part_file),
        cmocka_unit_test(test_cli_upload_goes_on_with_an_upload_begun_earlier),
        cmocka_unit_test(test_progress_bars_show_on_a_terminal_only),
    };

    return cmocka_run_group_tests(tests, dgt_docs_setup, dgt_docs_teardown);
}
