/* form.h - a record's fields as a person reads and types them in the
 * graphical client: text to values by the field's type (the team's time zone
 * and currency by default), the server's own checks (dg_record_validate from
 * common/entity.c, so the same rules and the same messages before sending),
 * and values to display text (money with its currency, times in the team's
 * zone, phones grouped, masked values exactly as the server sent them).
 *
 * Owns nothing; parsed strings and problems live in the caller's dg_arena.
 * Pure; any thread (times go through ICU, common/tz.h).
 */
#ifndef DG_FORM_H
#define DG_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "entity.h"

/* What the team's settings give the forms (borrowed strings). */
typedef struct dg_form_ctx {
    const char *zone;     /* TeamSettings.time_zone ("Asia/Shanghai"); NULL or "": UTC */
    const char *currency; /* TeamSettings.currency ("CNY"); NULL or "": CNY */
    /* A user's display name for an id, or NULL when unknown (then "#id" is shown).
     * May be NULL. */
    const char *(*user_name)(void *ud, int64_t user_id);
    void *ud;
} dg_form_ctx;

/* One problem found in a form, as the server would answer it as a field violation. */
typedef struct dg_form_problem {
    const char *field;   /* "phone", "tags"; in the arena */
    const char *problem; /* "not a phone number (...)"; in the arena */
} dg_form_problem;

/* Text typed into field f to its value in *v (strings copied into a). Empty
 * text is the empty value. TEXT and DATE are kept as typed (the check
 * judges them); INT, USER and REF are decimal numbers; BOOL yes/no, true/
 * false, 1/0; ENUM a value's short name ("a", "active") in any case; TIME
 * "YYYY-MM-DD HH:MM" or "YYYY-MM-DD" in the team's zone; MONEY as
 * dg_money_parse reads it, the team's currency when none is named.
 * DG_OK; DG_EINVAL with why[] saying what was expected; DG_ENOMEM. */
int dg_form_parse(dg_arena *a, const dg_form_ctx *ctx, const dg_field *f, const char *text,
                  dg_value *v, char *why, size_t why_len);

/* The server's checks of record r (its given fields; on create also the
 * required ones): dg_record_validate. Up to `cap` problems into out (copied
 * into a). Returns the number of problems (may exceed cap), or -1 if the
 * arena ran out. */
int dg_form_check(const dg_record *r, bool is_create, dg_arena *a, dg_form_problem *out, int cap);

/* The display text of value v of field f into buf (always NUL-terminated):
 * "" for the empty value; TEXT as sent (masked values unchanged), phones
 * through dg_form_phone; INT decimal; BOOL "yes"/"no"; ENUM the short name;
 * DATE as sent; TIME "YYYY-MM-DD HH:MM" in the team's zone; MONEY
 * "CNY 12,345.00" (its own currency, else the team's); USER the name from
 * ctx->user_name, else "#id"; REF "#id". Returns buf. */
const char *dg_form_format(const dg_form_ctx *ctx, const dg_field *f, const dg_value *v, char *buf,
                           size_t len);

/* A phone number for display: a mainland mobile written with digits only
 * (11 digits starting with 1, optionally after +86 or 0086) is grouped
 * 3-4-4 ("138 1234 5678", "+86 138 1234 5678"); anything else, masked
 * values ("138****5678") included, is shown as written. Returns buf. */
const char *dg_form_phone(const char *s, char *buf, size_t len);

#endif
