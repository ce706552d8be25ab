/* search_ids.h - what unit tests of the search index compare: the ids of
 * the customers a search finds, on a store they opened themselves. Needs
 * dgserver (server/store); compiled into those tests (tests/tests.cmake). */
#ifndef DGT_SEARCH_IDS_H
#define DGT_SEARCH_IDS_H

#include <stddef.h>

#include "store.h"

/* The ids of the customers found for `query` (at most 10), ascending, as
 * "1,3" in `out`. Fails the test on any store error. */
void dgt_search_ids(dg_store *st, const char *query, char *out, size_t cap);

#endif
