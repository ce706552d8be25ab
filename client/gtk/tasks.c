/* tasks.c - the Tasks page: my open tasks, soonest due first, the due time in
 * the team's zone (GetTeamSettings, as the dossier) and overdue ones marked; "Done" marks one done
 * with the version it showed (a conflict is reported, nothing is overwritten); "Customer" opens the
 * task's customer. Reloaded when shown, after a change and when a colleague's change of a task
 * arrives.
 *
 * Owns: the page's widgets. Threads: the main thread; requests go through
 * the connection (gtk_conn.h).
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "dg.h"
#include "tz.h"

#define TASK_ROWS 200

typedef struct tasks {
    dg_gtk_app *a;
    void (*open)(dg_gtk_app *a, int64_t id);
    GtkWidget *box, *list, *status;
    guint generation;
    char zone[DG_GTK_ZONE_LEN]; /* the team's, once GetTeamSettings answered */
} tasks;

typedef struct task_ref {
    tasks *t;
    gint64 id, version, customer_id;
} task_ref;

static void reload(tasks *t);

static void done_replied(GObject *owner, int rc, const Dangan__V1__Response *resp,
                         const char *errmsg, gpointer user)
{
    tasks *t = user;
    char text[400];

    (void)owner;
    if (rc == DG_CLIENT_OK && resp->status && resp->status->code == DANGAN__V1__CODE__OK) {
        dg_gtk_toast(t->a, _("Task marked done."));
    } else {
        if (rc == DG_CLIENT_OK && resp->status && resp->status->code == DANGAN__V1__CODE__ABORTED)
            snprintf(text, sizeof text, _("Someone changed this task meanwhile: %s"),
                     resp->status->message);
        else
            snprintf(text, sizeof text, _("The task could not be marked done: %s"),
                     rc != DG_CLIENT_OK ? (errmsg && *errmsg ? errmsg : dg_client_strerror(rc))
                                        : resp->status->message);
        gtk_label_set_text(GTK_LABEL(t->status), text);
        dg_gtk_toast(t->a, text);
    }
    reload(t);
}

static void done_clicked(GtkButton *b, gpointer data)
{
    task_ref *r = data;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest up = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task task = DANGAN__V1__TASK__INIT;
    char *mask[] = {"done"};

    gtk_widget_set_sensitive(GTK_WIDGET(b), FALSE);
    task.id = r->id;
    task.done = true;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &task;
    up.record = &rec;
    up.expected_version = r->version; /* the version the row showed */
    up.n_update_mask = 1;
    up.update_mask = mask;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &up;
    dg_gtk_call(r->t->a->conn, &req, G_OBJECT(r->t->box), done_replied, r->t);
}

static void customer_clicked(GtkButton *b, gpointer data)
{
    task_ref *r = data;

    (void)b;
    r->t->open(r->t->a, r->customer_id);
}

static GtkWidget *button(const char *label, const char *name, GCallback cb, task_ref *r)
{
    GtkWidget *b = gtk_button_new_with_label(label);

    dg_gtk_a11y_name(b, name);
    gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
    g_signal_connect(b, "clicked", cb, r);
    return b;
}

static void add_row(tasks *t, const Dangan__V1__Task *k, gint64 now_ms)
{
    GtkWidget *row = adw_action_row_new();
    task_ref *r = g_new0(task_ref, 1);
    char when[64];
    char *sub, *done_name;
    bool is_overdue = k->due_at_ms && k->due_at_ms < now_ms;

    if (!k->due_at_ms ||
        dg_tz_format(t->zone[0] ? t->zone : "UTC", k->due_at_ms, when, sizeof when) != DG_OK)
        g_strlcpy(when, k->due_at_ms ? "?" : _("no due date"), sizeof when);
    r->t = t;
    r->id = k->id;
    r->version = k->version;
    r->customer_id = k->customer_id;
    g_object_set_data_full(G_OBJECT(row), "task", r, g_free);
    sub = is_overdue ? g_strdup_printf(_("Overdue: was due %s"), when)
                     : g_strdup_printf(_("Due %s"), when);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), k->title);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(row), sub);
    if (is_overdue)
        gtk_widget_add_css_class(row, "error");
    done_name = g_strdup_printf(_("Mark “%s” done"), k->title);
    adw_action_row_add_suffix(
        ADW_ACTION_ROW(row),
        button(_("Customer"), _("Open the task's customer"), G_CALLBACK(customer_clicked), r));
    adw_action_row_add_suffix(ADW_ACTION_ROW(row),
                              button(_("Done"), done_name, G_CALLBACK(done_clicked), r));
    dg_gtk_a11y_name(row, k->title);
    gtk_list_box_append(GTK_LIST_BOX(t->list), row);
    g_free(done_name);
    g_free(sub);
}

static void listed(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                   gpointer user)
{
    tasks *t = g_object_get_data(owner, "tasks");
    GtkWidget *child;
    guint n = 0;
    char text[400];

    if (GPOINTER_TO_UINT(user) != t->generation)
        return; /* an older reload's */
    if (rc != DG_CLIENT_OK || !resp->status || resp->status->code != DANGAN__V1__CODE__OK ||
        !resp->list) {
        snprintf(text, sizeof text, _("The tasks could not be loaded: %s"),
                 rc != DG_CLIENT_OK ? (errmsg && *errmsg ? errmsg : dg_client_strerror(rc))
                                    : resp->status->message);
        gtk_label_set_text(GTK_LABEL(t->status), text);
        return;
    }
    while ((child = gtk_widget_get_first_child(t->list)))
        gtk_list_box_remove(GTK_LIST_BOX(t->list), child);
    for (size_t i = 0; i < resp->list->n_records; i++)
        if (resp->list->records[i]->task && !resp->list->records[i]->task->done) {
            add_row(t, resp->list->records[i]->task, g_get_real_time() / 1000);
            n++;
        }
    snprintf(text, sizeof text, g_dngettext(NULL, "%u open task", "%u open tasks", n), n);
    gtk_label_set_text(GTK_LABEL(t->status), text);
}

static void reload(tasks *t)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest lr = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;

    f.open_only = true;
    f.assignee_id = t->a->user_id;
    lr.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK;
    lr.filter = &f;
    lr.sort = "due";
    lr.limit = TASK_ROWS;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &lr;
    dg_gtk_call(t->a->conn, &req, G_OBJECT(t->box), listed, GUINT_TO_POINTER(++t->generation));
}

static void event_arrived(DgGtkConn *conn, gpointer p, gpointer data)
{
    const Dangan__V1__Event *ev = p;

    (void)conn;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE && ev->change &&
        ev->change->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK)
        reload(data);
}

static void mapped(GtkWidget *w, gpointer data)
{
    (void)w;
    reload(data);
}

GtkWidget *dg_gtk_tasks_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id))
{
    tasks *t = g_new0(tasks, 1);
    GtkWidget *scroll = gtk_scrolled_window_new();

    t->a = a;
    t->open = open;
    t->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    g_object_set_data_full(G_OBJECT(t->box), "tasks", t, g_free);
    gtk_widget_set_margin_start(t->box, 12);
    gtk_widget_set_margin_end(t->box, 12);
    gtk_widget_set_margin_top(t->box, 6);
    gtk_widget_set_margin_bottom(t->box, 6);
    t->list = gtk_list_box_new();
    gtk_widget_add_css_class(t->list, "boxed-list");
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(t->list), GTK_SELECTION_NONE);
    gtk_widget_set_valign(t->list, GTK_ALIGN_START);
    dg_gtk_a11y_name(t->list, _("My open tasks"));
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), t->list);
    gtk_box_append(GTK_BOX(t->box), scroll);
    t->status = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(t->status), 0);
    gtk_widget_add_css_class(t->status, "dim-label");
    gtk_box_append(GTK_BOX(t->box), t->status);
    g_signal_connect(t->box, "map", G_CALLBACK(mapped), t);
    /* the page lives as long as the window, and the window as the connection */
    g_signal_connect(a->conn, "event", G_CALLBACK(event_arrived), t);
    /* the team's zone, before any list (the connection answers in order) */
    dg_gtk_ask_team_zone(a, G_OBJECT(t->box), t->zone);
    return t->box;
}
