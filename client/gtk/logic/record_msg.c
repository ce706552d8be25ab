/* record_msg.c - protobuf records to dg_record and updates back (see record_msg.h).
 *
 * Values are read and written through the protobuf-c field descriptors
 * (offset, type), the way the CLI's field setter does, so this file names
 * no field of any kind.
 */
#include "record_msg.h"

#include <string.h>

#include "dg.h"

static const ProtobufCMessageDescriptor *const descriptors[DG_KIND_COUNT] = {
    [DG_KIND_CUSTOMER] = &dangan__v1__customer__descriptor,
    [DG_KIND_CONTACT] = &dangan__v1__contact__descriptor,
    [DG_KIND_INTERACTION] = &dangan__v1__interaction__descriptor,
    [DG_KIND_DEAL] = &dangan__v1__deal__descriptor,
    [DG_KIND_FEEDBACK] = &dangan__v1__feedback__descriptor,
    [DG_KIND_TASK] = &dangan__v1__task__descriptor,
};

const ProtobufCMessageDescriptor *dg_recmsg_descriptor(enum dg_kind kind)
{
    if (kind <= DG_KIND_NONE || kind >= DG_KIND_COUNT)
        return NULL;
    return descriptors[kind];
}

const ProtobufCMessage *dg_recmsg_body(const Dangan__V1__Record *r, enum dg_kind *kind)
{
    const ProtobufCFieldDescriptor *f;

    *kind = DG_KIND_NONE;
    /* the oneof's case is the member's field number, which is the kind */
    if (!r || (int)r->kind_case <= 0 || (int)r->kind_case >= (int)DG_KIND_COUNT)
        return NULL;
    f = protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, r->kind_case);
    if (!f)
        return NULL;
    *kind = (enum dg_kind)r->kind_case;
    return *(const ProtobufCMessage *const *)((const char *)r + f->offset);
}

/* ------------------------------------------------------------ reading */

static const void *at(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (const char *)m + f->offset;
}

static int64_t read_int(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int32_t *)at(m, f);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)at(m, f);
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)at(m, f) ? 1 : 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const int64_t *)at(m, f);
    default:
        return 0;
    }
}

static int64_t read_named_int(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);

    return f ? read_int(m, f) : 0;
}

static const char *read_named_str(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    const char *s = f && f->type == PROTOBUF_C_TYPE_STRING ? *(char *const *)at(m, f) : NULL;

    return s ? s : "";
}

/* One field of the table from the message into v. */
static int read_value(dg_arena *a, const ProtobufCMessage *m, const dg_field *df, dg_value *v)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, df->name);
    const ProtobufCMessage *sub;
    const char *s = "";

    v->i = 0;
    v->s = "";
    if (!f)
        return DG_OK; /* a field the peer's .proto does not have yet: empty */
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        s = *(char *const *)at(m, f);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        sub = *(const ProtobufCMessage *const *)at(m, f);
        if (sub && df->type == DG_F_MONEY) {
            v->i = read_named_int(sub, "amount_minor");
            s = read_named_str(sub, "currency");
        } else if (sub) {
            v->i = read_named_int(sub, "id");
        }
    } else {
        v->i = read_int(m, f);
    }
    if (s && s[0] && !(v->s = dg_arena_strdup(a, s)))
        return DG_ENOMEM;
    return DG_OK;
}

static int read_tags(dg_arena *a, const ProtobufCMessage *m, dg_record *r)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "tags");
    size_t n;
    char *const *tags;

    if (!f || f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_STRING)
        return DG_OK;
    n = *(const size_t *)((const char *)m + f->quantifier_offset);
    tags = *(char *const *const *)at(m, f);
    if (n == 0)
        return DG_OK;
    if (!(r->tags = dg_arena_calloc(a, n, sizeof *r->tags)))
        return DG_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(r->tags[i] = dg_arena_strdup(a, tags[i] ? tags[i] : "")))
            return DG_ENOMEM;
    r->n_tags = n;
    r->has_tags = true;
    return DG_OK;
}

int dg_recmsg_to_record(dg_arena *a, enum dg_kind kind, const ProtobufCMessage *body,
                        dg_record **out)
{
    const dg_entity *e = dg_entity_get(kind);
    dg_record *r;
    int rc;

    *out = NULL;
    if (!e || !body || body->descriptor != dg_recmsg_descriptor(kind))
        return DG_EINVAL;
    if (!(r = dg_record_new(a, kind)))
        return DG_ENOMEM;
    r->id = read_named_int(body, "id");
    r->version = read_named_int(body, "version");
    r->is_archived = read_named_int(body, "archived") != 0;
    r->created_at = read_named_int(body, "created_at_ms");
    r->updated_at = read_named_int(body, "updated_at_ms");
    r->last_contact_at = read_named_int(body, "last_contact_at_ms");
    for (size_t i = 0; i < e->n_fields; i++)
        if ((rc = read_value(a, body, &e->fields[i], &r->v[i])) != DG_OK)
            return rc;
    r->given = e->n_fields >= 64 ? ~0ull : (1ull << e->n_fields) - 1;
    r->customer_id = kind == DG_KIND_CUSTOMER ? r->id : r->v[0].i;
    if (kind == DG_KIND_CUSTOMER && (rc = read_tags(a, body, r)) != DG_OK)
        return rc;
    *out = r;
    return DG_OK;
}

/* ------------------------------------------------------------ writing */

static void *at_w(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (char *)m + f->offset;
}

static ProtobufCMessage *new_msg(dg_arena *a, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = dg_arena_calloc(a, 1, d->sizeof_message);

    if (m)
        d->message_init(m);
    return m;
}

static void write_int(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int64_t v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        *(int32_t *)at_w(m, f) = (int32_t)v;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)at_w(m, f) = (uint32_t)v;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)at_w(m, f) = v != 0;
        break;
    default:
        *(int64_t *)at_w(m, f) = v;
        break;
    }
}

static void write_named_int(ProtobufCMessage *m, const char *name, int64_t v)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);

    if (f)
        write_int(m, f, v);
}

static int write_value(dg_arena *a, ProtobufCMessage *m, const dg_field *df, const dg_value *v)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, df->name);
    ProtobufCMessage *sub;

    if (!f)
        return DG_EINVAL;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        *(const char **)at_w(m, f) = v->s ? v->s : "";
        return DG_OK;
    }
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
        write_int(m, f, v->i);
        return DG_OK;
    }
    /* money: amount and currency; a user: by id (0 clears it) */
    if (df->type == DG_F_USER && v->i == 0)
        return DG_OK;
    if (!(sub = new_msg(a, f->descriptor)))
        return DG_ENOMEM;
    if (df->type == DG_F_MONEY) {
        const ProtobufCFieldDescriptor *cur =
            protobuf_c_message_descriptor_get_field_by_name(sub->descriptor, "currency");

        write_named_int(sub, "amount_minor", v->i);
        if (cur)
            *(const char **)at_w(sub, cur) = v->s ? v->s : "";
    } else {
        write_named_int(sub, "id", v->i);
    }
    *(ProtobufCMessage **)at_w(m, f) = sub;
    return DG_OK;
}

static int write_tags(ProtobufCMessage *m, const dg_record *r)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "tags");

    if (!f)
        return DG_EINVAL;
    *(size_t *)((char *)m + f->quantifier_offset) = r->n_tags;
    *(const char ***)at_w(m, f) = r->tags;
    return DG_OK;
}

static bool may_update(const dg_entity *e, int i)
{
    if (i == DG_RECMSG_TAGS(e))
        return e->kind == DG_KIND_CUSTOMER;
    if (i < 0 || (size_t)i >= e->n_fields)
        return false;
    return !(e->fields[i].flags & (DG_FF_IMMUTABLE | DG_FF_SERVER));
}

/* The body with id and the fields in the set, and the mask naming them. */
static int fill_update(dg_arena *a, const dg_entity *e, const dg_record *r, uint64_t fields,
                       ProtobufCMessage *body, Dangan__V1__UpdateRequest *u)
{
    int rc;

    write_named_int(body, "id", r->id);
    u->update_mask = dg_arena_calloc(a, (size_t)__builtin_popcountll(fields), sizeof(char *));
    if (!u->update_mask)
        return DG_ENOMEM;
    for (int i = 0; i < 64; i++) {
        if (!(fields & (1ull << i)))
            continue;
        if (!may_update(e, i))
            return DG_EINVAL;
        if (i == DG_RECMSG_TAGS(e)) {
            rc = write_tags(body, r);
            u->update_mask[u->n_update_mask++] = (char *)"tags";
        } else {
            rc = write_value(a, body, &e->fields[i], &r->v[i]);
            u->update_mask[u->n_update_mask++] = (char *)e->fields[i].name;
        }
        if (rc != DG_OK)
            return rc;
    }
    return DG_OK;
}

int dg_recmsg_update(dg_arena *a, const dg_record *r, uint64_t fields,
                     Dangan__V1__UpdateRequest **out)
{
    const dg_entity *e = dg_entity_get(r->kind);
    const ProtobufCFieldDescriptor *member;
    Dangan__V1__UpdateRequest *u;
    Dangan__V1__Record *rec;
    ProtobufCMessage *body;
    int rc;

    *out = NULL;
    if (!e || fields == 0)
        return DG_EINVAL;
    member =
        protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, (unsigned)r->kind);
    u = (Dangan__V1__UpdateRequest *)new_msg(a, &dangan__v1__update_request__descriptor);
    rec = (Dangan__V1__Record *)new_msg(a, &dangan__v1__record__descriptor);
    body = new_msg(a, dg_recmsg_descriptor(r->kind));
    if (!u || !rec || !body)
        return DG_ENOMEM;
    if ((rc = fill_update(a, e, r, fields, body, u)) != DG_OK)
        return rc;
    *(ProtobufCMessage **)((char *)rec + member->offset) = body;
    *(uint32_t *)((char *)rec + member->quantifier_offset) = (uint32_t)r->kind;
    u->record = rec;
    u->expected_version = r->version;
    *out = u;
    return DG_OK;
}

int dg_recmsg_create(dg_arena *a, const dg_record *r, Dangan__V1__Record **out)
{
    const dg_entity *e = dg_entity_get(r->kind);
    const ProtobufCFieldDescriptor *member;
    Dangan__V1__Record *rec;
    ProtobufCMessage *body;
    int rc;

    *out = NULL;
    if (!e)
        return DG_EINVAL;
    member =
        protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, (unsigned)r->kind);
    rec = (Dangan__V1__Record *)new_msg(a, &dangan__v1__record__descriptor);
    body = new_msg(a, dg_recmsg_descriptor(r->kind));
    if (!rec || !body)
        return DG_ENOMEM;
    for (size_t i = 0; i < e->n_fields && i < 64; i++) {
        if (!(r->given & (1ull << i)) || (e->fields[i].flags & DG_FF_SERVER))
            continue;
        if ((rc = write_value(a, body, &e->fields[i], &r->v[i])) != DG_OK)
            return rc;
    }
    if (r->kind == DG_KIND_CUSTOMER && r->has_tags && (rc = write_tags(body, r)) != DG_OK)
        return rc;
    *(ProtobufCMessage **)((char *)rec + member->offset) = body;
    *(uint32_t *)((char *)rec + member->quantifier_offset) = (uint32_t)r->kind;
    *out = rec;
    return DG_OK;
}
