/* gen.h - what dangan-bench sends: a small PRNG and realistic Chinese
 * customer data (company names, addresses, phones, notes) and search
 * queries, built from fixed word lists.
 *
 * Pure: no I/O, no globals; every function takes the caller's dg_rng, so one
 * per thread keeps the threads independent. Any thread.
 */
#ifndef DG_BENCH_GEN_H
#define DG_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "dangan.pb-c.h"

/* splitmix64: fast, statistically fine for load generation, not for secrets. */
typedef struct dg_rng {
    uint64_t s;
} dg_rng;

/* Seeds `r` from `seed` and a stream number (e.g. the connection index), so
 * streams of one seed differ. */
void dg_rng_init(dg_rng *r, uint64_t seed, uint64_t stream);
uint64_t dg_rng_next(dg_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t dg_rng_below(dg_rng *r, uint64_t n);

/* A customer to create, with the strings its protobuf points to. The
 * protobuf (pb) borrows the buffers below: valid while this struct lives
 * and is not refilled. */
typedef struct dg_gen_customer {
    Dangan__V1__Customer pb;
    char name[160];
    char short_name[64];
    char industry[32];
    char region[32];
    char address[192];
    char phone[24];
    char email[96];
    char website[96];
    char main_business[96];
    char notes[384];
} dg_gen_customer;

/* Fills `c` with a random company: "上海华信科技有限公司", its short name,
 * industry, region, address, phone, e-mail, website, status, tier and a note
 * that names a contact person (so name searches find something). */
void dg_gen_customer_fill(dg_rng *r, dg_gen_customer *c);
/* A fresh phone number that passes the server's phone check: a mobile
 * ("13912345678") or a landline with area code ("021-62345678"). */
void dg_gen_phone(dg_rng *r, char *buf, size_t len);
/* A search query as people type them: mostly two Chinese characters (a
 * person's name, a city, an industry or brand word), sometimes Latin. The
 * string is static. */
const char *dg_gen_query(dg_rng *r);

#endif
