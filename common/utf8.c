/* utf8.c - strict UTF-8 validation (hand-written: it runs on every string a
 * peer sends and is fuzzed) and display width via utf8proc. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

bool dg_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    while (p < end) {
        unsigned char c = *p;

        if (c < 0x80) {
            if (c == 0)
                return false;
            p++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false; /* continuation byte, 0xc0/0xc1 overlong lead, or > 0xf4 */
        }
        if ((size_t)(end - p) <= need)
            return false;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += need + 1;
    }
    return true;
}

/* Decodes one character; returns its length (>= 1) and its width in *w. */
static size_t next_char(const char *s, size_t *w)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp);

    if (n <= 0) {
        *w = 1;
        return 1;
    }
    int cw = utf8proc_charwidth(cp);
    *w = cw < 0 ? 0 : (size_t)cw;
    return (size_t)n;
}

size_t dg_utf8_width(const char *s)
{
    size_t cols = 0;

    while (*s) {
        size_t w;

        s += next_char(s, &w);
        cols += w;
    }
    return cols;
}

size_t dg_utf8_fit(const char *s, size_t max_cols, size_t *cols)
{
    size_t bytes = 0, used = 0;

    while (s[bytes]) {
        size_t w;
        size_t n = next_char(s + bytes, &w);

        if (used + w > max_cols)
            break;
        used += w;
        bytes += n;
    }
    *cols = used;
    return bytes;
}

char *dg_utf8_copy(char *out, size_t out_len, const char *s)
{
    size_t n = strlen(s);

    if (out_len == 0)
        return out;
    if (n >= out_len) {
        n = out_len - 1;
        /* back off to the start of the character the cut fell into, if any */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}
