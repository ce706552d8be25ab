/* users.c - the in-memory account directory: two maps over one set of entries.
 *
 * Every loop thread reads it; a change replaces an entry with a new one
 * (under the write lock) and keeps the old one until the directory is freed,
 * so a pointer a reader got stays valid and never changes under it.
 */
#include "users.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

struct replaced {
    struct replaced *next;
    dg_user_info *info;
};

struct dg_users {
    uv_rwlock_t lock;
    dg_map *by_id;
    dg_map *by_name;
    struct replaced *replaced; /* entries a change replaced, freed with the directory */
};

dg_users *dg_users_new(void)
{
    dg_users *u = dg_xcalloc(1, sizeof *u);

    u->by_id = dg_map_new();
    u->by_name = dg_map_new();
    uv_rwlock_init(&u->lock);
    return u;
}

static bool free_info(const void *k, size_t kl, void *v, void *ud)
{
    DG_UNUSED(k);
    DG_UNUSED(kl);
    DG_UNUSED(ud);
    free(v);
    return true;
}

void dg_users_free(dg_users *u)
{
    if (!u)
        return;
    dg_map_sweep(u->by_id, free_info, NULL);
    dg_map_free(u->by_id);
    dg_map_free(u->by_name);
    while (u->replaced) {
        struct replaced *r = u->replaced;

        u->replaced = r->next;
        free(r->info);
        free(r);
    }
    uv_rwlock_destroy(&u->lock);
    free(u);
}

void dg_users_put(dg_users *u, const dg_user *user)
{
    dg_user_info *info = dg_xcalloc(1, sizeof *info), *old;

    DG_ASSERT_LOOP_THREAD();
    info->id = user->id;
    snprintf(info->username, sizeof info->username, "%s", user->username);
    snprintf(info->display_name, sizeof info->display_name, "%s", user->display_name);
    info->role = user->role;
    info->is_disabled = user->is_disabled;
    uv_rwlock_wrlock(&u->lock);
    if ((old = dg_map_get(u->by_id, &user->id, sizeof user->id))) {
        struct replaced *r = dg_xcalloc(1, sizeof *r);

        /* the name may have changed: drop the old key */
        dg_map_remove(u->by_name, old->username, strlen(old->username));
        r->info = old;
        r->next = u->replaced;
        u->replaced = r;
    }
    dg_map_put(u->by_id, &info->id, sizeof info->id, info, NULL);
    dg_map_put(u->by_name, info->username, strlen(info->username), info, NULL);
    uv_rwlock_wrunlock(&u->lock);
}

static int put_cb(const dg_user *user, void *ud)
{
    dg_users_put(ud, user);
    return DG_OK;
}

int dg_users_load(dg_users *u, dg_store *st)
{
    return dg_store_user_each(st, put_cb, u);
}

const dg_user_info *dg_users_by_id(dg_users *u, int64_t id)
{
    const dg_user_info *info;

    DG_ASSERT_LOOP_THREAD();
    uv_rwlock_rdlock(&u->lock);
    info = dg_map_get(u->by_id, &id, sizeof id);
    uv_rwlock_rdunlock(&u->lock);
    return info;
}

const dg_user_info *dg_users_by_name(dg_users *u, const char *name)
{
    char lower[DG_USERNAME_MAX + 1];
    size_t n = strlen(name);
    const dg_user_info *info;

    DG_ASSERT_LOOP_THREAD();
    if (n > DG_USERNAME_MAX)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    uv_rwlock_rdlock(&u->lock);
    info = dg_map_get(u->by_name, lower, n);
    uv_rwlock_rdunlock(&u->lock);
    return info;
}
