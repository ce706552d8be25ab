/* records_values.c - the values a change row keeps so that a change event
 * can be said in words: each changed item's value before and after as text,
 * and, for a new record, its kind's headline fields (what "added a call:
 * 回访报价" names). The text is the form `--set` takes; a user field keeps
 * the user's id (the feed names the user when it sends the event).
 * Writer thread (pure functions of records; strings in the caller's arena).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dg.h"
#include "money.h"
#include "records_int.h"

/* Fields a new record's event names, by kind: enough for one line. */
static const char *const headline_customer[] = {"tier", "owner"};
static const char *const headline_contact[] = {"name", "title"};
static const char *const headline_interaction[] = {"channel", "summary", "next_follow_up"};
static const char *const headline_deal[] = {"amount", "stage"};
static const char *const headline_feedback[] = {"kind", "satisfaction", "text"};
static const char *const headline_task[] = {"title", "due_at_ms", "assignee"};

static bool is_headline(enum dg_kind kind, const char *name)
{
    static const struct {
        const char *const *names;
        size_t n;
    } lists[DG_KIND_COUNT] = {
        [DG_KIND_CUSTOMER] = {headline_customer, DG_ARRAY_LEN(headline_customer)},
        [DG_KIND_CONTACT] = {headline_contact, DG_ARRAY_LEN(headline_contact)},
        [DG_KIND_INTERACTION] = {headline_interaction, DG_ARRAY_LEN(headline_interaction)},
        [DG_KIND_DEAL] = {headline_deal, DG_ARRAY_LEN(headline_deal)},
        [DG_KIND_FEEDBACK] = {headline_feedback, DG_ARRAY_LEN(headline_feedback)},
        [DG_KIND_TASK] = {headline_task, DG_ARRAY_LEN(headline_task)},
    };

    for (size_t i = 0; kind > DG_KIND_NONE && kind < DG_KIND_COUNT && i < lists[kind].n; i++)
        if (strcmp(lists[kind].names[i], name) == 0)
            return true;
    return false;
}

/* `s` cut to DG_CHANGE_VALUE_MAX bytes at a character boundary, then "…". */
static const char *cut(dg_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out;

    if (n <= DG_CHANGE_VALUE_MAX)
        return dg_arena_strdup(a, s);
    n = DG_CHANGE_VALUE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] starts the first character left out */
    if (!(out = dg_arena_alloc(a, n + 4)))
        return NULL;
    memcpy(out, s, n);
    memcpy(out + n, "\xE2\x80\xA6", 4); /* "…" and the NUL */
    return out;
}

static void money_text(int64_t minor, const char *currency, char *buf, size_t len)
{
    int exp = dg_currency_exponent(currency);
    int64_t scale = 1;
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;

    for (int i = 0; i < exp; i++)
        scale *= 10;
    if (exp == 0)
        snprintf(buf, len, "%s%" PRIu64 " %s", minor < 0 ? "-" : "", mag, currency);
    else
        snprintf(buf, len, "%s%" PRIu64 ".%0*" PRIu64 " %s", minor < 0 ? "-" : "",
                 mag / (uint64_t)scale, exp, mag % (uint64_t)scale, currency);
}

/* A field's value as text into buf (may point at the record's own text). */
static const char *field_text(const dg_field *f, const dg_value *v, char *buf, size_t len)
{
    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        return v->s ? v->s : "";
    case DG_F_ENUM: {
        const char *n = dg_enum_name(f->enum_desc, (int)v->i, buf, len);
        return n ? n : "";
    }
    case DG_F_BOOL:
        return v->i ? "true" : "false";
    case DG_F_MONEY:
        if (v->i == 0 && (!v->s || !v->s[0]))
            return "";
        money_text(v->i, v->s && v->s[0] ? v->s : "CNY", buf, len);
        return buf;
    case DG_F_TIME:
    case DG_F_USER:
    case DG_F_REF:
        if (v->i == 0)
            return "";
        /* fall through */
    default:
        snprintf(buf, len, "%" PRId64, v->i);
        return buf;
    }
}

/* Item `name` of `r` as text in `a` (fields, "tags", "custom.NAME",
 * "archived"); NULL over budget. */
static const char *item_text(dg_arena *a, const dg_record *r, const char *name)
{
    const dg_entity *e = dg_entity_get(r->kind);
    int i = dg_entity_field_index(e, name);
    char buf[64];

    if (i >= 0)
        return cut(a, field_text(&e->fields[i], &r->v[i], buf, sizeof buf));
    if (strcmp(name, "archived") == 0)
        return cut(a, r->is_archived ? "true" : "false");
    if (strncmp(name, "custom.", 7) == 0) {
        for (size_t k = 0; k < r->n_custom; k++)
            if (strcmp(r->custom[k].name, name + 7) == 0)
                return cut(a, r->custom[k].value);
        return cut(a, "");
    }
    if (strcmp(name, "tags") == 0) {
        size_t n = 1;
        char *joined;

        for (size_t k = 0; k < r->n_tags; k++)
            n += strlen(r->tags[k]) + 1;
        if (!(joined = dg_arena_alloc(a, n)))
            return NULL;
        joined[0] = '\0';
        for (size_t k = 0; k < r->n_tags; k++) {
            if (k)
                strcat(joined, ",");
            strcat(joined, r->tags[k]);
        }
        return cut(a, joined);
    }
    return cut(a, "");
}

int rec_change_values(dg_arena *a, const dg_record *before, const dg_record *after,
                      const char *const *names, size_t n, const char ***olds, const char ***news)
{
    size_t kept = 0;

    *olds = NULL;
    if (!(*news = dg_arena_calloc(a, n + 1, sizeof **news)))
        return DG_ENOMEM;
    if (before && !(*olds = dg_arena_calloc(a, n + 1, sizeof **olds)))
        return DG_ENOMEM;
    for (size_t i = 0; i < n && kept < DG_CHANGE_VALUES_MAX; i++) {
        if (!before && !is_headline(after->kind, names[i]))
            continue;
        if (!((*news)[i] = item_text(a, after, names[i])))
            return DG_ENOMEM;
        if (before && !((*olds)[i] = item_text(a, before, names[i])))
            return DG_ENOMEM;
        kept++;
    }
    return DG_OK;
}
