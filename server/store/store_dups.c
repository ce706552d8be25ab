/* store_dups.c - customers' duplicate keys in SQLite: the twins of a new
 * customer (index probes), the keys rewritten when their rules change, and
 * the scan of the whole base for candidate pairs.
 *
 * Keys are columns of customers (dup_name, dup_email, dup_phone, dup_stem,
 * written with the record by store_records.c), each with a partial index of
 * the live customers that have one (schema v7): a probe is one index
 * lookup, and the scan walks each index once in key order, so equal keys
 * are neighbours and nothing is compared pairwise. A group of customers
 * sharing a key gives the pairs (oldest, each other one): what `merge` needs
 * to fold the group into its oldest file.
 * Runs on: the thread that owns the connection (the writer for probes and
 * rewrites, a reader for the scan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store_int.h"

/* The key columns in the order a pair is reported under (its first shared
 * key), with their names for people and the weight each adds to a score. */
static const struct {
    const char *column;
    const char *name;
    int weight; /* percent: how sure a shared key of this kind alone makes us */
} kinds[DG_DUP_N] = {
    [DG_DUP_NAME] = {"dup_name", "name", 90},
    [DG_DUP_EMAIL] = {"dup_email", "email", 80},
    [DG_DUP_PHONE] = {"dup_phone", "phone", 70},
    [DG_DUP_STEM] = {"dup_stem", "similar_name", 50},
};

const char *dg_store_dup_reason_name(enum dg_dup_reason r)
{
    dg_assert(r >= 0 && r < DG_DUP_N);
    return kinds[r].name;
}

/* ------------------------------------------------------------ probes on create */

/* The terms of each partial index are repeated in the WHERE so that SQLite
 * may use it: a bound parameter is not known to be non-empty. */
#define PROBE(col)                                                                                 \
    "SELECT id, code, name, coalesce(owner_id, 0), tier FROM customers"                            \
    " WHERE " col " = ?1 AND " col " != '' AND archived_at IS NULL ORDER BY id LIMIT ?2"

static const char *const probe_sql[DG_DUP_N] = {
    [DG_DUP_NAME] = PROBE("dup_name"),
    [DG_DUP_EMAIL] = PROBE("dup_email"),
    [DG_DUP_PHONE] = PROBE("dup_phone"),
    [DG_DUP_STEM] = PROBE("dup_stem"),
};

int dg_store_find_duplicates(dg_store *st, const dg_customer_keys *keys, dg_dup *out, size_t cap,
                             size_t *n)
{
    /* A likely twin shares a name, an e-mail or a phone; a similar name is
     * for the scan, where a person decides. */
    static const enum dg_dup_reason probed[] = {DG_DUP_NAME, DG_DUP_EMAIL, DG_DUP_PHONE};
    const char *vals[DG_DUP_N] = {keys->dup_name, keys->dup_email, keys->dup_phone, ""};

    *n = 0;
    for (size_t q = 0; q < DG_ARRAY_LEN(probed) && *n < cap; q++) {
        enum dg_dup_reason k = probed[q];
        sqlite3_stmt *s;
        int rc;

        if (!vals[k] || !vals[k][0])
            continue;
        if (!(s = store_stmt(st, probe_sql[k])))
            return DG_EIO;
        sqlite3_bind_text(s, 1, vals[k], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (int64_t)cap);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
            int64_t id = sqlite3_column_int64(s, 0);
            bool seen = false;

            for (size_t i = 0; i < *n; i++)
                seen |= out[i].customer_id == id;
            if (!seen) {
                dg_dup *d = &out[(*n)++];

                d->customer_id = id;
                d->matched_on = kinds[k].name;
                store_col_text(s, 1, d->code, sizeof d->code);
                store_col_text(s, 2, d->name, sizeof d->name);
                d->owner_id = sqlite3_column_int64(s, 3);
                store_col_text(s, 4, d->tier, sizeof d->tier);
            }
        }
        sqlite3_reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_err(st, rc);
    }
    return DG_OK;
}

/* ------------------------------------------------------------ rewriting keys */

static const char SQL_SOURCES[] =
    "SELECT id, name, phone, email FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_SET_KEYS[] = "UPDATE customers SET dup_name = ?2, dup_email = ?3,"
                                   " dup_phone = ?4, dup_stem = ?5 WHERE id = ?1";

int dg_store_customer_dup_sources(dg_store *st, int64_t after_id, int limit,
                                  int (*fn)(const dg_dup_source *src, void *ud), void *ud)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SOURCES);
    int rc, frc = DG_OK;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int(s, 2, limit);
    while (frc == DG_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_dup_source src = {
            .id = sqlite3_column_int64(s, 0),
            .name = (const char *)sqlite3_column_text(s, 1),
            .phone = (const char *)sqlite3_column_text(s, 2),
            .email = (const char *)sqlite3_column_text(s, 3),
        };

        frc = fn(&src, ud);
    }
    sqlite3_reset(s);
    if (frc != DG_OK)
        return frc;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_customer_set_dup_keys(dg_store *st, int64_t id, const dg_customer_keys *k)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SET_KEYS);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, k->dup_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, k->dup_email, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, k->dup_phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, k->dup_stem, -1, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

/* ------------------------------------------------------------ the scan */

/* Each key's live customers in (key, id) order, from a position on: the
 * partial index walked as it is stored. */
#define WALK(col)                                                                                  \
    "SELECT " col ", id FROM customers"                                                            \
    " WHERE (" col ", id) > (?1, ?2) AND " col " != '' AND archived_at IS NULL"                    \
    " ORDER BY " col ", id"
#define FIRST(col)                                                                                 \
    "SELECT min(id) FROM customers WHERE " col " = ?1 AND " col " != '' AND archived_at IS NULL"

static const char *const walk_sql[DG_DUP_N] = {
    [DG_DUP_NAME] = WALK("dup_name"),
    [DG_DUP_EMAIL] = WALK("dup_email"),
    [DG_DUP_PHONE] = WALK("dup_phone"),
    [DG_DUP_STEM] = WALK("dup_stem"),
};
static const char *const first_sql[DG_DUP_N] = {
    [DG_DUP_NAME] = FIRST("dup_name"),
    [DG_DUP_EMAIL] = FIRST("dup_email"),
    [DG_DUP_PHONE] = FIRST("dup_phone"),
    [DG_DUP_STEM] = FIRST("dup_stem"),
};
static const char SQL_SIDE[] = "SELECT id, code, name, coalesce(owner_id, 0), tier, dup_name,"
                               " dup_email, dup_phone, dup_stem FROM customers WHERE id = ?1";

/* One customer of a pair with its keys, in buffers of its own: the walk
 * reads many it does not report, and those must not use the request's
 * memory. */
#define SIDE_TEXT (200 * 4 + 1) /* a name of 200 characters, and any key made from it */
struct side {
    int64_t id, owner_id;
    char code[32], tier[8], name[SIDE_TEXT];
    char keys[DG_DUP_N][SIDE_TEXT];
};

static int read_side(dg_store *st, int64_t id, struct side *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SIDE);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        store_col_text(s, 1, out->code, sizeof out->code);
        store_col_text(s, 2, out->name, sizeof out->name);
        out->owner_id = sqlite3_column_int64(s, 3);
        store_col_text(s, 4, out->tier, sizeof out->tier);
        for (int k = 0; k < DG_DUP_N; k++)
            store_col_text(s, 5 + k, out->keys[k], sizeof out->keys[k]);
        rc = DG_OK;
    } else {
        rc = rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    }
    sqlite3_reset(s);
    return rc;
}

/* A side as reported, its strings copied into `a`. */
static int side_out(const struct side *s, dg_arena *a, dg_dup_customer *out)
{
    *out = (dg_dup_customer){.id = s->id,
                             .owner_id = s->owner_id,
                             .code = dg_arena_strdup(a, s->code),
                             .name = dg_arena_strdup(a, s->name),
                             .tier = dg_arena_strdup(a, s->tier)};
    return out->code && out->name && out->tier ? DG_OK : DG_ENOMEM;
}

static int64_t first_of_group(dg_store *st, enum dg_dup_reason k, const char *key, int *rc)
{
    sqlite3_stmt *s = store_stmt(st, first_sql[k]);
    int64_t id = 0;
    int src;

    if (!s) {
        *rc = DG_EIO;
        return 0;
    }
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if ((src = sqlite3_step(s)) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    else
        *rc = store_err(st, src);
    sqlite3_reset(s);
    return id;
}

/* The score of a pair sharing the keys in `bits`: 100 × the chance that
 * not all of its shared keys are coincidences, each alone as sure as its
 * weight says. */
static int score_of(unsigned bits)
{
    int miss = 10000; /* in 1/10000 */

    for (int k = 0; k < DG_DUP_N; k++)
        if (bits >> k & 1)
            miss = miss * (100 - kinds[k].weight) / 100;
    return (10000 - miss + 50) / 100;
}

/* What the walk of one key kind needs between rows. */
struct walk {
    dg_store *st;
    dg_arena *a;
    enum dg_dup_reason kind;
    char *group_key;   /* key of the current group (malloc'd), NULL before the first */
    int64_t first_id;  /* the group's oldest customer */
    struct side first; /* ... read once the group has a pair */
    struct side other; /* the other side of the pair being made */
    bool has_first;
};

/* The pair (group's first, other): *out filled and true when it is
 * reported under this kind, false when they share an earlier kind's key
 * (reported there, or linked through that group's first). */
static int make_pair(struct walk *w, int64_t other, dg_dup_pair *out, bool *is_reported)
{
    unsigned bits = 0;
    int rc;

    *is_reported = false;
    if (!w->has_first) {
        if ((rc = read_side(w->st, w->first_id, &w->first)) != DG_OK)
            return rc;
        w->has_first = true;
    }
    if ((rc = read_side(w->st, other, &w->other)) != DG_OK)
        return rc;
    for (int k = 0; k < DG_DUP_N; k++)
        if (w->first.keys[k][0] && strcmp(w->first.keys[k], w->other.keys[k]) == 0)
            bits |= 1u << k;
    if (bits & ((1u << w->kind) - 1))
        return DG_OK;
    if (bits & (1u << DG_DUP_NAME)) /* a similar name follows from the same name */
        bits &= ~(1u << DG_DUP_STEM);
    *out = (dg_dup_pair){.found_by = w->kind, .reasons = bits, .score = score_of(bits)};
    if ((rc = side_out(&w->first, w->a, &out->keep)) != DG_OK ||
        (rc = side_out(&w->other, w->a, &out->drop)) != DG_OK)
        return rc;
    *is_reported = true;
    return DG_OK;
}

/* Walks kind `w->kind` from (*key, *after_id) until `limit` pairs are in
 * out (n counts them) or the index ends (*is_end). On return *key and
 * *after_id are where the next walk resumes (*key malloc'd). */
static int walk_kind(struct walk *w, char **key, int64_t *after_id, size_t limit, dg_dup_pair *out,
                     size_t *n, bool *is_end)
{
    sqlite3_stmt *s = store_stmt_text(w->st, walk_sql[w->kind]);
    int rc = DG_OK, src;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, *key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, *after_id);
    *is_end = false;
    while (*n < limit && rc == DG_OK) {
        const char *k;
        int64_t id;
        bool is_reported;

        if ((src = sqlite3_step(s)) != SQLITE_ROW) {
            *is_end = src == SQLITE_DONE;
            rc = src == SQLITE_DONE ? DG_OK : store_err(w->st, src);
            break;
        }
        k = (const char *)sqlite3_column_text(s, 0);
        id = sqlite3_column_int64(s, 1);
        if (!w->group_key || strcmp(k, w->group_key) != 0) {
            free(w->group_key);
            w->group_key = dg_xstrdup(k);
            w->has_first = false;
            /* a group resumed in its middle: its first came on an earlier page */
            w->first_id = strcmp(k, *key) == 0 ? first_of_group(w->st, w->kind, k, &rc) : id;
        }
        if (rc == DG_OK && id != w->first_id &&
            (rc = make_pair(w, id, &out[*n], &is_reported)) == DG_OK && is_reported)
            (*n)++;
        free(*key);
        *key = dg_xstrdup(k);
        *after_id = id;
    }
    store_stmt_release(w->st, s);
    return rc;
}

int dg_store_dup_scan(dg_store *st, const dg_dup_cursor *from, size_t limit, dg_arena *a,
                      dg_dup_pair **out, size_t *n, dg_dup_cursor *next)
{
    dg_dup_pair *pairs = dg_arena_calloc(a, limit ? limit : 1, sizeof *pairs);
    enum dg_dup_reason kind = from->kind;
    char *key = dg_xstrdup(from->key);
    int64_t after_id = from->after_id;
    int rc = DG_OK;

    *n = 0;
    *out = pairs;
    if (!pairs) {
        free(key);
        return DG_ENOMEM;
    }
    dg_assert(kind >= 0 && kind <= DG_DUP_N);
    while (kind < DG_DUP_N && *n < limit) {
        struct walk *w = dg_xcalloc(1, sizeof *w); /* two sides: too big for a stack */
        bool is_end;

        *w = (struct walk){.st = st, .a = a, .kind = kind};
        rc = walk_kind(w, &key, &after_id, limit, pairs, n, &is_end);
        free(w->group_key);
        free(w);
        if (rc != DG_OK)
            break;
        if (is_end) {
            kind++;
            free(key);
            key = dg_xstrdup("");
            after_id = 0;
        }
    }
    next->kind = kind;
    next->key = rc == DG_OK ? dg_arena_strdup(a, key) : "";
    next->after_id = after_id;
    free(key);
    if (rc == DG_OK && !next->key)
        rc = DG_ENOMEM;
    return rc;
}
