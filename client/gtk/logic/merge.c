/* merge.c - three-way merge of one record after a version conflict (see merge.h). */
#include "merge.h"

#include <string.h>

#include "dg.h"
#include "record_msg.h"

static bool tags_equal(const dg_record *x, const dg_record *y)
{
    if (x->n_tags != y->n_tags)
        return false;
    for (size_t i = 0; i < x->n_tags; i++)
        if (strcmp(x->tags[i], y->tags[i]) != 0)
            return false;
    return true;
}

static bool equal(const dg_entity *e, const dg_record *x, const dg_record *y, int i)
{
    return i == DG_RECMSG_TAGS(e) ? tags_equal(x, y) : dg_record_field_equal(x, y, i);
}

/* Whether the user changed field i: given in mine, changeable, and not what
 * the form was based on. */
static bool mine_changed(const dg_entity *e, const dg_merge *m, int i)
{
    if (i == DG_RECMSG_TAGS(e))
        return m->mine->has_tags && !tags_equal(m->base, m->mine);
    if (!(m->mine->given & (1ull << i)))
        return false;
    if (e->fields[i].flags & (DG_FF_IMMUTABLE | DG_FF_SERVER))
        return false;
    return !dg_record_field_equal(m->base, m->mine, i);
}

int dg_merge_init(dg_merge *m, const dg_record *base, const dg_record *mine,
                  const dg_record *theirs)
{
    const dg_entity *e = dg_entity_get(base->kind);

    memset(m, 0, sizeof *m);
    if (!e || mine->kind != base->kind || theirs->kind != base->kind || mine->id != base->id ||
        theirs->id != base->id)
        return DG_EINVAL;
    m->kind = base->kind;
    m->base = base;
    m->mine = mine;
    m->theirs = theirs;
    m->n = (int)e->n_fields + (base->kind == DG_KIND_CUSTOMER ? 1 : 0);
    dg_assert(m->n <= DG_MERGE_MAX);
    for (int i = 0; i < m->n; i++) {
        bool is_mine = mine_changed(e, m, i);
        bool is_theirs = !equal(e, base, theirs, i);

        if (is_mine && is_theirs)
            m->state[i] = equal(e, mine, theirs, i) ? DG_MERGE_BOTH_EQUAL : DG_MERGE_CONFLICT;
        else if (is_mine)
            m->state[i] = DG_MERGE_MINE;
        else if (is_theirs)
            m->state[i] = DG_MERGE_THEIRS;
        else
            m->state[i] = DG_MERGE_SAME;
    }
    return DG_OK;
}

const char *dg_merge_field_name(const dg_merge *m, int i)
{
    const dg_entity *e = dg_entity_get(m->kind);

    if (!e || i < 0 || i >= m->n)
        return NULL;
    return i == DG_RECMSG_TAGS(e) ? "tags" : e->fields[i].name;
}

int dg_merge_conflicts(const dg_merge *m, int *idx, int cap)
{
    int n = 0;

    for (int i = 0; i < m->n; i++) {
        if (m->state[i] != DG_MERGE_CONFLICT)
            continue;
        if (idx && n < cap)
            idx[n] = i;
        n++;
    }
    return n;
}

int dg_merge_choose(dg_merge *m, int i, enum dg_merge_pick pick)
{
    if (i < 0 || i >= m->n || m->state[i] != DG_MERGE_CONFLICT || pick == DG_MERGE_UNDECIDED)
        return DG_EINVAL;
    m->pick[i] = pick;
    return DG_OK;
}

bool dg_merge_is_decided(const dg_merge *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->state[i] == DG_MERGE_CONFLICT && m->pick[i] == DG_MERGE_UNDECIDED)
            return false;
    return true;
}

static bool sends_mine(const dg_merge *m, int i)
{
    return m->state[i] == DG_MERGE_MINE ||
           (m->state[i] == DG_MERGE_CONFLICT && m->pick[i] == DG_MERGE_KEEP_MINE);
}

/* Field i of r becomes the user's value, copied into a. */
static int take_mine(dg_arena *a, const dg_merge *m, const dg_entity *e, dg_record *r, int i)
{
    if (i != DG_RECMSG_TAGS(e)) {
        r->v[i].i = m->mine->v[i].i;
        r->v[i].s = dg_arena_strdup(a, m->mine->v[i].s ? m->mine->v[i].s : "");
        return r->v[i].s ? DG_OK : DG_ENOMEM;
    }
    r->n_tags = 0;
    r->has_tags = true;
    if (m->mine->n_tags && !(r->tags = dg_arena_calloc(a, m->mine->n_tags, sizeof *r->tags)))
        return DG_ENOMEM;
    for (size_t t = 0; t < m->mine->n_tags; t++, r->n_tags++)
        if (!(r->tags[t] = dg_arena_strdup(a, m->mine->tags[t])))
            return DG_ENOMEM;
    return DG_OK;
}

int dg_merge_result(const dg_merge *m, dg_arena *a, dg_record **out, uint64_t *fields)
{
    const dg_entity *e = dg_entity_get(m->kind);
    dg_record *r;
    uint64_t send = 0;

    *out = NULL;
    *fields = 0;
    if (!dg_merge_is_decided(m))
        return DG_ESTATE;
    if (!(r = dg_record_copy(a, m->theirs)))
        return DG_ENOMEM;
    for (int i = 0; i < m->n; i++) {
        if (!sends_mine(m, i))
            continue;
        send |= 1ull << i;
        if (take_mine(a, m, e, r, i) != DG_OK)
            return DG_ENOMEM;
    }
    r->given = send & ((e->n_fields >= 64) ? ~0ull : (1ull << e->n_fields) - 1);
    *out = r;
    *fields = send;
    return DG_OK;
}
