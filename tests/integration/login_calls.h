/* login_calls.h - the requests and checks the login tests (test_login,
 * test_login_expiry, test_login_throttle) share, and the configuration of
 * their servers whose clock the test moves. Names are the tests' own (no
 * dg_ prefix): they are linked into test programs only.
 */
#ifndef DANGAN_TESTS_LOGIN_CALLS_H
#define DANGAN_TESTS_LOGIN_CALLS_H

#include "fixture.h"

/* Servers whose clock the test moves, with connections that never idle out
 * (24 h) and may be without a session for an hour: only the session's own
 * expiry can end it. */
extern const char DRIVEN_INI[];

/* Sends a Login of `user` with `password` on `c`; returns the reply (caller frees). */
dg_reply *login_reply(dg_client *c, const char *user, const char *password);

/* Sends a Whoami on `c`; returns the reply (caller frees). */
dg_reply *whoami_reply(dg_client *c);

/* The reply's Status has this code and reason (fails the test otherwise). */
void assert_status(dg_reply *r, int code, const char *reason);

#endif
