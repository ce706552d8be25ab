/* imp_map.c - an import file's header row to fields, and its rows to
 * records. See imp.h.
 *
 * Header names are matched after trimming spaces and a trailing colon or
 * "（选填）"-style note, case-insensitively for Latin letters: the field names
 * themselves ("name", "contact.mobile"), common English headings and the
 * Chinese ones of customer registers (客户名称, 联系人, 手机...). Values are
 * parsed by the same code as `--set FIELD=VALUE`, so an import accepts what
 * the command line accepts.
 */
#include "imp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"

struct alias {
    const char *name;
    enum imp_target target;
    const char *field;
};

#define CU IMP_CUSTOMER
#define CT IMP_CONTACT

static const struct alias aliases[] = {
    {"客户名称", CU, "name"},
    {"客户", CU, "name"},
    {"公司名称", CU, "name"},
    {"单位名称", CU, "name"},
    {"企业名称", CU, "name"},
    {"名称", CU, "name"},
    {"customer", CU, "name"},
    {"customer name", CU, "name"},
    {"company", CU, "name"},
    {"company name", CU, "name"},
    {"简称", CU, "short_name"},
    {"客户简称", CU, "short_name"},
    {"short name", CU, "short_name"},
    {"编号", CU, "code"},
    {"客户编号", CU, "code"},
    {"档案编号", CU, "code"},
    {"电话", CU, "phone"},
    {"公司电话", CU, "phone"},
    {"固定电话", CU, "phone"},
    {"telephone", CU, "phone"},
    {"传真", CU, "fax"},
    {"地址", CU, "address"},
    {"公司地址", CU, "address"},
    {"通讯地址", CU, "address"},
    {"邮编", CU, "postcode"},
    {"邮政编码", CU, "postcode"},
    {"zip", CU, "postcode"},
    {"行业", CU, "industry"},
    {"所属行业", CU, "industry"},
    {"地区", CU, "region"},
    {"区域", CU, "region"},
    {"所在地区", CU, "region"},
    {"邮箱", CU, "email"},
    {"电子邮箱", CU, "email"},
    {"e-mail", CU, "email"},
    {"网址", CU, "website"},
    {"网站", CU, "website"},
    {"主页", CU, "website"},
    {"等级", CU, "tier"},
    {"客户等级", CU, "tier"},
    {"级别", CU, "tier"},
    {"负责人", CU, "owner"},
    {"业务员", CU, "owner"},
    {"客户经理", CU, "owner"},
    {"备注", CU, "notes"},
    {"说明", CU, "notes"},
    {"note", CU, "notes"},
    {"成立日期", CU, "founded_on"},
    {"成立时间", CU, "founded_on"},
    {"注册资本", CU, "registered_capital"},
    {"开户行", CU, "bank_name"},
    {"开户银行", CU, "bank_name"},
    {"银行账号", CU, "bank_account"},
    {"账号", CU, "bank_account"},
    {"主营业务", CU, "main_business"},
    {"来源", CU, "source"},
    {"客户来源", CU, "source"},
    {"信用等级", CU, "credit_rating"},
    {"员工人数", CU, "staff_count"},
    {"公司规模", CU, "size"},
    {"标签", CU, "tags"},
    {"联系人", CT, "name"},
    {"联系人姓名", CT, "name"},
    {"姓名", CT, "name"},
    {"contact", CT, "name"},
    {"contact name", CT, "name"},
    {"手机", CT, "mobile"},
    {"手机号", CT, "mobile"},
    {"手机号码", CT, "mobile"},
    {"移动电话", CT, "mobile"},
    {"mobile", CT, "mobile"},
    {"职位", CT, "title"},
    {"职务", CT, "title"},
    {"job title", CT, "title"},
    {"联系人电话", CT, "office_phone"},
    {"办公电话", CT, "office_phone"},
    {"联系人邮箱", CT, "email"},
    {"微信", CT, "im"},
    {"qq", CT, "im"},
    {"生日", CT, "birthday"},
};

static bool is_space(const char *p, size_t *n)
{
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        return *n = 1, true;
    if (!strncmp(p, "\xe3\x80\x80", 3)) /* ideographic space */
        return *n = 3, true;
    return false;
}

/* The header without surrounding spaces, a trailing ":"/"：", a "*" that
 * marks it required or a bracketed note ("手机（选填）"). */
static void clean_header(const char *h, char *out, size_t len)
{
    size_t n, k;
    char *end;

    while (*h && is_space(h, &k))
        h += k;
    snprintf(out, len, "%s", h);
    n = strlen(out);
    for (;;) {
        end = out + n;
        if (n && (end[-1] == ' ' || end[-1] == '*' || end[-1] == ':'))
            n--;
        else if (n >= 3 && (!strcmp(end - 3, "\xef\xbc\x9a") || !strcmp(end - 3, "\xe3\x80\x80")))
            n -= 3; /* ：and the ideographic space */
        else
            break;
        out[n] = '\0';
    }
    if ((end = strstr(out, "\xef\xbc\x88")) || (end = strchr(out, '('))) /* （ or ( */
        if (end > out)
            *end = '\0', n = (size_t)(end - out);
    while (n && out[n - 1] == ' ')
        out[--n] = '\0';
}

static void column_letter(size_t col, char *buf, size_t len)
{
    char tmp[8];
    size_t n = 0;

    col++;
    while (col && n < sizeof tmp) {
        tmp[n++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    for (size_t i = 0; i < n && i + 1 < len; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n < len ? n : len - 1] = '\0';
}

/* A field name as --set knows it, of the customer or (contact.) of a contact. */
static bool parse_field(const char *name, enum imp_target *t, char *field, size_t len)
{
    const cli_kind *k;
    const ProtobufCFieldDescriptor *f;

    *t = IMP_CUSTOMER;
    if (!strncmp(name, "contact.", 8)) {
        *t = IMP_CONTACT;
        name += 8;
    }
    k = cli_kind_get(*t == IMP_CUSTOMER ? DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER
                                        : DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT);
    if (!strncmp(name, "custom.", 7) && name[7] && *t == IMP_CUSTOMER) {
        snprintf(field, len, "%s", name);
        return true;
    }
    f = protobuf_c_message_descriptor_get_field_by_name(k->desc, name);
    if (!f || !cli_field_is_settable(f))
        return false;
    snprintf(field, len, "%s", name);
    return true;
}

static bool known_name(const char *h, enum imp_target *t, char *field, size_t len)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(aliases); i++) {
        if (strcasecmp(h, aliases[i].name) == 0) {
            *t = aliases[i].target;
            snprintf(field, len, "%s", aliases[i].field);
            return true;
        }
    }
    return parse_field(h, t, field, len);
}

/* --map COLUMN=FIELD onto the columns it names. */
static int apply_map(cli *c, imp_map *m, const char *map)
{
    const char *eq = strrchr(map, '=');
    char col[256], field[128];
    enum imp_target t;
    bool found = false;

    if (!eq || eq == map)
        return cli_usage(c, "--map needs COLUMN=FIELD, got \"%s\"", map);
    snprintf(col, sizeof col, "%.*s", (int)(eq - map), map);
    if (!strcmp(eq + 1, "-"))
        t = IMP_NONE, field[0] = '\0';
    else if (!parse_field(eq + 1, &t, field, sizeof field))
        return cli_usage(c,
                         "--map %s: no field is called \"%s\" (customer fields as in "
                         "`dangan customer add --help`, or contact.FIELD)",
                         map, eq + 1);
    for (size_t i = 0; i < m->n; i++) {
        char clean[256];

        clean_header(m->cols[i].header, clean, sizeof clean);
        if (strcmp(m->cols[i].header, col) && strcmp(clean, col) && strcmp(m->cols[i].letter, col))
            continue;
        m->cols[i].target = t;
        snprintf(m->cols[i].field, sizeof m->cols[i].field, "%s", field);
        found = true;
    }
    if (!found)
        return cli_usage(c, "--map %s: the file has no column \"%s\"", map, col);
    return EXIT_OK;
}

static int check_map(cli *c, imp_map *m)
{
    bool has_name = false;

    for (size_t i = 0; i < m->n; i++) {
        const imp_col *a = &m->cols[i];

        if (a->target == IMP_NONE)
            continue;
        has_name |= a->target == IMP_CUSTOMER && !strcmp(a->field, "name");
        m->has_contact |= a->target == IMP_CONTACT;
        for (size_t j = i + 1; j < m->n; j++)
            if (m->cols[j].target == a->target && !strcmp(m->cols[j].field, a->field))
                return cli_usage(c,
                                 "columns %s (%s) and %s (%s) both go to %s%s; --map one of "
                                 "them elsewhere or to -",
                                 a->letter, a->header, m->cols[j].letter, m->cols[j].header,
                                 a->target == IMP_CONTACT ? "contact." : "", a->field);
    }
    if (!has_name)
        return cli_usage(c, "no column holds the customer's name (客户名称); name it with --map "
                            "COLUMN=name");
    return EXIT_OK;
}

int imp_map_build(cli *c, const cli_row *header, char *const *maps, size_t n_maps, imp_map *m)
{
    int rc = EXIT_OK;

    memset(m, 0, sizeof *m);
    m->cols = dg_xcalloc(header->n ? header->n : 1, sizeof *m->cols);
    m->n = header->n;
    for (size_t i = 0; i < m->n; i++) {
        imp_col *a = &m->cols[i];
        char clean[256];

        a->header = header->cells[i];
        column_letter(i, a->letter, sizeof a->letter);
        clean_header(a->header, clean, sizeof clean);
        if (!clean[0] || !known_name(clean, &a->target, a->field, sizeof a->field))
            a->target = IMP_NONE;
    }
    for (size_t i = 0; i < n_maps && rc == EXIT_OK; i++)
        rc = apply_map(c, m, maps[i]);
    if (rc == EXIT_OK)
        rc = check_map(c, m);
    for (size_t i = 0; rc == EXIT_OK && i < m->n; i++)
        if (m->cols[i].target == IMP_NONE && m->cols[i].header[0] && !c->is_json)
            fprintf(stderr,
                    "dangan: column %s (%s) is not imported; --map '%s=FIELD' to import it\n",
                    m->cols[i].letter, m->cols[i].header, m->cols[i].header);
    return rc;
}

void imp_map_fini(imp_map *m)
{
    free(m->cols);
    memset(m, 0, sizeof *m);
}

void imp_column_of(const imp_map *m, enum imp_target target, const char *field, char *buf,
                   size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < m->n; i++)
        if (m->cols[i].target == target && !strcmp(m->cols[i].field, field)) {
            snprintf(buf, len, "%s (%s)", m->cols[i].letter, m->cols[i].header);
            return;
        }
}

/* ------------------------------------------------------------ rows */

static void reject(imp_rec *r, const imp_col *col, const char *why)
{
    r->state = IMP_REJECTED;
    if (col)
        snprintf(r->column, sizeof r->column, "%s (%s)", col->letter, col->header);
    snprintf(r->why, sizeof r->why, "%.*s", (int)sizeof r->why - 1, why);
}

/* "A级" → "A": a tier as registers write it. */
static const char *tier_value(const char *v, char *buf, size_t len)
{
    size_t n = strlen(v);

    if (n > 3 && (!strcmp(v + n - 3, "级") || !strcmp(v + n - 3, "类"))) {
        snprintf(buf, len, "%.*s", (int)(n - 3), v);
        return buf;
    }
    return v;
}

/* Fields whose text is a calendar date (YYYY-MM-DD in the .proto). */
static bool is_date_field(const char *field)
{
    return !strcmp(field, "founded_on") || !strcmp(field, "birthday");
}

/* "2001/5/20", "2001.5.20", "2001年5月20日" or "2001-05-20" (a date cell of a
 * workbook reads so) → "2001-05-20"; false when it is no calendar date. */
static bool normalize_date(const char *v, char *buf, size_t len)
{
    int y, m, d, n = 0;

    if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 &&
        sscanf(v, "%4d/%2d/%2d%n", &y, &m, &d, &n) != 3 &&
        sscanf(v, "%4d.%2d.%2d%n", &y, &m, &d, &n) != 3 &&
        sscanf(v, "%4d年%2d月%2d日%n", &y, &m, &d, &n) != 3)
        return false;
    if (v[n] && strcmp(v + n, " 00:00") != 0)
        return false;
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
    return cli_date_valid(buf);
}

static bool set_value(cli *c, imp_rec *r, const imp_col *col, const char *v)
{
    const cli_kind *k =
        cli_kind_get(col->target == IMP_CUSTOMER ? DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER
                                                 : DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT);
    ProtobufCMessage *m = col->target == IMP_CUSTOMER ? &r->cu->base : &r->ct->base;
    char why[1024], tier[64];
    int rc;

    if (!strcmp(col->field, "tier"))
        v = tier_value(v, tier, sizeof tier);
    if (is_date_field(col->field)) {
        if (!normalize_date(v, tier, sizeof tier)) {
            snprintf(why, sizeof why, "not a date: \"%s\" (like 2026-11-22)", v);
            reject(r, col, why);
            return false;
        }
        v = tier;
    }
    why[0] = '\0';
    c->usage_sink = why;
    c->usage_sink_len = sizeof why;
    rc = cli_field_set(c, k, m, col->field, v);
    c->usage_sink = NULL;
    if (rc != EXIT_OK)
        reject(r, col, why);
    return rc == EXIT_OK;
}

/* The cell without spaces around it (what a person sees in the cell). */
static const char *trimmed(const char *s, char *buf, size_t len)
{
    size_t n, k;

    while (*s && is_space(s, &k))
        s += k;
    snprintf(buf, len, "%s", s);
    n = strlen(buf);
    while (n &&
           (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r' || buf[n - 1] == '\n'))
        buf[--n] = '\0';
    return buf;
}

bool imp_row_build(cli *c, const imp_map *m, const cli_row *row, imp_rec *r)
{
    bool has_contact_value = false;
    const imp_col *name_col = NULL, *contact_col = NULL;

    memset(r, 0, sizeof *r);
    r->src = row;
    r->cu = (Dangan__V1__Customer *)cli_msg_new(&dangan__v1__customer__descriptor);
    if (m->has_contact)
        r->ct = (Dangan__V1__Contact *)cli_msg_new(&dangan__v1__contact__descriptor);
    if (row->n > m->n) {
        reject(r, NULL, "more cells than the header has columns");
        return false;
    }
    for (size_t i = 0; i < row->n; i++) {
        const imp_col *col = &m->cols[i];
        char *v = dg_xmalloc(strlen(row->cells[i]) + 1);
        bool ok = true;

        trimmed(row->cells[i], v, strlen(row->cells[i]) + 1);
        if (col->target == IMP_CUSTOMER && !strcmp(col->field, "name"))
            name_col = col;
        if (col->target == IMP_CONTACT && !strcmp(col->field, "name"))
            contact_col = col;
        if (col->target != IMP_NONE && v[0]) {
            has_contact_value |= col->target == IMP_CONTACT;
            ok = set_value(c, r, col, v);
        }
        free(v);
        if (!ok)
            return false;
    }
    if (!r->cu->name || !r->cu->name[0]) {
        reject(r, name_col, "the customer's name is empty");
        return false;
    }
    if (has_contact_value && (!r->ct->name || !r->ct->name[0])) {
        reject(r, contact_col, "contact details without the contact's name (联系人)");
        return false;
    }
    if (r->ct && !has_contact_value) {
        dangan__v1__contact__free_unpacked(r->ct, NULL);
        r->ct = NULL;
    }
    return true;
}

void imp_rec_fini(imp_rec *r)
{
    if (r->cu)
        dangan__v1__customer__free_unpacked(r->cu, NULL);
    if (r->ct)
        dangan__v1__contact__free_unpacked(r->ct, NULL);
    r->cu = NULL;
    r->ct = NULL;
}
