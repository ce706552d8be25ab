/* audit.h - canonical bytes and the hash chain of the audit log (docs/security.md).
 *
 * Record n stores hash_n = SHA-256(hash_{n-1} || canonical(record n)), with
 * hash_0 = 32 zero bytes. The canonical bytes are fixed-width big-endian
 * integers and length-prefixed UTF-8 strings in a fixed order, so any
 * implementation can recompute them (see dg_audit_canonical).
 *
 * Appending happens inside the writer's transaction, in the same savepoint as
 * the effect it records; the writer restores the in-memory chain head when
 * that savepoint rolls back. Runs on: the writer thread (append), any thread
 * holding a connection (verify).
 */
#ifndef DG_AUDIT_H
#define DG_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"
#include "store.h"

#define DG_AUDIT_HASH_LEN 32

typedef struct dg_audit_chain {
    int64_t seq; /* newest record; 0 when the log is empty */
    uint8_t hash[DG_AUDIT_HASH_LEN];
} dg_audit_chain;

/* Canonical bytes of `r` appended to `out`:
 *   "DGA1" seq:i64 at:i64 user_id:i64 username peer action entity
 *   entity_id:i64 outcome detail
 * integers big-endian, each string as u32 big-endian byte length + bytes. */
void dg_audit_canonical(const dg_audit_rec *r, dg_buf *out);
/* out = SHA-256(prev || canonical(r)). */
void dg_audit_hash(const uint8_t prev[DG_AUDIT_HASH_LEN], const dg_audit_rec *r,
                   uint8_t out[DG_AUDIT_HASH_LEN]);
/* Reads the newest record's seq and hash (or the empty chain). */
int dg_audit_chain_load(dg_store *st, dg_audit_chain *c);
/* Sets r->seq, computes the hash, inserts the row and advances *c. Call
 * inside a write transaction. DG_OK or a store error. */
int dg_audit_append(dg_store *st, dg_audit_chain *c, dg_audit_rec *r);

/* What dg_audit_verify found. */
typedef struct dg_audit_verdict {
    bool ok;
    int64_t checked;       /* records 1..checked chain correctly */
    int64_t first_bad_seq; /* 0 when ok */
    char problem[160];     /* what is wrong at first_bad_seq, for people */
    dg_audit_chain head;   /* the log's newest record as stored */
} dg_audit_verdict;

/* Recomputes the whole chain from record 1 in seq order and names the first
 * record that is missing, out of order or does not match its hash. With
 * `expect` (an exported head), the log must also reach expect->seq with
 * that hash, which catches records cut off the end. Call inside one read
 * transaction. DG_OK (whatever the verdict) or a store error. */
int dg_audit_verify(dg_store *st, const dg_audit_chain *expect, dg_audit_verdict *v);
/* The same for the newest `n_tail` records only: each must chain from the
 * one before, the first from the stored hash of its predecessor (trusted,
 * not recomputed). Cost in proportion to n_tail, not to the log: what a
 * crash could have left half-written is at the end. Call inside one read
 * transaction. DG_OK (whatever the verdict) or a store error. */
int dg_audit_verify_tail(dg_store *st, int64_t n_tail, dg_audit_verdict *v);

#endif
