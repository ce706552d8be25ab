/* perm_world.c - the world of the permission tests: see perm_world.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "perm_docs.h"
#include "perm_world.h"

dgt_server srv;

/* ------------------------------------------------------------ the cast */

struct actor actors[5] = {
    {"admin", "admin", DANGAN__V1__ROLE__ROLE_ADMIN, NULL, NULL},
    {"manager", "mgr", DANGAN__V1__ROLE__ROLE_MANAGER, "manager-password-1", NULL},
    {"sales", "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1", NULL},
    {"viewer", "view", DANGAN__V1__ROLE__ROLE_VIEWER, "viewer-password-1", NULL},
    {"auditor", "aud", DANGAN__V1__ROLE__ROLE_AUDITOR, "auditor-password-1", NULL},
};

struct target targets[5] = {
    {"s1_b", "s1", DANGAN__V1__TIER__TIER_B, "PERMTEST-S1B 甲公司", "6222020000001111",
     "13900001111", "家庭S1B金丝雀", false, 0, 0, 0},
    {"s2_b", "s2", DANGAN__V1__TIER__TIER_B, "PERMTEST-S2B 乙公司", "6222020000002222",
     "13900002222", "家庭S2B金丝雀", false, 0, 0, 0},
    {"s1_a", "s1", DANGAN__V1__TIER__TIER_A, "PERMTEST-S1A 丙公司", "6222020000003333",
     "13900003333", "家庭S1A金丝雀", false, 0, 0, 0},
    {"s2_a", "s2", DANGAN__V1__TIER__TIER_A, "PERMTEST-S2A 丁公司", "6222020000004444",
     "13900004444", "家庭S2A金丝雀", false, 0, 0, 0},
    {"s1_x", "s1", DANGAN__V1__TIER__TIER_B, "PERMTEST-S1X 戊公司", "6222020000006666",
     "13900006666", "家庭S1X金丝雀", true, 0, 0, 0},
};

const char *password_of(const struct actor *a)
{
    return a->password ? a->password : srv.admin_password;
}

/* ------------------------------------------------------------ leaks */

/* May `a` see target t's restricted canary (its name) / its sensitive values? */
bool may_see_name(const struct actor *a, const struct target *t)
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
void check_no_leak(const struct actor *a, const dg_reply *r, const char *what)
{
    const Dangan__V1__Response *resp = dg_reply_response(r);
    size_t n = protobuf_c_message_get_packed_size(&resp->base);
    uint8_t *bytes = malloc(n + 1);

    assert_non_null(bytes);
    protobuf_c_message_pack(&resp->base, bytes);
    check_no_leak_in(a, bytes, n, what);
    free(bytes);
}

void check_no_leak_in(const struct actor *a, const void *bytes, size_t n, const char *what)
{
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
}

void keep_reply(const dg_reply *r, uint8_t **out, size_t *len)
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
bool same_reply(const char *what, const uint8_t *hidden, size_t hidden_len, const uint8_t *missing,
                size_t missing_len)
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
dg_reply *call_as(struct actor *a, Dangan__V1__Request *req, const char *what)
{
    dg_reply *r = dgt_call(a->c, req);

    if (strcmp(a->role, "sales") == 0 || strcmp(a->role, "viewer") == 0)
        check_no_leak(a, r, what);
    return r;
}

dg_reply *admin_call(Dangan__V1__Request *req)
{
    return dgt_call(actors[0].c, req);
}

int64_t current_version(int64_t id)
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

void admin_archive(int64_t id, bool restore)
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

/* ------------------------------------------------------------ setup */

void make_customer(struct target *t)
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

int perm_world_setup(void **state)
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
        targets[i].doc_id = dgt_perm_doc_upload(actors[0].c, targets[i].id);
        if (targets[i].archived)
            admin_archive(targets[i].id, false);
    }
    return 0;
}

int perm_world_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < DG_ARRAY_LEN(actors); i++)
        dg_client_close(actors[i].c);
    dgt_server_stop(&srv);
    return 0;
}
