/* store_reports.c - the manager's reports in SQL: see report.h. Every query
 * joins the customer as alias c and takes its WHERE from store_rec_filter, so
 * a report counts exactly the customers (and their deals, interactions and
 * feedback) that List shows the caller: restricted tiers left out unless
 * owned, archived customers left out.
 * Runs on: the thread that owns the connection (a reader).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "map.h"
#include "report.h"
#include "store_int.h"
#include "store_reports_int.h"

#define CURRENCIES_MAX 16
#define REPS_MAX 4096

/* ------------------------------------------------------------ tables */

dg_rsection *rpt_section(struct rctx *x, const char *name, const char *title, const dg_rcol *cols,
                         size_t n_cols)
{
    dg_rsection *s = &x->out->sections[x->out->n_sections++];

    dg_assert(x->out->n_sections <= DG_REPORT_SECTIONS_MAX);
    *s = (dg_rsection){.name = name, .title = title, .cols = cols, .n_cols = n_cols};
    return s;
}

/* A new zeroed row at the end of cells (n × n_cols); NULL when out of memory. */
static dg_rcell *grow(struct rctx *x, dg_rcell **cells, size_t *n, size_t *cap, size_t n_cols)
{
    if (*n == *cap) {
        size_t cap2 = *cap ? 2 * *cap : 16;
        dg_rcell *c2 = dg_arena_calloc(x->a, cap2 * n_cols, sizeof *c2);

        if (!c2)
            return NULL;
        if (*n)
            memcpy(c2, *cells, *n * n_cols * sizeof *c2);
        *cells = c2;
        *cap = cap2;
    }
    return &(*cells)[(*n)++ * n_cols];
}

dg_rcell *rpt_add_row(struct rctx *x, dg_rsection *s)
{
    return grow(x, &s->rows, &s->n_rows, &s->cap_rows, s->n_cols);
}

dg_rcell *rpt_add_total(struct rctx *x, dg_rsection *s)
{
    return grow(x, &s->totals, &s->n_totals, &s->cap_totals, s->n_cols);
}

const char *rpt_col_text(struct rctx *x, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);

    return dg_arena_strdup(x->a, t ? (const char *)t : "");
}

/* The local date of an instant in the team's zone ("" for 0). */
const char *rpt_local_date(struct rctx *x, int64_t ms)
{
    char d[DG_DATE_LEN] = "";

    if (ms > 0 && dg_tz_date(x->q->team->time_zone, ms, d) != DG_OK)
        d[0] = '\0';
    return dg_arena_strdup(x->a, d);
}

/* ------------------------------------------------------------ queries */

/* The visibility of the caller (and the owner asked for, when with_owner)
 * on alias c: List's own filter. */
static void visible(char *sql, struct store_params *ps, const dg_report_query *q, bool with_owner,
                    bool is_totals)
{
    dg_list_query lq = {.kind = DG_KIND_CUSTOMER,
                        .n_restricted = q->n_restricted,
                        .viewer_id = q->viewer_id,
                        .owner_id = with_owner ? q->owner_id : 0,
                        .include_archived = is_totals};

    memcpy(lq.restricted, q->restricted, sizeof lq.restricted);
    store_rec_filter(sql, ps, &lq);
}

void rpt_visible(char *sql, struct store_params *ps, const dg_report_query *q, bool with_owner)
{
    visible(sql, ps, q, with_owner, false);
}

/* The same on a row of running totals as alias c (deal_totals,
 * interaction_totals): its tier and owner (0: none, which no viewer or
 * owner asked for is) are its customers'; they count live customers only. */
static void visible_totals(char *sql, struct store_params *ps, const dg_report_query *q,
                           bool with_owner)
{
    visible(sql, ps, q, with_owner, true);
}

/* ------------------------------------------------------------ spans */

/* A period [lo, hi) is read as the whole UTC days inside it, from the
 * running totals (keyed by UTC day), and the partial days at its edges,
 * [lo, e0) and [e1, hi), from the records: exact in any zone. The numbers
 * of the parameters each part of a query takes. */
#define DAY_MS INT64_C(86400000)

struct span {
    int d0, d1; /* totals: day >= ?d0 AND day < ?d1 */
    int lo, e0; /* records: at_ms >= ?lo AND at_ms < ?e0 */
    int e1, hi; /* records: at_ms >= ?e1 AND at_ms < ?hi */
};

static int64_t day_of(int64_t ms)
{
    return ms / DAY_MS - (ms % DAY_MS < 0);
}

static void span_set(struct store_params *ps, const struct span *sp, int64_t lo, int64_t hi)
{
    int64_t d0 = day_of(lo) + (lo % DAY_MS != 0), d1 = day_of(hi);
    int64_t e0 = d0 * DAY_MS, e1 = d1 * DAY_MS;

    if (d1 <= d0) { /* no whole day: all of it from the records */
        d1 = d0;
        e0 = e1 = hi;
    }
    ps->v[sp->d0 - 1].i = d0;
    ps->v[sp->d1 - 1].i = d1;
    ps->v[sp->lo - 1].i = lo;
    ps->v[sp->e0 - 1].i = e0;
    ps->v[sp->e1 - 1].i = e1;
    ps->v[sp->hi - 1].i = hi;
}

sqlite3_stmt *rpt_prepare(struct rctx *x, const char *sql, const struct store_params *ps)
{
    sqlite3_stmt *s = store_stmt_text(x->st, sql);

    if (s)
        store_params_bind(s, ps);
    return s;
}

/* Ends a statement stepped to rc; DG_OK when it ran to the end. */
int rpt_finish(struct rctx *x, sqlite3_stmt *s, int rc, bool is_oom)
{
    store_stmt_release(x->st, s);
    if (is_oom)
        return DG_ENOMEM;
    return rc == SQLITE_DONE ? DG_OK : store_err(x->st, rc);
}

/* " IN (?n, ...)" of the team's stages of `kind`; false when there are none. */
static bool stage_list(char *sql, struct store_params *ps, const dg_team *t, dg_stage_kind kind)
{
    size_t n = 0;

    for (int i = 0; i < t->n_stages; i++) {
        if (t->stages[i].kind != kind)
            continue;
        store_sql_append(sql, "%s?%d", n++ ? ", " : " IN (",
                         store_param_text(ps, t->stages[i].name));
    }
    if (n)
        store_sql_append(sql, ")");
    return n > 0;
}

/* The team's won stages as " IN (...)" (" IN ('')" when there are none). */
static void won_stages(char *sql, struct store_params *ps, const dg_team *t)
{
    if (!stage_list(sql, ps, t, DG_STAGE_WON))
        store_sql_append(sql, " IN ('')");
}

/* Sums by currency (money totals are never added across currencies). */
struct money_sums {
    struct {
        char currency[4];
        int64_t n, sum, sum2;
    } v[CURRENCIES_MAX];
    size_t n;
};

static void money_add(struct money_sums *m, const char *cur, int64_t n, int64_t sum, int64_t sum2)
{
    size_t i = 0;

    while (i < m->n && strcmp(m->v[i].currency, cur) != 0)
        i++;
    if (i == m->n) {
        if (m->n == CURRENCIES_MAX)
            return;
        snprintf(m->v[m->n++].currency, sizeof m->v[0].currency, "%s", cur);
    }
    m->v[i].n += n;
    m->v[i].sum += sum;
    m->v[i].sum2 += sum2;
}

static int64_t hundredth(int64_t v)
{
    return v >= 0 ? (v + 50) / 100 : -((-v + 50) / 100);
}

/* ------------------------------------------------------------ summary */

static const dg_rcol COUNT_COLS[] = {
    {"value", "Value", DG_RT_TEXT},
    {"customers", "Customers", DG_RT_INT},
    {"share", "Share %", DG_RT_DECIMAL},
};

/* A count of customers by `expr`, rows in `order`, each with its share. */
int rpt_count_section(struct rctx *x, const char *name, const char *title, const char *expr,
                      const char *join, const char *where, const char *group, const char *order)
{
    dg_rsection *sec = rpt_section(x, name, title, COUNT_COLS, DG_ARRAY_LEN(COUNT_COLS));
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int64_t total = 0;
    dg_rcell *c;
    int rc;
    bool oom = false;

    store_sql_append(sql, "SELECT %s, count(*) FROM customers c %s WHERE 1%s", expr, join, where);
    rpt_visible(sql, &ps, x->q, true);
    store_sql_append(sql, " GROUP BY %s ORDER BY %s", group, order);
    if (!(s = rpt_prepare(x, sql, &ps)))
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && !oom) {
        if (!(c = rpt_add_row(x, sec)) || !(c[0].text = rpt_col_text(x, s, 0))) {
            oom = true;
            break;
        }
        c[1].num = sqlite3_column_int64(s, 1);
        total += c[1].num;
    }
    if ((rc = rpt_finish(x, s, rc, oom)) != DG_OK)
        return rc;
    for (size_t i = 0; i < sec->n_rows; i++) {
        c = &sec->rows[i * sec->n_cols];
        c[2].num = total ? (c[1].num * 10000 * 2 + total) / (2 * total) : 0;
    }
    if (!(c = rpt_add_total(x, sec)))
        return DG_ENOMEM;
    c[0].text = "Total";
    c[1].num = total;
    c[2].num = total ? 10000 : 0;
    return DG_OK;
}

/* One pass over the customers for every summary section: the rows grouped
 * by all the columns at once (in the order of the covering index
 * customers_report, so no sort), tallied here by each column. */
struct bucket {
    const char *value;
    int64_t n;
    int rank; /* order before counts: an enum value's place; none last */
    bool is_none;
};

struct tally {
    dg_map *index; /* value → position + 1 */
    struct bucket *v;
    size_t n, cap;
};

static int tally_add(struct tally *t, dg_arena *a, const char *value, int64_t n)
{
    size_t len = strlen(value);
    uintptr_t at = (uintptr_t)dg_map_get(t->index, value, len);

    if (at) {
        t->v[at - 1].n += n;
        return DG_OK;
    }
    if (t->n == t->cap) {
        size_t cap2 = t->cap ? 2 * t->cap : 64;
        struct bucket *v2 = realloc(t->v, cap2 * sizeof *v2);

        if (!v2)
            return DG_ENOMEM;
        t->v = v2;
        t->cap = cap2;
    }
    if (!(t->v[t->n].value = dg_arena_strdup(a, value)))
        return DG_ENOMEM;
    t->v[t->n].n = n;
    t->n++;
    dg_map_put(t->index, value, len, (void *)(uintptr_t)t->n, NULL);
    return DG_OK;
}

static int bucket_cmp(const void *pa, const void *pb)
{
    const struct bucket *a = pa, *b = pb;

    if (a->is_none != b->is_none)
        return a->is_none ? 1 : -1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->value, b->value);
}

/* The place of `v` in the comma-separated `order`, or 0 when there is none. */
static int enum_rank(const char *order, const char *v)
{
    size_t n = strlen(v);
    int i = 1;

    if (!order)
        return 0;
    for (const char *p = order;; p++, i++) {
        size_t k = strcspn(p, ",");

        if (k == n && !strncmp(p, v, n))
            return i;
        p += k;
        if (!*p)
            return 0;
    }
}

static int tally_section(struct rctx *x, struct tally *t, const char *name, const char *title,
                         const char *order)
{
    dg_rsection *sec = rpt_section(x, name, title, COUNT_COLS, DG_ARRAY_LEN(COUNT_COLS));
    int64_t total = 0;
    dg_rcell *c;

    for (size_t i = 0; i < t->n; i++) {
        t->v[i].is_none = !t->v[i].value[0];
        t->v[i].rank = enum_rank(order, t->v[i].value);
        total += t->v[i].n;
    }
    qsort(t->v, t->n, sizeof *t->v, bucket_cmp);
    for (size_t i = 0; i < t->n; i++) {
        if (!(c = rpt_add_row(x, sec)))
            return DG_ENOMEM;
        c[0].text = t->v[i].value;
        c[1].num = t->v[i].n;
        c[2].num = (c[1].num * 10000 * 2 + total) / (2 * total);
    }
    if (!(c = rpt_add_total(x, sec)))
        return DG_ENOMEM;
    c[0].text = "Total";
    c[1].num = total;
    c[2].num = total ? 10000 : 0;
    return DG_OK;
}

static int summary_scan(struct rctx *x, struct tally t[6])
{
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc, k;

    store_sql_append(sql, "SELECT c.tier, c.status, c.intention, c.industry, c.region,"
                          " coalesce(c.owner_id, ''), count(*) FROM customers c WHERE 1");
    rpt_visible(sql, &ps, x->q, true);
    store_sql_append(sql, " GROUP BY c.tier, c.owner_id, c.status, c.intention, c.industry,"
                          " c.region");
    if (!(s = rpt_prepare(x, sql, &ps)))
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(s, 6);

        for (k = 0; k < 6; k++) {
            const unsigned char *v = sqlite3_column_text(s, k);

            if (tally_add(&t[k], x->a, v ? (const char *)v : "", n) != DG_OK)
                break;
        }
        if (k < 6)
            break;
    }
    if ((rc = rpt_finish(x, s, rc, rc == SQLITE_ROW)) != DG_OK)
        return rc;
    /* owners by name */
    if (!(s = store_stmt(x->st, "SELECT id, username FROM users")))
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char id[24];
        uintptr_t at;

        snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(s, 0));
        if ((at = (uintptr_t)dg_map_get(t[5].index, id, strlen(id))) != 0 &&
            !(t[5].v[at - 1].value = rpt_col_text(x, s, 1)))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : rc == SQLITE_ROW ? DG_ENOMEM : store_err(x->st, rc);
}

static int summary(struct rctx *x)
{
    static const struct {
        const char *by, *title, *order;
    } parts[] = {
        {"tier", "Customers by tier", "a,b,c"},
        {"status", "Customers by status", "potential,active,dormant,lost"},
        {"intention", "Customers by intention", "a,b,c,d,e"},
        {"industry", "Customers by industry", NULL},
        {"region", "Customers by region", NULL},
        {"owner", "Customers by owner", NULL},
    };
    struct tally t[6];
    int rc;

    memset(t, 0, sizeof t);
    for (size_t i = 0; i < 6; i++)
        t[i].index = dg_map_new();
    rc = summary_scan(x, t);
    for (size_t i = 0; i < DG_ARRAY_LEN(parts) && rc == DG_OK; i++)
        if (!x->q->by[0] || !strcmp(x->q->by, parts[i].by))
            rc = tally_section(x, &t[i], dg_arena_printf(x->a, "by_%s", parts[i].by),
                               parts[i].title, parts[i].order);
    for (size_t i = 0; i < 6; i++) {
        dg_map_free(t[i].index);
        free(t[i].v);
    }
    return rc;
}

/* ------------------------------------------------------------ revenue */

static const dg_rcol REVENUE_PERIOD_COLS[] = {
    {"period", "Period", DG_RT_TEXT},  {"from", "From", DG_RT_DATE},
    {"to", "To", DG_RT_DATE},          {"currency", "Currency", DG_RT_TEXT},
    {"deals", "Deals won", DG_RT_INT}, {"amount", "Amount", DG_RT_MONEY},
};
static const dg_rcol REVENUE_OWNER_COLS[] = {
    {"owner", "Owner", DG_RT_TEXT},
    {"currency", "Currency", DG_RT_TEXT},
    {"deals", "Deals won", DG_RT_INT},
    {"amount", "Amount", DG_RT_MONEY},
};

/* Money totals rows: label in column 0, the sums in the last columns. */
static int money_totals(struct rctx *x, dg_rsection *sec, const struct money_sums *m,
                        size_t cur_col, bool has_sum2)
{
    for (size_t i = 0; i < m->n; i++) {
        dg_rcell *c = rpt_add_total(x, sec);

        if (!c)
            return DG_ENOMEM;
        c[0].text = "Total";
        c[cur_col].text = dg_arena_strdup(x->a, m->v[i].currency);
        c[cur_col + 1].num = m->v[i].n;
        c[cur_col + 2].num = m->v[i].sum;
        c[cur_col + 2].currency = c[cur_col].text;
        if (has_sum2) {
            c[cur_col + 3].num = hundredth(m->v[i].sum2);
            c[cur_col + 3].currency = c[cur_col].text;
        }
        if (!c[cur_col].text)
            return DG_ENOMEM;
    }
    return DG_OK;
}

static int revenue(struct rctx *x)
{
    const dg_report_query *q = x->q;
    bool by_owner = !strcmp(q->by, "owner");
    dg_rsection *sec = by_owner
                           ? rpt_section(x, "revenue", "Won deals by owner", REVENUE_OWNER_COLS,
                                         DG_ARRAY_LEN(REVENUE_OWNER_COLS))
                           : rpt_section(x, "revenue", "Won deals by period", REVENUE_PERIOD_COLS,
                                         DG_ARRAY_LEN(REVENUE_PERIOD_COLS));
    size_t cur = by_owner ? 1 : 3;
    struct money_sums m = {.n = 0};
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    struct span sp;
    int rc = DG_OK;

    store_sql_append(sql,
                     "SELECT x.cur, sum(x.n), sum(x.amount), %s FROM (SELECT c.currency AS cur,"
                     " c.n AS n, c.amount AS amount, c.owner_id AS owner FROM deal_totals c"
                     " WHERE c.stage",
                     by_owner ? "coalesce(u.username, '')" : "''");
    won_stages(sql, &ps, q->team);
    store_sql_append(sql, " AND c.day >= ?%d AND c.day < ?%d", sp.d0 = store_param_int(&ps, 0),
                     sp.d1 = store_param_int(&ps, 0));
    visible_totals(sql, &ps, q, true);
    for (int edge = 0; edge < 2; edge++) {
        int a = store_param_int(&ps, 0), b = store_param_int(&ps, 0);

        store_sql_append(sql,
                         " UNION ALL SELECT d.amount_currency, 1, d.amount, coalesce(c.owner_id, 0)"
                         " FROM deals d INDEXED BY deals_report JOIN customers c"
                         " INDEXED BY customers_visibility ON c.id = d.customer_id"
                         " WHERE d.archived_at IS NULL AND d.stage");
        won_stages(sql, &ps, q->team);
        store_sql_append(sql, " AND d.at_ms >= ?%d AND d.at_ms < ?%d", a, b);
        visible(sql, &ps, q, true, false);
        *(edge ? &sp.e1 : &sp.lo) = a;
        *(edge ? &sp.hi : &sp.e0) = b;
    }
    store_sql_append(sql, ") x%s", by_owner ? " LEFT JOIN users u ON u.id = x.owner" : "");
    store_sql_append(sql, by_owner ? " GROUP BY x.owner, x.cur HAVING sum(x.n) > 0"
                                     " ORDER BY x.owner = 0, 4, 1"
                                   : " GROUP BY x.cur HAVING sum(x.n) > 0 ORDER BY 1");
    for (size_t p = 0; p < q->n_periods && rc == DG_OK; p++) {
        const dg_report_period *per = &q->periods[p];
        sqlite3_stmt *s;
        size_t before = sec->n_rows;
        bool oom = false;
        dg_rcell *c;

        span_set(&ps, &sp, per->lo, per->hi);
        if (!(s = rpt_prepare(x, sql, &ps)))
            return DG_EIO;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (!(c = rpt_add_row(x, sec))) {
                oom = true;
                break;
            }
            c[0].text = by_owner ? rpt_col_text(x, s, 3) : per->label;
            c[cur].text = rpt_col_text(x, s, 0);
            c[cur + 1].num = sqlite3_column_int64(s, 1);
            c[cur + 2].num = sqlite3_column_int64(s, 2);
            c[cur + 2].currency = c[cur].text;
            money_add(&m, c[cur].text ? c[cur].text : "", c[cur + 1].num, c[cur + 2].num, 0);
        }
        if ((rc = rpt_finish(x, s, rc, oom)) != DG_OK)
            return rc;
        if (!by_owner && sec->n_rows == before) { /* a period without revenue shows as 0 */
            if (!(c = rpt_add_row(x, sec)))
                return DG_ENOMEM;
            c[0].text = per->label;
            c[cur].text = q->team->currency;
            c[cur + 2].currency = q->team->currency;
        }
        for (size_t r = before; !by_owner && r < sec->n_rows; r++) {
            sec->rows[r * sec->n_cols + 1].text = per->from;
            sec->rows[r * sec->n_cols + 2].text = per->to;
        }
    }
    return money_totals(x, sec, &m, cur, false);
}

/* ------------------------------------------------------------ pipeline */

static const dg_rcol PIPELINE_COLS[] = {
    {"stage", "Stage", DG_RT_TEXT},        {"label", "Label", DG_RT_TEXT},
    {"owner", "Owner", DG_RT_TEXT},        {"currency", "Currency", DG_RT_TEXT},
    {"deals", "Open deals", DG_RT_INT},    {"amount", "Amount", DG_RT_MONEY},
    {"weighted", "Weighted", DG_RT_MONEY},
};

static int pipeline(struct rctx *x)
{
    const dg_report_query *q = x->q;
    bool by_owner = !strcmp(q->by, "owner");
    size_t n_cols = DG_ARRAY_LEN(PIPELINE_COLS);
    dg_rsection *sec = rpt_section(x, "pipeline", "Open deals by stage", PIPELINE_COLS, n_cols);
    struct money_sums m = {.n = 0};
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    int stage, rc = DG_OK;

    store_sql_append(sql,
                     "SELECT c.currency, sum(c.n), sum(c.amount), sum(c.weighted), %s"
                     " FROM deal_totals c%s WHERE c.stage = ?%d",
                     by_owner ? "coalesce(u.username, '')" : "''",
                     by_owner ? " LEFT JOIN users u ON u.id = c.owner_id" : "",
                     stage = store_param_text(&ps, ""));
    visible_totals(sql, &ps, q, true);
    store_sql_append(sql, by_owner ? " GROUP BY c.owner_id, c.currency HAVING sum(c.n) > 0"
                                     " ORDER BY c.owner_id = 0, 5, 1"
                                   : " GROUP BY c.currency HAVING sum(c.n) > 0 ORDER BY 1");
    for (int i = 0; i < q->team->n_stages && rc == DG_OK; i++) {
        const dg_stage *st = &q->team->stages[i];
        size_t before = sec->n_rows;
        sqlite3_stmt *s;
        bool oom = false;
        dg_rcell *c;

        if (st->kind != DG_STAGE_OPEN)
            continue;
        ps.v[stage - 1].p = st->name;
        ps.v[stage - 1].len = strlen(st->name);
        if (!(s = rpt_prepare(x, sql, &ps)))
            return DG_EIO;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (!(c = rpt_add_row(x, sec))) {
                oom = true;
                break;
            }
            c[2].text = rpt_col_text(x, s, 4);
            c[3].text = rpt_col_text(x, s, 0);
            c[4].num = sqlite3_column_int64(s, 1);
            c[5].num = sqlite3_column_int64(s, 2);
            c[6].num = hundredth(sqlite3_column_int64(s, 3));
            c[5].currency = c[6].currency = c[3].text;
            money_add(&m, c[3].text ? c[3].text : "", c[4].num, c[5].num,
                      sqlite3_column_int64(s, 3));
        }
        if ((rc = rpt_finish(x, s, rc, oom)) != DG_OK)
            return rc;
        if (sec->n_rows == before) { /* every open stage shows, in pipeline order */
            if (!(c = rpt_add_row(x, sec)))
                return DG_ENOMEM;
            c[3].text = c[5].currency = c[6].currency = q->team->currency;
        }
        for (size_t r = before; r < sec->n_rows; r++) {
            sec->rows[r * n_cols].text = st->name;
            sec->rows[r * n_cols + 1].text = st->label;
        }
    }
    return money_totals(x, sec, &m, 3, true);
}

/* ------------------------------------------------------------ activity */

static const dg_rcol ACTIVITY_COLS[] = {
    {"period", "Week", DG_RT_TEXT},  {"rep", "Rep", DG_RT_TEXT},
    {"calls", "Calls", DG_RT_INT},   {"calls_due", "Calls due", DG_RT_DECIMAL},
    {"visits", "Visits", DG_RT_INT}, {"visits_due", "Visits due", DG_RT_DECIMAL},
};

struct rep {
    int64_t id;
    const char *name;
    int64_t n_tier[DG_TIER_SLOTS]; /* customers owned, not lost, by tier */
    int64_t calls, visits;         /* in the period being read */
};

struct reps {
    struct rep *v;
    size_t n;
};

static struct rep *rep_of(struct reps *r, int64_t id, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].id == id)
            return &r->v[i];
    if (r->n == REPS_MAX)
        return NULL;
    r->v[r->n] = (struct rep){.id = id, .name = name};
    return &r->v[r->n++];
}

static int rep_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rep *)a)->name, ((const struct rep *)b)->name);
}

/* Each rep's customers by tier (live, not lost; from customer_totals): what
 * the cadence asks for. */
static int activity_targets(struct rctx *x, struct reps *reps)
{
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    sqlite3_stmt *s;
    int rc;
    bool oom = false;

    store_sql_append(sql, "SELECT c.owner_id, u.username, c.tier, sum(c.n) FROM customer_totals c"
                          " JOIN users u ON u.id = c.owner_id WHERE c.status != 'lost'");
    visible_totals(sql, &ps, x->q, true);
    store_sql_append(sql, " GROUP BY c.tier, c.owner_id HAVING sum(c.n) > 0");
    if (!(s = rpt_prepare(x, sql, &ps)))
        return DG_EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 2);
        int tier = t && t[0] >= 'a' && t[0] <= 'c' && !t[1] ? t[0] - 'a' + 1 : 0;
        const char *name = rpt_col_text(x, s, 1);
        struct rep *r = name ? rep_of(reps, sqlite3_column_int64(s, 0), name) : NULL;

        if (!name) {
            oom = true;
            break;
        }
        if (r)
            r->n_tier[tier] += sqlite3_column_int64(s, 3);
    }
    return rpt_finish(x, s, rc, oom);
}

/* Calls or visits due in `days` days for a rep's customers, in hundredths. */
static int64_t due(const struct rep *r, const int every[DG_TIER_SLOTS], int days)
{
    int64_t v = 0;

    for (int t = 1; t < DG_TIER_SLOTS; t++)
        if (every[t] > 0)
            v += (r->n_tier[t] * days * 100 + every[t] / 2) / every[t];
    return v;
}

static int activity(struct rctx *x)
{
    const dg_report_query *q = x->q;
    dg_rsection *sec = rpt_section(x, "activity", "Calls and visits against the cadence",
                                   ACTIVITY_COLS, DG_ARRAY_LEN(ACTIVITY_COLS));
    struct reps reps = {.v = calloc(REPS_MAX, sizeof(struct rep))};
    int64_t tot[4] = {0, 0, 0, 0};
    char sql[SQL_MAX] = "";
    struct store_params ps = {.n = 0};
    struct span sp;
    int rc;
    dg_rcell *c;

    if (!reps.v)
        return DG_ENOMEM;
    if ((rc = activity_targets(x, &reps)) != DG_OK)
        goto out;
    store_sql_append(sql, "SELECT x.rep, coalesce(u.username, ''), sum(x.calls), sum(x.visits)"
                          " FROM (SELECT c.created_by AS rep, c.calls AS calls, c.visits AS visits"
                          " FROM interaction_totals c WHERE c.day >= ?%d AND c.day < ?%d",
                     sp.d0 = store_param_int(&ps, 0), sp.d1 = store_param_int(&ps, 0));
    if (q->owner_id)
        store_sql_append(sql, " AND c.created_by = ?%d", store_param_int(&ps, q->owner_id));
    visible_totals(sql, &ps, q, false);
    for (int edge = 0; edge < 2; edge++) {
        int a = store_param_int(&ps, 0), b = store_param_int(&ps, 0);

        store_sql_append(sql,
                         " UNION ALL SELECT coalesce(i.created_by, 0), i.channel = 'phone',"
                         " i.channel IN ('visit', 'meeting') FROM interactions i"
                         " INDEXED BY interactions_report JOIN customers c"
                         " INDEXED BY customers_visibility ON c.id = i.customer_id"
                         " WHERE i.archived_at IS NULL AND i.channel IN ('phone', 'visit', 'meeting')"
                         " AND i.at_ms >= ?%d AND i.at_ms < ?%d",
                         a, b);
        if (q->owner_id)
            store_sql_append(sql, " AND i.created_by = ?%d", store_param_int(&ps, q->owner_id));
        rpt_visible(sql, &ps, q, false);
        *(edge ? &sp.e1 : &sp.lo) = a;
        *(edge ? &sp.hi : &sp.e0) = b;
    }
    store_sql_append(sql, ") x LEFT JOIN users u ON u.id = x.rep GROUP BY x.rep"
                          " HAVING sum(x.calls) + sum(x.visits) > 0");
    for (size_t p = 0; p < q->n_periods && rc == DG_OK; p++) {
        const dg_report_period *per = &q->periods[p];
        sqlite3_stmt *s;
        bool oom = false;

        for (size_t i = 0; i < reps.n; i++)
            reps.v[i].calls = reps.v[i].visits = 0;
        span_set(&ps, &sp, per->lo, per->hi);
        if (!(s = rpt_prepare(x, sql, &ps))) {
            rc = DG_EIO;
            goto out;
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *name = rpt_col_text(x, s, 1);
            struct rep *r = name ? rep_of(&reps, sqlite3_column_int64(s, 0), name) : NULL;

            if (!name) {
                oom = true;
                break;
            }
            if (r) {
                r->calls = sqlite3_column_int64(s, 2);
                r->visits = sqlite3_column_int64(s, 3);
            }
        }
        if ((rc = rpt_finish(x, s, rc, oom)) != DG_OK)
            goto out;
        qsort(reps.v, reps.n, sizeof *reps.v, rep_cmp);
        for (size_t i = 0; i < reps.n; i++) {
            const struct rep *r = &reps.v[i];

            if (!(c = rpt_add_row(x, sec))) {
                rc = DG_ENOMEM;
                goto out;
            }
            c[0].text = per->label;
            c[1].text = r->name;
            c[2].num = r->calls;
            c[3].num = due(r, q->team->call_every_days, per->days);
            c[4].num = r->visits;
            c[5].num = due(r, q->team->visit_every_days, per->days);
            for (int k = 0; k < 4; k++)
                tot[k] += c[2 + k].num;
        }
    }
    if (!(c = rpt_add_total(x, sec))) {
        rc = DG_ENOMEM;
        goto out;
    }
    c[0].text = "Total";
    for (int k = 0; k < 4; k++)
        c[2 + k].num = tot[k];
out:
    free(reps.v);
    return rc;
}

/* ------------------------------------------------------------ entry */

int dg_store_report(dg_store *st, const dg_report_query *q, dg_arena *a, dg_report *out)
{
    struct rctx x = {.st = st, .q = q, .a = a, .out = out};

    memset(out, 0, sizeof *out);
    switch (q->kind) {
    case DG_REPORT_SUMMARY:
        return summary(&x);
    case DG_REPORT_REVENUE:
        return revenue(&x);
    case DG_REPORT_PIPELINE:
        return pipeline(&x);
    case DG_REPORT_ACTIVITY:
        return activity(&x);
    case DG_REPORT_CHURN:
        return rpt_churn(&x);
    case DG_REPORT_SATISFACTION:
        return rpt_satisfaction(&x);
    default:
        return DG_EINVAL;
    }
}
