/* test_perm_reports.c - reports never show a user what the user may not
 * see: in the permission tests' world (perm_world.c), with every customer
 * lost (so each appears by name in the churn report's win-back list) and an
 * industry and region carrying its name, every report kind is read by sales
 * and viewer through the protocol, the CLI's tables and --json, and (sales)
 * the CSV and XLSX files it writes; none holds a restricted customer's
 * canary the user may not see. The manager's churn report, through the same
 * paths, does hold them: the check would see a leak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zip.h>

#include "perm_world.h"

static const char *const kinds[] = {"summary",  "revenue", "pipeline",
                                    "activity", "churn",   "satisfaction"};

/* Every target lost, its name in its industry and region; a won deal, an
 * open one, a call and a complaint on each, so every report has rows. */
static void make_them_lost(void)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++) {
        struct target *t = &targets[i];
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
        Dangan__V1__CreateRequest cr = DANGAN__V1__CREATE_REQUEST__INIT;
        Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
        Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
        Dangan__V1__Deal d = DANGAN__V1__DEAL__INIT;
        Dangan__V1__Money m = DANGAN__V1__MONEY__INIT;
        Dangan__V1__Interaction in = DANGAN__V1__INTERACTION__INIT;
        Dangan__V1__Feedback f = DANGAN__V1__FEEDBACK__INIT;
        char *mask[] = {"status", "churn_reason", "industry", "region"};
        dg_reply *r;

        if (t->archived)
            continue;
        cu.status = DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST;
        cu.churn_reason = (char *)t->name;
        cu.industry = (char *)t->name;
        cu.region = (char *)t->name;
        rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        rec.customer = &cu;
        cu.id = t->id;
        u.expected_version = current_version(t->id);
        u.record = &rec;
        u.n_update_mask = DG_ARRAY_LEN(mask);
        u.update_mask = mask;
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = &u;
        r = admin_call(&req);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);

        req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
        req.create = &cr;
        cr.record = &rec;
        d.customer_id = t->id;
        d.at_ms = (int64_t)time(NULL) * 1000;
        m.amount_minor = 12300;
        m.currency = "CNY";
        d.amount = &m;
        rec.kind_case = DANGAN__V1__RECORD__KIND_DEAL;
        rec.deal = &d;
        for (int k = 0; k < 2; k++) {
            d.stage = k ? "lead" : "won";
            d.probability = k ? 10 : 100;
            r = admin_call(&req);
            assert_int_equal(dgt_code(r), 0);
            dg_reply_free(r);
        }
        in.customer_id = t->id;
        in.channel = DANGAN__V1__CHANNEL__CHANNEL_PHONE;
        in.summary = "电话";
        rec.kind_case = DANGAN__V1__RECORD__KIND_INTERACTION;
        rec.interaction = &in;
        r = admin_call(&req);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
        f.customer_id = t->id;
        f.kind = DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_COMPLAINT;
        f.satisfaction = 2;
        f.at_ms = d.at_ms;
        f.text = "投诉";
        rec.kind_case = DANGAN__V1__RECORD__KIND_FEEDBACK;
        rec.feedback = &f;
        r = admin_call(&req);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
    }
}

static int setup(void **state)
{
    perm_world_setup(state);
    make_them_lost();
    return 0;
}

static const struct target *hidden_target(void)
{
    return &targets[3]; /* s2_a: restricted, another sales user's */
}

static void test_reports_over_the_protocol_do_not_leak(void **state)
{
    (void)state;
    for (size_t k = 0; k < DG_ARRAY_LEN(kinds); k++) {
        for (size_t i = 0; i < DG_ARRAY_LEN(actors); i++) {
            Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
            Dangan__V1__ReportRequest m = DANGAN__V1__REPORT_REQUEST__INIT;
            char what[64];
            dg_reply *r;

            m.kind = (char *)kinds[k];
            req.body_case = DANGAN__V1__REQUEST__BODY_REPORT;
            req.report = &m;
            snprintf(what, sizeof what, "report %s", kinds[k]);
            r = call_as(&actors[i], &req, what); /* sales and viewer: checked for leaks */
            if (!strcmp(actors[i].role, "auditor")) {
                assert_int_equal(dgt_code(r), DANGAN__V1__CODE__PERMISSION_DENIED);
            } else {
                assert_int_equal(dgt_code(r), 0);
            }
            if (!strcmp(actors[i].role, "manager") && !strcmp(kinds[k], "churn")) {
                const Dangan__V1__Response *resp = dg_reply_response(r);
                size_t n = protobuf_c_message_get_packed_size(&resp->base);
                uint8_t *bytes = malloc(n);

                assert_non_null(bytes);
                protobuf_c_message_pack(&resp->base, bytes);
                assert_non_null(
                    memmem(bytes, n, hidden_target()->name, strlen(hidden_target()->name)));
                free(bytes);
            }
            dg_reply_free(r);
        }
    }
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

/* The XLSX's parts uncompressed, each checked. */
static void check_xlsx(const struct actor *a, const char *path, bool may_hold, bool must_hold)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    bool seen = false;

    assert_non_null(z);
    for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
        zip_stat_t st;
        zip_file_t *f;
        char *buf;

        assert_int_equal(zip_stat_index(z, (zip_uint64_t)i, 0, &st), 0);
        buf = malloc(st.size + 1);
        assert_non_null(buf);
        f = zip_fopen_index(z, (zip_uint64_t)i, 0);
        assert_non_null(f);
        assert_int_equal(zip_fread(f, buf, st.size), (zip_int64_t)st.size);
        zip_fclose(f);
        check_no_leak_in(a, buf, st.size, path);
        seen |= memmem(buf, st.size, hidden_target()->name, strlen(hidden_target()->name)) != NULL;
        free(buf);
    }
    zip_discard(z);
    if ((seen && !may_hold) || (!seen && must_hold))
        fail_msg("%s: the hidden customer is %sin the file", path, seen ? "" : "not ");
}

static void test_report_output_and_files_do_not_leak(void **state)
{
    /* sales, viewer; the manager as the control that sees everything */
    const size_t who[] = {2, 3, 1};

    (void)state;
    for (size_t w = 0; w < DG_ARRAY_LEN(who); w++) {
        const struct actor *a = &actors[who[w]];
        bool is_control = who[w] == 1;
        char cfg[512];
        dgt_run run;

        snprintf(cfg, sizeof cfg, "%s/cli-%s", srv.root, a->user);
        dgt_cli_login(&run, cfg, &srv, a->user, password_of(a));
        for (size_t k = 0; k < DG_ARRAY_LEN(kinds); k++) {
            char path[600], what[96];
            size_t n;
            char *buf;

            for (int json = 0; json < 2; json++) {
                const char *argv[] = {json ? "--json" : "report", json ? "report" : kinds[k],
                                      json ? kinds[k] : NULL, NULL};

                dgt_cli(&run, cfg, NULL, argv);
                if (run.status != 0) {
                    char cmd[1024];

                    snprintf(cmd, sizeof cmd, "grep -v 'info auth' %s | tail -20", srv.log);
                    if (system(cmd) != 0)
                        print_error("cannot show %s\n", srv.log);
                    fail_msg("report %s as %s: %s", kinds[k], a->user, run.err);
                }
                snprintf(what, sizeof what, "dangan %sreport %s", json ? "--json " : "", kinds[k]);
                check_no_leak_in(a, run.out, strlen(run.out), what);
                if (is_control && !strcmp(kinds[k], "churn"))
                    assert_non_null(strstr(run.out, hidden_target()->name));
            }
            if (who[w] == 3)
                continue; /* viewers do not export */
            for (int xlsx = 0; xlsx < 2; xlsx++) {
                snprintf(path, sizeof path, "%s/%s-%s.%s", srv.root, a->user, kinds[k],
                         xlsx ? "xlsx" : "csv");
                dgt_cli(&run, cfg, NULL,
                        (const char *const[]){"report", kinds[k], "-o", path, NULL});
                if (run.status != 0) {
                    char cmd[1024];

                    snprintf(cmd, sizeof cmd, "tail -20 %s", srv.log);
                    if (system(cmd) != 0)
                        print_error("cannot show %s\n", srv.log);
                    fail_msg("report %s -o %s: %s", kinds[k], path, run.err);
                }
                if (xlsx) {
                    check_xlsx(a, path, is_control, is_control && !strcmp(kinds[k], "churn"));
                    continue;
                }
                buf = slurp(path, &n);
                check_no_leak_in(a, buf, n, path);
                if (is_control && !strcmp(kinds[k], "churn"))
                    assert_non_null(
                        memmem(buf, n, hidden_target()->name, strlen(hidden_target()->name)));
                free(buf);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_over_the_protocol_do_not_leak),
        cmocka_unit_test(test_report_output_and_files_do_not_leak),
    };

    return cmocka_run_group_tests_name("report leaks", tests, setup, perm_world_teardown);
}
