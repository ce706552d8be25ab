/* fuzz_frame.c - libFuzzer target for everything a server does with bytes a
 * peer sends before any handler runs: the frame decoder over a buffer that
 * may hold several frames, the wire validator, the budgeted unpack of
 * Frame, and the request-id peek used for error replies.
 *
 * The input is fed to dg_frame_next with the pre-login limit, as a server
 * sees it after TLS. Anything found here is a bug: a crash, a leak, UB, a
 * budget overrun (the arena budget must bound memory), or a frame that
 * validation measured as fitting but whose decode still ran out of memory
 * (the measure must bound what protobuf-c allocates). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "buf.h"
#include "dg.h"
#include "frame.h"
#include "pb.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A heap allocator adding up what each allocation costs in an arena. */
struct counting {
    ProtobufCAllocator pc;
    size_t cost;
};

static void *counting_alloc(void *data, size_t n)
{
    ((struct counting *)data)->cost += dg_arena_cost(n);
    return malloc(n ? n : 1);
}

static void counting_free(void *data, void *p)
{
    DG_UNUSED(data);
    free(p);
}

/* What protobuf-c allocates for a frame validation accepted stays within its need. */
static void check_need(const uint8_t *p, size_t len, size_t need)
{
    struct counting c = {{counting_alloc, counting_free, NULL}, 0};
    Dangan__V1__Frame *f;

    c.pc.allocator_data = &c;
    f = dangan__v1__frame__unpack(&c.pc, len, p);
    dangan__v1__frame__free_unpacked(f, &c.pc); /* accepts NULL */
    dg_assert(c.cost <= need);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_buf in = DG_BUF_INIT;
    const uint8_t *p;
    uint32_t len;
    char why[256];

    dg_buf_append(&in, data, size);
    while (dg_frame_next(&in, DG_FRAME_MAX_BEFORE_LOGIN, &p, &len) == DG_OK) {
        size_t budget = dg_pb_decode_budget(len), need = 0;
        dg_arena *a = dg_arena_new(budget);
        Dangan__V1__Frame *f = NULL;
        int valid = dg_validate_wire_measure(&dangan__v1__frame__descriptor, p, len, &need, why,
                                             sizeof why);
        int rc = dg_pb_unpack_frame(p, len, a, &f, why, sizeof why);

        if (rc != DG_OK)
            (void)dg_pb_peek_request_id(p, len);
        if (valid == DG_OK && need <= dg_pb_decode_max(len))
            check_need(p, len, need);
        dg_assert(dg_arena_used(a) <= budget);
        /* within the limit, decoding never runs out: the need was an upper bound */
        dg_assert(!(valid == DG_OK && need <= dg_pb_decode_max(len) && rc == DG_ENOMEM));
        dg_assert(rc != DG_OK || dg_arena_used(a) <= 2 * need);
        dg_arena_free(a);
        dg_buf_consume(&in, DG_FRAME_HEADER_LEN + len);
    }
    dg_buf_fini(&in);
    return 0;
}
