/* bench.h - dangan-bench, the load generator of dangan: its options, its
 * results, and the functions main.c calls.
 *
 * A run: one setup connection logs in (the only password check), lists
 * every customer id and version when the mix needs them (timed, outside the
 * measurement), and hands its session token to the load threads (one per
 * connection, or --threads T each driving its share from one epoll set);
 * each connection is its own TLS connection, authenticates with the token,
 * and sends the mix of operations, one at a time or K in flight. After a warm-up the workers count
 * every operation that completes inside the measured window. At the end the
 * session is logged out and one report is printed (table or JSON).
 *
 * Exit codes: 0 the benchmark ran (even if operations failed: they are in
 * the report), 1 something else failed (setup request refused, not enough
 * customers), 2 usage, 3 cannot connect, TLS/trust failure or cannot log in.
 */
#ifndef DG_BENCH_H
#define DG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dangan.h"
#include "hist.h"

enum {
    DG_BENCH_EXIT_OK = 0,
    DG_BENCH_EXIT_FAIL = 1,
    DG_BENCH_EXIT_USAGE = 2,
    DG_BENCH_EXIT_CONNECT = 3
};

enum dg_bench_op {
    DG_BENCH_GET,
    DG_BENCH_SEARCH,
    DG_BENCH_UPDATE,
    DG_BENCH_CREATE,
    DG_BENCH_PING, /* no storage: the floor of a round trip (TLS, framing, session) */
    /* A Login that must fail as bad_credentials: the bench's user with a wrong
     * password, or a name that does not exist. Side by side they show whether
     * the two take the same time (one argon2id check each). */
    DG_BENCH_LOGIN_WRONG,
    DG_BENCH_LOGIN_UNKNOWN,
    DG_BENCH_N_OPS
};

#define DG_BENCH_MAX_CONNECTIONS 1000 /* the server's default connection cap */
#define DG_BENCH_MAX_PIPELINE 64      /* the server's default max_in_flight */
#define DG_BENCH_MAX_ERRORS 5         /* error messages kept per operation */
#define DG_BENCH_PASSWORD_MAX 1024

#define DG_BENCH_MAX_QUERIES 64

typedef struct dg_bench_opts {
    const char *server; /* HOST:PORT */
    const char *ca_file;
    const char *fingerprint;
    const char *user;
    char password[DG_BENCH_PASSWORD_MAX + 1]; /* read from stdin; wiped after login */
    int connections;
    int threads; /* --threads: load threads, each driving its share of the
                  * connections from one epoll set; 1 to connections (default:
                  * a thread per connection) */
    double duration_s;
    double warmup_s;
    int pipeline;
    unsigned mix[DG_BENCH_N_OPS]; /* relative weights, sum > 0 */
    uint64_t seed;
    bool is_json;
    bool want_dossier; /* gets ask for the whole dossier */
    long populate;     /* > 0: create this many customers and exit */
    double rate;       /* --rate: operations per second in all, 0: as fast as they go */
    int watchers;      /* --watchers: subscribers timing commit-to-receipt */
    const char *queries[DG_BENCH_MAX_QUERIES]; /* --query: searches pick from these */
    size_t n_queries;                          /* 0: the built-in realistic list */
} dg_bench_opts;

typedef struct dg_bench_op_result {
    uint64_t count;  /* successful operations completed inside the window */
    uint64_t errors; /* failed ones (server error, wrong answer, connection lost) */
    uint64_t hits;   /* search: hits returned, summed */
    dg_hist *hist;   /* latency of the successful ones, µs; owned */
    size_t n_messages;
    char messages[DG_BENCH_MAX_ERRORS][256]; /* the first distinct error messages */
} dg_bench_op_result;

typedef struct dg_bench_result {
    dg_bench_op_result ops[DG_BENCH_N_OPS];
    double window_s;           /* the measured window */
    double connect_s;          /* connecting and authenticating every worker */
    size_t n_customers;        /* listed at setup (0 when the mix needs none) */
    double list_s;             /* time the listing took */
    int n_lost;                /* worker connections lost during the run */
    dg_bench_op_result events; /* --watchers: change events received, commit-to-receipt */
} dg_bench_result;

/* "get", "search", "update", "create", "ping", "login_wrong", "login_unknown". */
const char *dg_bench_op_name(enum dg_bench_op op);

/* --populate: creates o->populate customers in batches, prints what it did. */
int dg_bench_populate(dg_bench_opts *o);

/* Opens a connection with the trust settings of `o` and logs in with its
 * password; `token` gets the session token. On failure returns the dg_err
 * with the reason in `err` and *out is NULL. Any thread. */
int dg_bench_login(const dg_bench_opts *o, dg_client **out, char token[DG_CLIENT_TOKEN_LEN + 1],
                   char *err, size_t err_len);
/* Opens a connection and resumes the session of `token` (Authenticate: no
 * password hashing on the server). Same contract as dg_bench_login. */
/* The same with pushed events going to on_event (watchers). */
int dg_bench_resume_ev(const dg_bench_opts *o, const char *token, dg_client_event_fn on_event,
                       void *user, dg_client **out, char *err, size_t err_len);
int dg_bench_resume(const dg_bench_opts *o, const char *token, dg_client **out, char *err,
                    size_t err_len);

/* Prints the report: a table, or with o->is_json exactly one JSON document. */
void dg_bench_report(const dg_bench_opts *o, const dg_bench_result *r, FILE *out);
/* Frees the histograms of `r`. */
void dg_bench_result_fini(dg_bench_result *r);
/* Adds the message to op's first distinct messages (if there is room). */
void dg_bench_note_error(dg_bench_op_result *op, const char *msg);

#endif
