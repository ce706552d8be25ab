/* h_session.c - Hello, Login, Authenticate, Logout, Ping, Whoami, ChangePassword.
 *
 * The slow paths are chains of jobs, each carried by one struct that owns
 * the request until it is answered:
 *   Login:          read user → verify password (hasher) → write session + audit
 *   Authenticate:   read session + user → write touch + audit (re-checks revocation)
 *   ChangePassword: read user → verify + hash (hasher) → write password, revoke, new session + audit
 * Every outcome of a login, logout or password change, including denials,
 * writes an audit record through the writer before the reply goes out.
 * Unknown user and wrong password take the same path (a dummy hash is
 * verified) and get the same answer. Loop thread, except the *_run functions.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "clock.h"
#include "dg.h"
#include "frame.h"
#include "handlers.h"
#include "log.h"
#include "store.h"

#define PROTOCOL_MAJOR 1
#define PROTOCOL_MINOR 0
#define CLIENT_NAME_MAX 128

/* ------------------------------------------------------------ shared helpers */

/* An audit record with its own copies of the strings it points to. */
struct audit_buf {
    dg_audit_rec rec;
    char username[DG_USERNAME_MAX * 4 + 1];
    char peer[DG_PEER_MAX];
    char *detail; /* jansson-allocated */
};

static void audit_fill(struct audit_buf *a, dg_req *req, int64_t user_id, const char *username,
                       const char *entity, int64_t entity_id, const char *outcome, json_t *detail)
{
    /* Names as typed may be long or odd: keep at most 64 characters' worth. */
    snprintf(a->username, sizeof a->username, "%.*s", DG_USERNAME_MAX * 4, username);
    snprintf(a->peer, sizeof a->peer, "%s", dg_conn_peer(req->conn));
    if (!detail)
        detail = json_object();
    free(a->detail);
    a->detail = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (!a->detail)
        a->detail = strdup("{}");
    dg_assert(a->detail);
    a->rec = (dg_audit_rec){
        .at = dg_now_ms(),
        .user_id = user_id,
        .username = a->username,
        .peer = a->peer,
        .action = req->action,
        .entity = entity,
        .entity_id = entity_id,
        .outcome = outcome,
        .detail = a->detail,
    };
}

static json_t *reason_detail(const char *reason)
{
    return json_pack("{s:s}", "reason", reason);
}

static void audit_fini(struct audit_buf *a)
{
    free(a->detail);
    a->detail = NULL;
}

/* Answers a request whose job could not be queued or failed in the store. */
static void fail_job(dg_req *req, int rc)
{
    switch (rc) {
    case DG_EFULL:
        dg_req_retry_after(req, 1000);
        dg_req_fail(req, rc, "overloaded", "the server is overloaded; try again shortly");
        break;
    case DG_EREADONLY:
        dg_req_fail(req, rc, "read_only",
                    "the server refuses writes after a storage error; an administrator must "
                    "check the disk and restart it");
        break;
    case DG_EBUSY:
        dg_req_retry_after(req, 500);
        dg_req_fail(req, rc, "busy", "the database is busy; try again");
        break;
    default:
        dg_req_fail(req, rc, "storage_error", "storage error: %s", dg_strerror(rc));
        break;
    }
}

static Dangan__V1__SessionInfo *session_info(dg_req *req, const dg_session *s)
{
    Dangan__V1__SessionInfo *si = dg_req_alloc(req, sizeof *si);
    Dangan__V1__UserRef *u = dg_req_alloc(req, sizeof *u);

    dangan__v1__session_info__init(si);
    dangan__v1__user_ref__init(u);
    u->id = s->user_id;
    u->username = dg_req_strdup(req, s->username);
    u->role = (Dangan__V1__Role)s->role;
    si->user = u;
    si->created_at_ms = s->created_at;
    si->expires_at_ms = s->expires_at;
    si->idle_timeout_ms = req->srv->cfg.session_idle_s * 1000u;
    si->must_change_password = s->must_change_password;
    return si;
}

/* A session template for the registry from a user and a stored session row. */
static void session_from(dg_session *s, const dg_user *u, const dg_session_row *row, int64_t now)
{
    memset(s, 0, sizeof *s);
    s->id = row->id;
    memcpy(s->token_hash, row->token_hash, DG_TOKEN_HASH_LEN);
    s->user_id = u->id;
    snprintf(s->username, sizeof s->username, "%s", u->username);
    s->role = u->role;
    s->must_change_password = u->must_change_password;
    s->created_at = row->created_at;
    s->expires_at = row->expires_at;
    s->last_active_at = now;
    s->persisted_seen_at = now;
}

static void new_session_row(dg_session_row *row, dg_req *req, int64_t user_id,
                            const uint8_t hash[DG_TOKEN_HASH_LEN], int64_t now)
{
    memset(row, 0, sizeof *row);
    memcpy(row->token_hash, hash, DG_TOKEN_HASH_LEN);
    row->user_id = user_id;
    row->created_at = now;
    row->expires_at = now + (int64_t)req->srv->cfg.session_absolute_s * 1000;
    snprintf(row->peer, sizeof row->peer, "%s", dg_conn_peer(req->conn));
}

/* Write job body for records that change nothing else (denials). */
static void audit_only_run(dg_job *job, void *ctx, struct audit_buf *a)
{
    dg_wtx *tx = ctx;

    job->rc = dg_audit_append(tx->store, tx->audit, &a->rec);
}

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
    lim->max_frame_after_login = srv->cfg.max_frame_after_login;
    lim->max_in_flight = srv->cfg.max_in_flight;
    lim->ping_interval_ms = srv->cfg.ping_interval_ms;
    lim->idle_timeout_ms = srv->cfg.idle_timeout_ms;
    head->epoch = srv->feed_epoch;
    head->seq = (uint64_t)srv->feed_head;
    r->server_version = DANGAN_VERSION;
    r->protocol_major = PROTOCOL_MAJOR;
    r->protocol_minor = PROTOCOL_MINOR;
    r->server_id = srv->server_id;
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
    r->session = session_info(req, dg_conn_session(req->conn));
    r->peer = dg_req_strdup(req, dg_conn_peer(req->conn));
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_WHOAMI;
    req->resp.whoami = r;
    dg_req_reply(req);
}

/* ------------------------------------------------------------ Login */

struct login {
    dg_job job;
    dg_req *req;
    char account[DG_USERNAME_MAX * 4 + 1]; /* throttle key: normalised name, or as typed */
    char username[DG_USERNAME_MAX + 1];    /* normalised; "" when the syntax is invalid */
    char password[DG_PASSWORD_MAX_BYTES + 1];
    const char *dummy_hash;
    dg_user user;
    bool is_found;
    bool is_match;
    char token[DG_TOKEN_TEXT_LEN + 1];
    dg_session_row row;
    struct audit_buf audit;
    const char *fail_reason;
    int64_t retry_after_ms;
};

static void login_free(struct login *l)
{
    audit_fini(&l->audit);
    dg_wipe(l->password, sizeof l->password);
    dg_wipe(l->token, sizeof l->token);
    free(l);
}

static void login_denied_done(dg_job *job)
{
    struct login *l = (struct login *)job;
    dg_req *req = l->req;

    if (job->rc != DG_OK)
        dg_log_error("auth", "action=%s msg=\"cannot write the audit record of a denied login\" "
                     "error=\"%s\"", req->action, dg_strerror(job->rc));
    if (strcmp(l->fail_reason, "throttled") == 0) {
        dg_req_retry_after(req, l->retry_after_ms);
        dg_req_fail(req, DG_EFULL, "login_throttled",
                    "too many failed logins; try again in %lld s",
                    (long long)(l->retry_after_ms + 999) / 1000);
    } else if (strcmp(l->fail_reason, "account_disabled") == 0) {
        dg_req_fail(req, DG_EAUTH, "account_disabled", "this account is disabled");
    } else {
        dg_req_fail(req, DG_EAUTH, "bad_credentials", "wrong user name or password");
    }
    login_free(l);
}

static void login_denied_run(dg_job *job, void *ctx)
{
    audit_only_run(job, ctx, &((struct login *)job)->audit);
}

static void login_deny(struct login *l, const char *reason)
{
    dg_req *req = l->req;
    int rc;

    l->fail_reason = reason;
    audit_fill(&l->audit, req, l->is_found ? l->user.id : 0, l->account, "session", 0, "denied",
               reason_detail(reason));
    l->job.run = login_denied_run;
    l->job.done = login_denied_done;
    if ((rc = dg_server_write(req->srv, &l->job)) != DG_OK) {
        login_free(l);
        fail_job(req, rc);
    }
}

static void login_commit_run(dg_job *job, void *ctx)
{
    struct login *l = (struct login *)job;
    dg_wtx *tx = ctx;

    job->rc = dg_store_session_insert(tx->store, &l->row);
    if (job->rc != DG_OK)
        return;
    l->audit.rec.entity_id = l->row.id;
    job->rc = dg_audit_append(tx->store, tx->audit, &l->audit.rec);
}

static void login_commit_done(dg_job *job)
{
    struct login *l = (struct login *)job;
    dg_req *req = l->req;
    Dangan__V1__LoginResponse *r;
    dg_session tmpl, *s;

    if (job->rc != DG_OK) {
        fail_job(req, job->rc);
        login_free(l);
        return;
    }
    session_from(&tmpl, &l->user, &l->row, dg_now_ms());
    s = dg_sessions_add(req->srv->sessions, &tmpl);
    dg_conn_bind_session(req->conn, s);
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__login_response__init(r);
    r->token = dg_req_strdup(req, l->token);
    r->session = session_info(req, s);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LOGIN;
    req->resp.login = r;
    dg_log_info("auth", "conn=%llu peer=%s user=%s action=%s msg=\"logged in\"",
                (unsigned long long)dg_conn_id(req->conn), dg_conn_peer(req->conn), s->username,
                req->action);
    dg_req_reply(req);
    login_free(l);
}

static void login_verify_run(dg_job *job, void *ctx)
{
    struct login *l = (struct login *)job;

    DG_UNUSED(ctx);
    /* Unknown users are checked against a dummy hash: same work, same time. */
    l->is_match = dg_password_verify(l->is_found ? l->user.password_hash : l->dummy_hash,
                                     l->password) &&
                  l->is_found;
    dg_wipe(l->password, sizeof l->password);
    job->rc = DG_OK;
}

static void login_verify_done(dg_job *job)
{
    struct login *l = (struct login *)job;
    dg_req *req = l->req;
    dg_server *srv = req->srv;
    uint8_t hash[DG_TOKEN_HASH_LEN];
    int64_t now = dg_now_ms();
    int rc;

    if (!l->is_match || l->user.is_disabled) {
        dg_throttle_failure(srv->throttle, l->account, dg_conn_peer_ip(req->conn), now);
        login_deny(l, l->is_match ? "account_disabled" : "bad_credentials");
        return;
    }
    dg_throttle_success(srv->throttle, l->account);
    dg_token_new(l->token, hash);
    new_session_row(&l->row, req, l->user.id, hash, now);
    audit_fill(&l->audit, req, l->user.id, l->user.username, "session", 0, "ok", NULL);
    l->job.run = login_commit_run;
    l->job.done = login_commit_done;
    if ((rc = dg_server_write(srv, &l->job)) != DG_OK) {
        login_free(l);
        fail_job(req, rc);
    }
}

static void login_read_run(dg_job *job, void *ctx)
{
    struct login *l = (struct login *)job;
    int rc = dg_store_user_by_name(ctx, l->username, &l->user);

    l->is_found = rc == DG_OK;
    job->rc = rc == DG_ENOTFOUND ? DG_OK : rc;
}

static void login_read_done(dg_job *job)
{
    struct login *l = (struct login *)job;
    dg_req *req = l->req;
    int rc = job->rc;

    if (rc == DG_OK) {
        l->job.run = login_verify_run;
        l->job.done = login_verify_done;
        rc = dg_server_hash(req->srv, &l->job);
    }
    if (rc != DG_OK) {
        login_free(l);
        fail_job(req, rc);
    }
}

void dg_h_login(dg_req *req)
{
    Dangan__V1__LoginRequest *m = req->msg->login;
    dg_server *srv = req->srv;
    struct login *l;
    int64_t wait;
    int rc;

    if (!m->username[0])
        dg_req_violation(req, "login.username", "required");
    if (!m->password[0] || strlen(m->password) > DG_PASSWORD_MAX_BYTES)
        dg_req_violation(req, "login.password", "required, at most 1024 bytes");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "user name and password are required");
        return;
    }
    l = dg_xcalloc(1, sizeof *l);
    l->req = req;
    l->dummy_hash = srv->dummy_hash;
    if (dg_username_normalize(m->username, l->username) == DG_OK)
        snprintf(l->account, sizeof l->account, "%s", l->username);
    else /* cannot exist; still goes the whole way so it looks like any wrong name */
        snprintf(l->account, sizeof l->account, "%.*s", DG_USERNAME_MAX * 4, m->username);
    wait = dg_throttle_wait_ms(srv->throttle, l->account, dg_conn_peer_ip(req->conn), dg_now_ms());
    if (wait > 0) {
        l->retry_after_ms = wait;
        login_deny(l, "throttled");
        return;
    }
    snprintf(l->password, sizeof l->password, "%s", m->password);
    l->job.run = login_read_run;
    l->job.done = login_read_done;
    if ((rc = dg_server_read(srv, &l->job)) != DG_OK) {
        login_free(l);
        fail_job(req, rc);
    }
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
    struct audit_buf audit;
};

static void authn_free(struct authn *a)
{
    audit_fini(&a->audit);
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

    if (job->rc != DG_OK)
        dg_log_error("auth", "action=%s msg=\"cannot write the audit record of a denied login\" "
                     "error=\"%s\"", req->action, dg_strerror(job->rc));
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
    audit_only_run(job, ctx, &((struct authn *)job)->audit);
}

static void authn_deny(struct authn *a, const char *reason)
{
    dg_req *req = a->req;
    int rc;

    a->fail_reason = reason;
    if (strcmp(reason, "throttled") != 0)
        dg_throttle_failure(req->srv->throttle, NULL, dg_conn_peer_ip(req->conn), dg_now_ms());
    audit_fill(&a->audit, req, a->user.id, a->user.username, "session", a->row.id, "denied",
               reason_detail(reason));
    a->job.run = authn_denied_run;
    a->job.done = authn_denied_done;
    if ((rc = dg_server_write(req->srv, &a->job)) != DG_OK) {
        authn_free(a);
        fail_job(req, rc);
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

    if (job->rc != DG_OK) {
        fail_job(req, job->rc);
        authn_free(a);
        return;
    }
    if (a->fail_reason) {
        dg_req_fail(req, DG_EAUTH, a->fail_reason, "the session token is not valid; log in again");
        authn_free(a);
        return;
    }
    session_from(&tmpl, &a->user, &a->row, a->now);
    s = dg_sessions_add(req->srv->sessions, &tmpl);
    s->last_active_at = a->now;
    dg_conn_bind_session(req->conn, s);
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__authenticate_response__init(r);
    r->session = session_info(req, s);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_AUTHENTICATE;
    req->resp.authenticate = r;
    dg_req_reply(req);
    authn_free(a);
}

static void authn_commit(struct authn *a)
{
    dg_req *req = a->req;
    int rc;

    audit_fill(&a->audit, req, a->user.id, a->user.username, "session", a->row.id, "ok", NULL);
    a->job.run = authn_commit_run;
    a->job.done = authn_commit_done;
    if ((rc = dg_server_write(req->srv, &a->job)) != DG_OK) {
        authn_free(a);
        fail_job(req, rc);
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
        fail_job(req, job->rc);
        authn_free(a);
        return;
    }
    a->now = dg_now_ms();
    if (!a->fail_reason)
        a->fail_reason = row_invalid_reason(&a->row, &a->user, a->now,
                                            (int64_t)req->srv->cfg.session_idle_s * 1000);
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
    wait = dg_throttle_wait_ms(srv->throttle, NULL, dg_conn_peer_ip(req->conn), dg_now_ms());
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
        fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ Logout */

struct logout {
    dg_job job;
    dg_req *req;
    int64_t session_id;
    uint8_t hash[DG_TOKEN_HASH_LEN];
    struct audit_buf audit;
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
    dg_session *s;

    if (job->rc != DG_OK) {
        fail_job(req, job->rc);
    } else {
        s = dg_sessions_find(req->srv->sessions, lo->hash);
        if (s)
            dg_sessions_revoke(req->srv->sessions, s);
        dg_conn_unbind_session(req->conn);
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LOGOUT;
        req->resp.logout = dg_req_alloc(req, sizeof *req->resp.logout);
        dangan__v1__logout_response__init(req->resp.logout);
        dg_req_reply(req);
    }
    audit_fini(&lo->audit);
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
    audit_fill(&lo->audit, req, s->user_id, s->username, "session", s->id, "ok", NULL);
    lo->job.run = logout_run;
    lo->job.done = logout_done;
    if ((rc = dg_server_write(req->srv, &lo->job)) != DG_OK) {
        audit_fini(&lo->audit);
        free(lo);
        fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ ChangePassword */

struct chpw {
    dg_job job;
    dg_req *req;
    int64_t user_id;
    char username[DG_USERNAME_MAX + 1];
    char current[DG_PASSWORD_MAX_BYTES + 1];
    char fresh[DG_PASSWORD_MAX_BYTES + 1];
    dg_argon2_params params;
    dg_user user;
    bool is_match;
    int hash_rc;
    char new_hash[DG_PASSWORD_HASH_MAX];
    char token[DG_TOKEN_TEXT_LEN + 1];
    dg_session_row row;
    int n_revoked;
    char revoked_detail[48];
    int64_t retry_after_ms;
    const char *fail_reason;
    struct audit_buf audit;
};

static void chpw_free(struct chpw *c)
{
    dg_wipe(c->current, sizeof c->current);
    dg_wipe(c->fresh, sizeof c->fresh);
    dg_wipe(c->token, sizeof c->token);
    audit_fini(&c->audit);
    free(c);
}

static void chpw_denied_done(dg_job *job)
{
    struct chpw *c = (struct chpw *)job;
    dg_req *req = c->req;

    if (job->rc != DG_OK)
        dg_log_error("auth", "action=%s msg=\"cannot write the audit record of a denied password "
                     "change\" error=\"%s\"", req->action, dg_strerror(job->rc));
    if (strcmp(c->fail_reason, "throttled") == 0) {
        dg_req_retry_after(req, c->retry_after_ms);
        dg_req_fail(req, DG_EFULL, "login_throttled",
                    "too many failed attempts; try again in %lld s",
                    (long long)(c->retry_after_ms + 999) / 1000);
    } else {
        dg_req_violation(req, "change_password.current_password", "does not match");
        dg_req_fail(req, DG_EDENIED, "wrong_current_password", "the current password is wrong");
    }
    chpw_free(c);
}

static void chpw_denied_run(dg_job *job, void *ctx)
{
    audit_only_run(job, ctx, &((struct chpw *)job)->audit);
}

static void chpw_deny(struct chpw *c, const char *reason)
{
    dg_req *req = c->req;
    int rc;

    c->fail_reason = reason;
    audit_fill(&c->audit, req, c->user_id, c->username, "user", c->user_id, "denied",
               reason_detail(reason));
    c->job.run = chpw_denied_run;
    c->job.done = chpw_denied_done;
    if ((rc = dg_server_write(req->srv, &c->job)) != DG_OK) {
        chpw_free(c);
        fail_job(req, rc);
    }
}

static void chpw_commit_run(dg_job *job, void *ctx)
{
    struct chpw *c = (struct chpw *)job;
    dg_wtx *tx = ctx;
    int64_t at = c->audit.rec.at;

    job->rc = dg_store_user_set_password(tx->store, c->user_id, c->new_hash, false, at, c->user_id);
    if (job->rc == DG_OK)
        job->rc = dg_store_session_revoke_user(tx->store, c->user_id, at, "password_change",
                                               &c->n_revoked);
    if (job->rc == DG_OK)
        job->rc = dg_store_session_insert(tx->store, &c->row);
    if (job->rc != DG_OK)
        return;
    snprintf(c->revoked_detail, sizeof c->revoked_detail, "{\"revoked_sessions\":%d}",
             c->n_revoked);
    c->audit.rec.detail = c->revoked_detail;
    job->rc = dg_audit_append(tx->store, tx->audit, &c->audit.rec);
}

static void chpw_commit_done(dg_job *job)
{
    struct chpw *c = (struct chpw *)job;
    dg_req *req = c->req;
    dg_server *srv = req->srv;
    Dangan__V1__ChangePasswordResponse *r;
    dg_session tmpl, *s;

    if (job->rc != DG_OK) {
        fail_job(req, job->rc);
        chpw_free(c);
        return;
    }
    /* Every other connection of this user loses its session at once. */
    dg_sessions_revoke_user(srv->sessions, c->user_id);
    dg_throttle_success(srv->throttle, c->username);
    c->user.must_change_password = false;
    session_from(&tmpl, &c->user, &c->row, dg_now_ms());
    s = dg_sessions_add(srv->sessions, &tmpl);
    dg_conn_bind_session(req->conn, s);
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__change_password_response__init(r);
    r->token = dg_req_strdup(req, c->token);
    r->session = session_info(req, s);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_CHANGE_PASSWORD;
    req->resp.change_password = r;
    dg_log_info("auth", "conn=%llu peer=%s user=%s action=%s msg=\"password changed\" "
                "revoked_sessions=%d", (unsigned long long)dg_conn_id(req->conn),
                dg_conn_peer(req->conn), c->username, req->action, c->n_revoked);
    dg_req_reply(req);
    chpw_free(c);
}

static void chpw_hash_run(dg_job *job, void *ctx)
{
    struct chpw *c = (struct chpw *)job;

    DG_UNUSED(ctx);
    c->is_match = dg_password_verify(c->user.password_hash, c->current);
    dg_wipe(c->current, sizeof c->current);
    if (c->is_match)
        c->hash_rc = dg_password_hash(&c->params, c->fresh, c->new_hash, sizeof c->new_hash);
    dg_wipe(c->fresh, sizeof c->fresh);
    job->rc = DG_OK;
}

static void chpw_hash_done(dg_job *job)
{
    struct chpw *c = (struct chpw *)job;
    dg_req *req = c->req;
    uint8_t hash[DG_TOKEN_HASH_LEN];
    int64_t now = dg_now_ms();
    int rc;

    if (!c->is_match) {
        dg_throttle_failure(req->srv->throttle, c->username, dg_conn_peer_ip(req->conn), now);
        chpw_deny(c, "wrong_current_password");
        return;
    }
    if (c->hash_rc != DG_OK) {
        dg_req_fail(req, c->hash_rc, "hash_failed", "could not hash the new password");
        chpw_free(c);
        return;
    }
    dg_token_new(c->token, hash);
    new_session_row(&c->row, req, c->user_id, hash, now);
    audit_fill(&c->audit, req, c->user_id, c->username, "user", c->user_id, "ok", NULL);
    c->job.run = chpw_commit_run;
    c->job.done = chpw_commit_done;
    if ((rc = dg_server_write(req->srv, &c->job)) != DG_OK) {
        chpw_free(c);
        fail_job(req, rc);
    }
}

static void chpw_read_run(dg_job *job, void *ctx)
{
    struct chpw *c = (struct chpw *)job;

    job->rc = dg_store_user_by_id(ctx, c->user_id, &c->user);
}

static void chpw_read_done(dg_job *job)
{
    struct chpw *c = (struct chpw *)job;
    dg_req *req = c->req;
    int rc = job->rc;

    if (rc == DG_OK) {
        c->job.run = chpw_hash_run;
        c->job.done = chpw_hash_done;
        rc = dg_server_hash(req->srv, &c->job);
    }
    if (rc != DG_OK) {
        chpw_free(c);
        fail_job(req, rc);
    }
}

void dg_h_change_password(dg_req *req)
{
    Dangan__V1__ChangePasswordRequest *m = req->msg->change_password;
    dg_session *s = dg_conn_session(req->conn);
    dg_server *srv = req->srv;
    struct chpw *c;
    char why[160];
    int64_t wait;
    int rc;

    if (!m->current_password[0] || strlen(m->current_password) > DG_PASSWORD_MAX_BYTES)
        dg_req_violation(req, "change_password.current_password", "required");
    if (dg_password_check_policy(m->new_password, s->username, srv->password_min_len, why,
                                 sizeof why) != DG_OK)
        dg_req_violation(req, "change_password.new_password", why);
    else if (strcmp(m->new_password, m->current_password) == 0)
        dg_req_violation(req, "change_password.new_password",
                         "the new password must differ from the current one");
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s",
                    req->status.field_violations[0]->description);
        return;
    }
    c = dg_xcalloc(1, sizeof *c);
    c->req = req;
    c->user_id = s->user_id;
    snprintf(c->username, sizeof c->username, "%s", s->username);
    wait = dg_throttle_wait_ms(srv->throttle, c->username, dg_conn_peer_ip(req->conn), dg_now_ms());
    if (wait > 0) {
        c->retry_after_ms = wait;
        chpw_deny(c, "throttled");
        return;
    }
    snprintf(c->current, sizeof c->current, "%s", m->current_password);
    snprintf(c->fresh, sizeof c->fresh, "%s", m->new_password);
    c->params = (dg_argon2_params){srv->cfg.argon2_memory_kib, srv->cfg.argon2_iterations,
                                   srv->cfg.argon2_lanes};
    c->job.run = chpw_read_run;
    c->job.done = chpw_read_done;
    if ((rc = dg_server_read(srv, &c->job)) != DG_OK) {
        chpw_free(c);
        fail_job(req, rc);
    }
}
