/* validate.h - our own checks on protobuf wire bytes, before protobuf-c sees
 * them: protobuf-c 1.4 checks neither UTF-8 nor enum values, and silently
 * truncates strings at an embedded NUL.
 *
 * The walk follows the message descriptors: every string field must be
 * well-formed UTF-8 without NUL; every enum value (plain or packed) must be
 * one the descriptor declares; wire types must match declared types; nesting
 * is at most DG_VALIDATE_MAX_DEPTH; unknown fields are skipped but must be
 * well-formed. No allocation. Pure; any thread.
 */
#ifndef DG_VALIDATE_H
#define DG_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define DG_VALIDATE_MAX_DEPTH 32

/* DG_OK, or DG_EPROTO with `why` naming the field path and the problem
 * ("request.login.username: invalid UTF-8"). A singular field given twice
 * and two members of one oneof are refused too: protobuf-c merges them, at
 * a cost that grows with the square of their number. */
int dg_validate_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                     char *why, size_t why_len);
/* The same, also measuring the unpack: on DG_OK *need (may be NULL) gets
 * an upper bound of the bytes protobuf-c 1.x allocates to unpack the
 * message from a dg_arena, each allocation as dg_arena_cost counts it (the
 * free tails of chunks the arena moves past are not included: at most as
 * much again). */
int dg_validate_wire_measure(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                             size_t *need, char *why, size_t why_len);

#endif
