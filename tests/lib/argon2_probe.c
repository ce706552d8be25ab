/* argon2_probe.c - linked into the test-only dangand-test with
 * -Wl,--wrap=argon2id_verify (tests/tests.cmake): every argon2id verification
 * the server runs is logged, with the cost parameters of the hash it checks
 * against, before it runs. A test counts these lines to see how many password
 * checks a request cost and that they cost the same, instead of timing them.
 * Runs on: the hasher threads (log lines are single writes). */
#include <stddef.h>
#include <string.h>

#include <argon2.h>

#include "log.h"

int __real_argon2id_verify(const char *encoded, const void *pwd, const size_t pwdlen);
int __wrap_argon2id_verify(const char *encoded, const void *pwd, const size_t pwdlen);

/* "$argon2id$v=19$m=19456,t=2,p=1$salt$hash" → "m=19456,t=2,p=1": the
 * fourth '$'-separated field, or "" for a string of another shape. */
static void cost_of(const char *encoded, char *out, size_t len)
{
    const char *p = encoded;
    size_t n;

    for (int i = 0; i < 3 && p; i++)
        if ((p = strchr(p, '$')))
            p++;
    n = p ? strcspn(p, "$") : 0;
    if (n >= len)
        n = len - 1;
    memcpy(out, p ? p : "", n);
    out[n] = '\0';
}

int __wrap_argon2id_verify(const char *encoded, const void *pwd, const size_t pwdlen)
{
    char cost[64];

    cost_of(encoded, cost, sizeof cost);
    dg_log_info("test", "msg=\"argon2id verification\" cost=%s", cost);
    return __real_argon2id_verify(encoded, pwd, pwdlen);
}
