/* fuzz_text.c - libFuzzer target for text.c: everything a peer's string goes
 * through on its way into the search index or a duplicate check.
 *
 * The input is folded, then tokenized in both modes, both as folded text and
 * as raw bytes (the tokenizer must survive whatever SQLite hands FTS5). Every
 * token must be non-empty valid UTF-8 inside the input at [start,end), tokens
 * advance through the input, document mode must cover each query token's
 * start, and folding must be idempotent (queries are folded once by us and
 * again by the index). Search expressions, phone digits and duplicate keys run
 * on a NUL-terminated copy. Any crash, leak, UB or failed dg_assert is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "dupkey.h"
#include "text.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct toks {
    const char *base;
    size_t len;
    size_t *start; /* one slot per input byte: never more tokens than bytes */
    size_t *end;
    size_t n;
};

static int check_cb(void *ud, const char *tok, size_t tok_len, size_t start, size_t end)
{
    struct toks *t = ud;

    dg_assert(tok_len > 0 && start < end && end <= t->len);
    dg_assert(tok == t->base + start && tok_len == end - start);
    dg_assert(dg_utf8_valid(tok, tok_len));
    /* Each run's tokens start at successive characters and runs come in order. */
    dg_assert(t->n == 0 || start > t->start[t->n - 1]);
    dg_assert(t->n < t->len);
    t->start[t->n] = start;
    t->end[t->n] = end;
    t->n++;
    return 0;
}

static void toks_init(struct toks *t, const char *base, size_t len)
{
    t->base = base;
    t->len = len;
    t->start = dg_xmalloc((len + 1) * sizeof *t->start);
    t->end = dg_xmalloc((len + 1) * sizeof *t->end);
    t->n = 0;
}

static void toks_fini(struct toks *t)
{
    free(t->start);
    free(t->end);
}

/* Both modes over s[0..len); a query token's start is also a document token's
 * start, and the query token is a prefix of that document token. */
static void check_tokenizers(const char *s, size_t len)
{
    struct toks doc, q;
    size_t d = 0;

    toks_init(&doc, s, len);
    toks_init(&q, s, len);
    dg_assert(dg_tok_document(s, len, check_cb, &doc) == DG_OK);
    dg_assert(dg_tok_query(s, len, check_cb, &q) == DG_OK);
    dg_assert(q.n <= doc.n);
    for (size_t i = 0; i < q.n; i++) {
        while (d < doc.n && doc.start[d] < q.start[i])
            d++;
        dg_assert(d < doc.n && doc.start[d] == q.start[i] && q.end[i] <= doc.end[d]);
    }
    toks_fini(&doc);
    toks_fini(&q);
}

/* `z` may be anything NUL-terminated (the part before an embedded NUL). */
static void check_search_expr(const char *z)
{
    size_t folded_len;
    char *folded = dg_text_fold(z, strlen(z), &folded_len);
    /* Worst case: every byte of the folded query doubled by quoting, plus
     * `" AND "`* around each run. */
    size_t cap = 2 * (folded ? folded_len : 0) + DG_TEXT_MAX_QUERY_RUNS * 10 + 1;
    char *out = dg_xmalloc(cap);
    char small[16];
    int rc = dg_text_search_expr(z, out, cap);

    free(folded);

    dg_assert(rc == DG_OK || rc == DG_EINVAL);
    dg_assert(rc != DG_OK || (out[0] == '"' && dg_utf8_valid(out, strlen(out))));
    dg_assert(rc == DG_OK || out[0] == '\0');
    for (size_t small_cap = 0; small_cap <= sizeof small; small_cap += 5) {
        int rc_small = dg_text_search_expr(z, small, small_cap);

        dg_assert(rc_small == DG_OK || rc_small == DG_EINVAL || rc_small == DG_ETOOBIG);
        dg_assert(rc_small != DG_OK || strcmp(small, out) == 0);
        dg_assert(rc != DG_EINVAL || rc_small == DG_EINVAL || small_cap == 0);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t f_len, phone_len;
    char *folded = dg_text_fold(in, size, &f_len);
    char *z = dg_xmalloc(size + 1);
    char *digits = dg_xmalloc(size + 1);
    char *key;

    check_tokenizers(in, size);
    dg_assert((folded != NULL) == dg_utf8_valid(in, size));
    if (folded) {
        size_t f2_len;
        char *folded2 = dg_text_fold(folded, f_len, &f2_len);

        dg_assert(strlen(folded) == f_len && dg_utf8_valid(folded, f_len));
        dg_assert(folded2 && f2_len == f_len && memcmp(folded, folded2, f_len) == 0);
        free(folded2);
        check_tokenizers(folded, f_len);
    }

    memcpy(z, in, size);
    z[size] = '\0';
    phone_len = dg_text_phone_digits(z, digits, size + 1);
    dg_assert(phone_len == strlen(digits) && phone_len <= size);
    dg_assert(strspn(digits, "0123456789") == phone_len);

    key = dg_dupkey_name(z);
    if (key) {
        dg_assert(dg_utf8_valid(key, strlen(key)));
        free(key);
    }
    key = dg_dupkey_stem(z);
    if (key) {
        dg_assert(dg_utf8_valid(key, strlen(key)));
        free(key);
    }
    key = dg_dupkey_email(z);
    if (key) {
        dg_assert(dg_utf8_valid(key, strlen(key)));
        free(key);
    }
    phone_len = dg_dupkey_phone(z, digits, size + 1);
    dg_assert(phone_len == strlen(digits) && strspn(digits, "0123456789") == phone_len);
    check_search_expr(z);
    free(digits);
    free(z);
    free(folded);
    return 0;
}
