/* pager.h - the Customers list as a GListModel that fetches itself page by
 * page from dangand while the view scrolls: List with the server's keyset
 * cursor when there is no query (never everything at once), Search (the best
 * hits, no pages) when there is one. Both take the same filter.
 *
 * Items are DgCustomer objects. A new query or filter drops what was loaded
 * and starts again; replies to an older one are ignored (a generation count).
 * Threads: the main thread; the requests go through the connection (gtk_conn.h).
 */
#ifndef DG_GTK_PAGER_H
#define DG_GTK_PAGER_H

#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>

#include "gtk_conn.h"

G_BEGIN_DECLS

#define DG_TYPE_CUSTOMER (dg_customer_get_type())
G_DECLARE_FINAL_TYPE(DgCustomer, dg_customer, DG, CUSTOMER, GObject)

/* One row: what the list shows of a customer (strings never NULL). */
struct _DgCustomer {
    GObject parent;
    int64_t id;
    char *code, *name, *tier, *status, *owner, *phone;
};

/* A customer's row from its protobuf record (tier and status as shown). */
DgCustomer *dg_customer_new(const Dangan__V1__Customer *c);
/* The words shown for a tier and a status (translated). */
const char *dg_customer_tier_text(int tier);
const char *dg_customer_status_text(int status);

#define DG_TYPE_PAGER (dg_pager_get_type())
G_DECLARE_FINAL_TYPE(DgPager, dg_pager, DG, PAGER, GObject)

typedef struct dg_pager_filter {
    int tier;     /* Dangan__V1__Tier, 0: any */
    int status;   /* Dangan__V1__CustomerStatus, 0: any */
    bool is_mine; /* only the caller's customers (owner "me") */
} dg_pager_filter;

/* Called when the pager starts or ends loading, or fails; `text` says so
 * for a status line ("" when there is nothing to say). */
typedef void (*dg_pager_status_fn)(const char *text, gpointer user);

DgPager *dg_pager_new(DgGtkConn *conn, dg_pager_status_fn status, gpointer user);
/* Shows `query` (empty: the whole list, by name) under `filter`. */
void dg_pager_set_query(DgPager *p, const char *query, const dg_pager_filter *filter);
/* Whether more pages may follow what is loaded. */
bool dg_pager_has_more(DgPager *p);
/* Requests the next page, unless one is on its way or none follows. */
void dg_pager_need_more(DgPager *p);

G_END_DECLS

#endif
