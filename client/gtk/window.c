/* window.c - the main page: an adaptive AdwLeaflet with the sidebar
 * (Customers, Tasks, Activity; Audit and Users for admins and auditors) and
 * the content, under a banner that shows while the connection is lost and
 * a toast overlay.
 *
 * libadwaita 1.2 has no AdwBanner: the banner is a GtkRevealer holding a
 * label, revealed by the connection's "state-changed" signal.
 * Tasks, Activity, Audit and Users are named placeholders: their screens
 * replace them (the stack's page names are the sidebar's row names).
 * Threads: the main thread.
 */
#include <string.h>

#include "app.h"

typedef struct mainwin {
    dg_gtk_app *a;
    AdwLeaflet *leaflet;
    GtkStack *content; /* "customers", "dossier", "tasks", "activity", "audit", "users" */
    GtkWidget *sidebar, *banner, *banner_label, *customers, *dossier, *who;
    AdwToastOverlay *toasts;
    gulong state_handler;
    bool is_subscribed;
} mainwin;

static mainwin M;

void dg_gtk_toast(dg_gtk_app *a, const char *text)
{
    (void)a;
    if (M.toasts)
        adw_toast_overlay_add_toast(M.toasts, adw_toast_new(text));
}

/* ---------------------------------------------------------------- connection */

static void state_changed(DgGtkConn *conn, guint state, gpointer data)
{
    char text[512];

    (void)data;
    switch (state) {
    case DG_GTK_CONNECTED:
        if (gtk_revealer_get_reveal_child(GTK_REVEALER(M.banner)))
            dg_gtk_toast(M.a, _("Connected again."));
        gtk_revealer_set_reveal_child(GTK_REVEALER(M.banner), FALSE);
        return;
    case DG_GTK_LOST:
        snprintf(text, sizeof text, _("Connection to %s lost: %s. Reconnecting…"),
                 dg_gtk_conn_server(conn), dg_gtk_conn_errmsg(conn));
        break;
    case DG_GTK_RECONNECTING:
        snprintf(text, sizeof text, _("Reconnecting to %s…"), dg_gtk_conn_server(conn));
        break;
    default:
        return;
    }
    gtk_label_set_text(GTK_LABEL(M.banner_label), text);
    gtk_revealer_set_reveal_child(GTK_REVEALER(M.banner), TRUE);
}

/* A colleague's change, as a toast naming who changed what. The pages that
 * show records connect to the connection's "event" signal themselves. */
static void event_arrived(DgGtkConn *conn, gpointer p, gpointer data)
{
    const Dangan__V1__Event *ev = p;
    const Dangan__V1__ChangeEvent *ch = ev->change;
    const char *who, *what;
    char text[600];

    (void)conn;
    (void)data;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE || !ch ||
        (ch->actor && ch->actor->id == M.a->user_id))
        return;
    who = ch->actor_name[0] ? ch->actor_name : ch->actor ? ch->actor->username : "";
    what = ch->customer_name[0] ? ch->customer_name : ch->customer_code;
    if (!who[0] || !what[0])
        return;
    if (strcmp(ch->op, "created") == 0 && ch->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        snprintf(text, sizeof text, _("%s added %s"), who, what);
    else if (strcmp(ch->op, "created") == 0)
        snprintf(text, sizeof text, _("%s added to %s"), who, what);
    else if (strcmp(ch->op, "archived") == 0)
        snprintf(text, sizeof text, _("%s archived %s"), who, what);
    else if (strcmp(ch->op, "restored") == 0)
        snprintf(text, sizeof text, _("%s restored %s"), who, what);
    else
        snprintf(text, sizeof text, _("%s changed %s"), who, what);
    dg_gtk_toast(M.a, text);
}

static void subscribed(GObject *owner, int rc, uint64_t id, gpointer data)
{
    char text[300];

    (void)owner;
    (void)id;
    (void)data;
    M.is_subscribed = rc == DG_CLIENT_OK;
    if (rc == DG_CLIENT_OK)
        return;
    snprintf(text, sizeof text, _("Colleagues' changes will not show: %s"), dg_client_strerror(rc));
    dg_gtk_toast(M.a, text);
}

/* ---------------------------------------------------------------- navigation */

static void show_content(const char *name)
{
    gtk_stack_set_visible_child_name(M.content, name);
    adw_leaflet_navigate(M.leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void open_customer(dg_gtk_app *a, int64_t id)
{
    (void)a;
    dg_gtk_dossier_load(M.dossier, id);
    show_content("dossier");
}

static void back_to_list(dg_gtk_app *a)
{
    (void)a;
    gtk_stack_set_visible_child_name(M.content, "customers");
}

static void sidebar_activated(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
    (void)box;
    (void)data;
    show_content(gtk_widget_get_name(GTK_WIDGET(row)));
}

/* Selecting a row (arrow keys, assistive technologies) shows its page too. */
static void sidebar_selected(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
    if (row && strcmp(gtk_widget_get_name(GTK_WIDGET(row)),
                      gtk_stack_get_visible_child_name(M.content)) != 0)
        sidebar_activated(box, row, data);
}

static void leaflet_back_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    (void)data;
    adw_leaflet_navigate(M.leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static gboolean find_shortcut(GtkWidget *w, GVariant *args, gpointer data)
{
    GtkWidget *search = g_object_get_data(G_OBJECT(M.customers), "search");

    (void)w;
    (void)args;
    (void)data;
    gtk_stack_set_visible_child_name(M.content, "customers");
    gtk_widget_grab_focus(search);
    return TRUE;
}

static gboolean escape_shortcut(GtkWidget *w, GVariant *args, gpointer data)
{
    (void)w;
    (void)args;
    (void)data;
    if (strcmp(gtk_stack_get_visible_child_name(M.content), "dossier") == 0) {
        back_to_list(M.a);
        return TRUE;
    }
    return FALSE;
}

static gboolean new_customer_shortcut(GtkWidget *w, GVariant *args, gpointer data)
{
    (void)w;
    (void)args;
    (void)data;
    dg_gtk_new_customer(M.a, open_customer);
    return TRUE;
}

/* ---------------------------------------------------------------- building */

static void add_page(const char *name, const char *title, bool in_sidebar, GtkWidget *child)
{
    if (!child) {
        child = adw_status_page_new();
        adw_status_page_set_title(ADW_STATUS_PAGE(child), title);
        adw_status_page_set_icon_name(ADW_STATUS_PAGE(child), "x-office-document-symbolic");
    }
    gtk_stack_add_titled(M.content, child, name, title);
    if (in_sidebar) {
        GtkWidget *row = gtk_list_box_row_new(), *l = gtk_label_new(title);

        gtk_widget_set_name(row, name);
        gtk_label_set_xalign(GTK_LABEL(l), 0);
        gtk_widget_set_margin_start(l, 12);
        gtk_widget_set_margin_top(l, 10);
        gtk_widget_set_margin_bottom(l, 10);
        gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), l);
        dg_gtk_a11y_name(row, title);
        gtk_list_box_append(GTK_LIST_BOX(M.sidebar), row);
    }
}

static GtkWidget *build_sidebar(void)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0), *hb = adw_header_bar_new();
    GtkWidget *scroll = gtk_scrolled_window_new();

    adw_header_bar_set_title_widget(ADW_HEADER_BAR(hb), adw_window_title_new(_("Dangan"), ""));
    adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(hb), FALSE);
    gtk_box_append(GTK_BOX(box), hb);
    M.sidebar = gtk_list_box_new();
    gtk_widget_add_css_class(M.sidebar, "navigation-sidebar");
    dg_gtk_a11y_name(M.sidebar, _("Sections"));
    g_signal_connect(M.sidebar, "row-activated", G_CALLBACK(sidebar_activated), NULL);
    g_signal_connect(M.sidebar, "row-selected", G_CALLBACK(sidebar_selected), NULL);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), M.sidebar);
    gtk_box_append(GTK_BOX(box), scroll);
    M.who = gtk_label_new("");
    gtk_widget_add_css_class(M.who, "dim-label");
    gtk_widget_set_margin_top(M.who, 6);
    gtk_widget_set_margin_bottom(M.who, 6);
    gtk_box_append(GTK_BOX(box), M.who);
    gtk_widget_set_size_request(box, 200, -1);
    return box;
}

static GtkWidget *build_content(void)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0), *hb = adw_header_bar_new();
    GtkWidget *back = gtk_button_new_from_icon_name("go-previous-symbolic");

    gtk_widget_set_tooltip_text(back, _("Sections"));
    dg_gtk_a11y_name(back, _("Show the sections"));
    g_signal_connect(back, "clicked", G_CALLBACK(leaflet_back_clicked), NULL);
    adw_header_bar_pack_start(ADW_HEADER_BAR(hb), back);
    g_object_bind_property(M.leaflet, "folded", back, "visible", G_BINDING_SYNC_CREATE);
    gtk_box_append(GTK_BOX(box), hb);

    M.banner_label = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(M.banner_label), TRUE);
    gtk_widget_set_margin_top(M.banner_label, 8);
    gtk_widget_set_margin_bottom(M.banner_label, 8);
    M.banner = gtk_revealer_new();
    gtk_widget_add_css_class(M.banner, "osd"); /* the banner look: a dark strip */
    gtk_revealer_set_child(GTK_REVEALER(M.banner), M.banner_label);
    gtk_box_append(GTK_BOX(box), M.banner);

    M.content = GTK_STACK(gtk_stack_new());
    gtk_widget_set_vexpand(GTK_WIDGET(M.content), TRUE);
    M.toasts = ADW_TOAST_OVERLAY(adw_toast_overlay_new());
    adw_toast_overlay_set_child(M.toasts, GTK_WIDGET(M.content));
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(M.toasts));
    gtk_widget_set_hexpand(box, TRUE);
    return box;
}

static void build(dg_gtk_app *a)
{
    GtkWidget *side, *content;
    GtkEventController *keys = gtk_shortcut_controller_new();
    bool is_overseer =
        a->role == DANGAN__V1__ROLE__ROLE_ADMIN || a->role == DANGAN__V1__ROLE__ROLE_AUDITOR;

    M.a = a;
    M.leaflet = ADW_LEAFLET(adw_leaflet_new());
    side = build_sidebar();
    content = build_content();
    adw_leaflet_append(M.leaflet, side);
    adw_leaflet_page_set_navigatable(
        adw_leaflet_append(M.leaflet, gtk_separator_new(GTK_ORIENTATION_VERTICAL)), FALSE);
    adw_leaflet_append(M.leaflet, content);
    adw_leaflet_set_visible_child(M.leaflet, content);

    M.customers = dg_gtk_customers_new(a, open_customer);
    M.dossier = dg_gtk_dossier_new(a, back_to_list);
    add_page("today", _("Today"), true, dg_gtk_today_new(a, open_customer));
    add_page("customers", _("Customers"), true, M.customers);
    add_page("tasks", _("Tasks"), true, dg_gtk_tasks_new(a, open_customer));
    add_page("activity", _("Activity"), true, dg_gtk_activity_new(a, open_customer));
    if (is_overseer) {
        add_page("audit", _("Audit"), true, dg_gtk_audit_new(a));
        add_page("users", _("Users"), true, dg_gtk_users_new(a));
    }
    add_page("dossier", _("Dossier"), false, M.dossier);
    gtk_stack_set_visible_child_name(M.content, "customers");
    for (GtkWidget *r = gtk_widget_get_first_child(M.sidebar); r; r = gtk_widget_get_next_sibling(r))
        if (strcmp(gtk_widget_get_name(r), "customers") == 0)
            gtk_list_box_select_row(GTK_LIST_BOX(M.sidebar), GTK_LIST_BOX_ROW(r));
    g_signal_connect(M.sidebar, "row-selected", G_CALLBACK(sidebar_selected), NULL);

    gtk_shortcut_controller_set_scope(GTK_SHORTCUT_CONTROLLER(keys), GTK_SHORTCUT_SCOPE_GLOBAL);
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(keys),
        gtk_shortcut_new(gtk_shortcut_trigger_parse_string("<Control>f"),
                         gtk_callback_action_new(find_shortcut, NULL, NULL)));
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(keys),
        gtk_shortcut_new(gtk_shortcut_trigger_parse_string("Escape"),
                         gtk_callback_action_new(escape_shortcut, NULL, NULL)));
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(keys),
        gtk_shortcut_new(gtk_shortcut_trigger_parse_string("<Control>n"),
                         gtk_callback_action_new(new_customer_shortcut, NULL, NULL)));
    gtk_widget_add_controller(GTK_WIDGET(M.leaflet), keys);
    dg_gtk_bench_attach(GTK_WIDGET(a->window), M.customers);

    gtk_stack_add_named(a->stack, GTK_WIDGET(M.leaflet), "main");
    a->is_main_built = true;
}

void dg_gtk_main_show(dg_gtk_app *a)
{
    char who[300];

    if (!a->is_main_built)
        build(a);
    snprintf(who, sizeof who, _("%s on %s"), a->username, a->server);
    gtk_label_set_text(GTK_LABEL(M.who), who);
    if (M.state_handler)
        g_signal_handler_disconnect(a->conn, M.state_handler);
    M.state_handler = g_signal_connect(a->conn, "state-changed", G_CALLBACK(state_changed), NULL);
    if (!M.is_subscribed) {
        /* one subscription per connection, for every page; libdangan resumes
         * it after a reconnect */
        g_signal_connect(a->conn, "event", G_CALLBACK(event_arrived), NULL);
        dg_gtk_conn_subscribe(a->conn, NULL, true, NULL, subscribed, NULL);
        M.is_subscribed = true;
    }
    gtk_stack_set_visible_child_name(a->stack, "main");
}
