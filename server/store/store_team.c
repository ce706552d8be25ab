/* store_team.c - the team's settings (team.h) in the team_settings table:
 * one row, its settings as a JSON document, a version that every change
 * raises, and who changed them when. Writer connection for the put.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "store.h"
#include "store_int.h"

static const char SQL_TEAM_GET[] =
    "SELECT body, version, updated_at, updated_by FROM team_settings WHERE id = 1";
static const char SQL_TEAM_PUT[] =
    "INSERT INTO team_settings(id, body, version, updated_at, updated_by)"
    " VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET body = excluded.body,"
    " version = excluded.version, updated_at = excluded.updated_at,"
    " updated_by = excluded.updated_by";
static const char SQL_DEALS_IN_STAGE[] = "SELECT count(*) FROM deals WHERE stage = ?1";

static const char *const kind_names[] = {"open", "won", "lost"};

static json_t *tier_array(const int v[DG_TIER_SLOTS])
{
    return json_pack("[iii]", v[1], v[2], v[3]);
}

static void tier_take(json_t *a, int v[DG_TIER_SLOTS])
{
    for (int i = 1; i < DG_TIER_SLOTS; i++)
        if (json_is_integer(json_array_get(a, (size_t)i - 1)))
            v[i] = (int)json_integer_value(json_array_get(a, (size_t)i - 1));
}

static char *team_to_json(const dg_team *t)
{
    json_t *stages = json_array(), *doc;
    char *text;

    for (int i = 0; i < t->n_stages; i++)
        json_array_append_new(stages,
                              json_pack("{s:s,s:s,s:i,s:s}", "name", t->stages[i].name, "label",
                                        t->stages[i].label, "probability", t->stages[i].probability,
                                        "kind", kind_names[t->stages[i].kind]));
    doc = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:o}", "time_zone", t->time_zone,
        "currency", t->currency, "call_every_days", tier_array(t->call_every_days),
        "visit_every_days", tier_array(t->visit_every_days), "tier_share_pct",
        tier_array(t->tier_share_pct), "dormant_after_days", t->dormant_after_days,
        "lost_after_days", t->lost_after_days, "pool_max_claims", t->pool_max_claims,
        "pool_return_after_days", t->pool_return_after_days, "task_remind_before_minutes",
        t->task_remind_before_minutes, "follow_up_remind_minute", t->follow_up_remind_minute,
        "contract_remind_before_days", t->contract_remind_before_days, "stages", stages);
    text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    return text;
}

static void int_take(json_t *doc, const char *key, int *out)
{
    json_t *v = json_object_get(doc, key);

    if (json_is_integer(v))
        *out = (int)json_integer_value(v);
}

static void str_take(json_t *doc, const char *key, char *out, size_t len)
{
    json_t *v = json_object_get(doc, key);

    if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
}

/* Over the defaults: a setting a later version adds keeps its default. */
static int team_from_json(const char *text, dg_team *t)
{
    json_t *doc = json_loads(text, 0, NULL), *stages, *s;
    size_t i;

    if (!json_is_object(doc)) {
        json_decref(doc);
        return DG_ECORRUPT;
    }
    str_take(doc, "time_zone", t->time_zone, sizeof t->time_zone);
    str_take(doc, "currency", t->currency, sizeof t->currency);
    tier_take(json_object_get(doc, "call_every_days"), t->call_every_days);
    tier_take(json_object_get(doc, "visit_every_days"), t->visit_every_days);
    tier_take(json_object_get(doc, "tier_share_pct"), t->tier_share_pct);
    int_take(doc, "dormant_after_days", &t->dormant_after_days);
    int_take(doc, "lost_after_days", &t->lost_after_days);
    int_take(doc, "pool_max_claims", &t->pool_max_claims);
    int_take(doc, "pool_return_after_days", &t->pool_return_after_days);
    int_take(doc, "task_remind_before_minutes", &t->task_remind_before_minutes);
    int_take(doc, "follow_up_remind_minute", &t->follow_up_remind_minute);
    int_take(doc, "contract_remind_before_days", &t->contract_remind_before_days);
    stages = json_object_get(doc, "stages");
    if (json_is_array(stages) && json_array_size(stages) > 0) {
        t->n_stages = 0;
        json_array_foreach(stages, i, s)
        {
            dg_stage *st;
            const char *kind = json_string_value(json_object_get(s, "kind"));

            if (t->n_stages >= DG_STAGES_MAX)
                break;
            st = &t->stages[t->n_stages++];
            memset(st, 0, sizeof *st);
            str_take(s, "name", st->name, sizeof st->name);
            str_take(s, "label", st->label, sizeof st->label);
            int_take(s, "probability", &st->probability);
            for (int k = 0; kind && k < (int)DG_ARRAY_LEN(kind_names); k++)
                if (strcmp(kind, kind_names[k]) == 0)
                    st->kind = (dg_stage_kind)k;
        }
    }
    json_decref(doc);
    return DG_OK;
}

int dg_store_team_get(dg_store *st, dg_team *t, dg_team_meta *meta)
{
    sqlite3_stmt *s = store_stmt(st, SQL_TEAM_GET);
    int rc;

    dg_team_defaults(t);
    memset(meta, 0, sizeof *meta);
    if (!s)
        return DG_EIO;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(s, 0);

        meta->version = sqlite3_column_int64(s, 1);
        meta->updated_at = sqlite3_column_int64(s, 2);
        meta->updated_by = sqlite3_column_int64(s, 3);
        rc = team_from_json(body ? body : "", t);
        sqlite3_reset(s);
        if (rc != DG_OK)
            snprintf(st->err, sizeof st->err, "the stored team settings are not a JSON object");
        return rc;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DG_ENOTFOUND : store_err(st, rc);
}

int dg_store_team_put(dg_store *st, const dg_team *t, const dg_team_meta *meta)
{
    sqlite3_stmt *s = store_stmt(st, SQL_TEAM_PUT);
    char *body;
    int rc;

    if (!s)
        return DG_EIO;
    if (!(body = team_to_json(t)))
        return DG_ENOMEM;
    sqlite3_bind_text(s, 1, body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, meta->version);
    sqlite3_bind_int64(s, 3, meta->updated_at);
    store_bind_id(s, 4, meta->updated_by);
    free(body);
    rc = store_exec_stmt(st, s);
    return rc;
}

int dg_store_deals_in_stage(dg_store *st, const char *stage, int64_t *n)
{
    sqlite3_stmt *s = store_stmt(st, SQL_DEALS_IN_STAGE);
    int rc;

    *n = 0;
    if (!s)
        return DG_EIO;
    sqlite3_bind_text(s, 1, stage, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DG_OK : store_err(st, rc);
}
