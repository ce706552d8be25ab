/* store_bulk.c - secondary indexes set aside during a bulk load (dangand
 * demo-data) and made again after it.
 *
 * Why: a load adds rows whose keys in most secondary indexes (name keys,
 * duplicate keys, dates, owners' tiers, stages...) come in random order.
 * Once an index is larger than the inserts of one transaction, each insert
 * lands on a leaf page of its own: read back from the file once the
 * indexes outgrow the page cache, then written to the WAL at commit and
 * again to the database at the checkpoint. Measured on demo data: 4,100
 * WAL frames per transaction of 10,000 records at 4,000 customers, 16,000
 * at 47,000 and still growing, so the time per customer grew with the
 * customers already there. CREATE INDEX after the load sorts the rows
 * instead and writes each index page once.
 *
 * Which: the indexes of the record tables that are neither UNIQUE (they
 * refuse rows while loading) nor led by `id` or `customer_id`, whose keys a
 * load appends in order (and which the triggers look customers'
 * interactions up by). The SQL of what is dropped is kept in meta
 * (META_KEY, a JSON array) in the transaction that drops it, so an
 * interrupted load (a crash, a kill) leaves the list behind, and
 * dg_store_bulk_indexes_restore - demo-data's next run, the server's next
 * start - makes what is missing. Rows and schema end as CREATE INDEX from
 * the same SQL makes them: the same sqlite_schema text, the same entries.
 * Runs on: the writer thread, or an offline command's main thread.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

#define META_KEY "bulk_load_indexes"
#define META_MAX (1024 * 1024)

static const char SQL_BULK_INDEXES[] =
    "SELECT m.name, m.sql FROM sqlite_schema m"
    " WHERE m.type = 'index' AND m.sql IS NOT NULL"
    " AND m.tbl_name IN ('customers', 'customer_tags', 'contacts', 'interactions', 'deals',"
    " 'feedback', 'tasks', 'documents')"
    " AND COALESCE((SELECT i.name FROM pragma_index_info(m.name) i WHERE i.seqno = 0), '')"
    " NOT IN ('id', 'customer_id')"
    " AND NOT (SELECT l.\"unique\" FROM pragma_index_list(m.tbl_name) l WHERE l.name = m.name)"
    " ORDER BY m.name";

static const char SQL_INDEX_EXISTS[] =
    "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND sql = ?1";

static int drop_one(dg_store *st, const char *name)
{
    char *sql = sqlite3_mprintf("DROP INDEX \"%w\"", name);
    int rc;

    if (!sql)
        return DG_ENOMEM;
    rc = store_exec_sql(st, sql);
    sqlite3_free(sql);
    return rc;
}

int dg_store_bulk_indexes_drop(dg_store *st, int *n)
{
    json_t *list = json_array();
    char **names = NULL;
    size_t n_names = 0;
    sqlite3_stmt *s;
    char *text = NULL;
    int rc, src;

    *n = 0;
    if (!list)
        return DG_ENOMEM;
    if ((src = sqlite3_prepare_v2(st->db, SQL_BULK_INDEXES, -1, &s, NULL)) != SQLITE_OK) {
        json_decref(list);
        return store_err(st, src);
    }
    rc = DG_OK;
    while (rc == DG_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        char **grown = realloc(names, (n_names + 1) * sizeof *names);

        if (!grown) {
            rc = DG_ENOMEM;
            break;
        }
        names = grown;
        if (!(names[n_names] = strdup((const char *)sqlite3_column_text(s, 0))) ||
            json_array_append_new(list, json_string((const char *)sqlite3_column_text(s, 1))))
            rc = DG_ENOMEM;
        n_names += names[n_names] != NULL;
    }
    if (rc == DG_OK && src != SQLITE_DONE)
        rc = store_err(st, src);
    sqlite3_finalize(s);
    if (rc == DG_OK && n_names) {
        text = json_dumps(list, JSON_COMPACT);
        rc = !text                      ? DG_ENOMEM
             : strlen(text) >= META_MAX ? DG_EINVAL
                                        : dg_store_meta_put(st, META_KEY, text);
    }
    for (size_t i = 0; i < n_names; i++) {
        if (rc == DG_OK && (rc = drop_one(st, names[i])) == DG_OK)
            (*n)++;
        free(names[i]);
    }
    free(names);
    free(text);
    json_decref(list);
    return rc;
}

static int index_exists(dg_store *st, const char *sql, bool *yes)
{
    sqlite3_stmt *s;
    int src = sqlite3_prepare_v2(st->db, SQL_INDEX_EXISTS, -1, &s, NULL);

    if (src != SQLITE_OK)
        return store_err(st, src);
    sqlite3_bind_text(s, 1, sql, -1, SQLITE_STATIC);
    src = sqlite3_step(s);
    sqlite3_finalize(s);
    *yes = src == SQLITE_ROW;
    return src == SQLITE_ROW || src == SQLITE_DONE ? DG_OK : store_err(st, src);
}

/* Makes one index in a transaction of its own, then checkpoints it out of
 * the WAL (an index of a million rows is tens of MiB of pages). */
static int create_one(dg_store *st, const char *sql)
{
    int rc, frames, done;

    if ((rc = dg_store_begin(st)) != DG_OK)
        return rc;
    if ((rc = store_exec_sql(st, sql)) != DG_OK || (rc = dg_store_commit(st)) != DG_OK) {
        dg_store_rollback(st);
        return rc;
    }
    return dg_store_checkpoint(st, &frames, &done);
}

int dg_store_bulk_indexes_restore(dg_store *st, int *n)
{
    char *text = malloc(META_MAX);
    json_t *list = NULL, *sql;
    size_t i;
    int rc;

    *n = 0;
    if (!text)
        return DG_ENOMEM;
    rc = dg_store_meta_get(st, META_KEY, text, META_MAX);
    if (rc == DG_ENOTFOUND) {
        free(text);
        return DG_OK;
    }
    if (rc == DG_OK && !(list = json_loads(text, 0, NULL))) {
        snprintf(st->err, sizeof st->err, "meta %s is not a JSON array", META_KEY);
        rc = DG_ECORRUPT;
    }
    free(text);
    json_array_foreach(list, i, sql)
    {
        bool is_there = false;

        if (rc != DG_OK)
            break;
        if (!json_is_string(sql)) {
            snprintf(st->err, sizeof st->err, "meta %s holds a non-string", META_KEY);
            rc = DG_ECORRUPT;
        } else if ((rc = index_exists(st, json_string_value(sql), &is_there)) == DG_OK &&
                   !is_there && (rc = create_one(st, json_string_value(sql))) == DG_OK) {
            (*n)++;
        }
    }
    json_decref(list);
    if (rc != DG_OK)
        return rc;
    if ((rc = dg_store_begin(st)) != DG_OK)
        return rc;
    if ((rc = store_exec_sql(st, "DELETE FROM meta WHERE key = '" META_KEY "'")) != DG_OK ||
        (rc = dg_store_commit(st)) != DG_OK)
        dg_store_rollback(st);
    return rc;
}
