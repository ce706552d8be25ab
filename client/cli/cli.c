/* cli.c - connecting the CLI to its server with the trust stored by `connect`,
 * and resuming the session stored by `login`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

static int connect_failed(cli *c, int rc)
{
    const char *msg = dg_client_errmsg(c->client);

    if (rc == DG_ETRUST)
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE", "untrusted_server",
                        "%s\nIf the server's certificate was replaced on purpose, check the new "
                        "fingerprint with its administrator and run: dangan connect %s "
                        "--fingerprint SHA256:...",
                        msg, c->server);
    return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE",
                    rc == DG_ETLS || rc == DG_EPROTO ? "tls_failure" : "cannot_connect", "%s", msg);
}

int cli_connect(cli *c)
{
    char user[128], kind[32], value[1024];
    dg_client_opts o = {.client_name = "dangan-cli/" DANGAN_VERSION};
    int rc;

    if (c->server_flag)
        snprintf(c->server, sizeof c->server, "%s", c->server_flag);
    else
        cli_current_get(c, c->server, sizeof c->server, user, sizeof user);
    if (!c->server[0])
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE", "no_server",
                        "no server chosen yet: run dangan connect HOST:PORT");
    if (cli_known_get(c, c->server, kind, sizeof kind, value, sizeof value) != DG_OK)
        return cli_fail(c, EXIT_CONNECT, "UNAVAILABLE", "untrusted_server",
                        "%s is not a trusted server yet: run dangan connect %s", c->server,
                        c->server);
    o.server = c->server;
    o.on_event = c->on_event;
    o.user = c->event_user;
    if (strcmp(kind, "ca") == 0)
        o.ca_file = value;
    else
        o.fingerprint = value;
    rc = dg_client_open(&o, &c->client);
    if (rc != DG_OK)
        return connect_failed(c, rc);
    return EXIT_OK;
}

int cli_session(cli *c)
{
    char token[DG_CLIENT_TOKEN_LEN + 1];
    int rc = cli_connect(c);

    if (rc != EXIT_OK)
        return rc;
    if (cli_token_get(c, c->server, token) != DG_OK)
        return cli_fail(c, EXIT_UNAUTH, "UNAUTHENTICATED", "login_required",
                        "not logged in to %s: run dangan login", c->server);
    rc = dg_client_authenticate(c->client, token);
    dg_wipe(token, sizeof token);
    if (rc == DG_EAUTH)
        (void)cli_token_delete(c, c->server); /* dead token: forget it; the error says why */
    return rc == DG_OK ? EXIT_OK : cli_fail_call(c, rc);
}
