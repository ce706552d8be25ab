/* cmd_doc_get.c - `dangan doc get DOC_ID [-o FILE]`: downloads a document
 * into FILE.part, DOC_WINDOW chunks in flight, checks the whole file's
 * SHA-256 against the document's, then renames it to FILE. A FILE.part left
 * by an interrupted run is kept up to its last whole chunk and the download
 * goes on from there; a lost connection is reconnected (DOC_RETRIES times).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"

static const char GET_HELP[] =
    "usage: dangan doc get DOC_ID [-o FILE]\n"
    "\n"
    "Downloads a document to FILE (default: its file name, in this directory).\n"
    "It is written to FILE.part and renamed once its SHA-256 is checked; if\n"
    "FILE.part exists from an interrupted download, the download goes on from\n"
    "where it stopped. Every download is audited.\n";

struct download {
    cli *c;
    const Dangan__V1__Document *doc; /* in meta */
    dg_reply *meta;
    int fd;
    int64_t at, resumed_from; /* bytes in FILE.part */
    mbedtls_sha256_context sha;
    doc_progress bar;
};

static int get_meta(cli *c, int64_t id, struct download *d)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__DocGetRequest *m =
        (Dangan__V1__DocGetRequest *)cli_msg_new(&dangan__v1__doc_get_request__descriptor);
    int rc;

    m->id = id;
    req->body_case = DANGAN__V1__REQUEST__BODY_DOC_GET;
    req->doc_get = m;
    rc = cli_rec_call(c, req, &d->meta);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc == EXIT_OK)
        d->doc = dg_reply_response(d->meta)->doc_get->document;
    return rc;
}

/* Opens FILE.part: what it holds up to its last whole chunk is kept and
 * hashed, the rest cut. */
static int open_part(struct download *d, const char *part)
{
    uint8_t buf[1 << 16];
    struct stat sb;
    int64_t keep;

    if ((d->fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || fstat(d->fd, &sb) != 0)
        return -1;
    keep = sb.st_size > d->doc->size ? 0 : sb.st_size - sb.st_size % d->doc->chunk_size;
    if (ftruncate(d->fd, keep) != 0)
        return -1;
    for (int64_t off = 0; off < keep;) {
        ssize_t n = pread(d->fd, buf, sizeof buf, off);

        if (n <= 0)
            return -1;
        (void)mbedtls_sha256_update_ret(&d->sha, buf, (size_t)n);
        off += n;
    }
    d->at = d->resumed_from = keep;
    return lseek(d->fd, keep, SEEK_SET) == keep ? 0 : -1;
}

static Dangan__V1__Request *chunk_request(int64_t id, int64_t offset)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__DocReadChunkRequest *m = (Dangan__V1__DocReadChunkRequest *)cli_msg_new(
        &dangan__v1__doc_read_chunk_request__descriptor);

    m->id = id;
    m->offset = offset;
    req->body_case = DANGAN__V1__REQUEST__BODY_DOC_READ_CHUNK;
    req->doc_read_chunk = m;
    return req;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Takes one chunk's reply: written and hashed in order. DG_OK, DG_EINVAL
 * (refused: *exit_code set), DG_EIO (cannot write: *exit_code set). */
static int take_chunk(struct download *d, dg_reply *r, int *exit_code)
{
    const Dangan__V1__Response *resp = dg_reply_response(r);
    const ProtobufCBinaryData *data;

    if (resp->status->code != DANGAN__V1__CODE__OK) {
        doc_progress_end(&d->bar);
        *exit_code = cli_fail_status(d->c, resp->status, NULL);
        return DG_EINVAL;
    }
    data = &resp->doc_read_chunk->data;
    if (!write_all(d->fd, data->data, data->len)) {
        *exit_code = cli_fail(d->c, EXIT_USAGE, "INVALID_ARGUMENT", "write",
                              "cannot write the download: %s", strerror(errno));
        return DG_EIO;
    }
    (void)mbedtls_sha256_update_ret(&d->sha, data->data, data->len);
    d->at += (int64_t)data->len;
    doc_progress_set(&d->bar, d->at);
    return DG_OK;
}

/* Reads the chunks from d->at on, DOC_WINDOW in flight, in order. DG_OK,
 * a connection error (reconnect and go on), or another error with
 * *exit_code set. */
static int read_chunks(struct download *d, int *exit_code)
{
    uint64_t ids[DOC_WINDOW];
    size_t head = 0, n_q = 0;
    int64_t next = d->at;
    int rc = DG_OK;

    while (rc == DG_OK && (n_q || next < d->doc->size)) {
        while (rc == DG_OK && n_q < DOC_WINDOW && next < d->doc->size) {
            Dangan__V1__Request *req = chunk_request(d->doc->id, next);

            rc = dg_client_send(d->c->client, req, &ids[(head + n_q) % DOC_WINDOW]);
            dangan__v1__request__free_unpacked(req, NULL);
            n_q += rc == DG_OK;
            next += d->doc->chunk_size;
        }
        if (rc != DG_OK || !n_q)
            break;
        dg_reply *r;

        if ((rc = dg_client_wait(d->c->client, ids[head], &r)) != DG_OK)
            break;
        head = (head + 1) % DOC_WINDOW;
        n_q--;
        rc = take_chunk(d, r, exit_code);
        dg_reply_free(r);
    }
    return rc;
}

static int transfer(struct download *d)
{
    int exit_code = EXIT_OK, rc;

    doc_progress_start(&d->bar, d->c, "download", d->doc->size, d->at);
    for (int attempt = 1;; attempt++) {
        if ((rc = read_chunks(d, &exit_code)) == DG_OK)
            break;
        if (exit_code != EXIT_OK)
            return exit_code;
        /* the replies of the old connection are gone: go on after what was written */
        if ((exit_code = doc_reconnect(d->c, attempt)) != EXIT_OK)
            return exit_code;
    }
    doc_progress_end(&d->bar);
    return EXIT_OK;
}

static int finish(struct download *d, const char *part, const char *out)
{
    uint8_t sum[32];
    char hex[65];

    (void)mbedtls_sha256_finish_ret(&d->sha, sum);
    if (d->at != d->doc->size || memcmp(sum, d->doc->sha256.data, 32) != 0) {
        (void)unlink(part); /* a damaged copy must not be resumed */
        return cli_fail(d->c, EXIT_SERVER, "DATA_LOSS", "checksum_mismatch",
                        "the downloaded bytes do not have the document's SHA-256; nothing was "
                        "kept: try again, and tell an admin if it happens again");
    }
    if (fsync(d->fd) != 0 || rename(part, out) != 0)
        return cli_fail(d->c, EXIT_USAGE, "INVALID_ARGUMENT", "write", "cannot write %s: %s", out,
                        strerror(errno));
    doc_hex(sum, 32, hex);
    if (d->c->is_json)
        cli_print_json(json_pack("{s:I,s:s,s:I,s:s,s:I}", "id", (json_int_t)d->doc->id, "file", out,
                                 "size", (json_int_t)d->doc->size, "sha256", hex, "resumed_from",
                                 (json_int_t)d->resumed_from));
    else
        printf("Saved document %lld to %s (%lld bytes, SHA-256 %s)\n", (long long)d->doc->id, out,
               (long long)d->doc->size, hex);
    return EXIT_OK;
}

static int download(cli *c, int64_t id, const char *out_flag)
{
    struct download d = {.c = c, .fd = -1};
    char out[1024], part[1100];
    int rc;

    mbedtls_sha256_init(&d.sha);
    (void)mbedtls_sha256_starts_ret(&d.sha, 0); /* cannot fail for SHA-256 */
    if ((rc = get_meta(c, id, &d)) != EXIT_OK)
        goto done;
    if (out_flag)
        snprintf(out, sizeof out, "%s", out_flag);
    else if (d.doc->file_name[0])
        snprintf(out, sizeof out, "%s", d.doc->file_name); /* the server refuses a '/' in it */
    else
        snprintf(out, sizeof out, "document-%lld", (long long)id);
    snprintf(part, sizeof part, "%s.part", out);
    if (d.doc->chunk_size == 0 || d.doc->sha256.len != 32) {
        rc = cli_fail(c, EXIT_SERVER, "INTERNAL", "protocol", "the server described no chunks");
        goto done;
    }
    if (open_part(&d, part) != 0) {
        rc = cli_fail(c, EXIT_USAGE, "INVALID_ARGUMENT", "write", "cannot write %s: %s", part,
                      strerror(errno));
        goto done;
    }
    if (d.resumed_from && !c->is_json)
        fprintf(stderr, "going on with %s from %.1f MiB\n", part,
                (double)d.resumed_from / (1 << 20));
    if ((rc = transfer(&d)) == EXIT_OK)
        rc = finish(&d, part, out);
done:
    if (d.fd >= 0)
        close(d.fd);
    mbedtls_sha256_free(&d.sha);
    dg_reply_free(d.meta);
    return rc;
}

int cli_doc_get(cli *c)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    int64_t id;
    int opt, rc = EXIT_OK;

    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "ho:", opts, NULL)) != -1) {
        if (opt == 'o')
            out = optarg;
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        fputs(GET_HELP, stdout);
        return EXIT_OK;
    }
    if (rc != EXIT_OK)
        return rc;
    if (optind != c->argc - 1)
        return cli_usage(c, "doc get takes one DOC_ID");
    if ((rc = cli_parse_id(c, c->argv[optind], "DOC_ID", &id)) != EXIT_OK)
        return rc;
    return download(c, id, out);
}
