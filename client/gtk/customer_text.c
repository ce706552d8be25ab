/* customer_text.c - a customer's tier and status in words (customer_text.h). */
#include <glib/gi18n.h>

#include "customer_text.h"
#include "dangan.pb-c.h"

const char *dg_customer_tier_text(int tier)
{
    switch (tier) {
    case DANGAN__V1__TIER__TIER_A:
        return "A";
    case DANGAN__V1__TIER__TIER_B:
        return "B";
    case DANGAN__V1__TIER__TIER_C:
        return "C";
    default:
        return "";
    }
}

const char *dg_customer_status_text(int status)
{
    switch (status) {
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_POTENTIAL:
        return _("Potential");
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE:
        return _("Active");
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT:
        return _("Dormant");
    case DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_LOST:
        return _("Lost");
    default:
        return "";
    }
}
