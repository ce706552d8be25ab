/* test_audit_log.c - the audit log over real TLS and on disk: admins and
 * auditors read, verify and export its head, anyone else is refused with
 * exactly one audit record per refusal; and the tamper cases -
 * with the server stopped and the database edited directly, a changed
 * detail, a changed user, a deleted middle row, an inserted row, swapped
 * rows, and the newest rows cut off (caught with the exported head) - each
 * fail verification naming the first bad seq, offline (`dangand
 * audit-verify`) and over the wire (AuditVerify). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"
#include "hex.h"

static dgt_server srv; /* with the demo accounts (sales li.na, manager chen.jing) */
static char sales_pw[64];
static dgt_run run; /* big buffers: static, not on the stack */

/* ------------------------------------------------------------ helpers */

static dg_reply *audit_query(dg_client *c, Dangan__V1__AuditQueryRequest *m)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = m;
    return dgt_call(c, &req);
}

static dg_reply *audit_head(dg_client *c)
{
    Dangan__V1__AuditHeadRequest m = DANGAN__V1__AUDIT_HEAD_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_HEAD;
    req.audit_head = &m;
    return dgt_call(c, &req);
}

static dg_reply *audit_verify(dg_client *c, const Dangan__V1__AuditHead *expect)
{
    Dangan__V1__AuditVerifyRequest m = DANGAN__V1__AUDIT_VERIFY_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.expect = (Dangan__V1__AuditHead *)expect;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY;
    req.audit_verify = &m;
    return dgt_call(c, &req);
}

/* Records matching a filter, counted by the admin (its own login adds
 * session records, so filter them out with the user). */
static size_t count_records(const char *username, const char *action, const char *outcome)
{
    Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    dg_reply *r;
    size_t n;

    m.username = (char *)username;
    m.action = (char *)action;
    m.outcome = (char *)outcome;
    m.limit = 1000;
    r = audit_query(c, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    n = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);
    dg_client_close(c);
    return n;
}

/* A server with the demo accounts: init, stop, demo-data (it needs the
 * directory to itself), start again. */
static void start_with_demo_accounts(dgt_server *s)
{
    const char *demo[] = {"demo-data", "--data", s->data, "--customers", "3", NULL};

    dgt_server_start(s, NULL);
    assert_int_equal(dgt_server_stop_keep(s), 0);
    dgt_dangand(&run, demo);
    if (run.status != 0)
        fail_msg("demo-data failed: %s", run.err);
    dgt_demo_password(run.out, "li.na", sales_pw, sizeof sales_pw);
    dgt_server_restart(s, NULL);
}

static int setup(void **state)
{
    (void)state;
    start_with_demo_accounts(&srv);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ reading */

static void test_admin_lists_newest_first_with_filters_and_pages(void **state)
{
    Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_client *c;
    dg_reply *r;
    const Dangan__V1__AuditQueryResponse *q;
    uint64_t before = 0, last = UINT64_MAX;
    size_t seen = 0;
    int64_t newest;
    char pw[] = "not-the-password";

    (void)state;
    /* a failed login to find again */
    {
        dg_client *bad = dgt_connect(&srv);

        assert_int_not_equal(dg_client_login(bad, "li.na", pw, NULL), DG_OK);
        dg_client_close(bad);
    }
    c = dgt_login(&srv, "admin", srv.admin_password);
    m.username = "li.na";
    m.outcome = "denied";
    m.action = "session.";
    r = audit_query(c, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    q = dg_reply_response(r)->audit_query;
    assert_true(q->n_records >= 1);
    assert_string_equal(q->records[0]->action, "session.login");
    assert_string_equal(q->records[0]->outcome, "denied");
    assert_non_null(strstr(q->records[0]->detail, "bad_credentials"));
    assert_int_equal(q->records[0]->hash.len, 32);
    dg_reply_free(r);

    /* pages of 3 from the newest cover 1..newest exactly once, descending */
    r = audit_head(c);
    newest = (int64_t)dg_reply_response(r)->audit_head->head->seq;
    dg_reply_free(r);
    memset(&m, 0, sizeof m);
    dangan__v1__audit_query_request__init(&m);
    m.limit = 3;
    do {
        m.before_seq = before;
        r = audit_query(c, &m);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        q = dg_reply_response(r)->audit_query;
        for (size_t i = 0; i < q->n_records; i++) {
            assert_true(q->records[i]->seq < last);
            last = q->records[i]->seq;
            if ((int64_t)last <= newest)
                seen++;
        }
        before = q->next_before_seq;
        dg_reply_free(r);
    } while (before);
    assert_int_equal(last, 1);
    assert_int_equal(seen, (size_t)newest);

    /* a bad filter names its field */
    memset(&m, 0, sizeof m);
    dangan__v1__audit_query_request__init(&m);
    m.limit = 5000;
    r = audit_query(c, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_non_null(strstr(dg_reply_response(r)->status->message, "limit"));
    dg_reply_free(r);
    dg_client_close(c);
}

static void test_verify_and_head_agree_on_an_intact_log(void **state)
{
    dg_client *c;
    dg_reply *h, *v;
    const Dangan__V1__AuditVerifyResponse *res;
    Dangan__V1__AuditHead wrong = DANGAN__V1__AUDIT_HEAD__INIT;
    uint8_t zero[32] = {0};

    (void)state;
    c = dgt_login(&srv, "admin", srv.admin_password);
    h = audit_head(c);
    assert_int_equal(dgt_code(h), DANGAN__V1__CODE__OK);
    assert_true(dg_reply_response(h)->audit_head->head->seq > 3);
    assert_int_equal(dg_reply_response(h)->audit_head->head->hash.len, 32);

    v = audit_verify(c, dg_reply_response(h)->audit_head->head);
    assert_int_equal(dgt_code(v), DANGAN__V1__CODE__OK);
    res = dg_reply_response(v)->audit_verify;
    assert_true(res->ok);
    assert_int_equal(res->first_bad_seq, 0);
    assert_true(res->checked >= dg_reply_response(h)->audit_head->head->seq);
    assert_int_equal(res->head->seq, res->checked);
    dg_reply_free(v);

    /* a head the log never had: caught at its seq */
    wrong.seq = dg_reply_response(h)->audit_head->head->seq;
    wrong.hash = (ProtobufCBinaryData){32, zero};
    v = audit_verify(c, &wrong);
    res = dg_reply_response(v)->audit_verify;
    assert_false(res->ok);
    assert_int_equal(res->first_bad_seq, wrong.seq);
    dg_reply_free(v);

    /* a malformed head is refused, naming the field */
    wrong.hash.len = 5;
    v = audit_verify(c, &wrong);
    assert_int_equal(dgt_code(v), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_non_null(strstr(dg_reply_response(v)->status->message, "expect"));
    dg_reply_free(v);
    dg_reply_free(h);
    dg_client_close(c);
}

static void test_others_are_refused_and_each_refusal_is_audited_once(void **state)
{
    Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_client *c;
    dg_reply *r;
    size_t before;

    (void)state;
    before = count_records("li.na", "audit.", "denied");
    c = dgt_login(&srv, "li.na", sales_pw);
    r = audit_query(c, &m);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    assert_null(dg_reply_response(r)->audit_query);
    dg_reply_free(r);
    assert_int_equal(count_records("li.na", "audit.", "denied"), before + 1);

    r = audit_verify(c, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(r);
    r = audit_head(c);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
    dg_reply_free(r);
    dg_client_close(c);
    assert_int_equal(count_records("li.na", "audit.", "denied"), before + 3);
    assert_int_equal(count_records("li.na", "audit.verify", "denied"), 1);
    assert_int_equal(count_records("li.na", "audit.head", "denied"), 1);
}

static void test_cli_head_verify_and_list(void **state)
{
    char cfg[256], head[DG_AUDIT_HEAD_TEXT_LEN + 8], pw_line[80];
    json_t *j;
    json_error_t e;

    (void)state;
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    {
        const char *argv[] = {"audit", "head", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        snprintf(head, sizeof head, "%.*s", (int)strcspn(run.out, "\n"), run.out);
        assert_non_null(strchr(head, ':'));
        assert_int_equal(strlen(strchr(head, ':') + 1), 64);
    }
    {
        const char *argv[] = {"--json", "audit", "verify", "--head", head, NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        j = json_loads(run.out, 0, &e);
        assert_non_null(j);
        assert_true(json_is_true(json_object_get(j, "ok")));
        assert_true(json_is_null(json_object_get(j, "first_bad_seq")));
        assert_int_equal(
            strlen(json_string_value(json_object_get(json_object_get(j, "head"), "hash"))), 64);
        json_decref(j);
    }
    {
        const char *argv[] = {"--json",        "audit",   "list", "--action",
                              "session.login", "--limit", "2",    NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        j = json_loads(run.out, 0, &e);
        assert_non_null(j);
        assert_int_equal(json_array_size(j), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "action")),
                            "session.login");
        assert_true(json_is_object(json_object_get(json_array_get(j, 0), "detail")));
        json_decref(j);
    }
    {
        /* --limit 0 is every record that matches, as many as a limit above them all */
        const char *all[] = {"--json",        "audit",   "list", "--action",
                             "session.login", "--limit", "0",    NULL};
        const char *many[] = {"--json",        "audit",   "list",   "--action",
                              "session.login", "--limit", "100000", NULL};
        size_t n_all;

        dgt_cli(&run, cfg, NULL, all);
        assert_int_equal(run.status, 0);
        j = json_loads(run.out, 0, &e);
        assert_non_null(j);
        n_all = json_array_size(j);
        json_decref(j);
        assert_true(n_all > 2);
        dgt_cli(&run, cfg, NULL, many);
        assert_int_equal(run.status, 0);
        j = json_loads(run.out, 0, &e);
        assert_non_null(j);
        assert_int_equal(json_array_size(j), n_all);
        json_decref(j);
    }
    {
        char csv[320], body[65536];
        const char *argv[] = {"audit", "export", "-o", csv, "--action", "session.", NULL};
        FILE *f;
        size_t n, lines = 0;

        snprintf(csv, sizeof csv, "%s/audit.csv", cfg);
        { /* a name typed at the login prompt that a spreadsheet would run */
            dg_client *bad = dgt_connect(&srv);

            assert_int_not_equal(dg_client_login(bad, "=1+2", "not-a-password-at-all", NULL),
                                 DG_OK);
            dg_client_close(bad);
        }
        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 0);
        assert_non_null(strstr(run.out, "Exported"));
        f = fopen(csv, "r");
        assert_non_null(f);
        n = fread(body, 1, sizeof body - 1, f);
        fclose(f);
        body[n] = '\0';
        assert_memory_equal(body, "\xEF\xBB\xBFseq,time,user_id,", 20);
        for (char *p = body; (p = strstr(p, "\r\n")); p += 2)
            lines++;
        assert_true(lines >= 4); /* header + the logins of this test group */
        assert_non_null(strstr(body, "session.login"));
        assert_null(strstr(body, ",audit.")); /* the filter held */
        assert_non_null(strstr(body, ",'=1+2,"));
        assert_null(strstr(body, ",=1+2,"));
        {
            struct stat st;

            assert_int_equal(stat(csv, &st), 0);
            assert_int_equal(st.st_mode & 0777, 0600); /* personal data */
        }
        /* the export itself is on record, with its row count */
        {
            Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
            dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
            dg_reply *r;
            char rows[32];

            q.action = "audit.export";
            q.limit = 1;
            r = audit_query(c, &q);
            assert_int_equal(dg_reply_response(r)->audit_query->n_records, 1);
            snprintf(rows, sizeof rows, "\"rows\":%zu", lines - 1);
            assert_non_null(strstr(dg_reply_response(r)->audit_query->records[0]->detail, rows));
            dg_reply_free(r);
            dg_client_close(c);
        }
    }
    {
        const char *argv[] = {"audit", "verify", "--head", "12:nothex", NULL};

        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 2);
        assert_non_null(strstr(run.err, "--head"));
    }
    {
        const char *login[] = {"login", "--user", "li.na", "--password-stdin", NULL};
        const char *argv[] = {"audit", "list", NULL};

        snprintf(pw_line, sizeof pw_line, "%s\n", sales_pw);
        dgt_cli(&run, cfg, pw_line, login);
        assert_int_equal(run.status, 0);
        dgt_cli(&run, cfg, NULL, argv);
        assert_int_equal(run.status, 6);
        assert_non_null(strstr(run.err, "admins and auditors"));
    }
    dgt_rmtree(cfg);
}

/* ------------------------------------------------------------ tampering */

/* A fresh server with records 1..n (init, logins, failed logins), stopped;
 * *head gets its exported head "SEQ:HASH". */
static void tamper_setup(dgt_server *s, char head[DG_AUDIT_HEAD_TEXT_LEN])
{
    dg_client *c;
    dg_reply *r;

    dgt_server_start(s, NULL);
    for (int i = 0; i < 3; i++) {
        dg_client *bad = dgt_connect(s);

        assert_int_not_equal(dg_client_login(bad, "admin", "wrong-password", NULL), DG_OK);
        dg_client_close(bad);
    }
    c = dgt_login(s, "admin", s->admin_password);
    r = audit_head(c);
    dg_audit_head_format((int64_t)dg_reply_response(r)->audit_head->head->seq,
                         dg_reply_response(r)->audit_head->head->hash.data, head);
    dg_reply_free(r);
    dg_client_close(c);
    assert_int_equal(dgt_server_stop_keep(s), 0);
}

/* `dangand audit-verify` on s's data: the exit status and first_bad_seq (-1 for null). */
static int offline_verify(const dgt_server *s, const char *head, long long *first_bad)
{
    const char *with[] = {"audit-verify", "--data", s->data, "--json", "--head", head, NULL};
    const char *without[] = {"audit-verify", "--data", s->data, "--json", NULL};
    json_t *j, *bad;
    json_error_t e;

    dgt_dangand(&run, head ? with : without);
    j = json_loads(run.out, 0, &e);
    if (!j)
        fail_msg("audit-verify printed no JSON (%s): %s %s", e.text, run.out, run.err);
    bad = json_object_get(j, "first_bad_seq");
    *first_bad = json_is_null(bad) ? -1 : (long long)json_integer_value(bad);
    assert_int_equal(json_is_true(json_object_get(j, "ok")), run.status == 0);
    json_decref(j);
    return run.status;
}

/* Edits as an intruder would: the server's triggers are no obstacle to
 * someone holding the file. */
static const char UNLOCK[] = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;";

/* One tamper case: set up, run `sql`, and expect verification to fail at
 * `want` (offline; with the head when `use_head`). */
static void tamper_case(const char *sql, long long want, bool use_head)
{
    dgt_server s;
    char head[DG_AUDIT_HEAD_TEXT_LEN], all[1024];
    long long bad;

    tamper_setup(&s, head);
    assert_int_equal(offline_verify(&s, head, &bad), 0); /* intact before */
    assert_int_equal(bad, -1);
    snprintf(all, sizeof all, "%s %s", UNLOCK, sql);
    dgt_sql(&s, all);
    assert_int_equal(offline_verify(&s, use_head ? head : NULL, &bad), 1);
    assert_int_equal(bad, want);
    assert_non_null(strstr(run.out, "\"first_bad_seq\""));
    dgt_server_restart(&s, NULL);
    dgt_server_stop(&s);
}

static void test_tamper_changed_byte_in_a_detail(void **state)
{
    (void)state;
    tamper_case("UPDATE audit_log SET detail = replace(detail, 'bad_credentials',"
                " 'bad_credentialz') WHERE seq = 3;",
                3, false);
}

static void test_tamper_changed_user(void **state)
{
    (void)state;
    tamper_case("UPDATE audit_log SET username = 'mallory' WHERE seq = 4;", 4, false);
}

static void test_tamper_deleted_middle_row(void **state)
{
    (void)state;
    tamper_case("DELETE FROM audit_log WHERE seq = 3;", 3, false);
}

static void test_tamper_inserted_row(void **state)
{
    (void)state;
    /* make room at 3 and forge a record there, its hash chained from 2 as
     * far as the intruder can tell (the real one needs 2's hash and the
     * canonical bytes, which a forger could compute - then only an exported
     * head catches it, see the cut-off case) */
    tamper_case("UPDATE audit_log SET seq = -seq WHERE seq >= 3;"
                "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0;"
                "INSERT INTO audit_log(seq, at, user_id, username, peer, action, entity,"
                " entity_id, outcome, detail, hash) VALUES (3, 0, 1, 'admin', '127.0.0.1:1',"
                " 'session.login', 'session', 0, 'ok', '{}', randomblob(32));",
                3, false);
}

static void test_tamper_swapped_rows(void **state)
{
    (void)state;
    tamper_case("UPDATE audit_log SET seq = -1 WHERE seq = 3;"
                "UPDATE audit_log SET seq = 3 WHERE seq = 4;"
                "UPDATE audit_log SET seq = 4 WHERE seq = -1;",
                3, false);
}

static void test_tamper_cut_off_end_is_caught_only_with_the_head(void **state)
{
    dgt_server s;
    char head[DG_AUDIT_HEAD_TEXT_LEN], sql[256];
    long long bad, n;

    (void)state;
    tamper_setup(&s, head);
    n = atoll(head);
    assert_true(n >= 5);
    snprintf(sql, sizeof sql, "%s DELETE FROM audit_log WHERE seq > %lld;", UNLOCK, n - 2);
    dgt_sql(&s, sql);
    /* what is left is a valid chain: without the head nothing is wrong */
    assert_int_equal(offline_verify(&s, NULL, &bad), 0);
    /* with it, the first missing record is named */
    assert_int_equal(offline_verify(&s, head, &bad), 1);
    assert_int_equal(bad, n - 1);
    assert_non_null(strstr(run.out, "false"));

    /* and over the wire, after a restart: its new records refill the seqs
     * that were cut, chained validly, so the exported head's seq is where
     * the log stops matching */
    dgt_server_restart(&s, NULL);
    {
        dg_client *c = dgt_login(&s, "admin", s.admin_password);
        Dangan__V1__AuditHead expect = DANGAN__V1__AUDIT_HEAD__INIT;
        uint8_t hash[32];
        int64_t seq;
        dg_reply *r;

        assert_int_equal(dg_audit_head_parse(head, &seq, hash), DG_OK);
        expect.seq = (uint64_t)seq;
        expect.hash = (ProtobufCBinaryData){32, hash};
        r = audit_verify(c, &expect);
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
        assert_false(dg_reply_response(r)->audit_verify->ok);
        assert_int_equal(dg_reply_response(r)->audit_verify->first_bad_seq, n);
        assert_non_null(strstr(dg_reply_response(r)->audit_verify->problem, "exported head"));
        dg_reply_free(r);
        dg_client_close(c);
    }
    dgt_server_stop(&s);
}

static void test_tampered_log_fails_over_the_wire_too(void **state)
{
    dgt_server s;
    char head[DG_AUDIT_HEAD_TEXT_LEN], sql[256];
    dg_client *c;
    dg_reply *r;

    (void)state;
    tamper_setup(&s, head);
    snprintf(sql, sizeof sql, "%s UPDATE audit_log SET peer = '10.0.0.66:1' WHERE seq = 2;",
             UNLOCK);
    dgt_sql(&s, sql);
    dgt_server_restart(&s, NULL);
    c = dgt_login(&s, "admin", s.admin_password);
    r = audit_verify(c, NULL);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    assert_false(dg_reply_response(r)->audit_verify->ok);
    assert_int_equal(dg_reply_response(r)->audit_verify->first_bad_seq, 2);
    assert_int_equal(dg_reply_response(r)->audit_verify->checked, 1);
    /* the head still names the newest record (the login just now) */
    assert_true(dg_reply_response(r)->audit_verify->head->seq > (uint64_t)atoll(head));
    dg_reply_free(r);
    dg_client_close(c);
    dgt_server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest with_demo[] = {
        cmocka_unit_test(test_admin_lists_newest_first_with_filters_and_pages),
        cmocka_unit_test(test_verify_and_head_agree_on_an_intact_log),
        cmocka_unit_test(test_others_are_refused_and_each_refusal_is_audited_once),
        cmocka_unit_test(test_cli_head_verify_and_list),
    };
    const struct CMUnitTest tamper[] = {
        cmocka_unit_test(test_tamper_changed_byte_in_a_detail),
        cmocka_unit_test(test_tamper_changed_user),
        cmocka_unit_test(test_tamper_deleted_middle_row),
        cmocka_unit_test(test_tamper_inserted_row),
        cmocka_unit_test(test_tamper_swapped_rows),
        cmocka_unit_test(test_tamper_cut_off_end_is_caught_only_with_the_head),
        cmocka_unit_test(test_tampered_log_fails_over_the_wire_too),
    };
    int failed = cmocka_run_group_tests_name("audit log", with_demo, setup, teardown);

    return failed + cmocka_run_group_tests_name("audit tampering", tamper, NULL, NULL);
}
