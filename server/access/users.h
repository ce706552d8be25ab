/* users.h - the directory of user accounts held for the loop threads: id ↔
 * name and role, for UserRef fields in replies and for filters and inputs
 * that name a user. Loaded at start; updated when an account changes.
 * Any loop thread (a read-write lock inside).
 */
#ifndef DG_USERS_H
#define DG_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "store.h"

typedef struct dg_users dg_users;

typedef struct dg_user_info {
    int64_t id;
    char username[DG_USERNAME_MAX + 1];
    char display_name[DG_DISPLAY_NAME_MAX * 4 + 1];
    enum dg_role role;
    bool is_disabled;
} dg_user_info;

dg_users *dg_users_new(void);
void dg_users_free(dg_users *u);
/* Reads every account from the store (before serving). */
int dg_users_load(dg_users *u, dg_store *st);
/* Adds or replaces an account. */
void dg_users_put(dg_users *u, const dg_user *user);
/* Entries never change once returned (a change makes a new one) and live
 * as long as the directory. */
const dg_user_info *dg_users_by_id(dg_users *u, int64_t id);
/* Case-insensitive user name. */
const dg_user_info *dg_users_by_name(dg_users *u, const char *name);

#endif
