/* h_common.h - helpers shared by the request handlers (h_*.c). */
#ifndef DG_H_COMMON_H
#define DG_H_COMMON_H

#include <jansson.h>

#include "audit.h"
#include "conn.h"
#include "model.h"
#include "records.h"
#include "perm.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "writer.h"

/* An audit record with its own copies of the strings it points to, so it
 * can travel to the writer thread inside a job. */
struct dg_audit_buf {
    dg_audit_rec rec;
    char username[DG_USERNAME_MAX * 4 + 1];
    char peer[DG_PEER_MAX];
    char *detail; /* jansson-allocated JSON text */
};

/* Fills `a` for the request's action: who (user_id, username), the peer,
 * entity and id, outcome ("ok", "denied", "error"); takes ownership of
 * `detail` (NULL for "{}"). Time is now. */
void dg_h_audit_fill(struct dg_audit_buf *a, dg_req *req, int64_t user_id, const char *username,
                     const char *entity, int64_t entity_id, const char *outcome, json_t *detail);
void dg_h_audit_fini(struct dg_audit_buf *a);
/* {"reason": reason} */
json_t *dg_h_reason_detail(const char *reason);
/* Write-job body for records that change nothing else (denials): appends
 * `a` to the audit chain. Writer thread. */
void dg_h_audit_only_run(dg_job *job, void *ctx, struct dg_audit_buf *a);

/* Refuses the request: writes a "denied" audit record for the session's user
 * (entity, entity_id, {"reason": reason}), then answers PERMISSION_DENIED
 * with `message` once the record is committed - a denial is never answered
 * without its record. Loop thread. */
void dg_h_deny(dg_req *req, const char *entity, int64_t entity_id, const char *reason,
               const char *message);
/* The same with another answer: NOT_FOUND for a record the user may not
 * know exists (a restricted tier), the attempt audited as denied. */
void dg_h_refuse(dg_req *req, int rc, const char *entity, int64_t entity_id, const char *reason,
                 const char *message);
/* The same with the audit record's detail given (taken; it should hold
 * "reason") and the answer's reason as given: code rc, `reason`, `message`
 * and no body, once the record is committed. */
void dg_h_refuse_detail(dg_req *req, int rc, const char *entity, int64_t entity_id,
                        json_t *detail, const char *reason, const char *message);
/* Answers NOT_FOUND for something the caller named that does not exist for
 * them, with `fmt` as the message. The reply is the same whether it does
 * not exist or it is in a restricted customer's dossier the caller may not
 * see (is_hidden): code, reason, message, field violations (added by the
 * caller before) and body. Only a hidden one leaves a "denied" audit record
 * (restricted_tier), and is answered once that is committed. Loop thread. */
void dg_h_not_found(dg_req *req, bool is_hidden, const char *entity, int64_t entity_id,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Writes an audit record of a permitted read (a restricted customer) for
 * the session's user, then sends req->resp as it stands; if the record cannot
 * be written the read is not answered (storage error). */
void dg_h_audit_then_reply(dg_req *req, const char *entity, int64_t entity_id, json_t *detail);
/* SHA-256 of a packed request body, kept with an idempotency key: a reused
 * key must carry the same request. */
void dg_h_request_hash(dg_req *req, const ProtobufCMessage *body, uint8_t out[32]);
/* The session's user as perm.c needs it. */
dg_perm_who dg_h_who(dg_req *req);

/* Writer thread: serialises `detail` (taken) into a->detail and appends the
 * record. DG_OK, DG_ENOMEM or a store error. */
int dg_h_audit_append_json(dg_wtx *tx, struct dg_audit_buf *a, json_t *detail);

/* Answers a write job that failed on its way through dg_rec_* functions:
 * a missing customer or one hidden from the caller → NOT_FOUND, the same
 * reply for both (the hidden one audited), DG_EDENIED → PERMISSION_DENIED
 * (audited), a refused value naming its field, or a storage error. (The
 * idempotency refusals are the write job's: h_write.h.) */
void dg_h_answer_failed_write(dg_req *req, int rc, const dg_mutation *m, const char *entity,
                              int64_t entity_id);

/* Answers a request whose job could not be queued or failed in the store:
 * overloaded (retry), read-only after an I/O error, busy, storage error. */
void dg_h_fail_job(dg_req *req, int rc);

/* A CustomField for the reply (h_fields.c). */
Dangan__V1__CustomField *dg_h_field_to_pb(dg_req *req, const dg_custom_field *f);

/* A SessionInfo for the reply, allocated in the request's arena. */
Dangan__V1__SessionInfo *dg_h_session_info(dg_req *req, const dg_session *s);
/* A registry session from a user and its stored session row. */
void dg_h_session_from(dg_session *s, const dg_user *u, const dg_session_row *row, int64_t now);
/* A new session row for this connection, expiring after the absolute timeout. */
void dg_h_new_session_row(dg_session_row *row, dg_req *req, int64_t user_id,
                          const uint8_t hash[DG_TOKEN_HASH_LEN], int64_t now);

#endif
