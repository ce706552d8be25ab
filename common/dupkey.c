/* dupkey.c - duplicate-detection keys of names, phone numbers and e-mail
 * addresses: see dupkey.h for what each key keeps and drops.
 *
 * Owns: the tables of legal forms, places and generic trade words below (the
 * data the keys are made with), and no state. Borrows: dg_text_fold (Unicode
 * NFKC_Casefold through utf8proc) and utf8proc's general categories.
 *
 * A name key is built in one pass over the folded name into a buffer that
 * remembers, for each byte, whether a word starts there (after dropped
 * punctuation or space, or after a non-ASCII character): a Latin legal form
 * or trade word is dropped only where a word starts, so "Disco" keeps its
 * "co". Then suffixes are dropped from the end and places from the start.
 * Places are dropped only when three characters remain: "北京银行" and
 * "上海银行" are two banks, not one "银行".
 * Any thread.
 */
#include "dupkey.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "alloc.h"
#include "dg.h"
#include "text.h"

/* Fewest characters a name keeps when its leading places are dropped. */
#define MIN_CORE_CHARS 3

/* Legal forms as they look after folding and punctuation removal ("Co., Ltd."
 * -> "coltd"). At each step the longest one that ends the name goes. */
static const char *const legal_forms[] = {
    "集团股份有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团公司",
    "股份公司",
    "总公司",
    "公司",
    "集团",
    "株式会社",
    "有限合伙",
    "coltd",
    "colimited",
    "limited",
    "ltd",
    "inc",
    "incorporated",
    "llc",
    "gmbh",
    "corp",
    "corporation",
    "company",
    "co",
    "plc",
    "group",
    "holdings",
};

/* A branch of a company, dropped (with the place before it) from a stem. */
static const char *const branches[] = {
    "分公司", "分店", "分厂", "办事处", "营业部", "分部", "分行", "支行", "branch",
};

/* Words that say what a company does, not who it is: dropped from the end
 * of a stem, repeatedly ("迪金自动化设备" -> "迪金"). */
static const char *const trade_words[] = {
    "科技",       "技术",         "贸易",     "商贸",    "实业",          "发展",
    "信息",       "电子",         "网络",     "软件",    "工程",          "咨询",
    "服务",       "管理",         "投资",     "控股",    "国际",          "物流",
    "仓储",       "设备",         "自动化",   "机械",    "制造",          "材料",
    "新材料",     "生物",         "医药",     "文化",    "传媒",          "广告",
    "建筑",       "建设",         "装饰",     "环保",    "能源",          "化工",
    "食品",       "进出口",       "电器",     "电气",    "通信",          "智能",
    "数据",       "系统",         "供应链",   "餐饮",    "酒店",          "教育",
    "农业",       "汽车",         "塑料",     "五金",    "纺织",          "服装",
    "印刷",       "包装",         "模具",     "精密",    "光电",          "照明",
    "家具",       "工业",         "产业",     "企业",    "经营",          "销售",
    "technology", "technologies", "tech",     "trading", "international", "industries",
    "industrial", "solutions",    "services", "systems", "enterprises",
};

/* Places: the short form each is written as in a key, then the longer forms
 * it also appears in. Every province, municipality, autonomous region and
 * special administrative region, and prefecture-level (and a few large
 * county-level) cities that companies commonly carry in their names. */
static const struct place {
    const char *short_form;
    const char *long_forms[2];
} places[] = {
    /* municipalities */
    {"北京", {"北京市"}},
    {"天津", {"天津市"}},
    {"上海", {"上海市"}},
    {"重庆", {"重庆市"}},
    /* provinces */
    {"河北", {"河北省"}},
    {"山西", {"山西省"}},
    {"辽宁", {"辽宁省"}},
    {"吉林", {"吉林省", "吉林市"}},
    {"黑龙江", {"黑龙江省"}},
    {"江苏", {"江苏省"}},
    {"浙江", {"浙江省"}},
    {"安徽", {"安徽省"}},
    {"福建", {"福建省"}},
    {"江西", {"江西省"}},
    {"山东", {"山东省"}},
    {"河南", {"河南省"}},
    {"湖北", {"湖北省"}},
    {"湖南", {"湖南省"}},
    {"广东", {"广东省"}},
    {"海南", {"海南省"}},
    {"四川", {"四川省"}},
    {"贵州", {"贵州省"}},
    {"云南", {"云南省"}},
    {"陕西", {"陕西省"}},
    {"甘肃", {"甘肃省"}},
    {"青海", {"青海省"}},
    {"台湾", {"台湾省"}},
    /* autonomous regions, special administrative regions */
    {"内蒙古", {"内蒙古自治区"}},
    {"广西", {"广西壮族自治区", "广西自治区"}},
    {"西藏", {"西藏自治区"}},
    {"宁夏", {"宁夏回族自治区", "宁夏自治区"}},
    {"新疆", {"新疆维吾尔自治区", "新疆自治区"}},
    {"香港", {"香港特别行政区"}},
    {"澳门", {"澳门特别行政区"}},
    /* cities: Guangdong */
    {"广州", {"广州市"}},
    {"深圳", {"深圳市"}},
    {"东莞", {"东莞市"}},
    {"佛山", {"佛山市"}},
    {"珠海", {"珠海市"}},
    {"中山", {"中山市"}},
    {"惠州", {"惠州市"}},
    {"汕头", {"汕头市"}},
    {"江门", {"江门市"}},
    {"湛江", {"湛江市"}},
    {"肇庆", {"肇庆市"}},
    {"茂名", {"茂名市"}},
    {"揭阳", {"揭阳市"}},
    {"梅州", {"梅州市"}},
    {"清远", {"清远市"}},
    {"韶关", {"韶关市"}},
    {"潮州", {"潮州市"}},
    {"阳江", {"阳江市"}},
    {"河源", {"河源市"}},
    /* Zhejiang */
    {"杭州", {"杭州市"}},
    {"宁波", {"宁波市"}},
    {"温州", {"温州市"}},
    {"嘉兴", {"嘉兴市"}},
    {"湖州", {"湖州市"}},
    {"绍兴", {"绍兴市"}},
    {"金华", {"金华市"}},
    {"衢州", {"衢州市"}},
    {"舟山", {"舟山市"}},
    {"台州", {"台州市"}},
    {"丽水", {"丽水市"}},
    {"义乌", {"义乌市"}},
    /* Jiangsu */
    {"南京", {"南京市"}},
    {"苏州", {"苏州市"}},
    {"无锡", {"无锡市"}},
    {"常州", {"常州市"}},
    {"镇江", {"镇江市"}},
    {"扬州", {"扬州市"}},
    {"南通", {"南通市"}},
    {"泰州", {"泰州市"}},
    {"徐州", {"徐州市"}},
    {"盐城", {"盐城市"}},
    {"淮安", {"淮安市"}},
    {"连云港", {"连云港市"}},
    {"宿迁", {"宿迁市"}},
    {"昆山", {"昆山市"}},
    {"江阴", {"江阴市"}},
    /* Shandong */
    {"济南", {"济南市"}},
    {"青岛", {"青岛市"}},
    {"烟台", {"烟台市"}},
    {"潍坊", {"潍坊市"}},
    {"淄博", {"淄博市"}},
    {"威海", {"威海市"}},
    {"临沂", {"临沂市"}},
    {"济宁", {"济宁市"}},
    {"泰安", {"泰安市"}},
    {"日照", {"日照市"}},
    {"德州", {"德州市"}},
    {"聊城", {"聊城市"}},
    {"东营", {"东营市"}},
    /* Fujian */
    {"福州", {"福州市"}},
    {"厦门", {"厦门市"}},
    {"泉州", {"泉州市"}},
    {"漳州", {"漳州市"}},
    {"莆田", {"莆田市"}},
    /* the other provinces' capitals and large cities */
    {"石家庄", {"石家庄市"}},
    {"唐山", {"唐山市"}},
    {"保定", {"保定市"}},
    {"廊坊", {"廊坊市"}},
    {"太原", {"太原市"}},
    {"呼和浩特", {"呼和浩特市"}},
    {"包头", {"包头市"}},
    {"沈阳", {"沈阳市"}},
    {"大连", {"大连市"}},
    {"长春", {"长春市"}},
    {"哈尔滨", {"哈尔滨市"}},
    {"大庆", {"大庆市"}},
    {"合肥", {"合肥市"}},
    {"芜湖", {"芜湖市"}},
    {"南昌", {"南昌市"}},
    {"赣州", {"赣州市"}},
    {"郑州", {"郑州市"}},
    {"洛阳", {"洛阳市"}},
    {"武汉", {"武汉市"}},
    {"宜昌", {"宜昌市"}},
    {"襄阳", {"襄阳市"}},
    {"长沙", {"长沙市"}},
    {"株洲", {"株洲市"}},
    {"南宁", {"南宁市"}},
    {"柳州", {"柳州市"}},
    {"桂林", {"桂林市"}},
    {"海口", {"海口市"}},
    {"三亚", {"三亚市"}},
    {"成都", {"成都市"}},
    {"绵阳", {"绵阳市"}},
    {"贵阳", {"贵阳市"}},
    {"昆明", {"昆明市"}},
    {"拉萨", {"拉萨市"}},
    {"西安", {"西安市"}},
    {"兰州", {"兰州市"}},
    {"西宁", {"西宁市"}},
    {"银川", {"银川市"}},
    {"乌鲁木齐", {"乌鲁木齐市"}},
};

/* A key being built: bytes and, per byte, whether a word starts there. */
struct key {
    char *b;
    bool *is_word_start;
    size_t len;
};

static void key_fini(struct key *k)
{
    free(k->is_word_start);
    k->is_word_start = NULL;
}

static bool is_ascii_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t n_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool has_non_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/* What a key drops: punctuation, symbols, separators, controls and format
 * characters (tab and newline are Cc, not Z*). */
static bool is_key_noise(int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
        return true;
    default:
        return false;
    }
}

/* +1 for an opening bracket, -1 for a closing one, 0 otherwise (after
 * folding, full-width （） are ASCII). */
static int bracket(int32_t cp)
{
    switch (cp) {
    case '(':
    case '[':
    case 0x3010: /* 【 */
    case 0x3014: /* 〔 */
    case 0x3016: /* 〖 */
        return 1;
    case ')':
    case ']':
    case 0x3011:
    case 0x3015:
    case 0x3017:
        return -1;
    default:
        return 0;
    }
}

/* The folded text `f` as a key: noise dropped, and bracketed parts too
 * unless `with_brackets`. */
static void key_from_folded(const char *f, size_t f_len, bool with_brackets, struct key *k)
{
    size_t pos = 0;
    int depth = 0;
    bool is_after_noise = true;

    k->len = 0;
    while (pos < f_len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)f + pos,
                             (utf8proc_ssize_t)DG_MIN(f_len - pos, (size_t)4), &cp);
        int br;

        dg_assert(n > 0); /* dg_text_fold returns valid UTF-8 */
        br = bracket(cp);
        if (!with_brackets && (br || depth > 0)) {
            depth = br < 0 && depth > 0 ? depth - 1 : depth + (br > 0);
            is_after_noise = true;
        } else if (is_key_noise(cp)) {
            is_after_noise = true;
        } else {
            k->is_word_start[k->len] =
                is_after_noise || k->len == 0 || !is_ascii_alnum(k->b[k->len - 1]);
            memcpy(k->b + k->len, f + pos, (size_t)n);
            k->len += (size_t)n;
            is_after_noise = false;
        }
        pos += (size_t)n;
    }
    k->b[k->len] = '\0';
}

/* Bytes of the longest word of `list` that k ends with (a Latin one only
 * where a word starts), 0 if none; the whole key only when `may_empty`. */
static size_t suffix_in(const struct key *k, const char *const *list, size_t n_list, bool may_empty)
{
    size_t best = 0;

    for (size_t i = 0; i < n_list; i++) {
        size_t n = strlen(list[i]);

        if (n <= best || n > k->len || (n == k->len && !may_empty) ||
            memcmp(k->b + k->len - n, list[i], n) != 0)
            continue;
        if (is_ascii_alnum(list[i][0]) && !k->is_word_start[k->len - n])
            continue;
        best = n;
    }
    return best;
}

/* Drops legal forms from the end while the longest one that matches is not
 * the whole name ("有限公司" alone stays, not "有限") and the name does not
 * end with a branch (the 公司 of 分公司 is no legal form of its own). */
static void strip_legal_forms(struct key *k)
{
    size_t n;

    while (!suffix_in(k, branches, DG_ARRAY_LEN(branches), false) &&
           (n = suffix_in(k, legal_forms, DG_ARRAY_LEN(legal_forms), true)) > 0 && n < k->len)
        k->len -= n;
    k->b[k->len] = '\0';
}

/* Drops words of `list` from the end while one matches. */
static void strip_suffixes(struct key *k, const char *const *list, size_t n_list, bool may_empty)
{
    size_t n;

    while ((n = suffix_in(k, list, n_list, may_empty)) > 0)
        k->len -= n;
    k->b[k->len] = '\0';
}

/* The place that s[0..len) starts with: its index, and in *n the bytes of
 * the (longest) form found; -1 if none. */
static int place_prefix(const char *s, size_t len, size_t *n)
{
    int found = -1;

    *n = 0;
    for (size_t i = 0; i < DG_ARRAY_LEN(places); i++) {
        const char *forms[] = {places[i].short_form, places[i].long_forms[0],
                               places[i].long_forms[1]};

        for (size_t f = 0; f < DG_ARRAY_LEN(forms); f++) {
            size_t m = forms[f] ? strlen(forms[f]) : 0;

            if (m > *n && m <= len && memcmp(s, forms[f], m) == 0) {
                *n = m;
                found = (int)i;
            }
        }
    }
    return found;
}

/* The place that s[0..len) ends with (bytes of its longest form), 0 if none. */
static size_t place_suffix(const char *s, size_t len)
{
    size_t best = 0;

    for (size_t i = 0; i < DG_ARRAY_LEN(places); i++) {
        const char *forms[] = {places[i].short_form, places[i].long_forms[0],
                               places[i].long_forms[1]};

        for (size_t f = 0; f < DG_ARRAY_LEN(forms); f++) {
            size_t m = forms[f] ? strlen(forms[f]) : 0;

            if (m > best && m < len && memcmp(s + len - m, forms[f], m) == 0)
                best = m;
        }
    }
    return best;
}

/* Leading places: dropped when MIN_CORE_CHARS remain, else each written in
 * its short form, so "北京市银行" and "北京银行" meet. */
static void strip_places(struct key *k)
{
    char *out = dg_xmalloc(k->len + 1);
    size_t pos = 0, n, out_len = 0;
    int p;

    while ((p = place_prefix(k->b + pos, k->len - pos, &n)) >= 0) {
        size_t m = strlen(places[p].short_form);

        memcpy(out + out_len, places[p].short_form, m); /* never longer than the form found */
        out_len += m;
        pos += n;
    }
    if (pos == 0) {
        free(out);
        return;
    }
    if (n_chars(k->b + pos, k->len - pos) >= MIN_CORE_CHARS)
        out_len = 0;
    memcpy(out + out_len, k->b + pos, k->len - pos);
    out_len += k->len - pos;
    /* Word starts of the shortened key: its tail is what it was. */
    memmove(k->is_word_start + out_len - (k->len - pos), k->is_word_start + pos, k->len - pos);
    for (size_t i = 0; i < out_len - (k->len - pos); i++)
        k->is_word_start[i] = i == 0;
    memcpy(k->b, out, out_len);
    k->len = out_len;
    k->b[k->len] = '\0';
    free(out);
}

/* The name key of `s` in a new string, with its word starts in k. */
static char *name_key(const char *s, struct key *k)
{
    size_t f_len;
    char *folded = dg_text_fold(s, strlen(s), &f_len);

    if (!folded)
        return NULL;
    k->b = dg_xmalloc(f_len + 1);
    k->is_word_start = dg_xcalloc(f_len + 1, sizeof *k->is_word_start);
    key_from_folded(folded, f_len, false, k);
    if (k->len == 0) /* nothing outside brackets: keep what is inside */
        key_from_folded(folded, f_len, true, k);
    free(folded);
    strip_legal_forms(k);
    strip_places(k);
    return k->b;
}

char *dg_dupkey_name(const char *s)
{
    struct key k = {0};
    char *out = name_key(s, &k);

    key_fini(&k);
    return out;
}

char *dg_dupkey_stem(const char *s)
{
    struct key k = {0};
    char *out = name_key(s, &k);
    size_t n;

    if (!out)
        return NULL;
    if ((n = suffix_in(&k, branches, DG_ARRAY_LEN(branches), false)) > 0) {
        k.len -= n;
        k.len -= place_suffix(k.b, k.len);
        k.b[k.len] = '\0';
        strip_legal_forms(&k);
    }
    strip_suffixes(&k, trade_words, DG_ARRAY_LEN(trade_words), true);
    if (n_chars(k.b, k.len) < (has_non_ascii(k.b, k.len) ? 2u : 3u))
        k.len = 0;
    k.b[k.len] = '\0';
    key_fini(&k);
    return out;
}

/* ------------------------------------------------------------ phones */

/* Where the first number of a phone field ends: at an extension or at a
 * separator between numbers, once 7 digits came before it (the text is
 * folded: full-width forms are ASCII). */
static size_t first_number_len(const char *f)
{
    static const char *const stops[] = {"转", "分机", "ext", "x",  "#", "/",
                                        ",",  ";",    "、",  "或", "\n"};
    size_t n_digits = 0;

    for (size_t i = 0; f[i]; i++) {
        if (f[i] >= '0' && f[i] <= '9') {
            n_digits++;
            continue;
        }
        for (size_t s = 0; n_digits >= 7 && s < DG_ARRAY_LEN(stops); s++)
            if (strncmp(f + i, stops[s], strlen(stops[s])) == 0)
                return i;
    }
    return strlen(f);
}

size_t dg_dupkey_phone(const char *s, char *out, size_t cap)
{
    size_t f_len, n, len;
    char *folded = dg_text_fold(s, strlen(s), &f_len), *digits;
    const char *p;

    dg_assert(cap >= 1);
    out[0] = '\0';
    if (!folded)
        return 0;
    folded[first_number_len(folded)] = '\0';
    digits = dg_xmalloc(f_len + 1);
    n = dg_text_phone_digits(folded, digits, f_len + 1); /* drops +86, 0086, (+86) */
    free(folded);
    p = digits;
    if (n == 13 && strncmp(p, "861", 3) == 0 && p[3] >= '3') { /* 86 before a mobile */
        p += 2;
        n -= 2;
    }
    if (n > 0 && p[0] == '0') { /* the trunk 0 of an area code, also "+86 (0)755" */
        p++;
        n--;
    }
    len = n >= 7 ? DG_MIN(n, cap - 1) : 0;
    memcpy(out, p, len);
    out[len] = '\0';
    free(digits);
    return len;
}

/* ------------------------------------------------------------ e-mail */

char *dg_dupkey_email(const char *s)
{
    size_t f_len;
    char *f = dg_text_fold(s, strlen(s), &f_len), *start, *end, *at;

    if (!f)
        return NULL;
    start = f + strspn(f, " \t\r\n<");
    if (strncmp(start, "mailto:", 7) == 0)
        start += 7;
    end = start + strcspn(start, " \t\r\n,;>");
    *end = '\0';
    at = strchr(start, '@');
    if (!at || at == start || at[1] == '\0')
        start = end; /* not an address: no key */
    memmove(f, start, strlen(start) + 1);
    return f;
}
