/* paged_list.h - DgPagedList, a GListModel of DgCustomerItem over the
 * server's keyset paging (docs/protocol.md, "Pages and snapshots"): what a
 * GtkColumnView shows for List or Search, loading a page at a time as the
 * view nears the end, never the whole base.
 *
 * Fetching is the app's: the list calls `fetch` with (generation, cursor,
 * limit) when it wants a page, and the app, once the reply is in (on its
 * worker thread, handed back to the main loop), calls
 * dg_paged_list_deliver with the same generation, or dg_paged_list_fail.
 * `fetch` must only start the request: it never delivers from inside the
 * call.
 * - At most one request is in flight. dg_paged_list_reset (a new query,
 *   filter or sort) starts a new generation; a reply of an older one is
 *   dropped.
 * - Loading: get_item (the view asking for a row) and dg_paged_list_need
 *   fetch the next page when the row is within half a page of the end and
 *   the last reply had a next_cursor; a reply that hands back the cursor it
 *   was asked for ends the list (the CLI's cursor_stuck).
 * - Live changes (the change feed): dg_paged_list_upsert replaces a changed
 *   row in place (or moves it, or removes it when it no longer belongs), and
 *   inserts a new one at its place in the sort order when it belongs there:
 *   it passes the filter and sorts before the end of what is loaded (or the
 *   list is complete). dg_paged_list_remove takes one out.
 * - Memory: at most `max_resident` pages keep their rows. A page further
 *   from the row last asked for is dropped, keeping its start cursor, its
 *   row count and its first and last rows; its rows read as placeholders
 *   until the view asks for one of them, which reloads the page from its
 *   cursor. So a list of N rows holds at most max_resident * page_size
 *   items plus 2 items and one cursor per page (100,000 customers in pages
 *   of 200, 8 resident: 1,600 rows and 500 cursors).
 *   max_resident must cover the rows on screen plus a page either side, or
 *   pages the view shows are dropped and reloaded in turn.
 *   A page reloaded after changes may show a record twice or miss one at
 *   its edges, as keyset paging does for records whose sort key changes.
 *
 * Main thread (GObject, signals to the view).
 */
#ifndef DG_PAGED_LIST_H
#define DG_PAGED_LIST_H

#include <gio/gio.h>

#include "customer_item.h"

G_BEGIN_DECLS

#define DG_TYPE_PAGED_LIST (dg_paged_list_get_type())
G_DECLARE_FINAL_TYPE(DgPagedList, dg_paged_list, DG, PAGED_LIST, GObject)

/* Asks the app for `limit` rows after `cursor` ("" for the first page) of the
 * current query; the reply goes to dg_paged_list_deliver with `generation`. */
typedef void (*DgPagedListFetch)(DgPagedList *list, guint64 generation, const char *cursor,
                                 guint limit, gpointer user_data);
/* Whether a row belongs to the current query (its filter, its search); NULL: all do. */
typedef gboolean (*DgPagedListBelongs)(DgCustomerItem *item, gpointer user_data);

/* A new, empty list (no request is made before dg_paged_list_reset).
 * page_size 1..1000 (the server's List limit), max_resident >= 2.
 * `compare` orders rows as the query's sort does (NULL: the order replies
 * come in, and live inserts go nowhere). user_data is passed to all three
 * callbacks; `destroy` (may be NULL) frees it with the list. */
DgPagedList *dg_paged_list_new(guint page_size, guint max_resident, DgPagedListFetch fetch,
                               DgPagedListBelongs belongs, GCompareDataFunc compare,
                               gpointer user_data, GDestroyNotify destroy);

/* Whether the view asking for a row near the end (get_item) fetches the next
 * page (TRUE, the default). A GtkColumnView asks for more rows than it
 * shows (and the accessibility tree for all of them), so the app may turn
 * this off and call dg_paged_list_need when its scrolling nears the end;
 * get_item still reloads a dropped page. */
void dg_paged_list_set_next_on_get(DgPagedList *self, gboolean is_next_on_get);

/* The view shows rows first..last (the app computes them from its
 * scrolling): a dropped page among them is reloaded, else the next page is
 * fetched when `last` is within `ahead` rows of the end of what is loaded,
 * one request at a time, again after each reply while that still holds.
 * From the first call on, the list is driven by this alone: get_item never
 * fetches (the view also asks for rows it does not show: its focus and
 * selection trackers, the accessibility tree; reloading those would drop
 * the pages on screen in turn), and the pages dropped are the farthest
 * from the rows shown, never one holding them. */
void dg_paged_list_show(DgPagedList *self, guint first, guint last, guint ahead);

/* Drops every row (items-changed), starts a new generation and fetches the
 * first page. Returns the new generation. */
guint64 dg_paged_list_reset(DgPagedList *self);

/* The view shows row `position`: reload its page if dropped, fetch the next
 * page if near the end. Does nothing while a request is in flight. */
void dg_paged_list_need(DgPagedList *self, guint position);

/* A page arrived: `items` (n of them; the list takes a reference to each,
 * the caller keeps its own) and the reply's next_cursor ("" or NULL on the
 * last page). Returns FALSE, changing nothing, if `generation` is not the
 * current one or nothing is in flight (a stale reply). */
gboolean dg_paged_list_deliver(DgPagedList *self, guint64 generation, DgCustomerItem **items,
                               guint n, const char *next_cursor);
/* The request of `generation` failed: nothing is in flight any more, and the
 * next need (or get_item) asks again. FALSE if stale. */
gboolean dg_paged_list_fail(DgPagedList *self, guint64 generation);

/* A live change of a customer: replaces its row (same id) in place, moves or
 * removes it when its place or its belonging changed, or inserts it where it
 * belongs. Takes a reference. */
void dg_paged_list_upsert(DgPagedList *self, DgCustomerItem *item);
/* Removes the row of customer `id` if loaded. TRUE if one was removed. */
gboolean dg_paged_list_remove(DgPagedList *self, gint64 id);

/* The position of customer `id` among loaded rows, or -1. */
gint dg_paged_list_find(DgPagedList *self, gint64 id);
gboolean dg_paged_list_is_loading(DgPagedList *self);
/* TRUE once the last page has come (an empty next_cursor). */
gboolean dg_paged_list_is_complete(DgPagedList *self);
guint64 dg_paged_list_generation(DgPagedList *self);
/* Items currently held (resident rows plus kept edge rows), for tests and the benchmark. */
guint dg_paged_list_n_resident(DgPagedList *self);

G_END_DECLS

#endif
