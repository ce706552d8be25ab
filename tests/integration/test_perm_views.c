/* test_perm_views.c - what each role sees of the records it may read, over
 * real TLS, in the world of perm_world.h: dossiers and contact lists that do
 * not leak, masks that keep the shape of a value, history masked as a Get
 * is, reads of restricted customers audited, hidden customers and their
 * child records (contacts) that read exactly as missing ones, and tasks
 * assigned only to users who can see and close them. The policy table
 * itself (every request, every role) is test_perm.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "perm_world.h"

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
        cmocka_unit_test(test_dossiers_and_contact_lists_do_not_leak),
        cmocka_unit_test(test_masks_keep_the_shape),
        cmocka_unit_test(test_history_names_who_changed_what_masked_as_in_a_get),
        cmocka_unit_test(test_reads_of_restricted_customers_are_audited),
        cmocka_unit_test(test_hidden_customers_stay_hidden_everywhere),
        cmocka_unit_test(test_lists_across_dossiers_mask_and_audit_by_each_owner),
        cmocka_unit_test(test_hidden_children_read_as_missing_ones),
        cmocka_unit_test(test_tasks_go_only_to_users_who_can_see_and_close_them),
    };

    return cmocka_run_group_tests_name("permissions: views", tests, perm_world_setup,
                                       perm_world_teardown);
}
