/* backup_seal.h - encrypted backups: the secret (a passphrase or a key
 * file), argon2id key derivation, and sealing or unsealing a whole file in
 * the format of common/seal.h. See backup_seal.c; docs/operations.md tells
 * operators how to keep the key. */
#ifndef DG_BACKUP_SEAL_H
#define DG_BACKUP_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_BACKUP_SECRET_MAX 1024
#define DG_BACKUP_PASSPHRASE_MIN 10 /* characters a new backup's passphrase needs */
#define DG_BACKUP_KEY_FILE_MIN 16   /* bytes a key file needs */

/* What the key is derived from; wiped by dg_backup_secret_wipe. */
typedef struct dg_backup_secret {
    uint8_t bytes[DG_BACKUP_SECRET_MAX];
    size_t len;
} dg_backup_secret;

/* Reads a key file: its bytes, less one trailing newline. Refused (DG_EDENIED)
 * when group or others may read it, DG_EINVAL when it is shorter than
 * DG_BACKUP_KEY_FILE_MIN or longer than DG_BACKUP_SECRET_MAX bytes, DG_EIO
 * when it cannot be read; `err` says which and how to fix it. */
int dg_backup_secret_from_file(const char *path, dg_backup_secret *out, char *err, size_t err_len);
/* Reads a passphrase: from the terminal without echo when stdin is one
 * (asked twice when `is_new`, and the two must match), else the first line
 * of stdin. A new passphrase needs DG_BACKUP_PASSPHRASE_MIN characters.
 * DG_OK, or DG_EINVAL with `err` saying what was wrong. */
int dg_backup_secret_from_stdin(bool is_new, dg_backup_secret *out, char *err, size_t err_len);
void dg_backup_secret_wipe(dg_backup_secret *s);

/* True if the file at `path` begins with a sealed file's magic. */
bool dg_backup_file_is_sealed(const char *path);

/* Seals the file `plain` into the new file `to` (mode 0600, never over an
 * existing one) with a key derived from `secret` and a fresh salt, syncs
 * it, then reads it back and checks that it opens to exactly `plain`.
 * DG_OK, or an error with `err` saying why (`to` is then removed). Any
 * thread; argon2id takes about 64 MiB and a fraction of a second. */
int dg_backup_seal_file(const char *plain, const char *to, const dg_backup_secret *secret,
                        char *err, size_t err_len);
/* Opens the sealed file `from` into the new file `to` (mode 0600). DG_OK;
 * DG_EAUTH: the wrong passphrase or key file (nothing was written);
 * DG_ECORRUPT: the file was changed, cut short or extended; DG_EINVAL: not
 * a sealed file; DG_EIO. On failure `to` is removed and `err` says why. */
int dg_backup_unseal_file(const char *from, const char *to, const dg_backup_secret *secret,
                          char *err, size_t err_len);

#endif
