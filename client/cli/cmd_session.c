/* cmd_session.c - connect, login, logout, whoami, ping, passwd. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hex.h"

#define PASSWORD_MAX 1100

static void print_help(const char *text)
{
    fputs(text, stdout);
}

/* Resets GNU getopt for a command's own argv. */
static void getopt_reset(void)
{
    optind = 0;
    opterr = 0;
}

static int bad_option(cli *c, char **argv)
{
    return cli_usage(c, "unknown or incomplete option \"%s\"", argv[optind - 1]);
}

/* ------------------------------------------------------------ connect */

static const char CONNECT_HELP[] =
    "usage: dangan connect HOST:PORT [--ca FILE | --fingerprint SHA256] [--yes]\n"
    "\n"
    "Trusts a server and makes it the default for later commands. Without --ca or\n"
    "--fingerprint the server's certificate fingerprint is shown and you are asked\n"
    "to confirm it (compare it with what `dangand init` printed); --yes accepts it\n"
    "without asking. A known server whose certificate changed is refused.\n"
    "  --ca FILE            verify with this CA file (or the server's cert.pem)\n"
    "  --fingerprint SHA256 trust exactly this certificate (AB:CD:... or 64 hex digits)\n"
    "  --yes                trust the fingerprint shown without asking\n";

/* Decides how to trust `server`. Fills kind/value or returns an exit code. */
static int choose_trust(cli *c, const char *server, bool is_yes, char *kind, size_t kind_len,
                        char *value, size_t value_len)
{
    char fp[DG_CLIENT_FINGERPRINT_TEXT_LEN], err[512], known_kind[32], known[1024];
    bool is_known =
        cli_known_get(c, server, known_kind, sizeof known_kind, known, sizeof known) == DG_OK;

    if (is_known && strcmp(known_kind, "ca") == 0) {
        snprintf(kind, kind_len, "ca");
        snprintf(value, value_len, "%s", known);
        return EXIT_OK;
    }
    if (dg_client_probe_fingerprint(server, 10000, fp, err, sizeof err) != DG_OK)
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE", "cannot_connect", "%s", err);
    snprintf(kind, kind_len, "fingerprint");
    snprintf(value, value_len, "%s", fp);
    if (is_known && strcmp(known, fp) == 0)
        return EXIT_OK;
    if (is_known)
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE", "fingerprint_changed",
                        "the certificate of %s has CHANGED.\n  trusted: SHA256:%s\n  now:     "
                        "SHA256:%s\nSomeone may be intercepting the connection. If the change is "
                        "expected, confirm the new fingerprint with the server's administrator "
                        "and run: dangan connect %s --fingerprint SHA256:%s",
                        server, known, fp, server, fp);
    fprintf(stderr,
            "The certificate of %s has the SHA-256 fingerprint\n  SHA256:%s\n"
            "Compare it with the one `dangand init` printed on the server.\n",
            server, fp);
    if (!is_yes && !cli_confirm("Trust this server? [y/N] "))
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE", "untrusted_server",
                        "server not trusted; to trust it without a prompt use --yes or "
                        "--fingerprint SHA256:%s",
                        fp);
    return EXIT_OK;
}

int cmd_connect(cli *c)
{
    static const struct option opts[] = {{"ca", required_argument, NULL, 'c'},
                                         {"fingerprint", required_argument, NULL, 'f'},
                                         {"yes", no_argument, NULL, 'y'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *ca = NULL, *fingerprint = NULL, *server;
    char kind[32], value[1024], fp_text[DG_FINGERPRINT_TEXT_LEN];
    uint8_t fp[DG_FINGERPRINT_LEN];
    dg_client_opts o = {.client_name = "dangan-cli/" DANGAN_VERSION};
    bool is_yes = false;
    int opt, rc;

    getopt_reset();
    while ((opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            ca = optarg;
            break;
        case 'f':
            fingerprint = optarg;
            break;
        case 'y':
            is_yes = true;
            break;
        case 'h':
            print_help(CONNECT_HELP);
            return EXIT_OK;
        default:
            return bad_option(c, c->argv);
        }
    }
    if (optind != c->argc - 1)
        return cli_usage(c, "connect takes one HOST:PORT");
    server = c->argv[optind];
    if (!strchr(server, ':'))
        return cli_usage(c, "server must be HOST:PORT, got \"%s\"", server);
    if (ca && fingerprint)
        return cli_usage(c, "give --ca or --fingerprint, not both");
    snprintf(c->server, sizeof c->server, "%s", server);
    if (fingerprint) {
        if (dg_fingerprint_parse(fingerprint, fp) != DG_OK)
            return cli_usage(c, "--fingerprint must be 64 hex digits, e.g. SHA256:AB:CD:...");
        dg_fingerprint_format(fp, fp_text);
        snprintf(kind, sizeof kind, "fingerprint");
        snprintf(value, sizeof value, "%s", fp_text);
    } else if (ca) {
        if (!realpath(ca, value))
            return cli_usage(c, "cannot read CA file %s", ca);
        snprintf(kind, sizeof kind, "ca");
    } else if ((rc = choose_trust(c, server, is_yes, kind, sizeof kind, value, sizeof value)) !=
               EXIT_OK) {
        return rc;
    }
    o.server = server;
    if (strcmp(kind, "ca") == 0)
        o.ca_file = value;
    else
        o.fingerprint = value;
    if ((rc = dg_client_open(&o, &c->client)) != DG_OK)
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE",
                        rc == DG_ETRUST ? "untrusted_server" : "cannot_connect", "%s",
                        dg_client_errmsg(c->client));
    if (cli_known_put(c, server, kind, value) != DG_OK || cli_current_put(c, server, NULL) != DG_OK)
        return cli_fail(c, EXIT_SERVER, "INTERNAL", "config_write",
                        "cannot write to the config directory %s", c->config_dir);
    const Dangan__V1__HelloResponse *h = dg_client_hello(c->client);
    if (c->is_json) {
        cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "server", server, "trust", kind,
                                 strcmp(kind, "ca") == 0 ? "ca" : "fingerprint", value,
                                 "server_version", h->server_version, "server_id", h->server_id));
    } else {
        printf("Connected to %s (dangand %s). Trusted by %s %s%s.\n", server, h->server_version,
               kind, strcmp(kind, "ca") == 0 ? "" : "SHA256:", value);
        printf("Next: dangan login --user NAME\n");
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------ login */

static const char LOGIN_HELP[] =
    "usage: dangan login [--user NAME] [--password-stdin]\n"
    "\n"
    "Logs in to the current server and keeps the session token (mode 0600) in the\n"
    "config directory, so later commands need no password.\n"
    "  --user NAME        user name (default: the last one used, else asked)\n"
    "  --password-stdin   read the password from the first line of stdin\n";

static int read_password(cli *c, bool from_stdin, const char *prompt, char *buf, size_t len)
{
    int rc = from_stdin ? cli_read_line(buf, len) : cli_read_secret(prompt, buf, len);

    if (rc == DG_ETOOBIG)
        return cli_usage(c, "the password is too long (over %zu bytes)", len - 1);
    if (rc != DG_OK)
        return cli_usage(c, from_stdin ? "no password on stdin"
                                       : "no terminal to ask for the password on: use "
                                         "--password-stdin");
    return EXIT_OK;
}

int cmd_login(cli *c)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"password-stdin", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char user[128] = "", saved_server[256], saved_user[128], prompt[512];
    char password[PASSWORD_MAX], token[DG_CLIENT_TOKEN_LEN + 1], when[32], role[32];
    const Dangan__V1__SessionInfo *si;
    bool is_stdin = false;
    dg_reply *who = NULL;
    int opt, rc;

    getopt_reset();
    while ((opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            snprintf(user, sizeof user, "%s", optarg);
            break;
        case 'p':
            is_stdin = true;
            break;
        case 'h':
            print_help(LOGIN_HELP);
            return EXIT_OK;
        default:
            return bad_option(c, c->argv);
        }
    }
    if (optind != c->argc)
        return cli_usage(c, "login takes no arguments besides its options");
    cli_current_get(c, saved_server, sizeof saved_server, saved_user, sizeof saved_user);
    if (!user[0] && saved_user[0] && (!c->server_flag || !strcmp(c->server_flag, saved_server)))
        snprintf(user, sizeof user, "%s", saved_user);
    if (!user[0] && cli_read_text("User: ", user, sizeof user) != DG_OK)
        return cli_usage(c, "no user name: use --user NAME");
    if ((rc = cli_connect(c)) != EXIT_OK)
        return rc;
    snprintf(prompt, sizeof prompt, "Password for %s@%s: ", user, c->server);
    if ((rc = read_password(c, is_stdin, prompt, password, sizeof password)) != EXIT_OK)
        return rc;
    rc = dg_client_login(c->client, user, password, token);
    dg_wipe(password, sizeof password);
    if (rc != DG_OK)
        return cli_fail_call(c, rc);
    rc = cli_token_put(c, c->server, token) == DG_OK && cli_current_put(c, c->server, user) == DG_OK
             ? EXIT_OK
             : cli_fail(c, EXIT_SERVER, "INTERNAL", "config_write",
                        "logged in, but cannot save the session in %s", c->config_dir);
    dg_wipe(token, sizeof token);
    if (rc != EXIT_OK)
        return rc;
    if ((rc = dg_client_whoami(c->client, &who)) != DG_OK)
        return cli_fail_call(c, rc);
    si = dg_reply_response(who)->whoami->session;
    if (c->is_json) {
        json_t *doc = cli_pb_to_json(&si->base);

        json_object_set_new(doc, "server", json_string(c->server));
        cli_print_json(doc);
    } else {
        cli_enum_name(&dangan__v1__role__descriptor, si->user->role, role, sizeof role);
        printf("Logged in to %s as %s (%s). The session lasts until %s, or %u min without use.\n",
               c->server, si->user->username, role, cli_time(si->expires_at_ms, when, sizeof when),
               si->idle_timeout_ms / 60000);
        if (si->must_change_password)
            printf("Your password must be changed before anything else: dangan passwd\n");
    }
    dg_reply_free(who);
    return EXIT_OK;
}

/* ------------------------------------------------------------ logout, whoami */

int cmd_logout(cli *c)
{
    char token[DG_CLIENT_TOKEN_LEN + 1];
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        print_help(
            "usage: dangan logout\n\nEnds the session on the server and forgets its token.\n");
        return EXIT_OK;
    }
    if (c->argc != 1)
        return cli_usage(c, "logout takes no arguments");
    if ((rc = cli_connect(c)) != EXIT_OK)
        return rc;
    if (cli_token_get(c, c->server, token) != DG_OK) {
        rc = EXIT_OK; /* nothing to end */
    } else if ((rc = dg_client_authenticate(c->client, token)) == DG_OK) {
        rc = dg_client_logout(c->client);
        if (rc != DG_OK) {
            dg_wipe(token, sizeof token);
            return cli_fail_call(c, rc);
        }
    } else if (rc != DG_EAUTH) { /* DG_EAUTH: the session had already ended */
        dg_wipe(token, sizeof token);
        return cli_fail_call(c, rc);
    }
    dg_wipe(token, sizeof token);
    (void)cli_token_delete(c, c->server); /* gone from the server either way */
    if (c->is_json)
        cli_print_json(json_pack("{s:s,s:b}", "server", c->server, "logged_out", 1));
    else
        printf("Logged out of %s.\n", c->server);
    return EXIT_OK;
}

int cmd_whoami(cli *c)
{
    const Dangan__V1__WhoamiResponse *w;
    char role[32], when[32];
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        print_help("usage: dangan whoami\n\nShows the user, role and session of this login.\n");
        return EXIT_OK;
    }
    if (c->argc != 1)
        return cli_usage(c, "whoami takes no arguments");
    if ((rc = cli_session(c)) != EXIT_OK)
        return rc;
    if ((rc = dg_client_whoami(c->client, &r)) != DG_OK)
        return cli_fail_call(c, rc);
    w = dg_reply_response(r)->whoami;
    cli_enum_name(&dangan__v1__role__descriptor, w->session->user->role, role, sizeof role);
    if (c->is_json) {
        cli_print_json(json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:b}", "user",
                                 w->session->user->username, "role", role, "user_id",
                                 (json_int_t)w->session->user->id, "server", c->server, "peer",
                                 w->peer, "expires_at_ms", (json_int_t)w->session->expires_at_ms,
                                 "must_change_password", (int)w->session->must_change_password));
    } else {
        printf("%s (role %s) on %s\n", w->session->user->username, role, c->server);
        printf("session ends by %s, or after %u min without use\n",
               cli_time(w->session->expires_at_ms, when, sizeof when),
               w->session->idle_timeout_ms / 60000);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ ping */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

int cmd_ping(cli *c)
{
    static const struct option opts[] = {{"count", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    long count = 1;
    int64_t *rtt;
    char *end;
    int opt, rc;

    getopt_reset();
    while ((opt = getopt_long(c->argc, c->argv, "hc:", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            count = strtol(optarg, &end, 10);
            if (*end || count < 1 || count > 1000000)
                return cli_usage(c, "--count must be 1 to 1000000");
            break;
        case 'h':
            print_help("usage: dangan ping [--count N]\n\nRound trips to the server (no login "
                       "needed).\n");
            return EXIT_OK;
        default:
            return bad_option(c, c->argv);
        }
    }
    if (optind != c->argc)
        return cli_usage(c, "ping takes no arguments besides --count");
    if ((rc = cli_connect(c)) != EXIT_OK)
        return rc;
    rtt = calloc((size_t)count, sizeof *rtt);
    if (!rtt)
        return cli_fail(c, EXIT_SERVER, "INTERNAL", "oom", "out of memory");
    for (long i = 0; i < count; i++) {
        if ((rc = dg_client_ping(c->client, &rtt[i])) != DG_OK) {
            free(rtt);
            return cli_fail_call(c, rc);
        }
        if (!c->is_json)
            printf("reply from %s: time=%.3f ms\n", c->server, (double)rtt[i] / 1000.0);
    }
    qsort(rtt, (size_t)count, sizeof *rtt, cmp_i64);
    double med = (double)rtt[count / 2] / 1000.0, lo = (double)rtt[0] / 1000.0,
           hi = (double)rtt[count - 1] / 1000.0;
    if (c->is_json)
        cli_print_json(json_pack("{s:f,s:i,s:f,s:f}", "rtt_ms", med, "count", (int)count, "min_ms",
                                 lo, "max_ms", hi));
    else if (count > 1)
        printf("%ld replies: min %.3f ms, median %.3f ms, max %.3f ms\n", count, lo, med, hi);
    free(rtt);
    return EXIT_OK;
}

/* ------------------------------------------------------------ passwd */

static const char PASSWD_HELP[] =
    "usage: dangan passwd [--password-stdin]\n"
    "\n"
    "Changes your password. Every other session of yours is signed out; this\n"
    "login continues with a new token.\n"
    "  --password-stdin   read the current password, then the new one, from two\n"
    "                     lines of stdin\n";

int cmd_passwd(cli *c)
{
    static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char current[PASSWORD_MAX], fresh[PASSWORD_MAX], again[PASSWORD_MAX];
    char token[DG_CLIENT_TOKEN_LEN + 1];
    bool is_stdin = false;
    int opt, rc;

    getopt_reset();
    while ((opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            is_stdin = true;
            break;
        case 'h':
            print_help(PASSWD_HELP);
            return EXIT_OK;
        default:
            return bad_option(c, c->argv);
        }
    }
    if (optind != c->argc)
        return cli_usage(c, "passwd takes no arguments besides its options");
    if ((rc = cli_session(c)) != EXIT_OK)
        return rc;
    rc = read_password(c, is_stdin, "Current password: ", current, sizeof current);
    if (rc == EXIT_OK)
        rc = read_password(c, is_stdin, "New password: ", fresh, sizeof fresh);
    if (rc == EXIT_OK && !is_stdin) {
        rc = read_password(c, false, "New password again: ", again, sizeof again);
        if (rc == EXIT_OK && strcmp(fresh, again) != 0)
            rc = cli_fail(c, EXIT_INVALID, "INVALID_ARGUMENT", "passwords_differ",
                          "the two new passwords differ; nothing changed");
        dg_wipe(again, sizeof again);
    }
    if (rc == EXIT_OK) {
        int call = dg_client_change_password(c->client, current, fresh, token);

        rc = call == DG_OK ? EXIT_OK : cli_fail_call(c, call);
    }
    dg_wipe(current, sizeof current);
    dg_wipe(fresh, sizeof fresh);
    if (rc != EXIT_OK)
        return rc;
    rc = cli_token_put(c, c->server, token);
    dg_wipe(token, sizeof token);
    if (rc != DG_OK)
        return cli_fail(c, EXIT_SERVER, "INTERNAL", "config_write",
                        "password changed, but the new session could not be saved; log in again");
    if (c->is_json)
        cli_print_json(json_pack("{s:b}", "changed", 1));
    else
        printf("Password changed. Your other sessions were signed out.\n");
    return EXIT_OK;
}
