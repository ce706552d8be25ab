/* v5_database.c - the v5 database of the schema v6 tests: see v5_database.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "v5_database.h"

dgt_server srv;

void ok(dg_reply *r, const char *what)
{
    if (dgt_code(r) != 0)
        fail_msg("%s: %s", what, dg_reply_response(r)->status->message);
    dg_reply_free(r);
}

/* ------------------------------------------------------------ v5 text, parsed here */

struct v5_change changes[MAX_ROWS];
size_t n_changes;
struct v5_fver fvers[MAX_ROWS];
size_t n_fvers;

static bool all_of(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]))
            return false;
    return true;
}

static struct vis parse_vis(const char *t)
{
    struct vis v = {0};
    const char *semi = t ? strstr(t, ";tier=") : NULL;
    size_t n_owner = semi ? (size_t)(semi - t) - 6 : 0;

    if (!semi || strncmp(t, "owner=", 6) != 0 || n_owner == 0 ||
        !all_of(t + 6, n_owner, "0123456789") || strlen(semi + 6) >= sizeof v.tier ||
        !all_of(semi + 6, strlen(semi + 6), "abcdefghijklmnopqrstuvwxyz"))
        return v;
    v.is_set = true;
    v.owner = strtoll(t + 6, NULL, 10);
    strcpy(v.tier, semi + 6);
    return v;
}

/* "a,b" → items; text with anything but names (a-z 0-9 _ .) gives none. */
static size_t parse_fields(const char *t, char (*out)[64])
{
    size_t n = 0;

    if (!all_of(t, strlen(t), "abcdefghijklmnopqrstuvwxyz0123456789_.,"))
        return 0;
    for (const char *p = t; *p;) {
        size_t len = strcspn(p, ",");

        if (len) {
            assert_true(n < MAX_ITEMS && len < 64);
            memcpy(out[n], p, len);
            out[n++][len] = '\0';
        }
        p += len + (p[len] == ',');
    }
    return n;
}

/* "name:3,phone:9" → items; text that is not all well-formed gives none,
 * and an item named twice keeps its newest version. */
static void parse_fver(const char *t, struct v5_fver *f)
{
    f->n = 0;
    for (const char *p = t; *p;) {
        size_t len = strcspn(p, ","), name_len = strcspn(p, ":");
        char field[64];
        int64_t version;
        size_t i;

        if (name_len == 0 || name_len >= len || name_len >= sizeof field ||
            !all_of(p, name_len, "abcdefghijklmnopqrstuvwxyz0123456789_.") ||
            name_len + 1 == len || !all_of(p + name_len + 1, len - name_len - 1, "0123456789")) {
            f->n = 0;
            return;
        }
        memcpy(field, p, name_len);
        field[name_len] = '\0';
        version = strtoll(p + name_len + 1, NULL, 10);
        for (i = 0; i < f->n && strcmp(f->field[i], field) != 0; i++)
            ;
        if (i == f->n) {
            assert_true(f->n < MAX_ITEMS);
            strcpy(f->field[f->n++], field);
            f->version[i] = version;
        } else if (version > f->version[i]) {
            f->version[i] = version;
        }
        p += len + (p[len] == ',');
    }
}

sqlite3 *db_open(void)
{
    char path[512];
    sqlite3 *db;

    dgt_db_path(&srv, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

int64_t count_rows(const char *sql)
{
    sqlite3 *db = db_open();
    sqlite3_stmt *s;
    int64_t n = -1;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

const char *col(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);

    return t ? t : "";
}

/* Reads what the v5 database says, before it is migrated. */
static void read_v5(void)
{
    static const char *const tables[] = {"", "customers", "contacts", "interactions",
                                         "deals", "feedback", "tasks"};
    sqlite3 *db = db_open();
    sqlite3_stmt *s;
    char sql[128];

    n_changes = n_fvers = 0;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, entity, entity_id, fields, vis_before,"
                                        " vis_after FROM changes ORDER BY seq",
                                        -1, &s, NULL),
                     SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct v5_change *c = &changes[n_changes++];

        assert_true(n_changes < MAX_ROWS);
        c->seq = sqlite3_column_int64(s, 0);
        snprintf(c->entity, sizeof c->entity, "%s", col(s, 1));
        c->entity_id = sqlite3_column_int64(s, 2);
        c->n_fields = parse_fields(col(s, 3), c->fields);
        c->before = parse_vis((const char *)sqlite3_column_text(s, 4));
        c->after = parse_vis((const char *)sqlite3_column_text(s, 5));
    }
    sqlite3_finalize(s);
    for (int k = 1; k <= 6; k++) {
        snprintf(sql, sizeof sql, "SELECT id, fver FROM %s ORDER BY id", tables[k]);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
            struct v5_fver *f = &fvers[n_fvers++];

            assert_true(n_fvers < MAX_ROWS);
            f->kind = k;
            f->id = sqlite3_column_int64(s, 0);
            parse_fver(col(s, 1), f);
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

/* ------------------------------------------------------------ the database */

int v5_setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_load_database(&srv, SOURCE_DIR "/tests/integration/data/schema_v5.sql");
    assert_int_equal(count_rows("PRAGMA user_version"), 5);
    /* Text v5 never wrote, as damage would leave it: kept as the feed read
     * it (no view, no fields), or left out (a record's whole fver). */
    dgt_sql(&srv,
            "INSERT INTO changes(at, actor_id, entity, entity_id, customer_id, op, version,"
            " fields, vis_before, vis_after) VALUES"
            " (1, 1, 'customer', 4, 4, 'updated', 9, 'name,,phone', 'owner=0;tier=',"
            "  'owner=x;tier=a'),"
            " (2, 1, 'customer', 4, 4, 'updated', 9, 'name,Phone', 'owner=4;tier=b',"
            "  'owner=3;tier=zz'),"
            " (3, 1, 'customer', 4, 4, 'updated', 9, '', 'tier=b;owner=3', NULL)");
    dgt_sql(&srv, "UPDATE customers SET fver = 'name:3,phone:x' WHERE id = 4;"
                  "UPDATE customers SET fver = 'name:3,notes:4,name:5' WHERE id = 2;");
    read_v5();
    dgt_server_restart(&srv, NULL);
    assert_true(dgt_log_has(&srv, "schema migrated\" version=6"));
    return 0;
}

int v5_teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}
