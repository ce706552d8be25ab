/* store_today.c - the rows of the day's contact list (store_today.h).
 *
 * Every section is one range of an index (schema v13), so a user's list
 * costs a few index seeks and the count of each range, however large the
 * base: tasks by (assignee, due) (tasks_today_due, which has the
 * customer's owner and tier and leaves out dead customers); customers due for
 * a call or a visit by (owner, tier, last call or visit, name)
 * (customers_today_call, customers_today_visit), one range per tier since
 * each tier has its cadence; open follow-ups by (owner, date)
 * (customers_today_follow_up); the dormancy window by (owner, last contact)
 * (customers_today_contact); contracts by (owner, expiry)
 * (customers_today_contract). The customers' last call, last visit and open
 * follow-up are kept by triggers on interactions (store_schema.c, v13), their
 * contracts' expiry and the tasks' customer by triggers of v17.
 *
 * Parameters shared by every statement: ?1 the user, ?4 the limit, ?5-?8 the
 * visibility (perm.c decides; see dg_today_query): ?5 the viewer (0: sees
 * every tier), ?6-?8 the restricted tiers' stored names (unused ones bound to
 * a name no tier has).
 * Runs on: the thread that owns the connection.
 */
#include "store_today.h"

#include <string.h>

#include "dg.h"
#include "store_int.h"

static const char *const section_names[DG_TODAY_N] = {
    [DG_TODAY_OVERDUE_TASKS] = "overdue_tasks",
    [DG_TODAY_TASKS_TODAY] = "tasks_today",
    [DG_TODAY_CALLS_DUE] = "calls_due",
    [DG_TODAY_VISITS_DUE] = "visits_due",
    [DG_TODAY_FOLLOW_UPS] = "follow_ups",
    [DG_TODAY_CONTRACTS] = "contracts",
    [DG_TODAY_TURNING_DORMANT] = "turning_dormant",
};

const char *dg_today_section_name(enum dg_today_section s)
{
    dg_assert(s >= 0 && s < DG_TODAY_N);
    return section_names[s];
}

/* Columns 0-9: the customer. */
#define CUSTOMER_COLS                                                                              \
    "c.id, coalesce(c.owner_id, 0), c.created_at, c.code, c.name, c.tier, c.name_key,"             \
    " c.last_call_at, c.last_visit_at, c.last_contact_at"
#define N_CUSTOMER_COLS 10
/* A range's size, counted up to DG_TODAY_COUNT_MAX + 1: a long list costs
 * no more than that to count. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define COUNT(where)                                                                               \
    "SELECT count(*) FROM (SELECT 1" where " LIMIT " STR(DG_TODAY_COUNT_MAX) " + 1)"
#define VISIBLE " AND (?5 = 0 OR c.owner_id = ?5 OR c.tier NOT IN (?6, ?7, ?8))"

/* ?2 <= due < ?3; counted from the index alone (the task keeps its
 * customer's owner, tier and whether it is live) */
#define TASKS_WHERE                                                                                \
    " WHERE t.assignee_id = ?1 AND t.done = 0 AND t.archived_at IS NULL AND t.customer_live = 1"   \
    " AND t.due_at_ms >= ?2 AND t.due_at_ms < ?3 AND (?5 = 0 OR t.customer_owner_id = ?5"          \
    " OR t.customer_tier NOT IN (?6, ?7, ?8))"
static const char SQL_TASKS[] =
    "SELECT " CUSTOMER_COLS ", t.id, t.title, t.due_at_ms"
    " FROM tasks t INDEXED BY tasks_today_due JOIN customers c ON c.id = t.customer_id" TASKS_WHERE
    " ORDER BY t.due_at_ms, t.id LIMIT ?4";
static const char SQL_TASKS_COUNT[] = COUNT(" FROM tasks t INDEXED BY tasks_today_due" TASKS_WHERE);

/* tier ?2, last < ?3 */
#define DUE_WHERE(col)                                                                             \
    " FROM customers c WHERE c.owner_id = ?1 AND c.tier = ?2 AND c.archived_at IS NULL"            \
    " AND c." col " < ?3" VISIBLE
static const char SQL_CALLS[] = "SELECT " CUSTOMER_COLS DUE_WHERE(
    "last_call_at") " ORDER BY c.last_call_at, c.name_key LIMIT ?4";
static const char SQL_CALLS_COUNT[] = COUNT(DUE_WHERE("last_call_at"));
static const char SQL_VISITS[] = "SELECT " CUSTOMER_COLS DUE_WHERE(
    "last_visit_at") " ORDER BY c.last_visit_at, c.name_key LIMIT ?4";
static const char SQL_VISITS_COUNT[] = COUNT(DUE_WHERE("last_visit_at"));

/* follow-up on or before ?2 */
#define FOLLOW_UP_WHERE                                                                            \
    " FROM customers c JOIN interactions i ON i.id = c.follow_up_id"                               \
    " WHERE c.owner_id = ?1 AND c.archived_at IS NULL AND c.follow_up_on != ''"                    \
    " AND c.follow_up_on <= ?2" VISIBLE
static const char SQL_FOLLOW_UPS[] =
    "SELECT " CUSTOMER_COLS ", i.id, i.next_follow_up, i.summary" FOLLOW_UP_WHERE
    " ORDER BY c.follow_up_on, c.name_key LIMIT ?4";
static const char SQL_FOLLOW_UPS_COUNT[] =
    COUNT(" FROM customers c WHERE c.owner_id = ?1 AND c.archived_at IS NULL"
          " AND c.follow_up_on != '' AND c.follow_up_on <= ?2" VISIBLE);

/* A live contract expiring on or before ?2 that no later-expiring live
 * contract of the same customer has renewed: the customer's contract_until
 * (and contract_n of them expire that day, counted from the index alone). */
#define CONTRACT_WHERE                                                                             \
    " WHERE c.owner_id = ?1 AND c.archived_at IS NULL AND c.contract_until != ''"                  \
    " AND c.contract_until <= ?2" VISIBLE
static const char SQL_CONTRACTS[] =
    "SELECT " CUSTOMER_COLS ", d.id, d.title, d.expires_on"
    " FROM customers c INDEXED BY customers_today_contract JOIN documents d"
    " ON d.customer_id = c.id AND d.kind = 'contract' AND d.archived = 0"
    " AND d.expires_on = c.contract_until" CONTRACT_WHERE
    " ORDER BY c.contract_until, c.name_key, d.id LIMIT ?4";
static const char SQL_CONTRACTS_COUNT[] =
    "SELECT coalesce(sum(n), 0) FROM (SELECT c.contract_n AS n"
    " FROM customers c INDEXED BY customers_today_contract" CONTRACT_WHERE
    " LIMIT " STR(DG_TODAY_COUNT_MAX) " + 1)";

/* last contact in [?2, ?3) */
#define DORMANT_WHERE                                                                              \
    " FROM customers c WHERE c.owner_id = ?1 AND c.archived_at IS NULL"                            \
    " AND c.last_contact_at >= ?2 AND c.last_contact_at < ?3" VISIBLE
static const char SQL_DORMANT[] =
    "SELECT " CUSTOMER_COLS DORMANT_WHERE " ORDER BY c.last_contact_at, c.name_key LIMIT ?4";
static const char SQL_DORMANT_COUNT[] = COUNT(DORMANT_WHERE);

static const char *const tier_names[4] = {"", "a", "b", "c"};

static void bind_common(sqlite3_stmt *s, const dg_today_query *q)
{
    sqlite3_bind_int64(s, 1, q->user_id);
    sqlite3_bind_int64(s, 4, q->limit);
    sqlite3_bind_int64(s, 5, q->n_restricted ? q->viewer_id : 0);
    for (size_t k = 0; k < 3; k++)
        sqlite3_bind_text(s, 6 + (int)k, k < q->n_restricted ? q->restricted[k] : "\x01", -1,
                          SQLITE_STATIC);
}

/* The range of section `sec` (tier: calls and visits) bound into s. */
static void bind_range(sqlite3_stmt *s, const dg_today_query *q, enum dg_today_section sec,
                       int tier)
{
    bind_common(s, q);
    switch (sec) {
    case DG_TODAY_OVERDUE_TASKS:
        sqlite3_bind_int64(s, 2, 1); /* 0: no due date */
        sqlite3_bind_int64(s, 3, q->today_start);
        break;
    case DG_TODAY_TASKS_TODAY:
        sqlite3_bind_int64(s, 2, q->today_start);
        sqlite3_bind_int64(s, 3, q->tomorrow_start);
        break;
    case DG_TODAY_CALLS_DUE:
    case DG_TODAY_VISITS_DUE:
        sqlite3_bind_text(s, 2, tier_names[tier], -1, SQLITE_STATIC);
        sqlite3_bind_int64(
            s, 3, sec == DG_TODAY_CALLS_DUE ? q->call_before[tier] : q->visit_before[tier]);
        break;
    case DG_TODAY_FOLLOW_UPS:
        sqlite3_bind_text(s, 2, q->today, -1, SQLITE_STATIC);
        break;
    case DG_TODAY_CONTRACTS:
        sqlite3_bind_text(s, 2, q->contract_until, -1, SQLITE_STATIC);
        break;
    case DG_TODAY_TURNING_DORMANT:
        sqlite3_bind_int64(s, 2, q->dormant_from);
        sqlite3_bind_int64(s, 3, q->dormant_to);
        break;
    default:
        dg_assert(0);
    }
}

static int count_range(dg_store *st, const char *sql, const dg_today_query *q,
                       enum dg_today_section sec, int tier, uint32_t *total, bool *more)
{
    sqlite3_stmt *s = store_stmt(st, sql);
    int rc;

    if (!s)
        return DG_EIO;
    bind_range(s, q, sec, tier);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(s, 0);

        *total += (uint32_t)(n > DG_TODAY_COUNT_MAX ? DG_TODAY_COUNT_MAX : n);
        *more |= n > DG_TODAY_COUNT_MAX;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}

static int tier_of(const char *stored)
{
    for (int t = 1; t < 4; t++)
        if (strcmp(stored, tier_names[t]) == 0)
            return t;
    return 0;
}

/* One row into it; strings in `a`. DG_OK or DG_ENOMEM. */
static int read_row(sqlite3_stmt *s, enum dg_today_section sec, dg_arena *a, dg_today_item *it)
{
    const unsigned char *tier = sqlite3_column_text(s, 5);
    const void *key = sqlite3_column_blob(s, 6);
    size_t key_len = (size_t)sqlite3_column_bytes(s, 6);
    uint8_t *key_copy = dg_arena_alloc(a, key_len ? key_len : 1);
    const int x = N_CUSTOMER_COLS;

    memset(it, 0, sizeof *it);
    it->customer_id = sqlite3_column_int64(s, 0);
    it->owner_id = sqlite3_column_int64(s, 1);
    it->created_at = sqlite3_column_int64(s, 2);
    it->code = store_col_dup(s, 3, a);
    it->name = store_col_dup(s, 4, a);
    it->tier = tier ? tier_of((const char *)tier) : 0;
    if (!key_copy || !it->code || !it->name)
        return DG_ENOMEM;
    if (key_len)
        memcpy(key_copy, key, key_len);
    it->name_key = key_copy;
    it->name_key_len = key_len;
    it->last_call_at = sqlite3_column_int64(s, 7);
    it->last_visit_at = sqlite3_column_int64(s, 8);
    it->last_contact_at = sqlite3_column_int64(s, 9);
    switch (sec) {
    case DG_TODAY_OVERDUE_TASKS:
    case DG_TODAY_TASKS_TODAY:
        it->task_id = sqlite3_column_int64(s, x);
        it->title = store_col_dup(s, x + 1, a);
        it->due_at_ms = sqlite3_column_int64(s, x + 2);
        return it->title ? DG_OK : DG_ENOMEM;
    case DG_TODAY_FOLLOW_UPS:
        it->interaction_id = sqlite3_column_int64(s, x);
        it->follow_up_on = store_col_dup(s, x + 1, a);
        it->summary = store_col_dup(s, x + 2, a);
        return it->follow_up_on && it->summary ? DG_OK : DG_ENOMEM;
    case DG_TODAY_CONTRACTS:
        it->document_id = sqlite3_column_int64(s, x);
        it->title = store_col_dup(s, x + 1, a);
        it->expires_on = store_col_dup(s, x + 2, a);
        return it->title && it->expires_on ? DG_OK : DG_ENOMEM;
    default:
        return DG_OK;
    }
}

/* Appends the first q->limit rows of a range to items (room for them made
 * by the caller). */
static int read_range(dg_store *st, const char *sql, const dg_today_query *q,
                      enum dg_today_section sec, int tier, dg_arena *a, dg_today_item *items,
                      size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, sql);
    int rc, out = DG_OK;

    if (!s)
        return DG_EIO;
    bind_range(s, q, sec, tier);
    while (out == DG_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((out = read_row(s, sec, a, &items[*n])) == DG_OK)
            (*n)++;
    sqlite3_reset(s);
    if (out != DG_OK)
        return out;
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}

int dg_store_today_section(dg_store *st, const dg_today_query *q, enum dg_today_section sec,
                           dg_arena *a, dg_today_item **items, size_t *n, uint32_t *total,
                           bool *more)
{
    static const struct {
        const char *list, *count;
        bool by_tier;
    } sql[DG_TODAY_N] = {
        [DG_TODAY_OVERDUE_TASKS] = {SQL_TASKS, SQL_TASKS_COUNT, false},
        [DG_TODAY_TASKS_TODAY] = {SQL_TASKS, SQL_TASKS_COUNT, false},
        [DG_TODAY_CALLS_DUE] = {SQL_CALLS, SQL_CALLS_COUNT, true},
        [DG_TODAY_VISITS_DUE] = {SQL_VISITS, SQL_VISITS_COUNT, true},
        [DG_TODAY_FOLLOW_UPS] = {SQL_FOLLOW_UPS, SQL_FOLLOW_UPS_COUNT, false},
        [DG_TODAY_CONTRACTS] = {SQL_CONTRACTS, SQL_CONTRACTS_COUNT, false},
        [DG_TODAY_TURNING_DORMANT] = {SQL_DORMANT, SQL_DORMANT_COUNT, false},
    };
    size_t ranges = sql[sec].by_tier ? 3 : 1;
    int rc = DG_OK;

    dg_assert(sec >= 0 && sec < DG_TODAY_N);
    *n = 0;
    *total = 0;
    *more = false;
    if (!(*items = dg_arena_calloc(a, ranges * q->limit + 1, sizeof **items)))
        return DG_ENOMEM;
    for (int tier = 1; tier <= 3 && rc == DG_OK; tier++) {
        int t = sql[sec].by_tier ? tier : 0;

        if (sql[sec].by_tier &&
            !(sec == DG_TODAY_CALLS_DUE ? q->call_before[t] : q->visit_before[t]))
            continue; /* no cadence for this tier */
        rc = count_range(st, sql[sec].count, q, sec, t, total, more);
        if (rc == DG_OK && q->limit)
            rc = read_range(st, sql[sec].list, q, sec, t, a, *items, n);
        if (!sql[sec].by_tier)
            break;
    }
    return rc;
}

static const char SQL_USERS[] =
    "SELECT id FROM users WHERE is_disabled = 0 AND role IN ('admin', 'manager', 'sales')"
    " ORDER BY username";

int dg_store_today_users(dg_store *st, dg_arena *a, int64_t **ids, size_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_USERS);
    size_t cap = 16;
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    if (!(*ids = dg_arena_alloc(a, cap * sizeof **ids))) {
        sqlite3_reset(s);
        return DG_ENOMEM;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *more = dg_arena_alloc(a, 2 * cap * sizeof *more);

            if (!more) {
                sqlite3_reset(s);
                return DG_ENOMEM;
            }
            memcpy(more, *ids, cap * sizeof *more);
            *ids = more;
            cap *= 2;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_OK : store_err(st, rc);
}
