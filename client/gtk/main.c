/* main.c - dangan-gtk: the application, its translations, and the start:
 * the stored server and session (shared with the CLI) are read off the main
 * thread; with a session that still works the window opens straight into the
 * main page, otherwise into the first-run pages (firstrun.c).
 */
#include <locale.h>
#include <string.h>

#include "app.h"
#include "config_dir.h"
#include "dg.h"

static dg_gtk_app app_state;

void dg_gtk_a11y_name(GtkWidget *w, const char *name)
{
    gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static void got_team_zone(GObject *owner, int rc, const Dangan__V1__Response *resp,
                          const char *errmsg, gpointer zone)
{
    (void)owner;
    (void)errmsg;
    if (rc == DG_CLIENT_OK && resp->status && resp->status->code == DANGAN__V1__CODE__OK &&
        resp->get_team_settings && resp->get_team_settings->settings)
        g_strlcpy(zone, resp->get_team_settings->settings->time_zone, DG_GTK_ZONE_LEN);
}

void dg_gtk_ask_team_zone(dg_gtk_app *a, GObject *owner, char *zone)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetTeamSettingsRequest gs = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
    req.get_team_settings = &gs;
    dg_gtk_call(a->conn, &req, owner, got_team_zone, zone);
}

/* Translations: next to the binary in a build tree (build/locale, made by
 * msgfmt), else beside an installed tree wherever --prefix put it
 * (bin/../share/locale), else where the configured prefix says. */
static void setup_gettext(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *dir = exe ? g_path_get_dirname(exe) : NULL;
    char *in_build = dir ? g_build_filename(dir, "locale", NULL) : NULL;
    char *in_prefix = dir ? g_build_filename(dir, "..", "share", "locale", NULL) : NULL;

    setlocale(LC_ALL, "");
    if (in_build && g_file_test(in_build, G_FILE_TEST_IS_DIR))
        bindtextdomain("dangan", in_build);
    else if (in_prefix && g_file_test(in_prefix, G_FILE_TEST_IS_DIR))
        bindtextdomain("dangan", in_prefix);
    else
        bindtextdomain("dangan", DG_GTK_LOCALEDIR);
    bind_textdomain_codeset("dangan", "UTF-8");
    textdomain("dangan");
    g_free(in_prefix);
    g_free(in_build);
    g_free(dir);
    g_free(exe);
}

/* ---------------------------------------------------------------- start */

typedef struct stored {
    int rc; /* of dg_config_dir */
    char dir[1024];
    char server[256], user[128], kind[32], value[1024];
    bool has_trust, has_token;
} stored;

static void read_stored(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    stored *s = g_new0(stored, 1);
    char token[DG_CLIENT_TOKEN_LEN + 1];

    (void)src;
    (void)data;
    (void)cancel;
    s->rc = dg_config_dir(NULL, s->dir, sizeof s->dir);
    if (s->rc == DG_OK) {
        dg_config_current_get(s->dir, s->server, sizeof s->server, s->user, sizeof s->user);
        s->has_trust =
            s->server[0] && dg_config_known_get(s->dir, s->server, s->kind, sizeof s->kind,
                                                s->value, sizeof s->value) == DG_OK;
        s->has_token = s->has_trust && dg_config_token_get(s->dir, s->server, token) == DG_OK;
        dg_wipe(token, sizeof token);
    }
    g_task_return_pointer(task, s, g_free);
}

static void resumed(dg_gtk_app *a, int rc, bool must_change, const char *errmsg)
{
    if (rc == DG_CLIENT_OK && must_change)
        dg_gtk_firstrun_show_passwd(a, NULL);
    else if (rc == DG_CLIENT_OK)
        dg_gtk_main_show(a);
    else if (rc == DG_CLIENT_EAUTH)
        dg_gtk_firstrun_show_login(a, NULL);
    else
        dg_gtk_firstrun_show(a, errmsg);
}

static void stored_read(GObject *src, GAsyncResult *res, gpointer data)
{
    dg_gtk_app *a = data;
    stored *s = g_task_propagate_pointer(G_TASK(res), NULL);

    (void)src;
    if (s->rc != DG_OK) {
        char msg[1200];

        snprintf(msg, sizeof msg, _("Cannot use the config directory %s"),
                 s->dir[0] ? s->dir : "$HOME/.config/dangan");
        dg_gtk_firstrun_show(a, msg);
        g_free(s);
        return;
    }
    snprintf(a->config_dir, sizeof a->config_dir, "%s", s->dir);
    snprintf(a->server, sizeof a->server, "%s", s->server);
    snprintf(a->username, sizeof a->username, "%s", s->user);
    if (s->has_trust) {
        a->conn = dg_gtk_conn_new(s->server, s->kind, s->value);
        if (s->has_token)
            dg_gtk_session_resume(a, resumed);
        else
            dg_gtk_firstrun_show_login(a, NULL);
    } else {
        dg_gtk_firstrun_show(a, NULL);
    }
    dg_wipe(s->value, sizeof s->value);
    g_free(s);
}

static void activate(GApplication *gapp, gpointer data)
{
    dg_gtk_app *a = data;
    GtkWidget *spinner, *win;
    GTask *task;

    if (a->window) {
        gtk_window_present(a->window);
        return;
    }
    dg_gtk_pick_renderer();
    win = adw_application_window_new(GTK_APPLICATION(gapp));
    a->window = GTK_WINDOW(win);
    gtk_window_set_title(a->window, _("Dangan customer records"));
    gtk_window_set_default_size(a->window, 1100, 720);
    a->stack = GTK_STACK(gtk_stack_new());
    spinner = gtk_spinner_new();
    gtk_spinner_start(GTK_SPINNER(spinner));
    gtk_widget_set_size_request(spinner, 48, 48);
    gtk_widget_set_halign(spinner, GTK_ALIGN_CENTER);
    gtk_widget_set_valign(spinner, GTK_ALIGN_CENTER);
    dg_gtk_a11y_name(spinner, _("Starting"));
    gtk_stack_add_named(a->stack, spinner, "start");
    adw_application_window_set_content(ADW_APPLICATION_WINDOW(win), GTK_WIDGET(a->stack));
    gtk_window_present(a->window);
    task = g_task_new(NULL, NULL, stored_read, a);
    g_task_run_in_thread(task, read_stored);
    g_object_unref(task);
}

int main(int argc, char **argv)
{
    int rc;

    setup_gettext();
    app_state.app = adw_application_new("org.dangan.Gtk", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app_state.app, "activate", G_CALLBACK(activate), &app_state);
    rc = g_application_run(G_APPLICATION(app_state.app), argc, argv);
    g_clear_object(&app_state.conn);
    g_object_unref(app_state.app);
    return rc;
}
