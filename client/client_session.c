/* client_session.c - libdangan's session calls: login, authenticate,
 * logout, ping, whoami, change password. Each is one request through
 * dgc_call_checked (client.c); a session's token is kept for reconnecting.
 */
#include "client_int.h"

#include <stdio.h>

#include "clock.h"
#include "dg.h"

static void copy_token(char *dst, const char *src)
{
    if (dst)
        snprintf(dst, DG_CLIENT_TOKEN_LEN + 1, "%s", src);
}

/* The session token a Login or ChangePassword answer carries, or NULL. */
static const char *token_of(const Dangan__V1__Response *resp)
{
    if (resp->body_case == DANGAN__V1__RESPONSE__BODY_LOGIN)
        return resp->login->token;
    if (resp->body_case == DANGAN__V1__RESPONSE__BODY_CHANGE_PASSWORD)
        return resp->change_password->token;
    return NULL;
}

/* Keeps the team's time zone a session answer carries. */
static void keep_zone(dg_client *c, const Dangan__V1__Response *resp)
{
    const Dangan__V1__SessionInfo *si = NULL;

    if (resp->body_case == DANGAN__V1__RESPONSE__BODY_LOGIN)
        si = resp->login->session;
    else if (resp->body_case == DANGAN__V1__RESPONSE__BODY_AUTHENTICATE)
        si = resp->authenticate->session;
    else if (resp->body_case == DANGAN__V1__RESPONSE__BODY_WHOAMI)
        si = resp->whoami->session;
    else if (resp->body_case == DANGAN__V1__RESPONSE__BODY_CHANGE_PASSWORD)
        si = resp->change_password->session;
    if (si && si->team_time_zone)
        snprintf(c->team_zone, sizeof c->team_zone, "%s", si->team_time_zone);
}

const char *dg_client_team_zone(const dg_client *c)
{
    return c->team_zone;
}

/* Sends a request answered with a new session token (Login,
 * ChangePassword): the token is kept for reconnecting and copied to `token`
 * (when not NULL). */
static int call_for_token(dg_client *c, Dangan__V1__Request *req,
                          char token[DG_CLIENT_TOKEN_LEN + 1])
{
    dg_reply *r;
    int rc = dgc_call_checked(c, req, &r);
    const char *t = rc == DG_OK ? token_of(r->resp) : NULL;

    if (rc == DG_OK && !t) {
        dgc_set_err(c, "the server's answer carries no session token");
        rc = DG_EPROTO;
    } else if (rc == DG_OK) {
        copy_token(token, t);
        copy_token(c->token, t);
        keep_zone(c, r->resp);
    }
    dg_reply_free(r);
    return rc;
}

int dg_client_login(dg_client *c, const char *user, const char *password,
                    char token[DG_CLIENT_TOKEN_LEN + 1])
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;

    m.username = (char *)user;
    m.password = (char *)password;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &m;
    return call_for_token(c, &req, token);
}

int dg_client_authenticate(dg_client *c, const char *token)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuthenticateRequest m = DANGAN__V1__AUTHENTICATE_REQUEST__INIT;
    int rc;

    dg_reply *r;

    m.token = (char *)token;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUTHENTICATE;
    req.authenticate = &m;
    if ((rc = dgc_call_checked(c, &req, &r)) == DG_OK) {
        keep_zone(c, r->resp);
        if (token != c->token)
            copy_token(c->token, token);
    }
    dg_reply_free(r);
    return rc;
}

int dg_client_logout(dg_client *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LogoutRequest m = DANGAN__V1__LOGOUT_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_LOGOUT;
    req.logout = &m;
    return dgc_call_simple(c, &req);
}

int dg_client_ping(dg_client *c, int64_t *rtt_us)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest m = DANGAN__V1__PING_REQUEST__INIT;
    int64_t t0 = dg_mono_us();
    int rc;

    m.client_time_ms = dg_now_ms();
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &m;
    rc = dgc_call_simple(c, &req);
    if (rtt_us)
        *rtt_us = dg_mono_us() - t0;
    return rc;
}

int dg_client_whoami(dg_client *c, dg_reply **out)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__WhoamiRequest m = DANGAN__V1__WHOAMI_REQUEST__INIT;
    int rc;

    req.body_case = DANGAN__V1__REQUEST__BODY_WHOAMI;
    req.whoami = &m;
    rc = dgc_call_checked(c, &req, out);
    if (rc == DG_OK)
        keep_zone(c, (*out)->resp);
    if (rc != DG_OK) {
        dg_reply_free(*out);
        *out = NULL;
    }
    return rc;
}

int dg_client_change_password(dg_client *c, const char *current, const char *fresh,
                              char token[DG_CLIENT_TOKEN_LEN + 1])
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ChangePasswordRequest m = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;

    m.current_password = (char *)current;
    m.new_password = (char *)fresh;
    req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
    req.change_password = &m;
    return call_for_token(c, &req, token);
}
