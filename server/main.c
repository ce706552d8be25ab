/* main.c - dangand's command line: parse arguments, call one function.
 *
 *   dangand init --data DIR [--listen HOST:PORT] [--san NAME]... [--admin NAME]
 *   dangand serve --data DIR [--config FILE] [--listen HOST:PORT] [--log-level L]
 *   dangand demo-data --data DIR --customers N [--seed S] [--base-date YYYY-MM-DD]
 *   dangand audit-verify --data DIR [--head SEQ:HASH] [--json]
 *   dangand check --data DIR [--quick] [--json]
 *   dangand backup --data DIR --to FILE [--encrypt] [--key-file KEY]
 *   dangand restore --data DIR --from FILE [--key-file KEY]
 *   dangand --version
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "backup.h"
#include "check.h"
#include "config.h"
#include "demo.h"
#include "dg.h"
#include "entity.h"
#include "hex.h"
#include "init.h"
#include "log.h"
#include "serve.h"
#include "store.h"

#define MAX_SANS 60

static void usage(FILE *f)
{
    fprintf(f, "usage: dangand <command> [options]\n"
               "\n"
               "commands:\n"
               "  init  --data DIR [--listen HOST:PORT] [--san NAME]... [--admin NAME]\n"
               "        create a data directory: database, TLS key and certificate, first admin\n"
               "  serve --data DIR [--config FILE] [--listen HOST:PORT] [--log-level LEVEL]\n"
               "        run the server in the foreground; SIGINT/SIGTERM/SIGHUP stop it cleanly.\n"
               "        It checks DIR first and exits 3, having written nothing, when DIR\n"
               "        is not fit to serve (see dangand check)\n"
               "  demo-data --data DIR --customers N [--seed S] [--base-date YYYY-MM-DD]\n"
               "        add N reproducible demo customers with their dossiers and the demo\n"
               "        accounts that own them (server stopped); same seed and base date\n"
               "        (default: today in Asia/Shanghai), same data\n"
               "  audit-verify --data DIR [--head SEQ:HASH] [--json]\n"
               "        recompute the audit log's hash chain (server running or not); exit 0\n"
               "        when intact, 1 naming the first bad record; --head also catches\n"
               "        records cut off the end\n"
               "  check --data DIR [--quick] [--json]\n"
               "        check a data directory with the server stopped: file modes, settings,\n"
               "        the database file and its WAL, integrity, the audit chain; exit 0 when\n"
               "        it is fit to serve, 1 naming what is wrong and how to fix it. --quick:\n"
               "        the bounded check the server runs after an unclean shutdown\n"
               "  backup --data DIR --to FILE [--encrypt] [--key-file KEY]\n"
               "        copy the database into the new FILE while the server runs, and verify\n"
               "        the copy (structure and audit chain). --encrypt: AES-256-GCM with a\n"
               "        key from a passphrase on stdin (asked twice on a terminal) or KEY\n"
               "  restore --data DIR --from FILE [--key-file KEY]\n"
               "        replace the database with a backup (server stopped): verified first,\n"
               "        the replaced one kept in DIR/before-restore-*, clients resynchronise;\n"
               "        an encrypted FILE is opened with a passphrase on stdin or KEY\n"
               "  --version\n"
               "\n"
               "Settings: defaults < DIR/dangand.conf < --config FILE < flags.\n"
               "See deploy/dangand.conf.example for every setting.\n");
}

/* One option of a subcommand: --NAME VALUE stores VALUE in *value (the last
 * one given wins) or, with `list`, appends it (at most `max`); --NAME alone
 * sets *flag. */
struct opt {
    const char *name;
    const char *meta; /* the value's name in messages ("DIR"); NULL: a flag */
    bool required;
    const char **value;
    bool *flag;
    const char **list;
    size_t *n_list, max;
};

/* Parses argv (argv[0] is the subcommand) against `opts`, ended by {NULL}.
 * Returns -1 to go on, or the exit code: 0 after --help, 2 after an unknown
 * option, a stray argument or a missing required option (each said on
 * stderr, with every required option named). */
static int parse_opts(int argc, char **argv, const struct opt *opts)
{
    struct option lopts[16];
    size_t n = 0, n_required = 0, i;
    int c, idx;

    for (i = 0; opts[i].name; i++) {
        dg_assert(n + 2 < sizeof lopts / sizeof lopts[0]);
        lopts[n++] =
            (struct option){opts[i].name, opts[i].meta ? required_argument : no_argument, NULL, 0};
    }
    lopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[n] = (struct option){NULL, 0, NULL, 0};
    while ((c = getopt_long(argc, argv, "", lopts, &idx)) != -1) {
        const struct opt *o = &opts[idx];

        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c != 0) {
            usage(stderr);
            return 2;
        }
        if (o->flag) {
            *o->flag = true;
        } else if (o->list) {
            if (*o->n_list == o->max) {
                fprintf(stderr, "dangand %s: at most %zu --%s\n", argv[0], o->max, o->name);
                return 2;
            }
            o->list[(*o->n_list)++] = optarg;
        } else {
            *o->value = optarg;
        }
    }
    bool missing = optind != argc;
    for (i = 0; opts[i].name; i++) {
        if (opts[i].required) {
            n_required++;
            missing |= !*opts[i].value;
        }
    }
    if (!missing)
        return -1;
    fprintf(stderr, "dangand %s: ", argv[0]);
    for (i = 0, n = 0; opts[i].name; i++) {
        if (opts[i].required)
            fprintf(stderr, "%s--%s %s", n++ ? " and " : "", opts[i].name, opts[i].meta);
    }
    fprintf(stderr, " %s required\n", n_required > 1 ? "are" : "is");
    return 2;
}

static int cmd_init(int argc, char **argv)
{
    const char *sans[MAX_SANS];
    dg_config defaults;
    dg_init_opts o = {.listen = "127.0.0.1:7443", .admin = "admin", .sans = sans};
    const struct opt opts[] = {
        {"data", "DIR", true, .value = &o.data_dir},
        {"listen", "HOST:PORT", .value = &o.listen},
        {"san", "NAME", .list = sans, .n_list = &o.n_sans, .max = MAX_SANS},
        {"admin", "NAME", .value = &o.admin},
        {NULL},
    };
    char err[512];
    int rc;

    if ((rc = parse_opts(argc, argv, opts)) >= 0)
        return rc;
    dg_config_defaults(&defaults);
    o.argon2 = (dg_argon2_params){defaults.argon2_memory_kib, defaults.argon2_iterations,
                                  defaults.argon2_lanes};
    dg_log_set_level(DG_LOG_WARN); /* init speaks in its summary, not in log lines */
    if (dg_init_run(&o, stdout, err, sizeof err) != DG_OK) {
        fprintf(stderr, "dangand init: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    const char *data = NULL, *config = NULL, *listen = NULL, *level = NULL;
    const struct opt opts[] = {
        {"data", "DIR", true, .value = &data},
        {"config", "FILE", .value = &config},
        {"listen", "HOST:PORT", .value = &listen},
        {"log-level", "LEVEL", .value = &level},
        {NULL},
    };
    char path[1200], err[512];
    dg_config cfg;
    int rc;

    if ((rc = parse_opts(argc, argv, opts)) >= 0)
        return rc;
    dg_config_defaults(&cfg);
    if (strlen(data) >= sizeof cfg.data_dir) {
        fprintf(stderr, "dangand serve: data directory path too long\n");
        return 2;
    }
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    snprintf(path, sizeof path, "%s/%s", data, DG_CONF_FILE);
    rc = dg_config_load(&cfg, path, err, sizeof err);
    if (rc != DG_OK && rc != DG_ENOTFOUND) {
        fprintf(stderr, "dangand serve: %s\n", err);
        return 2;
    }
    if (config && dg_config_load(&cfg, config, err, sizeof err) != DG_OK) {
        fprintf(stderr, "dangand serve: %s\n", err);
        return 2;
    }
    if ((listen && dg_config_set(&cfg, "server", "listen", listen, err, sizeof err) != DG_OK) ||
        (level && dg_config_set(&cfg, "server", "log_level", level, err, sizeof err) != DG_OK) ||
        dg_config_check(&cfg, err, sizeof err) != DG_OK) {
        fprintf(stderr, "dangand serve: %s\n", err);
        return 2;
    }
    dg_log_set_level(cfg.log_level);
    return dg_serve_run(&cfg);
}

/* A whole decimal number in [lo, hi], or false. */
static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int cmd_demo_data(int argc, char **argv)
{
    char today[DG_DATE_LEN];
    dg_demo_opts o = {.seed = 1, .base_date = today};
    const char *customers = NULL, *seed = NULL;
    const struct opt opts[] = {
        {"data", "DIR", true, .value = &o.data_dir},
        {"customers", "N", true, .value = &customers},
        {"seed", "S", .value = &seed},
        {"base-date", "YYYY-MM-DD", .value = &o.base_date},
        {NULL},
    };
    dg_config defaults;
    long long v;
    char err[512];
    int rc;

    dg_demo_today(today);
    if ((rc = parse_opts(argc, argv, opts)) >= 0)
        return rc;
    if (!parse_int(customers, 1, DG_DEMO_MAX_CUSTOMERS, &v)) {
        fprintf(stderr, "dangand demo-data: --customers must be 1-%d\n", DG_DEMO_MAX_CUSTOMERS);
        return 2;
    }
    o.n_customers = v;
    if (seed && !parse_int(seed, 0, INT64_MAX, &v)) {
        fprintf(stderr, "dangand demo-data: --seed must be a whole number >= 0\n");
        return 2;
    }
    if (seed)
        o.seed = v;
    if (!dg_date_valid(o.base_date)) {
        fprintf(stderr, "dangand demo-data: --base-date must be YYYY-MM-DD\n");
        return 2;
    }
    dg_config_defaults(&defaults);
    o.argon2 = (dg_argon2_params){defaults.argon2_memory_kib, defaults.argon2_iterations,
                                  defaults.argon2_lanes};
    o.progress = isatty(STDERR_FILENO) ? stderr : NULL;
    dg_log_set_level(DG_LOG_WARN); /* demo-data speaks in its summary, not in log lines */
    rc = dg_demo_run(&o, stdout, err, sizeof err);
    if (rc == DG_OK)
        return 0;
    fprintf(stderr, "dangand demo-data: %s\n", err);
    return rc == DG_ECLOSED ? 130 : 1; /* 130: stopped by a signal, the loaded part committed */
}

static void print_verdict(const dg_audit_verdict *v, bool json)
{
    char head[DG_AUDIT_HEAD_TEXT_LEN];

    dg_audit_head_format(v->head.seq, v->head.hash, head);
    if (json) {
        printf("{\"ok\": %s, \"checked\": %lld, \"first_bad_seq\": ", v->ok ? "true" : "false",
               (long long)v->checked);
        if (v->ok)
            printf("null");
        else
            printf("%lld", (long long)v->first_bad_seq);
        printf(", \"head\": {\"seq\": %lld, \"hash\": \"%s\"}}\n", (long long)v->head.seq,
               strchr(head, ':') + 1);
    } else if (v->ok) {
        printf("audit log intact: %lld records verified\nhead %s\n", (long long)v->checked, head);
    } else {
        printf("audit log BROKEN at record %lld: %s\n%lld records before it verified; the log "
               "ends at %s\n",
               (long long)v->first_bad_seq, v->problem, (long long)v->checked, head);
    }
}

static int cmd_audit_verify(int argc, char **argv)
{
    const char *data = NULL, *head = NULL;
    bool json = false;
    const struct opt opts[] = {
        {"data", "DIR", true, .value = &data},
        {"head", "SEQ:HASH", .value = &head},
        {"json", .flag = &json},
        {NULL},
    };
    dg_audit_chain expect;
    dg_audit_verdict v;
    dg_store *st = NULL;
    char path[1200], err[512];
    int rc;

    if ((rc = parse_opts(argc, argv, opts)) >= 0)
        return rc;
    if (head && dg_audit_head_parse(head, &expect.seq, expect.hash) != DG_OK) {
        fprintf(stderr, "dangand audit-verify: --head must be SEQ:HASH as `dangan audit head` "
                        "prints it (64 hex digits)\n");
        return 2;
    }
    dg_log_set_level(DG_LOG_WARN);
    snprintf(path, sizeof path, "%s/%s", data, DG_DB_FILE);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "dangand audit-verify: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    /* A read-only connection: verifying never writes, and works while the
     * server runs (it sees the last committed state). */
    if ((rc = dg_store_open(path, false, &st, err, sizeof err)) != DG_OK) {
        fprintf(stderr, "dangand audit-verify: %s\n", err);
        return 1;
    }
    if ((rc = dg_store_read_begin(st)) == DG_OK) {
        rc = dg_audit_verify(st, head ? &expect : NULL, &v);
        dg_store_read_end(st);
    }
    dg_store_close(st);
    if (rc != DG_OK) {
        fprintf(stderr, "dangand audit-verify: cannot read the audit log: %s\n", dg_strerror(rc));
        return 1;
    }
    print_verdict(&v, json);
    return v.ok ? 0 : 1;
}

static int cmd_check(int argc, char **argv)
{
    const char *data = NULL;
    bool json = false, quick = false;
    const struct opt opts[] = {
        {"data", "DIR", true, .value = &data},
        {"quick", .flag = &quick},
        {"json", .flag = &json},
        {NULL},
    };
    dg_check_report r;
    char err[1400];
    int lock_fd = -1, rc;

    if ((rc = parse_opts(argc, argv, opts)) >= 0)
        return rc;
    dg_log_set_level(DG_LOG_WARN);
    /* Offline: a running server changes the files under the check. A
     * directory too broken to lock is still checked (and fails). */
    rc = dg_data_dir_lock(data, "check", false, &lock_fd, err, sizeof err);
    if (rc == DG_EBUSY) {
        fprintf(stderr, "dangand check: %s\n", err);
        return 1;
    }
    dg_check_run(data, quick ? DG_CHECK_BOUNDED : DG_CHECK_FULL, &r);
    dg_check_print(&r, data, json, stdout);
    if (lock_fd >= 0)
        close(lock_fd);
    return r.ok ? 0 : 1;
}

/* The secret of an encrypted backup: --key-file, or a passphrase on stdin. */
static int read_secret(const char *name, const char *key_file, bool is_new,
                       dg_backup_secret *secret)
{
    char err[1400];
    int rc = key_file ? dg_backup_secret_from_file(key_file, secret, err, sizeof err)
                      : dg_backup_secret_from_stdin(is_new, secret, err, sizeof err);

    if (rc != DG_OK)
        fprintf(stderr, "dangand %s: %s\n", name, err);
    return rc;
}

/* backup --data DIR --to FILE [--encrypt] [--key-file KEY] and
 * restore --data DIR --from FILE [--key-file KEY]. */
static int cmd_backup_or_restore(int argc, char **argv, bool is_backup)
{
    const char *name = is_backup ? "backup" : "restore";
    const char *data = NULL, *file = NULL, *key_file = NULL;
    bool encrypt = false;
    const struct opt backup_opts[] = {
        {"data", "DIR", true, .value = &data},
        {"to", "FILE", true, .value = &file},
        {"encrypt", .flag = &encrypt},
        {"key-file", "KEY", .value = &key_file},
        {NULL},
    };
    const struct opt restore_opts[] = {
        {"data", "DIR", true, .value = &data},
        {"from", "FILE", true, .value = &file},
        {"key-file", "KEY", .value = &key_file},
        {NULL},
    };
    dg_backup_secret secret;
    bool with_secret;
    char err[1600];
    int rc;

    if ((rc = parse_opts(argc, argv, is_backup ? backup_opts : restore_opts)) >= 0)
        return rc;
    dg_log_set_level(DG_LOG_WARN); /* it speaks in its summary, not in log lines */
    /* a key file means encryption; a restore asks only for an encrypted backup */
    with_secret = is_backup ? encrypt || key_file : dg_backup_file_is_sealed(file);
    if (with_secret && read_secret(name, key_file, is_backup, &secret) != DG_OK)
        return 1;
    const dg_backup_secret *s = with_secret ? &secret : NULL;
    rc = is_backup ? dg_backup_run(data, file, s, NULL, stdout, err, sizeof err)
                   : dg_restore_run(data, file, s, stdout, err, sizeof err);
    if (with_secret)
        dg_backup_secret_wipe(&secret);
    if (rc == DG_OK)
        return 0;
    fprintf(stderr, "dangand %s: %s\n", name, err);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("dangand %s\n", DANGAN_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "demo-data") == 0)
        return cmd_demo_data(argc - 1, argv + 1);
    if (strcmp(argv[1], "audit-verify") == 0)
        return cmd_audit_verify(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "backup") == 0)
        return cmd_backup_or_restore(argc - 1, argv + 1, true);
    if (strcmp(argv[1], "restore") == 0)
        return cmd_backup_or_restore(argc - 1, argv + 1, false);
    fprintf(stderr, "dangand: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
