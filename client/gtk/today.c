/* today.c - the Today page: the server's Today list (TodayRequest) as one
 * preferences group per section, in the server's order: overdue tasks (days
 * overdue), tasks due today, calls and visits due by the tier's cadence with
 * the last call or visit, follow-ups, expiring contracts and customers
 * turning dormant. Every line names the customer and its code; activating
 * it opens the customer's dossier. Managers and admins get "Team" (every
 * user's list) and an owner field (one user's list), as `dangan today
 * --team / --owner` does.
 *
 * Owns: the page's widgets. A reply to an older request is ignored.
 * Threads: the main thread; the request runs on the connection's worker.
 */
#include <string.h>

#include "app.h"
#include "dg.h"
#include "tz.h"

typedef struct today {
    dg_gtk_app *a;
    void (*open)(dg_gtk_app *a, int64_t id);
    GtkWidget *team, *owner, *body, *status;
    unsigned asked; /* the newest request's number */
} today;

static const char *section_title(const char *name)
{
    static const struct {
        const char *name, *title;
    } t[] = {
        {"overdue_tasks", N_("Overdue tasks")},
        {"tasks_today", N_("Tasks due today")},
        {"calls_due", N_("Calls due")},
        {"visits_due", N_("Visits due")},
        {"follow_ups", N_("Follow-ups")},
        {"contracts", N_("Contracts expiring")},
        {"turning_dormant", N_("Turning dormant")},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        if (strcmp(t[i].name, name) == 0)
            return _(t[i].title);
    return NULL; /* a section of a newer server */
}

static const char *tier_letter(int t)
{
    static const char *const names[] = {"–", "A", "B", "C"};

    return t >= 0 && t < 4 ? names[t] : "–";
}

static void day_of(const char *zone, int64_t ms, char *buf, size_t len)
{
    char d[DG_DATE_LEN];

    if (!ms)
        g_strlcpy(buf, _("never"), len);
    else if (dg_tz_date(zone, ms, d) == DG_OK)
        g_strlcpy(buf, d, len);
    else
        g_strlcpy(buf, "?", len);
}

static void time_of(const char *zone, int64_t ms, char *buf, size_t len)
{
    if (dg_tz_format(zone, ms, buf, len) != DG_OK)
        g_strlcpy(buf, "?", len);
}

/* "3 days overdue", "due today" */
static void overdue(int days, char *buf, size_t len)
{
    if (days <= 0)
        g_strlcpy(buf, _("due today"), len);
    else
        snprintf(buf, len, g_dngettext(NULL, "%d day overdue", "%d days overdue", days), days);
}

/* The subtitle of an item: what is due and since when, by section. */
static void describe(const char *zone, const char *section, const Dangan__V1__TodayItem *it,
                     char *buf, size_t len)
{
    char mark[64], when[64];

    if (strcmp(section, "overdue_tasks") == 0) {
        overdue(it->days, mark, sizeof mark);
        time_of(zone, it->due_at_ms, when, sizeof when);
        snprintf(buf, len, _("%s · due %s · %s"), mark, when, it->title);
    } else if (strcmp(section, "tasks_today") == 0) {
        time_of(zone, it->due_at_ms, when, sizeof when);
        snprintf(buf, len, _("due %s · %s"), when, it->title);
    } else if (strcmp(section, "calls_due") == 0 || strcmp(section, "visits_due") == 0) {
        bool is_call = section[0] == 'c';

        overdue(it->days, mark, sizeof mark);
        day_of(zone, is_call ? it->last_call_at_ms : it->last_visit_at_ms, when, sizeof when);
        snprintf(buf, len,
                 is_call ? _("%s · tier %s, every %d days · last call %s")
                         : _("%s · tier %s, every %d days · last visit %s"),
                 mark, tier_letter(it->tier), it->cadence_days, when);
    } else if (strcmp(section, "follow_ups") == 0) {
        overdue(it->days, mark, sizeof mark);
        snprintf(buf, len, _("%s · %s · %s"), mark, it->follow_up_on, it->summary);
    } else if (strcmp(section, "contracts") == 0) {
        if (it->days < 0)
            snprintf(mark, sizeof mark,
                     g_dngettext(NULL, "expired %d day ago", "expired %d days ago", -it->days),
                     -it->days);
        else if (it->days == 0)
            g_strlcpy(mark, _("expires today"), sizeof mark);
        else
            snprintf(mark, sizeof mark,
                     g_dngettext(NULL, "expires in %d day", "expires in %d days", it->days),
                     it->days);
        snprintf(buf, len, _("%s · %s · %s"), mark, it->expires_on, it->title);
    } else {
        day_of(zone, it->last_contact_at_ms, when, sizeof when);
        snprintf(buf, len,
                 g_dngettext(NULL, "%d day left · last contact %s",
                             "%d days left · last contact %s", it->days),
                 it->days, when);
    }
}

static void open_clicked(GtkButton *b, gpointer data)
{
    today *t = data;

    t->open(t->a, (int64_t)(intptr_t)g_object_get_data(G_OBJECT(b), "customer"));
}

static void clear(GtkWidget *box)
{
    GtkWidget *c;

    while ((c = gtk_widget_get_first_child(box)))
        gtk_box_remove(GTK_BOX(box), c);
}

static void add_section(today *t, const char *zone, const Dangan__V1__TodaySection *s)
{
    const char *title = section_title(s->name);
    GtkWidget *group;
    char head[160], sub[512], name[1000];

    if (!title)
        return;
    group = adw_preferences_group_new();
    snprintf(head, sizeof head, "%s (%u%s)", title, s->total, s->more ? "+" : "");
    adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), head);
    dg_gtk_a11y_name(group, head);
    if (!s->n_items) {
        GtkWidget *row = adw_action_row_new();

        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("None"));
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
    }
    for (size_t i = 0; i < s->n_items; i++) {
        const Dangan__V1__TodayItem *it = s->items[i];
        GtkWidget *row = adw_action_row_new(), *open;
        char *esc;

        snprintf(name, sizeof name, "%s  %s", it->customer_name, it->customer_code);
        esc = g_markup_escape_text(name, -1);
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), esc);
        g_free(esc);
        describe(zone, s->name, it, sub, sizeof sub);
        esc = g_markup_escape_text(sub, -1);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), esc);
        g_free(esc);
        /* the row activates its "open" button (a click, Enter) */
        open = gtk_button_new_from_icon_name("go-next-symbolic");
        gtk_widget_add_css_class(open, "flat");
        gtk_widget_set_valign(open, GTK_ALIGN_CENTER);
        gtk_widget_set_tooltip_text(open, _("Open the dossier"));
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), open);
        adw_action_row_set_activatable_widget(ADW_ACTION_ROW(row), open);
        g_object_set_data(G_OBJECT(open), "customer", (gpointer)(intptr_t)it->customer_id);
        g_signal_connect(open, "clicked", G_CALLBACK(open_clicked), t);
        snprintf(name + strlen(name), sizeof name - strlen(name), " — %s", sub);
        dg_gtk_a11y_name(open, name);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
    }
    if (s->total > s->n_items) {
        GtkWidget *more = gtk_label_new("");

        snprintf(sub, sizeof sub, _("… and %u%s more"), (unsigned)(s->total - s->n_items),
                 s->more ? "+" : "");
        gtk_label_set_text(GTK_LABEL(more), sub);
        gtk_widget_add_css_class(more, "dim-label");
        gtk_label_set_xalign(GTK_LABEL(more), 0);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), more);
    }
    gtk_box_append(GTK_BOX(t->body), group);
}

static void got(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                gpointer user)
{
    today *t = g_object_get_data(owner, "today");
    const Dangan__V1__TodayResponse *r;
    char line[300];

    if (GPOINTER_TO_UINT(user) != t->asked)
        return;
    if (rc != DG_CLIENT_OK || resp->status->code != DANGAN__V1__CODE__OK) {
        gtk_label_set_text(GTK_LABEL(t->status),
                           rc != DG_CLIENT_OK ? errmsg : resp->status->message);
        return;
    }
    if (!(r = resp->today))
        return;
    clear(t->body);
    for (size_t u = 0; u < r->n_lists; u++) {
        const Dangan__V1__TodayList *l = r->lists[u];

        if (r->n_lists > 1 || (l->user && l->user->id != t->a->user_id)) {
            GtkWidget *who = gtk_label_new(l->user ? l->user->username : "?");

            gtk_widget_add_css_class(who, "title-2");
            gtk_label_set_xalign(GTK_LABEL(who), 0);
            gtk_box_append(GTK_BOX(t->body), who);
        }
        for (size_t s = 0; s < l->n_sections; s++)
            add_section(t, r->time_zone, l->sections[s]);
    }
    snprintf(line, sizeof line, _("Today %s (%s)"), r->today, r->time_zone);
    gtk_label_set_text(GTK_LABEL(t->status), line);
}

void dg_gtk_today_refresh(GtkWidget *pagew)
{
    today *t = g_object_get_data(G_OBJECT(pagew), "today");
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__TodayRequest m = DANGAN__V1__TODAY_REQUEST__INIT;
    char owner[128] = "";

    if (t->team) {
        m.team = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(t->team));
        g_strlcpy(owner, gtk_editable_get_text(GTK_EDITABLE(t->owner)), sizeof owner);
        g_strstrip(owner);
        if (!m.team)
            m.owner = owner;
    }
    req.body_case = DANGAN__V1__REQUEST__BODY_TODAY;
    req.today = &m;
    gtk_label_set_text(GTK_LABEL(t->status), _("Loading…"));
    dg_gtk_call(t->a->conn, &req, G_OBJECT(pagew), got, GUINT_TO_POINTER(++t->asked));
}

static void refresh_clicked(GtkWidget *w, gpointer data)
{
    (void)w;
    dg_gtk_today_refresh(data);
}

static void team_toggled(GtkToggleButton *b, gpointer data)
{
    today *t = g_object_get_data(G_OBJECT(data), "today");

    gtk_widget_set_sensitive(t->owner, !gtk_toggle_button_get_active(b));
    dg_gtk_today_refresh(data);
}

GtkWidget *dg_gtk_today_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id))
{
    today *t = g_new0(today, 1);
    GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6), *refresh;
    GtkWidget *scroll = gtk_scrolled_window_new(), *clamp = adw_clamp_new();
    bool is_lead =
        a->role == DANGAN__V1__ROLE__ROLE_MANAGER || a->role == DANGAN__V1__ROLE__ROLE_ADMIN;

    t->a = a;
    t->open = open;
    g_object_set_data_full(G_OBJECT(page), "today", t, g_free);
    gtk_widget_set_margin_start(bar, 12);
    gtk_widget_set_margin_end(bar, 12);
    gtk_widget_set_margin_top(bar, 6);
    t->status = gtk_label_new("");
    gtk_widget_add_css_class(t->status, "dim-label");
    gtk_label_set_xalign(GTK_LABEL(t->status), 0);
    gtk_widget_set_hexpand(t->status, TRUE);
    gtk_box_append(GTK_BOX(bar), t->status);
    if (is_lead) {
        t->owner = gtk_entry_new();
        g_object_set(t->owner, "placeholder-text", _("User (empty: me)"), NULL);
        dg_gtk_a11y_name(t->owner, _("Whose list"));
        gtk_widget_set_tooltip_text(t->owner, _("Whose list"));
        g_signal_connect(t->owner, "activate", G_CALLBACK(refresh_clicked), page);
        gtk_box_append(GTK_BOX(bar), t->owner);
        t->team = gtk_toggle_button_new_with_label(_("Team"));
        dg_gtk_a11y_name(t->team, _("The whole team's lists"));
        gtk_widget_set_tooltip_text(t->team, _("The whole team's lists"));
        g_signal_connect(t->team, "toggled", G_CALLBACK(team_toggled), page);
        gtk_box_append(GTK_BOX(bar), t->team);
    }
    refresh = gtk_button_new_from_icon_name("view-refresh-symbolic");
    dg_gtk_a11y_name(refresh, _("Refresh Today"));
    gtk_widget_set_tooltip_text(refresh, _("Refresh Today"));
    g_signal_connect(refresh, "clicked", G_CALLBACK(refresh_clicked), page);
    gtk_box_append(GTK_BOX(bar), refresh);
    gtk_box_append(GTK_BOX(page), bar);

    t->body = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18);
    gtk_widget_set_margin_top(t->body, 12);
    gtk_widget_set_margin_bottom(t->body, 18);
    gtk_widget_set_margin_start(t->body, 12);
    gtk_widget_set_margin_end(t->body, 12);
    adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 900);
    adw_clamp_set_child(ADW_CLAMP(clamp), t->body);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), clamp);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_box_append(GTK_BOX(page), scroll);
    dg_gtk_today_refresh(page);
    return page;
}
