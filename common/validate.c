/* validate.c - descriptor-driven walk over protobuf wire bytes, measuring
 * on the way what protobuf-c will allocate to unpack them. */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "utf8.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

struct walk {
    char *why;
    size_t why_len;
    /* field names from the outermost message to the current position; the
     * dotted path is formatted only when a check fails (this runs on every
     * frame, on the loop thread) */
    const char *names[DG_VALIDATE_MAX_DEPTH + 2];
    int n_names;
    size_t need; /* what unpacking allocates, in arena bytes (dg_arena_cost) */
};

/* What protobuf-c 1.x allocates while unpacking a message, besides the
 * message itself, strings, bytes and repeated arrays: it scans the fields
 * into a first slab of 16 on the stack, then into slabs of 32, 64, ...
 * members from the allocator (freed only with the arena). This is its
 * ScannedMember: tag, wire type, prefix length, field, len, data. */
struct pbc_scanned_member {
    uint32_t tag;
    uint8_t wire_type;
    uint8_t length_prefix_len;
    const void *field;
    size_t len;
    const uint8_t *data;
};
#define PBC_FIRST_SLAB 16u
/* ... and a bitmap of required fields, on the stack up to 128 fields. */
#define PBC_BITMAP_ON_STACK 16u

/* Fields per message the walk can track; dangan.proto's largest has 47
 * (test_validate checks every message Frame reaches). */
#define MAX_FIELDS 128

/* Per message being walked: which fields were seen, how many members. */
struct level {
    uint64_t seen[MAX_FIELDS / 64];
    size_t n_members, n_unknown;
};

static int fail(struct walk *w, const char *problem)
{
    size_t n = 0;

    if (w->why_len == 0)
        return DG_EPROTO;
    w->why[0] = '\0';
    for (int i = 0; i < w->n_names && n < w->why_len; i++)
        n += (size_t)snprintf(w->why + n, w->why_len - n, "%s%s", i ? "." : "", w->names[i]);
    if (n < w->why_len)
        snprintf(w->why + n, w->why_len - n, "%s%s", w->n_names ? ": " : "", problem);
    return DG_EPROTO;
}

/* Reads a varint at *p (< end). Returns false if truncated or over 10 bytes. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;

        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static size_t elt_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default: /* 32-bit scalars and enums */
        return 4;
    }
}

/* Elements in a packed run of `len` bytes, as protobuf-c counts them. */
static size_t packed_count(const ProtobufCFieldDescriptor *f, const uint8_t *p, size_t len)
{
    size_t n = 0;

    switch (f->type) {
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return len / 4;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return len / 8;
    case PROTOBUF_C_TYPE_BOOL:
        return len;
    default: /* varints: one per byte without the continuation bit */
        for (size_t i = 0; i < len; i++)
            n += !(p[i] & 0x80);
        return n;
    }
}

/* The scan slabs for n members (the first is on the stack). */
static size_t slab_cost(size_t n)
{
    size_t cost = 0;

    for (size_t cap = PBC_FIRST_SLAB, slab = 2 * PBC_FIRST_SLAB; cap < n; cap += slab, slab *= 2)
        cost += dg_arena_cost(slab * sizeof(struct pbc_scanned_member));
    return cost;
}

static int check_enum(struct walk *w, const ProtobufCFieldDescriptor *f, uint64_t raw)
{
    /* proto3 enums are int32 on the wire (negative values sign-extend to 64 bits). */
    int32_t value = (int32_t)(uint32_t)raw;

    if (!protobuf_c_enum_descriptor_get_value(f->descriptor, value))
        return fail(w, "unknown enum value");
    return DG_OK;
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, int depth);

/* Checks a length-delimited field's payload against its declared type. */
static int check_len_field(struct walk *w, const ProtobufCFieldDescriptor *f, const uint8_t *p,
                           const uint8_t *end, int depth)
{
    size_t len = (size_t)(end - p);

    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!dg_utf8_valid((const char *)p, len))
            return fail(w, "invalid UTF-8 or NUL byte in string");
        w->need += dg_arena_cost(len + 1);
        return DG_OK;
    case PROTOBUF_C_TYPE_BYTES:
        w->need += len ? dg_arena_cost(len) : 0;
        return DG_OK;
    case PROTOBUF_C_TYPE_MESSAGE:
        return walk_message(w, f->descriptor, p, end, depth + 1);
    case PROTOBUF_C_TYPE_ENUM:
        if (f->label != PROTOBUF_C_LABEL_REPEATED)
            return fail(w, "wire type does not match the field type");
        while (p < end) {
            uint64_t v;

            if (!read_varint(&p, end, &v))
                return fail(w, "truncated packed enum");
            int rc = check_enum(w, f, v);
            if (rc != DG_OK)
                return rc;
        }
        return DG_OK;
    default:
        /* Packed repeated scalars: protobuf-c checks their element sizes. */
        if (f->label != PROTOBUF_C_LABEL_REPEATED)
            return fail(w, "wire type does not match the field type");
        return DG_OK;
    }
}

/* What a field adds to its message's unpacking besides its payload (which
 * check_len_field and walk_message count): its slot in a repeated array, or
 * the refusal of a singular field or oneof given twice - protobuf-c merges
 * those, and a merge of merges costs the square of their number. */
static int count_field(struct walk *w, struct level *lv, const ProtobufCMessageDescriptor *d,
                       const ProtobufCFieldDescriptor *f, unsigned wt, const uint8_t *p, size_t len)
{
    size_t i = (size_t)(f - d->fields);
    bool seen = lv->seen[i / 64] >> (i % 64) & 1;

    lv->seen[i / 64] |= (uint64_t)1 << (i % 64);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = wt == WT_LEN && f->type != PROTOBUF_C_TYPE_STRING &&
                           f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_MESSAGE
                       ? packed_count(f, p, len)
                       : 1;

        /* one array per field: its rounding once, then each element */
        w->need += n * elt_size(f) + (seen ? 0 : dg_arena_cost(1));
        return DG_OK;
    }
    if (seen)
        return fail(w, "a singular field appears more than once");
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        for (size_t k = 0; k < d->n_fields; k++)
            if (k != i && (d->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                d->fields[k].quantifier_offset == f->quantifier_offset &&
                (lv->seen[k / 64] >> (k % 64) & 1))
                return fail(w, "more than one member of a oneof is set");
    return DG_OK;
}

static bool wire_type_fits(const ProtobufCFieldDescriptor *f, unsigned wt)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return wt == WT_LEN;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return wt == WT_FIXED64 || (wt == WT_LEN && f->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return wt == WT_FIXED32 || (wt == WT_LEN && f->label == PROTOBUF_C_LABEL_REPEATED);
    default: /* varint types: int32/64, uint32/64, sint32/64, bool, enum */
        return wt == WT_VARINT || (wt == WT_LEN && f->label == PROTOBUF_C_LABEL_REPEATED);
    }
}

static int walk_field(struct walk *w, struct level *lv, const ProtobufCMessageDescriptor *d,
                      const ProtobufCFieldDescriptor *f, unsigned wt, const uint8_t **pp,
                      const uint8_t *end, int depth)
{
    const uint8_t *start = *pp, *p = *pp, *payload;
    uint64_t v;
    int rc = DG_OK;

    if (f && !wire_type_fits(f, wt))
        return fail(w, "wire type does not match the field type");
    switch (wt) {
    case WT_VARINT:
        if (!read_varint(&p, end, &v))
            return fail(w, "truncated varint");
        if (f && f->type == PROTOBUF_C_TYPE_ENUM)
            rc = check_enum(w, f, v);
        break;
    case WT_FIXED64:
        if (end - p < 8)
            return fail(w, "truncated fixed64");
        p += 8;
        break;
    case WT_FIXED32:
        if (end - p < 4)
            return fail(w, "truncated fixed32");
        p += 4;
        break;
    case WT_LEN:
        if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
            return fail(w, "length runs past the end of the message");
        payload = p;
        if (f && (rc = count_field(w, lv, d, f, wt, payload, (size_t)v)) == DG_OK)
            rc = check_len_field(w, f, payload, payload + v, depth);
        p += v;
        *pp = p;
        lv->n_members++;
        if (!f) { /* kept by protobuf-c: the field's bytes after its tag */
            lv->n_unknown++;
            w->need += dg_arena_cost((size_t)(p - start));
        }
        return rc;
    default:
        return fail(w, "unsupported wire type (groups are not used)");
    }
    if (rc == DG_OK && f)
        rc = count_field(w, lv, d, f, wt, NULL, 0);
    lv->n_members++;
    if (!f) {
        lv->n_unknown++;
        w->need += dg_arena_cost((size_t)(p - start));
    }
    *pp = p;
    return rc;
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, int depth)
{
    struct level lv = {.n_members = 0};

    if (depth > DG_VALIDATE_MAX_DEPTH)
        return fail(w, "messages nested too deeply");
    dg_assert(d->n_fields <= MAX_FIELDS); /* our own descriptors: see MAX_FIELDS */
    w->need += dg_arena_cost(d->sizeof_message);
    if ((d->n_fields + 7) / 8 > PBC_BITMAP_ON_STACK)
        w->need += dg_arena_cost((d->n_fields + 7) / 8);
    while (p < end) {
        uint64_t tag;
        const ProtobufCFieldDescriptor *f;
        int rc;

        if (!read_varint(&p, end, &tag))
            return fail(w, "truncated field tag");
        if ((tag >> 3) == 0 || (tag >> 3) > 536870911u)
            return fail(w, "invalid field number");
        f = protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
        if (f)
            w->names[w->n_names++] = f->name; /* depth is bounded, so is n_names */
        rc = walk_field(w, &lv, d, f, (unsigned)(tag & 7), &p, end, depth);
        if (rc != DG_OK)
            return rc; /* keep the names: fail() has already formatted them */
        if (f)
            w->n_names--;
    }
    w->need += slab_cost(lv.n_members);
    if (lv.n_unknown)
        w->need += dg_arena_cost(lv.n_unknown * sizeof(ProtobufCMessageUnknownField));
    return DG_OK;
}

int dg_validate_wire_measure(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                             size_t *need, char *why, size_t why_len)
{
    struct walk w = {.why = why, .why_len = why_len};
    int rc;

    if (why_len)
        why[0] = '\0';
    rc = walk_message(&w, desc, p, p + len, 0);
    if (need)
        *need = w.need;
    return rc;
}

int dg_validate_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                     char *why, size_t why_len)
{
    return dg_validate_wire_measure(desc, p, len, NULL, why, why_len);
}
