/* cmd_import.c - `dangan import customers FILE`: a CSV or XLSX register of
 * customers (and their contacts) into the customer file.
 *
 * The file is read and every row checked before anything is sent; a bad
 * row is named by line and column. The server is asked for the import right
 * (ImportBegin, audited with the file's SHA-256) even for --dry-run. Rows go
 * in Batch requests of at most --batch rows, one customer and its contact
 * per row, so a row is imported whole or not at all. A batch the server
 * refuses names the op at fault: a likely duplicate is handled by
 * --on-duplicate (skip: the default, so importing the same file again
 * changes nothing; update: the twin gets the row's differing fields; create:
 * never asks), any other refusal rejects that row with the server's reason;
 * the rows before it are sent again as they were, the rest after. Rejected
 * rows go to FILE.rejects.csv with their line, column and reason. The counts
 * end the import (ImportFinish, audited). Single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "hex.h"
#include "imp.h"
#include "tabout.h"

#define FILE_MAX (1024u << 20)
#define BATCH_ROWS 500
#define BATCH_MAX_ROWS 4000 /* 2 ops a row within the server's 10,000 */
#define RETRIES 5

enum dup_policy { DUP_SKIP, DUP_UPDATE, DUP_CREATE };
enum { OPT_ENCODING = 256, OPT_MAP, OPT_ON_DUP, OPT_DRY_RUN, OPT_BATCH, OPT_REJECTS };

static const char HELP[] =
    "usage: dangan import customers FILE [--encoding auto|utf-8|gb18030] [--map COLUMN=FIELD]...\n"
    "                               [--on-duplicate skip|update|create] [--dry-run]\n"
    "                               [--batch N] [--rejects FILE]\n"
    "\n"
    "Imports customers, with their contacts when the file has contact columns, from\n"
    "a CSV file or the first sheet of an XLSX workbook. The first row names the\n"
    "columns, in English or Chinese: 客户名称 (name), 简称, 电话, 地址, 行业, 地区,\n"
    "邮箱, 网址, 等级, 负责人, 备注..., and for the contact 联系人, 手机, 职位...\n"
    "Field names work too (name, short_name, contact.mobile). Each row is imported\n"
    "whole (customer and contact) or not at all. Managers and admins; audited with\n"
    "the file's SHA-256 and the counts.\n"
    "\n"
    "  --encoding E        of a CSV file: auto (default: a byte-order mark, else UTF-8\n"
    "                      if valid, else GB18030 as Excel saves it in China), utf-8,\n"
    "                      gb18030, gbk or any iconv name\n"
    "  --map COLUMN=FIELD  column (its header or letter) to field: a customer field,\n"
    "                      contact.FIELD, custom.NAME, or - to leave it out\n"
    "  --on-duplicate P    a row whose customer is already on file (same name, phone\n"
    "                      or e-mail): skip (default; importing the same file again\n"
    "                      changes nothing), update (its differing fields), create\n"
    "  --dry-run           check every row and report the bad ones; write nothing\n"
    "  --batch N           rows per transaction (default 500, at most 4000)\n"
    "  --rejects FILE      where bad rows go (default FILE.rejects.csv)\n"
    "\n"
    "Exit status 0 when every row was imported, skipped or updated; 9 when some\n"
    "were rejected (listed, and written to the rejects file unless --dry-run).\n";

struct import {
    cli *c;
    const char *path;
    const char *encoding;
    char **maps;
    size_t n_maps;
    enum dup_policy policy;
    bool is_dry_run;
    uint32_t batch_rows;
    const char *rejects_path;
    char sha256[65];
    cli_table table;
    imp_map map;
    imp_rec *recs;
    size_t n_recs;
    uint64_t import_id;
    uint32_t counts[5]; /* by enum imp_state */
    cli_progress progress;
};

/* ------------------------------------------------------------ the file */

static int read_file(cli *c, const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    size_t got;

    if (!f)
        return cli_usage(c, "cannot read %s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX) {
        fclose(f);
        return cli_usage(c, "%s: not a regular file of at most 1 GiB", path);
    }
    *data = dg_xmalloc((size_t)st.st_size + 1);
    got = fread(*data, 1, (size_t)st.st_size, f);
    fclose(f);
    if (got != (size_t)st.st_size) {
        free(*data);
        return cli_usage(c, "cannot read %s", path);
    }
    *len = got;
    return EXIT_OK;
}

static bool is_xlsx(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path);

    return (n > 5 && strcasecmp(path + n - 5, ".xlsx") == 0) ||
           (len > 4 && memcmp(data, "PK\x03\x04", 4) == 0);
}

static int load(struct import *im)
{
    char *data = NULL, *text = NULL, err[512] = "";
    const char *used = "";
    size_t len = 0, text_len = 0;
    uint8_t sum[32];
    int rc;

    if ((rc = read_file(im->c, im->path, &data, &len)) != EXIT_OK)
        return rc;
    mbedtls_sha256_ret((const unsigned char *)data, len, sum, 0);
    dg_hex_encode(sum, sizeof sum, im->sha256);
    if (is_xlsx(im->path, data, len)) {
        rc = cli_tab_xlsx(data, len, &im->table, err, sizeof err);
    } else {
        rc = cli_tab_to_utf8(data, len, im->encoding, &text, &text_len, &used, err, sizeof err);
        if (rc == DG_OK)
            rc = cli_tab_csv(text, text_len, &im->table, err, sizeof err);
        free(text);
    }
    free(data);
    if (rc != DG_OK)
        return cli_usage(im->c, "%s: %s", im->path, err);
    if (im->table.n == 0)
        return cli_usage(im->c, "%s has no rows", im->path);
    return EXIT_OK;
}

/* Every data row to its records; the bad ones rejected now. */
static void build_rows(struct import *im)
{
    im->n_recs = im->table.n - 1;
    im->recs = dg_xcalloc(im->n_recs ? im->n_recs : 1, sizeof *im->recs);
    for (size_t i = 0; i < im->n_recs; i++)
        if (!imp_row_build(im->c, &im->map, &im->table.rows[i + 1], &im->recs[i]))
            im->counts[IMP_REJECTED]++;
}

/* ------------------------------------------------------------ requests */

static Dangan__V1__Request *begin_request(struct import *im)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ImportBeginRequest *b = (Dangan__V1__ImportBeginRequest *)cli_msg_new(
        &dangan__v1__import_begin_request__descriptor);
    const char *base = strrchr(im->path, '/');

    b->kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    b->file_name = dg_xstrndup(base ? base + 1 : im->path, 255);
    b->file_sha256 = dg_xstrdup(im->sha256);
    b->rows = (uint32_t)im->n_recs;
    b->dry_run = im->is_dry_run;
    req->body_case = DANGAN__V1__REQUEST__BODY_IMPORT_BEGIN;
    req->import_begin = b;
    return req;
}

static int begin(struct import *im)
{
    Dangan__V1__Request *req = begin_request(im);
    dg_reply *r;
    int rc = cli_rec_call(im->c, req, &r);

    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    im->import_id = dg_reply_response(r)->import_begin->import_id;
    dg_reply_free(r);
    return EXIT_OK;
}

static int finish(struct import *im)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ImportFinishRequest *f = (Dangan__V1__ImportFinishRequest *)cli_msg_new(
        &dangan__v1__import_finish_request__descriptor);
    dg_reply *r;
    int rc;

    f->import_id = im->import_id;
    f->file_sha256 = dg_xstrdup(im->sha256);
    f->created = im->counts[IMP_CREATED];
    f->updated = im->counts[IMP_UPDATED];
    f->skipped = im->counts[IMP_SKIPPED];
    f->rejected = im->counts[IMP_REJECTED];
    req->body_case = DANGAN__V1__REQUEST__BODY_IMPORT_FINISH;
    req->import_finish = f;
    rc = cli_rec_call(im->c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc == EXIT_OK)
        dg_reply_free(r);
    return rc;
}

/* A Record of kind k around a copy of `body` (packed and unpacked: the
 * batch owns its copy, the row keeps its own). */
static Dangan__V1__Record *record_of(Dangan__V1__EntityKind k, const ProtobufCMessage *body)
{
    ProtobufCMessage *copy;
    Dangan__V1__Record *rec = cli_record_new(cli_kind_get(k), &copy);
    size_t n = protobuf_c_message_get_packed_size(body);
    uint8_t *buf = dg_xmalloc(n ? n : 1);
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, k);

    protobuf_c_message_pack(body, buf);
    protobuf_c_message_free_unpacked(copy, NULL);
    copy = protobuf_c_message_unpack(body->descriptor, NULL, n, buf);
    dg_assert(copy);
    free(buf);
    *(ProtobufCMessage **)((char *)rec + fd->offset) = copy;
    return rec;
}

static Dangan__V1__BatchOp *create_op(Dangan__V1__Record *rec, bool allow_duplicate)
{
    Dangan__V1__BatchOp *op = (Dangan__V1__BatchOp *)cli_msg_new(&dangan__v1__batch_op__descriptor);
    Dangan__V1__CreateRequest *cr =
        (Dangan__V1__CreateRequest *)cli_msg_new(&dangan__v1__create_request__descriptor);

    cr->record = rec;
    cr->allow_duplicate = allow_duplicate;
    op->op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
    op->create = cr;
    return op;
}

static void batch_add(Dangan__V1__BatchRequest *b, Dangan__V1__BatchOp *op)
{
    b->ops = dg_xrealloc(b->ops, (b->n_ops + 1) * sizeof *b->ops);
    b->ops[b->n_ops++] = op;
}

/* The contact of `r` for customer `customer_id` (-N: the batch's op N). */
static Dangan__V1__BatchOp *contact_op(const imp_rec *r, int64_t customer_id)
{
    Dangan__V1__Record *rec = record_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT, &r->ct->base);

    rec->contact->customer_id = customer_id;
    return create_op(rec, false);
}

/* ------------------------------------------------------------ duplicates */

/* The customer the server takes `r` for: a Create without allow_duplicate
 * answers its likely twins. *twin 0 and EXIT_OK when the server created it
 * after all (the twin went away meanwhile): then the contact follows alone. */
static int find_twin(struct import *im, imp_rec *r, int64_t *twin)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__CreateRequest *cr =
        (Dangan__V1__CreateRequest *)cli_msg_new(&dangan__v1__create_request__descriptor);
    const Dangan__V1__Response *resp;
    dg_reply *rep;
    int rc;

    cr->record = record_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, &r->cu->base);
    req->body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req->create = cr;
    rc = cli_rec_send(im->c, req, &rep);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    resp = dg_reply_response(rep);
    *twin = 0;
    if (resp->status->code == DANGAN__V1__CODE__OK) {
        r->state = IMP_CREATED;
        *twin = -resp->create->record->customer->id;
    } else if (resp->create && resp->create->n_duplicates) {
        *twin = resp->create->duplicates[0]->customer_id;
    } else {
        r->state = IMP_REJECTED;
        snprintf(r->why, sizeof r->why, "%s", resp->status->message);
    }
    dg_reply_free(rep);
    return EXIT_OK;
}

/* The update of `twin` (as it is now) to the row's values that differ;
 * NULL when none does. */
static Dangan__V1__BatchOp *update_op(const imp_rec *r, const Dangan__V1__Customer *twin)
{
    const ProtobufCMessageDescriptor *d = &dangan__v1__customer__descriptor;
    Dangan__V1__BatchOp *op;
    Dangan__V1__UpdateRequest *u;
    char a[1024], b[1024];

    u = (Dangan__V1__UpdateRequest *)cli_msg_new(&dangan__v1__update_request__descriptor);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const char *name = d->fields[i].name;

        if (!cli_field_is_settable(&d->fields[i]) ||
            !cli_field_text(&r->cu->base, name, a, sizeof a))
            continue;
        if (cli_field_text(&twin->base, name, b, sizeof b) && !strcmp(a, b))
            continue;
        u->update_mask = dg_xrealloc(u->update_mask, (u->n_update_mask + 1) * sizeof(char *));
        u->update_mask[u->n_update_mask++] = dg_xstrdup(name);
    }
    if (!u->n_update_mask) {
        dangan__v1__update_request__free_unpacked(u, NULL);
        return NULL;
    }
    u->record = record_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, &r->cu->base);
    u->record->customer->id = twin->id;
    u->expected_version = twin->version;
    op = (Dangan__V1__BatchOp *)cli_msg_new(&dangan__v1__batch_op__descriptor);
    op->op_case = DANGAN__V1__BATCH_OP__OP_UPDATE;
    op->update = u;
    return op;
}

/* Whether the twin's dossier has a contact of this name already. */
static bool has_contact(struct import *im, int64_t customer_id, const char *name)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__ListRequest *l =
        (Dangan__V1__ListRequest *)cli_msg_new(&dangan__v1__list_request__descriptor);
    const Dangan__V1__Response *resp;
    dg_reply *rep;
    bool found = false;

    l->kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT;
    l->limit = 1000;
    l->filter = (Dangan__V1__ListFilter *)cli_msg_new(&dangan__v1__list_filter__descriptor);
    l->filter->customer_id = customer_id;
    req->body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req->list = l;
    if (cli_rec_send(im->c, req, &rep) == EXIT_OK) {
        resp = dg_reply_response(rep);
        for (size_t i = 0; resp->list && i < resp->list->n_records; i++)
            found |= !strcmp(resp->list->records[i]->contact->name, name);
        dg_reply_free(rep);
    }
    dangan__v1__request__free_unpacked(req, NULL);
    return found;
}

/* Sends a batch; a refusal that asks for a retry (busy, overloaded) is
 * retried after the time it names. EXIT_OK with *out whatever its Status,
 * or the exit code of a lost connection (printed). */
static int send_batch(struct import *im, Dangan__V1__BatchRequest *b, dg_reply **out)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    const Dangan__V1__Status *st;
    int rc;

    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = b;
    for (int attempt = 0;; attempt++) {
        if ((rc = cli_rec_send(im->c, &req, out)) != EXIT_OK)
            return rc;
        st = dg_reply_response(*out)->status;
        if (st->code == DANGAN__V1__CODE__OK || st->retry_after_ms == 0 || attempt == RETRIES)
            return EXIT_OK;
        dg_reply_free(*out);
        usleep((useconds_t)(st->retry_after_ms > 5000 ? 5000 : st->retry_after_ms) * 1000);
    }
}

/* A refused op's row: the server's reason, and the column of the field at
 * fault ("ops[7].record.customer.email" → the column mapped to email). */
static void reject_from_status(struct import *im, imp_rec *r, const Dangan__V1__Status *st)
{
    const char *path = st->n_field_violations ? st->field_violations[0]->field : "";
    const char *p;

    r->state = IMP_REJECTED;
    snprintf(r->why, sizeof r->why, "%s",
             st->n_field_violations ? st->field_violations[0]->description : st->message);
    if ((p = strstr(path, ".customer.")))
        imp_column_of(&im->map, IMP_CUSTOMER, p + 10, r->column, sizeof r->column);
    else if ((p = strstr(path, ".contact.")))
        imp_column_of(&im->map, IMP_CONTACT, p + 9, r->column, sizeof r->column);
    if (st->n_field_violations && !strstr(r->why, st->message))
        snprintf(r->why, sizeof r->why, "%s", st->message);
}

/* --on-duplicate update: the twin's differing fields and, when its dossier
 * lacks it, the row's contact, in one batch. */
static int update_twin(struct import *im, imp_rec *r)
{
    Dangan__V1__BatchRequest *b =
        (Dangan__V1__BatchRequest *)cli_msg_new(&dangan__v1__batch_request__descriptor);
    Dangan__V1__BatchOp *op;
    dg_reply *got = NULL, *rep = NULL;
    int64_t twin;
    int rc;

    if ((rc = find_twin(im, r, &twin)) != EXIT_OK || r->state == IMP_REJECTED)
        goto out;
    if (twin < 0) { /* created after all: its contact follows */
        if (r->ct)
            batch_add(b, contact_op(r, -twin));
    } else if (!cli_rec_peek(im->c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, twin, &got)) {
        r->state = IMP_REJECTED;
        snprintf(r->why, sizeof r->why, "customer %lld is on file but could not be read",
                 (long long)twin);
        goto out;
    } else {
        if ((op = update_op(r, dg_reply_response(got)->get->record->customer)))
            batch_add(b, op);
        if (r->ct && !has_contact(im, twin, r->ct->name))
            batch_add(b, contact_op(r, twin));
        r->state = b->n_ops ? IMP_UPDATED : IMP_SKIPPED;
    }
    if (b->n_ops && (rc = send_batch(im, b, &rep)) == EXIT_OK &&
        dg_reply_response(rep)->status->code != DANGAN__V1__CODE__OK)
        reject_from_status(im, r, dg_reply_response(rep)->status);
out:
    dangan__v1__batch_request__free_unpacked(b, NULL);
    dg_reply_free(got);
    dg_reply_free(rep);
    return rc;
}

/* ------------------------------------------------------------ batches */

/* The batch of the pending rows from *next, at most n of them; which row
 * each op belongs to in op_row. */
static Dangan__V1__BatchRequest *next_batch(struct import *im, size_t from, size_t n,
                                            size_t **op_row)
{
    Dangan__V1__BatchRequest *b =
        (Dangan__V1__BatchRequest *)cli_msg_new(&dangan__v1__batch_request__descriptor);
    size_t taken = 0;

    *op_row = dg_xrealloc(*op_row, 2 * n * sizeof **op_row);
    for (size_t i = from; i < im->n_recs && taken < n; i++) {
        imp_rec *r = &im->recs[i];

        if (r->state != IMP_PENDING)
            continue;
        (*op_row)[b->n_ops] = i;
        batch_add(b,
                  create_op(record_of(DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, &r->cu->base),
                            im->policy == DUP_CREATE));
        if (r->ct) {
            (*op_row)[b->n_ops] = i;
            batch_add(b, contact_op(r, -(int64_t)b->n_ops));
        }
        taken++;
    }
    return b;
}

static size_t first_pending(const struct import *im, size_t from)
{
    while (from < im->n_recs && im->recs[from].state != IMP_PENDING)
        from++;
    return from;
}

static size_t done_rows(const struct import *im)
{
    return im->counts[IMP_CREATED] + im->counts[IMP_UPDATED] + im->counts[IMP_SKIPPED] +
           im->counts[IMP_REJECTED];
}

/* A refused batch: its op at fault settles its row (a duplicate by the
 * policy, anything else rejected); the rows before it go again. */
static int settle_failed(struct import *im, const Dangan__V1__Response *resp, const size_t *op_row,
                         size_t n_ops, size_t *n)
{
    uint32_t k = resp->batch ? resp->batch->failed_op : UINT32_MAX;
    imp_rec *r;
    int rc = EXIT_OK;

    if (k >= n_ops)
        return cli_fail_status(im->c, resp->status, NULL);
    r = &im->recs[op_row[k]];
    if (!strcmp(resp->status->reason, "likely_duplicate") && im->policy == DUP_UPDATE)
        rc = update_twin(im, r);
    else if (!strcmp(resp->status->reason, "likely_duplicate"))
        r->state = IMP_SKIPPED;
    else
        reject_from_status(im, r, resp->status);
    if (r->state == IMP_PENDING) /* update_twin failed on the connection */
        r->state = IMP_REJECTED;
    im->counts[r->state]++;
    /* the rows before it passed: exactly those next; none: try fewer */
    size_t before = 0;

    for (size_t i = 0; i < k; i++)
        before += op_row[i] != op_row[k] && (i == 0 || op_row[i] != op_row[i - 1]);
    *n = before ? before : (*n > 1 ? *n / 2 : 1);
    return rc;
}

static int import_rows(struct import *im)
{
    size_t from = 0, n = im->batch_rows, *op_row = NULL;
    int rc = EXIT_OK;

    cli_progress_start(&im->progress, !im->c->is_json && isatty(STDERR_FILENO), im->n_recs, "rows");
    while (rc == EXIT_OK && (from = first_pending(im, from)) < im->n_recs) {
        Dangan__V1__BatchRequest *b = next_batch(im, from, n, &op_row);
        dg_reply *rep;
        const Dangan__V1__Response *resp;

        rc = send_batch(im, b, &rep);
        if (rc == EXIT_OK) {
            resp = dg_reply_response(rep);
            if (resp->status->code == DANGAN__V1__CODE__OK) {
                for (size_t i = 0; i < b->n_ops; i++)
                    if (im->recs[op_row[i]].state == IMP_PENDING) {
                        im->recs[op_row[i]].state = IMP_CREATED;
                        im->counts[IMP_CREATED]++;
                    }
                n = n * 2 > im->batch_rows ? im->batch_rows : n * 2;
            } else {
                rc = settle_failed(im, resp, op_row, b->n_ops, &n);
            }
            dg_reply_free(rep);
        }
        dangan__v1__batch_request__free_unpacked(b, NULL);
        cli_progress_update(&im->progress, done_rows(im));
    }
    cli_progress_end(&im->progress);
    free(op_row);
    return rc;
}

/* ------------------------------------------------------------ reports */

static int write_rejects(struct import *im, const char *path)
{
    char tmp[4200];
    FILE *f;
    const cli_row *h = &im->table.rows[0];

    snprintf(tmp, sizeof tmp, "%s.part", path);
    if (!(f = fopen(tmp, "wb")))
        return cli_fail(im->c, EXIT_SERVER, "UNKNOWN", "write_failed", "cannot write %s: %s", tmp,
                        strerror(errno));
    fputs("\xef\xbb\xbf", f);
    cli_csv_cell(f, "line", true);
    cli_csv_cell(f, "column", false);
    cli_csv_cell(f, "reason", false);
    for (size_t j = 0; j < h->n; j++)
        cli_csv_cell(f, h->cells[j], false);
    cli_csv_end_row(f);
    for (size_t i = 0; i < im->n_recs; i++) {
        const imp_rec *r = &im->recs[i];
        char line[32];

        if (r->state != IMP_REJECTED)
            continue;
        snprintf(line, sizeof line, "%zu", r->src->line);
        cli_csv_cell(f, line, true);
        cli_csv_cell(f, r->column, false);
        cli_csv_cell(f, r->why, false);
        for (size_t j = 0; j < r->src->n; j++)
            cli_csv_cell(f, r->src->cells[j], false);
        cli_csv_end_row(f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return cli_fail(im->c, EXIT_SERVER, "UNKNOWN", "write_failed", "cannot write %s", path);
    }
    return EXIT_OK;
}

static void report(struct import *im, const char *rejects)
{
    json_t *errors = json_array();

    for (size_t i = 0; i < im->n_recs; i++) {
        const imp_rec *r = &im->recs[i];

        if (r->state != IMP_REJECTED)
            continue;
        if (im->c->is_json)
            json_array_append_new(errors,
                                  json_pack("{s:I,s:s,s:s}", "line", (json_int_t)r->src->line,
                                            "column", r->column, "reason", r->why));
        else
            printf("line %zu%s%s: %s\n", r->src->line, r->column[0] ? ", column " : "", r->column,
                   r->why);
    }
    if (im->c->is_json) {
        cli_print_json(json_pack("{s:s,s:s,s:I,s:b,s:I,s:I,s:I,s:I,s:o,s:o}", "file", im->path,
                                 "sha256", im->sha256, "rows", (json_int_t)im->n_recs, "dry_run",
                                 im->is_dry_run, "created", (json_int_t)im->counts[IMP_CREATED],
                                 "updated", (json_int_t)im->counts[IMP_UPDATED], "skipped",
                                 (json_int_t)im->counts[IMP_SKIPPED], "rejected",
                                 (json_int_t)im->counts[IMP_REJECTED], "errors", errors,
                                 "rejects_file", rejects ? json_string(rejects) : json_null()));
        return;
    }
    json_decref(errors);
    if (im->is_dry_run)
        printf("Dry run of %s: %zu rows, %u would be imported, %u rejected; nothing was "
               "written.\n",
               im->path, im->n_recs, (unsigned)(im->n_recs - im->counts[IMP_REJECTED]),
               im->counts[IMP_REJECTED]);
    else
        printf("Imported %s: %u created, %u updated, %u skipped (already on file), %u "
               "rejected%s%s%s.\n",
               im->path, im->counts[IMP_CREATED], im->counts[IMP_UPDATED], im->counts[IMP_SKIPPED],
               im->counts[IMP_REJECTED], rejects ? " (see " : "", rejects ? rejects : "",
               rejects ? ")" : "");
}

/* ------------------------------------------------------------ the command */

static int parse_args(struct import *im)
{
    static const struct option opts[] = {{"encoding", required_argument, NULL, OPT_ENCODING},
                                         {"map", required_argument, NULL, OPT_MAP},
                                         {"on-duplicate", required_argument, NULL, OPT_ON_DUP},
                                         {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                                         {"batch", required_argument, NULL, OPT_BATCH},
                                         {"rejects", required_argument, NULL, OPT_REJECTS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    cli *c = im->c;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_ENCODING:
            im->encoding = optarg;
            break;
        case OPT_MAP:
            im->maps = dg_xrealloc(im->maps, (im->n_maps + 1) * sizeof *im->maps);
            im->maps[im->n_maps++] = optarg;
            break;
        case OPT_ON_DUP:
            if (!strcmp(optarg, "skip") || !strcmp(optarg, "update") || !strcmp(optarg, "create"))
                im->policy =
                    optarg[0] == 's' ? DUP_SKIP : (optarg[0] == 'u' ? DUP_UPDATE : DUP_CREATE);
            else
                rc = cli_usage(c, "--on-duplicate: skip, update or create, not \"%s\"", optarg);
            break;
        case OPT_DRY_RUN:
            im->is_dry_run = true;
            break;
        case OPT_BATCH:
            rc = cli_parse_count(c, "--batch", optarg, BATCH_MAX_ROWS, &im->batch_rows);
            break;
        case OPT_REJECTS:
            im->rejects_path = optarg;
            break;
        case 'h':
            fputs(HELP, stdout);
            return -1;
        default:
            return cli_bad_option(c);
        }
    }
    if (rc == EXIT_OK && optind + 1 != c->argc)
        rc = cli_usage(c, "import customers needs one FILE");
    if (rc == EXIT_OK)
        im->path = c->argv[optind];
    return rc;
}

static int run(struct import *im)
{
    char rejects[4096];
    const char *rejects_file = NULL;
    int rc;

    if ((rc = load(im)) != EXIT_OK ||
        (rc = imp_map_build(im->c, &im->table.rows[0], im->maps, im->n_maps, &im->map)) != EXIT_OK)
        return rc;
    build_rows(im);
    if ((rc = cli_rec_session(im->c)) != EXIT_OK || (rc = begin(im)) != EXIT_OK)
        return rc;
    if (!im->is_dry_run)
        rc = import_rows(im);
    if (rc == EXIT_OK && !im->is_dry_run && im->counts[IMP_REJECTED]) {
        snprintf(rejects, sizeof rejects, "%s", im->rejects_path ? im->rejects_path : "");
        if (!im->rejects_path)
            snprintf(rejects, sizeof rejects, "%s.rejects.csv", im->path);
        if ((rc = write_rejects(im, rejects)) == EXIT_OK)
            rejects_file = rejects;
    }
    /* the counts are audited even when the import stopped half-way */
    if (finish(im) != EXIT_OK && rc == EXIT_OK)
        rc = EXIT_SERVER;
    if (rc == EXIT_OK) {
        report(im, rejects_file);
        rc = im->counts[IMP_REJECTED] ? EXIT_INVALID : EXIT_OK;
    }
    return rc;
}

int cmd_import(cli *c)
{
    struct import im = {.c = c, .encoding = "auto", .batch_rows = BATCH_ROWS};
    int rc;

    if (c->argc < 2 || !strcmp(c->argv[1], "--help") || !strcmp(c->argv[1], "-h")) {
        fputs(HELP, c->argc < 2 ? stderr : stdout);
        return c->argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(c->argv[1], "customers") != 0)
        return cli_usage(c,
                         "import: only customers can be imported (dangan import customers FILE)");
    c->argc--;
    c->argv++;
    rc = parse_args(&im);
    if (rc == EXIT_OK)
        rc = run(&im);
    for (size_t i = 0; i < im.n_recs; i++)
        imp_rec_fini(&im.recs[i]);
    free(im.recs);
    free(im.maps);
    imp_map_fini(&im.map);
    cli_table_fini(&im.table);
    return rc < 0 ? EXIT_OK : rc;
}
