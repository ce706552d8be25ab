/* records_derive.c - what the writer derives from a record: the pinyin
 * sort key and duplicate keys (common/dupkey.c) of a customer, who may see a dossier, and the
 * search documents of customers, contacts and interactions.
 * Runs on: the writer thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "dupkey.h"
#include "records_int.h"
#include "text.h"

int rec_field_ix(enum dg_kind k, const char *name)
{
    int i = dg_entity_field_index(dg_entity_get(k), name);

    dg_assert(i >= 0);
    return i;
}

const char *rec_fstr(const dg_record *r, const char *name)
{
    return r->v[rec_field_ix(r->kind, name)].s;
}

int64_t rec_fint(const dg_record *r, const char *name)
{
    return r->v[rec_field_ix(r->kind, name)].i;
}

/* A phone's digits in national form: "+86 755-2878-0808" → "075528780808",
 * "0755 2878 0808" → "075528780808", "+86 138 1234 5678" → "13812345678".
 * Chinese landlines written after the country code lose their trunk 0; put
 * it back so every way of typing the number is a substring of one form. */
static size_t phone_national(const char *raw, char *out, size_t cap)
{
    size_t n = dg_text_phone_digits(raw, out + 1, cap - 1);
    const char *p = raw;

    while (*p == ' ' || *p == '(')
        p++;
    if (n && (*p == '+' || strncmp(p, "00", 2) == 0) && out[1] != '0' && out[1] != '1') {
        out[0] = '0';
        return n + 1;
    }
    memmove(out, out + 1, n + 1);
    return n;
}

int rec_dup_keys(dg_arena *a, const char *name, const char *phone, const char *email,
                 dg_customer_keys *k)
{
    char digits[64];
    char *name_key = dg_dupkey_name(name), *stem = dg_dupkey_stem(name);
    char *email_key = dg_dupkey_email(email);

    dg_dupkey_phone(phone, digits, sizeof digits);
    k->dup_name = dg_arena_strdup(a, name_key ? name_key : "");
    k->dup_stem = dg_arena_strdup(a, stem ? stem : "");
    k->dup_email = dg_arena_strdup(a, email_key ? email_key : "");
    k->dup_phone = dg_arena_strdup(a, digits);
    free(name_key);
    free(stem);
    free(email_key);
    if (!k->dup_name || !k->dup_stem || !k->dup_phone || !k->dup_email)
        return DG_ENOMEM;
    return DG_OK;
}

int rec_customer_keys(dg_rec_ctx *c, const dg_record *r, dg_customer_keys *k)
{
    uint8_t *key;
    size_t n;
    int rc;

    if ((rc = dg_collate_key(c->collator, rec_fstr(r, "name"), c->arena, &key, &n)) != DG_OK)
        return rc;
    k->name_key = key;
    k->name_key_len = n;
    return rec_dup_keys(c->arena, rec_fstr(r, "name"), rec_fstr(r, "phone"), rec_fstr(r, "email"),
                        k);
}

/* Who may see the dossier of `customer` (the change feed checks each
 * subscriber against it). */
dg_visibility rec_visibility(const dg_record *customer)
{
    return (dg_visibility){.is_set = true,
                           .owner_id = rec_fint(customer, "owner"),
                           .tier = (int)rec_fint(customer, "tier")};
}

static const char *digits_of(dg_arena *a, const char *const *phones, size_t n)
{
    char all[256] = "", one[64];

    for (size_t i = 0; i < n; i++) {
        if (!phone_national(phones[i], one, sizeof one))
            continue;
        if (all[0])
            strncat(all, " ", sizeof all - strlen(all) - 1);
        strncat(all, one, sizeof all - strlen(all) - 1);
    }
    return dg_arena_strdup(a, all);
}

/* The search document of a record (false: the kind is not searched).
 * Sensitive fields are never indexed, so a search cannot reveal them
 * (docs/security.md). Deterministic: the same record gives the same document, which
 * is how an old document is removed from the contentless index. */
bool rec_search_doc(dg_arena *a, const dg_record *r, dg_search_doc *out)
{
    dg_search_doc d = {"", "", "", "", "", ""};

    switch (r->kind) {
    case DG_KIND_CUSTOMER: {
        const char *phones[] = {rec_fstr(r, "phone"), rec_fstr(r, "fax")};

        d.name = dg_arena_printf(a, "%s\n%s", rec_fstr(r, "name"), rec_fstr(r, "short_name"));
        d.phones = digits_of(a, phones, 2);
        d.emails = rec_fstr(r, "email");
        d.address = dg_arena_printf(a, "%s\n%s", rec_fstr(r, "address"), rec_fstr(r, "region"));
        d.notes = rec_fstr(r, "notes");
        break;
    }
    case DG_KIND_CONTACT: {
        const char *phones[] = {rec_fstr(r, "mobile"), rec_fstr(r, "office_phone")};

        d.people = rec_fstr(r, "name");
        d.phones = digits_of(a, phones, 2);
        d.emails = rec_fstr(r, "email");
        d.notes = dg_arena_printf(a, "%s\n%s", rec_fstr(r, "title"), rec_fstr(r, "notes"));
        break;
    }
    case DG_KIND_INTERACTION:
        d.notes = dg_arena_printf(a, "%s\n%s", rec_fstr(r, "summary"), rec_fstr(r, "content"));
        break;
    default:
        return false; /* deals, feedback and tasks are not searched */
    }
    *out = d;
    return true;
}

/* Indexes `r`, replacing the document of `old` (NULL for a new record). */
int rec_update_search(dg_rec_ctx *c, const dg_record *old, const dg_record *r)
{
    dg_search_doc before, after;

    if (!rec_search_doc(c->arena, r, &after))
        return DG_OK;
    if (old)
        rec_search_doc(c->arena, old, &before);
    if (!after.name || !after.phones || !after.address || !after.notes ||
        (old && (!before.name || !before.phones || !before.address || !before.notes)))
        return DG_ENOMEM;
    return dg_store_search_put(c->tx->store, r->kind, r->id, old ? &before : NULL, &after);
}

bool rec_search_relevant(enum dg_kind k, const char *field)
{
    static const char *const customer[] = {"name",    "short_name", "phone", "fax", "email",
                                           "address", "region",     "notes", NULL};
    static const char *const contact[] = {"name",  "mobile", "office_phone", "email", "title",
                                          "notes", NULL};
    static const char *const interaction[] = {"summary", "content", NULL};
    const char *const *list = k == DG_KIND_CUSTOMER      ? customer
                              : k == DG_KIND_CONTACT     ? contact
                              : k == DG_KIND_INTERACTION ? interaction
                                                         : NULL;

    for (; list && *list; list++)
        if (strcmp(*list, field) == 0)
            return true;
    return false;
}
