/* text.h - Unicode text folding, phone digits and the search
 * tokenizer (docs/architecture.md, search and duplicates). Pure functions over UTF-8
 * strings: no I/O, no logging, no globals; any thread. text.c explains why
 * the tokenizer finds every substring. */
#ifndef DG_TEXT_H
#define DG_TEXT_H

#include <stddef.h>

/* Characters per token window: CJK runs (Han, kana, Hangul syllables) use
 * bigrams, runs of other letters and digits use trigrams. */
#define DG_TEXT_K_CJK 2
#define DG_TEXT_K_WORD 3

/* Most runs dg_text_search_expr turns into terms; the rest of the query is ignored. */
#define DG_TEXT_MAX_QUERY_RUNS 16

/* NFKC + full case folding + removal of default-ignorable code points (the
 * Unicode NFKC_Casefold mapping, via utf8proc) of s[0..len):
 * "ＡＢＣ１２３" -> "abc123", "Straße" -> "strasse", U+3000 -> " ", CJK unchanged.
 * Returns a new NUL-terminated string (free with free()) and its length in
 * *out_len (out_len may be NULL). Returns NULL if s[0..len) is not valid UTF-8
 * or contains a NUL byte (dg_utf8_valid). Aborts on OOM, like dg_xmalloc. */
char *dg_text_fold(const char *s, size_t len, size_t *out_len);

/* Phone-number digits of `s` for duplicate keys and search: ASCII and
 * full-width digits, in order, everything else dropped; a leading China
 * country code ("+86", "0086" or "(+86)", full-width forms too, after leading
 * spaces) is removed first. "+86 138-1234-5678" -> "13812345678".
 * Writes at most cap - 1 digits and a NUL to `out` (cap >= 1); returns the
 * number of digits written. strlen(s) + 1 bytes are always enough. Bytes that
 * are not valid UTF-8 are skipped. */
size_t dg_text_phone_digits(const char *s, char *out, size_t cap);

/* A yes/no typed by a person: "yes", "true", "1", "y", "on" give 1 and "no",
 * "false", "0", "n", "off" give 0 (any case) in *out: DG_OK; anything else
 * DG_EINVAL. */
int dg_text_yes_no(const char *s, int *out);

/* Called once per token. `tok` points into the tokenizer's input at byte
 * offset `start` (borrowed for the call), tok_len == end - start > 0.
 * Returning non-zero stops tokenizing; the tokenizer returns that value. */
typedef int (*dg_tok_emit)(void *ud, const char *tok, size_t tok_len, size_t start, size_t end);

/* Document-mode tokens of already folded text: for every character of every
 * run, the window of DG_TEXT_K_* characters starting there, cut short at the
 * end of its run ("abcd" -> abc bcd cd d; "华为技术" -> 华为 为技 技术 术).
 * A character is a letter or digit plus the combining marks that follow it;
 * a run is a maximal sequence of characters of one class (CJK or WORD);
 * anything else, including bytes that are not valid UTF-8, separates runs.
 * Returns DG_OK, or the first non-zero value `emit` returned. */
int dg_tok_document(const char *folded, size_t len, dg_tok_emit emit, void *ud);

/* Query-mode tokens of already folded text: per run, its consecutive full
 * windows ("abcd" -> abc bcd), or the whole run when it is shorter than a
 * window ("ab" -> ab). Returns like dg_tok_document. */
int dg_tok_query(const char *folded, size_t len, dg_tok_emit emit, void *ud);

/* FTS5 MATCH expression for what a user typed into a search box: the folded
 * query's runs (at most DG_TEXT_MAX_QUERY_RUNS), each a double-quoted FTS5
 * string, prefix-starred when shorter than a window, joined with " AND ":
 * "Huawei P30" -> "huawei" AND "p30"; "张" -> "张"*. A query that looks like a
 * phone number (only digits, spaces and "+-().", at least 5 digits) becomes
 * one run of its dg_text_phone_digits: "138-1234-5678" -> "13812345678".
 * Writes a NUL-terminated string to out[0..cap). Returns DG_OK; DG_EINVAL if
 * `query` is not valid UTF-8 or has no run (empty, only punctuation); or
 * DG_ETOOBIG if the expression does not fit in `cap` bytes. On error `out`
 * holds "" (when cap > 0). */
int dg_text_search_expr(const char *query, char *out, size_t cap);

#endif
