/* customer_text.h - the words a customer's tier and status are shown with
 * (translated), shared by the Customers list and the dossier.
 * Threads: any (gettext).
 */
#ifndef DG_GTK_CUSTOMER_TEXT_H
#define DG_GTK_CUSTOMER_TEXT_H

/* "A", "B", "C" for a Dangan__V1__Tier; "" for none. */
const char *dg_customer_tier_text(int tier);
/* "Potential", "Active"... (translated) for a Dangan__V1__CustomerStatus; "" for none. */
const char *dg_customer_status_text(int status);

#endif
