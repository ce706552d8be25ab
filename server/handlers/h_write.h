/* h_write.h - the one way a handler writes: a write job.
 *
 * Every write request runs the same sequence on the writer thread, inside
 * its savepoint of the group commit:
 *
 *   idempotency key known? → the first answer again (ops->replay), nothing
 *                            applied twice; a key reused for another request
 *                            or a damaged stored answer fails here
 *   otherwise              → ops->run (rows, change rows, per-record audit)
 *                          → the request's own audit record (ops->detail)
 *                          → the answer stored under the key (ops->remember)
 *
 * and is answered on the loop: ops->answer on success; on failure the
 * idempotency refusals first, then ops->answer_failure (or, when NULL,
 * dg_h_answer_failed_write with the job's entity). A handler embeds a
 * dg_write_job first in its own job struct, fills it with
 * dg_write_job_init, then dg_write_job_submit. The job owns the request
 * until it has answered it; ops->free (NULL: free) releases the struct.
 */
#ifndef DG_H_WRITE_H
#define DG_H_WRITE_H

#include "h_common.h"

#define DG_IDEM_KEY_MAX 128 /* bytes of an idempotency key */

typedef struct dg_write_job dg_write_job;

typedef struct dg_write_ops {
    /* Writer thread. The change itself; a failure leaves its why in w->m. */
    int (*run)(dg_write_job *w, dg_rec_ctx *c);
    /* Writer thread. A retry: load what the answer needs from `first`.
     * NULL: nothing to load (the stored counts are copied by the caller). */
    int (*replay)(dg_write_job *w, dg_rec_ctx *c, const dg_idem_result *first);
    /* Writer thread. The detail of the request's own audit record, or NULL
     * for none (record writes audit each record in records.c). Takes it. */
    json_t *(*detail)(dg_write_job *w);
    /* Writer thread. What a retry of this request gets (w->request and the
     * hash are filled in by the caller). DG_OK or DG_ENOMEM. */
    int (*remember)(dg_write_job *w, dg_rec_ctx *c, dg_idem_result *out);
    /* Loop thread. Answers a job that succeeded (a retry included). */
    void (*answer)(dg_write_job *w);
    /* Loop thread. Answers a failure other than the idempotency refusals;
     * NULL: dg_h_answer_failed_write(w->req, rc, &w->m, w->entity, w->entity_id). */
    void (*answer_failure)(dg_write_job *w, int rc);
    /* Loop thread. Frees the handler's struct; NULL: free(w). */
    void (*free)(dg_write_job *w);
} dg_write_ops;

struct dg_write_job {
    dg_job job;
    const dg_write_ops *ops;
    dg_req *req;
    dg_actor who; /* the session's user, with copies of its strings below */
    char username[DG_USERNAME_MAX + 1];
    char peer[DG_PEER_MAX];
    int64_t now; /* unix ms, the time of every row it writes */
    dg_team team; /* the team's settings when the request started (the deal pipeline) */
    enum dg_idem_request request;
    size_t n_records; /* record writes: one per op; a stored answer must have as many */
    char idem_key[DG_IDEM_KEY_MAX + 1];
    uint8_t req_hash[32];
    bool is_replay;            /* answered from the stored answer */
    dg_mutation m;             /* the step that failed, for the answer */
    struct dg_audit_buf audit; /* the request's own record (ops->detail) */
    const char *entity;        /* for a failure's answer and the audit record */
    int64_t entity_id;
    /* Its commit need not wait for fsync (dg_server_write_record_of_read):
     * only for writes a crash may lose because the client finds out and
     * sends them again (a document's upload chunks, docs/protocol.md). */
    bool may_skip_sync;
};

/* Fills the common part of `w` for `req`: the session's user, the peer, the
 * time, the idempotency key (may be "" or NULL) with the hash of `body` (the
 * request's body message), and the request's audit record for `entity`
 * `entity_id`. The key must already be checked (dg_write_key_ok). */
void dg_write_job_init(dg_write_job *w, const dg_write_ops *ops, dg_req *req,
                       enum dg_idem_request request, const ProtobufCMessage *body,
                       const char *idem_key, const char *entity, int64_t entity_id);
/* Queues `w` on the writer. If it cannot be queued, answers why and frees it. */
void dg_write_job_submit(dg_write_job *w);
/* False (with a field violation on "idempotency_key") for a key over
 * DG_IDEM_KEY_MAX bytes. */
bool dg_write_key_ok(dg_req *req, const char *key);

#endif
