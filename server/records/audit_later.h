/* audit_later.h - audit records that could not be written when they
 * happened, kept until they can be.
 *
 * A sign-in must work when the disk is full or the writer turned read-only
 * after a storage error (an administrator has to get in to deal with it),
 * yet no sign-in may go unrecorded. So a record whose write failed for
 * those reasons is logged at once in full (warn, module "audit": the log
 * is its record while it waits), kept in memory in order, and appended to
 * the audit log, with its original time, by the first write that succeeds
 * again (the sweep tries once a second). The backlog is bounded: when it is
 * full, what needed the record is refused. A record still waiting at
 * shutdown stays only in the log, which says so.
 *
 * Any loop thread (a mutex guards the backlog), except the flush job's run
 * (writer thread).
 */
#ifndef DG_AUDIT_LATER_H
#define DG_AUDIT_LATER_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

struct dg_server;
typedef struct dg_audit_later dg_audit_later;

#define DG_AUDIT_LATER_MAX 10000

dg_audit_later *dg_audit_later_new(void);
/* Logs what was never appended. Accepts NULL. Not while a flush is in flight. */
void dg_audit_later_free(dg_audit_later *q);

/* Whether a failed write of an audit record may be deferred: the disk was
 * full (DG_ENOSPC) or the writer is read-only (DG_EREADONLY). */
bool dg_audit_later_may(int rc);
/* Copies `r`, logs it with `why` (the error that kept it out) and keeps it.
 * DG_OK, or DG_EFULL when DG_AUDIT_LATER_MAX records already wait (nothing
 * kept: refuse what needed the record). */
int dg_audit_later_add(dg_audit_later *q, const dg_audit_rec *r, int why);
/* Records waiting. */
size_t dg_audit_later_count(dg_audit_later *q);
/* When records wait, none is being written and the writer takes writes:
 * queues one job that appends them all, in order, in one transaction. */
void dg_audit_later_flush(dg_audit_later *q, struct dg_server *srv);

#endif
