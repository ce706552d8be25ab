/* config.c - defaults, INI parsing (inih) and validation. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "frame.h"

void dg_config_defaults(dg_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:7443");
    c->log_level = DG_LOG_INFO;
    c->max_connections = 1000;
    c->max_frame_after_login = DG_FRAME_MAX_AFTER_LOGIN;
    c->max_in_flight = 64;
    c->write_high_water = 8u * 1024 * 1024;
    c->write_low_water = 2u * 1024 * 1024;
    c->request_memory_mib = 64;
    c->handshake_timeout_ms = 10000;
    c->prelogin_timeout_ms = 30000;
    c->idle_timeout_ms = 45000;
    c->write_stall_timeout_ms = 60000;
    c->ping_interval_ms = 15000;
    c->shutdown_grace_ms = 30000;
    c->max_unauth_per_address = 32;
    c->session_idle_s = 30 * 60;
    c->session_absolute_s = 10 * 3600;
    /* docs/security.md: OWASP's advice without account lockout */
    c->login_pair_failures = 5;
    c->login_pair_max_delay_s = 15 * 60;
    c->login_account_failures = 5;
    c->login_account_window_s = 15 * 60;
    c->login_account_max_delay_s = 60;
    c->login_peer_failures = 20;
    c->login_peer_block_s = 15 * 60;
    c->login_account_max_in_flight = 4;
    c->login_peer_max_in_flight = 8;
    c->login_known_address_days = 30;
    c->argon2_memory_kib = 19 * 1024; /* OWASP: argon2id m=19 MiB, t=2, p=1 */
    c->argon2_iterations = 2;
    c->argon2_lanes = 1;
    c->hash_threads = 0;
    c->loops = 0;
    c->readers = 2;
    c->writer_queue = 100000;
    c->reader_queue = 100000;
    c->search_apply_ops = 512;           /* writer.h: DG_WRITER_SEARCH_APPLY_OPS */
    c->search_idle_ms = 20;              /* writer.h: DG_WRITER_SEARCH_IDLE_MS */
    c->feed_retention_days = 30;         /* 30 days or 1,000,000 changes, */
    c->feed_retention_changes = 1000000; /* whichever keeps more */
    c->backup_minute = -1;
    c->backup_keep = 7;
    c->doc_max_size_mib = 100;
}

struct key {
    const char *section;
    const char *name;
    size_t offset;
    uint32_t min, max;
};

#define U32(sec, field, lo, hi)                                                                    \
    {                                                                                              \
        sec, #field, offsetof(dg_config, field), lo, hi                                            \
    }
#define U32N(sec, name, field, lo, hi)                                                             \
    {                                                                                              \
        sec, name, offsetof(dg_config, field), lo, hi                                              \
    }

static const struct key keys[] = {
    U32("server", max_connections, 1, 100000),
    U32("server", loops, 0, 64),
    U32("limits", max_frame_after_login, 65536, DG_FRAME_MAX_CEILING),
    U32("limits", max_in_flight, 1, 1024),
    U32N("limits", "write_high_water", write_high_water, 65536, 1u << 30),
    U32N("limits", "write_low_water", write_low_water, 1024, 1u << 30),
    U32("limits", request_memory_mib, 1, 4096),
    U32("limits", handshake_timeout_ms, 100, 3600000),
    U32("limits", prelogin_timeout_ms, 100, 3600000),
    U32("limits", idle_timeout_ms, 100, 86400000),
    U32N("limits", "write_stall_timeout_ms", write_stall_timeout_ms, 100, 86400000),
    U32("limits", ping_interval_ms, 100, 3600000),
    U32("limits", shutdown_grace_ms, 0, 3600000),
    U32N("limits", "max_unauthenticated_per_address", max_unauth_per_address, 1, 100000),
    U32N("sessions", "idle_timeout_s", session_idle_s, 1, 86400 * 30),
    U32N("sessions", "absolute_timeout_s", session_absolute_s, 1, 86400 * 365),
    U32N("login", "pair_failures", login_pair_failures, 1, 1000),
    U32N("login", "pair_max_delay_s", login_pair_max_delay_s, 1, 86400),
    U32N("login", "account_failures", login_account_failures, 1, 1000),
    U32N("login", "account_window_s", login_account_window_s, 1, 86400),
    U32N("login", "account_max_delay_s", login_account_max_delay_s, 1, 86400),
    U32N("login", "peer_failures", login_peer_failures, 1, 100000),
    U32N("login", "peer_block_s", login_peer_block_s, 1, 86400),
    U32N("login", "account_max_in_flight", login_account_max_in_flight, 1, 1000),
    U32N("login", "peer_max_in_flight", login_peer_max_in_flight, 1, 1000),
    U32N("login", "known_address_days", login_known_address_days, 0, 3650),
    U32("passwords", argon2_memory_kib, 8, 4u * 1024 * 1024),
    U32("passwords", argon2_iterations, 1, 100),
    U32("passwords", argon2_lanes, 1, 64),
    U32("passwords", hash_threads, 0, 256),
    U32("store", readers, 1, 64),
    U32("store", writer_queue, 16, 10000000),
    U32N("feed", "retention_days", feed_retention_days, 0, 36500),
    U32N("feed", "retention_changes", feed_retention_changes, 0, 1000000000),
    U32("store", reader_queue, 16, 10000000),
    U32("store", search_apply_ops, 1, 1000000000),
    U32("store", search_idle_ms, 1, 86400000),
    U32N("backup", "keep", backup_keep, 1, 10000),
    U32N("documents", "max_size_mib", doc_max_size_mib, 1, 65536),
};

/* [backup] time = HH:MM (24-hour). */
static int set_backup_time(dg_config *c, const char *value, char *err, size_t err_len)
{
    unsigned h, m;
    char end;

    if (sscanf(value, "%2u:%2u%c", &h, &m, &end) != 2 || h > 23 || m > 59 || strlen(value) != 5) {
        snprintf(err, err_len, "[backup] time must be HH:MM (00:00 to 23:59), got \"%s\"", value);
        return DG_EINVAL;
    }
    c->backup_minute = (int32_t)(h * 60 + m);
    return DG_OK;
}

/* [backup] dir and key_file: absolute paths. */
static int set_path(char *field, size_t cap, const char *name, const char *value, char *err,
                    size_t err_len)
{
    if (value[0] != '/' || strlen(value) >= cap) {
        snprintf(err, err_len, "[backup] %s must be an absolute path, got \"%s\"", name, value);
        return DG_EINVAL;
    }
    snprintf(field, cap, "%s", value);
    return DG_OK;
}

int dg_config_set(dg_config *c, const char *section, const char *name, const char *value, char *err,
                  size_t err_len)
{
    if (strcmp(section, "server") == 0 && strcmp(name, "listen") == 0) {
        if (strlen(value) >= sizeof c->listen || !strchr(value, ':')) {
            snprintf(err, err_len, "[server] listen must be HOST:PORT, got \"%s\"", value);
            return DG_EINVAL;
        }
        snprintf(c->listen, sizeof c->listen, "%s", value);
        return DG_OK;
    }
    if (strcmp(section, "server") == 0 && strcmp(name, "log_level") == 0) {
        if (dg_log_level_parse(value, &c->log_level) != DG_OK) {
            snprintf(err, err_len, "[server] log_level must be debug, info, warn or error");
            return DG_EINVAL;
        }
        return DG_OK;
    }
    if (strcmp(section, "backup") == 0 && strcmp(name, "time") == 0)
        return set_backup_time(c, value, err, err_len);
    if (strcmp(section, "backup") == 0 && strcmp(name, "dir") == 0)
        return set_path(c->backup_dir, sizeof c->backup_dir, name, value, err, err_len);
    if (strcmp(section, "backup") == 0 && strcmp(name, "key_file") == 0)
        return set_path(c->backup_key_file, sizeof c->backup_key_file, name, value, err, err_len);
    for (size_t i = 0; i < DG_ARRAY_LEN(keys); i++) {
        const struct key *k = &keys[i];
        char *end;
        unsigned long long v;

        if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
            continue;
        errno = 0;
        v = strtoull(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v < k->min || v > k->max) {
            snprintf(err, err_len, "[%s] %s must be a whole number from %u to %u, got \"%s\"",
                     section, name, k->min, k->max, value);
            return DG_EINVAL;
        }
        *(uint32_t *)((char *)c + k->offset) = (uint32_t)v;
        return DG_OK;
    }
    snprintf(err, err_len, "unknown setting [%s] %s", section, name);
    return DG_EINVAL;
}

struct load_ctx {
    dg_config *c;
    char why[256]; /* the first bad setting */
    bool has_failed;
};

static int ini_cb(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *l = user;

    if (l->has_failed)
        return 0;
    if (dg_config_set(l->c, section, name, value, l->why, sizeof l->why) != DG_OK) {
        l->has_failed = true;
        return 0; /* inih then reports this line number */
    }
    return 1;
}

int dg_config_load(dg_config *c, const char *path, char *err, size_t err_len)
{
    struct load_ctx l = {.c = c};
    FILE *f = fopen(path, "r");
    int rc;

    if (!f) {
        int e = errno; /* snprintf may change errno */

        snprintf(err, err_len, "cannot read config %s: %s", path, strerror(e));
        return e == ENOENT ? DG_ENOTFOUND : DG_EINVAL;
    }
    rc = ini_parse_file(f, ini_cb, &l);
    fclose(f);
    if (l.has_failed) {
        snprintf(err, err_len, "%s:%d: %s", path, rc, l.why);
        return DG_EINVAL;
    }
    if (rc != 0) {
        snprintf(err, err_len, "%s:%d: not valid INI", path, rc);
        return DG_EINVAL;
    }
    return DG_OK;
}

int dg_config_check(const dg_config *c, char *err, size_t err_len)
{
    if (c->write_low_water >= c->write_high_water) {
        snprintf(err, err_len, "[limits] write_low_water must be below write_high_water");
        return DG_EINVAL;
    }
    if ((c->backup_minute >= 0) != (c->backup_dir[0] != '\0')) {
        snprintf(err, err_len, "[backup] time and dir go together: scheduled backups need both");
        return DG_EINVAL;
    }
    if (!c->data_dir[0]) {
        snprintf(err, err_len, "no data directory: give --data DIR");
        return DG_EINVAL;
    }
    return DG_OK;
}
