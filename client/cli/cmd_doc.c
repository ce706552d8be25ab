/* cmd_doc.c - `dangan doc`: documents attached to a customer (contracts,
 * invoices, ...). upload, list and archive here; get in cmd_doc_get.c.
 *
 * An upload hashes the file (SHA-256), begins an upload on the server, and
 * sends the file in the server's chunk size with DOC_WINDOW chunks in
 * flight. The upload's id is kept in CONFIG_DIR/uploads until it is
 * finished: after a lost connection, or when the command is run again for
 * the same file and customer, it asks the server where the upload stopped
 * and goes on from there (docs/cli.md, "Documents").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "doc.h"

/* ------------------------------------------------------------ shared */

void doc_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * n] = '\0';
}

const char *doc_size_text(int64_t bytes, char *buf, size_t len)
{
    if (bytes < 1024)
        snprintf(buf, len, "%lld B", (long long)bytes);
    else if (bytes < (1 << 20))
        snprintf(buf, len, "%.1f KiB", (double)bytes / 1024);
    else
        snprintf(buf, len, "%.1f MiB", (double)bytes / (1 << 20));
    return buf;
}

json_t *doc_json(const Dangan__V1__Document *d)
{
    json_t *j = cli_pb_to_json(&d->base);
    char hex[65];

    if (d->sha256.len == 32) {
        doc_hex(d->sha256.data, 32, hex);
        json_object_set_new(j, "sha256", json_string(hex));
    }
    return j;
}

void doc_progress_start(doc_progress *p, const cli *c, const char *label, int64_t total,
                        int64_t done)
{
    *p = (doc_progress){.is_on = !c->is_json && isatty(STDERR_FILENO),
                        .label = label,
                        .total = total,
                        .done = done,
                        .start_done = done,
                        .t0_ms = dg_mono_ms()};
    doc_progress_set(p, done);
}

void doc_progress_set(doc_progress *p, int64_t done)
{
    int64_t now = dg_mono_ms(), el = now - p->t0_ms;
    double rate = el > 0 ? (double)(done - p->start_done) / (1 << 20) / ((double)el / 1000) : 0;
    int width = 30, fill = p->total ? (int)(width * done / p->total) : width;
    char bar[64], eta[32] = "";

    p->done = done;
    if (!p->is_on || (now - p->drawn_ms < 100 && done < p->total))
        return;
    p->drawn_ms = now;
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[width] = '\0';
    if (rate > 0 && done < p->total)
        snprintf(eta, sizeof eta, "  ETA %.0f s", (double)(p->total - done) / (1 << 20) / rate);
    fprintf(stderr, "\r%-8s [%s] %3d%%  %.1f/%.1f MiB  %.1f MiB/s%s\033[K", p->label, bar,
            p->total ? (int)(100 * done / p->total) : 100, (double)done / (1 << 20),
            (double)p->total / (1 << 20), rate, eta);
    fflush(stderr);
}

void doc_progress_end(doc_progress *p)
{
    if (p->is_on)
        fputs("\r\033[K", stderr);
}

int doc_reconnect(cli *c, int attempt)
{
    int rc;

    if (attempt > DOC_RETRIES)
        return cli_fail(c, EXIT_SERVER, "UNAVAILABLE", "connection_lost",
                        "the connection was lost %d times; run the command again to go on",
                        DOC_RETRIES);
    if (!c->is_json)
        fprintf(stderr, "\nconnection lost; reconnecting (%d of %d)...\n", attempt, DOC_RETRIES);
    sleep((unsigned)(attempt > 1 ? 1 : 0)); /* a server restarting needs a moment */
    rc = dg_client_reconnect(c->client);
    return rc == DG_OK ? EXIT_OK : cli_fail_call(c, rc);
}

static int parse_kind(cli *c, const char *name, int *out)
{
    int v = cli_enum_parse(&dangan__v1__doc_kind__descriptor, name);
    char choices[256];

    if (v <= 0)
        return cli_usage(
            c, "--kind must be one of %s",
            cli_enum_choices(&dangan__v1__doc_kind__descriptor, choices, sizeof choices));
    *out = v;
    return EXIT_OK;
}

/* ------------------------------------------------------------ upload */

static const char UPLOAD_HELP[] =
    "usage: dangan doc upload CUSTOMER FILE --kind KIND [--title T] [--date D]\n"
    "                         [--expires D] [--notes N]\n"
    "\n"
    "Attaches FILE to a customer's dossier (CUSTOMER: id or code). KIND is contract,\n"
    "invoice, quotation, correspondence, licence or other. The title defaults to the\n"
    "file's name, the date (YYYY-MM-DD, which files it by year and month) to today;\n"
    "--expires is a contract's or licence's end. The file's SHA-256 is checked by the\n"
    "server before the document exists; an interrupted upload goes on where it\n"
    "stopped when the command is run again.\n";

struct upload {
    cli *c;
    int fd;
    int64_t customer_id, size, upload_id, received;
    uint32_t chunk_size;
    uint8_t sha256[32];
    char state[1200]; /* CONFIG_DIR/uploads/CUSTOMER-SHA256: the upload id */
    uint8_t *buf;
    doc_progress bar;
};

static int hash_file(struct upload *u)
{
    mbedtls_sha256_context ctx;
    uint8_t buf[1 << 16];
    ssize_t n;

    mbedtls_sha256_init(&ctx);
    (void)mbedtls_sha256_starts_ret(&ctx, 0); /* cannot fail for SHA-256 */
    while ((n = read(u->fd, buf, sizeof buf)) > 0)
        (void)mbedtls_sha256_update_ret(&ctx, buf, (size_t)n);
    (void)mbedtls_sha256_finish_ret(&ctx, u->sha256);
    mbedtls_sha256_free(&ctx);
    return n < 0 ? -1 : 0;
}

/* The upload id kept from an earlier run for this server, or 0. */
static int64_t state_load(struct upload *u)
{
    FILE *f = fopen(u->state, "r");
    char server[256] = "";
    long long id = 0;

    if (!f)
        return 0;
    if (fscanf(f, "%255s %lld", server, &id) != 2 || strcmp(server, u->c->server) != 0)
        id = 0;
    fclose(f);
    return id;
}

static void state_save(struct upload *u)
{
    FILE *f = fopen(u->state, "w");

    if (f) { /* without it, only this run can resume: not worth failing for */
        fprintf(f, "%s %lld\n", u->c->server, (long long)u->upload_id);
        fclose(f);
    }
}

/* A request with one body member set, from the heap (free_unpacked frees both). */
static Dangan__V1__Request *request(Dangan__V1__Request__BodyCase body,
                                    const ProtobufCMessageDescriptor *d, ProtobufCMessage **m)
{
    Dangan__V1__Request *req = cli_request_new();

    req->body_case = body;
    *m = cli_msg_new(d);
    req->doc_upload_begin = (Dangan__V1__DocUploadBeginRequest *)*m; /* the oneof's one slot */
    return req;
}

/* Sends a one-off request; *out the reply (any status) or NULL when the
 * connection failed (rc its error). */
static int call(cli *c, Dangan__V1__Request *req, dg_reply **out)
{
    int rc = dg_client_call(c->client, req, out);

    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

static int status_of(dg_reply *r)
{
    return dg_reply_response(r)->status->code;
}

/* Asks where the kept upload stands: DG_OK (u->received set, or
 * *document_id when finished), DG_ENOTFOUND (gone: begin anew), or a
 * connection error. */
static int upload_status(struct upload *u, int64_t *document_id)
{
    ProtobufCMessage *m;
    Dangan__V1__Request *req = request(DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_STATUS,
                                       &dangan__v1__doc_upload_status_request__descriptor, &m);
    dg_reply *r;
    int rc;

    ((Dangan__V1__DocUploadStatusRequest *)m)->upload_id = u->upload_id;
    if ((rc = call(u->c, req, &r)) != DG_OK)
        return rc;
    if (status_of(r) == DANGAN__V1__CODE__OK) {
        const Dangan__V1__DocUploadStatusResponse *s = dg_reply_response(r)->doc_upload_status;

        u->received = s->received;
        u->chunk_size = s->chunk_size;
        *document_id = s->document_id;
    } else {
        rc = DG_ENOTFOUND;
    }
    dg_reply_free(r);
    return rc;
}

/* Sends the chunks from u->received on, DOC_WINDOW in flight. DG_OK when
 * every one was taken; DG_EAGAIN when the server stands elsewhere (ask its
 * status); a connection error; or EXIT codes are reported through *exit. */
static int send_chunks(struct upload *u, int *exit_code)
{
    uint64_t ids[DOC_WINDOW];
    size_t head = 0, n_q = 0;
    int64_t next = u->received;
    int rc = DG_OK;

    while (rc == DG_OK && (n_q || next < u->size)) {
        while (rc == DG_OK && n_q < DOC_WINDOW && next < u->size) {
            ProtobufCMessage *m;
            Dangan__V1__Request *req =
                request(DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_CHUNK,
                        &dangan__v1__doc_upload_chunk_request__descriptor, &m);
            Dangan__V1__DocUploadChunkRequest *k = (Dangan__V1__DocUploadChunkRequest *)m;
            size_t len = (size_t)(u->size - next < u->chunk_size ? u->size - next : u->chunk_size);
            ssize_t got = pread(u->fd, u->buf, len, next);

            if (got != (ssize_t)len) {
                dangan__v1__request__free_unpacked(req, NULL);
                *exit_code =
                    cli_fail(u->c, EXIT_USAGE, "INVALID_ARGUMENT", "file_changed",
                             "cannot read the file at %lld: it changed or shrank", (long long)next);
                return DG_EIO;
            }
            k->upload_id = u->upload_id;
            k->offset = next;
            k->data.data = u->buf; /* packed by send: the buffer is free again after it */
            k->data.len = len;
            rc = dg_client_send(u->c->client, req, &ids[(head + n_q) % DOC_WINDOW]);
            k->data.data = NULL;
            k->data.len = 0;
            dangan__v1__request__free_unpacked(req, NULL);
            n_q += rc == DG_OK;
            next += (int64_t)len;
        }
        if (rc != DG_OK || !n_q)
            break;
        dg_reply *r;

        if ((rc = dg_client_wait(u->c->client, ids[head], &r)) != DG_OK)
            break;
        head = (head + 1) % DOC_WINDOW;
        n_q--;
        if (status_of(r) == DANGAN__V1__CODE__OK) {
            u->received = dg_reply_response(r)->doc_upload_chunk->received;
            doc_progress_set(&u->bar, u->received);
        } else if (!strcmp(dg_reply_response(r)->status->reason, "upload_offset_mismatch")) {
            rc = DG_EAGAIN;
        } else {
            doc_progress_end(&u->bar);
            *exit_code = cli_fail_status(u->c, dg_reply_response(r)->status, NULL);
            rc = DG_EINVAL;
        }
        dg_reply_free(r);
    }
    while (n_q && rc == DG_EAGAIN) { /* the rest answer the same: read them before asking */
        dg_reply *r;

        if (dg_client_wait(u->c->client, ids[head], &r) != DG_OK)
            break;
        dg_reply_free(r);
        head = (head + 1) % DOC_WINDOW;
        n_q--;
    }
    return rc;
}

static int begin(struct upload *u, const Dangan__V1__DocUploadBeginRequest *meta)
{
    ProtobufCMessage *m;
    Dangan__V1__Request *req = request(DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_BEGIN,
                                       &dangan__v1__doc_upload_begin_request__descriptor, &m);
    Dangan__V1__DocUploadBeginRequest *b = (Dangan__V1__DocUploadBeginRequest *)m;
    dg_reply *r;
    int rc;

    b->customer_id = u->customer_id;
    b->kind = meta->kind;
    cli_replace_str(&b->title, meta->title);
    cli_replace_str(&b->doc_date, meta->doc_date);
    cli_replace_str(&b->expires_on, meta->expires_on);
    cli_replace_str(&b->notes, meta->notes);
    cli_replace_str(&b->file_name, meta->file_name);
    b->size = u->size;
    b->sha256.data = dg_xmalloc(32);
    memcpy(b->sha256.data, u->sha256, 32);
    b->sha256.len = 32;
    if ((rc = cli_rec_call(u->c, req, &r)) != EXIT_OK) {
        dangan__v1__request__free_unpacked(req, NULL);
        return rc;
    }
    dangan__v1__request__free_unpacked(req, NULL);
    u->upload_id = dg_reply_response(r)->doc_upload_begin->upload_id;
    u->chunk_size = dg_reply_response(r)->doc_upload_begin->chunk_size;
    u->received = 0;
    dg_reply_free(r);
    state_save(u);
    return EXIT_OK;
}

static int finish(struct upload *u)
{
    ProtobufCMessage *m;
    Dangan__V1__Request *req = request(DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_FINISH,
                                       &dangan__v1__doc_upload_finish_request__descriptor, &m);
    const Dangan__V1__DocUploadFinishResponse *f;
    dg_reply *r;
    char size[32];
    int rc;

    ((Dangan__V1__DocUploadFinishRequest *)m)->upload_id = u->upload_id;
    rc = cli_rec_call(u->c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc == EXIT_CONFLICT || rc == EXIT_INVALID || rc == EXIT_NOTFOUND)
        (void)unlink(u->state); /* refused for good (a wrong hash drops the upload) */
    if (rc != EXIT_OK)
        return rc;
    (void)unlink(u->state);
    f = dg_reply_response(r)->doc_upload_finish;
    if (u->c->is_json)
        cli_print_json(json_pack("{s:o,s:b}", "document", doc_json(f->document), "deduplicated",
                                 f->deduplicated));
    else
        printf("Uploaded document %lld: %s (%s)%s\n", (long long)f->document->id,
               f->document->title, doc_size_text(f->document->size, size, sizeof size),
               f->deduplicated ? "; the same content was stored already and is shared" : "");
    dg_reply_free(r);
    return EXIT_OK;
}

/* Sends what the server lacks, reconnecting after lost connections. */
static int transfer(struct upload *u)
{
    int exit_code = EXIT_OK, rc, n_lost = 0;

    doc_progress_start(&u->bar, u->c, "upload", u->size, u->received);
    for (int round = 0;; round++) {
        int64_t document_id = 0;

        if (round > 4 * DOC_RETRIES)
            return cli_fail(u->c, EXIT_SERVER, "UNAVAILABLE", "upload_stuck",
                            "the server keeps refusing the upload's chunks; run the command again");
        rc = send_chunks(u, &exit_code);
        if (rc == DG_OK)
            break;
        if (exit_code != EXIT_OK)
            return exit_code;
        if (rc != DG_EAGAIN && (exit_code = doc_reconnect(u->c, ++n_lost)) != EXIT_OK)
            return exit_code;
        rc = upload_status(u, &document_id);
        if (rc == DG_ENOTFOUND)
            return cli_fail(u->c, EXIT_SERVER, "NOT_FOUND", "upload_gone",
                            "the server no longer has this upload; run the command again");
        if (rc == DG_OK && document_id)
            break; /* finished before the connection was lost: finish answers it again */
    }
    doc_progress_set(&u->bar, u->size);
    doc_progress_end(&u->bar);
    return EXIT_OK;
}

/* A kept upload of this file goes on; otherwise a new one begins. */
static int resume_or_begin(struct upload *u, const Dangan__V1__DocUploadBeginRequest *meta)
{
    int64_t document_id = 0;

    if ((u->upload_id = state_load(u)) && upload_status(u, &document_id) == DG_OK) {
        if (!u->c->is_json && !document_id)
            fprintf(stderr, "going on with the upload begun earlier, at %.1f of %.1f MiB\n",
                    (double)u->received / (1 << 20), (double)u->size / (1 << 20));
        return EXIT_OK;
    }
    return begin(u, meta);
}

static int upload_file(struct upload *u, const Dangan__V1__DocUploadBeginRequest *meta)
{
    char hex[65], dir[1100];
    int rc;

    if ((rc = cli_rec_session(u->c)) != EXIT_OK ||
        (rc = cli_customer_id(u->c, u->c->argv[optind], &u->customer_id)) != EXIT_OK)
        return rc;
    doc_hex(u->sha256, 32, hex);
    snprintf(dir, sizeof dir, "%s/uploads", u->c->config_dir);
    (void)mkdir(dir, 0700); /* exists already, or the state is not kept: see state_save */
    snprintf(u->state, sizeof u->state, "%s/%lld-%s", dir, (long long)u->customer_id, hex);
    if ((rc = resume_or_begin(u, meta)) != EXIT_OK)
        return rc;
    u->buf = dg_xmalloc(u->chunk_size ? u->chunk_size : 1);
    if ((rc = transfer(u)) == EXIT_OK)
        rc = finish(u);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int doc_upload(cli *c)
{
    enum { OPT_KIND = 256, OPT_TITLE, OPT_DATE, OPT_EXPIRES, OPT_NOTES };
    static const struct option opts[] = {{"kind", required_argument, NULL, OPT_KIND},
                                         {"title", required_argument, NULL, OPT_TITLE},
                                         {"date", required_argument, NULL, OPT_DATE},
                                         {"expires", required_argument, NULL, OPT_EXPIRES},
                                         {"notes", required_argument, NULL, OPT_NOTES},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__DocUploadBeginRequest meta = DANGAN__V1__DOC_UPLOAD_BEGIN_REQUEST__INIT;
    struct upload u = {.c = c, .fd = -1};
    struct stat sb;
    char today[16];
    int opt, rc = EXIT_OK, kind = 0;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_KIND)
            rc = parse_kind(c, optarg, &kind);
        else if (opt == OPT_TITLE)
            meta.title = optarg;
        else if (opt == OPT_DATE)
            meta.doc_date = optarg;
        else if (opt == OPT_EXPIRES)
            meta.expires_on = optarg;
        else if (opt == OPT_NOTES)
            meta.notes = optarg;
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        fputs(UPLOAD_HELP, stdout);
        return EXIT_OK;
    }
    if (rc != EXIT_OK)
        return rc;
    if (optind != c->argc - 2)
        return cli_usage(c, "doc upload takes CUSTOMER and FILE");
    if (!kind)
        return cli_usage(c, "doc upload: --kind is required (contract, invoice, quotation, "
                            "correspondence, licence or other)");
    if (meta.doc_date[0] && !cli_date_valid(meta.doc_date))
        return cli_usage(c, "--date must be a date YYYY-MM-DD");
    if (meta.expires_on[0] && !cli_date_valid(meta.expires_on))
        return cli_usage(c, "--expires must be a date YYYY-MM-DD");
    meta.kind = (Dangan__V1__DocKind)kind;
    meta.file_name = (char *)base_name(c->argv[optind + 1]);
    if (!meta.title[0])
        meta.title = meta.file_name;
    if (!meta.doc_date[0])
        meta.doc_date = (char *)cli_today(today); /* in the team's zone (when.c) */
    if ((u.fd = open(c->argv[optind + 1], O_RDONLY | O_CLOEXEC)) < 0 || fstat(u.fd, &sb) != 0 ||
        !S_ISREG(sb.st_mode) || hash_file(&u) != 0) {
        rc = cli_fail(c, EXIT_USAGE, "INVALID_ARGUMENT", "file", "cannot read %s: %s",
                      c->argv[optind + 1], errno ? strerror(errno) : "not a regular file");
        if (u.fd >= 0)
            close(u.fd);
        return rc;
    }
    u.size = sb.st_size;
    rc = upload_file(&u, &meta);
    free(u.buf);
    close(u.fd);
    return rc;
}

/* ------------------------------------------------------------ list */

static const char LIST_HELP[] =
    "usage: dangan doc list CUSTOMER [--kind KIND] [--year YYYY] [--archived]\n"
    "\n"
    "A customer's documents as they are filed: by kind, then by year and month of\n"
    "the document's date. --archived includes archived ones.\n";

static void print_listing(const Dangan__V1__DocListResponse *l)
{
    char kind[32], size[32], prev_kind[32] = "", prev_month[8] = "";

    if (l->n_documents == 0) {
        printf("No documents.\n");
        return;
    }
    for (size_t i = 0; i < l->n_documents; i++) {
        const Dangan__V1__Document *d = l->documents[i];

        cli_enum_name(&dangan__v1__doc_kind__descriptor, d->kind, kind, sizeof kind);
        if (strcmp(kind, prev_kind) != 0) {
            printf("%s%s\n", i ? "\n" : "", kind);
            snprintf(prev_kind, sizeof prev_kind, "%s", kind);
            prev_month[0] = '\0';
        }
        if (strncmp(d->doc_date, prev_month, 7) != 0) {
            snprintf(prev_month, sizeof prev_month, "%.7s", d->doc_date);
            printf("  %s\n", prev_month);
        }
        printf("    %-6lld %s  %s  %s  %s%s%s%s\n", (long long)d->id, d->doc_date, d->title,
               doc_size_text(d->size, size, sizeof size), d->file_name,
               d->expires_on[0] ? "  expires " : "", d->expires_on,
               d->archived ? "  [archived]" : "");
    }
    if (l->has_more)
        printf("\n(more documents match: narrow with --kind or --year)\n");
}

static int doc_list(cli *c)
{
    enum { OPT_KIND = 256, OPT_YEAR, OPT_ARCHIVED };
    static const struct option opts[] = {{"kind", required_argument, NULL, OPT_KIND},
                                         {"year", required_argument, NULL, OPT_YEAR},
                                         {"archived", no_argument, NULL, OPT_ARCHIVED},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    ProtobufCMessage *pm;
    Dangan__V1__Request *req =
        request(DANGAN__V1__REQUEST__BODY_DOC_LIST, &dangan__v1__doc_list_request__descriptor, &pm);
    Dangan__V1__DocListRequest *m = (Dangan__V1__DocListRequest *)pm;
    dg_reply *r;
    uint32_t year;
    int opt, rc = EXIT_OK, kind = 0;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_KIND && (rc = parse_kind(c, optarg, &kind)) == EXIT_OK)
            m->kind = (Dangan__V1__DocKind)kind;
        else if (opt == OPT_YEAR &&
                 (rc = cli_parse_count(c, "--year", optarg, 2999, &year)) == EXIT_OK)
            m->year = (int32_t)year;
        else if (opt == OPT_ARCHIVED)
            m->include_archived = true;
        else if (opt == 'h')
            rc = -1;
        else if (opt != OPT_KIND && opt != OPT_YEAR)
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        fputs(LIST_HELP, stdout);
        return EXIT_OK;
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "doc list takes one CUSTOMER");
    if (rc == EXIT_OK && (rc = cli_rec_session(c)) == EXIT_OK &&
        (rc = cli_customer_id(c, c->argv[optind], &m->customer_id)) == EXIT_OK)
        rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    if (c->is_json) {
        const Dangan__V1__DocListResponse *l = dg_reply_response(r)->doc_list;
        json_t *docs = json_array();

        for (size_t i = 0; i < l->n_documents; i++)
            json_array_append_new(docs, doc_json(l->documents[i]));
        cli_print_json(json_pack("{s:o,s:b}", "documents", docs, "has_more", l->has_more));
    } else {
        print_listing(dg_reply_response(r)->doc_list);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ archive */

static const char ARCHIVE_HELP[] =
    "usage: dangan doc %s DOC_ID\n"
    "\n"
    "Archives a document (`doc rm` is the same): it leaves the listing (see it with\n"
    "`doc list --archived`) and its content is kept. Audited.\n";

static int doc_archive(cli *c)
{
    ProtobufCMessage *m;
    Dangan__V1__Request *req;
    dg_reply *r;
    int64_t id;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        printf(ARCHIVE_HELP, c->argv[0]);
        return EXIT_OK;
    }
    if (c->argc != 2)
        return cli_usage(c, "doc archive takes one DOC_ID");
    if ((rc = cli_parse_id(c, c->argv[1], "DOC_ID", &id)) != EXIT_OK)
        return rc;
    req = request(DANGAN__V1__REQUEST__BODY_DOC_ARCHIVE,
                  &dangan__v1__doc_archive_request__descriptor, &m);
    ((Dangan__V1__DocArchiveRequest *)m)->id = id;
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    if (c->is_json)
        cli_print_json(
            json_pack("{s:o}", "document", doc_json(dg_reply_response(r)->doc_archive->document)));
    else
        printf("Archived document %lld.\n", (long long)id);
    dg_reply_free(r);
    return EXIT_OK;
}

int cmd_doc(cli *c)
{
    static const cli_sub subs[] = {
        {"upload", doc_upload, "upload CUSTOMER FILE --kind KIND [--title T] [--date D] ..."},
        {"list", doc_list, "list CUSTOMER [--kind KIND] [--year YYYY] [--archived]"},
        {"get", cli_doc_get, "get DOC_ID [-o FILE]"},
        {"archive", doc_archive, "archive DOC_ID"},
        {"rm", doc_archive, "rm DOC_ID (the same as archive)"},
    };

    return cli_subcommand(c, "doc", subs, DG_ARRAY_LEN(subs),
                          "Documents attached to a customer: contracts, invoices, quotations,\n"
                          "correspondence, licences. Filed by customer, kind, year and month.\n");
}
