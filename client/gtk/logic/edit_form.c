/* edit_form.c - a form's texts to the fields to send (see edit_form.h). */
#include "edit_form.h"

#include <string.h>

#include "dg.h"

static void add_problem(dg_arena *a, dg_edit *e, const char *field, const char *problem)
{
    dg_form_problem *p;

    if (e->n_problems >= DG_MAX_FIELDS)
        return;
    p = &e->problems[e->n_problems];
    p->field = dg_arena_strdup(a, field);
    p->problem = dg_arena_strdup(a, problem);
    if (p->field && p->problem)
        e->n_problems++;
}

int dg_edit_read(dg_arena *a, const dg_form_ctx *ctx, const dg_record *base, bool is_create,
                 const char *const texts[DG_MAX_FIELDS], dg_edit *out)
{
    const dg_entity *ent = dg_entity_get(base->kind);
    dg_form_problem checks[DG_MAX_FIELDS];
    uint64_t bad = 0;
    char shown[512], why[256];
    int n;

    memset(out, 0, sizeof *out);
    if (!ent || !(out->rec = dg_record_copy(a, base)))
        return DG_ENOMEM;
    for (size_t i = 0; i < ent->n_fields && i < DG_MAX_FIELDS; i++) {
        const dg_field *f = &ent->fields[i];
        dg_value v;

        if (!texts[i])
            continue;
        dg_form_format(ctx, f, &base->v[i], shown, sizeof shown);
        if (strcmp(shown, texts[i]) == 0)
            continue;
        why[0] = '\0';
        switch (dg_form_parse(a, ctx, f, texts[i], &v, why, sizeof why)) {
        case DG_OK:
            out->rec->v[i] = v;
            out->changed |= 1ull << i;
            break;
        case DG_ENOMEM:
            return DG_ENOMEM;
        default:
            add_problem(a, out, f->name, why);
            bad |= 1ull << i;
            break;
        }
    }
    out->rec->given = out->changed | (is_create ? base->given : 0);
    out->rec->has_tags = false;
    out->rec->has_custom = false;
    n = dg_form_check(out->rec, is_create, a, checks, DG_MAX_FIELDS);
    if (n < 0)
        return DG_ENOMEM;
    for (int k = 0; k < n && k < DG_MAX_FIELDS; k++) {
        int i = dg_entity_field_index(ent, checks[k].field);

        if (i >= 0 && (bad & (1ull << i)))
            continue; /* its text could not be read: that is said already */
        add_problem(a, out, checks[k].field, checks[k].problem);
    }
    return DG_OK;
}

const char *dg_edit_problem(const dg_edit *e, const char *name)
{
    for (int i = 0; i < e->n_problems; i++)
        if (strcmp(e->problems[i].field, name) == 0)
            return e->problems[i].problem;
    return NULL;
}
