/* hex.c - hex and fingerprint text. */
#include "hex.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dg.h"

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void dg_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int dg_hex_decode(const char *text, uint8_t *out, size_t n)
{
    size_t i = 0;

    while (*text) {
        int hi, lo;

        if (*text == ':' || *text == ' ') {
            text++;
            continue;
        }
        if (i == n)
            return DG_EINVAL;
        hi = nibble(text[0]);
        lo = hi < 0 ? -1 : nibble(text[1]);
        if (hi < 0 || lo < 0)
            return DG_EINVAL;
        out[i++] = (uint8_t)(hi << 4 | lo);
        text += 2;
    }
    return i == n ? DG_OK : DG_EINVAL;
}

void dg_fingerprint_format(const uint8_t fp[DG_FINGERPRINT_LEN], char out[DG_FINGERPRINT_TEXT_LEN])
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < DG_FINGERPRINT_LEN; i++) {
        out[3 * i] = digits[fp[i] >> 4];
        out[3 * i + 1] = digits[fp[i] & 15];
        out[3 * i + 2] = i + 1 < DG_FINGERPRINT_LEN ? ':' : '\0';
    }
}

int dg_fingerprint_parse(const char *text, uint8_t fp[DG_FINGERPRINT_LEN])
{
    if (strncasecmp(text, "SHA256:", 7) == 0)
        text += 7;
    return dg_hex_decode(text, fp, DG_FINGERPRINT_LEN);
}

void dg_audit_head_format(int64_t seq, const uint8_t hash[32], char *out)
{
    int n = snprintf(out, DG_AUDIT_HEAD_TEXT_LEN, "%lld:", (long long)seq);

    dg_hex_encode(hash, 32, out + n);
}

int dg_audit_head_parse(const char *text, int64_t *seq, uint8_t hash[32])
{
    const char *colon = strchr(text, ':');
    int64_t v = 0;

    if (!colon || colon == text || strlen(colon + 1) != 64)
        return DG_EINVAL;
    for (const char *p = text; p < colon; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - (*p - '0')) / 10)
            return DG_EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (dg_hex_decode(colon + 1, hash, 32) != DG_OK)
        return DG_EINVAL;
    *seq = v;
    return DG_OK;
}
