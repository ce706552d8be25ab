/* customer_item.c - the Customers list's row object (see customer_item.h). */
#include "customer_item.h"

#include "dg.h"
#include "record_msg.h"

/* Text columns, in property order after the integer ones. */
enum {
    COL_CODE,
    COL_NAME,
    COL_SHORT_NAME,
    COL_PHONE,
    COL_REGION,
    COL_INDUSTRY,
    COL_TIER,
    COL_STATUS,
    COL_STAGE,
    COL_OWNER,
    COL_LAST_CONTACT,
    N_COLS
};

/* The customer field each text column shows (COL_LAST_CONTACT is a time, not a field). */
static const char *const col_field[N_COLS] = {
    "code", "name",   "short_name", "phone", "region", "industry",
    "tier", "status", "stage",      "owner", NULL,
};
static const char *const col_prop[N_COLS] = {
    "code", "name",   "short-name", "phone", "region",       "industry",
    "tier", "status", "stage",      "owner", "last-contact",
};

struct _DgCustomerItem {
    GObject parent_instance;
    gint64 id, version, owner_id, updated_at, last_contact_at;
    gboolean is_archived, is_placeholder;
    char *text[N_COLS];
};

G_DEFINE_FINAL_TYPE(DgCustomerItem, dg_customer_item, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_ID,
    PROP_VERSION,
    PROP_OWNER_ID,
    PROP_UPDATED_AT,
    PROP_LAST_CONTACT_AT,
    PROP_ARCHIVED,
    PROP_PLACEHOLDER,
    PROP_TEXT0,
    N_PROPS = PROP_TEXT0 + N_COLS
};

static GParamSpec *props[N_PROPS];

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    DgCustomerItem *self = DG_CUSTOMER_ITEM(object);

    switch (id) {
    case PROP_ID:
        g_value_set_int64(value, self->id);
        break;
    case PROP_VERSION:
        g_value_set_int64(value, self->version);
        break;
    case PROP_OWNER_ID:
        g_value_set_int64(value, self->owner_id);
        break;
    case PROP_UPDATED_AT:
        g_value_set_int64(value, self->updated_at);
        break;
    case PROP_LAST_CONTACT_AT:
        g_value_set_int64(value, self->last_contact_at);
        break;
    case PROP_ARCHIVED:
        g_value_set_boolean(value, self->is_archived);
        break;
    case PROP_PLACEHOLDER:
        g_value_set_boolean(value, self->is_placeholder);
        break;
    default:
        if (id >= PROP_TEXT0 && id < N_PROPS)
            g_value_set_string(value, self->text[id - PROP_TEXT0]);
        else
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void finalize(GObject *object)
{
    DgCustomerItem *self = DG_CUSTOMER_ITEM(object);

    for (int i = 0; i < N_COLS; i++)
        g_free(self->text[i]);
    G_OBJECT_CLASS(dg_customer_item_parent_class)->finalize(object);
}

static GParamSpec *int64_prop(const char *name)
{
    return g_param_spec_int64(name, NULL, NULL, G_MININT64, G_MAXINT64, 0,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static void dg_customer_item_class_init(DgCustomerItemClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);

    oc->get_property = get_property;
    oc->finalize = finalize;
    props[PROP_ID] = int64_prop("id");
    props[PROP_VERSION] = int64_prop("version");
    props[PROP_OWNER_ID] = int64_prop("owner-id");
    props[PROP_UPDATED_AT] = int64_prop("updated-at");
    props[PROP_LAST_CONTACT_AT] = int64_prop("last-contact-at");
    props[PROP_ARCHIVED] = g_param_spec_boolean("archived", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_PLACEHOLDER] = g_param_spec_boolean("placeholder", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    for (int i = 0; i < N_COLS; i++)
        props[PROP_TEXT0 + i] = g_param_spec_string(col_prop[i], NULL, NULL, "",
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(oc, N_PROPS, props);
}

static void dg_customer_item_init(DgCustomerItem *self)
{
    for (int i = 0; i < N_COLS; i++)
        self->text[i] = g_strdup("");
}

/* The owner's name comes with the row (UserRef.username): shown before ctx's lookup. */
static const char *owner_text(const Dangan__V1__Customer *c, const dg_form_ctx *ctx, int64_t id,
                              char *buf, size_t len)
{
    const dg_field owner = {"owner", DG_F_USER, 0, 0, 0, NULL, DG_KIND_NONE};
    dg_value v = {id, ""};

    if (c->owner && c->owner->username && c->owner->username[0])
        return c->owner->username;
    return dg_form_format(ctx, &owner, &v, buf, len);
}

/* The strings of the text columns from the customer's record. */
static void fill_texts(DgCustomerItem *self, const Dangan__V1__Customer *c, const dg_record *r,
                       const dg_form_ctx *ctx)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    const dg_field when = {"last_contact_at_ms", DG_F_TIME, 0, 0, 0, NULL, DG_KIND_NONE};
    char buf[512];

    for (int col = 0; col < N_COLS; col++) {
        const char *text = buf;
        int i = col_field[col] ? dg_entity_field_index(e, col_field[col]) : -1;

        if (col == COL_OWNER) {
            text = owner_text(c, ctx, self->owner_id, buf, sizeof buf);
        } else if (col == COL_LAST_CONTACT) {
            dg_value v = {self->last_contact_at, ""};

            dg_form_format(ctx, &when, &v, buf, sizeof buf);
        } else {
            dg_assert(i >= 0);
            dg_form_format(ctx, &e->fields[i], &r->v[i], buf, sizeof buf);
        }
        g_free(self->text[col]);
        self->text[col] = g_strdup(text);
    }
}

DgCustomerItem *dg_customer_item_new_from_pb(const Dangan__V1__Customer *c, const dg_form_ctx *ctx)
{
    DgCustomerItem *self = g_object_new(DG_TYPE_CUSTOMER_ITEM, NULL);
    /* a customer's fields are bounded by the table's limits (under 64 KiB of
     * characters, 4 bytes each at most) */
    dg_arena *a = dg_arena_new(1u << 20);
    dg_record *r;

    if (dg_recmsg_to_record(a, DG_KIND_CUSTOMER, &c->base, &r) == DG_OK) {
        self->id = r->id;
        self->version = r->version;
        self->owner_id = dg_customer_owner(r);
        self->updated_at = r->updated_at;
        self->last_contact_at = r->last_contact_at;
        self->is_archived = r->is_archived;
        fill_texts(self, c, r, ctx);
    }
    dg_arena_free(a);
    return self;
}

DgCustomerItem *dg_customer_item_new_placeholder(void)
{
    DgCustomerItem *self = g_object_new(DG_TYPE_CUSTOMER_ITEM, NULL);

    self->is_placeholder = TRUE;
    return self;
}

gint64 dg_customer_item_get_id(DgCustomerItem *self)
{
    return self->id;
}

gint64 dg_customer_item_get_version(DgCustomerItem *self)
{
    return self->version;
}

const char *dg_customer_item_get_name(DgCustomerItem *self)
{
    return self->text[COL_NAME];
}

const char *dg_customer_item_get_code(DgCustomerItem *self)
{
    return self->text[COL_CODE];
}

gint64 dg_customer_item_get_owner_id(DgCustomerItem *self)
{
    return self->owner_id;
}

gint64 dg_customer_item_get_updated_at(DgCustomerItem *self)
{
    return self->updated_at;
}

gboolean dg_customer_item_is_placeholder(DgCustomerItem *self)
{
    return self->is_placeholder;
}
