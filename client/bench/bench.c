/* bench.c - what the parts of dangan-bench share: operation names, error
 * notes and results, and opening an authenticated connection with the
 * benchmark's trust settings (a login, or resuming its session).
 * Any thread: nothing here is shared between calls.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"

#define CONNECT_TIMEOUT_MS 30000 /* 64 handshakes at once on a busy 2-core machine */

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
