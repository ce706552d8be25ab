/* seal.h - a file sealed with AES-256-GCM in chunks: the format of an
 * encrypted backup (docs/operations.md describes it for operators).
 *
 * A sealed file is a 64-byte header, then chunks. The header carries the
 * magic, the key-derivation parameters and salt (the key itself is derived
 * by the caller: argon2id in server/admin/backup_seal.c), the plaintext
 * chunk length and a random 4-byte nonce prefix, and ends in a GCM tag over
 * its first 48 bytes: a wrong key is known before any chunk is read.
 * Chunk i (from 1) is a 4-byte big-endian word (bit 31: the last chunk; the
 * rest: its plaintext length, exactly chunk_len unless it is the last),
 * the ciphertext, and its 16-byte tag. Its nonce is the prefix and i (8 bytes,
 * big-endian); its additional data is the whole header, i and the word. So a
 * chunk changed, moved, taken from another file, or cut short fails its tag,
 * a file cut at a chunk boundary has no last chunk, and bytes after the last
 * chunk are refused.
 *
 * Pure apart from mbedTLS; any thread, one thread per dg_seal.
 */
#ifndef DG_SEAL_H
#define DG_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_SEAL_MAGIC "DGENCBK\x01" /* 8 bytes; the last is the format version */
#define DG_SEAL_MAGIC_LEN 8
#define DG_SEAL_HEADER_LEN 64
#define DG_SEAL_KEY_LEN 32
#define DG_SEAL_SALT_LEN 16
#define DG_SEAL_TAG_LEN 16
#define DG_SEAL_WORD_LEN 4
#define DG_SEAL_CHUNK_MIN 4096
#define DG_SEAL_CHUNK_MAX (16u << 20)
/* The key-derivation parameters a header may ask for: bounded, so a forged
 * header cannot make the reader spend unbounded memory or time. */
#define DG_SEAL_KDF_MAX_MEMORY_KIB (1u << 20) /* 1 GiB */
#define DG_SEAL_KDF_MAX_ITERATIONS 64
#define DG_SEAL_KDF_MAX_LANES 16

/* What the header says: argon2id's parameters and salt, the chunk length. */
typedef struct dg_seal_params {
    uint32_t kdf_iterations;
    uint32_t kdf_memory_kib;
    uint32_t kdf_lanes;
    uint32_t chunk_len; /* plaintext bytes per chunk */
    uint8_t salt[DG_SEAL_SALT_LEN];
} dg_seal_params;

typedef struct dg_seal dg_seal;

/* True if `p` (len bytes) begins with the magic. */
bool dg_seal_has_magic(const uint8_t *p, size_t len);

/* Reads the parameters from a header (DG_SEAL_HEADER_LEN bytes), without
 * checking its tag (that needs the key: dg_unseal_new). DG_OK; DG_EINVAL when
 * it is not a sealed file's header (magic, version, algorithms, a reserved
 * byte, a parameter out of its bounds). */
int dg_seal_header_parse(const uint8_t *header, dg_seal_params *out);

/* A sealer for a new file: `p` (salt and parameters as chosen by the caller)
 * and the key derived from them. A random nonce prefix is drawn. The header
 * to write first is dg_seal_header. Returns a new dg_seal; free with
 * dg_seal_free. DG_OK, or DG_EINVAL for parameters out of bounds. */
int dg_seal_new(const dg_seal_params *p, const uint8_t key[DG_SEAL_KEY_LEN], dg_seal **out);
/* The header (DG_SEAL_HEADER_LEN bytes), borrowed from `s`. */
const uint8_t *dg_seal_header(const dg_seal *s);
/* Seals the next chunk: `len` bytes (chunk_len exactly unless `is_last`;
 * then at most chunk_len, possibly 0) into `out`, which has room for
 * len + DG_SEAL_WORD_LEN + DG_SEAL_TAG_LEN bytes; *out_len gets what to
 * write. DG_OK; DG_EINVAL for a wrong length or a chunk after the last. */
int dg_seal_chunk(dg_seal *s, const uint8_t *in, size_t len, bool is_last, uint8_t *out,
                  size_t *out_len);

/* An unsealer for the file whose header is `header`, with the key derived
 * from its parameters. DG_OK; DG_EINVAL when the header is not one
 * (dg_seal_header_parse); DG_EAUTH when its tag does not verify with `key`:
 * the wrong key (passphrase) or a changed header. */
int dg_unseal_new(const uint8_t *header, const uint8_t key[DG_SEAL_KEY_LEN], dg_seal **out);
/* Opens the next chunk from `in` (what follows the previous chunk; in_len
 * bytes available). DG_OK: *used bytes of `in` were one chunk, *out_len
 * plaintext bytes are in `out` (room for chunk_len bytes), *is_last says
 * whether it was the last. DG_EAGAIN: `in` does not yet hold a whole chunk
 * (*used 0). DG_ECORRUPT: a bad length word, a tag that does not verify
 * (changed, moved or foreign data), or anything after the last chunk. After
 * DG_ECORRUPT every call fails the same way. A file is whole only if a chunk
 * came back with *is_last and nothing followed it. */
int dg_unseal_chunk(dg_seal *s, const uint8_t *in, size_t in_len, size_t *used, uint8_t *out,
                    size_t *out_len, bool *is_last);
/* The chunk length the header declares. */
uint32_t dg_seal_chunk_len(const dg_seal *s);

/* Wipes the key schedule and frees. Accepts NULL. */
void dg_seal_free(dg_seal *s);

#endif
