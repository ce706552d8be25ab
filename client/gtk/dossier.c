/* dossier.c - a customer's dossier page, read-only: the heading (name) and
 * the main facts (code, tier, status, owner, phone) in a preferences group,
 * loaded with one Get. Sections and editing are added to this page.
 *
 * Owns: the page's widgets; the customer shown (its id). A reply for a
 * customer that is no longer the one asked for is ignored.
 * Threads: the main thread.
 */
#include <string.h>

#include "app.h"
#include "customer_text.h"

enum { F_CODE, F_TIER, F_STATUS, F_OWNER, F_PHONE, N_FACTS };

typedef struct dossier {
    dg_gtk_app *a;
    void (*back)(dg_gtk_app *a);
    int64_t id; /* the customer asked for */
    GtkWidget *title, *error, *facts[N_FACTS];
} dossier;

static void back_clicked(GtkButton *b, gpointer data)
{
    dossier *d = data;

    (void)b;
    d->back(d->a);
}

static GtkWidget *fact_row(GtkWidget *group, const char *name, GtkWidget **value)
{
    GtkWidget *row = adw_action_row_new();

    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
    *value = gtk_label_new("");
    gtk_label_set_selectable(GTK_LABEL(*value), TRUE);
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), *value);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
    return row;
}

GtkWidget *dg_gtk_dossier_new(dg_gtk_app *a, void (*back)(dg_gtk_app *a))
{
    dossier *d = g_new0(dossier, 1);
    GtkWidget *scroll = gtk_scrolled_window_new(), *clamp = adw_clamp_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *top, *bk, *group;

    d->a = a;
    d->back = back;
    g_object_set_data_full(G_OBJECT(scroll), "dossier", d, g_free);
    top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    bk = gtk_button_new_from_icon_name("go-previous-symbolic");
    gtk_widget_set_tooltip_text(bk, _("Back to the list"));
    dg_gtk_a11y_name(bk, _("Back to the list"));
    g_signal_connect(bk, "clicked", G_CALLBACK(back_clicked), d);
    gtk_box_append(GTK_BOX(top), bk);
    d->title = gtk_label_new("");
    gtk_widget_add_css_class(d->title, "title-1");
    gtk_label_set_wrap(GTK_LABEL(d->title), TRUE);
    gtk_label_set_xalign(GTK_LABEL(d->title), 0);
    gtk_label_set_selectable(GTK_LABEL(d->title), TRUE);
    gtk_box_append(GTK_BOX(top), d->title);
    gtk_box_append(GTK_BOX(box), top);
    d->error = gtk_label_new("");
    gtk_widget_add_css_class(d->error, "error");
    gtk_widget_set_visible(d->error, FALSE);
    gtk_box_append(GTK_BOX(box), d->error);

    group = adw_preferences_group_new();
    adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Company"));
    fact_row(group, _("Code"), &d->facts[F_CODE]);
    fact_row(group, _("Tier"), &d->facts[F_TIER]);
    fact_row(group, _("Status"), &d->facts[F_STATUS]);
    fact_row(group, _("Owner"), &d->facts[F_OWNER]);
    fact_row(group, _("Phone"), &d->facts[F_PHONE]);
    gtk_box_append(GTK_BOX(box), group);

    gtk_widget_set_margin_top(box, 18);
    gtk_widget_set_margin_bottom(box, 18);
    gtk_widget_set_margin_start(box, 12);
    gtk_widget_set_margin_end(box, 12);
    adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 800);
    adw_clamp_set_child(ADW_CLAMP(clamp), box);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), clamp);
    return scroll;
}

static void set_fact(dossier *d, int which, const char *text)
{
    gtk_label_set_text(GTK_LABEL(d->facts[which]), text && *text ? text : "—");
}

/* `user` carries the id asked for: an answer about another one is stale. */
static void got(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                gpointer user)
{
    dossier *d = g_object_get_data(owner, "dossier");
    const Dangan__V1__Customer *c;
    int64_t *asked = user;
    bool is_current = *asked == d->id;

    g_free(asked);
    if (!is_current)
        return;
    if (rc != DG_CLIENT_OK || resp->status->code != DANGAN__V1__CODE__OK) {
        gtk_label_set_text(GTK_LABEL(d->error),
                           rc != DG_CLIENT_OK ? errmsg : resp->status->message);
        gtk_widget_set_visible(d->error, TRUE);
        return;
    }
    if (!resp->get || !resp->get->record || !(c = resp->get->record->customer))
        return;
    gtk_label_set_text(GTK_LABEL(d->title), c->name);
    set_fact(d, F_CODE, c->code);
    set_fact(d, F_TIER, dg_customer_tier_text(c->tier));
    set_fact(d, F_STATUS, dg_customer_status_text(c->status));
    set_fact(d, F_OWNER, c->owner ? c->owner->username : "");
    set_fact(d, F_PHONE, c->phone);
}

void dg_gtk_dossier_load(GtkWidget *pagew, int64_t id)
{
    dossier *d = g_object_get_data(G_OBJECT(pagew), "dossier");
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetRequest get = DANGAN__V1__GET_REQUEST__INIT;
    int64_t *asked = g_new(int64_t, 1);

    d->id = id;
    *asked = id;
    gtk_label_set_text(GTK_LABEL(d->title), _("Loading…"));
    gtk_widget_set_visible(d->error, FALSE);
    for (int i = 0; i < N_FACTS; i++)
        gtk_label_set_text(GTK_LABEL(d->facts[i]), "");
    get.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    get.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &get;
    dg_gtk_call(d->a->conn, &req, G_OBJECT(pagew), got, asked);
}
