/* hex.h - hex encoding and certificate fingerprints. Pure; any thread. */
#ifndef DG_HEX_H
#define DG_HEX_H

#include <stddef.h>
#include <stdint.h>

#define DG_FINGERPRINT_LEN 32            /* SHA-256 */
#define DG_FINGERPRINT_TEXT_LEN (32 * 3) /* "AB:CD:...:EF" plus NUL */

/* Lower-case hex of `n` bytes into `out` (2n+1 bytes, NUL-terminated). */
void dg_hex_encode(const uint8_t *p, size_t n, char *out);
/* Decodes exactly `n` bytes from hex text (either case; ':' and spaces between
 * byte pairs are ignored). DG_OK, or DG_EINVAL if the text is not exactly n bytes of hex. */
int dg_hex_decode(const char *text, uint8_t *out, size_t n);
/* "AB:CD:..." upper-case, colon-separated, as `openssl x509 -fingerprint` shows it. */
void dg_fingerprint_format(const uint8_t fp[DG_FINGERPRINT_LEN], char out[DG_FINGERPRINT_TEXT_LEN]);
/* Accepts the colon form or 64 plain hex digits, optionally prefixed "SHA256:". */
int dg_fingerprint_parse(const char *text, uint8_t fp[DG_FINGERPRINT_LEN]);

/* An audit head as people copy it: "SEQ:" and the 64 hex digits of the
 * record's hash (out: at least DG_AUDIT_HEAD_TEXT_LEN bytes). */
#define DG_AUDIT_HEAD_TEXT_LEN (20 + 1 + 64 + 1)
void dg_audit_head_format(int64_t seq, const uint8_t hash[32], char *out);
/* DG_OK, or DG_EINVAL unless `text` is SEQ:HASH with SEQ >= 0 (a whole
 * number) and HASH 64 hex digits. */
int dg_audit_head_parse(const char *text, int64_t *seq, uint8_t hash[32]);

#endif
