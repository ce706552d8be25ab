/* worker.c - one connection's share of the load (worker.h).
 *
 * The loop: fill the pipeline (pick an operation by weight, build it, send
 * it, note the send time), then collect the oldest request in flight; repeat
 * until the window closes, then drain. Responses are collected in the order
 * the requests were sent, so a response that overtakes an older one (a get
 * passing an update) is timed when the older one has been collected: with
 * --pipeline > 1 latencies are upper bounds; with 1 they are exact.
 *
 * Every answer is checked, not just its status: a get returns the customer
 * asked for, an update returns the new phone and a higher version, a create
 * returns a new id. A wrong answer counts as an error with its reason.
 */
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "gen.h"

#define MAX_READY 64
#define SWEEP_MS 200
/* After the window, answers still in flight get this long to come. */
#define DRAIN_US (30 * INT64_C(1000000))

struct share {
    int64_t id;
    int64_t version;     /* as the server last answered */
    uint64_t phone_hash; /* of the phone it has now: an update always sends another one */
    bool is_busy;        /* an update of it is in flight */
};

struct slot {
    uint64_t req_id;
    enum dg_bench_op op;
    int64_t sent_us;
    int64_t id;      /* get, update: the customer asked for */
    size_t share_i;  /* update */
    int64_t version; /* update: expected_version sent */
    char phone[24];  /* update: the value sent */
};

struct dg_worker {
    const dg_bench_opts *o;
    const int64_t *ids;
    size_t n_ids;
    struct share *share;
    size_t n_share, share_cap;
    dg_rng rng;
    unsigned cum_weight[DG_BENCH_N_OPS]; /* cumulative mix weights */
    dg_client *client;                   /* during dg_worker_run */
    struct slot *ring;                   /* o->pipeline slots */
    size_t head, n_inflight;
    int pending_op; /* chosen but not sent yet (no free customer), or -1 */
    int64_t from_us, until_us;
    int64_t paced_from_us; /* --rate: when sending started */
    uint64_t n_sent;       /* --rate: sends so far */
    dg_bench_op_result stats[DG_BENCH_N_OPS];
    bool is_lost;
    char lost_msg[256];
};

dg_worker *dg_worker_new(const dg_worker_cfg *cfg)
{
    dg_worker *w = dg_xcalloc(1, sizeof *w);
    unsigned sum = 0;

    w->o = cfg->o;
    w->ids = cfg->ids;
    w->n_ids = cfg->n_ids;
    dg_rng_init(&w->rng, cfg->o->seed, cfg->stream);
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        sum += cfg->o->mix[i];
        w->cum_weight[i] = sum;
        w->stats[i].hist = dg_hist_new();
    }
    dg_assert(sum > 0);
    w->ring = dg_xcalloc((size_t)cfg->o->pipeline, sizeof *w->ring);
    w->pending_op = -1;
    return w;
}

void dg_worker_free(dg_worker *w)
{
    if (!w)
        return;
    for (int i = 0; i < DG_BENCH_N_OPS; i++)
        dg_hist_free(w->stats[i].hist);
    free(w->share);
    free(w->ring);
    free(w);
}

uint64_t dg_worker_phone_hash(const char *phone)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)phone; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return h;
}

void dg_worker_add_customer(dg_worker *w, int64_t id, int64_t version, uint64_t phone_hash)
{
    if (w->n_share == w->share_cap) {
        w->share_cap = w->share_cap ? 2 * w->share_cap : 64;
        w->share = dg_xrealloc(w->share, w->share_cap * sizeof *w->share);
    }
    w->share[w->n_share++] = (struct share){id, version, phone_hash, false};
}

const char *dg_worker_lost(const dg_worker *w)
{
    return w->is_lost ? w->lost_msg : NULL;
}

void dg_worker_merge(const dg_worker *w, dg_bench_result *into)
{
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        const dg_bench_op_result *s = &w->stats[i];
        dg_bench_op_result *d = &into->ops[i];

        d->count += s->count;
        d->errors += s->errors;
        d->hits += s->hits;
        dg_hist_merge(d->hist, s->hist);
        for (size_t k = 0; k < s->n_messages; k++)
            dg_bench_note_error(d, s->messages[k]);
    }
}

/* ------------------------------------------------------------ accounting */

static bool in_window(const dg_worker *w, int64_t at_us)
{
    return at_us >= w->from_us && at_us < w->until_us;
}

static void count_ok(dg_worker *w, const struct slot *s, int64_t done_us)
{
    if (!in_window(w, done_us))
        return;
    w->stats[s->op].count++;
    dg_hist_record(w->stats[s->op].hist, done_us - s->sent_us);
}

static void count_error(dg_worker *w, const struct slot *s, int64_t done_us, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void count_error(dg_worker *w, const struct slot *s, int64_t done_us, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!in_window(w, done_us))
        return;
    w->stats[s->op].errors++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dg_bench_note_error(&w->stats[s->op], msg);
}

static void lose(dg_worker *w, const char *what)
{
    if (!w->is_lost)
        snprintf(w->lost_msg, sizeof w->lost_msg, "%s: %s", what, dg_client_errmsg(w->client));
    w->is_lost = true;
}

/* ------------------------------------------------------------ requests */

static enum dg_bench_op pick_op(dg_worker *w)
{
    uint64_t r = dg_rng_below(&w->rng, w->cum_weight[DG_BENCH_N_OPS - 1]);
    int i = 0;

    while (r >= w->cum_weight[i])
        i++;
    return (enum dg_bench_op)i;
}

/* A random customer of the share with no update in flight, or false. */
static bool pick_free_customer(dg_worker *w, size_t *out)
{
    size_t start;

    if (w->n_share == 0)
        return false;
    start = (size_t)dg_rng_below(&w->rng, w->n_share);
    for (size_t k = 0; k < w->n_share; k++) {
        size_t i = (start + k) % w->n_share;

        if (!w->share[i].is_busy) {
            *out = i;
            return true;
        }
    }
    return false;
}

static int send_get(dg_worker *w, struct slot *s, Dangan__V1__Request *req)
{
    Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;

    s->id = w->ids[dg_rng_below(&w->rng, w->n_ids)];
    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.id = s->id;
    m.dossier = w->o->want_dossier;
    req->body_case = DANGAN__V1__REQUEST__BODY_GET;
    req->get = &m;
    s->sent_us = dg_mono_us();
    return dg_client_send(w->client, req, &s->req_id); /* packs now: m may go out of scope */
}

static int send_search(dg_worker *w, struct slot *s, Dangan__V1__Request *req)
{
    Dangan__V1__SearchRequest m = DANGAN__V1__SEARCH_REQUEST__INIT;

    if (w->o->n_queries)
        m.query = (char *)w->o->queries[dg_rng_below(&w->rng, w->o->n_queries)];
    else
        m.query = (char *)dg_gen_query(&w->rng);
    req->body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req->search = &m;
    s->sent_us = dg_mono_us();
    return dg_client_send(w->client, req, &s->req_id);
}

static int send_update(dg_worker *w, struct slot *s, Dangan__V1__Request *req)
{
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    char *mask[] = {"phone"};
    size_t i;

    if (!pick_free_customer(w, &i))
        return DG_EAGAIN;
    s->share_i = i;
    s->id = w->share[i].id;
    s->version = w->share[i].version;
    /* Writing the value a field already has is a no-op (no new version), so
     * never do it: the check of the answer can then insist on a new version. */
    do
        dg_gen_phone(&w->rng, s->phone, sizeof s->phone);
    while (dg_worker_phone_hash(s->phone) == w->share[i].phone_hash);
    cu.id = s->id;
    cu.phone = s->phone;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.expected_version = s->version;
    m.update_mask = mask;
    m.n_update_mask = 1;
    req->body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req->update = &m;
    s->sent_us = dg_mono_us();
    return dg_client_send(w->client, req, &s->req_id);
}

static int send_create(dg_worker *w, struct slot *s, Dangan__V1__Request *req)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    dg_gen_customer cu;

    dg_gen_customer_fill(&w->rng, &cu);
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu.pb;
    m.record = &rec;
    m.allow_duplicate = true;
    req->body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req->create = &m;
    s->sent_us = dg_mono_us();
    return dg_client_send(w->client, req, &s->req_id);
}

static int send_ping(dg_worker *w, struct slot *s, Dangan__V1__Request *req)
{
    Dangan__V1__PingRequest m = DANGAN__V1__PING_REQUEST__INIT;

    s->sent_us = dg_mono_us();
    m.client_time_ms = s->sent_us / 1000;
    req->body_case = DANGAN__V1__REQUEST__BODY_PING;
    req->ping = &m;
    return dg_client_send(w->client, req, &s->req_id);
}

/* A name no account has, and a password that is nobody's. */
#define UNKNOWN_USER "dangan-bench-nobody"
#define WRONG_PASSWORD "not the password of anyone, surely"

static int send_login(dg_worker *w, struct slot *s, Dangan__V1__Request *req, const char *user)
{
    Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;

    m.username = (char *)user;
    m.password = WRONG_PASSWORD;
    req->body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req->login = &m;
    s->sent_us = dg_mono_us();
    return dg_client_send(w->client, req, &s->req_id);
}

/* Builds and sends one operation into the next free slot. DG_EAGAIN: an
 * update found every customer of the share busy (nothing was sent). */
static int send_op(dg_worker *w, enum dg_bench_op op)
{
    struct slot *s = &w->ring[(w->head + w->n_inflight) % (size_t)w->o->pipeline];
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    int rc = DG_EINVAL;

    memset(s, 0, sizeof *s);
    s->op = op;
    switch (op) {
    case DG_BENCH_GET:
        rc = send_get(w, s, &req);
        break;
    case DG_BENCH_SEARCH:
        rc = send_search(w, s, &req);
        break;
    case DG_BENCH_UPDATE:
        rc = send_update(w, s, &req);
        break;
    case DG_BENCH_CREATE:
        rc = send_create(w, s, &req);
        break;
    case DG_BENCH_PING:
        rc = send_ping(w, s, &req);
        break;
    case DG_BENCH_LOGIN_WRONG:
        rc = send_login(w, s, &req, w->o->user);
        break;
    case DG_BENCH_LOGIN_UNKNOWN:
        rc = send_login(w, s, &req, UNKNOWN_USER);
        break;
    case DG_BENCH_N_OPS:
        break;
    }
    if (rc != DG_OK)
        return rc;
    if (op == DG_BENCH_UPDATE)
        w->share[s->share_i].is_busy = true;
    w->n_inflight++;
    return DG_OK;
}

/* Sends until `pipeline` requests are in flight, the window closes, or an
 * update must wait for a customer to come back. */
/* --rate: this connection's share of the operations per second. When its
 * next send is due (never past the window's end); 0 without --rate. */
static int64_t next_due(const dg_worker *w)
{
    int64_t due;

    if (w->o->rate <= 0)
        return 0;
    due = w->paced_from_us +
          (int64_t)((double)(w->n_sent + 1) * 1e6 * w->o->connections / w->o->rate);
    return due < w->until_us ? due : w->until_us;
}

/* Picks and sends one operation. False when nothing more can be sent now:
 * an update found every customer of the share busy, or the send failed. */
static bool send_next(dg_worker *w)
{
    enum dg_bench_op op = w->pending_op >= 0 ? (enum dg_bench_op)w->pending_op : pick_op(w);
    int rc = send_op(w, op);

    w->pending_op = -1;
    if (rc == DG_EAGAIN) {
        w->pending_op = (int)op; /* keep the choice: skipping it would skew the mix */
        return false;
    }
    if (rc != DG_OK) {
        lose(w, "cannot send");
        return false;
    }
    return true;
}

/* Sends until `pipeline` requests are in flight or the window closes,
 * sleeping until each send is due under --rate. */
static void fill(dg_worker *w)
{
    while (w->n_inflight < (size_t)w->o->pipeline && dg_mono_us() < w->until_us) {
        int64_t due = next_due(w), now = dg_mono_us();

        if (w->o->rate > 0)
            w->n_sent++;
        if (due > now)
            usleep((useconds_t)(due - now));
        if (dg_mono_us() >= w->until_us || !send_next(w))
            return;
    }
}

/* fill without sleeping, for a thread driving several connections: sends
 * what is due now. Returns when the next send is due (INT64_MAX: when an
 * answer comes back). */
static int64_t fill_due(dg_worker *w, int64_t now)
{
    while (!w->is_lost && w->n_inflight < (size_t)w->o->pipeline && now < w->until_us) {
        int64_t due = next_due(w);

        if (due > now)
            return due;
        if (w->o->rate > 0)
            w->n_sent++;
        if (!send_next(w))
            break;
        now = dg_mono_us();
    }
    return INT64_MAX;
}

/* ------------------------------------------------------------ answers */

static const Dangan__V1__Customer *customer_of(const Dangan__V1__Record *r)
{
    return r && r->kind_case == DANGAN__V1__RECORD__KIND_CUSTOMER ? r->customer : NULL;
}

/* Checks an update's OK answer: the customer asked for, the phone sent, a
 * new version. Remembers the version for the next update of it. */
static bool check_update(dg_worker *w, const struct slot *s, const Dangan__V1__Response *r,
                         char *why, size_t why_len)
{
    const Dangan__V1__Customer *c;

    if (r->body_case != DANGAN__V1__RESPONSE__BODY_UPDATE ||
        !(c = customer_of(r->update->record)) || c->id != s->id) {
        snprintf(why, why_len, "no customer %" PRId64 " in the UpdateResponse", s->id);
        return false;
    }
    if (c->version <= s->version || strcmp(c->phone, s->phone) != 0) {
        snprintf(why, why_len,
                 "customer %" PRId64 " updated with expected_version %" PRId64 " and phone %s "
                 "came back at version %" PRId64 " with phone %s",
                 s->id, s->version, s->phone, c->version, c->phone);
        if (c->version > w->share[s->share_i].version) {
            w->share[s->share_i].version = c->version;
            w->share[s->share_i].phone_hash = dg_worker_phone_hash(c->phone);
        }
        return false;
    }
    w->share[s->share_i].version = c->version;
    w->share[s->share_i].phone_hash = dg_worker_phone_hash(c->phone);
    return true;
}

/* Checks an OK answer; false with `why` if it is not what was asked for. */
static bool check_answer(dg_worker *w, const struct slot *s, const Dangan__V1__Response *r,
                         char *why, size_t why_len)
{
    const Dangan__V1__Customer *c;
    const char *wrong = NULL;

    switch (s->op) {
    case DG_BENCH_GET:
        if (r->body_case != DANGAN__V1__RESPONSE__BODY_GET || !(c = customer_of(r->get->record)) ||
            c->id != s->id)
            wrong = "the GetResponse lacks the customer asked for";
        else if (w->o->want_dossier && !r->get->dossier)
            wrong = "no dossier in the GetResponse";
        break;
    case DG_BENCH_SEARCH:
        if (r->body_case != DANGAN__V1__RESPONSE__BODY_SEARCH)
            wrong = "no SearchResponse";
        break;
    case DG_BENCH_UPDATE:
        return check_update(w, s, r, why, why_len);
    case DG_BENCH_CREATE:
        if (r->body_case != DANGAN__V1__RESPONSE__BODY_CREATE ||
            !(c = customer_of(r->create->record)) || c->id <= 0)
            wrong = "no new customer in the CreateResponse";
        break;
    case DG_BENCH_PING:
        if (r->body_case != DANGAN__V1__RESPONSE__BODY_PING ||
            r->ping->client_time_ms != s->sent_us / 1000)
            wrong = "the PingResponse does not echo the time sent";
        break;
    case DG_BENCH_LOGIN_WRONG:
    case DG_BENCH_LOGIN_UNKNOWN:
        wrong = "a login with a wrong password succeeded";
        break;
    case DG_BENCH_N_OPS:
        wrong = "unknown operation";
        break;
    }
    if (wrong)
        snprintf(why, why_len, "%s (customer %" PRId64 ")", wrong, s->id);
    return wrong == NULL;
}

/* A conflict answer carries the record as it is now: continue from there. */
static void follow_conflict(dg_worker *w, const struct slot *s, const Dangan__V1__Response *r)
{
    const Dangan__V1__Customer *c;

    if (r->body_case == DANGAN__V1__RESPONSE__BODY_UPDATE && (c = customer_of(r->update->record)) &&
        c->id == s->id && c->version > w->share[s->share_i].version) {
        w->share[s->share_i].version = c->version;
        w->share[s->share_i].phone_hash = dg_worker_phone_hash(c->phone);
    }
}

static bool is_login(enum dg_bench_op op)
{
    return op == DG_BENCH_LOGIN_WRONG || op == DG_BENCH_LOGIN_UNKNOWN;
}

static void judge(dg_worker *w, const struct slot *s, const Dangan__V1__Response *r, int64_t at)
{
    const Dangan__V1__Status *st = r->status;
    const ProtobufCEnumValue *code;
    char why[200];

    if (!st) {
        count_error(w, s, at, "wrong answer: a response without a status");
        return;
    }
    if (is_login(s->op) && st->code == DANGAN__V1__CODE__UNAUTHENTICATED &&
        strcmp(st->reason, "bad_credentials") == 0) {
        count_ok(w, s, at); /* the answer a wrong password gets */
        return;
    }
    if (st->code != DANGAN__V1__CODE__OK) {
        code = protobuf_c_enum_descriptor_get_value(&dangan__v1__code__descriptor, st->code);
        if (st->code == DANGAN__V1__CODE__ABORTED && s->op == DG_BENCH_UPDATE)
            follow_conflict(w, s, r);
        count_error(w, s, at, "%s %s: %s", code ? code->name : "UNKNOWN", st->reason, st->message);
        return;
    }
    if (!check_answer(w, s, r, why, sizeof why)) {
        count_error(w, s, at, "wrong answer: %s", why);
        return;
    }
    if (s->op == DG_BENCH_SEARCH && in_window(w, at))
        w->stats[s->op].hits += r->search->n_hits;
    count_ok(w, s, at);
}

/* Accounts for the oldest request in flight, answered (rc DG_OK) or lost. */
static void settle_oldest(dg_worker *w, int rc, dg_reply *reply)
{
    struct slot *s = &w->ring[w->head];
    int64_t at = dg_mono_us();

    w->head = (w->head + 1) % (size_t)w->o->pipeline;
    w->n_inflight--;
    if (rc == DG_OK)
        judge(w, s, dg_reply_response(reply), at);
    else {
        count_error(w, s, at, "connection lost: %s", dg_client_errmsg(w->client));
        lose(w, "connection lost");
    }
    if (s->op == DG_BENCH_UPDATE)
        w->share[s->share_i].is_busy = false;
    dg_reply_free(reply);
}

/* Waits for the oldest request in flight and accounts for it. */
static void collect_oldest(dg_worker *w)
{
    dg_reply *reply = NULL;
    int rc = dg_client_wait(w->client, w->ring[w->head].req_id, &reply);

    settle_oldest(w, rc, reply);
}

/* Accounts for the answers that have come, oldest first, without waiting. */
static void collect_ready(dg_worker *w)
{
    while (!w->is_lost && w->n_inflight > 0) {
        dg_reply *reply = NULL;
        int rc = dg_client_take(w->client, w->ring[w->head].req_id, &reply);

        if (rc == DG_EAGAIN)
            return;
        settle_oldest(w, rc, reply);
    }
}

static void start(dg_worker *w, dg_client *c, int64_t from_us, int64_t until_us)
{
    w->client = c;
    w->from_us = from_us;
    w->until_us = until_us;
    w->paced_from_us = dg_mono_us();
}

/* A lost connection takes its requests in flight with it: their outcome
 * is unknown, so they are errors. */
static void finish(dg_worker *w, const char *why)
{
    for (int64_t at = dg_mono_us(); w->n_inflight > 0; w->n_inflight--) {
        count_error(w, &w->ring[w->head], at, "%s: %s", why, dg_client_errmsg(w->client));
        w->head = (w->head + 1) % (size_t)w->o->pipeline;
    }
    w->client = NULL;
}

void dg_worker_run(dg_worker *w, dg_client *c, int64_t from_us, int64_t until_us)
{
    start(w, c, from_us, until_us);
    while (!w->is_lost && dg_mono_us() < until_us) {
        fill(w);
        if (w->n_inflight > 0)
            collect_oldest(w);
    }
    /* Drain: answers after the window are not counted, but the connection
     * closes clean and every update's outcome is known. */
    while (!w->is_lost && w->n_inflight > 0)
        collect_oldest(w);
    finish(w, "connection lost");
}

void dg_workers_run(dg_worker *const *ws, dg_client *const *cs, size_t n, int64_t from_us,
                    int64_t until_us)
{
    struct epoll_event ready[MAX_READY];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int64_t now, next_sweep = 0, give_up_us = until_us + DRAIN_US;

    for (size_t i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};

        start(ws[i], cs[i], from_us, until_us);
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, dg_client_fd(cs[i]), &ev) != 0)
            lose(ws[i], "cannot poll the connection");
    }
    while ((now = dg_mono_us()) < give_up_us) {
        int64_t due = INT64_MAX;
        bool is_busy = false;
        int timeout_ms, k;

        for (size_t i = 0; i < n; i++) {
            size_t was = ws[i]->n_inflight;
            int64_t d = fill_due(ws[i], now);

            if (ws[i]->n_inflight > was)
                collect_ready(ws[i]); /* runs the connection: what was sent goes out */
            due = d < due ? d : due;
            is_busy |= !ws[i]->is_lost && (ws[i]->n_inflight > 0 || now < until_us);
        }
        if (!is_busy)
            break;
        /* Wake for the next send under --rate, and at least every SWEEP_MS. */
        timeout_ms = due == INT64_MAX ? SWEEP_MS : (int)DG_MIN((due - now + 999) / 1000, SWEEP_MS);
        k = epoll_wait(ep, ready, MAX_READY, timeout_ms);
        for (int r = 0; r < k; r++)
            collect_ready(ws[ready[r].data.u64]);
        if (k < 0 && errno != EINTR) {
            for (size_t i = 0; i < n; i++)
                lose(ws[i], "epoll_wait failed");
            break;
        }
        if (now >= next_sweep) { /* the connections' timers (keepalive), and anything missed */
            for (size_t i = 0; i < n; i++)
                collect_ready(ws[i]);
            next_sweep = now + SWEEP_MS * 1000;
        }
    }
    for (size_t i = 0; i < n; i++)
        finish(ws[i], ws[i]->is_lost ? "connection lost" : "no answer after the window");
    if (ep >= 0)
        close(ep);
}
