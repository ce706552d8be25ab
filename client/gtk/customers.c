/* customers.c - the Customers page: a search entry that searches as you type
 * (debounced), filters by tier, status and owner, and a GtkColumnView over
 * the paging model (pager.h). A row's name is a button that opens the
 * dossier, and so does activating the row (Enter, double click).
 *
 * Owns: the page's widgets and its DgPager (through the column view's
 * selection model). Threads: the main thread.
 */
#include <string.h>

#include "app.h"
#include "pager.h"

#define SEARCH_DELAY_MS 150 /* typing pauses shorter than this send nothing */

typedef struct page {
    dg_gtk_app *a;
    void (*open)(dg_gtk_app *a, int64_t id);
    DgPager *pager;
    GtkWidget *search, *tier, *status, *mine, *view, *status_line;
} page;

static void page_free(gpointer p)
{
    g_free(p);
}

static void refresh(page *pg)
{
    dg_pager_filter f = {0};

    /* the drop-downs list "any" first, then the enum values in order */
    f.tier = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(pg->tier));
    f.status = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(pg->status));
    f.is_mine = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(pg->mine));
    dg_pager_set_query(pg->pager, gtk_editable_get_text(GTK_EDITABLE(pg->search)), &f);
}

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

static void mine_toggled(GtkToggleButton *b, gpointer data)
{
    (void)b;
    refresh(data);
}

static void status_line(const char *text, gpointer data)
{
    page *pg = data;

    gtk_label_set_text(GTK_LABEL(pg->status_line), text);
}

/* ---------------------------------------------------------------- cells */

static void name_clicked(GtkButton *b, gpointer data)
{
    page *pg = data;
    DgCustomer *c = g_object_get_data(G_OBJECT(b), "customer");

    if (c)
        pg->open(pg->a, c->id);
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
    DgCustomer *c = gtk_list_item_get_item(item);

    (void)f;
    (void)data;
    gtk_label_set_text(GTK_LABEL(gtk_button_get_child(GTK_BUTTON(b))), c->name);
    dg_gtk_a11y_name(b, c->name);
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

/* `data` is the offset of the string in DgCustomer. */
static void text_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    DgCustomer *c = gtk_list_item_get_item(item);
    const char *text = *(char **)((char *)c + GPOINTER_TO_SIZE(data));

    (void)f;
    gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)), text);
}

static void add_column(page *pg, const char *title, size_t offset, bool is_name)
{
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    GtkColumnViewColumn *col;

    if (is_name) {
        g_signal_connect(f, "setup", G_CALLBACK(name_setup), pg);
        g_signal_connect(f, "bind", G_CALLBACK(name_bind), pg);
    } else {
        g_signal_connect(f, "setup", G_CALLBACK(text_setup), NULL);
        g_signal_connect(f, "bind", G_CALLBACK(text_bind), GSIZE_TO_POINTER(offset));
    }
    col = gtk_column_view_column_new(title, f);
    gtk_column_view_column_set_resizable(col, TRUE);
    gtk_column_view_column_set_expand(col, is_name);
    gtk_column_view_append_column(GTK_COLUMN_VIEW(pg->view), col);
    g_object_unref(col);
}

/* Scrolling within two screens of the end of what is loaded asks for more. */
static void scrolled(GtkAdjustment *adj, gpointer data)
{
    page *pg = data;
    double left = gtk_adjustment_get_upper(adj) - gtk_adjustment_get_value(adj) -
                  gtk_adjustment_get_page_size(adj);

    if (left <= 2 * gtk_adjustment_get_page_size(adj))
        dg_pager_need_more(pg->pager);
}

static void row_activated(GtkColumnView *v, guint pos, gpointer data)
{
    page *pg = data;
    GListModel *m = G_LIST_MODEL(gtk_column_view_get_model(v));
    DgCustomer *c = g_list_model_get_item(m, pos);

    if (c) {
        pg->open(pg->a, c->id);
        g_object_unref(c);
    }
}

/* ---------------------------------------------------------------- building */

static GtkWidget *drop_down(const char *name, const char *const *items)
{
    GtkWidget *d = gtk_drop_down_new_from_strings(items);

    dg_gtk_a11y_name(d, name);
    gtk_widget_set_tooltip_text(d, name);
    return d;
}

GtkWidget *dg_gtk_customers_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id))
{
    page *pg = g_new0(page, 1);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6), *scroll;
    const char *tiers[] = {_("Any tier"), _("Tier A"), _("Tier B"), _("Tier C"), NULL};
    const char *statuses[] = {_("Any status"), _("Potential"), _("Active"),
                              _("Dormant"),    _("Lost"),      NULL};
    GtkSingleSelection *sel;

    pg->a = a;
    pg->open = open;
    g_object_set_data_full(G_OBJECT(box), "page", pg, page_free);
    gtk_widget_set_margin_start(box, 12);
    gtk_widget_set_margin_end(box, 12);
    gtk_widget_set_margin_top(box, 6);
    gtk_widget_set_margin_bottom(box, 6);

    pg->search = gtk_search_entry_new();
    gtk_widget_set_hexpand(pg->search, TRUE);
    gtk_search_entry_set_search_delay(GTK_SEARCH_ENTRY(pg->search), SEARCH_DELAY_MS);
    g_object_set(pg->search, "placeholder-text", _("Name, contact, phone…"), NULL);
    dg_gtk_a11y_name(pg->search, _("Search customers"));
    g_signal_connect(pg->search, "search-changed", G_CALLBACK(search_changed), pg);
    gtk_box_append(GTK_BOX(bar), pg->search);
    pg->tier = drop_down(_("Tier filter"), tiers);
    g_signal_connect(pg->tier, "notify::selected", G_CALLBACK(filter_changed), pg);
    gtk_box_append(GTK_BOX(bar), pg->tier);
    pg->status = drop_down(_("Status filter"), statuses);
    g_signal_connect(pg->status, "notify::selected", G_CALLBACK(filter_changed), pg);
    gtk_box_append(GTK_BOX(bar), pg->status);
    pg->mine = gtk_toggle_button_new_with_label(_("Mine"));
    dg_gtk_a11y_name(pg->mine, _("Only my customers"));
    gtk_widget_set_tooltip_text(pg->mine, _("Only my customers"));
    g_signal_connect(pg->mine, "toggled", G_CALLBACK(mine_toggled), pg);
    gtk_box_append(GTK_BOX(bar), pg->mine);
    gtk_box_append(GTK_BOX(box), bar);

    pg->pager = dg_pager_new(a->conn, status_line, pg);
    sel = gtk_single_selection_new(G_LIST_MODEL(pg->pager)); /* takes the pager */
    gtk_single_selection_set_autoselect(sel, FALSE);
    pg->view = gtk_column_view_new(GTK_SELECTION_MODEL(sel)); /* takes sel */
    dg_gtk_a11y_name(pg->view, _("Customers"));
    gtk_column_view_set_show_row_separators(GTK_COLUMN_VIEW(pg->view), TRUE);
    add_column(pg, _("Name"), 0, true);
    add_column(pg, _("Code"), G_STRUCT_OFFSET(DgCustomer, code), false);
    add_column(pg, _("Tier"), G_STRUCT_OFFSET(DgCustomer, tier), false);
    add_column(pg, _("Status"), G_STRUCT_OFFSET(DgCustomer, status), false);
    add_column(pg, _("Owner"), G_STRUCT_OFFSET(DgCustomer, owner), false);
    add_column(pg, _("Phone"), G_STRUCT_OFFSET(DgCustomer, phone), false);
    g_signal_connect(pg->view, "activate", G_CALLBACK(row_activated), pg);
    scroll = gtk_scrolled_window_new();
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), pg->view);
    g_signal_connect(gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scroll)),
                     "value-changed", G_CALLBACK(scrolled), pg);
    gtk_box_append(GTK_BOX(box), scroll);

    pg->status_line = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(pg->status_line), 0);
    gtk_widget_add_css_class(pg->status_line, "dim-label");
    gtk_box_append(GTK_BOX(box), pg->status_line);
    g_object_set_data(G_OBJECT(box), "search", pg->search);
    refresh(pg);
    return box;
}
