/* config.h - dangand's settings: defaults < INI file(s) < command-line flags,
 * then validated and frozen. Loop-thread data once serving starts; nothing
 * changes it afterwards.
 *
 * INI sections and keys (values in the units their names say):
 *   [server]   listen, log_level, max_connections, loops
 *   [limits]   max_frame_after_login, max_in_flight, write_high_water, write_low_water,
 *              request_memory_mib, handshake_timeout_ms, prelogin_timeout_ms,
 *              idle_timeout_ms, write_stall_timeout_ms, ping_interval_ms,
 *              shutdown_grace_ms, max_unauthenticated_per_address
 *   [sessions] idle_timeout_s, absolute_timeout_s
 *   [login]    pair_failures, pair_max_delay_s, account_failures, account_window_s,
 *              account_max_delay_s, peer_failures, peer_block_s,
 *              account_max_in_flight, peer_max_in_flight, known_address_days
 *              (throttle.h and docs/security.md say what each does)
 *   [passwords] argon2_memory_kib, argon2_iterations, argon2_lanes, hash_threads
 *   [store]    readers, writer_queue, reader_queue, search_apply_ops, search_idle_ms
 *              (the last two: writer.h, dg_writer_search)
 *   [feed]     retention_days, retention_changes (a change is pruned once it is
 *              older than both)
 *   [backup]   time (HH:MM, the server's time zone), dir, keep, key_file: the
 *              scheduled backups (backups.c); off unless time and dir are set
 */
#ifndef DG_CONFIG_H
#define DG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef struct dg_config {
    char data_dir[1024];
    char listen[256]; /* host:port; port 0 picks a free port */
    enum dg_log_level log_level;
    uint32_t max_connections;
    uint32_t max_frame_after_login;
    uint32_t max_in_flight;
    uint32_t write_high_water;
    uint32_t write_low_water;
    uint32_t request_memory_mib; /* what one request may use to read and build its reply */
    uint32_t handshake_timeout_ms;
    uint32_t prelogin_timeout_ms;
    uint32_t idle_timeout_ms;
    uint32_t write_stall_timeout_ms;
    uint32_t ping_interval_ms;
    uint32_t shutdown_grace_ms;
    uint32_t max_unauth_per_address; /* connections handshaking or not logged in */
    uint32_t session_idle_s;
    uint32_t session_absolute_s;
    uint32_t login_pair_failures;
    uint32_t login_pair_max_delay_s;
    uint32_t login_account_failures;
    uint32_t login_account_window_s;
    uint32_t login_account_max_delay_s;
    uint32_t login_peer_failures;
    uint32_t login_peer_block_s;
    uint32_t login_account_max_in_flight;
    uint32_t login_peer_max_in_flight;
    uint32_t login_known_address_days;
    uint32_t argon2_memory_kib;
    uint32_t argon2_iterations;
    uint32_t argon2_lanes;
    uint32_t hash_threads; /* 0: one per core */
    uint32_t loops;        /* event loops, each on its own thread; 0: one per core */
    uint32_t readers;
    uint32_t writer_queue;
    uint32_t feed_retention_days;
    uint32_t feed_retention_changes;
    uint32_t reader_queue;
    uint32_t search_apply_ops; /* [store]: writer.h, dg_writer_search */
    uint32_t search_idle_ms;
    int32_t backup_minute; /* of the day, server's time zone; -1: no scheduled backups */
    uint32_t backup_keep;  /* scheduled backups kept in backup_dir */
    char backup_dir[1024];
    char backup_key_file[1024]; /* "": scheduled backups are not encrypted */
    uint32_t doc_max_size_mib;  /* [documents] max_size_mib: the largest document */
} dg_config;

/* Fills in the defaults (deploy/dangand.conf.example lists them). */
void dg_config_defaults(dg_config *c);
/* Applies an INI file. DG_OK, DG_ENOTFOUND (no such file), DG_EINVAL with
 * `err` naming the file, line and key. */
int dg_config_load(dg_config *c, const char *path, char *err, size_t err_len);
/* Applies one setting ("limits", "idle_timeout_ms", "5000"). DG_OK or DG_EINVAL. */
int dg_config_set(dg_config *c, const char *section, const char *key, const char *value, char *err,
                  size_t err_len);
/* Cross-field checks (low < high water, frame ceiling, ...). DG_OK or DG_EINVAL. */
int dg_config_check(const dg_config *c, char *err, size_t err_len);

#endif
