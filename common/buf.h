/* buf.h - dg_buf: growable bytes with a read offset.
 *
 * Readable bytes are data[off..len); writers append at the tail, readers
 * consume at the head. Appending may move the data (compaction or realloc), so
 * pointers into a buffer are valid only until the next append or reserve.
 * Growth is by dg_xrealloc: callers bound what they append (frame limits,
 * read sizes), the buffer does not. One thread at a time.
 */
#ifndef DG_BUF_H
#define DG_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct dg_buf {
    uint8_t *data;
    size_t off; /* first unread byte */
    size_t len; /* end of the written bytes */
    size_t cap;
} dg_buf;

#define DG_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Frees the storage; the buffer is empty and reusable afterwards. */
void dg_buf_fini(dg_buf *b);
/* Bytes available to read. */
static inline size_t dg_buf_avail(const dg_buf *b)
{
    return b->len - b->off;
}
/* Pointer to the first unread byte; NULL while the buffer has no storage
 * (avail is 0 then). The check matters: NULL + 0 is undefined in C, and the
 * frame decoder looks at the head of a buffer that may never have grown. */
static inline const uint8_t *dg_buf_head(const dg_buf *b)
{
    return b->data ? b->data + b->off : NULL;
}
/* Appends `n` bytes. */
void dg_buf_append(dg_buf *b, const void *p, size_t n);
/* Makes room for `n` bytes at the tail and returns a pointer to it; follow
 * with dg_buf_commit(b, k) for the k <= n bytes actually written. */
uint8_t *dg_buf_reserve(dg_buf *b, size_t n);
void dg_buf_commit(dg_buf *b, size_t n);
/* Drops `n` bytes from the head (n <= avail). */
void dg_buf_consume(dg_buf *b, size_t n);
/* Empties the buffer, keeping its storage. */
void dg_buf_reset(dg_buf *b);
/* Moves the storage out: *out gets the malloc'd block (readable bytes start at
 * offset 0) and the buffer is left empty. Returns the length. */
size_t dg_buf_steal(dg_buf *b, uint8_t **out);

#endif
