/* bench.c - measuring points for tests/bench/gtk.sh, off unless
 * DANGAN_GTK_BENCH is set in the environment. Lines go to stderr, each
 * "bench NAME VALUE", times from g_get_monotonic_time (CLOCK_MONOTONIC, µs):
 *
 *   bench first-rows T      the first frame painted after the Customers
 *                           list got rows (T: monotonic µs; the script
 *                           compares it with the process start it took)
 *   bench key-to-drawn MS   a key pressed in the window, then the first frame
 *                           painted after the list got rows for it: from the
 *                           last key press to that frame
 *   bench frame MS          with DANGAN_GTK_BENCH=scroll: the interval between
 *                           frames (GdkFrameClock frame times) while the list
 *                           is scrolled down a screen a frame to its end
 *   bench rss-kb N          the resident set before that scroll, every 600
 *                           frames during it and after it
 *   bench rows N            rows in the list every 600 frames and at the end
 *
 * Owns nothing beyond a static state. Threads: the main thread.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

static struct {
    GtkWidget *view;
    GListModel *model;
    GtkAdjustment *adj;
    bool is_scroll, first_done, rows_came, scrolling;
    bool searched; /* the search entry asked since the last key (rows are for it) */
    int64_t key_at, last_frame, frame_began;
    double last_upper;
    int still; /* frames the end of the list did not move */
    long n_frames;
} B;

static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * 4;
}

static GtkWidget *find_view(GtkWidget *w)
{
    if (GTK_IS_COLUMN_VIEW(w))
        return w;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *v = find_view(c);

        if (v)
            return v;
    }
    return NULL;
}

static void items_changed(GListModel *m, guint pos, guint removed, guint added, gpointer data)
{
    (void)m;
    (void)pos;
    (void)removed;
    (void)data;
    if (added && B.searched)
        B.rows_came = true;
}

/* After the page's own handler: the query is sent, or the whole list is
 * shown again as it was (back from a search: its rows are there). */
static void search_changed(GtkSearchEntry *e, gpointer data)
{
    (void)e;
    (void)data;
    B.searched = true;
    if (B.view && gtk_widget_get_visible(gtk_widget_get_parent(B.view)) &&
        g_list_model_get_n_items(G_LIST_MODEL(gtk_column_view_get_model(GTK_COLUMN_VIEW(B.view)))))
        B.rows_came = true;
}

static gboolean key_pressed(GtkEventControllerKey *k, guint val, guint code, GdkModifierType st,
                            gpointer data)
{
    (void)k;
    (void)val;
    (void)code;
    (void)st;
    (void)data;
    B.key_at = g_get_monotonic_time();
    B.rows_came = false;
    B.searched = false;
    return FALSE;
}

/* One screen further down each frame until the end stops moving (the
 * list loads more as the view nears its end). */
static void scroll_step(void)
{
    double upper = gtk_adjustment_get_upper(B.adj), page = gtk_adjustment_get_page_size(B.adj);
    double value = gtk_adjustment_get_value(B.adj);

    if (value + page >= upper - 1) {
        B.still = upper == B.last_upper ? B.still + 1 : 0;
        B.last_upper = upper;
        if (B.still > 300) { /* five seconds at 60 Hz with nothing more to load */
            fprintf(stderr, "bench rows %u\nbench rss-kb %ld\n", g_list_model_get_n_items(B.model),
                    rss_kb());
            fprintf(stderr, "bench scroll-done %lld\n", (long long)g_get_monotonic_time());
            B.scrolling = false;
        }
        return;
    }
    gtk_adjustment_set_value(B.adj, value + page);
}

/* The first phase of a frame that runs (each runs only when asked for). */
static void phase(GdkFrameClock *clock, gpointer data)
{
    (void)clock;
    (void)data;
    if (!B.frame_began)
        B.frame_began = g_get_monotonic_time();
}

static void after_paint(GdkFrameClock *clock, gpointer data)
{
    int64_t now = g_get_monotonic_time(), frame = gdk_frame_clock_get_frame_time(clock);
    int64_t began = B.frame_began;

    (void)data;
    B.frame_began = 0;
    if (!B.model && B.view &&
        (B.model = G_LIST_MODEL(gtk_column_view_get_model(GTK_COLUMN_VIEW(B.view)))))
        B.adj = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(B.view));
    if (!B.model)
        return;
    if (!B.first_done && g_list_model_get_n_items(B.model) > 0) {
        B.first_done = true;
        fprintf(stderr, "bench first-rows %lld\n", (long long)now);
        if (B.is_scroll) {
            fprintf(stderr, "bench rss-kb %ld\n", rss_kb());
            B.scrolling = true;
        }
    }
    if (B.key_at && B.rows_came) {
        fprintf(stderr, "bench key-to-drawn %.1f\n", (now - B.key_at) / 1000.0);
        B.key_at = 0;
    }
    if (B.scrolling) {
        if (B.last_frame)
            fprintf(stderr, "bench frame %.2f\nbench work %.2f\n", (frame - B.last_frame) / 1000.0,
                    began ? (now - began) / 1000.0 : 0.0);
        if (++B.n_frames % 120 == 0) /* about every 2 s: memory and progress */
            fprintf(stderr, "bench rss-kb %ld\nbench rows %u\n", rss_kb(),
                    g_list_model_get_n_items(B.model));
        B.last_frame = frame;
        scroll_step();
        gtk_widget_queue_draw(B.view);
    }
}

static void mapped(GtkWidget *w, gpointer data)
{
    static const char *const phases[] = {"flush-events", "before-paint", "update", "layout",
                                         "paint"};
    GdkFrameClock *clock = gtk_widget_get_frame_clock(w);

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(phases); i++)
        g_signal_connect(clock, phases[i], G_CALLBACK(phase), NULL);
    g_signal_connect(clock, "after-paint", G_CALLBACK(after_paint), NULL);
}

void dg_gtk_bench_attach(GtkWidget *window, GtkWidget *customers)
{
    const char *mode = g_getenv("DANGAN_GTK_BENCH");
    GtkEventController *keys;

    if (!mode || !*mode)
        return;
    B.is_scroll = strcmp(mode, "scroll") == 0;
    B.view = find_view(customers); /* the first: the whole list's (the search's is hidden) */
    /* rows for a keystroke: the list's or the search's (customers.c) */
    g_signal_connect(g_object_get_data(G_OBJECT(customers), "list"), "items-changed",
                     G_CALLBACK(items_changed), NULL);
    g_signal_connect(g_object_get_data(G_OBJECT(customers), "hits"), "items-changed",
                     G_CALLBACK(items_changed), NULL);
    /* connected after the page's own handler: runs once the query is sent */
    g_signal_connect(g_object_get_data(G_OBJECT(customers), "search"), "search-changed",
                     G_CALLBACK(search_changed), NULL);
    keys = gtk_event_controller_key_new();
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(key_pressed), NULL);
    gtk_widget_add_controller(window, keys);
    if (gtk_widget_get_mapped(window))
        mapped(window, NULL);
    else
        g_signal_connect(window, "map", G_CALLBACK(mapped), NULL);
}
