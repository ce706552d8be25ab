/* demo.h - `dangand demo-data`: fills an initialised data directory with
 * realistic, reproducible customer dossiers, for trying dangan out and for
 * measuring it at scale.
 *
 * The content is a pure function of (seed, customer number, base date): the
 * same options on a freshly initialised directory give byte-identical
 * customers, contacts, interactions, deals, tasks and feedback. Accounts and
 * passwords (random, printed once) and the one audit record are the only
 * parts that are not. Offline: takes the data directory's lock, so it refuses
 * to run while a server uses the directory, and vice versa.
 */
#ifndef DG_DEMO_H
#define DG_DEMO_H

#include <stdint.h>
#include <stdio.h>

#include "auth.h"
#include "tz.h"

#define DG_DEMO_MAX_CUSTOMERS 100000000

typedef struct dg_demo_opts {
    const char *data_dir;
    int64_t n_customers;     /* 1 .. DG_DEMO_MAX_CUSTOMERS */
    int64_t seed;            /* >= 0 */
    const char *base_date;   /* "YYYY-MM-DD", the generated "today" (dg_demo_today) */
    dg_argon2_params argon2; /* for the passwords of the accounts it creates */
    FILE *progress;          /* a terminal for a progress line, or NULL */
} dg_demo_opts;

/* Today in the team's default time zone (team.h), into out: the base date
 * when none is given, so that demo data is never stale. */
void dg_demo_today(char out[DG_DATE_LEN]);

/* Adds o->n_customers customers with their dossiers to o->data_dir, creating
 * the demo accounts (sales reps and a manager) that own them where missing,
 * and prints a summary (counts, rate, accounts with their one-time
 * passwords) to `out`. Records are committed in transactions of tens of
 * thousands; the last one also holds the run's audit record
 * (system.demo_data). The secondary indexes a load would fill in random
 * order are set aside for it and made again at its end (store_bulk.c).
 * SIGINT/SIGTERM stop it after the current transaction (still audited).
 * Returns DG_OK, DG_EINVAL (bad options), DG_EBUSY (a server or another
 * command holds the directory), DG_ENOTFOUND (not an initialised data
 * directory), or a store error; `err` explains, including how many
 * customers were committed before a failure. Main thread of an offline
 * command. */
int dg_demo_run(const dg_demo_opts *o, FILE *out, char *err, size_t err_len);

#endif
