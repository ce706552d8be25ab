/* collate.c - ICU zh collation sort keys. */
#include "collate.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ucol.h>
#include <unicode/ustring.h>
#include <unicode/uversion.h>

#include "dg.h"

#define MAX_UNITS 1024 /* names are at most 200 characters */

struct dg_collator {
    UCollator *ucol;
};

int dg_collator_new(dg_collator **out)
{
    UErrorCode e = U_ZERO_ERROR;
    dg_collator *c = dg_xcalloc(1, sizeof *c);

    c->ucol = ucol_open("zh", &e);
    if (U_FAILURE(e) || !c->ucol) {
        free(c);
        *out = NULL;
        return DG_EIO;
    }
    *out = c;
    return DG_OK;
}

void dg_collator_free(dg_collator *c)
{
    if (!c)
        return;
    ucol_close(c->ucol);
    free(c);
}

int dg_collate_key(dg_collator *c, const char *text, dg_arena *a, uint8_t **key, size_t *len)
{
    UChar units[MAX_UNITS];
    int32_t n_units = 0, n;
    UErrorCode e = U_ZERO_ERROR;
    uint8_t stack[512];

    u_strFromUTF8(units, MAX_UNITS, &n_units, text, -1, &e);
    if (e == U_BUFFER_OVERFLOW_ERROR) {
        n_units = MAX_UNITS; /* sort on the first 1024 units: enough to order any name */
        e = U_ZERO_ERROR;
        u_strFromUTF8(units, MAX_UNITS, NULL, text, (int32_t)strnlen(text, MAX_UNITS), &e);
    }
    if (U_FAILURE(e) && e != U_STRING_NOT_TERMINATED_WARNING)
        return DG_EINVAL;
    n = ucol_getSortKey(c->ucol, units, n_units, stack, sizeof stack);
    if (!(*key = dg_arena_alloc(a, (size_t)n)))
        return DG_ENOMEM;
    if (n <= (int32_t)sizeof stack)
        memcpy(*key, stack, (size_t)n);
    else
        ucol_getSortKey(c->ucol, units, n_units, *key, n);
    *len = (size_t)n - 1; /* without the terminating 0 byte */
    return DG_OK;
}

const char *dg_collate_version(void)
{
    return U_ICU_VERSION;
}
