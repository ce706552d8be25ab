/* init.c - creating a data directory. */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "certgen.h"
#include "clock.h"
#include "dg.h"
#include "hex.h"
#include "store.h"
#include "tls.h"

#define CERT_VALID_DAYS (365 * 10)
#define ADMIN_PASSWORD_CHARS 24
#define MAX_SANS 64

/* What init created, so a failure can take it back. */
struct created {
    bool dir;
};

int dg_data_dir_lock(const char *dir, const char *what, bool needs_db, int *fd_out, char *err,
                     size_t err_len)
{
    char p[1200];
    struct stat sb;
    int fd;

    snprintf(p, sizeof p, "%s/%s", dir, needs_db ? DG_DB_FILE : DG_TLS_DIR);
    if (stat(p, &sb) != 0) {
        snprintf(err, err_len, "%s has no %s (%s): create it with `dangand init --data %s`", dir,
                 needs_db ? "database" : "certificate directory", strerror(errno), dir);
        return errno == ENOENT ? DG_ENOTFOUND : DG_EIO;
    }
    snprintf(p, sizeof p, "%s/%s", dir, DG_LOCK_FILE);
    if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_len, "cannot open %s: %s", p, strerror(errno));
        return DG_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        close(fd);
        if (e == EWOULDBLOCK) {
            snprintf(err, err_len,
                     "%s is in use by a running dangand (it holds %s); stop the server first, "
                     "%s only works offline",
                     dir, DG_LOCK_FILE, what);
            return DG_EBUSY;
        }
        snprintf(err, err_len, "cannot lock %s: %s", p, strerror(e));
        return DG_EIO;
    }
    *fd_out = fd;
    return DG_OK;
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static int prepare_dir(const char *dir, struct created *made, char *err, size_t err_len)
{
    struct stat st;

    if (stat(dir, &st) == 0) {
        DIR *d;
        struct dirent *e;
        bool is_empty = true;

        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, err_len, "%s exists and is not a directory", dir);
            return DG_EEXIST;
        }
        if (!(d = opendir(dir))) {
            snprintf(err, err_len, "cannot read %s: %s", dir, strerror(errno));
            return DG_EIO;
        }
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                is_empty = false;
        closedir(d);
        if (!is_empty) {
            snprintf(err, err_len, "%s is not empty; init only touches a new or empty directory",
                     dir);
            return DG_EEXIST;
        }
    } else if (mkdir(dir, 0700) != 0) {
        snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
        return DG_EIO;
    } else {
        made->dir = true;
    }
    if (chmod(dir, 0700) != 0) {
        snprintf(err, err_len, "cannot make %s private (chmod 700): %s", dir, strerror(errno));
        return DG_EIO;
    }
    return DG_OK;
}

static void undo(const char *dir, const struct created *made)
{
    static const char *const files[] = {DG_DB_FILE,  DG_DB_FILE "-wal", DG_DB_FILE "-shm",
                                        DG_KEY_FILE, DG_CERT_FILE,      DG_CONF_FILE};
    char p[1200];

    for (size_t i = 0; i < DG_ARRAY_LEN(files); i++) {
        path_in(p, sizeof p, dir, files[i]);
        (void)unlink(p); /* best effort: most of them may not exist */
    }
    path_in(p, sizeof p, dir, DG_TLS_DIR);
    (void)rmdir(p);
    if (made->dir)
        (void)rmdir(dir);
}

static int write_conf(const char *dir, const char *listen, char *err, size_t err_len)
{
    char p[1200];
    FILE *f;
    int fd;

    path_in(p, sizeof p, dir, DG_CONF_FILE);
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, err_len, "cannot create %s: %s", p, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DG_EIO;
    }
    fprintf(f,
            "# dangand settings for this data directory; see deploy/dangand.conf.example\n"
            "[server]\nlisten = %s\n",
            listen);
    if (fclose(f) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", p, strerror(errno));
        return DG_EIO;
    }
    return DG_OK;
}

/* Schema, identity, settings and the first admin, in one transaction. */
static int create_db(const dg_init_opts *o, const char *username, const char *password_hash,
                     char *err, size_t err_len)
{
    char p[1200], server_id[33], epoch[24], detail[256];
    uint8_t id_bytes[16];
    uint64_t epoch_val = 0;
    dg_user admin = {0};
    dg_audit_chain chain;
    dg_audit_rec rec;
    dg_store *st;
    int64_t now = dg_now_ms();
    int rc;

    path_in(p, sizeof p, o->data_dir, DG_DB_FILE);
    if ((rc = dg_store_create(p, &st, err, err_len)) != DG_OK)
        return rc;
    dg_random(id_bytes, sizeof id_bytes);
    dg_hex_encode(id_bytes, sizeof id_bytes, server_id);
    while (epoch_val == 0)
        dg_random(&epoch_val, sizeof epoch_val);
    snprintf(epoch, sizeof epoch, "%" PRIu64, epoch_val);
    snprintf(admin.username, sizeof admin.username, "%s", username);
    snprintf(admin.password_hash, sizeof admin.password_hash, "%s", password_hash);
    admin.role = DG_ROLE_ADMIN;
    admin.created_at = now;
    snprintf(detail, sizeof detail, "{\"admin\":\"%s\",\"version\":\"%s\"}", username,
             DANGAN_VERSION);
    rec = (dg_audit_rec){.at = now,
                         .username = "",
                         .peer = "local",
                         .action = "system.init",
                         .entity = "system",
                         .outcome = "ok",
                         .detail = detail};
    if ((rc = dg_store_begin(st)) != DG_OK ||
        (rc = dg_store_meta_put(st, "server_id", server_id)) != DG_OK ||
        (rc = dg_store_meta_put(st, "feed_epoch", epoch)) != DG_OK ||
        (rc = dg_store_meta_put(st, "created_by_version", DANGAN_VERSION)) != DG_OK ||
        (rc = dg_store_setting_put_int(st, "password_min_length", DG_PASSWORD_MIN_CHARS)) !=
            DG_OK ||
        (rc = dg_store_user_insert(st, &admin, 0)) != DG_OK ||
        (rc = dg_audit_chain_load(st, &chain)) != DG_OK ||
        (rc = dg_audit_append(st, &chain, &rec)) != DG_OK || (rc = dg_store_commit(st)) != DG_OK) {
        snprintf(err, err_len, "cannot initialise the database: %s", dg_store_errmsg(st));
        dg_store_rollback(st);
    }
    dg_store_close(st);
    return rc;
}

static int collect_sans(const dg_init_opts *o, const char **sans, size_t *n, char *host,
                        size_t host_len, char *err, size_t err_len)
{
    *n = 0;
    sans[(*n)++] = "localhost";
    sans[(*n)++] = "127.0.0.1";
    sans[(*n)++] = "::1";
    /* The machine's own name, so LAN clients may connect by it. */
    if (gethostname(host, host_len) == 0 && host[0] && strcmp(host, "localhost") != 0)
        sans[(*n)++] = host;
    for (size_t i = 0; i < o->n_sans; i++) {
        if (*n >= MAX_SANS) {
            snprintf(err, err_len, "at most %d certificate names", MAX_SANS - 4);
            return DG_EINVAL;
        }
        sans[(*n)++] = o->sans[i];
    }
    return DG_OK;
}

static int do_init(const dg_init_opts *o, const char *username, char *password, FILE *out,
                   char *err, size_t err_len)
{
    const char *sans[MAX_SANS];
    char host[256] = "", p[1200], key[1200], cert[1200], hash[DG_PASSWORD_HASH_MAX];
    char fp_text[DG_FINGERPRINT_TEXT_LEN];
    uint8_t fp[DG_FINGERPRINT_LEN];
    size_t n_sans;
    int rc;

    if ((rc = collect_sans(o, sans, &n_sans, host, sizeof host, err, err_len)) != DG_OK)
        return rc;
    path_in(p, sizeof p, o->data_dir, DG_TLS_DIR);
    if (mkdir(p, 0700) != 0) {
        snprintf(err, err_len, "cannot create %s: %s", p, strerror(errno));
        return DG_EIO;
    }
    path_in(key, sizeof key, o->data_dir, DG_KEY_FILE);
    path_in(cert, sizeof cert, o->data_dir, DG_CERT_FILE);
    if ((rc = dg_certgen_write(key, cert, sans, n_sans, CERT_VALID_DAYS, err, err_len)) != DG_OK)
        return rc;
    dg_password_generate(password, ADMIN_PASSWORD_CHARS);
    if ((rc = dg_password_hash(&o->argon2, password, hash, sizeof hash)) != DG_OK) {
        snprintf(err, err_len, "cannot hash the admin password: %s", dg_strerror(rc));
        return rc;
    }
    if ((rc = create_db(o, username, hash, err, err_len)) != DG_OK)
        return rc;
    if ((rc = write_conf(o->data_dir, o->listen, err, err_len)) != DG_OK)
        return rc;
    if (dg_tls_cert_file_fingerprint(cert, fp) != DG_OK) {
        snprintf(err, err_len, "cannot read back %s", cert);
        return DG_EIO;
    }
    dg_fingerprint_format(fp, fp_text);
    fprintf(out,
            "Initialised dangan data directory %s\n"
            "  listen address:   %s\n"
            "  admin user:       %s\n"
            "  admin password:   %s\n"
            "  fingerprint:      SHA256:%s\n"
            "The password is shown only now and stored only as a hash; change it after your\n"
            "first login with `dangan passwd`. Clients check the fingerprint when they connect.\n"
            "Start the server:   dangand serve --data %s\n",
            o->data_dir, o->listen, username, password, fp_text, o->data_dir);
    fflush(out);
    return DG_OK;
}

int dg_init_run(const dg_init_opts *o, FILE *out, char *err, size_t err_len)
{
    struct created made = {0};
    char username[DG_USERNAME_MAX + 1];
    char password[ADMIN_PASSWORD_CHARS + 1];
    int rc;

    if (dg_username_normalize(o->admin, username) != DG_OK) {
        snprintf(err, err_len,
                 "admin user name \"%s\" is not valid: use 1-64 of a-z 0-9 . _ - starting with a "
                 "letter or digit",
                 o->admin);
        return DG_EINVAL;
    }
    if (!strchr(o->listen, ':')) {
        snprintf(err, err_len, "--listen must be HOST:PORT, got \"%s\"", o->listen);
        return DG_EINVAL;
    }
    if ((rc = prepare_dir(o->data_dir, &made, err, err_len)) != DG_OK)
        return rc;
    rc = do_init(o, username, password, out, err, err_len);
    dg_wipe(password, sizeof password);
    if (rc != DG_OK)
        undo(o->data_dir, &made);
    return rc;
}
