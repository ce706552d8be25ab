/* app.h - what dangan-gtk's screens share: the application, its one window,
 * the connection and who is logged in; and the screens' entry points.
 *
 * The window holds a GtkStack of three pages: "start" (a spinner while the
 * stored session is tried), "first-run" (server, fingerprint, login,
 * password change: firstrun.c) and "main" (the sidebar and the pages:
 * window.c). Everything here runs on the main thread.
 */
#ifndef DG_GTK_APP_H
#define DG_GTK_APP_H

#include <adwaita.h>
#include <glib/gi18n.h>
#include <stdbool.h>
#include <stdint.h>

#include "gtk_conn.h"

typedef struct dg_gtk_app {
    AdwApplication *app;
    GtkWindow *window;
    GtkStack *stack;       /* "start", "first-run", "main" */
    char config_dir[1024]; /* shared with the CLI (client/config.h) */
    char server[256];      /* host:port of the connection */
    DgGtkConn *conn;       /* NULL before a server is trusted */
    char username[128];
    int64_t user_id;
    int role; /* Dangan__V1__Role of the session */
    bool is_main_built;
} dg_gtk_app;

/* Sets an accessible name on a widget (every control has one). */
void dg_gtk_a11y_name(GtkWidget *w, const char *name);

/* firstrun.c: shows the first-run pages, starting at the server address
 * (`error`, may be NULL: why we are back there) or at the login. */
void dg_gtk_firstrun_show(dg_gtk_app *a, const char *error);
void dg_gtk_firstrun_show_login(dg_gtk_app *a, const char *error);
/* The password change the server requires (`current` may be NULL). */
void dg_gtk_firstrun_show_passwd(dg_gtk_app *a, const char *current);

/* window.c: builds (once) and shows the main page of the window. */
void dg_gtk_main_show(dg_gtk_app *a);
/* A toast on the main page. */
void dg_gtk_toast(dg_gtk_app *a, const char *text);
/* Asks the server for the team's settings and copies its time zone into
 * `zone` (DG_GTK_ZONE_LEN bytes, kept by `owner`'s page) when they come. */
#define DG_GTK_ZONE_LEN 64
void dg_gtk_ask_team_zone(dg_gtk_app *a, GObject *owner, char *zone);
/* Before the first window: GTK's cairo renderer when OpenGL is drawn in
 * software, unless GSK_RENDERER says otherwise (renderer.c). */
void dg_gtk_pick_renderer(void);

/* customers.c: the Customers page; `open` is called with a customer's id
 * when a row is activated. */
GtkWidget *dg_gtk_customers_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id));

/* activity.c: the Activity page (colleagues' changes, live); `open` is
 * called with a customer's id when a change is activated. */
GtkWidget *dg_gtk_activity_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id));

/* tasks.c: the Tasks page (my open tasks, mark done); `open` is called
 * with a task's customer id. */
GtkWidget *dg_gtk_tasks_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id));

/* dossier.c: the read-only dossier page; dg_gtk_dossier_load shows one customer. */
GtkWidget *dg_gtk_dossier_new(dg_gtk_app *a, void (*back)(dg_gtk_app *a));
void dg_gtk_dossier_load(GtkWidget *page, int64_t id);

/* today.c: the Today page; activating a line calls `open` with its customer. */
GtkWidget *dg_gtk_today_new(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id));
void dg_gtk_today_refresh(GtkWidget *page);
/* audit.c: the Audit page (admins, auditors). */
GtkWidget *dg_gtk_audit_new(dg_gtk_app *a);
/* users.c: the Users page (admins; auditors read it). */
GtkWidget *dg_gtk_users_new(dg_gtk_app *a);
/* newcust.c: the New customer dialog; `open` gets the created customer. */
void dg_gtk_new_customer(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id));
/* bench.c: measuring points for tests/bench/gtk.sh (DANGAN_GTK_BENCH). */
void dg_gtk_bench_attach(GtkWidget *window, GtkWidget *customers);

/* gtk_session.c: the session's jobs, run on the connection's worker, with the
 * config files written there too (no disk wait on the main thread). */
typedef void (*dg_gtk_session_fn)(dg_gtk_app *a, int rc, bool must_change, const char *errmsg);
/* Resumes the stored session of a->server. */
void dg_gtk_session_resume(dg_gtk_app *a, dg_gtk_session_fn done);
/* Logs in; keeps the token and the user as the CLI does. */
void dg_gtk_session_login(dg_gtk_app *a, const char *user, const char *password,
                          dg_gtk_session_fn done);
/* Changes the password; keeps the new token. */
void dg_gtk_session_passwd(dg_gtk_app *a, const char *current, const char *fresh,
                           dg_gtk_session_fn done);
/* Trusts a server by its fingerprint, makes it the default and connects to it. */
void dg_gtk_session_trust(dg_gtk_app *a, const char *server, const char *fingerprint,
                          dg_gtk_session_fn done);

#endif
