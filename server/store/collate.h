/* collate.h - sort keys for Chinese names in pinyin order (ICU's "zh"
 * collation), so lists sorted by name page with a plain index on a BLOB:
 * memcmp order of the keys is the collation order. A collator belongs to one
 * thread (ICU collators are not shared between threads here). Keys change
 * when ICU's collation data changes; dangand records the ICU version and
 * recomputes stored keys when it differs (store meta "icu_version").
 */
#ifndef DG_COLLATE_H
#define DG_COLLATE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

typedef struct dg_collator dg_collator;

/* A new zh collator; DG_OK or DG_EIO when ICU has no data for it. */
int dg_collator_new(dg_collator **out);
void dg_collator_free(dg_collator *c);
/* The sort key of UTF-8 `text` in arena `a` (*key, *len). DG_OK, DG_ENOMEM,
 * DG_EINVAL (not UTF-8). */
int dg_collate_key(dg_collator *c, const char *text, dg_arena *a, uint8_t **key, size_t *len);
/* "72.1": stored keys are valid only for the version that made them. */
const char *dg_collate_version(void);

#endif
