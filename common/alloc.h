/* alloc.h - two kinds of memory.
 *
 * dg_x*: small fixed-size allocations sized by us. They never return NULL:
 * on OOM they log one line and abort, because nothing sensible can continue.
 *
 * dg_arena: memory sized by a peer (decoded frames, reply building). A bump
 * allocator with a byte budget; an allocation over budget returns NULL and the
 * caller turns that into DG_ENOMEM for that one request. Everything in an
 * arena is freed at once by dg_arena_free. Fault injection: fail the Nth
 * allocation (tests loop over N, as SQLite's faultsim does).
 * An arena belongs to one thread at a time.
 */
#ifndef DG_ALLOC_H
#define DG_ALLOC_H

#include <stddef.h>

void *dg_xmalloc(size_t n);
void *dg_xcalloc(size_t count, size_t size);
void *dg_xrealloc(void *p, size_t n);
char *dg_xstrdup(const char *s);
char *dg_xstrndup(const char *s, size_t n);
/* printf into a new string; free with free(). */
char *dg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct dg_arena dg_arena;

/* A new arena that hands out at most `budget` bytes in total. Free with dg_arena_free. */
dg_arena *dg_arena_new(size_t budget);
/* Frees every allocation and the arena. Accepts NULL. */
void dg_arena_free(dg_arena *a);
/* Forgets everything handed out, keeping its first chunk for reuse, with a
 * new budget: one arena for many short-lived decodes. */
void dg_arena_reset(dg_arena *a, size_t budget);
/* `n` bytes aligned for any type, or NULL when over budget (or injected failure). */
void *dg_arena_alloc(dg_arena *a, size_t n);
/* Zeroed variant. */
void *dg_arena_calloc(dg_arena *a, size_t count, size_t size);
/* Copy of `s` (or of its first `n` bytes) in the arena; NULL when over budget. */
char *dg_arena_strdup(dg_arena *a, const char *s);
char *dg_arena_strndup(dg_arena *a, const char *s, size_t n);
/* printf into the arena; NULL when over budget. */
char *dg_arena_printf(dg_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What one allocation of `n` bytes counts against a budget: n rounded up
 * to the alignment (at least one unit). Pure. */
size_t dg_arena_cost(size_t n);
/* Bytes counted against the budget: those handed out (rounded up to
 * alignment) plus the free tails of chunks the arena has moved past. */
size_t dg_arena_used(const dg_arena *a);
/* Bytes it takes from the heap: every chunk whole, headers included. What
 * a holder of many small arenas counts against a memory bound. */
size_t dg_arena_footprint(const dg_arena *a);
/* For memory that must exist although the budget is spent (a reply half
 * built when a read filled its arena; the caller has noted that it is over
 * budget and will not send what it builds): `n` zeroed bytes past the
 * budget, which grows by exactly what this allocation takes. NULL only on
 * real OOM or an injected failure. */
void *dg_arena_calloc_overdraft(dg_arena *a, size_t n);
/* What is left of the budget. */
size_t dg_arena_left(const dg_arena *a);
/* Changes the budget (e.g. raise it after decoding to build a reply). */
void dg_arena_set_budget(dg_arena *a, size_t budget);
/* Fault injection: allocation number `nth` (1-based, counted from now) and
 * every later one fail. 0 turns injection off. */
void dg_arena_fail_after(dg_arena *a, unsigned long nth);

#endif
