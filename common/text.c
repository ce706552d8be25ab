/* text.c - folding, phone digits and the FTS5 tokenizer for substring search
 * in Chinese and Latin text (docs/architecture.md, search and duplicates).
 *
 * Owns: no state. Every function is pure over its arguments; any thread.
 * Borrows: utf8proc's tables for normalization and general categories (we
 * keep no Unicode tables of our own), dg_utf8_valid for what "valid" means.
 *
 * Folding is Unicode NFKC_Casefold: NFKC (full-width and compatibility forms
 * to their plain equivalents), full case folding (ß -> ss) and removal of
 * default-ignorable code points (soft hyphen, zero-width space, variation
 * selectors), so the same name typed on a Chinese IME, a phone or pasted from
 * a PDF folds to the same bytes. Documents and queries are folded alike.
 *
 * Tokens. Folded text is split into runs: maximal sequences of characters of
 * one class, CJK (Han, kana, Hangul syllables, and the letters and numbers of
 * the CJK Symbols block such as 々 and 〇) or WORD (any other letter or digit).
 * A character is one such code point plus the combining marks that follow
 * it; everything else (punctuation, symbols, spaces, controls, unassigned
 * code points, orphan marks, invalid bytes) only separates runs. CJK runs are
 * cut into windows of k = 2 characters, WORD runs into windows of k = 3.
 *
 * Why every substring is found. A document emits one token per character:
 * at character i of a run, the window [i, min(i + k, run end)). So token
 * positions are character positions, and the last k - 1 tokens of a run are
 * the shorter tails. A query q that occurs in the document consists of runs
 * (q's classes are the document's, character by character), and each run r
 * of q lies inside one run R of the document, starting at some character j:
 *   - if r has n >= k characters, its k-windows starting at j, j+1, ...,
 *     j+n-k all end inside R, so they are exactly the document's tokens at
 *     those consecutive positions: the FTS5 phrase "r" (which FTS5 tokenizes
 *     in query mode into those windows) matches there;
 *   - if r has n < k characters, the document token at j is R's window
 *     [j, min(j + k, end of R)), which starts with r because r ends inside
 *     R: the FTS5 prefix query "r"* matches there.
 * Conversely, a phrase of consecutive full windows overlapping by k - 1
 * characters spells out r itself, so a match is a real occurrence of each
 * run; runs are ANDed (FTS5 cannot express "adjacent across a separator"), so
 * a query with several runs may also match documents where they are apart.
 * Cost: one token per character, about what the text itself weighs; one- and
 * two-character queries (张, 华为) are single index lookups, the common case.
 * Phone numbers are searched as a single digits-only run, so the indexer must
 * put dg_text_phone_digits of phone fields into the indexed text.
 */
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "alloc.h"
#include "dg.h"
#include "utf8.h"

/* utf8proc_NFKC_Casefold has these flags too, but wants a NUL-terminated
 * string and allocates with plain malloc, so OOM would look like bad input. */
#define FOLD_FLAGS                                                                                 \
    (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STABLE | UTF8PROC_IGNORE)

enum cls {
    CLS_SEP = 0,  /* separates runs */
    CLS_MARK = 1, /* combining mark: belongs to the character before it */
    CLS_CJK = 2,
    CLS_WORD = 3,
};

/* A maximal sequence of characters of one class, in bytes of the input. */
struct run {
    size_t start;
    size_t end;
    size_t n_chars;
    enum cls cls;
};

/* ---------------------------------------------------------------- code points */

/* Decodes the code point at s[pos..len). Returns its length in bytes, or 0
 * when the bytes there are not valid UTF-8 or are a NUL (the caller skips one
 * byte and treats it as a separator). */
static size_t decode_at(const char *s, size_t len, size_t pos, int32_t *cp)
{
    size_t avail = DG_MIN(len - pos, (size_t)4);
    utf8proc_int32_t c;
    utf8proc_ssize_t n =
        utf8proc_iterate((const utf8proc_uint8_t *)s + pos, (utf8proc_ssize_t)avail, &c);

    /* utf8proc_iterate accepts U+0000, which dg_utf8_valid (the server's one
     * definition of valid text) rejects: a NUL would truncate C strings. */
    if (n <= 0 || !dg_utf8_valid(s + pos, (size_t)n))
        return 0;
    *cp = c;
    return (size_t)n;
}

static bool is_cjk_block(int32_t cp)
{
    return (cp >= 0x3000 && cp <= 0x303f) || /* CJK symbols: 々 〆 〇 and Hangzhou numerals */
           (cp >= 0x3040 && cp <= 0x30ff) || /* Hiragana, Katakana */
           (cp >= 0x31f0 && cp <= 0x31ff) || /* Katakana phonetic extensions */
           (cp >= 0x3400 && cp <= 0x4dbf) || /* Han extension A */
           (cp >= 0x4e00 && cp <= 0x9fff) || /* Han unified ideographs */
           (cp >= 0xac00 && cp <= 0xd7af) || /* Hangul syllables */
           (cp >= 0xf900 && cp <= 0xfaff) || /* Han compatibility ideographs */
           (cp >= 0x20000 && cp <= 0x3ffff); /* planes 2 and 3: Han extensions B-H */
}

/* The class of one folded code point. Only letters and numbers start or
 * extend runs: the punctuation inside the kana and CJK-symbol blocks (・ 「)
 * separates like any other. */
static enum cls classify(int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return is_cjk_block(cp) ? CLS_CJK : CLS_WORD;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return CLS_MARK;
    default:
        return CLS_SEP;
    }
}

/* ---------------------------------------------------------------- folding */

char *dg_text_fold(const char *s, size_t len, size_t *out_len)
{
    const utf8proc_uint8_t *in = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t *buf;
    utf8proc_ssize_t n_cp, n;

    if (out_len)
        *out_len = 0;
    /* Objects larger than PTRDIFF_MAX cannot exist; utf8proc takes ssize_t. */
    dg_assert(len <= PTRDIFF_MAX / 32);
    if (!dg_utf8_valid(s, len))
        return NULL;
    n_cp = utf8proc_decompose(in, (utf8proc_ssize_t)len, NULL, 0, FOLD_FLAGS);
    if (n_cp < 0)
        return NULL;
    /* Room for the code points, which utf8proc_reencode turns into UTF-8 in
     * place (never longer than 4 bytes each), plus the NUL it appends. */
    buf = dg_xmalloc((size_t)n_cp * sizeof *buf + 1);
    n = utf8proc_decompose(in, (utf8proc_ssize_t)len, buf, n_cp, FOLD_FLAGS);
    dg_assert(n == n_cp);
    n = utf8proc_reencode(buf, n_cp, FOLD_FLAGS);
    dg_assert(n >= 0);
    if (out_len)
        *out_len = (size_t)n;
    return dg_xrealloc(buf, (size_t)n + 1);
}

/* ---------------------------------------------------------------- phone numbers */

/* The ASCII character a code point stands for in a phone number: ASCII
 * itself, full-width digits and "+()", ideographic space and tab as a space;
 * 0 for everything else. */
static char phone_char(int32_t cp)
{
    if (cp >= 0xff10 && cp <= 0xff19)
        return (char)('0' + (cp - 0xff10));
    switch (cp) {
    case 0xff0b:
        return '+';
    case 0xff08:
        return '(';
    case 0xff09:
        return ')';
    case 0x3000:
    case '\t':
        return ' ';
    default:
        return cp > 0 && cp < 0x80 ? (char)cp : 0;
    }
}

/* Byte offset just past `lit` if s[pos..len) starts with it (in phone_char
 * terms), else 0. */
static size_t match_phone_prefix(const char *s, size_t len, size_t pos, const char *lit)
{
    for (; *lit; lit++) {
        int32_t cp;
        size_t n = pos < len ? decode_at(s, len, pos, &cp) : 0;

        if (n == 0 || phone_char(cp) != *lit)
            return 0;
        pos += n;
    }
    return pos;
}

size_t dg_text_phone_digits(const char *s, char *out, size_t cap)
{
    static const char *const country_codes[] = {"(+86)", "+86", "0086"};
    size_t len = strlen(s), pos = 0, n_out = 0;
    int32_t cp;
    size_t n;

    dg_assert(cap >= 1);
    while (pos < len && (n = decode_at(s, len, pos, &cp)) > 0 && phone_char(cp) == ' ')
        pos += n;
    for (size_t i = 0; i < DG_ARRAY_LEN(country_codes); i++) {
        size_t after = match_phone_prefix(s, len, pos, country_codes[i]);

        if (after > 0) {
            pos = after;
            break;
        }
    }
    while (pos < len && n_out + 1 < cap) {
        char c;

        n = decode_at(s, len, pos, &cp);
        if (n == 0) {
            pos++;
            continue;
        }
        c = phone_char(cp);
        if (c >= '0' && c <= '9')
            out[n_out++] = c;
        pos += n;
    }
    out[n_out] = '\0';
    return n_out;
}

/* ---------------------------------------------------------------- tokenizer */

/* Byte offset just past the character starting at `pos` inside a run ending
 * at `end`: its base code point and the combining marks after it. */
static size_t char_end(const char *s, size_t end, size_t pos)
{
    int32_t cp;
    size_t n = decode_at(s, end, pos, &cp);

    dg_assert(n > 0); /* next_run only puts valid code points into a run */
    pos += n;
    while (pos < end) {
        n = decode_at(s, end, pos, &cp);
        dg_assert(n > 0);
        if (classify(cp) != CLS_MARK)
            break;
        pos += n;
    }
    return pos;
}

/* Finds the next run at or after *pos and moves *pos past it. Returns false
 * when the rest of s[0..len) holds no run. Marks with no character before
 * them in the run (at its start) separate, like punctuation. */
static bool next_run(const char *s, size_t len, size_t *pos, struct run *r)
{
    size_t p = *pos;
    enum cls c = CLS_SEP;
    int32_t cp;

    while (p < len) {
        size_t n = decode_at(s, len, p, &cp);

        if (n > 0 && (c = classify(cp)) >= CLS_CJK)
            break;
        p += n > 0 ? n : 1;
    }
    *pos = p;
    if (p >= len)
        return false;
    r->start = p;
    r->cls = c;
    r->n_chars = 0;
    while (p < len) {
        size_t n = decode_at(s, len, p, &cp);
        enum cls cc = n > 0 ? classify(cp) : CLS_SEP;

        if (cc == CLS_MARK) {
            p += n;
            continue;
        }
        if (cc != r->cls)
            break;
        p += n;
        r->n_chars++;
    }
    r->end = p;
    *pos = p;
    return true;
}

static size_t run_window(const struct run *r)
{
    return r->cls == CLS_CJK ? DG_TEXT_K_CJK : DG_TEXT_K_WORD;
}

/* Document mode: one window per character, the last ones cut at the run end. */
static int emit_document_run(const char *s, const struct run *r, dg_tok_emit emit, void *ud)
{
    size_t a = r->start, b = r->start;

    for (size_t i = 0; i < run_window(r) && b < r->end; i++)
        b = char_end(s, r->end, b);
    while (a < r->end) {
        int rc = emit(ud, s + a, b - a, a, b);

        if (rc != 0)
            return rc;
        a = char_end(s, r->end, a);
        if (b < r->end)
            b = char_end(s, r->end, b);
    }
    return DG_OK;
}

/* Query mode: the full windows only, or the whole run when shorter. */
static int emit_query_run(const char *s, const struct run *r, dg_tok_emit emit, void *ud)
{
    size_t a = r->start, b = r->start;

    if (r->n_chars < run_window(r))
        return emit(ud, s + r->start, r->end - r->start, r->start, r->end);
    for (size_t i = 0; i < run_window(r); i++)
        b = char_end(s, r->end, b);
    for (;;) {
        int rc = emit(ud, s + a, b - a, a, b);

        if (rc != 0 || b == r->end)
            return rc;
        a = char_end(s, r->end, a);
        b = char_end(s, r->end, b);
    }
}

int dg_tok_document(const char *folded, size_t len, dg_tok_emit emit, void *ud)
{
    size_t pos = 0;
    struct run r;

    while (next_run(folded, len, &pos, &r)) {
        int rc = emit_document_run(folded, &r, emit, ud);

        if (rc != 0)
            return rc;
    }
    return DG_OK;
}

int dg_tok_query(const char *folded, size_t len, dg_tok_emit emit, void *ud)
{
    size_t pos = 0;
    struct run r;

    while (next_run(folded, len, &pos, &r)) {
        int rc = emit_query_run(folded, &r, emit, ud);

        if (rc != 0)
            return rc;
    }
    return DG_OK;
}

/* ---------------------------------------------------------------- search expressions */

/* Bounded output for dg_text_search_expr: once something does not fit,
 * is_full stays set and nothing more is written. */
struct expr_out {
    char *p;
    size_t cap;
    size_t len;
    bool is_full;
};

static void expr_put(struct expr_out *o, const char *s, size_t n)
{
    if (o->is_full || n >= o->cap - o->len) { /* keep a byte for the NUL */
        o->is_full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* One FTS5 string term: "text" with any '"' doubled, then '*' for a prefix
 * query. Runs never contain '"' (it is punctuation); quoting is defence in
 * depth because this string goes straight into MATCH. */
static void expr_term(struct expr_out *o, const char *text, size_t len, bool is_prefix)
{
    if (o->len > 0)
        expr_put(o, " AND ", 5);
    expr_put(o, "\"", 1);
    while (len > 0) {
        const char *q = memchr(text, '"', len);
        size_t n = q ? (size_t)(q - text) + 1 : len;

        expr_put(o, text, n);
        if (q)
            expr_put(o, "\"", 1);
        text += n;
        len -= n;
    }
    expr_put(o, "\"", 1);
    if (is_prefix)
        expr_put(o, "*", 1);
}

/* Digits, spaces and "+-()." only, with at least 5 digits. */
static bool looks_like_phone(const char *folded)
{
    size_t n_digits = 0;

    for (const char *p = folded; *p; p++) {
        if (*p >= '0' && *p <= '9')
            n_digits++;
        else if (!strchr(" +-().", *p))
            return false;
    }
    return n_digits >= 5;
}

static int phone_expr(const char *folded, size_t len, struct expr_out *o)
{
    char *digits = dg_xmalloc(len + 1);
    size_t n = dg_text_phone_digits(folded, digits, len + 1);

    /* 5 digits minus at most 4 of "0086" leave at least one. */
    dg_assert(n > 0);
    expr_term(o, digits, n, n < DG_TEXT_K_WORD);
    free(digits);
    return DG_OK;
}

static int runs_expr(const char *folded, size_t len, struct expr_out *o)
{
    size_t pos = 0, n_runs = 0;
    struct run r;

    while (n_runs < DG_TEXT_MAX_QUERY_RUNS && next_run(folded, len, &pos, &r)) {
        expr_term(o, folded + r.start, r.end - r.start, r.n_chars < run_window(&r));
        n_runs++;
    }
    return n_runs > 0 ? DG_OK : DG_EINVAL;
}

int dg_text_search_expr(const char *query, char *out, size_t cap)
{
    struct expr_out o = {out, cap, 0, cap == 0};
    size_t len;
    char *folded = dg_text_fold(query, strlen(query), &len);
    int rc;

    if (cap > 0)
        out[0] = '\0';
    if (!folded)
        return DG_EINVAL;
    rc = looks_like_phone(folded) ? phone_expr(folded, len, &o) : runs_expr(folded, len, &o);
    free(folded);
    if (rc == DG_OK && o.is_full)
        rc = DG_ETOOBIG;
    if (rc != DG_OK && cap > 0)
        out[0] = '\0';
    return rc;
}

int dg_text_yes_no(const char *s, int *out)
{
    static const char *const yes[] = {"yes", "true", "1", "y", "on"};
    static const char *const no[] = {"no", "false", "0", "n", "off"};

    for (size_t i = 0; i < DG_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, DG_OK;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, DG_OK;
    }
    return DG_EINVAL;
}
