/* bench.c - one benchmark run, from the setup connection to the report
 * (the flow is described in bench.h).
 *
 * Owns: the setup connection (closed before the workers start), the list of
 * customer ids, the workers and their threads, the merged result.
 * Threads: dg_bench_run runs on the main thread; each load thread opens and
 * closes the clients of its workers (one, or with --threads several driven
 * from one epoll set) and runs them. They meet once: every
 * thread reports ready (or failed), then the main thread fixes the window and
 * says go (or abort). Nothing else is shared except read-only data.
 */
#include "bench.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "watcher.h"
#include "worker.h"

#define CONNECT_TIMEOUT_MS 30000 /* 64 handshakes at once on a busy 2-core machine */
#define LIST_PAGE 1000
#define THREAD_STACK (1024 * 1024)

static const char *const op_names[DG_BENCH_N_OPS] = {
    "get", "search", "update", "create", "ping", "login_wrong", "login_unknown"};

const char *dg_bench_op_name(enum dg_bench_op op)
{
    return op_names[op];
}

void dg_bench_note_error(dg_bench_op_result *op, const char *msg)
{
    if (op->n_messages == DG_BENCH_MAX_ERRORS)
        return;
    for (size_t i = 0; i < op->n_messages; i++)
        if (strcmp(op->messages[i], msg) == 0)
            return;
    snprintf(op->messages[op->n_messages++], sizeof op->messages[0], "%s", msg);
}

void dg_bench_result_fini(dg_bench_result *r)
{
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        dg_hist_free(r->ops[i].hist);
        r->ops[i].hist = NULL;
    }
    dg_hist_free(r->events.hist);
    r->events.hist = NULL;
}

/* ------------------------------------------------------------ connections */

static int open_client(const dg_bench_opts *o, dg_client_event_fn on_event, void *user,
                       dg_client **out, char *err, size_t err_len)
{
    char name[64];
    dg_client_opts co = {
        .server = o->server,
        .ca_file = o->ca_file,
        .fingerprint = o->fingerprint,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .client_name = name,
        .on_event = on_event,
        .user = user,
    };
    int rc;

    snprintf(name, sizeof name, "dangan-bench/%s", DANGAN_VERSION);
    if ((rc = dg_client_open(&co, out)) != DG_OK) {
        /* libdangan's message names the server and what failed ("...: connection refused"). */
        snprintf(err, err_len, "%s", *out ? dg_client_errmsg(*out) : dg_strerror(rc));
        dg_client_close(*out);
        *out = NULL;
    }
    return rc;
}

/* A session that must change its password first could do nothing but that. */
static int check_session(dg_client *c, char *err, size_t err_len)
{
    dg_reply *r;
    int rc = dg_client_whoami(c, &r);
    const Dangan__V1__WhoamiResponse *w;

    if (rc != DG_OK) {
        snprintf(err, err_len, "whoami failed: %s", dg_client_errmsg(c));
        return rc;
    }
    w = dg_reply_response(r)->whoami;
    if (w && w->session && w->session->must_change_password) {
        snprintf(err, err_len, "user must change the password first (dangan passwd)");
        rc = DG_ESTATE;
    }
    dg_reply_free(r);
    return rc;
}

int dg_bench_login(const dg_bench_opts *o, dg_client **out, char token[DG_CLIENT_TOKEN_LEN + 1],
                   char *err, size_t err_len)
{
    int rc;

    if ((rc = open_client(o, NULL, NULL, out, err, err_len)) != DG_OK)
        return rc;
    if ((rc = dg_client_login(*out, o->user, o->password, token)) != DG_OK)
        snprintf(err, err_len, "cannot log in as %s: %s", o->user, dg_client_errmsg(*out));
    else
        rc = check_session(*out, err, err_len);
    if (rc != DG_OK) {
        dg_client_close(*out);
        *out = NULL;
    }
    return rc;
}

int dg_bench_resume(const dg_bench_opts *o, const char *token, dg_client **out, char *err,
                    size_t err_len)
{
    return dg_bench_resume_ev(o, token, NULL, NULL, out, err, err_len);
}

int dg_bench_resume_ev(const dg_bench_opts *o, const char *token, dg_client_event_fn on_event,
                       void *user, dg_client **out, char *err, size_t err_len)
{
    int rc;

    if ((rc = open_client(o, on_event, user, out, err, err_len)) != DG_OK)
        return rc;
    if ((rc = dg_client_authenticate(*out, token)) != DG_OK) {
        snprintf(err, err_len, "cannot resume the session: %s", dg_client_errmsg(*out));
        dg_client_close(*out);
        *out = NULL;
    }
    return rc;
}

/* Ends the benchmark's session so its token is worthless afterwards. */
static void end_session(const dg_bench_opts *o, const char *token)
{
    dg_client *c;
    char err[300];

    if (dg_bench_resume(o, token, &c, err, sizeof err) != DG_OK) {
        fprintf(stderr, "dangan-bench: warning: cannot log out: %s\n", err);
        return;
    }
    if (dg_client_logout(c) != DG_OK)
        fprintf(stderr, "dangan-bench: warning: cannot log out: %s\n", dg_client_errmsg(c));
    dg_client_close(c);
}

/* ------------------------------------------------------------ customers */

struct customers {
    int64_t *ids;
    int64_t *versions;
    uint64_t *phone_hashes;
    size_t n, cap;
};

static void customers_fini(struct customers *cs)
{
    free(cs->ids);
    free(cs->versions);
    free(cs->phone_hashes);
}

static void customers_add(struct customers *cs, const Dangan__V1__Customer *c)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 4096;
        cs->ids = dg_xrealloc(cs->ids, cs->cap * sizeof *cs->ids);
        cs->versions = dg_xrealloc(cs->versions, cs->cap * sizeof *cs->versions);
        cs->phone_hashes = dg_xrealloc(cs->phone_hashes, cs->cap * sizeof *cs->phone_hashes);
    }
    cs->ids[cs->n] = c->id;
    cs->versions[cs->n] = c->version;
    cs->phone_hashes[cs->n++] = dg_worker_phone_hash(c->phone ? c->phone : "");
}

/* Appends one page; *next gets a copy of next_cursor ("" at the end). */
static int list_page(dg_client *c, const char *cursor, struct customers *cs, char **next, char *err,
                     size_t err_len)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    const Dangan__V1__Response *resp;
    dg_reply *r;
    int rc;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.sort = "created";
    m.limit = LIST_PAGE;
    m.cursor = (char *)cursor;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    if ((rc = dg_client_call(c, &req, &r)) != DG_OK) {
        snprintf(err, err_len, "listing customers: %s", dg_client_errmsg(c));
        return rc;
    }
    resp = dg_reply_response(r);
    if (!resp->status || resp->status->code != DANGAN__V1__CODE__OK ||
        resp->body_case != DANGAN__V1__RESPONSE__BODY_LIST) {
        snprintf(err, err_len, "listing customers: %s",
                 resp->status ? resp->status->message : "a response without status");
        dg_reply_free(r);
        return DG_EPROTO;
    }
    for (size_t i = 0; i < resp->list->n_records; i++) {
        const Dangan__V1__Record *rec = resp->list->records[i];

        if (rec->kind_case == DANGAN__V1__RECORD__KIND_CUSTOMER)
            customers_add(cs, rec->customer);
    }
    *next = dg_xstrdup(resp->list->next_cursor ? resp->list->next_cursor : "");
    dg_reply_free(r);
    return DG_OK;
}

static int list_customers(dg_client *c, struct customers *cs, char *err, size_t err_len)
{
    char *cursor = dg_xstrdup("");
    int rc;

    do {
        char *next = NULL;

        rc = list_page(c, cursor, cs, &next, err, err_len);
        free(cursor);
        cursor = next;
    } while (rc == DG_OK && cursor[0]);
    free(cursor);
    return rc;
}

/* ------------------------------------------------------------ threads */

struct run {
    const dg_bench_opts *o;
    char token[DG_CLIENT_TOKEN_LEN + 1];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n_ready, n_failed; /* threads that reported */
    bool is_go, is_abort;
    int64_t from_us, until_us;
};

/* A thread: load connections (workers, each with its client), or a share of
 * the subscribers. */
struct conn {
    pthread_t thread;
    bool is_started;
    struct run *run;
    dg_worker **workers; /* load connections (borrowed: dg_bench_run owns them) */
    dg_client **clients; /* theirs, while the thread runs */
    size_t n_workers;
    dg_watchers *watchers; /* or a thread's share of the subscribers (--watchers) */
    int rc;                /* setup outcome */
    char err[320];
};

static void *conn_main(void *arg)
{
    struct conn *cn = arg;
    struct run *run = cn->run;
    bool is_go;

    if (cn->watchers)
        cn->rc = dg_watchers_open(cn->watchers, run->o, run->token, cn->err, sizeof cn->err);
    for (size_t i = 0; i < cn->n_workers && cn->rc == DG_OK; i++)
        cn->rc = dg_bench_resume(run->o, run->token, &cn->clients[i], cn->err, sizeof cn->err);
    pthread_mutex_lock(&run->mu);
    if (cn->rc == DG_OK)
        run->n_ready++;
    else
        run->n_failed++;
    pthread_cond_broadcast(&run->cv);
    while (!run->is_go && !run->is_abort)
        pthread_cond_wait(&run->cv, &run->mu);
    is_go = run->is_go && !run->is_abort;
    pthread_mutex_unlock(&run->mu);
    if (cn->watchers && cn->rc == DG_OK && is_go)
        dg_watchers_run(cn->watchers, run->from_us, run->until_us);
    else if (cn->n_workers == 1 && cn->rc == DG_OK && is_go)
        dg_worker_run(cn->workers[0], cn->clients[0], run->from_us, run->until_us);
    else if (cn->n_workers > 1 && cn->rc == DG_OK && is_go)
        dg_workers_run(cn->workers, cn->clients, cn->n_workers, run->from_us, run->until_us);
    for (size_t i = 0; i < cn->n_workers; i++)
        dg_client_close(cn->clients[i]);
    return NULL;
}

static void release(struct run *run, bool is_go)
{
    pthread_mutex_lock(&run->mu);
    if (is_go)
        run->is_go = true;
    else
        run->is_abort = true;
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

/* Starts every thread and waits until each has connected or failed.
 * Returns how many started (all of them unless pthread_create failed). */
static int start_threads(struct run *run, struct conn *conns, int n)
{
    pthread_attr_t attr;
    int started = 0;

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    for (; started < n; started++) {
        conns[started].run = run;
        if (pthread_create(&conns[started].thread, &attr, conn_main, &conns[started]) != 0)
            break;
        conns[started].is_started = true;
    }
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&run->mu);
    while (run->n_ready + run->n_failed < started)
        pthread_cond_wait(&run->cv, &run->mu);
    pthread_mutex_unlock(&run->mu);
    return started;
}

static void join_threads(struct conn *conns, int n)
{
    for (int i = 0; i < n; i++)
        if (conns[i].is_started)
            (void)pthread_join(conns[i].thread, NULL); /* joinable and ours: cannot fail */
}

/* ------------------------------------------------------------ the run */

static bool needs_customers(const dg_bench_opts *o)
{
    return o->mix[DG_BENCH_GET] > 0 || o->mix[DG_BENCH_UPDATE] > 0;
}

/* Logs in, lists the customers when needed, checks there are enough. */
static int setup(dg_bench_opts *o, struct run *run, struct customers *cs, dg_bench_result *res)
{
    dg_client *c;
    char err[320];
    int64_t t0;
    int rc = dg_bench_login(o, &c, run->token, err, sizeof err);

    dg_wipe(o->password, sizeof o->password); /* the workers resume the session instead */
    if (rc != DG_OK) {
        fprintf(stderr, "dangan-bench: %s\n", err);
        return DG_BENCH_EXIT_CONNECT;
    }
    if (needs_customers(o)) {
        t0 = dg_mono_us();
        rc = list_customers(c, cs, err, sizeof err);
        res->list_s = (double)(dg_mono_us() - t0) / 1e6;
        res->n_customers = cs->n;
    }
    dg_client_close(c);
    if (rc != DG_OK) {
        fprintf(stderr, "dangan-bench: %s\n", err);
        end_session(o, run->token);
        return DG_BENCH_EXIT_FAIL;
    }
    if (!o->is_json && needs_customers(o))
        fprintf(stderr, "dangan-bench: listed %zu customers in %.2f s\n", cs->n, res->list_s);
    if (needs_customers(o) &&
        (cs->n == 0 || (o->mix[DG_BENCH_UPDATE] > 0 && cs->n < (size_t)o->connections))) {
        fprintf(stderr,
                "dangan-bench: %zu customers on the server; gets need at least one and updates "
                "one per connection (%d): load some with dangand demo-data or "
                "dangan-bench --populate N\n",
                cs->n, o->connections);
        end_session(o, run->token);
        return DG_BENCH_EXIT_FAIL;
    }
    return DG_BENCH_EXIT_OK;
}

/* The load threads (--threads), plus one per DG_WATCHERS_PER_THREAD watchers. */
static int n_threads(const dg_bench_opts *o)
{
    return o->threads + (o->watchers + DG_WATCHERS_PER_THREAD - 1) / DG_WATCHERS_PER_THREAD;
}

/* Workers with disjoint shares of the customers for updates: connection i
 * updates customers i, i + N, i + 2N... of the listing. Load thread t runs
 * connections t, t + T, t + 2T... */
static void make_workers(const dg_bench_opts *o, const struct customers *cs, dg_worker **workers,
                         struct conn *conns)
{
    int n_load = o->threads;

    for (int i = 0, left = o->watchers; left > 0; i++, left -= DG_WATCHERS_PER_THREAD)
        conns[n_load + i].watchers =
            dg_watchers_new(left < DG_WATCHERS_PER_THREAD ? left : DG_WATCHERS_PER_THREAD);
    for (int t = 0; t < n_load; t++) {
        size_t n = (size_t)((o->connections - t + n_load - 1) / n_load);

        conns[t].workers = dg_xcalloc(n, sizeof *conns[t].workers);
        conns[t].clients = dg_xcalloc(n, sizeof *conns[t].clients);
    }
    for (int i = 0; i < o->connections; i++) {
        dg_worker_cfg cfg = {o, cs->ids, cs->n, (uint64_t)i};
        struct conn *cn = &conns[i % n_load];

        workers[i] = dg_worker_new(&cfg);
        cn->workers[cn->n_workers++] = workers[i];
        for (size_t k = (size_t)i; o->mix[DG_BENCH_UPDATE] > 0 && k < cs->n;
             k += (size_t)o->connections)
            dg_worker_add_customer(workers[i], cs->ids[k], cs->versions[k], cs->phone_hashes[k]);
    }
}

/* Waits for the threads, merges their results, reports lost connections. */
static void finish(const dg_bench_opts *o, dg_worker **workers, struct conn *conns, int n,
                   dg_bench_result *res)
{
    join_threads(conns, n);
    for (int i = 0; i < n; i++)
        if (conns[i].watchers)
            dg_watchers_merge(conns[i].watchers, &res->events);
    for (int i = 0; i < o->connections; i++) {
        const char *lost = dg_worker_lost(workers[i]);

        dg_worker_merge(workers[i], res);
        if (lost) {
            res->n_lost++;
            fprintf(stderr, "dangan-bench: connection %d: %s\n", i + 1, lost);
        }
    }
}

static int run_connections(const dg_bench_opts *o, struct run *run, dg_worker **workers,
                           struct conn *conns, dg_bench_result *res)
{
    int64_t t0 = dg_mono_us();
    int total = n_threads(o);
    int n = start_threads(run, conns, total);

    res->connect_s = (double)(dg_mono_us() - t0) / 1e6;
    if (n < total || run->n_failed > 0) {
        for (int i = 0; i < n; i++) {
            if (conns[i].rc != DG_OK) {
                if (conns[i].watchers)
                    fprintf(stderr, "dangan-bench: watcher thread %d: %s\n",
                            i - o->threads + 1, conns[i].err);
                else
                    fprintf(stderr, "dangan-bench: load thread %d: %s\n", i + 1, conns[i].err);
                break;
            }
        }
        if (n < total)
            fprintf(stderr, "dangan-bench: cannot start thread %d of %d\n", n + 1, total);
        release(run, false);
        join_threads(conns, n);
        return n < total ? DG_BENCH_EXIT_FAIL : DG_BENCH_EXIT_CONNECT;
    }
    if (!o->is_json)
        fprintf(stderr,
                "dangan-bench: %d connections ready in %.2f s; %g s warm-up, %g s measured\n",
                o->connections + o->watchers, res->connect_s, o->warmup_s, o->duration_s);
    run->from_us = dg_mono_us() + (int64_t)(o->warmup_s * 1e6);
    run->until_us = run->from_us + (int64_t)(o->duration_s * 1e6);
    release(run, true);
    finish(o, workers, conns, n, res);
    res->window_s = o->duration_s;
    return DG_BENCH_EXIT_OK;
}

int dg_bench_run(dg_bench_opts *o)
{
    struct run run = {.o = o};
    struct customers cs = {0};
    dg_bench_result res = {0};
    struct conn *conns = dg_xcalloc((size_t)n_threads(o), sizeof *conns);
    dg_worker **workers = dg_xcalloc((size_t)o->connections, sizeof *workers);
    int rc;

    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cv, NULL);
    for (int i = 0; i < DG_BENCH_N_OPS; i++)
        res.ops[i].hist = dg_hist_new();
    res.events.hist = dg_hist_new();
    if ((rc = setup(o, &run, &cs, &res)) == DG_BENCH_EXIT_OK) {
        make_workers(o, &cs, workers, conns);
        rc = run_connections(o, &run, workers, conns, &res);
        end_session(o, run.token);
        if (rc == DG_BENCH_EXIT_OK)
            dg_bench_report(o, &res, stdout);
    }
    for (int i = 0; i < n_threads(o); i++) {
        free(conns[i].workers);
        free(conns[i].clients);
        dg_watchers_free(conns[i].watchers);
    }
    for (int i = 0; i < o->connections; i++)
        dg_worker_free(workers[i]);
    free(workers);
    free(conns);
    customers_fini(&cs);
    dg_bench_result_fini(&res);
    dg_wipe(run.token, sizeof run.token);
    pthread_cond_destroy(&run.cv);
    pthread_mutex_destroy(&run.mu);
    return rc;
}
