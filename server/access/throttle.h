/* throttle.h - login throttling: may this address try a password for this
 * account now? (docs/security.md states the policy for operators.)
 *
 * Against online guessing without letting anyone lock an account out
 * (OWASP's advice), four rules:
 *  - Per (account, address): after `pair_failures` failures, the address
 *    waits before its next try for that account: 1 s after the last failure,
 *    doubling per further failure, at most `pair_max_delay_ms`. The count is
 *    forgotten after `account_window_ms` without a failure; a success from
 *    that address clears it.
 *  - Per address: `peer_failures` failures (any accounts, token logins
 *    included) within `peer_block_ms` of the first block the address for
 *    `peer_block_ms`.
 *  - Per account: after `account_failures` failures from all addresses (also
 *    forgotten after a window without one), every try waits 1 s after the
 *    last failure, doubling, at most `account_max_delay_ms`: a short delay,
 *    never a lockout. An address the account logged in from within
 *    `known_ms` (a known address) is exempt from this rule, so failures
 *    elsewhere do not stop its owner.
 *  - In flight: an attempt counts as a failure from the moment it is
 *    admitted until it is settled (its hash is done), so attempts sent
 *    together cannot all pass a check made before any of them failed. At
 *    most `account_max_in_flight` per account and `peer_max_in_flight` per
 *    address are admitted at once.
 * Names are counted whether or not an account has them, so the throttle
 * reveals nothing about which accounts exist. Every table is bounded
 * (max_entries); entries expire. Nothing is persisted: a restart forgets.
 * Any loop thread (one mutex); time is passed in as unix ms, so tests inject it.
 */
#ifndef DG_THROTTLE_H
#define DG_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct dg_throttle_opts {
    uint32_t pair_failures;
    int64_t pair_max_delay_ms;
    uint32_t account_failures;
    int64_t account_window_ms; /* pair and account counts end after this long without a failure */
    int64_t account_max_delay_ms;
    uint32_t peer_failures;
    int64_t peer_block_ms;
    uint32_t account_max_in_flight;
    uint32_t peer_max_in_flight;
    int64_t known_ms;     /* how long a successful address stays known; 0: never */
    uint32_t max_entries; /* per table; 0: 100,000 */
} dg_throttle_opts;

/* What an admitted attempt holds until it is settled; callers pass it back
 * unchanged (its fields are the throttle's business). */
typedef struct dg_throttle_ticket {
    bool has_pair, has_account, has_peer; /* which counters hold this attempt */
} dg_throttle_ticket;

enum dg_throttle_outcome {
    DG_THROTTLE_FAILED,    /* wrong password, unknown name, disabled account */
    DG_THROTTLE_SUCCEEDED, /* the password matched */
    DG_THROTTLE_ABANDONED, /* never checked (queue full, read error): counts as nothing */
};

typedef struct dg_throttle dg_throttle;

dg_throttle *dg_throttle_new(const dg_throttle_opts *opts);
/* Accepts NULL. */
void dg_throttle_free(dg_throttle *t);

/* Asks to check a password for `account` (the normalised name, or the name
 * as typed when it cannot be one) from `peer_ip`. Returns
 *   DG_OK     admitted: counted as a failure in flight; the caller must call
 *             dg_throttle_settle exactly once with the same names and *ticket;
 *   DG_EFULL  throttled by earlier failures: *wait_ms (> 0) until it may try;
 *   DG_EBUSY  too many attempts for this account or from this address are
 *             being checked: *wait_ms (> 0) is when asking again makes sense.
 * Loop thread. */
int dg_throttle_admit(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms,
                      dg_throttle_ticket *ticket, int64_t *wait_ms);
/* Ends an admitted attempt. A failure stays counted (the delays run from
 * now); a success removes this attempt from the counts, clears the pair's
 * failures and makes `peer_ip` a known address of `account`. */
void dg_throttle_settle(dg_throttle *t, const char *account, const char *peer_ip,
                        const dg_throttle_ticket *ticket, enum dg_throttle_outcome outcome,
                        int64_t now_ms);

/* Token logins have no account and no hash: 0 if `peer_ip` may try now,
 * else how many ms until it may; and recording a failed one. */
int64_t dg_throttle_peer_wait_ms(dg_throttle *t, const char *peer_ip, int64_t now_ms);
void dg_throttle_peer_failure(dg_throttle *t, const char *peer_ip, int64_t now_ms);

/* True if `peer_ip` is a known address of `account` (for tests and docs). */
bool dg_throttle_is_known(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms);
/* Drops expired entries (never one with attempts in flight). */
void dg_throttle_sweep(dg_throttle *t, int64_t now_ms);

#endif
