/* activity.c - the Activity page: colleagues' changes, live, newest on top,
 * as the sentences `dangan watch` prints (client/change_say.c), with the
 * time in the team's zone (GetTeamSettings, as the dossier). At most ACTIVITY_ROWS are kept;
 * activating one opens that customer's dossier.
 *
 * Owns: the page's widgets. Threads: the main thread (the connection's
 * "event" signal is emitted there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "change_say.h"
#include "customer_text.h"
#include "dg.h"
#include "tz.h"

#define ACTIVITY_ROWS 200

typedef struct activity {
    dg_gtk_app *a;
    void (*open)(dg_gtk_app *a, int64_t id);
    GtkWidget *list, *empty;
    guint n;
    char zone[DG_GTK_ZONE_LEN]; /* the team's, once GetTeamSettings answered */
} activity;

static const char *kind_name(Dangan__V1__EntityKind kind)
{
    static const char *const names[] = {
        [DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER] = "customer",
        [DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT] = "contact",
        [DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION] = "note",
        [DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL] = "deal",
        [DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK] = "feedback",
        [DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK] = "task",
    };

    return (size_t)kind < G_N_ELEMENTS(names) ? names[kind] : NULL;
}

/* Values as the server sends them; instants (…_ms) in the team's zone, booleans yes/no. */
static const char *value_text(void *ud, Dangan__V1__EntityKind kind, const char *field,
                              const char *text, bool is_masked, char *buf, size_t len)
{
    size_t n = strlen(field);

    activity *ac = ud;

    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
        return text[0] == 't' ? _("yes") : _("no");
    if (kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER && !is_masked) {
        /* the words the Customers list and the dossier show, not the stored codes */
        static const struct {
            const char *code;
            int status;
        } statuses[] = {
            {"potential", DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_POTENTIAL},
            {"active", DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE},
            {"dormant", DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT},
            {"lost", DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST},
        };

        if (strcmp(field, "tier") == 0 && text[0] && !text[1]) {
            snprintf(buf, len, "%c", g_ascii_toupper(text[0]));
            return buf;
        }
        for (size_t i = 0; strcmp(field, "status") == 0 && i < G_N_ELEMENTS(statuses); i++)
            if (strcmp(text, statuses[i].code) == 0)
                return dg_customer_status_text(statuses[i].status);
    }
    if (!is_masked && n > 3 && strcmp(field + n - 3, "_ms") == 0 &&
        dg_tz_format(ac->zone[0] ? ac->zone : "UTC", strtoll(text, NULL, 10), buf, len) == DG_OK)
        return buf;
    return text;
}

static void change_clicked(GtkButton *b, gpointer data)
{
    activity *ac = data;
    gint64 id = *(gint64 *)g_object_get_data(G_OBJECT(b), "customer-id");

    if (id > 0)
        ac->open(ac->a, id);
}

static void event_arrived(DgGtkConn *conn, gpointer p, gpointer data)
{
    const Dangan__V1__Event *ev = p;
    const Dangan__V1__ChangeEvent *ch = ev->change;
    activity *ac = data;
    dg_say_fmt fmt = {kind_name, value_text, ac};
    GtkWidget *row, *label, *button;
    char *sentence = NULL, when[64], *text;
    size_t size = 0;
    FILE *out;
    gint64 *id;

    (void)conn;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE || !ch ||
        (ch->actor && ch->actor->id == ac->a->user_id))
        return; /* only colleagues' changes */
    out = open_memstream(&sentence, &size);
    if (!out)
        return;
    dg_say_change(out, ch, &fmt);
    fclose(out);
    if (dg_tz_format(ac->zone[0] ? ac->zone : "UTC", ch->at_ms, when, sizeof when) != DG_OK)
        when[0] = '\0';
    text = g_strdup_printf("%s  %s", when, sentence);
    label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
    gtk_widget_set_margin_start(label, 12);
    gtk_widget_set_margin_end(label, 12);
    gtk_widget_set_margin_top(label, 8);
    gtk_widget_set_margin_bottom(label, 8);
    /* a flat button: a click (or an assistive technology's) opens the dossier */
    button = gtk_button_new();
    gtk_button_set_child(GTK_BUTTON(button), label);
    gtk_widget_add_css_class(button, "flat");
    dg_gtk_a11y_name(button, sentence);
    gtk_widget_set_tooltip_text(button, _("Open the customer's dossier"));
    id = g_new(gint64, 1);
    *id = ch->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER ? ch->id : ch->customer_id;
    g_object_set_data_full(G_OBJECT(button), "customer-id", id, g_free);
    g_signal_connect(button, "clicked", G_CALLBACK(change_clicked), ac);
    row = gtk_list_box_row_new();
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), button);
    dg_gtk_a11y_name(row, sentence);
    gtk_list_box_prepend(GTK_LIST_BOX(ac->list), row); /* newest on top */
    if (++ac->n > ACTIVITY_ROWS) {
        gtk_list_box_remove(GTK_LIST_BOX(ac->list), GTK_WIDGET(gtk_list_box_get_row_at_index(
                                                        GTK_LIST_BOX(ac->list), ACTIVITY_ROWS)));
        ac->n--;
    }
    gtk_widget_set_visible(ac->empty, FALSE);
    g_free(text);
    free(sentence);
}

GtkWidget *dg_gtk_activity_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id))
{
    activity *ac = g_new0(activity, 1);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *scroll = gtk_scrolled_window_new();

    ac->a = a;
    ac->open = open;
    g_object_set_data_full(G_OBJECT(box), "activity", ac, g_free);
    gtk_widget_set_margin_start(box, 12);
    gtk_widget_set_margin_end(box, 12);
    gtk_widget_set_margin_top(box, 6);
    gtk_widget_set_margin_bottom(box, 6);
    ac->empty = gtk_label_new(_("Colleagues' changes appear here as they happen."));
    gtk_widget_add_css_class(ac->empty, "dim-label");
    gtk_box_append(GTK_BOX(box), ac->empty);
    ac->list = gtk_list_box_new();
    gtk_widget_add_css_class(ac->list, "boxed-list");
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(ac->list), GTK_SELECTION_NONE);
    dg_gtk_a11y_name(ac->list, _("Colleagues' changes"));
    gtk_widget_set_valign(ac->list, GTK_ALIGN_START);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), ac->list);
    gtk_box_append(GTK_BOX(box), scroll);
    /* the page lives as long as the window, and the window as the connection */
    g_signal_connect(a->conn, "event", G_CALLBACK(event_arrived), ac);
    dg_gtk_ask_team_zone(a, G_OBJECT(box), ac->zone);
    return box;
}
