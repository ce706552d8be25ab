/* main.c - the dangan CLI: global options, then one command.
 *
 *   dangan [--server HOST:PORT] [--json] [--utc] [--config-dir DIR] <command> [args]
 *   dangan help [<command> [<subcommand>]]   (the same as <command> ... --help)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(cli *c);
    const char *summary;
};

static const struct command commands[] = {
    {"connect", cmd_connect, "trust a server and make it the default"},
    {"login", cmd_login, "log in and keep the session"},
    {"logout", cmd_logout, "end the session"},
    {"whoami", cmd_whoami, "show who you are logged in as"},
    {"ping", cmd_ping, "measure the round trip to the server"},
    {"passwd", cmd_passwd, "change your password"},
    {"customer", cmd_customer, "the customer file: add, show, edit, list, search..."},
    {"contact", cmd_contact, "a customer's people"},
    {"note", cmd_note, "the communication log (calls, visits, meetings)"},
    {"deal", cmd_deal, "deals and orders"},
    {"tiers", cmd_tiers, "the ABC classification by revenue: show, apply (managers)"},
    {"feedback", cmd_feedback, "complaints, suggestions, praise, surveys"},
    {"task", cmd_task, "follow-ups to do"},
    {"today", cmd_today, "the day's contact list: tasks, calls and visits due, follow-ups..."},
    {"field", cmd_field, "custom fields of the customer file"},
    {"doc", cmd_doc, "documents attached to a customer: upload, list, get, archive"},
    {"user", cmd_user, "accounts: add, list, set-role, disable, enable, reset-password"},
    {"pool", cmd_pool, "the public pool (公海): list, claim, release customers without an owner"},
    {"lifecycle", cmd_lifecycle, "suggested status changes (active, dormant, lost) and apply"},
    {"watch", cmd_watch, "live changes as colleagues make them (reconnects by itself)"},
    {"import", cmd_import, "customers from a CSV or XLSX file (managers, admins)"},
    {"export", cmd_export, "records to a CSV or XLSX file (managers, admins)"},
    {"report", cmd_report, "the manager's reports: summary, revenue, pipeline, activity..."},
    {"audit", cmd_audit, "the tamper-evident audit log (admins, auditors)"},
    {"server", cmd_server, "the server's state: stats (admins)"},
    {"settings", cmd_settings, "the team's settings: time zone, cadence, stages... (set: admins)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: dangan [--server HOST:PORT] [--json] [--utc] [--config-dir DIR] <command> [args]\n"
               "\ncommands:\n");
    for (size_t i = 0; i < DG_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`dangan help <command>` (or `dangan <command> --help`) describes a command.\n"
               "Exit codes: 0 ok, 1 server error, 2 usage, 3 cannot connect or untrusted,\n"
               "4 not logged in, 5 not found, 6 permission denied, 7 version conflict,\n"
               "8 already exists, 9 invalid.\n");
}

/* Takes the global options out of argv wherever they stand (before "--"). */
static int take_globals(cli *c, int argc, char **argv, const char **config_dir, char **rest,
                        int *n_rest)
{
    bool is_literal = false;

    *n_rest = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (is_literal || a[0] != '-') {
            rest[(*n_rest)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            is_literal = true;
            rest[(*n_rest)++] = argv[i];
        } else if (strcmp(a, "--json") == 0) {
            c->is_json = true;
        } else if (strcmp(a, "--utc") == 0) {
            c->is_utc = true;
        } else if (strcmp(a, "--server") == 0 || strcmp(a, "--config-dir") == 0) {
            if (i + 1 >= argc)
                return cli_usage(c, "%s needs a value", a);
            *(a[2] == 's' ? &c->server_flag : config_dir) = argv[++i];
        } else if (strncmp(a, "--server=", 9) == 0) {
            c->server_flag = a + 9;
        } else if (strncmp(a, "--config-dir=", 13) == 0) {
            *config_dir = a + 13;
        } else {
            rest[(*n_rest)++] = argv[i];
        }
    }
    rest[*n_rest] = NULL;
    return EXIT_OK;
}

/* An unknown command: a usage error naming the nearest command, if any. */
static int unknown_command(cli *c, const char *name)
{
    const char *names[DG_ARRAY_LEN(commands) + 2] = {"help", "version"};
    const char *near;

    for (size_t i = 0; i < DG_ARRAY_LEN(commands); i++)
        names[i + 2] = commands[i].name;
    near = cli_suggest(name, names, DG_ARRAY_LEN(names));
    if (near)
        return cli_usage(c, "unknown command \"%s\"; did you mean %s?", name, near);
    return cli_usage(c, "unknown command \"%s\"", name);
}

int main(int argc, char **argv)
{
    static char help_flag[] = "--help";
    cli c = {0};
    const char *config_dir = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest, rc;

    if (!rest)
        return EXIT_SERVER;
    if ((rc = take_globals(&c, argc, argv, &config_dir, rest, &n_rest)) != EXIT_OK)
        goto out;
    cli_when_init(&c);
    if (n_rest > 1 && strcmp(rest[0], "help") == 0) {
        /* `help CMD [SUB...]` is `CMD [SUB...] --help`: the same words, one slot each */
        memmove(rest, rest + 1, (size_t)(n_rest - 1) * sizeof *rest);
        rest[n_rest - 1] = help_flag;
    }
    if (n_rest == 0 || strcmp(rest[0], "--help") == 0 || strcmp(rest[0], "-h") == 0 ||
        strcmp(rest[0], "help") == 0) {
        usage(n_rest ? stdout : stderr);
        rc = n_rest ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    if (strcmp(rest[0], "--version") == 0 || strcmp(rest[0], "version") == 0) {
        printf("dangan %s\n", DANGAN_VERSION);
        rc = EXIT_OK;
        goto out;
    }
    rc = -1;
    for (size_t i = 0; i < DG_ARRAY_LEN(commands); i++) {
        if (strcmp(rest[0], commands[i].name) != 0)
            continue;
        c.argc = n_rest;
        c.argv = rest;
        rc = cli_settings_init(&c, config_dir);
        if (rc == EXIT_OK)
            rc = commands[i].fn(&c);
        break;
    }
    if (rc == -1)
        rc = unknown_command(&c, rest[0]);
out:
    dg_client_close(c.client);
    free(rest);
    return rc;
}
