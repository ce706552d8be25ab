/* records.c - create, update, archive, restore and move inside the writer's
 * transaction: references and custom values checked against the database,
 * derived columns kept in step (records_derive.c), and one change row plus
 * one audit record per change. Bulk import and index rebuilds:
 * records_upkeep.c.
 * Runs on: the writer thread (jansson objects are local to each call).
 */
#include "records.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "dg.h"
#include "perm.h"
#include "text.h"
#include "records_int.h"

static int refuse(dg_mutation *m, int rc, const char *field, const char *why)
{
    snprintf(m->field, sizeof m->field, "%s", field);
    snprintf(m->why, sizeof m->why, "%s", why);
    return rc;
}

/* The same for a task's assignee, saying whom to choose instead. */
static int refuse_assignee(dg_mutation *m, int rc, const char *field, const char *why)
{
    snprintf(m->field, sizeof m->field, "%s", field);
    snprintf(m->why, sizeof m->why, "%s; assign it to the customer's owner, a manager or an admin",
             why);
    return rc;
}

/* ------------------------------------------------------------ field versions */

/* The version at which item `field` last changed, of a record's versions. */
static int64_t field_version(const dg_field_version *fv, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fv[i].field, field) == 0)
            return fv[i].version;
    return 1; /* none: unchanged since creation */
}

/* ------------------------------------------------------------ audit and change rows */

static json_t *value_json(const dg_field *f, const dg_value *v)
{
    char name[64];

    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        return json_string(v->s);
    case DG_F_ENUM: {
        const char *n = dg_enum_name(f->enum_desc, (int)v->i, name, sizeof name);
        return json_string(n ? n : "");
    }
    case DG_F_BOOL:
        return json_boolean(v->i);
    case DG_F_MONEY:
        return json_pack("{s:I,s:s}", "amount_minor", (json_int_t)v->i, "currency", v->s);
    default:
        return json_integer((json_int_t)v->i);
    }
}

static json_t *tags_json(const dg_record *r)
{
    json_t *a = json_array();

    for (size_t i = 0; i < r->n_tags; i++)
        json_array_append_new(a, json_string(r->tags[i]));
    return a;
}

static const char *custom_get(const dg_record *r, const char *name)
{
    for (size_t i = 0; i < r->n_custom; i++)
        if (strcmp(r->custom[i].name, name) == 0)
            return r->custom[i].value;
    return "";
}

/* One field's value as JSON by name (fields, "tags", "custom.NAME", "archived"). */
static json_t *named_json(const dg_record *r, const char *name)
{
    const dg_entity *e = dg_entity_get(r->kind);
    int i = dg_entity_field_index(e, name);

    if (i >= 0)
        return value_json(&e->fields[i], &r->v[i]);
    if (strcmp(name, "tags") == 0)
        return tags_json(r);
    if (strncmp(name, "custom.", 7) == 0)
        return json_string(custom_get(r, name + 7));
    if (strcmp(name, "archived") == 0)
        return json_boolean(r->is_archived);
    return json_null();
}

static json_t *fields_json(const dg_record *r, const char *const *names, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, names[i], named_json(r, names[i]));
    return o;
}

/* The change row and the audit record of one change, in the same savepoint:
 * `fields` are the changed items, `prev` the record before (NULL: a new
 * one), `customer` its customer after, `vis_before` / `vis_after` the
 * dossier's view before and after it. */
static int record_change(dg_rec_ctx *c, const char *op, const char *verb, const dg_record *r,
                         const dg_record *prev, const dg_record *customer,
                         const char *const *fields, size_t n_fields, dg_visibility vis_before,
                         dg_visibility vis_after, json_t *detail, dg_mutation *m)
{
    const dg_entity *e = dg_entity_get(r->kind);
    const char **olds, **news;
    int rc = rec_change_values(c->arena, prev, r, fields, n_fields, &olds, &news);

    if (rc != DG_OK) {
        json_decref(detail);
        return rc;
    }
    dg_change ch = {.at = c->now,
                    .actor_id = c->who->user_id,
                    .entity = e->name,
                    .entity_id = r->id,
                    .customer_id = r->customer_id,
                    .op = op,
                    .version = r->version,
                    .fields = fields,
                    .n_fields = n_fields,
                    .old_values = olds,
                    .new_values = news,
                    .customer_name = rec_fstr(customer, "name"),
                    .customer_code = rec_fstr(customer, "code"),
                    .vis_before = vis_before,
                    .vis_after = vis_after};
    char action[48];
    char *text;

    if ((rc = dg_wtx_change_append(c->tx, &ch, &m->seq)) != DG_OK) {
        json_decref(detail);
        return rc;
    }
    json_object_set_new(detail, "change_seq", json_integer((json_int_t)m->seq));
    text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (!text)
        return DG_ENOMEM;
    snprintf(action, sizeof action, "%s.%s", e->name, verb);
    dg_audit_rec rec = {.at = c->now,
                        .user_id = c->who->user_id,
                        .username = c->who->username,
                        .peer = c->who->peer,
                        .action = action,
                        .entity = e->name,
                        .entity_id = r->id,
                        .outcome = "ok",
                        .detail = text};
    rc = dg_audit_append(c->tx->store, c->tx->audit, &rec);
    free(text);
    return rc;
}

/* ------------------------------------------------------------ checks against the database */

/* ------------------------------------------------------------ permissions (perm.c) */

static dg_perm_who perm_who(const dg_rec_ctx *c)
{
    return (dg_perm_who){c->who->user_id, c->who->role, c->who->restricted};
}

/* May the actor change `customer`'s dossier? Checked inside the write
 * transaction, so a hand-over committed just before cannot be raced. A
 * customer the actor may not see is not found (m->is_hidden: the attempt
 * is audited); someone else's is denied. */
static int check_access(dg_rec_ctx *c, const dg_record *customer, dg_mutation *m)
{
    dg_perm_who who = perm_who(c);

    if (!dg_perm_sees(&who, rec_fint(customer, "owner"), rec_fint(customer, "tier"))) {
        m->is_hidden = true;
        return DG_ENOTFOUND;
    }
    if (!dg_perm_may_edit(&who, rec_fint(customer, "owner")))
        return refuse(m, DG_EDENIED, "owner",
                      "you may change only the dossiers of your own customers");
    return DG_OK;
}

/* The live customer a record names (its customer_id), whose dossier the
 * actor may change. One that does not exist and one the actor may not see
 * are refused alike (m->is_hidden tells them apart, for the audit record):
 * visibility comes first, so nothing else - not even that it is archived -
 * is told about a customer the actor may not see. */
static int load_customer(dg_rec_ctx *c, int64_t id, dg_record **out, dg_mutation *m)
{
    int rc = dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, id, c->arena, out);

    if (rc == DG_OK)
        rc = check_access(c, *out, m);
    if (rc == DG_ENOTFOUND)
        return refuse(m, DG_ENOTFOUND, "customer_id", "no such customer");
    if (rc == DG_OK && (*out)->is_archived)
        return refuse(m, DG_ESTATE, "customer_id", "the customer is archived; restore it first");
    return rc;
}

/* The customer whose dossier `r` belongs to (r itself for a customer). */
static int dossier_of(dg_rec_ctx *c, const dg_record *r, dg_record **out)
{
    if (r->kind == DG_KIND_CUSTOMER) {
        *out = (dg_record *)r;
        return DG_OK;
    }
    return dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, r->customer_id, c->arena, out);
}

static int check_user(dg_rec_ctx *c, const char *field, int64_t id, dg_mutation *m)
{
    dg_user u;
    int rc;

    if (id == 0)
        return DG_OK;
    rc = dg_store_user_by_id(c->tx->store, id, &u);
    if (rc == DG_ENOTFOUND || (rc == DG_OK && u.is_disabled))
        return refuse(m, DG_EINVAL, field, "no such (enabled) user");
    return rc;
}

/* Could user `id` do a task of `customer`'s dossier - see it, and close it,
 * which is changing the dossier (perm.c)? A task its assignee can never see
 * or close would wait forever, unseen. DG_OK, DG_EINVAL with *why (a static
 * text) saying which, or a store error. Asked for an actor who sees the
 * customer, so naming its tier tells nothing new. */
static int check_assignee(dg_rec_ctx *c, int64_t id, const dg_record *customer, const char **why)
{
    dg_user u;
    dg_perm_who who;
    int rc;

    if (id == 0)
        return DG_OK; /* nobody's yet */
    if ((rc = dg_store_user_by_id(c->tx->store, id, &u)) != DG_OK)
        return rc;
    who = (dg_perm_who){u.id, u.role, c->who->restricted};
    if (!dg_perm_sees(&who, rec_fint(customer, "owner"), rec_fint(customer, "tier"))) {
        *why = "the assignee may not see this customer (a restricted tier), so could never see "
               "or close the task";
        return DG_EINVAL;
    }
    if (!dg_perm_may_edit(&who, rec_fint(customer, "owner"))) {
        *why = "the assignee may not change this customer's dossier, so could never close the "
               "task";
        return DG_EINVAL;
    }
    return DG_OK;
}

/* The users and contact a record points to exist (and users are enabled),
 * and a task's assignee could do it in `customer`'s dossier. Only what the
 * change sets is checked: a customer of a disabled leaver stays editable
 * until it is handed over (`prev`: the record before, or NULL for a new
 * one). */
static int check_refs(dg_rec_ctx *c, const dg_record *r, const dg_record *prev,
                      const dg_record *customer, dg_mutation *m)
{
    int rc;

#define CHANGED(name) (!prev || rec_fint(prev, name) != rec_fint(r, name))
    if (r->kind == DG_KIND_CUSTOMER && rec_fint(r, "status") == dg_customer_status_lost() &&
        !rec_fstr(r, "churn_reason")[0] && CHANGED("status")) {
        m->reason = "churn_reason_required";
        return refuse(m, DG_EINVAL, "churn_reason",
                      "a lost customer needs a churn reason (why it was lost)");
    }
    if (r->kind == DG_KIND_CUSTOMER)
        return CHANGED("owner") ? check_user(c, "owner", rec_fint(r, "owner"), m) : DG_OK;
    if (r->kind == DG_KIND_TASK && CHANGED("assignee") &&
        (rc = check_user(c, "assignee", rec_fint(r, "assignee"), m)))
        return rc;
    if (r->kind == DG_KIND_TASK && CHANGED("assignee")) {
        const char *why;

        if ((rc = check_assignee(c, rec_fint(r, "assignee"), customer, &why)) != DG_OK)
            return rc == DG_EINVAL ? refuse_assignee(m, DG_EINVAL, "assignee", why) : rc;
    }
    if (r->kind == DG_KIND_INTERACTION && rec_fint(r, "contact_id") && CHANGED("contact_id")) {
        dg_record *contact;

        rc = dg_store_rec_get(c->tx->store, DG_KIND_CONTACT, rec_fint(r, "contact_id"), c->arena,
                              &contact);
        if (rc == DG_ENOTFOUND || (rc == DG_OK && contact->customer_id != r->customer_id))
            return refuse(m, DG_EINVAL, "contact_id", "no such contact of this customer");
        return rc;
    }
#undef CHANGED
    return DG_OK;
}

static bool choice_allowed(const char *choices, const char *value)
{
    size_t n = strlen(value);

    for (const char *p = choices; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (len == n && strncmp(p, value, n) == 0)
            return true;
        if (!nl)
            break;
        p = nl + 1;
    }
    return false;
}

static bool number_valid(const char *s)
{
    char *end;
    double d = strtod(s, &end);

    return end != s && *end == '\0' && isfinite(d);
}

static int check_custom(dg_rec_ctx *c, const dg_record *r, dg_mutation *m)
{
    for (size_t i = 0; i < r->n_custom; i++) {
        const dg_custom_value *cv = &r->custom[i];
        dg_custom_field f;
        char field[80];
        int rc = dg_store_field_get(c->tx->store, cv->name, c->arena, &f);

        snprintf(field, sizeof field, "custom.%s", cv->name);
        if (rc == DG_ENOTFOUND)
            return refuse(m, DG_EINVAL, field, "no such custom field (dangan field define)");
        if (rc != DG_OK)
            return rc;
        if (!cv->value[0])
            continue; /* clearing is always allowed */
        if (strcmp(f.type, "number") == 0 && !number_valid(cv->value))
            return refuse(m, DG_EINVAL, field, "must be a number");
        if (strcmp(f.type, "date") == 0 && !dg_date_valid(cv->value))
            return refuse(m, DG_EINVAL, field, "must be a date (YYYY-MM-DD)");
        if (strcmp(f.type, "choice") == 0 && !choice_allowed(f.choices, cv->value))
            return refuse(m, DG_EINVAL, field, "not one of the field's choices");
    }
    return DG_OK;
}

/* ------------------------------------------------------------ create */

void rec_set_defaults(dg_rec_ctx *c, dg_record *r)
{
    int i;

    switch (r->kind) {
    case DG_KIND_CUSTOMER:
        if (!rec_fint(r, "kind"))
            r->v[rec_field_ix(r->kind, "kind")].i = 1; /* company */
        if (!rec_fint(r, "status"))
            r->v[rec_field_ix(r->kind, "status")].i = 1; /* potential */
        if (!rec_fint(r, "owner"))
            r->v[rec_field_ix(r->kind, "owner")].i = c->who->user_id;
        i = rec_field_ix(r->kind, "registered_capital");
        if (r->v[i].i && !r->v[i].s[0])
            r->v[i].s = "CNY";
        break;
    case DG_KIND_INTERACTION:
    case DG_KIND_FEEDBACK:
        if (!rec_fint(r, "at_ms"))
            r->v[rec_field_ix(r->kind, "at_ms")].i = c->now;
        if (r->kind == DG_KIND_FEEDBACK && !rec_fint(r, "status"))
            r->v[rec_field_ix(r->kind, "status")].i = 1; /* open */
        break;
    case DG_KIND_DEAL:
        if (!rec_fint(r, "at_ms"))
            r->v[rec_field_ix(r->kind, "at_ms")].i = c->now;
        if (!rec_fstr(r, "amount")[0])
            r->v[rec_field_ix(r->kind, "amount")].s = "CNY";
        break;
    case DG_KIND_TASK:
        if (!rec_fint(r, "assignee"))
            r->v[rec_field_ix(r->kind, "assignee")].i = c->who->user_id;
        if (rec_fint(r, "done"))
            r->v[rec_field_ix(r->kind, "done_at_ms")].i = c->now;
        break;
    default:
        break;
    }
}

/* Names of the non-empty fields of a new record, for its change row and audit. */
static size_t given_names(dg_arena *a, const dg_record *r, const char ***out)
{
    const dg_entity *e = dg_entity_get(r->kind);
    const char **names = dg_arena_calloc(a, e->n_fields + 2 + r->n_custom, sizeof *names);
    size_t n = 0;

    *out = names;
    if (!names)
        return 0;
    for (size_t i = 0; i < e->n_fields; i++) {
        const dg_value *v = &r->v[i];

        if (v->i || (v->s && v->s[0]))
            names[n++] = e->fields[i].name;
    }
    if (r->n_tags)
        names[n++] = "tags";
    for (size_t i = 0; i < r->n_custom; i++) {
        const char *name = dg_arena_printf(a, "custom.%s", r->custom[i].name);

        if (name) /* out of budget: the audit detail names fewer fields, nothing breaks */
            names[n++] = name;
    }
    return n;
}

/* Likely twins of a new customer. One the actor may not see (a restricted
 * tier, someone else's) refuses the create whatever allow_duplicate says,
 * with nothing of it in the answer: naming it, or answering differently by
 * what it is, would reveal it; the handler audits the attempt with its id
 * (m->hidden_twin_id) so that a manager can resolve it. Twins the actor sees
 * refuse it unless allow_duplicate, named with their owners (who to talk
 * to before two reps claim one customer). */
static int check_twins(dg_rec_ctx *c, const dg_customer_keys *keys, bool allow_duplicate,
                       dg_mutation *m)
{
    const dg_field *tier =
        &dg_entity_get(DG_KIND_CUSTOMER)->fields[rec_field_ix(DG_KIND_CUSTOMER, "tier")];
    dg_perm_who who = perm_who(c);
    /* More candidates than the answer names: visible twins by one key must
     * not crowd out a hidden one by another (the case that matters most). */
    dg_dup *cand = dg_xmalloc(DG_DUP_PROBE_MAX * sizeof *cand);
    size_t n_cand = 0;
    int rc = dg_store_find_duplicates(c->tx->store, keys, cand, DG_DUP_PROBE_MAX, &n_cand);

    if (rc != DG_OK) {
        free(cand);
        return rc;
    }
    m->n_dups = 0;
    for (size_t i = 0; i < n_cand; i++) {
        if (dg_perm_sees(&who, cand[i].owner_id, dg_enum_value(tier->enum_desc, cand[i].tier))) {
            if (m->n_dups < DG_MAX_DUPS)
                m->dups[m->n_dups++] = cand[i];
        } else if (!m->hidden_twin_id) {
            m->hidden_twin_id = cand[i].customer_id;
            m->hidden_matched_on = cand[i].matched_on;
        }
    }
    free(cand);
    if (m->hidden_twin_id) {
        m->n_dups = 0; /* the answer is the same whoever else matches */
        return DG_EEXIST;
    }
    if (m->n_dups && !allow_duplicate)
        return refuse(m, DG_EEXIST, m->dups[0].matched_on,
                      "a customer with the same name, phone or e-mail exists");
    m->n_dups = 0;
    return DG_OK;
}

static int create_customer(dg_rec_ctx *c, dg_record *r, bool allow_duplicate, dg_mutation *m,
                           dg_customer_keys *keys)
{
    char code[32];
    int rc;

    if ((rc = rec_customer_keys(c, r, keys)) != DG_OK ||
        (rc = check_twins(c, keys, allow_duplicate, m)) != DG_OK)
        return rc;
    if (!rec_fstr(r, "code")[0]) {
        if ((rc = dg_store_next_customer_code(c->tx->store, code, sizeof code)) != DG_OK)
            return rc;
        r->v[rec_field_ix(r->kind, "code")].s = dg_arena_strdup(c->arena, code);
    }
    return DG_OK;
}

int dg_rec_create(dg_rec_ctx *c, dg_record *r, bool allow_duplicate, dg_mutation *m)
{
    dg_customer_keys keys = {0};
    dg_record *customer = NULL;
    const char **names;
    size_t n_names;
    json_t *detail;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    rec_set_defaults(c, r);
    r->version = 1;
    r->is_archived = false;
    r->created_at = r->updated_at = c->now;
    r->created_by = r->updated_by = c->who->user_id;
    if (r->kind == DG_KIND_CUSTOMER) {
        dg_perm_who who = perm_who(c);

        if (!dg_perm_may_edit(&who, rec_fint(r, "owner")))
            return refuse(m, DG_EDENIED, "owner", "you may add customers only for yourself");
        if ((rc = create_customer(c, r, allow_duplicate, m, &keys)) != DG_OK)
            return rc;
    } else {
        r->customer_id = rec_fint(r, "customer_id");
        if ((rc = load_customer(c, r->customer_id, &customer, m)) != DG_OK)
            return rc;
    }
    if ((rc = check_refs(c, r, NULL, customer, m)) != DG_OK ||
        (rc = check_custom(c, r, m)) != DG_OK ||
        (rc = rec_deal_pipeline(c, r, NULL, NULL, 0, NULL, NULL, m)) != DG_OK)
        return rc;
    rc = dg_store_rec_insert(c->tx->store, r, r->kind == DG_KIND_CUSTOMER ? &keys : NULL);
    if (rc == DG_EEXIST)
        return refuse(m, DG_EEXIST, "code", "this customer code is taken");
    if (rc != DG_OK)
        return rc;
    if (r->kind == DG_KIND_CUSTOMER)
        customer = r;
    if (r->kind == DG_KIND_INTERACTION &&
        (rc = dg_store_customer_touch_contact(c->tx->store, r->customer_id, rec_fint(r, "at_ms"))))
        return rc;
    if ((rc = rec_update_search(c, NULL, r)) != DG_OK)
        return rc;
    n_names = given_names(c->arena, r, &names);
    detail = json_pack("{s:o}", "after", fields_json(r, names, n_names));
    m->record = r;
    return record_change(c, "created", "create", r, NULL, customer, names, n_names,
                         (dg_visibility){0}, rec_visibility(customer), detail, m);
}

/* ------------------------------------------------------------ update */

static bool tags_equal(const dg_record *a, const dg_record *b)
{
    if (a->n_tags != b->n_tags)
        return false;
    for (size_t i = 0; i < a->n_tags; i++) {
        bool found = false;

        for (size_t j = 0; j < b->n_tags && !found; j++)
            found = strcmp(a->tags[i], b->tags[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Is the masked item `name` equal in the current record and the patch? */
static bool item_equal(const dg_record *cur, const dg_record *patch, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(cur->kind), name);

    if (i >= 0)
        return dg_record_field_equal(cur, patch, i);
    if (strcmp(name, "tags") == 0)
        return tags_equal(cur, patch);
    return strcmp(custom_get(cur, name + 7), custom_get(patch, name + 7)) == 0;
}

/* The current custom values with `name` set to `value` ("" removes it). */
static int set_custom(dg_arena *a, dg_record *r, const char *name, const char *value)
{
    dg_custom_value *cv;

    for (size_t i = 0; i < r->n_custom; i++) {
        if (strcmp(r->custom[i].name, name) != 0)
            continue;
        if (value[0]) {
            r->custom[i].value = value;
        } else { /* cleared: gone from the record, as the store will have it */
            memmove(&r->custom[i], &r->custom[i + 1], (r->n_custom - i - 1) * sizeof *cv);
            r->n_custom--;
        }
        return DG_OK;
    }
    if (!value[0])
        return DG_OK;
    if (!(cv = dg_arena_calloc(a, r->n_custom + 1, sizeof *cv)))
        return DG_ENOMEM;
    if (r->n_custom)
        memcpy(cv, r->custom, r->n_custom * sizeof *cv);
    cv[r->n_custom].name = name;
    cv[r->n_custom].value = value;
    r->custom = cv;
    r->n_custom++;
    return DG_OK;
}

/* Copies the masked item from the patch into `next`. */
static int apply_item(dg_rec_ctx *c, dg_record *next, const dg_record *patch, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(next->kind), name);

    if (i >= 0) {
        next->v[i] = patch->v[i];
        return DG_OK;
    }
    if (strcmp(name, "tags") == 0) {
        next->tags = patch->tags;
        next->n_tags = patch->n_tags;
        next->has_tags = true;
        return DG_OK;
    }
    next->has_custom = true;
    return set_custom(c->arena, next, name + 7, custom_get(patch, name + 7));
}

/* Field bits of the changed items (fields only: tags and custom values are
 * written by their flags); derived fields that move with them are included. */
static uint64_t changed_bits(enum dg_kind kind, const char *const *names, size_t n)
{
    const dg_entity *e = dg_entity_get(kind);
    uint64_t bits = 0;

    for (size_t i = 0; i < n; i++) {
        int f = dg_entity_field_index(e, names[i]);

        if (f >= 0)
            bits |= 1ull << f;
    }
    if (kind == DG_KIND_TASK && (bits >> rec_field_ix(kind, "done") & 1))
        bits |= 1ull << rec_field_ix(kind, "done_at_ms");
    return bits;
}

/* Fields derived from others: a task's completion time. */
static void derive(dg_rec_ctx *c, dg_record *next, const dg_record *cur)
{
    if (next->kind == DG_KIND_TASK && rec_fint(next, "done") != rec_fint(cur, "done"))
        next->v[rec_field_ix(DG_KIND_TASK, "done_at_ms")].i = rec_fint(next, "done") ? c->now : 0;
}

int dg_rec_update(dg_rec_ctx *c, const dg_record *patch, const char *const *mask, size_t n_mask,
                  int64_t expected_version, dg_mutation *m)
{
    dg_record *cur, *next, *customer;
    dg_customer_keys keys = {0};
    const char **changed, **conflicts;
    size_t n_changed = 0, n_conflicts = 0, n_versions;
    dg_field_version *versions;
    bool touches_search = false;
    json_t *detail;
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    rc = dg_store_rec_get(c->tx->store, patch->kind, patch->id, c->arena, &cur);
    if (rc == DG_OK)
        rc = dossier_of(c, cur, &customer);
    if (rc == DG_OK && c->owner_by_pool) {
        dg_perm_who who = perm_who(c);

        dg_assert(n_mask == 1 && strcmp(mask[0], "owner") == 0 && cur == customer);
        if (!dg_perm_sees(&who, rec_fint(customer, "owner"), rec_fint(customer, "tier"))) {
            m->is_hidden = true;
            rc = DG_ENOTFOUND;
        }
    } else if (rc == DG_OK) {
        rc = check_access(c, customer, m);
    }
    if (rc == DG_OK && cur != customer && customer->is_archived)
        rc = refuse(m, DG_ESTATE, "customer_id", "the customer is archived; restore it first");
    if (rc != DG_OK)
        return rc;
    if (cur->is_archived)
        return refuse(m, DG_ESTATE, "id", "the record is archived; restore it first");
    if (expected_version > cur->version)
        return refuse(m, DG_EINVAL, "expected_version", "newer than the record's version");
    /* No item changed after the version the caller saw when that is the
     * record's own: the versions are read only when one might have. */
    versions = NULL;
    n_versions = 0;
    if (expected_version < cur->version &&
        (rc = dg_store_rec_field_versions(c->tx->store, cur->kind, cur->id, c->arena, &versions,
                                          &n_versions)) != DG_OK)
        return rc;
    changed = dg_arena_calloc(c->arena, n_mask + 3, sizeof *changed); /* + derived items */
    conflicts = dg_arena_calloc(c->arena, n_mask + 1, sizeof *conflicts);
    if (!changed || !conflicts || !(next = dg_record_copy(c->arena, cur)))
        return DG_ENOMEM;
    for (size_t i = 0; i < n_mask; i++) {
        if (item_equal(cur, patch, mask[i]))
            continue; /* already so: nothing to change, nothing to conflict with */
        if (cur->kind == DG_KIND_CUSTOMER && strcmp(mask[i], "owner") == 0 && !c->owner_by_pool &&
            !dg_perm_may_manage(c->who->role))
            return refuse(m, DG_EDENIED, "owner", "handing a customer over is for managers");
        if (field_version(versions, n_versions, mask[i]) > expected_version)
            conflicts[n_conflicts++] = mask[i];
        changed[n_changed++] = mask[i];
        if ((rc = apply_item(c, next, patch, mask[i])) != DG_OK)
            return rc;
        touches_search |= rec_search_relevant(cur->kind, mask[i]);
    }
    if (n_conflicts) {
        m->record = cur;
        m->conflicts = conflicts;
        m->n_conflicts = n_conflicts;
        return DG_ECONFLICT;
    }
    m->record = cur;
    if (n_changed == 0)
        return DG_OK; /* nothing to do: no new version, no change row */
    derive(c, next, cur);
    if ((rc = rec_deal_pipeline(c, next, cur, mask, n_mask, changed, &n_changed, m)) != DG_OK)
        return rc;
    next->version = cur->version + 1;
    next->updated_at = c->now;
    next->updated_by = c->who->user_id;
    if ((rc = check_refs(c, next, cur, next->kind == DG_KIND_CUSTOMER ? next : customer, m)) !=
            DG_OK ||
        (rc = check_custom(c, next, m)) != DG_OK)
        return rc;
    if (next->kind == DG_KIND_CUSTOMER && (rc = rec_customer_keys(c, next, &keys)) != DG_OK)
        return rc;
    if ((rc = dg_store_rec_update(c->tx->store, next, changed_bits(next->kind, changed, n_changed),
                                  next->kind == DG_KIND_CUSTOMER ? &keys : NULL)) != DG_OK ||
        (rc = dg_store_rec_field_versions_put(c->tx->store, next->kind, next->id, changed,
                                              n_changed, next->version)) != DG_OK)
        return rc;
    if (touches_search && (rc = rec_update_search(c, cur, next)) != DG_OK)
        return rc;
    if (next->kind == DG_KIND_INTERACTION &&
        (rc = dg_store_customer_touch_contact(c->tx->store, next->customer_id,
                                              rec_fint(next, "at_ms"))) != DG_OK)
        return rc;
    if (next->kind == DG_KIND_CUSTOMER) {
        customer = next;
    } else if ((rc = dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, next->customer_id, c->arena,
                                      &customer)) != DG_OK) {
        return rc;
    }
    detail = json_pack("{s:o,s:o}", "before", fields_json(cur, changed, n_changed), "after",
                       fields_json(next, changed, n_changed));
    m->record = next;
    return record_change(c, "updated", "update", next, cur, customer, changed, n_changed,
                         rec_visibility(next->kind == DG_KIND_CUSTOMER ? cur : customer),
                         rec_visibility(customer), detail, m);
}

/* ------------------------------------------------------------ archive / restore */

int dg_rec_set_archived(dg_rec_ctx *c, enum dg_kind kind, int64_t id, int64_t expected_version,
                        bool archive, dg_mutation *m)
{
    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    static const char *const archived[] = {"archived"};
    dg_record *cur, *next, *customer;
    dg_customer_keys keys = {0};
    json_t *detail;
    int rc;

    memset(m, 0, sizeof *m);
    if ((rc = dg_store_rec_get(c->tx->store, kind, id, c->arena, &cur)) != DG_OK ||
        (rc = dossier_of(c, cur, &customer)) != DG_OK ||
        (rc = check_access(c, customer, m)) != DG_OK)
        return rc;
    if (cur != customer && customer->is_archived)
        return refuse(m, DG_ESTATE, "customer_id", "the customer is archived; restore it first");
    if (kind == DG_KIND_CUSTOMER && !dg_perm_may_manage(c->who->role))
        return refuse(m, DG_EDENIED, "id", "only managers archive or restore customers");
    if (cur->is_archived == archive)
        return refuse(m, DG_ESTATE, "id", archive ? "already archived" : "not archived");
    if (expected_version && expected_version != cur->version) {
        m->record = cur;
        m->conflicts = (const char **)archived;
        m->n_conflicts = 1;
        return DG_ECONFLICT;
    }
    if (!(next = dg_record_copy(c->arena, cur)))
        return DG_ENOMEM;
    next->is_archived = archive;
    next->version = cur->version + 1;
    next->updated_at = c->now;
    next->updated_by = c->who->user_id;
    if (kind == DG_KIND_CUSTOMER && (rc = rec_customer_keys(c, next, &keys)) != DG_OK)
        return rc;
    if ((rc = dg_store_rec_update(c->tx->store, next, DG_REC_ARCHIVED_CHANGED,
                                  kind == DG_KIND_CUSTOMER ? &keys : NULL)) != DG_OK ||
        (rc = dg_store_rec_field_versions_put(c->tx->store, kind, id, archived, 1,
                                              next->version)) != DG_OK)
        return rc;
    if (kind == DG_KIND_CUSTOMER)
        customer = next;
    else if ((rc = dg_store_rec_get(c->tx->store, DG_KIND_CUSTOMER, next->customer_id, c->arena,
                                    &customer)) != DG_OK)
        return rc;
    detail = json_pack("{s:{s:b},s:{s:b}}", "before", "archived", !archive, "after", "archived",
                       archive);
    m->record = next;
    return record_change(c, archive ? "archived" : "restored", archive ? "archive" : "restore",
                         next, cur, customer, archived, 1, rec_visibility(customer),
                         rec_visibility(customer), detail, m);
}

/* ------------------------------------------------------------ move (merge) */

int dg_rec_check_customer(dg_rec_ctx *c, int64_t customer_id, dg_mutation *m)
{
    dg_record *customer;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    memset(m, 0, sizeof *m);
    return load_customer(c, customer_id, &customer, m);
}

int dg_rec_move(dg_rec_ctx *c, enum dg_kind kind, int64_t id, int64_t to_customer, dg_mutation *m)
{
    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    static const char *const moved[] = {"customer_id"};
    dg_record *cur, *next, *from, *to;
    json_t *detail;
    int rc;

    memset(m, 0, sizeof *m);
    dg_assert(kind != DG_KIND_CUSTOMER);
    if ((rc = dg_store_rec_get(c->tx->store, kind, id, c->arena, &cur)) != DG_OK ||
        (rc = dossier_of(c, cur, &from)) != DG_OK || (rc = check_access(c, from, m)) != DG_OK ||
        (rc = load_customer(c, to_customer, &to, m)) != DG_OK)
        return rc;
    if (cur->customer_id == to_customer)
        return DG_OK;
    if (kind == DG_KIND_TASK && !rec_fint(cur, "done")) {
        const char *why;

        /* its assignee must still be able to see and close it there */
        if ((rc = check_assignee(c, rec_fint(cur, "assignee"), to, &why)) == DG_EINVAL) {
            snprintf(m->field, sizeof m->field, "assignee");
            snprintf(m->why, sizeof m->why,
                     "open task %lld is assigned to a user who could not see or close it in "
                     "that dossier; reassign the task first",
                     (long long)id);
            return DG_ESTATE;
        }
        if (rc != DG_OK)
            return rc;
    }
    if (!(next = dg_record_copy(c->arena, cur)))
        return DG_ENOMEM;
    next->customer_id = to_customer;
    next->v[rec_field_ix(kind, "customer_id")].i = to_customer;
    next->version = cur->version + 1;
    next->updated_at = c->now;
    next->updated_by = c->who->user_id;
    if ((rc = dg_store_rec_update(c->tx->store, next, changed_bits(kind, moved, 1), NULL)) !=
            DG_OK ||
        (rc = dg_store_rec_field_versions_put(c->tx->store, kind, id, moved, 1, next->version)) !=
            DG_OK)
        return rc;
    /* The search documents of children carry no customer id (it is looked up
     * from the row), so they follow the row without a rewrite. */
    if (kind == DG_KIND_INTERACTION &&
        (rc = dg_store_customer_touch_contact(c->tx->store, to_customer,
                                              rec_fint(next, "at_ms"))) != DG_OK)
        return rc;
    detail = json_pack("{s:{s:I},s:{s:I}}", "before", "customer_id", (json_int_t)cur->customer_id,
                       "after", "customer_id", (json_int_t)to_customer);
    m->record = next;
    return record_change(c, "updated", "move", next, cur, to, moved, 1, rec_visibility(from),
                         rec_visibility(to), detail, m);
}
