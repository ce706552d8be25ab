/* pager.c - the paging list model of the Customers page (pager.h).
 *
 * Owns: the loaded rows (a GPtrArray of DgCustomer), the cursor of the next
 * page and the current request's generation.
 * Invariants: at most one request in flight per generation; items are only
 * appended within a generation, so a view's positions stay valid; a reply
 * whose generation is not the current one changes nothing.
 * A request that failed (the connection was lost) is sent again when the
 * connection is back.
 * Paging: the view calls dg_pager_need_more when its scrolling comes near
 * the end of what is loaded (a list view asks the model for more rows than
 * it shows, so get_item is no measure of what the user sees).
 */
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "pager.h"

#define PAGE_ROWS 100   /* per List request: about three screens of rows */
#define SEARCH_HITS 200 /* Search's maximum (docs/protocol.md) */

/* ---------------------------------------------------------------- DgCustomer */

G_DEFINE_TYPE(DgCustomer, dg_customer, G_TYPE_OBJECT)

static void dg_customer_finalize(GObject *o)
{
    DgCustomer *c = DG_CUSTOMER(o);

    g_free(c->code);
    g_free(c->name);
    g_free(c->tier);
    g_free(c->status);
    g_free(c->owner);
    g_free(c->phone);
    G_OBJECT_CLASS(dg_customer_parent_class)->finalize(o);
}

static void dg_customer_class_init(DgCustomerClass *k)
{
    G_OBJECT_CLASS(k)->finalize = dg_customer_finalize;
}

static void dg_customer_init(DgCustomer *c)
{
    (void)c;
}

const char *dg_customer_tier_text(int tier)
{
    switch (tier) {
    case DANGAN__V1__TIER__TIER_A:
        return "A";
    case DANGAN__V1__TIER__TIER_B:
        return "B";
    case DANGAN__V1__TIER__TIER_C:
        return "C";
    default:
        return "";
    }
}

const char *dg_customer_status_text(int status)
{
    switch (status) {
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_POTENTIAL:
        return _("Potential");
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE:
        return _("Active");
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT:
        return _("Dormant");
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST:
        return _("Lost");
    default:
        return "";
    }
}

DgCustomer *dg_customer_new(const Dangan__V1__Customer *m)
{
    DgCustomer *c = g_object_new(DG_TYPE_CUSTOMER, NULL);

    c->id = m->id;
    c->code = g_strdup(m->code);
    c->name = g_strdup(m->name);
    c->tier = g_strdup(dg_customer_tier_text(m->tier));
    c->status = g_strdup(dg_customer_status_text(m->status));
    c->owner = g_strdup(m->owner ? m->owner->username : "");
    c->phone = g_strdup(m->phone);
    return c;
}

/* ---------------------------------------------------------------- DgPager */

struct _DgPager {
    GObject parent;
    DgGtkConn *conn;
    GPtrArray *rows; /* of DgCustomer */
    char *query;     /* "" : List */
    dg_pager_filter filter;
    char *next_cursor; /* NULL: no page follows */
    guint generation;
    bool is_loading;
    bool has_failed; /* the last request failed: a reconnect should reload */
    dg_pager_status_fn status;
    gpointer status_user;
};

static void list_model_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(DgPager, dg_pager, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, list_model_init))

static void say(DgPager *p, const char *text)
{
    if (p->status)
        p->status(text, p->status_user);
}

static void say_count(DgPager *p)
{
    char text[128];

    if (p->rows->len == 0)
        snprintf(text, sizeof text, "%s", _("No customers match."));
    else if (p->next_cursor)
        snprintf(text, sizeof text, _("%u customers shown; more load as you scroll"), p->rows->len);
    else
        snprintf(text, sizeof text, g_dngettext(NULL, "%u customer", "%u customers", p->rows->len),
                 p->rows->len);
    say(p, text);
}

static void fill_filter(const DgPager *p, Dangan__V1__ListFilter *f, Dangan__V1__Tier *tier,
                        Dangan__V1__CustomerStatus *status)
{
    if (p->filter.tier) {
        *tier = p->filter.tier;
        f->n_tiers = 1;
        f->tiers = tier;
    }
    if (p->filter.status) {
        *status = p->filter.status;
        f->n_statuses = 1;
        f->statuses = status;
    }
    if (p->filter.is_mine)
        f->owner = "me";
}

static void append_customer(DgPager *p, const Dangan__V1__Customer *c)
{
    if (c)
        g_ptr_array_add(p->rows, dg_customer_new(c));
}

/* `user` is the generation the request was sent for. */
static void replied(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                    gpointer user)
{
    DgPager *p = DG_PAGER(owner);
    guint before = p->rows->len;

    if (GPOINTER_TO_UINT(user) != p->generation)
        return;
    p->is_loading = false;
    p->has_failed = false;
    if (rc != DG_CLIENT_OK || !resp->status || resp->status->code != DANGAN__V1__CODE__OK) {
        char text[400];

        /* the cursor stays: the same page can be asked for again */
        p->has_failed = true;
        snprintf(text, sizeof text, _("The list could not be loaded: %s"),
                 rc != DG_CLIENT_OK ? (errmsg && *errmsg ? errmsg : dg_client_strerror(rc))
                                    : resp->status->message);
        say(p, text);
        return;
    }
    g_clear_pointer(&p->next_cursor, g_free);
    if (resp->body_case == DANGAN__V1__RESPONSE__BODY_LIST && resp->list) {
        for (size_t i = 0; i < resp->list->n_records; i++)
            append_customer(p, resp->list->records[i]->customer);
        if (resp->list->next_cursor[0])
            p->next_cursor = g_strdup(resp->list->next_cursor);
    } else if (resp->body_case == DANGAN__V1__RESPONSE__BODY_SEARCH && resp->search) {
        for (size_t i = 0; i < resp->search->n_hits; i++)
            append_customer(p, resp->search->hits[i]->customer);
    }
    if (p->rows->len > before)
        g_list_model_items_changed(G_LIST_MODEL(p), before, 0, p->rows->len - before);
    say_count(p);
}

/* Sends the request for the first or the next page. */
static void fetch(DgPager *p)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest list = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__SearchRequest search = DANGAN__V1__SEARCH_REQUEST__INIT;
    Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
    Dangan__V1__Tier tier;
    Dangan__V1__CustomerStatus status;

    fill_filter(p, &f, &tier, &status);
    if (p->query[0]) {
        search.query = p->query;
        search.filter = &f;
        search.limit = SEARCH_HITS;
        req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
        req.search = &search;
    } else {
        list.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        list.filter = &f;
        list.limit = PAGE_ROWS;
        list.cursor = p->next_cursor ? p->next_cursor : "";
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &list;
    }
    p->is_loading = true;
    if (p->rows->len == 0)
        say(p, _("Loading…"));
    dg_gtk_call(p->conn, &req, G_OBJECT(p), replied, GUINT_TO_POINTER(p->generation));
}

static GType get_item_type(GListModel *m)
{
    (void)m;
    return DG_TYPE_CUSTOMER;
}

static guint get_n_items(GListModel *m)
{
    return DG_PAGER(m)->rows->len;
}

static gpointer get_item(GListModel *m, guint pos)
{
    DgPager *p = DG_PAGER(m);

    return pos < p->rows->len ? g_object_ref(g_ptr_array_index(p->rows, pos)) : NULL;
}

static void list_model_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

static void dg_pager_dispose(GObject *o)
{
    DgPager *p = DG_PAGER(o);

    g_clear_object(&p->conn);
    G_OBJECT_CLASS(dg_pager_parent_class)->dispose(o);
}

static void dg_pager_finalize(GObject *o)
{
    DgPager *p = DG_PAGER(o);

    g_ptr_array_unref(p->rows);
    g_free(p->query);
    g_free(p->next_cursor);
    G_OBJECT_CLASS(dg_pager_parent_class)->finalize(o);
}

static void dg_pager_class_init(DgPagerClass *k)
{
    G_OBJECT_CLASS(k)->dispose = dg_pager_dispose;
    G_OBJECT_CLASS(k)->finalize = dg_pager_finalize;
}

static void dg_pager_init(DgPager *p)
{
    p->rows = g_ptr_array_new_with_free_func(g_object_unref);
    p->query = g_strdup("");
}

/* Back from a lost connection: what failed meanwhile is asked for again. */
static void conn_state(DgGtkConn *conn, guint state, gpointer data)
{
    DgPager *p = data;

    (void)conn;
    if (state == DG_GTK_CONNECTED && p->has_failed && !p->is_loading)
        fetch(p);
}

DgPager *dg_pager_new(DgGtkConn *conn, dg_pager_status_fn status, gpointer user)
{
    DgPager *p = g_object_new(DG_TYPE_PAGER, NULL);

    p->conn = g_object_ref(conn);
    g_signal_connect_object(conn, "state-changed", G_CALLBACK(conn_state), p, 0);
    p->status = status;
    p->status_user = user;
    return p;
}

void dg_pager_set_query(DgPager *p, const char *query, const dg_pager_filter *filter)
{
    guint removed = p->rows->len;

    p->generation++;
    g_free(p->query);
    p->query = g_strdup(query ? query : "");
    p->filter = *filter;
    g_clear_pointer(&p->next_cursor, g_free);
    g_ptr_array_set_size(p->rows, 0);
    if (removed)
        g_list_model_items_changed(G_LIST_MODEL(p), 0, removed, 0);
    fetch(p);
}

bool dg_pager_has_more(DgPager *p)
{
    return p->next_cursor != NULL;
}

void dg_pager_need_more(DgPager *p)
{
    if (p->next_cursor && !p->is_loading)
        fetch(p);
}
