/* config_dir.c - the config directory shared by dangan and dangan-gtk; the
 * files and their format are in config.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_dir.h"
#include "dg.h"

#define LINE_MAX_LEN 2048

static int mkdir_p(const char *path)
{
    char tmp[1024];

    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return DG_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return DG_EIO;
    return DG_OK;
}

int dg_config_dir(const char *flag_dir, char *out, size_t out_len)
{
    const char *env = getenv("DANGAN_CONFIG_DIR"), *xdg = getenv("XDG_CONFIG_HOME"),
               *home = getenv("HOME");

    if (flag_dir)
        snprintf(out, out_len, "%s", flag_dir);
    else if (env && *env)
        snprintf(out, out_len, "%s", env);
    else if (xdg && *xdg)
        snprintf(out, out_len, "%s/dangan", xdg);
    else if (home && *home)
        snprintf(out, out_len, "%s/.config/dangan", home);
    else
        return DG_EINVAL;
    return mkdir_p(out);
}

static void file_path(const char *dir, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* Finds the line whose first word is `key`; copies the rest of it. */
static int lookup(const char *dir, const char *file, const char *key, char *rest, size_t rest_len)
{
    char path[1200], line[LINE_MAX_LEN];
    size_t klen = strlen(key);
    FILE *f;
    int rc = DG_ENOTFOUND;

    file_path(dir, file, path, sizeof path);
    if (!(f = fopen(path, "r")))
        return DG_ENOTFOUND;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            snprintf(rest, rest_len, "%s", line + klen + 1);
            rc = DG_OK;
        }
    }
    fclose(f);
    return rc;
}

/* Rewrites `file` with the line for `key` replaced by "key rest" (or removed
 * when rest is NULL), atomically and with mode 0600. */
static int store(const char *dir, const char *file, const char *key, const char *rest)
{
    char path[1200], tmp[1300], line[LINE_MAX_LEN];
    size_t klen = strlen(key);
    FILE *in, *out;
    int fd, rc = DG_OK;

    file_path(dir, file, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(out = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        return DG_EIO;
    }
    if ((in = fopen(path, "r"))) {
        while (fgets(line, sizeof line, in)) {
            if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
                continue;
            fputs(line, out);
        }
        fclose(in);
    }
    if (rest)
        fprintf(out, "%s %s\n", key, rest);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        rc = DG_EIO;
    if (fclose(out) != 0)
        rc = DG_EIO;
    if (rc == DG_OK && rename(tmp, path) != 0)
        rc = DG_EIO;
    if (rc != DG_OK)
        unlink(tmp);
    return rc;
}

int dg_config_known_get(const char *dir, const char *server, char *kind, size_t kind_len,
                        char *value, size_t value_len)
{
    char rest[LINE_MAX_LEN];
    char *space;

    if (lookup(dir, "known_servers", server, rest, sizeof rest) != DG_OK)
        return DG_ENOTFOUND;
    if (!(space = strchr(rest, ' ')))
        return DG_ENOTFOUND;
    *space = '\0';
    snprintf(kind, kind_len, "%s", rest);
    snprintf(value, value_len, "%s", space + 1);
    return DG_OK;
}

int dg_config_known_put(const char *dir, const char *server, const char *kind, const char *value)
{
    char rest[LINE_MAX_LEN];

    snprintf(rest, sizeof rest, "%s %s", kind, value);
    return store(dir, "known_servers", server, rest);
}

void dg_config_current_get(const char *dir, char *server, size_t server_len, char *user,
                           size_t user_len)
{
    if (lookup(dir, "config", "server", server, server_len) != DG_OK)
        server[0] = '\0';
    if (lookup(dir, "config", "user", user, user_len) != DG_OK)
        user[0] = '\0';
}

int dg_config_current_put(const char *dir, const char *server, const char *user)
{
    int rc = DG_OK;

    if (server)
        rc = store(dir, "config", "server", server);
    if (rc == DG_OK && user)
        rc = store(dir, "config", "user", user);
    return rc;
}

int dg_config_token_get(const char *dir, const char *server, char token[DG_CLIENT_TOKEN_LEN + 1])
{
    char rest[LINE_MAX_LEN];

    if (lookup(dir, "tokens", server, rest, sizeof rest) != DG_OK ||
        strlen(rest) != DG_CLIENT_TOKEN_LEN)
        return DG_ENOTFOUND;
    memcpy(token, rest, DG_CLIENT_TOKEN_LEN + 1);
    return DG_OK;
}

int dg_config_token_put(const char *dir, const char *server, const char *token)
{
    return store(dir, "tokens", server, token);
}

int dg_config_token_delete(const char *dir, const char *server)
{
    return store(dir, "tokens", server, NULL);
}
