/* test_gui_edit.c - the dossier's forms (client/gtk/logic/edit_form.c and
 * dg_recmsg_create): only the fields whose text the user changed are sent,
 * each problem is the server's word for word and names its field, and a
 * quick action's record carries what the form preset (its customer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "edit_form.h"
#include "entity.h"
#include "record_msg.h"

static const dg_form_ctx CTX = {"Asia/Shanghai", "CNY", NULL, NULL};

static int idx(enum dg_kind kind, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(kind), name);

    assert_true(i >= 0);
    return i;
}

static dg_record *customer(dg_arena *a)
{
    dg_record *r = dg_record_new(a, DG_KIND_CUSTOMER);

    r->id = 7;
    r->version = 3;
    r->v[idx(DG_KIND_CUSTOMER, "name")].s = "深圳华信科技";
    r->v[idx(DG_KIND_CUSTOMER, "phone")].s = "13812345678";
    r->v[idx(DG_KIND_CUSTOMER, "bank_account")].s = "****5678"; /* masked by the server */
    r->given = ~0ull;
    return r;
}

/* Every field's text as the form first shows it. */
static void shown(dg_arena *a, const dg_record *r, const char *texts[DG_MAX_FIELDS])
{
    const dg_entity *e = dg_entity_get(r->kind);
    char buf[512];

    for (size_t i = 0; i < e->n_fields; i++)
        texts[i] =
            dg_arena_strdup(a, dg_form_format(&CTX, &e->fields[i], &r->v[i], buf, sizeof buf));
}

static void test_untouched_form_sends_nothing(void **state)
{
    dg_arena *a = dg_arena_new(1 << 18);
    dg_record *r = customer(a);
    const char *texts[DG_MAX_FIELDS] = {0};
    dg_edit e;

    (void)state;
    shown(a, r, texts);
    /* the phone is shown grouped, the masked account as the server sent it */
    assert_string_equal(texts[idx(DG_KIND_CUSTOMER, "phone")], "138 1234 5678");
    assert_string_equal(texts[idx(DG_KIND_CUSTOMER, "bank_account")], "****5678");
    assert_int_equal(dg_edit_read(a, &CTX, r, false, texts, &e), DG_OK);
    assert_int_equal(e.changed, 0);
    assert_int_equal(e.rec->given, 0);
    assert_int_equal(e.n_problems, 0);
    dg_arena_free(a);
}

static void test_changed_field_is_sent_with_the_base_version(void **state)
{
    dg_arena *a = dg_arena_new(1 << 18);
    dg_record *r = customer(a);
    const char *texts[DG_MAX_FIELDS] = {0};
    Dangan__V1__UpdateRequest *u;
    dg_edit e;
    int region = idx(DG_KIND_CUSTOMER, "region");

    (void)state;
    shown(a, r, texts);
    texts[region] = "华南";
    assert_int_equal(dg_edit_read(a, &CTX, r, false, texts, &e), DG_OK);
    assert_int_equal(e.changed, 1ull << region);
    assert_int_equal(e.n_problems, 0);
    assert_string_equal(e.rec->v[region].s, "华南");
    assert_int_equal(dg_recmsg_update(a, e.rec, e.changed, &u), DG_OK);
    assert_int_equal(u->expected_version, 3);
    assert_int_equal(u->n_update_mask, 1);
    assert_string_equal(u->update_mask[0], "region");
    assert_string_equal(u->record->customer->region, "华南");
    dg_arena_free(a);
}

static void test_problems_are_the_servers_by_field(void **state)
{
    dg_arena *a = dg_arena_new(1 << 18);
    dg_record *r = customer(a);
    const char *texts[DG_MAX_FIELDS] = {0};
    dg_edit e;

    (void)state;
    shown(a, r, texts);
    texts[idx(DG_KIND_CUSTOMER, "phone")] = "call me";
    texts[idx(DG_KIND_CUSTOMER, "email")] = "sales at example";
    texts[idx(DG_KIND_CUSTOMER, "staff_count")] = "many";
    assert_int_equal(dg_edit_read(a, &CTX, r, false, texts, &e), DG_OK);
    assert_string_equal(dg_edit_problem(&e, "phone"),
                        "not a phone number (3-20 digits, with + - ( ) . / # or ext)");
    assert_string_equal(dg_edit_problem(&e, "email"), "not an e-mail address");
    assert_non_null(dg_edit_problem(&e, "staff_count"));
    assert_null(dg_edit_problem(&e, "region"));
    assert_int_equal(e.n_problems, 3); /* staff_count said once, by the reader */
    dg_arena_free(a);
}

static void test_quick_action_creates_with_its_preset(void **state)
{
    dg_arena *a = dg_arena_new(1 << 18);
    dg_record *base = dg_record_new(a, DG_KIND_INTERACTION);
    const char *texts[DG_MAX_FIELDS] = {0};
    int cust = idx(DG_KIND_INTERACTION, "customer_id"), chan = idx(DG_KIND_INTERACTION, "channel");
    int summary = idx(DG_KIND_INTERACTION, "summary");
    Dangan__V1__Record *rec;
    dg_edit e;

    (void)state;
    base->v[cust].i = 7;
    base->v[chan].i = DANGAN__V1__CHANNEL__CHANNEL_PHONE;
    base->given = (1ull << cust) | (1ull << chan);
    texts[summary] = "";
    assert_int_equal(dg_edit_read(a, &CTX, base, true, texts, &e), DG_OK);
    assert_string_equal(dg_edit_problem(&e, "summary"), "required");
    assert_int_equal(e.n_problems, 1);

    texts[summary] = "问了报价";
    assert_int_equal(dg_edit_read(a, &CTX, base, true, texts, &e), DG_OK);
    assert_int_equal(e.n_problems, 0);
    assert_int_equal(dg_recmsg_create(a, e.rec, &rec), DG_OK);
    assert_int_equal(rec->kind_case, DANGAN__V1__RECORD__KIND_INTERACTION);
    assert_int_equal(rec->interaction->customer_id, 7);
    assert_int_equal(rec->interaction->channel, DANGAN__V1__CHANNEL__CHANNEL_PHONE);
    assert_string_equal(rec->interaction->summary, "问了报价");
    assert_int_equal(rec->interaction->at_ms, 0); /* not given: the server's now */
    dg_arena_free(a);
}

static void test_task_due_in_the_teams_zone(void **state)
{
    dg_arena *a = dg_arena_new(1 << 18);
    dg_record *base = dg_record_new(a, DG_KIND_TASK);
    const char *texts[DG_MAX_FIELDS] = {0};
    int due = idx(DG_KIND_TASK, "due_at_ms"), title = idx(DG_KIND_TASK, "title");
    dg_edit e;

    (void)state;
    base->v[idx(DG_KIND_TASK, "customer_id")].i = 7;
    base->given = 1ull << idx(DG_KIND_TASK, "customer_id");
    texts[title] = "寄样品";
    texts[due] = "2026-12-08 09:30";
    assert_int_equal(dg_edit_read(a, &CTX, base, true, texts, &e), DG_OK);
    assert_int_equal(e.n_problems, 0);
    assert_int_equal(e.rec->v[due].i, 1796693400000LL); /* 01:30 UTC */
    texts[due] = "tomorrow";
    assert_int_equal(dg_edit_read(a, &CTX, base, true, texts, &e), DG_OK);
    assert_non_null(dg_edit_problem(&e, "due_at_ms"));
    dg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untouched_form_sends_nothing),
        cmocka_unit_test(test_changed_field_is_sent_with_the_base_version),
        cmocka_unit_test(test_problems_are_the_servers_by_field),
        cmocka_unit_test(test_quick_action_creates_with_its_preset),
        cmocka_unit_test(test_task_due_in_the_teams_zone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
