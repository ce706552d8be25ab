/* wire.h - hand-built protobuf wire bytes for unit tests.
 *
 * protobuf-c cannot produce most invalid input (wrong wire types, lengths
 * running past the end, group wire types), so tests that need it write the
 * bytes themselves with these helpers. Fixed capacity; overflowing it is a
 * test bug and fails the test (include this after <cmocka.h>). Header-only
 * (static inline) so each test executable stays one source file.
 */
#ifndef DG_TEST_WIRE_H
#define DG_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_LEN = 2,
    WIRE_SGROUP = 3,
    WIRE_EGROUP = 4,
    WIRE_FIXED32 = 5
};

typedef struct wire {
    uint8_t b[1024];
    size_t n;
} wire;

static inline void wire_raw(wire *w, const void *p, size_t len)
{
    assert_true(len <= sizeof w->b - w->n);
    memcpy(w->b + w->n, p, len);
    w->n += len;
}

static inline void wire_varint(wire *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    wire_raw(w, tmp, n);
}

static inline void wire_tag(wire *w, uint32_t field, unsigned wire_type)
{
    wire_varint(w, (uint64_t)field << 3 | wire_type);
}

/* A varint field: tag then value. */
static inline void wire_uint(wire *w, uint32_t field, uint64_t v)
{
    wire_tag(w, field, WIRE_VARINT);
    wire_varint(w, v);
}

/* A length-delimited field holding `len` raw bytes. */
static inline void wire_bytes(wire *w, uint32_t field, const void *p, size_t len)
{
    wire_tag(w, field, WIRE_LEN);
    wire_varint(w, len);
    wire_raw(w, p, len);
}

/* A sub-message field holding the bytes built in `inner`. */
static inline void wire_msg(wire *w, uint32_t field, const wire *inner)
{
    wire_bytes(w, field, inner->b, inner->n);
}

/* Frame{request: Request{id, login: LoginRequest{username, password}}} with
 * the username given as raw bytes, so it may be anything. */
static inline void wire_login_frame(wire *out, uint64_t id, const void *user, size_t user_len,
                                    const char *password)
{
    wire login = {.n = 0}, req = {.n = 0};

    wire_bytes(&login, 1, user, user_len);
    wire_bytes(&login, 2, password, strlen(password));
    wire_uint(&req, 1, id);
    wire_msg(&req, 11, &login);
    out->n = 0;
    wire_msg(out, 1, &req);
}

#endif
