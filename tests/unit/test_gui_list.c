/* test_gui_list.c - the Customers list model (client/gtk/logic/paged_list.c)
 * over keyset pages: pages are asked for as the view nears the end, one
 * request at a time; a new query drops replies to the old one; live changes
 * land in place, in sort order, or not at all; memory stays bounded while
 * scrolling a long list. The network is the test: `fetch` records what the
 * list asks for and the test answers with made-up pages, as the app does
 * with the server's ListResponse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dg.h"
#include "paged_list.h"

struct net {
    int n_fetch;
    guint64 generation;
    char cursor[64];
    guint limit;
    gboolean only_tier_a; /* the query's filter, for belongs */
    /* items-changed, summed */
    int n_signals;
    guint last_pos, last_removed, last_added;
    guint first_pos, first_removed, first_added; /* since n_signals was last 0 */
};

static void fetch(DgPagedList *list, guint64 generation, const char *cursor, guint limit,
                  gpointer ud)
{
    struct net *net = ud;

    (void)list;
    net->n_fetch++;
    net->generation = generation;
    snprintf(net->cursor, sizeof net->cursor, "%s", cursor);
    net->limit = limit;
}

static gboolean belongs(DgCustomerItem *item, gpointer ud)
{
    struct net *net = ud;
    char *tier;
    gboolean yes;

    if (!net->only_tier_a)
        return TRUE;
    g_object_get(item, "tier", &tier, NULL);
    yes = g_strcmp0(tier, "a") == 0;
    g_free(tier);
    return yes;
}

/* The query's sort: by name, then id (a total order, as the server's). */
static gint by_name(gconstpointer a, gconstpointer b, gpointer ud)
{
    DgCustomerItem *x = (DgCustomerItem *)a, *y = (DgCustomerItem *)b;
    int c = strcmp(dg_customer_item_get_name(x), dg_customer_item_get_name(y));

    (void)ud;
    if (c)
        return c;
    return dg_customer_item_get_id(x) < dg_customer_item_get_id(y)   ? -1
           : dg_customer_item_get_id(x) > dg_customer_item_get_id(y) ? 1
                                                                     : 0;
}

static void on_changed(GListModel *m, guint pos, guint removed, guint added, gpointer ud)
{
    struct net *net = ud;

    (void)m;
    if (net->n_signals++ == 0) {
        net->first_pos = pos;
        net->first_removed = removed;
        net->first_added = added;
    }
    net->last_pos = pos;
    net->last_removed = removed;
    net->last_added = added;
}

static DgCustomerItem *item(gint64 id, const char *name, int tier)
{
    Dangan__V1__Customer c = DANGAN__V1__CUSTOMER__INIT;

    c.id = id;
    c.version = 1;
    c.name = (char *)name;
    c.tier = tier;
    return dg_customer_item_new_from_pb(&c, NULL);
}

/* Answers the request in flight with rows id0..id0+n-1 named "nNNNNN". */
static gboolean answer(DgPagedList *list, struct net *net, gint64 id0, guint n, const char *next)
{
    DgCustomerItem *items[1000];
    gboolean ok;

    assert_true(n <= 1000);
    for (guint i = 0; i < n; i++) {
        char name[16];

        snprintf(name, sizeof name, "n%06lld", (long long)(id0 + i));
        items[i] = item(id0 + i, name, 1);
    }
    ok = dg_paged_list_deliver(list, net->generation, items, n, next);
    for (guint i = 0; i < n; i++)
        g_object_unref(items[i]);
    return ok;
}

static DgPagedList *new_list(struct net *net, guint page, guint resident)
{
    DgPagedList *list = dg_paged_list_new(page, resident, fetch, belongs, by_name, net, NULL);

    g_signal_connect(list, "items-changed", G_CALLBACK(on_changed), net);
    return list;
}

static const char *name_at(DgPagedList *list, guint pos, char *buf, size_t len)
{
    DgCustomerItem *it = g_list_model_get_item(G_LIST_MODEL(list), pos);

    snprintf(buf, len, "%s",
             dg_customer_item_is_placeholder(it) ? "(loading)" : dg_customer_item_get_name(it));
    g_object_unref(it);
    return buf;
}

static void test_reset_asks_for_the_first_page(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);

    (void)state;
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 0);
    assert_int_equal(net.n_fetch, 0);
    dg_paged_list_reset(list);
    assert_int_equal(net.n_fetch, 1);
    assert_string_equal(net.cursor, "");
    assert_int_equal(net.limit, 50);
    assert_true(dg_paged_list_is_loading(list));
    assert_true(answer(list, &net, 1, 50, "c1"));
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 50);
    assert_int_equal(net.last_added, 50);
    assert_false(dg_paged_list_is_loading(list));
    assert_false(dg_paged_list_is_complete(list));
    g_object_unref(list);
}

static void test_next_page_when_the_view_nears_the_end_once(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    DgCustomerItem *it;

    (void)state;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "c1");
    dg_paged_list_need(list, 0); /* far from the end */
    assert_int_equal(net.n_fetch, 1);
    /* the view binding a row near the end asks for more, once */
    it = g_list_model_get_item(G_LIST_MODEL(list), 40);
    g_object_unref(it);
    assert_int_equal(net.n_fetch, 2);
    assert_string_equal(net.cursor, "c1");
    dg_paged_list_need(list, 45);
    dg_paged_list_need(list, 49);
    assert_int_equal(net.n_fetch, 2);
    assert_true(answer(list, &net, 51, 50, "c2"));
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 100);
    assert_int_equal(net.last_pos, 50);
    g_object_unref(list);
}

/* With next-on-get off (a column view asks for rows it does not show), a
 * row asked for near the end fetches nothing; the app's need does. */
static void test_next_on_get_off_leaves_paging_to_need(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    DgCustomerItem *it;

    (void)state;
    dg_paged_list_set_next_on_get(list, FALSE);
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "c1");
    it = g_list_model_get_item(G_LIST_MODEL(list), 49);
    g_object_unref(it);
    assert_int_equal(net.n_fetch, 1);
    dg_paged_list_need(list, 49);
    assert_int_equal(net.n_fetch, 2);
    assert_string_equal(net.cursor, "c1");
    g_object_unref(list);
}

static void test_a_reply_to_an_old_query_is_dropped(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    guint64 old;

    (void)state;
    old = dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "c1");
    dg_paged_list_need(list, 49);
    /* the user types: a new query while page 2 of the old one is on its way */
    assert_int_equal(dg_paged_list_reset(list), old + 1);
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 0);
    net.generation = old;
    assert_false(answer(list, &net, 51, 50, "c2"));
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 0);
    net.generation = old + 1;
    assert_true(answer(list, &net, 900, 3, ""));
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 3);
    /* nothing in flight: a late duplicate is stale too */
    assert_false(answer(list, &net, 900, 3, ""));
    g_object_unref(list);
}

static void test_the_last_page_ends_the_list(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);

    (void)state;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 20, "");
    assert_true(dg_paged_list_is_complete(list));
    dg_paged_list_need(list, 19);
    assert_int_equal(net.n_fetch, 1);
    g_object_unref(list);
}

/* A server that hands back the cursor it was given would page forever. */
static void test_a_stuck_cursor_ends_the_list(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);

    (void)state;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "c1");
    dg_paged_list_need(list, 49);
    answer(list, &net, 51, 50, "c1");
    assert_true(dg_paged_list_is_complete(list));
    dg_paged_list_need(list, 99);
    assert_int_equal(net.n_fetch, 2);
    g_object_unref(list);
}

static void test_a_failed_request_is_asked_again(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);

    (void)state;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "c1");
    dg_paged_list_need(list, 49);
    assert_false(dg_paged_list_fail(list, net.generation + 1));
    assert_true(dg_paged_list_fail(list, net.generation));
    assert_false(dg_paged_list_is_loading(list));
    dg_paged_list_need(list, 49);
    assert_int_equal(net.n_fetch, 3);
    assert_string_equal(net.cursor, "c1");
    g_object_unref(list);
}

static void test_a_changed_row_is_replaced_in_place(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    DgCustomerItem *changed = item(5, "n000005", 2);
    DgCustomerItem *got;

    (void)state;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "");
    net.n_signals = 0;
    dg_paged_list_upsert(list, changed);
    assert_int_equal(net.n_signals, 1);
    assert_int_equal(net.last_pos, 4);
    assert_int_equal(net.last_removed, 1);
    assert_int_equal(net.last_added, 1);
    got = g_list_model_get_item(G_LIST_MODEL(list), 4);
    assert_ptr_equal(got, changed);
    g_object_unref(got);
    g_object_unref(changed);
    g_object_unref(list);
}

static void test_a_renamed_row_moves_to_its_place(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    DgCustomerItem *renamed = item(5, "n000010x", 1);
    char buf[32];

    (void)state;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "");
    dg_paged_list_upsert(list, renamed);
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 50);
    assert_string_equal(name_at(list, 4, buf, sizeof buf), "n000006");
    assert_string_equal(name_at(list, 9, buf, sizeof buf), "n000010x");
    assert_int_equal(dg_paged_list_find(list, 5), 9);
    g_object_unref(renamed);
    g_object_unref(list);
}

static void test_a_new_row_is_inserted_in_sort_order_only_if_it_belongs(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    DgCustomerItem *inside = item(1000, "n000003a", 1), *beyond = item(1001, "z", 1);
    DgCustomerItem *filtered = item(1002, "n000004a", 2);
    char buf[32];

    (void)state;
    net.only_tier_a = TRUE;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "c1");
    dg_paged_list_upsert(list, inside);
    assert_int_equal(dg_paged_list_find(list, 1000), 3);
    assert_string_equal(name_at(list, 3, buf, sizeof buf), "n000003a");
    /* sorts after everything loaded, and more pages are to come: it will come with them */
    dg_paged_list_upsert(list, beyond);
    assert_int_equal(dg_paged_list_find(list, 1001), -1);
    /* not in the query's filter */
    dg_paged_list_upsert(list, filtered);
    assert_int_equal(dg_paged_list_find(list, 1002), -1);
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 51);
    /* once the list is complete the end is known */
    dg_paged_list_need(list, 50);
    answer(list, &net, 51, 10, "");
    dg_paged_list_upsert(list, beyond);
    assert_int_equal(dg_paged_list_find(list, 1001), 61);
    g_object_unref(inside);
    g_object_unref(beyond);
    g_object_unref(filtered);
    g_object_unref(list);
}

static void test_a_row_that_leaves_the_query_is_removed(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 50, 4);
    DgCustomerItem *demoted = item(7, "n000007", 3);

    (void)state;
    net.only_tier_a = TRUE;
    dg_paged_list_reset(list);
    answer(list, &net, 1, 50, "");
    dg_paged_list_upsert(list, demoted);
    assert_int_equal(dg_paged_list_find(list, 7), -1);
    assert_int_equal(net.last_pos, 6);
    assert_int_equal(net.last_removed, 1);
    assert_true(dg_paged_list_remove(list, 8));
    assert_false(dg_paged_list_remove(list, 8));
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 48);
    g_object_unref(demoted);
    g_object_unref(list);
}

/* Scrolling 100,000 rows in pages of 200 keeps 8 pages of rows; a row of a
 * dropped page reads as a placeholder and reloads its page from its cursor. */
static void test_memory_stays_bounded_and_far_pages_reload(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 200, 8);
    guint n_pages = 500, bound = 8 * 200 + 2 * n_pages;
    char cur[32], buf[32];

    (void)state;
    dg_paged_list_reset(list);
    for (guint p = 0; p < n_pages; p++) {
        snprintf(cur, sizeof cur, "c%u", p + 1);
        assert_true(answer(list, &net, (gint64)p * 200 + 1, 200, p + 1 < n_pages ? cur : ""));
        assert_true(dg_paged_list_n_resident(list) <= bound);
        dg_paged_list_need(list, g_list_model_get_n_items(G_LIST_MODEL(list)) - 1);
    }
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 100000);
    assert_true(dg_paged_list_is_complete(list));
    assert_int_equal(net.n_fetch, (int)n_pages);
    /* back to the top: row 250 is in page 1 (cursor "c1"), long dropped */
    assert_string_equal(name_at(list, 250, buf, sizeof buf), "(loading)");
    assert_int_equal(net.n_fetch, (int)n_pages + 1);
    assert_string_equal(net.cursor, "c1");
    net.n_signals = 0;
    assert_true(answer(list, &net, 201, 200, "c2"));
    assert_int_equal(net.first_pos, 200);
    assert_int_equal(net.first_removed, 200);
    assert_int_equal(net.first_added, 200);
    assert_string_equal(name_at(list, 250, buf, sizeof buf), "n000251");
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 100000);
    assert_true(dg_paged_list_n_resident(list) <= bound);
    g_object_unref(list);
}

/* Driven by the rows shown (dg_paged_list_show): the next page is asked for
 * while the last row shown is within `ahead` rows of the end, again after
 * each reply while that holds, and rows the view asks for but does not show
 * fetch nothing. */
static void test_rows_shown_fetch_pages_ahead(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 200, 8);
    DgCustomerItem *it;

    (void)state;
    dg_paged_list_show(list, 0, 0, 400);
    dg_paged_list_reset(list);
    assert_int_equal(net.n_fetch, 1);
    assert_true(answer(list, &net, 1, 200, "c1")); /* 200 rows: 0 + 400 is past them */
    assert_int_equal(net.n_fetch, 2);
    assert_string_equal(net.cursor, "c1");
    assert_true(answer(list, &net, 201, 200, "c2")); /* 400 rows: still */
    assert_int_equal(net.n_fetch, 3);
    assert_string_equal(net.cursor, "c2");
    assert_true(answer(list, &net, 401, 200, "c3")); /* 600 rows: 400 ahead are loaded */
    assert_int_equal(net.n_fetch, 3);
    it = g_list_model_get_item(G_LIST_MODEL(list), 599); /* asked for, not shown */
    g_object_unref(it);
    assert_int_equal(net.n_fetch, 3);
    dg_paged_list_show(list, 150, 180, 400); /* scrolled a little: 180 + 400 < 600 */
    assert_int_equal(net.n_fetch, 3);
    dg_paged_list_show(list, 190, 220, 400); /* now within 400 rows of the end */
    assert_int_equal(net.n_fetch, 4);
    assert_string_equal(net.cursor, "c3");
    g_object_unref(list);
}

/* Scrolling 100,000 rows by the rows shown: memory stays bounded, the pages
 * holding the rows shown are never the ones dropped, and the view asking
 * for a far row (its focus tracker on row 0) neither reloads that row's
 * page nor drops the pages on screen for it; showing the top again reloads
 * the top page and drops the far ones. */
static void test_rows_shown_keep_their_pages_and_far_rows_fetch_nothing(void **state)
{
    struct net net = {0};
    DgPagedList *list = new_list(&net, 200, 8);
    guint n_pages = 500, bound = 8 * 200 + 2 * n_pages, n;
    char cur[32], buf[32];

    (void)state;
    dg_paged_list_show(list, 0, 0, 400);
    dg_paged_list_reset(list);
    for (guint p = 0; p < n_pages; p++) {
        snprintf(cur, sizeof cur, "c%u", p + 1);
        assert_true(answer(list, &net, (gint64)p * 200 + 1, 200, p + 1 < n_pages ? cur : ""));
        assert_true(dg_paged_list_n_resident(list) <= bound);
        /* the screen: 30 rows, 450 rows before the end of what is loaded */
        n = g_list_model_get_n_items(G_LIST_MODEL(list));
        if (n > 480) {
            dg_paged_list_show(list, n - 480, n - 450, 400);
            assert_string_not_equal(name_at(list, n - 480, buf, sizeof buf), "(loading)");
            assert_string_not_equal(name_at(list, n - 450, buf, sizeof buf), "(loading)");
        }
        /* the focus tracker keeps asking for row 0, long dropped */
        if (p > 10) {
            int before = net.n_fetch;

            assert_string_equal(name_at(list, 0, buf, sizeof buf), "(loading)");
            assert_int_equal(net.n_fetch, before);
        }
        if (!dg_paged_list_is_loading(list))
            dg_paged_list_show(list, n - 31, n - 1, 400);
    }
    assert_int_equal(g_list_model_get_n_items(G_LIST_MODEL(list)), 100000);
    assert_true(dg_paged_list_is_complete(list));
    assert_int_equal(net.n_fetch, (int)n_pages);
    /* back to the top: row 0 shown again reloads page 0 (cursor "") */
    dg_paged_list_show(list, 0, 30, 400);
    assert_int_equal(net.n_fetch, (int)n_pages + 1);
    assert_string_equal(net.cursor, "");
    assert_true(answer(list, &net, 1, 200, "c1"));
    assert_string_equal(name_at(list, 10, buf, sizeof buf), "n000011");
    assert_true(dg_paged_list_n_resident(list) <= bound);
    /* the page dropped for it was the farthest from the top (the last), not
     * the one loaded before it */
    assert_string_equal(name_at(list, 99999, buf, sizeof buf), "(loading)");
    assert_string_equal(name_at(list, 98405, buf, sizeof buf), "n098406");
    assert_int_equal(net.n_fetch, (int)n_pages + 1);
    g_object_unref(list);
}

/* A row's columns are the customer's values as the forms show them. */
static void test_item_columns_are_display_text(void **state)
{
    Dangan__V1__Customer c = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef owner = DANGAN__V1__USER_REF__INIT;
    dg_form_ctx ctx = {.zone = "Asia/Shanghai", .currency = "CNY"};
    DgCustomerItem *it;
    char *phone, *tier, *who, *when, *name;
    gint64 owner_id;
    gboolean is_placeholder;

    (void)state;
    c.id = 42;
    c.version = 3;
    c.name = "深圳华强科技";
    c.phone = "+8613812345678";
    c.tier = DANGAN__V1__TIER__TIER_B;
    owner.id = 7;
    owner.username = "wang";
    c.owner = &owner;
    c.last_contact_at_ms = 1795311000000LL;
    it = dg_customer_item_new_from_pb(&c, &ctx);
    g_object_get(it, "name", &name, "phone", &phone, "tier", &tier, "owner", &who, "owner-id",
                 &owner_id, "last-contact", &when, "placeholder", &is_placeholder, NULL);
    assert_string_equal(name, "深圳华强科技");
    assert_string_equal(phone, "+86 138 1234 5678");
    assert_string_equal(tier, "b");
    assert_string_equal(who, "wang");
    assert_int_equal(owner_id, 7);
    assert_string_equal(when, "2026-11-22 09:30");
    assert_false(is_placeholder);
    assert_int_equal(dg_customer_item_get_id(it), 42);
    assert_int_equal(dg_customer_item_get_version(it), 3);
    g_free(name);
    g_free(phone);
    g_free(tier);
    g_free(who);
    g_free(when);
    g_object_unref(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_columns_are_display_text),
        cmocka_unit_test(test_reset_asks_for_the_first_page),
        cmocka_unit_test(test_next_page_when_the_view_nears_the_end_once),
        cmocka_unit_test(test_next_on_get_off_leaves_paging_to_need),
        cmocka_unit_test(test_a_reply_to_an_old_query_is_dropped),
        cmocka_unit_test(test_the_last_page_ends_the_list),
        cmocka_unit_test(test_a_stuck_cursor_ends_the_list),
        cmocka_unit_test(test_a_failed_request_is_asked_again),
        cmocka_unit_test(test_a_changed_row_is_replaced_in_place),
        cmocka_unit_test(test_a_renamed_row_moves_to_its_place),
        cmocka_unit_test(test_a_new_row_is_inserted_in_sort_order_only_if_it_belongs),
        cmocka_unit_test(test_a_row_that_leaves_the_query_is_removed),
        cmocka_unit_test(test_memory_stays_bounded_and_far_pages_reload),
        cmocka_unit_test(test_rows_shown_fetch_pages_ahead),
        cmocka_unit_test(test_rows_shown_keep_their_pages_and_far_rows_fetch_nothing),
    };

    return cmocka_run_group_tests_name("gui_list", tests, NULL, NULL);
}
