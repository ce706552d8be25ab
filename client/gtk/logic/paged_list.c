/* paged_list.c - the keyset-paged list model of the Customers view (see paged_list.h).
 *
 * Owns: its pages (each its start cursor, its rows or, once dropped, its
 * first and last row) and a reference on every item it holds.
 * Invariants: n_items is the sum of the pages' n; a resident page has
 * rows->len == n; inflight is -1 or the index of the page being fetched
 * (pages->len for the next one); n_resident counts pages with rows and,
 * between calls, is at most max_resident.
 * Runs on: the main thread.
 */
#include "paged_list.h"

typedef struct page {
    char *cursor;                 /* what fetched it: "" for the first page */
    GPtrArray *rows;              /* DgCustomerItem, or NULL when dropped */
    guint n;                      /* rows, kept when dropped */
    DgCustomerItem *first, *last; /* kept when dropped; NULL when resident or empty */
} page;

struct _DgPagedList {
    GObject parent_instance;
    guint page_size, max_resident;
    DgPagedListFetch fetch;
    DgPagedListBelongs belongs;
    GCompareDataFunc compare;
    gpointer user_data;
    GDestroyNotify destroy;
    GPtrArray *pages; /* page * */
    guint n_items, n_resident;
    char *next_cursor;     /* the cursor of the page after the last; NULL when complete */
    char *inflight_cursor; /* what the request in flight asked for */
    gint inflight;         /* page index being fetched, or -1 */
    guint last_need;       /* the row the view asked for last */
    guint64 generation;
    gboolean is_next_on_get; /* get_item near the end fetches the next page */
    gboolean has_window;     /* dg_paged_list_show drives loading, not get_item */
    guint win_first, win_last, ahead;
};

static void list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(DgPagedList, dg_paged_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, list_model_init))

static void page_free(gpointer p)
{
    page *pg = p;

    g_free(pg->cursor);
    if (pg->rows)
        g_ptr_array_unref(pg->rows);
    g_clear_object(&pg->first);
    g_clear_object(&pg->last);
    g_free(pg);
}

static page *page_new(const char *cursor)
{
    page *pg = g_new0(page, 1);

    pg->cursor = g_strdup(cursor ? cursor : "");
    pg->rows = g_ptr_array_new_with_free_func(g_object_unref);
    return pg;
}

/* The page holding row `position` and the row's index in it; NULL past the end. */
static page *locate(DgPagedList *self, guint position, guint *index, guint *page_index)
{
    for (guint p = 0; p < self->pages->len; p++) {
        page *pg = g_ptr_array_index(self->pages, p);

        if (position < pg->n) {
            *index = position;
            if (page_index)
                *page_index = p;
            return pg;
        }
        position -= pg->n;
    }
    return NULL;
}

static guint page_start(DgPagedList *self, guint page_index)
{
    guint start = 0;

    for (guint p = 0; p < page_index; p++)
        start += ((page *)g_ptr_array_index(self->pages, p))->n;
    return start;
}

/* ------------------------------------------------------------ GListModel */

static GType get_item_type(GListModel *model)
{
    (void)model;
    return DG_TYPE_CUSTOMER_ITEM;
}

static guint get_n_items(GListModel *model)
{
    return DG_PAGED_LIST(model)->n_items;
}

static gpointer get_item(GListModel *model, guint position)
{
    DgPagedList *self = DG_PAGED_LIST(model);
    guint index;
    page *pg = locate(self, position, &index, NULL);

    if (!pg)
        return NULL;
    /* under dg_paged_list_show only the rows shown load pages: the view asks
     * for others (its focus and selection trackers, the accessibility
     * tree), and reloading them would drop the pages on screen in turn */
    if (!self->has_window && (!pg->rows || self->is_next_on_get))
        dg_paged_list_need(self, position);
    if (pg->rows)
        return g_object_ref(g_ptr_array_index(pg->rows, index));
    return dg_customer_item_new_placeholder();
}

static void list_model_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

/* ------------------------------------------------------------ lifecycle */

static void dispose(GObject *object)
{
    DgPagedList *self = DG_PAGED_LIST(object);

    if (self->destroy && self->user_data)
        self->destroy(self->user_data);
    self->destroy = NULL;
    self->user_data = NULL;
    G_OBJECT_CLASS(dg_paged_list_parent_class)->dispose(object);
}

static void finalize(GObject *object)
{
    DgPagedList *self = DG_PAGED_LIST(object);

    g_ptr_array_unref(self->pages);
    g_free(self->next_cursor);
    g_free(self->inflight_cursor);
    G_OBJECT_CLASS(dg_paged_list_parent_class)->finalize(object);
}

static void dg_paged_list_class_init(DgPagedListClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

static void dg_paged_list_init(DgPagedList *self)
{
    self->pages = g_ptr_array_new_with_free_func(page_free);
    self->inflight = -1;
    self->is_next_on_get = TRUE;
}

DgPagedList *dg_paged_list_new(guint page_size, guint max_resident, DgPagedListFetch fetch,
                               DgPagedListBelongs belongs, GCompareDataFunc compare,
                               gpointer user_data, GDestroyNotify destroy)
{
    DgPagedList *self;

    g_return_val_if_fail(page_size >= 1 && page_size <= 1000, NULL);
    g_return_val_if_fail(max_resident >= 2 && fetch, NULL);
    self = g_object_new(DG_TYPE_PAGED_LIST, NULL);
    self->page_size = page_size;
    self->max_resident = max_resident;
    self->fetch = fetch;
    self->belongs = belongs;
    self->compare = compare;
    self->user_data = user_data;
    self->destroy = destroy;
    return self;
}

/* ------------------------------------------------------------ fetching */

static void request(DgPagedList *self, gint page_index, const char *cursor)
{
    self->inflight = page_index;
    g_free(self->inflight_cursor);
    self->inflight_cursor = g_strdup(cursor);
    self->fetch(self, self->generation, cursor, self->page_size, self->user_data);
}

void dg_paged_list_set_next_on_get(DgPagedList *self, gboolean is_next_on_get)
{
    self->is_next_on_get = is_next_on_get;
}

guint64 dg_paged_list_reset(DgPagedList *self)
{
    guint old = self->n_items;

    g_ptr_array_set_size(self->pages, 0);
    self->n_items = 0;
    self->n_resident = 0;
    self->last_need = 0;
    self->win_first = self->win_last = 0;
    self->generation++;
    g_free(self->next_cursor);
    self->next_cursor = g_strdup("");
    if (old)
        g_list_model_items_changed(G_LIST_MODEL(self), 0, old, 0);
    request(self, 0, "");
    return self->generation;
}

void dg_paged_list_need(DgPagedList *self, guint position)
{
    guint index, p;
    page *pg;

    if (self->inflight >= 0)
        return;
    self->last_need = position;
    pg = locate(self, position, &index, &p);
    if (pg && !pg->rows) {
        request(self, (gint)p, pg->cursor);
        return;
    }
    if (self->next_cursor && (guint64)position + (self->page_size + 1) / 2 >= self->n_items)
        request(self, (gint)self->pages->len, self->next_cursor);
}

/* The next request the rows shown want: a dropped page among them, else
 * the next page when the last row shown is within `ahead` rows of the end. */
static void load_window(DgPagedList *self)
{
    guint start = 0;

    if (self->inflight >= 0)
        return;
    for (guint p = 0; p < self->pages->len && start <= self->win_last; p++) {
        page *pg = g_ptr_array_index(self->pages, p);

        if (!pg->rows && pg->n && start + pg->n > self->win_first) {
            request(self, (gint)p, pg->cursor);
            return;
        }
        start += pg->n;
    }
    if (self->next_cursor && (guint64)self->win_last + self->ahead >= self->n_items)
        request(self, (gint)self->pages->len, self->next_cursor);
}

void dg_paged_list_show(DgPagedList *self, guint first, guint last, guint ahead)
{
    self->has_window = TRUE;
    self->win_first = first;
    self->win_last = MAX(first, last);
    self->ahead = ahead;
    self->last_need = first + (self->win_last - first) / 2;
    load_window(self);
}

/* How far page p (its rows start..start+n) is from what matters: the rows
 * shown (0 when it holds one of them) or the row last asked for. */
static guint distance(DgPagedList *self, guint p, guint start, guint near)
{
    page *pg = g_ptr_array_index(self->pages, p);

    if (!self->has_window)
        return p > near ? p - near : near - p;
    if (start > self->win_last)
        return start - self->win_last;
    if (start + pg->n <= self->win_first)
        return self->win_first - (start + pg->n) + 1;
    return 0;
}

/* The page farthest from the row last asked for (or the rows shown), other than `keep`. */
static gint farthest_resident(DgPagedList *self, guint keep)
{
    guint near = 0, index, start = 0;
    gint far = -1;
    guint best = 0;

    if (!locate(self, self->last_need, &index, &near))
        near = self->pages->len ? self->pages->len - 1 : 0;
    for (guint p = 0; p < self->pages->len; p++) {
        page *pg = g_ptr_array_index(self->pages, p);
        guint d = distance(self, p, start, near);

        if (p != keep && pg->rows && (far < 0 || d > best)) {
            far = (gint)p;
            best = d;
        }
        start += pg->n;
    }
    return far;
}

/* Drops the rows of page p, keeping what reloading and placing need. */
static void drop_page(DgPagedList *self, guint p)
{
    page *pg = g_ptr_array_index(self->pages, p);

    if (pg->n) {
        pg->first = g_object_ref(g_ptr_array_index(pg->rows, 0));
        pg->last = g_object_ref(g_ptr_array_index(pg->rows, pg->n - 1));
    }
    g_clear_pointer(&pg->rows, g_ptr_array_unref);
    self->n_resident--;
    /* the rows now read as placeholders: the view must bind them again */
    if (pg->n)
        g_list_model_items_changed(G_LIST_MODEL(self), page_start(self, p), pg->n, pg->n);
}

static void fill_page(page *pg, DgCustomerItem **items, guint n)
{
    if (!pg->rows)
        pg->rows = g_ptr_array_new_with_free_func(g_object_unref);
    g_ptr_array_set_size(pg->rows, 0);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(pg->rows, g_object_ref(items[i]));
    pg->n = n;
    g_clear_object(&pg->first);
    g_clear_object(&pg->last);
}

gboolean dg_paged_list_deliver(DgPagedList *self, guint64 generation, DgCustomerItem **items,
                               guint n, const char *next_cursor)
{
    guint p, start, old_n = 0;
    page *pg;

    if (generation != self->generation || self->inflight < 0)
        return FALSE;
    p = (guint)self->inflight;
    self->inflight = -1;
    if (p == self->pages->len) { /* the next page */
        g_ptr_array_add(self->pages, page_new(self->inflight_cursor));
        self->n_resident++;
        g_free(self->next_cursor);
        /* the cursor asked for coming back would page forever */
        self->next_cursor =
            next_cursor && next_cursor[0] && g_strcmp0(next_cursor, self->inflight_cursor) != 0
                ? g_strdup(next_cursor)
                : NULL;
    }
    pg = g_ptr_array_index(self->pages, p);
    old_n = pg->n;
    if (!pg->rows)
        self->n_resident++; /* a dropped page reloaded */
    start = page_start(self, p);
    fill_page(pg, items, n);
    self->n_items = self->n_items - old_n + n;
    if (old_n || n)
        g_list_model_items_changed(G_LIST_MODEL(self), start, old_n, n);
    while (self->n_resident > self->max_resident) {
        gint far = farthest_resident(self, p);

        if (far < 0)
            break;
        drop_page(self, (guint)far);
    }
    if (self->has_window)
        load_window(self); /* more of what is shown may still be missing */
    return TRUE;
}

gboolean dg_paged_list_fail(DgPagedList *self, guint64 generation)
{
    if (generation != self->generation || self->inflight < 0)
        return FALSE;
    self->inflight = -1;
    return TRUE;
}

/* ------------------------------------------------------------ live changes */

gint dg_paged_list_find(DgPagedList *self, gint64 id)
{
    guint start = 0;

    for (guint p = 0; p < self->pages->len; p++) {
        page *pg = g_ptr_array_index(self->pages, p);

        for (guint i = 0; pg->rows && i < pg->rows->len; i++)
            if (dg_customer_item_get_id(g_ptr_array_index(pg->rows, i)) == id)
                return (gint)(start + i);
        start += pg->n;
    }
    return -1;
}

/* Takes row `position` out of its page (no signal). */
static void take_out(DgPagedList *self, guint position)
{
    guint index = 0;
    page *pg = locate(self, position, &index, NULL);

    g_return_if_fail(pg != NULL); /* callers pass a row the list has */
    g_ptr_array_remove_index(pg->rows, index);
    pg->n--;
    self->n_items--;
}

static gint cmp(DgPagedList *self, DgCustomerItem *a, DgCustomerItem *b)
{
    return self->compare(a, b, self->user_data);
}

/* Where `item` goes among the loaded rows: a position, or -1 when its place
 * is not loaded (past the end of an incomplete list, or in a dropped page). */
static gint place(DgPagedList *self, DgCustomerItem *item, guint *page_index)
{
    guint start = 0, last_p = self->pages->len;

    for (guint p = 0; p < self->pages->len; p++) {
        page *pg = g_ptr_array_index(self->pages, p);
        DgCustomerItem *last;
        guint lo = 0, hi;

        if (pg->n == 0)
            continue;
        last_p = p;
        last = pg->rows ? g_ptr_array_index(pg->rows, pg->n - 1) : pg->last;
        if (cmp(self, item, last) >= 0) {
            start += pg->n;
            continue;
        }
        if (!pg->rows)
            return -1;
        for (hi = pg->n; lo < hi;) { /* the first row that sorts after item */
            guint mid = lo + (hi - lo) / 2;

            if (cmp(self, item, g_ptr_array_index(pg->rows, mid)) < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        *page_index = p;
        return (gint)(start + lo);
    }
    if (self->next_cursor || self->inflight >= 0)
        return -1;                    /* it may sort among rows not loaded yet */
    if (last_p == self->pages->len) { /* nothing loaded: the first row */
        if (self->pages->len == 0) {
            g_ptr_array_add(self->pages, page_new(""));
            self->n_resident++;
        }
        last_p = self->pages->len - 1;
    }
    if (!((page *)g_ptr_array_index(self->pages, last_p))->rows)
        return -1;
    *page_index = last_p;
    return (gint)start;
}

static void put_in(DgPagedList *self, guint p, guint position, DgCustomerItem *item)
{
    page *pg = g_ptr_array_index(self->pages, p);

    g_ptr_array_insert(pg->rows, (gint)(position - page_start(self, p)), g_object_ref(item));
    pg->n++;
    self->n_items++;
}

void dg_paged_list_upsert(DgPagedList *self, DgCustomerItem *item)
{
    gint old = dg_paged_list_find(self, dg_customer_item_get_id(item));
    gboolean belongs = !self->belongs || self->belongs(item, self->user_data);
    gint pos = -1;
    guint p = 0, index;

    if (old >= 0 && !self->compare) { /* no order to keep: in place */
        pos = old;
        locate(self, (guint)old, &index, &p);
        take_out(self, (guint)old);
    } else {
        if (old >= 0)
            take_out(self, (guint)old);
        if (belongs && self->compare)
            pos = place(self, item, &p);
    }
    if (belongs && pos >= 0)
        put_in(self, p, (guint)pos, item);
    else
        pos = -1;
    if (old >= 0 && old == pos) {
        g_list_model_items_changed(G_LIST_MODEL(self), (guint)pos, 1, 1);
        return;
    }
    if (old >= 0)
        g_list_model_items_changed(G_LIST_MODEL(self), (guint)old, 1, 0);
    if (pos >= 0)
        g_list_model_items_changed(G_LIST_MODEL(self), (guint)pos, 0, 1);
}

gboolean dg_paged_list_remove(DgPagedList *self, gint64 id)
{
    gint old = dg_paged_list_find(self, id);

    if (old < 0)
        return FALSE;
    take_out(self, (guint)old);
    g_list_model_items_changed(G_LIST_MODEL(self), (guint)old, 1, 0);
    return TRUE;
}

/* ------------------------------------------------------------ state */

gboolean dg_paged_list_is_loading(DgPagedList *self)
{
    return self->inflight >= 0;
}

gboolean dg_paged_list_is_complete(DgPagedList *self)
{
    return self->pages->len > 0 && !self->next_cursor && self->inflight < 0;
}

guint64 dg_paged_list_generation(DgPagedList *self)
{
    return self->generation;
}

guint dg_paged_list_n_resident(DgPagedList *self)
{
    guint n = 0;

    for (guint p = 0; p < self->pages->len; p++) {
        page *pg = g_ptr_array_index(self->pages, p);

        n += pg->rows ? pg->rows->len : (guint)(pg->first != NULL) + (guint)(pg->last != NULL);
    }
    return n;
}
