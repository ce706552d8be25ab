/* test_perm.c - the permission policy, table-driven, over real TLS.
 *
 * tests/integration/permissions.tsv holds the expected answer of every
 * request of the Request oneof for every role and, for requests about a
 * customer, for four customers: the sales user's own and another's, in an
 * open tier (B) and in the restricted tier (A). Every row is run against a
 * real server; the test fails if any request of the oneof (read from the
 * protobuf-c descriptor) has no row. Each refusal must leave exactly one
 * "denied" audit record, and nothing else may.
 *
 * A restricted customer's record the caller may not see must read exactly
 * as one that does not exist: for every row answered NOT_FOUND the same
 * request is made again for an id that does not exist, and the two replies
 * (code, reason, message, field violations, body) must be byte for byte the
 * same.
 *
 * The leak check of every request (perm_world.h) applies to every row; the
 * dossiers, masks, history and hidden records are test_perm_views.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "perm_docs.h"
#include "perm_world.h"

#define TSV_PATH SOURCE_DIR "/tests/integration/permissions.tsv"
#define MAX_ROWS 1024

static struct actor *actor_of(const char *role)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(actors); i++)
        if (strcmp(actors[i].role, role) == 0)
            return &actors[i];
    return NULL;
}

static struct target *target_of(const char *label)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++)
        if (strcmp(targets[i].label, label) == 0)
            return &targets[i];
    return NULL;
}

/* The last reply of run_row, packed with its id cleared: what a client
 * receives apart from the id it chose. */
static uint8_t *last_reply;
static size_t last_reply_len;

/* A new deal of target t's customer, made by the admin (restoring an
 * archived customer for the time it takes). */
static int64_t admin_deal(const struct target *t)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Deal d = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Money amount = DANGAN__V1__MONEY__INIT;
    dg_reply *r;
    int64_t id;

    if (t->archived)
        admin_archive(t->id, true);
    amount.amount_minor = 100;
    d.customer_id = t->id;
    d.amount = &amount;
    rec.kind_case = DANGAN__V1__RECORD__KIND_DEAL;
    rec.deal = &d;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = admin_call(&req);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->deal->id;
    dg_reply_free(r);
    if (t->archived)
        admin_archive(t->id, false);
    return id;
}

/* Puts each live target's tier back after a TiersApply reclassified them. */
static void restore_tiers(void)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++) {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
        Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
        Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
        Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
        char *mask[] = {"tier"};
        dg_reply *r;

        if (targets[i].archived)
            continue;
        g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        g.id = targets[i].id;
        req.body_case = DANGAN__V1__REQUEST__BODY_GET;
        req.get = &g;
        r = admin_call(&req);
        assert_int_equal(dgt_code(r), 0);
        u.expected_version = dg_reply_response(r)->get->record->customer->version;
        dg_reply_free(r);
        cu.id = targets[i].id;
        cu.tier = targets[i].tier;
        rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        rec.customer = &cu;
        u.record = &rec;
        u.update_mask = mask;
        u.n_update_mask = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = &u;
        r = admin_call(&req);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
    }
}

/* Denied audit records of a user so far. */
static size_t denied_count(const char *user)
{
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    size_t n;

    q.username = (char *)user;
    q.outcome = "denied";
    q.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = admin_call(&req);
    assert_int_equal(dgt_code(r), 0);
    n = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);
    return n;
}

static const char *code_name(int code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&dangan__v1__code__descriptor, code);

    return v ? v->name : "?";
}

/* A fresh connection logged in as `a`; *token gets its session token. */
static dg_client *fresh_login(const struct actor *a, char token[DG_CLIENT_TOKEN_LEN + 1])
{
    dg_client *c = dgt_connect(&srv);

    assert_int_equal(dg_client_login(c, a->user, password_of(a), token), DG_OK);
    return c;
}

/* Session requests on connections of their own. */
static const char *run_session(struct actor *a, const char *rpc, int n)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    char token[DG_CLIENT_TOKEN_LEN + 1];
    static char out[64];
    dg_client *c;
    dg_reply *r;

    (void)n;
    if (strcmp(rpc, "login") == 0) {
        Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;

        c = dgt_connect(&srv);
        m.username = (char *)a->user;
        m.password = (char *)password_of(a);
        req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
        req.login = &m;
        r = dgt_call(c, &req);
    } else if (strcmp(rpc, "authenticate") == 0) {
        Dangan__V1__AuthenticateRequest m = DANGAN__V1__AUTHENTICATE_REQUEST__INIT;

        dg_client_close(fresh_login(a, token));
        c = dgt_connect(&srv);
        m.token = token;
        req.body_case = DANGAN__V1__REQUEST__BODY_AUTHENTICATE;
        req.authenticate = &m;
        r = dgt_call(c, &req);
    } else { /* logout */
        Dangan__V1__LogoutRequest m = DANGAN__V1__LOGOUT_REQUEST__INIT;

        c = fresh_login(a, token);
        req.body_case = DANGAN__V1__REQUEST__BODY_LOGOUT;
        req.logout = &m;
        r = dgt_call(c, &req);
    }
    snprintf(out, sizeof out, "%s", code_name(dgt_code(r)));
    dg_reply_free(r);
    dg_client_close(c);
    return out;
}

/* Whether customer `id` is among the results: VISIBLE / HIDDEN, or the code. */
static const char *membership(dg_reply *r, int64_t id)
{
    const Dangan__V1__Response *resp = dg_reply_response(r);

    if (dgt_code(r) != 0)
        return code_name(dgt_code(r));
    if (resp->body_case == DANGAN__V1__RESPONSE__BODY_LIST) {
        for (size_t i = 0; i < resp->list->n_records; i++)
            if (resp->list->records[i]->customer->id == id)
                return "VISIBLE";
    } else {
        for (size_t i = 0; i < resp->search->n_hits; i++)
            if (resp->search->hits[i]->customer->id == id)
                return "VISIBLE";
    }
    return "HIDDEN";
}

/* As admin, returns customer `id` to the pool (the pool rows' setup), or
 * hands it back to `owner` (their cleanup); what it answers is not the row's. */
static void admin_pool_release(int64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PoolReleaseRequest m = DANGAN__V1__POOL_RELEASE_REQUEST__INIT;

    m.customer_id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_POOL_RELEASE;
    req.pool_release = &m;
    dg_reply_free(dgt_call(actors[0].c, &req));
}

static void admin_give_back(int64_t id, const char *owner)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ReassignRequest m = DANGAN__V1__REASSIGN_REQUEST__INIT;
    int64_t ids[] = {id};

    m.customer_ids = ids;
    m.n_customer_ids = 1;
    m.to_user = (char *)owner;
    m.keep_tasks = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
    req.reassign = &m;
    dg_reply_free(dgt_call(actors[0].c, &req));
}

/* The pool's rows: pool_list and pool_claim act on the target returned to
 * the pool first (VISIBLE / HIDDEN: among the pool's customers listed to
 * the role), pool_release on the target as it is; the target goes back to
 * its owner after each. NULL for another request. */
static dg_reply *pool_row(struct actor *a, const char *rpc, struct target *t, const char **member)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PoolListRequest l = DANGAN__V1__POOL_LIST_REQUEST__INIT;
    Dangan__V1__PoolClaimRequest c = DANGAN__V1__POOL_CLAIM_REQUEST__INIT;
    Dangan__V1__PoolReleaseRequest rel = DANGAN__V1__POOL_RELEASE_REQUEST__INIT;
    Dangan__V1__LifecycleSuggestRequest ls = DANGAN__V1__LIFECYCLE_SUGGEST_REQUEST__INIT;
    dg_reply *r;

    *member = NULL;
    if (!strcmp(rpc, "lifecycle_suggest")) {
        req.body_case = DANGAN__V1__REQUEST__BODY_LIFECYCLE_SUGGEST;
        req.lifecycle_suggest = &ls;
        return dgt_call(a->c, &req);
    }
    if (strcmp(rpc, "pool_list") && strcmp(rpc, "pool_claim") && strcmp(rpc, "pool_release"))
        return NULL;
    if (strcmp(rpc, "pool_release"))
        admin_pool_release(t->id);
    if (!strcmp(rpc, "pool_list")) {
        l.limit = 1000;
        req.body_case = DANGAN__V1__REQUEST__BODY_POOL_LIST;
        req.pool_list = &l;
    } else if (!strcmp(rpc, "pool_claim")) {
        c.customer_id = t->id;
        req.body_case = DANGAN__V1__REQUEST__BODY_POOL_CLAIM;
        req.pool_claim = &c;
    } else {
        rel.customer_id = t->id;
        req.body_case = DANGAN__V1__REQUEST__BODY_POOL_RELEASE;
        req.pool_release = &rel;
    }
    r = dgt_call(a->c, &req);
    if (!strcmp(rpc, "pool_list") && dgt_code(r) == 0) {
        const Dangan__V1__ListResponse *lr = dg_reply_response(r)->pool_list;

        *member = "HIDDEN";
        for (size_t i = 0; i < lr->n_records; i++)
            if (lr->records[i]->customer->id == t->id)
                *member = "VISIBLE";
    }
    if (t->id != MISSING_ID)
        admin_give_back(t->id, t->owner);
    return r;
}

/* Runs one row's request as `a`; returns what it got, in the data file's terms. */
static const char *run_row(struct actor *a, const char *rpc, struct target *t, int n)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Contact co = DANGAN__V1__CONTACT__INIT;
    char name[64], phone[32], *mask[] = {"phone"};
    static char out[64];
    bool archived_first = false;
    const char *member;
    dg_reply *r;

    if (!strcmp(rpc, "login") || !strcmp(rpc, "authenticate") || !strcmp(rpc, "logout"))
        return run_session(a, rpc, n);
    snprintf(name, sizeof name, "perm-row-%d", n);
    snprintf(phone, sizeof phone, "010-8888%04d", n);
    if (!strcmp(rpc, "hello")) {
        Dangan__V1__HelloRequest m = DANGAN__V1__HELLO_REQUEST__INIT;

        m.protocol_major = 1;
        m.client_name = "test_perm";
        req.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
        req.hello = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "ping")) {
        Dangan__V1__PingRequest m = DANGAN__V1__PING_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_PING;
        req.ping = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "whoami")) {
        Dangan__V1__WhoamiRequest m = DANGAN__V1__WHOAMI_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_WHOAMI;
        req.whoami = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "change_password")) {
        Dangan__V1__ChangePasswordRequest m = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;

        m.current_password = (char *)password_of(a);
        m.new_password = "short"; /* refused by the policy: allowed to ask, nothing changes */
        req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
        req.change_password = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "user_add")) {
        Dangan__V1__UserAddRequest m = DANGAN__V1__USER_ADD_REQUEST__INIT;

        m.username = name;
        m.role = DANGAN__V1__ROLE__ROLE_VIEWER;
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_ADD;
        req.user_add = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "colleagues")) {
        Dangan__V1__ColleaguesRequest m = DANGAN__V1__COLLEAGUES_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_COLLEAGUES;
        req.colleagues = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "user_list")) {
        Dangan__V1__UserListRequest m = DANGAN__V1__USER_LIST_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_USER_LIST;
        req.user_list = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "user_set_role")) {
        Dangan__V1__UserSetRoleRequest m = DANGAN__V1__USER_SET_ROLE_REQUEST__INIT;

        m.username = "dummy";
        m.role = DANGAN__V1__ROLE__ROLE_VIEWER;
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_SET_ROLE;
        req.user_set_role = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "user_set_disabled")) {
        Dangan__V1__UserSetDisabledRequest m = DANGAN__V1__USER_SET_DISABLED_REQUEST__INIT;

        m.username = "dummy";
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED;
        req.user_set_disabled = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "user_reset_password")) {
        Dangan__V1__UserResetPasswordRequest m = DANGAN__V1__USER_RESET_PASSWORD_REQUEST__INIT;

        m.username = "dummy";
        req.body_case = DANGAN__V1__REQUEST__BODY_USER_RESET_PASSWORD;
        req.user_reset_password = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "define_field")) {
        Dangan__V1__DefineFieldRequest m = DANGAN__V1__DEFINE_FIELD_REQUEST__INIT;
        Dangan__V1__CustomField f = DANGAN__V1__CUSTOM_FIELD__INIT;

        snprintf(name, sizeof name, "f_row_%d", n);
        f.name = name;
        f.type = DANGAN__V1__FIELD_TYPE__FIELD_TYPE_TEXT;
        m.field = &f;
        req.body_case = DANGAN__V1__REQUEST__BODY_DEFINE_FIELD;
        req.define_field = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "list_fields")) {
        Dangan__V1__ListFieldsRequest m = DANGAN__V1__LIST_FIELDS_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_LIST_FIELDS;
        req.list_fields = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "audit_query")) {
        Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;

        m.limit = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
        req.audit_query = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "audit_export")) {
        Dangan__V1__AuditExportRequest m = DANGAN__V1__AUDIT_EXPORT_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_EXPORT;
        req.audit_export = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "import_begin")) {
        Dangan__V1__ImportBeginRequest m = DANGAN__V1__IMPORT_BEGIN_REQUEST__INIT;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.file_name = "perm.csv";
        m.file_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        req.body_case = DANGAN__V1__REQUEST__BODY_IMPORT_BEGIN;
        req.import_begin = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "import_finish")) {
        Dangan__V1__ImportFinishRequest m = DANGAN__V1__IMPORT_FINISH_REQUEST__INIT;

        m.import_id = 1;
        m.file_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        req.body_case = DANGAN__V1__REQUEST__BODY_IMPORT_FINISH;
        req.import_finish = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "export_begin")) {
        Dangan__V1__ExportBeginRequest m = DANGAN__V1__EXPORT_BEGIN_REQUEST__INIT;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.format = "csv";
        req.body_case = DANGAN__V1__REQUEST__BODY_EXPORT_BEGIN;
        req.export_begin = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "export_finish")) {
        Dangan__V1__ExportFinishRequest m = DANGAN__V1__EXPORT_FINISH_REQUEST__INIT;

        m.export_id = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_EXPORT_FINISH;
        req.export_finish = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "audit_verify")) {
        Dangan__V1__AuditVerifyRequest m = DANGAN__V1__AUDIT_VERIFY_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY;
        req.audit_verify = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "get_team_settings")) {
        Dangan__V1__GetTeamSettingsRequest m = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
        req.get_team_settings = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "set_team_settings")) {
        /* the settings as they stand (read by the admin), sent back unchanged */
        Dangan__V1__GetTeamSettingsRequest g = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;
        Dangan__V1__SetTeamSettingsRequest m = DANGAN__V1__SET_TEAM_SETTINGS_REQUEST__INIT;
        dg_reply *cur;

        req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
        req.get_team_settings = &g;
        cur = dgt_call(actor_of("admin")->c, &req);
        assert_int_equal(dgt_code(cur), 0);
        m.settings = dg_reply_response(cur)->get_team_settings->settings;
        req.body_case = DANGAN__V1__REQUEST__BODY_SET_TEAM_SETTINGS;
        req.set_team_settings = &m;
        r = call_as(a, &req, rpc);
        dg_reply_free(cur);
    } else if (!strcmp(rpc, "server_stats")) {
        Dangan__V1__ServerStatsRequest m = DANGAN__V1__SERVER_STATS_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_SERVER_STATS;
        req.server_stats = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "audit_head")) {
        Dangan__V1__AuditHeadRequest m = DANGAN__V1__AUDIT_HEAD_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_HEAD;
        req.audit_head = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "duplicates_scan")) {
        Dangan__V1__DuplicatesScanRequest m = DANGAN__V1__DUPLICATES_SCAN_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_DUPLICATES_SCAN;
        req.duplicates_scan = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "tiers")) {
        Dangan__V1__TiersRequest m = DANGAN__V1__TIERS_REQUEST__INIT;

        m.limit = 1000;
        req.body_case = DANGAN__V1__REQUEST__BODY_TIERS;
        req.tiers = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "tiers_apply")) {
        Dangan__V1__TiersApplyRequest m = DANGAN__V1__TIERS_APPLY_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_TIERS_APPLY;
        req.tiers_apply = &m;
        r = call_as(a, &req, rpc);
        if (dgt_code(r) == 0)
            restore_tiers(); /* the rows after this one expect the targets' tiers */
    } else if (!strcmp(rpc, "deal_move")) {
        Dangan__V1__DealMoveRequest m = DANGAN__V1__DEAL_MOVE_REQUEST__INIT;

        m.deal_id = t->id == MISSING_ID ? MISSING_ID : admin_deal(t);
        m.stage = "qualified";
        m.expected_version = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_DEAL_MOVE;
        req.deal_move = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "today")) {
        /* the caller's own list ("-"), or the list of the target's owner */
        Dangan__V1__TodayRequest m = DANGAN__V1__TODAY_REQUEST__INIT;

        m.owner = t ? (char *)t->owner : "";
        m.limit = 5;
        req.body_case = DANGAN__V1__REQUEST__BODY_TODAY;
        req.today = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "get")) {
        Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.id = t->id;
        m.dossier = true;
        req.body_case = DANGAN__V1__REQUEST__BODY_GET;
        req.get = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "update") || !strcmp(rpc, "batch")) {
        Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
        Dangan__V1__BatchRequest b = DANGAN__V1__BATCH_REQUEST__INIT;
        Dangan__V1__BatchOp op = DANGAN__V1__BATCH_OP__INIT, *ops[] = {&op};

        cu.id = t->id;
        cu.phone = phone;
        rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        rec.customer = &cu;
        m.record = &rec;
        m.expected_version = current_version(t->id);
        m.update_mask = mask;
        m.n_update_mask = 1;
        if (!strcmp(rpc, "update")) {
            req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
            req.update = &m;
        } else {
            op.op_case = DANGAN__V1__BATCH_OP__OP_UPDATE;
            op.update = &m;
            b.ops = ops;
            b.n_ops = 1;
            req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
            req.batch = &b;
        }
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "create")) {
        Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;

        co.customer_id = t->id;
        co.name = name;
        rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
        rec.contact = &co;
        m.record = &rec;
        req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
        req.create = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "archive") || !strcmp(rpc, "restore")) {
        Dangan__V1__ArchiveRequest ar = DANGAN__V1__ARCHIVE_REQUEST__INIT;
        Dangan__V1__RestoreRequest rs = DANGAN__V1__RESTORE_REQUEST__INIT;

        if (!strcmp(rpc, "archive")) {
            ar.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
            ar.id = t->id;
            req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
            req.archive = &ar;
        } else {
            if (!t->archived)
                admin_archive(t->id, false);
            archived_first = !t->archived;
            rs.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
            rs.id = t->id;
            req.body_case = DANGAN__V1__REQUEST__BODY_RESTORE;
            req.restore = &rs;
        }
        r = call_as(a, &req, rpc);
        /* leave the customer as it was for the next row */
        if (!strcmp(rpc, "archive") && dgt_code(r) == 0)
            admin_archive(t->id, true);
        if (archived_first && dgt_code(r) != 0)
            admin_archive(t->id, true);
        if (t->archived && !strcmp(rpc, "restore") && dgt_code(r) == 0)
            admin_archive(t->id, false); /* archived again, as the rows expect */
    } else if (!strcmp(rpc, "subscribe") || !strcmp(rpc, "unsubscribe")) {
        Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
        Dangan__V1__UnsubscribeRequest u = DANGAN__V1__UNSUBSCRIBE_REQUEST__INIT;
        uint64_t id = 0;

        req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
        req.subscribe = &m;
        r = call_as(a, &req, rpc);
        if (dgt_code(r) == 0)
            id = dg_reply_response(r)->subscribe->subscription_id;
        if (!strcmp(rpc, "unsubscribe")) {
            if (dgt_code(r) != 0) { /* a refused subscribe was audited: not twice */
                snprintf(out, sizeof out, "%s", code_name(dgt_code(r)));
                dg_reply_free(r);
                return out;
            }
            dg_reply_free(r);
            u.subscription_id = id;
            req.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
            req.unsubscribe = &u;
            r = call_as(a, &req, rpc);
        } else if (id) { /* one subscription per row, not piling up on the connection */
            Dangan__V1__Request un = DANGAN__V1__REQUEST__INIT;

            u.subscription_id = id;
            un.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
            un.unsubscribe = &u;
            dg_reply_free(dgt_call(a->c, &un));
        }
    } else if (!strcmp(rpc, "history")) {
        Dangan__V1__HistoryRequest m = DANGAN__V1__HISTORY_REQUEST__INIT;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.id = t->id;
        req.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
        req.history = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "merge")) {
        Dangan__V1__MergeRequest m = DANGAN__V1__MERGE_REQUEST__INIT;
        struct target extra = *t;

        snprintf(name, sizeof name, "PERMTEST-MERGE-%d", n);
        extra.name = name;
        make_customer(&extra); /* same owner and tier, its own contact */
        m.keep_id = t->id;
        m.drop_id = extra.id;
        req.body_case = DANGAN__V1__REQUEST__BODY_MERGE;
        req.merge = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "reassign")) {
        Dangan__V1__ReassignRequest m = DANGAN__V1__REASSIGN_REQUEST__INIT;
        int64_t ids[] = {t->id};

        m.customer_ids = ids;
        m.n_customer_ids = 1;
        m.to_user = (char *)t->owner; /* to its owner: allowed or not, nothing moves */
        req.body_case = DANGAN__V1__REQUEST__BODY_REASSIGN;
        req.reassign = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "report")) {
        Dangan__V1__ReportRequest m = DANGAN__V1__REPORT_REQUEST__INIT;

        m.kind = "churn"; /* lists customers by name: the leak check reads them */
        req.body_case = DANGAN__V1__REQUEST__BODY_REPORT;
        req.report = &m;
        r = call_as(a, &req, rpc);
    } else if (!strcmp(rpc, "list")) {
        Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;

        m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        m.limit = 1000;
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &m;
        r = call_as(a, &req, rpc);
        snprintf(out, sizeof out, "%s", membership(r, t->id));
        dg_reply_free(r);
        return out;
    } else if (!strcmp(rpc, "search")) {
        Dangan__V1__SearchRequest m = DANGAN__V1__SEARCH_REQUEST__INIT;

        m.query = "PERMTEST";
        m.limit = 200;
        req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
        req.search = &m;
        r = call_as(a, &req, rpc);
        snprintf(out, sizeof out, "%s", membership(r, t->id));
        dg_reply_free(r);
        return out;
    } else if ((r = pool_row(a, rpc, t, &member)) != NULL) {
        if (member) {
            snprintf(out, sizeof out, "%s", member);
            dg_reply_free(r);
            return out;
        }
    } else if (!strncmp(rpc, "doc_", 4)) {
        bool is_role_refused = !strcmp(a->role, "viewer") || !strcmp(a->role, "auditor");

        r = dgt_perm_doc_request(a->c, actors[0].c, is_role_refused, rpc, t->id, t->doc_id,
                                 t->archived || t->id == MISSING_ID, MISSING_ID);
        if (!r)
            fail_msg("permissions.tsv names a request this test cannot make: %s", rpc);
        if (strcmp(a->role, "sales") == 0 || strcmp(a->role, "viewer") == 0)
            check_no_leak(a, r, rpc);
    } else {
        fail_msg("permissions.tsv names a request this test cannot make: %s", rpc);
        return "";
    }
    snprintf(out, sizeof out, "%s", code_name(dgt_code(r)));
    keep_reply(r, &last_reply, &last_reply_len);
    dg_reply_free(r);
    return out;
}

/* The world's teardown, and the reply run_row kept. */
static int teardown(void **state)
{
    free(last_reply);
    return perm_world_teardown(state);
}

/* ------------------------------------------------------------ tests */

struct row {
    char rpc[48], role[16], target[16], expect[32];
    int line;
};

static size_t load_rows(struct row *rows, size_t max)
{
    FILE *f = fopen(TSV_PATH, "r");
    char line[256];
    size_t n = 0;
    int no = 0;

    if (!f)
        fail_msg("cannot open %s", TSV_PATH);
    while (fgets(line, sizeof line, f)) {
        no++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(n < max);
        if (sscanf(line, "%47[^\t]\t%15[^\t]\t%15[^\t]\t%31[^\t\n]", rows[n].rpc, rows[n].role,
                   rows[n].target, rows[n].expect) != 4)
            fail_msg("%s:%d: not four tab-separated columns", TSV_PATH, no);
        rows[n].line = no;
        n++;
    }
    fclose(f);
    return n;
}

static void test_every_request_has_rows_for_every_role(void **state)
{
    static struct row rows[MAX_ROWS];
    const ProtobufCMessageDescriptor *d = &dangan__v1__request__descriptor;
    size_t n = load_rows(rows, MAX_ROWS);

    (void)state;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];

        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue; /* the id */
        for (size_t k = 0; k < DG_ARRAY_LEN(actors); k++) {
            bool found = false;

            for (size_t j = 0; j < n && !found; j++)
                found = !strcmp(rows[j].rpc, f->name) && !strcmp(rows[j].role, actors[k].role);
            if (!found)
                fail_msg("permissions.tsv has no row for %s as %s", f->name, actors[k].role);
        }
    }
}

/* A row answered NOT_FOUND, made again for an id that does not exist (no
 * audit record then): the replies must be the same bytes. */
static bool same_as_missing(const struct row *w, struct actor *a, const struct target *t, int n)
{
    struct target missing = *t;
    uint8_t *hidden = malloc(last_reply_len ? last_reply_len : 1);
    size_t hidden_len = last_reply_len, before = denied_count(a->user);
    char what[128];
    bool same;

    assert_non_null(hidden);
    memcpy(hidden, last_reply, hidden_len);
    missing.id = missing.contact_id = missing.doc_id = MISSING_ID;
    missing.archived = true; /* nothing to archive or restore around it */
    run_row(a, w->rpc, &missing, n);
    snprintf(what, sizeof what, "permissions.tsv:%d: %s as %s on %s", w->line, w->rpc, w->role,
             w->target);
    same = same_reply(what, hidden, hidden_len, last_reply, last_reply_len);
    if (denied_count(a->user) != before) {
        print_error("%s: a missing id left a denied audit record\n", what);
        same = false;
    }
    free(hidden);
    return same;
}

static void test_every_row_holds_and_each_refusal_is_audited_once(void **state)
{
    static struct row rows[MAX_ROWS];
    size_t n = load_rows(rows, MAX_ROWS), failures = 0;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        struct row *w = &rows[i];
        struct actor *a = actor_of(w->role);
        struct target *t = strcmp(w->target, "-") ? target_of(w->target) : NULL;
        size_t before, after, want;
        const char *got;

        if (!a || (strcmp(w->target, "-") && !t))
            fail_msg("permissions.tsv:%d: unknown role or target", w->line);
        before = denied_count(a->user);
        got = run_row(a, w->rpc, t, (int)i);
        after = denied_count(a->user);
        want = !strcmp(w->expect, "PERMISSION_DENIED") || !strcmp(w->expect, "NOT_FOUND");
        if (strcmp(got, w->expect) != 0) {
            print_error("permissions.tsv:%d: %s as %s on %s: expected %s, got %s\n", w->line,
                        w->rpc, w->role, w->target, w->expect, got);
            failures++;
        } else if (after - before != want) {
            print_error("permissions.tsv:%d: %s as %s on %s: %zu denied audit records, "
                        "expected %zu\n",
                        w->line, w->rpc, w->role, w->target, after - before, want);
            failures++;
        } else if (t && !strcmp(got, "NOT_FOUND") && !same_as_missing(w, a, t, (int)i)) {
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_request_has_rows_for_every_role),
        cmocka_unit_test(test_every_row_holds_and_each_refusal_is_audited_once),
    };

    return cmocka_run_group_tests_name("permissions", tests, perm_world_setup, teardown);
}
