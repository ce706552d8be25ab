/* tabin.h - spreadsheet files in: a CSV (any of the encodings Excel saves)
 * or the first sheet of an XLSX workbook, as rows of UTF-8 cells.
 *
 * Nothing here parses by hand what a library parses: RFC 4180 quoting is
 * libcsv's, the character sets are iconv's, the zip container libzip's and
 * the XML expat's. The glue keeps, for each row, where a person finds it
 * (the line of a CSV where the row starts, the row number of a sheet).
 * Inputs are untrusted: every size is bounded (cells per row, bytes per cell,
 * rows, bytes unzipped) and a file past a bound is refused with the reason,
 * never truncated. Pure functions of their input (fuzzed:
 * tests/fuzz/fuzz_csv.c, fuzz_xlsx.c). Any thread.
 */
#ifndef DG_CLI_TABIN_H
#define DG_CLI_TABIN_H

#include <stddef.h>

#define CLI_TAB_MAX_COLS 256
#define CLI_TAB_MAX_CELL (64u << 10)   /* bytes of one cell */
#define CLI_TAB_MAX_ROWS 2000000       /* rows of a file */
#define CLI_TAB_MAX_UNZIP (512u << 20) /* bytes of one part of an XLSX, unzipped */

typedef struct cli_row {
    size_t line;  /* CSV: the line the row starts on; XLSX: the row number (both from 1) */
    size_t n;     /* cells */
    char **cells; /* UTF-8, NUL-terminated; "" for an empty cell */
} cli_row;

typedef struct cli_table {
    cli_row *rows; /* in file order, blank rows left out */
    size_t n, cap;
} cli_table;

/* Converts a CSV file's bytes to UTF-8. `encoding` is "auto" (a UTF-8 or
 * UTF-16 byte-order mark says; else valid UTF-8 is UTF-8 and anything else
 * GB18030, which includes GBK and GB2312), "utf-8", "gb18030", "gbk" or any
 * name iconv knows. A byte-order mark is dropped. *out (free it) gets the
 * text, *used the encoding taken. DG_OK, or DG_EINVAL with err[] explained
 * (bytes that are not of the encoding: their offset). */
int cli_tab_to_utf8(const char *data, size_t len, const char *encoding, char **out, size_t *out_len,
                    const char **used, char *err, size_t err_len);
/* Parses UTF-8 CSV text (RFC 4180: quotes, doubled quotes, line breaks in
 * quoted cells; CRLF or LF). The separator is a comma, or a tab when the
 * first line has tabs and no commas. Appends the rows to *t. DG_OK, or
 * DG_EINVAL / DG_ETOOBIG with err[] naming the line. */
int cli_tab_csv(const char *text, size_t len, cli_table *t, char *err, size_t err_len);
/* Reads the cells of the first sheet of an XLSX workbook (shared strings,
 * inline strings, numbers, booleans; numbers in a date format become
 * YYYY-MM-DD, or YYYY-MM-DD HH:MM with a time of day). Appends the rows to
 * *t, each as wide as its last cell. DG_OK, or DG_EINVAL / DG_ETOOBIG with
 * err[] explained. */
int cli_tab_xlsx(const void *data, size_t len, cli_table *t, char *err, size_t err_len);
/* Frees the rows; *t is empty after. */
void cli_table_fini(cli_table *t);

#endif
