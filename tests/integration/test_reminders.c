/* test_reminders.c - reminders pushed through the change feed: a task's
 * reminder reaches its assignee alone within a second of its time, exactly
 * once across a server killed or stopped at that moment, also when it came
 * due while the server was down; a task done before is not reminded, a task
 * moved is reminded again at its new time; a note's follow-up date and a
 * contract's expiry at their local times in Asia/Shanghai (the team's zone,
 * the defaults) while this process runs in UTC; `dangan watch` shows them.
 *
 * Each test has a dangand-test of its own whose clock the test moves: time
 * is never waited for. "Server now" is the test's clock plus what it moved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "fixture.h"
#include "tz.h"

#define ZONE "Asia/Shanghai"
#define LEAD_MS (15 * 60 * 1000LL) /* the default task_remind_before_minutes */
#define HOUR_MS (3600 * 1000LL)
#define DAY_MS (24 * HOUR_MS)
#define PW1 "sales-one-password-1"
#define PW2 "sales-two-password-1"
#define PWM "manager-one-password-1"
#define MAX_REM 32
/* The clock jumps hours and days: sessions and stalled writes outlast it. */
#define INI                                                                                        \
    "[sessions]\nidle_timeout_s = 2592000\nabsolute_timeout_s = 31536000\n"                        \
    "[limits]\nwrite_stall_timeout_ms = 86400000\nidle_timeout_ms = 86400000\n"

static dgt_server srv;
static dg_client *admin;
static int64_t moved; /* how far the test moved the server's clock */
static char cfg[256];
static dgt_run run;

struct rem {
    int kind;
    int64_t record_id, customer_id, due_at_ms, remind_at_ms, seq, got_ms;
    char code[32], name[96], due_on[16], title[96], zone[64];
};

/* What one connection received: its reminders, the last cursor. */
struct box {
    struct rem r[MAX_REM];
    size_t n;
    uint64_t epoch;
    int64_t seq; /* the last cursor: where to resume */
};

static void on_ev(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct box *b = user;
    const Dangan__V1__Reminder *r = ev->reminder;
    struct rem *x;

    (void)c;
    if (ev->cursor) {
        b->epoch = ev->cursor->epoch;
        b->seq = (int64_t)ev->cursor->seq;
    }
    if (ev->body_case != DANGAN__V1__EVENT__BODY_REMINDER || b->n == MAX_REM)
        return;
    x = &b->r[b->n++];
    x->kind = r->kind;
    x->record_id = r->record_id;
    x->customer_id = r->customer_id;
    x->due_at_ms = r->due_at_ms;
    x->remind_at_ms = r->remind_at_ms;
    x->seq = (int64_t)ev->cursor->seq;
    x->got_ms = dg_mono_ms();
    snprintf(x->code, sizeof x->code, "%s", r->customer_code);
    snprintf(x->name, sizeof x->name, "%s", r->customer_name);
    snprintf(x->due_on, sizeof x->due_on, "%s", r->due_on);
    snprintf(x->title, sizeof x->title, "%s", r->title);
    snprintf(x->zone, sizeof x->zone, "%s", r->time_zone);
}

static int64_t srv_now(void)
{
    return dg_now_ms() + moved;
}

/* The connections open: each is heard from before the clock moves, so
 * none has been idle a day after it moved (idle_timeout_ms). */
static dg_client *live[8];

static void keep(dg_client *c)
{
    for (size_t i = 0; i < 8; i++)
        if (!live[i]) {
            live[i] = c;
            return;
        }
    fail_msg("too many connections");
}

static void drop(dg_client *c)
{
    for (size_t i = 0; i < 8; i++)
        if (live[i] == c)
            live[i] = NULL;
    dg_client_close(c);
}

static void advance(int64_t ms)
{
    assert_true(ms >= 0);
    while (ms > 0) {
        int64_t step = ms < 20 * 3600 * 1000LL ? ms : 20 * 3600 * 1000LL;

        for (size_t i = 0; i < 8; i++)
            if (live[i])
                assert_int_equal(dg_client_ping(live[i], NULL), DG_OK);
        dgt_clock_advance(&srv, step);
        moved += step;
        ms -= step;
    }
}

static void advance_to(int64_t at)
{
    int64_t now = srv_now();

    if (at > now)
        advance(at - now);
}

/* A connection of `user`, subscribed from the box's cursor (or from now
 * when it has none). */
static dg_client *listen_as(const char *user, const char *password, struct box *b)
{
    dg_client_opts o = {
        .server = srv.addr, .fingerprint = srv.fingerprint, .on_event = on_ev, .user = b};
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Cursor since = DANGAN__V1__CURSOR__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_client *c;
    dg_reply *r;

    assert_int_equal(dg_client_open(&o, &c), DG_OK);
    assert_int_equal(dg_client_login(c, user, password, NULL), DG_OK);
    if (b->epoch) {
        since.epoch = b->epoch;
        since.seq = (uint64_t)b->seq;
        m.since = &since;
    }
    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    if (!b->epoch) {
        b->epoch = dg_reply_response(r)->subscribe->head->epoch;
        b->seq = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    }
    dg_reply_free(r);
    keep(c);
    return c;
}

static void pump(dg_client *c, int ms)
{
    int64_t until = dg_mono_ms() + ms;

    while (dg_mono_ms() < until)
        dg_client_poll(c, 20);
}

/* Polls until the box holds n reminders, at most 5 s (wall). */
static bool wait_n(dg_client *c, struct box *b, size_t n)
{
    int64_t until = dg_mono_ms() + 5000;

    while (b->n < n && dg_mono_ms() < until)
        dg_client_poll(c, 10);
    return b->n >= n;
}

/* Polls until the box's cursor reaches seq, at most 5 s. */
static bool wait_seq(dg_client *c, struct box *b, int64_t seq)
{
    int64_t until = dg_mono_ms() + 5000;

    while (b->seq < seq && dg_mono_ms() < until)
        dg_client_poll(c, 10);
    return b->seq >= seq;
}

static size_t count_of(const struct box *b, int64_t record_id)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n; i++)
        n += b->r[i].record_id == record_id;
    return n;
}

static dg_reply *create(Dangan__V1__Record *rec)
{
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;

    m.record = rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(admin, &req);
    if (dgt_code(r) != 0)
        fail_msg("create: %s: %s", dgt_reason(r), dg_reply_response(r)->status->message);
    return r;
}

/* A tier B customer owned by `owner`; its id and code (into code). */
static int64_t new_customer_in(const char *name, const char *owner, Dangan__V1__Tier tier,
                               char code[32])
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    cu.name = (char *)name;
    cu.tier = tier;
    o.username = (char *)owner;
    cu.owner = &o;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    r = create(&rec);
    id = dg_reply_response(r)->create->record->customer->id;
    snprintf(code, 32, "%s", dg_reply_response(r)->create->record->customer->code);
    dg_reply_free(r);
    return id;
}

static int64_t new_customer(const char *name, const char *owner, char code[32])
{
    return new_customer_in(name, owner, DANGAN__V1__TIER__TIER_B, code);
}

/* Hands customer `id` to `owner` with an Update (its tasks keep their
 * assignee). */
static void set_owner(int64_t id, const char *owner)
{
    Dangan__V1__GetRequest g = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__UserRef o = DANGAN__V1__USER_REF__INIT;
    char *mask[1] = {"owner"};
    dg_reply *r;

    g.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    g.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &g;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    m.expected_version = dg_reply_response(r)->get->record->customer->version;
    dg_reply_free(r);
    cu.id = id;
    o.username = (char *)owner;
    cu.owner = &o;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.update_mask = mask;
    m.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    r = dgt_call(admin, &req);
    if (dgt_code(r) != 0)
        fail_msg("update owner: %s: %s", dgt_reason(r), dg_reply_response(r)->status->message);
    dg_reply_free(r);
}

static int64_t new_task(int64_t customer, const char *title, int64_t due, const char *assignee)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task t = DANGAN__V1__TASK__INIT;
    Dangan__V1__UserRef a = DANGAN__V1__USER_REF__INIT;
    dg_reply *r;
    int64_t id;

    t.customer_id = customer;
    t.title = (char *)title;
    t.due_at_ms = due;
    a.username = (char *)assignee;
    t.assignee = &a;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &t;
    r = create(&rec);
    id = dg_reply_response(r)->create->record->task->id;
    dg_reply_free(r);
    return id;
}

static int64_t task_version(int64_t id)
{
    Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int64_t v;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK;
    m.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    v = dg_reply_response(r)->get->record->task->version;
    dg_reply_free(r);
    return v;
}

/* Updates one field of task `id` (due_at_ms, or done when due is 0);
 * returns the seq of its change. */
static void update_task(int64_t id, int64_t due, bool done)
{
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task t = DANGAN__V1__TASK__INIT;
    char *mask[1] = {due ? "due_at_ms" : "done"};
    dg_reply *r;

    t.id = id;
    t.due_at_ms = due;
    t.done = done;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &t;
    m.record = &rec;
    m.expected_version = task_version(id);
    m.update_mask = mask;
    m.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    r = dgt_call(admin, &req);
    if (dgt_code(r) != 0)
        fail_msg("update: %s: %s", dgt_reason(r), dg_reply_response(r)->status->message);
    dg_reply_free(r);
}

/* The newest change now: a subscription's head (then unsubscribed). */
static int64_t head(void)
{
    Dangan__V1__SubscribeRequest m = DANGAN__V1__SUBSCRIBE_REQUEST__INIT;
    Dangan__V1__UnsubscribeRequest u = DANGAN__V1__UNSUBSCRIBE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    int64_t seq;

    req.body_case = DANGAN__V1__REQUEST__BODY_SUBSCRIBE;
    req.subscribe = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    seq = (int64_t)dg_reply_response(r)->subscribe->head->seq;
    u.subscription_id = dg_reply_response(r)->subscribe->subscription_id;
    dg_reply_free(r);
    req.body_case = DANGAN__V1__REQUEST__BODY_UNSUBSCRIBE;
    req.unsubscribe = &u;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    return seq;
}

static int64_t new_note(int64_t customer, const char *summary, const char *follow_up);

/* A change every user who sees the customer gets (a note), after whatever
 * is before it in the feed: once a box's cursor reaches it, that connection
 * got all it ever will of what came before. Two notes: the first one's
 * commit starts a reminder pass (a note may have a follow-up date), which
 * the writer runs before the second, so a reminder written twice would be
 * in the feed before the fence too. */
static int64_t fence(int64_t customer)
{
    new_note(customer, "fence", "");
    new_note(customer, "fence", "");
    return head();
}

static int world_up(void **state)
{
    (void)state;
    moved = 0;
    dgt_server_start_prog(&srv, INI, DANGAND_TEST_PATH);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, PW1);
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, PW2);
    dgt_make_user(&srv, "m1", DANGAN__V1__ROLE__ROLE_MANAGER, PWM);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    keep(admin);
    return 0;
}

static int world_down(void **state)
{
    (void)state;
    for (size_t i = 0; i < 8; i++) /* admin's, and those a failed test left open */
        if (live[i])
            drop(live[i]);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ tasks */

/* A task of s1's customer assigned to the manager m1: nothing a minute
 * before its reminder time, then the reminder within a second (wall) of the
 * clock reaching it, to m1 and to nobody else (s1, the owner, s2 and the
 * admin see every change of that customer but not this). */
static void test_a_task_reminder_reaches_its_assignee_alone_on_time(void **state)
{
    static struct box b1, b2, bm, ba;
    char code[32];
    int64_t cust, task, due, t0, fseq;
    dg_client *c1, *c2, *cm, *ca;

    (void)state;
    memset(&b1, 0, sizeof b1);
    memset(&b2, 0, sizeof b2);
    memset(&bm, 0, sizeof bm);
    memset(&ba, 0, sizeof ba);
    cust = new_customer("深圳华信科技", "s1", code);
    c1 = listen_as("s1", PW1, &b1);
    c2 = listen_as("s2", PW2, &b2);
    cm = listen_as("m1", PWM, &bm);
    ca = listen_as("admin", srv.admin_password, &ba);
    due = srv_now() + 2 * HOUR_MS;
    task = new_task(cust, "回访报价", due, "m1");

    advance_to(due - LEAD_MS - 60000);
    dgt_server_sweep(&srv);
    pump(cm, 300);
    assert_int_equal(bm.n, 0);

    advance_to(due - LEAD_MS + 1);
    t0 = dg_mono_ms();
    assert_true(wait_n(cm, &bm, 1));
    assert_true(bm.r[0].got_ms - t0 <= 1000);
    assert_int_equal(bm.r[0].kind, DANGAN__V1__REMINDER_KIND__REMINDER_KIND_TASK_DUE);
    assert_int_equal(bm.r[0].record_id, task);
    assert_int_equal(bm.r[0].customer_id, cust);
    assert_int_equal(bm.r[0].due_at_ms, due);
    assert_int_equal(bm.r[0].remind_at_ms, due - LEAD_MS);
    assert_string_equal(bm.r[0].name, "深圳华信科技");
    assert_string_equal(bm.r[0].code, code);
    assert_string_equal(bm.r[0].title, "回访报价");
    assert_string_equal(bm.r[0].zone, ZONE);

    fseq = fence(cust);
    assert_true(wait_seq(c1, &b1, fseq));
    assert_true(wait_seq(c2, &b2, fseq));
    assert_true(wait_seq(ca, &ba, fseq));
    assert_true(wait_seq(cm, &bm, fseq));
    assert_int_equal(b1.n, 0);
    assert_int_equal(b2.n, 0);
    assert_int_equal(ba.n, 0);
    assert_int_equal(bm.n, 1);
    drop(c1);
    drop(c2);
    drop(cm);
    drop(ca);
}

/* The server goes down the moment a reminder comes due (SIGKILL, then
 * SIGTERM): after the restart the assignee, resuming from the cursor it
 * saved, has exactly one reminder in all. */
static void restart_at_the_moment(bool kill, const char *name)
{
    static struct box b;
    char code[32];
    int64_t cust, task, due, fseq;
    dg_client *c;

    memset(&b, 0, sizeof b);
    cust = new_customer(name, "s1", code);
    c = listen_as("s1", PW1, &b);
    due = srv_now() + 3 * HOUR_MS;
    task = new_task(cust, "到期即重启", due, "s1");
    advance_to(due - LEAD_MS - 1000);
    dgt_server_sweep(&srv);
    pump(c, 100);
    assert_int_equal(b.n, 0);

    advance_to(due - LEAD_MS);
    if (kill) {
        dgt_server_kill(&srv);
    } else {
        assert_int_equal(dgt_server_stop_keep(&srv), 0);
    }
    pump(c, 200); /* whatever had reached the connection */
    drop(c);
    drop(admin);
    dgt_server_restart(&srv, INI);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    keep(admin);

    c = listen_as("s1", PW1, &b); /* from the cursor it saved */
    fseq = fence(cust);
    assert_true(wait_seq(c, &b, fseq));
    assert_int_equal(count_of(&b, task), 1);
    assert_int_equal(b.n, 1);
    drop(c);
}

static void test_a_reminder_is_delivered_once_across_a_kill_at_its_moment(void **state)
{
    (void)state;
    restart_at_the_moment(true, "杀进程时到期的公司");
}

static void test_a_reminder_is_delivered_once_across_a_stop_at_its_moment(void **state)
{
    (void)state;
    restart_at_the_moment(false, "停机时到期的公司");
}

/* A reminder that came due while the server was down (the task is even
 * overdue by then) is delivered when it starts, for the time it was due. */
static void test_a_reminder_due_while_down_is_delivered_at_start(void **state)
{
    static struct box b;
    char code[32];
    int64_t cust, task, due;
    dg_client *c;

    (void)state;
    memset(&b, 0, sizeof b);
    cust = new_customer("停机期间到期的公司", "s2", code);
    c = listen_as("s2", PW2, &b);
    due = srv_now() + HOUR_MS;
    task = new_task(cust, "停机期间", due, "s2");
    dgt_server_sweep(&srv);
    pump(c, 100);
    assert_int_equal(b.n, 0);
    drop(c);
    drop(admin);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);

    advance(4 * HOUR_MS);
    dgt_server_restart(&srv, INI);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    keep(admin);
    c = listen_as("s2", PW2, &b);
    assert_true(wait_n(c, &b, 1));
    assert_int_equal(b.r[0].record_id, task);
    assert_int_equal(b.r[0].remind_at_ms, due - LEAD_MS);
    assert_true(wait_seq(c, &b, fence(cust)));
    assert_int_equal(b.n, 1);
    drop(c);
}

/* Two tasks due at one time, one done before: only the other is reminded. */
static void test_a_task_done_before_its_time_is_not_reminded(void **state)
{
    static struct box b;
    char code[32];
    int64_t cust, open_task, done_task, due;
    dg_client *c;

    (void)state;
    memset(&b, 0, sizeof b);
    cust = new_customer("已完成任务的公司", "s1", code);
    c = listen_as("s1", PW1, &b);
    due = srv_now() + 5 * HOUR_MS;
    open_task = new_task(cust, "还没做", due, "s1");
    done_task = new_task(cust, "已经做了", due, "s1");
    update_task(done_task, 0, true);

    advance_to(due + 1);
    assert_true(wait_n(c, &b, 1));
    assert_true(wait_seq(c, &b, fence(cust)));
    assert_int_equal(count_of(&b, open_task), 1);
    assert_int_equal(count_of(&b, done_task), 0);
    assert_int_equal(b.n, 1);
    drop(c);
}

/* A task reminded, then moved a day later: not again for the same time,
 * and again at the new one. */
static void test_a_task_moved_is_reminded_again_at_its_new_time(void **state)
{
    static struct box b;
    char code[32];
    int64_t cust, task, due, later;
    dg_client *c;

    (void)state;
    memset(&b, 0, sizeof b);
    cust = new_customer("改期任务的公司", "s1", code);
    c = listen_as("s1", PW1, &b);
    due = srv_now() + 2 * HOUR_MS;
    later = due + DAY_MS;
    task = new_task(cust, "改期", due, "s1");
    advance_to(due - LEAD_MS);
    assert_true(wait_n(c, &b, 1));
    assert_int_equal(b.r[0].due_at_ms, due);

    update_task(task, later, false);
    advance(LEAD_MS);
    dgt_server_sweep(&srv);
    assert_true(wait_seq(c, &b, fence(cust)));
    assert_int_equal(b.n, 1);

    advance_to(later - LEAD_MS - 1000);
    dgt_server_sweep(&srv);
    assert_true(wait_seq(c, &b, fence(cust)));
    assert_int_equal(b.n, 1);
    advance_to(later - LEAD_MS);
    assert_true(wait_n(c, &b, 2));
    assert_int_equal(b.r[1].record_id, task);
    assert_int_equal(b.r[1].due_at_ms, later);
    assert_int_equal(b.r[1].remind_at_ms, later - LEAD_MS);
    drop(c);
}

/* A task of a customer in a restricted tier (A) whose assignee, s1, lost
 * it (handed to s2) before the reminder time: s1 is not reminded of a
 * customer it may no longer see, and nobody else is either. */
static void test_no_reminder_to_an_assignee_who_may_no_longer_see_the_customer(void **state)
{
    static struct box b1, b2;
    char code[32], seen[32];
    int64_t cust, other, due;
    int n_skipped;
    dg_client *c1, *c2;

    (void)state;
    memset(&b1, 0, sizeof b1);
    memset(&b2, 0, sizeof b2);
    cust = new_customer_in("华南重点客户", "s1", DANGAN__V1__TIER__TIER_A, code);
    other = new_customer("华南普通客户", "s1", seen);
    c1 = listen_as("s1", PW1, &b1);
    c2 = listen_as("s2", PW2, &b2);
    due = srv_now() + 2 * HOUR_MS;
    new_task(cust, "重点回访", due, "s1");
    set_owner(cust, "s2");
    n_skipped = dgt_log_count(&srv, "skipped=1");

    advance_to(due - LEAD_MS);
    dgt_log_wait(&srv, "skipped=1", n_skipped);
    assert_true(wait_seq(c1, &b1, fence(other)));
    assert_true(wait_seq(c2, &b2, fence(cust)));
    assert_int_equal(b1.n, 0);
    assert_int_equal(b2.n, 0);
    drop(c1);
    drop(c2);
}

/* ------------------------------------------------------------ dates */

static int64_t new_note(int64_t customer, const char *summary, const char *follow_up)
{
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Interaction in = DANGAN__V1__INTERACTION__INIT;
    dg_reply *r;
    int64_t id;

    in.customer_id = customer;
    in.channel = DANGAN__V1__CHANNEL__CHANNEL_PHONE;
    in.summary = (char *)summary;
    in.next_follow_up = (char *)follow_up;
    rec.kind_case = DANGAN__V1__RECORD__KIND_INTERACTION;
    rec.interaction = &in;
    r = create(&rec);
    id = dg_reply_response(r)->create->record->interaction->id;
    dg_reply_free(r);
    return id;
}

#define CLI(...)                                                                                   \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        dgt_cli(&run, cfg, NULL, argv_);                                                           \
    } while (0)

/* The instant of 09:00 (the default follow_up_remind_minute) on `date` in
 * Shanghai: 01:00 UTC. */
static int64_t nine_on(const char *date)
{
    int64_t start;

    assert_int_equal(dg_tz_day_start(ZONE, date, &start), DG_OK);
    return start + 9 * HOUR_MS;
}

/* Reaches `at` with nothing delivered a minute before, then exactly one
 * more reminder; returns it. */
static const struct rem *reminded_at(dg_client *c, struct box *b, int64_t customer, int64_t at)
{
    size_t n = b->n;

    advance_to(at - 60000);
    dgt_server_sweep(&srv);
    assert_true(wait_seq(c, b, fence(customer)));
    assert_int_equal(b->n, n);
    advance_to(at);
    assert_true(wait_n(c, b, n + 1));
    assert_true(wait_seq(c, b, fence(customer)));
    assert_int_equal(b->n, n + 1);
    return &b->r[n];
}

/* A note's follow-up date two days on (Shanghai) is reminded at 09:00 there
 * (01:00 UTC), to the customer's owner; a contract that expires 31 days
 * after that date, 30 days before (the default lead), at 09:00 too.
 * `dangan watch` shows each with the customer's name and code and the time
 * in Shanghai, and in --json. */
static void test_follow_up_and_contract_reminders_at_their_local_times(void **state)
{
    static struct box b;
    char code[32], day[DG_DATE_LEN], expires[DG_DATE_LEN], contract_day[DG_DATE_LEN];
    char file[300], line[256], since[32];
    const struct rem *r;
    int64_t cust, note, seq0;
    dg_client *c;
    FILE *f;

    (void)state;
    memset(&b, 0, sizeof b);
    cust = new_customer("上海远景贸易", "s1", code);
    c = listen_as("s1", PW1, &b);
    seq0 = b.seq;
    assert_int_equal(dg_tz_date(ZONE, srv_now() + 2 * DAY_MS, day), DG_OK);
    assert_int_equal(dg_date_add_days(day, 31, expires), DG_OK);
    assert_int_equal(dg_date_add_days(day, 1, contract_day), DG_OK);
    note = new_note(cust, "下周再约拜访", day);

    dgt_tempdir(cfg, sizeof cfg);
    snprintf(file, sizeof file, "%s/contract.pdf", cfg);
    f = fopen(file, "wb");
    assert_non_null(f);
    fputs("%PDF-1.4 a contract\n", f);
    fclose(f);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    CLI("doc", "upload", code, file, "--kind", "contract", "--title", "年度框架合同", "--expires",
        expires);
    if (run.status != 0)
        fail_msg("doc upload: %s%s", run.out, run.err);

    r = reminded_at(c, &b, cust, nine_on(day));
    assert_int_equal(r->kind, DANGAN__V1__REMINDER_KIND__REMINDER_KIND_FOLLOW_UP);
    assert_int_equal(r->record_id, note);
    assert_string_equal(r->due_on, day);
    assert_int_equal(r->remind_at_ms, nine_on(day));
    assert_string_equal(r->title, "下周再约拜访");

    r = reminded_at(c, &b, cust, nine_on(contract_day));
    assert_int_equal(r->kind, DANGAN__V1__REMINDER_KIND__REMINDER_KIND_CONTRACT_EXPIRING);
    assert_string_equal(r->due_on, expires);
    assert_string_equal(r->title, "年度框架合同");
    drop(c);

    /* the owner's watch: local times, names and codes */
    dgt_cli_login(&run, cfg, &srv, "s1", PW1);
    snprintf(since, sizeof since, "%lld", (long long)seq0);
    CLI("watch", "--once"); /* from now: saves the feed's epoch with the position */
    assert_int_equal(run.status, 0);
    CLI("watch", "--once", "--since", since);
    if (run.status != 0)
        fail_msg("watch: %s%s", run.out, run.err);
    snprintf(line, sizeof line, "%s 09:00  reminder: follow up 上海远景贸易 (%s) on %s", day, code,
             day);
    if (!strstr(run.out, line))
        fail_msg("no \"%s\" in:\n%s\n%s", line, run.out, run.err);
    snprintf(line, sizeof line,
             "%s 09:00  reminder: contract \"年度框架合同\" of 上海远景贸易 (%s) expires on %s",
             contract_day, code, expires);
    if (!strstr(run.out, line))
        fail_msg("no \"%s\" in:\n%s\n%s", line, run.out, run.err);
    CLI("--json", "watch", "--once", "--since", since);
    assert_int_equal(run.status, 0);
    snprintf(line, sizeof line, "\"remind_at\":\"%s 09:00\"", day);
    assert_non_null(strstr(run.out, line));
    assert_non_null(strstr(run.out, "\"kind\":\"follow_up\""));
    assert_non_null(strstr(run.out, "\"kind\":\"contract_expiring\""));
    assert_non_null(strstr(run.out, "\"customer_name\":\"上海远景贸易\""));
    dgt_rmtree(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_task_reminder_reaches_its_assignee_alone_on_time,
                                        world_up, world_down),
        cmocka_unit_test_setup_teardown(
            test_a_reminder_is_delivered_once_across_a_kill_at_its_moment, world_up, world_down),
        cmocka_unit_test_setup_teardown(
            test_a_reminder_is_delivered_once_across_a_stop_at_its_moment, world_up, world_down),
        cmocka_unit_test_setup_teardown(test_a_reminder_due_while_down_is_delivered_at_start,
                                        world_up, world_down),
        cmocka_unit_test_setup_teardown(test_a_task_done_before_its_time_is_not_reminded, world_up,
                                        world_down),
        cmocka_unit_test_setup_teardown(test_a_task_moved_is_reminded_again_at_its_new_time,
                                        world_up, world_down),
        cmocka_unit_test_setup_teardown(
            test_no_reminder_to_an_assignee_who_may_no_longer_see_the_customer, world_up,
            world_down),
        cmocka_unit_test_setup_teardown(test_follow_up_and_contract_reminders_at_their_local_times,
                                        world_up, world_down),
    };

    setenv("TZ", "UTC", 1); /* the machine's zone plays no part */
    return cmocka_run_group_tests_name("reminders", tests, NULL, NULL);
}
