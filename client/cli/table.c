/* table.c - aligned text tables by display width (see table.h).
 *
 * Owns: the copied header and cell strings. Widths are measured with
 * dg_utf8_width at print time, so adding rows stays cheap.
 * Invariant: every row has exactly n_cols cells, each a NUL-terminated copy
 * without control characters.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "alloc.h"
#include "utf8.h"

#define GAP 2                   /* spaces between columns */
#define MIN_COLS 6              /* a column never shrinks below this (or its natural width) */
#define FLEX_MIN 12             /* flexible columns give way first, down to this */
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column wide */

struct cli_table {
    size_t n_cols;
    char **headers;
    bool *is_right;
    bool *is_flex;
    char **cells; /* n_rows * n_cols, row-major */
    size_t n_rows;
    size_t cap_rows;
};

/* A copy of `s` with control characters replaced by spaces. */
static char *clean_copy(const char *s)
{
    char *out = dg_xstrdup(s ? s : "");

    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return out;
}

cli_table *cli_table_new(size_t n_cols, const char *const *headers)
{
    cli_table *t = dg_xcalloc(1, sizeof *t);

    t->n_cols = n_cols;
    t->headers = dg_xcalloc(n_cols, sizeof *t->headers);
    t->is_right = dg_xcalloc(n_cols, sizeof *t->is_right);
    t->is_flex = dg_xcalloc(n_cols, sizeof *t->is_flex);
    for (size_t i = 0; i < n_cols; i++)
        t->headers[i] = clean_copy(headers[i]);
    return t;
}

void cli_table_align_right(cli_table *t, size_t col)
{
    if (col < t->n_cols)
        t->is_right[col] = true;
}

void cli_table_flex(cli_table *t, size_t col)
{
    if (col < t->n_cols)
        t->is_flex[col] = true;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
    if (t->n_rows == t->cap_rows) {
        t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 16;
        t->cells = dg_xrealloc(t->cells, t->cap_rows * t->n_cols * sizeof *t->cells);
    }
    for (size_t i = 0; i < t->n_cols; i++)
        t->cells[t->n_rows * t->n_cols + i] = clean_copy(cells[i]);
    t->n_rows++;
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_cols; i++)
        free(t->headers[i]);
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->headers);
    free(t->is_right);
    free(t->is_flex);
    free(t->cells);
    free(t);
}

size_t cli_term_width(void)
{
    struct winsize ws;

    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return 0;
    return ws.ws_col;
}

/* Natural widths of the columns, then shrunk until the line fits `max_cols`. */
static void column_widths(const cli_table *t, size_t indent, size_t max_cols, size_t *w)
{
    size_t total = indent;

    for (size_t c = 0; c < t->n_cols; c++) {
        w[c] = dg_utf8_width(t->headers[c]);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t cw = dg_utf8_width(t->cells[r * t->n_cols + c]);

            w[c] = cw > w[c] ? cw : w[c];
        }
        total += w[c] + (c ? GAP : 0);
    }
    /* Free text (names, summaries) gives way first, widest column first, so
     * codes, dates and statuses stay whole as long as possible; then any
     * column, widest first, down to MIN_COLS. */
    for (int pass = 0; pass < 2 && max_cols && total > max_cols; pass++) {
        size_t min_w = pass == 0 ? FLEX_MIN : MIN_COLS;

        while (total > max_cols) {
            size_t widest = t->n_cols;

            for (size_t c = 0; c < t->n_cols; c++)
                if ((pass == 1 || t->is_flex[c]) && w[c] > min_w &&
                    (widest == t->n_cols || w[c] > w[widest]))
                    widest = c;
            if (widest == t->n_cols)
                break;
            w[widest]--;
            total--;
        }
    }
}

static void print_cell(FILE *f, const char *s, size_t width, bool is_right, bool is_last)
{
    size_t used = dg_utf8_width(s), n = strlen(s), pad;
    bool is_cut = used > width;

    if (is_cut) {
        n = width ? dg_utf8_fit(s, width - 1, &used) : 0; /* a column for the ellipsis */
        used += width ? 1 : 0;
    }
    pad = width > used ? width - used : 0;
    if (is_right)
        fprintf(f, "%*s", (int)pad, "");
    fwrite(s, 1, n, f);
    if (is_cut && width)
        fputs(ELLIPSIS, f);
    if (!is_right && !is_last) /* no trailing blanks at the end of a line */
        fprintf(f, "%*s", (int)pad, "");
}

static void print_line(const cli_table *t, FILE *f, size_t indent, const size_t *w,
                       char *const *cells)
{
    size_t last = 0; /* empty cells at the end print nothing: no trailing blanks */

    for (size_t c = 0; c < t->n_cols; c++)
        if (cells[c][0])
            last = c;
    fprintf(f, "%*s", (int)indent, "");
    for (size_t c = 0; c <= last; c++) {
        if (c)
            fprintf(f, "%*s", GAP, "");
        print_cell(f, cells[c], w[c], t->is_right[c], c == last);
    }
    fputc('\n', f);
}

void cli_table_print(const cli_table *t, FILE *f, size_t indent, size_t max_cols)
{
    size_t *w = dg_xcalloc(t->n_cols ? t->n_cols : 1, sizeof *w);

    column_widths(t, indent, max_cols, w);
    print_line(t, f, indent, w, t->headers);
    for (size_t r = 0; r < t->n_rows; r++)
        print_line(t, f, indent, w, t->cells + r * t->n_cols);
    free(w);
}
