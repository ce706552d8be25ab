/* dossier_timeline.c - the dossier's timeline beyond the newest interactions
 * the Get brings (50): "Earlier interactions" asks List for the customer's
 * interactions, latest first, a page at a time with the keyset cursor, and
 * adds them under the others, skipping any already shown (a colleague's
 * new call moves every later one down a place).
 *
 * Owns: the ids shown and the next page's cursor, both reset with the
 * timeline group on every load. A reply for an older load or group is
 * dropped. Threads: the main thread.
 */
#include "dossier.h"

#include "dg.h"

#define PAGE 50

typedef struct {
    int64_t id; /* the customer, and the group the page is for */
    GtkWidget *group;
} page_ask;

static void say_left(dg_dossier *d)
{
    unsigned shown = g_hash_table_size(d->timeline_ids);
    bool more = shown < d->timeline_total && d->timeline_cursor;
    char label[96];

    gtk_widget_set_visible(d->more_timeline, more);
    gtk_widget_set_sensitive(d->more_timeline, TRUE);
    if (more) {
        snprintf(label, sizeof label, _("Earlier interactions (%u more)"),
                 d->timeline_total - shown);
        gtk_button_set_label(GTK_BUTTON(d->more_timeline), label);
        dg_gtk_a11y_name(d->more_timeline, label); /* the label replaced it */
    }
}

static void got_page(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                     gpointer user)
{
    dg_dossier *d = g_object_get_data(owner, "dossier");
    page_ask *q = user;
    bool is_current = q->id == d->id && q->group == d->timeline;
    const Dangan__V1__ListResponse *l;

    g_free(q);
    if (!is_current)
        return;
    if (rc != DG_CLIENT_OK || resp->status->code != DANGAN__V1__CODE__OK || !(l = resp->list)) {
        gtk_widget_set_sensitive(d->more_timeline, TRUE);
        gtk_widget_set_tooltip_text(d->more_timeline, errmsg                 ? errmsg
                                                      : resp && resp->status ? resp->status->message
                                                                             : NULL);
        return;
    }
    for (size_t i = 0; i < l->n_records; i++) {
        const Dangan__V1__Interaction *it = l->records[i]->interaction;
        gint64 *id;

        if (!it || g_hash_table_contains(d->timeline_ids, &it->id))
            continue;
        id = g_new(gint64, 1);
        *id = it->id;
        g_hash_table_add(d->timeline_ids, id);
        dg_dossier_interaction_row(d, d->timeline, it);
    }
    g_free(d->timeline_cursor);
    d->timeline_cursor = l->next_cursor && l->next_cursor[0] ? g_strdup(l->next_cursor) : NULL;
    say_left(d);
}

static void more_clicked(GtkButton *b, gpointer data)
{
    dg_dossier *d = data;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest list = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__ListFilter filter = DANGAN__V1__LIST_FILTER__INIT;
    page_ask *q = g_new(page_ask, 1);
    bool is_first = d->timeline_cursor[0] == '\0';

    gtk_widget_set_sensitive(GTK_WIDGET(b), FALSE);
    filter.customer_id = d->id;
    list.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION;
    list.filter = &filter;
    list.sort = "-at";
    /* the first page from the start covers those the Get showed too */
    list.limit = is_first ? g_hash_table_size(d->timeline_ids) + PAGE : PAGE;
    list.cursor = is_first ? NULL : d->timeline_cursor;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &list;
    q->id = d->id;
    q->group = d->timeline;
    dg_gtk_call(d->a->conn, &req, G_OBJECT(d->page), got_page, q);
}

void dg_dossier_timeline_begin(dg_dossier *d, GtkWidget *group, const Dangan__V1__Dossier *ds)
{
    if (!d->timeline_ids)
        d->timeline_ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_hash_table_remove_all(d->timeline_ids);
    for (size_t i = 0; i < ds->n_recent_interactions; i++) {
        gint64 *id = g_new(gint64, 1);

        *id = ds->recent_interactions[i]->id;
        g_hash_table_add(d->timeline_ids, id);
    }
    d->timeline = group;
    d->timeline_total = ds->interaction_count;
    g_free(d->timeline_cursor);
    d->timeline_cursor = g_strdup(""); /* from the start */
    /* below the group, in the section's box (emptied with it on every load) */
    d->more_timeline = gtk_button_new_with_label(_("Earlier interactions"));
    gtk_widget_set_halign(d->more_timeline, GTK_ALIGN_CENTER);
    gtk_widget_set_margin_top(d->more_timeline, 6);
    g_signal_connect(d->more_timeline, "clicked", G_CALLBACK(more_clicked), d);
    gtk_box_append(GTK_BOX(d->secs[SEC_TIMELINE]), d->more_timeline);
    say_left(d);
}

void dg_dossier_timeline_free(dg_dossier *d)
{
    if (d->timeline_ids)
        g_hash_table_unref(d->timeline_ids);
    g_free(d->timeline_cursor);
}
