/* main.c - dangan-bench: argv → dg_bench_opts, then dg_bench_run (or
 * dg_bench_populate). Usage errors exit 2 before anything is sent. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "run.h"
#include "dg.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dangan-bench --server HOST:PORT [--ca FILE | --fingerprint SHA256]\n"
            "                    --user NAME --password-stdin\n"
            "                    [--connections N] [--duration SECONDS] [--pipeline K]\n"
            "                    [--mix get=70,search=10,update=15,create=5] [--warmup SECONDS]\n"
            "                    [--seed S] [--dossier] [--query TEXT]... [--rate N]\n"
            "                    [--watchers M] [--json]\n"
            "       dangan-bench --server ... --user NAME --password-stdin --populate N\n"
            "\n"
            "Load generator for dangand. It logs in once; each connection is a TLS\n"
            "connection on its own thread that resumes that session before timing, then\n"
            "sends one request at a time, or keeps K in flight with --pipeline K.\n"
            "Operations on customers:\n"
            "  get     a random existing customer by id (--dossier: the whole dossier)\n"
            "  search  a realistic query (two-character Chinese names, cities, industry\n"
            "          and brand words; some Latin)\n"
            "  update  a new phone number with the expected version (each connection\n"
            "          updates its own share of the customers: a conflict is an error)\n"
            "  create  a new company customer (allow_duplicate)\n"
            "and on sessions: login_wrong (the user's name, a wrong password) and\n"
            "login_unknown (a name nobody has), each answered bad_credentials: compare\n"
            "their latencies (one argon2id check each; the server's [login] limits must\n"
            "allow that many failures).\n"
            "Customer ids and versions are listed before timing when the mix needs them.\n"
            "\n"
            "  --connections N     connections (default 16, at most %d)\n"
            "  --threads T         T threads drive the connections, each its share from one\n"
            "                      epoll set, as pgbench -j does (default: a thread each)\n"
            "  --duration SECONDS  measured time (default 20)\n"
            "  --warmup SECONDS    run before measuring, not counted (default 2)\n"
            "  --pipeline K        requests in flight per connection (default 1, at most %d)\n"
            "  --mix LIST          relative weights (default get=70,search=10,update=15,create=5);\n"
            "                      ping is a round trip that touches no storage\n"
            "  --seed S            random seed (default: random, printed in the report)\n"
            "  --dossier           gets ask for the whole dossier\n"
            "  --rate N            N operations a second in all (default: as fast as they go)\n"
            "  --watchers M        M more connections subscribe to the change feed and time\n"
            "                      each change from its commit to its receipt (op \"event\")\n"
            "  --query TEXT        searches pick from these (repeatable, at most 64) instead\n"
            "                      of the built-in list, e.g. --query 华为 for one query\n"
            "  --json              print one JSON document: {server, connections, pipeline,\n"
            "                      duration_s, mix, ops: {OP: {count, ops_per_s, mean_ms, p50_ms,\n"
            "                      p95_ms, p99_ms, max_ms, errors, error_messages, latency_ms}},\n"
            "                      total_ops_per_s, ...}\n"
            "  --populate N        create N customers (batches of 1000), then exit\n"
            "\n"
            "Only operations completing inside the measured window are counted.\n"
            "The password is read from the first line of standard input. Latency is from\n"
            "sending a request to collecting its response, in ms; with --pipeline > 1 a\n"
            "response that overtakes an older one is timed when the older one arrives.\n"
            "Exit: 0 ran (operation errors are in the report), 1 setup failed, 2 usage,\n"
            "3 cannot connect or log in.\n",
            DG_BENCH_MAX_CONNECTIONS, DG_BENCH_MAX_PIPELINE);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "dangan-bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see dangan-bench --help)\n");
    return DG_BENCH_EXIT_USAGE;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "get=70,search=10": every named op gets its weight, the others 0. */
static bool parse_mix(const char *text, unsigned mix[DG_BENCH_N_OPS])
{
    char buf[256], *save = NULL;
    bool seen[DG_BENCH_N_OPS] = {false};
    unsigned long sum = 0;

    if (strlen(text) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", text);
    memset(mix, 0, DG_BENCH_N_OPS * sizeof *mix);
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        long w;
        int op = -1;

        if (!eq || !parse_long(eq + 1, 0, 1000000, &w))
            return false;
        *eq = '\0';
        for (int i = 0; i < DG_BENCH_N_OPS; i++)
            if (strcmp(item, dg_bench_op_name(i)) == 0)
                op = i;
        if (op < 0 || seen[op])
            return false;
        seen[op] = true;
        mix[op] = (unsigned)w;
        sum += (unsigned long)w;
    }
    return sum > 0;
}

/* The first line of stdin, without its line end. */
static int read_password(dg_bench_opts *o)
{
    char buf[DG_BENCH_PASSWORD_MAX + 2];
    size_t n;

    if (!fgets(buf, sizeof buf, stdin))
        return bad("%s", "--password-stdin: nothing on standard input");
    n = strcspn(buf, "\r\n");
    if (n == sizeof buf - 1) { /* no line end in DG_BENCH_PASSWORD_MAX + 1 bytes */
        dg_wipe(buf, sizeof buf);
        return bad("%s", "--password-stdin: the password is too long");
    }
    buf[n] = '\0';
    memcpy(o->password, buf, n + 1); /* n <= DG_BENCH_PASSWORD_MAX, checked above */
    dg_wipe(buf, sizeof buf);
    if (!o->password[0])
        return bad("%s", "--password-stdin: the first line of standard input is empty");
    return DG_BENCH_EXIT_OK;
}

enum {
    OPT_SERVER = 256,
    OPT_CA,
    OPT_FP,
    OPT_USER,
    OPT_PWSTDIN,
    OPT_CONNS,
    OPT_THREADS,
    OPT_DURATION,
    OPT_PIPELINE,
    OPT_MIX,
    OPT_WARMUP,
    OPT_SEED,
    OPT_JSON,
    OPT_DOSSIER,
    OPT_QUERY,
    OPT_WATCHERS,
    OPT_RATE,
    OPT_POPULATE,
    OPT_VERSION
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"ca", required_argument, NULL, OPT_CA},
    {"fingerprint", required_argument, NULL, OPT_FP},
    {"user", required_argument, NULL, OPT_USER},
    {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
    {"connections", required_argument, NULL, OPT_CONNS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"pipeline", required_argument, NULL, OPT_PIPELINE},
    {"mix", required_argument, NULL, OPT_MIX},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"json", no_argument, NULL, OPT_JSON},
    {"dossier", no_argument, NULL, OPT_DOSSIER},
    {"query", required_argument, NULL, OPT_QUERY},
    {"watchers", required_argument, NULL, OPT_WATCHERS},
    {"rate", required_argument, NULL, OPT_RATE},
    {"populate", required_argument, NULL, OPT_POPULATE},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One option into o; returns an exit code (OK to go on). */
static int take_option(dg_bench_opts *o, int opt, const char *arg, bool *has_pw_stdin)
{
    long v;

    switch (opt) {
    case OPT_SERVER:
        o->server = arg;
        break;
    case OPT_CA:
        o->ca_file = arg;
        break;
    case OPT_FP:
        o->fingerprint = arg;
        break;
    case OPT_USER:
        o->user = arg;
        break;
    case OPT_PWSTDIN:
        *has_pw_stdin = true;
        break;
    case OPT_JSON:
        o->is_json = true;
        break;
    case OPT_DOSSIER:
        o->want_dossier = true;
        break;
    case OPT_WATCHERS:
        if (!parse_long(arg, 0, DG_BENCH_MAX_CONNECTIONS, &v))
            return bad("--watchers must be 0 to 1000, got \"%s\"", arg);
        o->watchers = (int)v;
        break;
    case OPT_RATE:
        if (!parse_seconds(arg, 1, 1e7, &o->rate))
            return bad("--rate must be 1 to 10000000 operations a second, got \"%s\"", arg);
        break;
    case OPT_QUERY:
        if (!*arg)
            return bad("--query must not be empty");
        if (o->n_queries == DG_BENCH_MAX_QUERIES)
            return bad("at most %d --query", DG_BENCH_MAX_QUERIES);
        o->queries[o->n_queries++] = arg;
        break;
    case OPT_CONNS:
        if (!parse_long(arg, 1, DG_BENCH_MAX_CONNECTIONS, &v))
            return bad("--connections must be 1 to 1000, got \"%s\"", arg);
        o->connections = (int)v;
        break;
    case OPT_THREADS:
        if (!parse_long(arg, 1, DG_BENCH_MAX_CONNECTIONS, &v))
            return bad("--threads must be 1 to 1000, got \"%s\"", arg);
        o->threads = (int)v;
        break;
    case OPT_PIPELINE:
        if (!parse_long(arg, 1, DG_BENCH_MAX_PIPELINE, &v))
            return bad("--pipeline must be 1 to 64, got \"%s\"", arg);
        o->pipeline = (int)v;
        break;
    case OPT_DURATION:
        if (!parse_seconds(arg, 0.1, 86400, &o->duration_s))
            return bad("--duration must be 0.1 to 86400 seconds, got \"%s\"", arg);
        break;
    case OPT_WARMUP:
        if (!parse_seconds(arg, 0, 3600, &o->warmup_s))
            return bad("--warmup must be 0 to 3600 seconds, got \"%s\"", arg);
        break;
    case OPT_MIX:
        if (!parse_mix(arg, o->mix))
            return bad("--mix must be OP=WEIGHT,... with OP one of get, search, update, "
                       "create, ping, each at most once, weights summing above 0; got \"%s\"",
                       arg);
        break;
    case OPT_SEED:
        errno = 0;
        {
            char *end;
            unsigned long long s = strtoull(arg, &end, 10);

            if (errno || end == arg || *end || arg[0] == '-')
                return bad("--seed must be a non-negative integer, got \"%s\"", arg);
            o->seed = (uint64_t)s;
        }
        break;
    case OPT_POPULATE:
        if (!parse_long(arg, 1, 100000000, &o->populate))
            return bad("--populate must be 1 to 100000000, got \"%s\"", arg);
        break;
    default:
        return DG_BENCH_EXIT_USAGE; /* getopt_long has said what was wrong */
    }
    return DG_BENCH_EXIT_OK;
}

static int parse_args(int argc, char **argv, dg_bench_opts *o, bool *is_done)
{
    bool has_pw_stdin = false, has_seed = false;
    int opt, rc;

    *o = (dg_bench_opts){.connections = 16,
                         .duration_s = 20,
                         .warmup_s = 2,
                         .pipeline = 1,
                         .mix = {[DG_BENCH_GET] = 70,
                                 [DG_BENCH_SEARCH] = 10,
                                 [DG_BENCH_UPDATE] = 15,
                                 [DG_BENCH_CREATE] = 5}};
    *is_done = false;
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        if (opt == 'h' || opt == OPT_VERSION) {
            if (opt == 'h')
                usage(stdout);
            else
                printf("dangan-bench %s\n", DANGAN_VERSION);
            *is_done = true;
            return DG_BENCH_EXIT_OK;
        }
        has_seed |= opt == OPT_SEED;
        if ((rc = take_option(o, opt, optarg, &has_pw_stdin)) != DG_BENCH_EXIT_OK)
            return rc;
    }
    if (optind < argc)
        return bad("unexpected argument \"%s\"", argv[optind]);
    if (!o->server)
        return bad("%s", "--server HOST:PORT is required");
    if (!o->ca_file == !o->fingerprint)
        return bad("%s", "give exactly one of --ca FILE and --fingerprint SHA256");
    if (!o->user)
        return bad("%s", "--user NAME is required");
    if (!has_pw_stdin)
        return bad("%s", "--password-stdin is required (the password is read from stdin)");
    if (o->threads == 0 || o->threads > o->connections)
        o->threads = o->connections; /* a thread each, and never an idle one */
    if (!has_seed) {
        uint32_t seed; /* 32 bits: easy to retype from the report */

        dg_random(&seed, sizeof seed);
        o->seed = seed;
    }
    return read_password(o);
}

int main(int argc, char **argv)
{
    dg_bench_opts o;
    bool is_done;
    int rc = parse_args(argc, argv, &o, &is_done);

    if (rc != DG_BENCH_EXIT_OK || is_done)
        return rc;
    signal(SIGPIPE, SIG_IGN); /* a server going away is an error to report, not a signal */
    rc = o.populate > 0 ? dg_bench_populate(&o) : dg_bench_run(&o);
    dg_wipe(o.password, sizeof o.password);
    return rc;
}
