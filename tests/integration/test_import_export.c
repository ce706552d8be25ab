/* test_import_export.c - `dangan import customers` and `dangan export`
 * against a real server, with files made the way spreadsheet programs make
 * them: Python's csv module in its "excel" dialect (quotes only where
 * needed, doubled quotes, CRLF, line breaks inside quoted cells) saved as
 * GB18030 or UTF-8 with a byte-order mark, and openpyxl workbooks (Debian's
 * python3-openpyxl) with shared strings, numbers and date cells. Exported
 * workbooks are read back by openpyxl, an independent reader.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define PYTHON "/usr/bin/python3" /* Debian's, with python3-openpyxl */

static dgt_server srv;
static char dir[256], cfg_admin[300], cfg_mgr[300], cfg_s1[300], cfg_viewer[300];
static dgt_run run;

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "CST-8", 1);
    dgt_server_start(&srv, NULL);
    dgt_tempdir(dir, sizeof dir);
    snprintf(cfg_admin, sizeof cfg_admin, "%s/cfg-admin", dir);
    snprintf(cfg_mgr, sizeof cfg_mgr, "%s/cfg-mgr", dir);
    snprintf(cfg_s1, sizeof cfg_s1, "%s/cfg-s1", dir);
    snprintf(cfg_viewer, sizeof cfg_viewer, "%s/cfg-viewer", dir);
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-password-1");
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-password-2");
    dgt_make_user(&srv, "v1", DANGAN__V1__ROLE__ROLE_VIEWER, "viewer-password-1");
    dgt_cli_login(&run, cfg_admin, &srv, "admin", srv.admin_password);
    dgt_cli_login(&run, cfg_mgr, &srv, "mgr", "manager-password-1");
    dgt_cli_login(&run, cfg_s1, &srv, "s1", "sales-password-1");
    dgt_cli_login(&run, cfg_viewer, &srv, "v1", "viewer-password-1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(dir);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ helpers */

#define CLI_AS(cfg, input, ...)                                                                    \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

#define EXPECT(cfg, status_, ...)                                                                  \
    do {                                                                                           \
        CLI_AS(cfg, NULL, __VA_ARGS__);                                                            \
        if (run.status != (status_))                                                               \
            fail_msg("exit %d, wanted %d\nstdout: %s\nstderr: %s", run.status, (status_), run.out, \
                     run.err);                                                                     \
    } while (0)

/* Runs a Python script (stdin) with arguments; it must succeed. */
static void python(const char *script, const char *arg1, const char *arg2)
{
    const char *argv[] = {"-", arg1, arg2, NULL};

    dgt_run_program(&run, PYTHON, script, argv);
    if (run.status != 0)
        fail_msg("python failed (%d): %s", run.status, run.err);
}

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static json_t *out_json(void)
{
    json_error_t e;
    json_t *j = json_loads(run.out, 0, &e);

    if (!j)
        fail_msg("stdout is not JSON (%s): %s", e.text, run.out);
    return j;
}

/* The customer named `name` as `customer show --json` prints it (the caller
 * decrefs), or NULL when the list has none of that name. */
static json_t *customer_named(const char *cfg, const char *name)
{
    json_t *list, *found = NULL, *rec;
    size_t i;
    char id[32];

    EXPECT(cfg, 0, "--json", "customer", "list", "--all", "--archived");
    list = out_json();
    json_array_foreach(json_object_get(list, "records"), i, rec)
    {
        json_t *cu = json_object_get(rec, "customer");

        if (!strcmp(json_string_value(json_object_get(cu, "name")), name)) {
            snprintf(id, sizeof id, "%lld",
                     (long long)json_integer_value(json_object_get(cu, "id")));
            EXPECT(cfg, 0, "--json", "customer", "show", id);
            found = out_json();
        }
    }
    json_decref(list);
    return found;
}

static size_t customer_count(void)
{
    json_t *list;
    size_t n;

    EXPECT(cfg_admin, 0, "--json", "customer", "list", "--all", "--archived");
    list = out_json();
    n = json_array_size(json_object_get(list, "records"));
    json_decref(list);
    return n;
}

static const char *cu_str(json_t *shown, const char *field)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(shown, "record"), "customer"), field));
}

/* The first contact of a shown dossier. */
static json_t *first_contact(json_t *shown)
{
    return json_array_get(json_object_get(json_object_get(shown, "dossier"), "contacts"), 0);
}

static long long count_of(json_t *summary, const char *key)
{
    return (long long)json_integer_value(json_object_get(summary, key));
}

/* A CSV in the excel dialect: argv[1] the path, argv[2] the encoding, rows
 * as JSON on the script's own line. */
static void write_csv(const char *path, const char *encoding, const char *rows_json)
{
    char script[8192];

    snprintf(script, sizeof script,
             "import csv, io, json, sys\n"
             "rows = json.loads(%s)\n"
             "buf = io.StringIO(newline='')\n"
             "csv.writer(buf, dialect='excel').writerows(rows)\n"
             "open(sys.argv[1], 'wb').write(buf.getvalue().encode(sys.argv[2]))\n",
             rows_json);
    python(script, path, encoding);
}

/* ------------------------------------------------------------ import */

static const char ROWS_GB[] =
    "'''[[\"客户名称\", \"简称\", \"联系人\", \"手机\", \"电话\", \"地址\", \"行业\", \"地区\", "
    "\"邮箱\", \"网址\", \"等级\", \"备注\"],"
    " [\"北京迪金自动化设备有限公司\", \"迪金\", \"张伟\", \"13800138000\", \"010-6501 2345\","
    "  \"北京市朝阳区\\\\n建国路 88 号, 3 层\", \"自动化\", \"北京\", \"info@dijin.cn\","
    "  \"www.dijin.cn\", \"B\", \"他说：\\\\\"下周再联系\\\\\"，并要报价\"],"
    " [\"宁波安荣仓储有限公司\", \"\", \"\", \"\", \"0574-8888 1234\", \"\", \"仓储\", \"浙江\","
    "  \"\", \"\", \"C级\", \"\"]]'''";

static void test_gb18030_csv_with_quotes_and_line_breaks_imports_exactly(void **state)
{
    char path[300];
    json_t *sum, *c1, *c2, *ct;

    (void)state;
    path_of(path, sizeof path, "register-gb.csv");
    write_csv(path, "gb18030", ROWS_GB);
    EXPECT(cfg_mgr, 0, "--json", "import", "customers", path);
    sum = out_json();
    assert_int_equal(count_of(sum, "created"), 2);
    assert_int_equal(count_of(sum, "rejected"), 0);
    json_decref(sum);

    c1 = customer_named(cfg_mgr, "北京迪金自动化设备有限公司");
    assert_non_null(c1);
    assert_string_equal(cu_str(c1, "short_name"), "迪金");
    assert_string_equal(cu_str(c1, "address"), "北京市朝阳区\n建国路 88 号, 3 层");
    assert_string_equal(cu_str(c1, "notes"), "他说：\"下周再联系\"，并要报价");
    assert_string_equal(cu_str(c1, "phone"), "010-6501 2345");
    assert_string_equal(cu_str(c1, "email"), "info@dijin.cn");
    assert_string_equal(cu_str(c1, "tier"), "b");
    ct = first_contact(c1);
    assert_non_null(ct);
    assert_string_equal(json_string_value(json_object_get(ct, "name")), "张伟");
    assert_string_equal(json_string_value(json_object_get(ct, "mobile")), "13800138000");
    c2 = customer_named(cfg_mgr, "宁波安荣仓储有限公司");
    assert_non_null(c2);
    assert_string_equal(cu_str(c2, "tier"), "c"); /* "C级" */
    assert_null(first_contact(c2));               /* no contact columns filled: none made */
    json_decref(c1);
    json_decref(c2);
}

static void test_second_import_of_the_same_file_changes_nothing(void **state)
{
    char path[300];
    json_t *sum, *before, *after;
    size_t n;

    (void)state;
    path_of(path, sizeof path, "register-gb.csv"); /* imported by the test above */
    n = customer_count();
    before = customer_named(cfg_mgr, "北京迪金自动化设备有限公司");
    EXPECT(cfg_mgr, 0, "--json", "import", "customers", path);
    sum = out_json();
    assert_int_equal(count_of(sum, "created"), 0);
    assert_int_equal(count_of(sum, "updated"), 0);
    assert_int_equal(count_of(sum, "skipped"), 2);
    json_decref(sum);
    /* --on-duplicate update finds nothing that differs either */
    EXPECT(cfg_mgr, 0, "--json", "import", "customers", path, "--on-duplicate", "update");
    sum = out_json();
    assert_int_equal(count_of(sum, "updated"), 0);
    assert_int_equal(count_of(sum, "skipped"), 2);
    json_decref(sum);
    assert_int_equal(customer_count(), n);
    after = customer_named(cfg_mgr, "北京迪金自动化设备有限公司");
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(after, "record"), "customer"), "version")),
        json_integer_value(json_object_get(
            json_object_get(json_object_get(before, "record"), "customer"), "version")));
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(after, "dossier"), "contacts")), 1);
    json_decref(before);
    json_decref(after);
}

static void test_utf8_bom_csv_imports(void **state)
{
    char path[300];
    json_t *sum, *c;

    (void)state;
    path_of(path, sizeof path, "bom.csv");
    write_csv(path, "utf-8-sig",
              "'''[[\"name\", \"industry\", \"contact.name\", \"contact.title\"],"
              " [\"杭州青禾茶业\", \"茶叶\", \"陈静\", \"采购经理\"]]'''");
    EXPECT(cfg_mgr, 0, "--json", "import", "customers", path);
    sum = out_json();
    assert_int_equal(count_of(sum, "created"), 1);
    json_decref(sum);
    c = customer_named(cfg_mgr, "杭州青禾茶业");
    assert_non_null(c); /* the byte-order mark did not become part of the first header */
    assert_string_equal(cu_str(c, "industry"), "茶叶");
    assert_string_equal(json_string_value(json_object_get(first_contact(c), "title")), "采购经理");
    json_decref(c);
}

static void test_xlsx_imports_strings_numbers_and_dates(void **state)
{
    char path[300];
    json_t *sum, *c;

    (void)state;
    path_of(path, sizeof path, "register.xlsx");
    python("import datetime, sys, openpyxl\n"
           "wb = openpyxl.Workbook(); ws = wb.active\n"
           "ws.append(['客户名称', '联系人', '手机', '成立日期', '注册资本', '等级', '备注'])\n"
           "ws.append(['深圳星河电子有限公司', '刘洋', 13912345678, datetime.date(2003, 7, 15),"
           " 5000000, 'A', '多行\\n备注'])\n"
           "wb.save(sys.argv[1])\n",
           path, "");
    EXPECT(cfg_mgr, 0, "--json", "import", "customers", path);
    sum = out_json();
    assert_int_equal(count_of(sum, "created"), 1);
    json_decref(sum);
    c = customer_named(cfg_mgr, "深圳星河电子有限公司");
    assert_non_null(c);
    assert_string_equal(cu_str(c, "founded_on"), "2003-07-15");
    assert_string_equal(cu_str(c, "notes"), "多行\n备注");
    assert_string_equal(cu_str(c, "tier"), "a");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(json_object_get(c, "record"), "customer"),
                                         "registered_capital"),
                         "amount_minor")),
                     500000000);
    assert_string_equal(json_string_value(json_object_get(first_contact(c), "mobile")),
                        "13912345678");
    json_decref(c);
}

static const char ROWS_BAD[] = "'''[[\"客户名称\", \"等级\", \"成立日期\", \"联系人\", \"手机\"],"
                               " [\"好客户一\", \"B\", \"2001-01-01\", \"\", \"\"],"
                               " [\"坏等级\", \"Z\", \"\", \"\", \"\"],"
                               " [\"\", \"C\", \"\", \"\", \"\"],"
                               " [\"坏日期\", \"B\", \"2001-02-30\", \"\", \"\"],"
                               " [\"没有联系人\", \"B\", \"\", \"\", \"13800000000\"],"
                               " [\"好客户二\", \"C\", \"\", \"王芳\", \"13700000000\"]]'''";

static void test_bad_rows_are_reported_by_line_and_column(void **state)
{
    char path[300], rejects[320];
    json_t *sum, *errors, *c;
    size_t n = customer_count();
    struct stat st;
    static const struct {
        long long line;
        const char *column;
    } want[] = {{3, "B (等级)"}, {4, "A (客户名称)"}, {5, "C (成立日期)"}, {6, "D (联系人)"}};

    (void)state;
    path_of(path, sizeof path, "bad.csv");
    snprintf(rejects, sizeof rejects, "%s.rejects.csv", path);
    write_csv(path, "utf-8", ROWS_BAD);

    EXPECT(cfg_mgr, 9, "--json", "import", "customers", path, "--dry-run");
    sum = out_json();
    errors = json_object_get(sum, "errors");
    assert_int_equal(json_array_size(errors), DG_ARRAY_LEN(want));
    for (size_t i = 0; i < DG_ARRAY_LEN(want); i++) {
        json_t *e = json_array_get(errors, i);

        assert_int_equal(json_integer_value(json_object_get(e, "line")), want[i].line);
        assert_string_equal(json_string_value(json_object_get(e, "column")), want[i].column);
        assert_true(strlen(json_string_value(json_object_get(e, "reason"))) > 0);
    }
    json_decref(sum);
    assert_int_equal(customer_count(), n); /* a dry run writes nothing */
    assert_int_not_equal(stat(rejects, &st), 0);

    EXPECT(cfg_mgr, 9, "--json", "import", "customers", path);
    sum = out_json();
    assert_int_equal(count_of(sum, "created"), 2);
    assert_int_equal(count_of(sum, "rejected"), 4);
    json_decref(sum);
    assert_int_equal(customer_count(), n + 2);
    c = customer_named(cfg_mgr, "好客户二");
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(first_contact(c), "name")), "王芳");
    json_decref(c);
    assert_null(customer_named(cfg_mgr, "坏等级"));
    /* the rejects: a CSV of the bad rows with line, column and reason */
    python("import csv, sys\n"
           "rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))\n"
           "assert rows[0][:3] == ['line', 'column', 'reason'], rows[0]\n"
           "assert [r[0] for r in rows[1:]] == ['3', '4', '5', '6'], rows\n"
           "assert rows[1][3] == '坏等级' and rows[1][1] == 'B (等级)', rows[1]\n",
           rejects, "");
}

static void test_import_as_sales_is_refused(void **state)
{
    char path[300];
    size_t n = customer_count();

    (void)state;
    path_of(path, sizeof path, "register-gb.csv");
    EXPECT(cfg_s1, 6, "import", "customers", path);
    EXPECT(cfg_s1, 6, "import", "customers", path, "--dry-run");
    assert_non_null(strstr(run.err, "managers and admins"));
    assert_int_equal(customer_count(), n);
}

static void test_import_is_audited_with_sha256_and_counts(void **state)
{
    char path[300], sha[65];
    json_t *list, *rec, *d;
    size_t i;
    bool found = false;

    (void)state;
    path_of(path, sizeof path, "register-gb.csv");
    python("import hashlib, sys\n"
           "print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())\n",
           path, "");
    snprintf(sha, sizeof sha, "%.64s", run.out);
    EXPECT(cfg_admin, 0, "--json", "audit", "list", "--action", "import.finish", "--limit", "0");
    list = out_json();
    json_array_foreach(list, i, rec)
    {
        d = json_object_get(rec, "detail");
        if (strcmp(json_string_value(json_object_get(d, "sha256")), sha) != 0 ||
            json_integer_value(json_object_get(d, "created")) != 2)
            continue;
        assert_string_equal(json_string_value(json_object_get(rec, "username")), "mgr");
        assert_int_equal(json_integer_value(json_object_get(d, "rejected")), 0);
        found = true;
    }
    assert_true(found);
    json_decref(list);
    /* the sales user's refusal is on record too */
    EXPECT(cfg_admin, 0, "--json", "audit", "list", "--action", "import.begin", "--outcome",
           "denied");
    list = out_json();
    assert_true(json_array_size(list) >= 1);
    json_decref(list);
}

/* ------------------------------------------------------------ export */

/* Customers of s1 and s2 (s2's B-tier one with a bank account, A-tier one
 * restricted), and one whose notes look like a formula. */
static void make_export_data(void)
{
    char path[300];
    json_t *sum;

    EXPECT(cfg_admin, 0, "field", "define", "erp_id", "--type", "text");
    path_of(path, sizeof path, "owners.csv");
    write_csv(
        path, "utf-8",
        "'''[[\"客户名称\", \"负责人\", \"等级\", \"银行账号\", \"备注\", \"注册资本\","
        " \"custom.erp_id\"],"
        " [\"甲方一号\", \"s1\", \"B\", \"6222020200112233445\", \"自己的\", \"1234.5\","
        " \"ERP-1\"],"
        " [\"乙方二号\", \"s2\", \"B\", \"6222020200998877665\", \"=HYPERLINK(\\\\\"x\\\\\")\","
        "  \"JPY 5000\"],"
        " [\"丙方三号\", \"s2\", \"A\", \"6222020200111111111\", \"机密\", \"\"]]'''");
    EXPECT(cfg_admin, 0, "--json", "import", "customers", path);
    sum = out_json();
    assert_int_equal(count_of(sum, "created"), 3);
    json_decref(sum);
}

static void test_exported_xlsx_read_by_openpyxl_equals_the_data(void **state)
{
    char path[300];

    (void)state;
    make_export_data();
    path_of(path, sizeof path, "s1.xlsx");
    EXPECT(cfg_s1, 0, "export", "customers", "-o", path);
    python("import sys, datetime, openpyxl\n"
           "wb = openpyxl.load_workbook(sys.argv[1]); ws = wb.active\n"
           "rows = list(ws.iter_rows(values_only=True))\n"
           "h = rows[0]; col = {name: i for i, name in enumerate(h)}\n"
           "by = {r[col['name']]: r for r in rows[1:]}\n"
           "assert ws.freeze_panes == 'A2', ws.freeze_panes\n"
           "assert '丙方三号' not in by, 'a restricted customer of another rep was exported'\n"
           "own, other = by['甲方一号'], by['乙方二号']\n"
           "assert own[col['bank_account']] == '6222020200112233445', own\n"
           "assert other[col['bank_account']] != '6222020200998877665', other\n"
           "assert '*' in other[col['bank_account']], other[col['bank_account']]\n"
           "assert other[col['notes']] == \"'=HYPERLINK(\\\"x\\\")\", other[col['notes']]\n"
           "assert own[col['registered_capital']] == 1234.5 and"
           " own[col['registered_capital_currency']] == 'CNY', own\n"
           "assert other[col['registered_capital']] == 5000 and"
           " other[col['registered_capital_currency']] == 'JPY', other\n"
           "assert isinstance(own[col['created_at_ms']], datetime.datetime), own\n"
           "assert own[col['owner']] == 's1' and own[col['tier']] == 'b', own\n"
           "assert own[col['custom.erp_id']] == 'ERP-1', own\n"
           "w = ws.column_dimensions['E'].width\n"
           "assert h[4] == 'name' and w >= 10, w  # 4 CJK characters: 8 columns and a margin\n",
           path, "");
}

static void test_exported_csv_has_bom_and_neutralised_formulas(void **state)
{
    char path[300];

    (void)state;
    path_of(path, sizeof path, "mgr.csv");
    EXPECT(cfg_mgr, 0, "export", "customers", "-o", path, "--owner", "s2");
    python("import csv, sys\n"
           "raw = open(sys.argv[1], 'rb').read()\n"
           "assert raw.startswith(b'\\xef\\xbb\\xbf') and b'\\r\\n' in raw\n"
           "rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8-sig', newline='')))\n"
           "names = sorted(r['name'] for r in rows)\n"
           "assert names == ['丙方三号', '乙方二号'], names  # a manager sees tier A\n"
           "r = [r for r in rows if r['name'] == '乙方二号'][0]\n"
           "assert r['notes'] == \"'=HYPERLINK(\\\"x\\\")\", r['notes']\n"
           "assert r['bank_account'] == '6222020200998877665'\n",
           path, "");
}

static void test_export_without_the_right_is_refused(void **state)
{
    char path[300];
    struct stat st;

    (void)state;
    path_of(path, sizeof path, "viewer.xlsx");
    EXPECT(cfg_viewer, 6, "export", "customers", "-o", path);
    assert_int_not_equal(stat(path, &st), 0);
    EXPECT(cfg_admin, 0, "--json", "audit", "list", "--action", "export.begin", "--outcome",
           "denied", "--user", "v1");
    assert_non_null(strstr(run.out, "\"v1\""));
}

static void test_export_is_audited_with_its_row_count(void **state)
{
    char path[300];
    json_t *list;

    (void)state;
    path_of(path, sizeof path, "contacts.csv");
    EXPECT(cfg_mgr, 0, "--json", "export", "contacts", "-o", path);
    list = out_json();
    assert_true(json_integer_value(json_object_get(list, "rows")) >= 3);
    json_decref(list);
    EXPECT(cfg_admin, 0, "--json", "audit", "list", "--action", "export.finish", "--limit", "1");
    list = out_json();
    assert_int_equal(json_array_size(list), 1);
    assert_true(json_integer_value(json_object_get(
                    json_object_get(json_array_get(list, 0), "detail"), "rows")) >= 3);
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gb18030_csv_with_quotes_and_line_breaks_imports_exactly),
        cmocka_unit_test(test_second_import_of_the_same_file_changes_nothing),
        cmocka_unit_test(test_utf8_bom_csv_imports),
        cmocka_unit_test(test_xlsx_imports_strings_numbers_and_dates),
        cmocka_unit_test(test_bad_rows_are_reported_by_line_and_column),
        cmocka_unit_test(test_import_as_sales_is_refused),
        cmocka_unit_test(test_import_is_audited_with_sha256_and_counts),
        cmocka_unit_test(test_exported_xlsx_read_by_openpyxl_equals_the_data),
        cmocka_unit_test(test_exported_csv_has_bom_and_neutralised_formulas),
        cmocka_unit_test(test_export_without_the_right_is_refused),
        cmocka_unit_test(test_export_is_audited_with_its_row_count),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
