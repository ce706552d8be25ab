/* form.c - parsing, checking and showing field values in forms (see form.h). */
#include "form.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dg.h"
#include "text.h"
#include "money.h"
#include "tz.h"

static const char *zone_of(const dg_form_ctx *ctx)
{
    return ctx && ctx->zone && ctx->zone[0] ? ctx->zone : "UTC";
}

static const char *currency_of(const dg_form_ctx *ctx)
{
    return ctx && ctx->currency && ctx->currency[0] ? ctx->currency : "CNY";
}

/* ------------------------------------------------------------ parsing */

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || isspace((unsigned char)*s))
        return DG_EINVAL;
    *out = v;
    return DG_OK;
}

/* dg_text_yes_no into a int64_t. */
static int parse_bool(const char *s, int64_t *out)
{
    int v;
    int rc = dg_text_yes_no(s, &v);

    if (rc == DG_OK)
        *out = v;
    return rc;
}

/* "YYYY-MM-DD[ HH:MM]" in `zone` to unix ms. The local minute is placed by
 * the offset in force at that minute, not at midnight, so a day on which the
 * clocks change still reads right. */
static int parse_time(const char *zone, const char *s, int64_t *out)
{
    char date[DG_DATE_LEN];
    int hh = 0, mm = 0, n = 0;
    int32_t off_start, off_at;
    int64_t start, at;

    if (strlen(s) < 10)
        return DG_EINVAL;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!dg_date_valid(date))
        return DG_EINVAL;
    if (s[10]) {
        if ((s[10] != ' ' && s[10] != 'T') || sscanf(s + 11, "%2d:%2d%n", &hh, &mm, &n) != 2 ||
            s[11 + n] || n != 5 || hh > 23 || mm > 59 || hh < 0 || mm < 0)
            return DG_EINVAL;
    }
    if (dg_tz_day_start(zone, date, &start) != DG_OK ||
        dg_tz_offset_ms(zone, start, &off_start) != DG_OK)
        return DG_EINVAL;
    at = start + ((int64_t)hh * 60 + mm) * 60000;
    if (dg_tz_offset_ms(zone, at, &off_at) != DG_OK)
        return DG_EINVAL;
    *out = at - (off_at - off_start);
    return DG_OK;
}

static bool names_currency(const char *text)
{
    for (; *text; text++)
        if (isalpha((unsigned char)*text))
            return true;
    return false;
}

static void enum_choices(const ProtobufCEnumDescriptor *d, char *why, size_t len)
{
    size_t n = (size_t)snprintf(why, len, "one of:");

    for (unsigned i = 1; i < d->n_values && n < len; i++) {
        char name[64];

        if (dg_enum_name(d, d->values[i].value, name, sizeof name))
            n += (size_t)snprintf(why + n, len - n, "%s %s", i > 1 ? "," : "", name);
    }
}

static int parse_typed(dg_arena *a, const dg_form_ctx *ctx, const dg_field *f, const char *text,
                       dg_value *v, char *why, size_t why_len)
{
    char cur[4];
    int e;

    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        return (v->s = dg_arena_strdup(a, text)) ? DG_OK : DG_ENOMEM;
    case DG_F_INT:
    case DG_F_USER:
    case DG_F_REF:
        if (parse_int(text, &v->i) == DG_OK)
            return DG_OK;
        snprintf(why, why_len, "a whole number");
        return DG_EINVAL;
    case DG_F_BOOL:
        if (parse_bool(text, &v->i) == DG_OK)
            return DG_OK;
        snprintf(why, why_len, "yes or no");
        return DG_EINVAL;
    case DG_F_ENUM:
        if ((e = dg_enum_value(f->enum_desc, text)) >= 0)
            return v->i = e, DG_OK;
        enum_choices(f->enum_desc, why, why_len);
        return DG_EINVAL;
    case DG_F_TIME:
        if (parse_time(zone_of(ctx), text, &v->i) == DG_OK)
            return DG_OK;
        snprintf(why, why_len, "a date or time like 2026-11-22 or 2026-11-22 09:30");
        return DG_EINVAL;
    case DG_F_MONEY:
        /* the team's currency is the default, not a constraint: "12.34 USD" stays USD */
        if (dg_money_parse(text, names_currency(text) ? NULL : currency_of(ctx), &v->i, cur, why,
                           why_len) != DG_OK)
            return DG_EINVAL;
        return (v->s = dg_arena_strdup(a, cur)) ? DG_OK : DG_ENOMEM;
    }
    dg_assert(!"unknown field type");
    return DG_EINVAL;
}

int dg_form_parse(dg_arena *a, const dg_form_ctx *ctx, const dg_field *f, const char *text,
                  dg_value *v, char *why, size_t why_len)
{
    if (why_len)
        why[0] = '\0';
    v->i = 0;
    v->s = "";
    if (!text || !text[0])
        return DG_OK;
    return parse_typed(a, ctx, f, text, v, why, why_len);
}

/* ------------------------------------------------------------ checking */

struct collect {
    dg_arena *a;
    dg_form_problem *out;
    int cap, n;
    bool is_oom;
};

static void collect_cb(void *ud, const char *field, const char *problem)
{
    struct collect *c = ud;

    if (c->n < c->cap) {
        c->out[c->n].field = dg_arena_strdup(c->a, field);
        c->out[c->n].problem = dg_arena_strdup(c->a, problem);
        if (!c->out[c->n].field || !c->out[c->n].problem)
            c->is_oom = true;
    }
    c->n++;
}

int dg_form_check(const dg_record *r, bool is_create, dg_arena *a, dg_form_problem *out, int cap)
{
    struct collect c = {a, out, cap, 0, false};

    (void)dg_record_validate(r, is_create, collect_cb, &c); /* c.n counts the same problems */
    return c.is_oom ? -1 : c.n;
}

/* ------------------------------------------------------------ showing */

const char *dg_form_phone(const char *s, char *buf, size_t len)
{
    static const char *const prefixes[] = {"+86", "0086", ""};
    size_t n = strlen(s);

    for (size_t p = 0; p < DG_ARRAY_LEN(prefixes); p++) {
        size_t k = strlen(prefixes[p]);
        const char *d = s + k;
        bool is_digits = n == k + 11 && strncmp(s, prefixes[p], k) == 0 && d[0] == '1';

        for (size_t i = 0; is_digits && i < 11; i++)
            is_digits = isdigit((unsigned char)d[i]) != 0;
        if (is_digits) {
            snprintf(buf, len, "%s%s%.3s %.4s %.4s", k ? "+86" : "", k ? " " : "", d, d + 3, d + 7);
            return buf;
        }
    }
    snprintf(buf, len, "%s", s);
    return buf;
}

static const char *format_user(const dg_form_ctx *ctx, int64_t id, char *buf, size_t len)
{
    const char *name = ctx && ctx->user_name ? ctx->user_name(ctx->ud, id) : NULL;

    if (name)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "#%" PRId64, id);
    return buf;
}

const char *dg_form_format(const dg_form_ctx *ctx, const dg_field *f, const dg_value *v, char *buf,
                           size_t len)
{
    const char *s = v->s ? v->s : "";

    if (len == 0)
        return buf;
    buf[0] = '\0';
    switch (f->type) {
    case DG_F_TEXT:
        return (f->flags & DG_FF_PHONE) ? dg_form_phone(s, buf, len)
                                        : (snprintf(buf, len, "%s", s), buf);
    case DG_F_DATE:
        snprintf(buf, len, "%s", s);
        return buf;
    case DG_F_INT:
        if (v->i)
            snprintf(buf, len, "%" PRId64, v->i);
        return buf;
    case DG_F_BOOL:
        snprintf(buf, len, "%s", v->i ? "yes" : "no");
        return buf;
    case DG_F_ENUM:
        if (!dg_enum_name(f->enum_desc, (int)v->i, buf, len))
            snprintf(buf, len, "%" PRId64, v->i);
        return buf;
    case DG_F_TIME:
        if (v->i && dg_tz_format(zone_of(ctx), v->i, buf, len) != DG_OK)
            buf[0] = '\0';
        return buf;
    case DG_F_MONEY:
        if (v->i || s[0])
            dg_money_format(v->i, s[0] ? s : currency_of(ctx), buf, len);
        return buf;
    case DG_F_USER:
        return v->i ? format_user(ctx, v->i, buf, len) : buf;
    case DG_F_REF:
        if (v->i)
            snprintf(buf, len, "#%" PRId64, v->i);
        return buf;
    }
    return buf;
}
