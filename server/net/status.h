/* status.h - the one place a dg_err becomes a wire status code. */
#ifndef DG_STATUS_H
#define DG_STATUS_H

#include "dangan.pb-c.h"

/* gRPC canonical code for a dg_err (DG_OK → OK). Pure; any thread. */
Dangan__V1__Code dg_status_from_err(int rc);

#endif
