/* dispatch.h - routes a decoded request to its handler after the checks every
 * request gets: known type, request id, Hello first, login, password change
 * pending. Loop thread. */
#ifndef DG_DISPATCH_H
#define DG_DISPATCH_H

#include "conn.h"

/* Takes ownership of req: it is answered exactly once, now or later. */
void dg_dispatch(dg_req *req);

#endif
