/* init.h - `dangand init`: a new data directory with everything a server needs.
 *
 * DIR (mode 0700; created, or empty) gets: dangan.db (schema, server id, feed
 * epoch, the first admin with a random password), tls/key.pem (0600) and
 * tls/cert.pem, and dangand.conf holding the listen address. The admin
 * password is printed once and stored only as its argon2id hash. If anything
 * fails, what was created is removed. Single-threaded, offline.
 */
#ifndef DG_INIT_H
#define DG_INIT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

#include "auth.h"

typedef struct dg_init_opts {
    const char *data_dir;
    const char *listen;      /* "127.0.0.1:7443" by default */
    const char *admin;       /* first admin's user name; "admin" by default */
    const char *const *sans; /* extra certificate names/addresses */
    size_t n_sans;
    dg_argon2_params argon2;
} dg_init_opts;

/* Prints the summary (admin password, certificate fingerprint) to `out`.
 * DG_OK, DG_EEXIST (DIR not empty), DG_EINVAL, DG_EIO; `err` explains. */
int dg_init_run(const dg_init_opts *o, FILE *out, char *err, size_t err_len);

/* Takes the lock `dangand serve` holds (DG_LOCK_FILE) for an offline
 * command named `what`: a running server keeps it off, and holding it keeps
 * a server off. With `needs_db`, DIR must hold a database. DG_OK with
 * *fd_out to close when done, DG_ENOTFOUND, DG_EBUSY (a server runs) or
 * DG_EIO; `err` explains. */
int dg_data_dir_lock(const char *dir, const char *what, bool needs_db, int *fd_out, char *err,
                     size_t err_len);

/* Paths inside a data directory. */
#define DG_DB_FILE "dangan.db"
#define DG_CONF_FILE "dangand.conf"
#define DG_LOCK_FILE "dangand.lock"
#define DG_TLS_DIR "tls"
#define DG_KEY_FILE "tls/key.pem"
#define DG_CERT_FILE "tls/cert.pem"

#endif
