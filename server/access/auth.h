/* auth.h - passwords, tokens and user names: the primitives; the login flows
 * themselves are in h_session.c.
 *
 * Passwords are hashed with argon2id (libargon2) into PHC strings; hashing
 * and verifying are slow on purpose and run on the hasher pool only. Tokens
 * are 256 random bits shown to the client as 64 hex characters and stored as
 * their SHA-256 only.
 */
#ifndef DG_AUTH_H
#define DG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define DG_TOKEN_TEXT_LEN 64
#define DG_PASSWORD_MAX_BYTES 1024
#define DG_PASSWORD_MIN_CHARS 15 /* docs/security.md; admins may lower it to 8 */

typedef struct dg_argon2_params {
    uint32_t memory_kib;
    uint32_t iterations;
    uint32_t lanes;
} dg_argon2_params;

/* PHC string of argon2id(password, fresh 16-byte salt) into `out`. Slow:
 * hasher threads only (or offline commands). DG_OK, DG_ENOMEM, DG_EINVAL. */
int dg_password_hash(const dg_argon2_params *p, const char *password, char *out, size_t out_len);
/* True if `password` matches the PHC string. Slow: hasher threads only. */
bool dg_password_verify(const char *phc, const char *password);
/* Policy for a new password: at least `min_chars` characters (code points),
 * at most DG_PASSWORD_MAX_BYTES bytes, not the user name. DG_OK or DG_EINVAL
 * with `why` for the user. Any thread. */
int dg_password_check_policy(const char *password, const char *username, uint32_t min_chars,
                             char *why, size_t why_len);
/* A random password of `n_chars` characters from an alphabet without look-alikes. */
void dg_password_generate(char *out, size_t n_chars);

/* A new token: text (64 hex + NUL) for the client, SHA-256 for the store. */
void dg_token_new(char text[DG_TOKEN_TEXT_LEN + 1], uint8_t hash[DG_TOKEN_HASH_LEN]);
/* SHA-256 of a token given by a client. DG_OK or DG_EINVAL (not 64 hex digits). */
int dg_token_hash(const char *text, uint8_t hash[DG_TOKEN_HASH_LEN]);

/* User names: 1-64 characters of a-z 0-9 . _ -, starting with a letter or
 * digit; matched case-insensitively (stored lower-case). Writes the
 * normalised name to `out`. DG_OK or DG_EINVAL. */
int dg_username_normalize(const char *in, char out[DG_USERNAME_MAX + 1]);

#endif
