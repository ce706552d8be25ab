/* tabin_xlsx.c - the first sheet of an XLSX workbook as rows of text.
 *
 * Debian has no XLSX reader library; this is the glue between two that it
 * has: libzip opens the container and inflates each part, expat reads the
 * part's XML as it is inflated (a sheet is never held whole). Read, in this
 * order: xl/workbook.xml (which sheet is first, the 1904 date system),
 * xl/_rels/workbook.xml.rels (where that sheet is), xl/sharedStrings.xml,
 * xl/styles.xml (which cell styles are dates), then the sheet's cells.
 * Nothing else of the workbook (formulas are taken by their cached value,
 * formatting, other sheets) is read. See tabin.h for the bounds.
 */
#include "tabin.h"

#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "alloc.h"
#include "dg.h"

#define CHUNK (64u << 10)
#define MAX_STYLES 65536

struct text {
    char *p;
    size_t n, cap;
};

struct xlsx {
    cli_table *t;
    int rc;
    char *err;
    size_t err_len;
    /* workbook */
    char first_rid[128];
    char sheet_path[512];
    bool is_1904;
    /* shared strings */
    char **strings;
    size_t n_strings, cap_strings;
    /* styles: which cellXfs entries show a date */
    bool *is_date_style;
    size_t n_styles;
    unsigned char date_fmts[512]; /* custom numFmtIds (< 512) whose code is a date */
    /* the element being read */
    int depth_in_si, in_rph, in_t, in_v, in_cellxfs, in_is;
    struct text text;
    /* the sheet */
    cli_row *row;
    size_t row_no, col;
    char cell_type[16];
    long cell_style;
};

static void xfail(struct xlsx *x, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xfail(struct xlsx *x, int rc, const char *fmt, ...)
{
    va_list ap;

    if (x->rc != DG_OK)
        return;
    x->rc = rc;
    va_start(ap, fmt);
    vsnprintf(x->err, x->err_len, fmt, ap);
    va_end(ap);
}

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');

    return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(local(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

static void text_add(struct xlsx *x, const char *s, int len)
{
    struct text *t = &x->text;

    if (t->n + (size_t)len > CLI_TAB_MAX_CELL) {
        xfail(x, DG_ETOOBIG, "%s", "a cell of more than 64 KiB");
        return;
    }
    if (t->n + (size_t)len + 1 > t->cap) {
        t->cap = (t->n + (size_t)len + 1) * 2;
        t->p = dg_xrealloc(t->p, t->cap);
    }
    memcpy(t->p + t->n, s, (size_t)len);
    t->n += (size_t)len;
    t->p[t->n] = '\0';
}

static void text_cb(void *user, const XML_Char *s, int len)
{
    struct xlsx *x = user;

    if ((x->in_t || x->in_v) && !x->in_rph)
        text_add(x, s, len);
}

/* Inflates part `name` into expat with the handlers set on `p`. A missing
 * part is DG_ENOTFOUND when `optional`. */
static int parse_part(struct xlsx *x, zip_t *z, const char *name, XML_Parser p, bool optional)
{
    zip_int64_t ix = zip_name_locate(z, name, ZIP_FL_NOCASE);
    zip_file_t *f;
    char *buf;
    zip_int64_t got = 0;
    size_t total = 0;

    if (ix < 0) {
        if (!optional)
            xfail(x, DG_EINVAL, "not an XLSX workbook: it has no %s", name);
        return optional ? DG_ENOTFOUND : x->rc;
    }
    if (!(f = zip_fopen_index(z, (zip_uint64_t)ix, 0))) {
        xfail(x, DG_EINVAL, "cannot read %s from the workbook", name);
        return x->rc;
    }
    XML_SetUserData(p, x);
    XML_SetCharacterDataHandler(p, text_cb);
    buf = dg_xmalloc(CHUNK);
    while (x->rc == DG_OK && (got = zip_fread(f, buf, CHUNK)) > 0) {
        total += (size_t)got;
        if (total > CLI_TAB_MAX_UNZIP)
            xfail(x, DG_ETOOBIG, "%s unzips to more than 512 MiB", name);
        else if (XML_Parse(p, buf, (int)got, 0) == XML_STATUS_ERROR)
            xfail(x, DG_EINVAL, "%s is not well-formed XML", name);
    }
    if (x->rc == DG_OK && got < 0)
        xfail(x, DG_EINVAL, "%s is damaged in the zip file", name);
    if (x->rc == DG_OK && XML_Parse(p, buf, 0, 1) == XML_STATUS_ERROR)
        xfail(x, DG_EINVAL, "%s is not well-formed XML", name);
    free(buf);
    zip_fclose(f);
    return x->rc;
}

static int run_part(struct xlsx *x, zip_t *z, const char *name, XML_StartElementHandler start,
                    XML_EndElementHandler end, bool optional)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    int rc;

    if (!p)
        return DG_ENOMEM;
    XML_SetElementHandler(p, start, end);
    rc = parse_part(x, z, name, p, optional);
    XML_ParserFree(p);
    return rc;
}

/* ------------------------------------------------------------ workbook */

static void workbook_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    struct xlsx *x = user;
    const char *v;

    if (!strcmp(local(name), "sheet") && !x->first_rid[0] && (v = attr(atts, "id")))
        snprintf(x->first_rid, sizeof x->first_rid, "%s", v);
    else if (!strcmp(local(name), "workbookPr") && (v = attr(atts, "date1904")))
        x->is_1904 = !strcmp(v, "1") || !strcasecmp(v, "true");
}

static void rels_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    struct xlsx *x = user;
    const char *id = attr(atts, "Id"), *target = attr(atts, "Target");

    if (strcmp(local(name), "Relationship") || !id || !target || strcmp(id, x->first_rid))
        return;
    if (target[0] == '/')
        snprintf(x->sheet_path, sizeof x->sheet_path, "%s", target + 1);
    else
        snprintf(x->sheet_path, sizeof x->sheet_path, "xl/%s", target);
}

static void no_end(void *user, const XML_Char *name)
{
    DG_UNUSED(user);
    DG_UNUSED(name);
}

/* ------------------------------------------------------------ shared strings */

static void sst_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    struct xlsx *x = user;
    const char *n = local(name);

    DG_UNUSED(atts);
    if (!strcmp(n, "si")) {
        x->depth_in_si = 1;
        x->text.n = 0;
        text_add(x, "", 0);
    } else if (!strcmp(n, "rPh")) {
        x->in_rph = 1; /* phonetic guide (furigana): not the cell's text */
    } else if (!strcmp(n, "t") && x->depth_in_si && !x->in_rph) {
        x->in_t = 1;
    }
}

static void sst_end(void *user, const XML_Char *name)
{
    struct xlsx *x = user;
    const char *n = local(name);

    if (!strcmp(n, "t")) {
        x->in_t = 0;
    } else if (!strcmp(n, "rPh")) {
        x->in_rph = 0;
    } else if (!strcmp(n, "si") && x->rc == DG_OK) {
        if (x->n_strings == x->cap_strings) {
            x->cap_strings = x->cap_strings ? x->cap_strings * 2 : 1024;
            x->strings = dg_xrealloc(x->strings, x->cap_strings * sizeof *x->strings);
        }
        x->strings[x->n_strings++] = dg_xstrdup(x->text.p ? x->text.p : "");
        x->depth_in_si = 0;
    }
}

/* ------------------------------------------------------------ styles */

/* A number format code that shows a date: y, m with d, or d outside quotes
 * and brackets ("[Red]", "[$-804]"). */
static bool is_date_code(const char *code)
{
    bool in_quote = false, in_bracket = false;

    for (const char *p = code; *p; p++) {
        if (*p == '"')
            in_quote = !in_quote;
        else if (!in_quote && *p == '[')
            in_bracket = true;
        else if (!in_quote && *p == ']')
            in_bracket = false;
        else if (!in_quote && !in_bracket && *p == '\\' && p[1])
            p++;
        else if (!in_quote && !in_bracket && strchr("yYdD", *p))
            return true;
    }
    return false;
}

static bool is_date_fmt(const struct xlsx *x, long id)
{
    return (id >= 14 && id <= 22) || (id >= 45 && id <= 47) || (id >= 27 && id <= 36) ||
           (id >= 50 && id <= 58) || (id >= 0 && id < 512 && x->date_fmts[id]);
}

static void styles_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    struct xlsx *x = user;
    const char *n = local(name), *id = attr(atts, "numFmtId"), *code;

    if (!strcmp(n, "numFmt") && id && (code = attr(atts, "formatCode"))) {
        long v = strtol(id, NULL, 10);

        if (v >= 0 && v < 512)
            x->date_fmts[v] = is_date_code(code);
    } else if (!strcmp(n, "cellXfs")) {
        x->in_cellxfs = 1;
    } else if (!strcmp(n, "xf") && x->in_cellxfs && x->n_styles < MAX_STYLES) {
        x->is_date_style = dg_xrealloc(x->is_date_style, (x->n_styles + 1) * sizeof(bool));
        x->is_date_style[x->n_styles++] = id && is_date_fmt(x, strtol(id, NULL, 10));
    }
}

static void styles_end(void *user, const XML_Char *name)
{
    struct xlsx *x = user;

    if (!strcmp(local(name), "cellXfs"))
        x->in_cellxfs = 0;
}

/* ------------------------------------------------------------ the sheet */

/* "AB12" → column 27 (from 0 it is 27), row 12; false if it is no reference. */
static bool cell_ref(const char *r, size_t *col)
{
    size_t c = 0, n = 0;

    for (; *r >= 'A' && *r <= 'Z' && n < 4; r++, n++)
        c = c * 26 + (size_t)(*r - 'A' + 1);
    if (n == 0 || c == 0)
        return false;
    *col = c - 1;
    return true;
}

/* Days since 1970-01-01 → y-m-d (H. Hinnant's civil_from_days). */
static void civil(long long z, int *y, unsigned *m, unsigned *d)
{
    long long era, yy;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (long long)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* A date cell's serial number as "YYYY-MM-DD" (with " HH:MM" when it has a
 * time of day); the number itself when it is out of range. */
static void serial_text(const struct xlsx *x, const char *v, char *out, size_t len)
{
    char *end;
    double serial = strtod(v, &end);
    long long days, minutes;
    int y;
    unsigned m, d;

    if (end == v || *end || !isfinite(serial) || serial < 1 || serial > 2958465) {
        snprintf(out, len, "%s", v);
        return;
    }
    minutes = llround(serial * 1440.0);
    days = minutes / 1440;
    minutes %= 1440;
    /* serial 25569 is 1970-01-01 (after Lotus's phantom 1900-02-29) */
    civil(days - 25569 + (x->is_1904 ? 1462 : 0), &y, &m, &d);
    if (minutes)
        snprintf(out, len, "%04d-%02u-%02u %02lld:%02lld", y, m, d, minutes / 60, minutes % 60);
    else
        snprintf(out, len, "%04d-%02u-%02u", y, m, d);
}

static void sheet_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    struct xlsx *x = user;
    const char *n = local(name), *v;

    if (x->rc != DG_OK)
        return;
    if (!strcmp(n, "row")) {
        v = attr(atts, "r");
        x->row_no = v ? strtoul(v, NULL, 10) : x->row_no + 1;
        x->col = 0;
        x->row = NULL;
        if (x->t->n == CLI_TAB_MAX_ROWS) {
            xfail(x, DG_ETOOBIG, "%s", "more than 2,000,000 rows");
            return;
        }
        if (x->t->n == x->t->cap) {
            x->t->cap = x->t->cap ? x->t->cap * 2 : 256;
            x->t->rows = dg_xrealloc(x->t->rows, x->t->cap * sizeof *x->t->rows);
        }
        x->row = &x->t->rows[x->t->n++];
        *x->row = (cli_row){.line = x->row_no};
    } else if (!strcmp(n, "c")) {
        size_t col;

        v = attr(atts, "r");
        if (v && cell_ref(v, &col))
            x->col = col;
        snprintf(x->cell_type, sizeof x->cell_type, "%s", (v = attr(atts, "t")) ? v : "n");
        x->cell_style = (v = attr(atts, "s")) ? strtol(v, NULL, 10) : 0;
        x->text.n = 0;
        text_add(x, "", 0);
    } else if (!strcmp(n, "v")) {
        x->in_v = 1;
    } else if (!strcmp(n, "is")) {
        x->in_is = 1;
    } else if (!strcmp(n, "t") && x->in_is) {
        x->in_t = 1;
    } else if (!strcmp(n, "rPh")) {
        x->in_rph = 1;
    }
}

/* The cell's text by its type: a shared string, an inline string, a
 * boolean, an error, or a number (a date when its style says so). */
static void cell_value(struct xlsx *x, char *out, size_t len, const char **value)
{
    const char *v = x->text.p ? x->text.p : "";
    char *end;
    unsigned long ix;

    *value = v;
    if (!strcmp(x->cell_type, "s")) {
        ix = strtoul(v, &end, 10);
        *value = end != v && !*end && ix < x->n_strings ? x->strings[ix] : "";
    } else if (!strcmp(x->cell_type, "b")) {
        *value = !strcmp(v, "1") ? "TRUE" : "FALSE";
    } else if (!strcmp(x->cell_type, "n") && v[0] && x->cell_style >= 0 &&
               (size_t)x->cell_style < x->n_styles && x->is_date_style[x->cell_style]) {
        serial_text(x, v, out, len);
        *value = out;
    }
}

static void put_cell(struct xlsx *x)
{
    cli_row *r = x->row;
    char date[64];
    const char *value;

    if (!r)
        return;
    cell_value(x, date, sizeof date, &value);
    if (!value[0]) { /* a formatted empty cell, wherever it is, is no column of the table */
        x->col++;
        return;
    }
    if (x->col >= CLI_TAB_MAX_COLS) {
        xfail(x, DG_ETOOBIG, "%s", "more than 256 columns");
        return;
    }
    if (x->col >= r->n) {
        r->cells = dg_xrealloc(r->cells, (x->col + 1) * sizeof *r->cells);
        for (size_t i = r->n; i <= x->col; i++)
            r->cells[i] = NULL;
        r->n = x->col + 1;
    }
    free(r->cells[x->col]);
    r->cells[x->col] = dg_xstrdup(value);
    x->col++;
}

static void end_row(struct xlsx *x)
{
    cli_row *r = x->row;

    x->row = NULL;
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (!r->cells[i])
            r->cells[i] = dg_xstrdup("");
    if (r->n == 0) { /* a row with formatting and no values */
        free(r->cells);
        x->t->n--;
    }
}

static void sheet_end(void *user, const XML_Char *name)
{
    struct xlsx *x = user;
    const char *n = local(name);

    if (!strcmp(n, "v"))
        x->in_v = 0;
    else if (!strcmp(n, "t"))
        x->in_t = 0;
    else if (!strcmp(n, "is"))
        x->in_is = 0;
    else if (!strcmp(n, "rPh"))
        x->in_rph = 0;
    else if (!strcmp(n, "c") && x->rc == DG_OK)
        put_cell(x);
    else if (!strcmp(n, "row"))
        end_row(x);
}

/* ------------------------------------------------------------ the workbook */

static int read_workbook(struct xlsx *x, zip_t *z)
{
    int rc;

    if ((rc = run_part(x, z, "xl/workbook.xml", workbook_start, no_end, false)) != DG_OK)
        return rc;
    if (x->first_rid[0])
        rc = run_part(x, z, "xl/_rels/workbook.xml.rels", rels_start, no_end, true);
    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    if (!x->sheet_path[0]) /* what every writer names the first sheet */
        snprintf(x->sheet_path, sizeof x->sheet_path, "xl/worksheets/sheet1.xml");
    rc = run_part(x, z, "xl/sharedStrings.xml", sst_start, sst_end, true);
    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    rc = run_part(x, z, "xl/styles.xml", styles_start, styles_end, true);
    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    x->in_t = x->in_v = x->in_rph = 0;
    return run_part(x, z, x->sheet_path, sheet_start, sheet_end, false);
}

int cli_tab_xlsx(const void *data, size_t len, cli_table *t, char *err, size_t err_len)
{
    struct xlsx x = {.t = t, .rc = DG_OK, .err = err, .err_len = err_len};
    zip_error_t ze;
    zip_source_t *src;
    zip_t *z = NULL;
    int rc;

    zip_error_init(&ze);
    if (!(src = zip_source_buffer_create(data, len, 0, &ze))) {
        zip_error_fini(&ze);
        return DG_ENOMEM;
    }
    if (!(z = zip_open_from_source(src, ZIP_RDONLY, &ze))) {
        snprintf(err, err_len, "not an XLSX workbook: %s", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return DG_EINVAL;
    }
    zip_error_fini(&ze);
    rc = read_workbook(&x, z);
    if (x.row) /* the sheet ended inside a row */
        end_row(&x);
    zip_discard(z); /* read only: nothing to write back; frees the source too */
    for (size_t i = 0; i < x.n_strings; i++)
        free(x.strings[i]);
    free(x.strings);
    free(x.is_date_style);
    free(x.text.p);
    return rc;
}
