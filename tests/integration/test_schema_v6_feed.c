/* test_schema_v6_feed.c - a replay of the change feed on a database of
 * schema v5 opened by this dangand (v5_database.h) brings each subscriber
 * what v5 sent: the same changes with the same fields, and Hidden events,
 * worked out from the v5 text of the views before and after each change.
 * The conversion itself and conflicts: test_schema_v6.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "fixture.h"
#include "v5_database.h"

/* ------------------------------------------------------------ the feed */

#define MAX_EVENTS 512

struct event {
    Dangan__V1__Event__BodyCase body;
    int64_t seq, id;
    size_t n_fields;
    char fields[MAX_ITEMS][64];
};

struct inbox {
    size_t n;
    struct event ev[MAX_EVENTS];
    bool is_caught_up;
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct inbox *in = user;
    struct event *e;

    (void)c;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_CAUGHT_UP) {
        in->is_caught_up = true;
        return;
    }
    if (ev->body_case == DANGAN__V1__EVENT__BODY_PROGRESS || in->n == MAX_EVENTS)
        return;
    e = &in->ev[in->n++];
    e->body = ev->body_case;
    e->seq = ev->cursor ? (int64_t)ev->cursor->seq : -1;
    e->id = ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE   ? ev->change->id
            : ev->body_case == DANGAN__V1__EVENT__BODY_HIDDEN ? ev->hidden->id
                                                              : 0;
    e->n_fields = 0;
    for (size_t i = 0; ev->body_case == DANGAN__V1__EVENT__BODY_CHANGE && i < ev->change->n_fields;
         i++)
        snprintf(e->fields[e->n_fields++], sizeof e->fields[0], "%s", ev->change->fields[i]);
}

/* Who may see a view, as a sales user (restricted tier: A) by id. An
 * unknown tier is no view. */
static bool sales_sees(const struct vis *v, int64_t user_id)
{
    static const char *const tiers[] = {"", "a", "b", "c"};
    bool is_known = false;

    for (size_t i = 0; i < sizeof tiers / sizeof *tiers; i++)
        is_known |= v->is_set && strcmp(v->tier, tiers[i]) == 0;
    return is_known && (strcmp(v->tier, "a") != 0 || v->owner == user_id);
}

static bool is_record_kind(const char *entity)
{
    static const char *const kinds[] = {"customer", "contact",  "interaction",
                                        "deal",     "feedback", "task"};

    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(entity, kinds[i]) == 0)
            return true;
    return false;
}

/* The change feed's epoch, from the database (a uint64 in decimal). */
static uint64_t feed_epoch(void)
{
    sqlite3 *db = db_open();
    sqlite3_stmt *s;
    uint64_t epoch;

    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'feed_epoch'", -1,
                                        &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    epoch = strtoull(col(s, 0), NULL, 10);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return epoch;
}

/* Replays the whole feed as `user` and checks every event against the v5
 * rows: the change with its fields when the user sees the view after it,
 * Hidden when only the one before, else nothing. Returns how many Hidden
 * events came, their record ids in hidden[]. */
static size_t replay_matches_v5(const char *user, const char *password, int64_t user_id,
                                int64_t *hidden, size_t cap)
{
    static struct inbox in;
    dg_client_opts o = {
        .server = srv.addr, .fingerprint = srv.fingerprint, .on_event = on_event, .user = &in};
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Cursor since = DANGAN__V1__CURSOR__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_client *c;
    size_t k = 0, n_hidden = 0;
    int64_t until = dg_mono_ms() + 10000;

    memset(&in, 0, sizeof in);
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, user, password, NULL), DG_OK);
    since.epoch = feed_epoch();
    since.seq = 0;
    m.since = &since;
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    ok(dgt_call(c, &req), "subscribe");
    while (!in.is_caught_up && dg_mono_ms() < until)
        dg_client_poll(c, 50);
    assert_true(in.is_caught_up);

    for (size_t i = 0; i < n_changes; i++) {
        const struct v5_change *w = &changes[i];
        bool sees_after = sales_sees(&w->after, user_id),
             sees_before = sales_sees(&w->before, user_id);
        const struct event *e;

        if (!is_record_kind(w->entity) || (!sees_after && !sees_before))
            continue;
        if (k == in.n)
            fail_msg("%s: no event for change %lld", user, (long long)w->seq);
        e = &in.ev[k++];
        assert_int_equal(e->seq, w->seq);
        assert_int_equal(e->id, w->entity_id);
        if (!sees_after) {
            assert_int_equal(e->body, DANGAN__V1__EVENT__BODY_HIDDEN);
            assert_true(n_hidden < cap);
            hidden[n_hidden++] = e->id;
            continue;
        }
        assert_int_equal(e->body, DANGAN__V1__EVENT__BODY_CHANGE);
        assert_int_equal(e->n_fields, w->n_fields);
        for (size_t f = 0; f < w->n_fields; f++)
            assert_string_equal(e->fields[f], w->fields[f]);
    }
    if (k != in.n)
        fail_msg("%s: an event for change %lld that v5 did not send", user, (long long)in.ev[k].seq);
    dg_client_close(c);
    return n_hidden;
}

/* The user id of `name` in the v5 database. */
static int64_t user_id(const char *name)
{
    char sql[128];

    snprintf(sql, sizeof sql, "SELECT id FROM users WHERE username = '%s'", name);
    return count_rows(sql);
}

static void test_a_replay_of_the_v5_history_brings_what_v5_sent(void **state)
{
    int64_t hidden[8];

    (void)state;
    /* s1 loses C1 at the hand-over; and customer C4 twice, in the rows
     * added to the v5 database, whose views after are none */
    assert_int_equal(replay_matches_v5("s1", S1_PASSWORD, user_id("s1"), hidden, 8), 3);
    assert_int_equal(hidden[0], C1);
    assert_int_equal(hidden[1], C4);
    assert_int_equal(hidden[2], C4);
    /* s2 loses C1 when it moves to restricted tier A, then gets it back */
    assert_int_equal(replay_matches_v5("s2", S2_PASSWORD, user_id("s2"), hidden, 8), 3);
    assert_int_equal(hidden[0], C1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_replay_of_the_v5_history_brings_what_v5_sent),
    };

    return cmocka_run_group_tests(tests, v5_setup, v5_teardown);
}
