/* store_search.c - the search index: an FTS5 table with our tokenizer
 * ("dangan", common/text.c), one document per customer, contact and
 * interaction, and the search query.
 *
 * Ranking: a customer found through its name ranks above one found through a
 * contact's name, then phones, e-mails, addresses, notes; within one column,
 * newer records first. Each column is queried in that order with the rows
 * streamed newest first (FTS5 iterates rowid DESC without sorting), so a
 * common term costs as much as the page it fills, not as its match count.
 * The list filter is part of the search query (a LEFT JOIN to customers on
 * each document's customer): one statement per column, no query per hit.
 * The writer's connection defers its writes to the index: each commit
 * queues them as rows of search_queue, which dg_store_search_apply writes
 * into the index later, in bulk (docs/architecture.md, "The search index").
 * Runs on: the thread that owns the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "log.h"
#include "store_int.h"
#include "text.h"

/* ------------------------------------------------------------ tokenizer */

struct emit_ctx {
    void *fts_ctx;
    int (*x_token)(void *, int, const char *, int, int, int);
};

static int emit_token(void *ud, const char *tok, size_t len, size_t start, size_t end)
{
    struct emit_ctx *e = ud;

    return e->x_token(e->fts_ctx, 0, tok, (int)len, (int)start, (int)end);
}

static int tok_create(void *ud, const char **argv, int argc, Fts5Tokenizer **out)
{
    static int dummy; /* stateless: any non-NULL handle will do */

    DG_UNUSED(ud);
    DG_UNUSED(argv);
    DG_UNUSED(argc);
    *out = (Fts5Tokenizer *)&dummy;
    return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *t)
{
    DG_UNUSED(t);
}

/* Offsets given to FTS5 refer to the folded text; they are used only by
 * highlight() and snippet(), which dangan does not call. */
static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int n,
                        int (*x_token)(void *, int, const char *, int, int, int))
{
    struct emit_ctx e = {ctx, x_token};
    size_t folded_len;
    char *folded;
    int rc;

    DG_UNUSED(t);
    if (n <= 0)
        return SQLITE_OK;
    folded = dg_text_fold(text, (size_t)n, &folded_len);
    if (!folded)
        return SQLITE_OK; /* not UTF-8: nothing to index (inputs are validated before) */
    if (flags & FTS5_TOKENIZE_QUERY)
        rc = dg_tok_query(folded, folded_len, emit_token, &e);
    else
        rc = dg_tok_document(folded, folded_len, emit_token, &e);
    free(folded);
    return rc;
}

int store_search_register(dg_store *st)
{
    static fts5_tokenizer tokenizer = {tok_create, tok_delete, tok_tokenize};
    fts5_api *api = NULL;
    sqlite3_stmt *s;
    int rc;

    rc = sqlite3_prepare_v2(st->db, "SELECT fts5(?1)", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_err(st, rc);
    sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(s);
    sqlite3_finalize(s);
    if (!api) {
        snprintf(st->err, sizeof st->err, "this SQLite has no FTS5");
        return DG_EIO;
    }
    rc = api->xCreateTokenizer(api, "dangan", NULL, &tokenizer, NULL);
    return rc == SQLITE_OK ? DG_OK : store_err(st, rc);
}

/* ------------------------------------------------------------ documents */

static const char SQL_DOC_INSERT[] =
    "INSERT INTO search(rowid, name, people, phones, emails, address, notes)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_DOC_DELETE[] =
    "INSERT INTO search(search, rowid, name, people, phones, emails, address, notes)"
    " VALUES ('delete', ?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* Every searched column of a record is a document of its own, so that
 * changing a phone number rewrites the few terms of the phone numbers, not
 * the notes: rowid = (id * 8 + kind) * 8 + column. Within one column,
 * rowid order is still record id order. */
enum { N_COLS = 6 };

static int64_t doc_rowid(enum dg_kind kind, int64_t id, int col)
{
    return (id * 8 + (int64_t)kind) * 8 + col;
}

/* One queued write: one column of one record. */
struct search_op {
    int64_t rowid;
    size_t order; /* its place in the queue: writes to one document keep it */
    int col;
    bool is_delete;
    char *text;
};

static int doc_stmt(dg_store *st, const struct search_op *op)
{
    sqlite3_stmt *s = store_stmt(st, op->is_delete ? SQL_DOC_DELETE : SQL_DOC_INSERT);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, op->rowid);
    /* the other columns stay NULL, in the insert and in its delete alike */
    sqlite3_bind_text(s, 2 + op->col, op->text, -1, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

static int queue_doc(dg_store *st, int64_t rowid, int col, bool is_delete, const char *text)
{
    struct search_op *op;

    if (st->n_search_ops == st->cap_search_ops) {
        size_t cap = st->cap_search_ops ? st->cap_search_ops * 2 : 64;
        struct search_op *ops = realloc(st->search_ops, cap * sizeof *ops);

        if (!ops)
            return DG_ENOMEM;
        st->search_ops = ops;
        st->cap_search_ops = cap;
    }
    op = &st->search_ops[st->n_search_ops];
    if (!(op->text = strdup(text)))
        return DG_ENOMEM;
    op->rowid = rowid;
    op->order = st->n_search_ops;
    op->col = col;
    op->is_delete = is_delete;
    st->n_search_ops++;
    return DG_OK;
}

static const char *doc_col(const dg_search_doc *d, int col)
{
    const char *cols[N_COLS] = {d->name, d->people, d->phones, d->emails, d->address, d->notes};

    return cols[col] ? cols[col] : "";
}

int dg_store_search_put(dg_store *st, enum dg_kind kind, int64_t id, const dg_search_doc *old,
                        const dg_search_doc *doc)
{
    size_t n_before = st->n_search_ops;
    int rc = DG_OK;

    for (int col = 0; col < N_COLS && rc == DG_OK; col++) {
        const char *was = old ? doc_col(old, col) : "", *now = doc_col(doc, col);
        int64_t rowid = doc_rowid(kind, id, col);

        if (strcmp(was, now) == 0)
            continue; /* unchanged (or empty in both): the index already agrees */
        if (*was)
            rc = queue_doc(st, rowid, col, true, was);
        if (rc == DG_OK && *now)
            rc = queue_doc(st, rowid, col, false, now);
    }
    if (rc != DG_OK)
        store_search_discard(st, n_before); /* all of this record or nothing */
    return rc;
}

static const char SQL_QUEUE_INSERT[] =
    "INSERT INTO search_queue(rowid, col, is_delete, text) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_QUEUE_READ[] =
    "SELECT rowid, col, is_delete, text FROM search_queue ORDER BY seq";
static const char SQL_QUEUE_DELETE[] = "DELETE FROM search_queue";
static const char SQL_QUEUE_COUNT[] = "SELECT count(*) FROM search_queue";

static const char SQL_DOC_DELETE_ALL[] = "INSERT INTO search(search) VALUES ('delete-all')";

int dg_store_search_clear(dg_store *st)
{
    int rc;

    store_search_discard(st, 0);
    /* the queue describes changes to the index being dropped */
    if ((rc = store_exec_stmt(st, store_stmt(st, SQL_QUEUE_DELETE))) != DG_OK)
        return rc;
    st->n_search_queued = 0;
    return store_exec_stmt(st, store_stmt(st, SQL_DOC_DELETE_ALL));
}

void store_search_discard(dg_store *st, size_t from)
{
    for (size_t i = from; i < st->n_search_ops; i++)
        free(st->search_ops[i].text);
    if (from < st->n_search_ops)
        st->n_search_ops = from;
    if (st->search_ops_mark > st->n_search_ops)
        st->search_ops_mark = st->n_search_ops;
}

static int op_cmp(const void *a, const void *b)
{
    const struct search_op *x = a, *y = b;

    if (x->rowid != y->rowid)
        return x->rowid < y->rowid ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Writes the queued ops into FTS5 in rowid order (a delete and an insert of
 * one document in the order they were queued), then drops them. FTS5 keeps
 * a transaction's terms in memory and writes them out as a new index
 * segment when they pass its hash size, but also whenever a rowid comes
 * that is below the last one written: a job's records are queued customer,
 * contacts, interactions, next customer..., whose rowids go up and down,
 * and in queue order each customer of a bulk import became a segment of its
 * own, each followed by merges (demo data: a third of the load's time, and
 * the share grew with the index). */
static int write_ops(dg_store *st, size_t from)
{
    size_t n = st->n_search_ops - from;
    int rc = DG_OK;

    if (n > 1)
        qsort(st->search_ops + from, n, sizeof *st->search_ops, op_cmp);
    for (size_t i = from; i < st->n_search_ops && rc == DG_OK; i++)
        rc = doc_stmt(st, &st->search_ops[i]);
    store_search_discard(st, from);
    return rc;
}

/* Appends the rows of search_queue to the ops queued in memory, and
 * empties the table. */
static int take_queue(dg_store *st)
{
    size_t n_mem = st->n_search_ops;
    sqlite3_stmt *s = store_stmt(st, SQL_QUEUE_READ);
    int rc = DG_OK, src = SQLITE_DONE;

    if (!s)
        return DG_EIO;
    while (rc == DG_OK && (src = sqlite3_step(s)) == SQLITE_ROW)
        rc = queue_doc(st, sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1),
                       sqlite3_column_int(s, 2) != 0, (const char *)sqlite3_column_text(s, 3));
    if (rc == DG_OK && src != SQLITE_DONE)
        rc = store_err(st, src);
    sqlite3_reset(s);
    if (rc == DG_OK && st->n_search_ops > n_mem) {
        rc = store_exec_stmt(st, store_stmt(st, SQL_QUEUE_DELETE));
        st->n_search_queued = 0;
    }
    if (rc != DG_OK)
        store_search_discard(st, n_mem);
    return rc;
}

/* The ops of the open transaction as rows of search_queue, in their order. */
static int queue_ops(dg_store *st)
{
    int rc = DG_OK;

    for (size_t i = 0; i < st->n_search_ops && rc == DG_OK; i++) {
        const struct search_op *op = &st->search_ops[i];
        sqlite3_stmt *s = store_stmt(st, SQL_QUEUE_INSERT);

        if (!s)
            return DG_EIO;
        sqlite3_bind_int64(s, 1, op->rowid);
        sqlite3_bind_int(s, 2, op->col);
        sqlite3_bind_int(s, 3, op->is_delete);
        sqlite3_bind_text(s, 4, op->text, -1, SQLITE_STATIC);
        rc = store_exec_stmt(st, s);
    }
    if (rc == DG_OK)
        st->n_search_queued += (int64_t)st->n_search_ops;
    store_search_discard(st, 0);
    return rc;
}

int dg_store_search_flush(dg_store *st)
{
    int rc;

    if (st->is_search_deferred)
        return queue_ops(st);
    /* Written directly: whatever a deferring writer left queued goes in
     * first (it is older), so that each document's ops keep their order. */
    rc = dg_store_search_apply(st);
    return rc == DG_OK ? write_ops(st, 0) : rc;
}

int dg_store_search_defer(dg_store *st, bool defer)
{
    int rc = store_pragma_int(st, SQL_QUEUE_COUNT, &st->n_search_queued);

    if (rc == DG_OK)
        st->is_search_deferred = defer;
    return rc;
}

int64_t dg_store_search_queued(const dg_store *st)
{
    return st->n_search_queued;
}

int dg_store_search_apply(dg_store *st)
{
    size_t n_mem = st->n_search_ops; /* newer than the table's rows: they stay queued */
    int rc = take_queue(st);

    return rc == DG_OK ? write_ops(st, n_mem) : rc;
}

/* ------------------------------------------------------------ query */

static const struct {
    const char *column;
    const char *matched;
    double score;
} columns[] = {
    {"name", "name", 6},    {"people", "contact", 5},  {"phones", "phone", 4},
    {"emails", "email", 3}, {"address", "address", 2}, {"notes", "notes", 1},
};

struct search_state {
    dg_search_hit *hits;
    size_t n;
    uint32_t limit;
    uint32_t scanned, max_scan;
    int64_t *seen; /* customer ids already considered */
    size_t n_seen, seen_cap;
};

static bool was_seen(struct search_state *ss, int64_t id, dg_arena *a)
{
    for (size_t i = 0; i < ss->n_seen; i++)
        if (ss->seen[i] == id)
            return true;
    if (ss->n_seen == ss->seen_cap) {
        size_t cap = ss->seen_cap ? ss->seen_cap * 2 : 64;
        int64_t *grown = dg_arena_alloc(a, cap * sizeof *grown);

        if (!grown)
            return true; /* out of budget: treat as seen, the search ends short */
        if (ss->n_seen)
            memcpy(grown, ss->seen, ss->n_seen * sizeof *grown);
        ss->seen = grown;
        ss->seen_cap = cap;
    }
    ss->seen[ss->n_seen++] = id;
    return false;
}

/* The search query: every document matching `match` (one column's expression),
 * newest first, each with the customer it belongs to (see doc_rowid) if that
 * customer passes the filter, else with NULL columns. The filter is written
 * by the code that writes every list's, so search and list agree on it, and
 * the customer is read by primary key in the same statement. A LEFT JOIN
 * keeps the index as the outer loop, streamed in rowid order, so a page
 * costs what it scans; and every scanned document comes back, so the scan
 * budget counts documents exactly as before the filter moved in here. */
static void search_sql(char *sql, struct store_params *ps, const char *match,
                       const dg_list_query *filter)
{
    dg_list_query q = *filter;
    int p_match = store_param_text(ps, match);

    q.kind = DG_KIND_CUSTOMER;
    strcpy(sql, "SELECT ");
    store_rec_select(sql, DG_KIND_CUSTOMER);
    snprintf(sql + strlen(sql), STORE_SQL_MAX - strlen(sql),
             ", search.rowid FROM search LEFT JOIN customers c ON c.id ="
             " CASE search.rowid / 8 %% 8 WHEN %d THEN search.rowid / 64"
             " WHEN %d THEN (SELECT customer_id FROM contacts WHERE id = search.rowid / 64)"
             " WHEN %d THEN (SELECT customer_id FROM interactions WHERE id = search.rowid / 64)"
             " END",
             DG_KIND_CUSTOMER, DG_KIND_CONTACT, DG_KIND_INTERACTION);
    store_rec_filter(sql, ps, &q);
    snprintf(sql + strlen(sql), STORE_SQL_MAX - strlen(sql),
             " WHERE search MATCH ?%d ORDER BY search.rowid DESC", p_match);
    dg_assert(strlen(sql) < STORE_SQL_MAX - 1);
}

/* Steps the search statement for one column, adding its new hits. */
static int column_hits(dg_store *st, sqlite3_stmt *s, struct search_state *ss, int col, dg_arena *a)
{
    int rc = SQLITE_DONE;

    while (ss->n < ss->limit && ss->scanned < ss->max_scan &&
           (rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_record *c;
        int frc;

        ss->scanned++;
        if (sqlite3_column_type(s, 0) == SQLITE_NULL)
            continue; /* no customer, or one the filter leaves out */
        if (was_seen(ss, sqlite3_column_int64(s, 0), a))
            continue;
        if ((frc = store_rec_read(st, s, DG_KIND_CUSTOMER, a, &c)) != DG_OK)
            return frc;
        ss->hits[ss->n++] = (dg_search_hit){c, columns[col].score, columns[col].matched};
    }
    if (ss->n < ss->limit && ss->scanned < ss->max_scan && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        /* A malformed expression is the caller's input, not a storage fault. */
        rc = store_err(st, rc);
        return rc == DG_EIO ? DG_EINVAL : rc;
    }
    return DG_OK;
}

static int search_column(dg_store *st, struct search_state *ss, int col, const char *expr,
                         const dg_list_query *filter, dg_arena *a)
{
    char match[1200], sql[STORE_SQL_MAX];
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc;

    snprintf(match, sizeof match, "{%s} : (%s)", columns[col].column, expr);
    search_sql(sql, &ps, match, filter);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    store_params_bind(s, &ps);
    rc = column_hits(st, s, ss, col, a);
    store_stmt_release(st, s);
    return rc;
}

int dg_store_search(dg_store *st, const char *expr, const dg_list_query *filter, uint32_t limit,
                    uint32_t max_scan, dg_arena *a, dg_search_hit **out, size_t *n)
{
    struct search_state ss = {.limit = limit, .max_scan = max_scan};
    int rc;

    *out = NULL;
    *n = 0;
    if (!(ss.hits = dg_arena_calloc(a, limit ? limit : 1, sizeof *ss.hits)))
        return DG_ENOMEM;
    for (size_t col = 0; col < DG_ARRAY_LEN(columns) && ss.n < limit; col++)
        if ((rc = search_column(st, &ss, (int)col, expr, filter, a)) != DG_OK)
            return rc;
    *out = ss.hits;
    *n = ss.n;
    return DG_OK;
}

/* ------------------------------------------------------------ schema */

/* The search documents of committed changes that the index does not have
 * yet, in the order they were written (store.h: dg_store_search_defer). */
const char *const store_migration_search_queue[] = {
    "CREATE TABLE search_queue ("
    "  seq INTEGER PRIMARY KEY,"
    "  rowid INTEGER NOT NULL,"
    "  col INTEGER NOT NULL,"
    "  is_delete INTEGER NOT NULL,"
    "  text TEXT NOT NULL"
    ") STRICT;",
    NULL,
};
