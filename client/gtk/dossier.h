/* dossier.h - what the dossier page (dossier.c) and its forms and dialogs
 * (dossier_form.c) share. Main thread only.
 */
#ifndef DG_GTK_DOSSIER_H
#define DG_GTK_DOSSIER_H

#include "alloc.h"
#include "app.h"
#include "entity.h"
#include "form.h"

enum dg_dossier_sec {
    SEC_COMPANY,
    SEC_PEOPLE,
    SEC_TIMELINE,
    SEC_DEALS,
    SEC_FEEDBACK,
    SEC_TASKS,
    SEC_HISTORY,
    N_SECS
};

/* The quick actions, each two clicks from the dossier: its button, then Save. */
enum dg_quick { Q_CALL, Q_VISIT, Q_CONTACT, Q_DEAL, Q_TASK, N_QUICK };

typedef struct dg_dossier {
    dg_gtk_app *a;
    void (*back)(dg_gtk_app *a);
    GtkWidget *page;    /* the page (its "dossier" data is this) */
    GtkStack *stack;    /* "content", "message" */
    GtkWidget *message; /* AdwStatusPage: refused, or closed and why */
    GtkWidget *title, *subtitle, *error, *more_history;
    GtkWidget *secs[N_SECS];    /* each holds one AdwPreferencesGroup, rebuilt */
    int64_t id;                 /* the customer shown (0: none) */
    unsigned gen;               /* load generation: older replies are dropped */
    dg_arena *arena;            /* holds cust */
    dg_record *cust;            /* the customer as shown: an edit's base */
    char zone[64], currency[8]; /* the team's */
    dg_form_ctx ctx;
    GHashTable *users;       /* user id -> username (seen in replies) */
    uint64_t history_before; /* the next History page (0: none) */
    guint reload_source;
    GtkWidget *form; /* the open form or dialog, if any */
    /* The timeline beyond the Get's newest interactions (dossier_timeline.c). */
    GtkWidget *timeline, *more_timeline; /* its group, its "Earlier interactions" */
    GHashTable *timeline_ids;            /* interaction ids shown */
    char *timeline_cursor;               /* the next List page ("": from the start) */
    unsigned timeline_total;             /* the customer's interactions */
} dg_dossier;

/* The user-facing name of field `name` ("Phone"), its own name when unknown. */
const char *dg_dossier_field_label(const char *name);

/* One interaction's row in the timeline `group` (dossier.c). */
void dg_dossier_interaction_row(dg_dossier *d, GtkWidget *group, const Dangan__V1__Interaction *it);
/* dossier_timeline.c: after the timeline group was filled with the Get's
 * newest interactions, offers the earlier ones a page at a time. */
void dg_dossier_timeline_begin(dg_dossier *d, GtkWidget *group, const Dangan__V1__Dossier *ds);
/* Frees what the timeline's paging keeps (the page is going away). */
void dg_dossier_timeline_free(dg_dossier *d);

/* Reloads everything shown (after a save, or a colleague's change). */
void dg_dossier_reload(dg_dossier *d);

/* dossier_form.c: the Edit form of the customer shown (based on d->cust's
 * version), with the conflict dialog after ABORTED version_conflict. */
void dg_dossier_edit(dg_dossier *d);
/* A quick action's small form. */
void dg_dossier_quick(dg_dossier *d, enum dg_quick q);
/* Marks task `id` (at `version`) done: one click. */
void dg_dossier_task_done(dg_dossier *d, int64_t id, int64_t version);

#endif
