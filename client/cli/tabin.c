/* tabin.c - CSV files in: character sets through iconv, RFC 4180 through
 * libcsv, rows with the line each starts on. See tabin.h. */
#include "tabin.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "dg.h"
#include "utf8.h"

/* ------------------------------------------------------------ the table */

void cli_table_fini(cli_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->rows[i].n; j++)
            free(t->rows[i].cells[j]);
        free(t->rows[i].cells);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* A new row at the end of t; DG_ETOOBIG past CLI_TAB_MAX_ROWS. */
static int table_push(cli_table *t, size_t line, cli_row **out)
{
    if (t->n == CLI_TAB_MAX_ROWS)
        return DG_ETOOBIG;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->rows = dg_xrealloc(t->rows, t->cap * sizeof *t->rows);
    }
    *out = &t->rows[t->n++];
    **out = (cli_row){.line = line};
    return DG_OK;
}

/* ------------------------------------------------------------ encodings */

static int convert(const char *data, size_t len, const char *from, char **out, size_t *out_len,
                   char *err, size_t err_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    size_t cap = len * 2 + 16, left_in = len, left_out;
    char *in = (char *)data, *buf, *p;

    if (cd == (iconv_t)-1) {
        snprintf(err, err_len, "unknown encoding \"%s\"", from);
        return DG_EINVAL;
    }
    buf = dg_xmalloc(cap + 1);
    p = buf;
    left_out = cap;
    while (left_in > 0) {
        if (iconv(cd, &in, &left_in, &p, &left_out) != (size_t)-1)
            break;
        if (errno == E2BIG) {
            size_t used = (size_t)(p - buf);

            cap *= 2;
            buf = dg_xrealloc(buf, cap + 1);
            p = buf + used;
            left_out = cap - used;
            continue;
        }
        snprintf(err, err_len, "the file is not valid %s: byte %zu (0x%02x)", from,
                 (size_t)(in - data), (unsigned char)*in);
        iconv_close(cd);
        free(buf);
        return DG_EINVAL;
    }
    iconv_close(cd);
    *p = '\0';
    if (!dg_utf8_valid(buf, (size_t)(p - buf))) { /* a NUL: no spreadsheet writes one */
        snprintf(err, err_len, "the file is not text: it holds a NUL character");
        free(buf);
        return DG_EINVAL;
    }
    *out = buf;
    *out_len = (size_t)(p - buf);
    return DG_OK;
}

static bool has_prefix(const char *data, size_t len, const char *bom, size_t n)
{
    return len >= n && memcmp(data, bom, n) == 0;
}

int cli_tab_to_utf8(const char *data, size_t len, const char *encoding, char **out, size_t *out_len,
                    const char **used, char *err, size_t err_len)
{
    bool is_auto = !encoding || strcasecmp(encoding, "auto") == 0;
    bool is_utf8 =
        !is_auto && (strcasecmp(encoding, "utf-8") == 0 || strcasecmp(encoding, "utf8") == 0);

    if ((is_auto || is_utf8) && has_prefix(data, len, "\xef\xbb\xbf", 3)) {
        data += 3, len -= 3;
        is_utf8 = true;
    } else if (is_auto &&
               (has_prefix(data, len, "\xff\xfe", 2) || has_prefix(data, len, "\xfe\xff", 2))) {
        *used = "utf-16"; /* iconv reads the mark and drops it */
        return convert(data, len, "UTF-16", out, out_len, err, err_len);
    } else if (is_auto) {
        is_utf8 = dg_utf8_valid(data, len);
    }
    if (is_utf8) {
        if (!dg_utf8_valid(data, len)) {
            snprintf(err, err_len, "the file is not valid UTF-8 (try --encoding gb18030)");
            return DG_EINVAL;
        }
        *used = "utf-8";
        *out = dg_xstrndup(data, len);
        *out_len = len;
        return DG_OK;
    }
    *used = is_auto ? "gb18030" : encoding;
    return convert(data, len, is_auto ? "GB18030" : encoding, out, out_len, err, err_len);
}

/* ------------------------------------------------------------ CSV */

struct csv_state {
    cli_table *t;
    cli_row *row;    /* the row being filled, or NULL before its first cell */
    size_t line;     /* the physical line being fed */
    size_t row_line; /* where the row being read started; 0: at the next line */
    int rc;          /* the first bound passed */
    char *err;
    size_t err_len;
};

static void fail(struct csv_state *s, int rc, const char *what)
{
    if (s->rc != DG_OK)
        return;
    s->rc = rc;
    snprintf(s->err, s->err_len, "line %zu: %s", s->row_line ? s->row_line : s->line, what);
}

static void cell_cb(void *field, size_t len, void *user)
{
    struct csv_state *s = user;

    if (s->rc != DG_OK)
        return;
    if (!s->row && table_push(s->t, s->row_line ? s->row_line : s->line, &s->row) != DG_OK) {
        fail(s, DG_ETOOBIG, "more than 2,000,000 rows");
        return;
    }
    if (s->row->n == CLI_TAB_MAX_COLS) {
        fail(s, DG_ETOOBIG, "more than 256 columns");
        return;
    }
    if (len > CLI_TAB_MAX_CELL) {
        fail(s, DG_ETOOBIG, "a cell of more than 64 KiB");
        return;
    }
    if (memchr(field, '\0', len)) {
        fail(s, DG_EINVAL, "a cell holds a NUL byte");
        return;
    }
    s->row->cells = dg_xrealloc(s->row->cells, (s->row->n + 1) * sizeof *s->row->cells);
    s->row->cells[s->row->n++] = dg_xstrndup(field ? field : "", field ? len : 0);
}

static void row_cb(int ch, void *user)
{
    struct csv_state *s = user;
    cli_row *r = s->row;
    bool is_blank = true;

    DG_UNUSED(ch);
    s->row = NULL;
    s->row_line = 0;
    if (!r || s->rc != DG_OK)
        return;
    for (size_t i = 0; i < r->n && is_blank; i++)
        is_blank = r->cells[i][0] == '\0';
    if (is_blank) { /* ",,," lines: what a spreadsheet leaves below the data */
        for (size_t i = 0; i < r->n; i++)
            free(r->cells[i]);
        free(r->cells);
        s->t->n--;
    }
}

static unsigned char pick_separator(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    size_t n = nl ? (size_t)(nl - text) : len;

    return memchr(text, '\t', n) && !memchr(text, ',', n) ? CSV_TAB : CSV_COMMA;
}

int cli_tab_csv(const char *text, size_t len, cli_table *t, char *err, size_t err_len)
{
    struct csv_parser p;
    struct csv_state s = {.t = t, .rc = DG_OK, .err = err, .err_len = err_len};
    size_t off = 0;

    if (csv_init(&p, CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return DG_ENOMEM;
    csv_set_delim(&p, pick_separator(text, len));
    /* One physical line per call: a row's end is seen on the line that ends
     * it, so the next row starts on the next line fed. */
    while (off < len && s.rc == DG_OK) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) + 1 : len - off;

        s.line++;
        if (!s.row_line)
            s.row_line = s.line;
        if (csv_parse(&p, text + off, n, cell_cb, row_cb, &s) != n)
            fail(&s, DG_EINVAL, csv_strerror(csv_error(&p)));
        off += n;
    }
    if (s.rc == DG_OK && csv_fini(&p, cell_cb, row_cb, &s) != 0)
        fail(&s, DG_EINVAL, "a quoted cell is not closed before the end of the file");
    csv_free(&p);
    return s.rc;
}
