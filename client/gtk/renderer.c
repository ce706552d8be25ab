/* renderer.c - GTK's CPU renderer where OpenGL is drawn in software.
 *
 * GTK 4.8 draws with OpenGL whenever the display offers it, even when the
 * OpenGL is Mesa's software rasteriser (llvmpipe, softpipe: a machine or VM
 * without a GPU, a remote desktop, Xvfb). There its shaders take most of the
 * CPU: scrolling the Customers list took 27 ms of work a frame (every frame
 * late at 60 Hz), GTK's cairo renderer 6.5 ms (tests/bench/gtk.sh). So
 * before the first window is drawn the app asks the display for an OpenGL
 * context, reads who renders it, and on a software rasteriser chooses cairo
 * (GSK_RENDERER, which GTK reads when it makes its first renderer). A
 * GSK_RENDERER already set is the user's choice and stays.
 *
 * Main thread, once, before any window is realized.
 */
#include <string.h>

#include <epoxy/gl.h>

#include "app.h"

static bool is_software(const char *renderer)
{
    static const char *const soft[] = {"llvmpipe", "softpipe", "Software Rasterizer", "SWR"};

    for (size_t i = 0; i < G_N_ELEMENTS(soft); i++)
        if (strstr(renderer, soft[i]))
            return true;
    return false;
}

void dg_gtk_pick_renderer(void)
{
    GdkDisplay *display = gdk_display_get_default();
    GdkGLContext *gl;
    const char *renderer;

    if (g_getenv("GSK_RENDERER") || !display)
        return;
    gl = gdk_display_create_gl_context(display, NULL);
    if (!gl)
        return; /* no OpenGL at all: GTK draws with cairo by itself */
    if (gdk_gl_context_realize(gl, NULL)) {
        gdk_gl_context_make_current(gl);
        renderer = (const char *)glGetString(GL_RENDERER);
        if (renderer && is_software(renderer)) {
            g_setenv("GSK_RENDERER", "cairo", TRUE);
            g_log("dangan-gtk", G_LOG_LEVEL_INFO,
                  "OpenGL is drawn in software (%s): drawing with GTK's cairo renderer", renderer);
        }
        gdk_gl_context_clear_current();
    }
    g_object_unref(gl);
}
