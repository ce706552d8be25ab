/* test_example_client.c - docs/examples/client.py, the Python client of
 * docs/protocol.md, against a real dangand over real TLS.
 *
 * Each test generates the Python protobuf module from proto/dangan.proto
 * with protoc into the server's temp dir (never committed), runs the script
 * with /usr/bin/python3 (Debian's python3-protobuf), and then checks through
 * libdangan that the server holds what the script says it did. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fixture.h"

static const char script[] = SOURCE_DIR "/docs/examples/client.py";

/* dangan_pb2.py into s->root/py; PYTHONPATH names it for the runs that follow. */
static void generate_python(const dgt_server *s)
{
    char out_dir[400], out_arg[420];
    const char *argv[] = {out_arg, "-I", SOURCE_DIR "/proto", SOURCE_DIR "/proto/dangan.proto",
                          NULL};
    dgt_run *r = calloc(1, sizeof *r);

    assert_non_null(r);
    snprintf(out_dir, sizeof out_dir, "%s/py", s->root);
    snprintf(out_arg, sizeof out_arg, "--python_out=%s", out_dir);
    assert_int_equal(mkdir(out_dir, 0700), 0);
    dgt_run_program(r, PROTOC_PATH, NULL, argv);
    if (r->status != 0)
        fail_msg("protoc (Debian: protobuf-compiler) failed with %d: %s", r->status, r->err);
    setenv("PYTHONPATH", out_dir, 1);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    free(r);
}

/* Runs the example against `s` with `fingerprint`, the admin password on stdin. */
static void run_example(dgt_run *r, const dgt_server *s, const char *fingerprint)
{
    char fp[160], password[80];
    const char *argv[] = {script, "--server", s->addr, "--fingerprint", fp, "--user", "admin",
                          "--name", "Example Python Ltd", NULL};

    snprintf(fp, sizeof fp, "SHA256:%s", fingerprint);
    snprintf(password, sizeof password, "%s\n", s->admin_password);
    dgt_run_program(r, PYTHON_PATH, password, argv);
}

static void assert_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" missing from the output:\n%s", needle, text);
}

static Dangan__V1__Customer *get_customer(dg_client *c, int64_t id, dg_reply **reply)
{
    Dangan__V1__GetRequest m = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.id = id;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &m;
    *reply = dgt_call(c, &req);
    assert_int_equal(dgt_code(*reply), DANGAN__V1__CODE__OK);
    return dg_reply_response(*reply)->get->record->customer;
}

static size_t count_customers(dg_client *c)
{
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_reply *r;
    size_t n;

    m.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    m.limit = 100;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), DANGAN__V1__CODE__OK);
    n = dg_reply_response(r)->list->n_records;
    dg_reply_free(r);
    return n;
}

static void test_example_client_does_every_step_of_the_protocol_guide(void **state)
{
    dgt_server srv;
    dgt_run *r = calloc(1, sizeof *r);
    dg_client *c;
    dg_reply *reply;
    Dangan__V1__Customer *cu;

    (void)state;
    assert_non_null(r);
    dgt_server_start(&srv, NULL);
    generate_python(&srv);
    run_example(r, &srv, srv.fingerprint);
    if (r->status != 0)
        fail_msg("client.py exited %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
    assert_has(r->out, "hello: " DANGAN_VERSION ", protocol 1.0");
    assert_has(r->out, "login: admin (ROLE_ADMIN)");
    assert_has(r->out, "created: C-000001 id=1 version=1");
    assert_has(r->out, "retried: the same key answers the same customer, id=1");
    assert_has(r->out, "got: C-000001 Example Python Ltd phone=0755-2878-0808");
    assert_has(r->out, "list page 1: Example Python Ltd, Example Python Ltd 2\n");
    assert_has(r->out, "list page 2: Example Python Ltd 3\n");
    assert_has(r->out, "updated: C-000001 version=2 phone=0755-1234-5678");
    assert_has(r->out, "event: ENTITY_KIND_CUSTOMER updated id=1 version=2 fields=phone by admin");
    assert_has(r->out, "conflict: ABORTED version_conflict fields=phone");
    assert_has(r->out, "logged out");

    /* What the script reported is what the server holds: one customer for
     * the retried create, the update applied once, the stale one not at all. */
    c = dgt_login(&srv, "admin", srv.admin_password);
    assert_int_equal(count_customers(c), 3);
    cu = get_customer(c, 1, &reply);
    assert_string_equal(cu->name, "Example Python Ltd");
    assert_string_equal(cu->phone, "0755-1234-5678");
    assert_int_equal(cu->version, 2);
    dg_reply_free(reply);
    dg_client_close(c);
    dgt_server_stop(&srv);
    free(r);
}

static void test_example_client_sends_nothing_to_a_server_it_does_not_trust(void **state)
{
    dgt_server srv;
    dgt_run *r = calloc(1, sizeof *r);
    char wrong[128];

    (void)state;
    assert_non_null(r);
    dgt_server_start(&srv, NULL);
    generate_python(&srv);
    /* The right fingerprint with its first byte changed. */
    snprintf(wrong, sizeof wrong, "%s", srv.fingerprint);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    run_example(r, &srv, wrong);
    assert_int_equal(r->status, 2);
    assert_has(r->err, "not trusted");
    assert_has(r->err, srv.fingerprint);
    assert_int_equal(r->out[0], '\0');
    assert_int_equal(dgt_log_count(&srv, "logged in"), 0);
    dgt_server_stop(&srv);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_client_does_every_step_of_the_protocol_guide),
        cmocka_unit_test(test_example_client_sends_nothing_to_a_server_it_does_not_trust),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
