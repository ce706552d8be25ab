/* status.c - dg_err → Dangan__V1__Code. */
#include "status.h"

#include "dg.h"

Dangan__V1__Code dg_status_from_err(int rc)
{
    switch (rc) {
    case DG_OK:
        return DANGAN__V1__CODE__OK;
    case DG_EINVAL:
    case DG_EPROTO:
        return DANGAN__V1__CODE__INVALID_ARGUMENT;
    case DG_ENOMEM:
    case DG_ETOOBIG:
    case DG_EFULL:
    case DG_ENOSPC:
        return DANGAN__V1__CODE__RESOURCE_EXHAUSTED;
    case DG_ENOTFOUND:
        return DANGAN__V1__CODE__NOT_FOUND;
    case DG_ECONFLICT:
        return DANGAN__V1__CODE__ABORTED;
    case DG_EEXIST:
        return DANGAN__V1__CODE__ALREADY_EXISTS;
    case DG_EDENIED:
        return DANGAN__V1__CODE__PERMISSION_DENIED;
    case DG_EAGAIN:
    case DG_EBUSY:
    case DG_ECLOSED:
    case DG_EREADONLY:
    case DG_ETLS:
    case DG_ETRUST:
        return DANGAN__V1__CODE__UNAVAILABLE;
    case DG_ECORRUPT:
        return DANGAN__V1__CODE__DATA_LOSS;
    case DG_ETIMEDOUT:
        return DANGAN__V1__CODE__DEADLINE_EXCEEDED;
    case DG_EAUTH:
        return DANGAN__V1__CODE__UNAUTHENTICATED;
    case DG_ESTATE:
        return DANGAN__V1__CODE__FAILED_PRECONDITION;
    case DG_ENOTSUP:
        return DANGAN__V1__CODE__UNIMPLEMENTED;
    case DG_EIO:
    default:
        return DANGAN__V1__CODE__INTERNAL;
    }
}
