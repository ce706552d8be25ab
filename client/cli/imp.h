/* imp.h - `dangan import customers`: what its two files share.
 *
 * imp_map.c   the header row: which column is which field (English and
 *             Chinese names, --map), and each data row as a Customer and,
 *             when the file has contact columns, a Contact, with the first
 *             bad value named by line and column.
 * cmd_import.c the command: the file read and checked, the right asked for
 *             (ImportBegin), the rows sent through Batch in bounded groups
 *             with likely duplicates handled by --on-duplicate, the reject
 *             file, the progress bar and the summary (ImportFinish).
 * Single-threaded.
 */
#ifndef DG_CLI_IMP_H
#define DG_CLI_IMP_H

#include "rec.h"
#include "tabin.h"

enum imp_target { IMP_NONE, IMP_CUSTOMER, IMP_CONTACT };

typedef struct imp_col {
    const char *header; /* as in the file (borrowed from the table) */
    char letter[8];     /* "A", "AB": where a spreadsheet shows it */
    enum imp_target target;
    char field[128]; /* the Customer or Contact field; "custom.NAME" */
} imp_col;

typedef struct imp_map {
    imp_col *cols;
    size_t n;
    bool has_contact;
} imp_map;

/* Maps the header row: --map COLUMN=FIELD first (COLUMN is a header or a
 * column letter; FIELD a customer field, contact.FIELD or "-" to skip it),
 * then the known names. A --map naming no column or an unknown field, a
 * field mapped twice, or no customer name column is a usage error (printed;
 * the exit code returned). Columns left unmapped are listed on stderr. */
int imp_map_build(cli *c, const cli_row *header, char *const *maps, size_t n_maps, imp_map *m);
void imp_map_fini(imp_map *m);

enum imp_state { IMP_PENDING, IMP_CREATED, IMP_UPDATED, IMP_SKIPPED, IMP_REJECTED };

typedef struct imp_rec {
    const cli_row *src;
    Dangan__V1__Customer *cu; /* heap messages (rec.h) */
    Dangan__V1__Contact *ct;  /* NULL when the row has no contact */
    enum imp_state state;
    char column[160]; /* rejected: "C (手机)" */
    char why[512];
} imp_rec;

/* Builds the row's records. False (with column and why set, state
 * IMP_REJECTED) when a value does not parse or the name is missing. */
bool imp_row_build(cli *c, const imp_map *m, const cli_row *row, imp_rec *r);
void imp_rec_fini(imp_rec *r);
/* "C (手机)" for the column mapped to target/field (a field violation's
 * field), or "" when none is. */
void imp_column_of(const imp_map *m, enum imp_target target, const char *field, char *buf,
                   size_t len);

#endif
