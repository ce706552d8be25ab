/* seal.c - AES-256-GCM sealed files in chunks (seal.h has the format).
 *
 * Owns: one GCM context with the key schedule, the header bytes and the
 * number of the next chunk. Invariants: a nonce (prefix, chunk number) is
 * used once per key, since the prefix is random per file and the salt, and
 * so the key, is random per file too; `next` only grows.
 * Runs on: any thread, one at a time per dg_seal.
 */
#include "seal.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>

#include "alloc.h"
#include "dg.h"

#define KDF_ARGON2ID 1
#define CIPHER_AES256GCM 1
#define NONCE_LEN 12
#define PREFIX_OFF 44
#define TAGGED_LEN 48 /* the header bytes its own tag covers */
#define AAD_LEN (DG_SEAL_HEADER_LEN + 8 + DG_SEAL_WORD_LEN)
#define LAST_BIT 0x80000000u

struct dg_seal {
    mbedtls_gcm_context gcm;
    uint8_t header[DG_SEAL_HEADER_LEN];
    uint32_t chunk_len;
    uint64_t next;  /* the number of the next chunk; the header's tag used 0 */
    bool is_ended;  /* the last chunk went by (or a chunk failed) */
    bool is_broken; /* a chunk failed: everything after is refused */
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

bool dg_seal_has_magic(const uint8_t *p, size_t len)
{
    return len >= DG_SEAL_MAGIC_LEN && memcmp(p, DG_SEAL_MAGIC, DG_SEAL_MAGIC_LEN) == 0;
}

static bool params_valid(const dg_seal_params *p)
{
    return p->kdf_iterations >= 1 && p->kdf_iterations <= DG_SEAL_KDF_MAX_ITERATIONS &&
           p->kdf_lanes >= 1 && p->kdf_lanes <= DG_SEAL_KDF_MAX_LANES &&
           p->kdf_memory_kib >= 8 * p->kdf_lanes &&
           p->kdf_memory_kib <= DG_SEAL_KDF_MAX_MEMORY_KIB && p->chunk_len >= DG_SEAL_CHUNK_MIN &&
           p->chunk_len <= DG_SEAL_CHUNK_MAX;
}

int dg_seal_header_parse(const uint8_t *h, dg_seal_params *out)
{
    dg_seal_params p = {0};

    if (!dg_seal_has_magic(h, DG_SEAL_HEADER_LEN) || h[8] != KDF_ARGON2ID ||
        h[9] != CIPHER_AES256GCM || h[10] || h[11])
        return DG_EINVAL;
    p.kdf_iterations = get32(h + 12);
    p.kdf_memory_kib = get32(h + 16);
    p.kdf_lanes = get32(h + 20);
    p.chunk_len = get32(h + 24);
    memcpy(p.salt, h + 28, DG_SEAL_SALT_LEN);
    if (!params_valid(&p))
        return DG_EINVAL;
    *out = p;
    return DG_OK;
}

static void nonce_for(const dg_seal *s, uint64_t n, uint8_t nonce[NONCE_LEN])
{
    memcpy(nonce, s->header + PREFIX_OFF, 4);
    put64(nonce + 4, n);
}

static dg_seal *seal_alloc(const uint8_t key[DG_SEAL_KEY_LEN])
{
    dg_seal *s = dg_xcalloc(1, sizeof *s);

    mbedtls_gcm_init(&s->gcm);
    /* AES-256 with a 32-byte key cannot be refused */
    dg_assert(mbedtls_gcm_setkey(&s->gcm, MBEDTLS_CIPHER_ID_AES, key, DG_SEAL_KEY_LEN * 8) == 0);
    s->next = 1;
    return s;
}

/* The header's tag: GCM over no plaintext, the first 48 bytes as data. */
static int header_tag(dg_seal *s, uint8_t tag[DG_SEAL_TAG_LEN])
{
    uint8_t nonce[NONCE_LEN];

    nonce_for(s, 0, nonce);
    return mbedtls_gcm_crypt_and_tag(&s->gcm, MBEDTLS_GCM_ENCRYPT, 0, nonce, NONCE_LEN, s->header,
                                     TAGGED_LEN, NULL, NULL, DG_SEAL_TAG_LEN, tag) == 0
               ? DG_OK
               : DG_EINVAL;
}

int dg_seal_new(const dg_seal_params *p, const uint8_t key[DG_SEAL_KEY_LEN], dg_seal **out)
{
    dg_seal *s;
    uint8_t *h;

    if (!params_valid(p))
        return DG_EINVAL;
    s = seal_alloc(key);
    h = s->header;
    memcpy(h, DG_SEAL_MAGIC, DG_SEAL_MAGIC_LEN);
    h[8] = KDF_ARGON2ID;
    h[9] = CIPHER_AES256GCM;
    put32(h + 12, p->kdf_iterations);
    put32(h + 16, p->kdf_memory_kib);
    put32(h + 20, p->kdf_lanes);
    put32(h + 24, p->chunk_len);
    memcpy(h + 28, p->salt, DG_SEAL_SALT_LEN);
    dg_random(h + PREFIX_OFF, 4);
    s->chunk_len = p->chunk_len;
    if (header_tag(s, h + TAGGED_LEN) != DG_OK) {
        dg_seal_free(s);
        return DG_EINVAL;
    }
    *out = s;
    return DG_OK;
}

const uint8_t *dg_seal_header(const dg_seal *s)
{
    return s->header;
}

uint32_t dg_seal_chunk_len(const dg_seal *s)
{
    return s->chunk_len;
}

static void chunk_aad(const dg_seal *s, uint64_t n, const uint8_t word[DG_SEAL_WORD_LEN],
                      uint8_t aad[AAD_LEN])
{
    memcpy(aad, s->header, DG_SEAL_HEADER_LEN);
    put64(aad + DG_SEAL_HEADER_LEN, n);
    memcpy(aad + DG_SEAL_HEADER_LEN + 8, word, DG_SEAL_WORD_LEN);
}

int dg_seal_chunk(dg_seal *s, const uint8_t *in, size_t len, bool is_last, uint8_t *out,
                  size_t *out_len)
{
    uint8_t nonce[NONCE_LEN], aad[AAD_LEN];

    if (s->is_ended || len > s->chunk_len || (!is_last && len != s->chunk_len))
        return DG_EINVAL;
    put32(out, (uint32_t)len | (is_last ? LAST_BIT : 0));
    nonce_for(s, s->next, nonce);
    chunk_aad(s, s->next, out, aad);
    if (mbedtls_gcm_crypt_and_tag(&s->gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, NONCE_LEN, aad, AAD_LEN,
                                  in, out + DG_SEAL_WORD_LEN, DG_SEAL_TAG_LEN,
                                  out + DG_SEAL_WORD_LEN + len) != 0)
        return DG_EINVAL;
    s->next++;
    s->is_ended = is_last;
    *out_len = DG_SEAL_WORD_LEN + len + DG_SEAL_TAG_LEN;
    return DG_OK;
}

/* Compares two tags in time that does not depend on where they differ. */
static bool same_tag(const uint8_t *a, const uint8_t *b)
{
    uint8_t diff = 0;

    for (size_t i = 0; i < DG_SEAL_TAG_LEN; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

int dg_unseal_new(const uint8_t *header, const uint8_t key[DG_SEAL_KEY_LEN], dg_seal **out)
{
    dg_seal_params p;
    uint8_t tag[DG_SEAL_TAG_LEN];
    dg_seal *s;
    int rc;

    if ((rc = dg_seal_header_parse(header, &p)) != DG_OK)
        return rc;
    s = seal_alloc(key);
    memcpy(s->header, header, DG_SEAL_HEADER_LEN);
    s->chunk_len = p.chunk_len;
    rc = header_tag(s, tag);
    if (rc == DG_OK && !same_tag(tag, header + TAGGED_LEN))
        rc = DG_EAUTH;
    if (rc != DG_OK) {
        dg_seal_free(s);
        return rc;
    }
    *out = s;
    return DG_OK;
}

int dg_unseal_chunk(dg_seal *s, const uint8_t *in, size_t in_len, size_t *used, uint8_t *out,
                    size_t *out_len, bool *is_last)
{
    uint8_t nonce[NONCE_LEN], aad[AAD_LEN];
    uint32_t word, len;

    *used = 0;
    if (s->is_broken || (s->is_ended && in_len > 0))
        goto broken;
    if (in_len < DG_SEAL_WORD_LEN)
        return DG_EAGAIN;
    word = get32(in);
    len = word & ~LAST_BIT;
    if (s->is_ended || len > s->chunk_len || (!(word & LAST_BIT) && len != s->chunk_len))
        goto broken;
    if (in_len < DG_SEAL_WORD_LEN + (size_t)len + DG_SEAL_TAG_LEN)
        return DG_EAGAIN;
    nonce_for(s, s->next, nonce);
    chunk_aad(s, s->next, in, aad);
    if (mbedtls_gcm_auth_decrypt(&s->gcm, len, nonce, NONCE_LEN, aad, AAD_LEN,
                                 in + DG_SEAL_WORD_LEN + len, DG_SEAL_TAG_LEN,
                                 in + DG_SEAL_WORD_LEN, out) != 0)
        goto broken;
    s->next++;
    s->is_ended = (word & LAST_BIT) != 0;
    *used = DG_SEAL_WORD_LEN + len + DG_SEAL_TAG_LEN;
    *out_len = len;
    *is_last = s->is_ended;
    return DG_OK;
broken:
    s->is_broken = s->is_ended = true;
    return DG_ECORRUPT;
}

void dg_seal_free(dg_seal *s)
{
    if (!s)
        return;
    mbedtls_gcm_free(&s->gcm); /* zeroises the key schedule */
    dg_wipe(s, sizeof *s);
    free(s);
}
