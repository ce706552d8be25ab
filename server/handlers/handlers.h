/* handlers.h - request handlers, one family per h_*.c file. Each takes
 * ownership of the request and answers it exactly once (dg_req_reply or
 * dg_req_fail), now or after its jobs come back. Loop thread. */
#ifndef DG_HANDLERS_H
#define DG_HANDLERS_H

#include "conn.h"

/* h_session.c: the session's life without a password check. */
void dg_h_hello(dg_req *req);
void dg_h_authenticate(dg_req *req);
void dg_h_logout(dg_req *req);
void dg_h_ping(dg_req *req);
void dg_h_whoami(dg_req *req);

/* h_login.c: the requests that check a password (argon2id). */
void dg_h_login(dg_req *req);
void dg_h_change_password(dg_req *req);

/* h_records.c */
void dg_h_create(dg_req *req);
void dg_h_update(dg_req *req);
void dg_h_archive(dg_req *req);
void dg_h_restore(dg_req *req);
void dg_h_batch(dg_req *req);

/* h_query.c: reading records. */
void dg_h_get(dg_req *req);
void dg_h_list(dg_req *req);
void dg_h_search(dg_req *req);
void dg_h_list_fields(dg_req *req);

/* h_fields.c: custom fields (admins). */
void dg_h_define_field(dg_req *req);
/* team settings (h_team.c) */
void dg_h_get_team_settings(dg_req *req);
void dg_h_set_team_settings(dg_req *req);

/* h_audit.c: reading the audit log (admins and auditors). */
void dg_h_audit_query(dg_req *req);
void dg_h_audit_verify(dg_req *req);
void dg_h_audit_head(dg_req *req);
void dg_h_audit_export(dg_req *req);

/* h_stats.c: the server's state (admins). */
void dg_h_server_stats(dg_req *req);

/* h_report.c: the manager's reports (readers; what each counts: docs/customer-file.md). */
void dg_h_report(dg_req *req);

/* h_users.c: accounts (admins). */
void dg_h_user_add(dg_req *req);
void dg_h_user_list(dg_req *req);
void dg_h_colleagues(dg_req *req);
void dg_h_user_set_role(dg_req *req);
void dg_h_user_set_disabled(dg_req *req);
void dg_h_user_reset_password(dg_req *req);

/* h_reassign.c: hand customers over (managers). */
void dg_h_reassign(dg_req *req);

/* h_history.c: a record's changes from the audit log (readers). */
void dg_h_history(dg_req *req);

/* h_merge.c: two files of one customer become one (managers). */
void dg_h_merge(dg_req *req);

/* h_query.c: the public pool's customers (a list); h_pool.c: claims and
 * releases; h_lifecycle.c: suggested status changes. */
void dg_h_pool_list(dg_req *req);
void dg_h_pool_claim(dg_req *req);
void dg_h_pool_release(dg_req *req);
void dg_h_lifecycle_suggest(dg_req *req);

/* h_io.c: the rights and audit records of file imports and exports. */
void dg_h_import_begin(dg_req *req);
void dg_h_import_finish(dg_req *req);
void dg_h_export_begin(dg_req *req);
void dg_h_export_finish(dg_req *req);
/* h_duplicates.c: candidate duplicate customers in the whole base (managers). */
void dg_h_duplicates_scan(dg_req *req);
/* h_today.c: the day's contact list of a user, or of every user. */
void dg_h_today(dg_req *req);

/* h_deal.c: a deal to another stage of the pipeline. */
void dg_h_deal_move(dg_req *req);
/* h_tiers.c: the ABC suggestion and applying it (managers). */
void dg_h_tiers(dg_req *req);
void dg_h_tiers_apply(dg_req *req);

/* h_feed.c: the change feed. */
void dg_h_subscribe(dg_req *req);
void dg_h_unsubscribe(dg_req *req);

/* h_docs.c: uploading a document attached to a customer. */
void dg_h_doc_upload_begin(dg_req *req);
void dg_h_doc_upload_chunk(dg_req *req);
void dg_h_doc_upload_status(dg_req *req);
void dg_h_doc_upload_finish(dg_req *req);
/* h_docs_read.c: listing, reading, downloading and archiving documents. */
void dg_h_doc_list(dg_req *req);
void dg_h_doc_get(dg_req *req);
void dg_h_doc_read_chunk(dg_req *req);
void dg_h_doc_archive(dg_req *req);

#endif
