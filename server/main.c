/* main.c - dangand's command line: parse arguments, call one function.
 *
 *   dangand init --data DIR [--listen HOST:PORT] [--san NAME]... [--admin NAME]
 *   dangand serve --data DIR [--config FILE] [--listen HOST:PORT] [--log-level L]
 *   dangand demo-data --data DIR --customers N [--seed S] [--base-date YYYY-MM-DD]
 *   dangand audit-verify --data DIR [--head SEQ:HASH] [--json]
 *   dangand check --data DIR [--quick] [--json]
 *   dangand backup --data DIR --to FILE
 *   dangand restore --data DIR --from FILE
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
               "        run the server in the foreground; SIGINT/SIGTERM stop it cleanly.\n"
               "        It checks DIR first and exits 3, having written nothing, when DIR\n"
               "        is not fit to serve (see dangand check)\n"
               "  demo-data --data DIR --customers N [--seed S] [--base-date YYYY-MM-DD]\n"
               "        add N reproducible demo customers with their dossiers and the demo\n"
               "        accounts that own them (server stopped); same seed, same data\n"
               "  audit-verify --data DIR [--head SEQ:HASH] [--json]\n"
               "        recompute the audit log's hash chain (server running or not); exit 0\n"
               "        when intact, 1 naming the first bad record; --head also catches\n"
               "        records cut off the end\n"
               "  check --data DIR [--quick] [--json]\n"
               "        check a data directory with the server stopped: file modes, settings,\n"
               "        the database file and its WAL, integrity, the audit chain; exit 0 when\n"
               "        it is fit to serve, 1 naming what is wrong and how to fix it. --quick:\n"
               "        the bounded check the server runs after an unclean shutdown\n"
               "  backup --data DIR --to FILE\n"
               "        copy the database into the new FILE while the server runs, and verify\n"
               "        the copy (structure and audit chain)\n"
               "  restore --data DIR --from FILE\n"
               "        replace the database with a backup (server stopped): verified first,\n"
               "        the replaced one kept in DIR/before-restore-*, clients resynchronise\n"
               "  --version\n"
               "\n"
               "Settings: defaults < DIR/dangand.conf < --config FILE < flags.\n"
               "See deploy/dangand.conf.example for every setting.\n");
}

static int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"listen", required_argument, NULL, 'l'},
        {"san", required_argument, NULL, 's'},  {"admin", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *sans[MAX_SANS];
    dg_config defaults;
    dg_init_opts o = {.listen = "127.0.0.1:7443", .admin = "admin", .sans = sans};
    char err[512];
    int c;

    dg_config_defaults(&defaults);
    o.argon2 = (dg_argon2_params){defaults.argon2_memory_kib, defaults.argon2_iterations,
                                  defaults.argon2_lanes};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            break;
        case 'l':
            o.listen = optarg;
            break;
        case 'a':
            o.admin = optarg;
            break;
        case 's':
            if (o.n_sans == MAX_SANS) {
                fprintf(stderr, "dangand init: at most %d --san\n", MAX_SANS);
                return 2;
            }
            sans[o.n_sans++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.data_dir || optind != argc) {
        fprintf(stderr, "dangand init: --data DIR is required\n");
        return 2;
    }
    dg_log_set_level(DG_LOG_WARN); /* init speaks in its summary, not in log lines */
    if (dg_init_run(&o, stdout, err, sizeof err) != DG_OK) {
        fprintf(stderr, "dangand init: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},   {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'}, {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *config = NULL, *listen = NULL, *level = NULL;
    char path[1200], err[512];
    dg_config cfg;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'v':
            level = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!data || optind != argc) {
        fprintf(stderr, "dangand serve: --data DIR is required\n");
        return 2;
    }
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
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"customers", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'}, {"base-date", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    dg_demo_opts o = {.seed = 1, .base_date = DG_DEMO_DEFAULT_BASE_DATE};
    dg_config defaults;
    long long v;
    char err[512];
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            break;
        case 'n':
            if (!parse_int(optarg, 1, DG_DEMO_MAX_CUSTOMERS, &v)) {
                fprintf(stderr, "dangand demo-data: --customers must be 1-%d\n",
                        DG_DEMO_MAX_CUSTOMERS);
                return 2;
            }
            o.n_customers = v;
            break;
        case 's':
            if (!parse_int(optarg, 0, INT64_MAX, &v)) {
                fprintf(stderr, "dangand demo-data: --seed must be a whole number >= 0\n");
                return 2;
            }
            o.seed = v;
            break;
        case 'b':
            if (!dg_date_valid(optarg)) {
                fprintf(stderr, "dangand demo-data: --base-date must be YYYY-MM-DD\n");
                return 2;
            }
            o.base_date = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.data_dir || !o.n_customers || optind != argc) {
        fprintf(stderr, "dangand demo-data: --data DIR and --customers N are required\n");
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
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"head", required_argument, NULL, 'H'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    dg_audit_chain expect;
    bool has_expect = false, json = false;
    dg_audit_verdict v;
    dg_store *st = NULL;
    char path[1200], err[512];
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'H':
            if (dg_audit_head_parse(optarg, &expect.seq, expect.hash) != DG_OK) {
                fprintf(stderr, "dangand audit-verify: --head must be SEQ:HASH as `dangan audit "
                                "head` prints it (64 hex digits)\n");
                return 2;
            }
            has_expect = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!data || optind != argc) {
        fprintf(stderr, "dangand audit-verify: --data DIR is required\n");
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
        rc = dg_audit_verify(st, has_expect ? &expect : NULL, &v);
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
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"quick", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    bool json = false, quick = false;
    dg_check_report r;
    char err[1400];
    int c, lock_fd = -1, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'q':
            quick = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!data || optind != argc) {
        fprintf(stderr, "dangand check: --data DIR is required\n");
        return 2;
    }
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

/* backup --data DIR --to FILE and restore --data DIR --from FILE: `file_opt`
 * names the second option. */
static int cmd_backup_or_restore(int argc, char **argv, bool is_backup)
{
    const char *name = is_backup ? "backup" : "restore", *file_opt = is_backup ? "to" : "from";
    const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {file_opt, required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *file = NULL;
    char err[1600];
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') {
            data = optarg;
        } else if (c == 'f') {
            file = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!data || !file || optind != argc) {
        fprintf(stderr, "dangand %s: --data DIR and --%s FILE are required\n", name, file_opt);
        return 2;
    }
    dg_log_set_level(DG_LOG_WARN); /* it speaks in its summary, not in log lines */
    rc = is_backup ? dg_backup_run(data, file, stdout, err, sizeof err)
                   : dg_restore_run(data, file, stdout, err, sizeof err);
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
