/* table.h - plain-text tables for the CLI's human output.
 *
 * Columns are aligned by terminal display width, not bytes, so Chinese
 * (double-width) text lines up: a cell of four hanzi takes eight columns.
 * Cells are copied in; control characters (a newline in a note) become
 * spaces so one row stays one line. When the table is wider than the width
 * it is printed in, the free-text columns (cli_table_flex) give way first,
 * then the widest, and cells cut short end in "…". Single-threaded.
 */
#ifndef DG_CLI_TABLE_H
#define DG_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cli_table cli_table;

/* A table with `n_cols` columns titled `headers` (copied). Never NULL (aborts on OOM). */
cli_table *cli_table_new(size_t n_cols, const char *const *headers);
/* Right-aligns column `col` (amounts, counts). */
void cli_table_align_right(cli_table *t, size_t col);
/* Marks column `col` as free text that gives way first when space is short. */
void cli_table_flex(cli_table *t, size_t col);
/* Appends a row of n_cols cells (copied; NULL prints as empty). */
void cli_table_add(cli_table *t, const char *const *cells);
/* Prints header and rows, each line starting with `indent` spaces. With
 * max_cols > 0 no line is wider than max_cols (cells are truncated with
 * "…"); 0 prints every cell whole. */
void cli_table_print(const cli_table *t, FILE *f, size_t indent, size_t max_cols);
/* Frees the table. Accepts NULL. */
void cli_table_free(cli_table *t);

/* The width of the terminal stdout is on (TIOCGWINSZ), or 0 when stdout is
 * not a terminal: then nothing is truncated, so pipes get whole values. */
size_t cli_term_width(void);

#endif
