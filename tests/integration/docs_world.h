/* docs_world.h - what test_documents and test_documents_cli share: one
 * server (its [documents] max_size_mib is DOCS_MAX_MIB), the admin's
 * connection, a tier B customer, a CLI config directory logged in as admin,
 * and the requests of a document's life through libdangan. Every helper
 * aborts the test on a failure it does not return. */
#ifndef DGT_DOCS_WORLD_H
#define DGT_DOCS_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture.h"

#define DOCS_MAX_MIB 64
#define MIB (1u << 20)

extern dgt_server srv;
extern char cfg[256]; /* the CLI's config directory, and room for files */
extern dgt_run run;   /* the last CLI run (big buffers: not on the stack) */
extern dg_client *admin;
extern int64_t customer; /* tier B, admin's */

/* Runs the CLI in cfg into `run`. */
#define CLI(input, ...)                                                                            \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, input, argv_);                                                          \
    } while (0)

/* Group setup and teardown: start and stop the world. */
int dgt_docs_setup(void **state);
int dgt_docs_teardown(void **state);

/* n deterministic bytes of a seed (malloc'd). */
uint8_t *dgt_doc_bytes(size_t n, uint32_t seed);
/* A new customer (owner NULL: the caller's; tier a Tier value); its id. */
int64_t dgt_doc_customer(dg_client *c, const char *name, const char *owner, int tier);
/* DocUploadBegin of n bytes, with hash `sha` (NULL: the bytes' own). */
dg_reply *dgt_doc_begin(dg_client *c, int64_t cust, const uint8_t *data, size_t n,
                        const uint8_t *sha);
/* DocUploadChunk of data[off, off + len). */
dg_reply *dgt_doc_chunk(dg_client *c, int64_t upload, const uint8_t *data, int64_t off, size_t len);
dg_reply *dgt_doc_status(dg_client *c, int64_t upload);
dg_reply *dgt_doc_finish(dg_client *c, int64_t upload);
/* Sends data[from, n) a chunk at a time, each answered OK. */
void dgt_doc_send_rest(dg_client *c, int64_t upload, const uint8_t *data, size_t n, int64_t from,
                       uint32_t chunk_size);
/* A whole upload; the document's id (*is_dedup: shared content, may be NULL). */
int64_t dgt_doc_upload(dg_client *c, int64_t cust, const uint8_t *data, size_t n, bool *is_dedup);
dg_reply *dgt_doc_get(dg_client *c, int64_t id);
dg_reply *dgt_doc_read_chunk(dg_client *c, int64_t id, int64_t off);
/* The document's content, chunk by chunk (malloc'd); *n its size. */
uint8_t *dgt_doc_download(dg_client *c, int64_t id, size_t *n);
void dgt_doc_assert_download(dg_client *c, int64_t id, const uint8_t *want, size_t n);
void dgt_doc_write_file(const char *path, const uint8_t *p, size_t n);
uint8_t *dgt_doc_read_file(const char *path, size_t *n);
/* The one value of a query on the stopped server's database. */
int64_t dgt_doc_db_count(const char *sql);

#endif
