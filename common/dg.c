/* dg.c - error strings, the assertion handler, thread tags, wiping, randomness. */
#include "dg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static _Thread_local enum dg_thread_role thread_role;

const char *dg_strerror(int rc)
{
    switch (rc) {
    case DG_OK:
        return "ok";
    case DG_EINVAL:
        return "invalid argument";
    case DG_ENOMEM:
        return "out of memory or over budget";
    case DG_EAGAIN:
        return "try again";
    case DG_ETOOBIG:
        return "too big";
    case DG_EPROTO:
        return "protocol error";
    case DG_ECLOSED:
        return "connection closed";
    case DG_ENOTFOUND:
        return "not found";
    case DG_ECONFLICT:
        return "version conflict";
    case DG_EEXIST:
        return "already exists";
    case DG_EDENIED:
        return "permission denied";
    case DG_EBUSY:
        return "busy";
    case DG_EIO:
        return "I/O error";
    case DG_EFULL:
        return "full";
    case DG_ECORRUPT:
        return "data corrupt";
    case DG_EREADONLY:
        return "read-only after an I/O error";
    case DG_ETIMEDOUT:
        return "timed out";
    case DG_ETLS:
        return "TLS failure";
    case DG_ETRUST:
        return "server identity not trusted";
    case DG_EAUTH:
        return "not authenticated";
    case DG_ESTATE:
        return "not allowed in the current state";
    case DG_ENOTSUP:
        return "not supported";
    case DG_ENOSPC:
        return "disk full";
    }
    return "unknown error";
}

void dg_assert_fail(const char *what, const char *file, int line, const char *func)
{
    fprintf(stderr, "dangan: assertion failed: %s (%s:%d in %s)\n", what, file, line, func);
    fflush(stderr);
    abort();
}

void dg_thread_set_role(enum dg_thread_role role)
{
    thread_role = role;
}

enum dg_thread_role dg_thread_current(void)
{
    return thread_role;
}

void dg_wipe(void *p, size_t len)
{
    volatile unsigned char *v = p;

    while (len--)
        *v++ = 0;
}

void dg_random(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "dangan: getrandom failed: %s\n", strerror(errno));
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}
