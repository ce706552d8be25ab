/* gtk_conn.c - the connection's worker thread and the hand-over of its results
 * to the main thread (the contract and the reason for a thread: gtk_conn.h).
 *
 * Owns: the worker (struct worker), shared by the DgGtkConn, the thread and
 * every result on its way to the main context, freed by the last of them
 * (atomic reference count). The dg_client is the thread's alone.
 * Invariants: w->conn is read and cleared on the main thread only; a job is
 * queued once, run once, delivered once; results reach the main context in
 * the order the worker produced them (g_main_context_invoke queues idles of
 * one priority in order).
 * Threads: the DgGtkConn API and every *_main_cb on the main thread;
 * worker_main and what it calls on the worker.
 */
#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gtk_conn.h"

#define RETRY_EVERY_MS 1000 /* how often a lost connection is tried again */
#define ERRMSG_LEN 256

typedef struct worker {
    gint refs;        /* atomic */
    gint is_quitting; /* atomic: set by the last DgGtkConn reference */
    GAsyncQueue *jobs;
    int wake[2]; /* pipe: a byte per queued job or quit, so poll() wakes */
    GMainContext *ctx;
    char server[256], kind[32], value[1024];
    DgGtkConn *conn; /* main thread only; NULL once the conn is finalized */
} worker;

struct _DgGtkConn {
    GObject parent;
    worker *w;
    DgGtkState state;
    char errmsg[ERRMSG_LEN];
};

G_DEFINE_TYPE(DgGtkConn, dg_gtk_conn, G_TYPE_OBJECT)

enum { SIG_STATE, SIG_EVENT, N_SIGNALS };
static guint signals[N_SIGNALS];

typedef struct job {
    worker *w;
    DgGtkJobFn run;
    DgGtkDoneFn done;
    gpointer data;
    GDestroyNotify free_data;
    GWeakRef owner;
    bool has_owner;
    int rc;
    char errmsg[ERRMSG_LEN];
} job;

/* what the worker hands to the main thread besides job results */
typedef struct note {
    worker *w;
    bool is_event;
    DgGtkState state;
    char errmsg[ERRMSG_LEN];
    Dangan__V1__Event *event; /* unpacked copy, freed on the main thread */
} note;

static worker *worker_ref(worker *w)
{
    g_atomic_int_inc(&w->refs);
    return w;
}

static void worker_unref(worker *w)
{
    if (!g_atomic_int_dec_and_test(&w->refs))
        return;
    g_async_queue_unref(w->jobs);
    close(w->wake[0]);
    close(w->wake[1]);
    g_main_context_unref(w->ctx);
    g_free(w);
}

static void wake(worker *w)
{
    char b = 1;

    /* A full pipe already wakes the worker: a lost byte loses nothing. */
    if (write(w->wake[1], &b, 1) < 0 && errno != EAGAIN)
        g_warning("dangan-gtk: cannot wake the connection's worker: %s", g_strerror(errno));
}

/* ---------------------------------------------------------------- main thread */

static gboolean note_main_cb(gpointer p)
{
    note *n = p;
    DgGtkConn *conn = n->w->conn;

    if (conn && n->is_event) {
        g_signal_emit(conn, signals[SIG_EVENT], 0, n->event);
    } else if (conn) {
        conn->state = n->state;
        snprintf(conn->errmsg, sizeof conn->errmsg, "%s", n->errmsg);
        g_signal_emit(conn, signals[SIG_STATE], 0, (guint)n->state);
    }
    if (n->event)
        dangan__v1__event__free_unpacked(n->event, NULL);
    worker_unref(n->w);
    g_free(n);
    return G_SOURCE_REMOVE;
}

static gboolean job_main_cb(gpointer p)
{
    job *j = p;
    GObject *owner = j->has_owner ? g_weak_ref_get(&j->owner) : NULL;

    if (j->done && (!j->has_owner || owner))
        j->done(owner, j->rc, j->errmsg, j->data);
    if (owner)
        g_object_unref(owner);
    if (j->free_data)
        j->free_data(j->data);
    g_weak_ref_clear(&j->owner);
    worker_unref(j->w);
    g_free(j);
    return G_SOURCE_REMOVE;
}

/* ---------------------------------------------------------------- worker thread */

static void post_state(worker *w, DgGtkState state, const char *errmsg)
{
    note *n = g_new0(note, 1);

    n->w = worker_ref(w);
    n->state = state;
    snprintf(n->errmsg, sizeof n->errmsg, "%s", errmsg ? errmsg : "");
    g_main_context_invoke(w->ctx, note_main_cb, n);
}

/* libdangan's on_event: runs on the worker inside a call or a poll; the
 * event lives only during it, so a copy crosses to the main thread. */
static void event_cb(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    worker *w = user;
    size_t len = dangan__v1__event__get_packed_size(ev);
    uint8_t *buf = g_malloc(len ? len : 1);
    note *n;

    (void)c;
    dangan__v1__event__pack(ev, buf);
    n = g_new0(note, 1);
    n->w = worker_ref(w);
    n->is_event = true;
    n->event = dangan__v1__event__unpack(NULL, len, buf);
    g_free(buf);
    if (!n->event) { /* cannot happen for what protobuf-c packed itself, but never emit NULL */
        worker_unref(w);
        g_free(n);
        return;
    }
    g_main_context_invoke(w->ctx, note_main_cb, n);
}

static dg_client *open_client(worker *w, char *errmsg)
{
    dg_client_opts o = {.server = w->server,
                        .client_name = "dangan-gtk/" DANGAN_VERSION,
                        .on_event = event_cb,
                        .user = w};
    dg_client *c = NULL;
    int rc;

    if (strcmp(w->kind, "ca") == 0)
        o.ca_file = w->value;
    else
        o.fingerprint = w->value;
    rc = dg_client_open(&o, &c);
    if (rc == DG_CLIENT_OK)
        return c;
    snprintf(errmsg, ERRMSG_LEN, "%s", c ? dg_client_errmsg(c) : dg_client_strerror(rc));
    dg_client_close(c);
    return NULL;
}

static void drain_wake(worker *w)
{
    char buf[64];

    while (read(w->wake[0], buf, sizeof buf) > 0)
        ;
}

/* Whether the client's connection broke (dg_client_poll says ECLOSED). */
static bool is_broken(dg_client *c)
{
    return dg_client_poll(c, 0) == DG_CLIENT_ECLOSED;
}

static gpointer worker_main(gpointer p)
{
    worker *w = p;
    char errmsg[ERRMSG_LEN] = "";
    dg_client *c = open_client(w, errmsg);
    bool is_up = c != NULL;
    gint64 next_try_us = g_get_monotonic_time() + RETRY_EVERY_MS * 1000;

    post_state(w, is_up ? DG_GTK_CONNECTED : DG_GTK_LOST, errmsg);
    while (!g_atomic_int_get(&w->is_quitting)) {
        job *j;

        if (!is_up && g_get_monotonic_time() >= next_try_us) {
            post_state(w, DG_GTK_RECONNECTING, NULL);
            errmsg[0] = '\0';
            if (c && dg_client_reconnect(c) != DG_CLIENT_OK)
                snprintf(errmsg, sizeof errmsg, "%s", dg_client_errmsg(c));
            else if (!c)
                c = open_client(w, errmsg);
            is_up = !errmsg[0];
            next_try_us = g_get_monotonic_time() + RETRY_EVERY_MS * 1000;
            post_state(w, is_up ? DG_GTK_CONNECTED : DG_GTK_LOST, errmsg);
        }
        while ((j = g_async_queue_try_pop(w->jobs))) {
            j->rc = j->run(is_up ? c : NULL, j->data, j->errmsg);
            if (!is_up && j->rc != DG_CLIENT_OK && !j->errmsg[0])
                snprintf(j->errmsg, sizeof j->errmsg, "%s", errmsg);
            if (is_up && j->rc != DG_CLIENT_OK && is_broken(c)) {
                is_up = false;
                snprintf(errmsg, sizeof errmsg, "%s", dg_client_errmsg(c));
                post_state(w, DG_GTK_LOST, errmsg);
            }
            g_main_context_invoke(w->ctx, job_main_cb, j);
            if (g_atomic_int_get(&w->is_quitting))
                break;
        }
        /* A broken connection's fd is not watched: it may stay readable,
         * and the retry comes from the timeout anyway. */
        struct pollfd fds[2] = {{.fd = w->wake[0], .events = POLLIN},
                                {.fd = is_up ? dg_client_fd(c) : -1, .events = POLLIN}};
        /* At least once a second: libdangan's keepalive, and the retries. */
        (void)poll(fds, 2, RETRY_EVERY_MS);
        drain_wake(w);
        if (is_up && dg_client_poll(c, 0) == DG_CLIENT_ECLOSED) {
            is_up = false;
            snprintf(errmsg, sizeof errmsg, "%s", dg_client_errmsg(c));
            next_try_us = g_get_monotonic_time() + RETRY_EVERY_MS * 1000;
            post_state(w, DG_GTK_LOST, errmsg);
        }
    }
    dg_client_close(c);
    /* Each queued job holds a reference: hand them back, unrun, to be freed. */
    for (job *j; (j = g_async_queue_try_pop(w->jobs));) {
        j->rc = DG_CLIENT_ECLOSED;
        g_main_context_invoke(w->ctx, job_main_cb, j);
    }
    worker_unref(w);
    return NULL;
}

/* ---------------------------------------------------------------- the object */

static void dg_gtk_conn_finalize(GObject *obj)
{
    DgGtkConn *conn = DG_GTK_CONN(obj);

    conn->w->conn = NULL;
    g_atomic_int_set(&conn->w->is_quitting, 1);
    wake(conn->w);
    worker_unref(conn->w);
    G_OBJECT_CLASS(dg_gtk_conn_parent_class)->finalize(obj);
}

static void dg_gtk_conn_class_init(DgGtkConnClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = dg_gtk_conn_finalize;
    signals[SIG_STATE] = g_signal_new("state-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
    signals[SIG_EVENT] = g_signal_new("event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void dg_gtk_conn_init(DgGtkConn *conn)
{
    conn->state = DG_GTK_CONNECTING;
}

DgGtkConn *dg_gtk_conn_new(const char *server, const char *kind, const char *value)
{
    DgGtkConn *conn = g_object_new(DG_GTK_TYPE_CONN, NULL);
    worker *w = g_new0(worker, 1);
    GThread *t;

    w->refs = 2; /* the conn and the thread */
    w->jobs = g_async_queue_new();
    if (!g_unix_open_pipe(w->wake, FD_CLOEXEC, NULL) ||
        !g_unix_set_fd_nonblocking(w->wake[0], TRUE, NULL) ||
        !g_unix_set_fd_nonblocking(w->wake[1], TRUE, NULL))
        g_error("dangan-gtk: cannot create a pipe: %s", g_strerror(errno));
    w->ctx = g_main_context_ref(g_main_context_default());
    snprintf(w->server, sizeof w->server, "%s", server);
    snprintf(w->kind, sizeof w->kind, "%s", kind);
    snprintf(w->value, sizeof w->value, "%s", value);
    w->conn = conn;
    conn->w = w;
    t = g_thread_new("dangan-conn", worker_main, w);
    g_thread_unref(t); /* never joined: the last reference does not wait for the network */
    return conn;
}

DgGtkState dg_gtk_conn_state(DgGtkConn *conn)
{
    return conn->state;
}

const char *dg_gtk_conn_server(DgGtkConn *conn)
{
    return conn->w->server;
}

const char *dg_gtk_conn_errmsg(DgGtkConn *conn)
{
    return conn->errmsg;
}

void dg_gtk_conn_run(DgGtkConn *conn, GObject *owner, DgGtkJobFn run, DgGtkDoneFn done,
                     gpointer data, GDestroyNotify free_data)
{
    job *j = g_new0(job, 1);

    j->w = worker_ref(conn->w);
    j->run = run;
    j->done = done;
    j->data = data;
    j->free_data = free_data;
    g_weak_ref_init(&j->owner, owner);
    j->has_owner = owner != NULL;
    g_async_queue_push(conn->w->jobs, j);
    wake(conn->w);
}

/* ---------------------------------------------------------------- requests */

typedef struct call {
    uint8_t *packed; /* the Request, packed on the main thread */
    size_t packed_len;
    dg_reply *reply;
    DgGtkReplyFn cb;
    gpointer user;
} call;

static int call_run(dg_client *c, gpointer data, char *errmsg)
{
    call *k = data;
    Dangan__V1__Request *req;
    int rc;

    if (!c)
        return DG_CLIENT_ECLOSED;
    if (!(req = dangan__v1__request__unpack(NULL, k->packed_len, k->packed)))
        return DG_CLIENT_ENOMEM;
    rc = dg_client_call(c, req, &k->reply);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != DG_CLIENT_OK)
        snprintf(errmsg, ERRMSG_LEN, "%s", dg_client_errmsg(c));
    return rc;
}

static void call_done(GObject *owner, int rc, const char *errmsg, gpointer data)
{
    call *k = data;

    k->cb(owner, rc, k->reply ? dg_reply_response(k->reply) : NULL, errmsg, k->user);
}

static void call_free(gpointer data)
{
    call *k = data;

    dg_reply_free(k->reply);
    g_free(k->packed);
    g_free(k);
}

void dg_gtk_call(DgGtkConn *conn, const Dangan__V1__Request *req, GObject *owner, DgGtkReplyFn cb,
                 gpointer user)
{
    call *k = g_new0(call, 1);

    k->packed_len = dangan__v1__request__get_packed_size(req);
    k->packed = g_malloc(k->packed_len ? k->packed_len : 1);
    dangan__v1__request__pack(req, k->packed);
    k->cb = cb;
    k->user = user;
    dg_gtk_conn_run(conn, owner, call_run, call_done, k, call_free);
}

typedef struct sub {
    uint8_t *filter; /* packed SubscribeFilter, or NULL */
    size_t filter_len;
    bool with_records;
    uint64_t id;
    DgGtkSubscribedFn done;
    gpointer user;
} sub;

static int sub_run(dg_client *c, gpointer data, char *errmsg)
{
    sub *s = data;
    Dangan__V1__SubscribeFilter *f = NULL;
    int rc;

    if (!c)
        return DG_CLIENT_ECLOSED;
    if (s->filter && !(f = dangan__v1__subscribe_filter__unpack(NULL, s->filter_len, s->filter)))
        return DG_CLIENT_ENOMEM;
    rc = dg_client_subscribe(c, f, NULL, s->with_records, &s->id);
    if (f)
        dangan__v1__subscribe_filter__free_unpacked(f, NULL);
    if (rc != DG_CLIENT_OK)
        snprintf(errmsg, ERRMSG_LEN, "%s", dg_client_errmsg(c));
    return rc;
}

static void sub_done(GObject *owner, int rc, const char *errmsg, gpointer data)
{
    sub *s = data;

    (void)errmsg;
    if (s->done)
        s->done(owner, rc, s->id, s->user);
}

static void sub_free(gpointer data)
{
    sub *s = data;

    g_free(s->filter);
    g_free(s);
}

void dg_gtk_conn_subscribe(DgGtkConn *conn, const Dangan__V1__SubscribeFilter *filter,
                           bool with_records, GObject *owner, DgGtkSubscribedFn done, gpointer user)
{
    sub *s = g_new0(sub, 1);

    if (filter) {
        s->filter_len = dangan__v1__subscribe_filter__get_packed_size(filter);
        s->filter = g_malloc(s->filter_len ? s->filter_len : 1);
        dangan__v1__subscribe_filter__pack(filter, s->filter);
    }
    s->with_records = with_records;
    s->done = done;
    s->user = user;
    dg_gtk_conn_run(conn, owner, sub_run, sub_done, s, sub_free);
}
