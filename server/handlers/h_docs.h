/* h_docs.h - what the document handlers share (h_docs.c: uploads,
 * h_docs_read.c: list, get, download, archive). Loop thread. */
#ifndef DG_H_DOCS_H
#define DG_H_DOCS_H

#include "h_common.h"
#include "store_docs.h"

/* The stored name of a DocKind value ("contract"), or NULL for none. */
const char *dg_h_doc_kind_name(int kind);
/* A Document for the reply, in the request's arena (strings borrowed from d). */
Dangan__V1__Document *dg_h_doc_pb(dg_req *req, const dg_doc *d);

#endif
