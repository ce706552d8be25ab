/* cmd_export.c - `dangan export KIND -o FILE.csv|FILE.xlsx [filters]`:
 * customers, contacts, notes, deals, feedback or tasks to a spreadsheet.
 *
 * The export right is the server's to grant (ExportBegin, audited); the
 * rows come from List, a page at a time, so what the caller may not see
 * stays out and masked fields stay masked, exactly as `customer list` shows
 * them. Each page is written as it arrives and then freed: memory does not
 * grow with the rows (libxlsxwriter in constant-memory mode streams the
 * sheet to a temporary file). The file (mode 0600: personal data) appears
 * under its name only when complete; the row count ends the export
 * (ExportFinish, audited).
 *
 * CSV: UTF-8 with a byte-order mark (so Excel shows Chinese), CRLF. XLSX:
 * the header row frozen, columns as wide as their widest text (a Chinese
 * character counts double), times and dates as date cells, money as numbers
 * with the currency's decimals. In both, text that a spreadsheet would run
 * as a formula gets a leading apostrophe. Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "alloc.h"
#include "money.h"
#include "rec.h"
#include "tabout.h"
#include "utf8.h"

#define PAGE 1000
#define WIDTH_MAX 60
#define TEXT_MAX 4096

enum { OPT_OUT = 300, OPT_SORT, OPT_CUSTOMER, OPT_FILTER = 400 };

static const char HELP[] =
    "usage: dangan export customers|contacts|notes|deals|feedback|tasks -o FILE.csv|FILE.xlsx\n"
    "                     [list filters] [--customer REF] [--sort FIELD|-FIELD]\n"
    "\n"
    "Writes the records you may see to a new spreadsheet file: CSV (UTF-8 with a\n"
    "byte-order mark) or XLSX (header row frozen, dates as dates, money as numbers).\n"
    "Masked fields stay masked. Text a spreadsheet would run as a formula (starting\n"
    "with = + - @) gets a leading '. Sales, managers and admins; audited with the row\n"
    "count.\n"
    "\n"
    "  -o FILE           .csv or .xlsx; must not exist\n"
    "  --customer REF    contacts, notes, deals, feedback, tasks of one customer\n"
    "  --sort FIELD      as in `dangan customer list`\n"
    "  list filters (customers): --tier T --status S --owner USER|me --industry X\n"
    "                    --region X --tag X --custom NAME=V --archived\n";

/* Fields whose text is a calendar date (YYYY-MM-DD in the .proto). */
static const char *const date_fields[] = {"founded_on", "birthday", "next_follow_up"};

struct col {
    const ProtobufCFieldDescriptor *f; /* NULL: a custom field (header custom.NAME) */
    bool is_currency;                  /* the second column of a Money field */
    char header[96];
    size_t width; /* display columns of the widest text */
};

struct out {
    cli *c;
    const cli_kind *k;
    const char *path;
    char tmp[4200];
    bool is_xlsx;
    FILE *csv;
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *f_date, *f_time, *f_money[4];
    struct col *cols;
    size_t n_cols;
    uint64_t rows;
    uint64_t export_id;
    cli_progress progress;
};

static const struct {
    const char *name;
    Dangan__V1__EntityKind kind;
} kinds[] = {
    {"customers", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER},
    {"contacts", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT},
    {"notes", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION},
    {"interactions", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION},
    {"deals", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL},
    {"feedback", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK},
    {"tasks", DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK},
};

/* ------------------------------------------------------------ columns */

static bool is_money(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor == &dangan__v1__money__descriptor;
}

static bool is_instant(const ProtobufCFieldDescriptor *f)
{
    size_t n = strlen(f->name);

    return f->type == PROTOBUF_C_TYPE_INT64 && n > 3 && !strcmp(f->name + n - 3, "_ms");
}

static bool is_date_field(const ProtobufCFieldDescriptor *f)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(date_fields); i++)
        if (!strcmp(f->name, date_fields[i]))
            return true;
    return false;
}

/* Every field of the kind's message but custom values (those follow, one
 * column each: add_custom_columns), in .proto order; a Money field as its
 * amount and its currency. */
static void make_columns(struct out *o)
{
    const ProtobufCMessageDescriptor *d = o->k->desc;

    o->cols = dg_xcalloc(2 * d->n_fields, sizeof *o->cols);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];

        if (!strcmp(f->name, "custom"))
            continue;
        o->cols[o->n_cols] = (struct col){.f = f};
        snprintf(o->cols[o->n_cols++].header, sizeof o->cols->header, "%s", f->name);
        if (is_money(f)) {
            o->cols[o->n_cols] = (struct col){.f = f, .is_currency = true};
            snprintf(o->cols[o->n_cols++].header, sizeof o->cols->header, "%s_currency", f->name);
        }
    }
    for (size_t i = 0; i < o->n_cols; i++)
        o->cols[i].width = dg_utf8_width(o->cols[i].header);
}

/* Customers: a column custom.NAME for each custom field defined now. */
static int add_custom_columns(struct out *o)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListFieldsRequest lf = DANGAN__V1__LIST_FIELDS_REQUEST__INIT;
    const Dangan__V1__ListFieldsResponse *fields;
    dg_reply *r;
    int rc;

    if (o->k->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        return EXIT_OK;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST_FIELDS;
    req.list_fields = &lf;
    if ((rc = cli_rec_call(o->c, &req, &r)) != EXIT_OK)
        return rc;
    fields = dg_reply_response(r)->list_fields;
    o->cols = dg_xrealloc(o->cols, (o->n_cols + fields->n_fields) * sizeof *o->cols);
    for (size_t i = 0; i < fields->n_fields; i++) {
        struct col *col = &o->cols[o->n_cols++];

        *col = (struct col){.f = NULL};
        snprintf(col->header, sizeof col->header, "custom.%s", fields->fields[i]->name);
        col->width = dg_utf8_width(col->header);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ cells */

static void note_width(struct col *col, const char *text)
{
    size_t w = dg_utf8_width(text);

    if (w > col->width)
        col->width = w;
}

/* The cell's text (CSV; XLSX text cells): a spreadsheet's view, money as
 * its plain decimal amount. */
static bool cell_text(const ProtobufCMessage *m, const struct col *col, char *buf, size_t len)
{
    if (!col->f)
        return cli_field_text(m, col->header, buf, len);
    if (is_money(col->f)) {
        const Dangan__V1__Money *money =
            *(Dangan__V1__Money *const *)((const char *)m + col->f->offset);
        int e;

        buf[0] = '\0';
        if (!money || !money->currency || !money->currency[0])
            return false;
        if (col->is_currency) {
            snprintf(buf, len, "%s", money->currency);
            return true;
        }
        e = dg_currency_exponent(money->currency);
        e = e < 0 || e > 3 ? 2 : e;
        {
            static const uint64_t scale[] = {1, 10, 100, 1000};
            uint64_t u = money->amount_minor < 0 ? 0 - (uint64_t)money->amount_minor
                                                 : (uint64_t)money->amount_minor;

            if (e == 0)
                snprintf(buf, len, "%s%llu", money->amount_minor < 0 ? "-" : "",
                         (unsigned long long)u);
            else
                snprintf(buf, len, "%s%llu.%0*llu", money->amount_minor < 0 ? "-" : "",
                         (unsigned long long)(u / scale[e]), e, (unsigned long long)(u % scale[e]));
        }
        return true;
    }
    if (is_instant(col->f)) {
        int64_t ms = cli_msg_i64(m, col->f->name);

        buf[0] = '\0';
        if (!ms)
            return false;
        cli_time_seconds(ms, buf, len); /* the team's zone (when.c) */
        return true;
    }
    return cli_field_text(m, col->f->name, buf, len);
}

/* A text cell; one a spreadsheet would run as a formula gets a leading '. */
static lxw_error write_text(struct out *o, lxw_row_t row, lxw_col_t c, const char *text)
{
    char *safe;
    lxw_error rc;

    if (!cli_cell_is_risky(text))
        return worksheet_write_string(o->ws, row, c, text, NULL);
    safe = dg_xasprintf("'%s", text);
    rc = worksheet_write_string(o->ws, row, c, safe, NULL);
    free(safe);
    return rc;
}

static lxw_error write_xlsx_cell(struct out *o, lxw_row_t row, lxw_col_t c, struct col *col,
                                 const ProtobufCMessage *m, const char *text)
{
    lxw_datetime dt = {0};
    int e;

    if (!col->f) /* custom fields: text as entered */
        return write_text(o, row, c, text);
    if (is_money(col->f) && !col->is_currency) {
        const Dangan__V1__Money *money =
            *(Dangan__V1__Money *const *)((const char *)m + col->f->offset);

        e = dg_currency_exponent(money->currency);
        e = e < 0 || e > 3 ? 2 : e;
        return worksheet_write_number(o->ws, row, c, strtod(text, NULL), o->f_money[e]);
    }
    if (is_instant(col->f) && sscanf(text, "%d-%d-%d %d:%d:%lf", &dt.year, &dt.month, &dt.day,
                                     &dt.hour, &dt.min, &dt.sec) == 6)
        return worksheet_write_datetime(o->ws, row, c, &dt, o->f_time);
    if (is_date_field(col->f) && cli_date_valid(text) &&
        sscanf(text, "%d-%d-%d", &dt.year, &dt.month, &dt.day) == 3)
        return worksheet_write_datetime(o->ws, row, c, &dt, o->f_date);
    if ((col->f->type == PROTOBUF_C_TYPE_INT64 || col->f->type == PROTOBUF_C_TYPE_INT32) &&
        col->f->label != PROTOBUF_C_LABEL_REPEATED)
        return worksheet_write_number(o->ws, row, c, (double)cli_msg_i64(m, col->f->name), NULL);
    return write_text(o, row, c, text);
}

static int write_record(struct out *o, const ProtobufCMessage *m)
{
    char text[TEXT_MAX];

    for (size_t i = 0; i < o->n_cols; i++) {
        struct col *col = &o->cols[i];
        bool has = cell_text(m, col, text, sizeof text);

        note_width(col, text);
        if (!o->is_xlsx)
            cli_csv_cell(o->csv, has ? text : "", i == 0);
        else if (has && write_xlsx_cell(o, (lxw_row_t)(o->rows + 1), (lxw_col_t)i, col, m, text) !=
                            LXW_NO_ERROR)
            return DG_EIO;
    }
    if (!o->is_xlsx)
        cli_csv_end_row(o->csv);
    o->rows++;
    return o->csv && ferror(o->csv) ? DG_EIO : DG_OK;
}

/* ------------------------------------------------------------ the file */

static int open_out(struct out *o)
{
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE};

    snprintf(o->tmp, sizeof o->tmp, "%s.part", o->path);
    if (access(o->path, F_OK) == 0)
        return cli_usage(o->c, "%s exists; export writes a new file", o->path);
    if (!o->is_xlsx) {
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd < 0 || !(o->csv = fdopen(fd, "wb"))) {
            if (fd >= 0)
                close(fd);
            return cli_usage(o->c, "cannot write %s: %s", o->tmp, strerror(errno));
        }
        fputs("\xef\xbb\xbf", o->csv);
        for (size_t i = 0; i < o->n_cols; i++)
            cli_csv_cell(o->csv, o->cols[i].header, i == 0);
        cli_csv_end_row(o->csv);
        return EXIT_OK;
    }
    if (!(o->wb = workbook_new_opt(o->tmp, &opts)) ||
        !(o->ws = workbook_add_worksheet(o->wb, NULL)))
        return cli_usage(o->c, "cannot write %s", o->tmp);
    o->f_date = workbook_add_format(o->wb);
    format_set_num_format(o->f_date, "yyyy-mm-dd");
    o->f_time = workbook_add_format(o->wb);
    format_set_num_format(o->f_time, "yyyy-mm-dd hh:mm:ss");
    for (int e = 0; e < 4; e++) {
        static const char *const fmts[] = {"#,##0", "#,##0.0", "#,##0.00", "#,##0.000"};

        o->f_money[e] = workbook_add_format(o->wb);
        format_set_num_format(o->f_money[e], fmts[e]);
    }
    worksheet_freeze_panes(o->ws, 1, 0);
    for (size_t i = 0; i < o->n_cols; i++)
        worksheet_write_string(o->ws, 0, (lxw_col_t)i, o->cols[i].header, NULL);
    return EXIT_OK;
}

/* Finishes the file under its name (ok), or removes what was written. */
static int close_out(struct out *o, bool ok)
{
    bool failed = false;

    if (o->csv)
        failed = fclose(o->csv) != 0;
    if (o->wb) {
        for (size_t i = 0; i < o->n_cols; i++) {
            size_t w = o->cols[i].width + 2;

            worksheet_set_column(o->ws, (lxw_col_t)i, (lxw_col_t)i,
                                 (double)(w > WIDTH_MAX ? WIDTH_MAX : w), NULL);
        }
        failed |= workbook_close(o->wb) != LXW_NO_ERROR;
        failed |= chmod(o->tmp, 0600) != 0; /* personal data: the owner's alone */
    }
    o->csv = NULL;
    o->wb = NULL;
    if (ok && !failed && rename(o->tmp, o->path) == 0)
        return EXIT_OK;
    unlink(o->tmp);
    return ok ? cli_fail(o->c, EXIT_SERVER, "UNKNOWN", "write_failed", "cannot write %s", o->path)
              : EXIT_SERVER;
}

/* ------------------------------------------------------------ requests */

static int begin(struct out *o, const Dangan__V1__ListFilter *filter)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ExportBeginRequest b = DANGAN__V1__EXPORT_BEGIN_REQUEST__INIT;
    dg_reply *r;
    int rc;

    b.kind = o->k->kind;
    b.filter = (Dangan__V1__ListFilter *)filter;
    b.format = o->is_xlsx ? "xlsx" : "csv";
    req.body_case = DANGAN__V1__REQUEST__BODY_EXPORT_BEGIN;
    req.export_begin = &b;
    if ((rc = cli_rec_call(o->c, &req, &r)) != EXIT_OK)
        return rc;
    o->export_id = dg_reply_response(r)->export_begin->export_id;
    dg_reply_free(r);
    return EXIT_OK;
}

static int finish(struct out *o)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ExportFinishRequest f = DANGAN__V1__EXPORT_FINISH_REQUEST__INIT;
    dg_reply *r;
    int rc;

    f.export_id = o->export_id;
    f.rows = o->rows;
    req.body_case = DANGAN__V1__REQUEST__BODY_EXPORT_FINISH;
    req.export_finish = &f;
    if ((rc = cli_rec_call(o->c, &req, &r)) == EXIT_OK)
        dg_reply_free(r);
    return rc;
}

/* Pages through List, writing each page before the next is asked for. */
static int write_pages(struct out *o, Dangan__V1__Request *req)
{
    Dangan__V1__ListRequest *l = req->list;
    int rc;

    l->limit = PAGE;
    cli_progress_start(&o->progress, !o->c->is_json && isatty(STDERR_FILENO), 0, "rows");
    for (;;) {
        dg_reply *r;
        const Dangan__V1__ListResponse *page;

        if ((rc = cli_rec_call(o->c, req, &r)) != EXIT_OK)
            break;
        page = dg_reply_response(r)->list;
        for (size_t i = 0; i < page->n_records && rc == EXIT_OK; i++)
            if (write_record(o, cli_record_body(page->records[i])) != DG_OK)
                rc = cli_fail(o->c, EXIT_SERVER, "UNKNOWN", "write_failed", "cannot write %s",
                              o->tmp);
        cli_progress_update(&o->progress, o->rows);
        if (rc != EXIT_OK || !page->next_cursor[0] ||
            (l->cursor && !strcmp(l->cursor, page->next_cursor))) {
            dg_reply_free(r);
            break;
        }
        cli_replace_str(&l->cursor, page->next_cursor);
        dg_reply_free(r);
    }
    cli_progress_end(&o->progress);
    return rc;
}

/* ------------------------------------------------------------ the command */

static int parse_args(struct out *o, Dangan__V1__Request *req, const char **customer)
{
    static const char *const filters[] = {"tier",   "status", "owner",  "industry",
                                          "region", "tag",    "custom", "archived"};
    struct option opts[DG_ARRAY_LEN(filters) + 5] = {
        {"output", required_argument, NULL, OPT_OUT},
        {"sort", required_argument, NULL, OPT_SORT},
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"help", no_argument, NULL, 'h'},
    };
    cli *c = o->c;
    int opt, rc = EXIT_OK;

    for (size_t i = 0; i < DG_ARRAY_LEN(filters); i++)
        opts[4 + i] = (struct option){
            filters[i], strcmp(filters[i], "archived") ? required_argument : no_argument, NULL,
            OPT_FILTER + (int)i};
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "ho:", opts, NULL)) != -1) {
        if (opt == 'o' || opt == OPT_OUT)
            o->path = optarg;
        else if (opt == OPT_SORT && (rc = cli_check_sort(c, o->k, optarg)) == EXIT_OK)
            cli_replace_str(&req->list->sort, optarg);
        else if (opt == OPT_CUSTOMER)
            *customer = optarg;
        else if (opt >= OPT_FILTER && opt < OPT_FILTER + (int)DG_ARRAY_LEN(filters))
            rc = cli_list_filter_option(c, filters[opt - OPT_FILTER], optarg, req->list->filter);
        else if (opt == 'h')
            return fputs(HELP, stdout), -1;
        else if (opt != OPT_SORT)
            return cli_bad_option(c);
    }
    if (rc == EXIT_OK && optind != c->argc)
        rc = cli_usage(c, "export takes no arguments besides its options");
    if (rc == EXIT_OK && !o->path)
        rc = cli_usage(c, "export needs -o FILE.csv or -o FILE.xlsx");
    if (rc == EXIT_OK) {
        size_t n = strlen(o->path);

        o->is_xlsx = n > 5 && !strcasecmp(o->path + n - 5, ".xlsx");
        if (!o->is_xlsx && !(n > 4 && !strcasecmp(o->path + n - 4, ".csv")))
            rc = cli_usage(c, "-o %s: the file name ends in .csv or .xlsx", o->path);
    }
    return rc;
}

static int run(struct out *o, Dangan__V1__Request *req, const char *customer)
{
    int rc;

    if (customer &&
        (rc = cli_customer_id(o->c, customer, &req->list->filter->customer_id)) != EXIT_OK)
        return rc;
    if ((rc = cli_rec_session(o->c)) != EXIT_OK || (rc = add_custom_columns(o)) != EXIT_OK ||
        (rc = begin(o, req->list->filter)) != EXIT_OK)
        return rc;
    if ((rc = open_out(o)) != EXIT_OK) {
        close_out(o, false);
        return rc;
    }
    rc = write_pages(o, req);
    if ((rc = close_out(o, rc == EXIT_OK) == EXIT_OK ? rc : EXIT_SERVER) != EXIT_OK)
        return rc;
    if ((rc = finish(o)) != EXIT_OK)
        return rc;
    if (o->c->is_json)
        cli_print_json(json_pack("{s:s,s:I}", "file", o->path, "rows", (json_int_t)o->rows));
    else
        printf("Exported %llu %s%s to %s.\n", (unsigned long long)o->rows, o->k->name,
               o->rows == 1 || o->k->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK ? ""
                                                                                           : "s",
               o->path);
    return EXIT_OK;
}

int cmd_export(cli *c)
{
    struct out o = {.c = c};
    Dangan__V1__Request *req;
    const char *customer = NULL;
    int rc = -2;

    if (c->argc < 2 || !strcmp(c->argv[1], "--help") || !strcmp(c->argv[1], "-h")) {
        fputs(HELP, c->argc < 2 ? stderr : stdout);
        return c->argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t i = 0; i < DG_ARRAY_LEN(kinds); i++)
        if (!strcmp(c->argv[1], kinds[i].name))
            o.k = cli_kind_get(kinds[i].kind);
    if (!o.k)
        return cli_usage(c,
                         "export: customers, contacts, notes, deals, feedback or tasks, not "
                         "\"%s\"",
                         c->argv[1]);
    c->argc--;
    c->argv++;
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req->list = (Dangan__V1__ListRequest *)cli_msg_new(&dangan__v1__list_request__descriptor);
    req->list->kind = o.k->kind;
    req->list->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    make_columns(&o);
    rc = parse_args(&o, req, &customer);
    if (rc == EXIT_OK)
        rc = run(&o, req, customer);
    dangan__v1__request__free_unpacked(req, NULL);
    free(o.cols);
    return rc < 0 ? EXIT_OK : rc;
}
