/* test_documents.c - documents attached to a customer, through libdangan
 * against a real server over real TLS: an upload whose connection is
 * dropped after a random chunk goes on where the server stands and
 * completes; a wrong SHA-256 and a file over [documents] max_size_mib are
 * refused; the same content uploaded twice is stored once; a restricted
 * customer's documents read exactly as missing ones to others; a user's
 * unfinished uploads are bounded; every chunk downloaded is audited;
 * uploads and archives reach the change feed; backup and restore keep every
 * document; `dangand check` finds a damaged content row; a v6 database
 * migrates. The CLI's side is test_documents_cli.c. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "docs_world.h"

/* ------------------------------------------------------------ tests */

static void test_upload_cut_at_a_random_chunk_resumes_and_completes(void **state)
{
    size_t n = 12 * MIB + 12345;
    uint8_t *data = dgt_doc_bytes(n, 12);
    dg_client *c = dgt_login(&srv, "admin", srv.admin_password);
    unsigned seed = (unsigned)time(NULL);
    dg_reply *r = dgt_doc_begin(c, customer, data, n, NULL);
    int64_t up, received, id;
    uint32_t cs;
    size_t n_chunks, cut;

    (void)state;
    assert_int_equal(dgt_code(r), 0);
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    cs = dg_reply_response(r)->doc_upload_begin->chunk_size;
    dg_reply_free(r);
    n_chunks = (n + cs - 1) / cs;
    srand(seed);
    cut = 1 + (size_t)rand() % (n_chunks - 2); /* the last chunk is never sent before the cut */
    print_message("cutting after chunk %zu of %zu (seed %u)\n", cut, n_chunks, seed);
    /* the cut chunk is sent and the connection dropped without its answer */
    dgt_doc_send_rest(c, up, data, cut * cs < n ? cut * cs : n, 0, cs);
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__DocUploadChunkRequest m = DANGAN__V1__DOC_UPLOAD_CHUNK_REQUEST__INIT;

        m.upload_id = up;
        m.offset = (int64_t)(cut * cs);
        m.data.data = data + cut * cs;
        m.data.len = n - cut * cs < cs ? n - cut * cs : cs;
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_UPLOAD_CHUNK;
        req.doc_upload_chunk = &m;
        assert_int_equal(dg_client_send(c, &req, NULL), DG_OK);
    }
    dg_client_close(c);

    c = dgt_login(&srv, "admin", srv.admin_password);
    /* a finish before every byte is there is refused, and changes nothing */
    r = dgt_doc_finish(c, up);
    assert_int_equal(dgt_code(r), 9 /* FAILED_PRECONDITION */);
    dg_reply_free(r);
    r = dgt_doc_status(c, up);
    assert_int_equal(dgt_code(r), 0);
    received = dg_reply_response(r)->doc_upload_status->received;
    assert_int_equal(dg_reply_response(r)->doc_upload_status->size, (int64_t)n);
    assert_int_equal(dg_reply_response(r)->doc_upload_status->document_id, 0);
    dg_reply_free(r);
    /* the chunk sent as the connection dropped was stored or not, never in part */
    assert_true(received == (int64_t)(cut * cs) || received == (int64_t)((cut + 1) * cs));
    /* a chunk at another offset is refused with where to go on */
    if (received > 0) {
        r = dgt_doc_chunk(c, up, data, 0, cs);
        assert_int_equal(dgt_code(r), 9 /* FAILED_PRECONDITION */);
        assert_string_equal(dgt_reason(r), "upload_offset_mismatch");
        dg_reply_free(r);
    }
    dgt_doc_send_rest(c, up, data, n, received, cs);
    r = dgt_doc_finish(c, up);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->doc_upload_finish->document->id;
    dg_reply_free(r);
    /* finishing again answers the same document */
    r = dgt_doc_finish(c, up);
    assert_int_equal(dgt_code(r), 0);
    assert_int_equal(dg_reply_response(r)->doc_upload_finish->document->id, id);
    dg_reply_free(r);
    dgt_doc_assert_download(c, id, data, n);
    /* someone else's upload does not exist for them */
    {
        dg_client *s1 = dgt_login(&srv, "s1", "sales-one-password-1");

        r = dgt_doc_status(s1, up);
        assert_int_equal(dgt_code(r), 5 /* NOT_FOUND */);
        dg_reply_free(r);
        dg_client_close(s1);
    }
    dg_client_close(c);
    free(data);
}

/* Runs the CLI on a terminal; everything it wrote (stdout and stderr). */
/* The server forgets its running hash of an upload when it restarts: the
 * finish then hashes what is stored, and the upload still completes. */
static void test_an_upload_survives_a_server_restart(void **state)
{
    size_t n = 3 * MIB + 99;
    uint8_t *data = dgt_doc_bytes(n, 31);
    dg_reply *r = dgt_doc_begin(admin, customer, data, n, NULL);
    int64_t up, id;

    (void)state;
    assert_int_equal(dgt_code(r), 0);
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    dg_reply_free(r);
    dgt_doc_send_rest(admin, up, data, 2 * MIB, 0, MIB);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_server_restart_same_port(&srv);
    dg_client_close(admin);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_doc_send_rest(admin, up, data, n, 2 * MIB, MIB);
    r = dgt_doc_finish(admin, up);
    assert_int_equal(dgt_code(r), 0);
    id = dg_reply_response(r)->doc_upload_finish->document->id;
    dg_reply_free(r);
    dgt_doc_assert_download(admin, id, data, n);
    free(data);
}

static void test_wrong_hash_is_refused_and_the_upload_dropped(void **state)
{
    size_t n = MIB + 10;
    uint8_t *data = dgt_doc_bytes(n, 9), wrong[32];
    dg_reply *r;
    int64_t up;

    (void)state;
    memset(wrong, 0xAB, sizeof wrong);
    r = dgt_doc_begin(admin, customer, data, n, wrong);
    assert_int_equal(dgt_code(r), 0);
    up = dg_reply_response(r)->doc_upload_begin->upload_id;
    dg_reply_free(r);
    dgt_doc_send_rest(admin, up, data, n, 0, MIB);
    r = dgt_doc_finish(admin, up);
    assert_int_equal(dgt_code(r), 3 /* INVALID_ARGUMENT */);
    assert_string_equal(dgt_reason(r), "checksum_mismatch");
    dg_reply_free(r);
    r = dgt_doc_status(admin, up);
    assert_int_equal(dgt_code(r), 5);
    dg_reply_free(r);
    free(data);
}

static void test_over_the_size_limit_is_refused_with_a_clear_error(void **state)
{
    uint8_t sha[32] = {0};
    dg_reply *r = dgt_doc_begin(admin, customer, NULL, (size_t)(DOCS_MAX_MIB + 1) * MIB, sha);
    char file[400], id[32];

    (void)state;
    assert_int_equal(dgt_code(r), 3);
    assert_string_equal(dgt_reason(r), "document_too_large");
    assert_non_null(strstr(dg_reply_response(r)->status->message, "at most 64 MiB"));
    dg_reply_free(r);
    /* the CLI says so, after reading nothing more than the file's size and hash */
    snprintf(file, sizeof file, "%s/huge.bin", cfg);
    {
        int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)(DOCS_MAX_MIB + 1) * MIB), 0);
        close(fd);
    }
    snprintf(id, sizeof id, "%lld", (long long)customer);
    CLI(NULL, "doc", "upload", id, file, "--kind", "other");
    assert_int_equal(run.status, 9);
    assert_non_null(strstr(run.err, "at most 64 MiB"));
    unlink(file);
}

static void test_the_same_content_is_stored_once(void **state)
{
    size_t n = 3 * MIB + 1;
    uint8_t *data = dgt_doc_bytes(n, 33);
    int64_t other = dgt_doc_customer(admin, "另一家公司", NULL, 2), a, b;
    bool is_dedup_a, is_dedup_b;
    char sql[200];

    (void)state;
    a = dgt_doc_upload(admin, customer, data, n, &is_dedup_a);
    b = dgt_doc_upload(admin, other, data, n, &is_dedup_b);
    assert_false(is_dedup_a);
    assert_true(is_dedup_b);
    dgt_doc_assert_download(admin, b, data, n);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT content_id) FROM documents WHERE id IN (%lld, %lld)",
             (long long)a, (long long)b);
    assert_int_equal(dgt_doc_db_count(sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM doc_chunks WHERE content_id = (SELECT content_id FROM "
             "documents WHERE id = %lld)",
             (long long)a);
    assert_int_equal(dgt_doc_db_count(sql), 4);
    /* nothing of the second upload's own bytes is left */
    assert_int_equal(
        dgt_doc_db_count("SELECT count(*) FROM doc_contents WHERE sha256 IS NULL AND id IN "
                         "(SELECT content_id FROM doc_uploads WHERE document_id IS NOT NULL)"),
        0);
    dgt_server_restart_same_port(&srv);
    dg_client_close(admin);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    free(data);
}

/* The packed reply, for byte comparison. */
static uint8_t *packed(const dg_reply *r, size_t *n)
{
    const Dangan__V1__Response *resp = dg_reply_response(r);
    Dangan__V1__Response copy = *resp;
    uint8_t *p;

    copy.id = 0; /* request ids differ */
    *n = protobuf_c_message_get_packed_size(&copy.base);
    p = malloc(*n);
    protobuf_c_message_pack(&copy.base, p);
    return p;
}

static void assert_same_reply(dg_reply *hidden, dg_reply *missing, const char *what)
{
    size_t a_n, b_n;
    uint8_t *a = packed(hidden, &a_n), *b = packed(missing, &b_n);

    if (a_n != b_n || memcmp(a, b, a_n) != 0)
        fail_msg("%s: a hidden document's answer differs from a missing one's: \"%s\" vs \"%s\"",
                 what, dg_reply_response(hidden)->status->message,
                 dg_reply_response(missing)->status->message);
    assert_int_equal(dgt_code(hidden), 5);
    free(a);
    free(b);
    dg_reply_free(hidden);
    dg_reply_free(missing);
}

static void test_a_restricted_customers_documents_read_as_missing_ones(void **state)
{
    dg_client *s2 = dgt_login(&srv, "s2", "sales-two-password-1");
    dg_client *s1 = dgt_login(&srv, "s1", "sales-one-password-1");
    int64_t secret = dgt_doc_customer(admin, "保密客户", "s2", DANGAN__V1__TIER__TIER_A);
    uint8_t *data = dgt_doc_bytes(1000, 77);
    int64_t doc = dgt_doc_upload(s2, secret, data, 1000, NULL);
    const int64_t missing = 999999;

    (void)state;
    dgt_doc_assert_download(s2, doc, data, 1000); /* its owner sees it */
    assert_same_reply(dgt_doc_get(s1, doc), dgt_doc_get(s1, missing), "DocGet");
    assert_same_reply(dgt_doc_read_chunk(s1, doc, 0), dgt_doc_read_chunk(s1, missing, 0),
                      "DocReadChunk");
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__DocListRequest m = DANGAN__V1__DOC_LIST_REQUEST__INIT;
        Dangan__V1__DocArchiveRequest a = DANGAN__V1__DOC_ARCHIVE_REQUEST__INIT;
        dg_reply *hidden;

        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_LIST;
        req.doc_list = &m;
        m.customer_id = secret;
        hidden = dgt_call(s1, &req);
        m.customer_id = missing;
        assert_same_reply(hidden, dgt_call(s1, &req), "DocList");
        req.body_case = DANGAN__V1__REQUEST__BODY_DOC_ARCHIVE;
        req.doc_archive = &a;
        a.id = doc;
        hidden = dgt_call(s1, &req);
        a.id = missing;
        assert_same_reply(hidden, dgt_call(s1, &req), "DocArchive");
    }
    assert_same_reply(dgt_doc_begin(s1, secret, data, 1000, NULL),
                      dgt_doc_begin(s1, missing, data, 1000, NULL), "DocUploadBegin");
    dg_client_close(s1);
    dg_client_close(s2);
    free(data);
}

static void test_a_user_has_at_most_32_unfinished_uploads(void **state)
{
    dg_client *s1 = dgt_login(&srv, "s1", "sales-one-password-1");
    int64_t own = dgt_doc_customer(admin, "销售一的公司", "s1", DANGAN__V1__TIER__TIER_B),
            first = 0;
    uint8_t *data = dgt_doc_bytes(10, 32);
    dg_reply *r;

    (void)state;
    for (int i = 0; i < 32; i++) {
        r = dgt_doc_begin(s1, own, data, 10, NULL);
        assert_int_equal(dgt_code(r), 0);
        first = first ? first : dg_reply_response(r)->doc_upload_begin->upload_id;
        dg_reply_free(r);
    }
    r = dgt_doc_begin(s1, own, data, 10, NULL);
    assert_int_equal(dgt_code(r), 8 /* RESOURCE_EXHAUSTED */);
    assert_string_equal(dgt_reason(r), "too_many_uploads");
    dg_reply_free(r);
    /* finishing one makes room */
    dgt_doc_send_rest(s1, first, data, 10, 0, MIB);
    r = dgt_doc_finish(s1, first);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    r = dgt_doc_begin(s1, own, data, 10, NULL);
    assert_int_equal(dgt_code(r), 0);
    dg_reply_free(r);
    dg_client_close(s1);
    free(data);
}

static size_t audit_count(const char *action, int64_t entity_id)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__AuditQueryRequest m = DANGAN__V1__AUDIT_QUERY_REQUEST__INIT;
    dg_reply *r;
    size_t n;

    m.action = (char *)action;
    m.entity = "document";
    m.entity_id = entity_id;
    m.limit = 1000;
    req.body_case = DANGAN__V1__REQUEST__BODY_AUDIT_QUERY;
    req.audit_query = &m;
    r = dgt_call(admin, &req);
    assert_int_equal(dgt_code(r), 0);
    n = dg_reply_response(r)->audit_query->n_records;
    dg_reply_free(r);
    return n;
}

static void test_every_downloaded_chunk_is_audited(void **state)
{
    size_t n = 3 * MIB + 5;
    uint8_t *data = dgt_doc_bytes(n, 3);
    int64_t id = dgt_doc_upload(admin, customer, data, n, NULL);

    (void)state;
    assert_int_equal(audit_count("document.create", id), 1);
    assert_int_equal(audit_count("document.download", id), 0);
    dgt_doc_assert_download(admin, id, data, n);
    assert_int_equal(audit_count("document.download", id), 4);
    free(data);
}

struct seen {
    int created, archived;
    int64_t id;
};

static void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user)
{
    struct seen *s = user;

    (void)c;
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE ||
        ev->change->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT ||
        ev->change->id != s->id)
        return;
    s->created += !strcmp(ev->change->op, "created");
    s->archived += !strcmp(ev->change->op, "archived");
}

static void test_uploads_and_archives_reach_the_change_feed(void **state)
{
    struct seen seen = {0};
    dg_client_opts o = {.server = srv.addr, .fingerprint = srv.fingerprint};
    Dangan__V1__SubscribeFilter f = DANGAN__V1__SUBSCRIBE_FILTER__INIT;
    Dangan__V1__EntityKind kinds[] = {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT};
    uint8_t *data = dgt_doc_bytes(100, 1);
    dg_client *w;
    uint64_t sub;
    char id[32];

    (void)state;
    o.on_event = on_event;
    o.user = &seen;
    assert_int_equal(dg_client_open(&o, &w), DG_OK);
    assert_int_equal(dg_client_login(w, "admin", srv.admin_password, NULL), DG_OK);
    f.kinds = kinds;
    f.n_kinds = 1;
    assert_int_equal(dg_client_subscribe(w, &f, NULL, false, &sub), DG_OK);
    seen.id = dgt_doc_upload(admin, customer, data, 100, NULL);
    snprintf(id, sizeof id, "%lld", (long long)seen.id);
    CLI(NULL, "doc", "archive", id);
    assert_int_equal(run.status, 0);
    for (int64_t until = dg_mono_ms() + 5000; seen.archived < 1 && dg_mono_ms() < until;)
        dg_client_poll(w, 50);
    assert_int_equal(seen.created, 1);
    assert_int_equal(seen.archived, 1);
    assert_int_equal(audit_count("document.archive", seen.id), 1);
    CLI(NULL, "doc", "archive", id); /* twice: refused */
    assert_int_equal(run.status, 9);
    dg_client_close(w);
    free(data);
}

static void test_backup_and_restore_keep_every_document(void **state)
{
    size_t sizes[] = {0, 1, MIB, 2 * MIB + 3};
    uint8_t *data[4];
    int64_t ids[4], later;
    char backup[400];
    const char *argv_b[] = {"backup", "--data", srv.data, "--to", backup, NULL};
    const char *argv_r[] = {"restore", "--data", srv.data, "--from", backup, NULL};
    dg_reply *r;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        data[i] = dgt_doc_bytes(sizes[i], 100 + (uint32_t)i);
        ids[i] = dgt_doc_upload(admin, customer, data[i], sizes[i], NULL);
    }
    snprintf(backup, sizeof backup, "%s/docs-backup.db", srv.root);
    dgt_dangand(&run, argv_b);
    assert_int_equal(run.status, 0);
    later = dgt_doc_upload(admin, customer, data[3], sizes[3] - 1, NULL); /* not in the backup */
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_dangand(&run, argv_r);
    if (run.status != 0)
        fail_msg("restore: %s", run.err);
    dgt_server_restart_same_port(&srv);
    dg_client_close(admin);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    for (size_t i = 0; i < 4; i++) {
        dgt_doc_assert_download(admin, ids[i], data[i], sizes[i]);
        free(data[i]);
    }
    r = dgt_doc_get(admin, later);
    assert_int_equal(dgt_code(r), 5);
    dg_reply_free(r);
}

static void test_check_finds_a_damaged_content_row(void **state)
{
    const char *argv[] = {"check", "--data", srv.data, NULL};

    (void)state;
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_dangand(&run, argv);
    if (run.status != 0)
        fail_msg("check before the damage: %s%s", run.out, run.err);
    assert_non_null(strstr(run.out, "documents"));
    /* one byte of one chunk changed, as a bad disk or a hand would */
    dgt_sql(&srv, "UPDATE doc_chunks SET data = CAST(zeroblob(length(data)) AS BLOB)"
                  " WHERE rowid = (SELECT max(rowid) FROM doc_chunks WHERE length(data) > 1)");
    dgt_dangand(&run, argv);
    assert_int_not_equal(run.status, 0);
    assert_non_null(strstr(run.out, "damaged"));
    dgt_server_restart_same_port(&srv);
    dg_client_close(admin);
    admin = dgt_login(&srv, "admin", srv.admin_password);
}

/* Schema v7 adds only its own tables: a v6 database is this one with every
 * later migration undone (dgt_schema_back_to). Opened by this dangand, it is
 * migrated and takes documents; `dangand check` passes on it before the
 * migration. */
static void test_a_v6_database_migrates_and_takes_documents(void **state)
{
    const char *argv[] = {"check", "--data", srv.data, NULL};
    uint8_t *data = dgt_doc_bytes(2 * MIB, 66);
    int64_t cust;

    (void)state;
    cust = dgt_doc_customer(admin, "迁移前的公司", NULL, DANGAN__V1__TIER__TIER_B);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_schema_back_to(&srv, 6);
    dgt_dangand(&run, argv);
    if (run.status != 0)
        fail_msg("check of a v6 database: %s%s", run.out, run.err);
    assert_non_null(strstr(run.out, "none stored (schema v6)"));
    dgt_server_restart_same_port(&srv);
    assert_true(dgt_log_has(&srv, "msg=\"schema migrated\" version=7"));
    assert_true(dgt_log_has(&srv, "msg=\"schema migrated\" version=8"));
    dg_client_close(admin);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_doc_assert_download(admin, dgt_doc_upload(admin, cust, data, 2 * MIB, NULL), data, 2 * MIB);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_cut_at_a_random_chunk_resumes_and_completes),
        cmocka_unit_test(test_an_upload_survives_a_server_restart),
        cmocka_unit_test(test_wrong_hash_is_refused_and_the_upload_dropped),
        cmocka_unit_test(test_over_the_size_limit_is_refused_with_a_clear_error),
        cmocka_unit_test(test_the_same_content_is_stored_once),
        cmocka_unit_test(test_a_restricted_customers_documents_read_as_missing_ones),
        cmocka_unit_test(test_a_user_has_at_most_32_unfinished_uploads),
        cmocka_unit_test(test_every_downloaded_chunk_is_audited),
        cmocka_unit_test(test_uploads_and_archives_reach_the_change_feed),
        cmocka_unit_test(test_backup_and_restore_keep_every_document),
        cmocka_unit_test(test_check_finds_a_damaged_content_row),
        cmocka_unit_test(test_a_v6_database_migrates_and_takes_documents),
    };

    return cmocka_run_group_tests(tests, dgt_docs_setup, dgt_docs_teardown);
}
