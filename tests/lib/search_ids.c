/* search_ids.c - the ids a search finds, for unit tests (search_ids.h). */
#include "search_ids.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "dg.h"
#include "text.h"

void dgt_search_ids(dg_store *st, const char *query, char *out, size_t cap)
{
    dg_list_query all = {.kind = DG_KIND_CUSTOMER};
    dg_arena *a = dg_arena_new(1 << 20);
    dg_search_hit *hits;
    char expr[512];
    size_t n;
    int64_t prev = 0;

    assert_int_equal(dg_text_search_expr(query, expr, sizeof expr), DG_OK);
    assert_int_equal(dg_store_search(st, expr, &all, 10, 1000, a, &hits, &n), DG_OK);
    out[0] = '\0';
    for (size_t k = 0; k < n; k++) { /* selection by id: n is tiny */
        int64_t next = INT64_MAX;

        for (size_t i = 0; i < n; i++)
            if (hits[i].customer->id > prev && hits[i].customer->id < next)
                next = hits[i].customer->id;
        snprintf(out + strlen(out), cap - strlen(out), "%s%lld", k ? "," : "", (long long)next);
        prev = next;
    }
    dg_arena_free(a);
}
