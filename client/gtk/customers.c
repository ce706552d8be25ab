/* customers.c - the Customers page: a search entry that searches as you type
 * (debounced), filters by tier, status and owner, and a GtkColumnView over
 * dggui's DgPagedList (paged_list.h): List pages with the server's keyset
 * cursor while the view scrolls (never everything), Search's best hits when
 * something is typed. A row's name is a button that opens the dossier, and
 * so does activating the row (Enter, double click).
 *
 * Live: colleagues' changes (the connection's "event" signal, records
 * included) replace a row in place, put a new customer where the sort puts
 * it, and take out a customer that left the query or the user's view.
 * The List is sorted newest customer first ("-code"), an order the client
 * follows exactly; a Search's hits keep the server's ranking (changed hits
 * are replaced in place, new customers are not guessed into it).
 *
 * Debounce: at most one Search on its way, the newest text waiting for its
 * answer (one_in_flight.h); the last keystroke waits for no fixed delay.
 *
 * Owns: the page's widgets, its two DgPagedLists (List and Search; the
 * selection shows one) and the owners' names seen in replies.
 * Threads: the main thread; requests go through the connection (gtk_conn.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "customer_text.h"
#include "one_in_flight.h"
#include "paged_list.h"

#define PAGE_ROWS 200    /* per List request: several screens of rows */
#define AHEAD_ROWS 400   /* the next page is asked for this many rows before the end */
#define RESIDENT_PAGES 8 /* the screen, the page ahead and those behind */
#define SEARCH_HITS 200  /* Search's maximum (docs/protocol.md) */
#define HITS_CHUNK 40    /* hits handed to the view at a time: a screen and more */

typedef struct page {
    dg_gtk_app *a;
    void (*open)(dg_gtk_app *a, int64_t id);
    DgPagedList *list, *hits, *shown; /* shown: list or hits */
    GtkWidget *list_pane, *hits_pane; /* a column view each: one is shown */
    GHashTable *owners;               /* owner id -> user name, from the replies */
    GPtrArray *hits_got; /* the last Search's hits, handed to `hits` a chunk at a time */
    dg_form_ctx ctx;
    char *query;
    int tier, status;  /* Dangan__V1__Tier / CustomerStatus, 0: any */
    int64_t owner_id;  /* the owner filter: 0 anyone */
    GArray *owner_ids; /* gint64, the id of each item of owner_dd (0: anyone) */
    bool has_failed;
    dg_one_in_flight search_sent; /* tickets: the hits' generations */
    /* the filters the whole list was loaded for; is_list_kept: it is whole
     * for them (live changes applied, no gap, no failure), so coming back
     * from a search shows it as it is, no request */
    int list_tier, list_status;
    int64_t list_owner_id;
    bool is_list_kept;
    GtkWidget *search, *tier_dd, *status_dd, *owner_dd, *status_line;
} page;

/* The raw values the filters test, kept on each item (its properties are display text). */
#define Q_TIER "dg-tier"
#define Q_STATUS "dg-status"

static void page_free(gpointer p)
{
    page *pg = p;

    g_hash_table_unref(pg->owners);
    g_array_unref(pg->owner_ids);
    if (pg->hits_got)
        g_ptr_array_unref(pg->hits_got);
    g_free(pg->query);
    g_free(pg);
}

static const char *owner_name(void *ud, int64_t id)
{
    return g_hash_table_lookup(((page *)ud)->owners, &id);
}

static DgCustomerItem *item_from_pb(page *pg, const Dangan__V1__Customer *c)
{
    DgCustomerItem *it;

    if (c->owner && c->owner->username[0]) {
        gint64 *key = g_new(gint64, 1);

        *key = c->owner->id;
        g_hash_table_replace(pg->owners, key, g_strdup(c->owner->username));
    }
    it = dg_customer_item_new_from_pb(c, &pg->ctx);
    g_object_set_data(G_OBJECT(it), Q_TIER, GINT_TO_POINTER(c->tier));
    g_object_set_data(G_OBJECT(it), Q_STATUS, GINT_TO_POINTER(c->status));
    return it;
}

/* ---------------------------------------------------------------- the count */

static void say_count(page *pg)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(pg->shown));
    char text[128];

    if (pg->has_failed)
        return; /* the error stays until a request succeeds */
    if (dg_paged_list_is_loading(pg->shown) && n == 0)
        snprintf(text, sizeof text, "%s", _("Loading…"));
    else if (n == 0)
        snprintf(text, sizeof text, "%s", _("No customers match."));
    else if (!dg_paged_list_is_complete(pg->shown))
        snprintf(text, sizeof text, _("%u customers shown; more load as you scroll"), n);
    else
        snprintf(text, sizeof text, g_dngettext(NULL, "%u customer", "%u customers", n), n);
    gtk_label_set_text(GTK_LABEL(pg->status_line), text);
}

/* ---------------------------------------------------------------- requests */

static void fill_filter(page *pg, Dangan__V1__ListFilter *f, Dangan__V1__Tier *tier,
                        Dangan__V1__CustomerStatus *status)
{
    if (pg->tier) {
        *tier = pg->tier;
        f->n_tiers = 1;
        f->tiers = tier;
    }
    if (pg->status) {
        *status = pg->status;
        f->n_statuses = 1;
        f->statuses = status;
    }
    f->owner_id = pg->owner_id;
}

typedef struct fetch_ctx {
    page *pg;
    guint64 generation;
} fetch_ctx;

static void fetch(DgPagedList *list, guint64 generation, const char *cursor, guint limit,
                  gpointer user);

/* A Search was answered (or failed): the text typed meanwhile, if any and
 * still the one the hits are for, goes now. */
static void search_answered(page *pg)
{
    guint64 gen = dg_one_in_flight_answered(&pg->search_sent);

    if (gen && gen == dg_paged_list_generation(pg->hits) && pg->shown == pg->hits)
        fetch(pg->hits, gen, "", SEARCH_HITS, pg);
}

static void replied(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                    gpointer user)
{
    DgPagedList *list = DG_PAGED_LIST(owner);
    fetch_ctx *fc = user;
    page *pg = fc->pg;
    guint64 gen = fc->generation;
    GPtrArray *items;
    const char *next = "";
    char hits_next[16];

    g_free(fc);
    if (list == pg->hits)
        search_answered(pg);
    snprintf(hits_next, sizeof hits_next, "h%d", HITS_CHUNK);
    if (rc != DG_CLIENT_OK || !resp->status || resp->status->code != DANGAN__V1__CODE__OK) {
        char text[400];

        if (!dg_paged_list_fail(list, gen))
            return; /* an older query's */
        pg->has_failed = true;
        if (list == pg->list)
            pg->is_list_kept = false;
        snprintf(text, sizeof text, _("The list could not be loaded: %s"),
                 rc != DG_CLIENT_OK ? (errmsg && *errmsg ? errmsg : dg_client_strerror(rc))
                                    : resp->status->message);
        gtk_label_set_text(GTK_LABEL(pg->status_line), text);
        return;
    }
    items = g_ptr_array_new_with_free_func(g_object_unref);
    if (resp->body_case == DANGAN__V1__RESPONSE__BODY_LIST && resp->list) {
        for (size_t i = 0; i < resp->list->n_records; i++)
            if (resp->list->records[i]->customer)
                g_ptr_array_add(items, item_from_pb(pg, resp->list->records[i]->customer));
        next = resp->list->next_cursor;
    } else if (resp->body_case == DANGAN__V1__RESPONSE__BODY_SEARCH && resp->search) {
        for (size_t i = 0; i < resp->search->n_hits; i++)
            if (resp->search->hits[i]->customer)
                g_ptr_array_add(items, item_from_pb(pg, resp->search->hits[i]->customer));
    }
    if (list == pg->hits && gen == dg_paged_list_generation(list)) {
        /* the view makes and binds a row for every row added near the top,
         * up to 200: the first chunk is drawn before the rest come */
        if (pg->hits_got)
            g_ptr_array_unref(pg->hits_got);
        pg->hits_got = g_ptr_array_ref(items);
        next = items->len > HITS_CHUNK ? hits_next : "";
    }
    if (dg_paged_list_deliver(list, gen, (DgCustomerItem **)items->pdata,
                              list == pg->hits ? MIN(items->len, HITS_CHUNK) : items->len, next)) {
        pg->has_failed = false;
        if (list == pg->shown)
            say_count(pg);
    }
    g_ptr_array_unref(items);
}

typedef struct chunk {
    page *pg;
    DgPagedList *hits;
    guint64 generation;
    guint from;
} chunk;

/* The next chunk of a Search's hits, from the main loop after the frame. */
static gboolean hand_chunk(gpointer data)
{
    chunk *ch = data;
    GPtrArray *got = ch->pg->hits_got;
    guint n = 0;
    char next[16] = "";

    if (got && ch->from < got->len) {
        n = MIN(got->len - ch->from, HITS_CHUNK);
        if (ch->from + n < got->len)
            snprintf(next, sizeof next, "h%u", ch->from + n);
    }
    if (dg_paged_list_deliver(ch->hits, ch->generation,
                              got ? (DgCustomerItem **)got->pdata + ch->from : NULL, n, next))
        say_count(ch->pg);
    g_object_unref(ch->hits);
    g_free(ch);
    return G_SOURCE_REMOVE;
}

/* DgPagedListFetch of both lists: List pages, or the Search (its first
 * chunk; the next, cursor "hN", are the hits from N on of the same reply). */
static void fetch(DgPagedList *list, guint64 generation, const char *cursor, guint limit,
                  gpointer user)
{
    page *pg = user;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest lr = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__SearchRequest sr = DANGAN__V1__SEARCH_REQUEST__INIT;
    Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
    Dangan__V1__Tier tier;
    Dangan__V1__CustomerStatus status;
    fetch_ctx *fc = g_new(fetch_ctx, 1);

    if (list == pg->hits && cursor[0] == 'h') {
        chunk *ch = g_new(chunk, 1);

        g_free(fc);
        *ch = (chunk){pg, g_object_ref(list), generation, (guint)atoi(cursor + 1)};
        g_idle_add(hand_chunk, ch);
        return;
    }
    if (list == pg->hits && !dg_one_in_flight_ask(&pg->search_sent, generation)) {
        g_free(fc); /* it goes when the Search on its way is answered */
        return;
    }
    fill_filter(pg, &f, &tier, &status);
    if (list == pg->hits) {
        sr.query = pg->query;
        sr.filter = &f;
        sr.limit = SEARCH_HITS;
        req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
        req.search = &sr;
    } else {
        lr.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        lr.filter = &f;
        lr.sort = "-code";
        lr.limit = limit;
        lr.cursor = (char *)cursor;
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &lr;
    }
    fc->pg = pg;
    fc->generation = generation;
    dg_gtk_call(pg->a->conn, &req, G_OBJECT(list), replied, fc);
}

/* Whether a customer passes the filters (DgPagedListBelongs). A Search's
 * hits are the server's to choose: only those already shown stay. */
static gboolean belongs(DgCustomerItem *it, gpointer user)
{
    page *pg = user;

    if (pg->tier && GPOINTER_TO_INT(g_object_get_data(G_OBJECT(it), Q_TIER)) != pg->tier)
        return FALSE;
    if (pg->status && GPOINTER_TO_INT(g_object_get_data(G_OBJECT(it), Q_STATUS)) != pg->status)
        return FALSE;
    if (pg->owner_id && dg_customer_item_get_owner_id(it) != pg->owner_id)
        return FALSE;
    {
        gboolean is_archived = FALSE;

        g_object_get(it, "archived", &is_archived, NULL);
        if (is_archived)
            return FALSE;
    }
    return pg->shown != pg->hits || dg_paged_list_find(pg->hits, dg_customer_item_get_id(it)) >= 0;
}

/* Newest customer first: codes C-000123 by length, then text; ties by id (the List's "-code"). */
static gint newest_first(gconstpointer a, gconstpointer b, gpointer user)
{
    const char *ca = dg_customer_item_get_code((DgCustomerItem *)a);
    const char *cb = dg_customer_item_get_code((DgCustomerItem *)b);
    size_t la = strlen(ca), lb = strlen(cb);
    gint64 ia = dg_customer_item_get_id((DgCustomerItem *)a);
    gint64 ib = dg_customer_item_get_id((DgCustomerItem *)b);
    int c;

    (void)user;
    if (la != lb)
        return la > lb ? -1 : 1;
    c = strcmp(ca, cb);
    if (c)
        return -c;
    return ia > ib ? -1 : ia < ib;
}

static void refresh(page *pg)
{
    const char *q = gtk_editable_get_text(GTK_EDITABLE(pg->search));

    pg->tier = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(pg->tier_dd));
    pg->status = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(pg->status_dd));
    {
        guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(pg->owner_dd));

        pg->owner_id = i < pg->owner_ids->len ? g_array_index(pg->owner_ids, gint64, i) : 0;
    }
    g_free(pg->query);
    pg->query = g_strstrip(g_strdup(q));
    pg->shown = pg->query[0] ? pg->hits : pg->list;
    pg->has_failed = false;
    /* Each list has its own view, the other hidden (not laid out, its row
     * widgets kept): GTK 4.8's view makes a widget per cell for up to 200
     * rows and does not reuse them for other items, so one view switching
     * between the lists destroyed and made 2,800 widgets per keystroke. */
    if (pg->shown == pg->hits || !pg->is_list_kept || pg->list_tier != pg->tier ||
        pg->list_status != pg->status || pg->list_owner_id != pg->owner_id) {
        dg_paged_list_reset(pg->shown);
        if (pg->shown == pg->list) {
            pg->list_tier = pg->tier;
            pg->list_status = pg->status;
            pg->list_owner_id = pg->owner_id;
            pg->is_list_kept = true;
        }
    }
    gtk_widget_set_visible(pg->hits_pane, pg->shown == pg->hits);
    gtk_widget_set_visible(pg->list_pane, pg->shown == pg->list);
    say_count(pg);
}

/* ---------------------------------------------------------------- live */

static void event_arrived(DgGtkConn *conn, gpointer p, gpointer data)
{
    const Dangan__V1__Event *ev = p;
    page *pg = data;
    const Dangan__V1__ChangeEvent *ch = ev->change;

    (void)conn;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_HIDDEN && ev->hidden &&
        ev->hidden->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER) {
        dg_paged_list_remove(pg->list, ev->hidden->id);
        dg_paged_list_remove(pg->hits, ev->hidden->id);
    } else if (ev->body_case == DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED) {
        dg_paged_list_reset(pg->shown); /* the feed has a gap: reload what is shown */
        if (pg->shown != pg->list)
            pg->is_list_kept = false; /* and the list when it is shown again */
    } else if (ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE && ch &&
               ch->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER) {
        if (ch->record && ch->record->customer) {
            DgCustomerItem *it = item_from_pb(pg, ch->record->customer);

            dg_paged_list_upsert(pg->list, it);
            dg_paged_list_upsert(pg->hits, it);
            /* when the row changed, on the system's monotonic clock (G_MESSAGES_DEBUG=dangan-live)
             */
            g_log("dangan-live", G_LOG_LEVEL_DEBUG,
                  "customer %" G_GINT64_FORMAT " %s at %" G_GINT64_FORMAT " us",
                  dg_customer_item_get_id(it), ch->op, g_get_monotonic_time());
            g_object_unref(it);
        } else { /* gone from the user's view */
            dg_paged_list_remove(pg->list, ch->id);
            dg_paged_list_remove(pg->hits, ch->id);
        }
    } else {
        return;
    }
    say_count(pg);
}

/* Back from a lost connection: what failed meanwhile is asked for again
 * (the subscription resumes by itself, with the changes missed meanwhile). */
static void conn_state(DgGtkConn *conn, guint state, gpointer data)
{
    page *pg = data;
    guint n = g_list_model_get_n_items(G_LIST_MODEL(pg->shown));

    (void)conn;
    if (state == DG_GTK_CONNECTED && pg->has_failed && !dg_paged_list_is_loading(pg->shown))
        dg_paged_list_need(pg->shown, n ? n - 1 : 0);
}

/* ---------------------------------------------------------------- cells */

static void name_clicked(GtkButton *b, gpointer data)
{
    page *pg = data;
    DgCustomerItem *c = g_object_get_data(G_OBJECT(b), "customer");

    if (c && !dg_customer_item_is_placeholder(c))
        pg->open(pg->a, dg_customer_item_get_id(c));
}

static void name_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *b = gtk_button_new(), *l = gtk_label_new("");

    (void)f;
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    gtk_button_set_child(GTK_BUTTON(b), l);
    gtk_widget_add_css_class(b, "flat");
    g_signal_connect(b, "clicked", G_CALLBACK(name_clicked), data);
    gtk_list_item_set_child(item, b);
}

static void name_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *b = gtk_list_item_get_child(item);
    DgCustomerItem *c = gtk_list_item_get_item(item);
    const char *name = dg_customer_item_get_name(c);

    (void)f;
    (void)data;
    gtk_label_set_text(GTK_LABEL(gtk_button_get_child(GTK_BUTTON(b))), name);
    dg_gtk_a11y_name(b, dg_customer_item_is_placeholder(c) ? _("Loading…") : name);
    g_object_set_data_full(G_OBJECT(b), "customer", g_object_ref(c), g_object_unref);
}

static void text_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *l = gtk_label_new("");

    (void)f;
    (void)data;
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    gtk_list_item_set_child(item, l);
}

/* `data` is the item's property shown (tier and status from the raw values). */
static void text_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GObject *c = gtk_list_item_get_item(item);
    const char *prop = data;
    char *text = NULL;

    (void)f;
    if (strcmp(prop, "tier") == 0) {
        gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)),
                           dg_customer_tier_text(GPOINTER_TO_INT(g_object_get_data(c, Q_TIER))));
        return;
    }
    if (strcmp(prop, "status") == 0) {
        gtk_label_set_text(
            GTK_LABEL(gtk_list_item_get_child(item)),
            dg_customer_status_text(GPOINTER_TO_INT(g_object_get_data(c, Q_STATUS))));
        return;
    }
    g_object_get(c, prop, &text, NULL);
    gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)), text ? text : "");
    g_free(text);
}

static void add_column(page *pg, GtkWidget *view, const char *title, const char *prop, bool is_name)
{
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    GtkColumnViewColumn *col;

    if (is_name) {
        g_signal_connect(f, "setup", G_CALLBACK(name_setup), pg);
        g_signal_connect(f, "bind", G_CALLBACK(name_bind), pg);
    } else {
        g_signal_connect(f, "setup", G_CALLBACK(text_setup), NULL);
        g_signal_connect(f, "bind", G_CALLBACK(text_bind), (gpointer)prop);
    }
    col = gtk_column_view_column_new(title, f);
    gtk_column_view_column_set_resizable(col, TRUE);
    gtk_column_view_column_set_expand(col, is_name);
    gtk_column_view_append_column(GTK_COLUMN_VIEW(view), col);
    g_object_unref(col);
}

/* The rows on screen, from the scrolling (rows are of one height), go to
 * the list: it loads what they lack and the next page two pages before the
 * end (the view asks the model for more rows than it shows, so its get_item
 * is no measure of what the user sees). */
static void scrolled(GtkAdjustment *adj, gpointer data)
{
    DgPagedList *list = data;
    guint n = g_list_model_get_n_items(G_LIST_MODEL(list));
    double upper = gtk_adjustment_get_upper(adj), value = gtk_adjustment_get_value(adj);
    double first, last;

    if (!n || upper <= 0)
        return;
    first = value / upper * n;
    last = (value + gtk_adjustment_get_page_size(adj)) / upper * n;
    dg_paged_list_show(list, (guint)MIN(first, n - 1), (guint)MIN(last, n - 1), AHEAD_ROWS);
}

static void row_activated(GtkColumnView *v, guint pos, gpointer data)
{
    page *pg = data;
    GListModel *m = G_LIST_MODEL(gtk_column_view_get_model(v));
    DgCustomerItem *c = g_list_model_get_item(m, pos);

    if (c) {
        if (!dg_customer_item_is_placeholder(c))
            pg->open(pg->a, dg_customer_item_get_id(c));
        g_object_unref(c);
    }
}

/* ---------------------------------------------------------------- building */

static void search_changed(GtkSearchEntry *e, gpointer data)
{
    (void)e;
    refresh(data);
}

static void filter_changed(GObject *o, GParamSpec *ps, gpointer data)
{
    (void)o;
    (void)ps;
    refresh(data);
}

/* The owner drop-down: "Anyone", "Me", then the colleagues the server names
 * (Colleagues), each "显示名 (user.name)". Until they come, or from a server
 * without them, the first two. */
static void owners_set(page *pg, GtkStringList *names, GArray *ids)
{
    gint64 chosen = pg->owner_id;
    guint at = 0;

    for (guint i = 0; i < ids->len; i++)
        if (g_array_index(ids, gint64, i) == chosen)
            at = i;
    g_array_unref(pg->owner_ids);
    pg->owner_ids = ids;
    g_signal_handlers_block_matched(pg->owner_dd, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, pg);
    gtk_drop_down_set_model(GTK_DROP_DOWN(pg->owner_dd), G_LIST_MODEL(names));
    gtk_drop_down_set_selected(GTK_DROP_DOWN(pg->owner_dd), at);
    g_signal_handlers_unblock_matched(pg->owner_dd, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, pg);
    g_object_unref(names);
}

static void owners_first(page *pg, GtkStringList **names, GArray **ids)
{
    gint64 anyone = 0, me = pg->a->user_id;

    *names = gtk_string_list_new(NULL);
    *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    gtk_string_list_append(*names, _("Anyone's"));
    g_array_append_val(*ids, anyone);
    gtk_string_list_append(*names, _("Mine"));
    g_array_append_val(*ids, me);
}

static void colleagues_replied(GObject *dd, int rc, const Dangan__V1__Response *resp,
                               const char *errmsg, gpointer user)
{
    page *pg = user;
    GtkStringList *names;
    GArray *ids;

    (void)dd;
    (void)errmsg;
    if (rc != DG_CLIENT_OK || !resp->status || resp->status->code != DANGAN__V1__CODE__OK ||
        resp->body_case != DANGAN__V1__RESPONSE__BODY_COLLEAGUES || !resp->colleagues)
        return; /* an older server: anyone's or mine */
    owners_first(pg, &names, &ids);
    for (size_t i = 0; i < resp->colleagues->n_colleagues; i++) {
        const Dangan__V1__Colleague *c = resp->colleagues->colleagues[i];
        gint64 id = c->id;
        char *label;

        if (id == pg->a->user_id)
            continue;
        label = c->display_name && c->display_name[0]
                    ? g_strdup_printf("%s (%s)", c->display_name, c->username)
                    : g_strdup(c->username);
        gtk_string_list_append(names, label);
        g_array_append_val(ids, id);
        g_free(label);
    }
    owners_set(pg, names, ids);
}

static void ask_colleagues(page *pg)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ColleaguesRequest cr = DANGAN__V1__COLLEAGUES_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_COLLEAGUES;
    req.colleagues = &cr;
    dg_gtk_call(pg->a->conn, &req, G_OBJECT(pg->owner_dd), colleagues_replied, pg);
}

static GtkWidget *drop_down(const char *name, const char *const *items)
{
    GtkWidget *d = gtk_drop_down_new_from_strings(items);

    dg_gtk_a11y_name(d, name);
    gtk_widget_set_tooltip_text(d, name);
    return d;
}

static void build_bar(page *pg, GtkWidget *box)
{
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    const char *tiers[] = {_("Any tier"), _("Tier A"), _("Tier B"), _("Tier C"), NULL};
    const char *statuses[] = {_("Any status"), _("Potential"), _("Active"),
                              _("Dormant"),    _("Lost"),      NULL};

    pg->search = gtk_search_entry_new();
    gtk_widget_set_hexpand(pg->search, TRUE);
    gtk_search_entry_set_search_delay(GTK_SEARCH_ENTRY(pg->search), 0); /* see Debounce */
    g_object_set(pg->search, "placeholder-text", _("Name, contact, phone…"), NULL);
    dg_gtk_a11y_name(pg->search, _("Search customers"));
    g_signal_connect(pg->search, "search-changed", G_CALLBACK(search_changed), pg);
    gtk_box_append(GTK_BOX(bar), pg->search);
    /* the drop-downs list "any" first, then the enum values in order */
    pg->tier_dd = drop_down(_("Tier filter"), tiers);
    g_signal_connect(pg->tier_dd, "notify::selected", G_CALLBACK(filter_changed), pg);
    gtk_box_append(GTK_BOX(bar), pg->tier_dd);
    pg->status_dd = drop_down(_("Status filter"), statuses);
    g_signal_connect(pg->status_dd, "notify::selected", G_CALLBACK(filter_changed), pg);
    gtk_box_append(GTK_BOX(bar), pg->status_dd);
    {
        GtkStringList *names;
        GArray *ids;

        pg->owner_dd = gtk_drop_down_new(NULL, NULL);
        dg_gtk_a11y_name(pg->owner_dd, _("Owner filter"));
        gtk_widget_set_tooltip_text(pg->owner_dd, _("Whose customers"));
        pg->owner_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
        owners_first(pg, &names, &ids);
        owners_set(pg, names, ids);
        g_signal_connect(pg->owner_dd, "notify::selected", G_CALLBACK(filter_changed), pg);
        gtk_box_append(GTK_BOX(bar), pg->owner_dd);
    }
    gtk_box_append(GTK_BOX(box), bar);
}

/* A column view of `list` in a scrolled window (returned). */
static GtkWidget *new_view(page *pg, DgPagedList *list)
{
    GtkSingleSelection *sel = gtk_single_selection_new(G_LIST_MODEL(g_object_ref(list)));
    GtkWidget *view, *scroll = gtk_scrolled_window_new();

    gtk_single_selection_set_autoselect(sel, FALSE);
    view = gtk_column_view_new(GTK_SELECTION_MODEL(sel)); /* takes sel */
    dg_gtk_a11y_name(view, _("Customers"));
    gtk_column_view_set_show_row_separators(GTK_COLUMN_VIEW(view), TRUE);
    add_column(pg, view, _("Name"), "name", true);
    add_column(pg, view, _("Code"), "code", false);
    add_column(pg, view, _("Tier"), "tier", false);
    add_column(pg, view, _("Status"), "status", false);
    add_column(pg, view, _("Owner"), "owner", false);
    add_column(pg, view, _("Phone"), "phone", false);
    g_signal_connect(view, "activate", G_CALLBACK(row_activated), pg);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), view);
    g_signal_connect(gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scroll)),
                     "value-changed", G_CALLBACK(scrolled), list);
    return scroll;
}

GtkWidget *dg_gtk_customers_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id))
{
    page *pg = g_new0(page, 1);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);

    pg->a = a;
    pg->open = open;
    pg->owners = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    pg->ctx.user_name = owner_name;
    pg->ctx.ud = pg;
    pg->query = g_strdup("");
    g_object_set_data_full(G_OBJECT(box), "page", pg, page_free);
    gtk_widget_set_margin_start(box, 12);
    gtk_widget_set_margin_end(box, 12);
    gtk_widget_set_margin_top(box, 6);
    gtk_widget_set_margin_bottom(box, 6);
    build_bar(pg, box);

    pg->list = dg_paged_list_new(PAGE_ROWS, RESIDENT_PAGES, fetch, belongs, newest_first, pg, NULL);
    pg->hits =
        dg_paged_list_new(HITS_CHUNK, SEARCH_HITS / HITS_CHUNK + 1, fetch, belongs, NULL, pg, NULL);
    /* the scrolling drives the loading (scrolled) */
    dg_paged_list_show(pg->list, 0, 0, AHEAD_ROWS);
    dg_paged_list_show(pg->hits, 0, 0, AHEAD_ROWS);
    g_object_set_data_full(G_OBJECT(box), "list", pg->list, g_object_unref);
    g_object_set_data_full(G_OBJECT(box), "hits", pg->hits, g_object_unref);
    pg->shown = pg->list;
    pg->list_pane = new_view(pg, pg->list);
    pg->hits_pane = new_view(pg, pg->hits);
    gtk_widget_set_visible(pg->hits_pane, FALSE);
    gtk_box_append(GTK_BOX(box), pg->list_pane);
    gtk_box_append(GTK_BOX(box), pg->hits_pane);

    pg->status_line = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(pg->status_line), 0);
    gtk_widget_add_css_class(pg->status_line, "dim-label");
    gtk_box_append(GTK_BOX(box), pg->status_line);
    g_object_set_data(G_OBJECT(box), "search", pg->search);
    /* the page lives as long as the window, and the window as the connection */
    g_signal_connect(a->conn, "event", G_CALLBACK(event_arrived), pg);
    g_signal_connect(a->conn, "state-changed", G_CALLBACK(conn_state), pg);
    refresh(pg);
    ask_colleagues(pg);
    return box;
}
