/* records_upkeep.c - records in bulk: an offline import that writes rows,
 * derived columns and search documents without a change or audit row each
 * (dangand demo-data), and the rebuilds a new ICU collation, new duplicate
 * key rules or a new search index layout need at start-up.
 * Runs on: the writer thread, or an offline command's main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collate.h"
#include "dg.h"
#include "dupkey.h"
#include "log.h"
#include "records_int.h"

/* ------------------------------------------------------------ bulk import */

int dg_rec_import(dg_rec_ctx *c, dg_record *r)
{
    dg_customer_keys keys = {0};
    int rc;

    DG_ASSERT_THREAD(DG_THREAD_WRITER);
    rec_set_defaults(c, r);
    r->version = 1;
    if (!r->created_at)
        r->created_at = c->now;
    if (!r->updated_at)
        r->updated_at = r->created_at;
    if (!r->created_by)
        r->created_by = c->who->user_id;
    if (!r->updated_by)
        r->updated_by = r->created_by;
    if (r->kind == DG_KIND_CUSTOMER) {
        char code[32];

        if ((rc = rec_customer_keys(c, r, &keys)) != DG_OK)
            return rc;
        if (!rec_fstr(r, "code")[0]) {
            if ((rc = dg_store_next_customer_code(c->tx->store, code, sizeof code)) != DG_OK)
                return rc;
            r->v[rec_field_ix(r->kind, "code")].s = dg_arena_strdup(c->arena, code);
        }
    } else {
        r->customer_id = rec_fint(r, "customer_id");
    }
    rc = dg_store_rec_insert(c->tx->store, r, r->kind == DG_KIND_CUSTOMER ? &keys : NULL);
    if (rc != DG_OK)
        return rc;
    if (r->kind == DG_KIND_INTERACTION &&
        (rc = dg_store_customer_touch_contact(c->tx->store, r->customer_id, rec_fint(r, "at_ms"))))
        return rc;
    return rec_update_search(c, NULL, r);
}

/* ------------------------------------------------------------ collation upgrades */

struct rekey {
    dg_store *st;
    dg_collator *collator;
    dg_arena *arena;
    int64_t last_id;
    int n;
};

static int rekey_one(int64_t id, const char *name, void *ud)
{
    struct rekey *k = ud;
    uint8_t *key;
    size_t len;
    int rc = dg_collate_key(k->collator, name, k->arena, &key, &len);

    if (rc != DG_OK)
        return rc;
    k->last_id = id;
    k->n++;
    return dg_store_customer_set_name_key(k->st, id, key, len);
}

int dg_rec_rekey_if_needed(dg_store *st, int *n)
{
    char stored[64] = "";
    struct rekey k = {.st = st};
    int rc;

    *n = 0;
    rc = dg_store_meta_get(st, "collation", stored, sizeof stored);
    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    if (rc == DG_OK && strcmp(stored, dg_collate_version()) == 0)
        return DG_OK;
    if ((rc = dg_collator_new(&k.collator)) != DG_OK)
        return rc;
    for (int64_t before = -1; k.last_id != before;) {
        before = k.last_id;
        k.arena = dg_arena_new(64u * 1024 * 1024);
        if ((rc = dg_store_begin(st)) == DG_OK &&
            (rc = dg_store_customer_names(st, k.last_id, 5000, rekey_one, &k)) == DG_OK)
            rc = dg_store_commit(st);
        else
            dg_store_rollback(st);
        dg_arena_free(k.arena);
        if (rc != DG_OK)
            break;
    }
    if (rc == DG_OK)
        rc = dg_store_meta_put(st, "collation", dg_collate_version());
    dg_collator_free(k.collator);
    *n = k.n;
    return rc;
}

/* ------------------------------------------------------------ duplicate key rules */

struct dupkey_pass {
    dg_store *st;
    dg_arena *arena;
    int64_t last_id;
    int n;
};

static int dupkey_one(const dg_dup_source *src, void *ud)
{
    struct dupkey_pass *p = ud;
    dg_customer_keys k = {0};
    int rc = rec_dup_keys(p->arena, src->name ? src->name : "", src->phone ? src->phone : "",
                          src->email ? src->email : "", &k);

    if (rc != DG_OK)
        return rc;
    p->last_id = src->id;
    p->n++;
    return dg_store_customer_set_dup_keys(p->st, src->id, &k);
}

int dg_rec_dupkeys_if_needed(dg_store *st, int *n)
{
    char stored[32] = "", want[32];
    struct dupkey_pass p = {.st = st};
    int rc;

    *n = 0;
    snprintf(want, sizeof want, "%d", DG_DUPKEY_VERSION);
    rc = dg_store_meta_get(st, "dup_keys", stored, sizeof stored);
    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    if (rc == DG_OK && strcmp(stored, want) == 0)
        return DG_OK;
    /* A page per transaction; the version is written last, so an
     * interrupted pass starts over at the next start. */
    for (int64_t before = -1; p.last_id != before;) {
        before = p.last_id;
        p.arena = dg_arena_new(16u * 1024 * 1024);
        if ((rc = dg_store_begin(st)) == DG_OK &&
            (rc = dg_store_customer_dup_sources(st, p.last_id, 5000, dupkey_one, &p)) == DG_OK)
            rc = dg_store_commit(st);
        else
            dg_store_rollback(st);
        dg_arena_free(p.arena);
        if (rc != DG_OK)
            break;
    }
    if (rc == DG_OK)
        rc = dg_store_meta_put(st, "dup_keys", want);
    *n = p.n;
    return rc;
}

/* ------------------------------------------------------------ search index rebuilds */

enum { REINDEX_PAGE = 2000 };

/* Indexes the next page of `kind` after *last_id; *n_done += records indexed.
 * *is_end is set when no page follows. */
static int reindex_page(dg_store *st, enum dg_kind kind, int64_t *last_id, int *n_done,
                        bool *is_end)
{
    dg_arena *a = dg_arena_new(256u * 1024 * 1024);
    dg_list_query q = {.kind = kind,
                       .include_archived = true,
                       .sort_column = "id",
                       .has_after = true,
                       .after_id = *last_id,
                       .limit = REINDEX_PAGE};
    dg_list_page page;
    int rc;

    if ((rc = dg_store_rec_list(st, &q, a, &page)) != DG_OK) {
        dg_arena_free(a);
        return rc;
    }
    for (size_t i = 0; i < page.n && rc == DG_OK; i++) {
        dg_search_doc d;

        if (!rec_search_doc(a, page.records[i], &d) || !d.name || !d.phones || !d.address ||
            !d.notes) {
            rc = DG_ENOMEM;
            break;
        }
        rc = dg_store_search_put(st, kind, page.records[i]->id, NULL, &d);
        *last_id = page.records[i]->id;
    }
    *n_done += (int)page.n;
    *is_end = !page.has_more;
    dg_arena_free(a);
    return rc;
}

int dg_rec_reindex_if_needed(dg_store *st, int *n)
{
    static const enum dg_kind kinds[] = {DG_KIND_CUSTOMER, DG_KIND_CONTACT, DG_KIND_INTERACTION};
    char stored[32] = "";
    int rc;

    *n = 0;
    rc = dg_store_meta_get(st, "search_index", stored, sizeof stored);
    if (rc != DG_OK && rc != DG_ENOTFOUND)
        return rc;
    if (rc == DG_OK && strcmp(stored, DG_SEARCH_INDEX_VERSION) == 0)
        return DG_OK;
    /* Cleared and refilled a page per transaction; the version is written
     * last, so an interrupted rebuild starts over at the next start. */
    if ((rc = dg_store_begin(st)) != DG_OK)
        return rc;
    if ((rc = dg_store_search_clear(st)) != DG_OK || (rc = dg_store_commit(st)) != DG_OK) {
        dg_store_rollback(st);
        return rc;
    }
    for (size_t k = 0; k < DG_ARRAY_LEN(kinds); k++) {
        int64_t last_id = 0;

        for (bool is_end = false; !is_end;) {
            if ((rc = dg_store_begin(st)) != DG_OK)
                return rc;
            if ((rc = reindex_page(st, kinds[k], &last_id, n, &is_end)) != DG_OK ||
                (rc = dg_store_commit(st)) != DG_OK) {
                dg_store_rollback(st);
                return rc;
            }
        }
    }
    return dg_store_meta_put(st, "search_index", DG_SEARCH_INDEX_VERSION);
}
