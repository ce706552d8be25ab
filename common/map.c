/* map.c - chained hash table keyed by SipHash-2-4. */
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dg.h"

struct entry {
    struct entry *next;
    uint64_t hash;
    void *value;
    size_t key_len;
    unsigned char key[];
};

struct dg_map {
    struct entry **slots;
    size_t n_slots; /* power of two */
    size_t count;
    uint64_t k0, k1; /* SipHash key */
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* SipHash-2-4 (Aumasson & Bernstein), reference algorithm. */
static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t whole = len & ~(size_t)7;

    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(in + i);

        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)in[whole + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

dg_map *dg_map_new(void)
{
    dg_map *m = dg_xcalloc(1, sizeof *m);
    uint64_t key[2];

    dg_random(key, sizeof key);
    m->k0 = key[0];
    m->k1 = key[1];
    m->n_slots = 16;
    m->slots = dg_xcalloc(m->n_slots, sizeof *m->slots);
    return m;
}

void dg_map_free(dg_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_slots; i++) {
        struct entry *e = m->slots[i];

        while (e) {
            struct entry *next = e->next;

            free(e);
            e = next;
        }
    }
    free(m->slots);
    free(m);
}

static struct entry **find(const dg_map *m, const void *key, size_t key_len, uint64_t h)
{
    struct entry **pe = &m->slots[h & (m->n_slots - 1)];

    for (; *pe; pe = &(*pe)->next) {
        if ((*pe)->hash == h && (*pe)->key_len == key_len && memcmp((*pe)->key, key, key_len) == 0)
            break;
    }
    return pe;
}

static void grow(dg_map *m)
{
    size_t n = m->n_slots * 2;
    struct entry **slots = dg_xcalloc(n, sizeof *slots);

    for (size_t i = 0; i < m->n_slots; i++) {
        struct entry *e = m->slots[i];

        while (e) {
            struct entry *next = e->next;
            struct entry **head = &slots[e->hash & (n - 1)];

            e->next = *head;
            *head = e;
            e = next;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n;
}

void *dg_map_get(const dg_map *m, const void *key, size_t key_len)
{
    struct entry *e = *find(m, key, key_len, siphash(m->k0, m->k1, key, key_len));

    return e ? e->value : NULL;
}

void dg_map_put(dg_map *m, const void *key, size_t key_len, void *value, void **old)
{
    uint64_t h = siphash(m->k0, m->k1, key, key_len);
    struct entry **pe = find(m, key, key_len, h);

    if (*pe) {
        if (old)
            *old = (*pe)->value;
        (*pe)->value = value;
        return;
    }
    if (old)
        *old = NULL;
    struct entry *e = dg_xmalloc(sizeof *e + key_len);
    e->next = NULL;
    e->hash = h;
    e->value = value;
    e->key_len = key_len;
    memcpy(e->key, key, key_len);
    *pe = e;
    if (++m->count > m->n_slots)
        grow(m);
}

void *dg_map_remove(dg_map *m, const void *key, size_t key_len)
{
    struct entry **pe = find(m, key, key_len, siphash(m->k0, m->k1, key, key_len));
    struct entry *e = *pe;
    void *value;

    if (!e)
        return NULL;
    *pe = e->next;
    value = e->value;
    free(e);
    m->count--;
    return value;
}

size_t dg_map_count(const dg_map *m)
{
    return m->count;
}

void dg_map_sweep(dg_map *m, dg_map_visit_fn fn, void *ud)
{
    for (size_t i = 0; i < m->n_slots; i++) {
        struct entry **pe = &m->slots[i];

        while (*pe) {
            struct entry *e = *pe;

            if (fn(e->key, e->key_len, e->value, ud)) {
                *pe = e->next;
                free(e);
                m->count--;
            } else {
                pe = &e->next;
            }
        }
    }
}
