/* alloc.c - aborting allocators and the budgeted arena.
 *
 * The arena is a list of chunks; allocations bump a pointer in the newest
 * chunk. Chunks double from 4 KiB up to 1 MiB; an allocation larger than a
 * chunk gets a chunk of its own. The budget counts bytes handed out plus the
 * free tails of chunks left behind (they are never handed out), and a new
 * chunk is no larger than what is left of the budget, so a peer cannot make
 * us reserve more than the budget (plus malloc's per-chunk overhead).
 */
#include "alloc.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"

#define ALIGN alignof(max_align_t)
#define CHUNK_MIN 4096
#define CHUNK_MAX (1024 * 1024)

static _Noreturn void out_of_memory(size_t n)
{
    fprintf(stderr, "dangan: out of memory allocating %zu bytes\n", n);
    abort();
}

void *dg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        out_of_memory(n);
    return p;
}

void *dg_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (!p)
        out_of_memory(count * size);
    return p;
}

void *dg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        out_of_memory(n);
    return q;
}

char *dg_xstrdup(const char *s)
{
    return dg_xstrndup(s, strlen(s));
}

char *dg_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = dg_xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *dg_xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    dg_assert(n >= 0);
    p = dg_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

struct chunk {
    struct chunk *prev;
    size_t cap; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct dg_arena {
    struct chunk *head;
    size_t used; /* handed out + tails of chunks left behind; against budget */
    size_t budget;
    size_t next_chunk;
    unsigned long n_allocs;
    unsigned long fail_at; /* 0 = no injection */
};

dg_arena *dg_arena_new(size_t budget)
{
    dg_arena *a = dg_xcalloc(1, sizeof *a);

    a->budget = budget;
    a->next_chunk = CHUNK_MIN;
    return a;
}

void dg_arena_free(dg_arena *a)
{
    struct chunk *c;

    if (!a)
        return;
    c = a->head;
    while (c) {
        struct chunk *prev = c->prev;

        free(c);
        c = prev;
    }
    free(a);
}

void dg_arena_reset(dg_arena *a, size_t budget)
{
    struct chunk *c = a->head;

    while (c && c->prev) { /* the first chunk is the oldest: keep it */
        struct chunk *prev = c->prev;

        free(c);
        c = prev;
    }
    a->head = c;
    a->used = 0;
    a->budget = budget;
    a->next_chunk = CHUNK_MIN;
    a->n_allocs = 0;
    if (c) {
        c->used = 0;
        if (c->cap > budget) { /* the budget still bounds what it holds */
            free(c);
            a->head = NULL;
        } else {
            a->next_chunk = c->cap * 2 < CHUNK_MAX ? c->cap * 2 : CHUNK_MAX;
        }
    }
}

static struct chunk *add_chunk(dg_arena *a, size_t need)
{
    /* Never reserve past the budget: used + the newest chunk stays within it. */
    size_t cap = DG_MIN(a->next_chunk, a->budget - a->used);
    struct chunk *c;

    if (cap < need)
        cap = need;
    c = malloc(sizeof *c + cap);
    if (!c)
        return NULL; /* a peer-sized request: fail the request, not the process */
    c->prev = a->head;
    c->cap = cap;
    c->used = 0;
    a->head = c;
    if (a->next_chunk < CHUNK_MAX)
        a->next_chunk *= 2;
    return c;
}

size_t dg_arena_cost(size_t n)
{
    if (n > SIZE_MAX - ALIGN)
        return SIZE_MAX;
    return n ? (n + ALIGN - 1) & ~(ALIGN - 1) : ALIGN;
}

void *dg_arena_alloc(dg_arena *a, size_t n)
{
    struct chunk *c = a->head;
    size_t rounded;
    void *p;

    a->n_allocs++;
    if (a->fail_at && a->n_allocs >= a->fail_at)
        return NULL;
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    rounded = dg_arena_cost(n);
    if (a->used > a->budget || rounded > a->budget - a->used)
        return NULL;
    if (!c || c->cap - c->used < rounded) {
        /* The free tail of the chunk we leave behind is never handed out, so
         * it counts: uncounted, protobuf-c's doubling member slabs made the
         * chunks hold twice the budget (measured on the fuzz_frame corpus). */
        size_t tail = c ? c->cap - c->used : 0;

        if (tail > a->budget - a->used - rounded)
            return NULL;
        a->used += tail;
        c = add_chunk(a, rounded);
        if (!c) {
            a->used -= tail;
            return NULL;
        }
    }
    p = c->data + c->used;
    c->used += rounded;
    a->used += rounded;
    return p;
}

void *dg_arena_calloc(dg_arena *a, size_t count, size_t size)
{
    void *p;

    if (size && count > SIZE_MAX / size)
        return NULL;
    p = dg_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *dg_arena_calloc_overdraft(dg_arena *a, size_t n)
{
    size_t budget = a->budget;
    void *p;

    if (n > SIZE_MAX / 2)
        return NULL;
    /* room for the rounding and for a chunk's tail left behind */
    a->budget = a->used + n + ALIGN + CHUNK_MAX;
    p = dg_arena_calloc(a, 1, n);
    a->budget = DG_MAX(budget, a->used); /* spent again: the next allocation asks again */
    return p;
}

char *dg_arena_strndup(dg_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = dg_arena_alloc(a, len + 1);

    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *dg_arena_strdup(dg_arena *a, const char *s)
{
    return dg_arena_strndup(a, s, strlen(s));
}

char *dg_arena_printf(dg_arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = dg_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t dg_arena_used(const dg_arena *a)
{
    return a->used;
}

size_t dg_arena_footprint(const dg_arena *a)
{
    size_t n = sizeof *a;

    for (const struct chunk *c = a->head; c; c = c->prev)
        n += sizeof *c + c->cap;
    return n;
}

size_t dg_arena_left(const dg_arena *a)
{
    return a->used < a->budget ? a->budget - a->used : 0;
}

void dg_arena_set_budget(dg_arena *a, size_t budget)
{
    a->budget = budget;
}

void dg_arena_fail_after(dg_arena *a, unsigned long nth)
{
    a->fail_at = nth ? a->n_allocs + nth : 0;
}
