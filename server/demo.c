/* demo.c - `dangand demo-data`: realistic, reproducible customer dossiers.
 *
 * Owns, for one run: the data directory's lock (dangand.lock, the flock the
 * server takes, so the two exclude each other), the write connection, a
 * collator, the audit chain head and one arena per transaction.
 *
 * Content: customer i's whole dossier - company or person, names, addresses,
 * phones, contacts, interactions, deals, tasks, feedback, owner - is drawn
 * from its own xoshiro256** stream seeded from (seed, i), so the same seed
 * gives the same bytes whatever N, batch size or machine, and a run of K
 * customers equals the first K of a longer one. No floating point decides
 * anything (integer draws only) and nothing reads the clock: times are
 * offsets before a fixed base day, 00:00 Asia/Shanghai. Only the demo
 * accounts' passwords and the audit record's time are not reproducible.
 *
 * Loading: dg_rec_import (derived columns and search documents, no change or
 * audit row per record) inside transactions of about TX_RECORDS records; the
 * last transaction also writes the run's single audit record. Durability
 * settings are left alone: WAL with synchronous=FULL fsyncs once per commit,
 * a few hundred fsyncs for a million records, under 1% of the time, so
 * nothing is relaxed and nothing has to be restored. What does matter is
 * the page cache: with SQLite's 2 MiB a transaction spills and re-reads the
 * pages of the search index and of the customers' indexes several times
 * (measured: 5 page writes and 5 reads per record); CACHE_MIB on this
 * connection only (a pragma, gone when it closes) halves the writes.
 *
 * Runs on: the main thread of an offline command.
 */
#include "demo.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "collate.h"
#include "dg.h"
#include "entity.h"
#include "check.h"
#include "init.h"
#include "records.h"
#include "store.h"
#include "writer.h"

#define TX_RECORDS 10000                  /* records per transaction */
#define CACHE_MIB 256                     /* page cache of the write connection */
#define ARENA_BUDGET (512u * 1024 * 1024) /* per transaction; ~10 MiB are used */
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

/* ------------------------------------------------------------ vocabulary */

#include "demo_words.h"

/* The demo accounts: who owns the customers, and roughly how many. */
static const struct demo_user {
    const char *name, *display;
    enum dg_role role;
    unsigned weight;
} demo_users[] = {
    {"li.na", "李娜", DG_ROLE_SALES, 22},     {"wang.wei", "王伟", DG_ROLE_SALES, 20},
    {"zhang.min", "张敏", DG_ROLE_SALES, 18}, {"liu.yang", "刘洋", DG_ROLE_SALES, 15},
    {"zhao.lei", "赵磊", DG_ROLE_SALES, 13},  {"chen.jing", "陈静", DG_ROLE_MANAGER, 12},
};
#define N_USERS DG_ARRAY_LEN(demo_users)

/* ------------------------------------------------------------ draws */

/* xoshiro256** seeded through splitmix64 (Vigna): small, fast, and the same
 * sequence on every platform - unlike rand(). */
typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Stream `stream` (a customer number) of generator `seed`. */
static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed, y = stream;

    x = splitmix64(&x) ^ splitmix64(&y);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(rng *r)
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
static uint32_t below(rng *r, uint64_t n)
{
    return (uint32_t)(next(r) % n);
}

static int64_t range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct/100. */
static bool chance(rng *r, unsigned pct)
{
    return below(r, 100) < pct;
}

/* [0, n), favouring the front (the smaller of two draws): common surnames. */
static size_t skewed(rng *r, size_t n)
{
    size_t a = below(r, n), b = below(r, n);

    return a < b ? a : b;
}

static size_t weighted(rng *r, const unsigned *w, size_t n)
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
    uint64_t in_tx; /* records in the open transaction */
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
    int64_t id;
    int created_ago; /* days before the base day */
    size_t owner;    /* index into demo_users */
    const char *domain;
    const char *phone, *email; /* a person's own, for their contact record */
    int64_t contact_ids[MAX_CONTACTS];
    const char *contact_names[MAX_CONTACTS];
    size_t n_contacts;
};

/* printf into the transaction's arena; "" (and is_oom) over budget. */
static const char *fmt(struct demo *d, const char *f, ...) __attribute__((format(printf, 2, 3)));

static const char *fmt(struct demo *d, const char *f, ...)
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

static const char *lower(struct demo *d, const char *s)
{
    char *out = (char *)fmt(d, "%s", s);

    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* `s` without a trailing `suffix` (UTF-8 bytes): "深圳市" - "市" = "深圳". */
static const char *strip(struct demo *d, const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    if (n > k && strcmp(s + n - k, suffix) == 0)
        return fmt(d, "%.*s", (int)(n - k), s);
    return s;
}

/* ------------------------------------------------------------ fields and times */

static int fx(const dg_record *r, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(r->kind), name);

    dg_assert(i >= 0); /* the names below are those of entity.c */
    return i;
}

static void set_s(dg_record *r, const char *name, const char *v)
{
    int i = fx(r, name);

    r->v[i].s = v;
    r->given |= 1ull << i;
}

static void set_i(dg_record *r, const char *name, int64_t v)
{
    int i = fx(r, name);

    r->v[i].i = v;
    r->given |= 1ull << i;
}

static void set_cny(dg_record *r, const char *name, int64_t yuan)
{
    int i = fx(r, name);

    r->v[i].i = yuan * 100; /* fen */
    r->v[i].s = "CNY";
    r->given |= 1ull << i;
}

static dg_record *new_record(struct demo *d, enum dg_kind kind, int64_t customer_id)
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
static int64_t office_time(struct demo *d, rng *r, int64_t ago)
{
    return d->base_ms - ago * DAY_MS + 9 * HOUR_MS + range(r, 0, 9 * 60 - 1) * 60000;
}

/* "YYYY-MM-DD" of a moment, in Asia/Shanghai. */
static const char *date_of(struct demo *d, int64_t ms)
{
    time_t t = (time_t)((ms + CST_MS) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    return fmt(d, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static const char *random_date(struct demo *d, rng *r, int year_lo, int year_hi)
{
    int y = (int)range(r, year_lo, year_hi), m = (int)range(r, 1, 12), day = (int)range(r, 1, 28);

    return fmt(d, "%04d-%02d-%02d", y, m, day);
}

/* ------------------------------------------------------------ names, phones, addresses */

struct person {
    const char *name;
    const char *given_py, *sur_py; /* ASCII, lower case */
};

static void chinese_person(struct demo *d, rng *r, struct person *p)
{
    const struct hz *s = &surnames[skewed(r, DG_ARRAY_LEN(surnames))];
    const struct hz *g1 = &PICK(r, given);
    const struct hz *g2 = chance(r, 65) ? &PICK(r, given) : NULL;

    p->name = fmt(d, "%s%s%s", s->h, g1->h, g2 ? g2->h : "");
    p->given_py = fmt(d, "%s%s", g1->py, g2 ? g2->py : "");
    p->sur_py = s->py;
}

static void english_person(struct demo *d, rng *r, struct person *p)
{
    const char *first = PICK(r, en_first), *last = PICK(r, en_last);

    p->name = fmt(d, "%s %s", first, last);
    p->given_py = lower(d, first);
    p->sur_py = lower(d, last);
}

static const char *personal_email(struct demo *d, rng *r, const struct person *p)
{
    static const char *const domains[] = {"163.com",   "126.com",     "sina.com",
                                          "gmail.com", "outlook.com", "foxmail.com"};

    if (chance(r, 30))
        return fmt(d, "%u@qq.com", (unsigned)range(r, 10000000, 2999999999));
    switch (below(r, 3)) {
    case 0:
        return fmt(d, "%s.%s@%s", p->given_py, p->sur_py, PICK(r, domains));
    case 1: {
        unsigned year = (unsigned)range(r, 60, 99);

        return fmt(d, "%s%s%u@%s", p->sur_py, p->given_py, year, PICK(r, domains));
    }
    default:
        return fmt(d, "%s_%s@%s", p->sur_py, p->given_py, PICK(r, domains));
    }
}

static const char *work_email(struct demo *d, rng *r, const struct person *p, const char *domain)
{
    switch (below(r, 3)) {
    case 0:
        return fmt(d, "%s.%s@%s", p->given_py, p->sur_py, domain);
    case 1:
        return fmt(d, "%s%s@%s", p->sur_py, p->given_py, domain);
    default:
        return fmt(d, "%c%s@%s", p->given_py[0], p->sur_py, domain);
    }
}

/* A mainland mobile number, written the many ways people write them. */
static const char *mobile(struct demo *d, rng *r)
{
    static const char *const prefixes[] = {
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
        "152", "153", "155", "156", "157", "158", "159", "166", "173", "177", "180",
        "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199"};
    const char *p = PICK(r, prefixes);
    unsigned a = (unsigned)range(r, 0, 9999), b = (unsigned)range(r, 0, 9999);

    switch (below(r, 6)) {
    case 0:
    case 1:
        return fmt(d, "%s%04u%04u", p, a, b);
    case 2:
        return fmt(d, "%s-%04u-%04u", p, a, b);
    case 3:
        return fmt(d, "%s %04u %04u", p, a, b);
    case 4:
        return fmt(d, "+86 %s %04u %04u", p, a, b);
    default:
        return fmt(d, "+86-%s%04u%04u", p, a, b);
    }
}

/* A landline in the region's area code ("0755-86123456", "(021) 6234-5678"). */
static const char *landline(struct demo *d, rng *r, const char *area)
{
    unsigned hi = (unsigned)range(r, 2000, 8999), lo = (unsigned)range(r, 0, 9999);

    switch (below(r, 6)) {
    case 0:
    case 1:
        return fmt(d, "%s-%04u%04u", area, hi, lo);
    case 2:
        return fmt(d, "%s-%04u %04u", area, hi, lo);
    case 3:
        return fmt(d, "(%s) %04u-%04u", area, hi, lo);
    case 4:
        return fmt(d, "+86 %s %04u %04u", area + 1, hi, lo); /* no trunk 0 after +86 */
    default:
        return fmt(d, "%s%04u%04u", area, hi, lo);
    }
}

static const struct region *pick_region(rng *r)
{
    unsigned w[DG_ARRAY_LEN(regions)];

    for (size_t i = 0; i < DG_ARRAY_LEN(regions); i++)
        w[i] = regions[i].weight;
    return &regions[weighted(r, w, DG_ARRAY_LEN(regions))];
}

static const struct industry *pick_industry(rng *r)
{
    unsigned w[DG_ARRAY_LEN(industries)];

    for (size_t i = 0; i < DG_ARRAY_LEN(industries); i++)
        w[i] = industries[i].weight;
    return &industries[weighted(r, w, DG_ARRAY_LEN(industries))];
}

/* Province + city ("广东省深圳市"), or the city alone for a municipality. */
static const char *place_prefix(struct demo *d, const struct region *g)
{
    return strcmp(g->province, g->city) == 0 ? g->city : fmt(d, "%s%s", g->province, g->city);
}

static const char *office_address(struct demo *d, rng *r, const struct region *g)
{
    const char *prefix = place_prefix(d, g), *district = PICK(r, g->districts);
    const char *road = PICK(r, roads);
    unsigned no = (unsigned)range(r, 1, 999);
    const char *street = fmt(d, "%s%s%s%u号", prefix, district, road, no);

    switch (below(r, 10)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4: {
        const char *b1 = PICK(r, brand).h, *b2 = PICK(r, brand).h, *kind = PICK(r, buildings);
        unsigned floor = (unsigned)range(r, 2, 38);

        return fmt(d, "%s%s%s%s%u楼", street, b1, b2, kind, floor);
    }
    case 5:
    case 6: {
        unsigned block = (unsigned)range(r, 1, 12), room = (unsigned)range(r, 101, 1808);

        return fmt(d, "%s%u栋%u室", street, block, room);
    }
    default:
        return street;
    }
}

static const char *home_address(struct demo *d, rng *r, const struct region *g)
{
    const char *prefix = place_prefix(d, g), *district = PICK(r, g->districts);
    const char *road = PICK(r, roads), *b = PICK(r, brand).h, *estate = PICK(r, estates);
    unsigned no = (unsigned)range(r, 1, 999), block = (unsigned)range(r, 1, 30);
    unsigned unit = (unsigned)range(r, 1, 4), floor = (unsigned)range(r, 1, 33);
    unsigned door = (unsigned)range(r, 1, 4);

    return fmt(d, "%s%s%s%u号%s%s%u栋%u单元%u室", prefix, district, road, no, b, estate, block,
               unit, floor * 100 + door);
}

static const char *postcode(struct demo *d, rng *r, const struct region *g)
{
    return fmt(d, "%s%03u", g->post_prefix, (unsigned)range(r, 0, 199));
}

/* ------------------------------------------------------------ customers */

/* Inserts a generated record; `now` is its moment (dg_rec_import stamps a
 * done task's done_at_ms with it). */
static int put(struct demo *d, dg_record *r, int64_t now)
{
    int rc;

    if (d->is_oom)
        return DG_ENOMEM;
    d->rc.now = now;
    if ((rc = dg_rec_import(&d->rc, r)) != DG_OK)
        return rc;
    d->n[r->kind]++;
    d->in_tx++;
    return DG_OK;
}

/* Name, short name, industry and e-mail domain of a company. */
static void company_identity(struct demo *d, struct cust *c, dg_record *r)
{
    rng *g = &c->r;
    const char *name, *short_name;

    if (c->is_english) {
        const char *b = PICK(g, en_brands);
        size_t t = below(g, DG_ARRAY_LEN(en_trades));

        name = fmt(d, "%s %s %s", b, en_trades[t].word, PICK(g, en_forms));
        short_name = b;
        c->industry = en_trades[t].industry;
        c->domain = fmt(d, "%s-%s.com", lower(d, b), lower(d, en_trades[t].word));
    } else {
        const struct industry *ind = pick_industry(g);
        size_t i1 = below(g, DG_ARRAY_LEN(brand));
        size_t i2 = (i1 + 1 + below(g, DG_ARRAY_LEN(brand) - 1)) % DG_ARRAY_LEN(brand);
        const struct hz *b1 = &brand[i1], *b2 = &brand[i2];
        const char *word = PICK(g, ind->words);
        static const char *const tlds[] = {".com", ".com.cn", ".cn", ".net"};

        c->industry = ind->name;
        short_name = fmt(d, "%s%s%s", b1->h, b2->h, word);
        switch (below(g, 10)) {
        case 0:
        case 1:
        case 2:
        case 3:
            name = fmt(d, "%s%s%s%s有限公司", c->reg->city, b1->h, b2->h, word);
            break;
        case 4:
            name = fmt(d, "%s%s%s股份有限公司", b1->h, b2->h, word);
            break;
        case 5:
            name = fmt(d, "%s%s%s（%s）有限公司", b1->h, b2->h, word, c->city_short);
            break;
        case 6:
            name = fmt(d, "%s%s集团有限公司", b1->h, b2->h);
            short_name = fmt(d, "%s%s集团", b1->h, b2->h);
            break;
        case 7:
            name = fmt(d, "%s%s%s%s有限责任公司", c->city_short, b1->h, b2->h, word);
            break;
        default:
            name = fmt(d, "%s%s%s有限公司", b1->h, b2->h, word);
            break;
        }
        c->domain = fmt(d, "%s%s%s", b1->py, b2->py, PICK(g, tlds));
    }
    set_s(r, "name", name);
    set_s(r, "short_name", short_name);
    set_s(r, "industry", c->industry);
}

/* 公司规模 / staff / nature / standing / capital / founding / shareholders. */
static void company_profile(struct demo *d, struct cust *c, dg_record *r)
{
    static const char *const sizes[] = {"微型", "小型", "中型", "大型"};
    static const int64_t staff_lo[] = {3, 20, 100, 1000}, staff_hi[] = {19, 99, 999, 30000};
    static const int64_t capital_wan[] = {10,   50,   100,  200,   300,  500,
                                          1000, 2000, 5000, 10000, 50000};
    rng *g = &c->r;
    size_t sz = c->tier == TIER_A   ? WEIGHTED(g, 5, 20, 45, 30)
                : c->tier == TIER_B ? WEIGHTED(g, 15, 40, 35, 10)
                                    : WEIGHTED(g, 30, 45, 22, 3);
    int64_t staff = range(g, staff_lo[sz], staff_hi[sz]), foreign = 0;
    int nature = c->is_english ? (chance(g, 60) ? NAT_FOREIGN : NAT_JV)
                               : (int)WEIGHTED(g, 5, 60, 6, 2, 10, 7) + 1;
    size_t cap = sz * 2 + below(g, 4);
    struct person p1, p2;

    if (nature == NAT_JV || nature == NAT_FOREIGN)
        foreign = range(g, 1, staff / 10 + 1);
    set_s(r, "size", sizes[sz]);
    set_i(r, "staff_count", staff);
    set_i(r, "staff_domestic", staff - foreign);
    set_i(r, "staff_foreign", foreign);
    set_i(r, "nature", nature);
    set_i(r, "standing",
          sz == 3   ? (int)WEIGHTED(g, 30, 50, 20) + STAND_LEADER
          : sz == 2 ? (int)WEIGHTED(g, 30, 60, 10) + STAND_INFLUENTIAL
          : sz == 1 ? (int)WEIGHTED(g, 40, 50, 10) + STAND_MEDIUM
                    : (int)WEIGHTED(g, 70, 30) + STAND_SMALL);
    set_cny(r, "registered_capital",
            capital_wan[cap < DG_ARRAY_LEN(capital_wan) ? cap : DG_ARRAY_LEN(capital_wan) - 1] *
                10000);
    set_s(r, "founded_on", random_date(d, g, 1985, d->base_year - 1));
    chinese_person(d, g, &p1);
    chinese_person(d, g, &p2);
    if (c->is_english) {
        set_s(r, "shareholders", fmt(d, "%s Holdings（100%%）", PICK(g, en_brands)));
    } else if (nature == NAT_LISTED) {
        set_s(r, "shareholders",
              fmt(d, "%s%s投资有限公司（%u%%），社会公众股（%u%%）", c->city_short,
                  PICK(g, brand).h, 35u, 65u));
    } else {
        unsigned share = (unsigned)range(g, 51, 90);

        set_s(r, "shareholders",
              fmt(d, "%s（%u%%），%s（%u%%）", p1.name, share, p2.name, 100 - share));
    }
}

static void company_contact_info(struct demo *d, struct cust *c, dg_record *r)
{
    static const char *const boxes[] = {"info", "sales", "contact", "service", "market", "office"};
    rng *g = &c->r;
    const char *district = PICK(g, c->reg->districts);

    set_s(r, "address", office_address(d, g, c->reg));
    set_s(r, "postcode", postcode(d, g, c->reg));
    set_s(r, "phone", landline(d, g, c->reg->area_code));
    if (chance(g, 40))
        set_s(r, "fax", landline(d, g, c->reg->area_code));
    if (chance(g, 85))
        set_s(r, "email", fmt(d, "%s@%s", PICK(g, boxes), c->domain));
    if (chance(g, 80))
        set_s(r, "website", fmt(d, "www.%s", c->domain));
    set_s(r, "bank_name",
          fmt(d, "%s%s%s支行", PICK(g, banks), c->city_short, strip(d, district, "区")));
    {
        unsigned a1 = (unsigned)range(g, 1000, 9999), a2 = (unsigned)range(g, 0, 9999);
        unsigned a3 = (unsigned)range(g, 0, 9999), a4 = (unsigned)range(g, 0, 9999);
        unsigned a5 = (unsigned)range(g, 0, 999);

        set_s(r, "bank_account", fmt(d, "%04u %04u %04u %04u %03u", a1, a2, a3, a4, a5));
    }
}

static void company_business(struct demo *d, struct cust *c, dg_record *r)
{
    rng *g = &c->r;
    const struct industry *ind = NULL;

    for (size_t i = 0; i < DG_ARRAY_LEN(industries); i++)
        if (strcmp(industries[i].name, c->industry) == 0)
            ind = &industries[i];
    dg_assert(ind); /* en_trades name industries of the table */
    set_s(r, "main_business", PICK(g, ind->business));
    if (chance(g, 50))
        set_s(r, "side_business", PICK(g, ind->business));
    if (c->status != ST_POTENTIAL) {
        unsigned y1 = (unsigned)range(g, 50, 20000);
        unsigned y2 = y1 * (unsigned)range(g, 80, 130) / 100;
        unsigned y3 = y1 * (unsigned)range(g, 85, 150) / 100;

        set_s(r, "sales_history",
              fmt(d, "%d年：%u万元；%d年：%u万元；%d年：%u万元", d->base_year - 3, y1,
                  d->base_year - 2, y2, d->base_year - 1, y3));
    }
    if (chance(g, 60))
        set_s(r, "our_advantages", PICK(g, advantages));
    if (chance(g, 40))
        set_s(r, "our_weaknesses", PICK(g, weaknesses));
}

/* Status, stage, tier (A 20% / B 40% / C 40%, docs/customer-file.md), intention, value, credit. */
static void classify(struct demo *d, struct cust *c, dg_record *r)
{
    rng *g = &c->r;
    int stage, intention, value;

    DG_UNUSED(d);
    if (c->status == ST_POTENTIAL)
        stage = STAGE_PROSPECT;
    else if (c->status == ST_ACTIVE)
        stage = c->tier == TIER_A   ? (int)WEIGHTED(g, 10, 30, 60) + STAGE_NEW
                : c->tier == TIER_B ? (int)WEIGHTED(g, 35, 50, 15) + STAGE_NEW
                                    : (int)WEIGHTED(g, 50, 50) + STAGE_NEW;
    else
        stage = (int)WEIGHTED(g, 40, 60) + STAGE_NEW;
    if (c->status == ST_LOST)
        intention = chance(g, 70) ? 5 : 4;
    else
        intention = c->tier == TIER_A   ? (int)WEIGHTED(g, 50, 40, 10) + 1
                    : c->tier == TIER_B ? (int)WEIGHTED(g, 10, 40, 40, 10) + 1
                                        : (int)WEIGHTED(g, 10, 35, 35, 20) + 2;
    value = c->tier == TIER_A   ? (chance(g, 80) ? VALUE_HIGH : VALUE_MEDIUM)
            : c->tier == TIER_B ? (int)WEIGHTED(g, 15, 70, 15) + VALUE_HIGH
                                : (chance(g, 25) ? VALUE_MEDIUM : VALUE_LOW);
    set_i(r, "status", c->status);
    set_i(r, "stage", stage);
    set_i(r, "tier", c->tier);
    set_i(r, "intention", intention);
    set_i(r, "value", value);
    if (chance(g, 85))
        set_s(r, "credit_rating", ratings[weighted(g, rating_w, DG_ARRAY_LEN(rating_w))]);
}

static void tags_and_notes(struct demo *d, struct cust *c, dg_record *r)
{
    rng *g = &c->r;
    size_t n = WEIGHTED(g, 35, 35, 20, 10);

    if (n) {
        const char **t = dg_arena_calloc(d->arena, n, sizeof *t);
        size_t first = below(g, DG_ARRAY_LEN(tags));

        if (!t) {
            d->is_oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++) /* distinct: consecutive entries */
            t[i] = tags[(first + i) % DG_ARRAY_LEN(tags)];
        r->tags = t;
        r->n_tags = n;
        r->has_tags = true;
    }
    switch (below(g, 10)) {
    case 0:
    case 1:
    case 2:
        set_s(r, "notes", PICK(g, customer_notes));
        break;
    case 3:
    case 4:
        set_s(r, "notes", tier_cadence[c->tier]);
        break;
    case 5:
        set_s(r, "notes", fmt(d, "%s%s", PICK(g, customer_notes), tier_cadence[c->tier]));
        break;
    default:
        break;
    }
}

/* Everything about customer i except its children; inserts it and fills c. */
static int gen_customer(struct demo *d, int64_t i, struct cust *c)
{
    unsigned owner_w[N_USERS];
    dg_record *r;
    int64_t created, updated;
    int rc;

    memset(c, 0, sizeof *c);
    rng_seed(&c->r, (uint64_t)d->o->seed, (uint64_t)i);
    if (!(r = new_record(d, DG_KIND_CUSTOMER, 0)))
        return DG_ENOMEM;
    c->is_company = chance(&c->r, 85);
    c->is_english = chance(&c->r, c->is_company ? 8 : 5);
    c->reg = pick_region(&c->r);
    c->city_short = strip(d, c->reg->city, "市");
    c->tier = (int)WEIGHTED(&c->r, 20, 40, 40) + TIER_A;
    c->status = (int)WEIGHTED(&c->r, 25, 45, 18, 12) + ST_POTENTIAL;
    c->created_ago =
        (int)(c->status == ST_POTENTIAL ? range(&c->r, 3, 540) : range(&c->r, 60, 6 * 365));
    for (size_t k = 0; k < N_USERS; k++)
        owner_w[k] = demo_users[k].weight;
    c->owner = weighted(&c->r, owner_w, N_USERS);
    if (c->tier == TIER_A && chance(&c->r, 25))
        c->owner = N_USERS - 1; /* the manager keeps some key accounts */
    set_i(r, "kind", c->is_company ? KIND_COMPANY : KIND_PERSON);
    if (c->is_company) {
        company_identity(d, c, r);
        company_profile(d, c, r);
        company_contact_info(d, c, r);
        company_business(d, c, r);
    } else {
        struct person p;

        (c->is_english ? english_person : chinese_person)(d, &c->r, &p);
        set_s(r, "name", p.name);
        if (chance(&c->r, 50))
            set_s(r, "industry", (c->industry = pick_industry(&c->r)->name));
        set_s(r, "address", home_address(d, &c->r, c->reg));
        set_s(r, "postcode", postcode(d, &c->r, c->reg));
        set_s(r, "phone", (c->phone = mobile(d, &c->r)));
        if (chance(&c->r, 70))
            set_s(r, "email", (c->email = personal_email(d, &c->r, &p)));
        c->contact_names[0] = p.name;
    }
    set_s(r, "region", c->reg->province);
    set_s(r, "source", PICK(&c->r, sources));
    classify(d, c, r);
    set_i(r, "owner", d->owners[c->owner].id);
    tags_and_notes(d, c, r);
    created = office_time(d, &c->r, c->created_ago);
    updated = chance(&c->r, 50) ? created : office_time(d, &c->r, range(&c->r, 1, c->created_ago));
    r->created_at = created;
    r->updated_at = updated > created ? updated : created;
    r->created_by = r->updated_by = d->owners[c->owner].id;
    if ((rc = put(d, r, created)) != DG_OK)
        return rc;
    d->owners[c->owner].n_customers++;
    c->id = r->id;
    if (!d->first_code[0])
        snprintf(d->first_code, sizeof d->first_code, "%s", r->v[fx(r, "code")].s);
    snprintf(d->last_code, sizeof d->last_code, "%s", r->v[fx(r, "code")].s);
    return DG_OK;
}

/* ------------------------------------------------------------ the dossier */

static void stamp(dg_record *r, int64_t at, int64_t user_id)
{
    r->created_at = r->updated_at = at;
    r->created_by = r->updated_by = user_id;
}

static const char *hobby_list(struct demo *d, rng *r)
{
    size_t first = below(r, DG_ARRAY_LEN(hobbies)), n = (size_t)range(r, 1, 3);

    if (n == 1)
        return hobbies[first];
    if (n == 2)
        return fmt(d, "%s、%s", hobbies[first], hobbies[(first + 5) % DG_ARRAY_LEN(hobbies)]);
    return fmt(d, "%s、%s、%s", hobbies[first], hobbies[(first + 5) % DG_ARRAY_LEN(hobbies)],
               hobbies[(first + 11) % DG_ARRAY_LEN(hobbies)]);
}

/* A desk phone, sometimes with an extension ("0755-86123456-8021"). */
static const char *office_phone(struct demo *d, rng *g, const char *area)
{
    const char *line = landline(d, g, area);
    unsigned ext;

    if (!chance(g, 40))
        return line;
    ext = (unsigned)range(g, 8000, 8999);
    return fmt(d, "%s-%u", line, ext);
}

static const char *education(struct demo *d, rng *g)
{
    const char *school, *degree;

    if (!chance(g, 70))
        return chance(g, 50) ? "本科" : "大专";
    school = PICK(g, schools);
    degree = PICK(g, degrees);
    return fmt(d, "%s %s", school, degree);
}

/* Contact k of a company: main contact, key person, legal person, other. */
static void company_contact(struct demo *d, struct cust *c, size_t k, dg_record *r)
{
    static const int roles[] = {ROLE_MAIN, ROLE_KEY, ROLE_LEGAL, ROLE_OTHER};
    rng *g = &c->r;
    struct person p;
    const char *title = k == 0   ? PICK(g, titles_main)
                        : k == 1 ? PICK(g, titles_key)
                        : k == 2 ? PICK(g, titles_legal)
                                 : PICK(g, titles_other);

    (c->is_english && chance(g, 50) ? english_person : chinese_person)(d, g, &p);
    set_i(r, "role", roles[k]);
    set_s(r, "name", p.name);
    set_s(r, "title", title);
    if (chance(g, 95))
        set_s(r, "mobile", mobile(d, g));
    if (chance(g, 60))
        set_s(r, "office_phone", office_phone(d, g, c->reg->area_code));
    if (chance(g, 15))
        set_s(r, "personal_phone", mobile(d, g));
    if (chance(g, 80))
        set_s(r, "email", work_email(d, g, &p, c->domain));
    if (chance(g, 50))
        set_s(r, "im",
              chance(g, 70) ? fmt(d, "微信 %s%s%u", p.sur_py, p.given_py, (unsigned)range(g, 1, 99))
                            : fmt(d, "QQ %u", (unsigned)range(g, 10000000, 999999999)));
    if (chance(g, 60))
        set_s(r, "birthday", random_date(d, g, d->base_year - 62, d->base_year - 24));
    if (chance(g, 50))
        set_s(r, "education", education(d, g));
    if (chance(g, 50))
        set_s(r, "hobbies", hobby_list(d, g));
    if (chance(g, 35))
        set_s(r, "family", PICK(g, families));
    if (chance(g, 20))
        set_s(r, "notes", PICK(g, contact_notes));
    c->contact_names[k] = p.name;
}

static int gen_contacts(struct demo *d, struct cust *c)
{
    rng *g = &c->r;
    size_t n = c->is_company ? WEIGHTED(g, 30, 35, 25, 10) + 1 : (chance(g, 25) ? 2 : 1);
    int rc;

    for (size_t k = 0; k < n; k++) {
        dg_record *r = new_record(d, DG_KIND_CONTACT, c->id);
        int64_t ago = c->created_ago - range(g, 0, c->created_ago < 60 ? c->created_ago - 1 : 60);

        if (!r)
            return DG_ENOMEM;
        if (c->is_company) {
            company_contact(d, c, k, r);
        } else if (k == 0) { /* a person is their own main contact */
            set_i(r, "role", ROLE_MAIN);
            set_s(r, "name", c->contact_names[0]);
            set_s(r, "mobile", c->phone);
            if (c->email)
                set_s(r, "email", c->email);
            if (chance(g, 50))
                set_s(r, "hobbies", hobby_list(d, g));
        } else {
            struct person p;

            chinese_person(d, g, &p);
            set_i(r, "role", ROLE_OTHER);
            set_s(r, "name", p.name);
            set_s(r, "title", chance(g, 50) ? "助理" : "家属");
            set_s(r, "mobile", mobile(d, g));
            c->contact_names[k] = p.name;
        }
        stamp(r, office_time(d, g, ago), d->owners[c->owner].id);
        if ((rc = put(d, r, r->created_at)) != DG_OK)
            return rc;
        c->contact_ids[k] = r->id;
    }
    c->n_contacts = n;
    return DG_OK;
}

/* Day offsets (days before the base day) of n events in the customer's
 * active window, oldest first. */
static void event_days(struct cust *c, int64_t *ago, size_t n)
{
    int64_t window = c->created_ago < 730 ? c->created_ago : 730;

    for (size_t i = 0; i < n; i++)
        ago[i] = range(&c->r, 1, window);
    for (size_t i = 1; i < n; i++) /* insertion sort, descending: n <= 20 */
        for (size_t j = i; j > 0 && ago[j] > ago[j - 1]; j--) {
            int64_t t = ago[j];

            ago[j] = ago[j - 1];
            ago[j - 1] = t;
        }
}

/* A longer note for some interactions, fitting the channel. */
static const char *interaction_content(struct demo *d, rng *g, int ch, const char *who)
{
    const struct product *p = &PICK(g, products);
    unsigned x, y;

    switch (below(g, 6)) {
    case 0:
        if (ch == CH_PHONE) {
            x = (unsigned)range(g, 5, 40);
            y = (unsigned)range(g, 1, 5);
            return fmt(d, "与%s通话约%u分钟，客户询问%s的报价和交期，已承诺%u天内发送正式报价。",
                       who, x, p->name, y);
        }
        if (ch == CH_VISIT || ch == CH_MEETING)
            return fmt(d, "与%s面谈，介绍了我司新产品线，客户对%s有兴趣，要求安排技术交流。", who,
                       p->name);
        return fmt(d, "%s确认了%s的规格和数量，等待对方采购部下单。", who, p->name);
    case 1:
        return fmt(d, "客户反馈上一批%s质量稳定，计划下季度增加采购量约%u%%。", p->name,
                   (unsigned)range(g, 5, 50));
    case 2:
        x = (unsigned)range(g, 5, 500);
        y = (unsigned)range(g, 3, 20);
        return fmt(d, "客户预算约%u万元，竞争对手报价低约%u%%，需申请特价。", x, y);
    case 3:
        return fmt(d, "确认合同条款：付款方式为月结%u天，质保一年。",
                   (unsigned)(range(g, 1, 4) * 30));
    default:
        return "";
    }
}

static int gen_interactions(struct demo *d, struct cust *c)
{
    static const int max_by_tier[] = {0, 20, 12, 6}, min_by_tier[] = {0, 4, 1, 0};
    int64_t ago[MAX_INTERACTIONS];
    rng *g = &c->r;
    int64_t lo = min_by_tier[c->tier], hi = max_by_tier[c->tier], n;
    int rc;

    if (c->status == ST_POTENTIAL || c->status == ST_LOST || !c->is_company)
        hi /= 2;
    n = range(g, lo < hi ? lo : hi, hi);
    event_days(c, ago, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_INTERACTION, c->id);
        int ch = (int)WEIGHTED(g, 40, 20, 10, 15, 15) + CH_PHONE;
        size_t k = chance(g, 60) ? 0 : below(g, c->n_contacts);
        const char *summary = ch == CH_PHONE     ? PICK(g, sum_phone)
                              : ch == CH_EMAIL   ? PICK(g, sum_email)
                              : ch == CH_MEETING ? PICK(g, sum_meeting)
                              : ch == CH_VISIT   ? PICK(g, sum_visit)
                                                 : PICK(g, sum_im);
        int64_t at = office_time(d, g, ago[i]);

        if (!r)
            return DG_ENOMEM;
        set_i(r, "channel", ch);
        set_i(r, "at_ms", at);
        set_i(r, "contact_id", c->contact_ids[k]);
        set_s(r, "summary", summary);
        set_s(r, "content", interaction_content(d, g, ch, c->contact_names[k]));
        if (ch == CH_MEETING || ch == CH_VISIT) {
            set_s(r, "place", ch == CH_VISIT ? "客户公司" : PICK(g, places));
            set_s(r, "participants",
                  fmt(d, "%s、%s", c->contact_names[k], demo_users[c->owner].display));
        }
        if (chance(g, i == n - 1 ? 70 : 25))
            set_s(r, "next_follow_up", date_of(d, at + range(g, 3, 30) * DAY_MS));
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = put(d, r, at)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static int gen_deals(struct demo *d, struct cust *c)
{
    static const char *const breach_notes[] = {"客户逾期付款45天，已协商分期支付",
                                               "我方交货延迟一周，已承担运费作为补偿",
                                               "客户单方面变更规格，已签补充协议"};
    static const char *const deal_notes[] = {"已开票", "货款已结清", "含一年免费维保",
                                             "分两批交货"};
    int64_t ago[6];
    rng *g = &c->r;
    int64_t n = c->status == ST_POTENTIAL ? 0
                : c->status == ST_ACTIVE  ? range(g, c->tier == TIER_C ? 0 : 1, 7 - c->tier * 1)
                : c->status == ST_DORMANT ? range(g, 0, 3)
                                          : range(g, 0, 2);
    int rc;

    if (!c->is_company && n > 2)
        n = 2;
    event_days(c, ago, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_DEAL, c->id);
        int64_t at = office_time(d, g, ago[i]);
        int64_t exp = c->tier == TIER_A   ? range(g, 3, 5)
                      : c->tier == TIER_B ? range(g, 3, 4)
                                          : range(g, 2, 3);
        int64_t yuan = range(g, 10, 99);
        const char *date = date_of(d, at);
        const struct product *p = &PICK(g, products);

        if (!r)
            return DG_ENOMEM;
        while (exp-- > 0)
            yuan *= 10;
        set_s(r, "number", fmt(d, "HT%.4s%.2s-%05u", date, date + 5, (unsigned)below(g, 100000)));
        set_i(r, "at_ms", at);
        set_s(r, "place", chance(g, 70) ? c->reg->city : "线上签约");
        set_cny(r, "amount", yuan);
        set_s(r, "content",
              fmt(d, "%s：%s %u%s", p->contract, p->name, (unsigned)range(g, 1, 200), p->unit));
        set_s(r, "person_in_charge", demo_users[c->owner].display);
        if (chance(g, 3)) {
            set_i(r, "breach", 1);
            set_s(r, "notes", PICK(g, breach_notes));
        } else if (chance(g, 25)) {
            set_s(r, "notes", PICK(g, deal_notes));
        }
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = put(d, r, at)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

/* Follow-ups due around the base day: some done, some open, some overdue. */
static int gen_tasks(struct demo *d, struct cust *c)
{
    rng *g = &c->r;
    int64_t n = c->status == ST_LOST ? range(g, 0, 1) : range(g, c->tier == TIER_A ? 1 : 0, 3);
    int rc;

    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_TASK, c->id);
        int64_t due_day = range(g, -45, 30); /* days after the base day */
        int64_t due = d->base_ms + due_day * DAY_MS + 10 * HOUR_MS;
        int64_t created_ago = (due_day < 0 ? -due_day : 0) + range(g, 1, 14);
        int64_t created = office_time(d, g, created_ago), done_at = 0;
        size_t k = below(g, c->n_contacts);

        if (!r)
            return DG_ENOMEM;
        if (chance(g, due_day < 0 ? 75 : 10))
            done_at = office_time(d, g, range(g, 1, created_ago));
        set_s(r, "title", fmt(d, "%s：%s", PICK(g, task_titles), c->contact_names[k]));
        if (chance(g, 30))
            set_s(r, "notes", c->tier == TIER_A ? tier_cadence[TIER_A] : PICK(g, customer_notes));
        set_i(r, "due_at_ms", due);
        set_i(r, "assignee", d->owners[c->owner].id);
        set_i(r, "done", done_at != 0);
        stamp(r, created, d->owners[c->owner].id);
        if (done_at)
            r->updated_at = done_at > created ? done_at : created;
        if ((rc = put(d, r, done_at ? r->updated_at : created)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static int gen_feedback(struct demo *d, struct cust *c)
{
    int64_t ago[2];
    rng *g = &c->r;
    size_t n = c->status == ST_POTENTIAL ? 0 : WEIGHTED(g, 70, 22, 8);
    int rc;

    event_days(c, ago, n);
    for (size_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_FEEDBACK, c->id);
        int kind = (int)below(g, 4) + FB_COMPLAINT;
        int64_t at = office_time(d, g, ago[i]);
        bool is_issue = kind == FB_COMPLAINT || kind == FB_SUGGESTION;
        int status = !is_issue     ? (chance(g, 80) ? FBS_CLOSED : FBS_OPEN)
                     : ago[i] > 60 ? (int)WEIGHTED(g, 5, 5, 45, 45) + FBS_OPEN
                                   : (int)WEIGHTED(g, 40, 30, 20, 10) + FBS_OPEN;
        static const int64_t lo[] = {0, 1, 3, 4, 2}, hi[] = {0, 3, 4, 5, 5};
        const struct said *said = kind == FB_COMPLAINT    ? &PICK(g, fb_complaint)
                                  : kind == FB_SUGGESTION ? &PICK(g, fb_suggestion)
                                  : kind == FB_PRAISE     ? &PICK(g, fb_praise)
                                                          : &PICK(g, fb_survey);

        if (!r)
            return DG_ENOMEM;
        set_i(r, "kind", kind);
        if (chance(g, 90))
            set_i(r, "satisfaction", range(g, lo[kind], hi[kind]));
        set_s(r, "text", said->text);
        set_i(r, "status", status);
        if (status >= FBS_RESOLVED && is_issue)
            set_s(r, "resolution", said->resolution);
        set_i(r, "at_ms", at);
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = put(d, r, at)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

/* Customer i and its whole dossier, in the open transaction. */
static int gen_dossier(struct demo *d, int64_t i)
{
    struct cust c;
    int rc;

    if ((rc = gen_customer(d, i, &c)) != DG_OK || (rc = gen_contacts(d, &c)) != DG_OK ||
        (rc = gen_interactions(d, &c)) != DG_OK || (rc = gen_deals(d, &c)) != DG_OK ||
        (rc = gen_tasks(d, &c)) != DG_OK || (rc = gen_feedback(d, &c)) != DG_OK)
        return rc;
    return DG_OK;
}

/* ------------------------------------------------------------ loading */

/* Set by SIGINT/SIGTERM: the one mutable global, because a signal handler
 * can reach nothing else. Read between customers. */
static volatile sig_atomic_t stop_signal;

static void stop_handler(int sig)
{
    stop_signal = sig;
}

static int parse_base(struct demo *d, const char *date, char *err, size_t err_len)
{
    struct tm tm = {0};

    if (!dg_date_valid(date)) {
        snprintf(err, err_len, "--base-date must be a date (YYYY-MM-DD), got \"%s\"", date);
        return DG_EINVAL;
    }
    tm.tm_year = atoi(date) - 1900;
    tm.tm_mon = atoi(date + 5) - 1;
    tm.tm_mday = atoi(date + 8);
    d->base_ms = (int64_t)timegm(&tm) * 1000 - CST_MS;
    d->base_year = tm.tm_year + 1900;
    if (d->base_year < 1990) {
        snprintf(err, err_len, "--base-date must be 1990 or later");
        return DG_EINVAL;
    }
    return DG_OK;
}

/* Looks the demo accounts up; hashes fresh passwords for those missing
 * (slow on purpose: argon2id, before any transaction is open). */
static int prepare_users(struct demo *d, char hashes[N_USERS][DG_PASSWORD_HASH_MAX], char *err,
                         size_t err_len)
{
    for (size_t k = 0; k < N_USERS; k++) {
        dg_user u;
        int rc = dg_store_user_by_name(d->st, demo_users[k].name, &u);

        if (rc == DG_OK) {
            d->owners[k].id = u.id;
            continue;
        }
        if (rc != DG_ENOTFOUND) {
            snprintf(err, err_len, "cannot read users: %s", dg_store_errmsg(d->st));
            return rc;
        }
        d->owners[k].is_new = true;
        dg_password_generate(d->owners[k].password, PASSWORD_CHARS);
        rc =
            dg_password_hash(&d->o->argon2, d->owners[k].password, hashes[k], DG_PASSWORD_HASH_MAX);
        if (rc != DG_OK) {
            snprintf(err, err_len, "cannot hash a password: %s", dg_strerror(rc));
            return rc;
        }
    }
    return DG_OK;
}

/* Inserts the missing accounts (in the first transaction). */
static int insert_users(struct demo *d, char hashes[N_USERS][DG_PASSWORD_HASH_MAX])
{
    for (size_t k = 0; k < N_USERS; k++) {
        dg_user u = {0};
        int rc;

        if (!d->owners[k].is_new)
            continue;
        snprintf(u.username, sizeof u.username, "%s", demo_users[k].name);
        snprintf(u.display_name, sizeof u.display_name, "%s", demo_users[k].display);
        snprintf(u.password_hash, sizeof u.password_hash, "%s", hashes[k]);
        u.role = demo_users[k].role;
        u.created_at = dg_now_ms(); /* an account's real creation time, not demo content */
        if ((rc = dg_store_user_insert(d->st, &u, 0)) != DG_OK)
            return rc;
        d->owners[k].id = u.id;
    }
    return DG_OK;
}

static uint64_t total(const uint64_t *n)
{
    uint64_t t = 0;

    for (int k = 1; k < DG_KIND_COUNT; k++)
        t += n[k];
    return t;
}

static void progress(struct demo *d, int64_t done, bool is_final)
{
    int64_t now = dg_mono_ms(), ms;

    if (!d->o->progress || (!is_final && now - d->progress_ms < 250))
        return;
    d->progress_ms = now;
    ms = now - d->started_ms;
    fprintf(d->o->progress, "\rdemo-data: %lld/%lld customers, %llu records, %.0f records/s   %s",
            (long long)done, (long long)d->o->n_customers, (unsigned long long)total(d->n),
            ms > 0 ? (double)total(d->n) * 1000.0 / (double)ms : 0.0, is_final ? "\n" : "");
    fflush(d->o->progress);
}

/* The run's one audit record, in the last transaction. */
static int write_audit(struct demo *d, int64_t n_done)
{
    json_t *users = json_array(), *detail;
    char *text;
    int rc;

    for (size_t k = 0; k < N_USERS; k++)
        if (d->owners[k].is_new)
            json_array_append_new(users, json_string(demo_users[k].name));
    detail = json_pack(
        "{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:b}", "seed", (json_int_t)d->o->seed,
        "customers_requested", (json_int_t)d->o->n_customers, "base_date", d->o->base_date,
        "first_code", d->first_code, "last_code", d->last_code, "customers", (json_int_t)n_done,
        "contacts", (json_int_t)d->n[DG_KIND_CONTACT], "interactions",
        (json_int_t)d->n[DG_KIND_INTERACTION], "deals", (json_int_t)d->n[DG_KIND_DEAL], "tasks",
        (json_int_t)d->n[DG_KIND_TASK], "feedback", (json_int_t)d->n[DG_KIND_FEEDBACK],
        "users_created", users, "interrupted", d->is_interrupted);
    text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    if (!text)
        return DG_ENOMEM;
    dg_audit_rec rec = {.at = dg_now_ms(), /* when the load happened: audit, not demo content */
                        .username = "",
                        .peer = "local",
                        .action = "system.demo_data",
                        .entity = "system",
                        .outcome = "ok",
                        .detail = text};
    rc = dg_audit_append(d->st, &d->chain, &rec);
    free(text);
    return rc;
}

static int commit(struct demo *d)
{
    int rc = dg_store_commit(d->st), wal_frames, done_frames;

    if (rc != DG_OK)
        return rc;
    memcpy(d->n_committed, d->n, sizeof d->n);
    for (size_t k = 0; k < N_USERS; k++)
        d->owned_committed[k] = d->owners[k].n_customers;
    memcpy(d->last_code_committed, d->last_code, sizeof d->last_code);
    d->users_committed = true;
    d->in_tx = 0;
    dg_arena_free(d->arena);
    d->arena = d->rc.arena = dg_arena_new(ARENA_BUDGET);
    /* A writer connection leaves checkpoints to the server's checkpointer
     * thread (no automatic ones); alone on the database we run one after
     * each commit, or the WAL would grow by every page the load writes. */
    return dg_store_checkpoint(d->st, &wal_frames, &done_frames);
}

/* After a failed transaction: counts back to what is committed, and - best
 * effort, the failure may well repeat - an audit record for that, so a
 * partial load is not left unaudited. */
static void salvage(struct demo *d, int64_t n_done)
{
    dg_store_rollback(d->st);
    memcpy(d->n, d->n_committed, sizeof d->n);
    for (size_t k = 0; k < N_USERS; k++)
        d->owners[k].n_customers = d->owned_committed[k];
    memcpy(d->last_code, d->last_code_committed, sizeof d->last_code);
    if (!d->users_committed)
        return;
    d->is_interrupted = true;
    /* the failed transaction may have advanced the chain head in memory */
    if (dg_store_begin(d->st) != DG_OK || dg_audit_chain_load(d->st, &d->chain) != DG_OK) {
        dg_store_rollback(d->st);
        return;
    }
    if (write_audit(d, n_done) != DG_OK || dg_store_commit(d->st) != DG_OK)
        dg_store_rollback(d->st);
}

/* Generates and commits every customer; the audit record goes into the
 * last transaction. *n_done gets the customers committed. */
static int load(struct demo *d, char hashes[N_USERS][DG_PASSWORD_HASH_MAX], int64_t *n_done)
{
    int64_t i = 0;
    int rc;

    *n_done = 0;
    if ((rc = dg_store_begin(d->st)) != DG_OK)
        return rc;
    if ((rc = insert_users(d, hashes)) != DG_OK)
        goto fail;
    for (; i < d->o->n_customers && !stop_signal; i++) {
        if (d->in_tx >= TX_RECORDS) {
            if ((rc = commit(d)) != DG_OK)
                goto fail;
            *n_done = i;
            if ((rc = dg_store_begin(d->st)) != DG_OK)
                goto fail;
        }
        if ((rc = gen_dossier(d, i)) != DG_OK)
            goto fail;
        progress(d, i + 1, false);
    }
    d->is_interrupted = i < d->o->n_customers;
    if ((rc = write_audit(d, i)) != DG_OK || (rc = commit(d)) != DG_OK)
        goto fail;
    *n_done = i;
    progress(d, i, true);
    return DG_OK;
fail:
    if (d->o->progress)
        fputc('\n', d->o->progress);
    salvage(d, *n_done);
    return rc;
}

static double db_mib(const char *dir)
{
    static const char *const files[] = {DG_DB_FILE, DG_DB_FILE "-wal"};
    double bytes = 0;

    for (size_t i = 0; i < DG_ARRAY_LEN(files); i++) {
        char p[1200];
        struct stat sb;

        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (stat(p, &sb) == 0)
            bytes += (double)sb.st_size;
    }
    return bytes / (1024.0 * 1024.0);
}

static void print_accounts(const struct demo *d, FILE *out)
{
    fprintf(out, "Demo accounts (they own the customers):\n");
    for (size_t k = 0; k < N_USERS; k++) {
        const struct owner *w = &d->owners[k];

        fprintf(out, "  %-10s %-8s %9llu customers  %s%s  %s\n", demo_users[k].name,
                dg_role_name(demo_users[k].role), (unsigned long long)w->n_customers,
                w->is_new ? "password: " : "(existed; password unchanged)",
                w->is_new ? w->password : "", demo_users[k].display);
    }
    fprintf(out, "New passwords are shown only now and stored only as hashes; each user can\n"
                 "change theirs with `dangan passwd`.\n");
}

static void print_summary(const struct demo *d, FILE *out, int64_t n_done, int64_t elapsed_ms)
{
    static const char *const labels[DG_KIND_COUNT] = {
        "", "customers", "contacts", "interactions", "deals", "feedback", "tasks"};
    double s = (double)elapsed_ms / 1000.0;

    fprintf(out, "%s demo data into %s (seed %lld, base day %s Asia/Shanghai)\n",
            d->is_interrupted ? "Interrupted; loaded" : "Loaded", d->o->data_dir,
            (long long)d->o->seed, d->o->base_date);
    if (d->is_interrupted)
        fprintf(out, "  %lld of %lld customers were loaded (committed and audited)\n",
                (long long)n_done, (long long)d->o->n_customers);
    for (int k = 1; k < DG_KIND_COUNT; k++)
        fprintf(out, "  %-14s %10llu%s%s%s%s\n", labels[k], (unsigned long long)d->n[k],
                k == DG_KIND_CUSTOMER && n_done ? "   " : "",
                k == DG_KIND_CUSTOMER && n_done ? d->first_code : "",
                k == DG_KIND_CUSTOMER && n_done ? " .. " : "",
                k == DG_KIND_CUSTOMER && n_done ? d->last_code : "");
    fprintf(out, "  %-14s %10llu   in %.1f s, %.0f records/s\n", "records",
            (unsigned long long)total(d->n), s, s > 0 ? (double)total(d->n) / s : 0.0);
    fprintf(out, "  %-14s %10.1f MiB\n", "database", db_mib(d->o->data_dir));
    print_accounts(d, out);
    fflush(out);
}

static void demo_fini(struct demo *d)
{
    dg_store_close(d->st);
    dg_collator_free(d->collator);
    dg_arena_free(d->arena);
    for (size_t k = 0; k < N_USERS; k++)
        dg_wipe(d->owners[k].password, sizeof d->owners[k].password);
}

static int demo_open(struct demo *d, char *err, size_t err_len)
{
    char p[1200];
    int rc, n_rekeyed;

    snprintf(p, sizeof p, "%s/%s", d->o->data_dir, DG_DB_FILE);
    if ((rc = dg_store_open(p, true, &d->st, err, err_len)) != DG_OK)
        return rc;
    if ((rc = dg_store_set_cache_mib(d->st, CACHE_MIB)) != DG_OK) {
        snprintf(err, err_len, "cannot size the page cache: %s", dg_store_errmsg(d->st));
        return rc;
    }
    /* Name keys are made with this ICU: bring the store's record of the
     * collation (and any older keys) up to date first, or the server's next
     * start would recompute every key written here. */
    if ((rc = dg_rec_rekey_if_needed(d->st, &n_rekeyed)) != DG_OK) {
        snprintf(err, err_len, "cannot update name sort keys: %s", dg_store_errmsg(d->st));
        return rc;
    }
    /* Likewise the search index: documents added below use this layout. */
    if ((rc = dg_rec_reindex_if_needed(d->st, &n_rekeyed)) != DG_OK) {
        snprintf(err, err_len, "cannot rebuild the search index: %s", dg_store_errmsg(d->st));
        return rc;
    }
    if ((rc = dg_collator_new(&d->collator)) != DG_OK) {
        snprintf(err, err_len, "cannot load the ICU zh collation");
        return rc;
    }
    if ((rc = dg_audit_chain_load(d->st, &d->chain)) != DG_OK) {
        snprintf(err, err_len, "cannot read the audit chain head: %s", dg_store_errmsg(d->st));
        return rc;
    }
    d->tx = (dg_wtx){.store = d->st, .audit = &d->chain, .collator = d->collator};
    d->who = (dg_actor){.user_id = 0, .username = "", .peer = "local", .role = DG_ROLE_ADMIN};
    d->arena = dg_arena_new(ARENA_BUDGET);
    d->rc = (dg_rec_ctx){.tx = &d->tx,
                         .collator = d->collator,
                         .who = &d->who,
                         .arena = d->arena,
                         .now = d->base_ms};
    return DG_OK;
}

/* What dangand serve checks before it writes (check.h), before this writes. */
static int preflight(const char *data_dir, char *err, size_t err_len)
{
    dg_check_report r;
    const dg_check_item *bad;

    if (dg_check_run(data_dir, DG_CHECK_STARTUP, &r) == DG_OK)
        return dg_check_unmark_clean(data_dir, err, err_len);
    bad = dg_check_first_failure(&r);
    snprintf(err, err_len, "%s: %s; fix: %s", bad->name, bad->message, bad->fix);
    return DG_ECORRUPT;
}

int dg_demo_run(const dg_demo_opts *o, FILE *out, char *err, size_t err_len)
{
    char hashes[N_USERS][DG_PASSWORD_HASH_MAX];
    struct demo d = {.o = o};
    struct sigaction sa = {0}, old_int, old_term;
    int64_t n_done = 0;
    int lock_fd = -1, rc;

    if (o->n_customers < 1 || o->n_customers > DG_DEMO_MAX_CUSTOMERS || o->seed < 0) {
        snprintf(err, err_len, "--customers must be 1-%d and --seed not negative",
                 DG_DEMO_MAX_CUSTOMERS);
        return DG_EINVAL;
    }
    if ((rc = parse_base(&d, o->base_date, err, err_len)) != DG_OK ||
        (rc = dg_data_dir_lock(o->data_dir, "demo-data", true, &lock_fd, err, err_len)) != DG_OK)
        return rc;
    if ((rc = preflight(o->data_dir, err, err_len)) != DG_OK) {
        close(lock_fd);
        return rc;
    }
    /* From here a Ctrl-C ends the run cleanly: after the current transaction,
     * with what was loaded audited (even if that is nothing yet). */
    stop_signal = 0;
    sa.sa_handler = stop_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if ((rc = demo_open(&d, err, err_len)) != DG_OK ||
        (rc = prepare_users(&d, hashes, err, err_len)) != DG_OK)
        goto done;
    d.started_ms = dg_mono_ms();
    rc = load(&d, hashes, &n_done);
    if (rc == DG_OK) {
        int64_t elapsed_ms = dg_mono_ms() - d.started_ms;

        dg_store_close(d.st); /* checkpoints the WAL: the size printed is the database's */
        d.st = NULL;
        /* closed cleanly: the server's next start need not check it in full */
        if (dg_check_mark_clean(o->data_dir, err, err_len) != DG_OK)
            err[0] = '\0'; /* then it does: slower, not wrong */
        print_summary(&d, out, n_done, elapsed_ms);
        if (d.is_interrupted) {
            snprintf(err, err_len, "interrupted after %lld of %lld customers", (long long)n_done,
                     (long long)o->n_customers);
            rc = DG_ECLOSED;
        }
    } else {
        snprintf(err, err_len,
                 "loading failed after %lld committed customers (%s): %s; the committed "
                 "ones stay (audited if the database still allowed it)",
                 (long long)n_done, dg_strerror(rc), dg_store_errmsg(d.st));
        if (d.users_committed)
            print_accounts(&d, out);
    }
done:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    demo_fini(&d);
    dg_wipe(hashes, sizeof hashes);
    close(lock_fd); /* releases the lock; after the store is closed */
    return rc;
}
