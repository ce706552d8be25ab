/* tabout.h - what import and export write for people: CSV cells that a
 * spreadsheet opens as text (never as a formula), and a progress bar on the
 * terminal. Single-threaded.
 */
#ifndef DG_CLI_TABOUT_H
#define DG_CLI_TABOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Whether a spreadsheet would take the text as a formula or a command: it
 * starts with = + - @, a tab or a carriage return. */
bool cli_cell_is_risky(const char *s);
/* Writes one CSV cell (RFC 4180: quoted when it holds a comma, quote or line
 * break), preceded by a comma unless `first`. A risky text gets a leading
 * apostrophe, which spreadsheets show as text and do not run. */
void cli_csv_cell(FILE *f, const char *s, bool first);
/* Ends a CSV row (CRLF, as RFC 4180 and Excel write them). */
void cli_csv_end_row(FILE *f);

typedef struct cli_progress {
    bool is_on;       /* stderr is a terminal and output is for people */
    uint64_t total;   /* 0: unknown */
    int64_t start_ms; /* monotonic */
    int64_t drawn_ms; /* monotonic: when the bar was last drawn */
    const char *unit; /* "rows" */
} cli_progress;

/* Starts a bar on stderr when `is_on` (the caller checks isatty and --json). */
void cli_progress_start(cli_progress *p, bool is_on, uint64_t total, const char *unit);
/* Redraws at most 10 times a second: count, rate, ETA when total is known. */
void cli_progress_update(cli_progress *p, uint64_t done);
/* Clears the bar's line. */
void cli_progress_end(cli_progress *p);

#endif
