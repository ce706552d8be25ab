/* test_loops.c - a server with `[server] loops = 4`: the connections are
 * spread over the loops (the debug log names each one's loop), a change
 * made on one connection reaches subscribers on every other loop, all of
 * them and in order, and one session serves connections on every loop:
 * resumed by its token on each, and revoked on all by one logout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feed_world.h"

#define N_LOOPS 4
#define N_CHANGES 40

/* How many connections the log says loop `i` accepted. */
static int accepted_on(int i)
{
    char needle[32];

    snprintf(needle, sizeof needle, " loop=%d msg=\"accepted\"", i);
    return dgt_log_count(&srv, needle);
}

static void connections_land_on_every_loop(void **state)
{
    dg_client *c[2 * N_LOOPS];
    int n_busy = 0;

    (void)state;
    assert_true(dgt_log_has(&srv, "loops=4"));
    for (int i = 0; i < 2 * N_LOOPS; i++)
        c[i] = dgt_login(&srv, "s1", "sales-one-password-1");
    for (int i = 0; i < N_LOOPS; i++)
        n_busy += accepted_on(i) >= 2;
    assert_int_equal(n_busy, N_LOOPS); /* handed out in turn: each took its share */
    for (int i = 0; i < 2 * N_LOOPS; i++)
        dg_client_close(c[i]);
}

static bool has_all(const struct inbox *in, void *arg)
{
    size_t n = 0;

    for (size_t i = 0; i < in->n; i++)
        n += in->body[i] == DANGAN__V1__EVENT__BODY_CHANGE;
    return n >= *(size_t *)arg;
}

static void changes_reach_every_loop_without_a_gap(void **state)
{
    static struct inbox in[N_LOOPS];
    dg_client *sub[N_LOOPS];
    int64_t ids[N_CHANGES], head = feed_head();
    size_t want = N_CHANGES;

    (void)state;
    for (int i = 0; i < N_LOOPS; i++) { /* four accepts in a row: one on each loop */
        dg_reply *r;

        sub[i] = listener("s2", "sales-two-password-1", &in[i]);
        r = subscribe(sub[i], -1, 0, NULL);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
    }
    for (int k = 0; k < N_CHANGES; k++)
        ids[k] = new_customer("Loops Customer", "s2", DANGAN__V1__TIER__TIER_B);
    for (int i = 0; i < N_LOOPS; i++) {
        int64_t last = head;
        size_t k = 0;

        assert_true(wait_for(sub[i], &in[i], has_all, &want));
        for (size_t e = 0; e < in[i].n; e++) {
            if (in[i].body[e] != DANGAN__V1__EVENT__BODY_CHANGE)
                continue;
            /* every change after the head, in order, none left out */
            assert_int_equal(in[i].seq[e], last + 1);
            last = in[i].seq[e];
            assert_true(k < N_CHANGES);
            assert_int_equal(in[i].id[e], ids[k]);
            k++;
        }
        assert_int_equal(k, N_CHANGES);
        dg_client_close(sub[i]);
    }
}

static void one_session_on_every_loop(void **state)
{
    char token[DG_CLIENT_TOKEN_LEN + 1];
    dg_client *first = dgt_connect(&srv), *c[N_LOOPS];
    dg_reply *r = NULL;

    (void)state;
    assert_int_equal(dg_client_login(first, "s1", "sales-one-password-1", token), DG_OK);
    for (int i = 0; i < N_LOOPS; i++) { /* one on each loop */
        c[i] = dgt_connect(&srv);
        assert_int_equal(dg_client_authenticate(c[i], token), DG_OK);
        assert_int_equal(dg_client_whoami(c[i], &r), DG_OK);
        assert_string_equal(dg_reply_response(r)->whoami->session->user->username, "s1");
        dg_reply_free(r);
    }
    dg_client_close(first); /* the others still hold the session */
    assert_int_equal(dg_client_whoami(c[0], &r), DG_OK);
    dg_reply_free(r);
    assert_int_equal(dg_client_logout(c[1]), DG_OK);
    for (int i = 0; i < N_LOOPS; i++) {
        if (i == 1)
            continue;
        /* revoked on every loop at once */
        assert_int_not_equal(dg_client_whoami(c[i], &r), DG_OK);
        if (r)
            dg_reply_free(r);
        r = NULL;
    }
    for (int i = 0; i < N_LOOPS; i++)
        dg_client_close(c[i]);
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start_debug(&srv, "[server]\nloops = 4\n", NULL);
    dgt_make_user(&srv, "s1", DANGAN__V1__ROLE__ROLE_SALES, "sales-one-password-1");
    dgt_make_user(&srv, "s2", DANGAN__V1__ROLE__ROLE_SALES, "sales-two-password-1");
    admin = dgt_login(&srv, "admin", srv.admin_password);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_land_on_every_loop),
        cmocka_unit_test(changes_reach_every_loop_without_a_gap),
        cmocka_unit_test(one_session_on_every_loop),
    };

    return cmocka_run_group_tests(tests, setup, feed_world_teardown);
}
