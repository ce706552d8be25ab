/* perm_docs.c - the document requests of test_perm's rows: see perm_docs.h. */
#include "perm_docs.h"

#include <mbedtls/sha256.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const uint8_t byte[1] = {'x'};

static dg_reply *begin(dg_client *c, int64_t customer_id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadBeginRequest m = DANGAN__V1__DOC_UPLOAD_BEGIN_REQUEST__INIT;
    uint8_t sha[32];

    assert_int_equal(mbedtls_sha256_ret(byte, 1, sha, 0), 0);
    m.customer_id = customer_id;
    m.kind = DANGAN__V1__DOC_KIND__DOC_KIND_CONTRACT;
    m.title = "PERMTEST 合同";
    m.size = 1;
    m.sha256.data = sha;
    m.sha256.len = 32;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_BEGIN;
    req.doc_upload_begin = &m;
    return dgt_call(c, &req);
}

static dg_reply *chunk(dg_client *c, int64_t upload_id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadChunkRequest m = DANGAN__V1__DOC_UPLOAD_CHUNK_REQUEST__INIT;

    m.upload_id = upload_id;
    m.data.data = (uint8_t *)byte;
    m.data.len = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_CHUNK;
    req.doc_upload_chunk = &m;
    return dgt_call(c, &req);
}

static dg_reply *by_upload(dg_client *c, const char *rpc, int64_t upload_id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocUploadStatusRequest s = DANGAN__V1__DOC_UPLOAD_STATUS_REQUEST__INIT;
    Dangan__V1__DocUploadFinishRequest f = DANGAN__V1__DOC_UPLOAD_FINISH_REQUEST__INIT;

    if (!strcmp(rpc, "doc_upload_chunk"))
        return chunk(c, upload_id);
    if (!strcmp(rpc, "doc_upload_status")) {
        s.upload_id = upload_id;
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_STATUS;
        req.doc_upload_status = &s;
    } else {
        f.upload_id = upload_id;
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_FINISH;
        req.doc_upload_finish = &f;
    }
    return dgt_call(c, &req);
}

int64_t dgt_perm_doc_upload(dg_client *c, int64_t customer_id)
{
    dg_reply *r = begin(c, customer_id);
    int64_t up, id;

    if (dgt_code(r) != 0)
        fail_msg("begin an upload: %s", dgt_reason(r));
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    dg_reply_free(r);
    r = chunk(c, up);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = by_upload(c, "doc_upload_finish", up);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->doc_upload_finish->document->id;
    dg_reply_free(r);
    return id;
}

/* The actor's own upload to the customer, then the request about it. */
static dg_reply *upload_step(dg_client *actor, const char *rpc, int64_t customer_id)
{
    dg_reply *r = begin(actor, customer_id);
    int64_t up;

    if (dgt_code(r) != 0)
        return r;
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    dg_reply_free(r);
    if (!strcmp(rpc, "doc_upload_finish")) { /* every byte first */
        r = chunk(actor, up);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
    }
    return by_upload(actor, rpc, up);
}

dg_reply *dgt_perm_doc_request(dg_client *actor, dg_client *admin, bool is_role_refused,
                               const char *rpc, int64_t customer_id, int64_t doc_id,
                               bool is_fixed_doc, int64_t missing_id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__DocListRequest l = DANGAN__V1__DOC_LIST_REQUEST__INIT;
    Dangan__V1__DocGetRequest g = DANGAN__V1__DOC_GET_REQUEST__INIT;
    Dangan__V1__DocReadChunkRequest rc = DANGAN__V1__DOC_READ_CHUNK_REQUEST__INIT;
    Dangan__V1__DocArchiveRequest a = DANGAN__V1__DOC_ARCHIVE_REQUEST__INIT;

    if (!strcmp(rpc, "doc_upload_begin"))
        return begin(actor, customer_id);
    if (!strcmp(rpc, "doc_upload_chunk") || !strcmp(rpc, "doc_upload_status") ||
        !strcmp(rpc, "doc_upload_finish"))
        return is_role_refused ? by_upload(actor, rpc, missing_id)
                               : upload_step(actor, rpc, customer_id);
    if (!strcmp(rpc, "doc_list")) {
        l.customer_id = customer_id;
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_LIST;
        req.doc_list = &l;
    } else if (!strcmp(rpc, "doc_get")) {
        g.id = doc_id;
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_GET;
        req.doc_get = &g;
    } else if (!strcmp(rpc, "doc_read_chunk")) {
        rc.id = doc_id;
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_READ_CHUNK;
        req.doc_read_chunk = &rc;
    } else if (!strcmp(rpc, "doc_archive")) {
        a.id = is_fixed_doc ? doc_id : dgt_perm_doc_upload(admin, customer_id);
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_ARCHIVE;
        req.doc_archive = &a;
    } else {
        return NULL;
    }
    return dgt_call(actor, &req);
}
