/* validate.c - descriptor-driven walk over protobuf wire bytes. */
#include "validate.h"

#include <stdio.h>
#include <string.h>

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
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!dg_utf8_valid((const char *)p, (size_t)(end - p)))
            return fail(w, "invalid UTF-8 or NUL byte in string");
        return DG_OK;
    case PROTOBUF_C_TYPE_BYTES:
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

static int walk_field(struct walk *w, const ProtobufCFieldDescriptor *f, unsigned wt,
                      const uint8_t **pp, const uint8_t *end, int depth)
{
    const uint8_t *p = *pp;
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
        if (f)
            rc = check_len_field(w, f, p, p + v, depth);
        p += v;
        break;
    default:
        return fail(w, "unsupported wire type (groups are not used)");
    }
    *pp = p;
    return rc;
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, int depth)
{
    if (depth > DG_VALIDATE_MAX_DEPTH)
        return fail(w, "messages nested too deeply");
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
        rc = walk_field(w, f, (unsigned)(tag & 7), &p, end, depth);
        if (rc != DG_OK)
            return rc; /* keep the names: fail() has already formatted them */
        if (f)
            w->n_names--;
    }
    return DG_OK;
}

int dg_validate_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                     char *why, size_t why_len)
{
    struct walk w = {.why = why, .why_len = why_len};

    if (why_len)
        why[0] = '\0';
    return walk_message(&w, desc, p, p + len, 0);
}
