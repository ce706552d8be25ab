/* clock.c - time helpers; in a DG_CLOCK_DRIVEN build, time a test drives (clock.h). */
#include "clock.h"

#include <stdio.h>
#include <time.h>

#ifdef DG_CLOCK_DRIVEN
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Shared with the test process through the mapping: lock-free, so address-free. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the driven clock needs lock-free 64-bit atomics");

static _Atomic int64_t *offset; /* in the mapping of $DANGAN_TEST_CLOCK; NULL: no offset */
static pthread_once_t offset_once = PTHREAD_ONCE_INIT;

/* A test build that cannot find the clock its test set up must not run on the
 * real one: the test would wait for time that never comes. */
static void map_offset(void)
{
    const char *path = getenv("DANGAN_TEST_CLOCK");
    void *p;
    int fd;

    if (!path || !*path)
        return;
    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        fprintf(stderr, "DANGAN_TEST_CLOCK: cannot open %s\n", path);
        abort();
    }
    p = mmap(NULL, sizeof(int64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "DANGAN_TEST_CLOCK: cannot map %s\n", path);
        abort();
    }
    offset = p;
}

static int64_t offset_ms(void)
{
    pthread_once(&offset_once, map_offset);
    return offset ? atomic_load(offset) : 0;
}

bool dg_clock_is_driven(void)
{
    return true;
}
#else
static int64_t offset_ms(void)
{
    return 0;
}

bool dg_clock_is_driven(void)
{
    return false;
}
#endif

int64_t dg_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms();
}

int64_t dg_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_ms() * 1000;
}

int64_t dg_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms();
}

int64_t dg_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_ms() * 1000;
}

char *dg_iso8601_utc(int64_t unix_ms, char *buf, size_t len)
{
    time_t secs = (time_t)(unix_ms / 1000);
    int ms = (int)(unix_ms % 1000);
    struct tm tm;

    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}
