/* run.h - one benchmark run (run.c): setup, the load threads, the report. */
#ifndef DG_BENCH_RUN_H
#define DG_BENCH_RUN_H

#include "bench.h"

/* Runs the benchmark and prints its report on stdout. Returns an exit code.
 * Main thread only (it starts and joins the workers). */
int dg_bench_run(dg_bench_opts *o);

#endif
