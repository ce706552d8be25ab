/* doc.h - what `dangan doc`'s files share (cmd_doc.c: the group, upload,
 * list, archive; cmd_doc_get.c: get): transfers in chunks with several in
 * flight, their progress bar, and a document as JSON. Single-threaded.
 */
#ifndef DG_CLI_DOC_H
#define DG_CLI_DOC_H

#include <stdbool.h>
#include <stdint.h>

#include "rec.h"

/* Chunk requests in flight at once: enough to keep the writer's group
 * commit and the readers busy on a fast link (docs/protocol.md, "Documents"). */
#define DOC_WINDOW 8
/* Reconnects a transfer makes after a lost connection before it gives up. */
#define DOC_RETRIES 5

/* A progress bar on stderr, drawn only on a terminal and never with --json. */
typedef struct doc_progress {
    bool is_on;
    const char *label;       /* "upload", "download" */
    int64_t total, done;     /* bytes */
    int64_t start_done;      /* bytes already there when it started (a resume) */
    int64_t t0_ms, drawn_ms; /* monotonic */
} doc_progress;

void doc_progress_start(doc_progress *p, const cli *c, const char *label, int64_t total,
                        int64_t done);
void doc_progress_set(doc_progress *p, int64_t done);
/* Clears the bar's line. */
void doc_progress_end(doc_progress *p);

/* A Document as JSON (the .proto's names; sha256 as hex). */
json_t *doc_json(const Dangan__V1__Document *d);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void doc_hex(const uint8_t *p, size_t n, char *out);
/* "1.2 MiB" */
const char *doc_size_text(int64_t bytes, char *buf, size_t len);
/* After a lost connection: a new one with the same session. EXIT_OK or the
 * exit code (printed). */
int doc_reconnect(cli *c, int attempt);

int cli_doc_get(cli *c);

#endif
