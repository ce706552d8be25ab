/* map.h - dg_map: a hash table from byte-string keys to pointers.
 *
 * Keys are copied into the map; values are borrowed (the map never frees
 * them). Keys are hashed with SipHash-2-4 under a random per-map key, so a
 * peer choosing keys (user names, addresses) cannot force collisions.
 * Separate chaining; the table doubles when the load passes 1. One thread.
 */
#ifndef DG_MAP_H
#define DG_MAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct dg_map dg_map;

dg_map *dg_map_new(void);
/* Frees the map and its keys (not the values). Accepts NULL. */
void dg_map_free(dg_map *m);
/* The value stored under key, or NULL. */
void *dg_map_get(const dg_map *m, const void *key, size_t key_len);
/* Stores value under key, replacing any previous value (returned in *old if
 * old is not NULL). */
void dg_map_put(dg_map *m, const void *key, size_t key_len, void *value, void **old);
/* Removes key; returns its value or NULL. */
void *dg_map_remove(dg_map *m, const void *key, size_t key_len);
size_t dg_map_count(const dg_map *m);

/* Iteration: calls fn for each entry; if fn returns true the entry is removed
 * (fn may free the value then). Do not modify the map otherwise inside fn. */
typedef bool (*dg_map_visit_fn)(const void *key, size_t key_len, void *value, void *ud);
void dg_map_sweep(dg_map *m, dg_map_visit_fn fn, void *ud);

#endif
