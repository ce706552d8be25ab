/* perm_docs.h - the document requests of test_perm's rows (permissions.tsv):
 * each made as the row's actor against the row's customer or its document. */
#ifndef DGT_PERM_DOCS_H
#define DGT_PERM_DOCS_H

#include <stdbool.h>
#include <stdint.h>

#include "fixture.h"

/* Uploads a one-byte document to `customer_id` as `c`; its id (aborts on failure). */
int64_t dgt_perm_doc_upload(dg_client *c, int64_t customer_id);

/* Makes request `rpc` (a doc_* oneof field name) as `actor`:
 * - doc_upload_begin, doc_list: about the customer;
 * - doc_get, doc_read_chunk: about `doc_id`;
 * - doc_archive: about a fresh document of the customer that `admin` uploads
 *   (`doc_id` itself when `is_fixed_doc`: an archived or missing customer's);
 * - doc_upload_chunk, doc_upload_status, doc_upload_finish: the actor begins
 *   its own upload to the customer and goes on with it; when the begin is
 *   refused its reply is the row's. With `is_role_refused` (a role that may
 *   not upload at all) the request goes alone, for upload `missing_id`.
 * Returns the reply whose code the row expects, or NULL for an unknown rpc. */
dg_reply *dgt_perm_doc_request(dg_client *actor, dg_client *admin, bool is_role_refused,
                               const char *rpc, int64_t customer_id, int64_t doc_id,
                               bool is_fixed_doc, int64_t missing_id);

#endif
