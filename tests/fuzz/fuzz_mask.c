/* fuzz_mask.c - libFuzzer target for what perm.c does to a value a user may
 * not see (dg_perm_mask_text), and for the audit head text people paste into
 * `audit verify --head` (dg_audit_head_parse).
 *
 * The first input byte picks the field type, the rest is the value (made
 * valid UTF-8 first, as every stored value is). A mask must be valid UTF-8,
 * fit its buffer, keep at most seven digits of a phone-like value (three in
 * front, four at the end) and at most two characters of other text, and
 * show nothing of a date. A head that parses must format back to text that
 * parses to the same seq and hash. Any crash, UB or failed dg_assert is a
 * bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "hex.h"
#include "perm.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_digits(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s >= '0' && *s <= '9';
    return n;
}

static size_t count_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Characters of `out` that are not the mask's '*' (nor the date mask). */
static size_t kept_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80 && *s != '*';
    return n;
}

static void check_mask(const char *value, enum dg_ftype type)
{
    char out[512];

    dg_perm_mask_text(value, type, out, sizeof out);
    dg_assert(strlen(out) < sizeof out);
    dg_assert(dg_utf8_valid(out, strlen(out)));
    if (!value[0]) {
        dg_assert(out[0] == '\0');
    } else if (type == DG_F_DATE) {
        dg_assert(strcmp(out, "****-**-**") == 0);
    } else if (count_digits(value) >= 7 && strspn(value, "0123456789 +-()./") == strlen(value)) {
        dg_assert(count_digits(out) <= 7); /* 138****5678 */
    } else {
        dg_assert(kept_chars(out) <= 2);
        dg_assert(count_chars(out) <= count_chars(value));
    }
}

static void check_head(const char *text)
{
    uint8_t hash[32], again[32];
    char formatted[DG_AUDIT_HEAD_TEXT_LEN];
    int64_t seq, seq2;

    if (dg_audit_head_parse(text, &seq, hash) != DG_OK)
        return;
    dg_assert(seq >= 0);
    dg_audit_head_format(seq, hash, formatted);
    dg_assert(dg_audit_head_parse(formatted, &seq2, again) == DG_OK);
    dg_assert(seq2 == seq && memcmp(hash, again, 32) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum dg_ftype types[] = {DG_F_TEXT, DG_F_DATE, DG_F_TEXT, DG_F_INT};
    char *text;
    size_t n = 0;

    if (size == 0)
        return 0;
    text = dg_xmalloc(size + 1);
    /* keep only a valid UTF-8 prefix without NULs: stored values are such */
    for (size_t i = 1; i < size && data[i]; i++)
        text[n++] = (char)data[i];
    text[n] = '\0';
    while (n > 0 && !dg_utf8_valid(text, n))
        text[--n] = '\0';
    check_mask(text, types[data[0] % DG_ARRAY_LEN(types)]);
    check_head(text);
    free(text);
    return 0;
}
