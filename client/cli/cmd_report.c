/* cmd_report.c - `dangan report KIND [--from DATE] [--to DATE] [--by G]
 * [--owner USER] [-o FILE.csv|FILE.xlsx]`: the manager's reports.
 *
 * The server computes each report over what the caller may see and answers
 * generic tables (sections of typed columns, rows and totals); this file only
 * shows them: aligned tables for people (Chinese counted double-width, money
 * with its currency), --json for scripts, or a spreadsheet file written like
 * `dangan export` writes one (CSV with a byte-order mark, XLSX with a sheet per
 * section, formula-like text defused), the file's export audited by
 * ExportBegin/ExportFinish. Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "money.h"
#include "rec.h"
#include "table.h"
#include "tabout.h"
#include "utf8.h"

#define WIDTH_MAX 60

enum { OPT_FROM = 300, OPT_TO, OPT_BY, OPT_OWNER, OPT_OUT };

static const char HELP[] =
    "usage: dangan report summary|revenue|pipeline|activity|churn|satisfaction\n"
    "                     [--from DATE] [--to DATE] [--by G] [--owner USER]\n"
    "                     [-o FILE.csv|FILE.xlsx]\n"
    "\n"
    "Reports over the customers you may see, computed by the server. Dates are\n"
    "days in the team's time zone, YYYY-MM-DD, both included.\n"
    "\n"
    "  summary       customers by tier, status, intention, industry, region, owner\n"
    "                (--by one of them for that section alone)\n"
    "  revenue       won deals by --by month (default), quarter, week or owner,\n"
    "                per currency; --from defaults to 11 months before --to's month\n"
    "  pipeline      open deals by stage in pipeline order: count, amount, weighted\n"
    "                amount (amount x probability); --by owner splits by owner\n"
    "  activity      calls (phone) and visits (visit, meeting) logged per rep per\n"
    "                --by week (default) or month, against what the tier cadence\n"
    "                asks for the rep's customers; --from defaults to 3 weeks back\n"
    "  churn         lost customers by churn reason, the customers nearing or past\n"
    "                dormancy, and the win-back list of lost customers\n"
    "  satisfaction  feedback, average satisfaction and complaints (open and\n"
    "                resolved) by --by month (default), quarter or week\n"
    "\n"
    "  --to DATE         last day (default today); --from DATE first day\n"
    "  --owner USER|me   only this owner's customers (activity: this rep's calls)\n"
    "  -o FILE           write a new .csv or .xlsx file instead (sales, managers,\n"
    "                    admins; audited)\n";

static const char *const kinds[] = {"summary",  "revenue", "pipeline",
                                    "activity", "churn",   "satisfaction"};

/* ------------------------------------------------------------ cells */

/* The cell as people read it: money with its currency, hundredths as a
 * decimal, an empty value as "-". */
static const char *cell_human(const Dangan__V1__ReportColumn *col, const Dangan__V1__ReportCell *c,
                              char *buf, size_t len)
{
    switch (col->type) {
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_INT:
        snprintf(buf, len, "%lld", (long long)c->number);
        break;
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_MONEY:
        cli_money_text(c->number, c->currency, buf, len);
        break;
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DECIMAL:
        if (c->is_empty)
            snprintf(buf, len, "-");
        else
            snprintf(buf, len, "%s%lld.%02lld", c->number < 0 ? "-" : "",
                     (long long)(c->number < 0 ? -c->number : c->number) / 100,
                     (long long)(c->number < 0 ? -c->number : c->number) % 100);
        break;
    default:
        snprintf(buf, len, "%s", c->text[0] ? c->text : "-");
        break;
    }
    return buf;
}

/* The cell for a spreadsheet or a script: money and decimals as plain
 * decimal numbers (the currency is a column of its own). */
static const char *cell_plain(const Dangan__V1__ReportColumn *col, const Dangan__V1__ReportCell *c,
                              char *buf, size_t len)
{
    if (col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_MONEY) {
        static const int64_t scale[] = {1, 10, 100, 1000};
        int e = dg_currency_exponent(c->currency[0] ? c->currency : "CNY");
        uint64_t u = c->number < 0 ? 0 - (uint64_t)c->number : (uint64_t)c->number;

        e = e < 0 || e > 3 ? 2 : e;
        if (e == 0)
            snprintf(buf, len, "%s%llu", c->number < 0 ? "-" : "", (unsigned long long)u);
        else
            snprintf(buf, len, "%s%llu.%0*llu", c->number < 0 ? "-" : "",
                     (unsigned long long)(u / (uint64_t)scale[e]), e,
                     (unsigned long long)(u % (uint64_t)scale[e]));
        return buf;
    }
    if (col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DECIMAL && c->is_empty)
        return buf[0] = '\0', buf;
    if (col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_TEXT ||
        col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DATE)
        return snprintf(buf, len, "%s", c->text), buf;
    return cell_human(col, c, buf, len);
}

static bool is_numeric(const Dangan__V1__ReportColumn *col)
{
    return col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_INT ||
           col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_MONEY ||
           col->type == DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DECIMAL;
}

/* ------------------------------------------------------------ people */

static void print_rows(cli_table *t, const Dangan__V1__ReportSection *s,
                       Dangan__V1__ReportRow **rows, size_t n)
{
    const char **cells = calloc(s->n_columns ? s->n_columns : 1, sizeof *cells);
    char(*bufs)[128] = calloc(s->n_columns ? s->n_columns : 1, sizeof *bufs);

    if (!cells || !bufs)
        abort();
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < s->n_columns && k < rows[i]->n_cells; k++)
            cells[k] = cell_human(s->columns[k], rows[i]->cells[k], bufs[k], sizeof bufs[k]);
        cli_table_add(t, cells);
    }
    free(cells);
    free(bufs);
}

/* How many customers a list section (churn's at_risk, win_back) leaves
 * out: the count section over the same customers (risk, by_reason) totals
 * them; 0 for other sections. */
static int64_t list_more(const Dangan__V1__ReportResponse *r, const Dangan__V1__ReportSection *s)
{
    const char *counted = !strcmp(s->name, "at_risk")    ? "risk"
                          : !strcmp(s->name, "win_back") ? "by_reason"
                                                         : NULL;

    for (size_t i = 0; counted && i < r->n_sections; i++) {
        const Dangan__V1__ReportSection *c = r->sections[i];

        if (!strcmp(c->name, counted) && c->n_totals && c->totals[0]->n_cells > 1 &&
            c->totals[0]->cells[1]->number > (int64_t)s->n_rows)
            return c->totals[0]->cells[1]->number - (int64_t)s->n_rows;
    }
    return 0;
}

static void print_human(const Dangan__V1__ReportResponse *r)
{
    printf("Report %s", r->kind);
    if (r->from[0])
        printf(", %s to %s", r->from, r->to);
    printf(" (%s; today %s)\n", r->time_zone, r->today);
    for (size_t i = 0; i < r->n_sections; i++) {
        const Dangan__V1__ReportSection *s = r->sections[i];
        const char **headers = calloc(s->n_columns ? s->n_columns : 1, sizeof *headers);
        cli_table *t;

        if (!headers)
            abort();
        for (size_t k = 0; k < s->n_columns; k++)
            headers[k] = s->columns[k]->label;
        t = cli_table_new(s->n_columns, headers);
        for (size_t k = 0; k < s->n_columns; k++)
            if (is_numeric(s->columns[k]))
                cli_table_align_right(t, k);
            else if (!strcmp(s->columns[k]->name, "name"))
                cli_table_flex(t, k);
        print_rows(t, s, s->rows, s->n_rows);
        print_rows(t, s, s->totals, s->n_totals);
        printf("\n%s\n", s->title);
        if (s->n_rows == 0)
            printf("  (none)\n");
        else
            cli_table_print(t, stdout, 2, cli_term_width());
        if (list_more(r, s))
            printf("  ... and %lld more (the first %zu shown)\n", (long long)list_more(r, s),
                   s->n_rows);
        cli_table_free(t);
        free(headers);
    }
}

/* ------------------------------------------------------------ scripts */

static json_t *cell_json(const Dangan__V1__ReportColumn *col, const Dangan__V1__ReportCell *c)
{
    switch (col->type) {
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_INT:
        return json_integer(c->number);
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_MONEY:
        return json_pack("{s:I,s:s}", "amount_minor", (json_int_t)c->number, "currency",
                         c->currency);
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DECIMAL:
        return c->is_empty ? json_null() : json_real((double)c->number / 100.0);
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DATE:
        return c->text[0] ? json_string(c->text) : json_null();
    default:
        return json_string(c->text);
    }
}

static json_t *rows_json(const Dangan__V1__ReportSection *s, Dangan__V1__ReportRow **rows, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();

        for (size_t k = 0; k < s->n_columns && k < rows[i]->n_cells; k++)
            json_object_set_new(o, s->columns[k]->name,
                                cell_json(s->columns[k], rows[i]->cells[k]));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *report_json(const Dangan__V1__ReportResponse *r)
{
    json_t *secs = json_array();
    char type[32];

    for (size_t i = 0; i < r->n_sections; i++) {
        const Dangan__V1__ReportSection *s = r->sections[i];
        json_t *cols = json_array();

        for (size_t k = 0; k < s->n_columns; k++)
            json_array_append_new(cols,
                                  json_pack("{s:s,s:s,s:s}", "name", s->columns[k]->name, "label",
                                            s->columns[k]->label, "type",
                                            cli_enum_name(&dangan__v1__report_type__descriptor,
                                                          s->columns[k]->type, type, sizeof type)));
        json_t *sec = json_pack("{s:s,s:s,s:o,s:o,s:o}", "name", s->name, "title", s->title,
                                "columns", cols, "rows", rows_json(s, s->rows, s->n_rows), "totals",
                                rows_json(s, s->totals, s->n_totals));

        if (!strcmp(s->name, "at_risk") || !strcmp(s->name, "win_back"))
            json_object_set_new(sec, "more", json_integer(list_more(r, s)));
        json_array_append_new(secs, sec);
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "kind", r->kind, "from", r->from, "to", r->to,
                     "by", r->by, "time_zone", r->time_zone, "today", r->today, "sections", secs);
}

/* ------------------------------------------------------------ files */

struct file {
    cli *c;
    const char *path;
    char tmp[4200];
    bool is_xlsx;
    FILE *csv;
    lxw_workbook *wb;
    lxw_format *f_date, *f_dec, *f_money[4];
    uint64_t rows;
};

static lxw_error xlsx_cell(struct file *o, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
                           const Dangan__V1__ReportColumn *c, const Dangan__V1__ReportCell *v)
{
    lxw_datetime dt = {0};
    char buf[128];
    int e;

    switch (c->type) {
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_INT:
        return worksheet_write_number(ws, row, col, (double)v->number, NULL);
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_MONEY:
        e = dg_currency_exponent(v->currency[0] ? v->currency : "CNY");
        e = e < 0 || e > 3 ? 2 : e;
        return worksheet_write_number(ws, row, col, strtod(cell_plain(c, v, buf, sizeof buf), NULL),
                                      o->f_money[e]);
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DECIMAL:
        return v->is_empty
                   ? LXW_NO_ERROR
                   : worksheet_write_number(ws, row, col, (double)v->number / 100.0, o->f_dec);
    case DANGAN__V1__REPORT_TYPE__REPORT_TYPE_DATE:
        if (sscanf(v->text, "%d-%d-%d", &dt.year, &dt.month, &dt.day) == 3)
            return worksheet_write_datetime(ws, row, col, &dt, o->f_date);
        return LXW_NO_ERROR;
    default:
        if (cli_cell_is_risky(v->text)) {
            snprintf(buf, sizeof buf, "'%s", v->text);
            return worksheet_write_string(ws, row, col, buf, NULL);
        }
        return worksheet_write_string(ws, row, col, v->text, NULL);
    }
}

/* One worksheet per section: header row frozen, columns as wide as their text. */
static bool write_xlsx(struct file *o, const Dangan__V1__ReportResponse *r)
{
    bool ok = true;

    for (size_t i = 0; i < r->n_sections && ok; i++) {
        const Dangan__V1__ReportSection *s = r->sections[i];
        lxw_worksheet *ws = workbook_add_worksheet(o->wb, s->name);
        size_t *width = calloc(s->n_columns ? s->n_columns : 1, sizeof *width);
        lxw_row_t row = 1;
        char buf[128];

        if (!ws || !width) {
            free(width);
            return false;
        }
        worksheet_freeze_panes(ws, 1, 0);
        for (size_t k = 0; k < s->n_columns; k++) {
            worksheet_write_string(ws, 0, (lxw_col_t)k, s->columns[k]->name, NULL);
            width[k] = dg_utf8_width(s->columns[k]->name);
        }
        for (size_t pass = 0; pass < 2 && ok; pass++) {
            Dangan__V1__ReportRow **rows = pass ? s->totals : s->rows;
            size_t n = pass ? s->n_totals : s->n_rows;

            for (size_t i2 = 0; i2 < n && ok; i2++, row++) {
                for (size_t k = 0; k < s->n_columns && k < rows[i2]->n_cells && ok; k++) {
                    size_t w = dg_utf8_width(
                        cell_plain(s->columns[k], rows[i2]->cells[k], buf, sizeof buf));

                    width[k] = w > width[k] ? w : width[k];
                    ok = xlsx_cell(o, ws, row, (lxw_col_t)k, s->columns[k], rows[i2]->cells[k]) ==
                         LXW_NO_ERROR;
                }
                o->rows++;
            }
        }
        for (size_t k = 0; k < s->n_columns; k++)
            worksheet_set_column(ws, (lxw_col_t)k, (lxw_col_t)k,
                                 (double)(width[k] + 2 > WIDTH_MAX ? WIDTH_MAX : width[k] + 2),
                                 NULL);
        free(width);
    }
    return ok;
}

/* Sections one after another: the section's name, its header row, its rows
 * and totals, an empty line. */
static bool write_csv(struct file *o, const Dangan__V1__ReportResponse *r)
{
    char buf[128];

    fputs("\xef\xbb\xbf", o->csv);
    for (size_t i = 0; i < r->n_sections; i++) {
        const Dangan__V1__ReportSection *s = r->sections[i];

        if (i)
            cli_csv_end_row(o->csv);
        cli_csv_cell(o->csv, s->name, true);
        cli_csv_end_row(o->csv);
        for (size_t k = 0; k < s->n_columns; k++)
            cli_csv_cell(o->csv, s->columns[k]->name, k == 0);
        cli_csv_end_row(o->csv);
        for (size_t pass = 0; pass < 2; pass++) {
            Dangan__V1__ReportRow **rows = pass ? s->totals : s->rows;
            size_t n = pass ? s->n_totals : s->n_rows;

            for (size_t i2 = 0; i2 < n; i2++) {
                for (size_t k = 0; k < s->n_columns && k < rows[i2]->n_cells; k++)
                    cli_csv_cell(o->csv,
                                 cell_plain(s->columns[k], rows[i2]->cells[k], buf, sizeof buf),
                                 k == 0);
                cli_csv_end_row(o->csv);
                o->rows++;
            }
        }
    }
    return !ferror(o->csv);
}

static int open_file(struct file *o)
{
    snprintf(o->tmp, sizeof o->tmp, "%s.part", o->path);
    if (access(o->path, F_OK) == 0)
        return cli_usage(o->c, "%s exists; a report is written to a new file", o->path);
    if (!o->is_xlsx) {
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd < 0 || !(o->csv = fdopen(fd, "wb"))) {
            if (fd >= 0)
                close(fd);
            return cli_usage(o->c, "cannot write %s: %s", o->tmp, strerror(errno));
        }
        return EXIT_OK;
    }
    if (!(o->wb = workbook_new(o->tmp)))
        return cli_usage(o->c, "cannot write %s", o->tmp);
    o->f_date = workbook_add_format(o->wb);
    format_set_num_format(o->f_date, "yyyy-mm-dd");
    o->f_dec = workbook_add_format(o->wb);
    format_set_num_format(o->f_dec, "0.00");
    for (int e = 0; e < 4; e++) {
        static const char *const fmts[] = {"#,##0", "#,##0.0", "#,##0.00", "#,##0.000"};

        o->f_money[e] = workbook_add_format(o->wb);
        format_set_num_format(o->f_money[e], fmts[e]);
    }
    return EXIT_OK;
}

static int close_file(struct file *o, bool ok)
{
    bool failed = false;

    if (o->csv)
        failed = fclose(o->csv) != 0;
    if (o->wb) {
        failed |= workbook_close(o->wb) != LXW_NO_ERROR;
        failed |= chmod(o->tmp, 0600) != 0; /* personal data: the owner's alone */
    }
    o->csv = NULL;
    o->wb = NULL;
    if (ok && !failed && rename(o->tmp, o->path) == 0)
        return EXIT_OK;
    unlink(o->tmp);
    return cli_fail(o->c, EXIT_SERVER, "UNKNOWN", "write_failed", "cannot write %s", o->path);
}

/* ExportBegin (the right and its audit record), the file, ExportFinish. */
static int export_report(struct file *o, const Dangan__V1__ReportResponse *rep)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ExportBeginRequest b = DANGAN__V1__EXPORT_BEGIN_REQUEST__INIT;
    Dangan__V1__ExportFinishRequest f = DANGAN__V1__EXPORT_FINISH_REQUEST__INIT;
    dg_reply *r;
    int rc;

    b.report = rep->kind;
    b.format = o->is_xlsx ? "xlsx" : "csv";
    req.body_case = DANGAN__V1__REQUEST__BODY_EXPORT_BEGIN;
    req.export_begin = &b;
    if ((rc = cli_rec_call(o->c, &req, &r)) != EXIT_OK)
        return rc;
    f.export_id = dg_reply_response(r)->export_begin->export_id;
    dg_reply_free(r);
    if ((rc = open_file(o)) != EXIT_OK)
        return rc;
    if ((rc = close_file(o, o->is_xlsx ? write_xlsx(o, rep) : write_csv(o, rep))) != EXIT_OK)
        return rc;
    f.rows = o->rows;
    req.body_case = DANGAN__V1__REQUEST__BODY_EXPORT_FINISH;
    req.export_finish = &f;
    if ((rc = cli_rec_call(o->c, &req, &r)) != EXIT_OK)
        return rc;
    dg_reply_free(r);
    if (o->c->is_json)
        cli_print_json(json_pack("{s:s,s:I}", "file", o->path, "rows", (json_int_t)o->rows));
    else
        printf("Wrote the %s report (%llu rows) to %s.\n", rep->kind, (unsigned long long)o->rows,
               o->path);
    return EXIT_OK;
}

/* ------------------------------------------------------------ the command */

static int parse(cli *c, Dangan__V1__ReportRequest *m, struct file *o)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"by", required_argument, NULL, OPT_BY},
        {"owner", required_argument, NULL, OPT_OWNER},
        {"output", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    cli_getopt_reset();
    while ((opt = getopt_long(c->argc, c->argv, "ho:", opts, NULL)) != -1) {
        if (opt == OPT_FROM)
            m->from = optarg;
        else if (opt == OPT_TO)
            m->to = optarg;
        else if (opt == OPT_BY)
            m->by = optarg;
        else if (opt == OPT_OWNER)
            m->owner = optarg;
        else if (opt == 'o' || opt == OPT_OUT)
            o->path = optarg;
        else if (opt == 'h')
            return fputs(HELP, stdout), -1;
        else
            return cli_bad_option(c);
    }
    if (optind != c->argc)
        return cli_usage(c, "report takes one report name, not \"%s\"", c->argv[optind]);
    if (m->from[0] && !cli_date_valid(m->from))
        return cli_usage(c, "--from %s: a date, YYYY-MM-DD", m->from);
    if (m->to[0] && !cli_date_valid(m->to))
        return cli_usage(c, "--to %s: a date, YYYY-MM-DD", m->to);
    if (m->from[0] && m->to[0] && strcmp(m->to, m->from) < 0)
        return cli_usage(c, "--to %s is before --from %s", m->to, m->from);
    if (o->path) {
        size_t n = strlen(o->path);

        o->is_xlsx = n > 5 && !strcasecmp(o->path + n - 5, ".xlsx");
        if (!o->is_xlsx && !(n > 4 && !strcasecmp(o->path + n - 4, ".csv")))
            return cli_usage(c, "-o %s: the file name ends in .csv or .xlsx", o->path);
    }
    return EXIT_OK;
}

int cmd_report(cli *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ReportRequest m = DANGAN__V1__REPORT_REQUEST__INIT;
    struct file o = {.c = c};
    const Dangan__V1__Response *resp;
    dg_reply *r;
    bool known = false;
    int rc;

    if (c->argc < 2 || !strcmp(c->argv[1], "--help") || !strcmp(c->argv[1], "-h")) {
        fputs(HELP, c->argc < 2 ? stderr : stdout);
        return c->argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t i = 0; i < DG_ARRAY_LEN(kinds); i++)
        known |= !strcmp(c->argv[1], kinds[i]);
    if (!known)
        return cli_usage(c,
                         "report: summary, revenue, pipeline, activity, churn or satisfaction, "
                         "not \"%s\"",
                         c->argv[1]);
    m.kind = c->argv[1];
    c->argc--;
    c->argv++;
    if ((rc = parse(c, &m, &o)) != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = cli_rec_session(c)) != EXIT_OK)
        return rc;
    req.body_case = DANGAN__V1__REQUEST__BODY_REPORT;
    req.report = &m;
    if ((rc = cli_rec_send(c, &req, &r)) != EXIT_OK)
        return rc;
    resp = dg_reply_response(r);
    if (resp->status && resp->status->code == DANGAN__V1__CODE__INVALID_ARGUMENT) {
        rc = cli_usage(c, "%s", resp->status->message); /* the request's own values: usage */
    } else if (resp->status && resp->status->code != DANGAN__V1__CODE__OK) {
        rc = cli_fail_status(c, resp->status, NULL);
    } else if (o.path) {
        rc = export_report(&o, resp->report);
    } else if (c->is_json) {
        cli_print_json(report_json(resp->report));
    } else {
        print_human(resp->report);
    }
    dg_reply_free(r);
    return rc;
}
