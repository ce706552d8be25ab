/* frame.h - the length prefix: 4-byte big-endian length, then that many bytes
 * of one serialized dangan.v1.Frame. Pure: no I/O, no allocation, no logging.
 * Any thread.
 */
#ifndef DG_FRAME_H
#define DG_FRAME_H

#include <stdint.h>

#include "buf.h"

#define DG_FRAME_HEADER_LEN 4u
#define DG_FRAME_MAX_BEFORE_LOGIN (64u * 1024u)         /* docs/protocol.md */
#define DG_FRAME_MAX_AFTER_LOGIN (4u * 1024u * 1024u)   /* default, configurable */
#define DG_FRAME_MAX_CEILING (16u * 1024u * 1024u - 1u) /* hard ceiling below 16 MiB */

/* Find the next complete frame at the head of `in`. On DG_OK, *payload and *len
 * point into `in` (borrowed; valid until the buffer is next appended to); the
 * caller then drops the frame with dg_buf_consume(in, DG_FRAME_HEADER_LEN + len).
 * Returns DG_EAGAIN if more bytes are needed, DG_ETOOBIG if the declared length
 * exceeds `limit` (decided from the 4 header bytes alone; nothing is allocated
 * and *len holds the declared length). A zero-length frame is DG_OK with *len 0. */
int dg_frame_next(const dg_buf *in, uint32_t limit, const uint8_t **payload, uint32_t *len);

/* Writes the 4-byte header for a payload of `len` bytes. */
void dg_frame_put_header(uint8_t out[DG_FRAME_HEADER_LEN], uint32_t len);

#endif
