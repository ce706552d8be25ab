/* fields.c - FIELD=VALUE for every record kind, and values as text.
 *
 * Nothing here knows the customer file: a field is looked up by name in the
 * kind's protobuf message descriptor and its value parsed by the field's
 * type (string, int32, int64 ids, int64 "*_ms" instants, enums by short
 * name, bools, Money, UserRef by user name), plus "tags=a,b" and
 * "custom.NAME=VALUE". A new field in the .proto works without a change here.
 * Values are written into heap messages (rec.h); the previous value of the
 * same field is freed first.
 */
#include "rec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "money.h"
#include "text.h"

#define TEXT_MAX 1024

/* Fields people do not set: the server maintains them, or a command takes
 * them another way (a child's customer is its CUSTOMER argument). */
static const char *const read_only[] = {
    "id",         "version",     "archived",   "created_at_ms",      "updated_at_ms", "created_by",
    "updated_by", "customer_id", "done_at_ms", "last_contact_at_ms", "custom", /* as custom.NAME */
};

static bool is_message(const ProtobufCFieldDescriptor *f, const ProtobufCMessageDescriptor *d)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor == d;
}

static bool is_instant(const ProtobufCFieldDescriptor *f)
{
    size_t n = strlen(f->name);

    return f->type == PROTOBUF_C_TYPE_INT64 && n > 3 && strcmp(f->name + n - 3, "_ms") == 0;
}

bool cli_field_is_settable(const ProtobufCFieldDescriptor *f)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(read_only); i++)
        if (strcmp(f->name, read_only[i]) == 0)
            return false;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return f->type == PROTOBUF_C_TYPE_STRING; /* tags */
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return is_message(f, &dangan__v1__money__descriptor) ||
               is_message(f, &dangan__v1__user_ref__descriptor);
    return f->type != PROTOBUF_C_TYPE_BYTES;
}

static bool has_custom(const cli_kind *k)
{
    return protobuf_c_message_descriptor_get_field_by_name(k->desc, "custom") != NULL;
}

/* A name --set does not know: a usage error naming the nearest settable
 * field ("did you mean tier?"), else every one of them. */
static int unknown_field(cli *c, const cli_kind *k, const char *name,
                         const ProtobufCFieldDescriptor *f)
{
    const char **names = dg_xcalloc(k->desc->n_fields, sizeof *names);
    const char *near;
    char list[TEXT_MAX];
    size_t n = 0, used = 0;
    int rc;

    list[0] = '\0';
    for (unsigned i = 0; i < k->desc->n_fields; i++) {
        if (!cli_field_is_settable(&k->desc->fields[i]))
            continue;
        names[n++] = k->desc->fields[i].name;
        if (used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                     k->desc->fields[i].name);
    }
    if (has_custom(k) && used < sizeof list)
        snprintf(list + used, sizeof list - used, ", custom.NAME");
    near = f ? NULL : cli_suggest(name, names, n);
    if (f) /* id, version...: the server keeps them */
        rc = cli_usage(c, "field \"%s\" cannot be set; %s fields: %s", name, k->name, list);
    else if (near)
        rc = cli_usage(c, "unknown field \"%s\"; did you mean %s?", name, near);
    else
        rc = cli_usage(c, "unknown field \"%s\"; %s fields: %s", name, k->name, list);
    free(names);
    return rc;
}

/* ------------------------------------------------------------ enums */

int cli_enum_parse(const ProtobufCEnumDescriptor *d, const char *name)
{
    char short_name[128];

    for (unsigned i = 0; i < d->n_values; i++) {
        const ProtobufCEnumValue *v = &d->values[i];

        if (v->value == 0)
            continue;
        cli_enum_name(d, v->value, short_name, sizeof short_name);
        if (strcasecmp(short_name, name) == 0 || strcasecmp(v->name, name) == 0)
            return v->value;
    }
    return -1;
}

const char *cli_enum_choices(const ProtobufCEnumDescriptor *d, char *buf, size_t len)
{
    char short_name[128];
    size_t n = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < d->n_values && n < len; i++) {
        if (d->values[i].value == 0)
            continue;
        cli_enum_name(d, d->values[i].value, short_name, sizeof short_name);
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", short_name);
    }
    return buf;
}

/* ------------------------------------------------------------ times and dates */

/* Reads exactly `n` digits. */
static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool take_char(const char **p, char ch)
{
    if (**p != ch)
        return false;
    (*p)++;
    return true;
}

static bool ymd_valid(int y, int m, int d)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* "YYYY-MM-DD" at *p. */
static bool take_date(const char **p, int *y, int *m, int *d)
{
    return take_digits(p, 4, y) && take_char(p, '-') && take_digits(p, 2, m) && take_char(p, '-') &&
           take_digits(p, 2, d) && ymd_valid(*y, *m, *d);
}

bool cli_date_valid(const char *s)
{
    int y, m, d;

    return take_date(&s, &y, &m, &d) && *s == '\0';
}

/* "T09:30", "T09:30:15", "T09:30:15.250" at *p (after the date). */
static bool take_clock(const char **p, struct tm *tm, int *ms)
{
    if (!take_digits(p, 2, &tm->tm_hour) || !take_char(p, ':') || !take_digits(p, 2, &tm->tm_min))
        return false;
    if (take_char(p, ':')) {
        if (!take_digits(p, 2, &tm->tm_sec))
            return false;
        if (take_char(p, '.')) {
            int scale = 100;

            if (!isdigit((unsigned char)**p))
                return false;
            for (; isdigit((unsigned char)**p); (*p)++, scale /= 10)
                *ms += (**p - '0') * scale;
        }
    }
    return tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 60;
}

/* "Z", "+08:00", "+0800", "+08" at *p: seconds east of UTC. */
static bool take_zone(const char **p, long *offset)
{
    int sign, h, m = 0;

    if (take_char(p, 'Z') || take_char(p, 'z')) {
        *offset = 0;
        return true;
    }
    if (**p != '+' && **p != '-')
        return false;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!take_digits(p, 2, &h))
        return false;
    if (take_char(p, ':')) {
        if (!take_digits(p, 2, &m))
            return false;
    } else if (isdigit((unsigned char)**p) && !take_digits(p, 2, &m)) {
        return false;
    }
    if (h > 23 || m > 59)
        return false;
    *offset = sign * (h * 3600L + m * 60L);
    return true;
}

int cli_parse_time(const char *s, int64_t *unix_ms)
{
    struct tm tm = {0};
    const char *p = s;
    long offset = 0;
    bool is_zoned = false;
    int ms = 0;
    time_t t;

    if (!take_date(&p, &tm.tm_year, &tm.tm_mon, &tm.tm_mday))
        return DG_EINVAL;
    if ((*p == 'T' || *p == 't' || *p == ' ') && (p++, !take_clock(&p, &tm, &ms)))
        return DG_EINVAL;
    if (*p && !(is_zoned = take_zone(&p, &offset)))
        return DG_EINVAL;
    if (*p)
        return DG_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (!is_zoned) { /* the team's time zone (when.c) */
        int64_t local_ms;

        if (cli_local_to_utc(&tm, &local_ms) != DG_OK)
            return DG_EINVAL;
        *unix_ms = local_ms + ms;
        return DG_OK;
    }
    t = timegm(&tm) - offset;
    *unix_ms = (int64_t)t * 1000 + ms;
    return DG_OK;
}

/* ------------------------------------------------------------ money */

int cli_parse_money(const char *s, const char *currency, int64_t *minor, char cur[4], char *why,
                    size_t why_len)
{
    return dg_money_parse(s, currency, minor, cur, why, why_len);
}

const char *cli_money_text(int64_t minor, const char *currency, char *buf, size_t len)
{
    return dg_money_format(minor, currency, buf, len);
}

/* ------------------------------------------------------------ assigning */

static void free_str(char **p)
{
    if (*p && *p != (char *)protobuf_c_empty_string)
        free(*p);
    *p = (char *)protobuf_c_empty_string;
}

/* Clears a repeated field's array (and its string elements). */
static void free_repeated(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    size_t *n = (size_t *)((char *)m + f->quantifier_offset);
    void **arr = *(void ***)((char *)m + f->offset);

    for (size_t i = 0; i < *n; i++) {
        if (f->type == PROTOBUF_C_TYPE_STRING)
            free(arr[i]);
        else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            protobuf_c_message_free_unpacked(arr[i], NULL);
    }
    free(arr);
    *(void ***)((char *)m + f->offset) = NULL;
    *n = 0;
}

/* Back to the default value. */
static void clear_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    void *p = (char *)m + f->offset;

    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        free_repeated(m, f);
        return;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        free_str(p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage **)p)
            protobuf_c_message_free_unpacked(*(ProtobufCMessage **)p, NULL);
        *(ProtobufCMessage **)p = NULL;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        memset(p, 0, 8);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = 0;
        break;
    default:
        memset(p, 0, 4);
        break;
    }
}

/* "a, b ,c" → the repeated string field: trimmed, empty items dropped. */
static void set_list(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *value)
{
    char **arr = NULL;
    size_t n = 0;

    for (const char *p = value; *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *b = p;

        while (b < end && isspace((unsigned char)*b))
            b++;
        while (end > b && isspace((unsigned char)end[-1]))
            end--;
        if (end > b) {
            arr = dg_xrealloc(arr, (n + 1) * sizeof *arr);
            arr[n++] = dg_xstrndup(b, (size_t)(end - b));
        }
        p = comma ? comma + 1 : p + strlen(p);
    }
    *(char ***)((char *)m + f->offset) = arr;
    *(size_t *)((char *)m + f->quantifier_offset) = n;
}

static int bad_value(cli *c, const char *name, const char *value, const char *why)
{
    return cli_usage(c, "bad value for %s: \"%s\" (%s)", name, value, why);
}

/* dg_text_yes_no into a protobuf_c_boolean. */
static int parse_bool(const char *s, protobuf_c_boolean *out)
{
    int v;
    int rc = dg_text_yes_no(s, &v);

    if (rc == DG_OK)
        *out = v;
    return rc;
}

static int set_integer(cli *c, const ProtobufCFieldDescriptor *f, void *p, const char *value)
{
    char *end;
    long long v;

    if (is_instant(f)) {
        int64_t ms;

        if (cli_parse_time(value, &ms) != DG_OK)
            return bad_value(c, f->name, value,
                             "a date or time like 2026-11-22 or 2026-11-22T09:30[+08:00]");
        *(int64_t *)p = ms;
        return EXIT_OK;
    }
    errno = 0;
    v = strtoll(value, &end, 10);
    if (end == value || *end || errno == ERANGE ||
        (f->type == PROTOBUF_C_TYPE_INT32 && (v < INT32_MIN || v > INT32_MAX)))
        return bad_value(c, f->name, value, "a whole number");
    if (f->type == PROTOBUF_C_TYPE_INT32)
        *(int32_t *)p = (int32_t)v;
    else
        *(int64_t *)p = v;
    return EXIT_OK;
}

static int set_message(cli *c, const ProtobufCFieldDescriptor *f, void *p, const char *value)
{
    ProtobufCMessage *sub;

    if (is_message(f, &dangan__v1__money__descriptor)) {
        Dangan__V1__Money *money;
        char why[128], cur[4];
        int64_t minor;

        if (cli_parse_money(value, NULL, &minor, cur, why, sizeof why) != DG_OK)
            return bad_value(c, f->name, value, why);
        money = (Dangan__V1__Money *)cli_msg_new(&dangan__v1__money__descriptor);
        money->amount_minor = minor;
        money->currency = dg_xstrdup(cur);
        sub = &money->base;
    } else {
        Dangan__V1__UserRef *u =
            (Dangan__V1__UserRef *)cli_msg_new(&dangan__v1__user_ref__descriptor);

        u->username = dg_xstrdup(value); /* the server resolves names and "me" */
        sub = &u->base;
    }
    if (*(ProtobufCMessage **)p)
        protobuf_c_message_free_unpacked(*(ProtobufCMessage **)p, NULL);
    *(ProtobufCMessage **)p = sub;
    return EXIT_OK;
}

/* Parses `value` by the field's type into the message. */
static int set_typed(cli *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                     const char *value)
{
    void *p = (char *)m + f->offset;
    char choices[512];
    int e;

    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        free_repeated(m, f);
        set_list(m, f, value);
        return EXIT_OK;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        free_str(p);
        *(char **)p = dg_xstrdup(value);
        return EXIT_OK;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_INT64:
        return set_integer(c, f, p, value);
    case PROTOBUF_C_TYPE_ENUM:
        if ((e = cli_enum_parse(f->descriptor, value)) < 0)
            return bad_value(c, f->name, value,
                             cli_enum_choices(f->descriptor, choices, sizeof choices));
        *(int *)p = e;
        return EXIT_OK;
    case PROTOBUF_C_TYPE_BOOL:
        if (parse_bool(value, p) != DG_OK)
            return bad_value(c, f->name, value, "yes or no");
        return EXIT_OK;
    case PROTOBUF_C_TYPE_MESSAGE:
        return set_message(c, f, p, value);
    default:
        return bad_value(c, f->name, value, "this field cannot be set from the command line");
    }
}

/* custom.NAME=VALUE: replaces NAME's entry in the repeated CustomValue field. */
static void set_custom(ProtobufCMessage *m, const char *name, const char *value, bool is_unset)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "custom");
    size_t *n = (size_t *)((char *)m + f->quantifier_offset);
    Dangan__V1__CustomValue ***arr = (Dangan__V1__CustomValue ***)((char *)m + f->offset);
    Dangan__V1__CustomValue *cv;

    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*arr)[i]->name, name) != 0)
            continue;
        dangan__v1__custom_value__free_unpacked((*arr)[i], NULL);
        memmove(&(*arr)[i], &(*arr)[i + 1], (*n - i - 1) * sizeof **arr);
        (*n)--;
        break;
    }
    if (is_unset) /* absent from the message, present in the mask: the server removes it */
        return;
    cv = (Dangan__V1__CustomValue *)cli_msg_new(&dangan__v1__custom_value__descriptor);
    cv->name = dg_xstrdup(name);
    cv->value = dg_xstrdup(value);
    *arr = dg_xrealloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = cv;
}

static void mask_add(char ***mask, size_t *n_mask, const char *name)
{
    if (!mask)
        return;
    for (size_t i = 0; i < *n_mask; i++)
        if (strcmp((*mask)[i], name) == 0)
            return;
    *mask = dg_xrealloc(*mask, (*n_mask + 1) * sizeof **mask);
    (*mask)[(*n_mask)++] = dg_xstrdup(name);
}

static int assign(cli *c, const cli_kind *k, ProtobufCMessage *m, const char *name,
                  const char *value, bool is_unset, char ***mask, size_t *n_mask)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(k->desc, name);
    int rc;

    if (strncmp(name, "custom.", 7) == 0 && name[7] && has_custom(k)) {
        set_custom(m, name + 7, value, is_unset);
        mask_add(mask, n_mask, name);
        return EXIT_OK;
    }
    if (!f || !cli_field_is_settable(f))
        return unknown_field(c, k, name, f);
    if (is_unset || !value[0]) { /* an empty value clears the field, like --unset */
        clear_field(m, f);
        rc = EXIT_OK;
    } else {
        rc = set_typed(c, m, f, value);
    }
    if (rc == EXIT_OK)
        mask_add(mask, n_mask, name);
    return rc;
}

int cli_field_assign(cli *c, const cli_kind *k, ProtobufCMessage *m, const char *assignment,
                     bool is_unset, char ***mask, size_t *n_mask)
{
    const char *eq = strchr(assignment, '=');
    char name[128];
    int rc;

    if (is_unset)
        return assign(c, k, m, assignment, "", true, mask, n_mask);
    if (!eq || eq == assignment)
        return cli_usage(c, "--set needs FIELD=VALUE, got \"%s\"", assignment);
    if ((size_t)(eq - assignment) >= sizeof name)
        return cli_usage(c, "no field is called \"%.*s...\"", 40, assignment);
    memcpy(name, assignment, (size_t)(eq - assignment));
    name[eq - assignment] = '\0';
    rc = assign(c, k, m, name, eq + 1, false, mask, n_mask);
    return rc;
}

int cli_field_set(cli *c, const cli_kind *k, ProtobufCMessage *m, const char *name,
                  const char *value)
{
    return assign(c, k, m, name, value, false, NULL, NULL);
}

/* ------------------------------------------------------------ values as text */

static bool custom_text(const ProtobufCMessage *m, const char *name, char *buf, size_t len)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "custom");
    size_t n;
    Dangan__V1__CustomValue *const *arr;

    buf[0] = '\0';
    if (!f)
        return false;
    n = *(const size_t *)((const char *)m + f->quantifier_offset);
    arr = *(Dangan__V1__CustomValue *const *const *)((const char *)m + f->offset);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(arr[i]->name, name) == 0) {
            snprintf(buf, len, "%s", arr[i]->value);
            return buf[0] != '\0';
        }
    }
    return false;
}

static bool list_text(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *buf,
                      size_t len)
{
    size_t n = *(const size_t *)((const char *)m + f->quantifier_offset), used = 0;
    char *const *arr = *(char *const *const *)((const char *)m + f->offset);

    buf[0] = '\0';
    if (f->type != PROTOBUF_C_TYPE_STRING)
        return false;
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", arr[i]);
    return n > 0;
}

static bool message_text(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *sub, char *buf,
                         size_t len)
{
    buf[0] = '\0';
    if (!sub)
        return false;
    if (is_message(f, &dangan__v1__money__descriptor)) {
        const Dangan__V1__Money *money = (const Dangan__V1__Money *)sub;

        cli_money_text(money->amount_minor, money->currency, buf, len);
    } else if (is_message(f, &dangan__v1__user_ref__descriptor)) {
        const Dangan__V1__UserRef *u = (const Dangan__V1__UserRef *)sub;

        if (u->username[0])
            snprintf(buf, len, "%s", u->username);
        else if (u->id)
            snprintf(buf, len, "user #%lld", (long long)u->id);
    }
    return buf[0] != '\0';
}

bool cli_field_text(const ProtobufCMessage *m, const char *name, char *buf, size_t len)
{
    const ProtobufCFieldDescriptor *f;
    const void *p;
    int64_t i;

    buf[0] = '\0';
    if (strncmp(name, "custom.", 7) == 0)
        return custom_text(m, name + 7, buf, len);
    f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f)
        return false;
    p = (const char *)m + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return list_text(m, f, buf, len);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        snprintf(buf, len, "%s", *(char *const *)p ? *(char *const *)p : "");
        return buf[0] != '\0';
    case PROTOBUF_C_TYPE_ENUM:
        if (*(const int *)p == 0)
            return false;
        cli_enum_name(f->descriptor, *(const int *)p, buf, len);
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        snprintf(buf, len, "%s", *(const protobuf_c_boolean *)p ? "yes" : "no");
        return *(const protobuf_c_boolean *)p != 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_text(f, *(ProtobufCMessage *const *)p, buf, len);
    case PROTOBUF_C_TYPE_DOUBLE:
        snprintf(buf, len, "%g", *(const double *)p);
        return *(const double *)p != 0;
    default:
        break;
    }
    i = cli_msg_i64(m, name);
    if (i == 0)
        return false;
    if (is_instant(f))
        cli_time(i, buf, len);
    else
        snprintf(buf, len, "%lld", (long long)i);
    return true;
}
