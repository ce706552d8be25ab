/* reminders.h - reminders and notices addressed to one user: what comes
 * due (tasks, notes' follow-up dates, contracts), written into the change
 * feed in the writer's transaction together with the mark that they were
 * sent, so that none is lost or doubled across a restart.
 *
 * Runs on: the writer thread (inside a write job's run).
 */
#ifndef DG_REMINDERS_H
#define DG_REMINDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "team.h"
#include "writer.h"

/* The "reminders_through" meta value: every reminder due up to it is
 * written. */
#define DG_REMIND_META_THROUGH "reminders_through"

/* Addresses a notice about customer `customer_id` to user `recipient_id`,
 * inside the caller's write transaction (it lands or rolls back with the
 * caller's change): one change-feed event of body Reminder that only that
 * user's subscriptions get. `kind` is a dangan.v1.ReminderKind (such as
 * REMINDER_KIND_POOL_RETURNED: the customer went back to the pool, to its
 * former owner), `text` what to tell (copied), `at_ms` when it happened,
 * `time_zone` the team's (dg_team.time_zone). DG_OK, DG_EINVAL (no
 * recipient, an unknown kind), DG_ENOTFOUND (no such customer), or a store
 * error. */
int dg_remind_notice(dg_wtx *tx, int64_t recipient_id, int kind, int64_t customer_id, int64_t at_ms,
                     const char *text, const char *time_zone);

/* One pass of the reminders: in. */
typedef struct dg_remind_pass {
    dg_team team;        /* a copy: lead times, the follow-up minute, the zone */
    uint32_t restricted; /* the restricted tiers (perm.h) */
    int64_t now;         /* unix ms */
    /* out */
    int n_sent;    /* reminders written */
    int n_skipped; /* due, but their recipient is gone or may not see the customer */
    int64_t next;  /* when the next one comes due (unix ms): run again then */
} dg_remind_pass;

/* Writes every reminder due by p->now that was not written yet (from the
 * "reminders_through" mark on, so those that came due while the server was
 * down too), marks them sent, moves the mark to p->now and sets p->next.
 * Inside the write job's transaction. DG_OK or a store error. */
int dg_remind_run(dg_wtx *tx, dg_remind_pass *p);

#endif
