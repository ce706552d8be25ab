/* pb.c - budgeted unpack and framed pack. */
#include "pb.h"

#include <stdio.h>

#include "dg.h"
#include "frame.h"
#include "validate.h"

#define BUDGET_MIN (64u * 1024u)
#define BUDGET_MAX (64u * 1024u * 1024u)

size_t dg_pb_decode_budget(size_t len)
{
    size_t b = len > BUDGET_MAX / 16 ? BUDGET_MAX : len * 16;

    return b < BUDGET_MIN ? BUDGET_MIN : b;
}

static void *arena_alloc_cb(void *data, size_t size)
{
    dg_pb_alloc *pa = data;
    void *p = dg_arena_alloc(pa->arena, size);

    if (!p)
        pa->failed = true;
    return p;
}

static void arena_free_cb(void *data, void *p)
{
    /* Freed with the arena. */
    DG_UNUSED(data);
    DG_UNUSED(p);
}

void dg_pb_alloc_init(dg_pb_alloc *pa, dg_arena *a)
{
    pa->pc.alloc = arena_alloc_cb;
    pa->pc.free = arena_free_cb;
    pa->pc.allocator_data = pa;
    pa->arena = a;
    pa->failed = false;
}

int dg_pb_unpack_frame(const uint8_t *p, size_t len, dg_arena *a, Dangan__V1__Frame **out,
                       char *why, size_t why_len)
{
    dg_pb_alloc pa;
    int rc;

    *out = NULL;
    rc = dg_validate_wire(&dangan__v1__frame__descriptor, p, len, why, why_len);
    if (rc != DG_OK)
        return rc;
    dg_pb_alloc_init(&pa, a);
    *out = dangan__v1__frame__unpack(&pa.pc, len, p);
    if (*out)
        return DG_OK;
    if (pa.failed) {
        snprintf(why, why_len, "decoding needs more memory than the budget allows");
        return DG_ENOMEM;
    }
    snprintf(why, why_len, "malformed protobuf");
    return DG_EPROTO;
}

int dg_pb_pack_frame(const Dangan__V1__Frame *f, uint32_t limit, dg_buf *out)
{
    size_t n = dangan__v1__frame__get_packed_size(f);
    uint8_t *dst;

    if (n > limit)
        return DG_ETOOBIG;
    dst = dg_buf_reserve(out, DG_FRAME_HEADER_LEN + n);
    dg_frame_put_header(dst, (uint32_t)n);
    size_t packed = dangan__v1__frame__pack(f, dst + DG_FRAME_HEADER_LEN);
    dg_assert(packed == n);
    dg_buf_commit(out, DG_FRAME_HEADER_LEN + n);
    return DG_OK;
}

/* Reads a varint; false if truncated. */
static bool peek_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;

        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Finds field `want` (wire type varint or length-delimited) in a message. */
static bool peek_field(const uint8_t *p, const uint8_t *end, uint32_t want, const uint8_t **at,
                       uint64_t *value)
{
    while (p < end) {
        uint64_t tag, v;

        if (!peek_varint(&p, end, &tag))
            return false;
        switch (tag & 7) {
        case 0:
            if (!peek_varint(&p, end, &v))
                return false;
            if ((tag >> 3) == want) {
                *value = v;
                return true;
            }
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 2:
            if (!peek_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            if ((tag >> 3) == want) {
                *at = p;
                *value = v;
                return true;
            }
            p += v;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        default:
            return false;
        }
    }
    return false;
}

uint64_t dg_pb_peek_request_id(const uint8_t *p, size_t len)
{
    const uint8_t *req = NULL;
    uint64_t req_len = 0, id = 0;

    /* Frame.request = 1 (message), Request.id = 1 (uint64). */
    if (!peek_field(p, p + len, 1, &req, &req_len) || !req)
        return 0;
    const uint8_t *as_bytes = NULL;
    if (!peek_field(req, req + req_len, 1, &as_bytes, &id) || as_bytes)
        return 0; /* missing, or not a varint */
    return id;
}
