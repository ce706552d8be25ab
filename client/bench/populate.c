/* populate.c - `dangan-bench --populate N`: creates N random customers
 * (gen.h) in BatchRequests of 1000 creates, two batches in flight, so a test
 * or a benchmark has data without a separate loader.
 *
 * Owns: its connection and the batch being built (reused: dg_client_send
 * packs the request at once). Main thread.
 */
#include "bench.h"

#include <stdlib.h>

#include <jansson.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "gen.h"

#define BATCH_OPS 1000
#define IN_FLIGHT 2

struct batch {
    dg_gen_customer *customers;
    Dangan__V1__Record *records;
    Dangan__V1__CreateRequest *creates;
    Dangan__V1__BatchOp *ops;
    Dangan__V1__BatchOp **op_ptrs;
};

static void batch_init(struct batch *b)
{
    b->customers = dg_xcalloc(BATCH_OPS, sizeof *b->customers);
    b->records = dg_xcalloc(BATCH_OPS, sizeof *b->records);
    b->creates = dg_xcalloc(BATCH_OPS, sizeof *b->creates);
    b->ops = dg_xcalloc(BATCH_OPS, sizeof *b->ops);
    b->op_ptrs = dg_xcalloc(BATCH_OPS, sizeof *b->op_ptrs);
}

static void batch_fini(struct batch *b)
{
    free(b->customers);
    free(b->records);
    free(b->creates);
    free(b->ops);
    free(b->op_ptrs);
}

/* Builds and sends a batch of n creates. */
static int send_batch(dg_client *c, struct batch *b, size_t n, dg_rng *rng, uint64_t *id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__BatchRequest m = DANGAN__V1__BATCH_REQUEST__INIT;

    for (size_t i = 0; i < n; i++) {
        dg_gen_customer_fill(rng, &b->customers[i]);
        dangan__v1__record__init(&b->records[i]);
        b->records[i].kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        b->records[i].customer = &b->customers[i].pb;
        dangan__v1__create_request__init(&b->creates[i]);
        b->creates[i].record = &b->records[i];
        b->creates[i].allow_duplicate = true;
        dangan__v1__batch_op__init(&b->ops[i]);
        b->ops[i].op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
        b->ops[i].create = &b->creates[i];
        b->op_ptrs[i] = &b->ops[i];
    }
    m.ops = b->op_ptrs;
    m.n_ops = n;
    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = &m;
    return dg_client_send(c, &req, id);
}

/* Waits for a batch; DG_OK when all `n` customers were created. */
static int wait_batch(dg_client *c, uint64_t id, size_t n)
{
    const Dangan__V1__Response *resp;
    dg_reply *r;
    int rc = dg_client_wait(c, id, &r);

    if (rc != DG_OK) {
        fprintf(stderr, "dangan-bench: populate: %s\n", dg_client_errmsg(c));
        return rc;
    }
    resp = dg_reply_response(r);
    if (!resp->status || resp->status->code != DANGAN__V1__CODE__OK) {
        fprintf(stderr, "dangan-bench: populate: batch refused: %s %s\n",
                resp->status ? resp->status->reason : "",
                resp->status ? resp->status->message : "");
        rc = DG_EPROTO;
    } else if (resp->body_case != DANGAN__V1__RESPONSE__BODY_BATCH || resp->batch->n_records != n) {
        fprintf(stderr, "dangan-bench: populate: wrong answer: %zu records for %zu creates\n",
                resp->body_case == DANGAN__V1__RESPONSE__BODY_BATCH ? resp->batch->n_records : 0,
                n);
        rc = DG_EPROTO;
    }
    dg_reply_free(r);
    return rc;
}

static void report(const dg_bench_opts *o, long created, double elapsed_s)
{
    double rate = elapsed_s > 0 ? (double)created / elapsed_s : 0;

    if (o->is_json) {
        json_t *doc =
            json_pack("{s:s,s:I,s:f,s:f}", "server", o->server, "created", (json_int_t)created,
                      "elapsed_s", elapsed_s, "customers_per_s", rate);

        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        printf("created %ld customers in %.2f s (%.0f/s)\n", created, elapsed_s, rate);
    }
}

int dg_bench_populate(dg_bench_opts *o)
{
    struct batch b;
    dg_client *c;
    dg_rng rng;
    char token[DG_CLIENT_TOKEN_LEN + 1], err[320];
    uint64_t ids[IN_FLIGHT];
    size_t sizes[IN_FLIGHT], head = 0, n_inflight = 0;
    long sent = 0, created = 0;
    int64_t t0;
    int rc = dg_bench_login(o, &c, token, err, sizeof err);

    dg_wipe(o->password, sizeof o->password);
    if (rc != DG_OK) {
        fprintf(stderr, "dangan-bench: %s\n", err);
        return DG_BENCH_EXIT_CONNECT;
    }
    batch_init(&b);
    dg_rng_init(&rng, o->seed, UINT64_MAX); /* a stream no benchmark connection uses */
    t0 = dg_mono_us();
    while (rc == DG_OK && (sent < o->populate || n_inflight > 0)) {
        if (sent < o->populate && n_inflight < IN_FLIGHT) {
            size_t slot = (head + n_inflight) % IN_FLIGHT;

            sizes[slot] = (size_t)DG_MIN((long)BATCH_OPS, o->populate - sent);
            if ((rc = send_batch(c, &b, sizes[slot], &rng, &ids[slot])) != DG_OK) {
                fprintf(stderr, "dangan-bench: populate: %s\n", dg_client_errmsg(c));
                break;
            }
            sent += (long)sizes[slot];
            n_inflight++;
            continue;
        }
        if ((rc = wait_batch(c, ids[head], sizes[head])) == DG_OK)
            created += (long)sizes[head];
        head = (head + 1) % IN_FLIGHT;
        n_inflight--;
    }
    if (rc == DG_OK)
        report(o, created, (double)(dg_mono_us() - t0) / 1e6);
    else
        fprintf(stderr, "dangan-bench: populate: created %ld of %ld customers\n", created,
                o->populate);
    if (dg_client_logout(c) != DG_OK && rc == DG_OK)
        fprintf(stderr, "dangan-bench: warning: cannot log out: %s\n", dg_client_errmsg(c));
    dg_client_close(c);
    dg_wipe(token, sizeof token);
    batch_fini(&b);
    return rc == DG_OK ? DG_BENCH_EXIT_OK : DG_BENCH_EXIT_FAIL;
}
