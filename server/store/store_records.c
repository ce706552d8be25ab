/* store_records.c - dossier records in SQLite, driven by the field tables of
 * entity.c: the column of a field is its name (MONEY: NAME and
 * NAME_currency; USER: NAME_id). Enum fields are stored as their short
 * names. SQL for the hot paths (get, insert, update) is built once per kind;
 * the filter of lists and searches, whose shape varies, is written per
 * request here (store_rec_filter) and cached by text. Pages and dossiers
 * are store_lists.c's; duplicate keys store_dups.c's.
 * Runs on: the thread that owns the connection.
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "log.h"
#include "store_int.h"

#define SQL_MAX STORE_SQL_MAX
#define COMMON_COLS "id, version, archived_at, created_at, updated_at, created_by, updated_by"
#define N_COMMON 7

struct kind_sql {
    char columns[SQL_MAX];   /* the select list: common, extras, fields */
    char columns_c[SQL_MAX]; /* the same, each qualified "c." (lists, search) */
    char get[SQL_MAX];
    char insert[SQL_MAX];
    int first_field_col; /* column index of the first field in `columns` */
};

static struct kind_sql kind_sql[DG_KIND_COUNT];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

void store_sql_append(char *buf, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf + n, SQL_MAX - n, fmt, ap);
    va_end(ap);
    dg_assert(strlen(buf) < SQL_MAX - 1); /* SQL_MAX is sized for the widest table */
}

/* Appends the columns of field f with `sep` before each and `suffix` after. */
static void field_columns(char *buf, const dg_field *f, const char *sep, const char *suffix)
{
    switch (f->type) {
    case DG_F_MONEY:
        store_sql_append(buf, "%s%s%s%s%s_currency%s", sep, f->name, suffix, sep, f->name, suffix);
        break;
    case DG_F_USER:
        store_sql_append(buf, "%s%s_id%s", sep, f->name, suffix);
        break;
    default:
        store_sql_append(buf, "%s%s%s", sep, f->name, suffix);
        break;
    }
}

/* Writes `cols` (a select list) to dst with each column qualified "c.". */
static void qualify(char *dst, const char *cols)
{
    dst[0] = '\0';
    for (const char *p = cols; *p;) {
        size_t len = strcspn(p, ",");

        store_sql_append(dst, "%sc.%.*s", dst[0] ? ", " : "", (int)len, p);
        p += len;
        p += strspn(p, ", ");
    }
}

static void build_kind(enum dg_kind k)
{
    const dg_entity *e = dg_entity_get(k);
    struct kind_sql *q = &kind_sql[k];
    int n_params = 0;

    snprintf(q->columns, SQL_MAX, COMMON_COLS);
    q->first_field_col = N_COMMON;
    if (k == DG_KIND_CUSTOMER) {
        store_sql_append(q->columns, ", last_contact_at");
        q->first_field_col++;
    }
    for (size_t i = 0; i < e->n_fields; i++)
        field_columns(q->columns, &e->fields[i], ", ", "");
    qualify(q->columns_c, q->columns);
    q->get[0] = '\0';
    store_sql_append(q->get, "SELECT %s FROM %s WHERE id = ?1", q->columns, e->table);

    snprintf(q->insert, SQL_MAX,
             "INSERT INTO %s(version, archived_at, created_at, updated_at,"
             " created_by, updated_by",
             e->table);
    n_params = 6;
    for (size_t i = 0; i < e->n_fields; i++) {
        field_columns(q->insert, &e->fields[i], ", ", "");
        n_params += e->fields[i].type == DG_F_MONEY ? 2 : 1;
    }
    if (k == DG_KIND_CUSTOMER) {
        store_sql_append(q->insert, ", name_key, dup_name, dup_phone, dup_email, dup_stem");
        n_params += 5;
    }
    store_sql_append(q->insert, ") VALUES (");
    for (int i = 1; i <= n_params; i++)
        store_sql_append(q->insert, "%s?%d", i > 1 ? ", " : "", i);
    store_sql_append(q->insert, ")");
}

static void build_all(void)
{
    for (int k = 1; k < DG_KIND_COUNT; k++)
        build_kind((enum dg_kind)k);
}

static const struct kind_sql *sql_for(enum dg_kind k)
{
    pthread_once(&sql_once, build_all);
    return &kind_sql[k];
}

const char *store_rec_columns(enum dg_kind k, bool is_qualified)
{
    return is_qualified ? sql_for(k)->columns_c : sql_for(k)->columns;
}

/* ------------------------------------------------------------ reading */

static int load_tags(dg_store *st, dg_record *r, dg_arena *a);
static int load_custom(dg_store *st, dg_record *r, dg_arena *a);

/* Reads the current row of `s` (columns as in kind_sql.columns) into a new record. */
int store_rec_read_row(sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out)
{
    const dg_entity *e = dg_entity_get(k);
    dg_record *r = dg_record_new(a, k);
    int col = sql_for(k)->first_field_col;

    if (!r)
        return DG_ENOMEM;
    r->id = sqlite3_column_int64(s, 0);
    r->version = sqlite3_column_int64(s, 1);
    r->is_archived = sqlite3_column_type(s, 2) != SQLITE_NULL;
    r->created_at = sqlite3_column_int64(s, 3);
    r->updated_at = sqlite3_column_int64(s, 4);
    r->created_by = sqlite3_column_int64(s, 5);
    r->updated_by = sqlite3_column_int64(s, 6);
    if (k == DG_KIND_CUSTOMER)
        r->last_contact_at = sqlite3_column_int64(s, N_COMMON);
    for (size_t i = 0; i < e->n_fields; i++) {
        const dg_field *f = &e->fields[i];
        dg_value *v = &r->v[i];

        switch (f->type) {
        case DG_F_TEXT:
        case DG_F_DATE:
            if (!(v->s = store_col_dup(s, col++, a)))
                return DG_ENOMEM;
            break;
        case DG_F_ENUM: {
            const char *name = (const char *)sqlite3_column_text(s, col++);
            int value = dg_enum_value(f->enum_desc, name ? name : "");

            v->i = value < 0 ? 0 : value; /* an unknown stored name reads as unspecified */
            break;
        }
        case DG_F_MONEY:
            v->i = sqlite3_column_int64(s, col++);
            if (!(v->s = store_col_dup(s, col++, a)))
                return DG_ENOMEM;
            break;
        default: /* INT, BOOL, TIME, USER, REF */
            v->i = sqlite3_column_int64(s, col++);
            break;
        }
    }
    r->customer_id =
        k == DG_KIND_CUSTOMER ? r->id : r->v[0].i; /* children: field 0 is customer_id */
    *out = r;
    return DG_OK;
}

static const char SQL_TAGS[] = "SELECT tag FROM customer_tags WHERE customer_id = ?1 ORDER BY tag";
static const char SQL_CUSTOM[] =
    "SELECT f.name, v.value FROM custom_values v JOIN custom_fields f ON f.id = v.field_id"
    " WHERE v.customer_id = ?1 ORDER BY f.name";

static int load_tags(dg_store *st, dg_record *r, dg_arena *a)
{
    sqlite3_stmt *s = store_stmt(st, SQL_TAGS);
    size_t cap = 0;
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, r->id);
    r->n_tags = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (r->n_tags == cap) {
            const char **grown;

            cap = cap ? cap * 2 : 8;
            if (!(grown = dg_arena_alloc(a, cap * sizeof *grown)))
                return DG_ENOMEM;
            if (r->n_tags)
                memcpy(grown, r->tags, r->n_tags * sizeof *grown);
            r->tags = grown;
        }
        if (!(r->tags[r->n_tags++] = store_col_dup(s, 0, a)))
            return DG_ENOMEM;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

static int load_custom(dg_store *st, dg_record *r, dg_arena *a)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CUSTOM);
    size_t cap = 0;
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, r->id);
    r->n_custom = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (r->n_custom == cap) {
            dg_custom_value *grown;

            cap = cap ? cap * 2 : 8;
            if (!(grown = dg_arena_alloc(a, cap * sizeof *grown)))
                return DG_ENOMEM;
            if (r->n_custom)
                memcpy(grown, r->custom, r->n_custom * sizeof *grown);
            r->custom = grown;
        }
        r->custom[r->n_custom].name = store_col_dup(s, 0, a);
        r->custom[r->n_custom].value = store_col_dup(s, 1, a);
        if (!r->custom[r->n_custom].name || !r->custom[r->n_custom++].value)
            return DG_ENOMEM;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

/* Tags and custom values of a customer read from its row. */
int store_rec_complete(dg_store *st, dg_record *r, dg_arena *a)
{
    int rc;

    if (r->kind != DG_KIND_CUSTOMER)
        return DG_OK;
    if ((rc = load_tags(st, r, a)) != DG_OK)
        return rc;
    return load_custom(st, r, a);
}

/* Runs a statement expected to yield at most one record. */
static int one_record(dg_store *st, sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out)
{
    int rc = sqlite3_step(s);

    *out = NULL;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return DG_ENOTFOUND;
    }
    if (rc != SQLITE_ROW) {
        rc = store_err(st, rc);
        sqlite3_reset(s);
        return rc;
    }
    rc = store_rec_read_row(s, k, a, out);
    sqlite3_reset(s);
    return rc == DG_OK ? store_rec_complete(st, *out, a) : rc;
}

int dg_store_rec_get(dg_store *st, enum dg_kind kind, int64_t id, dg_arena *a, dg_record **out)
{
    sqlite3_stmt *s = store_stmt(st, sql_for(kind)->get);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    return one_record(st, s, kind, a, out);
}

int dg_store_customer_by_code(dg_store *st, const char *code, dg_arena *a, dg_record **out)
{
    char sql[SQL_MAX + 64];
    sqlite3_stmt *s;
    int rc;

    snprintf(sql, sizeof sql, "SELECT %s FROM customers WHERE code = ?1",
             sql_for(DG_KIND_CUSTOMER)->columns);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    rc = one_record(st, s, DG_KIND_CUSTOMER, a, out);
    store_stmt_release(st, s);
    return rc;
}

/* ------------------------------------------------------------ writing */

/* Binds the fields of r from parameter `p` on; returns the next parameter. */
static int bind_one(sqlite3_stmt *s, const dg_record *r, size_t i, int p);

static int bind_fields(sqlite3_stmt *s, const dg_record *r, int p)
{
    const dg_entity *e = dg_entity_get(r->kind);

    for (size_t i = 0; i < e->n_fields; i++)
        p = bind_one(s, r, i, p);
    return p;
}

static int bind_keys(sqlite3_stmt *s, const dg_customer_keys *k, int p)
{
    static const uint8_t empty[1];

    if (k && k->name_key_len)
        sqlite3_bind_blob(s, p, k->name_key, (int)k->name_key_len, SQLITE_STATIC);
    else
        sqlite3_bind_blob(s, p, empty, 0, SQLITE_STATIC);
    sqlite3_bind_text(s, p + 1, k ? k->dup_name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, p + 2, k ? k->dup_phone : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, p + 3, k ? k->dup_email : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, p + 4, k ? k->dup_stem : "", -1, SQLITE_STATIC);
    return p + 5;
}

static void bind_common(sqlite3_stmt *s, const dg_record *r)
{
    sqlite3_bind_int64(s, 1, r->version);
    if (r->is_archived)
        sqlite3_bind_int64(s, 2, r->updated_at);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, r->created_at);
    sqlite3_bind_int64(s, 4, r->updated_at);
    store_bind_id(s, 5, r->created_by);
    store_bind_id(s, 6, r->updated_by);
}

static const char SQL_TAGS_CLEAR[] = "DELETE FROM customer_tags WHERE customer_id = ?1";
static const char SQL_TAG_ADD[] =
    "INSERT OR IGNORE INTO customer_tags(customer_id, tag) VALUES (?1, ?2)";
static const char SQL_CUSTOM_CLEAR[] = "DELETE FROM custom_values WHERE customer_id = ?1";
static const char SQL_CUSTOM_ADD[] = "INSERT INTO custom_values(customer_id, field_id, value)"
                                     " SELECT ?1, id, ?3 FROM custom_fields WHERE name = ?2";

static int write_tags(dg_store *st, const dg_record *r)
{
    sqlite3_stmt *s = store_stmt(st, SQL_TAGS_CLEAR);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, r->id);
    if ((rc = store_exec_stmt(st, s)) != DG_OK)
        return rc;
    for (size_t i = 0; i < r->n_tags; i++) {
        if (!(s = store_stmt(st, SQL_TAG_ADD)))
            return DG_EIO;
        sqlite3_bind_int64(s, 1, r->id);
        sqlite3_bind_text(s, 2, r->tags[i], -1, SQLITE_STATIC);
        if ((rc = store_exec_stmt(st, s)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static int write_custom(dg_store *st, const dg_record *r)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CUSTOM_CLEAR);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, r->id);
    if ((rc = store_exec_stmt(st, s)) != DG_OK)
        return rc;
    for (size_t i = 0; i < r->n_custom; i++) {
        if (!r->custom[i].value[0])
            continue; /* empty = not set */
        if (!(s = store_stmt(st, SQL_CUSTOM_ADD)))
            return DG_EIO;
        sqlite3_bind_int64(s, 1, r->id);
        sqlite3_bind_text(s, 2, r->custom[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, r->custom[i].value, -1, SQLITE_STATIC);
        if ((rc = store_exec_stmt(st, s)) != DG_OK)
            return rc;
        if (sqlite3_changes(st->db) != 1) {
            snprintf(st->err, sizeof st->err, "custom field %s is not defined", r->custom[i].name);
            return DG_EINVAL;
        }
    }
    return DG_OK;
}

int dg_store_rec_insert(dg_store *st, dg_record *r, const dg_customer_keys *keys)
{
    sqlite3_stmt *s = store_stmt(st, sql_for(r->kind)->insert);
    int p, rc;

    if (!s)
        return DG_EIO;
    bind_common(s, r);
    p = bind_fields(s, r, 7);
    if (r->kind == DG_KIND_CUSTOMER)
        bind_keys(s, keys, p);
    if ((rc = store_exec_stmt(st, s)) != DG_OK)
        return rc;
    r->id = sqlite3_last_insert_rowid(st->db);
    if (r->kind == DG_KIND_CUSTOMER) {
        r->customer_id = r->id;
        if ((rc = write_tags(st, r)) != DG_OK || (rc = write_custom(st, r)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

/* Binds field i of r at parameter p; returns the next parameter. */
static int bind_one(sqlite3_stmt *s, const dg_record *r, size_t i, int p)
{
    const dg_field *f = &dg_entity_get(r->kind)->fields[i];
    const dg_value *v = &r->v[i];
    char name[64];

    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        sqlite3_bind_text(s, p++, v->s ? v->s : "", -1, SQLITE_STATIC);
        break;
    case DG_F_ENUM: {
        const char *n = dg_enum_name(f->enum_desc, (int)v->i, name, sizeof name);

        sqlite3_bind_text(s, p++, n ? n : "", -1, SQLITE_TRANSIENT);
        break;
    }
    case DG_F_MONEY:
        sqlite3_bind_int64(s, p++, v->i);
        sqlite3_bind_text(s, p++, v->s ? v->s : "", -1, SQLITE_STATIC);
        break;
    case DG_F_USER:
    case DG_F_REF:
        store_bind_id(s, p++, v->i);
        break;
    default:
        sqlite3_bind_int64(s, p++, v->i);
        break;
    }
    return p;
}

int dg_store_rec_update(dg_store *st, const dg_record *r, uint64_t changed,
                        const dg_customer_keys *keys)
{
    const dg_entity *e = dg_entity_get(r->kind);
    bool is_customer = r->kind == DG_KIND_CUSTOMER;
    int i_name = is_customer ? dg_entity_field_index(e, "name") : -1;
    int i_phone = is_customer ? dg_entity_field_index(e, "phone") : -1;
    int i_email = is_customer ? dg_entity_field_index(e, "email") : -1;
    bool new_name = is_customer && (changed >> i_name & 1);
    bool new_phone = is_customer && (changed >> i_phone & 1);
    bool new_email = is_customer && (changed >> i_email & 1);
    char sql[SQL_MAX] = "";
    sqlite3_stmt *s;
    int p = 5, rc;

    dg_assert(e->n_fields < 63); /* bit 63 is DG_REC_ARCHIVED_CHANGED */
    /* archived_at only when it changes: a dozen partial indexes name it
     * (WHERE archived_at IS NULL), and SQLite rewrites the entry of every
     * index that names a column the statement sets, changed or not. */
    store_sql_append(sql, "UPDATE %s SET version = ?1, updated_at = ?3, updated_by = ?4%s",
                     e->table, changed & DG_REC_ARCHIVED_CHANGED ? ", archived_at = ?2" : "");
    for (size_t i = 0; i < e->n_fields; i++) {
        const dg_field *f = &e->fields[i];

        if (!(changed >> i & 1))
            continue;
        if (f->type == DG_F_MONEY) {
            store_sql_append(sql, ", %s = ?%d, %s_currency = ?%d", f->name, p, f->name, p + 1);
            p += 2;
        } else {
            store_sql_append(sql, ", %s%s = ?%d", f->name, f->type == DG_F_USER ? "_id" : "", p++);
        }
    }
    if (new_name) {
        store_sql_append(sql, ", name_key = ?%d, dup_name = ?%d, dup_stem = ?%d", p, p + 1, p + 2);
        p += 3;
    }
    if (new_phone)
        store_sql_append(sql, ", dup_phone = ?%d", p++);
    if (new_email)
        store_sql_append(sql, ", dup_email = ?%d", p++);
    store_sql_append(sql, " WHERE id = ?%d", p);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, r->version);
    if (r->is_archived)
        sqlite3_bind_int64(s, 2, r->updated_at);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, r->updated_at);
    store_bind_id(s, 4, r->updated_by);
    p = 5;
    for (size_t i = 0; i < e->n_fields; i++)
        if (changed >> i & 1)
            p = bind_one(s, r, i, p);
    if (new_name) {
        sqlite3_bind_blob(s, p++, keys->name_key, (int)keys->name_key_len, SQLITE_STATIC);
        sqlite3_bind_text(s, p++, keys->dup_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, p++, keys->dup_stem, -1, SQLITE_STATIC);
    }
    if (new_phone)
        sqlite3_bind_text(s, p++, keys->dup_phone, -1, SQLITE_STATIC);
    if (new_email)
        sqlite3_bind_text(s, p++, keys->dup_email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, p, r->id);
    rc = store_exec_stmt(st, s);
    store_stmt_release(st, s);
    if (rc != DG_OK)
        return rc;
    if (sqlite3_changes(st->db) != 1)
        return DG_ENOTFOUND;
    if (is_customer && r->has_tags && (rc = write_tags(st, r)) != DG_OK)
        return rc;
    if (is_customer && r->has_custom && (rc = write_custom(st, r)) != DG_OK)
        return rc;
    return DG_OK;
}

static const char SQL_FIELD_VERSIONS[] =
    "SELECT field, version FROM field_versions WHERE kind = ?1 AND record_id = ?2";
static const char SQL_FIELD_VERSION_PUT[] =
    "INSERT INTO field_versions(kind, record_id, field, version) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT(kind, record_id, field) DO UPDATE SET version = excluded.version";

int dg_store_rec_field_versions(dg_store *st, enum dg_kind kind, int64_t id, dg_arena *a,
                                dg_field_version **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_VERSIONS);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_int(s, 1, (int)kind);
    sqlite3_bind_int64(s, 2, id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            dg_field_version *grown;

            cap = cap ? cap * 2 : 8;
            if (!(grown = dg_arena_alloc(a, cap * sizeof *grown))) {
                sqlite3_reset(s);
                return DG_ENOMEM;
            }
            if (*n)
                memcpy(grown, *out, *n * sizeof *grown);
            *out = grown;
        }
        (*out)[*n].version = sqlite3_column_int64(s, 1);
        if (!((*out)[*n].field = store_col_dup(s, 0, a))) {
            sqlite3_reset(s);
            return DG_ENOMEM;
        }
        (*n)++;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_rec_field_versions_put(dg_store *st, enum dg_kind kind, int64_t id,
                                    const char *const *fields, size_t n, int64_t version)
{
    int rc;

    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = store_stmt(st, SQL_FIELD_VERSION_PUT);

        if (!s)
            return DG_EIO;
        sqlite3_bind_int(s, 1, (int)kind);
        sqlite3_bind_int64(s, 2, id);
        sqlite3_bind_text(s, 3, fields[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, version);
        if ((rc = store_exec_stmt(st, s)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static const char SQL_NAMES[] = "SELECT id, name FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_SET_NAME_KEY[] = "UPDATE customers SET name_key = ?2 WHERE id = ?1";

int dg_store_customer_names(dg_store *st, int64_t after_id, int limit,
                            int (*fn)(int64_t id, const char *name, void *ud), void *ud)
{
    sqlite3_stmt *s = store_stmt(st, SQL_NAMES);
    int rc, frc = DG_OK;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int(s, 2, limit);
    while (frc == DG_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 1);

        frc = fn(sqlite3_column_int64(s, 0), name ? name : "", ud);
    }
    sqlite3_reset(s);
    if (frc != DG_OK)
        return frc;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

int dg_store_customer_set_name_key(dg_store *st, int64_t id, const uint8_t *key, size_t len)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SET_NAME_KEY);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_blob(s, 2, key, (int)len, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

static const char SQL_TOUCH_CONTACT[] =
    "UPDATE customers SET last_contact_at = ?2 WHERE id = ?1 AND last_contact_at < ?2";

int dg_store_customer_touch_contact(dg_store *st, int64_t customer_id, int64_t at)
{
    sqlite3_stmt *s = store_stmt(st, SQL_TOUCH_CONTACT);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, customer_id);
    sqlite3_bind_int64(s, 2, at);
    return store_exec_stmt(st, s);
}

static const char SQL_CODE_TAKEN[] = "SELECT 1 FROM customers WHERE code = ?1";

int dg_store_next_customer_code(dg_store *st, char *out, size_t out_len)
{
    int64_t next;
    char text[32];
    int rc;

    /* A counter in settings: codes are never reused, even after archiving. */
    if ((rc = dg_store_setting_int(st, "next_customer_code", 1, &next)) != DG_OK)
        return rc;
    for (;; next++) { /* skip codes someone chose by hand */
        sqlite3_stmt *s = store_stmt(st, SQL_CODE_TAKEN);

        if (!s)
            return DG_EIO;
        snprintf(text, sizeof text, "C-%06lld", (long long)next);
        sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW)
            return store_err(st, rc);
    }
    snprintf(out, out_len, "%s", text);
    return dg_store_setting_put_int(st, "next_customer_code", next + 1);
}

/* ------------------------------------------------------------ lists */

int store_param_int(struct store_params *ps, int64_t v)
{
    dg_assert(ps->n < STORE_MAX_PARAMS);
    ps->v[ps->n] = (struct store_param){.type = DG_KEY_INT, .i = v};
    return ++ps->n;
}

int store_param_text(struct store_params *ps, const char *v)
{
    return store_param_key(ps, &(dg_sort_key){DG_KEY_TEXT, 0, (const uint8_t *)v, strlen(v)});
}

int store_param_key(struct store_params *ps, const dg_sort_key *k)
{
    dg_assert(ps->n < STORE_MAX_PARAMS);
    dg_assert(k->len <= INT_MAX); /* keys come from rows and cursors of a 4 MiB frame */
    ps->v[ps->n] = (struct store_param){.type = k->type, .i = k->i, .p = k->data, .len = k->len};
    return ++ps->n;
}

void store_params_bind(sqlite3_stmt *s, const struct store_params *ps)
{
    for (int i = 0; i < ps->n; i++) {
        const struct store_param *v = &ps->v[i];

        if (v->type == DG_KEY_INT)
            sqlite3_bind_int64(s, i + 1, v->i);
        else if (v->type == DG_KEY_TEXT)
            sqlite3_bind_text(s, i + 1, v->p ? v->p : "", (int)v->len, SQLITE_STATIC);
        else
            sqlite3_bind_blob(s, i + 1, v->p ? v->p : "", (int)v->len, SQLITE_STATIC);
    }
}

/* `walk` is "" or "+": a unary plus keeps the term from choosing an index. */
static void in_list(char *sql, struct store_params *ps, const char *walk, const char *col,
                    const char *const *vals, size_t n)
{
    if (n == 0)
        return;
    store_sql_append(sql, " AND %sc.%s IN (", walk, col);
    for (size_t i = 0; i < n && i < 8; i++)
        store_sql_append(sql, "%s?%d", i ? ", " : "", store_param_text(ps, vals[i]));
    store_sql_append(sql, ")");
}

/* Leaves out the customers of restricted tiers that viewer_id does not own,
 * and their dossiers: inside the query, so pages stay full and exact. */
static void where_visible(char *sql, struct store_params *ps, const dg_list_query *q)
{
    char tiers[SQL_MAX] = ""; /* store_sql_append() writes up to SQL_MAX */

    if (q->n_restricted == 0)
        return;
    for (size_t i = 0; i < q->n_restricted && i < 3; i++)
        store_sql_append(tiers, "%s?%d", i ? ", " : "", store_param_text(ps, q->restricted[i]));
    if (q->kind == DG_KIND_CUSTOMER)
        store_sql_append(sql, " AND (c.tier NOT IN (%s) OR c.owner_id = ?%d)", tiers,
                         store_param_int(ps, q->viewer_id));
    else
        store_sql_append(sql,
                         " AND NOT EXISTS (SELECT 1 FROM customers x WHERE x.id = c.customer_id"
                         " AND x.tier IN (%s) AND coalesce(x.owner_id, 0) != ?%d)",
                         tiers, store_param_int(ps, q->viewer_id));
}

/* `live` and `walk` ("" or "+") go before the archived test and before the
 * terms of few distinct values (enums, the owner): with "+" no index serves
 * them, so that an index of the query's order does (store_rec_filter_list). */
static void filter(char *sql, struct store_params *ps, const dg_list_query *q, const char *live,
                   const char *walk)
{
    where_visible(sql, ps, q);
    if (!q->include_archived)
        store_sql_append(sql, " AND %sc.archived_at IS NULL", live);
    if (q->kind == DG_KIND_CUSTOMER) {
        in_list(sql, ps, walk, "tier", q->tiers, q->n_tiers);
        in_list(sql, ps, walk, "status", q->statuses, q->n_statuses);
        in_list(sql, ps, walk, "intention", q->intentions, q->n_intentions);
        in_list(sql, ps, walk, "value", q->values, q->n_values);
        if (q->industry)
            store_sql_append(sql, " AND c.industry = ?%d", store_param_text(ps, q->industry));
        if (q->region)
            store_sql_append(sql, " AND c.region = ?%d", store_param_text(ps, q->region));
        if (q->owner_id)
            store_sql_append(sql, " AND %sc.owner_id = ?%d", walk,
                             store_param_int(ps, q->owner_id));
        if (q->pool_only)
            store_sql_append(sql, " AND c.owner_id IS NULL");
        if (q->tag)
            store_sql_append(sql,
                             " AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id"
                             " AND t.tag = ?%d)",
                             store_param_text(ps, q->tag));
        for (size_t i = 0; i < q->n_custom && i < 4; i++) {
            int pn = store_param_text(ps, q->custom[i].name);
            int pv = store_param_text(ps, q->custom[i].value);

            store_sql_append(sql,
                             " AND EXISTS (SELECT 1 FROM custom_values v JOIN custom_fields f"
                             " ON f.id = v.field_id WHERE v.customer_id = c.id AND f.name = ?%d"
                             " AND v.value = ?%d)",
                             pn, pv);
        }
        return;
    }
    if (q->customer_id)
        store_sql_append(sql, " AND c.customer_id = ?%d", store_param_int(ps, q->customer_id));
    if (q->kind == DG_KIND_TASK) {
        if (q->open_only)
            store_sql_append(sql, " AND c.done = 0");
        if (q->assignee_id)
            store_sql_append(sql, " AND c.assignee_id = ?%d", store_param_int(ps, q->assignee_id));
        if (q->due_before)
            store_sql_append(sql, " AND c.due_at_ms != 0 AND c.due_at_ms < ?%d",
                             store_param_int(ps, q->due_before));
    }
    if (q->kind == DG_KIND_DEAL) {
        in_list(sql, ps, "", "stage", q->stages, q->n_stages);
        if (q->owner_id)
            store_sql_append(sql,
                             " AND c.customer_id IN (SELECT o.id FROM customers o"
                             " WHERE o.owner_id = ?%d)",
                             store_param_int(ps, q->owner_id));
    }
    if (q->kind == DG_KIND_FEEDBACK && q->open_only)
        store_sql_append(sql, " AND c.status IN ('', 'open', 'in_progress')");
}

void store_rec_filter(char *sql, struct store_params *ps, const dg_list_query *q)
{
    filter(sql, ps, q, "", "");
}

void store_rec_filter_list(char *sql, struct store_params *ps, const dg_list_query *q,
                           bool is_by_order)
{
    /* other tables have no index led by archived_at; the pool's partial
     * index (WHERE owner_id IS NULL AND archived_at IS NULL) needs the test */
    bool is_led = q->kind == DG_KIND_CUSTOMER && !q->pool_only;

    filter(sql, ps, q, is_led ? "+" : "", is_by_order ? "+" : "");
}

void store_rec_select(char *sql, enum dg_kind k)
{
    store_sql_append(sql, "%s", store_rec_columns(k, true));
}

int store_rec_read(dg_store *st, sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out)
{
    int rc = store_rec_read_row(s, k, a, out);

    return rc == DG_OK ? store_rec_complete(st, *out, a) : rc;
}
