/* login_calls.c - what the login tests share: see login_calls.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "login_calls.h"

const char DRIVEN_INI[] = "[limits]\nidle_timeout_ms = 86400000\nprelogin_timeout_ms = 3600000\n";

dg_reply *login_reply(dg_client *c, const char *user, const char *password)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__LoginRequest m = DANGAN__V1__LOGIN_REQUEST__INIT;

    m.username = (char *)user;
    m.password = (char *)password;
    req.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    req.login = &m;
    return dgt_call(c, &req);
}

dg_reply *whoami_reply(dg_client *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__WhoamiRequest m = DANGAN__V1__WHOAMI_REQUEST__INIT;

    req.body_case = DANGAN__V1__REQUEST__BODY_WHOAMI;
    req.whoami = &m;
    return dgt_call(c, &req);
}

void assert_status(dg_reply *r, int code, const char *reason)
{
    assert_int_equal(dgt_code(r), code);
    assert_string_equal(dgt_reason(r), reason);
}
