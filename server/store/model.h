/* model.h - plain data types shared by the store and the layers above it.
 * No behaviour, no SQLite, no protobuf: C structs with fixed-size fields.
 */
#ifndef DG_MODEL_H
#define DG_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define DG_USERNAME_MAX 64
#define DG_DISPLAY_NAME_MAX 128
#define DG_PASSWORD_HASH_MAX 192 /* argon2id PHC string */
#define DG_TOKEN_HASH_LEN 32     /* SHA-256 of the session token */
#define DG_PEER_MAX 64

/* Same numbers as dangan.v1.Role. */
enum dg_role {
    DG_ROLE_NONE = 0,
    DG_ROLE_ADMIN = 1,
    DG_ROLE_MANAGER = 2,
    DG_ROLE_SALES = 3,
    DG_ROLE_VIEWER = 4,
    DG_ROLE_AUDITOR = 5,
};

/* "admin", "manager", ... ("" for DG_ROLE_NONE). */
const char *dg_role_name(enum dg_role role);
/* DG_OK or DG_EINVAL. */
int dg_role_parse(const char *name, enum dg_role *out);

typedef struct dg_user {
    int64_t id;
    char username[DG_USERNAME_MAX + 1];
    char display_name[DG_DISPLAY_NAME_MAX * 4 + 1]; /* UTF-8: up to 4 bytes a character */
    enum dg_role role;
    char password_hash[DG_PASSWORD_HASH_MAX];
    bool must_change_password;
    bool is_disabled;
    int64_t version;
    int64_t created_at; /* unix ms */
    int64_t updated_at;
    int64_t password_changed_at;
} dg_user;

typedef struct dg_session_row {
    int64_t id;
    uint8_t token_hash[DG_TOKEN_HASH_LEN];
    int64_t user_id;
    int64_t created_at;   /* unix ms */
    int64_t last_seen_at; /* persisted lazily (at most a minute behind) */
    int64_t expires_at;   /* absolute expiry */
    int64_t revoked_at;   /* 0 while live */
    char peer[DG_PEER_MAX];
} dg_session_row;

/* One audit record (docs/security.md). Strings are borrowed by whoever passes the
 * record; `detail` is a JSON object. */
typedef struct dg_audit_rec {
    int64_t seq;     /* assigned when appended */
    int64_t at;      /* unix ms */
    int64_t user_id; /* 0 when nobody is logged in */
    const char *username;
    const char *peer;
    const char *action;  /* "session.login", "user.password_change", ... */
    const char *entity;  /* "session", "user", "customer", ... */
    int64_t entity_id;   /* 0 when none */
    const char *outcome; /* "ok", "denied", "error" */
    const char *detail;  /* JSON object text, "{}" when nothing to add */
} dg_audit_rec;

#endif
