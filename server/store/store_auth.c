/* store_auth.c - users and sessions.
 *
 * Plain row access: no policy (who may do what) and no hashing (audit.c
 * computes the chain; this file only stores and returns its rows).
 * Runs on: the thread owning the connection.
 */
#include <string.h>

#include "dg.h"
#include "store_int.h"

static const char *const role_names[] = {"", "admin", "manager", "sales", "viewer", "auditor"};

const char *dg_role_name(enum dg_role role)
{
    return (unsigned)role < DG_ARRAY_LEN(role_names) ? role_names[role] : "";
}

int dg_role_parse(const char *name, enum dg_role *out)
{
    for (size_t i = 1; i < DG_ARRAY_LEN(role_names); i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum dg_role)i;
            return DG_OK;
        }
    }
    return DG_EINVAL;
}

#define USER_COLS                                                                                  \
    "id, username, display_name, role, password_hash, must_change_password, is_disabled,"          \
    " version, created_at, updated_at, password_changed_at"

static const char SQL_USER_BY_NAME[] = "SELECT " USER_COLS " FROM users WHERE username = ?1";
static const char SQL_USER_BY_ID[] = "SELECT " USER_COLS " FROM users WHERE id = ?1";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users(username, display_name, role, password_hash, must_change_password,"
    " is_disabled, created_at, updated_at, created_by, updated_by, password_changed_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?8, ?7)";
static const char SQL_USER_SET_PASSWORD[] =
    "UPDATE users SET password_hash = ?2, must_change_password = ?3, password_changed_at = ?4,"
    " updated_at = ?4, updated_by = ?5, version = version + 1 WHERE id = ?1";

static void read_user(sqlite3_stmt *s, dg_user *u)
{
    char role[16];

    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(s, 0);
    store_col_text(s, 1, u->username, sizeof u->username);
    store_col_text(s, 2, u->display_name, sizeof u->display_name);
    store_col_text(s, 3, role, sizeof role);
    if (dg_role_parse(role, &u->role) != DG_OK)
        u->role = DG_ROLE_NONE; /* the CHECK constraint makes this unreachable */
    store_col_text(s, 4, u->password_hash, sizeof u->password_hash);
    u->must_change_password = sqlite3_column_int(s, 5) != 0;
    u->is_disabled = sqlite3_column_int(s, 6) != 0;
    u->version = sqlite3_column_int64(s, 7);
    u->created_at = sqlite3_column_int64(s, 8);
    u->updated_at = sqlite3_column_int64(s, 9);
    u->password_changed_at = sqlite3_column_int64(s, 10);
}

static const char SQL_USER_SET_ACCESS[] =
    "UPDATE users SET role = ?2, is_disabled = ?3, updated_at = ?4, updated_by = ?5,"
    " version = version + 1 WHERE id = ?1";
static const char SQL_USER_ACTIVE_ADMINS[] =
    "SELECT count(*) FROM users WHERE role = 'admin' AND is_disabled = 0";

int dg_store_user_set_access(dg_store *st, int64_t id, enum dg_role role, bool is_disabled,
                             int64_t at, int64_t by_user_id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_SET_ACCESS);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, dg_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, is_disabled);
    sqlite3_bind_int64(s, 4, at);
    store_bind_id(s, 5, by_user_id);
    rc = store_exec_stmt(st, s);
    if (rc == DG_OK && sqlite3_changes(st->db) == 0)
        return DG_ENOTFOUND;
    return rc;
}

int dg_store_user_active_admins(dg_store *st, int64_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_ACTIVE_ADMINS);
    int rc;

    if (!s)
        return DG_EIO;
    rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static const char SQL_USER_ALL[] = "SELECT " USER_COLS " FROM users ORDER BY id";

int dg_store_user_each(dg_store *st, int (*fn)(const dg_user *u, void *ud), void *ud)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_ALL);
    dg_user u;
    int rc, urc = DG_OK;

    if (!s)
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && urc == DG_OK) {
        read_user(s, &u);
        urc = fn(&u, ud);
    }
    sqlite3_reset(s);
    if (urc != DG_OK)
        return urc;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static int user_query(dg_store *st, sqlite3_stmt *s, dg_user *out)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        read_user(s, out);
        sqlite3_reset(s);
        return DG_OK;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
}

int dg_store_user_by_name(dg_store *st, const char *username, dg_user *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_BY_NAME);

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
    return user_query(st, s, out);
}

int dg_store_user_by_id(dg_store *st, int64_t id, dg_user *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_BY_ID);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    return user_query(st, s, out);
}

int dg_store_user_insert(dg_store *st, dg_user *u, int64_t by_user_id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_INSERT);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, u->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, u->display_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, dg_role_name(u->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, u->must_change_password);
    sqlite3_bind_int(s, 6, u->is_disabled);
    sqlite3_bind_int64(s, 7, u->created_at);
    store_bind_id(s, 8, by_user_id);
    rc = store_exec_stmt(st, s);
    if (rc == DG_OK) {
        u->id = sqlite3_last_insert_rowid(st->db);
        u->version = 1;
        u->updated_at = u->password_changed_at = u->created_at;
    }
    return rc;
}

int dg_store_user_set_password(dg_store *st, int64_t id, const char *hash, bool must_change,
                               int64_t at, int64_t by_user_id)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USER_SET_PASSWORD);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, must_change);
    sqlite3_bind_int64(s, 4, at);
    store_bind_id(s, 5, by_user_id);
    rc = store_exec_stmt(st, s);
    if (rc == DG_OK && sqlite3_changes(st->db) == 0)
        return DG_ENOTFOUND;
    return rc;
}

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions(token_hash, user_id, created_at, last_seen_at, expires_at, peer)"
    " VALUES (?1, ?2, ?3, ?3, ?4, ?5)";
static const char SQL_SESSION_BY_HASH[] =
    "SELECT id, user_id, created_at, last_seen_at, expires_at, coalesce(revoked_at, 0), peer"
    " FROM sessions WHERE token_hash = ?1";
static const char SQL_SESSION_REVOKE[] = "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3"
                                         " WHERE id = ?1 AND revoked_at IS NULL";
static const char SQL_SESSION_REVOKE_USER[] =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3"
    " WHERE user_id = ?1 AND revoked_at IS NULL";
static const char SQL_SESSION_TOUCH[] =
    "UPDATE sessions SET last_seen_at = max(last_seen_at, ?2) WHERE id = ?1";

int dg_store_session_insert(dg_store *st, dg_session_row *r)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SESSION_INSERT);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_blob(s, 1, r->token_hash, DG_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, r->user_id);
    sqlite3_bind_int64(s, 3, r->created_at);
    sqlite3_bind_int64(s, 4, r->expires_at);
    sqlite3_bind_text(s, 5, r->peer, -1, SQLITE_STATIC);
    rc = store_exec_stmt(st, s);
    if (rc == DG_OK) {
        r->id = sqlite3_last_insert_rowid(st->db);
        r->last_seen_at = r->created_at;
        r->revoked_at = 0;
    }
    return rc;
}

int dg_store_session_by_hash(dg_store *st, const uint8_t hash[DG_TOKEN_HASH_LEN],
                             dg_session_row *out)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SESSION_BY_HASH);
    int rc;

    if (!s)
        return DG_EIO;
    sqlite3_bind_blob(s, 1, hash, DG_TOKEN_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
    }
    memset(out, 0, sizeof *out);
    memcpy(out->token_hash, hash, DG_TOKEN_HASH_LEN);
    out->id = sqlite3_column_int64(s, 0);
    out->user_id = sqlite3_column_int64(s, 1);
    out->created_at = sqlite3_column_int64(s, 2);
    out->last_seen_at = sqlite3_column_int64(s, 3);
    out->expires_at = sqlite3_column_int64(s, 4);
    out->revoked_at = sqlite3_column_int64(s, 5);
    store_col_text(s, 6, out->peer, sizeof out->peer);
    sqlite3_reset(s);
    return DG_OK;
}

int dg_store_session_revoke(dg_store *st, int64_t id, int64_t at, const char *reason)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SESSION_REVOKE);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
    return store_exec_stmt(st, s);
}

int dg_store_session_revoke_user(dg_store *st, int64_t user_id, int64_t at, const char *reason,
                                 int *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SESSION_REVOKE_USER);
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
    rc = store_exec_stmt(st, s);
    if (rc == DG_OK)
        *n = sqlite3_changes(st->db);
    return rc;
}

int dg_store_session_touch(dg_store *st, int64_t id, int64_t at)
{
    sqlite3_stmt *s = store_stmt(st, SQL_SESSION_TOUCH);

    if (!s)
        return DG_EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    return store_exec_stmt(st, s);
}
