/* customer_item.h - DgCustomerItem, one row of the Customers list: a small
 * immutable GObject whose properties are the list's columns, so a
 * GtkColumnView binds them directly (GtkExpression "name", "tier" ...). A
 * changed customer becomes a new item that takes the old one's place
 * (DgPagedList), so a bound row never sees half an update.
 *
 * Owns copies of its strings. Main thread, like every GObject the view holds.
 */
#ifndef DG_CUSTOMER_ITEM_H
#define DG_CUSTOMER_ITEM_H

#include <glib-object.h>

#include "dangan.pb-c.h"
#include "form.h"

G_BEGIN_DECLS

#define DG_TYPE_CUSTOMER_ITEM (dg_customer_item_get_type())
G_DECLARE_FINAL_TYPE(DgCustomerItem, dg_customer_item, DG, CUSTOMER_ITEM, GObject)

/* The row for a customer as the server sent it (List, Search, Get or a change
 * event's record), its values formatted by dg_form_format with ctx (the
 * team's zone and currency; may be NULL). Masked values stay masked. Returns
 * a new reference. Properties (all read-only):
 *   "id", "version" (gint64), "code", "name", "short-name", "phone",
 *   "region", "industry", "tier", "status", "stage", "owner" (display text),
 *   "owner-id" (gint64), "last-contact" (display text), "updated-at",
 *   "last-contact-at" (gint64 unix ms), "archived" (gboolean),
 *   "placeholder" (gboolean: a row whose page is being loaded). */
DgCustomerItem *dg_customer_item_new_from_pb(const Dangan__V1__Customer *c, const dg_form_ctx *ctx);

/* A row whose page is not in memory (DgPagedList shows it while it loads). */
DgCustomerItem *dg_customer_item_new_placeholder(void);

gint64 dg_customer_item_get_id(DgCustomerItem *self);
gint64 dg_customer_item_get_version(DgCustomerItem *self);
/* Borrowed, valid as long as the item. */
const char *dg_customer_item_get_name(DgCustomerItem *self);
const char *dg_customer_item_get_code(DgCustomerItem *self);
gint64 dg_customer_item_get_owner_id(DgCustomerItem *self);
gint64 dg_customer_item_get_updated_at(DgCustomerItem *self);
gboolean dg_customer_item_is_placeholder(DgCustomerItem *self);

G_END_DECLS

#endif
