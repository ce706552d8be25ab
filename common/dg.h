/* dg.h - what every dangan file needs: the closed list of error codes,
 * assertions for our own invariants, small helpers and thread tags.
 *
 * Errors: fallible functions return int, DG_OK (0) or one negative dg_err.
 * Foreign codes (libuv, mbedTLS, SQLite, errno) are translated where they
 * occur; a dg_err becomes a wire Status in exactly one place (server/net/status.c).
 */
#ifndef DG_H
#define DG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dg_err {
    DG_OK = 0,
    DG_EINVAL = -1,     /* bad argument or input */
    DG_ENOMEM = -2,     /* a budget or the allocator said no */
    DG_EAGAIN = -3,     /* need more input / try later */
    DG_ETOOBIG = -4,    /* over a size limit */
    DG_EPROTO = -5,     /* peer broke the protocol */
    DG_ECLOSED = -6,    /* connection or object closed */
    DG_ENOTFOUND = -7,  /* no such record */
    DG_ECONFLICT = -8,  /* version conflict */
    DG_EEXIST = -9,     /* already exists */
    DG_EDENIED = -10,   /* not allowed */
    DG_EBUSY = -11,     /* resource busy */
    DG_EIO = -12,       /* I/O error from the OS or the database */
    DG_EFULL = -13,     /* a bounded queue or table is full */
    DG_ECORRUPT = -14,  /* stored data failed an integrity check */
    DG_EREADONLY = -15, /* the writer is read-only after an I/O error */
    DG_ETIMEDOUT = -16, /* a deadline passed */
    DG_ETLS = -17,      /* TLS handshake or record failure */
    DG_ETRUST = -18,    /* the peer's identity is not the one we trust */
    DG_EAUTH = -19,     /* not authenticated, or bad credentials */
    DG_ESTATE = -20,    /* not allowed in the current state (FAILED_PRECONDITION) */
    DG_ENOTSUP = -21,   /* unknown or unsupported request */
    DG_ENOSPC = -22,    /* the disk is full: nothing was written; retry when space is freed */
};

/* Short English text for a dg_err ("not found"). Never NULL. Any thread. */
const char *dg_strerror(int rc);

/* For our own bugs only; never for input from a peer, a file or the database.
 * Always compiled in: a broken invariant must stop the process, not corrupt data. */
#define dg_assert(cond) ((cond) ? (void)0 : dg_assert_fail(#cond, __FILE__, __LINE__, __func__))
_Noreturn void dg_assert_fail(const char *what, const char *file, int line, const char *func);

#define DG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DG_UNUSED(x) ((void)(x))
#define DG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DG_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Thread tags: each thread says once what it is; functions that must run on
 * one kind of thread assert it. The tag is thread-local, so this is not
 * shared mutable state. */
enum dg_thread_role {
    DG_THREAD_ANY = 0,
    DG_THREAD_LOOP = 1,   /* the libuv loop thread */
    DG_THREAD_WRITER = 2, /* the database writer */
    DG_THREAD_WORKER = 3, /* readers and password hashers */
};
void dg_thread_set_role(enum dg_thread_role role);
enum dg_thread_role dg_thread_current(void);
#define DG_ASSERT_THREAD(role) dg_assert(dg_thread_current() == (role))
#define DG_ASSERT_LOOP_THREAD() DG_ASSERT_THREAD(DG_THREAD_LOOP)

/* Overwrite secrets (passwords, tokens) so the compiler cannot elide it. Any thread. */
void dg_wipe(void *p, size_t len);

/* Fill `buf` with `len` bytes from the kernel CSPRNG (getrandom). Aborts if the
 * kernel cannot provide them: nothing secure can proceed without. Any thread. */
void dg_random(void *buf, size_t len);

#endif
