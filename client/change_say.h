/* change_say.h - a change event as a sentence for people, shared by
 * `dangan watch` and dangan-gtk's Activity page:
 *
 *   王伟 changed 深圳华信科技 (C-000844): tier b → a
 *   王伟 added a call to 深圳华信科技 (C-000844): 回访报价
 *   李娜 archived deal #12 of 深圳华信科技 (C-000844)
 *
 * Everything comes from the event itself (ChangeEvent's actor_name,
 * customer_name, customer_code and values): no request per line. How a
 * kind is named and how a value is shown (instants in a zone, amounts with
 * their currency) is the caller's, through dg_say_fmt.
 * Threads: any (nothing shared).
 */
#ifndef DG_CHANGE_SAY_H
#define DG_CHANGE_SAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dangan.pb-c.h"

typedef struct dg_say_fmt {
    /* "customer", "note", "deal" ... for people; NULL: "record" */
    const char *(*kind_name)(Dangan__V1__EntityKind kind);
    /* `text` (a ChangedValue's old or new value, not "") shown for people,
     * into buf if it needs one; returns what to print. */
    const char *(*value)(void *ud, Dangan__V1__EntityKind kind, const char *field, const char *text,
                         bool is_masked, char *buf, size_t len);
    void *ud;
} dg_say_fmt;

/* The actor: actor_name, else the user name, else "the server". */
const char *dg_say_actor(const Dangan__V1__ChangeEvent *ch);
/* "王伟 changed 深圳华信科技 (C-000844): tier b → a" (no time, no newline) to `out`. */
void dg_say_change(FILE *out, const Dangan__V1__ChangeEvent *ch, const dg_say_fmt *fmt);

#endif
