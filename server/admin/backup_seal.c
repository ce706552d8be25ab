/* backup_seal.c - encrypted backups: the secret, the key, whole files.
 *
 * The key is argon2id of the secret (a passphrase or a key file's bytes)
 * with a random salt, 3 passes over 64 MiB: a stolen copy can be attacked
 * only by guessing, and each guess costs that much. The salt and the
 * parameters are in the file's header (common/seal.h), so a restore needs
 * nothing but the secret. A sealed copy is read back before it counts:
 * every chunk's tag is checked and the plaintext must hash to what was
 * sealed.
 *
 * Owns, for one call: the files it opens, the key (wiped before return).
 * Runs on: any thread (the CLI's, or the scheduled backup's worker).
 */
#include "backup_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <argon2.h>
#include <mbedtls/sha256.h>

#include "dg.h"
#include "seal.h"

#define KDF_ITERATIONS 3
#define KDF_MEMORY_KIB (64u * 1024)
#define KDF_LANES 1
#define CHUNK_LEN (1u << 20)

/* ------------------------------------------------------------ the secret */

int dg_backup_secret_from_file(const char *path, dg_backup_secret *out, char *err, size_t err_len)
{
    struct stat sb;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    out->len = 0;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, err_len, "cannot read the key file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DG_EIO;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, err_len,
                 "the key file %s may be read by group or others (mode %04o); chmod 600 %s", path,
                 (unsigned)(sb.st_mode & 07777), path);
        close(fd);
        return DG_EDENIED;
    }
    n = read(fd, out->bytes, sizeof out->bytes);
    close(fd);
    if (n < 0) {
        snprintf(err, err_len, "cannot read the key file %s: %s", path, strerror(errno));
        return DG_EIO;
    }
    out->len = (size_t)n;
    if (out->len && out->bytes[out->len - 1] == '\n')
        out->len--;
    if (out->len && out->bytes[out->len - 1] == '\r')
        out->len--;
    if (out->len < DG_BACKUP_KEY_FILE_MIN || (size_t)n == sizeof out->bytes) {
        snprintf(err, err_len,
                 "the key file %s must hold %d to %d bytes (make one with: head -c 32 "
                 "/dev/urandom | base64 > %s)",
                 path, DG_BACKUP_KEY_FILE_MIN, DG_BACKUP_SECRET_MAX - 1, path);
        dg_backup_secret_wipe(out);
        return DG_EINVAL;
    }
    return DG_OK;
}

/* One line from `f` into `buf` (its newline dropped). False at EOF or when
 * the line does not fit (read to its end: a cut passphrase is another one). */
static bool read_line(FILE *f, char *buf, size_t len)
{
    size_t n;
    int ch;

    if (!fgets(buf, (int)len, f))
        return false;
    n = strcspn(buf, "\r\n");
    if (buf[n] || n + 1 < len || feof(f)) {
        buf[n] = '\0';
        return true;
    }
    while ((ch = fgetc(f)) != EOF && ch != '\n')
        ;
    dg_wipe(buf, len);
    return false;
}

/* Asks on the terminal without echo. */
static bool ask_tty(const char *prompt, char *buf, size_t len)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios old, quiet;
    bool changed = false, ok;

    if (!tty)
        return false;
    fputs(prompt, tty);
    fflush(tty);
    if (tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        changed = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
    }
    ok = read_line(tty, buf, len);
    if (changed) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
    }
    fclose(tty);
    return ok;
}

int dg_backup_secret_from_stdin(bool is_new, dg_backup_secret *out, char *err, size_t err_len)
{
    char *first = (char *)out->bytes, again[DG_BACKUP_SECRET_MAX];
    bool is_tty = isatty(STDIN_FILENO), ok;
    int rc = DG_OK;

    out->len = 0;
    ok = is_tty ? ask_tty(is_new ? "New backup passphrase: " : "Backup passphrase: ", first,
                          sizeof out->bytes)
                : read_line(stdin, first, sizeof out->bytes);
    if (!ok || !first[0]) {
        snprintf(err, err_len, "no passphrase on %s (or one over %d bytes)",
                 is_tty ? "the terminal" : "stdin", DG_BACKUP_SECRET_MAX - 1);
        rc = DG_EINVAL;
    } else if (is_new && strlen(first) < DG_BACKUP_PASSPHRASE_MIN) {
        snprintf(err, err_len, "the passphrase must have at least %d characters",
                 DG_BACKUP_PASSPHRASE_MIN);
        rc = DG_EINVAL;
    } else if (is_tty && is_new &&
               (!ask_tty("Again: ", again, sizeof again) || strcmp(again, first) != 0)) {
        snprintf(err, err_len, "the two passphrases differ");
        rc = DG_EINVAL;
    }
    dg_wipe(again, sizeof again);
    if (rc != DG_OK) {
        dg_backup_secret_wipe(out);
        return rc;
    }
    out->len = strlen(first);
    return DG_OK;
}

void dg_backup_secret_wipe(dg_backup_secret *s)
{
    dg_wipe(s->bytes, sizeof s->bytes);
    s->len = 0;
}

/* ------------------------------------------------------------ files */

bool dg_backup_file_is_sealed(const char *path)
{
    uint8_t magic[DG_SEAL_MAGIC_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;

    if (fd >= 0)
        close(fd);
    return n == (ssize_t)sizeof magic && dg_seal_has_magic(magic, sizeof magic);
}

static int derive_key(const dg_backup_secret *secret, const dg_seal_params *p,
                      uint8_t key[DG_SEAL_KEY_LEN], char *err, size_t err_len)
{
    int rc = argon2id_hash_raw(p->kdf_iterations, p->kdf_memory_kib, p->kdf_lanes, secret->bytes,
                               secret->len, p->salt, sizeof p->salt, key, DG_SEAL_KEY_LEN);

    if (rc == ARGON2_OK)
        return DG_OK;
    snprintf(err, err_len, "cannot derive the key: %s", argon2_error_message(rc));
    return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? DG_ENOMEM : DG_EINVAL;
}

/* Reads up to `len` bytes, fewer only at the end of the file. */
static ssize_t read_full(int fd, uint8_t *p, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Where unsealing writes: a file, or only a running SHA-256 (verification). */
struct sink {
    int fd; /* -1: hash only */
    mbedtls_sha256_context sha;
};

/* Opens every chunk of the sealed file at `fd` (after its header) into `k`.
 * DG_OK when the file ended with its last chunk and nothing after. */
static int unseal_chunks(dg_seal *s, int fd, struct sink *k, const char *name, char *err,
                         size_t err_len)
{
    size_t cap = DG_SEAL_WORD_LEN + dg_seal_chunk_len(s) + DG_SEAL_TAG_LEN, have = 0, used, n_out;
    uint8_t *in = malloc(cap), *out = malloc(dg_seal_chunk_len(s));
    uint64_t at = DG_SEAL_HEADER_LEN; /* the file offset of in[0] */
    bool is_last = false, is_eof = false;
    int rc = DG_OK;

    if (!in || !out) {
        snprintf(err, err_len, "out of memory");
        rc = DG_ENOMEM;
    }
    while (rc == DG_OK) {
        if (!is_eof && have < cap) {
            ssize_t n = read_full(fd, in + have, cap - have);

            if (n < 0) {
                snprintf(err, err_len, "cannot read %s: %s", name, strerror(errno));
                rc = DG_EIO;
                break;
            }
            is_eof = (size_t)n < cap - have;
            have += (size_t)n;
        }
        if (have == 0)
            break;
        rc = dg_unseal_chunk(s, in, have, &used, out, &n_out, &is_last);
        if (rc == DG_EAGAIN) { /* the buffer holds a whole chunk, or the file ended */
            rc = DG_OK;
            is_last = false;
            break;
        }
        if (rc != DG_OK) {
            snprintf(err, err_len,
                     "%s is damaged or was changed (at byte %llu): its content does not "
                     "authenticate",
                     name, (unsigned long long)at);
            break;
        }
        (void)mbedtls_sha256_update_ret(&k->sha, out, n_out); /* cannot fail for SHA-256 */
        if (k->fd >= 0 && !write_all(k->fd, out, n_out)) {
            snprintf(err, err_len, "cannot write the opened backup: %s", strerror(errno));
            rc = errno == ENOSPC ? DG_ENOSPC : DG_EIO;
        }
        memmove(in, in + used, have - used);
        have -= used;
        at += used;
    }
    if (rc == DG_OK && !is_last) {
        snprintf(err, err_len, "%s is cut short (it ends at byte %llu before its last chunk)", name,
                 (unsigned long long)at + have);
        rc = DG_ECORRUPT;
    }
    if (out)
        dg_wipe(out, dg_seal_chunk_len(s));
    free(in);
    free(out);
    return rc;
}

/* Opens the sealed file `from` into `k`; its plaintext's SHA-256 in `sum`. */
static int unseal_into(const char *from, const dg_backup_secret *secret, struct sink *k,
                       uint8_t sum[32], char *err, size_t err_len)
{
    uint8_t header[DG_SEAL_HEADER_LEN], key[DG_SEAL_KEY_LEN];
    dg_seal_params p;
    dg_seal *s = NULL;
    int fd = open(from, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0) {
        snprintf(err, err_len, "cannot read %s: %s", from, strerror(errno));
        return DG_EIO;
    }
    if (read_full(fd, header, sizeof header) != (ssize_t)sizeof header ||
        dg_seal_header_parse(header, &p) != DG_OK) {
        snprintf(err, err_len, "%s is not an encrypted dangan backup (or its header is damaged)",
                 from);
        close(fd);
        return DG_EINVAL;
    }
    if ((rc = derive_key(secret, &p, key, err, err_len)) == DG_OK) {
        rc = dg_unseal_new(header, key, &s);
        dg_wipe(key, sizeof key);
        if (rc == DG_EAUTH)
            snprintf(err, err_len,
                     "wrong passphrase or key file for %s (or its header was changed); "
                     "nothing was changed",
                     from);
        else if (rc != DG_OK)
            snprintf(err, err_len, "%s has a damaged header", from);
    }
    if (rc == DG_OK) {
        mbedtls_sha256_init(&k->sha);
        (void)mbedtls_sha256_starts_ret(&k->sha, 0);
        rc = unseal_chunks(s, fd, k, from, err, err_len);
        (void)mbedtls_sha256_finish_ret(&k->sha, sum);
        mbedtls_sha256_free(&k->sha);
    }
    dg_seal_free(s);
    close(fd);
    return rc;
}

/* Seals the open file `in` into the open file `out`; the plaintext's
 * SHA-256 in `sum`. */
static int seal_stream(dg_seal *s, int in, int out, uint8_t sum[32], char *err, size_t err_len)
{
    uint8_t *buf = malloc(CHUNK_LEN), *sealed = malloc(CHUNK_LEN + 64);
    mbedtls_sha256_context sha;
    size_t n_sealed;
    int rc = DG_OK;

    if (!buf || !sealed) {
        free(buf);
        free(sealed);
        snprintf(err, err_len, "out of memory");
        return DG_ENOMEM;
    }
    mbedtls_sha256_init(&sha);
    (void)mbedtls_sha256_starts_ret(&sha, 0);
    if (!write_all(out, dg_seal_header(s), DG_SEAL_HEADER_LEN))
        rc = DG_EIO;
    for (bool is_last = false; rc == DG_OK && !is_last;) {
        ssize_t n = read_full(in, buf, CHUNK_LEN);

        if (n < 0) {
            rc = DG_EIO;
            break;
        }
        is_last = (size_t)n < CHUNK_LEN; /* a whole last chunk is followed by an empty one */
        (void)mbedtls_sha256_update_ret(&sha, buf, (size_t)n);
        if ((rc = dg_seal_chunk(s, buf, (size_t)n, is_last, sealed, &n_sealed)) == DG_OK &&
            !write_all(out, sealed, n_sealed))
            rc = DG_EIO;
    }
    if (rc == DG_OK && fsync(out) != 0)
        rc = DG_EIO;
    if (rc != DG_OK)
        snprintf(err, err_len, "cannot write the encrypted backup: %s", strerror(errno));
    (void)mbedtls_sha256_finish_ret(&sha, sum);
    mbedtls_sha256_free(&sha);
    dg_wipe(buf, CHUNK_LEN);
    free(buf);
    free(sealed);
    return rc;
}

int dg_backup_seal_file(const char *plain, const char *to, const dg_backup_secret *secret,
                        char *err, size_t err_len)
{
    dg_seal_params p = {.kdf_iterations = KDF_ITERATIONS,
                        .kdf_memory_kib = KDF_MEMORY_KIB,
                        .kdf_lanes = KDF_LANES,
                        .chunk_len = CHUNK_LEN};
    uint8_t key[DG_SEAL_KEY_LEN], sealed_sum[32], opened_sum[32];
    struct sink check = {.fd = -1};
    dg_seal *s = NULL;
    int in, out, rc;

    if ((in = open(plain, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, err_len, "cannot read %s: %s", plain, strerror(errno));
        return DG_EIO;
    }
    if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_len, "cannot create %s: %s", to, strerror(errno));
        close(in);
        return errno == EEXIST ? DG_EEXIST : DG_EIO;
    }
    dg_random(p.salt, sizeof p.salt);
    if ((rc = derive_key(secret, &p, key, err, err_len)) == DG_OK) {
        rc = dg_seal_new(&p, key, &s);
        dg_wipe(key, sizeof key);
        dg_assert(rc == DG_OK); /* our own parameters are within the bounds */
        rc = seal_stream(s, in, out, sealed_sum, err, err_len);
    }
    dg_seal_free(s);
    close(in);
    close(out);
    /* read back: what is on the disk opens, whole, to what was sealed */
    if (rc == DG_OK && (rc = unseal_into(to, secret, &check, opened_sum, err, err_len)) == DG_OK &&
        memcmp(sealed_sum, opened_sum, sizeof opened_sum) != 0) {
        snprintf(err, err_len, "%s does not read back as what was written", to);
        rc = DG_EIO;
    }
    if (rc != DG_OK)
        (void)unlink(to);
    return rc;
}

int dg_backup_unseal_file(const char *from, const char *to, const dg_backup_secret *secret,
                          char *err, size_t err_len)
{
    struct sink k;
    uint8_t sum[32];
    int rc;

    (void)unlink(to); /* a leftover of an interrupted run */
    if ((k.fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_len, "cannot create %s: %s", to, strerror(errno));
        return DG_EIO;
    }
    rc = unseal_into(from, secret, &k, sum, err, err_len);
    if (rc == DG_OK && fsync(k.fd) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", to, strerror(errno));
        rc = DG_EIO;
    }
    close(k.fd);
    if (rc != DG_OK)
        (void)unlink(to);
    return rc;
}
