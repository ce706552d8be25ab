/* auth.c - argon2id hashing, password policy, tokens, user-name syntax. */
#include "auth.h"

#include <argon2.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "dg.h"
#include "hex.h"

#define SALT_LEN 16
#define HASH_LEN 32

int dg_password_hash(const dg_argon2_params *p, const char *password, char *out, size_t out_len)
{
    uint8_t salt[SALT_LEN];
    int rc;

    dg_random(salt, sizeof salt);
    rc = argon2id_hash_encoded(p->iterations, p->memory_kib, p->lanes, password, strlen(password),
                               salt, sizeof salt, HASH_LEN, out, out_len);
    if (rc == ARGON2_OK)
        return DG_OK;
    return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? DG_ENOMEM : DG_EINVAL;
}

bool dg_password_verify(const char *phc, const char *password)
{
    return argon2id_verify(phc, password, strlen(password)) == ARGON2_OK;
}

static size_t count_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) /* count lead bytes only */
            n++;
    return n;
}

int dg_password_check_policy(const char *password, const char *username, uint32_t min_chars,
                             char *why, size_t why_len)
{
    size_t n = count_chars(password);

    if (n < min_chars) {
        snprintf(why, why_len, "the password must have at least %u characters (it has %zu)",
                 min_chars, n);
        return DG_EINVAL;
    }
    if (strlen(password) > DG_PASSWORD_MAX_BYTES) {
        snprintf(why, why_len, "the password must be at most %d bytes", DG_PASSWORD_MAX_BYTES);
        return DG_EINVAL;
    }
    if (username && strcasecmp(password, username) == 0) {
        snprintf(why, why_len, "the password must not be the user name");
        return DG_EINVAL;
    }
    return DG_OK;
}

void dg_password_generate(char *out, size_t n_chars)
{
    /* 54 symbols (5.75 bits each) without 0/O, 1/l/I/L: easy to copy by hand. */
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    const size_t n_sym = sizeof alphabet - 1;

    for (size_t i = 0; i < n_chars; i++) {
        uint8_t b;

        do {
            dg_random(&b, 1);
        } while (b >= 256 - 256 % n_sym); /* reject to avoid modulo bias */
        out[i] = alphabet[b % n_sym];
    }
    out[n_chars] = '\0';
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
    int rc = mbedtls_sha256_ret(p, n, out, 0);

    dg_assert(rc == 0);
}

void dg_token_new(char text[DG_TOKEN_TEXT_LEN + 1], uint8_t hash[DG_TOKEN_HASH_LEN])
{
    uint8_t raw[32];

    dg_random(raw, sizeof raw);
    dg_hex_encode(raw, sizeof raw, text);
    dg_wipe(raw, sizeof raw);
    sha256(text, DG_TOKEN_TEXT_LEN, hash);
}

int dg_token_hash(const char *text, uint8_t hash[DG_TOKEN_HASH_LEN])
{
    if (strlen(text) != DG_TOKEN_TEXT_LEN)
        return DG_EINVAL;
    for (size_t i = 0; i < DG_TOKEN_TEXT_LEN; i++)
        if (!isxdigit((unsigned char)text[i]) || isupper((unsigned char)text[i]))
            return DG_EINVAL;
    sha256(text, DG_TOKEN_TEXT_LEN, hash);
    return DG_OK;
}

int dg_username_normalize(const char *in, char out[DG_USERNAME_MAX + 1])
{
    size_t n = strlen(in);

    if (n == 0 || n > DG_USERNAME_MAX || !isalnum((unsigned char)in[0]))
        return DG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)tolower((unsigned char)in[i]);

        if (!(isalnum(c) || c == '.' || c == '_' || c == '-') || c >= 0x80)
            return DG_EINVAL;
        out[i] = (char)c;
    }
    out[n] = '\0';
    return DG_OK;
}
