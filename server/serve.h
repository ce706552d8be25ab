/* serve.h - `dangand serve`: runs the server until SIGINT or SIGTERM.
 *
 * Start-up checks the data directory before anything writes to it (check.h),
 * opens the database, the writer, the pools and TLS, then listens. Shutdown:
 * stop accepting; stop reading requests; let in-flight requests and jobs
 * finish (up to shutdown_grace_ms); close connections gracefully; stop the
 * pools and the writer (its queue drains); close the database.
 */
#ifndef DG_SERVE_H
#define DG_SERVE_H

#include "config.h"

/* dg_serve_run's exit code when the start-up check refused the data
 * directory: restarting will not help (deploy/dangand.service). */
#define DG_EXIT_REFUSED 3

/* Runs the server on the calling thread (the loop thread from then on).
 * Returns the process exit code: 0 after a clean shutdown, DG_EXIT_REFUSED
 * when the data directory is not fit to serve, 1 when it could not start
 * otherwise (the reason is logged). */
int dg_serve_run(const dg_config *cfg);

#endif
