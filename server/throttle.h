/* throttle.h - login throttling (DESIGN §11).
 *
 * Per account name (whether or not the account exists, so throttling reveals
 * nothing): after `account_failures` failures within the window, each further
 * attempt must wait 1 s after the last failure, doubling per failure up to
 * the maximum delay. Per peer address: `peer_failures` failures within the
 * window block the address for `peer_block`. A success clears the account's
 * count, not the address's. Both tables are bounded; entries expire.
 * Loop thread only.
 */
#ifndef DG_THROTTLE_H
#define DG_THROTTLE_H

#include <stdint.h>

typedef struct dg_throttle_opts {
    uint32_t account_failures;
    int64_t account_window_ms;
    int64_t account_max_delay_ms;
    uint32_t peer_failures;
    int64_t peer_block_ms;
} dg_throttle_opts;

typedef struct dg_throttle dg_throttle;

dg_throttle *dg_throttle_new(const dg_throttle_opts *opts);
void dg_throttle_free(dg_throttle *t);
/* 0 if an attempt may proceed now, else how many ms until it may. `account`
 * may be NULL (token authentication). */
int64_t dg_throttle_wait_ms(dg_throttle *t, const char *account, const char *peer_ip,
                            int64_t now_ms);
void dg_throttle_failure(dg_throttle *t, const char *account, const char *peer_ip, int64_t now_ms);
void dg_throttle_success(dg_throttle *t, const char *account);
/* Drops expired entries. */
void dg_throttle_sweep(dg_throttle *t, int64_t now_ms);

#endif
