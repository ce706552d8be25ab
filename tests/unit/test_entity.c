/* test_entity.c - the field tables of server/store/entity.c, proto/dangan.proto and
 * the database schema agree, in both directions.
 *
 * entity.c names every field of every kind of record; the handlers convert to
 * and from protobuf by those names (record_pb.c asserts that the message
 * has the field) and the store reads and writes the column of the same name
 * (MONEY: NAME and NAME_currency; USER: NAME_id). So, for every kind:
 * - each field is in the kind's message with the C type its dg_ftype is read
 *   as (record_pb.c casts the member: INT is int32, TIME and REF int64, an
 *   ENUM the very enum the field names), and not repeated;
 * - each message field is an entity field or one of the few the handlers
 *   fill themselves (id, version, archived, times, users, a customer's tags,
 *   custom values and last contact);
 * - each field has its column(s) in a freshly created database, and each
 *   column of the table is a field's or one the store keeps itself.
 * A field added to one of the three and not the others fails here, not in
 * an assert of the running server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dangan.pb-c.h"
#include "entity.h"
#include "fixture.h"
#include "store.h"

/* Message fields every kind has, filled by the handlers, not from entity.c. */
static const char *const common_pb[] = {
    "id", "version", "archived", "created_at_ms", "updated_at_ms", "created_by", "updated_by",
};
/* A customer's own: tags, custom values, last contact (server-maintained). */
static const char *const customer_pb[] = {"tags", "custom", "last_contact_at_ms"};
/* Columns the store keeps beside the fields. */
static const char *const common_cols[] = {
    "id", "version", "archived_at", "created_at", "updated_at", "created_by", "updated_by",
};
static const char *const customer_cols[] = {
    "last_contact_at", "name_key", "dup_name", "dup_phone", "dup_email", "dup_stem",
    /* the day's list (store_today.c) */
    "last_call_at", "last_visit_at", "follow_up_on", "follow_up_id", "contract_until", "contract_n",
    /* the public pool's bookkeeping */
    "claimed_from_pool_at", "owner_active_at"};
/* A task's copy of its customer's owner, tier and liveness (the day's list). */
static const char *const task_cols[] = {"customer_owner_id", "customer_tier", "customer_live"};

static bool in_list(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* The message of `kind` inside dangan.v1.Record (the oneof member numbered as the kind). */
static const ProtobufCMessageDescriptor *kind_message(enum dg_kind kind)
{
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, (unsigned)kind);

    assert_non_null(fd);
    assert_int_equal(fd->type, PROTOBUF_C_TYPE_MESSAGE);
    return fd->descriptor;
}

/* The protobuf type a field of this dg_ftype must have. */
static ProtobufCType pb_type_of(enum dg_ftype t)
{
    switch (t) {
    case DG_F_TEXT:
    case DG_F_DATE:
        return PROTOBUF_C_TYPE_STRING;
    case DG_F_INT:
        return PROTOBUF_C_TYPE_INT32;
    case DG_F_BOOL:
        return PROTOBUF_C_TYPE_BOOL;
    case DG_F_ENUM:
        return PROTOBUF_C_TYPE_ENUM;
    case DG_F_TIME:
    case DG_F_REF:
        return PROTOBUF_C_TYPE_INT64;
    case DG_F_MONEY:
    case DG_F_USER:
        return PROTOBUF_C_TYPE_MESSAGE;
    }
    fail_msg("unknown field type %d", (int)t);
    return PROTOBUF_C_TYPE_BYTES;
}

static void test_every_field_is_in_its_message_with_its_type(void **state)
{
    (void)state;
    for (int k = DG_KIND_CUSTOMER; k < DG_KIND_COUNT; k++) {
        const dg_entity *e = dg_entity_get((enum dg_kind)k);
        const ProtobufCMessageDescriptor *md = kind_message((enum dg_kind)k);

        assert_non_null(e);
        for (size_t i = 0; i < e->n_fields; i++) {
            const dg_field *f = &e->fields[i];
            const ProtobufCFieldDescriptor *fd =
                protobuf_c_message_descriptor_get_field_by_name(md, f->name);

            if (!fd)
                fail_msg("%s.%s is not in message %s", e->name, f->name, md->name);
            if (fd->type != pb_type_of(f->type))
                fail_msg("%s.%s: the .proto type %d is not what type %d is read as", e->name,
                         f->name, (int)fd->type, (int)f->type);
            if (fd->label == PROTOBUF_C_LABEL_REPEATED)
                fail_msg("%s.%s is repeated in the .proto", e->name, f->name);
            if (f->type == DG_F_ENUM && fd->descriptor != f->enum_desc)
                fail_msg("%s.%s names another enum than the .proto's", e->name, f->name);
            if (f->type == DG_F_MONEY && fd->descriptor != &dangan__v1__money__descriptor)
                fail_msg("%s.%s is not a Money in the .proto", e->name, f->name);
            if (f->type == DG_F_USER && fd->descriptor != &dangan__v1__user_ref__descriptor)
                fail_msg("%s.%s is not a UserRef in the .proto", e->name, f->name);
        }
    }
}

static void test_every_message_field_is_an_entity_field_or_filled_by_the_server(void **state)
{
    (void)state;
    for (int k = DG_KIND_CUSTOMER; k < DG_KIND_COUNT; k++) {
        const dg_entity *e = dg_entity_get((enum dg_kind)k);
        const ProtobufCMessageDescriptor *md = kind_message((enum dg_kind)k);

        for (unsigned i = 0; i < md->n_fields; i++) {
            const char *name = md->fields[i].name;

            if (dg_entity_field_index(e, name) >= 0 ||
                in_list(common_pb, DG_ARRAY_LEN(common_pb), name) ||
                (k == DG_KIND_CUSTOMER && in_list(customer_pb, DG_ARRAY_LEN(customer_pb), name)))
                continue;
            fail_msg("%s.%s is in the .proto but no field of entity.c", md->name, name);
        }
    }
}

/* Column names of `table` in the database at `path`. */
static size_t table_columns(const char *path, const char *table, char cols[][64], size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char sql[128];
    size_t n = 0;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s')", table);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW && n < cap)
        snprintf(cols[n++], sizeof cols[0], "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

/* The columns field `f` is stored in: 1 or 2 names. */
static size_t field_columns(const dg_field *f, char out[2][64])
{
    switch (f->type) {
    case DG_F_MONEY:
        snprintf(out[0], sizeof out[0], "%s", f->name);
        snprintf(out[1], sizeof out[1], "%s_currency", f->name);
        return 2;
    case DG_F_USER:
        snprintf(out[0], sizeof out[0], "%s_id", f->name);
        return 1;
    default:
        snprintf(out[0], sizeof out[0], "%s", f->name);
        return 1;
    }
}

static bool is_field_column(const dg_entity *e, const char *col)
{
    for (size_t i = 0; i < e->n_fields; i++) {
        char names[2][64];
        size_t n = field_columns(&e->fields[i], names);

        for (size_t j = 0; j < n; j++)
            if (strcmp(names[j], col) == 0)
                return true;
    }
    return false;
}

static void test_every_field_has_its_columns_and_every_column_a_field(void **state)
{
    char dir[256], path[320], err[256];
    char cols[128][64];
    dg_store *st;

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/entity.db", dir);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    dg_store_close(st);
    for (int k = DG_KIND_CUSTOMER; k < DG_KIND_COUNT; k++) {
        const dg_entity *e = dg_entity_get((enum dg_kind)k);
        size_t n = table_columns(path, e->table, cols, DG_ARRAY_LEN(cols));

        assert_true(n > 0);
        for (size_t i = 0; i < e->n_fields; i++) {
            char names[2][64];
            size_t m = field_columns(&e->fields[i], names);

            for (size_t j = 0; j < m; j++) {
                bool found = false;

                for (size_t c = 0; c < n && !found; c++)
                    found = strcmp(cols[c], names[j]) == 0;
                if (!found)
                    fail_msg("%s.%s has no column %s in table %s", e->name, e->fields[i].name,
                             names[j], e->table);
            }
        }
        for (size_t c = 0; c < n; c++) {
            if (is_field_column(e, cols[c]) ||
                in_list(common_cols, DG_ARRAY_LEN(common_cols), cols[c]) ||
                (k == DG_KIND_CUSTOMER &&
                 in_list(customer_cols, DG_ARRAY_LEN(customer_cols), cols[c])) ||
                (k == DG_KIND_TASK && in_list(task_cols, DG_ARRAY_LEN(task_cols), cols[c])))
                continue;
            fail_msg("column %s.%s belongs to no field of entity.c", e->table, cols[c]);
        }
    }
    dgt_rmtree(dir);
}

/* Enum fields are stored as short lower-case names: every value of the
 * enum has one, and it reads back as the same value. */
static void test_every_enum_value_has_a_stored_name_that_reads_back(void **state)
{
    (void)state;
    for (int k = DG_KIND_CUSTOMER; k < DG_KIND_COUNT; k++) {
        const dg_entity *e = dg_entity_get((enum dg_kind)k);

        for (size_t i = 0; i < e->n_fields; i++) {
            const dg_field *f = &e->fields[i];

            if (f->type != DG_F_ENUM)
                continue;
            for (unsigned v = 0; v < f->enum_desc->n_values; v++) {
                int value = f->enum_desc->values[v].value;
                char buf[64];
                const char *name = dg_enum_name(f->enum_desc, value, buf, sizeof buf);

                if (!name)
                    fail_msg("%s.%s: value %d has no stored name", e->name, f->name, value);
                if (value != 0 && dg_enum_value(f->enum_desc, name) != value)
                    fail_msg("%s.%s: \"%s\" does not read back as %d", e->name, f->name, name,
                             value);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_is_in_its_message_with_its_type),
        cmocka_unit_test(test_every_message_field_is_an_entity_field_or_filled_by_the_server),
        cmocka_unit_test(test_every_field_has_its_columns_and_every_column_a_field),
        cmocka_unit_test(test_every_enum_value_has_a_stored_name_that_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
