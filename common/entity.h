/* entity.h - what a customer dossier is made of: the six kinds of record,
 * their fields, types, limits and flags, and dg_record, the C form of one
 * record that travels between handlers, the writer and the store.
 *
 * One table per kind drives everything generic: validation, protobuf
 * conversion (record_pb.c, by field name), SQL (store_records.c, column name
 * = field name), audit before/after, the change feed's field lists. A field
 * named here has the same name in proto/dangan.proto and the same column in
 * the schema; test_entity checks all three agree.
 *
 * The enum fields reference the generated protobuf enum descriptors for
 * their value names (stored in the database as lower-case names: "a",
 * "active"): the one place below the handlers where generated code is used,
 * and only for names. Immutable after start; any thread.
 *
 * Policy in common/, the one exception to its rule: the server checks every
 * write with dg_record_validate and the graphical client checks its forms
 * with the same function before sending, so both give the same answers in
 * the same words. It includes nothing from server/.
 */
#ifndef DG_ENTITY_H
#define DG_ENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "alloc.h"

enum dg_kind {
    DG_KIND_NONE = 0,
    DG_KIND_CUSTOMER = 1, /* same numbers as dangan.v1.EntityKind and the Record oneof */
    DG_KIND_CONTACT = 2,
    DG_KIND_INTERACTION = 3,
    DG_KIND_DEAL = 4,
    DG_KIND_FEEDBACK = 5,
    DG_KIND_TASK = 6,
    DG_KIND_COUNT = 7,
};

enum dg_ftype {
    DG_F_TEXT,  /* UTF-8, at most `max` characters */
    DG_F_INT,   /* integer in [min, max] */
    DG_F_BOOL,
    DG_F_ENUM,  /* a protobuf enum; stored as its short name, "" for unspecified */
    DG_F_DATE,  /* "YYYY-MM-DD" or "" */
    DG_F_TIME,  /* unix ms; 0 = none */
    DG_F_MONEY, /* minor units in `i`, currency in `s`; columns NAME and NAME_currency */
    DG_F_USER,  /* a user id in `i`; column NAME_id */
    DG_F_REF,   /* the id of a record of kind `ref` in `i`; 0 = none */
};

enum {
    DG_FF_REQUIRED = 1u << 0,  /* non-empty / non-zero on create */
    DG_FF_IMMUTABLE = 1u << 1, /* only set on create (a record's customer) */
    DG_FF_SENSITIVE = 1u << 2, /* personal data: masked for roles that may not see it */
    DG_FF_PHONE = 1u << 3,     /* phone number: validated, searchable by its digits */
    DG_FF_EMAIL = 1u << 4,     /* e-mail address: validated */
    DG_FF_SERVER = 1u << 5,    /* set by the server only (done_at_ms) */
};

typedef struct dg_field {
    const char *name;
    enum dg_ftype type;
    uint32_t flags;
    int64_t min, max; /* INT: value range; TEXT: max characters */
    const ProtobufCEnumDescriptor *enum_desc;
    enum dg_kind ref; /* DG_F_REF */
} dg_field;

typedef struct dg_entity {
    enum dg_kind kind;
    const char *name;  /* "customer" */
    const char *table; /* "customers" */
    const dg_field *fields;
    size_t n_fields;
} dg_entity;

/* The description of `kind`, or NULL for an unknown kind. */
const dg_entity *dg_entity_get(enum dg_kind kind);
/* "customer" → DG_KIND_CUSTOMER; DG_KIND_NONE when unknown. */
enum dg_kind dg_kind_parse(const char *name);
/* Index of the field called `name`, or -1. */
int dg_entity_field_index(const dg_entity *e, const char *name);
/* The stored name of an enum value ("a" for TIER_A, "" for 0) written into
 * `buf`; returns buf, or NULL if the value is not in the enum. */
const char *dg_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t len);
/* The enum value for a stored or typed name (case-insensitive); -1 if none. */
int dg_enum_value(const ProtobufCEnumDescriptor *d, const char *name);

/* ------------------------------------------------------------ records */

typedef struct dg_value {
    int64_t i;     /* INT, BOOL, ENUM, TIME, MONEY (minor units), USER, REF */
    const char *s; /* TEXT, DATE, MONEY (currency); never NULL in a full record */
} dg_value;

typedef struct dg_custom_value {
    const char *name;
    const char *value;
} dg_custom_value;

#define DG_MAX_FIELDS 64

/* One record. Strings point into an arena owned by whoever holds the record.
 * `given` marks the fields present in an input (create or update); a record
 * read from the store has every field. */
typedef struct dg_record {
    enum dg_kind kind;
    int64_t id;
    int64_t version;
    int64_t customer_id; /* the dossier it belongs to (a customer's own id for customers) */
    bool is_archived;
    int64_t created_at, updated_at; /* unix ms */
    int64_t created_by, updated_by; /* user ids */
    dg_value v[DG_MAX_FIELDS];      /* by field index */
    uint64_t given;                 /* bit i: field i was given */
    /* customers only */
    bool has_tags, has_custom; /* given, for inputs */
    const char **tags;
    size_t n_tags;
    dg_custom_value *custom;
    size_t n_custom;
    int64_t last_contact_at;
} dg_record;
/* A customer record's owner (user id; -1 for NULL) and tier (Tier value). */
int64_t dg_customer_owner(const dg_record *customer);
int64_t dg_customer_tier(const dg_record *customer);

/* A record of `kind` with every field empty, in arena `a` (NULL over budget). */
dg_record *dg_record_new(dg_arena *a, enum dg_kind kind);
/* Deep copy into `a`. */
dg_record *dg_record_copy(dg_arena *a, const dg_record *r);
/* True if field i holds the same value in both. */
bool dg_record_field_equal(const dg_record *x, const dg_record *y, int i);

/* ------------------------------------------------------------ validation */

/* Called once per problem: the field ("name", "custom.region") and what is wrong. */
typedef void (*dg_violation_fn)(void *ud, const char *field, const char *problem);

/* Checks the given fields of `r` by their type, limits and flags; on create
 * also that required fields are present. Custom fields and references are
 * checked by the writer (they need the database). Returns the number of
 * problems reported. Pure; any thread. */
int dg_record_validate(const dg_record *r, bool is_create, dg_violation_fn fn, void *ud);

/* Validates "YYYY-MM-DD" (a real calendar day, years 1000-9999). */
bool dg_date_valid(const char *s);

/* The value of the customer status "lost" (CUSTOMER_STATUS_LOST). */
int64_t dg_customer_status_lost(void);

#endif
