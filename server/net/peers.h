/* peers.h - what the server keeps per client address: how many of its
 * connections are not logged in, and which warnings about it were left out
 * of the log.
 *
 * Unauthenticated connections: one address may hold at most `max_unauth`
 * connections that are handshaking or not logged in, so it cannot take
 * every connection slot without knowing a password. Past that, REFUSAL_SLOTS
 * more are let through the handshake to be told why they are refused; past
 * those, a new connection is closed at once. The count includes the refused
 * ones until they are gone, so one address never holds more than
 * max_unauth + REFUSAL_SLOTS slots.
 * Warnings a peer can cause at will (failed handshakes, refused
 * connections): per address the first few a minute are logged and the rest
 * summarised in one line a minute (lograte.h).
 * Both tables hold only addresses with connections or recent warnings: at
 * most the open connections, and a fixed number of keys.
 * Any loop thread (a mutex inside).
 */
#ifndef DG_PEERS_H
#define DG_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#define DG_PEERS_REFUSAL_SLOTS 4

enum dg_peer_verdict {
    DG_PEER_ACCEPT, /* within the cap */
    DG_PEER_REFUSE, /* over it: finish the handshake, say why, close */
    DG_PEER_DROP,   /* far over it: close at once */
};

enum dg_peer_warning {
    DG_PEER_HANDSHAKE_FAILED, /* failed or timed-out TLS handshakes */
    DG_PEER_REFUSED,          /* connections refused (server full, too many unauthenticated) */
    DG_PEER_N_WARNINGS,
};

typedef struct dg_peers dg_peers;

dg_peers *dg_peers_new(uint32_t max_unauth);
/* Accepts NULL. Reports nothing: call dg_peers_report(p, now, true) first. */
void dg_peers_free(dg_peers *p);

/* Counts one more unauthenticated connection of `ip` (whatever the verdict:
 * call dg_peers_remove_unauth once it logs in or is gone) and says what to
 * do with it. */
enum dg_peer_verdict dg_peers_add_unauth(dg_peers *p, const char *ip);
void dg_peers_remove_unauth(dg_peers *p, const char *ip);
uint32_t dg_peers_n_unauth(dg_peers *p, const char *ip);

/* True if this warning about `ip` is to be logged now; false if it is only
 * counted for the summary. `now_ms` is monotonic. */
bool dg_peers_may_warn(dg_peers *p, enum dg_peer_warning w, const char *ip, int64_t now_ms);
/* Logs one summary line per address (and kind of warning) whose minute is
 * over with warnings left out; every one when is_final (shutdown). */
void dg_peers_report(dg_peers *p, int64_t now_ms, bool is_final);

#endif
