/* h_login.c - Login and ChangePassword: the paths that run argon2id.
 *
 * Each is a chain of jobs carried by one struct that owns the request until
 * it is answered:
 *   Login:          read user → verify password (hasher) → write session + audit
 *   ChangePassword: read user → verify + hash (hasher) → write password,
 *                   revoke every session, new session + audit
 * Unknown user and wrong password take the same path (a dummy hash is
 * verified) and get the same answer; denials are audited too. Secrets are
 * wiped as soon as the hasher is done with them.
 * Every password check is admitted by the throttle before anything runs and
 * settled when its hash is done (struct pw_check): it counts as a failure
 * meanwhile, and its connection runs no other check until then, so guesses
 * sent together are counted before any of them is checked.
 * Loop thread, except the *_run functions.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_later.h"
#include "auth.h"
#include "clock.h"
#include "dg.h"
#include "h_common.h"
#include "handlers.h"
#include "log.h"
#include "store.h"
#include "throttle.h"
#include "utf8.h"

/* ------------------------------------------------------------ admission */

/* A password check that the throttle counts and that holds its connection's
 * one check slot, from admission until it is settled. */
struct pw_check {
    dg_throttle_ticket ticket;
    bool is_admitted;
};

/* DG_OK (admitted: settle it exactly once), DG_ESTATE (this connection is
 * already checking a password), DG_EFULL (throttled) or DG_EBUSY (too many
 * checks in flight for the account or the address); *wait_ms for the last two. */
static int check_admit(dg_req *req, struct pw_check *pc, const char *account, int64_t *wait_ms)
{
    int rc;

    *wait_ms = 0;
    if (dg_conn_is_checking_password(req->conn))
        return DG_ESTATE;
    rc = dg_throttle_admit(dg_server_throttle(req->srv), account, dg_conn_peer_ip(req->conn),
                           dg_now_ms(), &pc->ticket, wait_ms);
    if (rc == DG_OK) {
        pc->is_admitted = true;
        dg_conn_set_checking_password(req->conn, true);
    }
    return rc;
}

/* Ends an admitted check (a no-op for one that was not admitted). Call it
 * before the request is answered: the reply may free the connection. */
static void check_settle(dg_req *req, struct pw_check *pc, const char *account,
                         enum dg_throttle_outcome outcome)
{
    if (!pc->is_admitted)
        return;
    pc->is_admitted = false;
    dg_conn_set_checking_password(req->conn, false);
    dg_throttle_settle(dg_server_throttle(req->srv), account, dg_conn_peer_ip(req->conn),
                       &pc->ticket, outcome, dg_now_ms());
}

static void fail_in_progress(dg_req *req)
{
    dg_req_fail(req, DG_ESTATE, "login_in_progress",
                "a password is already being checked on this connection; wait for that "
                "answer before sending another Login or ChangePassword");
}

/* Refusal of an attempt the throttle did not admit. */
static void fail_not_admitted(dg_req *req, const char *reason, int64_t wait_ms)
{
    dg_req_retry_after(req, wait_ms);
    if (strcmp(reason, "throttled") == 0)
        dg_req_fail(req, DG_EFULL, "login_throttled",
                    "too many failed attempts; try again in %lld s",
                    (long long)(wait_ms + 999) / 1000);
    else
        dg_req_fail(req, DG_EFULL, "login_busy",
                    "other attempts for this account or from this address are being checked; "
                    "try again in %lld s",
                    (long long)(wait_ms + 999) / 1000);
}

/* False (and answered, naming `field`) if a password to check is longer than any can be. */
static bool check_password_arg(dg_req *req, const char *password, const char *field)
{
    size_t n = strlen(password);
    char why[96];

    if (n <= DG_PASSWORD_MAX_BYTES)
        return true;
    snprintf(why, sizeof why, "at most %d bytes (this one has %zu)", DG_PASSWORD_MAX_BYTES, n);
    dg_req_violation(req, field, why);
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "the password is too long: %s", why);
    return false;
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
    struct dg_audit_buf audit;
    const char *fail_reason;
    int64_t retry_after_ms;
    struct pw_check check;
};

static void login_free(struct login *l)
{
    dg_assert(!l->check.is_admitted);
    dg_h_audit_fini(&l->audit);
    dg_wipe(l->password, sizeof l->password);
    dg_wipe(l->token, sizeof l->token);
    free(l);
}

static void login_denied_done(dg_job *job)
{
    struct login *l = (struct login *)job;
    dg_req *req = l->req;

    /* A full disk or a read-only writer: the record waits (audit_later.h). */
    if (dg_audit_later_may(job->rc) &&
        dg_audit_later_add(dg_server_audit_later(req->srv), &l->audit.rec, job->rc) == DG_OK)
        job->rc = DG_OK;
    if (job->rc != DG_OK)
        dg_log_error("auth",
                     "action=%s msg=\"cannot write the audit record of a denied login\" "
                     "error=\"%s\"",
                     req->action, dg_strerror(job->rc));
    if (strcmp(l->fail_reason, "throttled") == 0 || strcmp(l->fail_reason, "login_busy") == 0) {
        fail_not_admitted(req, l->fail_reason, l->retry_after_ms);
    } else if (strcmp(l->fail_reason, "account_disabled") == 0) {
        dg_req_fail(req, DG_EAUTH, "account_disabled", "this account is disabled");
    } else {
        dg_req_fail(req, DG_EAUTH, "bad_credentials", "wrong user name or password");
    }
    login_free(l);
}

static void login_denied_run(dg_job *job, void *ctx)
{
    dg_h_audit_only_run(job, ctx, &((struct login *)job)->audit);
}

static void login_deny(struct login *l, const char *reason)
{
    dg_req *req = l->req;
    int rc;

    l->fail_reason = reason;
    dg_h_audit_fill(&l->audit, req, l->is_found ? l->user.id : 0, l->account, "session", 0,
                    "denied", dg_h_reason_detail(reason));
    l->job.run = login_denied_run;
    l->job.done = login_denied_done;
    if ((rc = dg_server_write(req->srv, &l->job)) == DG_EREADONLY) {
        l->job.rc = rc; /* refused before it ran: answered as a failed write */
        login_denied_done(&l->job);
    } else if (rc != DG_OK) {
        login_free(l);
        dg_h_fail_job(req, rc);
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

    /* The disk is full or the writer read-only: signing in still works, or
     * nobody could get in to deal with it. The session is not stored (id 0:
     * it lives in this process only, a restart ends it) and its audit record
     * waits in memory, logged (audit_later.h); a full backlog refuses. */
    if (dg_audit_later_may(job->rc)) {
        l->row.id = 0;
        l->audit.rec.entity_id = 0;
        if (dg_audit_later_add(dg_server_audit_later(req->srv), &l->audit.rec, job->rc) == DG_OK)
            job->rc = DG_OK;
    }
    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        login_free(l);
        return;
    }
    dg_h_session_from(&tmpl, &l->user, &l->row, dg_now_ms());
    s = dg_sessions_add(dg_server_sessions(req->srv), &tmpl);
    dg_conn_bind_session(req->conn, s);
    dg_session_unref(dg_server_sessions(req->srv), s); /* the connection holds it */
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__login_response__init(r);
    r->token = dg_req_strdup(req, l->token);
    r->session = dg_h_session_info(req, s);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_LOGIN;
    req->resp.login = r;
    dg_log_info("auth", "conn=%llu peer=%s user=%s action=%s msg=\"logged in\"%s",
                (unsigned long long)dg_conn_id(req->conn), dg_conn_peer(req->conn), s->username,
                req->action, s->id ? "" : " session=memory_only");
    dg_req_reply(req);
    login_free(l);
}

static void login_verify_run(dg_job *job, void *ctx)
{
    struct login *l = (struct login *)job;

    DG_UNUSED(ctx);
    /* Unknown users are checked against a dummy hash: same work, same time. */
    l->is_match =
        dg_password_verify(l->is_found ? l->user.password_hash : l->dummy_hash, l->password) &&
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
        check_settle(req, &l->check, l->account, DG_THROTTLE_FAILED);
        login_deny(l, l->is_match ? "account_disabled" : "bad_credentials");
        return;
    }
    check_settle(req, &l->check, l->account, DG_THROTTLE_SUCCEEDED);
    dg_token_new(l->token, hash);
    dg_h_new_session_row(&l->row, req, l->user.id, hash, now);
    dg_h_audit_fill(&l->audit, req, l->user.id, l->user.username, "session", 0, "ok", NULL);
    l->job.run = login_commit_run;
    l->job.done = login_commit_done;
    if ((rc = dg_server_write(srv, &l->job)) == DG_EREADONLY) {
        l->job.rc = rc; /* refused before it ran: answered as a failed write */
        login_commit_done(&l->job);
    } else if (rc != DG_OK) {
        login_free(l);
        dg_h_fail_job(req, rc);
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
        check_settle(req, &l->check, l->account, DG_THROTTLE_ABANDONED);
        login_free(l);
        dg_h_fail_job(req, rc);
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
    if (!m->password[0])
        dg_req_violation(req, "login.password", "required");
    if (!check_password_arg(req, m->password, "login.password"))
        return;
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "user name and password are required");
        return;
    }
    l = dg_xcalloc(1, sizeof *l);
    l->req = req;
    l->dummy_hash = dg_server_dummy_hash(srv);
    if (dg_username_normalize(m->username, l->username) == DG_OK)
        snprintf(l->account, sizeof l->account, "%s", l->username);
    else /* cannot exist; still goes the whole way so it looks like any wrong name */
        dg_utf8_copy(l->account, sizeof l->account, m->username);
    rc = check_admit(req, &l->check, l->account, &wait);
    if (rc == DG_ESTATE) {
        login_free(l);
        fail_in_progress(req);
        return;
    }
    if (rc != DG_OK) {
        l->retry_after_ms = wait;
        login_deny(l, rc == DG_EFULL ? "throttled" : "login_busy");
        return;
    }
    snprintf(l->password, sizeof l->password, "%s", m->password);
    l->job.run = login_read_run;
    l->job.done = login_read_done;
    if ((rc = dg_server_read(srv, &l->job)) != DG_OK) {
        check_settle(req, &l->check, l->account, DG_THROTTLE_ABANDONED);
        login_free(l);
        dg_h_fail_job(req, rc);
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
    struct dg_audit_buf audit;
    struct pw_check check;
};

static void chpw_free(struct chpw *c)
{
    dg_assert(!c->check.is_admitted);
    dg_wipe(c->current, sizeof c->current);
    dg_wipe(c->fresh, sizeof c->fresh);
    dg_wipe(c->token, sizeof c->token);
    dg_h_audit_fini(&c->audit);
    free(c);
}

static void chpw_denied_done(dg_job *job)
{
    struct chpw *c = (struct chpw *)job;
    dg_req *req = c->req;

    if (dg_audit_later_may(job->rc) &&
        dg_audit_later_add(dg_server_audit_later(req->srv), &c->audit.rec, job->rc) == DG_OK)
        job->rc = DG_OK;
    if (job->rc != DG_OK)
        dg_log_error("auth",
                     "action=%s msg=\"cannot write the audit record of a denied password "
                     "change\" error=\"%s\"",
                     req->action, dg_strerror(job->rc));
    if (strcmp(c->fail_reason, "throttled") == 0 || strcmp(c->fail_reason, "login_busy") == 0) {
        fail_not_admitted(req, c->fail_reason, c->retry_after_ms);
    } else {
        dg_req_violation(req, "change_password.current_password", "does not match");
        dg_req_fail(req, DG_EDENIED, "wrong_current_password", "the current password is wrong");
    }
    chpw_free(c);
}

static void chpw_denied_run(dg_job *job, void *ctx)
{
    dg_h_audit_only_run(job, ctx, &((struct chpw *)job)->audit);
}

static void chpw_deny(struct chpw *c, const char *reason)
{
    dg_req *req = c->req;
    int rc;

    c->fail_reason = reason;
    dg_h_audit_fill(&c->audit, req, c->user_id, c->username, "user", c->user_id, "denied",
                    dg_h_reason_detail(reason));
    c->job.run = chpw_denied_run;
    c->job.done = chpw_denied_done;
    if ((rc = dg_server_write(req->srv, &c->job)) == DG_EREADONLY) {
        c->job.rc = rc; /* refused before it ran: answered as a failed write */
        chpw_denied_done(&c->job);
    } else if (rc != DG_OK) {
        chpw_free(c);
        dg_h_fail_job(req, rc);
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
        dg_h_fail_job(req, job->rc);
        chpw_free(c);
        return;
    }
    /* Every other connection of this user loses its session at once. */
    dg_sessions_revoke_user(dg_server_sessions(srv), c->user_id);
    c->user.must_change_password = false;
    dg_h_session_from(&tmpl, &c->user, &c->row, dg_now_ms());
    s = dg_sessions_add(dg_server_sessions(srv), &tmpl);
    dg_conn_bind_session(req->conn, s);
    dg_session_unref(dg_server_sessions(srv), s); /* the connection holds it */
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__change_password_response__init(r);
    r->token = dg_req_strdup(req, c->token);
    r->session = dg_h_session_info(req, s);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_CHANGE_PASSWORD;
    req->resp.change_password = r;
    dg_log_info("auth",
                "conn=%llu peer=%s user=%s action=%s msg=\"password changed\" "
                "revoked_sessions=%d",
                (unsigned long long)dg_conn_id(req->conn), dg_conn_peer(req->conn), c->username,
                req->action, c->n_revoked);
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

    check_settle(req, &c->check, c->username,
                 c->is_match ? DG_THROTTLE_SUCCEEDED : DG_THROTTLE_FAILED);
    if (!c->is_match) {
        chpw_deny(c, "wrong_current_password");
        return;
    }
    if (c->hash_rc != DG_OK) {
        dg_req_fail(req, c->hash_rc, "hash_failed", "could not hash the new password");
        chpw_free(c);
        return;
    }
    dg_token_new(c->token, hash);
    dg_h_new_session_row(&c->row, req, c->user_id, hash, now);
    dg_h_audit_fill(&c->audit, req, c->user_id, c->username, "user", c->user_id, "ok", NULL);
    c->job.run = chpw_commit_run;
    c->job.done = chpw_commit_done;
    if ((rc = dg_server_write(req->srv, &c->job)) != DG_OK) {
        chpw_free(c);
        dg_h_fail_job(req, rc);
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
        check_settle(req, &c->check, c->username, DG_THROTTLE_ABANDONED);
        chpw_free(c);
        dg_h_fail_job(req, rc);
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

    if (!check_password_arg(req, m->current_password, "change_password.current_password"))
        return;
    if (!m->current_password[0])
        dg_req_violation(req, "change_password.current_password", "required");
    if (dg_password_check_policy(m->new_password, s->username, dg_server_password_min_len(srv), why,
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
    rc = check_admit(req, &c->check, c->username, &wait);
    if (rc == DG_ESTATE) {
        chpw_free(c);
        fail_in_progress(req);
        return;
    }
    if (rc != DG_OK) {
        c->retry_after_ms = wait;
        chpw_deny(c, rc == DG_EFULL ? "throttled" : "login_busy");
        return;
    }
    snprintf(c->current, sizeof c->current, "%s", m->current_password);
    snprintf(c->fresh, sizeof c->fresh, "%s", m->new_password);
    c->params = (dg_argon2_params){dg_server_config(srv)->argon2_memory_kib,
                                   dg_server_config(srv)->argon2_iterations,
                                   dg_server_config(srv)->argon2_lanes};
    c->job.run = chpw_read_run;
    c->job.done = chpw_read_done;
    if ((rc = dg_server_read(srv, &c->job)) != DG_OK) {
        check_settle(req, &c->check, c->username, DG_THROTTLE_ABANDONED);
        chpw_free(c);
        dg_h_fail_job(req, rc);
    }
}
