/* frame.c - incremental decoding of length-prefixed frames. */
#include "frame.h"

#include "dg.h"

int dg_frame_next(const dg_buf *in, uint32_t limit, const uint8_t **payload, uint32_t *len)
{
    const uint8_t *p = dg_buf_head(in);
    size_t avail = dg_buf_avail(in);
    uint32_t n;

    if (avail < DG_FRAME_HEADER_LEN)
        return DG_EAGAIN;
    n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
    *len = n;
    if (n > limit)
        return DG_ETOOBIG;
    if (avail - DG_FRAME_HEADER_LEN < n)
        return DG_EAGAIN;
    *payload = p + DG_FRAME_HEADER_LEN;
    return DG_OK;
}

void dg_frame_put_header(uint8_t out[DG_FRAME_HEADER_LEN], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}
