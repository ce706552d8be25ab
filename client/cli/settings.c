/* settings.c - the CLI's config directory.
 *
 * Files (all mode 0600, written atomically: temp file, fsync, rename):
 *   config         "server <host:port>" and "user <name>": what to talk to by default
 *   known_servers  "<host:port> fingerprint <AB:CD:...>" or "<host:port> ca <path>"
 *   tokens         "<host:port> <token>": session tokens, one per server
 * Like ssh's known_hosts: a server is trusted once, after the user agreed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

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

int cli_settings_init(cli *c, const char *flag_dir)
{
    const char *env = getenv("DANGAN_CONFIG_DIR"), *xdg = getenv("XDG_CONFIG_HOME"),
               *home = getenv("HOME");

    if (flag_dir)
        snprintf(c->config_dir, sizeof c->config_dir, "%s", flag_dir);
    else if (env && *env)
        snprintf(c->config_dir, sizeof c->config_dir, "%s", env);
    else if (xdg && *xdg)
        snprintf(c->config_dir, sizeof c->config_dir, "%s/dangan", xdg);
    else if (home && *home)
        snprintf(c->config_dir, sizeof c->config_dir, "%s/.config/dangan", home);
    else
        return cli_usage(c, "no config directory: set HOME or DANGAN_CONFIG_DIR");
    if (mkdir_p(c->config_dir) != DG_OK)
        return cli_fail(c, EXIT_USAGE, "INVALID_ARGUMENT", "config_dir",
                        "cannot create config directory %s: %s", c->config_dir, strerror(errno));
    return EXIT_OK;
}

static void file_path(cli *c, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", c->config_dir, name);
}

/* Finds the line whose first word is `key`; copies the rest of it. */
static int lookup(cli *c, const char *file, const char *key, char *rest, size_t rest_len)
{
    char path[1200], line[LINE_MAX_LEN];
    size_t klen = strlen(key);
    FILE *f;
    int rc = DG_ENOTFOUND;

    file_path(c, file, path, sizeof path);
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
static int store(cli *c, const char *file, const char *key, const char *rest)
{
    char path[1200], tmp[1300], line[LINE_MAX_LEN];
    size_t klen = strlen(key);
    FILE *in, *out;
    int fd, rc = DG_OK;

    file_path(c, file, path, sizeof path);
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

int cli_known_get(cli *c, const char *server, char *kind, size_t kind_len, char *value,
                  size_t value_len)
{
    char rest[LINE_MAX_LEN];
    char *space;

    if (lookup(c, "known_servers", server, rest, sizeof rest) != DG_OK)
        return DG_ENOTFOUND;
    if (!(space = strchr(rest, ' ')))
        return DG_ENOTFOUND;
    *space = '\0';
    snprintf(kind, kind_len, "%s", rest);
    snprintf(value, value_len, "%s", space + 1);
    return DG_OK;
}

int cli_known_put(cli *c, const char *server, const char *kind, const char *value)
{
    char rest[LINE_MAX_LEN];

    snprintf(rest, sizeof rest, "%s %s", kind, value);
    return store(c, "known_servers", server, rest);
}

void cli_current_get(cli *c, char *server, size_t server_len, char *user, size_t user_len)
{
    if (lookup(c, "config", "server", server, server_len) != DG_OK)
        server[0] = '\0';
    if (lookup(c, "config", "user", user, user_len) != DG_OK)
        user[0] = '\0';
}

int cli_current_put(cli *c, const char *server, const char *user)
{
    int rc = DG_OK;

    if (server)
        rc = store(c, "config", "server", server);
    if (rc == DG_OK && user)
        rc = store(c, "config", "user", user);
    return rc;
}

int cli_token_get(cli *c, const char *server, char token[DG_CLIENT_TOKEN_LEN + 1])
{
    char rest[LINE_MAX_LEN];

    if (lookup(c, "tokens", server, rest, sizeof rest) != DG_OK ||
        strlen(rest) != DG_CLIENT_TOKEN_LEN)
        return DG_ENOTFOUND;
    memcpy(token, rest, DG_CLIENT_TOKEN_LEN + 1);
    return DG_OK;
}

int cli_token_put(cli *c, const char *server, const char *token)
{
    return store(c, "tokens", server, token);
}

int cli_token_delete(cli *c, const char *server)
{
    return store(c, "tokens", server, NULL);
}
