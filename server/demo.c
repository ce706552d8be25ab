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
 * Length: past STYLE's ~800 lines on purpose - ~360 lines of vocabulary
 * tables, ~1100 of draws and generators, ~410 of loading; the brief for this
 * command asked for one module pair. The seam, if it is ever split, is
 * gen_dossier() (content) versus load() and below (transactions, audit).
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

struct hz {
    const char *h, *py; /* Chinese text and its pinyin (for e-mail addresses and domains) */
};

/* Surnames, most common first (draws favour the front). */
static const struct hz surnames[] = {
    {"王", "wang"},     {"李", "li"},     {"张", "zhang"},       {"刘", "liu"},     {"陈", "chen"},
    {"杨", "yang"},     {"黄", "huang"},  {"赵", "zhao"},        {"吴", "wu"},      {"周", "zhou"},
    {"徐", "xu"},       {"孙", "sun"},    {"马", "ma"},          {"朱", "zhu"},     {"胡", "hu"},
    {"郭", "guo"},      {"何", "he"},     {"高", "gao"},         {"林", "lin"},     {"罗", "luo"},
    {"郑", "zheng"},    {"梁", "liang"},  {"谢", "xie"},         {"宋", "song"},    {"唐", "tang"},
    {"许", "xu"},       {"韩", "han"},    {"冯", "feng"},        {"邓", "deng"},    {"曹", "cao"},
    {"彭", "peng"},     {"曾", "zeng"},   {"肖", "xiao"},        {"田", "tian"},    {"董", "dong"},
    {"袁", "yuan"},     {"潘", "pan"},    {"于", "yu"},          {"蒋", "jiang"},   {"蔡", "cai"},
    {"余", "yu"},       {"杜", "du"},     {"叶", "ye"},          {"程", "cheng"},   {"苏", "su"},
    {"魏", "wei"},      {"吕", "lv"},     {"丁", "ding"},        {"任", "ren"},     {"沈", "shen"},
    {"姚", "yao"},      {"卢", "lu"},     {"姜", "jiang"},       {"崔", "cui"},     {"钟", "zhong"},
    {"谭", "tan"},      {"陆", "lu"},     {"汪", "wang"},        {"范", "fan"},     {"金", "jin"},
    {"石", "shi"},      {"廖", "liao"},   {"贾", "jia"},         {"夏", "xia"},     {"韦", "wei"},
    {"付", "fu"},       {"方", "fang"},   {"白", "bai"},         {"邹", "zou"},     {"孟", "meng"},
    {"熊", "xiong"},    {"秦", "qin"},    {"邱", "qiu"},         {"江", "jiang"},   {"尹", "yin"},
    {"薛", "xue"},      {"闫", "yan"},    {"段", "duan"},        {"雷", "lei"},     {"侯", "hou"},
    {"龙", "long"},     {"史", "shi"},    {"陶", "tao"},         {"黎", "li"},      {"贺", "he"},
    {"顾", "gu"},       {"毛", "mao"},    {"郝", "hao"},         {"龚", "gong"},    {"邵", "shao"},
    {"万", "wan"},      {"钱", "qian"},   {"严", "yan"},         {"武", "wu"},      {"戴", "dai"},
    {"欧阳", "ouyang"}, {"司马", "sima"}, {"上官", "shangguan"}, {"诸葛", "zhuge"},
};

static const struct hz given[] = {
    {"伟", "wei"},  {"芳", "fang"},  {"娜", "na"},   {"敏", "min"},   {"静", "jing"},
    {"丽", "li"},   {"强", "qiang"}, {"磊", "lei"},  {"军", "jun"},   {"洋", "yang"},
    {"勇", "yong"}, {"艳", "yan"},   {"杰", "jie"},  {"娟", "juan"},  {"涛", "tao"},
    {"明", "ming"}, {"超", "chao"},  {"秀", "xiu"},  {"霞", "xia"},   {"平", "ping"},
    {"刚", "gang"}, {"英", "ying"},  {"华", "hua"},  {"玉", "yu"},    {"兰", "lan"},
    {"飞", "fei"},  {"鹏", "peng"},  {"辉", "hui"},  {"婷", "ting"},  {"雪", "xue"},
    {"琳", "lin"},  {"晨", "chen"},  {"宇", "yu"},   {"浩", "hao"},   {"然", "ran"},
    {"欣", "xin"},  {"怡", "yi"},    {"子", "zi"},   {"涵", "han"},   {"梓", "zi"},
    {"轩", "xuan"}, {"博", "bo"},    {"文", "wen"},  {"晓", "xiao"},  {"红", "hong"},
    {"建", "jian"}, {"国", "guo"},   {"志", "zhi"},  {"海", "hai"},   {"峰", "feng"},
    {"斌", "bin"},  {"俊", "jun"},   {"凯", "kai"},  {"佳", "jia"},   {"慧", "hui"},
    {"颖", "ying"}, {"思", "si"},    {"雨", "yu"},   {"嘉", "jia"},   {"鑫", "xin"},
    {"丹", "dan"},  {"蕾", "lei"},   {"倩", "qian"}, {"萍", "ping"},  {"宁", "ning"},
    {"琪", "qi"},   {"晶", "jing"},  {"东", "dong"}, {"亮", "liang"}, {"成", "cheng"},
    {"鸿", "hong"}, {"昊", "hao"},   {"天", "tian"}, {"诗", "shi"},   {"梦", "meng"},
    {"悦", "yue"},  {"瑶", "yao"},   {"泽", "ze"},   {"铭", "ming"},  {"睿", "rui"},
    {"春", "chun"}, {"秋", "qiu"},   {"永", "yong"}, {"德", "de"},    {"立", "li"},
    {"新", "xin"},  {"振", "zhen"},  {"岩", "yan"},  {"毅", "yi"},    {"帆", "fan"},
    {"健", "jian"}, {"荣", "rong"},  {"燕", "yan"},  {"莉", "li"},    {"婧", "jing"},
    {"璐", "lu"},   {"薇", "wei"},   {"桂", "gui"},  {"晗", "han"},   {"一", "yi"},
};

/* Syllables of company brand names (字号). */
static const struct hz brand[] = {
    {"华", "hua"},   {"兴", "xing"},  {"盛", "sheng"},  {"达", "da"},    {"恒", "heng"},
    {"泰", "tai"},   {"瑞", "rui"},   {"鑫", "xin"},    {"宏", "hong"},  {"嘉", "jia"},
    {"荣", "rong"},  {"昌", "chang"}, {"信", "xin"},    {"诚", "cheng"}, {"德", "de"},
    {"安", "an"},    {"康", "kang"},  {"海", "hai"},    {"天", "tian"},  {"金", "jin"},
    {"明", "ming"},  {"远", "yuan"},  {"通", "tong"},   {"宇", "yu"},    {"新", "xin"},
    {"正", "zheng"}, {"顺", "shun"},  {"和", "he"},     {"永", "yong"},  {"丰", "feng"},
    {"源", "yuan"},  {"博", "bo"},    {"创", "chuang"}, {"智", "zhi"},   {"联", "lian"},
    {"汇", "hui"},   {"中", "zhong"}, {"东", "dong"},   {"方", "fang"},  {"光", "guang"},
    {"辉", "hui"},   {"锦", "jin"},   {"腾", "teng"},   {"云", "yun"},   {"峰", "feng"},
    {"龙", "long"},  {"凯", "kai"},   {"鼎", "ding"},   {"捷", "jie"},   {"力", "li"},
    {"精", "jing"},  {"威", "wei"},   {"越", "yue"},    {"众", "zhong"}, {"合", "he"},
    {"益", "yi"},    {"佳", "jia"},   {"晟", "sheng"},  {"泓", "hong"},  {"卓", "zhuo"},
    {"鸿", "hong"},  {"万", "wan"},   {"福", "fu"},     {"乐", "le"},    {"蓝", "lan"},
    {"星", "xing"},  {"亿", "yi"},    {"祥", "xiang"},  {"润", "run"},   {"赛", "sai"},
    {"迪", "di"},    {"奥", "ao"},    {"科", "ke"},     {"航", "hang"},  {"铭", "ming"},
};

struct region {
    const char *province, *city, *area_code, *post_prefix;
    const char *districts[3];
    unsigned weight;
};

static const struct region regions[] = {
    {"北京市", "北京市", "010", "100", {"朝阳区", "海淀区", "丰台区"}, 9},
    {"上海市", "上海市", "021", "200", {"浦东新区", "徐汇区", "闵行区"}, 10},
    {"天津市", "天津市", "022", "300", {"南开区", "滨海新区", "西青区"}, 3},
    {"重庆市", "重庆市", "023", "400", {"渝中区", "江北区", "渝北区"}, 3},
    {"广东省", "广州市", "020", "510", {"天河区", "越秀区", "番禺区"}, 7},
    {"广东省", "深圳市", "0755", "518", {"南山区", "福田区", "宝安区"}, 9},
    {"广东省", "东莞市", "0769", "523", {"长安镇", "虎门镇", "松山湖"}, 4},
    {"广东省", "佛山市", "0757", "528", {"禅城区", "南海区", "顺德区"}, 3},
    {"浙江省", "杭州市", "0571", "310", {"西湖区", "滨江区", "余杭区"}, 6},
    {"浙江省", "宁波市", "0574", "315", {"鄞州区", "海曙区", "北仑区"}, 3},
    {"浙江省", "温州市", "0577", "325", {"鹿城区", "瓯海区", "龙湾区"}, 2},
    {"江苏省", "南京市", "025", "210", {"玄武区", "鼓楼区", "江宁区"}, 4},
    {"江苏省", "苏州市", "0512", "215", {"工业园区", "姑苏区", "吴中区"}, 5},
    {"江苏省", "无锡市", "0510", "214", {"梁溪区", "滨湖区", "新吴区"}, 2},
    {"山东省", "济南市", "0531", "250", {"历下区", "槐荫区", "高新区"}, 2},
    {"山东省", "青岛市", "0532", "266", {"市南区", "崂山区", "黄岛区"}, 3},
    {"四川省", "成都市", "028", "610", {"锦江区", "武侯区", "高新区"}, 4},
    {"湖北省", "武汉市", "027", "430", {"江汉区", "洪山区", "武昌区"}, 3},
    {"湖南省", "长沙市", "0731", "410", {"岳麓区", "雨花区", "开福区"}, 2},
    {"河南省", "郑州市", "0371", "450", {"金水区", "二七区", "郑东新区"}, 2},
    {"陕西省", "西安市", "029", "710", {"雁塔区", "碑林区", "未央区"}, 2},
    {"福建省", "厦门市", "0592", "361", {"思明区", "湖里区", "集美区"}, 2},
    {"福建省", "福州市", "0591", "350", {"鼓楼区", "台江区", "仓山区"}, 2},
    {"安徽省", "合肥市", "0551", "230", {"蜀山区", "包河区", "庐阳区"}, 2},
    {"辽宁省", "沈阳市", "024", "110", {"和平区", "沈河区", "浑南区"}, 1},
    {"辽宁省", "大连市", "0411", "116", {"中山区", "沙河口区", "甘井子区"}, 1},
    {"河北省", "石家庄市", "0311", "050", {"长安区", "桥西区", "裕华区"}, 1},
    {"江西省", "南昌市", "0791", "330", {"东湖区", "红谷滩区", "青山湖区"}, 1},
    {"云南省", "昆明市", "0871", "650", {"五华区", "盘龙区", "官渡区"}, 1},
    {"广西壮族自治区", "南宁市", "0771", "530", {"青秀区", "西乡塘区", "江南区"}, 1},
    {"黑龙江省", "哈尔滨市", "0451", "150", {"南岗区", "道里区", "香坊区"}, 1},
    {"吉林省", "长春市", "0431", "130", {"朝阳区", "南关区", "净月区"}, 1},
    {"山西省", "太原市", "0351", "030", {"小店区", "迎泽区", "杏花岭区"}, 1},
    {"贵州省", "贵阳市", "0851", "550", {"云岩区", "南明区", "观山湖区"}, 1},
    {"海南省", "海口市", "0898", "570", {"龙华区", "美兰区", "秀英区"}, 1},
    {"新疆维吾尔自治区", "乌鲁木齐市", "0991", "830", {"天山区", "沙依巴克区", "新市区"}, 1},
    {"内蒙古自治区", "呼和浩特市", "0471", "010", {"新城区", "赛罕区", "回民区"}, 1},
    {"甘肃省", "兰州市", "0931", "730", {"城关区", "七里河区", "安宁区"}, 1},
};

struct industry {
    const char *name;
    const char *words[5];    /* what goes between brand and legal form */
    const char *business[4]; /* 主营业务 */
    unsigned weight;
};

static const struct industry industries[] = {
    {"制造业",
     {"机械", "精密制造", "电子", "模具", "自动化设备"},
     {"数控机床及配件生产", "精密模具设计制造", "工业自动化设备研发生产", "电子元器件制造"},
     22},
    {"信息技术",
     {"科技", "软件", "信息技术", "网络科技", "智能科技"},
     {"企业管理软件开发与实施", "云计算与数据中心服务", "系统集成与运维服务", "信息安全产品与服务"},
     14},
    {"零售业",
     {"商贸", "百货", "连锁超市", "贸易", "商业"},
     {"日用百货批发零售", "连锁便利店经营", "家电销售与售后", "进出口贸易"},
     10},
    {"金融业",
     {"投资", "资产管理", "融资租赁", "保险代理", "金融服务"},
     {"股权投资与资产管理", "设备融资租赁", "保险代理服务", "供应链金融服务"},
     4},
    {"建筑业",
     {"建设工程", "建筑装饰", "路桥工程", "建筑安装", "市政工程"},
     {"房屋建筑工程施工总承包", "室内外装饰装修", "市政道路与桥梁工程", "机电安装工程"},
     7},
    {"交通物流",
     {"物流", "供应链", "货运代理", "运输", "仓储"},
     {"公路货物运输", "国际货运代理", "仓储与配送服务", "冷链物流"},
     7},
    {"医药健康",
     {"医药", "生物科技", "医疗器械", "健康科技", "药业"},
     {"药品批发与零售", "医疗器械研发生产", "生物制药", "体外诊断试剂"},
     6},
    {"食品饮料",
     {"食品", "饮品", "农业科技", "粮油", "餐饮管理"},
     {"休闲食品生产", "饮料生产销售", "粮油加工", "连锁餐饮管理"},
     6},
    {"教育培训",
     {"教育科技", "培训", "文化教育", "职业技能培训", "教育咨询"},
     {"职业技能培训", "在线教育平台", "企业内训", "教育装备销售"},
     3},
    {"能源环保",
     {"新能源", "电力设备", "光伏科技", "环保科技", "节能科技"},
     {"光伏组件与电站建设", "储能系统", "输配电设备", "工业废水处理"},
     5},
    {"化工材料",
     {"化工", "新材料", "涂料", "塑胶", "化学"},
     {"精细化工产品", "高分子新材料", "工业涂料生产", "塑料制品"},
     5},
    {"纺织服装",
     {"纺织", "服饰", "制衣", "家纺", "皮革"},
     {"针织面料生产", "品牌服装设计与销售", "家用纺织品", "服装外贸加工"},
     4},
    {"房地产",
     {"置业", "房地产开发", "物业管理", "地产", "商业管理"},
     {"住宅开发与销售", "商业地产运营", "物业管理服务", "产业园区运营"},
     3},
    {"汽车",
     {"汽车零部件", "汽车销售服务", "汽车科技", "车业", "汽车电子"},
     {"汽车零部件制造", "4S店整车销售与维修", "新能源汽车电控系统", "汽车内饰件"},
     4},
    {"文化传媒",
     {"文化传媒", "广告", "影视文化", "会展服务", "印务"},
     {"广告设计与发布", "影视制作", "展览展示服务", "包装印刷"},
     3},
};

/* English-named companies: brand, trade and the industry it belongs to. */
static const char *const en_brands[] = {
    "Northwind",  "Acme",      "Globex",    "Initech",   "Contoso",  "Fabrikam", "Tailspin",
    "Litware",    "Proseware", "Wingtip",   "Woodgrove", "Pinnacle", "Summit",   "Evergreen",
    "Silverline", "Redwood",   "Bluestone", "Lakeside",  "Harbor",   "Crescent", "Vertex",
    "Orion",      "Atlas",     "Meridian",  "Nordic",    "Sterling", "Horizon",  "Apex",
};
static const struct {
    const char *word, *industry;
} en_trades[] = {
    {"Trading", "零售业"},    {"Robotics", "制造业"},    {"Logistics", "交通物流"},
    {"Software", "信息技术"}, {"Electronics", "制造业"}, {"Pharma", "医药健康"},
    {"Foods", "食品饮料"},    {"Energy", "能源环保"},    {"Materials", "化工材料"},
    {"Textiles", "纺织服装"}, {"Motors", "汽车"},        {"Media", "文化传媒"},
    {"Capital", "金融业"},    {"Systems", "信息技术"},   {"Industries", "制造业"},
};
static const char *const en_forms[] = {"Ltd", "GmbH", "Inc.",      "LLC",  "Co., Ltd.",
                                       "AG",  "S.A.", "Pte. Ltd.", "K.K.", "Limited"};
static const char *const en_first[] = {
    "John",  "Michael", "David", "James",   "Robert", "William", "Daniel", "Thomas", "Peter",
    "Mark",  "Emily",   "Sarah", "Jessica", "Anna",   "Laura",   "Emma",   "Olivia", "Sophie",
    "Lucy",  "Kate",    "Chris", "Kevin",   "Jason",  "Eric",    "Tony",   "Linda",  "Helen",
    "Grace", "Hans",    "Julia", "Pierre",  "Marco",  "Kenji",   "Yuki",
};
static const char *const en_last[] = {
    "Smith",    "Johnson", "Brown",  "Taylor", "Miller", "Wilson",   "Moore",
    "Anderson", "Jackson", "White",  "Harris", "Martin", "Thompson", "Schmidt",
    "Weber",    "Fischer", "Dubois", "Rossi",  "Tanaka", "Suzuki",   "Kim",
    "Lee",      "Wong",    "Nguyen", "Garcia", "Lopez",  "Clark",    "Walker",
};

static const char *const roads[] = {
    "人民路", "解放路", "中山路",   "建设路",   "科技路", "创业路", "长江路",   "黄河路",
    "新华路", "学府路", "工业大道", "滨江大道", "东风路", "金融街", "高新大道", "和平路",
    "文化路", "光明路", "胜利路",   "朝阳路",   "青年路", "花园路", "迎宾大道", "世纪大道",
};
static const char *const buildings[] = {"国际大厦", "科技大厦", "商务中心", "金融中心",
                                        "创新园",   "产业园",   "广场",     "中心大厦"};
static const char *const estates[] = {"花园", "小区", "公寓", "家园", "新村", "名苑"};
static const char *const banks[] = {"中国工商银行", "中国建设银行", "中国银行", "中国农业银行",
                                    "招商银行",     "交通银行",     "浦发银行", "中信银行",
                                    "兴业银行",     "民生银行",     "平安银行"};
static const char *const sources[] = {"展会",   "老客户介绍", "网络推广", "电话营销",
                                      "招投标", "行业协会",   "官网咨询", "合作伙伴推荐"};
static const char *const tags[] = {"重点客户",     "老客户",   "展会",   "招投标",      "需回访",
                                   "价格敏感",     "决策链长", "VIP",    "海外业务",    "政府项目",
                                   "年度框架协议", "潜力大",   "新客户", "竞争对手客户"};
static const char *const ratings[] = {"AAA", "AA", "A", "BBB", "BB", "B", "CCC"};
static const unsigned rating_w[] = {10, 20, 30, 20, 10, 5, 2};
static const char *const advantages[] = {
    "价格有竞争力，交期稳定", "技术支持响应快，本地有服务团队", "产品质量稳定，通过ISO9001认证",
    "与客户高层关系良好",     "供货能力强，可小批量定制",       "账期灵活，付款条件优惠",
};
static const char *const weaknesses[] = {
    "品牌知名度不及竞争对手；对策：加强技术交流和案例展示",
    "价格高于本地供应商；对策：突出全生命周期成本",
    "交货周期偏长；对策：建立安全库存",
    "客户采购流程复杂；对策：提前介入立项阶段",
    "售后网点覆盖不足；对策：与当地服务商合作",
};
static const char *const customer_notes[] = {
    "客户对价格较敏感，报价需突出性价比。", "决策流程较长，需提前介入项目立项。",
    "客户关注交期和售后响应速度。",         "年底有集中采购计划，提前准备方案。",
    "竞争对手正在接触该客户，需加强维护。", "客户财务审批严格，合同条款需法务审核。",
};
/* Contact cadence of the ABC tiers (seeds/004, 客户档案分类管理表). */
static const char *const tier_cadence[] = {
    "",
    "A级客户：每周电话沟通1次以上，每2个月拜访高层领导1次，专人收集客户动态。",
    "B级客户：每周至少电话联络1次，每3个月拜访营销总监及以上管理人员1次。",
    "C级客户：每2周电话联络1次以上，每4个月拜访1次。",
};

static const char *const titles_main[] = {"采购经理",   "采购主管",   "行政经理",  "项目经理",
                                          "市场部经理", "办公室主任", "供应链经理"};
static const char *const titles_key[] = {"总经理",   "副总经理", "技术总监",
                                         "财务总监", "运营总监", "营销总监"};
static const char *const titles_legal[] = {"董事长", "执行董事", "董事长兼总经理"};
static const char *const titles_other[] = {"工程师",     "采购专员", "财务主管",
                                           "总经理助理", "仓库主管", "质量经理"};
static const char *const schools[] = {"清华大学",     "北京大学", "浙江大学", "复旦大学",
                                      "上海交通大学", "南京大学", "武汉大学", "中山大学",
                                      "华中科技大学", "四川大学", "厦门大学", "同济大学"};
static const char *const degrees[] = {"工商管理硕士", "机械工程学士", "计算机科学学士",
                                      "会计学学士",   "市场营销学士", "经济学硕士"};
static const char *const hobbies[] = {"高尔夫", "羽毛球", "钓鱼", "书法", "茶道", "登山",
                                      "摄影",   "跑步",   "篮球", "旅行", "读书", "围棋",
                                      "足球",   "游泳",   "收藏", "红酒"};
static const char *const families[] = {"已婚，育有一子", "已婚，育有一女",     "已婚，两个孩子",
                                       "未婚",           "已婚，孩子在读大学", "与父母同住"};
static const char *const contact_notes[] = {"喜欢直接电话沟通", "上午开会多，下午联系为宜",
                                            "决策人之一",       "重视技术细节",
                                            "习惯微信沟通",     "对价格敏感"};

/* What "we" sell: the objects of deals and conversations, with the unit
 * they are counted in and the kind of contract they are sold under. */
static const struct product {
    const char *name, *unit, *contract;
} products[] = {
    {"工业传感器", "只", "产品采购合同"},         {"PLC控制模块", "套", "产品采购合同"},
    {"伺服电机", "台", "产品采购合同"},           {"ERP软件", "套", "软件许可及实施合同"},
    {"云服务套餐", "年", "年度服务协议"},         {"包装材料", "吨", "原材料供货合同"},
    {"检测设备", "台", "产品采购合同"},           {"办公家具", "套", "产品采购合同"},
    {"安防监控系统", "套", "设备安装及维保合同"}, {"润滑油", "桶", "原材料供货合同"},
    {"不锈钢管材", "吨", "原材料供货合同"},       {"LED照明", "批", "产品采购合同"},
    {"打印耗材", "箱", "备品备件采购合同"},       {"企业培训课程", "期", "年度服务协议"},
};

static const char *const sum_phone[] = {"电话沟通报价",       "电话回访使用情况",
                                        "电话确认交货时间",   "电话跟进付款进度",
                                        "电话了解新项目需求", "电话邀约参加展会"};
static const char *const sum_email[] = {"邮件发送报价单", "邮件发送产品资料", "邮件确认合同条款",
                                        "邮件回复技术问题", "邮件发送对账单"};
static const char *const sum_meeting[] = {"会议讨论年度合作框架", "线上会议演示新产品",
                                          "参加客户招标答疑会", "项目启动会"};
static const char *const sum_visit[] = {"上门拜访采购部", "拜访客户高层", "陪同技术人员现场调试",
                                        "上门收集需求", "节日走访"};
static const char *const sum_im[] = {"微信沟通样品寄送", "微信确认订单细节", "企业微信答复售后问题",
                                     "微信发送促销信息"};
static const char *const places[] = {"客户公司会议室", "我司展厅", "线上（腾讯会议）",
                                     "客户生产车间", "国际会展中心"};

static const char *const task_titles[] = {"电话回访",     "准备报价单",  "安排拜访",
                                          "催收货款",     "寄送样品",    "续签年度协议",
                                          "发送节日祝福", "提交技术方案"};

/* Feedback by kind: what the customer said and, once handled, what we did. */
struct said {
    const char *text, *resolution;
};
static const struct said fb_complaint[] = {
    {"交货延迟，影响了客户的生产计划。", "已协调加急发货，并承担本次运费。"},
    {"部分产品包装破损，要求补发。", "已补发货物并致歉。"},
    {"售后响应太慢，工程师两天后才到现场。", "已安排专人对接，承诺24小时内到场。"},
    {"发票开具错误，需重新开具。", "已重新开具发票。"},
    {"报价前后不一致，客户不满。", "已由销售经理电话说明并按首次报价执行。"},
};
static const struct said fb_suggestion[] = {
    {"希望提供线上订单查询功能。", "已纳入系统改进计划。"},
    {"建议增加季度对账。", "已与客户约定每季度末对账。"},
    {"希望提供更详细的使用培训。", "已安排工程师上门培训。"},
    {"建议缩短交货周期。", "已对常用型号建立安全库存。"},
};
static const struct said fb_praise[] = {
    {"技术支持响应及时，问题当天解决。", ""},
    {"产品质量稳定，客户很满意。", ""},
    {"销售经理服务热情专业。", ""},
};
static const struct said fb_survey[] = {
    {"年度满意度调查：总体满意，价格方面有改进空间。", ""},
    {"季度回访问卷：对售后服务评分较高。", ""},
    {"满意度调查：希望加强新产品介绍。", ""},
};

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

/* Status, stage, tier (A 20% / B 40% / C 40%, seeds/004), intention, value, credit. */
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

/* The lock `dangand serve` takes (server.c): holding it keeps a server off
 * the directory while we write, and a running server keeps us off. */
static int lock_dir(const char *dir, int *fd_out, char *err, size_t err_len)
{
    char p[1200];
    struct stat sb;
    int fd;

    snprintf(p, sizeof p, "%s/%s", dir, DG_DB_FILE);
    if (stat(p, &sb) != 0) {
        snprintf(err, err_len, "%s has no database (%s): create it with `dangand init --data %s`",
                 dir, strerror(errno), dir);
        return errno == ENOENT ? DG_ENOTFOUND : DG_EIO;
    }
    snprintf(p, sizeof p, "%s/%s", dir, DG_LOCK_FILE);
    if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_len, "cannot open %s: %s", p, strerror(errno));
        return DG_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        close(fd);
        if (e == EWOULDBLOCK) {
            snprintf(err, err_len,
                     "%s is in use by a running dangand (it holds %s); stop the server first, "
                     "demo-data only works offline",
                     dir, DG_LOCK_FILE);
            return DG_EBUSY;
        }
        snprintf(err, err_len, "cannot lock %s: %s", p, strerror(e));
        return DG_EIO;
    }
    *fd_out = fd;
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
        (rc = lock_dir(o->data_dir, &lock_fd, err, err_len)) != DG_OK)
        return rc;
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
