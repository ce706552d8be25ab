/* v5_database.h - the database of schema v5 the schema v6 tests open
 * (test_schema_v6, test_schema_v6_feed): the ids and users its history
 * made, and its text as v5 wrote it, parsed here before the migration, so
 * that the tests check every row of it. Names are the tests' own (no dg_
 * prefix): they are linked into test programs only.
 */
#ifndef DANGAN_TESTS_V5_DATABASE_H
#define DANGAN_TESTS_V5_DATABASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fixture.h"

#define S1_PASSWORD "sales-one-password-1"
#define S2_PASSWORD "sales-two-password-1"
#define MGR_PASSWORD "manager-password-1"

/* The ids the v5 history gave its records (make_v5_history asserts them). */
enum {
    C1 = 1, /* s1's, tier B; its dossier gets one record of each kind; then tier A, then s2's */
    C2 = 2, /* s2's, tier A: never in s1's view */
    C3 = 3, /* s2's, merged into C1 */
    C4 = 4, /* s1's, no tier */
    K1 = 1, /* contact of C1 */
    K3 = 2, /* contact of C3, moved to C1 by the merge */
    I1 = 1, /* interaction, deal, feedback and task of C1 */
    D1 = 1,
    F1 = 1,
    T1 = 1,
};

/* The server on the migrated database, from v5_setup to v5_teardown. */
extern dgt_server srv;

/* ------------------------------------------------------------ v5 text, parsed */

#define MAX_ROWS 256
#define MAX_ITEMS 32

/* A view as v5 wrote it, "owner=ID;tier=NAME"; anything else is none. */
struct vis {
    bool is_set;
    int64_t owner;
    char tier[8];
};

struct v5_change {
    int64_t seq, entity_id;
    char entity[32];
    size_t n_fields;
    char fields[MAX_ITEMS][64];
    struct vis before, after;
};

struct v5_fver {
    int kind;
    int64_t id;
    size_t n;
    char field[MAX_ITEMS][64];
    int64_t version[MAX_ITEMS];
};

/* What v5 wrote, in the order of its rows (changes by seq, fvers by kind
 * then id); filled by v5_setup. */
extern struct v5_change changes[MAX_ROWS];
extern size_t n_changes;
extern struct v5_fver fvers[MAX_ROWS];
extern size_t n_fvers;

/* ------------------------------------------------------------ requests and rows */

/* The reply is OK (else fails the test naming `what`); frees it. */
void ok(dg_reply *r, const char *what);

/* The server's database, opened read-only (close with sqlite3_close). */
sqlite3 *db_open(void);

/* The first column of the first row of `sql`, or -1 without a row. */
int64_t count_rows(const char *sql);

/* Column i of the current row as text, "" for NULL (valid until the next step). */
const char *col(sqlite3_stmt *s, int i);

/* ------------------------------------------------------------ group fixture */

/* Loads tests/integration/data/schema_v5.sql with some damaged text added,
 * reads its v5 text (changes, fvers) and restarts the server on it, which
 * migrates it to v6. */
int v5_setup(void **state);

/* Stops the server. */
int v5_teardown(void **state);

#endif
