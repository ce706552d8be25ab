/* users.c - the Users page: every account with its role and state
 * (UserList). Admins add a user (the server's password policy message shows
 * when it refuses the password; left empty, the server generates one and
 * the page shows it once), change a role, disable or enable, and reset a
 * password; each of those asks for confirmation first (a bar above the
 * list: Cancel or the action), since it ends the user's sessions. Auditors see the list read-only
 * (the server decides: a refusal shows as the page's status).
 *
 * Owns: the page's widgets. Threads: the main thread.
 */
#include <string.h>

#include "app.h"

typedef struct users {
    dg_gtk_app *a;
    GtkWidget *page, *list, *status, *name, *display, *role, *password, *add;
    GtkWidget *confirm, *question, *apply; /* the confirmation bar */
    bool is_admin;
    struct change *pending;
} users;

/* The roles in the order of the drop-downs (proto Role 1..5). */
static const char *role_text(int r)
{
    switch (r) {
    case DANGAN__V1__ROLE__ROLE_ADMIN:
        return _("admin");
    case DANGAN__V1__ROLE__ROLE_MANAGER:
        return _("manager");
    case DANGAN__V1__ROLE__ROLE_SALES:
        return _("sales");
    case DANGAN__V1__ROLE__ROLE_VIEWER:
        return _("viewer");
    case DANGAN__V1__ROLE__ROLE_AUDITOR:
        return _("auditor");
    }
    return "?";
}

static void reload(users *u);

static bool failed(users *u, int rc, const Dangan__V1__Response *resp, const char *errmsg)
{
    if (rc == DG_CLIENT_OK && resp->status->code == DANGAN__V1__CODE__OK)
        return false;
    gtk_label_set_text(GTK_LABEL(u->status), rc != DG_CLIENT_OK ? errmsg : resp->status->message);
    return true;
}

/* A change's reply: the status line says what happened, the list reloads. */
static void changed(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                    gpointer user)
{
    users *u = g_object_get_data(owner, "users");
    char text[400];

    (void)user;
    if (failed(u, rc, resp, errmsg))
        return;
    if (resp->user_add && resp->user_add->user) {
        if (resp->user_add->generated_password[0])
            snprintf(text, sizeof text, _("Added %s; password (shown once): %s"),
                     resp->user_add->user->username, resp->user_add->generated_password);
        else
            snprintf(text, sizeof text, _("Added %s"), resp->user_add->user->username);
        gtk_editable_set_text(GTK_EDITABLE(u->name), "");
        gtk_editable_set_text(GTK_EDITABLE(u->display), "");
        gtk_editable_set_text(GTK_EDITABLE(u->password), "");
    } else if (resp->user_reset_password && resp->user_reset_password->user) {
        snprintf(text, sizeof text, _("New password for %s (shown once): %s"),
                 resp->user_reset_password->user->username,
                 resp->user_reset_password->generated_password);
    } else {
        g_strlcpy(text, _("Done."), sizeof text);
    }
    gtk_label_set_text(GTK_LABEL(u->status), text);
    reload(u);
}

/* ---------------------------------------------------------------- changes */

typedef struct change {
    users *u;
    char username[128];
    int what; /* 0 role, 1 disable, 2 enable, 3 reset */
    int role;
} change;

static void answered(users *u, bool is_yes)
{
    change *ch = u->pending;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UserSetRoleRequest sr = DANGAN__V1__USER_SET_ROLE_REQUEST__INIT;
    Dangan__V1__UserSetDisabledRequest sd = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;
    Dangan__V1__UserResetPasswordRequest rp = DANGAN__V1__USER_RESET_PASSWORD_REQUEST__INIT;

    if (!ch)
        return;
    u->pending = NULL;
    gtk_widget_set_visible(u->confirm, FALSE);
    if (!is_yes) {
        g_free(ch);
        reload(u); /* puts a role drop-down back */
        return;
    }
    if (ch->what == 0) {
        sr.username = ch->username;
        sr.role = (Dangan__V1__Role)ch->role;
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_SET_ROLE;
        req.user_set_role = &sr;
    } else if (ch->what == 3) {
        rp.username = ch->username;
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_RESET_PASSWORD;
        req.user_reset_password = &rp;
    } else {
        sd.username = ch->username;
        sd.disabled = ch->what == 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED;
        req.user_set_disabled = &sd;
    }
    dg_gtk_call(u->a->conn, &req, G_OBJECT(u->page), changed, NULL);
    g_free(ch);
}

static void yes_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    answered(data, true);
}

static void no_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    answered(data, false);
}

static void ask(users *u, const char *username, int what, int role)
{
    struct change *ch = g_new0(struct change, 1);
    char body[400], question[600];
    const char *heading, *verb;

    ch->u = u;
    g_strlcpy(ch->username, username, sizeof ch->username);
    ch->what = what;
    ch->role = role;
    switch (what) {
    case 0:
        heading = _("Change the role?");
        verb = _("Change role");
        snprintf(body, sizeof body, _("%s becomes %s and is signed out everywhere."), username,
                 role_text(role));
        break;
    case 1:
        heading = _("Disable the user?");
        verb = _("Disable");
        snprintf(body, sizeof body, _("%s is signed out everywhere and can no longer log in."),
                 username);
        break;
    case 2:
        heading = _("Enable the user?");
        verb = _("Enable");
        snprintf(body, sizeof body, _("%s can log in again."), username);
        break;
    default:
        heading = _("Reset the password?");
        verb = _("Reset password");
        snprintf(body, sizeof body,
                 _("%s gets a new generated password, is signed out everywhere and must "
                   "change it at the next login."),
                 username);
    }
    snprintf(question, sizeof question, "%s %s", heading, body);
    g_free(u->pending); /* an unanswered question is dropped */
    u->pending = ch;
    gtk_label_set_text(GTK_LABEL(u->question), question);
    gtk_button_set_label(GTK_BUTTON(u->apply), verb);
    dg_gtk_a11y_name(u->apply, verb);
    if (what == 2) {
        gtk_widget_remove_css_class(u->apply, "destructive-action");
        gtk_widget_add_css_class(u->apply, "suggested-action");
    } else {
        gtk_widget_remove_css_class(u->apply, "suggested-action");
        gtk_widget_add_css_class(u->apply, "destructive-action");
    }
    gtk_widget_set_visible(u->confirm, TRUE);
}

static void role_chosen(GObject *o, GParamSpec *ps, gpointer data)
{
    users *u = data;
    const char *name = g_object_get_data(o, "username");
    int was = GPOINTER_TO_INT(g_object_get_data(o, "role"));
    int now = 1 + (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(o));

    (void)ps;
    if (now != was)
        ask(u, name, 0, now);
}

static void state_clicked(GtkButton *b, gpointer data)
{
    bool is_disabled = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "disabled"));

    ask(data, g_object_get_data(G_OBJECT(b), "username"), is_disabled ? 2 : 1, 0);
}

static void reset_clicked(GtkButton *b, gpointer data)
{
    ask(data, g_object_get_data(G_OBJECT(b), "username"), 3, 0);
}

static GtkWidget *role_drop_down(void)
{
    const char *roles[] = {_("admin"), _("manager"), _("sales"), _("viewer"), _("auditor"), NULL};

    return gtk_drop_down_new_from_strings(roles);
}

/* ---------------------------------------------------------------- the list */

static void add_row(users *u, const Dangan__V1__User *usr)
{
    GtkWidget *row = adw_action_row_new();
    char title[300], sub[200], a11y[600];
    char *esc;

    snprintf(title, sizeof title, "%s  %s", usr->username, usr->display_name);
    snprintf(sub, sizeof sub, "%s · %s%s", role_text(usr->role),
             usr->disabled ? _("disabled") : _("enabled"),
             usr->must_change_password ? _(" · must change password") : "");
    esc = g_markup_escape_text(title, -1);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), esc);
    g_free(esc);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(row), sub);
    snprintf(a11y, sizeof a11y, "%s — %s", title, sub);
    dg_gtk_a11y_name(row, a11y);
    if (u->is_admin) {
        GtkWidget *role = role_drop_down(), *state, *reset;
        char name[300];

        gtk_drop_down_set_selected(GTK_DROP_DOWN(role), usr->role >= 1 ? usr->role - 1 : 0);
        gtk_widget_set_valign(role, GTK_ALIGN_CENTER);
        snprintf(name, sizeof name, _("Role of %s"), usr->username);
        dg_gtk_a11y_name(role, name);
        g_object_set_data_full(G_OBJECT(role), "username", g_strdup(usr->username), g_free);
        g_object_set_data(G_OBJECT(role), "role", GINT_TO_POINTER(usr->role));
        g_signal_connect(role, "notify::selected", G_CALLBACK(role_chosen), u);
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), role);

        state = gtk_button_new_with_label(usr->disabled ? _("Enable") : _("Disable"));
        gtk_widget_set_valign(state, GTK_ALIGN_CENTER);
        snprintf(name, sizeof name, usr->disabled ? _("Enable %s") : _("Disable %s"),
                 usr->username);
        dg_gtk_a11y_name(state, name);
        g_object_set_data_full(G_OBJECT(state), "username", g_strdup(usr->username), g_free);
        g_object_set_data(G_OBJECT(state), "disabled", GINT_TO_POINTER(usr->disabled));
        g_signal_connect(state, "clicked", G_CALLBACK(state_clicked), u);
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), state);

        reset = gtk_button_new_with_label(_("Reset password"));
        gtk_widget_set_valign(reset, GTK_ALIGN_CENTER);
        snprintf(name, sizeof name, _("Reset the password of %s"), usr->username);
        dg_gtk_a11y_name(reset, name);
        g_object_set_data_full(G_OBJECT(reset), "username", g_strdup(usr->username), g_free);
        g_signal_connect(reset, "clicked", G_CALLBACK(reset_clicked), u);
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), reset);
    }
    gtk_list_box_append(GTK_LIST_BOX(u->list), row);
}

static void got_list(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                     gpointer user)
{
    users *u = g_object_get_data(owner, "users");
    GtkWidget *c;

    (void)user;
    if (failed(u, rc, resp, errmsg) || !resp->user_list)
        return;
    while ((c = gtk_widget_get_first_child(u->list)))
        gtk_list_box_remove(GTK_LIST_BOX(u->list), c);
    for (size_t i = 0; i < resp->user_list->n_users; i++)
        add_row(u, resp->user_list->users[i]);
}

static void reload(users *u)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UserListRequest l = DANGAN__V1__USER_LIST_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_USER_LIST;
    req.user_list = &l;
    dg_gtk_call(u->a->conn, &req, G_OBJECT(u->page), got_list, NULL);
}

static void add_clicked(GtkWidget *w, gpointer data)
{
    users *u = data;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UserAddRequest m = DANGAN__V1__USER_ADD_REQUEST__INIT;
    char name[128], display[256], password[1024];

    (void)w;
    g_strlcpy(name, gtk_editable_get_text(GTK_EDITABLE(u->name)), sizeof name);
    g_strlcpy(display, gtk_editable_get_text(GTK_EDITABLE(u->display)), sizeof display);
    g_strlcpy(password, gtk_editable_get_text(GTK_EDITABLE(u->password)), sizeof password);
    m.username = g_strstrip(name);
    m.display_name = g_strstrip(display);
    m.password = password;
    m.role = (Dangan__V1__Role)(1 + gtk_drop_down_get_selected(GTK_DROP_DOWN(u->role)));
    req.body_case = DANGAN__V1__REQUEST__BODY_USER_ADD;
    req.user_add = &m;
    gtk_label_set_text(GTK_LABEL(u->status), _("Adding…"));
    dg_gtk_call(u->a->conn, &req, G_OBJECT(u->page), changed, NULL); /* copies req */
    memset(password, 0, sizeof password);
}

static GtkWidget *entry(GtkWidget *bar, const char *name, bool is_secret)
{
    GtkWidget *e = is_secret ? gtk_password_entry_new() : gtk_entry_new();

    if (is_secret)
        gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(e), TRUE);
    g_object_set(e, "placeholder-text", name, NULL);
    dg_gtk_a11y_name(e, name);
    gtk_widget_set_tooltip_text(e, name);
    gtk_box_append(GTK_BOX(bar), e);
    return e;
}

static void users_free(gpointer data)
{
    users *u = data;

    g_free(u->pending);
    g_free(u);
}

GtkWidget *dg_gtk_users_new(dg_gtk_app *a)
{
    users *u = g_new0(users, 1);
    GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *scroll;

    u->a = a;
    u->page = page;
    u->is_admin = a->role == DANGAN__V1__ROLE__ROLE_ADMIN;
    g_object_set_data_full(G_OBJECT(page), "users", u, users_free);
    gtk_widget_set_margin_start(page, 12);
    gtk_widget_set_margin_end(page, 12);
    gtk_widget_set_margin_top(page, 6);
    gtk_widget_set_margin_bottom(page, 6);
    if (u->is_admin) {
        GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

        u->name = entry(bar, _("New user name"), false);
        u->display = entry(bar, _("Display name"), false);
        u->role = role_drop_down();
        gtk_drop_down_set_selected(GTK_DROP_DOWN(u->role), DANGAN__V1__ROLE__ROLE_SALES - 1);
        dg_gtk_a11y_name(u->role, _("New user's role"));
        gtk_box_append(GTK_BOX(bar), u->role);
        u->password = entry(bar, _("Password (empty: generated)"), true);
        u->add = gtk_button_new_with_label(_("Add user"));
        dg_gtk_a11y_name(u->add, _("Add user"));
        gtk_widget_add_css_class(u->add, "suggested-action");
        g_signal_connect(u->add, "clicked", G_CALLBACK(add_clicked), u);
        gtk_box_append(GTK_BOX(bar), u->add);
        gtk_box_append(GTK_BOX(page), bar);
    }
    u->confirm = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    u->question = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(u->question), TRUE);
    gtk_label_set_xalign(GTK_LABEL(u->question), 0);
    gtk_widget_set_hexpand(u->question, TRUE);
    gtk_box_append(GTK_BOX(u->confirm), u->question);
    {
        GtkWidget *no = gtk_button_new_with_label(_("Cancel"));

        dg_gtk_a11y_name(no, _("Cancel"));
        g_signal_connect(no, "clicked", G_CALLBACK(no_clicked), u);
        gtk_box_append(GTK_BOX(u->confirm), no);
    }
    u->apply = gtk_button_new_with_label("");
    g_signal_connect(u->apply, "clicked", G_CALLBACK(yes_clicked), u);
    gtk_box_append(GTK_BOX(u->confirm), u->apply);
    gtk_widget_add_css_class(u->confirm, "card");
    gtk_widget_set_visible(u->confirm, FALSE);
    gtk_box_append(GTK_BOX(page), u->confirm);
    u->status = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(u->status), 0);
    gtk_label_set_wrap(GTK_LABEL(u->status), TRUE);
    gtk_label_set_selectable(GTK_LABEL(u->status), TRUE);
    gtk_box_append(GTK_BOX(page), u->status);
    u->list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(u->list), GTK_SELECTION_NONE);
    gtk_widget_add_css_class(u->list, "boxed-list");
    dg_gtk_a11y_name(u->list, _("Users"));
    scroll = gtk_scrolled_window_new();
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), u->list);
    gtk_box_append(GTK_BOX(page), scroll);
    reload(u);
    return page;
}
