/* audit.c - the audit hash chain: append and verify (docs/security.md).
 *
 * Owns nothing between calls: the chain head lives with the writer
 * (dg_wtx.audit), verification state on the caller's stack.
 * Invariant: record n's hash is SHA-256(hash of n-1 || canonical bytes of n),
 * hash 0 being 32 zero bytes; seqs are 1, 2, 3... without gaps.
 * Threads: append on the writer thread inside its transaction; verify on any
 * thread holding a connection inside one read transaction. */
#include "audit.h"

#include <stdarg.h>
#include <stdio.h>
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

/* dg_audit_hash with a caller's scratch buffer (reset here), so a
 * verification of millions of records does not allocate for each. */
static void hash_with(dg_buf *scratch, const uint8_t prev[DG_AUDIT_HASH_LEN], const dg_audit_rec *r,
                      uint8_t out[DG_AUDIT_HASH_LEN])
{
    mbedtls_sha256_context ctx;

    dg_buf_reset(scratch);
    dg_audit_canonical(r, scratch);
    mbedtls_sha256_init(&ctx);
    /* SHA-256 over memory cannot fail in mbedTLS' software implementation. */
    (void)mbedtls_sha256_starts_ret(&ctx, 0);
    (void)mbedtls_sha256_update_ret(&ctx, prev, DG_AUDIT_HASH_LEN);
    (void)mbedtls_sha256_update_ret(&ctx, dg_buf_head(scratch), dg_buf_avail(scratch));
    (void)mbedtls_sha256_finish_ret(&ctx, out);
    mbedtls_sha256_free(&ctx);
}

void dg_audit_hash(const uint8_t prev[DG_AUDIT_HASH_LEN], const dg_audit_rec *r,
                   uint8_t out[DG_AUDIT_HASH_LEN])
{
    dg_buf bytes = DG_BUF_INIT;

    hash_with(&bytes, prev, r, out);
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

/* ------------------------------------------------------------ verify */

struct walk {
    dg_buf scratch;
    dg_audit_verdict *v;
    const dg_audit_chain *expect;
    uint8_t prev[DG_AUDIT_HASH_LEN]; /* the hash the next record must chain from */
    int64_t anchor_seq;              /* a tail walk: this first row only gives its hash; 0: none */
};

static void fail(dg_audit_verdict *v, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(dg_audit_verdict *v, int64_t seq, const char *fmt, ...)
{
    va_list ap;

    v->ok = false;
    v->first_bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(v->problem, sizeof v->problem, fmt, ap);
    va_end(ap);
}

static bool check_row(void *ctx, const dg_audit_row *row)
{
    struct walk *w = ctx;
    dg_audit_verdict *v = w->v;
    long long want = v->checked + 1;
    uint8_t hash[DG_AUDIT_HASH_LEN];

    /* Every row moves the head, so the verdict also names the log's real
     * newest record; after the first bad one nothing else is checked. */
    v->head.seq = row->rec.seq;
    memset(v->head.hash, 0, sizeof v->head.hash);
    memcpy(v->head.hash, row->hash, row->hash_len < 32 ? row->hash_len : 32);
    if (!v->ok)
        return true;
    if (w->anchor_seq) {
        if (row->rec.seq != w->anchor_seq || row->hash_len != DG_AUDIT_HASH_LEN) {
            fail(v, w->anchor_seq, "record %lld is missing or damaged", (long long)w->anchor_seq);
            return true;
        }
        memcpy(w->prev, row->hash, DG_AUDIT_HASH_LEN);
        v->checked = w->anchor_seq;
        w->anchor_seq = 0;
        return true;
    }
    if (row->rec.seq != want) {
        if (row->rec.seq > want)
            fail(v, want, "record %lld is missing (the next one is %lld)", want,
                 (long long)row->rec.seq);
        else
            fail(v, want, "record %lld is out of order (found %lld)", want,
                 (long long)row->rec.seq);
        return true;
    }
    hash_with(&w->scratch, w->prev, &row->rec, hash);
    if (row->hash_len != DG_AUDIT_HASH_LEN || memcmp(hash, row->hash, DG_AUDIT_HASH_LEN) != 0) {
        fail(v, want,
             "record %lld does not match its hash: it, or its place in the chain, was changed",
             want);
        return true;
    }
    if (w->expect && w->expect->seq == want &&
        memcmp(w->expect->hash, hash, DG_AUDIT_HASH_LEN) != 0) {
        fail(v, want, "record %lld differs from the exported head: the log was rewritten up to it",
             want);
        return true;
    }
    memcpy(w->prev, hash, sizeof hash);
    v->checked = want;
    return true;
}

int dg_audit_verify(dg_store *st, const dg_audit_chain *expect, dg_audit_verdict *v)
{
    struct walk w = {.scratch = DG_BUF_INIT, .v = v, .expect = expect};
    int rc;

    memset(v, 0, sizeof *v);
    v->ok = true;
    rc = dg_store_audit_each(st, check_row, &w);
    dg_buf_fini(&w.scratch);
    if (rc != DG_OK)
        return rc;
    if (v->ok && expect && expect->seq > v->checked)
        fail(v, v->checked + 1,
             "records %lld to %lld are missing: the log ends before the exported head",
             (long long)v->checked + 1, (long long)expect->seq);
    return DG_OK;
}

int dg_audit_verify_tail(dg_store *st, int64_t n_tail, dg_audit_verdict *v)
{
    struct walk w = {.scratch = DG_BUF_INIT, .v = v};
    dg_audit_chain last;
    int rc;

    memset(v, 0, sizeof *v);
    v->ok = true;
    if ((rc = dg_audit_chain_load(st, &last)) != DG_OK)
        return rc;
    if (last.seq > n_tail)
        w.anchor_seq = last.seq - n_tail;
    rc = dg_store_audit_each_from(st, w.anchor_seq, check_row, &w);
    dg_buf_fini(&w.scratch);
    return rc;
}
