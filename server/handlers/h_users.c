/* h_users.c - UserAdd, UserList, UserSetRole, UserSetDisabled,
 * UserResetPassword: the accounts, managed by admins; and Colleagues, the
 * enabled users' names for everyone who reads customers.
 *
 * Path of a change: the loop validates; a new password (given or generated)
 * is hashed on a hasher thread; the writer applies the change, revokes the
 * user's sessions where the change calls for it and appends the audit record
 * (before/after, never a password or hash) in one transaction; back on the
 * loop, the account directory is updated and the revoked sessions are
 * dropped from the registry, so the user's live connections are refused on
 * their next request. The last enabled admin can be neither disabled nor
 * demoted. Loop thread, except the *_run functions.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "log.h"
#include "users.h"

#define GENERATED_PASSWORD_CHARS 20

enum user_op { U_ADD, U_SET_ROLE, U_SET_DISABLED, U_RESET_PASSWORD };

struct user_change {
    dg_write_job w; /* first: the job (before it, the hashing job) */
    dg_req *req;
    enum user_op op;
    char username[DG_USERNAME_MAX + 1]; /* the account changed */
    char display_name[DG_DISPLAY_NAME_MAX * 4 + 1];
    enum dg_role role;
    bool is_disabled;
    bool is_generated;
    char password[DG_PASSWORD_MAX_BYTES + 1]; /* wiped once hashed, unless generated */
    char hash[DG_PASSWORD_HASH_MAX];
    int hash_rc;
    dg_argon2_params params;
    dg_user before, user; /* user: as committed */
    bool is_unchanged;
    int n_revoked;
};

static void change_free(struct user_change *u)
{
    dg_wipe(u->password, sizeof u->password);
    dg_wipe(u->hash, sizeof u->hash);
    dg_h_audit_fini(&u->w.audit);
    free(u);
}

static Dangan__V1__User *user_pb(dg_req *req, const dg_user *u)
{
    Dangan__V1__User *p = dg_req_alloc(req, sizeof *p);

    dangan__v1__user__init(p);
    p->id = u->id;
    p->username = dg_req_strdup(req, u->username);
    p->display_name = dg_req_strdup(req, u->display_name);
    p->role = (Dangan__V1__Role)u->role;
    p->disabled = u->is_disabled;
    p->must_change_password = u->must_change_password;
    p->created_at_ms = u->created_at;
    p->updated_at_ms = u->updated_at;
    p->password_changed_at_ms = u->password_changed_at;
    p->version = u->version;
    return p;
}

/* ------------------------------------------------------------ writer */

static bool is_active_admin(const dg_user *u)
{
    return u->role == DG_ROLE_ADMIN && !u->is_disabled;
}

static json_t *access_json(const dg_user *u, enum user_op op)
{
    if (op == U_SET_ROLE)
        return json_pack("{s:s}", "role", dg_role_name(u->role));
    return json_pack("{s:b}", "disabled", u->is_disabled);
}

/* Applies the change to the looked-up user; DG_OK or an error for the reply. */
static int apply(struct user_change *u, dg_store *st, int64_t at, int64_t actor_id)
{
    const char *reason = u->op == U_SET_ROLE       ? "role_changed"
                         : u->op == U_SET_DISABLED ? "user_disabled"
                                                   : "password_reset";
    int64_t admins;
    int rc;

    u->user = u->before;
    if (u->op == U_RESET_PASSWORD) {
        rc = dg_store_user_set_password(st, u->before.id, u->hash, true, at, actor_id);
    } else {
        if (u->op == U_SET_ROLE)
            u->user.role = u->role;
        else
            u->user.is_disabled = u->is_disabled;
        if (u->user.role == u->before.role && u->user.is_disabled == u->before.is_disabled) {
            u->is_unchanged = true;
            return DG_OK;
        }
        if (is_active_admin(&u->before) && !is_active_admin(&u->user)) {
            if ((rc = dg_store_user_active_admins(st, &admins)) != DG_OK)
                return rc;
            if (admins <= 1)
                return DG_ESTATE;
        }
        rc = dg_store_user_set_access(st, u->before.id, u->user.role, u->user.is_disabled, at,
                                      actor_id);
    }
    if (rc == DG_OK)
        rc = dg_store_session_revoke_user(st, u->before.id, at, reason, &u->n_revoked);
    if (rc == DG_OK)
        rc = dg_store_user_by_id(st, u->before.id, &u->user);
    return rc;
}

static json_t *detail_of(const struct user_change *u)
{
    switch (u->op) {
    case U_ADD:
        return json_pack("{s:{s:s,s:s,s:b}}", "after", "role", dg_role_name(u->user.role),
                         "display_name", u->user.display_name, "must_change_password", 1);
    case U_RESET_PASSWORD:
        return json_pack("{s:b,s:i}", "must_change_password", 1, "revoked_sessions", u->n_revoked);
    default:
        return json_pack("{s:o,s:o,s:i}", "before", access_json(&u->before, u->op), "after",
                         access_json(&u->user, u->op), "revoked_sessions", u->n_revoked);
    }
}

static int change_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct user_change *u = (struct user_change *)w;
    int rc;

    if (u->op == U_ADD) {
        memset(&u->user, 0, sizeof u->user);
        snprintf(u->user.username, sizeof u->user.username, "%s", u->username);
        snprintf(u->user.display_name, sizeof u->user.display_name, "%s", u->display_name);
        snprintf(u->user.password_hash, sizeof u->user.password_hash, "%s", u->hash);
        u->user.role = u->role;
        u->user.must_change_password = true;
        u->user.created_at = w->now;
        rc = dg_store_user_insert(c->tx->store, &u->user, w->who.user_id);
    } else {
        rc = dg_store_user_by_name(c->tx->store, u->username, &u->before);
        if (rc == DG_OK)
            rc = apply(u, c->tx->store, w->now, w->who.user_id);
    }
    w->audit.rec.entity_id = u->user.id;
    return rc;
}

/* The change's audit record; none when nothing changed. */
static json_t *change_detail(dg_write_job *w)
{
    struct user_change *u = (struct user_change *)w;

    return u->is_unchanged ? NULL : detail_of(u);
}

/* ------------------------------------------------------------ replies */

static void reply(struct user_change *u)
{
    dg_req *req = u->req;
    Dangan__V1__User *user = user_pb(req, &u->user);
    const char *generated = u->is_generated ? u->password : "";

    switch (u->op) {
    case U_ADD: {
        Dangan__V1__UserAddResponse *r = dg_req_alloc(req, sizeof *r);

        dangan__v1__user_add_response__init(r);
        r->user = user;
        r->generated_password = dg_req_strdup(req, generated);
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_USER_ADD;
        req->resp.user_add = r;
        break;
    }
    case U_SET_ROLE: {
        Dangan__V1__UserSetRoleResponse *r = dg_req_alloc(req, sizeof *r);

        dangan__v1__user_set_role_response__init(r);
        r->user = user;
        r->revoked_sessions = (uint32_t)u->n_revoked;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_USER_SET_ROLE;
        req->resp.user_set_role = r;
        break;
    }
    case U_SET_DISABLED: {
        Dangan__V1__UserSetDisabledResponse *r = dg_req_alloc(req, sizeof *r);

        dangan__v1__user_set_disabled_response__init(r);
        r->user = user;
        r->revoked_sessions = (uint32_t)u->n_revoked;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_USER_SET_DISABLED;
        req->resp.user_set_disabled = r;
        break;
    }
    case U_RESET_PASSWORD: {
        Dangan__V1__UserResetPasswordResponse *r = dg_req_alloc(req, sizeof *r);

        dangan__v1__user_reset_password_response__init(r);
        r->user = user;
        r->generated_password = dg_req_strdup(req, generated);
        r->revoked_sessions = (uint32_t)u->n_revoked;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_USER_RESET_PASSWORD;
        req->resp.user_reset_password = r;
        break;
    }
    }
    dg_req_reply(req);
}

static void change_answer(dg_write_job *w)
{
    struct user_change *u = (struct user_change *)w;
    dg_req *req = u->req;
    dg_server *srv = req->srv;

    if (!u->is_unchanged) {
        dg_users_put(dg_server_users(srv), &u->user);
        /* The registry drops them too: live connections are refused next request. */
        if (u->op != U_ADD)
            dg_sessions_revoke_user(dg_server_sessions(srv), u->user.id);
        dg_log_info("auth",
                    "user=%s action=%s target=%s msg=\"account changed\" "
                    "revoked_sessions=%d",
                    dg_conn_session(req->conn) ? dg_conn_session(req->conn)->username : "-",
                    req->action, u->user.username, u->n_revoked);
    }
    reply(u);
}

static void change_answer_failure(dg_write_job *w, int rc)
{
    struct user_change *u = (struct user_change *)w;
    dg_req *req = u->req;

    switch (rc) {
    case DG_EEXIST:
        dg_req_violation(req, "username", "taken");
        dg_req_fail(req, DG_EEXIST, "user_exists", "a user named %s already exists", u->username);
        break;
    case DG_ENOTFOUND:
        dg_req_fail(req, DG_ENOTFOUND, "no_such_user", "there is no user named %s", u->username);
        break;
    case DG_ESTATE:
        dg_req_fail(req, DG_ESTATE, "last_admin",
                    "%s is the last enabled admin: add or enable another admin first", u->username);
        break;
    default:
        dg_h_fail_job(req, rc);
        break;
    }
}

static void change_release(dg_write_job *w)
{
    struct user_change *u = (struct user_change *)w;

    dg_wipe(u->password, sizeof u->password);
    dg_wipe(u->hash, sizeof u->hash);
    free(u);
}

static const dg_write_ops change_ops = {
    .run = change_run,
    .detail = change_detail,
    .answer = change_answer,
    .answer_failure = change_answer_failure,
    .free = change_release,
};

static void submit_change(struct user_change *u)
{
    dg_write_job_init(&u->w, &change_ops, u->req, DG_IDEM_ANY_RECORDS, NULL, NULL, "user", 0);
    dg_write_job_submit(&u->w);
}

static void hash_run(dg_job *job, void *ctx)
{
    struct user_change *u = (struct user_change *)job;

    DG_UNUSED(ctx);
    u->hash_rc = dg_password_hash(&u->params, u->password, u->hash, sizeof u->hash);
    if (!u->is_generated)
        dg_wipe(u->password, sizeof u->password);
    job->rc = DG_OK;
}

static void hash_done(dg_job *job)
{
    struct user_change *u = (struct user_change *)job;

    if (u->hash_rc != DG_OK) {
        dg_req_fail(u->req, u->hash_rc, "hash_failed", "could not hash the password");
        change_free(u);
        return;
    }
    submit_change(u);
}

/* Hashes u->password on a hasher thread, then applies the change. */
static void submit_with_password(struct user_change *u)
{
    dg_server *srv = u->req->srv;
    int rc;

    u->params = (dg_argon2_params){dg_server_config(srv)->argon2_memory_kib,
                                   dg_server_config(srv)->argon2_iterations,
                                   dg_server_config(srv)->argon2_lanes};
    u->w.job.run = hash_run;
    u->w.job.done = hash_done;
    if ((rc = dg_server_hash(srv, &u->w.job)) != DG_OK) {
        dg_req *req = u->req;

        change_free(u);
        dg_h_fail_job(req, rc);
    }
}

/* ------------------------------------------------------------ requests */

static bool fail_if_violations(dg_req *req)
{
    if (!req->status.n_field_violations)
        return false;
    dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                req->status.field_violations[0]->field,
                req->status.field_violations[0]->description);
    return true;
}

static void check_username(dg_req *req, const char *in, char out[DG_USERNAME_MAX + 1])
{
    if (dg_username_normalize(in, out) != DG_OK)
        dg_req_violation(req, "username",
                         "1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter "
                         "or digit");
}

/* Characters of valid UTF-8 (the decoder validated it): bytes that do not
 * continue a sequence. */
static size_t code_points(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void check_role(dg_req *req, Dangan__V1__Role role)
{
    if (role < DANGAN__V1__ROLE__ROLE_ADMIN || role > DANGAN__V1__ROLE__ROLE_AUDITOR)
        dg_req_violation(req, "role", "one of admin, manager, sales, viewer, auditor");
}

static struct user_change *change_new(dg_req *req, enum user_op op)
{
    struct user_change *u = dg_xcalloc(1, sizeof *u);

    u->req = req;
    u->op = op;
    return u;
}

void dg_h_user_add(dg_req *req)
{
    const Dangan__V1__UserAddRequest *m = req->msg->user_add;
    char name[DG_USERNAME_MAX + 1] = "", why[160];
    struct user_change *u;

    check_username(req, m->username, name);
    check_role(req, m->role);
    if (code_points(m->display_name) > DG_DISPLAY_NAME_MAX)
        dg_req_violation(req, "display_name", "at most 128 characters");
    if (m->password[0] &&
        dg_password_check_policy(m->password, name, dg_server_password_min_len(req->srv), why,
                                 sizeof why) != DG_OK)
        dg_req_violation(req, "password", why);
    if (fail_if_violations(req))
        return;
    u = change_new(req, U_ADD);
    snprintf(u->username, sizeof u->username, "%s", name);
    snprintf(u->display_name, sizeof u->display_name, "%s", m->display_name);
    u->role = (enum dg_role)m->role;
    if (m->password[0]) {
        snprintf(u->password, sizeof u->password, "%s", m->password);
    } else {
        dg_password_generate(u->password, GENERATED_PASSWORD_CHARS);
        u->is_generated = true;
    }
    submit_with_password(u);
}

void dg_h_user_set_role(dg_req *req)
{
    const Dangan__V1__UserSetRoleRequest *m = req->msg->user_set_role;
    char name[DG_USERNAME_MAX + 1] = "";
    struct user_change *u;

    check_username(req, m->username, name);
    check_role(req, m->role);
    if (fail_if_violations(req))
        return;
    u = change_new(req, U_SET_ROLE);
    snprintf(u->username, sizeof u->username, "%s", name);
    u->role = (enum dg_role)m->role;
    submit_change(u);
}

void dg_h_user_set_disabled(dg_req *req)
{
    const Dangan__V1__UserSetDisabledRequest *m = req->msg->user_set_disabled;
    char name[DG_USERNAME_MAX + 1] = "";
    struct user_change *u;

    check_username(req, m->username, name);
    if (fail_if_violations(req))
        return;
    u = change_new(req, U_SET_DISABLED);
    snprintf(u->username, sizeof u->username, "%s", name);
    u->is_disabled = m->disabled;
    submit_change(u);
}

void dg_h_user_reset_password(dg_req *req)
{
    const Dangan__V1__UserResetPasswordRequest *m = req->msg->user_reset_password;
    char name[DG_USERNAME_MAX + 1] = "";
    struct user_change *u;

    check_username(req, m->username, name);
    if (fail_if_violations(req))
        return;
    u = change_new(req, U_RESET_PASSWORD);
    snprintf(u->username, sizeof u->username, "%s", name);
    dg_password_generate(u->password, GENERATED_PASSWORD_CHARS);
    u->is_generated = true;
    submit_with_password(u);
}

/* ------------------------------------------------------------ list */

struct user_list {
    dg_job job;
    dg_req *req;
    dg_user *users;
    size_t n, cap;
    bool is_colleagues; /* ColleaguesRequest: enabled users' names only */
};

static int collect(const dg_user *user, void *ud)
{
    struct user_list *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->users = dg_xrealloc(l->users, l->cap * sizeof *l->users);
    }
    l->users[l->n] = *user;
    dg_wipe(l->users[l->n].password_hash, sizeof l->users[l->n].password_hash);
    l->n++;
    return DG_OK;
}

static void list_run(dg_job *job, void *ctx)
{
    struct user_list *l = (struct user_list *)job;
    dg_store *st = ctx;

    if ((job->rc = dg_store_read_begin(st)) != DG_OK)
        return;
    job->rc = dg_store_user_each(st, collect, l);
    dg_store_read_end(st);
}

static int by_username(const void *a, const void *b)
{
    return strcmp(((const dg_user *)a)->username, ((const dg_user *)b)->username);
}

/* The enabled users' ids and names, by user name. */
static void colleagues_reply(dg_req *req, struct user_list *l)
{
    Dangan__V1__ColleaguesResponse *r = dg_req_alloc(req, sizeof *r);

    dangan__v1__colleagues_response__init(r);
    qsort(l->users, l->n, sizeof *l->users, by_username);
    r->colleagues = dg_req_alloc(req, (l->n ? l->n : 1) * sizeof *r->colleagues);
    for (size_t i = 0; i < l->n; i++) {
        const dg_user *u = &l->users[i];
        Dangan__V1__Colleague *c;

        if (u->is_disabled)
            continue;
        c = dg_req_alloc(req, sizeof *c);
        dangan__v1__colleague__init(c);
        c->id = u->id;
        c->username = dg_req_strdup(req, u->username);
        c->display_name = dg_req_strdup(req, u->display_name);
        r->colleagues[r->n_colleagues++] = c;
    }
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_COLLEAGUES;
    req->resp.colleagues = r;
    dg_req_reply(req);
}

static void list_done(dg_job *job)
{
    struct user_list *l = (struct user_list *)job;
    dg_req *req = l->req;
    Dangan__V1__UserListResponse *r;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
    } else if (l->is_colleagues) {
        colleagues_reply(req, l);
    } else {
        r = dg_req_alloc(req, sizeof *r);
        dangan__v1__user_list_response__init(r);
        r->users = dg_req_alloc(req, (l->n ? l->n : 1) * sizeof *r->users);
        for (size_t i = 0; i < l->n; i++)
            r->users[i] = user_pb(req, &l->users[i]);
        r->n_users = l->n;
        req->resp.body_case = DANGAN__V1__RESPONSE__BODY_USER_LIST;
        req->resp.user_list = r;
        dg_req_reply(req);
    }
    free(l->users);
    free(l);
}

static void start_list(dg_req *req, bool is_colleagues)
{
    struct user_list *l;
    int rc;

    l = dg_xcalloc(1, sizeof *l);
    l->req = req;
    l->is_colleagues = is_colleagues;
    l->job.run = list_run;
    l->job.done = list_done;
    if ((rc = dg_server_read(req->srv, &l->job)) != DG_OK) {
        free(l);
        dg_h_fail_job(req, rc);
    }
}

void dg_h_user_list(dg_req *req)
{
    start_list(req, false);
}

void dg_h_colleagues(dg_req *req)
{
    start_list(req, true);
}
