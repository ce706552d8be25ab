/* perm.c - who may do what: role rights, tier visibility, ownership,
 * sensitive fields and their masks. See perm.h. */
#include "perm.h"

#include <stdio.h>
#include <string.h>

#include "dg.h"

#define R(role) (1u << (role))
#define ALL                                                                                        \
    (R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER) | R(DG_ROLE_SALES) | R(DG_ROLE_VIEWER) |                \
     R(DG_ROLE_AUDITOR))
#define READERS (R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER) | R(DG_ROLE_SALES) | R(DG_ROLE_VIEWER))
#define WRITERS (R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER) | R(DG_ROLE_SALES))

/* Role rights by action, first match wins; an entry ending in '.' covers
 * every action of its group. Finer rules (whose customer, which tier, which
 * kind may be archived) are the functions below, applied by the handlers and
 * the writer. */
static const struct right {
    const char *action;
    unsigned roles;
    const char *why; /* for those refused */
} rights[] = {
    {"session.", ALL, ""},
    {"user.change_password", ALL, ""},
    {"user.", R(DG_ROLE_ADMIN), "only admins manage users"},
    {"record.get", READERS, "auditors read the audit log, not customer records"},
    {"record.list", READERS, "auditors read the audit log, not customer records"},
    {"record.search", READERS, "auditors read the audit log, not customer records"},
    {"record.history", READERS, "auditors read the audit log, not customer records"},
    {"record.merge", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER), "merging customers is for managers"},
    {"record.reassign", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER),
     "handing customers over is for managers"},
    {"record.duplicates", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER),
     "scanning every customer for duplicates is for managers"},
    /* the ABC classification ranks every customer by revenue: managers' */
    {"record.tiers", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER),
     "the ABC classification is for managers"},
    {"record.tiers_apply", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER),
     "the ABC classification is for managers"},
    /* a move is an update of the deal: whose dossier is checked by the writer */
    {"record.deal_move", WRITERS, "your role may not change customer records"},
    /* create, update, archive, restore, batch */
    {"record.", WRITERS, "your role may not change customer records"},
    /* files in and out of the customer base: rights of their own */
    {"import.", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER),
     "importing files is for managers and admins"},
    /* an export holds what List shows the caller: restricted customers out, masks in */
    {"export.", R(DG_ROLE_ADMIN) | R(DG_ROLE_MANAGER) | R(DG_ROLE_SALES),
     "exporting to files is for sales, managers and admins"},
    /* the public pool: customers without an owner, seen as any customer
     * (restricted tiers left out); claimed and released by those who may own
     * customers (claims.c: only its owner or a manager releases one) */
    {"pool.list", READERS, "auditors read the audit log, not customer records"},
    {"pool.", WRITERS, "your role may not own customers"},
    /* suggestions for the customers the caller may change (sales: their own) */
    {"lifecycle.suggest", WRITERS, "lifecycle suggestions are for those who change customers"},
    {"feed.", READERS, "auditors read the audit log, not customer records"},
    {"field.list", READERS, "auditors read the audit log, not customer records"},
    {"field.define", R(DG_ROLE_ADMIN), "only admins define custom fields"},
    /* documents follow their customer's dossier: read like its records,
     * uploaded and archived by those who may change it (documents.h) */
    {"document.list", READERS, "auditors read the audit log, not customer records"},
    {"document.get", READERS, "auditors read the audit log, not customer records"},
    {"document.download", READERS, "auditors read the audit log, not customer records"},
    {"document.", WRITERS, "your role may not change customer records"},
    /* export is a right of its own (docs/security.md); for the audit log the same roles */
    {"audit.export", R(DG_ROLE_ADMIN) | R(DG_ROLE_AUDITOR),
     "only admins and auditors export the audit log"},
    {"audit.", R(DG_ROLE_ADMIN) | R(DG_ROLE_AUDITOR),
     "only admins and auditors read the audit log"},
    {"server.", R(DG_ROLE_ADMIN), "only admins see the server's state"},
    /* the team's settings: every client needs the zone, cadence and stages */
    {"team.settings_read", ALL, ""},
    /* colleagues' names, to pick an owner or filter by one */
    {"team.colleagues", READERS, "auditors read the audit log, not customer records"},
    {"team.", R(DG_ROLE_ADMIN), "only admins change the team settings"},
    /* reports count only the customers the caller may see (as List) */
    {"report.", READERS, "auditors read the audit log, not customer records"},
    /* the day's contact list: for those who own customers and get tasks */
    {"today.read", WRITERS, "the day's list is for sales, managers and admins"},
};

static bool matches(const char *pattern, const char *action)
{
    size_t n = strlen(pattern);

    if (pattern[n - 1] == '.')
        return strncmp(pattern, action, n) == 0;
    return strcmp(pattern, action) == 0;
}

bool dg_perm_role_may(enum dg_role role, const char *action, const char **why)
{
    *why = "your role may not do this";
    if (role <= 0 || role > DG_ROLE_AUDITOR || !action)
        return false;
    for (size_t i = 0; i < DG_ARRAY_LEN(rights); i++) {
        if (matches(rights[i].action, action)) {
            *why = rights[i].why;
            return (rights[i].roles & R(role)) != 0;
        }
    }
    return false;
}

bool dg_perm_sees_all(enum dg_role role)
{
    return role == DG_ROLE_ADMIN || role == DG_ROLE_MANAGER;
}

bool dg_perm_may_manage(enum dg_role role)
{
    return dg_perm_sees_all(role);
}

uint32_t dg_perm_tier_bit(int64_t tier)
{
    return tier >= 1 && tier <= 3 ? 1u << (tier - 1) : 0;
}

bool dg_perm_is_restricted(const dg_perm_who *who, int64_t tier)
{
    return (who->restricted & dg_perm_tier_bit(tier)) != 0;
}

bool dg_perm_sees(const dg_perm_who *who, int64_t owner_id, int64_t tier)
{
    if (who->role == DG_ROLE_AUDITOR || who->role <= 0)
        return false;
    if (dg_perm_sees_all(who->role) || !dg_perm_is_restricted(who, tier))
        return true;
    return owner_id != 0 && owner_id == who->user_id;
}

bool dg_perm_may_edit(const dg_perm_who *who, int64_t owner_id)
{
    if (dg_perm_sees_all(who->role))
        return true;
    return who->role == DG_ROLE_SALES && owner_id != 0 && owner_id == who->user_id;
}

bool dg_perm_sees_sensitive(const dg_perm_who *who, int64_t owner_id)
{
    return dg_perm_may_edit(who, owner_id);
}

bool dg_perm_may_read_list(const dg_perm_who *who, int64_t user_id)
{
    if (dg_perm_sees_all(who->role))
        return true;
    return who->role == DG_ROLE_SALES && user_id != 0 && user_id == who->user_id;
}

size_t dg_perm_restricted_names(uint32_t restricted, const char *out[3])
{
    static const char *const names[] = {"a", "b", "c"};
    size_t n = 0;

    for (size_t i = 0; i < 3; i++)
        if (restricted & (1u << i))
            out[n++] = names[i];
    return n;
}

/* ------------------------------------------------------------ masks */

static bool is_phone_like(const char *s)
{
    size_t digits = 0;

    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (!strchr(" +-()./", *s))
            return false;
    }
    return digits >= 7;
}

static void mask_digits(const char *in, char *out, size_t len)
{
    size_t total = 0, seen = 0, o = 0;

    for (const char *p = in; *p; p++)
        total += *p >= '0' && *p <= '9';
    for (const char *p = in; *p && o + 1 < len; p++) {
        bool digit = *p >= '0' && *p <= '9';

        out[o++] = digit && seen >= 3 && seen < total - 4 ? '*' : *p;
        seen += digit;
    }
    out[o] = '\0';
}

/* First and last character kept, the ones between starred. */
static void mask_chars(const char *in, char *out, size_t len)
{
    size_t n_chars = 0, i = 0, o = 0;

    for (const char *p = in; *p; p++)
        n_chars += ((unsigned char)*p & 0xC0) != 0x80;
    for (const char *p = in; *p && o + 5 < len;) {
        size_t k = 1;

        while ((((unsigned char)p[k]) & 0xC0) == 0x80)
            k++;
        if ((i == 0 && n_chars > 1) || (i == n_chars - 1 && n_chars > 2)) {
            memcpy(out + o, p, k);
            o += k;
        } else {
            out[o++] = '*';
        }
        p += k;
        i++;
    }
    out[o] = '\0';
}

void dg_perm_mask_text(const char *in, enum dg_ftype type, char *out, size_t len)
{
    if (len == 0)
        return;
    if (!in[0])
        out[0] = '\0';
    else if (type == DG_F_DATE)
        snprintf(out, len, "****-**-**");
    else if (is_phone_like(in))
        mask_digits(in, out, len);
    else
        mask_chars(in, out, len);
}

int dg_perm_mask_record(const dg_perm_who *who, int64_t owner_id, dg_record *r, dg_arena *a)
{
    const dg_entity *e = dg_entity_get(r->kind);
    char buf[512];

    if (dg_perm_sees_sensitive(who, owner_id))
        return DG_OK;
    for (size_t i = 0; i < e->n_fields; i++) {
        const dg_field *f = &e->fields[i];

        if (!(f->flags & DG_FF_SENSITIVE) || !r->v[i].s || !r->v[i].s[0])
            continue;
        dg_perm_mask_text(r->v[i].s, f->type, buf, sizeof buf);
        if (!(r->v[i].s = dg_arena_strdup(a, buf)))
            return DG_ENOMEM;
    }
    return DG_OK;
}
