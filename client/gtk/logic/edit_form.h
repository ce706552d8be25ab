/* edit_form.h - what a form of a record's fields sends: the text in each
 * field on the form compared with the display text of the record the form
 * was based on (dg_form_format), so only the fields the user changed are
 * sent; each changed text read by dg_form_parse, and the result checked by
 * dg_form_check (the server's rules and words). A problem names its field,
 * so the form shows it next to that field.
 *
 * Owns nothing: the record and the problems live in the caller's dg_arena.
 * Pure; any thread.
 */
#ifndef DG_EDIT_FORM_H
#define DG_EDIT_FORM_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "entity.h"
#include "form.h"

typedef struct dg_edit {
    dg_record *rec;   /* base with the typed values in the changed fields */
    uint64_t changed; /* bit i: field i's text differs from the base's */
    int n_problems;   /* parse errors and the server's checks, by field */
    dg_form_problem problems[DG_MAX_FIELDS];
} dg_edit;

/* Reads a form of `base`'s kind: texts[i] is what field i of the kind's
 * table holds on the form, NULL when the field is not on it. A text equal
 * to the base value's display text (ctx) is unchanged. On create
 * (is_create) the record sent gives the base's given fields too (what the
 * form preset: the customer, the channel) and the required fields are
 * checked. On success *out holds the record (rec->given: what to send) and
 * the problems (none: it may be sent). DG_OK; DG_ENOMEM. */
int dg_edit_read(dg_arena *a, const dg_form_ctx *ctx, const dg_record *base, bool is_create,
                 const char *const texts[DG_MAX_FIELDS], dg_edit *out);

/* The problem of the field called `name` in e, or NULL. */
const char *dg_edit_problem(const dg_edit *e, const char *name);

#endif
