/* store_search.c - the search index: an FTS5 table with our tokenizer
 * ("dangan", common/text.c), one document per customer, contact and
 * interaction, and the search query.
 *
 * Ranking: a customer found through its name ranks above one found through a
 * contact's name, then phones, e-mails, addresses, notes; within one column,
 * newer records first. Each column is queried in that order with the rows
 * streamed newest first (FTS5 iterates rowid DESC without sorting), so a
 * common term costs as much as the page it fills, not as its match count.
 * Filters are checked per candidate by primary key.
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

static const char SQL_DOC_DELETE[] = "DELETE FROM search WHERE rowid = ?1";
static const char SQL_DOC_INSERT[] =
    "INSERT INTO search(rowid, kind, customer_id, name, people, phones, emails, address, notes)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static int64_t doc_rowid(enum dg_kind kind, int64_t id)
{
    return id * 8 + (int64_t)kind;
}

int dg_store_search_put(dg_store *st, enum dg_kind kind, int64_t id, int64_t customer_id,
                        const dg_search_doc *doc)
{
    const char *cols[6] = {doc->name,   doc->people,  doc->phones,
                           doc->emails, doc->address, doc->notes};
    sqlite3_stmt *s = store_stmt(st, SQL_DOC_DELETE);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, doc_rowid(kind, id));
    if ((rc = store_exec_stmt(st, s)) != DG_OK)
        return rc;
    if (!(s = store_stmt(st, SQL_DOC_INSERT)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, doc_rowid(kind, id));
    sqlite3_bind_int(s, 2, (int)kind);
    sqlite3_bind_int64(s, 3, customer_id);
    for (int i = 0; i < 6; i++)
        sqlite3_bind_text(s, 4 + i, cols[i] ? cols[i] : "", -1, SQLITE_STATIC);
    return store_exec_stmt(st, s);
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

/* The candidate customer if it passes the filter, else NULL (*rc DG_OK). */
static dg_record *filtered(dg_store *st, const dg_list_query *filter, int64_t id, dg_arena *a,
                           int *rc)
{
    dg_list_query q = *filter;
    dg_list_page page;

    q.kind = DG_KIND_CUSTOMER;
    q.sort_column = "id";
    q.is_desc = false;
    q.has_after = true; /* id > id - 1 and LIMIT 1: exactly this customer, if it passes */
    q.after_id = id - 1;
    q.limit = 1;
    *rc = dg_store_rec_list(st, &q, a, &page);
    if (*rc != DG_OK || page.n == 0 || page.records[0]->id != id)
        return NULL;
    return page.records[0];
}

static int search_column(dg_store *st, struct search_state *ss, int col, const char *expr,
                         const dg_list_query *filter, dg_arena *a)
{
    char match[1200];
    sqlite3_stmt *s;
    int rc = SQLITE_DONE;

    snprintf(match, sizeof match, "{%s} : (%s)", columns[col].column, expr);
    if (!(s = store_stmt_text(st, "SELECT customer_id FROM search WHERE search MATCH ?1"
                                  " ORDER BY rowid DESC")))
        return DG_EIO;
    sqlite3_bind_text(s, 1, match, -1, SQLITE_TRANSIENT);
    while (ss->n < ss->limit && ss->scanned < ss->max_scan &&
           (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        dg_record *c;
        int frc;

        ss->scanned++;
        if (was_seen(ss, id, a))
            continue;
        c = filtered(st, filter, id, a, &frc);
        if (frc != DG_OK) {
            sqlite3_reset(s);
            return frc;
        }
        if (!c)
            continue;
        ss->hits[ss->n++] = (dg_search_hit){c, columns[col].score, columns[col].matched};
    }
    if (ss->n < ss->limit && ss->scanned < ss->max_scan && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        /* A malformed expression is the caller's input, not a storage fault. */
        rc = store_err(st, rc);
        sqlite3_reset(s);
        return rc == DG_EIO ? DG_EINVAL : rc;
    }
    sqlite3_reset(s);
    return DG_OK;
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
