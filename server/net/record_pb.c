/* record_pb.c - protobuf Record <-> dg_record, generic over the six kinds:
 * each field of entity.c is found in the kind's message by name through the
 * protobuf-c descriptor, and read or written at its offset. Loop thread.
 */
#include "record_pb.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "server.h"

/* The storage of field `name` inside message `m`, and its descriptor. */
static void *member(const ProtobufCMessage *m, const char *name,
                    const ProtobufCFieldDescriptor **fd)
{
    *fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    dg_assert(*fd); /* entity.c and the .proto agree: test_entity checks it */
    return (char *)m + (*fd)->offset;
}

static const ProtobufCFieldDescriptor *record_field(enum dg_kind kind)
{
    return protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, (unsigned)kind);
}

/* The kind's message inside a Record, or NULL when the oneof is unset. */
static const ProtobufCMessage *record_body(const Dangan__V1__Record *pr, enum dg_kind *kind)
{
    const ProtobufCFieldDescriptor *fd;

    *kind = (enum dg_kind)pr->kind_case;
    if (*kind <= DG_KIND_NONE || *kind >= DG_KIND_COUNT)
        return NULL;
    fd = record_field(*kind);
    return *(ProtobufCMessage *const *)((const char *)pr + fd->offset);
}

const char *dg_kind_field(enum dg_kind kind)
{
    return record_field(kind)->name;
}

/* ------------------------------------------------------------ protobuf → record */

struct in_ctx {
    dg_req *req;
    const char *prefix; /* "record.customer" */
    int n_errors;
};

static void violation(struct in_ctx *c, const char *field, const char *why)
{
    char path[160];

    snprintf(path, sizeof path, "%s.%s", c->prefix, field);
    dg_req_violation(c->req, path, why);
    c->n_errors++;
}

/* Reads one field's value from the message; *is_set when it is not the default. */
static void read_field(struct in_ctx *c, const ProtobufCMessage *m, const dg_field *f, dg_value *v,
                       bool *is_set)
{
    const ProtobufCFieldDescriptor *fd;
    void *p = member(m, f->name, &fd);

    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        v->s = *(char **)p;
        *is_set = v->s[0] != '\0';
        break;
    case DG_F_INT:
        v->i = *(int32_t *)p;
        *is_set = v->i != 0;
        break;
    case DG_F_BOOL:
        v->i = *(protobuf_c_boolean *)p ? 1 : 0;
        *is_set = v->i != 0;
        break;
    case DG_F_ENUM:
        v->i = *(int *)p;
        *is_set = v->i != 0;
        break;
    case DG_F_TIME:
    case DG_F_REF:
        v->i = *(int64_t *)p;
        *is_set = v->i != 0;
        break;
    case DG_F_MONEY: {
        const Dangan__V1__Money *money = *(Dangan__V1__Money **)p;

        v->i = money ? money->amount_minor : 0;
        v->s = money ? money->currency : "";
        *is_set = money != NULL;
        break;
    }
    case DG_F_USER: {
        const Dangan__V1__UserRef *u = *(Dangan__V1__UserRef **)p;
        const dg_user_info *info = NULL;

        v->i = 0;
        *is_set = u && (u->id || u->username[0]);
        if (!*is_set)
            break;
        if (u->id)
            info = dg_users_by_id(dg_server_users(c->req->srv), u->id);
        else if (strcmp(u->username, "me") == 0)
            info = dg_users_by_id(dg_server_users(c->req->srv),
                                  dg_conn_session(c->req->conn)->user_id);
        else
            info = dg_users_by_name(dg_server_users(c->req->srv), u->username);
        if (!info || info->is_disabled)
            violation(c, f->name, "no such (enabled) user");
        else
            v->i = info->id;
        break;
    }
    }
}

static void read_customer_extras(struct in_ctx *c, const Dangan__V1__Customer *pc, dg_record *r,
                                 bool all)
{
    if (all || pc->n_tags) {
        r->tags = (const char **)pc->tags;
        r->n_tags = pc->n_tags;
        r->has_tags = true;
    }
    if (pc->n_custom) {
        r->custom = dg_req_alloc(c->req, pc->n_custom * sizeof *r->custom);
        for (size_t i = 0; i < pc->n_custom; i++) {
            r->custom[i].name = pc->custom[i]->name;
            r->custom[i].value = pc->custom[i]->value;
        }
        r->n_custom = pc->n_custom;
        r->has_custom = true;
    }
}

/* Mask item: a field, "tags", or "custom.NAME" with NAME in the message. */
static bool mask_item_valid(const dg_entity *e, const char *item)
{
    if (dg_entity_field_index(e, item) >= 0)
        return true;
    if (e->kind != DG_KIND_CUSTOMER)
        return false;
    return strcmp(item, "tags") == 0 || (strncmp(item, "custom.", 7) == 0 && item[7]);
}

int dg_record_from_pb(dg_req *req, const Dangan__V1__Record *pr, const char *prefix,
                        const char *const *mask, size_t n_mask, bool is_create, dg_record **out)
{
    enum dg_kind kind;
    const ProtobufCMessage *m = pr ? record_body(pr, &kind) : NULL;
    struct in_ctx c = {.req = req};
    char path[96];
    const dg_entity *e;
    dg_record *r;

    *out = NULL;
    if (!m) {
        dg_req_violation(req, prefix, "a record (customer, contact, ...) is required");
        return DG_EINVAL;
    }
    e = dg_entity_get(kind);
    snprintf(path, sizeof path, "%s.%s", prefix, dg_kind_field(kind));
    c.prefix = path;
    r = dg_record_new(req->arena, kind);
    if (!r)
        return DG_ENOMEM;
    {
        const ProtobufCFieldDescriptor *fd;

        r->id = *(int64_t *)member(m, "id", &fd);
    }
    for (size_t i = 0; i < e->n_fields; i++) {
        bool is_set = false;

        read_field(&c, m, &e->fields[i], &r->v[i], &is_set);
        if (is_create && is_set)
            r->given |= 1ull << i;
    }
    for (size_t i = 0; !is_create && i < n_mask; i++) {
        int fi = dg_entity_field_index(e, mask[i]);

        if (!mask_item_valid(e, mask[i])) {
            char why[120];

            snprintf(why, sizeof why, "\"%s\" is not a field of %s", mask[i], e->name);
            dg_req_violation(req, "update_mask", why);
            c.n_errors++;
        } else if (fi >= 0) {
            r->given |= 1ull << fi;
        }
    }
    if (kind == DG_KIND_CUSTOMER)
        read_customer_extras(&c, (const Dangan__V1__Customer *)m, r, is_create);
    r->customer_id = kind == DG_KIND_CUSTOMER ? r->id : r->v[0].i;
    if (c.n_errors)
        return DG_EINVAL;
    *out = r;
    return DG_OK;
}

/* ------------------------------------------------------------ record → protobuf */

Dangan__V1__UserRef *dg_user_ref_pb(dg_req *req, int64_t id)
{
    const dg_user_info *info;
    Dangan__V1__UserRef *u;

    if (id == 0)
        return NULL;
    u = dg_req_alloc(req, sizeof *u);
    dangan__v1__user_ref__init(u);
    u->id = id;
    info = dg_users_by_id(dg_server_users(req->srv), id);
    u->username = info ? dg_req_strdup(req, info->username) : "";
    u->role = info ? (Dangan__V1__Role)info->role : DANGAN__V1__ROLE__ROLE_UNSPECIFIED;
    return u;
}

static void write_field(dg_req *req, ProtobufCMessage *m, const dg_field *f, const dg_value *v)
{
    const ProtobufCFieldDescriptor *fd;
    void *p = member(m, f->name, &fd);

    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        *(const char **)p = v->s;
        break;
    case DG_F_INT:
        *(int32_t *)p = (int32_t)v->i;
        break;
    case DG_F_BOOL:
        *(protobuf_c_boolean *)p = v->i != 0;
        break;
    case DG_F_ENUM:
        *(int *)p = (int)v->i;
        break;
    case DG_F_TIME:
    case DG_F_REF:
        *(int64_t *)p = v->i;
        break;
    case DG_F_MONEY: {
        Dangan__V1__Money *money;

        if (v->i == 0 && !v->s[0])
            break;
        money = dg_req_alloc(req, sizeof *money);
        dangan__v1__money__init(money);
        money->amount_minor = v->i;
        money->currency = (char *)v->s;
        *(Dangan__V1__Money **)p = money;
        break;
    }
    case DG_F_USER:
        *(Dangan__V1__UserRef **)p = dg_user_ref_pb(req, v->i);
        break;
    }
}

static void set_i64(ProtobufCMessage *m, const char *name, int64_t v)
{
    const ProtobufCFieldDescriptor *fd;

    *(int64_t *)member(m, name, &fd) = v;
}

static void write_customer_extras(dg_req *req, Dangan__V1__Customer *pc, const dg_record *r)
{
    pc->tags = (char **)r->tags;
    pc->n_tags = r->n_tags;
    if (r->n_custom) {
        pc->custom = dg_req_alloc(req, r->n_custom * sizeof *pc->custom);
        for (size_t i = 0; i < r->n_custom; i++) {
            Dangan__V1__CustomValue *cv = dg_req_alloc(req, sizeof *cv);

            dangan__v1__custom_value__init(cv);
            cv->name = (char *)r->custom[i].name;
            cv->value = (char *)r->custom[i].value;
            pc->custom[i] = cv;
        }
        pc->n_custom = r->n_custom;
    }
    pc->last_contact_at_ms = r->last_contact_at;
}

ProtobufCMessage *dg_record_body_to_pb(dg_req *req, const dg_record *r)
{
    const ProtobufCMessageDescriptor *d = record_field(r->kind)->descriptor;
    const dg_entity *e = dg_entity_get(r->kind);
    ProtobufCMessage *m = dg_req_alloc(req, d->sizeof_message);
    const ProtobufCFieldDescriptor *fd;

    protobuf_c_message_init(d, m);
    set_i64(m, "id", r->id);
    set_i64(m, "version", r->version);
    set_i64(m, "created_at_ms", r->created_at);
    set_i64(m, "updated_at_ms", r->updated_at);
    *(protobuf_c_boolean *)member(m, "archived", &fd) = r->is_archived;
    *(Dangan__V1__UserRef **)member(m, "created_by", &fd) = dg_user_ref_pb(req, r->created_by);
    *(Dangan__V1__UserRef **)member(m, "updated_by", &fd) = dg_user_ref_pb(req, r->updated_by);
    for (size_t i = 0; i < e->n_fields; i++)
        write_field(req, m, &e->fields[i], &r->v[i]);
    if (r->kind == DG_KIND_CUSTOMER)
        write_customer_extras(req, (Dangan__V1__Customer *)m, r);
    return m;
}

/* A Record holding `body` (a message of r's kind). */
static Dangan__V1__Record *wrap(dg_req *req, const dg_record *r, ProtobufCMessage *body)
{
    Dangan__V1__Record *pr = dg_req_alloc(req, sizeof *pr);
    const ProtobufCFieldDescriptor *fd = record_field(r->kind);

    dangan__v1__record__init(pr);
    pr->kind_case = (Dangan__V1__Record__KindCase)r->kind;
    *(ProtobufCMessage **)((char *)pr + fd->offset) = body;
    return pr;
}

Dangan__V1__Record *dg_record_to_pb(dg_req *req, const dg_record *r)
{
    return wrap(req, r, dg_record_body_to_pb(req, r));
}

Dangan__V1__Record *dg_record_ref_to_pb(dg_req *req, const dg_record *r)
{
    const ProtobufCMessageDescriptor *d = record_field(r->kind)->descriptor;
    ProtobufCMessage *m = dg_req_alloc(req, d->sizeof_message);

    protobuf_c_message_init(d, m);
    set_i64(m, "id", r->id);
    set_i64(m, "version", r->version);
    if (r->kind == DG_KIND_CUSTOMER)
        ((Dangan__V1__Customer *)m)->code =
            (char *)r->v[dg_entity_field_index(dg_entity_get(r->kind), "code")].s;
    return wrap(req, r, m);
}
