/* test_feed_resume.c - resuming the change feed over real TLS: changes
 * pruned past the retention (by count, by age on a moved clock) give a
 * client away since before them ResyncRequired, not a silent jump; a
 * subscriber that stops reading has at most its cap queued and then misses
 * nothing; clients killed mid-storm and resuming from their saved cursors
 * see every change once; the CLI's watch --once resumes where it stopped;
 * libdangan resumes its subscriptions after a server restart. Delivery,
 * masking, replay and filters: test_feed.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "feed_world.h"

/* ------------------------------------------------------------ retention */

/* Creates one customer through `c`; its reply comes after the commit. */
static void create_one(dg_client *c, const char *name)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    dg_reply *r;

    cu.name = (char *)name;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
}

/* The feed's head now, on server `s`: (epoch, seq). */
static int64_t head_of(const dgt_server *s, uint64_t *epoch)
{
    dg_client *c = dgt_login(s, "admin", s->admin_password);
    dg_reply *r = subscribe(c, -1, 0, NULL);
    int64_t seq = (int64_t)dg_reply_response(r)->subscribe->head->seq;

    *epoch = dg_reply_response(r)->subscribe->head->epoch;
    dg_reply_free(r);
    dg_client_close(c);
    return seq;
}

/* Runs the sweep of dangand-test `s` now (what it prunes is gone when it
 * returns), then makes one more change. Logs in afresh: the clock may have
 * moved past any session. */
static void sweep_and_write(const dgt_server *s, const char *name)
{
    dg_client *c;

    dgt_server_sweep(s);
    c = dgt_login(s, "admin", s->admin_password);
    create_one(c, name);
    dg_client_close(c);
}

static bool has_end_of_replay(const struct inbox *in, void *arg)
{
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;

    (void)arg;
    return has_body(in, &caught) || has_body(in, &resync);
}

/* Subscribes on `s` from `since` (a fresh connection) and collects what
 * comes until CaughtUp or ResyncRequired, into `b`. */
static void replay_on(const dgt_server *s, int64_t since, uint64_t epoch, struct inbox *b)
{
    dg_client_opts o = {
        .server = s->addr, .fingerprint = s->fingerprint, .on_event = on_event, .user = b};
    dg_client *c;

    memset(b, 0, sizeof *b);
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, "admin", s->admin_password, NULL), DG_OK);
    dg_reply_free(subscribe(c, since, epoch, NULL));
    assert_true(wait_for(c, b, has_end_of_replay, NULL));
    dg_client_close(c);
}

static size_t n_changes(const struct inbox *b)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n; i++)
        n += b->body[i] == DANGAN__V1__EVENT__BODY_CHANGE;
    return n;
}

/* With room for only the newest 5 changes, the sweep prunes the rest: a
 * client away since before them gets ResyncRequired (no silent jump to the
 * oldest kept), one whose cursor is still kept resumes. */
static void test_pruning_while_away_gives_resync_not_a_jump(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    Dangan__V1__Event__BodyCase caught = DANGAN__V1__EVENT__BODY_CAUGHT_UP;
    dgt_server small;
    dg_client *a;
    uint64_t epoch;
    int64_t start;

    (void)state;
    dgt_server_start_prog(&small, "[feed]\nretention_days = 0\nretention_changes = 5\n",
                          DANGAND_TEST_PATH);
    start = head_of(&small, &epoch);
    a = dgt_login(&small, "admin", small.admin_password);
    for (int i = 0; i < 19; i++) {
        char name[32];

        snprintf(name, sizeof name, "保留期公司%02d", i);
        create_one(a, name);
    }
    dg_client_close(a);
    sweep_and_write(&small, "保留期公司19"); /* prunes all but the newest 5 of these 20 */

    replay_on(&small, start + 1, epoch, &b); /* away since the first */
    assert_true(has_body(&b, &resync));
    assert_false(has_body(&b, &caught)); /* no silent jump to the oldest kept */
    assert_int_equal(n_changes(&b), 0);
    replay_on(&small, start + 17, epoch, &b); /* a recent cursor still resumes */
    assert_true(has_body(&b, &caught));
    assert_false(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 3);
    dgt_server_stop(&small);
}

/* With retention_days = 1 and no count to keep, a change is pruned once it
 * is a day old and not before: the clock moves, the sweep runs. */
static void test_changes_older_than_the_retention_period_are_pruned(void **state)
{
    static struct inbox b;
    Dangan__V1__Event__BodyCase resync = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    const int64_t day_ms = 86400 * 1000LL, margin_ms = 60 * 1000;
    dgt_server own;
    dg_client *a;
    uint64_t epoch;
    int64_t start;

    (void)state;
    dgt_server_start_prog(&own, "[feed]\nretention_days = 1\nretention_changes = 0\n",
                          DANGAND_TEST_PATH);
    start = head_of(&own, &epoch);
    a = dgt_login(&own, "admin", own.admin_password);
    create_one(a, "一天前公司甲");
    create_one(a, "一天前公司乙");
    create_one(a, "一天前公司丙");
    dg_client_close(a);

    dgt_clock_advance(&own, day_ms - margin_ms); /* not yet a day old: all kept */
    sweep_and_write(&own, "一天后公司丁");
    replay_on(&own, start, epoch, &b);
    assert_false(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 4);

    dgt_clock_advance(&own, 2 * margin_ms); /* the first three are a day old; the fourth not */
    sweep_and_write(&own, "一天后公司戊");
    replay_on(&own, start, epoch, &b);
    assert_true(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 0);
    replay_on(&own, start + 3, epoch, &b);
    assert_false(has_body(&b, &resync));
    assert_int_equal(n_changes(&b), 2);
    dgt_server_stop(&own);
}

/* Three long free-text fields (not indexed for search): an event carrying
 * such a record is about 18 KB. */
static void fill_big(Dangan__V1__Customer *cu, int i, void *ud)
{
    static char text[2000 * 3 + 1];

    (void)i;
    (void)ud;
    if (!text[0])
        for (int k = 0; k < 2000; k++)
            memcpy(text + 3 * k, "档", 3); /* 2,000 characters, 6,000 bytes */
    cu->sales_history = cu->our_advantages = cu->our_weaknesses = text;
}

static void create_big_batch(int round, int n)
{
    char prefix[64];

    snprintf(prefix, sizeof prefix, "慢读者公司%02d-", round);
    dgt_create_customers_with(admin, n, prefix, fill_big, NULL);
}

#define FEED_OUTPUT_CAP (256 * 1024) /* docs/protocol.md: events sent ahead of the reader */
#define BIG_EVENT 19000              /* a change of a fill_big customer, with its record */

/* An event of a subscription with records: a change must be the next one
 * after *last, carrying its record (CaughtUp may come too). */
static void take_event(const Dangan__V1__Frame *f, int64_t *last, size_t *changes)
{
    assert_int_equal(f->kind_case, DANGAN__V1__FRAME__KIND_EVENT);
    if (f->event->body_case != DANGAN__V1__EVENT__BODY_CHANGE) {
        assert_int_equal(f->event->body_case, DANGAN__V1__EVENT__BODY_CAUGHT_UP);
        return;
    }
    assert_int_equal((int64_t)f->event->cursor->seq, *last + 1);
    assert_non_null(f->event->change->record);
    *last = (int64_t)f->event->cursor->seq;
    (*changes)++;
}

/* A subscriber that stops reading while big events flow (records of about
 * 18 KB) is sent at most 256 KiB ahead of what it has read, not everything
 * it lacks: what the server queued for it is what arrives ahead of the
 * reply to a Ping it sends then, and that is at most the cap plus what the
 * kernel holds (the server socket's send buffer, one 64 KiB segment over
 * it, 32 KiB of ours). The backlog is made twice that, so a server that
 * kept it would fail here. Then it reads again and misses nothing. */
static void test_a_subscriber_that_stops_reading_has_no_more_than_its_cap_queued(void **state)
{
    const dgt_raw_opts o = {.rcvbuf = 16384};
    const long bound = FEED_OUTPUT_CAP + dgt_tcp_wmem_max() + 65536 + 2 * o.rcvbuf + BIG_EVENT;
    const int rounds = (int)(2 * bound / (100 * BIG_EVENT)) + 1; /* of 100 changes */
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__SubscribeRequest sub = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    Dangan__V1__Frame *f;
    size_t bytes_ahead = 0, changes = 0;
    int64_t last;
    dgt_raw *r;

    (void)state;
    r = dgt_raw_admin(&srv, &o);
    sub.with_records = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &sub;
    req.id = 3;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    f = dgt_raw_reply(r, 3, NULL);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    last = (int64_t)f->response->subscribe->head->seq;
    dangan__v1__frame__free_unpacked(f, NULL);

    for (int k = 0; k < rounds; k++) /* not reading meanwhile */
        create_big_batch(k, 100);
    req.id = 4;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(dgt_raw_send_request(r, &req), 0);
    for (;;) {
        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        if (f->kind_case == DANGAN__V1__FRAME__KIND_RESPONSE) {
            assert_int_equal(f->response->id, 4);
            assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
            dangan__v1__frame__free_unpacked(f, NULL);
            break;
        }
        bytes_ahead += 4 + dangan__v1__frame__get_packed_size(f);
        take_event(f, &last, &changes);
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    print_message("%zu of %d changes (%zu bytes) were queued ahead of the ping; bound %ld\n",
                  changes, rounds * 100, bytes_ahead, bound);
    assert_true((long)bytes_ahead <= bound);

    /* it reads again: every change, in order, none twice, each with its record */
    while (changes < (size_t)rounds * 100) {
        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        take_event(f, &last, &changes);
        dangan__v1__frame__free_unpacked(f, NULL);
    }
    assert_int_equal(last, feed_head());
    dgt_raw_close(r);
}

/* ------------------------------------------------------------ killed clients */

/* A writer thread making changes in rounds; round k starts only once the
 * subscriber has dropped its connection k times, so the storm and the
 * drops interleave however fast either side runs. */
struct storm {
    int rounds;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int lives;    /* subscriber connections dropped so far; under mu */
    bool is_done; /* every round written; under mu */
};

static void *storm_main(void *arg)
{
    struct storm *st = arg;
    dg_client *w = dgt_login(&srv, "admin", srv.admin_password);

    for (int k = 0; k < st->rounds; k++) {
        char prefix[64];

        pthread_mutex_lock(&st->mu);
        while (st->lives < k)
            pthread_cond_wait(&st->cond, &st->mu);
        pthread_mutex_unlock(&st->mu);
        snprintf(prefix, sizeof prefix, "风暴%02d-", k);
        dgt_create_customers(w, 100, prefix, NULL, NULL);
    }
    dg_client_close(w);
    pthread_mutex_lock(&st->mu);
    st->is_done = true;
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static bool storm_is_done(struct storm *st)
{
    pthread_mutex_lock(&st->mu);
    bool is_done = st->is_done;
    pthread_mutex_unlock(&st->mu);
    return is_done;
}

/* Counts a dropped connection; returns how many there have been. */
static int storm_dropped(struct storm *st)
{
    pthread_mutex_lock(&st->mu);
    int lives = ++st->lives;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->mu);
    return lives;
}

struct tracker {
    uint64_t epoch;
    int64_t cursor;
    int64_t *seqs;
    size_t n, cap;
    bool is_caught_up;
};

static void track_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct tracker *t = user;

    (void)c;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_CAUGHT_UP)
        t->is_caught_up = true;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->seqs = realloc(t->seqs, t->cap * sizeof *t->seqs);
        assert_non_null(t->seqs);
    }
    t->seqs[t->n++] = (int64_t)ev->cursor->seq;
    t->cursor = (int64_t)ev->cursor->seq; /* saved after every event, as a client would */
}

static void test_clients_killed_mid_storm_miss_nothing_and_see_nothing_twice(void **state)
{
    struct storm st = {
        .rounds = 40, .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct tracker t = {0};
    dg_reply *r = subscribe(admin, -1, 0, NULL);
    int64_t start, end;
    pthread_t th;
    unsigned seed = 12345;
    int lives = 0, lives_after_storm = 0;
    bool was_done;

    (void)state;
    t.epoch = dg_reply_response(r)->subscribe->head->epoch;
    t.cursor = start = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);
    assert_int_equal(pthread_create(&th, NULL, storm_main, &st), 0);
    /* connect, listen for a random while, drop the connection; again and again */
    do {
        dg_client_opts o = {.server = srv.addr,
                            .fingerprint = srv.fingerprint,
                            .on_event = track_event,
                            .user = &t};
        dg_client *c;

        was_done = storm_is_done(&st);
        lives_after_storm += was_done;
        assert_int_equal(dg_client_open(&o, &c), DG_OK);
        assert_int_equal(dg_client_login(c, "admin", srv.admin_password, NULL), DG_OK);
        t.is_caught_up = false;
        dg_reply_free(subscribe(c, t.cursor, t.epoch, NULL));
        for (int64_t until = dg_mono_ms() + 20 + rand_r(&seed) % 200; dg_mono_ms() < until;)
            dg_client_poll(c, 10);
        if (was_done) { /* the storm is over: stay until caught up */
            for (int64_t until = dg_mono_ms() + 10000; !t.is_caught_up && dg_mono_ms() < until;)
                dg_client_poll(c, 20);
            assert_true(t.is_caught_up);
        }
        dg_client_close(c); /* mid-stream, events in flight are lost with it */
        lives = storm_dropped(&st);
    } while (!was_done);
    pthread_join(th, NULL);
    r = subscribe(admin, -1, 0, NULL);
    end = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);
    print_message("%d connections, %zu events, seqs %lld..%lld\n", lives, t.n, (long long)start + 1,
                  (long long)end);
    /* the union is every change once: gap-free and duplicate-free per seq */
    assert_int_equal(t.n, (size_t)(end - start));
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.seqs[i], start + 1 + (int64_t)i); /* also in order */
    free(t.seqs);
    assert_true(lives >= st.rounds); /* a drop between every two rounds */
    assert_int_equal(lives_after_storm, 1);
}

static size_t count_lines(const char *s, const char *needle)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_cli_watch_once_resumes_from_where_it_stopped(void **state)
{
    static dgt_run run;
    char cfg[256];
    const char *once[] = {"--json", "watch", "--once", NULL};
    const char *contacts_only[] = {"--json", "watch", "--once", "--entity", "contact", NULL};

    (void)state;
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    dgt_cli(&run, cfg, NULL, once); /* the first time: from now, nothing to show */
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "");

    new_customer("命令行观察甲", "s1", DANGAN__V1__TIER__TIER_B);
    new_customer("命令行观察乙", "s2", DANGAN__V1__TIER__TIER_B);
    dgt_cli(&run, cfg, NULL, once);
    assert_int_equal(run.status, 0);
    assert_int_equal(count_lines(run.out, "\"op\":\"created\""), 2);
    assert_int_equal(count_lines(run.out, "\n"), 2); /* one JSON object per line */

    dgt_cli(&run, cfg, NULL, once); /* nothing new since */
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "");

    new_customer("命令行观察丙", "s1", DANGAN__V1__TIER__TIER_B);
    dgt_cli(&run, cfg, NULL, contacts_only); /* a customer is not a contact */
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "");
    dgt_rmtree(cfg);
}

static void test_libdangan_resumes_its_subscriptions_after_a_server_restart(void **state)
{
    struct tracker t = {0};
    dg_client_opts o = {.server = NULL, .on_event = track_event, .user = &t};
    dgt_server own;
    dg_client *c, *w;
    uint64_t id;
    int64_t start, end;
    dg_reply *r;

    (void)state;
    dgt_server_start(&own, NULL);
    o.server = own.addr;
    o.fingerprint = own.fingerprint;
    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, "admin", own.admin_password, NULL), DG_OK);
    assert_int_equal(dg_client_subscribe(c, NULL, NULL, false, &id), DG_OK);
    w = dgt_login(&own, "admin", own.admin_password);
    r = subscribe(w, -1, 0, NULL);
    start = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);
    dgt_create_customers(w, 50, "重连前", NULL, NULL);
    for (int64_t until = dg_mono_ms() + 5000; t.n < 50 && dg_mono_ms() < until;)
        dg_client_poll(c, 20);
    assert_int_equal(t.n, 50);
    dg_client_close(w);

    /* the server goes away; changes are made while the client is cut off */
    assert_int_equal(dgt_server_stop_keep(&own), 0);
    assert_int_equal(dg_client_poll(c, 100), DG_ECLOSED);
    dgt_server_restart_same_port(&own);
    w = dgt_login(&own, "admin", own.admin_password);
    dgt_create_customers(w, 70, "断线时", NULL, NULL);
    r = subscribe(w, -1, 0, NULL);
    end = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    dg_reply_free(r);

    /* polling alone brings the connection and the subscription back */
    for (int64_t until = dg_mono_ms() + 10000; t.n < 120 && dg_mono_ms() < until;)
        dg_client_poll(c, 50);
    assert_int_equal(t.n, (size_t)(end - start));
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.seqs[i], start + 1 + (int64_t)i); /* none missed, none twice */
    assert_int_equal(dg_client_unsubscribe(c, id), DG_OK);
    free(t.seqs);
    dg_client_close(w);
    dg_client_close(c);
    dgt_server_stop(&own);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruning_while_away_gives_resync_not_a_jump),
        cmocka_unit_test(test_changes_older_than_the_retention_period_are_pruned),
        cmocka_unit_test(test_a_subscriber_that_stops_reading_has_no_more_than_its_cap_queued),
        cmocka_unit_test(test_clients_killed_mid_storm_miss_nothing_and_see_nothing_twice),
        cmocka_unit_test(test_cli_watch_once_resumes_from_where_it_stopped),
        cmocka_unit_test(test_libdangan_resumes_its_subscriptions_after_a_server_restart),
    };

    return cmocka_run_group_tests_name("feed: resuming", tests, feed_world_setup,
                                       feed_world_teardown);
}
