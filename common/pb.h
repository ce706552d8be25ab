/* pb.h - protobuf-c with a budget.
 *
 * protobuf-c has no size limits: a 4 MiB frame of empty sub-messages can
 * cost ~240 MiB when unpacked. Every unpack here goes through a
 * ProtobufCAllocator backed by a dg_arena with a budget (docs/security.md), after
 * dg_validate_wire has checked UTF-8, enum values and structure (protobuf-c
 * checks none of those). Any thread; an arena belongs to one thread at a time.
 */
#ifndef DG_PB_H
#define DG_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"
#include "dangan.pb-c.h"

/* The most a frame of `len` bytes may decode to (dg_validate_wire_measure's
 * need): 16 times its length, at least 32 MiB, at most 64 MiB. Requests
 * within the protocol's limits stay far below it (10,000 batch ops of
 * minimal creates need ~6 MiB; records decode to 3-7 times their wire
 * size); what reaches it is a frame of empty sub-messages, which protobuf-c
 * expands up to ~250 times. */
size_t dg_pb_decode_max(size_t len);

/* Budget for the arena that decodes a frame of `len` bytes: twice
 * dg_pb_decode_max(len), for the chunk tails an arena leaves behind. The
 * arena takes from the heap only what it hands out, and dg_pb_unpack_frame
 * measures what the frame needs before it allocates anything. */
size_t dg_pb_decode_budget(size_t len);

/* A ProtobufCAllocator drawing from `a` (free is a no-op; the arena frees all).
 * `failed` is set to true when an allocation is refused. */
typedef struct dg_pb_alloc {
    ProtobufCAllocator pc;
    dg_arena *arena;
    bool failed;
} dg_pb_alloc;
void dg_pb_alloc_init(dg_pb_alloc *pa, dg_arena *a);

/* Validates then unpacks one Frame payload into `a`. On DG_OK *out lives in
 * the arena. DG_EPROTO: malformed or invalid content, `why` says which field;
 * DG_ENOMEM: decoding would need more than dg_pb_decode_max(len), or more than
 * half of what is left of the arena's budget (`why` says how much; nothing
 * was allocated), or an injected allocation failure. */
int dg_pb_unpack_frame(const uint8_t *p, size_t len, dg_arena *a, Dangan__V1__Frame **out,
                       char *why, size_t why_len);

/* Best effort: the Request.id inside a Frame payload that failed validation,
 * so the error reply can name the request. 0 if it cannot be found. Pure. */
uint64_t dg_pb_peek_request_id(const uint8_t *p, size_t len);

/* Appends the 4-byte length prefix and the packed frame to `out`.
 * DG_ETOOBIG (nothing appended) if the packed size exceeds `limit`. */
int dg_pb_pack_frame(const Dangan__V1__Frame *f, uint32_t limit, dg_buf *out);
/* Appends the frame of an Event{subscription_id, cursor{epoch, seq}, change}
 * whose ChangeEvent is already packed: a change going to many subscribers is
 * packed once, and each gets the same bytes as dg_pb_pack_frame would give. */
void dg_pb_frame_change_event(uint64_t sub_id, uint64_t epoch, uint64_t seq, const uint8_t *change,
                              size_t change_len, dg_buf *out);

#endif
