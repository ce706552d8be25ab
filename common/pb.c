/* pb.c - budgeted unpack and framed pack. */
#include "pb.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "frame.h"
#include "validate.h"

#define DECODE_MIN (32u * 1024u * 1024u)
#define DECODE_MAX (64u * 1024u * 1024u)

size_t dg_pb_decode_max(size_t len)
{
    size_t n = len > DECODE_MAX / 16 ? DECODE_MAX : len * 16;

    return n < DECODE_MIN ? DECODE_MIN : n;
}

size_t dg_pb_decode_budget(size_t len)
{
    return 2 * dg_pb_decode_max(len);
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
    size_t need;
    int rc;

    *out = NULL;
    rc = dg_validate_wire_measure(&dangan__v1__frame__descriptor, p, len, &need, why, why_len);
    if (rc != DG_OK)
        return rc;
    /* Refused before anything is allocated. Twice the need: the chunk tails
     * the arena leaves behind are each smaller than the allocation that
     * left them, so they never add up to more than the need itself. */
    if (need > dg_pb_decode_max(len) || 2 * need > dg_arena_left(a)) {
        snprintf(why, why_len,
                 "decoding this frame needs %zu KiB of memory, more than its budget of %zu KiB",
                 (need + 1023) / 1024, DG_MIN(dg_pb_decode_max(len), dg_arena_left(a) / 2) / 1024);
        return DG_ENOMEM;
    }
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

/* ---- one event frame around a change packed once for every subscriber ---- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Field keys: (number << 3) | wire type (0 varint, 1 fixed64, 2 bytes). */
#define KEY_FRAME_EVENT ((3u << 3) | 2)
#define KEY_EVENT_SUB_ID ((1u << 3) | 0)
#define KEY_EVENT_CURSOR ((2u << 3) | 2)
#define KEY_EVENT_CHANGE ((10u << 3) | 2)
#define KEY_CURSOR_EPOCH ((1u << 3) | 1)
#define KEY_CURSOR_SEQ ((2u << 3) | 0)

void dg_pb_frame_change_event(uint64_t sub_id, uint64_t epoch, uint64_t seq, const uint8_t *change,
                              size_t change_len, dg_buf *out)
{
    /* Proto3 leaves zero scalars out, as protobuf-c's packer does; an
     * empty ChangeEvent is still sent (the oneof is set). */
    size_t cursor_len = (epoch ? 1 + 8 : 0) + (seq ? 1 + varint_len(seq) : 0);
    size_t event_len = (sub_id ? 1 + varint_len(sub_id) : 0) + 1 + varint_len(cursor_len) +
                       cursor_len + 1 + varint_len(change_len) + change_len;
    size_t frame_len = 1 + varint_len(event_len) + event_len;
    uint8_t *p = dg_buf_reserve(out, DG_FRAME_HEADER_LEN + frame_len);

    dg_frame_put_header(p, (uint32_t)frame_len);
    p += DG_FRAME_HEADER_LEN;
    *p++ = KEY_FRAME_EVENT;
    p = put_varint(p, event_len);
    if (sub_id) {
        *p++ = KEY_EVENT_SUB_ID;
        p = put_varint(p, sub_id);
    }
    *p++ = KEY_EVENT_CURSOR;
    p = put_varint(p, cursor_len);
    if (epoch) {
        *p++ = KEY_CURSOR_EPOCH;
        for (int i = 0; i < 8; i++) /* fixed64: little-endian */
            *p++ = (uint8_t)(epoch >> (8 * i));
    }
    if (seq) {
        *p++ = KEY_CURSOR_SEQ;
        p = put_varint(p, seq);
    }
    *p++ = KEY_EVENT_CHANGE;
    p = put_varint(p, change_len);
    memcpy(p, change, change_len);
    dg_buf_commit(out, DG_FRAME_HEADER_LEN + frame_len);
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
