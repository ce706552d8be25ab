/* utf8.h - UTF-8 validation and terminal display width. Pure; any thread. */
#ifndef DG_UTF8_H
#define DG_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if p[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and contains no NUL byte (our strings
 * are C strings: an embedded NUL would silently truncate them). */
bool dg_utf8_valid(const char *p, size_t len);

/* Number of terminal columns `s` occupies: East Asian wide and full-width
 * characters count 2, combining marks 0, others 1. Invalid bytes count 1 each. */
size_t dg_utf8_width(const char *s);

/* Longest prefix of `s` (in bytes) that fits in `max_cols` columns without
 * splitting a character; *cols gets its width. */
size_t dg_utf8_fit(const char *s, size_t max_cols, size_t *cols);

/* Copies at most out_len - 1 bytes of `s` into `out`, NUL-terminated, never
 * splitting a character (a cut one is dropped whole). Returns out. */
char *dg_utf8_copy(char *out, size_t out_len, const char *s);

#endif
