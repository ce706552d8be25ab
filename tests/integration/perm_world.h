/* perm_world.h - the world the permission tests run in (test_perm,
 * test_perm_views): one server, the cast of users logged in as each role,
 * the customers they act on, and the requests and reply comparisons the
 * tests share. Names are the tests' own (no dg_ prefix): they are linked
 * into test programs only.
 *
 * Every request a sales or viewer user makes through call_as() is checked
 * for leaks: the canary strings planted in the restricted customers and in
 * the sensitive fields (bank account, contacts' personal phone and family)
 * must never appear in any byte such a user receives - replies, search
 * hits, list pages, dossiers, errors.
 */
#ifndef DANGAN_TESTS_PERM_WORLD_H
#define DANGAN_TESTS_PERM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture.h"

/* No record has this id. */
#define MISSING_ID 987654321

extern dgt_server srv;

/* ------------------------------------------------------------ the cast */

struct actor {
    const char *role; /* as in the data file */
    const char *user;
    int pb_role;
    const char *password;
    dg_client *c;
};

/* admin, manager, sales (s1), viewer, auditor: the tests name them by index;
 * each logged in (c) from perm_world_setup to perm_world_teardown. */
extern struct actor actors[5];

/* The customers: name carries the restricted canary, the rest the sensitive ones. */
struct target {
    const char *label; /* as in the data file */
    const char *owner;
    Dangan__V1__Tier tier;
    const char *name;
    const char *bank_account;
    const char *personal_phone;
    const char *family;
    bool archived;
    int64_t id, contact_id;
    int64_t doc_id; /* a document attached to it (made before it was archived) */
};

/* s1_b, s2_b, s1_a, s2_a, s1_x (archived); id and contact_id set by
 * perm_world_setup. */
extern struct target targets[5];

/* The password of `a` (the admin's is the server's). */
const char *password_of(const struct actor *a);

/* May `a` see target t's restricted canary, its name? */
bool may_see_name(const struct actor *a, const struct target *t);

/* ------------------------------------------------------------ replies */

/* Keeps the reply packed with its id cleared (what a client receives apart
 * from the id it chose) in *out (reallocated; the caller frees it). */
void keep_reply(const dg_reply *r, uint8_t **out, size_t *len);

/* Fails (returning false, the difference printed) unless the two replies
 * are the same bytes. */
bool same_reply(const char *what, const uint8_t *hidden, size_t hidden_len, const uint8_t *missing,
                size_t missing_len);

/* dgt_call as `a`, with the leak check for the roles it applies to. */
dg_reply *call_as(struct actor *a, Dangan__V1__Request *req, const char *what);
/* Fails the test when reply `r` to `a` carries a canary `a` may not see. */
void check_no_leak(const struct actor *a, const dg_reply *r, const char *what);
/* The same for any bytes `a` received (CLI output, a file written for `a`). */
void check_no_leak_in(const struct actor *a, const void *bytes, size_t n, const char *what);

/* dgt_call as the admin. */
dg_reply *admin_call(Dangan__V1__Request *req);

/* ------------------------------------------------------------ requests */

/* The version customer `id` has now (MISSING_ID: 1, after checking it is
 * missing). */
int64_t current_version(int64_t id);

/* Archives customer `id`, or restores it; fails the test if refused. */
void admin_archive(int64_t id, bool restore);

/* Creates t's customer, owned and tiered as t says, with one contact; sets
 * t->id and t->contact_id. */
void make_customer(struct target *t);

/* ------------------------------------------------------------ group fixture */

/* Starts the server, makes the users (and s2, dummy), logs the cast in and
 * makes the targets' customers. */
int perm_world_setup(void **state);

/* Closes the cast's connections and stops the server. */
int perm_world_teardown(void **state);

#endif
