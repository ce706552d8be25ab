/* remind.h - when reminders are written (remind.c): a timer on the loop
 * armed for the next one due, and the write job that writes those due
 * (reminders.h). Loop thread.
 */
#ifndef DG_REMIND_H
#define DG_REMIND_H

#include "server.h"
#include "writer.h"

typedef struct dg_remind dg_remind;

/* Starts the reminders: a pass at once writes whatever came due while the
 * server was down, then the timer is armed for the next. */
dg_remind *dg_remind_new(dg_server *srv);
/* The sweep's check: a pass when the next reminder's time has come by the
 * clock (dg_now_ms), which the timer alone would miss when the clock jumps
 * (a driven clock, a suspended machine). */
void dg_remind_sweep(dg_remind *r);
/* A commit wrote these changes (NULL: some it did not keep): a pass when
 * they may change what comes due (tasks, notes, documents). */
void dg_remind_committed(dg_remind *r, const dg_committed *c);
/* No more passes (shutdown); one in flight still completes. */
void dg_remind_stop(dg_remind *r);
/* After every job has completed. Accepts NULL. */
void dg_remind_free(dg_remind *r);

#endif
