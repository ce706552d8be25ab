/* dispatch.c - the route table: Request oneof case → {checks, handler}.
 *
 * Before login only Hello, Login, Authenticate and Ping pass; Hello must come
 * first (Ping excepted). While a password change is pending, only the routes
 * marked so pass. After login, perm.c decides whether the session's role may
 * make the request at all (refusals are audited); finer rules (whose
 * customer, which tier) and validation are the handler's.
 */
#include "dispatch.h"

#include <string.h>

#include "clock.h"
#include "dg.h"
#include "server.h"
#include "h_common.h"
#include "handlers.h"
#include "log.h"
#include "perm.h"

enum {
    PUBLIC = 1 << 0,            /* allowed before login */
    NO_HELLO = 1 << 1,          /* allowed before Hello */
    WHILE_MUST_CHANGE = 1 << 2, /* allowed while the password must be changed */
};

struct route {
    Dangan__V1__Request__BodyCase body;
    unsigned flags;
    const char *action;
    void (*handler)(dg_req *req);
};

static const struct route routes[] = {
    {DANGAN__V1__REQUEST__BODY_HELLO, PUBLIC | NO_HELLO | WHILE_MUST_CHANGE, "session.hello",
     dg_h_hello},
    {DANGAN__V1__REQUEST__BODY_PING, PUBLIC | NO_HELLO | WHILE_MUST_CHANGE, "session.ping",
     dg_h_ping},
    {DANGAN__V1__REQUEST__BODY_LOGIN, PUBLIC | WHILE_MUST_CHANGE, "session.login", dg_h_login},
    {DANGAN__V1__REQUEST__BODY_AUTHENTICATE, PUBLIC | WHILE_MUST_CHANGE, "session.authenticate",
     dg_h_authenticate},
    {DANGAN__V1__REQUEST__BODY_LOGOUT, WHILE_MUST_CHANGE, "session.logout", dg_h_logout},
    {DANGAN__V1__REQUEST__BODY_WHOAMI, WHILE_MUST_CHANGE, "session.whoami", dg_h_whoami},
    {DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD, WHILE_MUST_CHANGE, "user.change_password",
     dg_h_change_password},
    {DANGAN__V1__REQUEST__BODY_USER_ADD, 0, "user.add", dg_h_user_add},
    {DANGAN__V1__REQUEST__BODY_USER_LIST, 0, "user.list", dg_h_user_list},
    {DANGAN__V1__REQUEST__BODY_COLLEAGUES, 0, "team.colleagues", dg_h_colleagues},
    {DANGAN__V1__REQUEST__BODY_USER_SET_ROLE, 0, "user.set_role", dg_h_user_set_role},
    {DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED, 0, "user.set_disabled", dg_h_user_set_disabled},
    {DANGAN__V1__REQUEST__BODY_USER_RESET_PASSWORD, 0, "user.reset_password",
     dg_h_user_reset_password},
    {DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS, 0, "team.settings_read", dg_h_get_team_settings},
    {DANGAN__V1__REQUEST__BODY_SET_TEAM_SETTINGS, 0, "team.settings", dg_h_set_team_settings},
    {DANGAN__V1__REQUEST__BODY_CREATE, 0, "record.create", dg_h_create},
    {DANGAN__V1__REQUEST__BODY_GET, 0, "record.get", dg_h_get},
    {DANGAN__V1__REQUEST__BODY_UPDATE, 0, "record.update", dg_h_update},
    {DANGAN__V1__REQUEST__BODY_ARCHIVE, 0, "record.archive", dg_h_archive},
    {DANGAN__V1__REQUEST__BODY_RESTORE, 0, "record.restore", dg_h_restore},
    {DANGAN__V1__REQUEST__BODY_LIST, 0, "record.list", dg_h_list},
    {DANGAN__V1__REQUEST__BODY_SEARCH, 0, "record.search", dg_h_search},
    {DANGAN__V1__REQUEST__BODY_BATCH, 0, "record.batch", dg_h_batch},
    {DANGAN__V1__REQUEST__BODY_DEFINE_FIELD, 0, "field.define", dg_h_define_field},
    {DANGAN__V1__REQUEST__BODY_LIST_FIELDS, 0, "field.list", dg_h_list_fields},
    {DANGAN__V1__REQUEST__BODY_REASSIGN, 0, "record.reassign", dg_h_reassign},
    {DANGAN__V1__REQUEST__BODY_HISTORY, 0, "record.history", dg_h_history},
    {DANGAN__V1__REQUEST__BODY_MERGE, 0, "record.merge", dg_h_merge},
    {DANGAN__V1__REQUEST__BODY_IMPORT_BEGIN, 0, "import.begin", dg_h_import_begin},
    {DANGAN__V1__REQUEST__BODY_IMPORT_FINISH, 0, "import.finish", dg_h_import_finish},
    {DANGAN__V1__REQUEST__BODY_EXPORT_BEGIN, 0, "export.begin", dg_h_export_begin},
    {DANGAN__V1__REQUEST__BODY_EXPORT_FINISH, 0, "export.finish", dg_h_export_finish},
    {DANGAN__V1__REQUEST__BODY_DUPLICATES_SCAN, 0, "record.duplicates", dg_h_duplicates_scan},
    {DANGAN__V1__REQUEST__BODY_DEAL_MOVE, 0, "record.deal_move", dg_h_deal_move},
    {DANGAN__V1__REQUEST__BODY_TIERS, 0, "record.tiers", dg_h_tiers},
    {DANGAN__V1__REQUEST__BODY_TIERS_APPLY, 0, "record.tiers_apply", dg_h_tiers_apply},
    {DANGAN__V1__REQUEST__BODY_TODAY, 0, "today.read", dg_h_today},
    {DANGAN__V1__REQUEST__BODY_POOL_LIST, 0, "pool.list", dg_h_pool_list},
    {DANGAN__V1__REQUEST__BODY_POOL_CLAIM, 0, "pool.claim", dg_h_pool_claim},
    {DANGAN__V1__REQUEST__BODY_POOL_RELEASE, 0, "pool.release", dg_h_pool_release},
    {DANGAN__V1__REQUEST__BODY_LIFECYCLE_SUGGEST, 0, "lifecycle.suggest", dg_h_lifecycle_suggest},
    {DANGAN__V1__REQUEST__BODY_SUBSCRIBE, 0, "feed.subscribe", dg_h_subscribe},
    {DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE, 0, "feed.unsubscribe", dg_h_unsubscribe},
    {DANGAN__V1__REQUEST__BODY_AUDIT_QUERY, 0, "audit.query", dg_h_audit_query},
    {DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY, 0, "audit.verify", dg_h_audit_verify},
    {DANGAN__V1__REQUEST__BODY_AUDIT_HEAD, 0, "audit.head", dg_h_audit_head},
    {DANGAN__V1__REQUEST__BODY_AUDIT_EXPORT, 0, "audit.export", dg_h_audit_export},
    {DANGAN__V1__REQUEST__BODY_SERVER_STATS, 0, "server.stats", dg_h_server_stats},
    {DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_BEGIN, 0, "document.upload_begin", dg_h_doc_upload_begin},
    {DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_CHUNK, 0, "document.upload_chunk", dg_h_doc_upload_chunk},
    {DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_STATUS, 0, "document.upload_status",
     dg_h_doc_upload_status},
    {DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_FINISH, 0, "document.upload_finish",
     dg_h_doc_upload_finish},
    {DANGAN__V1__REQUEST__BODY_DOC_LIST, 0, "document.list", dg_h_doc_list},
    {DANGAN__V1__REQUEST__BODY_DOC_GET, 0, "document.get", dg_h_doc_get},
    {DANGAN__V1__REQUEST__BODY_DOC_READ_CHUNK, 0, "document.download", dg_h_doc_read_chunk},
    {DANGAN__V1__REQUEST__BODY_DOC_ARCHIVE, 0, "document.archive", dg_h_doc_archive},
    {DANGAN__V1__REQUEST__BODY_REPORT, 0, "report.run", dg_h_report},
};

static const struct route *find_route(Dangan__V1__Request__BodyCase body)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(routes); i++)
        if (routes[i].body == body)
            return &routes[i];
    return NULL;
}

/* Checks the session bound to the connection. Returns false (and answers)
 * when the request may not proceed. */
static bool check_session(dg_req *req, const struct route *r)
{
    dg_session *s = dg_conn_session(req->conn);
    int64_t now = dg_now_ms();
    const char *why;

    if (s) {
        why = dg_session_invalid_reason(s, now,
                                        (int64_t)dg_server_config(req->srv)->session_idle_s * 1000);
    } else if (!(why = dg_conn_session_end(req->conn))) { /* never logged in, or logged out */
        dg_req_fail(req, DG_EAUTH, "login_required", "log in first");
        return false;
    }
    if (why) {
        dg_conn_end_session(req->conn, why);
        dg_req_fail(req, DG_EAUTH, why, "%s; log in again",
                    strcmp(why, "session_revoked") == 0 ? "the session was revoked"
                                                        : "the session has expired");
        return false;
    }
    if (s->must_change_password && !(r->flags & WHILE_MUST_CHANGE)) {
        dg_req_fail(req, DG_ESTATE, "password_change_required",
                    "change your password first (dangan passwd)");
        return false;
    }
    dg_session_touch(s, now);
    return true;
}

void dg_dispatch(dg_req *req)
{
    const struct route *r = find_route(req->msg->body_case);

    DG_ASSERT_LOOP_THREAD();
    if (!r) {
        /* protobuf-c leaves the oneof unset for a field it does not know */
        if (req->msg->body_case == DANGAN__V1__REQUEST__BODY__NOT_SET)
            dg_req_fail(req, DG_ENOTSUP, "unknown_request",
                        "the request is empty, or of a kind this server does not know "
                        "(is the client newer than dangand %s?)",
                        DANGAN_VERSION);
        else
            dg_req_fail(req, DG_ENOTSUP, "unknown_request",
                        "this server does not know request type %d", (int)req->msg->body_case);
        return;
    }
    req->action = r->action;
    if (req->id == 0) {
        dg_req_fail(req, DG_EINVAL, "request_id_required", "Request.id must be non-zero");
        return;
    }
    if (dg_conn_is_over_capacity(req->conn)) {
        dg_req_retry_after(req, 5000);
        req->is_close_after = true;
        dg_req_fail(req, DG_EBUSY, "server_full",
                    "the server has reached its connection limit; try again shortly");
        return;
    }
    if (dg_server_is_draining(req->srv)) {
        dg_req_retry_after(req, 2000);
        dg_req_fail(req, DG_EBUSY, "shutting_down", "the server is shutting down");
        return;
    }
    if (!dg_conn_has_hello(req->conn) && !(r->flags & NO_HELLO)) {
        dg_req_fail(req, DG_ESTATE, "hello_required", "send Hello first");
        return;
    }
    if (!(r->flags & PUBLIC)) {
        if (!check_session(req, r))
            return;
        /* Role rights, decided by perm.c; a refusal is audited. */
        const char *why;

        if (!dg_perm_role_may(dg_conn_session(req->conn)->role, r->action, &why)) {
            dg_h_deny(req, "request", 0, "permission_denied", why);
            return;
        }
    }
    r->handler(req);
}
