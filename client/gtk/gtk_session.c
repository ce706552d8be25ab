/* gtk_session.c - trusting a server, logging in, resuming the stored session and
 * changing the password, as jobs on the connection's worker (conn.h).
 *
 * The token and the trusted fingerprint go to the config directory the CLI
 * uses (client/config.h), so a session opened by either serves the other.
 * Those files are read and written on the worker too: the main thread never
 * waits for the disk. Passwords are wiped from the job's memory when it ends.
 * Threads: *_run on the worker, the rest on the main thread.
 */
#include <string.h>

#include "app.h"
#include "config_dir.h"
#include "dg.h"

typedef struct sess {
    dg_gtk_app *a;
    dg_gtk_session_fn done;
    char config_dir[1024];
    char server[256];
    char user[128];
    char password[256];
    char fresh[256];
    char fingerprint[DG_CLIENT_FINGERPRINT_TEXT_LEN];
    /* results */
    bool must_change;
    int64_t user_id;
    int role;
    char username[128];
} sess;

static sess *sess_new(dg_gtk_app *a, dg_gtk_session_fn done)
{
    sess *s = g_new0(sess, 1);

    s->a = a;
    s->done = done;
    snprintf(s->config_dir, sizeof s->config_dir, "%s", a->config_dir);
    snprintf(s->server, sizeof s->server, "%s", a->server);
    return s;
}

static void sess_free(gpointer p)
{
    sess *s = p;

    dg_wipe(s, sizeof *s);
    g_free(s);
}

/* Reads who the session is (whoami) into s. */
static int who(dg_client *c, sess *s, char *errmsg)
{
    dg_reply *r;
    int rc = dg_client_whoami(c, &r);

    if (rc != DG_CLIENT_OK) {
        snprintf(errmsg, 256, "%s", dg_client_errmsg(c));
        return rc;
    }
    const Dangan__V1__SessionInfo *si = dg_reply_response(r)->whoami->session;

    s->must_change = si->must_change_password;
    if (si->user) {
        s->user_id = si->user->id;
        s->role = si->user->role;
        snprintf(s->username, sizeof s->username, "%s", si->user->username);
    }
    dg_reply_free(r);
    return DG_CLIENT_OK;
}

static void sess_done(GObject *owner, int rc, const char *errmsg, gpointer p)
{
    sess *s = p;

    (void)owner;
    if (rc == DG_CLIENT_OK && s->username[0]) {
        snprintf(s->a->username, sizeof s->a->username, "%s", s->username);
        s->a->user_id = s->user_id;
        s->a->role = s->role;
    }
    s->done(s->a, rc, s->must_change, errmsg);
}

/* ---------------------------------------------------------------- resume */

static int resume_run(dg_client *c, gpointer p, char *errmsg)
{
    sess *s = p;
    char token[DG_CLIENT_TOKEN_LEN + 1];
    int rc;

    if (!c)
        return DG_CLIENT_ECLOSED;
    if (dg_config_token_get(s->config_dir, s->server, token) != DG_OK)
        return DG_CLIENT_EAUTH;
    rc = dg_client_authenticate(c, token);
    dg_wipe(token, sizeof token);
    if (rc == DG_CLIENT_EAUTH) /* a dead token: forget it, as the CLI does */
        (void)dg_config_token_delete(s->config_dir, s->server);
    if (rc != DG_CLIENT_OK) {
        snprintf(errmsg, 256, "%s", dg_client_errmsg(c));
        return rc;
    }
    return who(c, s, errmsg);
}

void dg_gtk_session_resume(dg_gtk_app *a, dg_gtk_session_fn done)
{
    dg_gtk_conn_run(a->conn, NULL, resume_run, sess_done, sess_new(a, done), sess_free);
}

/* ---------------------------------------------------------------- login */

/* Saves the session's token (and, after a login, the current server and
 * user) in the config directory, wipes the token, then asks who we are. */
static int keep_session(dg_client *c, sess *s, char *token, bool is_login, char *errmsg)
{
    int rc = dg_config_token_put(s->config_dir, s->server, token) == DG_OK &&
                     (!is_login ||
                      dg_config_current_put(s->config_dir, s->server, s->user) == DG_OK)
                 ? DG_CLIENT_OK
                 : DG_CLIENT_EIO;

    dg_wipe(token, DG_CLIENT_TOKEN_LEN + 1);
    if (rc != DG_CLIENT_OK) {
        snprintf(errmsg, 256, "cannot save the session in %.180s", s->config_dir);
        return rc;
    }
    return who(c, s, errmsg);
}

static int login_run(dg_client *c, gpointer p, char *errmsg)
{
    sess *s = p;
    char token[DG_CLIENT_TOKEN_LEN + 1];
    int rc;

    if (!c)
        return DG_CLIENT_ECLOSED;
    rc = dg_client_login(c, s->user, s->password, token);
    if (rc != DG_CLIENT_OK) {
        snprintf(errmsg, 256, "%s", dg_client_errmsg(c));
        return rc;
    }
    return keep_session(c, s, token, true, errmsg);
}

void dg_gtk_session_login(dg_gtk_app *a, const char *user, const char *password,
                          dg_gtk_session_fn done)
{
    sess *s = sess_new(a, done);

    snprintf(s->user, sizeof s->user, "%s", user);
    snprintf(s->password, sizeof s->password, "%s", password);
    dg_gtk_conn_run(a->conn, NULL, login_run, sess_done, s, sess_free);
}

/* ---------------------------------------------------------------- password */

static int passwd_run(dg_client *c, gpointer p, char *errmsg)
{
    sess *s = p;
    char token[DG_CLIENT_TOKEN_LEN + 1];
    int rc;

    if (!c)
        return DG_CLIENT_ECLOSED;
    rc = dg_client_change_password(c, s->password, s->fresh, token);
    if (rc != DG_CLIENT_OK) {
        snprintf(errmsg, 256, "%s", dg_client_errmsg(c));
        return rc;
    }
    return keep_session(c, s, token, false, errmsg);
}

void dg_gtk_session_passwd(dg_gtk_app *a, const char *current, const char *fresh,
                           dg_gtk_session_fn done)
{
    sess *s = sess_new(a, done);

    snprintf(s->password, sizeof s->password, "%s", current);
    snprintf(s->fresh, sizeof s->fresh, "%s", fresh);
    dg_gtk_conn_run(a->conn, NULL, passwd_run, sess_done, s, sess_free);
}

/* ---------------------------------------------------------------- trust */

/* Runs once the pinned connection is open: only then is the server kept as
 * trusted, so a fingerprint that changed meanwhile is never stored. */
static int trust_run(dg_client *c, gpointer p, char *errmsg)
{
    sess *s = p;

    if (!c)
        return DG_CLIENT_ECLOSED;
    if (dg_config_known_put(s->config_dir, s->server, "fingerprint", s->fingerprint) != DG_OK ||
        dg_config_current_put(s->config_dir, s->server, NULL) != DG_OK) {
        snprintf(errmsg, 256, "cannot write to the config directory %.180s", s->config_dir);
        return DG_CLIENT_EIO;
    }
    return DG_CLIENT_OK;
}

void dg_gtk_session_trust(dg_gtk_app *a, const char *server, const char *fingerprint,
                          dg_gtk_session_fn done)
{
    sess *s;

    snprintf(a->server, sizeof a->server, "%s", server);
    g_clear_object(&a->conn);
    a->conn = dg_gtk_conn_new(server, "fingerprint", fingerprint);
    s = sess_new(a, done);
    snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fingerprint);
    dg_gtk_conn_run(a->conn, NULL, trust_run, sess_done, s, sess_free);
}
