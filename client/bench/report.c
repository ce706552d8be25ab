/* report.c - dangan-bench's output: an aligned table for people, or one
 * JSON document (jansson) for scripts. The JSON shape is documented in
 * docs/cli.md (scripts rely on it); tests/bench/pg_compare.sh reads
 * .ops[OP].ops_per_s and .ops[OP].latency_ms.mean.
 */
#include "bench.h"

#include <math.h>
#include <stdint.h>

#include <jansson.h>

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

/* Three decimals are what a millisecond latency or an ops/s rate can claim. */
static json_t *real3(double v)
{
    return json_real(round(v * 1000.0) / 1000.0);
}

static double ops_per_s(const dg_bench_op_result *r, double window_s)
{
    return window_s > 0 ? (double)r->count / window_s : 0.0;
}

static json_t *u64_json(uint64_t v)
{
    char buf[24];

    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v); /* beyond a JSON integer's reach */
    return json_string(buf);
}

static json_t *op_json(const dg_bench_op_result *r, double window_s, bool is_search)
{
    const dg_hist *h = r->hist;
    json_t *lat = json_object(), *msgs = json_array();
    json_t *o = json_object();

    json_object_set_new(o, "count", u64_json(r->count));
    json_object_set_new(o, "ops_per_s", real3(ops_per_s(r, window_s)));
    json_object_set_new(o, "mean_ms", real3(dg_hist_mean(h) / 1000.0));
    json_object_set_new(o, "p50_ms", real3(ms(dg_hist_percentile(h, 50))));
    json_object_set_new(o, "p95_ms", real3(ms(dg_hist_percentile(h, 95))));
    json_object_set_new(o, "p99_ms", real3(ms(dg_hist_percentile(h, 99))));
    json_object_set_new(o, "max_ms", real3(ms(h->max_us)));
    json_object_set_new(o, "errors", u64_json(r->errors));
    for (size_t i = 0; i < r->n_messages; i++)
        json_array_append_new(msgs, json_string(r->messages[i]));
    json_object_set_new(o, "error_messages", msgs);
    if (is_search)
        json_object_set_new(o, "mean_hits",
                            real3(r->count ? (double)r->hits / (double)r->count : 0.0));
    /* The same numbers grouped, in the shape tests/bench/pg_compare.sh reads first. */
    json_object_set_new(lat, "mean", real3(dg_hist_mean(h) / 1000.0));
    json_object_set_new(lat, "p50", real3(ms(dg_hist_percentile(h, 50))));
    json_object_set_new(lat, "p95", real3(ms(dg_hist_percentile(h, 95))));
    json_object_set_new(lat, "p99", real3(ms(dg_hist_percentile(h, 99))));
    json_object_set_new(lat, "max", real3(ms(h->max_us)));
    json_object_set_new(o, "latency_ms", lat);
    return o;
}

static void report_json(const dg_bench_opts *o, const dg_bench_result *r, FILE *out)
{
    json_t *doc = json_object(), *mix = json_object(), *ops = json_object();
    uint64_t errors = 0;
    double total = 0;

    json_object_set_new(doc, "server", json_string(o->server));
    json_object_set_new(doc, "connections", json_integer(o->connections));
    json_object_set_new(doc, "pipeline", json_integer(o->pipeline));
    json_object_set_new(doc, "threads", json_integer(o->threads));
    json_object_set_new(doc, "duration_s", real3(o->duration_s));
    json_object_set_new(doc, "warmup_s", real3(o->warmup_s));
    json_object_set_new(doc, "seed", u64_json(o->seed));
    json_object_set_new(doc, "dossier", json_boolean(o->want_dossier));
    if (o->n_queries) {
        json_t *q = json_array();

        for (size_t i = 0; i < o->n_queries; i++)
            json_array_append_new(q, json_string(o->queries[i]));
        json_object_set_new(doc, "queries", q);
    }
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        json_object_set_new(mix, dg_bench_op_name(i), json_integer(o->mix[i]));
        if (o->mix[i] == 0)
            continue;
        json_object_set_new(ops, dg_bench_op_name(i),
                            op_json(&r->ops[i], r->window_s, i == DG_BENCH_SEARCH));
        total += ops_per_s(&r->ops[i], r->window_s);
        errors += r->ops[i].errors;
    }
    json_object_set_new(doc, "mix", mix);
    if (o->watchers) { /* events received by the subscribers: commit to receipt */
        json_object_set_new(doc, "watchers", json_integer(o->watchers));
        json_object_set_new(ops, "event", op_json(&r->events, r->window_s, false));
    }
    if (o->rate > 0)
        json_object_set_new(doc, "rate", real3(o->rate));
    json_object_set_new(doc, "customers", json_integer((json_int_t)r->n_customers));
    json_object_set_new(doc, "list_s", real3(r->list_s));
    json_object_set_new(doc, "connect_s", real3(r->connect_s));
    json_object_set_new(doc, "ops", ops);
    json_object_set_new(doc, "total_ops_per_s", real3(total));
    json_object_set_new(doc, "errors", u64_json(errors));
    json_object_set_new(doc, "lost_connections", json_integer(r->n_lost));
    json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', out);
    json_decref(doc);
}

static void report_table(const dg_bench_opts *o, const dg_bench_result *r, FILE *out)
{
    uint64_t count = 0, errors = 0;
    double total = 0;
    const char *sep = "";

    fprintf(out,
            "dangan-bench %s: %d connection%s on %d thread%s, pipeline %d, %g s measured after "
            "%g s warm-up\n",
            o->server, o->connections, o->connections == 1 ? "" : "s", o->threads,
            o->threads == 1 ? "" : "s", o->pipeline, o->duration_s, o->warmup_s);
    fprintf(out, "mix ");
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        if (o->mix[i]) {
            fprintf(out, "%s%s=%u", sep, dg_bench_op_name(i), o->mix[i]);
            sep = ",";
        }
    }
    fprintf(out, "%s; seed %llu", o->want_dossier ? "; gets with dossier" : "",
            (unsigned long long)o->seed);
    if (o->mix[DG_BENCH_GET] || o->mix[DG_BENCH_UPDATE])
        fprintf(out, "; %zu customers listed in %.2f s", r->n_customers, r->list_s);
    fprintf(out, "\n\n");
    fprintf(out, "%-7s %10s %10s %8s %8s %8s %8s %9s %7s\n", "op", "count", "ops/s", "mean ms",
            "p50 ms", "p95 ms", "p99 ms", "max ms", "errors");
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        const dg_bench_op_result *op = &r->ops[i];

        if (o->mix[i] == 0)
            continue;
        fprintf(out, "%-7s %10llu %10.1f %8.3f %8.3f %8.3f %8.3f %9.3f %7llu\n",
                dg_bench_op_name(i), (unsigned long long)op->count, ops_per_s(op, r->window_s),
                dg_hist_mean(op->hist) / 1000.0, ms(dg_hist_percentile(op->hist, 50)),
                ms(dg_hist_percentile(op->hist, 95)), ms(dg_hist_percentile(op->hist, 99)),
                ms(op->hist->max_us), (unsigned long long)op->errors);
        count += op->count;
        errors += op->errors;
        total += ops_per_s(op, r->window_s);
    }
    fprintf(out, "%-7s %10llu %10.1f %44s %7llu\n", "total", (unsigned long long)count, total, "",
            (unsigned long long)errors);
    if (o->watchers) {
        const dg_bench_op_result *ev = &r->events;

        fprintf(out, "\n%d watcher%s, commit to receipt:\n", o->watchers,
                o->watchers == 1 ? "" : "s");
        fprintf(out, "%-7s %10llu %10.1f %8.3f %8.3f %8.3f %8.3f %9.3f %7llu\n", "event",
                (unsigned long long)ev->count, ops_per_s(ev, r->window_s),
                dg_hist_mean(ev->hist) / 1000.0, ms(dg_hist_percentile(ev->hist, 50)),
                ms(dg_hist_percentile(ev->hist, 95)), ms(dg_hist_percentile(ev->hist, 99)),
                ms(ev->hist->max_us), (unsigned long long)ev->errors);
    }
    if (r->n_lost)
        fprintf(out, "\n%d connection%s lost during the run\n", r->n_lost,
                r->n_lost == 1 ? "" : "s");
    sep = "\n";
    for (int i = 0; i < DG_BENCH_N_OPS; i++) {
        for (size_t k = 0; k < r->ops[i].n_messages; k++) {
            fprintf(out, "%s%s error: %s\n", sep, dg_bench_op_name(i), r->ops[i].messages[k]);
            sep = "";
        }
    }
}

void dg_bench_report(const dg_bench_opts *o, const dg_bench_result *r, FILE *out)
{
    if (o->is_json)
        report_json(o, r, out);
    else
        report_table(o, r, out);
}
