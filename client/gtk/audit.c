/* audit.c - the Audit page (admins and auditors): the audit log newest first,
 * 50 records a page ("Older" fetches the next with the server's
 * before_seq), each line saying who, when (in the team's zone), what and
 * the outcome; filters the server's AuditQuery supports (user name, action
 * or an action prefix ending in ".", refusals only); and "Verify chain",
 * which asks the server's AuditVerify (on the connection's worker, like
 * every request) and shows whether the hash chain is intact.
 *
 * Owns: the page's widgets, the team's zone. Replies to an older query are
 * ignored. Threads: the main thread.
 */
#include <string.h>

#include "app.h"
#include "dg.h"
#include "tz.h"

#define AUDIT_PAGE 50

typedef struct audit {
    dg_gtk_app *a;
    GtkWidget *user, *action, *refusals, *list, *older, *status, *verify, *verdict;
    char zone[64];
    uint64_t next_before; /* 0: no more */
    unsigned asked;
} audit;

static void add_record(audit *au, const Dangan__V1__AuditRecord *r)
{
    GtkWidget *row = adw_action_row_new(), *outcome = gtk_label_new(r->outcome);
    char when[64], title[400], sub[600], a11y[1100];
    char *esc;

    if (dg_tz_format(au->zone[0] ? au->zone : "UTC", r->at_ms, when, sizeof when) != DG_OK)
        g_strlcpy(when, "?", sizeof when);
    if (r->entity[0] && r->entity_id)
        snprintf(title, sizeof title, "%s  %s #%lld", r->action, r->entity,
                 (long long)r->entity_id);
    else
        snprintf(title, sizeof title, "%s  %s", r->action, r->entity);
    snprintf(sub, sizeof sub, _("#%llu · %s · %s from %s"), (unsigned long long)r->seq, when,
             r->username[0] ? r->username : "—", r->peer[0] ? r->peer : "—");
    esc = g_markup_escape_text(title, -1);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), esc);
    g_free(esc);
    esc = g_markup_escape_text(sub, -1);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(row), esc);
    g_free(esc);
    if (r->detail[0] && strcmp(r->detail, "{}") != 0)
        gtk_widget_set_tooltip_text(row, r->detail);
    gtk_widget_add_css_class(outcome, strcmp(r->outcome, "ok") == 0 ? "success" : "error");
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), outcome);
    snprintf(a11y, sizeof a11y, "%s — %s — %s", title, sub, r->outcome);
    dg_gtk_a11y_name(row, a11y);
    gtk_list_box_append(GTK_LIST_BOX(au->list), row);
}

static void got_page(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                     gpointer user)
{
    audit *au = g_object_get_data(owner, "audit");
    const Dangan__V1__AuditQueryResponse *r;
    char line[200];
    int shown = 0;

    if (GPOINTER_TO_UINT(user) != au->asked)
        return;
    if (rc != DG_CLIENT_OK || resp->status->code != DANGAN__V1__CODE__OK) {
        gtk_label_set_text(GTK_LABEL(au->status),
                           rc != DG_CLIENT_OK ? errmsg : resp->status->message);
        return;
    }
    if (!(r = resp->audit_query))
        return;
    for (size_t i = 0; i < r->n_records; i++)
        add_record(au, r->records[i]);
    au->next_before = r->next_before_seq;
    gtk_widget_set_sensitive(au->older, au->next_before != 0);
    for (GtkWidget *c = gtk_widget_get_first_child(au->list); c; c = gtk_widget_get_next_sibling(c))
        shown++;
    snprintf(line, sizeof line, g_dngettext(NULL, "%d record shown", "%d records shown", shown),
             shown);
    if (au->next_before)
        g_strlcat(line, _("; older ones with Older"), sizeof line);
    gtk_label_set_text(GTK_LABEL(au->status), line);
}

/* Asks for a page: from the newest (is_first) or older than the last shown. */
static void query(GtkWidget *pagew, bool is_first)
{
    audit *au = g_object_get_data(G_OBJECT(pagew), "audit");
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    char user[128], action[128];
    GtkWidget *c;

    g_strlcpy(user, gtk_editable_get_text(GTK_EDITABLE(au->user)), sizeof user);
    g_strlcpy(action, gtk_editable_get_text(GTK_EDITABLE(au->action)), sizeof action);
    q.username = g_strstrip(user);
    q.action = g_strstrip(action);
    q.outcome = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(au->refusals)) ? "denied" : "";
    q.limit = AUDIT_PAGE;
    if (is_first) {
        while ((c = gtk_widget_get_first_child(au->list)))
            gtk_list_box_remove(GTK_LIST_BOX(au->list), c);
        au->next_before = 0;
    }
    q.before_seq = au->next_before;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    gtk_label_set_text(GTK_LABEL(au->status), _("Loading…"));
    dg_gtk_call(au->a->conn, &req, G_OBJECT(pagew), got_page, GUINT_TO_POINTER(++au->asked));
}

static void got_settings(GObject *owner, int rc, const Dangan__V1__Response *resp,
                         const char *errmsg, gpointer user)
{
    audit *au = g_object_get_data(owner, "audit");

    (void)errmsg;
    (void)user;
    if (rc == DG_CLIENT_OK && resp->status->code == DANGAN__V1__CODE__OK &&
        resp->get_team_settings && resp->get_team_settings->settings)
        g_strlcpy(au->zone, resp->get_team_settings->settings->time_zone, sizeof au->zone);
    query(GTK_WIDGET(owner), true);
}

static void got_verify(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                       gpointer user)
{
    audit *au = g_object_get_data(owner, "audit");
    const Dangan__V1__AuditVerifyResponse *v;
    char text[600];

    (void)user;
    gtk_widget_set_sensitive(au->verify, TRUE);
    gtk_widget_remove_css_class(au->verdict, "success");
    gtk_widget_remove_css_class(au->verdict, "error");
    if (rc != DG_CLIENT_OK || resp->status->code != DANGAN__V1__CODE__OK || !resp->audit_verify) {
        snprintf(text, sizeof text, _("Verify failed: %s"),
                 rc != DG_CLIENT_OK ? errmsg : resp->status->message);
        gtk_widget_add_css_class(au->verdict, "error");
    } else if ((v = resp->audit_verify)->ok) {
        snprintf(text, sizeof text, _("Chain intact: %llu records checked, up to #%llu."),
                 (unsigned long long)v->checked, (unsigned long long)(v->head ? v->head->seq : 0));
        gtk_widget_add_css_class(au->verdict, "success");
    } else {
        snprintf(text, sizeof text, _("Chain broken at #%llu: %s"),
                 (unsigned long long)v->first_bad_seq, v->problem);
        gtk_widget_add_css_class(au->verdict, "error");
    }
    gtk_label_set_text(GTK_LABEL(au->verdict), text);
}

static void verify_clicked(GtkButton *b, gpointer data)
{
    audit *au = g_object_get_data(G_OBJECT(data), "audit");
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditVerifyRequest v = DANGAN__V1__AUDIT_VERIFY_REQUEST__INIT;

    (void)b;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY;
    req.audit_verify = &v;
    gtk_widget_set_sensitive(au->verify, FALSE);
    gtk_label_set_text(GTK_LABEL(au->verdict), _("Verifying the chain…"));
    dg_gtk_call(au->a->conn, &req, G_OBJECT(data), got_verify, NULL);
}

static void filter_changed(GtkWidget *w, gpointer data)
{
    (void)w;
    query(data, true);
}

static void older_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    query(data, false);
}

static GtkWidget *filter_entry(GtkWidget *bar, const char *hint, const char *name, GtkWidget *page)
{
    GtkWidget *e = gtk_entry_new();

    g_object_set(e, "placeholder-text", hint, NULL);
    dg_gtk_a11y_name(e, name);
    gtk_widget_set_tooltip_text(e, name);
    g_signal_connect(e, "activate", G_CALLBACK(filter_changed), page);
    gtk_box_append(GTK_BOX(bar), e);
    return e;
}

GtkWidget *dg_gtk_audit_new(dg_gtk_app *a)
{
    audit *au = g_new0(audit, 1);
    GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6), *scroll, *apply;
    GtkWidget *foot = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetTeamSettingsRequest gs = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;

    au->a = a;
    g_object_set_data_full(G_OBJECT(page), "audit", au, g_free);
    gtk_widget_set_margin_start(page, 12);
    gtk_widget_set_margin_end(page, 12);
    gtk_widget_set_margin_top(page, 6);
    gtk_widget_set_margin_bottom(page, 6);
    au->user = filter_entry(bar, _("User"), _("Audit user filter"), page);
    au->action = filter_entry(bar, _("Action (or prefix.)"), _("Audit action filter"), page);
    au->refusals = gtk_toggle_button_new_with_label(_("Refusals only"));
    dg_gtk_a11y_name(au->refusals, _("Refusals only"));
    g_signal_connect(au->refusals, "toggled", G_CALLBACK(filter_changed), page);
    gtk_box_append(GTK_BOX(bar), au->refusals);
    apply = gtk_button_new_with_label(_("Apply"));
    dg_gtk_a11y_name(apply, _("Apply the audit filters"));
    g_signal_connect(apply, "clicked", G_CALLBACK(filter_changed), page);
    gtk_box_append(GTK_BOX(bar), apply);
    au->verify = gtk_button_new_with_label(_("Verify chain"));
    dg_gtk_a11y_name(au->verify, _("Verify chain"));
    gtk_widget_add_css_class(au->verify, "suggested-action");
    g_signal_connect(au->verify, "clicked", G_CALLBACK(verify_clicked), page);
    gtk_widget_set_hexpand(au->verify, TRUE);
    gtk_widget_set_halign(au->verify, GTK_ALIGN_END);
    gtk_box_append(GTK_BOX(bar), au->verify);
    gtk_box_append(GTK_BOX(page), bar);

    au->verdict = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(au->verdict), 0);
    gtk_label_set_wrap(GTK_LABEL(au->verdict), TRUE);
    gtk_box_append(GTK_BOX(page), au->verdict);

    au->list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(au->list), GTK_SELECTION_NONE);
    gtk_widget_add_css_class(au->list, "boxed-list");
    dg_gtk_a11y_name(au->list, _("Audit log"));
    scroll = gtk_scrolled_window_new();
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), au->list);
    gtk_box_append(GTK_BOX(page), scroll);

    au->status = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(au->status), 0);
    gtk_widget_set_hexpand(au->status, TRUE);
    gtk_widget_add_css_class(au->status, "dim-label");
    gtk_box_append(GTK_BOX(foot), au->status);
    au->older = gtk_button_new_with_label(_("Older"));
    dg_gtk_a11y_name(au->older, _("Older audit records"));
    gtk_widget_set_sensitive(au->older, FALSE);
    g_signal_connect(au->older, "clicked", G_CALLBACK(older_clicked), page);
    gtk_box_append(GTK_BOX(foot), au->older);
    gtk_box_append(GTK_BOX(page), foot);

    /* the team's zone first (times are shown in it), then the newest page */
    req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
    req.get_team_settings = &gs;
    dg_gtk_call(a->conn, &req, G_OBJECT(page), got_settings, NULL);
    return page;
}
