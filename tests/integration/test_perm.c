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
 * same; likewise for the child records (contacts) of hidden customers.
 *
 * The leak test: canary strings planted in the restricted customers and in
 * the sensitive fields (bank account, contacts' personal phone and family)
 * must never appear in any byte a sales or viewer user receives - replies,
 * search hits, list pages, dossiers, errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"

#define TSV_PATH SOURCE_DIR "/tests/integration/permissions.tsv"
#define MAX_ROWS 512

static dgt_server srv;

/* ------------------------------------------------------------ the cast */

struct actor {
    const char *role; /* as in the data file */
    const char *user;
    int pb_role;
    const char *password;
    dg_client *c;
};

static struct actor actors[] = {
    {"admin", "admin", DANGAN__V1__ROLE__ROLE_ADMIN, NULL, NULL},
    {"manager", "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-password-1", NULL},
    {"sales", "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1", NULL},
    {"viewer", "view", DANGAN__V1__ROLE__ROLE_VIEWER, "viewer-password-1", NULL},
    {"auditor", "aud", DANGAN__V1__ROLE__ROLE_AUDITOR, "auditor-password-1", NULL},
};

/* The customers: name carries the restricted canary, the rest the sensitive ones. */
struct target {
    const char *label; /* as in the data file */
    const char *owner;
    Dangan__V1__Tier tier;
    const char *name;
    const char *bank_account;
    const char *personal_phone;
    const char *family;
    bool archived;
    int64_t id, contact_id;
};

static struct target targets[] = {
    {"s1_b", "s1", DANGAN__V1__TIER__TIER_B, "PERMTEST-S1B 甲公司", "6222020000001111",
     "13900001111", "家庭S1B金丝雀", false, 0, 0},
    {"s2_b", "s2", DANGAN__V1__TIER__TIER_B, "PERMTEST-S2B 乙公司", "6222020000002222",
     "13900002222", "家庭S2B金丝雀", false, 0, 0},
    {"s1_a", "s1", DANGAN__V1__TIER__TIER_A, "PERMTEST-S1A 丙公司", "6222020000003333",
     "13900003333", "家庭S1A金丝雀", false, 0, 0},
    {"s2_a", "s2", DANGAN__V1__TIER__TIER_A, "PERMTEST-S2A 丁公司", "6222020000004444",
     "13900004444", "家庭S2A金丝雀", false, 0, 0},
    {"s1_x", "s1", DANGAN__V1__TIER__TIER_B, "PERMTEST-S1X 戊公司", "6222020000006666",
     "13900006666", "家庭S1X金丝雀", true, 0, 0},
};

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

static const char *password_of(const struct actor *a)
{
    return a->password ? a->password : srv.admin_password;
}

/* ------------------------------------------------------------ leaks */

/* May `a` see target t's restricted canary (its name) / its sensitive values? */
static bool may_see_name(const struct actor *a, const struct target *t)
{
    if (strcmp(a->role, "viewer") == 0)
        return t->tier != DANGAN__V1__TIER__TIER_A;
    if (strcmp(a->role, "sales") == 0)
        return t->tier != DANGAN__V1__TIER__TIER_A || strcmp(t->owner, "s1") == 0;
    return true;
}

static bool may_see_sensitive(const struct actor *a, const struct target *t)
{
    if (strcmp(a->role, "viewer") == 0)
        return false;
    if (strcmp(a->role, "sales") == 0)
        return strcmp(t->owner, "s1") == 0;
    return true;
}

/* Every byte of the reply, as the server sent it (the Response re-packed). */
static void check_no_leak(const struct actor *a, const dg_reply *r, const char *what)
{
    const Dangan__V1__Response *resp = dg_reply_response(r);
    size_t n = protobuf_c_message_get_packed_size(&resp->base);
    uint8_t *bytes = malloc(n + 1);

    assert_non_null(bytes);
    protobuf_c_message_pack(&resp->base, bytes);
    for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++) {
        const struct target *t = &targets[i];
        const char *canaries[] = {t->bank_account, t->personal_phone, t->family};

        if (!may_see_name(a, t) && memmem(bytes, n, "PERMTEST-", 9) &&
            memmem(bytes, n, t->name, strlen(t->name)))
            fail_msg("%s (%s) received the restricted customer %s in %s", a->user, a->role,
                     t->label, what);
        if (may_see_sensitive(a, t))
            continue;
        for (size_t k = 0; k < DG_ARRAY_LEN(canaries); k++)
            if (memmem(bytes, n, canaries[k], strlen(canaries[k])))
                fail_msg("%s (%s) received %s of %s in %s", a->user, a->role, canaries[k], t->label,
                         what);
    }
    free(bytes);
}

/* No record has this id. */
#define MISSING_ID 987654321

/* The last reply of run_row, packed with its id cleared: what a client
 * receives apart from the id it chose. */
static uint8_t *last_reply;
static size_t last_reply_len;

static void keep_reply(const dg_reply *r, uint8_t **out, size_t *len)
{
    Dangan__V1__Response resp = *dg_reply_response(r);

    resp.id = 0;
    *len = protobuf_c_message_get_packed_size(&resp.base);
    *out = realloc(*out, *len ? *len : 1);
    assert_non_null(*out);
    protobuf_c_message_pack(&resp.base, *out);
}

/* "code reason: message [field: description, ...]" of packed reply bytes. */
static void describe(const uint8_t *bytes, size_t len, char *out, size_t cap)
{
    Dangan__V1__Response *r = dangan__v1__response__unpack(NULL, len, bytes);
    size_t n;

    assert_non_null(r);
    n = (size_t)snprintf(out, cap, "%d %s: %s [", r->status ? (int)r->status->code : 0,
                         r->status ? r->status->reason : "", r->status ? r->status->message : "");
    for (size_t i = 0; r->status && i < r->status->n_field_violations && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s: %s; ", r->status->field_violations[i]->field,
                              r->status->field_violations[i]->description);
    if (n < cap)
        snprintf(out + n, cap - n, "] body %d", (int)r->body_case);
    dangan__v1__response__free_unpacked(r, NULL);
}

/* Fails (returning false) unless the two replies are the same bytes. */
static bool same_reply(const char *what, const uint8_t *hidden, size_t hidden_len,
                       const uint8_t *missing, size_t missing_len)
{
    char h[1024], m[1024];

    if (hidden_len == missing_len && !memcmp(hidden, missing, hidden_len))
        return true;
    describe(hidden, hidden_len, h, sizeof h);
    describe(missing, missing_len, m, sizeof m);
    print_error("%s: the reply for a hidden record differs from the one for a missing id:\n"
                "  hidden:  %s\n  missing: %s\n",
                what, h, m);
    return false;
}

/* dgt_call, with the leak check for the roles it applies to. */
static dg_reply *call_as(struct actor *a, Dangan__V1__Request *req, const char *what)
{
    dg_reply *r = dgt_call(a->c, req);

    if (strcmp(a->role, "sales") == 0 || strcmp(a->role, "viewer") == 0)
        check_no_leak(a, r, what);
    return r;
}

/* ------------------------------------------------------------ requests */

static void make_customer(struct target *t);

static dg_reply *admin_call(Dangan__V1__Request *req)
{
    return dgt_call(actors[0].c, req);
}

static int64_t current_version(int64_t id)
{
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int64_t v;

    g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    g.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = admin_call(&req);
    if (id == MISSING_ID) { /* a request for a missing record names some version */
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__NOT_FOUND);
        dg_reply_free(r);
        return 1;
    }
    assert_int_equal(dgt_code(r), 0);
    v = dg_reply_response(r)->get->record->customer->version;
    dg_reply_free(r);
    return v;
}

static void admin_archive(int64_t id, bool restore)
{
    Dangan__V1__ArchiveRequest a = DANGAN__V1__ARCHIVE_REQUEST__INIT;
    Dangan__V1__RestoreRequest rs = DANGAN__V1__RESTORE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    if (restore) {
        rs.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        rs.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_RESTORE;
        req.restore = &rs;
    } else {
        a.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        a.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
        req.archive = &a;
    }
    r = admin_call(&req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
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
    } else if (!strcmp(rpc, "audit_verify")) {
        Dangan__V1__AuditVerifyRequest m = DANGAN__V1__AUDIT_VERIFY_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY;
        req.audit_verify = &m;
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
    } else {
        fail_msg("permissions.tsv names a request this test cannot make: %s", rpc);
        return "";
    }
    snprintf(out, sizeof out, "%s", code_name(dgt_code(r)));
    keep_reply(r, &last_reply, &last_reply_len);
    dg_reply_free(r);
    return out;
}

/* ------------------------------------------------------------ setup */

static void make_customer(struct target *t)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Contact co = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__UserRef owner = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;

    cu.name = (char *)t->name;
    cu.tier = t->tier;
    cu.bank_account = (char *)t->bank_account;
    owner.username = (char *)t->owner;
    cu.owner = &owner;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = admin_call(&req);
    if (dgt_code(r) != 0)
        fail_msg("create %s: %s", t->label, dg_reply_response(r)->status->message);
    t->id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);

    co.customer_id = t->id;
    co.name = "王经理";
    co.personal_phone = (char *)t->personal_phone;
    co.family = (char *)t->family;
    co.birthday = "1980-05-06";
    rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec.contact = &co;
    r = admin_call(&req);
    if (dgt_code(r) != 0)
        fail_msg("contact of %s: %s", t->label, dg_reply_response(r)->status->message);
    t->contact_id = dg_reply_response(r)->create->record->contact->id;
    dg_reply_free(r);
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    for (size_t i = 1; i < DG_ARRAY_LEN(actors); i++)
        dgt_make_user(&srv, actors[i].user, actors[i].pb_role, actors[i].password);
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    dgt_make_user(&srv, "dummy", DANGAN__V1__ROLE__ROLE_VIEWER, "dummy-password-123");
    for (size_t i = 0; i < DG_ARRAY_LEN(actors); i++)
        actors[i].c = dgt_login(&srv, actors[i].user, password_of(&actors[i]));
    for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++) {
        make_customer(&targets[i]);
        if (targets[i].archived)
            admin_archive(targets[i].id, false);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(last_reply);
    for (size_t i = 0; i < DG_ARRAY_LEN(actors); i++)
        dg_client_close(actors[i].c);
    dgt_server_stop(&srv);
    return 0;
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
    missing.id = missing.contact_id = MISSING_ID;
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

static void test_dossiers_and_contact_lists_do_not_leak(void **state)
{
    (void)state;
    for (size_t k = 2; k <= 3; k++) { /* sales, viewer */
        struct actor *a = &actors[k];

        for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++) {
            Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
            Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
            Dangan__V1__ListRequest l = DANGAN__V1__LIST_REQUEST__INIT;
            Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
            dg_reply *r;

            g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
            g.id = targets[i].contact_id;
            req.body_case = DANGAN__V1__REQUEST__BODY_GET;
            req.get = &g;
            dg_reply_free(call_as(a, &req, "contact get"));

            l.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
            l.limit = 100;
            f.customer_id = targets[i].id;
            l.filter = &f;
            req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
            req.list = &l;
            r = call_as(a, &req, "contact list");
            if (!may_see_name(a, &targets[i]))
                assert_int_equal(dg_reply_response(r)->list->n_records, 0);
            dg_reply_free(r);

            l.filter = NULL; /* every contact, every customer */
            r = call_as(a, &req, "all contacts");
            dg_reply_free(r);
        }
    }
}

static void test_masks_keep_the_shape(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    dg_reply *r;

    (void)state;
    g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    g.id = targets[0].id; /* s1's: the viewer sees it, masked */
    g.dossier = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = call_as(&actors[3], &req, "masked get");
    assert_int_equal(dgt_code(r), 0);
    assert_string_equal(dg_reply_response(r)->get->record->customer->bank_account,
                        "622*********1111");
    assert_string_equal(dg_reply_response(r)->get->dossier->contacts[0]->personal_phone,
                        "139****1111");
    assert_string_equal(dg_reply_response(r)->get->dossier->contacts[0]->birthday, "****-**-**");
    dg_reply_free(r);
    /* the owner sees it whole */
    r = call_as(&actors[2], &req, "owner get");
    assert_string_equal(dg_reply_response(r)->get->record->customer->bank_account,
                        "6222020000001111");
    assert_string_equal(dg_reply_response(r)->get->dossier->contacts[0]->family, "家庭S1B金丝雀");
    dg_reply_free(r);
}

static dg_reply *history_as(struct actor *a, int64_t id)
{
    Dangan__V1__HistoryRequest m = DANGAN__V1__HISTORY_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
    req.history = &m;
    return call_as(a, &req, "history");
}

/* The change of `field` in the newest entry that has one. */
static const Dangan__V1__FieldChange *change_of(const dg_reply *r, const char *field)
{
    const Dangan__V1__HistoryResponse *h = dg_reply_response(r)->history;

    for (size_t i = 0; i < h->n_entries; i++)
        for (size_t k = 0; k < h->entries[i]->n_changes; k++)
            if (!strcmp(h->entries[i]->changes[k]->field, field))
                return h->entries[i]->changes[k];
    return NULL;
}

static void test_history_names_who_changed_what_masked_as_in_a_get(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    char *mask[] = {"bank_account", "phone"};
    const Dangan__V1__FieldChange *c;
    dg_reply *r;

    (void)state;
    cu.id = targets[0].id; /* s1's, tier B */
    cu.bank_account = "6222020000005555";
    cu.phone = "010-6000-1234";
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.expected_version = current_version(targets[0].id);
    m.update_mask = mask;
    m.n_update_mask = 2;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    r = call_as(&actors[2], &req, "update by owner");
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);

    /* the owner sees it whole, newest first, by whom */
    r = history_as(&actors[2], targets[0].id);
    assert_int_equal(dgt_code(r), 0);
    assert_string_equal(dg_reply_response(r)->history->entries[0]->username, "s1");
    assert_string_equal(dg_reply_response(r)->history->entries[0]->action, "customer.update");
    c = change_of(r, "bank_account");
    assert_non_null(c);
    assert_string_equal(c->before, "\"6222020000001111\"");
    assert_string_equal(c->after, "\"6222020000005555\"");
    assert_string_equal(change_of(r, "phone")->after, "\"010-6000-1234\"");
    dg_reply_free(r);

    /* the viewer: the same entries, sensitive values masked */
    r = history_as(&actors[3], targets[0].id);
    assert_int_equal(dgt_code(r), 0);
    c = change_of(r, "bank_account");
    assert_non_null(c);
    assert_string_equal(c->before, "\"622*********1111\"");
    assert_string_equal(c->after, "\"622*********5555\"");
    assert_string_equal(change_of(r, "phone")->after, "\"010-6000-1234\""); /* not sensitive */
    dg_reply_free(r);

    /* a restricted customer of someone else has no history for s1 */
    r = history_as(&actors[2], targets[3].id);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__NOT_FOUND);
    dg_reply_free(r);
}

/* The newest audit record of `user` for `action`, or NULL (caller frees the reply). */
static const Dangan__V1__AuditRecord *newest(const char *user, const char *action, dg_reply **r)
{
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    q.username = (char *)user;
    q.action = (char *)action;
    q.limit = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    *r = admin_call(&req);
    assert_int_equal(dgt_code(*r), 0);
    return dg_reply_response(*r)->audit_query->n_records
               ? dg_reply_response(*r)->audit_query->records[0]
               : NULL;
}

/* Does the detail's restricted_ids hold `id`? */
static bool names_id(const char *detail, int64_t id)
{
    json_t *d = json_loads(detail, 0, NULL), *v;
    bool found = false;
    size_t i;

    json_array_foreach(json_object_get(d, "restricted_ids"), i, v) found |=
        json_integer_value(v) == id;
    json_decref(d);
    return found;
}

static void test_reads_of_restricted_customers_are_audited(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest l = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__SearchRequest q = DANGAN__V1__SEARCH_REQUEST__INIT;
    const Dangan__V1__AuditRecord *a;
    dg_reply *r, *ar;

    (void)state;
    /* a manager's list page showing both A-tier customers: one record naming them */
    l.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    l.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &l;
    dg_reply_free(call_as(&actors[1], &req, "list"));
    a = newest("mgr", "record.list", &ar);
    assert_non_null(a);
    assert_non_null(strstr(a->detail, "restricted_ids"));
    assert_true(names_id(a->detail, targets[2].id));
    assert_true(names_id(a->detail, targets[3].id));
    dg_reply_free(ar);
    /* the owner's search: only what it sees, and only the restricted one */
    q.query = "PERMTEST";
    q.limit = 200;
    req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req.search = &q;
    r = call_as(&actors[2], &req, "search");
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    a = newest("s1", "record.search", &ar);
    assert_non_null(a);
    assert_true(names_id(a->detail, targets[2].id));
    assert_false(names_id(a->detail, targets[3].id));
    dg_reply_free(ar);
    /* a viewer's list shows no restricted customer: nothing to audit */
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &l;
    dg_reply_free(call_as(&actors[3], &req, "list"));
    a = newest("view", "record.list", &ar);
    assert_null(a);
    dg_reply_free(ar);
}

static void test_hidden_customers_stay_hidden_everywhere(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__CreateRequest cr = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__AuditQueryRequest q = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_reply *r;

    (void)state;
    /* a restricted customer's miss reads like any miss */
    g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    g.id = targets[3].id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = call_as(&actors[2], &req, "hidden get");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__NOT_FOUND);
    assert_string_equal(dg_reply_response(r)->status->reason, "not_found");
    assert_string_equal(dg_reply_response(r)->status->message, "no such customer");
    dg_reply_free(r);

    /* the duplicate check does not name it either: s2_a's name is taken, and
     * s1 is told only that a customer it cannot see matches, even when
     * asking to add it anyway (a manager resolves it from the audit log) */
    cu.name = "permtest-s2a 丁公司"; /* s2_a's name as the duplicate check keys it */
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    cr.record = &rec;
    cr.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &cr;
    r = call_as(&actors[2], &req, "duplicate of a hidden customer");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__ALREADY_EXISTS);
    assert_string_equal(dg_reply_response(r)->status->reason, "duplicate_hidden");
    assert_int_equal(dg_reply_response(r)->body_case, DANGAN__V1__RESPONSE__BODY__NOT_SET);
    assert_null(strstr(dg_reply_response(r)->status->message, "s2"));
    dg_reply_free(r);
    cr.allow_duplicate = false;
    /* ...while the visible one is named as a likely duplicate */
    cu.name = "permtest-s2b 乙公司";
    r = call_as(&actors[2], &req, "duplicate of a visible customer");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__ALREADY_EXISTS);
    dg_reply_free(r);

    /* a contact of an archived customer cannot change until it is restored */
    {
        Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
        Dangan__V1__Contact co = DANGAN__V1__CONTACT__INIT;
        char *mask[] = {"title"};

        co.id = targets[4].contact_id; /* s1_x is archived */
        co.title = "总经理";
        rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
        rec.contact = &co;
        u.record = &rec;
        u.expected_version = 1;
        u.update_mask = mask;
        u.n_update_mask = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = &u;
        r = call_as(&actors[0], &req, "contact of an archived customer");
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
        dg_reply_free(r);
    }

    /* the auditor reads the audit trail with sensitive values masked */
    q.action = "customer.create";
    q.entity = "customer";
    q.entity_id = targets[0].id;
    q.limit = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &q;
    r = dgt_call(actors[4].c, &req);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->audit_query->n_records, 1);
    assert_null(strstr(dg_reply_response(r)->audit_query->records[0]->detail, "6222020000001111"));
    assert_non_null(
        strstr(dg_reply_response(r)->audit_query->records[0]->detail, "622*********1111"));
    dg_reply_free(r);
    r = admin_call(&req); /* admins see everything */
    assert_non_null(
        strstr(dg_reply_response(r)->audit_query->records[0]->detail, "6222020000001111"));
    dg_reply_free(r);
}

static void test_lists_across_dossiers_mask_and_audit_by_each_owner(void **state)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListRequest l = DANGAN__V1__LIST_REQUEST__INIT;
    const Dangan__V1__AuditRecord *a;
    dg_reply *r, *ar;
    int seen = 0;

    (void)state;
    l.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
    l.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &l;
    r = call_as(&actors[2], &req, "every contact");
    assert_int_equal(dgt_code(r), 0);
    for (size_t i = 0; i < dg_reply_response(r)->list->n_records; i++) {
        const Dangan__V1__Contact *c = dg_reply_response(r)->list->records[i]->contact;

        if (c->id == targets[0].contact_id) { /* s1's own: whole */
            assert_string_equal(c->personal_phone, targets[0].personal_phone);
            seen++;
        } else if (c->id == targets[1].contact_id) { /* s2's: masked */
            assert_string_equal(c->personal_phone, "139****2222");
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    dg_reply_free(r);
    /* the page showed s1_a's contact (restricted, s1's own): on record */
    a = newest("s1", "record.list", &ar);
    assert_non_null(a);
    assert_true(names_id(a->detail, targets[2].contact_id));
    dg_reply_free(ar);
}

/* ------------------------------------------------------------ hidden children */

enum child_op { C_GET, C_HISTORY, C_CREATE, C_UPDATE, C_ARCHIVE, C_RESTORE, C_BATCH, N_C_OPS };
static const char *const child_op_names[] = {"get",     "history", "create", "update",
                                             "archive", "restore", "batch"};

/* The reply to one request about contact `id` (create: a contact of customer
 * `id`), packed with its id cleared. */
static void child_reply(struct actor *a, enum child_op op, int64_t id, uint8_t **out, size_t *len)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__HistoryRequest h = DANGAN__V1__HISTORY_REQUEST__INIT;
    Dangan__V1__CreateRequest cr = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__ArchiveRequest ar = DANGAN__V1__ARCHIVE_REQUEST__INIT;
    Dangan__V1__RestoreRequest rs = DANGAN__V1__RESTORE_REQUEST__INIT;
    Dangan__V1__BatchRequest b = DANGAN__V1__BATCH_REQUEST__INIT;
    Dangan__V1__BatchOp bop = DANGAN__V1__BATCH_OP__INIT, *bops[] = {&bop};
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Contact co = DANGAN__V1__CONTACT__INIT;
    char *mask[] = {"title"};
    dg_reply *r;

    rec.kind_case = DANGAN__V1__RECORD__KIND_CONTACT;
    rec.contact = &co;
    co.title = "总经理";
    u.record = &rec;
    u.expected_version = 1;
    u.update_mask = mask;
    u.n_update_mask = 1;
    co.id = id;
    switch (op) {
    case C_GET:
        g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
        g.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_GET;
        req.get = &g;
        break;
    case C_HISTORY:
        h.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
        h.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
        req.history = &h;
        break;
    case C_CREATE:
        co.id = 0;
        co.customer_id = id;
        co.name = "新联系人";
        cr.record = &rec;
        req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
        req.create = &cr;
        break;
    case C_UPDATE:
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = &u;
        break;
    case C_ARCHIVE:
        ar.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
        ar.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
        req.archive = &ar;
        break;
    case C_RESTORE:
        rs.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
        rs.id = id;
        req.body_case = DANGAN__V1__REQUEST__BODY_RESTORE;
        req.restore = &rs;
        break;
    default:
        bop.op_case = DANGAN__V1__BATCH_OP__OP_UPDATE;
        bop.update = &u;
        b.ops = bops;
        b.n_ops = 1;
        req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
        req.batch = &b;
        break;
    }
    r = call_as(a, &req, child_op_names[op]);
    keep_reply(r, out, len);
    dg_reply_free(r);
}

/* The contacts of customers hidden from sales and viewers: every request
 * about one reads as a request about a contact that does not exist. */
static void test_hidden_children_read_as_missing_ones(void **state)
{
    uint8_t *hidden = NULL, *missing = NULL;
    size_t hidden_len = 0, missing_len = 0, failures = 0;

    (void)state;
    for (size_t k = 2; k <= 3; k++) { /* sales, viewer */
        struct actor *a = &actors[k];

        for (size_t i = 0; i < DG_ARRAY_LEN(targets); i++) {
            const struct target *t = &targets[i];
            char what[128];

            if (may_see_name(a, t))
                continue;
            for (int op = 0; op < N_C_OPS; op++) {
                int64_t id = op == C_CREATE ? t->id : t->contact_id;

                snprintf(what, sizeof what, "contact %s as %s of %s", child_op_names[op], a->role,
                         t->label);
                child_reply(a, (enum child_op)op, id, &hidden, &hidden_len);
                child_reply(a, (enum child_op)op, MISSING_ID, &missing, &missing_len);
                failures += !same_reply(what, hidden, hidden_len, missing, missing_len);
            }
        }
    }
    /* nor does it tell that a hidden customer is archived */
    admin_archive(targets[3].id, false); /* s2_a */
    for (int op = C_CREATE; op <= C_RESTORE; op++) {
        int64_t id = op == C_CREATE ? targets[3].id : targets[3].contact_id;

        child_reply(&actors[2], (enum child_op)op, id, &hidden, &hidden_len);
        child_reply(&actors[2], (enum child_op)op, MISSING_ID, &missing, &missing_len);
        failures += !same_reply("contact of an archived hidden customer", hidden, hidden_len,
                                missing, missing_len);
    }
    admin_archive(targets[3].id, true);
    free(hidden);
    free(missing);
    assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------ task assignees */

/* A task of `customer` assigned to `assignee`, created as `a`. */
static dg_reply *task_for(struct actor *a, int64_t customer, const char *assignee)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task t = DANGAN__V1__TASK__INIT;
    Dangan__V1__UserRef u = DANGAN__V1__USER_REF__INIT;

    t.customer_id = customer;
    t.title = "回访";
    u.username = (char *)assignee;
    t.assignee = &u;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &t;
    m.record = &rec;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return call_as(a, &req, "task create");
}

static dg_reply *reassign_task(struct actor *a, int64_t task, const char *assignee)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task t = DANGAN__V1__TASK__INIT;
    Dangan__V1__UserRef u = DANGAN__V1__USER_REF__INIT;
    char *mask[] = {"assignee"};

    t.id = task;
    u.username = (char *)assignee;
    t.assignee = &u;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &t;
    m.record = &rec;
    m.expected_version = 1;
    m.update_mask = mask;
    m.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    return call_as(a, &req, "task update");
}

/* Refused naming the assignee field, saying why and what to do instead. */
static void assert_bad_assignee(dg_reply *r, const char *field, const char *because)
{
    const Dangan__V1__Status *st = dg_reply_response(r)->status;

    if (st->n_field_violations != 1 || strcmp(st->field_violations[0]->field, field) ||
        !strstr(st->message, because))
        fail_msg("expected a refusal of %s (%s), got %s: %s", field, because, st->reason,
                 st->message);
    dg_reply_free(r);
}

static void test_tasks_go_only_to_users_who_can_see_and_close_them(void **state)
{
    struct actor *admin = &actors[0], *mgr = &actors[1];
    struct target keep = targets[3], drop = targets[0]; /* s2's tier A; s1's tier B */
    int64_t task;
    dg_reply *r;

    (void)state;
    /* s1 may not see s2_a: the task would be invisible to the one who must do it */
    r = task_for(admin, targets[3].id, "s1");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_bad_assignee(r, "record.assignee", "may not see this customer");
    /* s1 sees s2_b but may not change s2's dossier, so could not close it */
    r = task_for(admin, targets[1].id, "s1");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_bad_assignee(r, "record.assignee", "could never close");
    r = task_for(admin, targets[1].id, "view"); /* viewers close nothing */
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    dg_reply_free(r);
    /* its owner and a manager may */
    r = task_for(admin, targets[3].id, "s2");
    assert_int_equal(dgt_code(r), 0);
    task = dg_reply_response(r)->create->record->task->id;
    dg_reply_free(r);
    r = task_for(admin, targets[3].id, "mgr");
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    /* and handing it over later is checked the same way */
    r = reassign_task(admin, task, "s1");
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__INVALID_ARGUMENT);
    assert_bad_assignee(r, "record.assignee", "may not see this customer");
    r = reassign_task(admin, task, "mgr");
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);

    /* a merge would move s1's open task into a dossier s1 may not see */
    keep.name = "PERMTEST-TASK-KEEP";
    make_customer(&keep); /* s2's, tier A */
    drop.name = "PERMTEST-TASK-DROP";
    make_customer(&drop); /* s1's, tier B */
    r = task_for(admin, drop.id, "s1");
    assert_int_equal(dgt_code(r), 0);
    task = dg_reply_response(r)->create->record->task->id;
    dg_reply_free(r);
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__MergeRequest m = DANGAN__V1__MERGE_REQUEST__INIT;
        Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
        char open_task[64];

        m.keep_id = keep.id;
        m.drop_id = drop.id;
        req.body_case = DANGAN__V1__REQUEST__BODY_MERGE;
        req.merge = &m;
        r = call_as(mgr, &req, "merge");
        assert_int_equal(dgt_code(r), DANGAN__V1__CODE__FAILED_PRECONDITION);
        snprintf(open_task, sizeof open_task, "open task %lld", (long long)task);
        assert_bad_assignee(r, "drop_id", open_task);
        /* nothing moved */
        g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK;
        g.id = task;
        req.body_case = DANGAN__V1__REQUEST__BODY_GET;
        req.get = &g;
        r = admin_call(&req);
        assert_int_equal(dg_reply_response(r)->get->record->task->customer_id, drop.id);
        dg_reply_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_request_has_rows_for_every_role),
        cmocka_unit_test(test_every_row_holds_and_each_refusal_is_audited_once),
        cmocka_unit_test(test_dossiers_and_contact_lists_do_not_leak),
        cmocka_unit_test(test_masks_keep_the_shape),
        cmocka_unit_test(test_history_names_who_changed_what_masked_as_in_a_get),
        cmocka_unit_test(test_reads_of_restricted_customers_are_audited),
        cmocka_unit_test(test_hidden_customers_stay_hidden_everywhere),
        cmocka_unit_test(test_lists_across_dossiers_mask_and_audit_by_each_owner),
        cmocka_unit_test(test_hidden_children_read_as_missing_ones),
        cmocka_unit_test(test_tasks_go_only_to_users_who_can_see_and_close_them),
    };

    return cmocka_run_group_tests_name("permissions", tests, setup, teardown);
}
