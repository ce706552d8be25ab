/* gtk_conn.h - dangan-gtk's connection to dangand: one libdangan client driven
 * by one worker thread, with every result delivered on the GTK main thread.
 *
 * Why a worker thread (docs/gtk.md has the longer story): libdangan's
 * non-blocking half (dg_client_fd + dg_client_poll + dg_client_take) covers
 * requests on an open connection only. Opening it (DNS, TCP, TLS handshake,
 * Hello), logging in, dg_client_reconnect and dg_client_probe_fingerprint
 * all block for up to the connect timeout (10 s), and so does reading the
 * config files. Driven as a GSource, those would freeze the window exactly
 * when the server is slow or gone. A worker thread that owns the dg_client
 * (libdangan's clients belong to one thread at a time) keeps every wait off
 * the main thread with one rule: only the worker touches the dg_client.
 *
 * Requests are packed on the calling thread (the caller's Request may live on
 * its stack), queued on a GAsyncQueue and answered in order; replies, pushed
 * events and state changes come back through g_main_context_invoke on the
 * main context, in the order the worker produced them.
 *
 * Threads: every function here is called on the main thread; a DgGtkJobFn
 * runs on the worker.
 */
#ifndef DG_GTK_GTK_CONN_H
#define DG_GTK_GTK_CONN_H

#include <glib-object.h>

#include "dangan.h"

G_BEGIN_DECLS

/* What the banner shows. CONNECTING only before the first open ends. */
typedef enum {
    DG_GTK_CONNECTING,
    DG_GTK_CONNECTED,
    DG_GTK_LOST,         /* the connection broke; a reconnect comes within a second */
    DG_GTK_RECONNECTING, /* dg_client_reconnect is running */
} DgGtkState;

#define DG_GTK_TYPE_CONN (dg_gtk_conn_get_type())
G_DECLARE_FINAL_TYPE(DgGtkConn, dg_gtk_conn, DG_GTK, CONN, GObject)

/* Starts a worker that opens a connection to `server` trusted by kind
 * "fingerprint" or "ca" with `value` (as stored in the config directory).
 * Jobs queued meanwhile wait for the open. Signals (main thread):
 *   "state-changed" (guint DgGtkState)
 *   "event" (gpointer const Dangan__V1__Event *, valid during the emission):
 *       an event pushed on a subscription (dg_gtk_conn_subscribe).
 * The last reference ends the worker without waiting for it: a call in flight
 * finishes on its own and its result is dropped. */
DgGtkConn *dg_gtk_conn_new(const char *server, const char *kind, const char *value);
DgGtkState dg_gtk_conn_state(DgGtkConn *conn);
const char *dg_gtk_conn_server(DgGtkConn *conn);
/* Why the connection is not up (the last open or reconnect), "" when it is. */
const char *dg_gtk_conn_errmsg(DgGtkConn *conn);

/* A job: runs on the worker with the open client (NULL when the connection
 * could not be opened and is not back yet); returns a dg_client_err. `errmsg`
 * (256 bytes) may be filled with text for the user. */
typedef int (*DgGtkJobFn)(dg_client *c, gpointer data, char *errmsg);
/* Called on the main thread with the job's result; `owner` is the one given
 * to dg_gtk_conn_run (alive during the call), or NULL. */
typedef void (*DgGtkDoneFn)(GObject *owner, int rc, const char *errmsg, gpointer data);

/* Runs `job` on the worker, then `done` on the main thread, unless `owner`
 * (may be NULL) was finalized meanwhile; `free_data` (may be NULL) frees
 * `data` on the main thread afterwards in every case. */
void dg_gtk_conn_run(DgGtkConn *conn, GObject *owner, DgGtkJobFn job, DgGtkDoneFn done,
                     gpointer data, GDestroyNotify free_data);

/* The reply to a dg_gtk_call. rc is DG_CLIENT_OK when a Response came (look
 * at its Status: resp->status->code) or the transport error (resp NULL).
 * `resp` is valid during the callback only. */
typedef void (*DgGtkReplyFn)(GObject *owner, int rc, const Dangan__V1__Response *resp,
                             const char *errmsg, gpointer user);

/* Sends `req` (copied now: the caller keeps it) and delivers the reply on
 * the main thread, unless `owner` (may be NULL) was finalized meanwhile. */
void dg_gtk_call(DgGtkConn *conn, const Dangan__V1__Request *req, GObject *owner, DgGtkReplyFn cb,
                 gpointer user);

/* Called on the main thread when a subscription was made (rc DG_CLIENT_OK,
 * `id` its subscription_id) or refused. */
typedef void (*DgGtkSubscribedFn)(GObject *owner, int rc, uint64_t id, gpointer user);

/* Subscribes to the change feed (filter NULL: everything visible, from now);
 * the subscription survives reconnects (libdangan resumes it after the last
 * event delivered: nothing missed, nothing twice). Its events come as the
 * "event" signal, tagged with the id. */
void dg_gtk_conn_subscribe(DgGtkConn *conn, const Dangan__V1__SubscribeFilter *filter,
                           bool with_records, GObject *owner, DgGtkSubscribedFn done,
                           gpointer user);

G_END_DECLS

#endif
