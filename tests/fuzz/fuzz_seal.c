/* fuzz_seal.c - libFuzzer target for the encrypted-backup decoder
 * (common/seal.h), which reads files a restore is handed: the header parser,
 * the header's tag, and the chunk decoder over whatever follows, fed in
 * pieces of every size the input's first byte picks.
 *
 * The key is fixed (32 bytes of 0x42), so the corpus holds real sealed files
 * (made with that key) whose headers verify, and mutations reach the chunk
 * decoder: changed length words, tags, chunks moved or cut, bytes after the
 * last chunk. Then the input is sealed as plaintext and must open to itself.
 * Anything found here is a bug: a crash, a leak, UB, a chunk that opens
 * although it was changed (only if it still authenticates: impossible in
 * practice), or a round trip that differs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHUNK DG_SEAL_CHUNK_MIN

static const uint8_t key[DG_SEAL_KEY_LEN] = {
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};

/* Opens a sealed file held in memory, giving the decoder at most `step`
 * more bytes at a time, as a reader filling its buffer would. */
static void open_sealed(const uint8_t *data, size_t size, size_t step)
{
    dg_seal_params p;
    dg_seal *s;
    uint8_t *out;
    size_t at = DG_SEAL_HEADER_LEN, have, used, n_out;
    bool is_last = false;
    int rc;

    if (size < DG_SEAL_HEADER_LEN || dg_seal_header_parse(data, &p) != DG_OK)
        return;
    dg_assert(p.chunk_len >= DG_SEAL_CHUNK_MIN && p.chunk_len <= DG_SEAL_CHUNK_MAX);
    if (dg_unseal_new(data, key, &s) != DG_OK)
        return;
    out = malloc(dg_seal_chunk_len(s));
    have = size - at < step ? size - at : step;
    while (at < size || !is_last) {
        rc = dg_unseal_chunk(s, data + at, have, &used, out, &n_out, &is_last);
        if (rc == DG_EAGAIN && at + have < size) {
            have += size - at - have < step ? size - at - have : step;
            continue;
        }
        if (rc != DG_OK)
            break;
        dg_assert(used <= have && n_out <= dg_seal_chunk_len(s));
        at += used;
        have -= used;
    }
    free(out);
    dg_seal_free(s);
}

/* Seals `data` with chunks of CHUNK bytes and checks that it opens to itself. */
static void round_trip(const uint8_t *data, size_t size)
{
    dg_seal_params p = {
        .kdf_iterations = 1, .kdf_memory_kib = 8, .kdf_lanes = 1, .chunk_len = CHUNK};
    size_t cap = DG_SEAL_HEADER_LEN + (size / CHUNK + 1) * (CHUNK + 20), len, n, used, n_out;
    uint8_t *sealed = malloc(cap), *back = malloc(size + CHUNK), *out = malloc(CHUNK);
    dg_seal *w, *r;
    size_t at = 0, back_len = 0;
    bool is_last = false;
    int rc;

    dg_assert(dg_seal_new(&p, key, &w) == DG_OK);
    memcpy(sealed, dg_seal_header(w), DG_SEAL_HEADER_LEN);
    len = DG_SEAL_HEADER_LEN;
    do {
        size_t take = size - at < CHUNK ? size - at : CHUNK;
        bool last = take < CHUNK;

        dg_assert(dg_seal_chunk(w, data + at, take, last, sealed + len, &n) == DG_OK);
        len += n;
        at += take;
        is_last = last;
    } while (!is_last);
    dg_seal_free(w);
    dg_assert(dg_unseal_new(sealed, key, &r) == DG_OK);
    for (at = DG_SEAL_HEADER_LEN, is_last = false; !is_last;) {
        dg_assert(dg_unseal_chunk(r, sealed + at, len - at, &used, out, &n_out, &is_last) == DG_OK);
        memcpy(back + back_len, out, n_out);
        back_len += n_out;
        at += used;
    }
    dg_assert(at == len && back_len == size && memcmp(back, data, size) == 0);
    /* one bit flipped anywhere after the header: refused */
    if (size) {
        dg_seal *again;

        sealed[DG_SEAL_HEADER_LEN + data[0] % (len - DG_SEAL_HEADER_LEN)] ^= 1;
        dg_assert(dg_unseal_new(sealed, key, &again) == DG_OK);
        at = DG_SEAL_HEADER_LEN;
        while ((rc = dg_unseal_chunk(again, sealed + at, len - at, &used, out, &n_out, &is_last)) ==
                   DG_OK &&
               !is_last)
            at += used;
        dg_assert(rc != DG_OK);
        dg_seal_free(again);
    }
    dg_seal_free(r);
    free(sealed);
    free(back);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_sealed(data, size, size ? (size_t)data[size - 1] * 97 + 1 : 1);
    open_sealed(data, size, size);
    if (size <= 3 * CHUNK)
        round_trip(data, size);
    return 0;
}
