/* demo_int.h - private to `dangand demo-data` (the files of server/demo): the run's
 * state, the reproducible random draws, and what the generators share.
 *
 * demo.c loads (transactions, accounts, the audit record, the summary);
 * demo_customer.c draws a customer (names, phones, addresses, the company
 * file); demo_dossier.c draws the rest of its dossier. Everything a customer
 * holds is drawn from its own stream (seed, customer number): see demo.c.
 */
#ifndef DG_DEMO_INT_H
#define DG_DEMO_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "collate.h"
#include "demo.h"
#include "dg.h"
#include "entity.h"
#include "records.h"
#include "store.h"
#include "team.h"
#include "writer.h"

#define TX_RECORDS 40000                  /* records per transaction */
#define CACHE_MIB 256                     /* page cache of the write connection */
#define ARENA_BUDGET (512u * 1024 * 1024) /* per transaction; ~40 MiB are used */
#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define CST_MS (8 * HOUR_MS) /* Asia/Shanghai: UTC+8, no daylight saving */
#define PASSWORD_CHARS 24
#define MAX_CONTACTS 4
#define MAX_INTERACTIONS 20

/* Enum numbers of dangan.proto (public and never renumbered). */
enum { KIND_COMPANY = 1, KIND_PERSON = 2 };
enum { ST_POTENTIAL = 1, ST_ACTIVE = 2, ST_DORMANT = 3, ST_LOST = 4 };
enum { STAGE_PROSPECT = 1, STAGE_NEW = 2, STAGE_REPEAT = 3, STAGE_KEY = 4 };
enum { TIER_A = 1, TIER_B = 2, TIER_C = 3 };
enum { VALUE_HIGH = 1, VALUE_MEDIUM = 2, VALUE_LOW = 3 };
enum { NAT_LISTED = 1, NAT_PRIVATE, NAT_JV, NAT_FOREIGN, NAT_STATE, NAT_OTHER };
enum { STAND_LEADER = 1, STAND_INFLUENTIAL, STAND_MEDIUM, STAND_SMALL, STAND_OTHER };
enum { ROLE_LEGAL = 1, ROLE_KEY = 2, ROLE_MAIN = 3, ROLE_OTHER = 4 };
enum { CH_PHONE = 1, CH_EMAIL, CH_MEETING, CH_VISIT, CH_IM };
enum { FB_COMPLAINT = 1, FB_SUGGESTION, FB_PRAISE, FB_SURVEY };
enum { FBS_OPEN = 1, FBS_IN_PROGRESS, FBS_RESOLVED, FBS_CLOSED };

/* The demo accounts: who owns the customers, and roughly how many (demo.c). */
struct demo_user {
    const char *name, *display;
    enum dg_role role;
    unsigned weight;
};
#define N_USERS 6
extern const struct demo_user dg_demo_users[N_USERS];

struct hz {
    const char *h, *py; /* Chinese text and its pinyin (for e-mail addresses and domains) */
};

struct region {
    const char *province, *city, *area_code, *post_prefix;
    const char *districts[3];
    unsigned weight;
};

struct industry {
    const char *name;
    const char *words[5];    /* what goes between brand and legal form */
    const char *business[4]; /* 主营业务 */
    unsigned weight;
};

/* ------------------------------------------------------------ draws */

/* xoshiro256** seeded through splitmix64 (Vigna): small, fast, and the same
 * sequence on every platform - unlike rand(). */
typedef struct rng {
    uint64_t s[4];
} rng;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Stream `stream` (a customer number) of generator `seed`. */
static inline void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed, y = stream;

    x = splitmix64(&x) ^ splitmix64(&y);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for our n. */
static inline uint32_t below(rng *r, uint64_t n)
{
    return (uint32_t)(next(r) % n);
}

static inline int64_t range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct/100. */
static inline bool chance(rng *r, unsigned pct)
{
    return below(r, 100) < pct;
}

/* [0, n), favouring the front (the smaller of two draws): common surnames. */
static inline size_t skewed(rng *r, size_t n)
{
    size_t a = below(r, n), b = below(r, n);

    return a < b ? a : b;
}

static inline size_t weighted(rng *r, const unsigned *w, size_t n)
{
    unsigned sum = 0, x;

    for (size_t i = 0; i < n; i++)
        sum += w[i];
    x = below(r, sum);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* Reproducibility rule: at most one draw per full expression. C leaves the
 * order of a call's arguments unspecified, so two draws in one argument list
 * could come out swapped under another compiler; draw into locals first. */
#define PICK(r, arr) ((arr)[below((r), DG_ARRAY_LEN(arr))])
#define WEIGHTED(r, ...)                                                                           \
    weighted((r), (const unsigned[]){__VA_ARGS__},                                                 \
             sizeof((const unsigned[]){__VA_ARGS__}) / sizeof(unsigned))

/* ------------------------------------------------------------ the run's state */

struct owner {
    int64_t id;
    bool is_new; /* created by this run: password below is its only copy */
    char password[PASSWORD_CHARS + 1];
    uint64_t n_customers;
};

struct demo {
    const dg_demo_opts *o;
    dg_team team;    /* the default settings: cadence, pipeline stages */
    int64_t base_ms; /* 00:00 of the base day, Asia/Shanghai, in unix ms */
    int base_year;
    dg_store *st;
    dg_collator *collator;
    dg_audit_chain chain;
    dg_wtx tx;
    dg_actor who;
    dg_rec_ctx rc;
    dg_arena *arena; /* the open transaction's records; freed at each commit */
    bool is_oom;     /* an arena string failed: the customer is abandoned */
    bool users_committed;
    bool is_interrupted;
    struct owner owners[N_USERS];
    uint64_t n[DG_KIND_COUNT]; /* records written, per kind */
    uint64_t n_committed[DG_KIND_COUNT];
    uint64_t owned_committed[N_USERS];
    uint64_t n_pool, pool_committed; /* customers without an owner */
    uint64_t n_docs, docs_committed; /* contract documents */
    int64_t contract_content;        /* the one content every demo contract shares; 0: none yet */
    uint64_t in_tx;                  /* records in the open transaction */
    int n_indexes;                   /* set aside for the load, made again after it */
    char first_code[32], last_code[32], last_code_committed[32];
    int64_t started_ms, progress_ms; /* monotonic */
};

/* One customer being generated: what its children need to know. */
struct cust {
    rng r;
    const struct region *reg;
    const char *city_short; /* "深圳" */
    const char *industry;
    bool is_company, is_english;
    int tier, status;
    bool is_pool; /* no owner: the public pool (c->owner still made its records) */
    int64_t id;
    int created_ago; /* days before the base day */
    size_t owner;    /* index into dg_demo_users */
    const char *domain;
    const char *phone, *email; /* a person's own, for their contact record */
    int64_t contact_ids[MAX_CONTACTS];
    const char *contact_names[MAX_CONTACTS];
    size_t n_contacts;
};

/* printf into the transaction's arena; "" (and is_oom) over budget. */
static inline const char *fmt(struct demo *d, const char *f, ...)
    __attribute__((format(printf, 2, 3)));

static inline const char *fmt(struct demo *d, const char *f, ...)
{
    char buf[2048];
    char *s;
    va_list ap;

    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    if (!(s = dg_arena_strdup(d->arena, buf))) {
        d->is_oom = true;
        return "";
    }
    return s;
}

static inline const char *lower(struct demo *d, const char *s)
{
    char *out = (char *)fmt(d, "%s", s);

    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* `s` without a trailing `suffix` (UTF-8 bytes): "深圳市" - "市" = "深圳". */
static inline const char *strip(struct demo *d, const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    if (n > k && strcmp(s + n - k, suffix) == 0)
        return fmt(d, "%.*s", (int)(n - k), s);
    return s;
}

/* ------------------------------------------------------------ fields and times */

static inline int fx(const dg_record *r, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(r->kind), name);

    dg_assert(i >= 0); /* the names below are those of entity.c */
    return i;
}

static inline void set_s(dg_record *r, const char *name, const char *v)
{
    int i = fx(r, name);

    r->v[i].s = v;
    r->given |= 1ull << i;
}

static inline void set_i(dg_record *r, const char *name, int64_t v)
{
    int i = fx(r, name);

    r->v[i].i = v;
    r->given |= 1ull << i;
}

static inline void set_cny(dg_record *r, const char *name, int64_t yuan)
{
    int i = fx(r, name);

    r->v[i].i = yuan * 100; /* fen */
    r->v[i].s = "CNY";
    r->given |= 1ull << i;
}

static inline dg_record *new_record(struct demo *d, enum dg_kind kind, int64_t customer_id)
{
    dg_record *r = dg_record_new(d->arena, kind);

    if (!r) {
        d->is_oom = true;
        return NULL;
    }
    if (kind != DG_KIND_CUSTOMER)
        set_i(r, "customer_id", customer_id);
    return r;
}

/* A moment `ago` days before the base day, in office hours (09:00-18:00 CST). */
static inline int64_t office_time(struct demo *d, rng *r, int64_t ago)
{
    return d->base_ms - ago * DAY_MS + 9 * HOUR_MS + range(r, 0, 9 * 60 - 1) * 60000;
}

/* "YYYY-MM-DD" of a moment, in Asia/Shanghai. */
static inline const char *date_of(struct demo *d, int64_t ms)
{
    time_t t = (time_t)((ms + CST_MS) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    return fmt(d, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static inline const char *random_date(struct demo *d, rng *r, int year_lo, int year_hi)
{
    int y = (int)range(r, year_lo, year_hi), m = (int)range(r, 1, 12), day = (int)range(r, 1, 28);

    return fmt(d, "%04d-%02d-%02d", y, m, day);
}

/* ------------------------------------------------------------ what the generators share */

struct person {
    const char *name;
    const char *given_py, *sur_py; /* ASCII, lower case */
};

/* demo_customer.c: people, phones, the customer itself. */
void dg_demo_chinese_person(struct demo *d, rng *r, struct person *p);
void dg_demo_english_person(struct demo *d, rng *r, struct person *p);
const char *dg_demo_work_email(struct demo *d, rng *r, const struct person *p, const char *domain);
const char *dg_demo_mobile(struct demo *d, rng *r);
const char *dg_demo_landline(struct demo *d, rng *r, const char *area);
/* Writes record `r` (created `now`) through dg_rec_import; counts it. */
int dg_demo_put(struct demo *d, dg_record *r, int64_t now);
/* Draws and writes customer number i (its record only) into `c`. */
int dg_demo_gen_customer(struct demo *d, int64_t i, struct cust *c);
/* Notes a customer may carry, and the ABC tiers' contact cadence (index: Tier). */
extern const char *const dg_demo_customer_notes[6];
extern const char *const dg_demo_tier_cadence[4];

/* demo_dossier.c: customer number i with its whole dossier. */
int dg_demo_gen_dossier(struct demo *d, int64_t i);

#endif
