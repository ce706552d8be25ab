/* audit.c - the audit hash chain. */
#include "audit.h"

#include <string.h>

#include <mbedtls/sha256.h>

#include "dg.h"

static void put_i64(dg_buf *out, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)u;
        u >>= 8;
    }
    dg_buf_append(out, b, sizeof b);
}

static void put_str(dg_buf *out, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};

    dg_buf_append(out, b, sizeof b);
    dg_buf_append(out, s ? s : "", n);
}

void dg_audit_canonical(const dg_audit_rec *r, dg_buf *out)
{
    dg_buf_append(out, "DGA1", 4);
    put_i64(out, r->seq);
    put_i64(out, r->at);
    put_i64(out, r->user_id);
    put_str(out, r->username);
    put_str(out, r->peer);
    put_str(out, r->action);
    put_str(out, r->entity);
    put_i64(out, r->entity_id);
    put_str(out, r->outcome);
    put_str(out, r->detail);
}

void dg_audit_hash(const uint8_t prev[DG_AUDIT_HASH_LEN], const dg_audit_rec *r,
                   uint8_t out[DG_AUDIT_HASH_LEN])
{
    dg_buf bytes = DG_BUF_INIT;
    mbedtls_sha256_context ctx;

    dg_audit_canonical(r, &bytes);
    mbedtls_sha256_init(&ctx);
    /* SHA-256 over memory cannot fail in mbedTLS' software implementation. */
    (void)mbedtls_sha256_starts_ret(&ctx, 0);
    (void)mbedtls_sha256_update_ret(&ctx, prev, DG_AUDIT_HASH_LEN);
    (void)mbedtls_sha256_update_ret(&ctx, dg_buf_head(&bytes), dg_buf_avail(&bytes));
    (void)mbedtls_sha256_finish_ret(&ctx, out);
    mbedtls_sha256_free(&ctx);
    dg_buf_fini(&bytes);
}

int dg_audit_chain_load(dg_store *st, dg_audit_chain *c)
{
    int rc = dg_store_audit_last(st, &c->seq, c->hash);

    if (rc == DG_ENOTFOUND) {
        c->seq = 0;
        memset(c->hash, 0, sizeof c->hash);
        return DG_OK;
    }
    return rc;
}

int dg_audit_append(dg_store *st, dg_audit_chain *c, dg_audit_rec *r)
{
    uint8_t hash[DG_AUDIT_HASH_LEN];
    int rc;

    r->seq = c->seq + 1;
    dg_audit_hash(c->hash, r, hash);
    rc = dg_store_audit_insert(st, r, hash);
    if (rc != DG_OK)
        return rc;
    c->seq = r->seq;
    memcpy(c->hash, hash, sizeof hash);
    return DG_OK;
}
