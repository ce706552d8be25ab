/* gen.c - random customers and queries from fixed word lists (gen.h).
 *
 * The lists are chosen so that the queries of dg_gen_query find the
 * customers of dg_gen_customer_fill at realistic rates: every city, industry
 * and brand word occurs in names and addresses, and the contact names in the
 * notes use the same surnames and given names as the name queries.
 */
#include "gen.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"

struct city {
    const char *name;     /* 上海 */
    const char *area;     /* telephone area code */
    const char *postcode; /* a plausible first digits */
    const char *districts[3];
};

static const struct city cities[] = {
    {"北京", "010", "100", {"朝阳区", "海淀区", "东城区"}},
    {"上海", "021", "200", {"浦东新区", "徐汇区", "静安区"}},
    {"深圳", "0755", "518", {"南山区", "福田区", "宝安区"}},
    {"杭州", "0571", "310", {"西湖区", "滨江区", "余杭区"}},
    {"广州", "020", "510", {"天河区", "越秀区", "番禺区"}},
    {"南京", "025", "210", {"鼓楼区", "玄武区", "江宁区"}},
    {"苏州", "0512", "215", {"姑苏区", "吴中区", "工业园区"}},
    {"成都", "028", "610", {"武侯区", "锦江区", "高新区"}},
    {"武汉", "027", "430", {"江汉区", "洪山区", "武昌区"}},
    {"天津", "022", "300", {"和平区", "南开区", "滨海新区"}},
    {"重庆", "023", "400", {"渝中区", "江北区", "沙坪坝区"}},
    {"西安", "029", "710", {"雁塔区", "碑林区", "未央区"}},
    {"宁波", "0574", "315", {"鄞州区", "海曙区", "北仑区"}},
    {"青岛", "0532", "266", {"市南区", "崂山区", "黄岛区"}},
    {"厦门", "0592", "361", {"思明区", "湖里区", "集美区"}},
    {"长沙", "0731", "410", {"岳麓区", "芙蓉区", "天心区"}},
};

struct word {
    const char *zh;
    const char *latin; /* pinyin, for e-mails and websites */
};

static const struct word brands[] = {
    {"华信", "huaxin"},     {"恒达", "hengda"},    {"宏远", "hongyuan"},    {"金鼎", "jinding"},
    {"瑞丰", "ruifeng"},    {"东方", "dongfang"},  {"新源", "xinyuan"},     {"永泰", "yongtai"},
    {"中联", "zhonglian"},  {"盛世", "shengshi"},  {"天成", "tiancheng"},   {"博远", "boyuan"},
    {"安捷", "anjie"},      {"鼎盛", "dingsheng"}, {"嘉禾", "jiahe"},       {"聚力", "juli"},
    {"汇通", "huitong"},    {"启明", "qiming"},    {"众创", "zhongchuang"}, {"海纳", "haina"},
    {"长城", "changcheng"}, {"远航", "yuanhang"},  {"光明", "guangming"},   {"百川", "baichuan"},
};

struct industry {
    const char *zh;
    const char *latin;    /* for e-mails and websites */
    const char *business; /* main_business */
};

static const struct industry industries[] = {
    {"科技", "tech", "工业自动化设备的研发与销售"}, {"贸易", "trade", "进出口贸易及国内批发"},
    {"制造", "mfg", "五金制品与注塑件加工"},        {"物流", "logistics", "第三方仓储与城市配送"},
    {"电子", "electronics", "电子元器件分销"},      {"医药", "pharma", "原料药与医疗器械"},
    {"食品", "food", "预包装食品批发零售"},         {"化工", "chem", "精细化工产品生产"},
    {"建材", "building", "新型建筑材料"},           {"纺织", "textile", "服装面料织造"},
    {"机械", "machinery", "数控机床与零部件"},      {"能源", "energy", "光伏组件与储能系统"},
    {"传媒", "media", "品牌策划与广告发布"},        {"咨询", "consulting", "企业管理咨询"},
    {"软件", "software", "行业软件开发与运维"},     {"环保", "enviro", "污水处理工程"},
};

static const char *const suffixes[] = {"有限公司",     "有限公司",     "有限公司",
                                       "股份有限公司", "集团有限公司", "有限责任公司"};
static const char *const roads[] = {"人民路", "建设路", "中山路", "解放路",   "和平路",
                                    "长江路", "科技路", "文化路", "创业大道", "滨江大道"};
static const char *const surnames[] = {"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴",
                                       "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                                    "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平"};
static const char *const titles[] = {"总经理", "采购部经理", "财务总监", "技术负责人", "销售总监"};

/* What people type into the search box of a CRM: names of contacts, cities,
 * industry and brand words, and now and then something in Latin letters. */
static const char *const queries[] = {
    "张伟",   "王芳", "李娜",  "刘洋",      "陈静",   "杨磊",     "赵敏", "黄勇", "周杰", "吴艳",
    "徐涛",   "孙丽", "马超",  "朱明",      "胡军",   "郭强",     "何平", "林娟", "高霞", "罗秀",
    "北京",   "上海", "深圳",  "杭州",      "广州",   "南京",     "苏州", "成都", "武汉", "天津",
    "科技",   "贸易", "制造",  "物流",      "电子",   "医药",     "食品", "化工", "机械", "软件",
    "华信",   "恒达", "宏远",  "金鼎",      "东方",   "汇通",     "启明", "海纳", "长城", "百川",
    "huaxin", "tech", "trade", "logistics", "Hengda", "software",
};

#define PICK(r, a) ((a)[dg_rng_below((r), DG_ARRAY_LEN(a))])

void dg_rng_init(dg_rng *r, uint64_t seed, uint64_t stream)
{
    r->s = seed ^ (stream * UINT64_C(0xd1b54a32d192ed03));
    (void)dg_rng_next(r); /* decorrelate neighbouring seeds */
}

uint64_t dg_rng_next(dg_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t dg_rng_below(dg_rng *r, uint64_t n)
{
    dg_assert(n > 0);
    return dg_rng_next(r) % n; /* the modulo bias is far below what a benchmark can notice */
}

void dg_gen_phone(dg_rng *r, char *buf, size_t len)
{
    static const char *const mobile[] = {"130", "135", "136", "138", "139", "150",
                                         "158", "159", "177", "186", "188", "199"};

    if (dg_rng_below(r, 3) == 0) {
        const struct city *c = &PICK(r, cities);

        snprintf(buf, len, "%s-%d%07d", c->area, 5 + (int)dg_rng_below(r, 4),
                 (int)dg_rng_below(r, 10000000));
    } else {
        snprintf(buf, len, "%s%08d", PICK(r, mobile), (int)dg_rng_below(r, 100000000));
    }
}

const char *dg_gen_query(dg_rng *r)
{
    return PICK(r, queries);
}

static void fill_text(dg_rng *r, dg_gen_customer *c)
{
    const struct city *city = &PICK(r, cities);
    const struct word *brand = &PICK(r, brands);
    size_t ind = dg_rng_below(r, DG_ARRAY_LEN(industries));
    unsigned serial = (unsigned)dg_rng_below(r, 100000);

    /* Some companies carry a district-level qualifier, as real ones do. */
    snprintf(c->name, sizeof c->name, "%s%s%s%s%s", city->name, brand->zh,
             dg_rng_below(r, 4) == 0 ? PICK(r, given) : "", industries[ind].zh, PICK(r, suffixes));
    snprintf(c->short_name, sizeof c->short_name, "%s%s", brand->zh, industries[ind].zh);
    snprintf(c->industry, sizeof c->industry, "%s", industries[ind].zh);
    snprintf(c->region, sizeof c->region, "%s", city->name);
    snprintf(c->address, sizeof c->address, "%s市%s%s%d号%s", city->name,
             city->districts[dg_rng_below(r, 3)], PICK(r, roads), 1 + (int)dg_rng_below(r, 999),
             dg_rng_below(r, 2) ? "" : "科创大厦");
    dg_gen_phone(r, c->phone, sizeof c->phone);
    snprintf(c->email, sizeof c->email, "%s%u@%s-%s.com.cn", dg_rng_below(r, 2) ? "sales" : "info",
             serial, brand->latin, industries[ind].latin);
    snprintf(c->website, sizeof c->website, "https://www.%s-%s.com.cn", brand->latin,
             industries[ind].latin);
    snprintf(c->main_business, sizeof c->main_business, "%s", industries[ind].business);
    snprintf(c->notes, sizeof c->notes,
             "主要联系人%s%s（%s），经%s展会结识。关注%s相关产品，年度预算约%d万元，"
             "付款周期%d天。",
             PICK(r, surnames), PICK(r, given), PICK(r, titles), city->name, industries[ind].zh,
             10 + (int)dg_rng_below(r, 490), 30 * (1 + (int)dg_rng_below(r, 3)));
}

void dg_gen_customer_fill(dg_rng *r, dg_gen_customer *c)
{
    static const Dangan__V1__CustomerStatus statuses[] = {
        DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE,
        DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE,
        DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_POTENTIAL,
        DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT,
    };
    static const Dangan__V1__Tier tiers[] = {
        DANGAN__V1__TIER__TIER_A, DANGAN__V1__TIER__TIER_B, DANGAN__V1__TIER__TIER_B,
        DANGAN__V1__TIER__TIER_C, DANGAN__V1__TIER__TIER_C, DANGAN__V1__TIER__TIER_C,
    };
    Dangan__V1__Customer *pb = &c->pb;

    fill_text(r, c);
    dangan__v1__customer__init(pb);
    pb->kind = DANGAN__V1__CUSTOMER_KIND__CUSTOMER_KIND_COMPANY;
    pb->name = c->name;
    pb->short_name = c->short_name;
    pb->industry = c->industry;
    pb->region = c->region;
    pb->address = c->address;
    pb->phone = c->phone;
    pb->email = c->email;
    pb->website = c->website;
    pb->main_business = c->main_business;
    pb->notes = c->notes;
    pb->staff_count = 5 + (int32_t)dg_rng_below(r, 2000);
    pb->status = PICK(r, statuses);
    pb->tier = PICK(r, tiers);
    pb->nature = DANGAN__V1__NATURE__NATURE_PRIVATE;
}
