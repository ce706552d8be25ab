/* fuzz_frame.c - libFuzzer target for everything a server does with bytes a
 * peer sends before any handler runs: the frame decoder over a buffer that
 * may hold several frames, the wire validator, the budgeted unpack of
 * Frame, and the request-id peek used for error replies.
 *
 * The input is fed to dg_frame_next with the pre-login limit, as a server
 * sees it after TLS. Anything found here is a bug: a crash, a leak, UB, or a
 * budget overrun (the arena budget must bound memory). */
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"
#include "dg.h"
#include "frame.h"
#include "pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_buf in = DG_BUF_INIT;
    const uint8_t *p;
    uint32_t len;
    char why[256];

    dg_buf_append(&in, data, size);
    while (dg_frame_next(&in, DG_FRAME_MAX_BEFORE_LOGIN, &p, &len) == DG_OK) {
        size_t budget = dg_pb_decode_budget(len);
        dg_arena *a = dg_arena_new(budget);
        Dangan__V1__Frame *f = NULL;

        if (dg_pb_unpack_frame(p, len, a, &f, why, sizeof why) != DG_OK)
            (void)dg_pb_peek_request_id(p, len);
        dg_assert(dg_arena_used(a) <= budget);
        dg_arena_free(a);
        dg_buf_consume(&in, DG_FRAME_HEADER_LEN + len);
    }
    dg_buf_fini(&in);
    return 0;
}
