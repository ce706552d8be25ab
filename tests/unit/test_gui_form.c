/* test_gui_form.c - the graphical client's forms (client/gtk/logic/form.c):
 * the checks answer with the server's rules and messages (dg_record_validate,
 * now in common/entity.c, which the server runs on every write), typed text
 * becomes values in the team's currency and time zone, and values are shown
 * as a person reads them, masked ones exactly as the server sent them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "entity.h"
#include "form.h"

static const dg_field *field(enum dg_kind kind, const char *name)
{
    const dg_entity *e = dg_entity_get(kind);
    int i = dg_entity_field_index(e, name);

    assert_true(i >= 0);
    return &e->fields[i];
}

static dg_record *customer(dg_arena *a)
{
    dg_record *r = dg_record_new(a, DG_KIND_CUSTOMER);

    assert_non_null(r);
    return r;
}

static void give(dg_record *r, const char *name, const char *s, int64_t i)
{
    int k = dg_entity_field_index(dg_entity_get(r->kind), name);

    assert_true(k >= 0);
    r->v[k].s = s;
    r->v[k].i = i;
    r->given |= 1ull << k;
}

/* Each bad value gets, word for word, the violation the server answers. */
static void test_check_gives_the_servers_messages(void **state)
{
    static const struct {
        const char *field, *text, *problem;
    } cases[] = {
        {"phone", "call me", "not a phone number (3-20 digits, with + - ( ) . / # or ext)"},
        {"email", "a@b", "not an e-mail address"},
        {"founded_on", "2026-02-30", "not a date (YYYY-MM-DD)"},
        {"postcode", "123456789012345678901", "at most 20 characters"},
        {"notes", "bell\a", "control characters are not allowed"},
    };
    dg_arena *a = dg_arena_new(1 << 16);

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++) {
        dg_record *r = customer(a);
        dg_form_problem p[4];

        give(r, cases[i].field, cases[i].text, 0);
        assert_int_equal(dg_form_check(r, false, a, p, 4), 1);
        assert_string_equal(p[0].field, cases[i].field);
        assert_string_equal(p[0].problem, cases[i].problem);
    }
    dg_arena_free(a);
}

static void test_check_on_create_names_every_required_field(void **state)
{
    dg_arena *a = dg_arena_new(1 << 16);
    dg_record *r = dg_record_new(a, DG_KIND_INTERACTION);
    dg_form_problem p[8];
    int n;

    (void)state;
    n = dg_form_check(r, true, a, p, 8);
    /* customer_id, channel, summary */
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_string_equal(p[i].problem, "required");
    assert_string_equal(p[0].field, "customer_id");
    assert_string_equal(p[1].field, "channel");
    assert_string_equal(p[2].field, "summary");
    assert_int_equal(dg_form_check(r, false, a, p, 8), 0);
    dg_arena_free(a);
}

static void test_check_counts_problems_beyond_cap(void **state)
{
    dg_arena *a = dg_arena_new(1 << 16);
    dg_record *r = customer(a);
    dg_form_problem p[1];

    (void)state;
    give(r, "phone", "x", 0);
    give(r, "email", "y", 0);
    assert_int_equal(dg_form_check(r, false, a, p, 1), 2);
    assert_string_equal(p[0].field, "phone");
    dg_arena_free(a);
}

static void test_parse_money_in_the_teams_currency(void **state)
{
    const dg_field *cap = field(DG_KIND_CUSTOMER, "registered_capital");
    dg_form_ctx jpy = {.currency = "JPY"};
    dg_arena *a = dg_arena_new(1 << 16);
    char why[128];
    dg_value v;

    (void)state;
    assert_int_equal(dg_form_parse(a, &jpy, cap, "1,234", &v, why, sizeof why), DG_OK);
    assert_int_equal(v.i, 1234);
    assert_string_equal(v.s, "JPY");
    assert_int_equal(dg_form_parse(a, &jpy, cap, "12.5", &v, why, sizeof why), DG_EINVAL);
    assert_string_equal(why, "JPY amounts are whole numbers");
    assert_int_equal(dg_form_parse(a, NULL, cap, "12.34", &v, why, sizeof why), DG_OK);
    assert_int_equal(v.i, 1234);
    assert_string_equal(v.s, "CNY");
    assert_int_equal(dg_form_parse(a, &jpy, cap, "", &v, why, sizeof why), DG_OK);
    assert_int_equal(v.i, 0);
    assert_string_equal(v.s, "");
    dg_arena_free(a);
}

static void test_parse_time_in_the_teams_zone(void **state)
{
    const dg_field *due = field(DG_KIND_TASK, "due_at_ms");
    dg_form_ctx shanghai = {.zone = "Asia/Shanghai"}, new_york = {.zone = "America/New_York"};
    dg_arena *a = dg_arena_new(1 << 16);
    char why[128];
    dg_value v;

    (void)state;
    /* 2026-11-22 09:30 +08:00 = 01:30Z */
    assert_int_equal(dg_form_parse(a, &shanghai, due, "2026-11-22 09:30", &v, why, sizeof why),
                     DG_OK);
    assert_int_equal(v.i, 1795311000000LL);
    assert_int_equal(dg_form_parse(a, &shanghai, due, "2026-11-22", &v, why, sizeof why), DG_OK);
    assert_int_equal(v.i, 1795311000000LL - 9 * 3600000LL - 30 * 60000LL);
    /* the day daylight saving starts: noon is EDT (-4), midnight was EST (-5) */
    assert_int_equal(dg_form_parse(a, &new_york, due, "2026-03-08 12:00", &v, why, sizeof why),
                     DG_OK);
    assert_int_equal(v.i, 1772985600000LL);
    assert_int_equal(dg_form_parse(a, &shanghai, due, "2026-11-22 25:00", &v, why, sizeof why),
                     DG_EINVAL);
    assert_string_equal(why, "a date or time like 2026-11-22 or 2026-11-22 09:30");
    dg_arena_free(a);
}

static void test_parse_enum_int_and_bool(void **state)
{
    dg_arena *a = dg_arena_new(1 << 16);
    char why[256];
    dg_value v;

    (void)state;
    assert_int_equal(
        dg_form_parse(a, NULL, field(DG_KIND_CUSTOMER, "tier"), "B", &v, why, sizeof why), DG_OK);
    assert_int_equal(v.i, 2);
    assert_int_equal(
        dg_form_parse(a, NULL, field(DG_KIND_CUSTOMER, "tier"), "z", &v, why, sizeof why),
        DG_EINVAL);
    assert_string_equal(why, "one of: a, b, c");
    assert_int_equal(
        dg_form_parse(a, NULL, field(DG_KIND_CUSTOMER, "staff_count"), "12x", &v, why, sizeof why),
        DG_EINVAL);
    assert_string_equal(why, "a whole number");
    assert_int_equal(
        dg_form_parse(a, NULL, field(DG_KIND_TASK, "done"), "yes", &v, why, sizeof why), DG_OK);
    assert_int_equal(v.i, 1);
    dg_arena_free(a);
}

static const char *name_of(void *ud, int64_t id)
{
    (void)ud;
    return id == 7 ? "王芳" : NULL;
}

static void test_format_values_as_people_read_them(void **state)
{
    dg_form_ctx ctx = {.zone = "Asia/Shanghai", .currency = "CNY", .user_name = name_of};
    char buf[128];
    dg_value money = {1234500, "CNY"}, usd = {-1050, "USD"}, bare = {500, ""};
    dg_value when = {1795311000000LL, ""}, none = {0, ""}, tier = {1, ""};
    dg_value me = {7, ""}, other = {9, ""};

    (void)state;
    assert_string_equal(dg_form_format(&ctx, field(DG_KIND_CUSTOMER, "registered_capital"), &money,
                                       buf, sizeof buf),
                        "CNY 12,345.00");
    assert_string_equal(dg_form_format(&ctx, field(DG_KIND_DEAL, "amount"), &usd, buf, sizeof buf),
                        "USD -10.50");
    /* no currency on the amount: the team's */
    ctx.currency = "JPY";
    assert_string_equal(dg_form_format(&ctx, field(DG_KIND_DEAL, "amount"), &bare, buf, sizeof buf),
                        "JPY 500");
    assert_string_equal(
        dg_form_format(&ctx, field(DG_KIND_TASK, "due_at_ms"), &when, buf, sizeof buf),
        "2026-11-22 09:30");
    assert_string_equal(
        dg_form_format(&ctx, field(DG_KIND_TASK, "due_at_ms"), &none, buf, sizeof buf), "");
    assert_string_equal(
        dg_form_format(&ctx, field(DG_KIND_CUSTOMER, "staff_count"), &none, buf, sizeof buf), "");
    assert_string_equal(
        dg_form_format(&ctx, field(DG_KIND_CUSTOMER, "tier"), &tier, buf, sizeof buf), "a");
    assert_string_equal(
        dg_form_format(&ctx, field(DG_KIND_CUSTOMER, "owner"), &me, buf, sizeof buf), "王芳");
    assert_string_equal(
        dg_form_format(&ctx, field(DG_KIND_CUSTOMER, "owner"), &other, buf, sizeof buf), "#9");
}

/* Masked values are shown exactly as the server masked them. */
static void test_format_leaves_masked_values_alone(void **state)
{
    char buf[64];
    dg_value phone = {0, "138****5678"}, birthday = {0, "****-**-**"}, id = {0, "3*************12"};

    (void)state;
    assert_string_equal(
        dg_form_format(NULL, field(DG_KIND_CONTACT, "personal_phone"), &phone, buf, sizeof buf),
        "138****5678");
    assert_string_equal(
        dg_form_format(NULL, field(DG_KIND_CONTACT, "birthday"), &birthday, buf, sizeof buf),
        "****-**-**");
    assert_string_equal(
        dg_form_format(NULL, field(DG_KIND_CONTACT, "id_number"), &id, buf, sizeof buf),
        "3*************12");
}

static void test_phone_groups_mainland_mobiles_only(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"13812345678", "138 1234 5678"},
        {"+8613812345678", "+86 138 1234 5678"},
        {"008613812345678", "+86 138 1234 5678"},
        {"138-1234-5678", "138-1234-5678"},
        {"010-62345678", "010-62345678"},
        {"1381234567", "1381234567"},
        {"23812345678", "23812345678"},
        {"138****5678", "138****5678"},
        {"", ""},
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(cases); i++)
        assert_string_equal(dg_form_phone(cases[i].in, buf, sizeof buf), cases[i].out);
}

/* What a form shows, typed back unchanged, is the same value. */
static void test_money_and_time_read_back_what_they_show(void **state)
{
    dg_form_ctx ctx = {.zone = "Asia/Shanghai", .currency = "CNY"};
    const dg_field *amount = field(DG_KIND_DEAL, "amount"), *at = field(DG_KIND_DEAL, "at_ms");
    dg_value m = {-123456789, "KWD"}, t = {1795311000000LL, ""}, back;
    dg_arena *a = dg_arena_new(1 << 16);
    char buf[64], why[128];

    (void)state;
    dg_form_format(&ctx, amount, &m, buf, sizeof buf);
    assert_string_equal(buf, "KWD -123,456.789");
    assert_int_equal(dg_form_parse(a, &ctx, amount, buf, &back, why, sizeof why), DG_OK);
    assert_int_equal(back.i, m.i);
    assert_string_equal(back.s, "KWD");
    dg_form_format(&ctx, at, &t, buf, sizeof buf);
    assert_int_equal(dg_form_parse(a, &ctx, at, buf, &back, why, sizeof why), DG_OK);
    assert_int_equal(back.i, t.i);
    dg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_gives_the_servers_messages),
        cmocka_unit_test(test_check_on_create_names_every_required_field),
        cmocka_unit_test(test_check_counts_problems_beyond_cap),
        cmocka_unit_test(test_parse_money_in_the_teams_currency),
        cmocka_unit_test(test_parse_time_in_the_teams_zone),
        cmocka_unit_test(test_parse_enum_int_and_bool),
        cmocka_unit_test(test_format_values_as_people_read_them),
        cmocka_unit_test(test_format_leaves_masked_values_alone),
        cmocka_unit_test(test_phone_groups_mainland_mobiles_only),
        cmocka_unit_test(test_money_and_time_read_back_what_they_show),
    };

    return cmocka_run_group_tests_name("gui_form", tests, NULL, NULL);
}
