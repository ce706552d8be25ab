/* h_session.c - Hello, Ping, Whoami, Authenticate, Logout.
 *
 * Authenticate resumes a session from its token: read the session and its
 * user → write "touch + audit", re-checking inside the write transaction
 * that no logout or password change revoked it meanwhile. Every outcome,
 * denials included, writes an audit record before the reply goes out.
 * Loop thread, except the *_run functions.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_later.h"
#include "auth.h"
#include "clock.h"
#include "dg.h"
#include "feed.h"
#include "frame.h"
#include "h_common.h"
#include "handlers.h"
#include "log.h"
#include "store.h"
#include "throttle.h"

#define PROTOCOL_MAJOR 1
#define PROTOCOL_MINOR 0
#define CLIENT_NAME_MAX 128

/* ------------------------------------------------------------ Hello, Ping, Whoami */

void dg_h_hello(dg_req *req)
{
    Dangan__V1__HelloRequest *m = req->msg->hello;
    Dangan__V1__HelloResponse *r;
    Dangan__V1__Limits *lim;
    Dangan__V1__Cursor *head;
    dg_server *srv = req->srv;

    if (m->protocol_major != PROTOCOL_MAJOR) {
        req->is_close_after = true;
        dg_req_fail(req, DG_ESTATE, "unsupported_protocol",
                    "this server speaks protocol %d.x; the client speaks %u.x", PROTOCOL_MAJOR,
                    m->protocol_major);
        return;
    }
    if (strlen(m->client_name) > CLIENT_NAME_MAX) {
        dg_req_violation(req, "hello.client_name", "at most 128 bytes");
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "client_name is too long");
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    lim = dg_req_alloc(req, sizeof *lim);
    head = dg_req_alloc(req, sizeof *head);
    dangan__v1__hello_response__init(r);
    dangan__v1__limits__init(lim);
    dangan__v1__cursor__init(head);
    lim->max_frame_before_login = DG_FRAME_MAX_BEFORE_LOGIN;
    lim->max_frame_after_login = dg_server_config(srv)->max_frame_after_login;
    lim->max_in_flight = dg_server_config(srv)->max_in_flight;
    lim->ping_interval_ms = dg_server_config(srv)->ping_interval_ms;
    lim->idle_timeout_ms = dg_server_config(srv)->idle_timeout_ms;
    head->epoch = dg_server_feed_epoch(srv);
    head->seq = (uint64_t)dg_feed_head(dg_server_feed(srv));
    r->server_version = DANGAN_VERSION;
    r->protocol_major = PROTOCOL_MAJOR;
    r->protocol_minor = PROTOCOL_MINOR;
    r->server_id = (char *)dg_server_id(srv);
    r->limits = lim;
    r->feed_head = head;
    dg_conn_set_hello(req->conn);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_HELLO;
    req->resp.hello = r;
    dg_req_reply(req);
}

void dg_h_ping(dg_req *req)
{
    Dangan__V1__PingResponse *r = dg_req_alloc(req, sizeof *r);

    dangan__v1__ping_response__init(r);
    r->client_time_ms = req->msg->ping->client_time_ms;
    r->server_time_ms = dg_now_ms();
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_PING;
    req->resp.ping = r;
    dg_req_reply(req);
}

void dg_h_whoami(dg_req *req)
{
    Dangan__V1__WhoamiResponse *r = dg_req_alloc(req, sizeof *r);

    dangan__v1__whoami_response__init(r);
    r->session = dg_h_session_info(req, dg_conn_session(req->conn));
    r->peer = dg_req_strdup(req, dg_conn_peer(req->conn));
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_WHOAMI;
    req->resp.whoami = r;
    dg_req_reply(req);
}

/* ------------------------------------------------------------ Authenticate */

struct authn {
    dg_job job;
    dg_req *req;
    uint8_t hash[DG_TOKEN_HASH_LEN];
    dg_session_row row;
    dg_user user;
    const char *fail_reason;
    int64_t retry_after_ms;
    int64_t now;
    struct dg_audit_buf audit;
};

static void authn_free(struct authn *a)
{
    dg_h_audit_fini(&a->audit);
    free(a);
}

/* Why a stored session cannot be resumed, or NULL. */
static const char *row_invalid_reason(const dg_session_row *row, const dg_user *u, int64_t now,
                                      int64_t idle_ms)
{
    if (row->revoked_at)
        return "session_revoked";
    if (now >= row->expires_at || now - row->last_seen_at >= idle_ms)
        return "session_expired";
    if (u->is_disabled)
        return "account_disabled";
    return NULL;
}

static void authn_denied_done(dg_job *job)
{
    struct authn *a = (struct authn *)job;
    dg_req *req = a->req;

    if (dg_audit_later_may(job->rc) &&
        dg_audit_later_add(dg_server_audit_later(req->srv), &a->audit.rec, job->rc) == DG_OK)
        job->rc = DG_OK;
    if (job->rc != DG_OK)
        dg_log_error("auth",
                     "action=%s msg=\"cannot write the audit record of a denied login\" "
                     "error=\"%s\"",
                     req->action, dg_strerror(job->rc));
    if (strcmp(a->fail_reason, "throttled") == 0) {
        dg_req_retry_after(req, a->retry_after_ms);
        dg_req_fail(req, DG_EFULL, "login_throttled",
                    "too many failed logins from this address; try again in %lld s",
                    (long long)(a->retry_after_ms + 999) / 1000);
    } else {
        dg_req_fail(req, DG_EAUTH, a->fail_reason, "the session token is not valid; log in again");
    }
    authn_free(a);
}

static void authn_denied_run(dg_job *job, void *ctx)
{
    dg_h_audit_only_run(job, ctx, &((struct authn *)job)->audit);
}

static void authn_deny(struct authn *a, const char *reason)
{
    dg_req *req = a->req;
    int rc;

    a->fail_reason = reason;
    if (strcmp(reason, "throttled") != 0)
        dg_throttle_peer_failure(dg_server_throttle(req->srv), dg_conn_peer_ip(req->conn),
                                 dg_now_ms());
    dg_h_audit_fill(&a->audit, req, a->user.id, a->user.username, "session", a->row.id, "denied",
                    dg_h_reason_detail(reason));
    a->job.run = authn_denied_run;
    a->job.done = authn_denied_done;
    if ((rc = dg_server_write(req->srv, &a->job)) == DG_EREADONLY) {
        a->job.rc = rc; /* refused before it ran: answered as a failed write */
        authn_denied_done(&a->job);
    } else if (rc != DG_OK) {
        authn_free(a);
        dg_h_fail_job(req, rc);
    }
}

static void authn_commit_run(dg_job *job, void *ctx)
{
    struct authn *a = (struct authn *)job;
    dg_wtx *tx = ctx;
    dg_session_row now_row;

    /* Re-read inside the write transaction: a logout or password change that
     * committed after our read must win. */
    job->rc = dg_store_session_by_hash(tx->store, a->hash, &now_row);
    if (job->rc != DG_OK)
        return;
    if (now_row.revoked_at) {
        a->fail_reason = "session_revoked";
        a->audit.rec.outcome = "denied";
    } else if ((job->rc = dg_store_session_touch(tx->store, a->row.id, a->now)) != DG_OK) {
        return;
    }
    job->rc = dg_audit_append(tx->store, tx->audit, &a->audit.rec);
}

static void authn_commit_done(dg_job *job)
{
    struct authn *a = (struct authn *)job;
    dg_req *req = a->req;
    Dangan__V1__AuthenticateResponse *r;
    dg_session tmpl, *s;

    /* As for Login (h_login.c): a full disk or a read-only writer does not
     * lock a valid session out; its audit record waits (audit_later.h). */
    if (dg_audit_later_may(job->rc) &&
        dg_audit_later_add(dg_server_audit_later(req->srv), &a->audit.rec, job->rc) == DG_OK)
        job->rc = DG_OK;
    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        authn_free(a);
        return;
    }
    if (a->fail_reason) {
        dg_req_fail(req, DG_EAUTH, a->fail_reason, "the session token is not valid; log in again");
        authn_free(a);
        return;
    }
    dg_h_session_from(&tmpl, &a->user, &a->row, a->now);
    s = dg_sessions_add(dg_server_sessions(req->srv), &tmpl);
    dg_session_touch(s, a->now);
    dg_conn_bind_session(req->conn, s);
    dg_session_unref(dg_server_sessions(req->srv), s); /* the connection holds it */
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__authenticate_response__init(r);
    r->session = dg_h_session_info(req, s);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_AUTHENTICATE;
    req->resp.authenticate = r;
    dg_req_reply(req);
    authn_free(a);
}

static void authn_commit(struct authn *a)
{
    dg_req *req = a->req;
    int rc;

    dg_h_audit_fill(&a->audit, req, a->user.id, a->user.username, "session", a->row.id, "ok", NULL);
    a->job.run = authn_commit_run;
    a->job.done = authn_commit_done;
    if ((rc = dg_server_write(req->srv, &a->job)) == DG_EREADONLY) {
        a->job.rc = rc; /* refused before it ran: answered as a failed write */
        authn_commit_done(&a->job);
    } else if (rc != DG_OK) {
        authn_free(a);
        dg_h_fail_job(req, rc);
    }
}

static void authn_read_run(dg_job *job, void *ctx)
{
    struct authn *a = (struct authn *)job;
    int rc = dg_store_session_by_hash(ctx, a->hash, &a->row);

    if (rc == DG_OK)
        rc = dg_store_user_by_id(ctx, a->row.user_id, &a->user);
    if (rc == DG_ENOTFOUND) {
        a->fail_reason = "invalid_token";
        rc = DG_OK;
    }
    job->rc = rc;
}

static void authn_read_done(dg_job *job)
{
    struct authn *a = (struct authn *)job;
    dg_req *req = a->req;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        authn_free(a);
        return;
    }
    a->now = dg_now_ms();
    if (!a->fail_reason)
        a->fail_reason = row_invalid_reason(
            &a->row, &a->user, a->now, (int64_t)dg_server_config(req->srv)->session_idle_s * 1000);
    if (a->fail_reason)
        authn_deny(a, a->fail_reason);
    else
        authn_commit(a);
}

void dg_h_authenticate(dg_req *req)
{
    dg_server *srv = req->srv;
    struct authn *a = dg_xcalloc(1, sizeof *a);
    int64_t wait;
    int rc;

    a->req = req;
    wait =
        dg_throttle_peer_wait_ms(dg_server_throttle(srv), dg_conn_peer_ip(req->conn), dg_now_ms());
    if (wait > 0) {
        a->retry_after_ms = wait;
        authn_deny(a, "throttled");
        return;
    }
    if (dg_token_hash(req->msg->authenticate->token, a->hash) != DG_OK) {
        authn_deny(a, "invalid_token");
        return;
    }
    a->job.run = authn_read_run;
    a->job.done = authn_read_done;
    if ((rc = dg_server_read(srv, &a->job)) != DG_OK) {
        authn_free(a);
        dg_h_fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ Logout */

struct logout {
    dg_job job;
    dg_req *req;
    int64_t session_id;
    uint8_t hash[DG_TOKEN_HASH_LEN];
    struct dg_audit_buf audit;
};

static void logout_run(dg_job *job, void *ctx)
{
    struct logout *lo = (struct logout *)job;
    dg_wtx *tx = ctx;

    job->rc = dg_store_session_revoke(tx->store, lo->session_id, lo->audit.rec.at, "logout");
    if (job->rc == DG_OK)
        job->rc = dg_audit_append(tx->store, tx->audit, &lo->audit.rec);
}

static void logout_done(dg_job *job)
{
    struct logout *lo = (struct logout *)job;
    dg_req *req = lo->req;

    /* A session that was never stored (id 0, h_login.c) ends in memory;
     * its record waits with the one of its sign-in. */
    if (lo->session_id == 0 && dg_audit_later_may(job->rc) &&
        dg_audit_later_add(dg_server_audit_later(req->srv), &lo->audit.rec, job->rc) == DG_OK)
        job->rc = DG_OK;
    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
    } else {
        dg_sessions_revoke_hash(dg_server_sessions(req->srv), lo->hash);
        dg_conn_unbind_session(req->conn);
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LOGOUT;
        req->resp.logout = dg_req_alloc(req, sizeof *req->resp.logout);
        dangan__v1__logout_response__init(req->resp.logout);
        dg_req_reply(req);
    }
    dg_h_audit_fini(&lo->audit);
    free(lo);
}

void dg_h_logout(dg_req *req)
{
    dg_session *s = dg_conn_session(req->conn);
    struct logout *lo = dg_xcalloc(1, sizeof *lo);
    int rc;

    lo->req = req;
    lo->session_id = s->id;
    memcpy(lo->hash, s->token_hash, DG_TOKEN_HASH_LEN);
    dg_h_audit_fill(&lo->audit, req, s->user_id, s->username, "session", s->id, "ok", NULL);
    lo->job.run = logout_run;
    lo->job.done = logout_done;
    if ((rc = dg_server_write(req->srv, &lo->job)) == DG_EREADONLY && lo->session_id == 0) {
        lo->job.rc = rc; /* refused before it ran: answered as a failed write */
        logout_done(&lo->job);
    } else if (rc != DG_OK) {
        dg_h_audit_fini(&lo->audit);
        free(lo);
        dg_h_fail_job(req, rc);
    }
}
