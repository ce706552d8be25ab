/* config_dir.h - the config directory that dangan's clients share: the CLI
 * (dangan) and the graphical client (dangan-gtk) read and write the same
 * files, so a server trusted and a session opened by one serve the other.
 *
 * Files (all mode 0600, written atomically: temp file, fsync, rename):
 *   config         "server <host:port>" and "user <name>": what to talk to by default
 *   known_servers  "<host:port> fingerprint <AB:CD:...>" or "<host:port> ca <path>"
 *   tokens         "<host:port> <token>": session tokens, one per server
 * Like ssh's known_hosts: a server is trusted once, after the user agreed.
 *
 * Every call reads or writes files: a GUI calls them off its main thread.
 * No state: any thread may call any function; two processes writing the same
 * file at once keep one writer's file whole (rename), not both changes.
 */
#ifndef DG_CONFIG_DIR_H
#define DG_CONFIG_DIR_H

#include <stddef.h>

#include "dangan.h"

/* Resolves the config directory into `out`: flag_dir (may be NULL), else
 * $DANGAN_CONFIG_DIR, else $XDG_CONFIG_DIR_HOME/dangan, else ~/.config/dangan;
 * and creates it (mode 0700) with its parents. DG_OK, DG_EINVAL when none
 * of these is set (no HOME), DG_EIO when it cannot be created (errno says
 * why). */
int dg_config_dir(const char *flag_dir, char *out, size_t out_len);

/* How a server is trusted: kind "fingerprint" or "ca" and its value. DG_OK or DG_ENOTFOUND. */
int dg_config_known_get(const char *dir, const char *server, char *kind, size_t kind_len,
                        char *value, size_t value_len);
/* Trusts a server (replaces what was stored for it). DG_OK or DG_EIO. */
int dg_config_known_put(const char *dir, const char *server, const char *kind, const char *value);
/* The default server and user ("" when none). */
void dg_config_current_get(const char *dir, char *server, size_t server_len, char *user,
                           size_t user_len);
/* Sets the default server and/or user (NULL: unchanged). DG_OK or DG_EIO. */
int dg_config_current_put(const char *dir, const char *server, const char *user);
/* The session token for a server. DG_OK or DG_ENOTFOUND. */
int dg_config_token_get(const char *dir, const char *server, char token[DG_CLIENT_TOKEN_LEN + 1]);
/* Keeps / forgets the session token of a server. DG_OK or DG_EIO. */
int dg_config_token_put(const char *dir, const char *server, const char *token);
int dg_config_token_delete(const char *dir, const char *server);

#endif
