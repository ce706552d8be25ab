/* test_cli_records.c - the dangan CLI's record commands against a real
 * server: customers (add, show, edit, archive, restore, list, search) with
 * Chinese names and aligned tables, likely duplicates (exit 8), version
 * conflicts (exit 7), unknown REFs (exit 5), usage errors (exit 2), --json
 * shapes, cursor paging; contacts, notes with time zones, deals with decimal
 * amounts and totals, feedback, tasks, custom fields; truncation on a tty.
 * The CLI runs in the fixed zone CST-8 so local times are known. */
#include <jansson.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>

#include <cmocka.h>

#include "fixture.h"
#include "utf8.h"

static dgt_server srv;
static char cfg[256];
static dgt_run run; /* big buffers: static, not on the stack */

#define CLI(input, ...)                                                                            \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

/* Runs the CLI and asserts its exit status, showing its stderr when wrong. */
#define CLI_EXPECT(status_, ...)                                                                   \
    do {                                                                                           \
        CLI(NULL, __VA_ARGS__);                                                                    \
        if (run.status != (status_))                                                               \
            fail_msg("exit %d, wanted %d\nstdout: %s\nstderr: %s", run.status, (status_), run.out, \
                     run.err);                                                                     \
    } while (0)

static int setup(void **state)
{
    char input[128];

    (void)state;
    setenv("TZ", "CST-8", 1); /* inherited by the CLI: local time is UTC+8, no DST */
    tzset();
    dgt_server_start(&srv, NULL);
    dgt_tempdir(cfg, sizeof cfg);
    CLI(NULL, "connect", srv.addr, "--fingerprint", srv.fingerprint);
    assert_int_equal(run.status, 0);
    snprintf(input, sizeof input, "%s\n", srv.admin_password);
    CLI(input, "login", "--user", "admin", "--password-stdin");
    assert_int_equal(run.status, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(cfg);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static json_t *stdout_json(void)
{
    json_error_t e;
    json_t *j = json_loads(run.out, 0, &e); /* rejects anything after the document */

    if (!j)
        fail_msg("stdout is not one JSON document (%s): %s", e.text, run.out);
    return j;
}

static json_t *stderr_error(void)
{
    json_error_t e;
    json_t *j = json_loads(run.err, 0, &e);

    if (!j)
        fail_msg("stderr is not JSON (%s): %s", e.text, run.err);
    return j;
}

/* A value by dotted path: "record.customer.id", "records.0.customer.code". */
static json_t *jget(json_t *j, const char *path)
{
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
        j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10)) : json_object_get(j, k);
    if (!j)
        fail_msg("no %s in the JSON", path);
    return j;
}

static json_int_t jint(json_t *j, const char *path)
{
    return json_integer_value(jget(j, path));
}

static const char *jstr(json_t *j, const char *path)
{
    return json_string_value(jget(j, path));
}

/* Adds a customer (--force, so names may repeat across tests); returns its id
 * and copies its code. `sets` is a NULL-terminated list of FIELD=VALUE. */
static int64_t add_customer(const char *name, const char *const *sets, char code[32])
{
    const char *argv[40] = {"--json", "customer", "add", "--name", name, "--force"};
    size_t n = 6;
    json_t *j;
    int64_t id;

    for (size_t i = 0; sets && sets[i]; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    dgt_cli(&run, cfg, NULL, argv);
    if (run.status != 0)
        fail_msg("customer add %s: exit %d: %s", name, run.status, run.err);
    j = stdout_json();
    id = jint(j, "record.customer.id");
    if (code)
        snprintf(code, 32, "%s", jstr(j, "record.customer.code"));
    json_decref(j);
    return id;
}

/* The line of `text` holding `needle`, copied. */
static const char *line_with(const char *text, const char *needle, char *buf, size_t len)
{
    const char *p = strstr(text, needle), *b, *e;

    if (!p)
        fail_msg("no line with \"%s\" in:\n%s", needle, text);
    for (b = p; b > text && b[-1] != '\n'; b--)
        ;
    e = strchr(p, '\n');
    e = e ? e : p + strlen(p);
    snprintf(buf, len, "%.*s", (int)(e - b), b);
    return buf;
}

/* The terminal column (display width before it) where `needle` starts in `line`. */
static size_t display_col(const char *line, const char *needle)
{
    const char *p = strstr(line, needle);
    char prefix[1024];

    if (!p)
        fail_msg("no \"%s\" in \"%s\"", needle, line);
    snprintf(prefix, sizeof prefix, "%.*s", (int)(p - line), line);
    return dg_utf8_width(prefix);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The unix ms of a UTC wall-clock time minus `east_s` (a zone's offset). */
static int64_t utc_ms(int y, int mo, int d, int h, int mi, long east_s)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};

    return ((int64_t)timegm(&tm) - east_s) * 1000;
}

/* ------------------------------------------------------------ customers */

static void test_customer_add_json_has_id_version_and_code(void **state)
{
    json_t *j, *cu;

    (void)state;
    CLI_EXPECT(0, "--json", "customer", "add", "--name", "上海明达贸易有限公司", "--set", "tier=A",
               "--set", "phone=021-5555-0101", "--set", "registered_capital=2000000 USD", "--set",
               "tags=vip, 华东");
    j = stdout_json();
    cu = jget(j, "record.customer");
    assert_true(jint(cu, "id") > 0);
    assert_int_equal(jint(cu, "version"), 1);
    assert_memory_equal(jstr(cu, "code"), "C-", 2);
    assert_string_equal(jstr(cu, "name"), "上海明达贸易有限公司");
    assert_string_equal(jstr(cu, "tier"), "a");
    assert_string_equal(jstr(cu, "kind"), "company");
    assert_int_equal(jint(cu, "registered_capital.amount_minor"), 200000000);
    assert_string_equal(jstr(cu, "registered_capital.currency"), "USD");
    assert_int_equal(json_array_size(jget(cu, "tags")), 2);
    json_decref(j);
}

static void test_customer_show_by_code_and_by_id(void **state)
{
    char code[32];
    int64_t id;
    json_t *j;

    (void)state;
    id = add_customer("南京紫金山仪器厂",
                      (const char *[]){"industry=仪器", "region=江苏", "staff_count=120", NULL},
                      code);
    CLI_EXPECT(0, "customer", "show", code);
    assert_non_null(strstr(run.out, "南京紫金山仪器厂"));
    assert_non_null(strstr(run.out, "industry"));
    assert_non_null(strstr(run.out, "仪器"));
    assert_non_null(strstr(run.out, "staff count"));
    assert_non_null(strstr(run.out, "People: none"));
    {
        char lower[32];

        snprintf(lower, sizeof lower, "c%s", code + 1); /* codes are found in any case */
        CLI_EXPECT(0, "--json", "customer", "show", lower);
    }
    j = stdout_json();
    assert_int_equal(jint(j, "record.customer.id"), id);
    json_decref(j);
    {
        char ids[32];

        snprintf(ids, sizeof ids, "%lld", (long long)id);
        CLI_EXPECT(0, "--json", "customer", "show", ids);
    }
    j = stdout_json();
    assert_string_equal(jstr(j, "record.customer.code"), code); /* a GetResponse */
    assert_int_equal(jint(j, "record.customer.version"), 1);
    assert_true(json_is_object(jget(j, "dossier")));
    assert_true(json_is_object(jget(j, "snapshot")));
    json_decref(j);
}

static void test_unknown_ref_exits_5(void **state)
{
    json_t *j;

    (void)state;
    CLI_EXPECT(5, "customer", "show", "999999");
    CLI_EXPECT(5, "customer", "show", "C-999999");
    CLI_EXPECT(5, "customer", "edit", "C-999999", "--set", "tier=a");
    CLI_EXPECT(5, "customer", "archive", "999999");
    CLI_EXPECT(5, "contact", "list", "C-999999");
    CLI_EXPECT(5, "contact", "edit", "999999", "--set", "title=x");
    CLI_EXPECT(5, "--json", "customer", "show", "C-999999");
    assert_string_equal(run.out, "");
    j = stderr_error();
    assert_string_equal(jstr(j, "error.code"), "NOT_FOUND");
    json_decref(j);
}

static void test_unknown_field_is_a_usage_error_naming_the_fields(void **state)
{
    (void)state;
    CLI_EXPECT(2, "customer", "add", "--name", "无名公司", "--set", "colour=red");
    assert_string_equal(run.out, "");
    assert_non_null(strstr(run.err, "colour"));
    assert_non_null(strstr(run.err, "short_name"));
    assert_non_null(strstr(run.err, "custom.NAME"));
    CLI_EXPECT(2, "customer", "edit", "1", "--set", "version=7"); /* the server's, not ours */
    CLI_EXPECT(2, "contact", "add", "1", "--name", "张三", "--set", "tier=a");
    assert_non_null(strstr(run.err, "mobile"));
    CLI_EXPECT(2, "customer", "edit", "1", "--set", "tier"); /* no = */
    CLI_EXPECT(2, "customer", "edit", "1");                  /* nothing to change */
}

static void test_bad_values_are_usage_errors_and_nothing_is_sent(void **state)
{
    static const char *const cases[][10] = {
        {"customer", "add", "--name", "X", "--set", "tier=z"},
        {"customer", "add", "--name", "X", "--set", "status=sleeping"},
        {"customer", "add", "--name", "X", "--set", "staff_count=many"},
        {"customer", "add", "--name", "X", "--set", "staff_count=99999999999"},
        {"customer", "add", "--name", "X", "--set", "registered_capital=1.234"},
        {"customer", "add", "--name", "X", "--set", "registered_capital=12 DOLLARS"},
        {"customer", "add", "--name", "X", "--kind", "robot"},
        {"customer", "add", "--set", "tier=a"}, /* no name */
        {"customer", "list", "--tier", "d"},
        {"customer", "list", "--limit", "0"},
        {"deal", "add", "1", "--amount", "12.345"},
        {"deal", "add", "1", "--amount", "1.5", "--currency", "JPY"},
        {"deal", "add", "1", "--amount", "abc"},
        {"deal", "add", "1", "--amount", "5 USD", "--currency", "CNY"},
        {"deal", "add", "1", "--amount", "5", "--currency", "USDX"},
        {"deal", "add", "1", "--amount", "5", "--currency", "US"},
        {"deal", "add", "1", "--amount", "5", "--set", "breach=maybe"},
        {"deal", "add", "1"},
        {"note", "add", "1", "--channel", "fax", "--summary", "x"},
        {"note", "add", "1", "--channel", "phone", "--summary", "x", "--at", "2026-02-30"},
        {"note", "add", "1", "--channel", "phone", "--summary", "x", "--at", "tomorrow"},
        {"note", "add", "1", "--channel", "phone", "--summary", "x", "--next-follow-up", "12/01"},
        {"feedback", "add", "1", "--kind", "praise", "--score", "9", "--text", "x"},
        {"task", "add", "1", "--due", "next week", "--title", "x"},
        {"task", "list", "--due-before", "2026-13-01"},
        {"field", "define", "x", "--type", "colour"},
        {"customer", "frobnicate"},
    };
    size_t before;
    json_t *j;

    (void)state;
    CLI_EXPECT(0, "--json", "customer", "list", "--all", "--archived");
    j = stdout_json();
    before = json_array_size(jget(j, "records"));
    json_decref(j);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[12] = {"--json"};
        size_t n = 1;

        for (size_t k = 0; k < 10 && cases[i][k]; k++)
            argv[n++] = cases[i][k];
        argv[n] = NULL;
        dgt_cli(&run, cfg, NULL, argv);
        if (run.status != 2)
            fail_msg("case %zu (%s %s ... %s): exit %d: %s", i, cases[i][0], cases[i][1],
                     cases[i][n - 2], run.status, run.err);
        assert_string_equal(run.out, "");
        json_decref(stderr_error());
    }
    CLI_EXPECT(0, "--json", "customer", "list", "--all", "--archived");
    j = stdout_json();
    assert_int_equal(json_array_size(jget(j, "records")), before); /* nothing was added */
    json_decref(j);
}

static void test_likely_duplicate_exits_8_naming_the_twin_then_force_adds(void **state)
{
    char code[32];
    json_t *j, *d;

    (void)state;
    add_customer("杭州西湖龙井茶叶有限公司", NULL, code);
    CLI_EXPECT(8, "customer", "add", "--name", "杭州西湖龙井茶叶有限公司");
    assert_string_equal(run.out, "");
    assert_non_null(strstr(run.err, code));
    assert_non_null(strstr(run.err, "admin")); /* the twin's owner */
    assert_non_null(strstr(run.err, "--force"));
    CLI_EXPECT(8, "--json", "customer", "add", "--name", "杭州西湖龙井茶叶有限公司");
    assert_string_equal(run.out, "");
    j = stderr_error();
    assert_string_equal(jstr(j, "error.code"), "ALREADY_EXISTS");
    assert_string_equal(jstr(j, "error.reason"), "likely_duplicate");
    d = jget(j, "error.duplicates.0");
    assert_string_equal(jstr(d, "code"), code);
    assert_string_equal(jstr(d, "name"), "杭州西湖龙井茶叶有限公司");
    assert_string_equal(jstr(d, "owner"), "admin");
    assert_string_equal(jstr(d, "matched_on"), "name");
    json_decref(j);
    CLI_EXPECT(0, "--json", "customer", "add", "--name", "杭州西湖龙井茶叶有限公司", "--force");
    j = stdout_json();
    assert_string_not_equal(jstr(j, "record.customer.code"), code);
    json_decref(j);
}

static void test_conflicting_edit_exits_7_but_another_field_applies(void **state)
{
    char code[32];
    json_t *j;

    (void)state;
    add_customer("成都天府软件园", (const char *[]){"tier=c", NULL}, code);
    CLI_EXPECT(0, "customer", "edit", code, "--set", "tier=b"); /* someone: version 1 → 2 */
    assert_non_null(strstr(run.out, "version 2"));
    CLI_EXPECT(7, "customer", "edit", code, "--set", "tier=a", "--version", "1");
    assert_string_equal(run.out, "");
    assert_non_null(strstr(run.err, "tier is now: b"));
    CLI_EXPECT(7, "--json", "customer", "edit", code, "--set", "tier=a", "--version", "1");
    assert_string_equal(run.out, "");
    j = stderr_error();
    assert_string_equal(jstr(j, "error.code"), "ABORTED");
    assert_string_equal(jstr(j, "error.reason"), "version_conflict");
    assert_string_equal(jstr(j, "error.conflicting_fields.0"), "tier");
    assert_string_equal(jstr(j, "error.record.customer.tier"), "b");
    json_decref(j);
    /* The same old version, but a field nobody touched since: applied. */
    CLI_EXPECT(0, "--json", "customer", "edit", code, "--set", "region=四川", "--version", "1");
    j = stdout_json();
    assert_int_equal(jint(j, "record.customer.version"), 3);
    assert_string_equal(jstr(j, "record.customer.region"), "四川");
    assert_string_equal(jstr(j, "record.customer.tier"), "b");
    json_decref(j);
}

static void test_edit_reads_the_current_version_and_unset_clears(void **state)
{
    char code[32];
    json_t *j;

    (void)state;
    add_customer("广州白云制药", (const char *[]){"phone=020-8888-0000", "tags=a,b", NULL}, code);
    CLI_EXPECT(0, "customer", "edit", code, "--set", "email=info@baiyun.example");
    CLI_EXPECT(0, "--json", "customer", "edit", code, "--unset", "phone", "--unset", "tags",
               "--set", "owner=me", "--set", "kind=person");
    j = stdout_json();
    assert_int_equal(jint(j, "record.customer.version"), 3);
    assert_string_equal(jstr(j, "record.customer.phone"), "");
    assert_int_equal(json_array_size(jget(j, "record.customer.tags")), 0);
    assert_string_equal(jstr(j, "record.customer.email"), "info@baiyun.example");
    assert_string_equal(jstr(j, "record.customer.owner.username"), "admin");
    assert_string_equal(jstr(j, "record.customer.kind"), "person");
    json_decref(j);
}

static void test_archive_hides_and_restore_brings_back(void **state)
{
    char code[32];
    json_t *j;

    (void)state;
    add_customer("深圳前海物流", (const char *[]){"tags=arch", NULL}, code);
    CLI_EXPECT(0, "customer", "archive", code);
    assert_non_null(strstr(run.out, "Archived"));
    CLI_EXPECT(9, "customer", "archive", code); /* already archived */
    CLI_EXPECT(0, "customer", "list", "--tag", "arch");
    assert_null(strstr(run.out, code));
    CLI_EXPECT(0, "--json", "customer", "list", "--tag", "arch", "--archived");
    j = stdout_json();
    assert_true(json_is_true(jget(j, "records.0.customer.archived")));
    json_decref(j);
    CLI_EXPECT(0, "--json", "customer", "restore", code);
    j = stdout_json();
    assert_true(json_is_false(jget(j, "record.customer.archived")));
    json_decref(j);
    CLI_EXPECT(0, "customer", "list", "--tag", "arch");
    assert_non_null(strstr(run.out, code));
}

static void test_list_table_aligns_chinese_and_latin_rows(void **state)
{
    char a[32], b[32], head[512], row_a[512], row_b[512];

    (void)state;
    add_customer("北京天坛家具有限公司",
                 (const char *[]){"tags=cjk", "tier=a", "region=华北区", "status=active", NULL}, a);
    add_customer("Acme Ltd",
                 (const char *[]){"tags=cjk", "tier=b", "region=Berlin", "status=active", NULL}, b);
    CLI_EXPECT(0, "customer", "list", "--tag", "cjk");
    line_with(run.out, "CODE", head, sizeof head);
    line_with(run.out, a, row_a, sizeof row_a);
    line_with(run.out, b, row_b, sizeof row_b);
    /* Same display column, although the byte offsets differ (3 bytes, 2 columns per hanzi). */
    assert_int_equal(display_col(row_a, "active"), display_col(head, "STATUS"));
    assert_int_equal(display_col(row_b, "active"), display_col(head, "STATUS"));
    assert_int_equal(display_col(row_a, "华北区"), display_col(head, "REGION"));
    assert_int_equal(display_col(row_b, "Berlin"), display_col(head, "REGION"));
    assert_int_not_equal(strstr(row_a, "active") - row_a, strstr(row_b, "active") - row_b);
    assert_null(strstr(run.out, " \n")); /* no trailing blanks */
}

static void test_list_filters(void **state)
{
    json_t *j;

    (void)state;
    add_customer("过滤一号",
                 (const char *[]){"tags=flt", "tier=a", "status=active", "industry=机械",
                                  "region=华北", NULL},
                 NULL);
    add_customer("过滤二号",
                 (const char *[]){"tags=flt", "tier=b", "status=lost", "churn_reason=价格",
                                  "industry=机械", "region=华南", NULL},
                 NULL);
    add_customer("过滤三号",
                 (const char *[]){"tags=flt", "tier=c", "status=active", "industry=化工",
                                  "region=华南", NULL},
                 NULL);
#define COUNT(n, ...)                                                                              \
    do {                                                                                           \
        CLI_EXPECT(0, "--json", "customer", "list", "--tag", "flt", __VA_ARGS__);                  \
        j = stdout_json();                                                                         \
        assert_int_equal(json_array_size(jget(j, "records")), (n));                                \
        json_decref(j);                                                                            \
    } while (0)
    COUNT(1, "--tier", "a");
    COUNT(2, "--tier", "a,b");
    COUNT(2, "--tier", "a", "--tier", "C");
    COUNT(2, "--status", "active");
    COUNT(2, "--industry", "机械");
    COUNT(2, "--region", "华南");
    COUNT(1, "--region", "华南", "--industry", "化工");
    COUNT(3, "--owner", "me");
    COUNT(3, "--owner", "admin");
#undef COUNT
    CLI_EXPECT(9, "customer", "list", "--owner", "nobody");
    CLI_EXPECT(0, "--json", "customer", "list", "--tag", "flt", "--sort", "-tier");
    j = stdout_json();
    assert_string_equal(jstr(j, "records.0.customer.name"), "过滤三号");
    json_decref(j);
}

static void test_list_pages_with_limit_and_cursor(void **state)
{
    char name[32], cursor[512], seen[4096] = "";
    const char *p;
    json_t *j;

    (void)state;
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "Paging Co %d", i);
        add_customer(name, (const char *[]){"tags=pg", NULL}, NULL);
    }
    CLI_EXPECT(0, "customer", "list", "--tag", "pg", "--limit", "2");
    assert_int_equal(count_lines(run.out), 3); /* header + 2 */
    strcat(seen, run.out);
    for (int page = 2; page <= 3; page++) {
        assert_non_null(p = strstr(run.err, "--cursor "));
        sscanf(p + 9, "%511s", cursor);
        CLI_EXPECT(0, "customer", "list", "--tag", "pg", "--limit", "2", "--cursor", cursor);
        assert_int_equal(count_lines(run.out), page == 2 ? 3 : 2);
        for (int i = 0; i < 5; i++) { /* no row twice */
            snprintf(name, sizeof name, "Paging Co %d", i);
            assert_false(strstr(run.out, name) && strstr(seen, name));
        }
        strcat(seen, run.out);
    }
    assert_null(strstr(run.err, "--cursor")); /* the last page */
    CLI_EXPECT(0, "--json", "customer", "list", "--tag", "pg", "--limit", "2");
    j = stdout_json();
    assert_true(strlen(jstr(j, "next_cursor")) > 0);
    json_decref(j);
    CLI_EXPECT(0, "--json", "customer", "list", "--tag", "pg", "--limit", "2", "--all");
    j = stdout_json();
    assert_int_equal(json_array_size(jget(j, "records")), 5);
    assert_string_equal(jstr(j, "next_cursor"), "");
    json_decref(j);
    CLI_EXPECT(9, "customer", "list", "--tag", "pg", "--cursor", "not-a-cursor");
}

static void test_search_chinese_latin_and_phone(void **state)
{
    char code[32], row[512];
    json_t *j;

    (void)state;
    add_customer("苏州丝绸进出口公司",
                 (const char *[]){"phone=0512-6677-8899", "tier=b", "notes=Silk exporter", NULL},
                 code);
    CLI_EXPECT(0, "customer", "search", "丝绸");
    line_with(run.out, code, row, sizeof row);
    assert_non_null(strstr(row, "name"));
    CLI_EXPECT(0, "customer", "search", "051266778899");
    line_with(run.out, code, row, sizeof row);
    assert_non_null(strstr(row, "phone"));
    CLI_EXPECT(0, "--json", "customer", "search", "SILK");
    j = stdout_json();
    assert_string_equal(jstr(j, "hits.0.customer.code"), code);
    assert_true(json_is_array(jget(j, "hits.0.matched")));
    json_decref(j);
    CLI_EXPECT(0, "customer", "search", "丝绸", "--tier", "a");
    assert_null(strstr(run.out, code));
    CLI_EXPECT(2, "customer", "search");
}

/* ------------------------------------------------------------ the rest of the dossier */

static void test_contacts_add_edit_rm_list(void **state)
{
    char code[32], ids[32];
    int64_t customer;
    json_t *j;

    (void)state;
    customer = add_customer("武汉长江机电", NULL, code);
    CLI_EXPECT(0, "--json", "contact", "add", code, "--name", "张三", "--set", "role=main_contact",
               "--set", "mobile=138-1234-5678", "--set", "title=总经理");
    j = stdout_json();
    assert_int_equal(jint(j, "record.contact.customer_id"), customer);
    assert_int_equal(jint(j, "record.contact.version"), 1);
    snprintf(ids, sizeof ids, "%lld", (long long)jint(j, "record.contact.id"));
    json_decref(j);
    CLI_EXPECT(0, "contact", "add", code, "--name", "Li Si", "--set", "email=li@example.com");
    CLI_EXPECT(0, "contact", "list", code);
    assert_non_null(strstr(run.out, "张三"));
    assert_non_null(strstr(run.out, "main_contact"));
    assert_non_null(strstr(run.out, "Li Si"));
    CLI_EXPECT(0, "contact", "edit", ids, "--set", "title=董事长");
    CLI_EXPECT(0, "customer", "show", code);
    assert_non_null(strstr(run.out, "董事长"));
    assert_non_null(strstr(run.out, "People (2)"));
    CLI_EXPECT(0, "contact", "rm", ids);
    CLI_EXPECT(0, "--json", "contact", "list", code);
    j = stdout_json();
    assert_int_equal(json_array_size(jget(j, "records")), 1);
    assert_string_equal(jstr(j, "records.0.contact.name"), "Li Si");
    json_decref(j);
    CLI_EXPECT(2, "contact", "add", code); /* no --name */
    CLI_EXPECT(2, "contact", "rm", "abc");
}

static void test_notes_take_local_or_zoned_times(void **state)
{
    char code[32];
    json_t *j;

    (void)state;
    add_customer("西安古城旅游", NULL, code);
    CLI_EXPECT(0, "--json", "note", "add", code, "--channel", "phone", "--summary", "电话回访",
               "--at", "2026-11-22T09:30", "--next-follow-up", "2026-12-01");
    j = stdout_json();
    assert_int_equal(jint(j, "record.interaction.at_ms"), utc_ms(2026, 11, 22, 9, 30, 8 * 3600));
    assert_string_equal(jstr(j, "record.interaction.channel"), "phone");
    assert_string_equal(jstr(j, "record.interaction.next_follow_up"), "2026-12-01");
    json_decref(j);
    CLI_EXPECT(0, "--json", "note", "add", code, "--channel", "visit", "--summary", "Site visit",
               "--at", "2026-11-23T09:30Z");
    j = stdout_json();
    assert_int_equal(jint(j, "record.interaction.at_ms"), utc_ms(2026, 11, 23, 9, 30, 0));
    json_decref(j);
    CLI_EXPECT(0, "--json", "note", "add", code, "--channel", "email", "--summary", "Quote", "--at",
               "2026-11-21 18:00-05:00");
    j = stdout_json();
    assert_int_equal(jint(j, "record.interaction.at_ms"), utc_ms(2026, 11, 21, 18, 0, -5 * 3600));
    json_decref(j);
    CLI_EXPECT(0, "note", "list", code);
    assert_non_null(strstr(run.out, "2026-11-22 09:30")); /* local time, CST-8 */
    assert_non_null(strstr(run.out, "2026-11-23 17:30"));
    assert_true(strstr(run.out, "Site visit") < strstr(run.out, "电话回访")); /* latest first */
    CLI_EXPECT(0, "customer", "show", code);
    assert_non_null(strstr(run.out, "last contact 2026-11-23 17:30"));
    assert_non_null(strstr(run.out, "Interactions (3)"));
}

static void test_deals_take_decimal_amounts_and_total_per_currency(void **state)
{
    char code[32];
    json_t *j;

    (void)state;
    add_customer("青岛港口贸易", NULL, code);
    CLI_EXPECT(0, "--json", "deal", "add", code, "--amount", "12345.67", "--at", "2026-10-01");
    j = stdout_json();
    assert_int_equal(jint(j, "record.deal.amount.amount_minor"), 1234567);
    assert_string_equal(jstr(j, "record.deal.amount.currency"), "CNY");
    assert_int_equal(jint(j, "record.deal.at_ms"), utc_ms(2026, 10, 1, 0, 0, 8 * 3600));
    json_decref(j);
    CLI_EXPECT(0, "deal", "add", code, "--amount", "1,000.5", "--set", "number=HT-2026-01");
    CLI_EXPECT(0, "--json", "deal", "add", code, "--amount", "1200", "--currency", "jpy");
    j = stdout_json();
    assert_int_equal(jint(j, "record.deal.amount.amount_minor"), 1200);
    assert_string_equal(jstr(j, "record.deal.amount.currency"), "JPY");
    json_decref(j);
    CLI_EXPECT(0, "--json", "deal", "add", code, "--amount", "99.9 USD");
    j = stdout_json();
    assert_int_equal(jint(j, "record.deal.amount.amount_minor"), 9990);
    json_decref(j);
    CLI_EXPECT(0, "deal", "list", code);
    assert_non_null(strstr(run.out, "CNY 12,345.67"));
    assert_non_null(strstr(run.out, "2026-10-01")); /* a date at local midnight */
    assert_non_null(strstr(
        run.out, "Total: CNY 13,346.17 in 2 deals; JPY 1,200 in 1 deal; USD 99.90 in 1 deal"));
    CLI_EXPECT(0, "customer", "show", code);
    assert_non_null(strstr(run.out, "CNY 13,346.17 in 2 deals"));
    CLI_EXPECT(0, "--json", "customer", "show", code);
    j = stdout_json();
    assert_string_equal(jstr(j, "dossier.deal_totals.0.currency"), "CNY");
    assert_int_equal(jint(j, "dossier.deal_totals.0.amount_minor"), 1334617);
    assert_int_equal(jint(j, "dossier.deal_totals.0.count"), 2);
    json_decref(j);
}

static void test_feedback_add_list_and_summary(void **state)
{
    char code[32], other[32], row[512];
    json_t *j;

    (void)state;
    add_customer("厦门鼓浪屿酒店", NULL, code);
    add_customer("福州茉莉花茶", NULL, other);
    CLI_EXPECT(0, "feedback", "add", code, "--kind", "complaint", "--score", "2", "--text",
               "交货延迟");
    CLI_EXPECT(0, "--json", "feedback", "add", code, "--kind", "praise", "--score", "5", "--text",
               "Great service");
    j = stdout_json();
    assert_int_equal(jint(j, "record.feedback.satisfaction"), 5);
    assert_string_equal(jstr(j, "record.feedback.status"), "open");
    json_decref(j);
    CLI_EXPECT(0, "feedback", "add", other, "--kind", "suggestion", "--text", "更多口味");
    CLI_EXPECT(0, "feedback", "list", code);
    assert_non_null(strstr(run.out, "交货延迟"));
    assert_null(strstr(run.out, "更多口味"));
    CLI_EXPECT(0, "feedback", "list"); /* everyone's, with the customer named */
    line_with(run.out, "更多口味", row, sizeof row);
    assert_non_null(strstr(row, other));
    CLI_EXPECT(0, "customer", "show", code);
    assert_non_null(strstr(run.out, "2 in all"));
    assert_non_null(strstr(run.out, "average satisfaction 3.5"));
    CLI_EXPECT(2, "feedback", "add", code, "--kind", "praise"); /* no --text */
}

static void test_tasks_add_list_and_done(void **state)
{
    char code[32], ids[32];
    json_t *j;

    (void)state;
    add_customer("大连海鲜加工", NULL, code);
    CLI_EXPECT(0, "--json", "task", "add", code, "--due", "2026-12-01", "--title", "寄送样品");
    j = stdout_json();
    assert_int_equal(jint(j, "record.task.due_at_ms"), utc_ms(2026, 12, 1, 0, 0, 8 * 3600));
    assert_string_equal(jstr(j, "record.task.assignee.username"), "admin");
    snprintf(ids, sizeof ids, "%lld", (long long)jint(j, "record.task.id"));
    json_decref(j);
    CLI_EXPECT(0, "task", "add", code, "--due", "2027-03-01T15:00", "--title", "Renewal call",
               "--assignee", "admin");
    CLI_EXPECT(0, "task", "list", code);
    assert_non_null(strstr(run.out, "2026-12-01"));
    assert_non_null(strstr(run.out, "2027-03-01 15:00"));
    assert_true(strstr(run.out, "寄送样品") < strstr(run.out, "Renewal call")); /* soonest first */
    CLI_EXPECT(0, "task", "list", "--mine", "--due-before", "2027-01-01");
    assert_non_null(strstr(run.out, "寄送样品"));
    assert_null(strstr(run.out, "Renewal call"));
    assert_non_null(strstr(run.out, code)); /* all customers' tasks: a CUSTOMER column */
    CLI_EXPECT(0, "--json", "task", "done", ids);
    j = stdout_json();
    assert_true(json_is_true(jget(j, "record.task.done")));
    assert_true(jint(j, "record.task.done_at_ms") > 0);
    json_decref(j);
    CLI_EXPECT(0, "task", "list", code);
    assert_null(strstr(run.out, "寄送样品"));
    CLI_EXPECT(0, "task", "list", code, "--include-done");
    assert_non_null(strstr(run.out, "寄送样品"));
    CLI_EXPECT(0, "customer", "show", code);
    assert_non_null(strstr(run.out, "Open tasks (1)"));
    CLI_EXPECT(5, "task", "done", "999999");
}

static void test_custom_field_define_set_and_filter(void **state)
{
    char gold[32], silver[32];
    json_t *j;

    (void)state;
    CLI_EXPECT(0, "--json", "field", "define", "level", "--type", "choice", "--choices",
               "gold,silver", "--label", "客户等级");
    j = stdout_json();
    assert_string_equal(jstr(j, "field.name"), "level");
    assert_string_equal(jstr(j, "field.type"), "choice");
    assert_int_equal(json_array_size(jget(j, "field.choices")), 2);
    json_decref(j);
    CLI_EXPECT(8, "field", "define", "level", "--type", "text"); /* already defined */
    CLI_EXPECT(0, "field", "list");
    assert_non_null(strstr(run.out, "客户等级"));
    add_customer("自定义金", (const char *[]){"custom.level=gold", "tags=cf", NULL}, gold);
    add_customer("自定义银", (const char *[]){"tags=cf", NULL}, silver);
    CLI_EXPECT(0, "customer", "edit", silver, "--set", "custom.level=silver");
    CLI_EXPECT(9, "customer", "edit", silver, "--set", "custom.level=bronze"); /* not a choice */
    CLI_EXPECT(9, "customer", "edit", silver, "--set", "custom.nosuch=1");
    CLI_EXPECT(0, "--json", "customer", "list", "--tag", "cf", "--custom", "level=gold");
    j = stdout_json();
    assert_int_equal(json_array_size(jget(j, "records")), 1);
    assert_string_equal(jstr(j, "records.0.customer.code"), gold);
    assert_string_equal(jstr(j, "records.0.customer.custom.0.value"), "gold");
    json_decref(j);
    CLI_EXPECT(0, "customer", "show", gold);
    assert_non_null(strstr(run.out, "客户等级"));
    CLI_EXPECT(0, "customer", "edit", gold, "--unset", "custom.level");
    CLI_EXPECT(0, "--json", "customer", "show", gold);
    j = stdout_json();
    assert_int_equal(json_array_size(jget(j, "record.customer.custom")), 0);
    json_decref(j);
}

/* ------------------------------------------------------------ every command */

static void test_every_record_command_has_help(void **state)
{
    static const char *const cmds[][2] = {
        {"customer", NULL},   {"customer", "add"},     {"customer", "show"},
        {"customer", "edit"}, {"customer", "archive"}, {"customer", "restore"},
        {"customer", "list"}, {"customer", "search"},  {"contact", NULL},
        {"contact", "add"},   {"contact", "edit"},     {"contact", "rm"},
        {"contact", "list"},  {"note", "add"},         {"note", "list"},
        {"deal", "add"},      {"deal", "list"},        {"feedback", "add"},
        {"feedback", "list"}, {"task", "add"},         {"task", "list"},
        {"task", "done"},     {"field", "define"},     {"field", "list"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (cmds[i][1])
            CLI(NULL, cmds[i][0], cmds[i][1], "--help");
        else
            CLI(NULL, cmds[i][0], "--help");
        if (run.status != 0 || !strstr(run.out, "usage: dangan"))
            fail_msg("%s %s --help: exit %d: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
                     run.status, run.out);
    }
    CLI(NULL, "--help");
    assert_non_null(strstr(run.out, "customer"));
    assert_non_null(strstr(run.out, "feedback"));
}

/* Runs the CLI on a pseudo-terminal `cols` wide; returns its output. */
static void run_on_tty(int cols, const char *const *argv, char *out, size_t len)
{
    struct winsize ws = {.ws_row = 40, .ws_col = (unsigned short)cols};
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

        if (poll(&p, 1, 60000) <= 0)
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

static void test_tables_fit_the_terminal_and_cut_with_an_ellipsis(void **state)
{
    static char out[65536];
    char *line, *save = NULL;
    bool has_cut = false;

    (void)state;
    add_customer("一个非常非常非常长的客户名称用于测试截断功能是否正常工作有限公司",
                 (const char *[]){"tags=tty", "region=广东省深圳市南山区科技园南区", NULL}, NULL);
    add_customer("Short Name", (const char *[]){"tags=tty", NULL}, NULL);
    run_on_tty(60, (const char *const[]){"customer", "list", "--tag", "tty", NULL}, out,
               sizeof out);
    for (line = strtok_r(out, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        if (dg_utf8_width(line) > 60)
            fail_msg("wider than the terminal (%zu): %s", dg_utf8_width(line), line);
        has_cut |= strstr(line, "…") != NULL;
    }
    assert_true(has_cut);
    CLI_EXPECT(0, "customer", "list", "--tag", "tty"); /* not a terminal: whole values */
    assert_non_null(
        strstr(run.out, "一个非常非常非常长的客户名称用于测试截断功能是否正常工作有限公司"));
    assert_null(strstr(run.out, "…"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_customer_add_json_has_id_version_and_code),
        cmocka_unit_test(test_customer_show_by_code_and_by_id),
        cmocka_unit_test(test_unknown_ref_exits_5),
        cmocka_unit_test(test_unknown_field_is_a_usage_error_naming_the_fields),
        cmocka_unit_test(test_bad_values_are_usage_errors_and_nothing_is_sent),
        cmocka_unit_test(test_likely_duplicate_exits_8_naming_the_twin_then_force_adds),
        cmocka_unit_test(test_conflicting_edit_exits_7_but_another_field_applies),
        cmocka_unit_test(test_edit_reads_the_current_version_and_unset_clears),
        cmocka_unit_test(test_archive_hides_and_restore_brings_back),
        cmocka_unit_test(test_list_table_aligns_chinese_and_latin_rows),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_pages_with_limit_and_cursor),
        cmocka_unit_test(test_search_chinese_latin_and_phone),
        cmocka_unit_test(test_contacts_add_edit_rm_list),
        cmocka_unit_test(test_notes_take_local_or_zoned_times),
        cmocka_unit_test(test_deals_take_decimal_amounts_and_total_per_currency),
        cmocka_unit_test(test_feedback_add_list_and_summary),
        cmocka_unit_test(test_tasks_add_list_and_done),
        cmocka_unit_test(test_custom_field_define_set_and_filter),
        cmocka_unit_test(test_every_record_command_has_help),
        cmocka_unit_test(test_tables_fit_the_terminal_and_cut_with_an_ellipsis),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
