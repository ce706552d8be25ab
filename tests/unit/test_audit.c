/* test_audit.c - the audit record's canonical bytes and hash chain
 * (docs/security.md). The expected bytes are built here independently, so a change
 * to the format (which would break every stored chain) fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/sha256.h>
#include <sqlite3.h>

#include "audit.h"
#include "fixture.h"

static const dg_audit_rec sample = {
    .seq = 3,
    .at = 1795435386981,
    .user_id = 7,
    .username = "张三",
    .peer = "10.0.0.1:5000",
    .action = "session.login",
    .entity = "session",
    .entity_id = 42,
    .outcome = "ok",
    .detail = "{\"reason\":\"x\"}",
};

static void put64(uint8_t **p, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void putstr(uint8_t **p, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);

    for (int i = 3; i >= 0; i--)
        *(*p)++ = (uint8_t)(n >> (8 * i));
    memcpy(*p, s, n);
    *p += n;
}

static size_t expected_bytes(const dg_audit_rec *r, uint8_t *out)
{
    uint8_t *p = out;

    memcpy(p, "DGA1", 4);
    p += 4;
    put64(&p, (uint64_t)r->seq);
    put64(&p, (uint64_t)r->at);
    put64(&p, (uint64_t)r->user_id);
    putstr(&p, r->username);
    putstr(&p, r->peer);
    putstr(&p, r->action);
    putstr(&p, r->entity);
    put64(&p, (uint64_t)r->entity_id);
    putstr(&p, r->outcome);
    putstr(&p, r->detail);
    return (size_t)(p - out);
}

static void test_canonical_bytes_follow_the_documented_layout(void **state)
{
    uint8_t want[512];
    size_t n = expected_bytes(&sample, want);
    dg_buf got = DG_BUF_INIT;

    (void)state;
    dg_audit_canonical(&sample, &got);
    assert_int_equal(dg_buf_avail(&got), n);
    assert_memory_equal(dg_buf_head(&got), want, n);
    dg_buf_fini(&got);
}

static void test_hash_is_sha256_of_previous_hash_and_canonical_bytes(void **state)
{
    uint8_t prev[32], bytes[512], input[600], want[32], got[32];
    size_t n = expected_bytes(&sample, bytes);

    (void)state;
    memset(prev, 0xab, sizeof prev);
    memcpy(input, prev, 32);
    memcpy(input + 32, bytes, n);
    assert_int_equal(mbedtls_sha256_ret(input, 32 + n, want, 0), 0);
    dg_audit_hash(prev, &sample, got);
    assert_memory_equal(got, want, 32);
}

static void test_changing_any_field_changes_the_hash(void **state)
{
    uint8_t prev[32] = {0}, base[32], h[32];
    dg_audit_rec r;

    (void)state;
    dg_audit_hash(prev, &sample, base);
    for (int field = 0; field < 10; field++) {
        r = sample;
        switch (field) {
        case 0:
            r.seq++;
            break;
        case 1:
            r.at++;
            break;
        case 2:
            r.user_id++;
            break;
        case 3:
            r.username = "张四";
            break;
        case 4:
            r.peer = "10.0.0.1:5001";
            break;
        case 5:
            r.action = "session.logout";
            break;
        case 6:
            r.entity = "user";
            break;
        case 7:
            r.entity_id++;
            break;
        case 8:
            r.outcome = "denied";
            break;
        case 9:
            r.detail = "{\"reason\":\"y\"}";
            break;
        }
        dg_audit_hash(prev, &r, h);
        assert_memory_not_equal(h, base, 32);
    }
}

static void test_moving_bytes_between_fields_changes_the_hash(void **state)
{
    uint8_t prev[32] = {0}, a[32], b[32];
    dg_audit_rec r1 = sample, r2 = sample;

    (void)state;
    /* Length prefixes keep "ab"+"c" apart from "a"+"bc". */
    r1.action = "ab";
    r1.entity = "c";
    r2.action = "a";
    r2.entity = "bc";
    dg_audit_hash(prev, &r1, a);
    dg_audit_hash(prev, &r2, b);
    assert_memory_not_equal(a, b, 32);
}

static void test_append_numbers_records_and_links_them(void **state)
{
    char dir[256], path[320], err[256];
    dg_audit_chain chain, loaded;
    dg_audit_rec r = sample;
    uint8_t zero[32] = {0}, h1[32];
    dg_store *st;

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.db", dir);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_audit_chain_load(st, &chain), DG_OK);
    assert_int_equal(chain.seq, 0);
    assert_memory_equal(chain.hash, zero, 32);
    assert_int_equal(dg_audit_append(st, &chain, &r), DG_OK);
    assert_int_equal(r.seq, 1);
    dg_audit_hash(zero, &r, h1);
    assert_memory_equal(chain.hash, h1, 32);
    assert_int_equal(dg_audit_append(st, &chain, &r), DG_OK);
    assert_int_equal(r.seq, 2);
    assert_int_equal(dg_audit_chain_load(st, &loaded), DG_OK);
    assert_int_equal(loaded.seq, 2);
    assert_memory_equal(loaded.hash, chain.hash, 32);
    dg_store_close(st);
    dgt_rmtree(dir);
}

/* The tail check recomputes only the newest records, chaining the first
 * from its predecessor's stored hash: a change among them is named, one
 * before them is not looked at (the full verify finds it). */
static void test_tail_verify_checks_only_the_newest_records(void **state)
{
    char dir[256], path[320], err[256];
    dg_audit_chain chain;
    dg_audit_verdict v;
    dg_store *st;
    sqlite3 *db;

    (void)state;
    dgt_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.db", dir);
    assert_int_equal(dg_store_create(path, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_audit_chain_load(st, &chain), DG_OK);
    assert_int_equal(dg_store_begin(st), DG_OK);
    for (int i = 0; i < 30; i++) {
        dg_audit_rec r = sample;

        assert_int_equal(dg_audit_append(st, &chain, &r), DG_OK);
    }
    assert_int_equal(dg_store_commit(st), DG_OK);
    assert_int_equal(dg_audit_verify_tail(st, 10, &v), DG_OK);
    assert_true(v.ok);
    assert_int_equal(v.checked, 30);
    assert_int_equal(v.head.seq, 30);
    assert_int_equal(dg_audit_verify_tail(st, 100, &v), DG_OK); /* longer than the log */
    assert_true(v.ok);
    assert_int_equal(v.checked, 30);
    dg_store_close(st);

    /* as an intruder with the file would: change record 25, then record 5 */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER audit_log_no_update;"
                                  "UPDATE audit_log SET detail = '{}' WHERE seq = 25;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_audit_verify_tail(st, 10, &v), DG_OK);
    assert_false(v.ok);
    assert_int_equal(v.first_bad_seq, 25);
    dg_store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "UPDATE audit_log SET detail = '{\"reason\":\"x\"}' "
                     "WHERE seq = 25; UPDATE audit_log SET detail = '{}' WHERE seq = 5;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(dg_store_open(path, false, &st, err, sizeof err), DG_OK);
    assert_int_equal(dg_audit_verify_tail(st, 10, &v), DG_OK);
    assert_true(v.ok);
    assert_int_equal(dg_audit_verify(st, NULL, &v), DG_OK);
    assert_false(v.ok);
    assert_int_equal(v.first_bad_seq, 5);
    dg_store_close(st);
    dgt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_bytes_follow_the_documented_layout),
        cmocka_unit_test(test_hash_is_sha256_of_previous_hash_and_canonical_bytes),
        cmocka_unit_test(test_changing_any_field_changes_the_hash),
        cmocka_unit_test(test_moving_bytes_between_fields_changes_the_hash),
        cmocka_unit_test(test_append_numbers_records_and_links_them),
        cmocka_unit_test(test_tail_verify_checks_only_the_newest_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
