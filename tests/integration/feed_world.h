/* feed_world.h - what the change-feed tests (test_feed, test_feed_resume)
 * share: one server with the users s1 and s2 (sales) and an admin
 * connection, a subscriber's inbox of the events its connection received,
 * subscribing, waiting for an event, and customers to change. Names are
 * the tests' own (no dg_ prefix): they are linked into test programs only.
 */
#ifndef DANGAN_TESTS_FEED_WORLD_H
#define DANGAN_TESTS_FEED_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture.h"

extern dgt_server srv;
extern dg_client *admin; /* logged in as admin from feed_world_setup to feed_world_teardown */

#define MAX_SEEN 4096

/* What one subscriber's connection received. */
struct inbox {
    size_t n;
    Dangan__V1__Event__BodyCase body[MAX_SEEN];
    int64_t id[MAX_SEEN], seq[MAX_SEEN];
    char op[MAX_SEEN][16];
    bool has_record[MAX_SEEN];
    char bank_account[MAX_SEEN][32]; /* of a customer record that came with it */
    int64_t at_ms[MAX_SEEN], committed_us[MAX_SEEN], got_us[MAX_SEEN]; /* changes */
    uint64_t sub_id[MAX_SEEN];
    int64_t stale_seq[MAX_SEEN]; /* ResyncRequired */
    uint64_t sub;
};

/* An on_event callback of libdangan: appends the event to the inbox its
 * `user` points to (events past MAX_SEEN are dropped). */
void on_event(dg_client *c, const Dangan__V1__Event *ev, void *user);

/* A new connection logged in as `user`, its events going to `in` (emptied). */
dg_client *listener(const char *user, const char *password, struct inbox *in);

/* Subscribes; since_seq < 0: from now. Returns the reply (caller frees). */
dg_reply *subscribe_as(dg_client *c, int64_t since_seq, uint64_t epoch,
                       const Dangan__V1__SubscribeFilter *filter, bool with_records);

/* subscribe_as without records. */
dg_reply *subscribe(dg_client *c, int64_t since_seq, uint64_t epoch,
                    const Dangan__V1__SubscribeFilter *filter);

/* Polls until `pred` holds or 5 s pass; returns whether it holds. */
bool wait_for(dg_client *c, struct inbox *in, bool (*pred)(const struct inbox *, void *),
              void *arg);

/* Predicates for wait_for: an event of body *(Dangan__V1__Event__BodyCase *)arg;
 * a change / a Hidden of record *(int64_t *)arg. */
bool has_body(const struct inbox *in, void *arg);
bool has_change_of(const struct inbox *in, void *arg);
bool has_hidden_of(const struct inbox *in, void *arg);

/* Creates a customer as the admin (duplicates allowed); returns its id. */
int64_t new_customer(const char *name, const char *owner, Dangan__V1__Tier tier);

/* The newest change now (a subscription's head, then unsubscribed: a
 * connection may hold only 16). */
int64_t feed_head(void);

/* Starts the server, makes s1 and s2, logs the admin in. */
int feed_world_setup(void **state);

/* Closes the admin's connection and stops the server. */
int feed_world_teardown(void **state);

#endif
