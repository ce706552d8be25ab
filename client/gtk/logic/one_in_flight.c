/* one_in_flight.c - at most one request on its way, the newest waiting
 * (one_in_flight.h). */
#include "one_in_flight.h"

bool dg_one_in_flight_ask(dg_one_in_flight *f, uint64_t ticket)
{
    if (f->is_sent) {
        f->waiting = ticket;
        return false;
    }
    f->is_sent = true;
    f->waiting = 0;
    return true;
}

uint64_t dg_one_in_flight_answered(dg_one_in_flight *f)
{
    uint64_t ticket = f->waiting;

    f->is_sent = false;
    f->waiting = 0;
    return ticket;
}
