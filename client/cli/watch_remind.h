/* watch_remind.h - `dangan watch`: a reminder (Event body Reminder) as a
 * line for people, in the team's time zone, or as a JSON object. */
#ifndef DG_CLI_WATCH_REMIND_H
#define DG_CLI_WATCH_REMIND_H

#include "cli.h"

/* Prints reminder event `ev` on stdout: JSON when c->is_json. */
void cli_watch_print_reminder(cli *c, const Dangan__V1__Event *ev);

#endif
