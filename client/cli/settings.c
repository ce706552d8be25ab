/* settings.c - the CLI's config directory: --config-dir or the one shared
 * with dangan-gtk (client/config_dir.h has the files and their format). */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "config_dir.h"

int cli_settings_init(cli *c, const char *flag_dir)
{
    int rc = dg_config_dir(flag_dir, c->config_dir, sizeof c->config_dir);

    if (rc == DG_EINVAL)
        return cli_usage(c, "no config directory: set HOME or DANGAN_CONFIG_DIR");
    if (rc != DG_OK)
        return cli_fail(c, EXIT_USAGE, "INVALID_ARGUMENT", "config_dir",
                        "cannot create config directory %s: %s", c->config_dir, strerror(errno));
    return EXIT_OK;
}

int cli_known_get(cli *c, const char *server, char *kind, size_t kind_len, char *value,
                  size_t value_len)
{
    return dg_config_known_get(c->config_dir, server, kind, kind_len, value, value_len);
}

int cli_known_put(cli *c, const char *server, const char *kind, const char *value)
{
    return dg_config_known_put(c->config_dir, server, kind, value);
}

void cli_current_get(cli *c, char *server, size_t server_len, char *user, size_t user_len)
{
    dg_config_current_get(c->config_dir, server, server_len, user, user_len);
}

int cli_current_put(cli *c, const char *server, const char *user)
{
    return dg_config_current_put(c->config_dir, server, user);
}

int cli_token_get(cli *c, const char *server, char token[DG_CLIENT_TOKEN_LEN + 1])
{
    return dg_config_token_get(c->config_dir, server, token);
}

int cli_token_put(cli *c, const char *server, const char *token)
{
    return dg_config_token_put(c->config_dir, server, token);
}

int cli_token_delete(cli *c, const char *server)
{
    return dg_config_token_delete(c->config_dir, server);
}
