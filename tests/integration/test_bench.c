/* test_bench.c - dangan-bench against a real server: --populate loads
 * customers, a short run of all four operations finishes without errors and
 * with sane percentiles in its --json report, its updates and creates really
 * changed the data, --rate never sends faster than asked, failed logins are
 * timed, and its exit codes for usage and login failures.
 * What the numbers come to on a machine (rates, latencies) is the
 * benchmark's business (tests/bench/README.md), not this test's: it asserts
 * only what holds however loaded the machine is. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"

#define N_CUSTOMERS 300

static dgt_server srv;
static char out[1 << 20]; /* the bench's stdout: static, not on the stack */
static int64_t bench_ms;  /* how long the last bench run took, start to exit */

struct census {
    long n;             /* customers */
    long long versions; /* sum of their versions */
};

/* Runs dangan-bench with the fixture's server and trust, `input` on stdin;
 * stdout into `out`, stderr passed through. Returns the exit status. */
static int bench(const char *input, const char *const *extra)
{
    const char *args[64] = {DANGAN_BENCH_PATH, "--server", srv.addr, "--fingerprint",
                            srv.fingerprint,   "--user",   "admin",  "--password-stdin"};
    size_t argc = 8, n = 0;
    int in[2], o[2], status;
    pid_t pid;

    for (size_t i = 0; extra[i] && argc < 63; i++)
        args[argc++] = extra[i];
    args[argc] = NULL;
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(o), 0);
    bench_ms = dg_mono_ms();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(o[1], 1);
        close(in[1]);
        close(o[0]);
        execv(DANGAN_BENCH_PATH, (char *const *)args);
        _exit(127);
    }
    close(in[0]);
    close(o[1]);
    signal(SIGPIPE, SIG_IGN); /* a bench that exits before reading stdin must not kill us */
    if (input && write(in[1], input, strlen(input)) < 0)
        fail_msg("cannot write the bench's stdin");
    close(in[1]);
    for (ssize_t k; (k = read(o[0], out + n, sizeof out - 1 - n)) > 0;)
        n += (size_t)k;
    out[n] = '\0';
    close(o[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    bench_ms = dg_mono_ms() - bench_ms;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define BENCH(input, ...) bench(input, (const char *const[]){__VA_ARGS__, NULL})

static char *password_line(void)
{
    static char line[80];

    snprintf(line, sizeof line, "%s\n", srv.admin_password);
    return line;
}

/* Every customer, counted, with their versions summed, through libdangan. */
static struct census census(void)
{
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    struct census cs = {0, 0};
    char cursor[512] = "";

    do {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
        const Dangan__V1__ListResponse *l;
        dg_reply *r;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.sort = "created";
        m.limit = 1000;
        m.cursor = cursor;
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &m;
        r = dgt_call(c, &req);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        l = dg_reply_response(r)->list;
        for (size_t i = 0; i < l->n_records; i++) {
            cs.n++;
            cs.versions += l->records[i]->customer->version;
        }
        snprintf(cursor, sizeof cursor, "%s", l->next_cursor);
        dg_reply_free(r);
    } while (cursor[0]);
    dg_client_close(c);
    return cs;
}

/* Failed logins by the hundred (login_wrong, login_unknown) are not
 * throttled; dangand-test logs each argon2id check. */
static int setup(void **state)
{
    (void)state;
    dgt_server_start_prog(&srv,
                          "[login]\npair_failures = 1000\naccount_failures = 1000\n"
                          "peer_failures = 100000\n",
                          DANGAND_TEST_PATH);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv); /* also: exit 0 and no error line in the server log */
    return 0;
}

static json_t *stdout_json(void)
{
    json_error_t e;
    json_t *j = json_loads(out, 0, &e); /* rejects anything after the one document */

    if (!j)
        fail_msg("stdout is not one JSON document (%s): %s", e.text, out);
    return j;
}

static double number(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_number(v))
        fail_msg("\"%s\" is not a number", key);
    return json_number_value(v);
}

static void test_populate_creates_the_customers_asked_for(void **state)
{
    char n[16];
    json_t *j;

    (void)state;
    snprintf(n, sizeof n, "%d", N_CUSTOMERS);
    assert_int_equal(BENCH(password_line(), "--populate", n, "--json", "--seed", "1"), 0);
    j = stdout_json();
    assert_int_equal((long)number(j, "created"), N_CUSTOMERS);
    json_decref(j);
    assert_int_equal(census().n, N_CUSTOMERS);
}

/* One operation of the report: it ran, without errors, percentiles ordered. */
static long long check_op(const json_t *ops, const char *name, double duration_s)
{
    json_t *op = json_object_get(ops, name);
    double count, p50, p95, p99, max;

    if (!json_is_object(op))
        fail_msg("no \"%s\" in ops: %s", name, out);
    count = number(op, "count");
    p50 = number(op, "p50_ms");
    p95 = number(op, "p95_ms");
    p99 = number(op, "p99_ms");
    max = number(op, "max_ms");
    if (number(op, "errors") != 0)
        fail_msg("%s had errors: %s", name, out);
    assert_true(count > 0);
    assert_true(fabs(number(op, "ops_per_s") - count / duration_s) < 0.01 * count + 1);
    assert_true(p50 > 0);
    assert_true(p50 <= p95 && p95 <= p99 && p99 <= max);
    assert_true(max <= (double)bench_ms); /* nothing took longer than the whole run */
    assert_true(number(op, "mean_ms") > 0 && number(op, "mean_ms") <= max);
    return (long long)count;
}

static void test_run_of_all_four_operations_reports_them_without_errors(void **state)
{
    struct census before = census(), after;
    long long updates, creates;
    json_t *j, *ops;

    (void)state;
    assert_true(before.n >= N_CUSTOMERS);
    assert_int_equal(BENCH(password_line(), "--connections", "4", "--duration", "2", "--warmup",
                           "0.5", "--pipeline", "2", "--mix",
                           "get=40,search=20,update=30,create=10", "--seed", "42", "--json"),
                     0);
    j = stdout_json();
    assert_int_equal((long)number(j, "connections"), 4);
    assert_int_equal((long)number(j, "pipeline"), 2);
    assert_true(number(j, "duration_s") == 2.0);
    assert_int_equal((long)number(j, "customers"), before.n);
    assert_int_equal((long)number(json_object_get(j, "mix"), "update"), 30);
    ops = json_object_get(j, "ops");
    check_op(ops, "get", 2.0);
    check_op(ops, "search", 2.0);
    updates = check_op(ops, "update", 2.0);
    creates = check_op(ops, "create", 2.0);
    assert_true(number(j, "total_ops_per_s") > 0);
    assert_int_equal((long)number(j, "errors"), 0);
    json_decref(j);

    /* Only what was counted is certain; warm-up and drained operations come on top. */
    after = census();
    assert_true(after.n - before.n >= creates);
    assert_true(after.versions - before.versions >= updates + creates);
}

/* --threads: two threads drive four connections (pgbench -j), pipelined,
 * every operation checked as with a thread per connection; --rate holds. */
static void test_threads_drive_several_connections_each(void **state)
{
    struct census before = census(), after;
    long long updates, creates, paced;
    json_t *j, *ops;

    (void)state;
    assert_int_equal(BENCH(password_line(), "--connections", "4", "--threads", "2", "--duration",
                           "2", "--warmup", "0.5", "--pipeline", "2", "--mix",
                           "get=40,search=20,update=30,create=10,ping=5", "--json"),
                     0);
    j = stdout_json();
    assert_int_equal((long)number(j, "connections"), 4);
    assert_int_equal((long)number(j, "threads"), 2);
    ops = json_object_get(j, "ops");
    check_op(ops, "get", 2.0);
    check_op(ops, "search", 2.0);
    check_op(ops, "ping", 2.0);
    updates = check_op(ops, "update", 2.0);
    creates = check_op(ops, "create", 2.0);
    assert_int_equal((long)number(j, "errors"), 0);
    assert_int_equal((long)number(j, "lost_connections"), 0);
    json_decref(j);
    after = census();
    assert_true(after.n - before.n >= creates);
    assert_true(after.versions - before.versions >= updates + creates);

    /* 100 a second in all, over 2 s: the threads wait for each send's turn,
     * so at most 200 are sent (fewer when the machine is slow) */
    assert_int_equal(BENCH(password_line(), "--connections", "4", "--threads", "2", "--duration",
                           "2", "--warmup", "0", "--rate", "100", "--mix", "get=1", "--json"),
                     0);
    j = stdout_json();
    paced = check_op(json_object_get(j, "ops"), "get", 2.0);
    json_decref(j);
    assert_true(paced <= 200);
}

static void test_gets_with_dossier_and_table_output(void **state)
{
    (void)state;
    assert_int_equal(BENCH(password_line(), "--connections", "2", "--duration", "0.5", "--warmup",
                           "0", "--mix", "get=1", "--dossier"),
                     0);
    assert_non_null(strstr(out, "get"));
    assert_non_null(strstr(out, "p99 ms"));
    assert_null(strstr(out, "update")); /* only the operations of the mix */
}

static void test_searches_use_the_queries_given(void **state)
{
    json_t *j, *search;

    (void)state;
    /* every populated company name carries an industry word such as 科技 or 贸易 */
    assert_int_equal(BENCH(password_line(), "--connections", "1", "--duration", "0.5", "--warmup",
                           "0", "--mix", "search=1", "--query", "科技", "--query", "贸易",
                           "--json"),
                     0);
    j = stdout_json();
    assert_int_equal(json_array_size(json_object_get(j, "queries")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "queries"), 0)),
                        "科技");
    search = json_object_get(json_object_get(j, "ops"), "search");
    assert_true(number(search, "count") > 0);
    assert_true(number(search, "mean_hits") >= 1.0);
    assert_int_equal((long)number(search, "errors"), 0);
    json_decref(j);
    assert_int_equal(BENCH(password_line(), "--query", ""), 2);
}

/* The round-trip floor: pings only, no customer listed, nothing written. */
static void test_pings_touch_no_data(void **state)
{
    struct census before = census(), after;
    json_t *j, *ops;

    (void)state;
    assert_int_equal(BENCH(password_line(), "--connections", "2", "--duration", "0.5", "--warmup",
                           "0", "--mix", "ping=1", "--json"),
                     0);
    j = stdout_json();
    ops = json_object_get(j, "ops");
    check_op(ops, "ping", 0.5);
    assert_null(json_object_get(ops, "get")); /* only the operations of the mix */
    json_decref(j);
    after = census();
    assert_int_equal(after.n, before.n);
    assert_int_equal(after.versions, before.versions);
}

/* Watchers receive changes and time them; each change reaches each of the
 * three at most once, however many arrive inside the window. */
static void test_watchers_time_changes_from_commit_to_receipt(void **state)
{
    struct census before = census(), after;
    json_t *j, *event, *update;

    (void)state;
    assert_int_equal(BENCH(password_line(), "--connections", "2", "--duration", "1.5", "--warmup",
                           "0.3", "--mix", "update=1", "--rate", "200", "--watchers", "3",
                           "--json"),
                     0);
    j = stdout_json();
    assert_int_equal((long)number(j, "watchers"), 3);
    update = json_object_get(json_object_get(j, "ops"), "update");
    event = json_object_get(json_object_get(j, "ops"), "event");
    assert_non_null(event);
    /* paced: 200 a second from the start of the warm-up, so at most
     * 200 x 1.8 sends (+ 2 in flight) fall in the 1.5 s window */
    assert_true(number(update, "ops_per_s") < 260);
    assert_true(number(event, "count") >= 1);
    assert_true(number(event, "p99_ms") > 0);
    assert_int_equal((long)number(event, "errors"), 0);
    after = census();
    assert_true(number(event, "count") <= 3 * (double)(after.versions - before.versions));
    json_decref(j);
    assert_int_equal(BENCH(password_line(), "--watchers", "2000"), 2);
}

/* login_wrong and login_unknown are answered bad_credentials (not errors)
 * and each costs the server one argon2id check, run after run. */
static void test_failed_logins_are_timed_as_operations(void **state)
{
    static const char *const ops[] = {"login_wrong", "login_unknown"};
    static const char verified[] = "msg=\"argon2id verification\"";

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        int n_before = dgt_log_count(&srv, verified);
        char mix[32];
        json_t *j, *op;

        snprintf(mix, sizeof mix, "%s=1", ops[i]);
        assert_int_equal(BENCH(password_line(), "--connections", "2", "--duration", "0.5",
                               "--warmup", "0", "--mix", mix, "--json"),
                         0);
        j = stdout_json();
        op = json_object_get(json_object_get(j, "ops"), ops[i]);
        assert_non_null(op);
        assert_int_equal((long)number(op, "errors"), 0);
        /* one check for the bench's own login, one for each login counted */
        assert_true(dgt_log_count(&srv, verified) - n_before >= 1 + (long)number(op, "count"));
        json_decref(j);
    }
}

static void test_bad_flags_exit_2_before_connecting(void **state)
{
    (void)state;
    assert_int_equal(BENCH(password_line(), "--pipeline", "0"), 2);
    assert_int_equal(BENCH(password_line(), "--mix", "get=70,delete=30"), 2);
    assert_int_equal(BENCH(password_line(), "--mix", "get=0"), 2);
    assert_int_equal(BENCH(password_line(), "--threads", "0"), 2);
    assert_int_equal(BENCH(password_line(), "--connections", "many"), 2);
    assert_int_equal(BENCH("", "--duration", "1"), 2); /* no password */
    assert_string_equal(out, "");
}

static void test_wrong_password_exits_3(void **state)
{
    (void)state;
    assert_int_equal(BENCH("not the password\n", "--duration", "1"), 3);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_populate_creates_the_customers_asked_for),
        cmocka_unit_test(test_run_of_all_four_operations_reports_them_without_errors),
        cmocka_unit_test(test_threads_drive_several_connections_each),
        cmocka_unit_test(test_gets_with_dossier_and_table_output),
        cmocka_unit_test(test_searches_use_the_queries_given),
        cmocka_unit_test(test_pings_touch_no_data),
        cmocka_unit_test(test_watchers_time_changes_from_commit_to_receipt),
        cmocka_unit_test(test_failed_logins_are_timed_as_operations),
        cmocka_unit_test(test_bad_flags_exit_2_before_connecting),
        cmocka_unit_test(test_wrong_password_exits_3),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
