/* store_today.h - the rows of the day's contact list (客户联络一览表): one
 * user's tasks due and overdue, customers due for a call or a visit by their
 * tier's cadence, open follow-ups, contracts expiring, customers turning
 * dormant (docs/customer-file.md, "The day's list"). The caller turns the
 * team's day into the instants and dates below (common/tz.h); this module
 * knows no time zone. Any connection (a reader for the Today request).
 */
#ifndef DG_STORE_TODAY_H
#define DG_STORE_TODAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "store.h"

enum dg_today_section {
    DG_TODAY_OVERDUE_TASKS = 0,
    DG_TODAY_TASKS_TODAY,
    DG_TODAY_CALLS_DUE,
    DG_TODAY_VISITS_DUE,
    DG_TODAY_FOLLOW_UPS,
    DG_TODAY_CONTRACTS,
    DG_TODAY_TURNING_DORMANT,
    DG_TODAY_N
};

/* "overdue_tasks", ... as in the protocol. */
const char *dg_today_section_name(enum dg_today_section s);

typedef struct dg_today_query {
    int64_t user_id; /* whose list: tasks assigned to, customers owned by */
    /* visibility (perm.c): customers of these tiers are left out unless
     * owned by viewer_id; no restricted tiers: everything */
    const char *restricted[3]; /* stored tier names */
    size_t n_restricted;
    int64_t viewer_id;
    uint32_t limit; /* items per section */
    /* the team's day as instants (UTC ms) and dates (YYYY-MM-DD) */
    int64_t today_start, tomorrow_start;
    int64_t call_before[4],
        visit_before[4];              /* by Tier (1-3): due when last < this; 0: no cadence */
    const char *today;                /* follow-ups dated on or before it */
    const char *contract_until;       /* contracts expiring on or before it */
    int64_t dormant_from, dormant_to; /* last contact in [from, to): turning dormant */
} dg_today_query;

typedef struct dg_today_item {
    int64_t customer_id, owner_id, created_at;
    const char *code, *name;
    int tier; /* Tier: 1 A, 2 B, 3 C, 0 none */
    const uint8_t *name_key;
    size_t name_key_len;
    int64_t task_id, due_at_ms;
    const char *title;
    int64_t last_call_at, last_visit_at, last_contact_at;
    int64_t interaction_id;
    const char *follow_up_on, *summary;
    int64_t document_id;
    const char *expires_on;
} dg_today_item;

/* Counts stop here: a range of more items is counted as this many (and
 * *more is set), so that counting costs no more than this many rows. */
#define DG_TODAY_COUNT_MAX 10000

/* One section of q's list: the first q->limit items in the order of its
 * index (oldest first; calls and visits: per tier, up to q->limit each), all
 * in `a`, in *total how many there are (each range counted up to
 * DG_TODAY_COUNT_MAX), and in *more whether a range had more than that.
 * DG_OK, DG_ENOMEM or a store error. */
int dg_store_today_section(dg_store *st, const dg_today_query *q, enum dg_today_section s,
                           dg_arena *a, dg_today_item **items, size_t *n, uint32_t *total,
                           bool *more);

/* The users with a list of their own: enabled sales, managers and admins,
 * by user name. Ids into `a`. DG_OK, DG_ENOMEM or a store error. */
int dg_store_today_users(dg_store *st, dg_arena *a, int64_t **ids, size_t *n);

#endif
