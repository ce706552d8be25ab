/* buf.c - growable byte buffer with a read offset. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"

void dg_buf_fini(dg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

uint8_t *dg_buf_reserve(dg_buf *b, size_t n)
{
    size_t avail = b->len - b->off;

    if (b->cap - b->len >= n)
        return b->data + b->len;
    /* Compact first: the consumed head is dead space. */
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, avail);
        b->off = 0;
        b->len = avail;
        if (b->cap - b->len >= n)
            return b->data + b->len;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        dg_assert(cap <= SIZE_MAX / 2);
        cap *= 2;
    }
    b->data = dg_xrealloc(b->data, cap);
    b->cap = cap;
    return b->data + b->len;
}

void dg_buf_commit(dg_buf *b, size_t n)
{
    dg_assert(n <= b->cap - b->len);
    b->len += n;
}

void dg_buf_append(dg_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(dg_buf_reserve(b, n), p, n);
    b->len += n;
}

void dg_buf_consume(dg_buf *b, size_t n)
{
    dg_assert(n <= b->len - b->off);
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

void dg_buf_reset(dg_buf *b)
{
    b->off = b->len = 0;
}

size_t dg_buf_steal(dg_buf *b, uint8_t **out)
{
    size_t n = b->len - b->off;

    if (b->off > 0 && n > 0)
        memmove(b->data, b->data + b->off, n);
    *out = b->data;
    b->data = NULL;
    b->off = b->len = b->cap = 0;
    return n;
}
