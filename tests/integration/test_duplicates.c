/* test_duplicates.c - likely duplicate customers through the real server and
 * the CLI: the twins a create catches (a phone with and without +86 and
 * separators, a name with and without its legal form, with and without its
 * city's 市), the twin a rep may not see (a colleague's tier A customer:
 * refused with nothing of it in the answer, --force too, audited with its
 * id), and the scan of the whole base (`customer duplicates`, managers
 * only), paged and in a shape `customer merge` can use.
 *
 * A separate group opens a database of schema v6 made by the v6 dangand
 * (tests/integration/data/schema_v6_dupkeys.sql; its customers' keys were
 * made by the old rules, which missed these twins) and checks that the
 * migration gives every customer its keys: the same catches and the scan
 * work on it. That dump was made by the v6 dangand (git main before schema
 * v7): init, users mgr / s1 / s2 with the passwords below, the customers
 * C-000001..8 created through `dangan customer add` (C-000007 archived),
 * then `sqlite3 dangan.db .dump` and its PRAGMA user_version.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define S1_PASSWORD "sales-one-password-1"
#define S2_PASSWORD "sales-two-password-1"
#define MGR_PASSWORD "manager-password-1"
#define HIDDEN_MESSAGE "a matching customer already exists that you cannot see; ask a manager"

/* The v6 dump's users (see above). */
#define V6_ADMIN_PASSWORD "mYzRshY4Q64WjpykD37Gxqzv"
#define V6_S1_PASSWORD "s1-password-one"
#define V6_MGR_PASSWORD "mgr-password-one"

static dgt_server srv;
static char cfg_s1[256], cfg_s2[256], cfg_mgr[256], cfg_admin[256];
static dgt_run run; /* big buffers: static, not on the stack */

#define CLI(cfg, input, ...)                                                                       \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

/* Runs the CLI and asserts its exit status, showing its output when wrong. */
#define CLI_EXPECT(status_, cfg, ...)                                                              \
    do {                                                                                           \
        CLI(cfg, NULL, __VA_ARGS__);                                                               \
        if (run.status != (status_))                                                               \
            fail_msg("exit %d, wanted %d\nstdout: %s\nstderr: %s", run.status, (status_), run.out, \
                     run.err);                                                                     \
    } while (0)

static json_t *stdout_json(void)
{
    json_error_t e;
    json_t *j = json_loads(run.out, 0, &e);

    if (!j)
        fail_msg("stdout is not one JSON document (%s): %s", e.text, run.out);
    return j;
}

static json_t *stderr_json(void)
{
    json_error_t e;
    json_t *j = json_loads(run.err, 0, &e);

    if (!j)
        fail_msg("stderr is not one JSON document (%s): %s", e.text, run.err);
    return j;
}

/* Adds a customer through the CLI as the user of `cfg` (--force); its code
 * into `code`, its id returned. */
static int64_t add_customer(const char *cfg, const char *name, const char *set1, const char *set2,
                            char *code, size_t code_len)
{
    json_t *j, *cu;
    int64_t id;

    if (set2)
        CLI_EXPECT(0, cfg, "--json", "customer", "add", "--name", name, "--set", set1, "--set",
                   set2, "--force");
    else if (set1)
        CLI_EXPECT(0, cfg, "--json", "customer", "add", "--name", name, "--set", set1, "--force");
    else
        CLI_EXPECT(0, cfg, "--json", "customer", "add", "--name", name, "--force");
    j = stdout_json();
    cu = json_object_get(json_object_get(j, "record"), "customer");
    snprintf(code, code_len, "%s", json_string_value(json_object_get(cu, "code")));
    id = json_integer_value(json_object_get(cu, "id"));
    json_decref(j);
    return id;
}

static void login_all(const char *s1_pw, const char *s2_pw, const char *mgr_pw,
                      const char *admin_pw)
{
    dgt_tempdir(cfg_s1, sizeof cfg_s1);
    dgt_tempdir(cfg_s2, sizeof cfg_s2);
    dgt_tempdir(cfg_mgr, sizeof cfg_mgr);
    dgt_tempdir(cfg_admin, sizeof cfg_admin);
    dgt_cli_login(&run, cfg_s1, &srv, "s1", s1_pw);
    if (s2_pw)
        dgt_cli_login(&run, cfg_s2, &srv, "s2", s2_pw);
    dgt_cli_login(&run, cfg_mgr, &srv, "mgr", mgr_pw);
    dgt_cli_login(&run, cfg_admin, &srv, "admin", admin_pw);
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, S1_PASSWORD);
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, S2_PASSWORD);
    dgt_make_user(&srv, "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, MGR_PASSWORD);
    login_all(S1_PASSWORD, S2_PASSWORD, MGR_PASSWORD, srv.admin_password);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_rmtree(cfg_s1);
    dgt_rmtree(cfg_s2);
    dgt_rmtree(cfg_mgr);
    dgt_rmtree(cfg_admin);
    dgt_server_stop(&srv);
    return 0;
}

/* The CLI's refusal of a likely duplicate: exit 8, the twin named with its
 * matched key and owner in JSON. */
static void expect_twin(const char *cfg, const char *name, const char *set, const char *twin_code,
                        const char *matched_on, const char *owner)
{
    json_t *j, *d;

    if (set)
        CLI_EXPECT(8, cfg, "--json", "customer", "add", "--name", name, "--set", set);
    else
        CLI_EXPECT(8, cfg, "--json", "customer", "add", "--name", name);
    j = stderr_json();
    d = json_array_get(json_object_get(json_object_get(j, "error"), "duplicates"), 0);
    if (!d)
        fail_msg("no duplicates in %s", run.err);
    assert_string_equal(json_string_value(json_object_get(d, "code")), twin_code);
    assert_string_equal(json_string_value(json_object_get(d, "matched_on")), matched_on);
    assert_string_equal(json_string_value(json_object_get(d, "owner")), owner);
    json_decref(j);
    /* and for people: who has it */
    if (set)
        CLI_EXPECT(8, cfg, "customer", "add", "--name", name, "--set", set);
    else
        CLI_EXPECT(8, cfg, "customer", "add", "--name", name);
    assert_non_null(strstr(run.err, twin_code));
    assert_non_null(strstr(run.err, owner));
    assert_non_null(strstr(run.err, "--force"));
}

/* ------------------------------------------------------------ on create */

static void test_create_catches_a_phone_written_another_way(void **state)
{
    char code[32];

    (void)state;
    add_customer(cfg_s1, "甲方电话测试公司", "phone=138-0013-8000", NULL, code, sizeof code);
    expect_twin(cfg_s2, "乙方电话测试公司", "phone=+86 13800138000", code, "phone", "s1");
    /* --force adds it anyway: a twin the caller sees is the caller's call */
    CLI_EXPECT(0, cfg_s2, "customer", "add", "--name", "乙方电话测试公司", "--set",
               "phone=+86 13800138000", "--force");
}

static void test_create_catches_a_name_without_its_legal_form(void **state)
{
    char code[32];

    (void)state;
    add_customer(cfg_s2, "华为技术有限公司", "tier=b", NULL, code, sizeof code);
    expect_twin(cfg_s1, "华为技术", NULL, code, "name", "s2");
}

static void test_create_catches_a_city_written_without_shi(void **state)
{
    char code[32];

    (void)state;
    add_customer(cfg_s2, "北京市迪金自动化设备有限公司", "tier=b", NULL, code, sizeof code);
    expect_twin(cfg_s1, "北京迪金自动化设备有限公司", NULL, code, "name", "s2");
}

/* A create as s1 through libdangan; the reply (free with dg_reply_free). */
static dg_reply *create_as(dg_client *c, const char *name, const char *phone, bool force)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;

    cu.name = (char *)name;
    cu.phone = (char *)phone;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = force;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dgt_call(c, &req);
}

/* The packed Response with its id zeroed: what two answers must share. */
static uint8_t *packed_without_id(const dg_reply *r, size_t *len)
{
    Dangan__V1__Response copy = *dg_reply_response(r);
    uint8_t *buf;

    copy.id = 0;
    *len = dangan__v1__response__get_packed_size(&copy);
    buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    dangan__v1__response__pack(&copy, buf);
    return buf;
}

static void assert_names_nothing_of(const char *text, const char *const *secrets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(text, secrets[i]))
            fail_msg("the answer names %s: %s", secrets[i], text);
}

/* The audit records of refused creates, newest first, as JSON details. */
static json_t *hidden_refusals(void)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password);
    json_t *out = json_array();
    dg_reply *r;

    q.action = "record.create";
    q.outcome = "denied";
    q.limit = 100;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    for (size_t i = 0; i < dg_reply_response(r)->audit_query->n_records; i++) {
        const Dangan__V1__AuditRecord *a = dg_reply_response(r)->audit_query->records[i];
        json_t *d = json_loads(a->detail, 0, NULL);

        json_object_set_new(d, "entity_id", json_integer(a->entity_id));
        json_object_set_new(d, "username", json_string(a->username));
        json_array_append_new(out, d);
    }
    dg_reply_free(r);
    dg_client_close(admin);
    return out;
}

/* Visible twins by name do not crowd out a hidden twin by phone: however
 * many of s1's own customers share the name, the one s1 may not see that
 * shares the phone still refuses the create (with --force too). */
static void test_a_hidden_twin_is_found_behind_many_visible_ones(void **state)
{
    char code[32];
    dg_client *s1 = dgt_login(&srv, "s1", S1_PASSWORD);
    dg_reply *r;

    (void)state;
    add_customer(cfg_s2, "隐藏的双胞胎贸易有限公司", "tier=a", "phone=0571-8123 4567", code,
                 sizeof code);
    for (int i = 0; i < 8; i++)
        add_customer(cfg_s1, "常见名称商贸有限公司", NULL, NULL, code, sizeof code);
    r = create_as(s1, "常见名称商贸有限公司", "0571 81234567", true);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_string_equal(dgt_reason(r), "duplicate_hidden");
    dg_reply_free(r);
    dg_client_close(s1);
}

static void test_create_refuses_a_hidden_twin_naming_nothing_of_it(void **state)
{
    char code[32], code2[32], id_text[32];
    const char *secrets[] = {code, "安荣仓储（宁波）", "s2", "0574", id_text};
    dg_client *s1 = dgt_login(&srv, "s1", S1_PASSWORD);
    dg_reply *a, *b, *forced;
    uint8_t *pa, *pb, *pf;
    size_t la, lb, lf;
    json_t *j, *audit;
    int64_t twin_id;

    (void)state;
    /* s2's restricted (tier A) customers: s1 may not know they exist */
    twin_id = add_customer(cfg_s2, "安荣仓储（宁波）有限公司", "tier=a", "phone=0574-8765 4321",
                           code, sizeof code);
    add_customer(cfg_s2, "远景能源技术有限公司", "tier=a", "phone=0510-6688 9900", code2,
                 sizeof code2);
    assert_true(twin_id > 0);
    snprintf(id_text, sizeof id_text, "%lld", (long long)twin_id);

    /* one twin by name, another by phone: the same bytes either way */
    a = create_as(s1, "宁波安荣仓储有限公司", "", false);
    b = create_as(s1, "无锡某某公司", "+86 510 66889900", false);
    forced = create_as(s1, "安荣仓储(宁波)有限公司", "", true);
    assert_int_equal(dgt_code(a), DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_string_equal(dgt_reason(a), "duplicate_hidden");
    assert_int_equal(dgt_code(forced), DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_string_equal(dgt_reason(forced), "duplicate_hidden");
    assert_int_equal(dg_reply_response(a)->body_case, DANGAN__V1__RESPONSE__BODY__NOT_SET);
    assert_int_equal(dg_reply_response(a)->status->n_field_violations, 0);
    assert_string_equal(dg_reply_response(a)->status->message,
                        HIDDEN_MESSAGE " (adding it anyway is not possible)");
    pa = packed_without_id(a, &la);
    pb = packed_without_id(b, &lb);
    pf = packed_without_id(forced, &lf);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    assert_int_equal(la, lf);
    assert_memory_equal(pa, pf, la);
    free(pa);
    free(pb);
    free(pf);
    dg_reply_free(a);
    dg_reply_free(b);
    dg_reply_free(forced);

    /* in a Batch alike: the batch is refused at that op, nothing else said */
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__BatchRequest bm = DANGAN__V1__BATCH_REQUEST__INIT;
        Dangan__V1__BatchOp op = DANGAN__V1__BATCH_OP__INIT;
        Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
        Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
        Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
        Dangan__V1__BatchOp *ops[] = {&op};
        dg_reply *br;

        cu.name = "宁波安荣仓储有限公司";
        rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        rec.customer = &cu;
        m.record = &rec;
        m.allow_duplicate = true;
        op.op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
        op.create = &m;
        bm.ops = ops;
        bm.n_ops = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
        req.batch = &bm;
        br = dgt_call(s1, &req);
        assert_int_equal(dgt_code(br), DANGAN__V1__CODE__ALREADY_EXISTS);
        assert_string_equal(dgt_reason(br), "duplicate_hidden");
        assert_int_equal(dg_reply_response(br)->status->n_field_violations, 0);
        assert_int_equal(dg_reply_response(br)->batch->n_records, 0);
        assert_names_nothing_of(dg_reply_response(br)->status->message, secrets,
                                DG_ARRAY_LEN(secrets));
        dg_reply_free(br);
    }
    dg_client_close(s1);

    /* the CLI: exit 8, the message, nothing of the twin; --force refused alike */
    CLI_EXPECT(8, cfg_s1, "customer", "add", "--name", "安荣仓储（宁波）有限公司");
    assert_non_null(strstr(run.err, HIDDEN_MESSAGE));
    assert_names_nothing_of(run.err, secrets, DG_ARRAY_LEN(secrets));
    assert_names_nothing_of(run.out, secrets, DG_ARRAY_LEN(secrets));
    CLI_EXPECT(8, cfg_s1, "customer", "add", "--name", "安荣仓储（宁波）有限公司", "--force");
    assert_non_null(strstr(run.err, HIDDEN_MESSAGE));
    assert_names_nothing_of(run.err, secrets, DG_ARRAY_LEN(secrets));
    CLI_EXPECT(8, cfg_s1, "--json", "customer", "add", "--name", "安荣仓储（宁波）有限公司",
               "--force");
    j = stderr_json();
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "reason")),
                        "duplicate_hidden");
    assert_null(json_object_get(json_object_get(j, "error"), "duplicates"));
    json_decref(j);
    assert_names_nothing_of(run.err, secrets, DG_ARRAY_LEN(secrets));

    /* nothing was added, and the audit log names the twin for a manager */
    CLI_EXPECT(0, cfg_mgr, "--json", "customer", "search", "安荣仓储");
    j = stdout_json();
    assert_int_equal(json_array_size(json_object_get(j, "hits")), 1);
    json_decref(j);
    audit = hidden_refusals();
    assert_true(json_array_size(audit) >= 6); /* the batch's is record.batch's */
    for (size_t i = 0; i < 6; i++) {
        json_t *d = json_array_get(audit, i);

        assert_string_equal(json_string_value(json_object_get(d, "reason")), "duplicate_hidden");
        assert_string_equal(json_string_value(json_object_get(d, "username")), "s1");
        assert_int_equal(json_integer_value(json_object_get(d, "twin_id")),
                         json_integer_value(json_object_get(d, "entity_id")));
    }
    /* the newest is the CLI's forced attempt on the tier A customer */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(audit, 0), "twin_id")),
                     twin_id);
    assert_true(json_is_true(json_object_get(json_array_get(audit, 0), "allow_duplicate")));
    json_decref(audit);
}

/* ------------------------------------------------------------ the scan */

/* The pairs of every page of `customer duplicates` as the manager. */
static json_t *scan_all(const char *limit)
{
    CLI_EXPECT(0, cfg_mgr, "--json", "customer", "duplicates", "--all", "--limit", limit);
    return stdout_json();
}

/* The pair of codes a and b (either order) in `pairs`, or NULL. */
static json_t *find_pair(json_t *pairs, const char *a, const char *b)
{
    size_t i;
    json_t *p;

    json_array_foreach(pairs, i, p)
    {
        const char *k = json_string_value(json_object_get(json_object_get(p, "keep"), "code"));
        const char *d = json_string_value(json_object_get(json_object_get(p, "drop"), "code"));

        if ((!strcmp(k, a) && !strcmp(d, b)) || (!strcmp(k, b) && !strcmp(d, a)))
            return p;
    }
    return NULL;
}

static void test_scan_finds_seeded_pairs_with_reasons_and_merge(void **state)
{
    char c1[32], c2[32], c3[32], c4[32], c5[32], lone[32];
    json_t *all, *paged, *p;

    (void)state;
    add_customer(cfg_mgr, "广东省深圳市明远光电有限公司", "phone=0755-2878 0808",
                 "email=Info@MingYuan.cn", c1, sizeof c1);
    add_customer(cfg_mgr, "明远光电", "phone=+86 755 28780808", NULL, c2, sizeof c2);
    add_customer(cfg_mgr, "明远照明科技有限公司", NULL, NULL, c3, sizeof c3);
    add_customer(cfg_mgr, "星河数据有限公司", "email=INFO@mingyuan.CN", NULL, c4, sizeof c4);
    add_customer(cfg_mgr, "孤舟独钓有限公司", NULL, NULL, lone, sizeof lone);
    add_customer(cfg_mgr, "石头记书局", NULL, NULL, c5, sizeof c5);

    all = scan_all("1000");
    p = find_pair(json_object_get(all, "pairs"), c1, c2); /* same name and phone */
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "keep"), "code")),
                        c1); /* the older file is kept */
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "reasons"), 0)),
                        "name");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "reasons"), 1)),
                        "phone");
    assert_int_equal(json_integer_value(json_object_get(p, "score")), 97);
    p = find_pair(json_object_get(all, "pairs"), c1, c4); /* the same e-mail */
    assert_non_null(p);
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "reasons"), 0)),
                        "email");
    p = find_pair(json_object_get(all, "pairs"), c1, c3); /* a similar name */
    assert_non_null(p);
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "reasons"), 0)),
                        "similar_name");
    assert_int_equal(json_integer_value(json_object_get(p, "score")), 50);
    assert_null(find_pair(json_object_get(all, "pairs"), c2, c3)); /* linked through c1 */
    assert_null(find_pair(json_object_get(all, "pairs"), c1, lone));
    assert_null(find_pair(json_object_get(all, "pairs"), c5, lone));
    assert_string_equal(json_string_value(json_object_get(all, "next_cursor")), "");

    /* one pair per page gives the same pairs, in the same order */
    paged = scan_all("1");
    assert_true(json_equal(json_object_get(all, "pairs"), json_object_get(paged, "pairs")));
    json_decref(paged);

    /* the pair as printed is a merge that works */
    p = find_pair(json_object_get(all, "pairs"), c1, c2);
    {
        char merge[96];

        snprintf(merge, sizeof merge, "dangan customer merge %s %s", c1, c2);
        assert_string_equal(json_string_value(json_object_get(p, "merge")), merge);
    }
    CLI_EXPECT(0, cfg_mgr, "customer", "merge", c1, c2);
    json_decref(all);
    all = scan_all("1000");
    assert_null(find_pair(json_object_get(all, "pairs"), c1, c2)); /* archived: gone */
    json_decref(all);

    /* for people: a table and the merge hint */
    CLI_EXPECT(0, cfg_mgr, "customer", "duplicates");
    assert_non_null(strstr(run.out, "SCORE"));
    assert_non_null(strstr(run.out, c1));
    assert_non_null(strstr(run.out, "dangan customer merge KEEP DROP"));
}

static void test_scan_is_refused_for_sales(void **state)
{
    (void)state;
    CLI_EXPECT(6, cfg_s1, "customer", "duplicates");
    CLI_EXPECT(2, cfg_mgr, "customer", "duplicates", "--limit", "1001");
    CLI_EXPECT(9, cfg_mgr, "customer", "duplicates", "--cursor", "v1.9.0.");
}

/* ------------------------------------------------------------ a v6 database */

static int setup_v6(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_load_database(&srv, SOURCE_DIR "/tests/integration/data/schema_v6_dupkeys.sql");
    dgt_server_restart(&srv, NULL);
    assert_true(dgt_log_has(&srv, "schema migrated\" version=7"));
    assert_true(dgt_log_has(&srv, "recomputed duplicate keys\" version=1 customers=8"));
    login_all(V6_S1_PASSWORD, NULL, V6_MGR_PASSWORD, V6_ADMIN_PASSWORD);
    return 0;
}

static void test_v6_customers_get_their_keys(void **state)
{
    json_t *all, *p;

    (void)state;
    /* caught now, missed by the v6 keys: C-000001 北京市迪金… is s2's, tier B */
    expect_twin(cfg_s1, "北京迪金自动化设备", NULL, "C-000001", "name", "s2");
    /* C-000002 is s2's tier A customer: hidden from s1 */
    CLI_EXPECT(8, cfg_s1, "customer", "add", "--name", "安荣仓储有限公司", "--force");
    assert_non_null(strstr(run.err, HIDDEN_MESSAGE));
    assert_null(strstr(run.err, "C-000002"));

    all = scan_all("1000");
    p = find_pair(json_object_get(all, "pairs"), "C-000001", "C-000004");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "reasons"), 0)),
                        "name");
    assert_non_null(find_pair(json_object_get(all, "pairs"), "C-000003", "C-000005"));
    assert_non_null(find_pair(json_object_get(all, "pairs"), "C-000003", "C-000006"));
    /* C-000007 was archived under v6: not a candidate */
    assert_null(find_pair(json_object_get(all, "pairs"), "C-000007", "C-000008"));
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_catches_a_phone_written_another_way),
        cmocka_unit_test(test_create_catches_a_name_without_its_legal_form),
        cmocka_unit_test(test_create_catches_a_city_written_without_shi),
        cmocka_unit_test(test_create_refuses_a_hidden_twin_naming_nothing_of_it),
        cmocka_unit_test(test_scan_finds_seeded_pairs_with_reasons_and_merge),
        cmocka_unit_test(test_scan_is_refused_for_sales),
        cmocka_unit_test(test_a_hidden_twin_is_found_behind_many_visible_ones),
    };
    const struct CMUnitTest v6[] = {
        cmocka_unit_test(test_v6_customers_get_their_keys),
    };
    int rc = cmocka_run_group_tests_name("duplicates", tests, setup, teardown);

    return rc | cmocka_run_group_tests_name("duplicates_v6", v6, setup_v6, teardown);
}
