/* docs_world.c - the world test_documents and test_documents_cli share: a
 * server with [documents] max_size_mib = DOCS_MAX_MIB, a customer, the CLI
 * logged in as admin, and the requests of a document's life. */
#include "docs_world.h"

#include <mbedtls/sha256.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

dgt_server srv;
char cfg[256];
dgt_run run;
dg_client *admin;
int64_t customer;

/* Deterministic bytes of a seed: the file a test uploads. */
uint8_t *dgt_doc_bytes(size_t n, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    uint32_t x = seed * 2654435761u + 1;

    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

int64_t dgt_doc_customer(dg_client *c, const char *name, const char *owner, int tier)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    cu.tier = tier;
    if (owner) {
        o.username = (char *)owner;
        cu.owner = &o;
    }
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->create->record->customer->id;
    dg_reply_free(r);
    return id;
}

/* Begins an upload of n bytes with hash `sha` (NULL: the bytes' own). */
dg_reply *dgt_doc_begin(dg_client *c, int64_t cust, const uint8_t *data, size_t n,
                        const uint8_t *sha)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadBeginRequest m = DANGAN__V1__DOC_UPLOAD_BEGIN_REQUEST__INIT;
    uint8_t sum[32];

    if (!sha)
        assert_int_equal(mbedtls_sha256_ret(data, n, sum, 0), 0);
    m.customer_id = cust;
    m.kind = DANGAN__V1__DOC_KIND__DOC_KIND_CONTRACT;
    m.title = "供货合同";
    m.doc_date = "2026-11-03";
    m.expires_on = "2027-11-02";
    m.file_name = "contract.pdf";
    m.size = (int64_t)n;
    m.sha256.data = (uint8_t *)(sha ? sha : sum);
    m.sha256.len = 32;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_BEGIN;
    req.doc_upload_begin = &m;
    return dgt_call(c, &req);
}

dg_reply *dgt_doc_chunk(dg_client *c, int64_t upload, const uint8_t *data, int64_t off, size_t len)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadChunkRequest m = DANGAN__V1__DOC_UPLOAD_CHUNK_REQUEST__INIT;

    m.upload_id = upload;
    m.offset = off;
    m.data.data = (uint8_t *)data + off;
    m.data.len = len;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_CHUNK;
    req.doc_upload_chunk = &m;
    return dgt_call(c, &req);
}

dg_reply *dgt_doc_status(dg_client *c, int64_t upload)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadStatusRequest m = DANGAN__V1__DOC_UPLOAD_STATUS_REQUEST__INIT;

    m.upload_id = upload;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_STATUS;
    req.doc_upload_status = &m;
    return dgt_call(c, &req);
}

dg_reply *dgt_doc_finish(dg_client *c, int64_t upload)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadFinishRequest m = DANGAN__V1__DOC_UPLOAD_FINISH_REQUEST__INIT;

    m.upload_id = upload;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_FINISH;
    req.doc_upload_finish = &m;
    return dgt_call(c, &req);
}

/* Sends the bytes from `from` on, one chunk at a time. */
void dgt_doc_send_rest(dg_client *c, int64_t upload, const uint8_t *data, size_t n, int64_t from,
                       uint32_t chunk_size)
{
    for (int64_t off = from; off < (int64_t)n; off += chunk_size) {
        size_t len = n - (size_t)off < chunk_size ? n - (size_t)off : chunk_size;
        dg_reply *r = dgt_doc_chunk(c, upload, data, off, len);

        if (dgt_code(r) != 0)
            fail_msg("chunk at %lld: %s", (long long)off, dgt_reason(r));
        assert_int_equal(dg_reply_response(r)->doc_upload_chunk->received, off + (int64_t)len);
        dg_reply_free(r);
    }
}

/* A whole upload through the API; the document's id. */
int64_t dgt_doc_upload(dg_client *c, int64_t cust, const uint8_t *data, size_t n, bool *is_dedup)
{
    dg_reply *r = dgt_doc_begin(c, cust, data, n, NULL);
    int64_t up, id;
    uint32_t cs;

    if (dgt_code(r) != 0)
        fail_msg("begin: %s", dgt_reason(r));
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    cs = dg_reply_response(r)->doc_upload_begin->chunk_size;
    dg_reply_free(r);
    dgt_doc_send_rest(c, up, data, n, 0, cs);
    r = dgt_doc_finish(c, up);
    if (dgt_code(r) != 0)
        fail_msg("finish: %s", dgt_reason(r));
    id = dg_reply_response(r)->doc_upload_finish->document->id;
    if (is_dedup)
        *is_dedup = dg_reply_response(r)->doc_upload_finish->deduplicated;
    dg_reply_free(r);
    return id;
}

dg_reply *dgt_doc_get(dg_client *c, int64_t id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocGetRequest m = DANGAN__V1__DOC_GET_REQUEST__INIT;

    m.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_GET;
    req.doc_get = &m;
    return dgt_call(c, &req);
}

dg_reply *dgt_doc_read_chunk(dg_client *c, int64_t id, int64_t off)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocReadChunkRequest m = DANGAN__V1__DOC_READ_CHUNK_REQUEST__INIT;

    m.id = id;
    m.offset = off;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_READ_CHUNK;
    req.doc_read_chunk = &m;
    return dgt_call(c, &req);
}

/* The document's content, read chunk by chunk; *n its size. */
uint8_t *dgt_doc_download(dg_client *c, int64_t id, size_t *n)
{
    dg_reply *r = dgt_doc_get(c, id);
    uint32_t cs;
    uint8_t *out;

    assert_int_equal(dgt_code(r), 0);
    *n = (size_t)dg_reply_response(r)->doc_get->document->size;
    cs = dg_reply_response(r)->doc_get->document->chunk_size;
    dg_reply_free(r);
    out = malloc(*n ? *n : 1);
    assert_non_null(out);
    for (size_t off = 0; off < *n; off += cs) {
        const ProtobufCBinaryData *d;

        r = dgt_doc_read_chunk(c, id, (int64_t)off);
        assert_int_equal(dgt_code(r), 0);
        d = &dg_reply_response(r)->doc_read_chunk->data;
        assert_int_equal(d->len, *n - off < cs ? *n - off : cs);
        memcpy(out + off, d->data, d->len);
        dg_reply_free(r);
    }
    return out;
}

void dgt_doc_assert_download(dg_client *c, int64_t id, const uint8_t *want, size_t n)
{
    size_t got_n;
    uint8_t *got = dgt_doc_download(c, id, &got_n);

    assert_int_equal(got_n, n);
    assert_memory_equal(got, want, n);
    free(got);
}

void dgt_doc_write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

uint8_t *dgt_doc_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p;
    long len;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc(len ? (size_t)len : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* The one value of a query on the stopped server's database. */
int64_t dgt_doc_db_count(const char *sql)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v;

    dgt_db_path(&srv, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}
/* ------------------------------------------------------------ setup */

int dgt_docs_setup(void **state)
{
    char ini[128], input[128];

    (void)state;
    snprintf(ini, sizeof ini, "[documents]\nmax_size_mib = %d\n", DOCS_MAX_MIB);
    dgt_server_start(&srv, ini);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    customer = dgt_doc_customer(admin, "文档测试公司", NULL, DANGAN__V1__TIER__TIER_B);
    dgt_tempdir(cfg, sizeof cfg);
    CLI(NULL, "connect", srv.addr, "--fingerprint", srv.fingerprint);
    assert_int_equal(run.status, 0);
    snprintf(input, sizeof input, "%s\n", srv.admin_password);
    CLI(input, "login", "--user", "admin", "--password-stdin");
    assert_int_equal(run.status, 0);
    return 0;
}

int dgt_docs_teardown(void **state)
{
    (void)state;
    dg_client_close(admin);
    dgt_server_stop(&srv);
    dgt_rmtree(cfg);
    return 0;
}
