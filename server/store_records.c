/* store_records.c - dossier records in SQLite, driven by the field tables of
 * entity.c: the column of a field is its name (MONEY: NAME and
 * NAME_currency; USER: NAME_id). Enum fields are stored as their short
 * names. SQL for the hot paths (get, insert, update) is built once per kind;
 * list queries, whose filters vary, are built per request and cached by text.
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

static void append(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(char *buf, const char *fmt, ...)
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
        append(buf, "%s%s%s%s%s_currency%s", sep, f->name, suffix, sep, f->name, suffix);
        break;
    case DG_F_USER:
        append(buf, "%s%s_id%s", sep, f->name, suffix);
        break;
    default:
        append(buf, "%s%s%s", sep, f->name, suffix);
        break;
    }
}

/* Writes `cols` (a select list) to dst with each column qualified "c.". */
static void qualify(char *dst, const char *cols)
{
    dst[0] = '\0';
    for (const char *p = cols; *p;) {
        size_t len = strcspn(p, ",");

        append(dst, "%sc.%.*s", dst[0] ? ", " : "", (int)len, p);
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
        append(q->columns, ", last_contact_at");
        q->first_field_col++;
    }
    for (size_t i = 0; i < e->n_fields; i++)
        field_columns(q->columns, &e->fields[i], ", ", "");
    qualify(q->columns_c, q->columns);
    q->get[0] = '\0';
    append(q->get, "SELECT %s FROM %s WHERE id = ?1", q->columns, e->table);

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
        append(q->insert, ", name_key, dup_name, dup_phone, dup_email");
        n_params += 4;
    }
    append(q->insert, ") VALUES (");
    for (int i = 1; i <= n_params; i++)
        append(q->insert, "%s?%d", i > 1 ? ", " : "", i);
    append(q->insert, ")");
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

/* ------------------------------------------------------------ reading */

static const char *col_text(sqlite3_stmt *s, int col, dg_arena *a)
{
    const char *t = (const char *)sqlite3_column_text(s, col);

    return dg_arena_strdup(a, t ? t : "");
}

static int load_tags(dg_store *st, dg_record *r, dg_arena *a);
static int load_custom(dg_store *st, dg_record *r, dg_arena *a);

/* Reads the current row of `s` (columns as in kind_sql.columns) into a new record. */
static int read_row(sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out)
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
            if (!(v->s = col_text(s, col++, a)))
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
            if (!(v->s = col_text(s, col++, a)))
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
        if (!(r->tags[r->n_tags++] = col_text(s, 0, a)))
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
        r->custom[r->n_custom].name = col_text(s, 0, a);
        r->custom[r->n_custom].value = col_text(s, 1, a);
        if (!r->custom[r->n_custom].name || !r->custom[r->n_custom++].value)
            return DG_ENOMEM;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

/* Tags and custom values of a customer read from its row. */
static int complete(dg_store *st, dg_record *r, dg_arena *a)
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
    rc = read_row(s, k, a, out);
    sqlite3_reset(s);
    return rc == DG_OK ? complete(st, *out, a) : rc;
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
    return p + 4;
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

    append(sql, "UPDATE %s SET version = ?1, archived_at = ?2, updated_at = ?3, updated_by = ?4",
           e->table);
    for (size_t i = 0; i < e->n_fields; i++) {
        const dg_field *f = &e->fields[i];

        if (!(changed >> i & 1))
            continue;
        if (f->type == DG_F_MONEY) {
            append(sql, ", %s = ?%d, %s_currency = ?%d", f->name, p, f->name, p + 1);
            p += 2;
        } else {
            append(sql, ", %s%s = ?%d", f->name, f->type == DG_F_USER ? "_id" : "", p++);
        }
    }
    if (new_name) {
        append(sql, ", name_key = ?%d, dup_name = ?%d", p, p + 1);
        p += 2;
    }
    if (new_phone)
        append(sql, ", dup_phone = ?%d", p++);
    if (new_email)
        append(sql, ", dup_email = ?%d", p++);
    append(sql, " WHERE id = ?%d", p);
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
        if (!((*out)[*n].field = col_text(s, 0, a))) {
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

/* ------------------------------------------------------------ change feed, idempotency */

static const char SQL_CHANGE[] =
    "INSERT INTO changes(at, actor_id, entity, entity_id, customer_id, op, version,"
    " vis_before_owner, vis_before_tier, vis_after_owner, vis_after_tier)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_CHANGE_FIELD[] =
    "INSERT INTO change_fields(seq, pos, field) VALUES (?1, ?2, ?3)";

/* Binds view `v` as an owner at `p` and a tier name at p + 1 (NULL, NULL: none). */
static void bind_visibility(sqlite3_stmt *s, int p, const dg_visibility *v)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const dg_field *tier = &e->fields[dg_entity_field_index(e, "tier")];
    char name[16];
    const char *n;

    if (!v->is_set) {
        sqlite3_bind_null(s, p);
        sqlite3_bind_null(s, p + 1);
        return;
    }
    n = dg_enum_name(tier->enum_desc, v->tier, name, sizeof name);
    /* from a record: the wire validator refused tiers the enum lacks, and
     * the store reads a stored name it does not know as unspecified */
    dg_assert(n);
    sqlite3_bind_int64(s, p, v->owner_id);
    sqlite3_bind_text(s, p + 1, n, -1, SQLITE_TRANSIENT);
}

int dg_store_change_append(dg_store *st, const dg_change *c, int64_t *seq)
{
    sqlite3_stmt *s = store_stmt(st, SQL_CHANGE);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, c->at);
    store_bind_id(s, 2, c->actor_id);
    sqlite3_bind_text(s, 3, c->entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, c->entity_id);
    store_bind_id(s, 5, c->customer_id);
    sqlite3_bind_text(s, 6, c->op, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, c->version);
    bind_visibility(s, 8, &c->vis_before);
    bind_visibility(s, 10, &c->vis_after);
    if ((rc = store_exec_stmt(st, s)) != DG_OK)
        return rc;
    *seq = sqlite3_last_insert_rowid(st->db);
    for (size_t i = 0; i < c->n_fields; i++) {
        if (!(s = store_stmt(st, SQL_CHANGE_FIELD)))
            return DG_EIO;
        sqlite3_bind_int64(s, 1, *seq);
        sqlite3_bind_int64(s, 2, (int64_t)i);
        sqlite3_bind_text(s, 3, c->fields[i], -1, SQLITE_STATIC);
        if ((rc = store_exec_stmt(st, s)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static const char *const idem_requests[] = {
    [DG_IDEM_CREATE] = "create",     [DG_IDEM_UPDATE] = "update", [DG_IDEM_ARCHIVE] = "archive",
    [DG_IDEM_RESTORE] = "restore",   [DG_IDEM_BATCH] = "batch",   [DG_IDEM_MERGE] = "merge",
    [DG_IDEM_REASSIGN] = "reassign",
};

static const char SQL_IDEM_GET[] =
    "SELECT request_hash, request, n_records, moved, customers, tasks FROM idempotency"
    " WHERE user_id = ?1 AND key = ?2";
static const char SQL_IDEM_GET_RECORDS[] =
    "SELECT op, kind, id FROM idempotency_records WHERE user_id = ?1 AND key = ?2 ORDER BY op";
static const char SQL_IDEM_PUT[] =
    "INSERT INTO idempotency(user_id, key, request_hash, request, n_records, moved, customers,"
    " tasks, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_IDEM_PUT_RECORD[] =
    "INSERT INTO idempotency_records(user_id, key, op, kind, id) VALUES (?1, ?2, ?3, ?4, ?5)";
/* The oldest expired keys, at most ?2 of them, while the records of the
 * keys before each stay under ?3: the same keys for both deletes (the order
 * is total), the records first. */
#define IDEM_PRUNE_KEYS                                                                            \
    "SELECT user_id, key FROM (SELECT user_id, key, sum(n_records) OVER (ORDER BY created_at,"     \
    " user_id, key ROWS UNBOUNDED PRECEDING) - n_records AS before_it FROM (SELECT user_id, key,"  \
    " n_records, created_at FROM idempotency WHERE created_at < ?1 ORDER BY created_at, user_id,"  \
    " key LIMIT ?2)) WHERE before_it < ?3"
static const char SQL_IDEM_PRUNE_RECORDS[] =
    "DELETE FROM idempotency_records WHERE (user_id, key) IN (" IDEM_PRUNE_KEYS ")";
static const char SQL_IDEM_PRUNE[] =
    "DELETE FROM idempotency WHERE (user_id, key) IN (" IDEM_PRUNE_KEYS ")";
#define IDEM_PRUNE_MAX_RECORDS 20000

/* Fails a read of a damaged result, saying what is wrong for the log. */
static int idem_corrupt(dg_store *st, const char *what)
{
    snprintf(st->err, sizeof st->err, "idempotency result damaged: %s", what);
    return DG_ECORRUPT;
}

static int idem_request_parse(sqlite3_stmt *s, int col, enum dg_idem_request *out)
{
    const char *text = (const char *)sqlite3_column_text(s, col);

    if (sqlite3_column_type(s, col) == SQLITE_NULL) {
        *out = DG_IDEM_ANY_RECORDS;
        return DG_OK;
    }
    for (size_t i = 1; text && i < DG_ARRAY_LEN(idem_requests); i++)
        if (!strcmp(text, idem_requests[i])) {
            *out = (enum dg_idem_request)i;
            return DG_OK;
        }
    return DG_ECORRUPT;
}

/* A 32-bit count read back: anything else is damage. */
static bool idem_count(sqlite3_stmt *s, int col, uint32_t *out)
{
    int64_t v = sqlite3_column_int64(s, col);

    *out = (uint32_t)v;
    return sqlite3_column_type(s, col) == SQLITE_INTEGER && v >= 0 && v <= UINT32_MAX;
}

/* The key's row into *out; *n_records gets its stored count. */
static int idem_get_row(dg_store *st, int64_t user_id, const char *key, dg_idem_result *out,
                        int64_t *n_records)
{
    sqlite3_stmt *s = store_stmt(st, SQL_IDEM_GET);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    }
    rc = DG_OK;
    if (sqlite3_column_bytes(s, 0) != 32)
        rc = idem_corrupt(st, "request hash");
    else
        memcpy(out->request_hash, sqlite3_column_blob(s, 0), 32);
    if (rc == DG_OK && idem_request_parse(s, 1, &out->request) != DG_OK)
        rc = idem_corrupt(st, "unknown request");
    *n_records = sqlite3_column_int64(s, 2);
    if (rc == DG_OK && (*n_records < 0 || *n_records > DG_IDEM_MAX_RECORDS))
        rc = idem_corrupt(st, "record count");
    if (rc == DG_OK && (!idem_count(s, 3, &out->moved) || !idem_count(s, 4, &out->customers) ||
                        !idem_count(s, 5, &out->tasks)))
        rc = idem_corrupt(st, "counts");
    sqlite3_reset(s);
    return rc;
}

/* The key's record rows: exactly n, numbered 0 .. n-1, of known kinds. */
static int idem_get_records(dg_store *st, int64_t user_id, const char *key, size_t n, dg_arena *a,
                            dg_idem_result *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_IDEM_GET_RECORDS);
    dg_idem_ref *refs = dg_arena_calloc(a, n ? n : 1, sizeof *refs);
    size_t i = 0;
    int rc = DG_OK;

    if (!s)
        return DG_EIO;
    if (!refs)
        return DG_ENOMEM;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    while (rc == DG_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = DG_OK;
        if (i >= n || sqlite3_column_int64(s, 0) != (int64_t)i)
            rc = idem_corrupt(st, i >= n ? "more records than its count" : "a record is missing");
        else if (!dg_entity_get((enum dg_kind)sqlite3_column_int(s, 1)) ||
                 sqlite3_column_int64(s, 2) <= 0)
            rc = idem_corrupt(st, "a record's kind or id");
        else
            refs[i++] =
                (dg_idem_ref){(enum dg_kind)sqlite3_column_int(s, 1), sqlite3_column_int64(s, 2)};
    }
    if (rc == SQLITE_DONE)
        rc = i == n ? DG_OK : idem_corrupt(st, "fewer records than its count");
    else if (rc != DG_OK && rc != DG_ECORRUPT)
        rc = store_err(st, rc);
    sqlite3_reset(s);
    out->records = refs;
    out->n_records = i;
    return rc;
}

int dg_store_idem_get(dg_store *st, int64_t user_id, const char *key, dg_arena *a,
                      dg_idem_result *out)
{
    int64_t n = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = idem_get_row(st, user_id, key, out, &n)) != DG_OK)
        return rc;
    return idem_get_records(st, user_id, key, (size_t)n, a, out);
}

static int idem_put_record(dg_store *st, int64_t user_id, const char *key, size_t op,
                           const dg_idem_ref *ref)
{
    sqlite3_stmt *s = store_stmt(st, SQL_IDEM_PUT_RECORD);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)op);
    sqlite3_bind_int(s, 4, (int)ref->kind);
    sqlite3_bind_int64(s, 5, ref->id);
    return store_exec_stmt(st, s);
}

int dg_store_idem_put(dg_store *st, int64_t user_id, const char *key, const dg_idem_result *r,
                      int64_t at)
{
    sqlite3_stmt *s;
    int rc;

    if (r->request <= DG_IDEM_ANY_RECORDS || r->request >= (int)DG_ARRAY_LEN(idem_requests) ||
        r->n_records > DG_IDEM_MAX_RECORDS)
        return DG_EINVAL;
    if (!(s = store_stmt(st, SQL_IDEM_PUT)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, r->request_hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, idem_requests[r->request], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (int64_t)r->n_records);
    sqlite3_bind_int64(s, 6, r->moved);
    sqlite3_bind_int64(s, 7, r->customers);
    sqlite3_bind_int64(s, 8, r->tasks);
    sqlite3_bind_int64(s, 9, at);
    rc = store_exec_stmt(st, s);
    for (size_t i = 0; rc == DG_OK && i < r->n_records; i++)
        rc = idem_put_record(st, user_id, key, i, &r->records[i]);
    return rc;
}

static int idem_prune_step(dg_store *st, const char *sql, int64_t before, int max)
{
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int(s, 2, max);
    sqlite3_bind_int(s, 3, IDEM_PRUNE_MAX_RECORDS);
    return store_exec_stmt(st, s);
}

int dg_store_idem_prune(dg_store *st, int64_t before, int max)
{
    int rc = idem_prune_step(st, SQL_IDEM_PRUNE_RECORDS, before, max);

    return rc != DG_OK ? rc : idem_prune_step(st, SQL_IDEM_PRUNE, before, max);
}

/* ------------------------------------------------------------ duplicates */

static const char SQL_DUP_NAME[] =
    "SELECT id, code, name, coalesce(owner_id, 0), tier FROM customers"
    " WHERE dup_name = ?1 AND archived_at IS NULL LIMIT ?2";
static const char SQL_DUP_PHONE[] =
    "SELECT id, code, name, coalesce(owner_id, 0), tier FROM customers"
    " WHERE dup_phone = ?1 AND archived_at IS NULL LIMIT ?2";
static const char SQL_DUP_EMAIL[] =
    "SELECT id, code, name, coalesce(owner_id, 0), tier FROM customers"
    " WHERE dup_email = ?1 AND archived_at IS NULL LIMIT ?2";

int dg_store_find_duplicates(dg_store *st, const dg_customer_keys *keys, dg_dup *out, size_t cap,
                             size_t *n)
{
    const char *sqls[] = {SQL_DUP_NAME, SQL_DUP_PHONE, SQL_DUP_EMAIL};
    const char *vals[] = {keys->dup_name, keys->dup_phone, keys->dup_email};
    const char *what[] = {"name", "phone", "email"};

    *n = 0;
    for (size_t q = 0; q < 3 && *n < cap; q++) {
        sqlite3_stmt *s;
        int rc;

        if (!vals[q] || !vals[q][0])
            continue;
        if (!(s = store_stmt(st, sqls[q])))
            return DG_EIO;
        sqlite3_bind_text(s, 1, vals[q], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (int64_t)cap);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
            int64_t id = sqlite3_column_int64(s, 0);
            bool seen = false;

            for (size_t i = 0; i < *n; i++)
                seen |= out[i].customer_id == id;
            if (!seen) {
                dg_dup *d = &out[(*n)++];

                d->customer_id = id;
                d->matched_on = what[q];
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

static void in_list(char *sql, struct store_params *ps, const char *col, const char *const *vals,
                    size_t n)
{
    if (n == 0)
        return;
    append(sql, " AND c.%s IN (", col);
    for (size_t i = 0; i < n && i < 8; i++)
        append(sql, "%s?%d", i ? ", " : "", store_param_text(ps, vals[i]));
    append(sql, ")");
}

/* Leaves out the customers of restricted tiers that viewer_id does not own,
 * and their dossiers: inside the query, so pages stay full and exact. */
static void where_visible(char *sql, struct store_params *ps, const dg_list_query *q)
{
    char tiers[SQL_MAX] = ""; /* append() writes up to SQL_MAX */

    if (q->n_restricted == 0)
        return;
    for (size_t i = 0; i < q->n_restricted && i < 3; i++)
        append(tiers, "%s?%d", i ? ", " : "", store_param_text(ps, q->restricted[i]));
    if (q->kind == DG_KIND_CUSTOMER)
        append(sql, " AND (c.tier NOT IN (%s) OR c.owner_id = ?%d)", tiers,
               store_param_int(ps, q->viewer_id));
    else
        append(sql,
               " AND NOT EXISTS (SELECT 1 FROM customers x WHERE x.id = c.customer_id"
               " AND x.tier IN (%s) AND coalesce(x.owner_id, 0) != ?%d)",
               tiers, store_param_int(ps, q->viewer_id));
}

void store_rec_filter(char *sql, struct store_params *ps, const dg_list_query *q)
{
    where_visible(sql, ps, q);
    if (!q->include_archived)
        append(sql, " AND c.archived_at IS NULL");
    if (q->kind == DG_KIND_CUSTOMER) {
        in_list(sql, ps, "tier", q->tiers, q->n_tiers);
        in_list(sql, ps, "status", q->statuses, q->n_statuses);
        in_list(sql, ps, "intention", q->intentions, q->n_intentions);
        in_list(sql, ps, "value", q->values, q->n_values);
        if (q->industry)
            append(sql, " AND c.industry = ?%d", store_param_text(ps, q->industry));
        if (q->region)
            append(sql, " AND c.region = ?%d", store_param_text(ps, q->region));
        if (q->owner_id)
            append(sql, " AND c.owner_id = ?%d", store_param_int(ps, q->owner_id));
        if (q->tag)
            append(sql,
                   " AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id"
                   " AND t.tag = ?%d)",
                   store_param_text(ps, q->tag));
        for (size_t i = 0; i < q->n_custom && i < 4; i++) {
            int pn = store_param_text(ps, q->custom[i].name);
            int pv = store_param_text(ps, q->custom[i].value);

            append(sql,
                   " AND EXISTS (SELECT 1 FROM custom_values v JOIN custom_fields f"
                   " ON f.id = v.field_id WHERE v.customer_id = c.id AND f.name = ?%d"
                   " AND v.value = ?%d)",
                   pn, pv);
        }
        return;
    }
    if (q->customer_id)
        append(sql, " AND c.customer_id = ?%d", store_param_int(ps, q->customer_id));
    if (q->kind == DG_KIND_TASK) {
        if (q->open_only)
            append(sql, " AND c.done = 0");
        if (q->assignee_id)
            append(sql, " AND c.assignee_id = ?%d", store_param_int(ps, q->assignee_id));
        if (q->due_before)
            append(sql, " AND c.due_at_ms != 0 AND c.due_at_ms < ?%d",
                   store_param_int(ps, q->due_before));
    }
    if (q->kind == DG_KIND_FEEDBACK && q->open_only)
        append(sql, " AND c.status IN ('', 'open', 'in_progress')");
}

void store_rec_select(char *sql, enum dg_kind k)
{
    append(sql, "%s", sql_for(k)->columns_c);
}

int store_rec_read(dg_store *st, sqlite3_stmt *s, enum dg_kind k, dg_arena *a, dg_record **out)
{
    int rc = read_row(s, k, a, out);

    return rc == DG_OK ? complete(st, *out, a) : rc;
}

/* Copies column `col` of the current row of `s` into *key, keeping its
 * storage class. DG_ECORRUPT for a NULL or REAL: no sort column holds one. */
static int read_key(dg_store *st, sqlite3_stmt *s, int col, dg_arena *a, dg_sort_key *key)
{
    int type = sqlite3_column_type(s, col);
    const void *p;
    uint8_t *copy;

    if (type == SQLITE_INTEGER) {
        *key = (dg_sort_key){.type = DG_KEY_INT, .i = sqlite3_column_int64(s, col)};
        return DG_OK;
    }
    if (type != SQLITE_TEXT && type != SQLITE_BLOB) {
        snprintf(st->err, sizeof st->err, "sort column %s holds a %s", sqlite3_column_name(s, col),
                 type == SQLITE_NULL ? "NULL" : "REAL");
        return DG_ECORRUPT;
    }
    p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, col)
                            : sqlite3_column_blob(s, col);
    *key = (dg_sort_key){.type = type == SQLITE_TEXT ? DG_KEY_TEXT : DG_KEY_BLOB,
                         .len = (size_t)sqlite3_column_bytes(s, col)};
    if (!(copy = dg_arena_alloc(a, key->len ? key->len : 1)))
        return DG_ENOMEM;
    if (key->len)
        memcpy(copy, p, key->len);
    key->data = copy;
    return DG_OK;
}

/* Steps the list statement `s` into out (the sort key is its last column). */
static int list_rows(dg_store *st, sqlite3_stmt *s, const dg_list_query *q, dg_arena *a,
                     dg_list_page *out)
{
    size_t cap = q->limit ? q->limit : 1;
    int key_col = sqlite3_column_count(s) - 1;
    int rc;

    if (!(out->records = dg_arena_calloc(a, cap, sizeof *out->records)))
        return DG_ENOMEM;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dg_record *r;

        if (out->n == q->limit) {
            out->has_more = true;
            return DG_OK;
        }
        if ((rc = read_row(s, q->kind, a, &r)) != DG_OK)
            return rc;
        out->records[out->n++] = r;
        /* the next cursor's key: only the full page's last row can need one */
        if (out->n == q->limit && (rc = read_key(st, s, key_col, a, &out->last_key)) != DG_OK)
            return rc;
    }
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_rec_list(dg_store *st, const dg_list_query *q, dg_arena *a, dg_list_page *out)
{
    const dg_entity *e = dg_entity_get(q->kind);
    const char *col = q->sort_column ? q->sort_column : "id";
    bool is_id = strcmp(col, "id") == 0;
    const char *cmp = q->is_desc ? "<" : ">", *dir = q->is_desc ? " DESC" : "";
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc, limit_param;

    memset(out, 0, sizeof *out);
    append(sql, "SELECT %s, c.%s FROM %s c WHERE 1", sql_for(q->kind)->columns_c, col, e->table);
    store_rec_filter(sql, &ps, q);
    if (q->has_after && is_id) {
        append(sql, " AND c.id %s ?%d", cmp, store_param_int(&ps, q->after_id));
    } else if (q->has_after) {
        /* The key is bound with the storage class it was read with: a text
         * key bound as a blob sorts after every text, and paging breaks. */
        int pk = store_param_key(&ps, &q->after_key);

        append(sql, " AND (c.%s, c.id) %s (?%d, ?%d)", col, cmp, pk,
               store_param_int(&ps, q->after_id));
    }
    if (is_id)
        append(sql, " ORDER BY c.id%s", dir);
    else
        append(sql, " ORDER BY c.%s%s, c.id%s", col, dir, dir);
    limit_param = store_param_int(&ps, (int64_t)q->limit + 1); /* one more: is there a next page */
    append(sql, " LIMIT ?%d", limit_param);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    store_params_bind(s, &ps);
    rc = list_rows(st, s, q, a, out);
    store_stmt_release(st, s);
    for (size_t i = 0; i < out->n && rc == DG_OK; i++)
        rc = complete(st, out->records[i], a);
    return rc;
}

/* ------------------------------------------------------------ dossier */

/* Children of one customer: `where` and `order` follow "WHERE customer_id = ?1". */
static int children(dg_store *st, enum dg_kind k, int64_t customer_id, const char *more,
                    uint32_t limit, dg_arena *a, dg_record ***out, size_t *n)
{
    char sql[SQL_MAX + 512];
    sqlite3_stmt *s;
    int rc;

    snprintf(sql, sizeof sql,
             "SELECT %s FROM %s WHERE customer_id = ?1 AND archived_at IS NULL"
             " %s LIMIT ?2",
             sql_for(k)->columns, dg_entity_get(k)->table, more);
    if (!(s = store_stmt_text(st, sql)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, customer_id);
    sqlite3_bind_int64(s, 2, limit);
    *n = 0;
    if (!(*out = dg_arena_calloc(a, limit ? limit : 1, sizeof **out))) {
        store_stmt_release(st, s);
        return DG_ENOMEM;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = read_row(s, k, a, &(*out)[*n])) != DG_OK) {
            store_stmt_release(st, s);
            return rc;
        }
        (*n)++;
    }
    store_stmt_release(st, s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

static const char SQL_COUNT_INTERACTIONS[] =
    "SELECT count(*) FROM interactions WHERE customer_id = ?1 AND archived_at IS NULL";
static const char SQL_DEAL_TOTALS[] =
    "SELECT amount_currency, sum(amount), count(*) FROM deals"
    " WHERE customer_id = ?1 AND archived_at IS NULL GROUP BY amount_currency"
    " ORDER BY amount_currency";
static const char SQL_FEEDBACK_SUMMARY[] =
    "SELECT count(*), coalesce(sum(status IN ('', 'open', 'in_progress')), 0),"
    " coalesce(avg(CASE WHEN satisfaction > 0 THEN satisfaction END), 0),"
    " coalesce(sum(kind = 'complaint'), 0), coalesce(sum(kind = 'suggestion'), 0),"
    " coalesce(sum(kind = 'praise'), 0), coalesce(sum(kind = 'survey'), 0)"
    " FROM feedback WHERE customer_id = ?1 AND archived_at IS NULL";

static int dossier_counts(dg_store *st, int64_t id, dg_arena *a, dg_dossier *d)
{
    sqlite3_stmt *s;
    size_t cap = 4;
    int rc;

    if (!(s = store_stmt(st, SQL_COUNT_INTERACTIONS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        d->interaction_count = (uint32_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (!(s = store_stmt(st, SQL_DEAL_TOTALS)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    d->totals = dg_arena_calloc(a, cap, sizeof *d->totals);
    while (d->totals && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (d->n_totals == cap) {
            dg_money_total *grown = dg_arena_calloc(a, cap * 2, sizeof *grown);

            if (!grown)
                break;
            memcpy(grown, d->totals, cap * sizeof *grown);
            d->totals = grown;
            cap *= 2;
        }
        d->totals[d->n_totals].currency = col_text(s, 0, a);
        d->totals[d->n_totals].amount = sqlite3_column_int64(s, 1);
        d->totals[d->n_totals++].count = (uint32_t)sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    if (!d->totals)
        return DG_ENOMEM;
    if (!(s = store_stmt(st, SQL_FEEDBACK_SUMMARY)))
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        d->fb_total = (uint32_t)sqlite3_column_int64(s, 0);
        d->fb_open = (uint32_t)sqlite3_column_int64(s, 1);
        d->fb_average = sqlite3_column_double(s, 2);
        d->fb_complaints = (uint32_t)sqlite3_column_int64(s, 3);
        d->fb_suggestions = (uint32_t)sqlite3_column_int64(s, 4);
        d->fb_praise = (uint32_t)sqlite3_column_int64(s, 5);
        d->fb_surveys = (uint32_t)sqlite3_column_int64(s, 6);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

int dg_store_dossier(dg_store *st, int64_t customer_id, uint32_t recent_interactions, dg_arena *a,
                     dg_dossier *d)
{
    int rc;

    memset(d, 0, sizeof *d);
    if ((rc = children(st, DG_KIND_CONTACT, customer_id, "ORDER BY id", 200, a, &d->contacts,
                       &d->n_contacts)) != DG_OK ||
        (rc = children(st, DG_KIND_INTERACTION, customer_id, "ORDER BY at_ms DESC, id DESC",
                       recent_interactions, a, &d->interactions, &d->n_interactions)) != DG_OK ||
        (rc = children(st, DG_KIND_DEAL, customer_id, "ORDER BY at_ms DESC, id DESC", 100, a,
                       &d->deals, &d->n_deals)) != DG_OK ||
        (rc = children(st, DG_KIND_TASK, customer_id,
                       "AND done = 0 ORDER BY due_at_ms = 0, due_at_ms, id", 100, a, &d->open_tasks,
                       &d->n_open_tasks)) != DG_OK ||
        (rc = children(st, DG_KIND_FEEDBACK, customer_id, "ORDER BY at_ms DESC, id DESC", 10, a,
                       &d->feedback, &d->n_feedback)) != DG_OK)
        return rc;
    return dossier_counts(st, customer_id, a, d);
}

/* ------------------------------------------------------------ custom fields */

static const char SQL_FIELD_INSERT[] =
    "INSERT INTO custom_fields(name, label, type, choices, created_at, created_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_FIELD_GET[] =
    "SELECT id, name, label, type, choices, created_at FROM custom_fields WHERE name = ?1";
static const char SQL_FIELD_LIST[] =
    "SELECT id, name, label, type, choices, created_at FROM custom_fields ORDER BY name";

int dg_store_field_define(dg_store *st, dg_custom_field *f, int64_t by_user)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_INSERT);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, f->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, f->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, f->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, f->choices, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, f->created_at);
    store_bind_id(s, 6, by_user);
    if ((rc = store_exec_stmt(st, s)) == DG_OK)
        f->id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

static int read_field(sqlite3_stmt *s, dg_arena *a, dg_custom_field *f)
{
    f->id = sqlite3_column_int64(s, 0);
    f->name = col_text(s, 1, a);
    f->label = col_text(s, 2, a);
    f->type = col_text(s, 3, a);
    f->choices = col_text(s, 4, a);
    f->created_at = sqlite3_column_int64(s, 5);
    return f->name && f->label && f->type && f->choices ? DG_OK : DG_ENOMEM;
}

int dg_store_field_get(dg_store *st, const char *name, dg_arena *a, dg_custom_field *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_GET);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        rc = read_field(s, a, out);
    else
        rc = rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    sqlite3_reset(s);
    return rc;
}

int dg_store_field_list(dg_store *st, dg_arena *a, dg_custom_field **out, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_FIELD_LIST);
    size_t cap = 16;
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    if (!(*out = dg_arena_calloc(a, cap, sizeof **out)))
        return DG_ENOMEM;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            dg_custom_field *grown = dg_arena_calloc(a, cap * 2, sizeof *grown);

            if (!grown) {
                sqlite3_reset(s);
                return DG_ENOMEM;
            }
            memcpy(grown, *out, cap * sizeof *grown);
            *out = grown;
            cap *= 2;
        }
        if ((rc = read_field(s, a, &(*out)[(*n)++])) != DG_OK) {
            sqlite3_reset(s);
            return rc;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}
