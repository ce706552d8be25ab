/* test_crash.c - kill -9 under load, restart, and check that nothing
 * acknowledged was lost.
 *
 * Each cycle starts dangand on the same data directory, runs four writers
 * (each its own connection, eight creates and updates in flight) and kills
 * the server with SIGKILL at a random moment: after a random number (1 to
 * 400) of acknowledged writes, so every cycle kills a server under load
 * however slow the machine is. After the restart a checker
 * looks at what is on disk and what the server says:
 * - every acknowledged create is there, and every customer shows the value
 *   of its last acknowledged update, or of the one update that was in flight
 *   when the server died (never an older value, never anything else);
 * - every change row committed since the last check has exactly one audit
 *   record naming it (detail.change_seq), and the other way round: no
 *   mutation without its audit and change rows;
 * - change seqs continue without a gap;
 * - PRAGMA quick_check is ok, and AuditVerify recomputes the whole chain.
 * DANGAN_CRASH_CYCLES sets the number of cycles (default 20) and
 * DANGAN_CRASH_SEED the random seed (printed, so a failure can be replayed).
 * The last cycle is followed by a full check of every record and a clean stop. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "fixture.h"

#define N_WRITERS 4
#define IN_FLIGHT 8
#define VALUE_LEN 40

/* One customer a writer created, as it was last acknowledged. */
struct rec {
    int64_t id;
    int64_t version;
    char value[VALUE_LEN];    /* notes */
    char inflight[VALUE_LEN]; /* the update sent and not answered when the server died */
    bool has_inflight;
    bool is_touched; /* changed in this cycle: checked after the restart */
};

struct slot {
    uint64_t req_id;
    bool is_create;
    size_t rec; /* update: which record */
    char value[VALUE_LEN];
};

struct writer {
    int index;
    pthread_t thread;
    dg_client *client;
    struct rec *recs;
    size_t n_recs, cap_recs;
    unsigned seed;
    int cycle;
    uint64_t n_acked; /* acknowledged writes, all cycles */
    uint64_t counter;
    char error[256]; /* a reply the checker did not expect */
};

static dgt_server srv;
static struct writer writers[N_WRITERS];
static atomic_bool is_stopping;     /* set by the test once the server is killed */
static atomic_uint_fast64_t n_acks; /* acknowledged writes of all writers, this cycle */
static atomic_bool has_refusal;     /* a writer met a reply it did not expect (its error) */

/* ------------------------------------------------------------ the writers */

static int send_create(struct writer *w, struct slot *s)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    char name[96];

    snprintf(name, sizeof name, "崩溃测试W%d-%d-%llu", w->index, w->cycle,
             (unsigned long long)w->counter);
    snprintf(s->value, sizeof s->value, "c%d-n%llu", w->cycle, (unsigned long long)w->counter++);
    s->is_create = true;
    cu.name = name;
    cu.notes = s->value;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    return dg_client_send(w->client, &req, &s->req_id);
}

static int send_update(struct writer *w, struct slot *s, size_t i)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest m = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    char *mask[] = {"notes"};
    struct rec *r = &w->recs[i];

    snprintf(s->value, sizeof s->value, "c%d-u%llu", w->cycle, (unsigned long long)w->counter++);
    s->is_create = false;
    s->rec = i;
    cu.id = r->id;
    cu.notes = s->value;
    rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
    rec.customer = &cu;
    m.record = &rec;
    m.expected_version = r->version;
    m.update_mask = mask;
    m.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &m;
    r->has_inflight = true; /* until answered */
    snprintf(r->inflight, sizeof r->inflight, "%s", s->value);
    return dg_client_send(w->client, &req, &s->req_id);
}

/* Sends the next write into slot `s`: an update of a record with none in
 * flight, or a create. */
static int send_next(struct writer *w, struct slot *s)
{
    if (w->n_recs && rand_r(&w->seed) % 3 != 0) {
        size_t i = (size_t)rand_r(&w->seed) % w->n_recs;

        for (size_t k = 0; k < 8; k++, i = (i + 1) % w->n_recs)
            if (!w->recs[i].has_inflight)
                return send_update(w, s, i);
    }
    return send_create(w, s);
}

/* The answer to slot `s`: acknowledged writes are remembered. False when
 * the connection is gone (the server was killed). */
static bool take_answer(struct writer *w, struct slot *s)
{
    dg_reply *r;
    const Dangan__V1__Response *resp;

    if (dg_client_wait(w->client, s->req_id, &r) != DG_OK)
        return false; /* in flight when the server died: outcome unknown */
    resp = dg_reply_response(r);
    if (resp->status->code == DANGAN__V1__CODE__OK && s->is_create) {
        const Dangan__V1__Customer *cu = resp->create->record->customer;
        struct rec *n;

        if (w->n_recs == w->cap_recs) {
            w->cap_recs = w->cap_recs ? w->cap_recs * 2 : 256;
            w->recs = realloc(w->recs, w->cap_recs * sizeof *w->recs);
        }
        n = &w->recs[w->n_recs++];
        memset(n, 0, sizeof *n);
        n->id = cu->id;
        n->version = cu->version;
        n->is_touched = true;
        snprintf(n->value, sizeof n->value, "%s", s->value);
        w->n_acked++;
        atomic_fetch_add(&n_acks, 1);
    } else if (resp->status->code == DANGAN__V1__CODE__OK) {
        struct rec *x = &w->recs[s->rec];

        x->version = resp->update->record->customer->version;
        snprintf(x->value, sizeof x->value, "%s", s->value);
        x->has_inflight = false;
        x->is_touched = true;
        w->n_acked++;
        atomic_fetch_add(&n_acks, 1);
    } else if (!s->is_create) {
        w->recs[s->rec].has_inflight = false; /* refused: not applied */
        if (!w->error[0])
            snprintf(w->error, sizeof w->error, "update refused: %s %s", resp->status->reason,
                     resp->status->message);
        atomic_store(&has_refusal, true);
    } else {
        if (!w->error[0])
            snprintf(w->error, sizeof w->error, "create refused: %s %s", resp->status->reason,
                     resp->status->message);
        atomic_store(&has_refusal, true);
    }
    dg_reply_free(r);
    return true;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct slot slots[IN_FLIGHT];
    size_t head = 0, n = 0;

    while (!atomic_load(&is_stopping)) {
        while (n < IN_FLIGHT) {
            if (send_next(w, &slots[(head + n) % IN_FLIGHT]) != DG_OK)
                return NULL;
            n++;
        }
        if (!take_answer(w, &slots[head]))
            return NULL;
        head = (head + 1) % IN_FLIGHT;
        n--;
    }
    return NULL;
}

/* ------------------------------------------------------------ the checker */

/* Every touched record (all of them when `all`) against the database. */
static void check_records(sqlite3 *db, bool all, uint64_t *n_checked)
{
    sqlite3_stmt *s;

    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT version, notes FROM customers WHERE id = ?1", -1, &s, NULL),
        SQLITE_OK);
    for (int wi = 0; wi < N_WRITERS; wi++) {
        struct writer *w = &writers[wi];

        for (size_t i = 0; i < w->n_recs; i++) {
            struct rec *r = &w->recs[i];
            int64_t version;
            const char *notes;

            if (!all && !r->is_touched && !r->has_inflight)
                continue;
            sqlite3_bind_int64(s, 1, r->id);
            if (sqlite3_step(s) != SQLITE_ROW)
                fail_msg("acknowledged customer %lld is gone", (long long)r->id);
            version = sqlite3_column_int64(s, 0);
            notes = (const char *)sqlite3_column_text(s, 1);
            if (version == r->version && strcmp(notes, r->value) == 0) {
                /* as acknowledged */
            } else if (r->has_inflight && version == r->version + 1 &&
                       strcmp(notes, r->inflight) == 0) {
                r->version = version; /* the update in flight had committed */
                snprintf(r->value, sizeof r->value, "%s", r->inflight);
            } else {
                fail_msg("customer %lld is at version %lld \"%s\"; acknowledged: version %lld "
                         "\"%s\"%s%s",
                         (long long)r->id, (long long)version, notes, (long long)r->version,
                         r->value, r->has_inflight ? ", in flight: " : "",
                         r->has_inflight ? r->inflight : "");
            }
            r->has_inflight = false;
            r->is_touched = false;
            (*n_checked)++;
            sqlite3_reset(s);
        }
    }
    sqlite3_finalize(s);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Reads column 0 of `sql` (one ?1 bound to `after`) into a sorted array. */
static size_t read_seqs(sqlite3 *db, const char *sql, int64_t after, int64_t **out)
{
    sqlite3_stmt *s;
    size_t n = 0, cap = 1024;
    int64_t *v = malloc(cap * sizeof *v);

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, after);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    qsort(v, n, sizeof *v, cmp_i64);
    *out = v;
    return n;
}

/* Changes and audit records committed since the last check pair up one to
 * one, and the change seqs continue without a gap. */
static void check_changes(sqlite3 *db, int64_t *last_seq, int64_t *last_audit)
{
    int64_t *changes, *audited, newest_audit = *last_audit;
    size_t n_changes = read_seqs(db, "SELECT seq FROM changes WHERE seq > ?1", *last_seq, &changes);
    size_t n_audited = read_seqs(db,
                                 "SELECT json_extract(detail, '$.change_seq') FROM audit_log"
                                 " WHERE seq > ?1 AND json_extract(detail, '$.change_seq')"
                                 " IS NOT NULL",
                                 *last_audit, &audited);
    sqlite3_stmt *s;

    for (size_t i = 0; i < n_changes; i++)
        if (changes[i] != *last_seq + 1 + (int64_t)i)
            fail_msg("change seq %lld follows %lld: a gap", (long long)changes[i],
                     (long long)(i ? changes[i - 1] : *last_seq));
    if (n_audited != n_changes || memcmp(changes, audited, n_changes * sizeof *changes) != 0)
        fail_msg("%zu changes but %zu audit records name a change since seq %lld", n_changes,
                 n_audited, (long long)*last_seq);
    if (n_changes)
        *last_seq = changes[n_changes - 1];
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM audit_log", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    newest_audit = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    *last_audit = newest_audit;
    free(changes);
    free(audited);
}

static void check_structure(sqlite3 *db, const char *pragma)
{
    sqlite3_stmt *s;

    assert_int_equal(sqlite3_prepare_v2(db, pragma, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
        fail_msg("%s: %s", pragma, sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
}

static void check_audit_chain(dg_client *admin)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditVerifyRequest m = DANGAN__V1__AUDIT_VERIFY_REQUEST__INIT;
    dg_reply *r;

    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_VERIFY;
    req.audit_verify = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    if (!dg_reply_response(r)->audit_verify->ok)
        fail_msg("the audit chain does not verify at %llu: %s",
                 (unsigned long long)dg_reply_response(r)->audit_verify->first_bad_seq,
                 dg_reply_response(r)->audit_verify->problem);
    dg_reply_free(r);
}

static sqlite3 *open_db(void)
{
    char path[400];
    sqlite3 *db;

    dgt_db_path(&srv, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* ------------------------------------------------------------ the test */

static unsigned env_unsigned(const char *name, unsigned dflt)
{
    const char *v = getenv(name);

    return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

/* Waits until the writers have had `n` writes acknowledged this cycle, or
 * one met a refusal (reported once the writers are joined). */
static void wait_for_acks(uint64_t n)
{
    int64_t guard = dg_mono_ms() + 60000;

    while (atomic_load(&n_acks) < n && !atomic_load(&has_refusal)) {
        if (dg_mono_ms() > guard)
            fail_msg("%llu of %llu writes acknowledged in a minute",
                     (unsigned long long)atomic_load(&n_acks), (unsigned long long)n);
        usleep(1000);
    }
}

static void test_kill_9_under_load_loses_nothing_acknowledged(void **state)
{
    unsigned cycles = env_unsigned("DANGAN_CRASH_CYCLES", 20);
    unsigned seed = env_unsigned("DANGAN_CRASH_SEED", (unsigned)time(NULL));
    int64_t last_seq = 0, last_audit = 0;
    uint64_t n_checked = 0, n_acked = 0;
    sqlite3 *db;
    dg_client *admin;

    (void)state;
    print_message("crash test: %u cycles, DANGAN_CRASH_SEED=%u\n", cycles, seed);
    dgt_server_start(&srv, NULL);
    for (unsigned cycle = 0; cycle < cycles; cycle++) {
        uint64_t kill_after = 1 + rand_r(&seed) % 400;

        atomic_store(&is_stopping, false);
        atomic_store(&n_acks, 0);
        for (int i = 0; i < N_WRITERS; i++) {
            struct writer *w = &writers[i];

            w->index = i;
            w->cycle = (int)cycle;
            w->seed = rand_r(&seed);
            w->client = dgt_login(&srv, "admin", srv.admin_password);
            assert_int_equal(pthread_create(&w->thread, NULL, writer_main, w), 0);
        }
        wait_for_acks(kill_after);
        dgt_server_kill(&srv);
        atomic_store(&is_stopping, true);
        for (int i = 0; i < N_WRITERS; i++) {
            pthread_join(writers[i].thread, NULL);
            dg_client_close(writers[i].client);
            if (writers[i].error[0])
                fail_msg("writer %d: %s", i, writers[i].error);
        }

        dgt_server_restart(&srv, NULL);
        db = open_db();
        check_records(db, cycle + 1 == cycles, &n_checked);
        check_changes(db, &last_seq, &last_audit);
        check_structure(db, cycle + 1 == cycles ? "PRAGMA integrity_check" : "PRAGMA quick_check");
        sqlite3_close(db);
        admin = dgt_login(&srv, "admin", srv.admin_password);
        check_audit_chain(admin);
        dg_client_close(admin);
    }
    for (int i = 0; i < N_WRITERS; i++) {
        n_acked += writers[i].n_acked;
        free(writers[i].recs);
    }
    print_message("crash test: %u cycles, %llu acknowledged writes, %llu record checks, "
                  "%lld changes, none lost\n",
                  cycles, (unsigned long long)n_acked, (unsigned long long)n_checked,
                  (long long)last_seq);
    assert_true(n_acked > 0);
    dgt_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_9_under_load_loses_nothing_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
