/* demo_customer.c - one demo customer: its people, phones, addresses and
 * company file, drawn from its own stream (see demo.c), and the writing of a
 * record. Runs on: the main thread of `dangand demo-data`.
 */
#include "demo_int.h"

#include "demo_words_customer.h"

const char *const dg_demo_customer_notes[6] = {
    "客户对价格较敏感，报价需突出性价比。", "决策流程较长，需提前介入项目立项。",
    "客户关注交期和售后响应速度。",         "年底有集中采购计划，提前准备方案。",
    "竞争对手正在接触该客户，需加强维护。", "客户财务审批严格，合同条款需法务审核。",
};
/* Contact cadence of the ABC tiers (docs/customer-file.md, 客户档案分类管理表). */
const char *const dg_demo_tier_cadence[4] = {
    "",
    "A级客户：每周电话沟通1次以上，每2个月拜访高层领导1次，专人收集客户动态。",
    "B级客户：每周至少电话联络1次，每3个月拜访营销总监及以上管理人员1次。",
    "C级客户：每2周电话联络1次以上，每4个月拜访1次。",
};

/* ------------------------------------------------------------ names, phones, addresses */

void dg_demo_chinese_person(struct demo *d, rng *r, struct person *p)
{
    const struct hz *s = &surnames[skewed(r, DG_ARRAY_LEN(surnames))];
    const struct hz *g1 = &PICK(r, given);
    const struct hz *g2 = chance(r, 65) ? &PICK(r, given) : NULL;

    p->name = fmt(d, "%s%s%s", s->h, g1->h, g2 ? g2->h : "");
    p->given_py = fmt(d, "%s%s", g1->py, g2 ? g2->py : "");
    p->sur_py = s->py;
}

void dg_demo_english_person(struct demo *d, rng *r, struct person *p)
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

const char *dg_demo_work_email(struct demo *d, rng *r, const struct person *p, const char *domain)
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
const char *dg_demo_mobile(struct demo *d, rng *r)
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
const char *dg_demo_landline(struct demo *d, rng *r, const char *area)
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
int dg_demo_put(struct demo *d, dg_record *r, int64_t now)
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
    dg_demo_chinese_person(d, g, &p1);
    dg_demo_chinese_person(d, g, &p2);
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
    set_s(r, "phone", dg_demo_landline(d, g, c->reg->area_code));
    if (chance(g, 40))
        set_s(r, "fax", dg_demo_landline(d, g, c->reg->area_code));
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

/* Why customers were lost (seed of the churn report), most common first. */
static const char *const churn_reasons[] = {"价格因素", "转向竞争对手", "服务不满意",  "需求变化",
                                            "经营困难", "联系人离职",   "产品质量问题"};
static const unsigned churn_w[] = {30, 25, 15, 12, 8, 6, 4};

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
    if (c->status == ST_LOST)
        set_s(r, "churn_reason", churn_reasons[weighted(g, churn_w, DG_ARRAY_LEN(churn_w))]);
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
        set_s(r, "notes", PICK(g, dg_demo_customer_notes));
        break;
    case 3:
    case 4:
        set_s(r, "notes", dg_demo_tier_cadence[c->tier]);
        break;
    case 5:
        set_s(r, "notes",
              fmt(d, "%s%s", PICK(g, dg_demo_customer_notes), dg_demo_tier_cadence[c->tier]));
        break;
    default:
        break;
    }
}

/* Everything about customer i except its children; inserts it and fills c. */
int dg_demo_gen_customer(struct demo *d, int64_t i, struct cust *c)
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
        owner_w[k] = dg_demo_users[k].weight;
    c->owner = weighted(&c->r, owner_w, N_USERS);
    if (c->tier == TIER_A && chance(&c->r, 25))
        c->owner = N_USERS - 1; /* the manager keeps some key accounts */
    /* About 5% nobody owns: the public pool, which sales see (so never a
     * restricted tier), mostly leads and customers gone quiet. */
    c->is_pool = c->status != ST_ACTIVE && chance(&c->r, 9);
    if (c->is_pool && c->tier == TIER_A)
        c->tier = TIER_B;
    set_i(r, "kind", c->is_company ? KIND_COMPANY : KIND_PERSON);
    if (c->is_company) {
        company_identity(d, c, r);
        company_profile(d, c, r);
        company_contact_info(d, c, r);
        company_business(d, c, r);
    } else {
        struct person p;

        (c->is_english ? dg_demo_english_person : dg_demo_chinese_person)(d, &c->r, &p);
        set_s(r, "name", p.name);
        if (chance(&c->r, 50))
            set_s(r, "industry", (c->industry = pick_industry(&c->r)->name));
        set_s(r, "address", home_address(d, &c->r, c->reg));
        set_s(r, "postcode", postcode(d, &c->r, c->reg));
        set_s(r, "phone", (c->phone = dg_demo_mobile(d, &c->r)));
        if (chance(&c->r, 70))
            set_s(r, "email", (c->email = personal_email(d, &c->r, &p)));
        c->contact_names[0] = p.name;
    }
    set_s(r, "region", c->reg->province);
    set_s(r, "source", PICK(&c->r, sources));
    classify(d, c, r);
    if (!c->is_pool)
        set_i(r, "owner", d->owners[c->owner].id);
    tags_and_notes(d, c, r);
    created = office_time(d, &c->r, c->created_ago);
    updated = chance(&c->r, 50) ? created : office_time(d, &c->r, range(&c->r, 1, c->created_ago));
    r->created_at = created;
    r->updated_at = updated > created ? updated : created;
    r->created_by = r->updated_by = d->owners[c->owner].id;
    if ((rc = dg_demo_put(d, r, created)) != DG_OK)
        return rc;
    if (c->is_pool)
        d->n_pool++;
    else
        d->owners[c->owner].n_customers++;
    c->id = r->id;
    if (!d->first_code[0])
        snprintf(d->first_code, sizeof d->first_code, "%s", r->v[fx(r, "code")].s);
    snprintf(d->last_code, sizeof d->last_code, "%s", r->v[fx(r, "code")].s);
    return DG_OK;
}
