/* users.c - the in-memory account directory: two maps over one set of entries. */
#include "users.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"
#include "map.h"

struct dg_users {
    dg_map *by_id;
    dg_map *by_name;
};

dg_users *dg_users_new(void)
{
    dg_users *u = dg_xcalloc(1, sizeof *u);

    u->by_id = dg_map_new();
    u->by_name = dg_map_new();
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
    free(u);
}

void dg_users_put(dg_users *u, const dg_user *user)
{
    dg_user_info *info = dg_map_get(u->by_id, &user->id, sizeof user->id);

    DG_ASSERT_LOOP_THREAD();
    if (info) /* the name may have changed: drop the old key */
        dg_map_remove(u->by_name, info->username, strlen(info->username));
    else
        info = dg_xcalloc(1, sizeof *info);
    info->id = user->id;
    snprintf(info->username, sizeof info->username, "%s", user->username);
    snprintf(info->display_name, sizeof info->display_name, "%s", user->display_name);
    info->role = user->role;
    info->is_disabled = user->is_disabled;
    dg_map_put(u->by_id, &info->id, sizeof info->id, info, NULL);
    dg_map_put(u->by_name, info->username, strlen(info->username), info, NULL);
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

const dg_user_info *dg_users_by_id(const dg_users *u, int64_t id)
{
    DG_ASSERT_LOOP_THREAD();
    return dg_map_get(u->by_id, &id, sizeof id);
}

const dg_user_info *dg_users_by_name(const dg_users *u, const char *name)
{
    char lower[DG_USERNAME_MAX + 1];
    size_t n = strlen(name);

    DG_ASSERT_LOOP_THREAD();
    if (n > DG_USERNAME_MAX)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    return dg_map_get(u->by_name, lower, n);
}
