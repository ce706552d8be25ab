/* entity.c - the field tables of the six record kinds, and record helpers (see entity.h). */
#include "entity.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dangan.pb-c.h"
#include "dg.h"
#include "money.h"
#include "utf8.h"

#define TEXT(n, max, fl)                                                                           \
    {                                                                                              \
        n, DG_F_TEXT, fl, 0, max, NULL, DG_KIND_NONE                                               \
    }
#define INT(n, lo, hi, fl)                                                                         \
    {                                                                                              \
        n, DG_F_INT, fl, lo, hi, NULL, DG_KIND_NONE                                                \
    }
#define BOOL(n)                                                                                    \
    {                                                                                              \
        n, DG_F_BOOL, 0, 0, 1, NULL, DG_KIND_NONE                                                  \
    }
#define ENUM(n, d, fl)                                                                             \
    {                                                                                              \
        n, DG_F_ENUM, fl, 0, 0, &d, DG_KIND_NONE                                                   \
    }
#define DATE(n, fl)                                                                                \
    {                                                                                              \
        n, DG_F_DATE, fl, 0, 0, NULL, DG_KIND_NONE                                                 \
    }
#define TIME(n, fl)                                                                                \
    {                                                                                              \
        n, DG_F_TIME, fl, 0, 0, NULL, DG_KIND_NONE                                                 \
    }
#define MONEY(n, fl)                                                                               \
    {                                                                                              \
        n, DG_F_MONEY, fl, 0, 0, NULL, DG_KIND_NONE                                                \
    }
#define USER(n, fl)                                                                                \
    {                                                                                              \
        n, DG_F_USER, fl, 0, 0, NULL, DG_KIND_NONE                                                 \
    }
#define REF(n, k, fl)                                                                              \
    {                                                                                              \
        n, DG_F_REF, fl, 0, 0, NULL, k                                                             \
    }

#define PARENT REF("customer_id", DG_KIND_CUSTOMER, DG_FF_REQUIRED | DG_FF_IMMUTABLE)

/* The customer file (客户档案表, docs/customer-file.md) plus classification. */
static const dg_field customer_fields[] = {
    TEXT("code", 32, 0),
    ENUM("kind", dangan__v1__customer_kind__descriptor, 0),
    TEXT("name", 200, DG_FF_REQUIRED),
    TEXT("short_name", 100, 0),
    TEXT("industry", 100, 0),
    TEXT("region", 100, 0),
    TEXT("address", 300, 0),
    TEXT("postcode", 20, 0),
    TEXT("phone", 50, DG_FF_PHONE),
    TEXT("fax", 50, DG_FF_PHONE),
    TEXT("email", 200, DG_FF_EMAIL),
    TEXT("website", 200, 0),
    DATE("founded_on", 0),
    MONEY("registered_capital", 0),
    TEXT("shareholders", 1000, 0),
    TEXT("bank_name", 200, 0),
    TEXT("bank_account", 100, DG_FF_SENSITIVE),
    ENUM("nature", dangan__v1__nature__descriptor, 0),
    TEXT("size", 100, 0),
    INT("staff_count", 0, 100000000, 0),
    INT("staff_domestic", 0, 100000000, 0),
    INT("staff_foreign", 0, 100000000, 0),
    ENUM("standing", dangan__v1__standing__descriptor, 0),
    TEXT("main_business", 1000, 0),
    TEXT("side_business", 1000, 0),
    TEXT("sales_history", 2000, 0),
    TEXT("source", 100, 0),
    ENUM("status", dangan__v1__customer_status__descriptor, 0),
    ENUM("stage", dangan__v1__stage__descriptor, 0),
    ENUM("tier", dangan__v1__tier__descriptor, 0),
    ENUM("intention", dangan__v1__intention__descriptor, 0),
    ENUM("value", dangan__v1__customer_value__descriptor, 0),
    TEXT("credit_rating", 20, 0),
    TEXT("our_advantages", 2000, 0),
    TEXT("our_weaknesses", 2000, 0),
    USER("owner", 0),
    TEXT("notes", 10000, 0),
    TEXT("churn_reason", 500, 0),
};

static const dg_field contact_fields[] = {
    PARENT,
    ENUM("role", dangan__v1__contact_role__descriptor, 0),
    TEXT("name", 100, DG_FF_REQUIRED),
    TEXT("title", 100, 0),
    TEXT("mobile", 50, DG_FF_PHONE),
    TEXT("office_phone", 50, DG_FF_PHONE),
    TEXT("personal_phone", 50, DG_FF_PHONE | DG_FF_SENSITIVE),
    TEXT("email", 200, DG_FF_EMAIL),
    TEXT("im", 100, 0),
    DATE("birthday", DG_FF_SENSITIVE),
    TEXT("education", 500, 0),
    TEXT("hobbies", 500, 0),
    TEXT("family", 1000, DG_FF_SENSITIVE),
    TEXT("id_number", 50, DG_FF_SENSITIVE),
    TEXT("notes", 5000, 0),
};

static const dg_field interaction_fields[] = {
    PARENT,
    REF("contact_id", DG_KIND_CONTACT, 0),
    TIME("at_ms", 0),
    ENUM("channel", dangan__v1__channel__descriptor, DG_FF_REQUIRED),
    TEXT("place", 200, 0),
    TEXT("participants", 500, 0),
    TEXT("summary", 500, DG_FF_REQUIRED),
    TEXT("content", 20000, 0),
    DATE("next_follow_up", 0),
};

static const dg_field deal_fields[] = {
    PARENT,
    TEXT("number", 50, 0),
    TIME("at_ms", 0),
    TEXT("place", 200, 0),
    MONEY("amount", DG_FF_REQUIRED),
    TEXT("content", 5000, 0),
    TEXT("person_in_charge", 100, 0),
    BOOL("breach"),
    TEXT("notes", 5000, 0),
    TEXT("stage", 32, 0), /* a stage of the team's pipeline (team.h) */
    INT("probability", 0, 100, 0),
    DATE("expected_close_on", 0),
    TEXT("lost_reason", 500, 0),
};

static const dg_field feedback_fields[] = {
    PARENT,
    ENUM("kind", dangan__v1__feedback_kind__descriptor, DG_FF_REQUIRED),
    INT("satisfaction", 0, 5, 0),
    TEXT("text", 10000, DG_FF_REQUIRED),
    ENUM("status", dangan__v1__feedback_status__descriptor, 0),
    TEXT("resolution", 5000, 0),
    TIME("at_ms", 0),
};

static const dg_field task_fields[] = {
    PARENT,
    TEXT("title", 300, DG_FF_REQUIRED),
    TEXT("notes", 5000, 0),
    TIME("due_at_ms", 0),
    USER("assignee", 0),
    BOOL("done"),
    TIME("done_at_ms", DG_FF_SERVER),
};

#define ENTITY(k, n, t, f)                                                                         \
    {                                                                                              \
        k, n, t, f, DG_ARRAY_LEN(f)                                                                \
    }

static const dg_entity entities[DG_KIND_COUNT] = {
    [DG_KIND_CUSTOMER] = ENTITY(DG_KIND_CUSTOMER, "customer", "customers", customer_fields),
    [DG_KIND_CONTACT] = ENTITY(DG_KIND_CONTACT, "contact", "contacts", contact_fields),
    [DG_KIND_INTERACTION] =
        ENTITY(DG_KIND_INTERACTION, "interaction", "interactions", interaction_fields),
    [DG_KIND_DEAL] = ENTITY(DG_KIND_DEAL, "deal", "deals", deal_fields),
    [DG_KIND_FEEDBACK] = ENTITY(DG_KIND_FEEDBACK, "feedback", "feedback", feedback_fields),
    [DG_KIND_TASK] = ENTITY(DG_KIND_TASK, "task", "tasks", task_fields),
};

const dg_entity *dg_entity_get(enum dg_kind kind)
{
    if (kind <= DG_KIND_NONE || kind >= DG_KIND_COUNT)
        return NULL;
    return &entities[kind];
}

enum dg_kind dg_kind_parse(const char *name)
{
    for (int k = 1; k < DG_KIND_COUNT; k++)
        if (strcmp(entities[k].name, name) == 0)
            return (enum dg_kind)k;
    return DG_KIND_NONE;
}

int dg_entity_field_index(const dg_entity *e, const char *name)
{
    for (size_t i = 0; i < e->n_fields; i++)
        if (strcmp(e->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Enum value names carry their type's prefix (TIER_A, CUSTOMER_STATUS_ACTIVE):
 * the stored name is what follows the prefix, in lower case. The prefix is
 * the part the unspecified value (index 0, "…_UNSPECIFIED") shares. */
static size_t prefix_len(const ProtobufCEnumDescriptor *d)
{
    const char *unspecified = d->values[0].name;
    const char *tail = strstr(unspecified, "UNSPECIFIED");

    return tail ? (size_t)(tail - unspecified) : 0;
}

const char *dg_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t len)
{
    const ProtobufCEnumValue *v;
    size_t skip, i;

    if (value == 0) {
        buf[0] = '\0';
        return buf;
    }
    v = protobuf_c_enum_descriptor_get_value(d, value);
    if (!v)
        return NULL;
    skip = prefix_len(d);
    for (i = 0; v->name[skip + i] && i + 1 < len; i++)
        buf[i] = (char)tolower((unsigned char)v->name[skip + i]);
    buf[i] = '\0';
    return buf;
}

int dg_enum_value(const ProtobufCEnumDescriptor *d, const char *name)
{
    size_t skip = prefix_len(d);

    if (!name[0])
        return 0;
    for (unsigned i = 1; i < d->n_values; i++) {
        const char *full = d->values[i].name;

        if (strcasecmp(full + skip, name) == 0 || strcasecmp(full, name) == 0)
            return d->values[i].value;
    }
    return -1;
}

/* ------------------------------------------------------------ records */

dg_record *dg_record_new(dg_arena *a, enum dg_kind kind)
{
    dg_record *r = dg_arena_calloc(a, 1, sizeof *r);
    const dg_entity *e = dg_entity_get(kind);

    if (!r || !e)
        return NULL;
    r->kind = kind;
    for (size_t i = 0; i < e->n_fields; i++)
        r->v[i].s = "";
    return r;
}

static const char *copy_str(dg_arena *a, const char *s)
{
    return s ? dg_arena_strdup(a, s) : "";
}

dg_record *dg_record_copy(dg_arena *a, const dg_record *r)
{
    dg_record *c = dg_arena_alloc(a, sizeof *c);

    if (!c)
        return NULL;
    *c = *r;
    for (size_t i = 0; i < DG_MAX_FIELDS; i++)
        if (r->v[i].s && !(c->v[i].s = copy_str(a, r->v[i].s)))
            return NULL;
    if (r->n_tags) {
        c->tags = dg_arena_calloc(a, r->n_tags, sizeof *c->tags);
        if (!c->tags)
            return NULL;
        for (size_t i = 0; i < r->n_tags; i++)
            if (!(c->tags[i] = copy_str(a, r->tags[i])))
                return NULL;
    }
    if (r->n_custom) {
        c->custom = dg_arena_calloc(a, r->n_custom, sizeof *c->custom);
        if (!c->custom)
            return NULL;
        for (size_t i = 0; i < r->n_custom; i++) {
            c->custom[i].name = copy_str(a, r->custom[i].name);
            c->custom[i].value = copy_str(a, r->custom[i].value);
            if (!c->custom[i].name || !c->custom[i].value)
                return NULL;
        }
    }
    return c;
}

bool dg_record_field_equal(const dg_record *x, const dg_record *y, int i)
{
    const dg_field *f = &dg_entity_get(x->kind)->fields[i];

    switch (f->type) {
    case DG_F_TEXT:
    case DG_F_DATE:
        return strcmp(x->v[i].s, y->v[i].s) == 0;
    case DG_F_MONEY:
        return x->v[i].i == y->v[i].i && strcmp(x->v[i].s, y->v[i].s) == 0;
    default:
        return x->v[i].i == y->v[i].i;
    }
}

/* ------------------------------------------------------------ validation */

bool dg_date_valid(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return true;
}

static size_t count_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static bool phone_valid(const char *s)
{
    int digits = 0;

    for (; *s; s++) {
        if (isdigit((unsigned char)*s))
            digits++;
        else if (!strchr("+-() .ext/#", *s) && !isalpha((unsigned char)*s))
            return false;
    }
    return digits >= 3 && digits <= 20;
}

static bool email_valid(const char *s)
{
    const char *at = strchr(s, '@');

    return at && at > s && !strchr(at + 1, '@') && strchr(at + 1, '.') && at[1] != '.' &&
           s[strlen(s) - 1] != '.' && !strpbrk(s, " \t\r\n<>,;\"");
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
            return true;
    return false;
}

static int check_field(const dg_field *f, const dg_value *v, bool is_create, dg_violation_fn fn,
                       void *ud)
{
    char why[128];
    bool empty;

    switch (f->type) {
    case DG_F_TEXT:
        empty = !v->s[0];
        if (count_chars(v->s) > (size_t)f->max) {
            snprintf(why, sizeof why, "at most %lld characters", (long long)f->max);
            fn(ud, f->name, why);
            return 1;
        }
        if (has_control(v->s)) {
            fn(ud, f->name, "control characters are not allowed");
            return 1;
        }
        if (!empty && (f->flags & DG_FF_PHONE) && !phone_valid(v->s)) {
            fn(ud, f->name, "not a phone number (3-20 digits, with + - ( ) . / # or ext)");
            return 1;
        }
        if (!empty && (f->flags & DG_FF_EMAIL) && !email_valid(v->s)) {
            fn(ud, f->name, "not an e-mail address");
            return 1;
        }
        break;
    case DG_F_INT:
        empty = v->i == 0;
        if (v->i < f->min || v->i > f->max) {
            snprintf(why, sizeof why, "must be from %lld to %lld", (long long)f->min,
                     (long long)f->max);
            fn(ud, f->name, why);
            return 1;
        }
        break;
    case DG_F_DATE:
        empty = !v->s[0];
        if (!empty && !dg_date_valid(v->s)) {
            fn(ud, f->name, "not a date (YYYY-MM-DD)");
            return 1;
        }
        break;
    case DG_F_MONEY:
        empty = v->i == 0 && !v->s[0];
        if (v->s[0] && !dg_currency_valid(v->s)) {
            fn(ud, f->name, "currency must be an ISO 4217 code such as CNY");
            return 1;
        }
        if (v->i < 0 && !(f->flags & DG_FF_REQUIRED)) {
            fn(ud, f->name, "must not be negative");
            return 1;
        }
        break;
    case DG_F_TIME:
        empty = v->i == 0;
        if (v->i < 0 || v->i > 253402300799999LL) { /* up to 9999-12-31 */
            fn(ud, f->name, "not a valid time");
            return 1;
        }
        break;
    case DG_F_ENUM:
        /* The wire validator already refused values the enum does not have. */
        empty = v->i == 0;
        break;
    default:
        empty = v->i == 0;
        if (v->i < 0) {
            fn(ud, f->name, "not a valid id");
            return 1;
        }
        break;
    }
    if (is_create && (f->flags & DG_FF_REQUIRED) && empty) {
        fn(ud, f->name, "required");
        return 1;
    }
    return 0;
}

int dg_record_validate(const dg_record *r, bool is_create, dg_violation_fn fn, void *ud)
{
    const dg_entity *e = dg_entity_get(r->kind);
    int n = 0;

    for (size_t i = 0; i < e->n_fields; i++) {
        const dg_field *f = &e->fields[i];
        bool is_given = r->given & (1ull << i);

        if (!is_given && !(is_create && (f->flags & DG_FF_REQUIRED))) {
            continue;
        }
        if (is_given && (f->flags & DG_FF_SERVER)) {
            fn(ud, f->name, "set by the server");
            n++;
            continue;
        }
        if (is_given && !is_create && (f->flags & DG_FF_IMMUTABLE)) {
            fn(ud, f->name, "cannot be changed after creation");
            n++;
            continue;
        }
        n += check_field(f, &r->v[i], is_create, fn, ud);
    }
    for (size_t i = 0; i < r->n_tags; i++) {
        size_t len = count_chars(r->tags[i]);

        if (len == 0 || len > 50 || has_control(r->tags[i])) {
            fn(ud, "tags", "each tag must have 1-50 characters");
            n++;
            break;
        }
    }
    if (r->n_tags > 100) {
        fn(ud, "tags", "at most 100 tags");
        n++;
    }
    for (size_t i = 0; i < r->n_custom; i++) {
        if (count_chars(r->custom[i].value) > 1000) {
            fn(ud, "custom", "custom values have at most 1000 characters");
            n++;
            break;
        }
    }
    return n;
}

/* Where owner and tier sit in a customer record: looked up once (a name
 * search per call was on the hot path of lists and change events). */
static int customer_owner_index, customer_tier_index;
static pthread_once_t customer_indexes_once = PTHREAD_ONCE_INIT;

static void find_customer_indexes(void)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);

    customer_owner_index = dg_entity_field_index(e, "owner");
    customer_tier_index = dg_entity_field_index(e, "tier");
}

int64_t dg_customer_owner(const dg_record *customer)
{
    pthread_once(&customer_indexes_once, find_customer_indexes);
    return customer ? customer->v[customer_owner_index].i : -1;
}

int64_t dg_customer_tier(const dg_record *customer)
{
    pthread_once(&customer_indexes_once, find_customer_indexes);
    return customer->v[customer_tier_index].i;
}

int64_t dg_customer_status_lost(void)
{
    return DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST;
}
