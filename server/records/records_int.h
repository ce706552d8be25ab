/* records_int.h - private to records.c, records_derive.c and
 * records_upkeep.c: what they share of a record's fields and derived data.
 * Writer thread.
 */
#ifndef DG_RECORDS_INT_H
#define DG_RECORDS_INT_H

#include <stdbool.h>

#include "records.h"

/* Index of field `name` of kind k (a name of entity.c: asserted). */
int rec_field_ix(enum dg_kind k, const char *name);
/* A field's text and integer value by name. */
const char *rec_fstr(const dg_record *r, const char *name);
int64_t rec_fint(const dg_record *r, const char *name);
/* A customer's derived columns: the name's sort key and the duplicate keys,
 * in c->arena. DG_OK or DG_ENOMEM. */
int rec_customer_keys(dg_rec_ctx *c, const dg_record *r, dg_customer_keys *k);
/* The duplicate keys alone (dup_*), from a customer's name, phone and
 * e-mail, in `a`. DG_OK or DG_ENOMEM. */
int rec_dup_keys(dg_arena *a, const char *name, const char *phone, const char *email,
                 dg_customer_keys *k);
/* Who may see the dossier of `customer`: its owner and tier. */
dg_visibility rec_visibility(const dg_record *customer);
/* The search document of `r` in `a` (false: its kind has none, or `a` is
 * out of budget). */
bool rec_search_doc(dg_arena *a, const dg_record *r, dg_search_doc *out);
/* Replaces `old`'s search document by r's (old NULL: a new record). */
int rec_update_search(dg_rec_ctx *c, const dg_record *old, const dg_record *r);
/* Whether changing `field` of kind k changes its search document. */
bool rec_search_relevant(enum dg_kind k, const char *field);
/* The pipeline's rules (records.h) for deal `next`, created (cur NULL) or
 * updated from `cur` with update mask `mask`. Derived items it changes
 * (probability, at_ms) are appended to changed[*n_changed] (room for 2
 * more). DG_OK, DG_ENOMEM, or DG_EINVAL with m->field/why/reason. Other kinds: DG_OK. */
int rec_deal_pipeline(dg_rec_ctx *c, dg_record *next, const dg_record *cur,
                      const char *const *mask, size_t n_mask, const char **changed,
                      size_t *n_changed, dg_mutation *m);

/* The values change row items `names` keep (records_values.c): before and
 * after an update (`before` non-NULL: *olds and *news per item), or a new
 * record's headline fields (`before` NULL: *olds NULL, *news set for its
 * kind's headline items only), as text in `a`; entries past
 * DG_CHANGE_VALUES_MAX items are NULL. DG_OK or DG_ENOMEM. */
int rec_change_values(dg_arena *a, const dg_record *before, const dg_record *after,
                      const char *const *names, size_t n, const char ***olds, const char ***news);
/* Fills what a new record gets when not given (code, owner, status...). */
void rec_set_defaults(dg_rec_ctx *c, dg_record *r);

#endif
