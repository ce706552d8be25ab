/* firstrun.c - the first-run pages: the server's address, its certificate
 * fingerprint shown for comparison and trusted on confirmation, the login,
 * and the password change the server requires (a new account, or one an
 * admin reset). What they keep (trust, token, default server and user) goes
 * to the config directory shared with the CLI (gtk_session.c).
 *
 * Owns: the pages (built once, on first use) and, between the login and the
 * required change, the password just typed (wiped when used).
 * Threads: the main thread; the fingerprint is read in a GTask thread.
 */
#include <string.h>

#include "app.h"
#include "dg.h"

typedef struct firstrun {
    dg_gtk_app *a;
    GtkStack *steps; /* "address", "trust", "login", "passwd" */
    GtkWidget *addr_entry, *addr_error, *addr_button;
    GtkWidget *fp_label, *fp_server, *trust_button, *trust_error;
    GtkWidget *user_entry, *pw_entry, *login_error, *login_button;
    GtkWidget *cur_entry, *new_entry, *rep_entry, *passwd_error, *passwd_button;
    char server[256];
    char fingerprint[DG_CLIENT_FINGERPRINT_TEXT_LEN];
    char current[256]; /* the password of the login, for the required change */
} firstrun;

static firstrun F;

/* ---------------------------------------------------------------- building */

static void set_error(GtkWidget *label, const char *text)
{
    gtk_label_set_text(GTK_LABEL(label), text ? text : "");
    gtk_widget_set_visible(label, text && *text);
}

static GtkWidget *error_label(void)
{
    GtkWidget *l = gtk_label_new("");

    gtk_widget_add_css_class(l, "error");
    gtk_label_set_wrap(GTK_LABEL(l), TRUE);
    gtk_label_set_selectable(GTK_LABEL(l), TRUE);
    gtk_widget_set_visible(l, FALSE);
    return l;
}

static GtkWidget *entry(const char *name, bool is_secret, GtkWidget *box)
{
    GtkWidget *e = gtk_entry_new();

    gtk_entry_set_placeholder_text(GTK_ENTRY(e), name);
    if (is_secret) {
        gtk_entry_set_visibility(GTK_ENTRY(e), FALSE);
        gtk_entry_set_input_purpose(GTK_ENTRY(e), GTK_INPUT_PURPOSE_PASSWORD);
    }
    dg_gtk_a11y_name(e, name);
    gtk_box_append(GTK_BOX(box), e);
    return e;
}

static GtkWidget *button(const char *name, GCallback cb, GtkWidget *box)
{
    GtkWidget *b = gtk_button_new_with_label(name);

    gtk_widget_add_css_class(b, "suggested-action");
    gtk_widget_add_css_class(b, "pill");
    gtk_widget_set_halign(b, GTK_ALIGN_CENTER);
    dg_gtk_a11y_name(b, name);
    g_signal_connect(b, "clicked", cb, NULL);
    gtk_box_append(GTK_BOX(box), b);
    return b;
}

/* Enter in an entry presses the page's button. */
static void entry_activated(GtkEntry *e, gpointer button)
{
    (void)e;
    gtk_widget_activate(GTK_WIDGET(button));
}

static GtkWidget *page(const char *name, const char *title, const char *text)
{
    GtkWidget *clamp = adw_clamp_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    GtkWidget *t = gtk_label_new(title), *d = gtk_label_new(text);

    adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 420);
    gtk_widget_set_valign(clamp, GTK_ALIGN_CENTER);
    gtk_widget_set_margin_start(clamp, 24);
    gtk_widget_set_margin_end(clamp, 24);
    gtk_widget_add_css_class(t, "title-1");
    gtk_label_set_wrap(GTK_LABEL(d), TRUE);
    gtk_label_set_justify(GTK_LABEL(d), GTK_JUSTIFY_CENTER);
    gtk_box_append(GTK_BOX(box), t);
    gtk_box_append(GTK_BOX(box), d);
    adw_clamp_set_child(ADW_CLAMP(clamp), box);
    gtk_stack_add_named(F.steps, clamp, name);
    return box;
}

static void address_clicked(GtkButton *b, gpointer data);
static void trust_clicked(GtkButton *b, gpointer data);
static void cancel_trust_clicked(GtkButton *b, gpointer data);
static void login_clicked(GtkButton *b, gpointer data);
static void passwd_clicked(GtkButton *b, gpointer data);
static void other_server_clicked(GtkButton *b, gpointer data);

static void build(dg_gtk_app *a)
{
    GtkWidget *box, *cancel;

    F.a = a;
    F.steps = GTK_STACK(gtk_stack_new());
    gtk_stack_set_transition_type(F.steps, GTK_STACK_TRANSITION_TYPE_SLIDE_LEFT_RIGHT);

    box = page("address", _("Connect to a server"),
               _("The address of your team's dangan server, as your administrator gave it."));
    F.addr_entry = entry(_("Server address"), false, box);
    gtk_entry_set_placeholder_text(GTK_ENTRY(F.addr_entry), "192.168.1.10:7443");
    F.addr_error = error_label();
    gtk_box_append(GTK_BOX(box), F.addr_error);
    F.addr_button = button(_("Continue"), G_CALLBACK(address_clicked), box);
    g_signal_connect(F.addr_entry, "activate", G_CALLBACK(entry_activated), F.addr_button);

    box = page("trust", _("Trust this server?"),
               _("Compare this fingerprint with the one your administrator gave you. Trust the "
                 "server only if they are the same."));
    F.fp_server = gtk_label_new("");
    gtk_box_append(GTK_BOX(box), F.fp_server);
    F.fp_label = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(F.fp_label), TRUE);
    gtk_label_set_wrap_mode(GTK_LABEL(F.fp_label), PANGO_WRAP_CHAR);
    gtk_label_set_selectable(GTK_LABEL(F.fp_label), TRUE);
    gtk_widget_add_css_class(F.fp_label, "monospace");
    gtk_box_append(GTK_BOX(box), F.fp_label);
    F.trust_error = error_label();
    gtk_box_append(GTK_BOX(box), F.trust_error);
    F.trust_button = button(_("Trust"), G_CALLBACK(trust_clicked), box);
    cancel = gtk_button_new_with_label(_("Cancel"));
    dg_gtk_a11y_name(cancel, _("Cancel"));
    gtk_widget_set_halign(cancel, GTK_ALIGN_CENTER);
    g_signal_connect(cancel, "clicked", G_CALLBACK(cancel_trust_clicked), NULL);
    gtk_box_append(GTK_BOX(box), cancel);

    box = page("login", _("Log in"), _("Your user name and password on this server."));
    F.user_entry = entry(_("User name"), false, box);
    F.pw_entry = entry(_("Password"), true, box);
    F.login_error = error_label();
    gtk_box_append(GTK_BOX(box), F.login_error);
    F.login_button = button(_("Log in"), G_CALLBACK(login_clicked), box);
    g_signal_connect(F.user_entry, "activate", G_CALLBACK(entry_activated), F.login_button);
    g_signal_connect(F.pw_entry, "activate", G_CALLBACK(entry_activated), F.login_button);
    cancel = gtk_button_new_with_label(_("Use another server"));
    dg_gtk_a11y_name(cancel, _("Use another server"));
    gtk_widget_set_halign(cancel, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(cancel, "flat");
    g_signal_connect(cancel, "clicked", G_CALLBACK(other_server_clicked), NULL);
    gtk_box_append(GTK_BOX(box), cancel);

    box = page("passwd", _("Choose your password"),
               _("The server requires a new password before anything else: at least 15 "
                 "characters."));
    F.cur_entry = entry(_("Current password"), true, box);
    F.new_entry = entry(_("New password"), true, box);
    F.rep_entry = entry(_("Repeat the new password"), true, box);
    F.passwd_error = error_label();
    gtk_box_append(GTK_BOX(box), F.passwd_error);
    F.passwd_button = button(_("Change password"), G_CALLBACK(passwd_clicked), box);
    g_signal_connect(F.rep_entry, "activate", G_CALLBACK(entry_activated), F.passwd_button);

    gtk_stack_add_named(a->stack, GTK_WIDGET(F.steps), "first-run");
}

/* Only the step shown is visible: the others' controls leave the
 * accessibility tree too (a screen reader, or a test, finds only what a
 * person sees), instead of staying there hidden behind the stack. */
static void show_page(const char *step)
{
    GtkWidget *shown = gtk_stack_get_child_by_name(F.steps, step);

    gtk_widget_set_visible(shown, TRUE);
    gtk_stack_set_visible_child(F.steps, shown);
    for (GtkWidget *w = gtk_widget_get_first_child(GTK_WIDGET(F.steps)); w;
         w = gtk_widget_get_next_sibling(w))
        if (w != shown)
            gtk_widget_set_visible(w, FALSE);
}

static void show_step(dg_gtk_app *a, const char *step)
{
    if (!F.steps)
        build(a);
    show_page(step);
    gtk_stack_set_visible_child_name(a->stack, "first-run");
}

/* ---------------------------------------------------------------- address */

typedef struct probe {
    char server[256];
    char fingerprint[DG_CLIENT_FINGERPRINT_TEXT_LEN];
    char err[256];
    int rc;
} probe;

static void probe_run(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    probe *p = data;

    (void)src;
    (void)cancel;
    p->rc = dg_client_probe_fingerprint(p->server, 10000, p->fingerprint, p->err, sizeof p->err);
    g_task_return_boolean(task, TRUE);
}

static void probe_done(GObject *src, GAsyncResult *res, gpointer data)
{
    probe *p = g_task_get_task_data(G_TASK(res));
    char text[160];

    (void)src;
    (void)data;
    gtk_widget_set_sensitive(F.addr_button, TRUE);
    if (p->rc != DG_CLIENT_OK) {
        set_error(F.addr_error, p->err);
        return;
    }
    snprintf(F.server, sizeof F.server, "%s", p->server);
    snprintf(F.fingerprint, sizeof F.fingerprint, "%s", p->fingerprint);
    gtk_label_set_text(GTK_LABEL(F.fp_server), F.server);
    snprintf(text, sizeof text, "SHA256:%s", F.fingerprint);
    gtk_label_set_text(GTK_LABEL(F.fp_label), text);
    dg_gtk_a11y_name(F.fp_label, text);
    set_error(F.trust_error, NULL);
    show_page("trust");
}

static void address_clicked(GtkButton *b, gpointer data)
{
    const char *text = gtk_editable_get_text(GTK_EDITABLE(F.addr_entry));
    probe *p;
    GTask *task;

    (void)b;
    (void)data;
    if (!*text) {
        set_error(F.addr_error, _("Type the server's address, for example 192.168.1.10:7443."));
        return;
    }
    p = g_new0(probe, 1);
    snprintf(p->server, sizeof p->server, "%s", text);
    set_error(F.addr_error, NULL);
    gtk_widget_set_sensitive(F.addr_button, FALSE);
    task = g_task_new(NULL, NULL, probe_done, NULL);
    g_task_set_task_data(task, p, g_free);
    g_task_run_in_thread(task, probe_run);
    g_object_unref(task);
}

/* ---------------------------------------------------------------- trust */

static void trusted(dg_gtk_app *a, int rc, bool must_change, const char *errmsg)
{
    (void)must_change;
    gtk_widget_set_sensitive(F.trust_button, TRUE);
    if (rc != DG_CLIENT_OK) {
        set_error(F.trust_error, errmsg && *errmsg ? errmsg : dg_client_strerror(rc));
        return;
    }
    dg_gtk_firstrun_show_login(a, NULL);
}

static void trust_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    (void)data;
    gtk_widget_set_sensitive(F.trust_button, FALSE);
    dg_gtk_session_trust(F.a, F.server, F.fingerprint, trusted);
}

static void cancel_trust_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    (void)data;
    show_page("address");
}

static void other_server_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    (void)data;
    dg_gtk_firstrun_show(F.a, NULL);
}

/* ---------------------------------------------------------------- login */

static void logged_in(dg_gtk_app *a, int rc, bool must_change, const char *errmsg)
{
    gtk_widget_set_sensitive(F.login_button, TRUE);
    gtk_editable_set_text(GTK_EDITABLE(F.pw_entry), "");
    if (rc != DG_CLIENT_OK) {
        dg_wipe(F.current, sizeof F.current);
        set_error(F.login_error, errmsg && *errmsg ? errmsg : dg_client_strerror(rc));
        return;
    }
    if (must_change) {
        dg_gtk_firstrun_show_passwd(a, F.current);
        return;
    }
    dg_wipe(F.current, sizeof F.current);
    dg_gtk_main_show(a);
}

static void login_clicked(GtkButton *b, gpointer data)
{
    const char *user = gtk_editable_get_text(GTK_EDITABLE(F.user_entry));
    const char *pw = gtk_editable_get_text(GTK_EDITABLE(F.pw_entry));

    (void)b;
    (void)data;
    if (!*user || !*pw) {
        set_error(F.login_error, _("Type your user name and password."));
        return;
    }
    set_error(F.login_error, NULL);
    gtk_widget_set_sensitive(F.login_button, FALSE);
    snprintf(F.current, sizeof F.current, "%s", pw);
    dg_gtk_session_login(F.a, user, pw, logged_in);
}

/* ---------------------------------------------------------------- password */

static void passwd_changed(dg_gtk_app *a, int rc, bool must_change, const char *errmsg)
{
    (void)must_change;
    gtk_widget_set_sensitive(F.passwd_button, TRUE);
    if (rc != DG_CLIENT_OK) {
        set_error(F.passwd_error, errmsg && *errmsg ? errmsg : dg_client_strerror(rc));
        return;
    }
    gtk_editable_set_text(GTK_EDITABLE(F.cur_entry), "");
    gtk_editable_set_text(GTK_EDITABLE(F.new_entry), "");
    gtk_editable_set_text(GTK_EDITABLE(F.rep_entry), "");
    dg_gtk_main_show(a);
}

static void passwd_clicked(GtkButton *b, gpointer data)
{
    const char *cur = gtk_editable_get_text(GTK_EDITABLE(F.cur_entry));
    const char *fresh = gtk_editable_get_text(GTK_EDITABLE(F.new_entry));
    const char *rep = gtk_editable_get_text(GTK_EDITABLE(F.rep_entry));

    (void)b;
    (void)data;
    if (strcmp(fresh, rep) != 0) {
        set_error(F.passwd_error, _("The two new passwords differ."));
        return;
    }
    set_error(F.passwd_error, NULL);
    gtk_widget_set_sensitive(F.passwd_button, FALSE);
    dg_gtk_session_passwd(F.a, cur, fresh, passwd_changed);
}

/* ---------------------------------------------------------------- entry points */

void dg_gtk_firstrun_show(dg_gtk_app *a, const char *error)
{
    show_step(a, "address");
    if (a->server[0] && !*gtk_editable_get_text(GTK_EDITABLE(F.addr_entry)))
        gtk_editable_set_text(GTK_EDITABLE(F.addr_entry), a->server);
    set_error(F.addr_error, error);
}

void dg_gtk_firstrun_show_login(dg_gtk_app *a, const char *error)
{
    show_step(a, "login");
    if (a->username[0] && !*gtk_editable_get_text(GTK_EDITABLE(F.user_entry)))
        gtk_editable_set_text(GTK_EDITABLE(F.user_entry), a->username);
    set_error(F.login_error, error);
}

void dg_gtk_firstrun_show_passwd(dg_gtk_app *a, const char *current)
{
    show_step(a, "passwd");
    gtk_editable_set_text(GTK_EDITABLE(F.cur_entry), current ? current : "");
    dg_wipe(F.current, sizeof F.current);
    set_error(F.passwd_error, NULL);
}
