/* lograte.h - dg_lograte: a bound on repeated log lines, per key.
 *
 * For events that a peer can cause at will (a failed TLS handshake, a refused
 * connection), one line each would let a scan fill the log. Per key (an
 * address) the first `n_per_key` events of an interval are to be logged, and
 * at most `n_total` of all keys together; the rest are only counted, and when
 * a key's interval is over its count is reported once through `report`. At
 * most `max_keys` keys are tracked; events of further keys are counted in
 * one tally reported with key NULL.
 * Mechanism only: no I/O; the caller logs (directly, or in `report`).
 * Time is passed in (any monotonic ms), so tests inject it. One thread.
 */
#ifndef DG_LOGRATE_H
#define DG_LOGRATE_H

#include <stdbool.h>
#include <stdint.h>

/* `n_left_out` events of `key` (NULL: keys not tracked) were not logged in the
 * `span_ms` that just ended. */
typedef void (*dg_lograte_report_fn)(const char *key, uint64_t n_left_out, int64_t span_ms,
                                     void *ud);

typedef struct dg_lograte_opts {
    uint32_t n_per_key;  /* lines per key per interval */
    uint32_t n_total;    /* lines of all keys together per interval */
    int64_t interval_ms; /* > 0 */
    uint32_t max_keys;   /* keys tracked at once */
    dg_lograte_report_fn report;
    void *ud; /* passed to report */
} dg_lograte_opts;

typedef struct dg_lograte dg_lograte;

dg_lograte *dg_lograte_new(const dg_lograte_opts *opts);
/* Frees without reporting (call dg_lograte_flush(r, now, true) first). Accepts NULL. */
void dg_lograte_free(dg_lograte *r);
/* Counts one event of `key`: true if it is to be logged now. May report the
 * key's interval that ended before counting it. */
bool dg_lograte_hit(dg_lograte *r, const char *key, int64_t now_ms);
/* Reports every key whose interval has ended (every key when is_final) and
 * forgets it. Call it regularly (once a second) and at shutdown. */
void dg_lograte_flush(dg_lograte *r, int64_t now_ms, bool is_final);

#endif
