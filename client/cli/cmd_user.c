/* cmd_user.c - `dangan user`: accounts, managed by admins (add, list,
 * set-role, disable, enable, reset-password). Passwords the server generates
 * are printed once; the user must change them at first login.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

enum { OPT_ROLE = 256, OPT_DISPLAY, OPT_PWSTDIN };

static int help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

static int parse_role(cli *c, const char *text, Dangan__V1__Role *out)
{
    char names[128];
    int v = cli_enum_parse(&dangan__v1__role__descriptor, text);

    if (v <= 0)
        return cli_usage(c, "bad role \"%s\" (%s)", text,
                         cli_enum_choices(&dangan__v1__role__descriptor, names, sizeof names));
    *out = (Dangan__V1__Role)v;
    return EXIT_OK;
}

static json_t *user_json(const Dangan__V1__User *u)
{
    json_t *o = cli_pb_to_json(&u->base);
    char role[32];

    json_object_set_new(
        o, "role",
        json_string(cli_enum_name(&dangan__v1__role__descriptor, u->role, role, sizeof role)));
    return o;
}

/* What a change did, for people: "li.na: role viewer (2 sessions revoked)". */
static void print_user_line(const char *what, const Dangan__V1__User *u, uint32_t revoked)
{
    char role[32];

    printf("%s %s (%s%s)", what, u->username,
           cli_enum_name(&dangan__v1__role__descriptor, u->role, role, sizeof role),
           u->disabled ? ", disabled" : "");
    if (revoked)
        printf("; %u session%s revoked", revoked, revoked == 1 ? "" : "s");
    printf(".\n");
}

static void print_generated(const char *username, const char *password)
{
    printf("Password for %s: %s\n"
           "It is shown only now; %s must change it at first login (dangan passwd).\n",
           username, password, username);
}

static const char ADD_HELP[] =
    "usage: dangan user add NAME --role admin|manager|sales|viewer|auditor\n"
    "                       [--display-name TEXT] [--password-stdin]\n"
    "\n"
    "Adds an account (admins only). Without --password-stdin the server generates\n"
    "a strong password and this prints it once. Either way the user must change\n"
    "it at first login.\n";

static int user_add(cli *c)
{
    static const struct option opts[] = {{"role", required_argument, NULL, OPT_ROLE},
                                         {"display-name", required_argument, NULL, OPT_DISPLAY},
                                         {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__UserAddRequest *m;
    const Dangan__V1__UserAddResponse *res;
    bool has_role = false, from_stdin = false;
    char password[1100];
    dg_reply *r;
    int opt, rc = EXIT_OK;

    req->body_case = DANGAN__V1__REQUEST__BODY_USER_ADD;
    m = req->user_add =
        (Dangan__V1__UserAddRequest *)cli_msg_new(&dangan__v1__user_add_request__descriptor);
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_ROLE) {
            rc = parse_role(c, optarg, &m->role);
            has_role = true;
        } else if (opt == OPT_DISPLAY) {
            cli_replace_str(&m->display_name, optarg);
        } else if (opt == OPT_PWSTDIN) {
            from_stdin = true;
        } else if (opt == 'h') {
            rc = -1;
        } else {
            rc = cli_bad_option(c);
        }
    }
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        return help(ADD_HELP);
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "user add takes one NAME");
    if (rc == EXIT_OK && !has_role)
        rc = cli_usage(c, "user add: --role is required");
    if (rc == EXIT_OK && from_stdin) {
        int lrc = cli_read_line(password, sizeof password);

        if (lrc == DG_ETOOBIG)
            rc = cli_usage(c, "--password-stdin: the password is too long (over %zu bytes)",
                           sizeof password - 1);
        else if (lrc != DG_OK || !password[0])
            rc = cli_usage(c, "--password-stdin: no password on the first line of stdin");
        else
            cli_replace_str(&m->password, password);
        dg_wipe(password, sizeof password);
    }
    if (rc == EXIT_OK) {
        cli_replace_str(&m->username, c->argv[optind]);
        rc = cli_rec_call(c, req, &r);
    }
    if (m->password[0])
        dg_wipe(m->password, strlen(m->password));
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    res = dg_reply_response(r)->user_add;
    if (c->is_json) {
        json_t *o = json_pack("{s:o}", "user", user_json(res->user));

        if (res->generated_password[0])
            json_object_set_new(o, "generated_password", json_string(res->generated_password));
        cli_print_json(o);
    } else {
        print_user_line("Added", res->user, 0);
        if (res->generated_password[0])
            print_generated(res->user->username, res->generated_password);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

static int user_list(cli *c)
{
    static const char *const headers[] = {"ID", "USER", "NAME", "ROLE", "STATE", "PASSWORD SET"};
    Dangan__V1__Request *req;
    const Dangan__V1__UserListResponse *l;
    char id[24], role[32], when[40];
    const char *cells[6];
    cli_table *t;
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv))
        return help("usage: dangan user list\n\nEvery account (admins only).\n");
    if (c->argc != 1)
        return cli_usage(c, "user list takes no arguments");
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_USER_LIST;
    req->user_list =
        (Dangan__V1__UserListRequest *)cli_msg_new(&dangan__v1__user_list_request__descriptor);
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    l = dg_reply_response(r)->user_list;
    if (c->is_json) {
        json_t *arr = json_array();

        for (size_t i = 0; i < l->n_users; i++)
            json_array_append_new(arr, user_json(l->users[i]));
        cli_print_json(arr);
    } else {
        t = cli_table_new(6, headers);
        for (size_t i = 0; i < l->n_users; i++) {
            const Dangan__V1__User *u = l->users[i];

            snprintf(id, sizeof id, "%lld", (long long)u->id);
            cells[0] = id;
            cells[1] = u->username;
            cells[2] = u->display_name;
            cells[3] = cli_enum_name(&dangan__v1__role__descriptor, u->role, role, sizeof role);
            cells[4] = u->disabled               ? "disabled"
                       : u->must_change_password ? "must change password"
                                                 : "active";
            cells[5] = cli_time(u->password_changed_at_ms, when, sizeof when);
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout, 0, cli_term_width());
        cli_table_free(t);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

/* set-role, disable, enable, reset-password: NAME [ROLE]. */
static int user_change(cli *c, Dangan__V1__Request__BodyCase body, const char *usage_text,
                       int n_args)
{
    Dangan__V1__Request *req;
    const Dangan__V1__Response *resp;
    const Dangan__V1__User *u = NULL;
    Dangan__V1__Role role = 0;
    const char *generated = "";
    uint32_t revoked = 0;
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv))
        return help(usage_text);
    if (c->argc != 1 + n_args)
        return cli_usage(c, "%s", usage_text);
    if (n_args == 2 && (rc = parse_role(c, c->argv[2], &role)) != EXIT_OK)
        return rc;
    req = cli_request_new();
    req->body_case = body;
    switch (body) {
    case DANGAN__V1__REQUEST__BODY_USER_SET_ROLE:
        req->user_set_role = (Dangan__V1__UserSetRoleRequest *)cli_msg_new(
            &dangan__v1__user_set_role_request__descriptor);
        cli_replace_str(&req->user_set_role->username, c->argv[1]);
        req->user_set_role->role = role;
        break;
    case DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED:
        req->user_set_disabled = (Dangan__V1__UserSetDisabledRequest *)cli_msg_new(
            &dangan__v1__user_set_disabled_request__descriptor);
        cli_replace_str(&req->user_set_disabled->username, c->argv[1]);
        req->user_set_disabled->disabled = strcmp(c->argv[0], "disable") == 0;
        break;
    default:
        req->user_reset_password = (Dangan__V1__UserResetPasswordRequest *)cli_msg_new(
            &dangan__v1__user_reset_password_request__descriptor);
        cli_replace_str(&req->user_reset_password->username, c->argv[1]);
        break;
    }
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    resp = dg_reply_response(r);
    switch (resp->body_case) {
    case DANGAN__V1__RESPONSE__BODY_USER_SET_ROLE:
        u = resp->user_set_role->user;
        revoked = resp->user_set_role->revoked_sessions;
        break;
    case DANGAN__V1__RESPONSE__BODY_USER_SET_DISABLED:
        u = resp->user_set_disabled->user;
        revoked = resp->user_set_disabled->revoked_sessions;
        break;
    default:
        u = resp->user_reset_password->user;
        revoked = resp->user_reset_password->revoked_sessions;
        generated = resp->user_reset_password->generated_password;
        break;
    }
    if (c->is_json) {
        json_t *o =
            json_pack("{s:o,s:I}", "user", user_json(u), "revoked_sessions", (json_int_t)revoked);

        if (generated[0])
            json_object_set_new(o, "generated_password", json_string(generated));
        cli_print_json(o);
    } else {
        print_user_line("Updated", u, revoked);
        if (generated[0])
            print_generated(u->username, generated);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

static int user_set_role(cli *c)
{
    return user_change(c, DANGAN__V1__REQUEST__BODY_USER_SET_ROLE,
                       "usage: dangan user set-role NAME admin|manager|sales|viewer|auditor\n\n"
                       "Changes a role; the user's sessions end at once (log in again).\n",
                       2);
}

static int user_disable(cli *c)
{
    return user_change(c, DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED,
                       "usage: dangan user disable NAME\n\n"
                       "Refuses the user's logins and ends its sessions at once.\n",
                       1);
}

static int user_enable(cli *c)
{
    return user_change(
        c, DANGAN__V1__REQUEST__BODY_USER_SET_DISABLED,
        "usage: dangan user enable NAME\n\nAllows a disabled user to log in again.\n", 1);
}

static int user_reset_password(cli *c)
{
    return user_change(c, DANGAN__V1__REQUEST__BODY_USER_RESET_PASSWORD,
                       "usage: dangan user reset-password NAME\n\n"
                       "Sets a new generated password (printed once), to be changed at next\n"
                       "login; the user's sessions end at once.\n",
                       1);
}

int cmd_user(cli *c)
{
    static const cli_sub subs[] = {
        {"add", user_add,
         "add NAME --role admin|manager|sales|viewer|auditor [--display-name TEXT] "
         "[--password-stdin]"},
        {"list", user_list, "list"},
        {"set-role", user_set_role, "set-role NAME ROLE"},
        {"disable", user_disable, "disable NAME"},
        {"enable", user_enable, "enable NAME"},
        {"reset-password", user_reset_password, "reset-password NAME"},
    };

    return cli_subcommand(c, "user", subs, DG_ARRAY_LEN(subs), "Accounts (admins only).\n");
}
