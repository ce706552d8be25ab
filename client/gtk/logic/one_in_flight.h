/* one_in_flight.h - at most one request of a kind on its way, the newest
 * waiting: the search-as-you-type debounce. A request goes out as soon as
 * it is asked for, unless one is already on its way; then it waits for that
 * answer, and a newer one asked for meanwhile replaces it (what the user
 * typed between two answers is skipped, the last keystroke never is).
 * Typing faster than the server answers sends one request per answer, and
 * the last keystroke waits for no fixed delay.
 *
 * Requests are named by a ticket the caller chooses (non-zero, e.g. a list's
 * generation). Plain data, no allocation; one thread.
 */
#ifndef DG_ONE_IN_FLIGHT_H
#define DG_ONE_IN_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct dg_one_in_flight {
    bool is_sent;     /* a request is on its way */
    uint64_t waiting; /* the ticket of the one that waits for it, 0: none */
} dg_one_in_flight;

/* Asks for the request `ticket` (non-zero) to go. True: send it now (it is
 * on its way from here on). False: it waits, in place of any that waited. */
bool dg_one_in_flight_ask(dg_one_in_flight *f, uint64_t ticket);

/* The request on its way was answered, or failed. Returns the ticket that
 * waited (0: none): the caller asks for it again if it still wants it, so a
 * ticket grown stale meanwhile is simply dropped. */
uint64_t dg_one_in_flight_answered(dg_one_in_flight *f);

#endif
