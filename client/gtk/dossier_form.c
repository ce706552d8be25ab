/* dossier_form.c - the dossier's forms: Edit (the customer's fields, based
 * on the version the dossier showed), the quick actions (log a call or a
 * visit, add a contact, a deal, a task: a small create form each) and
 * marking a task done; and the conflict dialog.
 *
 * A form validates before sending with dggui's edit_form.h (the server's
 * own checks, its words, shown next to the field) and sends only the fields
 * whose text the user changed. An Update answered ABORTED version_conflict
 * opens the conflict dialog (merge.h): for each field both sides changed,
 * their value and the user's, with a choice each; then the update is sent
 * against the server's current version with those choices. A field only a
 * colleague changed keeps the colleague's value: nothing is overwritten
 * silently.
 *
 * Owns: each form's window and its arena (the base record, what was typed);
 * the conflict dialog takes the arena over. Threads: the main thread.
 */
#include <string.h>

#include "dossier.h"

#include "dg.h"
#include "edit_form.h"
#include "merge.h"
#include "record_msg.h"

typedef struct form {
    dg_dossier *d;
    int64_t customer_id; /* the dossier it was opened on */
    bool is_create;
    const char *done_text;
    dg_arena *arena;
    dg_record *base;
    const dg_entity *e;
    GtkWidget *input[DG_MAX_FIELDS]; /* by field index; NULL: not on the form */
    GtkWidget *problem[DG_MAX_FIELDS];
    GtkWidget *win, *save, *status;
} form;

typedef struct conflict {
    dg_dossier *d;
    int64_t customer_id;
    dg_arena *arena; /* base, mine, theirs */
    dg_record *base, *mine, *theirs;
    dg_merge m;
    int idx[DG_MERGE_MAX], n;
    GtkWidget *keep_mine[DG_MERGE_MAX], *keep_theirs[DG_MERGE_MAX];
    GtkWidget *win, *list, *save, *status, *intro;
} conflict;

/* ------------------------------------------------------------ windows */

static GtkWidget *dialog(dg_dossier *d, const char *title, GtkWidget **save, GtkWidget **body,
                         GtkWidget **status)
{
    GtkWidget *win = adw_window_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *hb = adw_header_bar_new(), *cancel = gtk_button_new_with_label(_("Cancel"));
    GtkWidget *scroll = gtk_scrolled_window_new();

    gtk_window_set_title(GTK_WINDOW(win), title);
    gtk_window_set_modal(GTK_WINDOW(win), TRUE);
    gtk_window_set_transient_for(GTK_WINDOW(win), d->a->window);
    gtk_window_set_default_size(GTK_WINDOW(win), 560, 640);
    adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(hb), FALSE);
    adw_header_bar_set_title_widget(ADW_HEADER_BAR(hb), adw_window_title_new(title, ""));
    dg_gtk_a11y_name(cancel, _("Cancel"));
    g_signal_connect_swapped(cancel, "clicked", G_CALLBACK(gtk_window_destroy), win);
    adw_header_bar_pack_start(ADW_HEADER_BAR(hb), cancel);
    *save = gtk_button_new_with_label(_("Save"));
    gtk_widget_add_css_class(*save, "suggested-action");
    dg_gtk_a11y_name(*save, _("Save"));
    adw_header_bar_pack_end(ADW_HEADER_BAR(hb), *save);
    gtk_box_append(GTK_BOX(box), hb);
    *status = gtk_label_new("");
    gtk_widget_add_css_class(*status, "error");
    gtk_label_set_wrap(GTK_LABEL(*status), TRUE);
    gtk_widget_set_margin_top(*status, 6);
    gtk_widget_set_visible(*status, FALSE);
    gtk_box_append(GTK_BOX(box), *status);
    *body = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_widget_set_margin_top(*body, 12);
    gtk_widget_set_margin_bottom(*body, 12);
    gtk_widget_set_margin_start(*body, 18);
    gtk_widget_set_margin_end(*body, 18);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), *body);
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_box_append(GTK_BOX(box), scroll);
    adw_window_set_content(ADW_WINDOW(win), box);
    return win;
}

static void say(GtkWidget *status, const char *text)
{
    gtk_label_set_text(GTK_LABEL(status), text ? text : "");
    gtk_widget_set_visible(status, text && *text);
}

/* ------------------------------------------------------------ the form */

static void free_form(gpointer p)
{
    form *f = p;

    if (f->d->form == f->win)
        f->d->form = NULL;
    if (f->arena)
        dg_arena_free(f->arena);
    g_free(f);
}

static GtkWidget *input_for(form *f, const dg_field *fd, const char *shown)
{
    GtkWidget *w;

    if (fd->type == DG_F_ENUM || fd->type == DG_F_BOOL) {
        GtkStringList *l = gtk_string_list_new(NULL);
        guint at = 0, n = 0;
        char name[64];

        if (fd->type == DG_F_BOOL) {
            gtk_string_list_append(l, "no");
            gtk_string_list_append(l, "yes");
            n = 2;
            at = strcmp(shown, "yes") == 0;
        } else {
            gtk_string_list_append(l, "");
            n = 1;
            for (unsigned k = 0; k < fd->enum_desc->n_values; k++) {
                if (fd->enum_desc->values[k].value == 0 ||
                    !dg_enum_name(fd->enum_desc, fd->enum_desc->values[k].value, name, sizeof name))
                    continue;
                if (strcmp(name, shown) == 0)
                    at = n;
                gtk_string_list_append(l, name);
                n++;
            }
        }
        w = gtk_drop_down_new(G_LIST_MODEL(l), NULL);
        gtk_drop_down_set_selected(GTK_DROP_DOWN(w), at);
    } else {
        w = gtk_entry_new();
        gtk_editable_set_text(GTK_EDITABLE(w), shown);
        gtk_entry_set_activates_default(GTK_ENTRY(w), TRUE);
    }
    (void)f;
    return w;
}

static const char *text_of(GtkWidget *w)
{
    if (GTK_IS_DROP_DOWN(w)) {
        GObject *it = gtk_drop_down_get_selected_item(GTK_DROP_DOWN(w));

        return it ? gtk_string_object_get_string(GTK_STRING_OBJECT(it)) : "";
    }
    return gtk_editable_get_text(GTK_EDITABLE(w));
}

static void add_field(form *f, GtkWidget *body, int i)
{
    const dg_field *fd = &f->e->fields[i];
    const char *label = dg_dossier_field_label(fd->name);
    GtkWidget *l = gtk_label_new(label);
    char shown[1024];

    dg_form_format(&f->d->ctx, fd, &f->base->v[i], shown, sizeof shown);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_widget_add_css_class(l, "heading");
    gtk_widget_set_margin_top(l, 8);
    gtk_box_append(GTK_BOX(body), l);
    f->input[i] = input_for(f, fd, shown);
    dg_gtk_a11y_name(f->input[i], label);
    gtk_box_append(GTK_BOX(body), f->input[i]);
    f->problem[i] = gtk_label_new("");
    gtk_widget_add_css_class(f->problem[i], "error");
    gtk_label_set_xalign(GTK_LABEL(f->problem[i]), 0);
    gtk_label_set_wrap(GTK_LABEL(f->problem[i]), TRUE);
    gtk_widget_set_visible(f->problem[i], FALSE);
    gtk_box_append(GTK_BOX(body), f->problem[i]);
}

/* A problem next to its field ("record.interaction.summary" → summary);
 * false when the field is not on the form. */
static bool show_problem(form *f, const char *path, const char *problem)
{
    const char *dot = strrchr(path, '.');
    int i = dg_entity_field_index(f->e, dot ? dot + 1 : path);
    char text[600];

    if (i < 0 || !f->problem[i])
        return false;
    snprintf(text, sizeof text, "%s", problem);
    say(f->problem[i], text);
    return true;
}

static void clear_problems(form *f)
{
    for (int i = 0; i < DG_MAX_FIELDS; i++)
        if (f->problem[i])
            say(f->problem[i], "");
    say(f->status, "");
}

static void finished(dg_dossier *d, int64_t customer_id, const char *toast)
{
    dg_gtk_toast(d->a, toast);
    if (d->id == customer_id)
        dg_dossier_reload(d);
}

static void open_conflict(form *f, const Dangan__V1__Record *current, dg_record *mine);

static void saved(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                  gpointer user)
{
    form *f = g_object_get_data(owner, "form");
    const Dangan__V1__Status *st;
    dg_record *mine = user;
    bool is_shown = false;

    gtk_widget_set_sensitive(f->save, TRUE);
    if (rc != DG_CLIENT_OK) {
        say(f->status, errmsg);
        return;
    }
    st = resp->status;
    if (st->code == DANGAN__V1__CODE__OK) {
        finished(f->d, f->customer_id, _(f->done_text));
        gtk_window_destroy(GTK_WINDOW(f->win));
        return;
    }
    if (st->code == DANGAN__V1__CODE__ABORTED && !f->is_create && resp->update &&
        resp->update->record) {
        open_conflict(f, resp->update->record, mine);
        return;
    }
    for (size_t k = 0; k < st->n_field_violations; k++)
        is_shown |=
            show_problem(f, st->field_violations[k]->field, st->field_violations[k]->description);
    say(f->status,
        is_shown && st->n_field_violations == 1 ? _("Check the field marked.") : st->message);
}

static void save_clicked(GtkButton *b, gpointer data)
{
    form *f = data;
    const char *texts[DG_MAX_FIELDS] = {0};
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__CreateRequest cr = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__UpdateRequest *u;
    dg_edit e;
    int rc;

    (void)b;
    clear_problems(f);
    for (int i = 0; i < DG_MAX_FIELDS; i++)
        if (f->input[i])
            texts[i] = dg_arena_strdup(f->arena, text_of(f->input[i]));
    if (dg_edit_read(f->arena, &f->d->ctx, f->base, f->is_create, texts, &e) != DG_OK) {
        say(f->status, dg_strerror(DG_ENOMEM));
        return;
    }
    if (e.n_problems > 0) {
        int first = dg_entity_field_index(f->e, e.problems[0].field);

        say(f->status, _("Check the field marked."));
        for (int k = 0; k < e.n_problems; k++)
            if (!show_problem(f, e.problems[k].field, e.problems[k].problem)) {
                char text[600];

                snprintf(text, sizeof text, "%s: %s", e.problems[k].field, e.problems[k].problem);
                say(f->status, text);
            }
        if (first >= 0 && f->input[first]) /* scrolls the form to it */
            gtk_widget_grab_focus(f->input[first]);
        return;
    }
    if (f->is_create) {
        char *key = g_uuid_string_random();

        rc = dg_recmsg_create(f->arena, e.rec, &cr.record);
        cr.idempotency_key = dg_arena_strdup(f->arena, key);
        g_free(key);
        req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
        req.create = &cr;
    } else {
        if (e.changed == 0) { /* nothing to save */
            gtk_window_destroy(GTK_WINDOW(f->win));
            return;
        }
        rc = dg_recmsg_update(f->arena, e.rec, e.changed, &u);
        req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
        req.update = u;
    }
    if (rc != DG_OK) {
        say(f->status, dg_strerror(rc));
        return;
    }
    gtk_widget_set_sensitive(f->save, FALSE);
    dg_gtk_call(f->d->a->conn, &req, G_OBJECT(f->win), saved, e.rec);
}

static form *open_form(dg_dossier *d, const char *title, dg_record *base, bool is_create,
                       const char *done_text, const char *const *names, size_t n_names)
{
    form *f = g_new0(form, 1);
    GtkWidget *body;

    f->d = d;
    f->customer_id = d->id;
    f->is_create = is_create;
    f->done_text = done_text;
    f->arena = dg_arena_new(1 << 20);
    f->base = dg_record_copy(f->arena, base);
    f->e = dg_entity_get(base->kind);
    f->win = dialog(d, title, &f->save, &body, &f->status);
    g_object_set_data_full(G_OBJECT(f->win), "form", f, free_form);
    if (names) {
        for (size_t k = 0; k < n_names && names[k]; k++)
            add_field(f, body, dg_entity_field_index(f->e, names[k]));
    } else {
        for (size_t i = 0; i < f->e->n_fields; i++) {
            const dg_field *fd = &f->e->fields[i];

            if (!(fd->flags & (DG_FF_IMMUTABLE | DG_FF_SERVER)) && fd->type != DG_F_USER &&
                fd->type != DG_F_REF)
                add_field(f, body, (int)i);
        }
    }
    g_signal_connect(f->save, "clicked", G_CALLBACK(save_clicked), f);
    gtk_window_set_default_widget(GTK_WINDOW(f->win), f->save);
    d->form = f->win;
    gtk_window_present(GTK_WINDOW(f->win));
    return f;
}

void dg_dossier_edit(dg_dossier *d)
{
    char title[300];

    if (!d->cust || d->form)
        return;
    snprintf(title, sizeof title, _("Edit %s"), gtk_label_get_text(GTK_LABEL(d->title)));
    open_form(d, title, d->cust, false, N_("Saved."), NULL, 0);
}

static const struct {
    enum dg_kind kind;
    const char *title, *done;
    int channel;
    const char *fields[7];
} QUICK[N_QUICK] = {
    [Q_CALL] = {DG_KIND_INTERACTION,
                N_("Log a call"),
                N_("Call logged."),
                DANGAN__V1__CHANNEL__CHANNEL_PHONE,
                {"summary", "content", "next_follow_up"}},
    [Q_VISIT] = {DG_KIND_INTERACTION,
                 N_("Log a visit"),
                 N_("Visit logged."),
                 DANGAN__V1__CHANNEL__CHANNEL_VISIT,
                 {"summary", "place", "participants", "content", "next_follow_up"}},
    [Q_CONTACT] = {DG_KIND_CONTACT,
                   N_("Add a contact"),
                   N_("Contact added."),
                   0,
                   {"name", "role", "title", "mobile", "email"}},
    [Q_DEAL] = {DG_KIND_DEAL,
                N_("Add a deal"),
                N_("Deal added."),
                0,
                {"amount", "stage", "probability", "expected_close_on", "content", "number"}},
    [Q_TASK] =
        {DG_KIND_TASK, N_("Add a task"), N_("Task added."), 0, {"title", "due_at_ms", "notes"}},
};

void dg_dossier_quick(dg_dossier *d, enum dg_quick q)
{
    dg_arena *a;
    dg_record *base;
    const dg_entity *e;
    int i;

    if (!d->cust || d->form || q < 0 || q >= N_QUICK)
        return;
    a = dg_arena_new(1 << 16);
    base = dg_record_new(a, QUICK[q].kind);
    e = dg_entity_get(QUICK[q].kind);
    i = dg_entity_field_index(e, "customer_id");
    base->v[i].i = d->id;
    base->given = 1ull << i;
    if (QUICK[q].channel) {
        i = dg_entity_field_index(e, "channel");
        base->v[i].i = QUICK[q].channel;
        base->given |= 1ull << i;
    }
    open_form(d, _(QUICK[q].title), base, true, QUICK[q].done, QUICK[q].fields,
              G_N_ELEMENTS(QUICK[q].fields));
    dg_arena_free(a);
}

/* ------------------------------------------------------------ a task done */

static void task_done(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                      gpointer user)
{
    dg_dossier *d = g_object_get_data(owner, "dossier");
    int64_t *customer_id = user;

    if (rc != DG_CLIENT_OK)
        dg_gtk_toast(d->a, errmsg);
    else if (resp->status->code != DANGAN__V1__CODE__OK)
        dg_gtk_toast(d->a, resp->status->message);
    else
        dg_gtk_toast(d->a, _("Task done."));
    if (d->id == *customer_id)
        dg_dossier_reload(d);
    g_free(customer_id);
}

void dg_dossier_task_done(dg_dossier *d, int64_t id, int64_t version)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest u = DANGAN__V1__UPDATE_REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Task t = DANGAN__V1__TASK__INIT;
    char *mask[] = {"done"};
    int64_t *customer_id = g_new(int64_t, 1);

    *customer_id = d->id;
    t.id = id;
    t.done = true;
    rec.kind_case = DANGAN__V1__RECORD__KIND_TASK;
    rec.task = &t;
    u.record = &rec;
    u.expected_version = version;
    u.update_mask = mask;
    u.n_update_mask = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = &u;
    dg_gtk_call(d->a->conn, &req, G_OBJECT(d->page), task_done, customer_id);
}

/* ------------------------------------------------------------ the conflict dialog */

static void free_conflict(gpointer p)
{
    conflict *c = p;

    if (c->d->form == c->win)
        c->d->form = NULL;
    dg_arena_free(c->arena);
    g_free(c);
}

static void pick_toggled(GtkToggleButton *b, gpointer data)
{
    conflict *c = data;

    (void)b;
    for (int k = 0; k < c->n; k++) {
        int i = c->idx[k];

        if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(c->keep_mine[k])))
            dg_merge_choose(&c->m, i, DG_MERGE_KEEP_MINE);
        else if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(c->keep_theirs[k])))
            dg_merge_choose(&c->m, i, DG_MERGE_KEEP_THEIRS);
    }
    gtk_widget_set_sensitive(c->save, dg_merge_is_decided(&c->m));
}

static GtkWidget *choice(conflict *c, const char *side, const char *value, const char *keep,
                         const char *label)
{
    char text[1200], name[300];
    GtkWidget *b;

    snprintf(text, sizeof text, "%s: %s", side, value[0] ? value : "—");
    /* toggle buttons: screen readers (AT-SPI) can click them, GTK 4.8's
     * check buttons have no action */
    b = gtk_toggle_button_new_with_label(text);
    gtk_label_set_wrap(GTK_LABEL(gtk_button_get_child(GTK_BUTTON(b))), TRUE);
    gtk_label_set_xalign(GTK_LABEL(gtk_button_get_child(GTK_BUTTON(b))), 0);
    snprintf(name, sizeof name, "%s: %s", keep, label);
    dg_gtk_a11y_name(b, name);
    g_signal_connect(b, "toggled", G_CALLBACK(pick_toggled), c);
    return b;
}

/* Lists the conflicts of c->m (rebuilt when the server answers with another). */
static void show_conflicts(conflict *c)
{
    const dg_entity *e = dg_entity_get(c->m.kind);
    GtkWidget *old;
    char theirs[1024], mine[1024], intro[600];

    while ((old = gtk_widget_get_first_child(c->list)))
        gtk_box_remove(GTK_BOX(c->list), old);
    snprintf(intro, sizeof intro,
             _("Someone else changed %d of the fields you edited since you opened the form "
               "(now version %lld). For each, keep their value or yours."),
             c->n, (long long)c->theirs->version);
    gtk_label_set_text(GTK_LABEL(c->intro), intro);
    for (int k = 0; k < c->n; k++) {
        int i = c->idx[k];
        const char *label = dg_dossier_field_label(dg_merge_field_name(&c->m, i));
        GtkWidget *g = adw_preferences_group_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);

        if (i < (int)e->n_fields) {
            dg_form_format(&c->d->ctx, &e->fields[i], &c->theirs->v[i], theirs, sizeof theirs);
            dg_form_format(&c->d->ctx, &e->fields[i], &c->mine->v[i], mine, sizeof mine);
        } else { /* tags */
            snprintf(theirs, sizeof theirs, "%zu", c->theirs->n_tags);
            snprintf(mine, sizeof mine, "%zu", c->mine->n_tags);
        }
        adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g), label);
        c->keep_theirs[k] = choice(c, _("Theirs"), theirs, _("Keep theirs"), label);
        c->keep_mine[k] = choice(c, _("Yours"), mine, _("Keep mine"), label);
        gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(c->keep_mine[k]),
                                    GTK_TOGGLE_BUTTON(c->keep_theirs[k]));
        gtk_box_append(GTK_BOX(box), c->keep_theirs[k]);
        gtk_box_append(GTK_BOX(box), c->keep_mine[k]);
        adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), box);
        gtk_box_append(GTK_BOX(c->list), g);
    }
    gtk_widget_set_sensitive(c->save, dg_merge_is_decided(&c->m));
}

static void resolve_send(conflict *c);

static void resolved(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                     gpointer user)
{
    conflict *c = g_object_get_data(owner, "conflict");
    const ProtobufCMessage *body;
    enum dg_kind kind;

    (void)user;
    gtk_widget_set_sensitive(c->save, TRUE);
    if (rc != DG_CLIENT_OK) {
        say(c->status, errmsg);
        return;
    }
    if (resp->status->code == DANGAN__V1__CODE__OK) {
        finished(c->d, c->customer_id, _("Saved."));
        gtk_window_destroy(GTK_WINDOW(c->win));
        return;
    }
    if (resp->status->code == DANGAN__V1__CODE__ABORTED && resp->update && resp->update->record &&
        (body = dg_recmsg_body(resp->update->record, &kind)) &&
        dg_recmsg_to_record(c->arena, kind, body, &c->theirs) == DG_OK &&
        dg_merge_init(&c->m, c->base, c->mine, c->theirs) == DG_OK) {
        /* changed again meanwhile: ask again against the newest */
        c->n = dg_merge_conflicts(&c->m, c->idx, DG_MERGE_MAX);
        show_conflicts(c);
        if (c->n == 0)
            resolve_send(c);
        return;
    }
    say(c->status, resp->status->message);
}

static void resolve_send(conflict *c)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__UpdateRequest *u;
    dg_record *r;
    uint64_t fields;
    int rc;

    if ((rc = dg_merge_result(&c->m, c->arena, &r, &fields)) != DG_OK) {
        say(c->status, dg_strerror(rc));
        return;
    }
    if (fields == 0) { /* the server holds everything the user kept */
        finished(c->d, c->customer_id, _("Kept their values; nothing else to save."));
        gtk_window_destroy(GTK_WINDOW(c->win));
        return;
    }
    if ((rc = dg_recmsg_update(c->arena, r, fields, &u)) != DG_OK) {
        say(c->status, dg_strerror(rc));
        return;
    }
    req.body_case = DANGAN__V1__REQUEST__BODY_UPDATE;
    req.update = u;
    gtk_widget_set_sensitive(c->save, FALSE);
    dg_gtk_call(c->d->a->conn, &req, G_OBJECT(c->win), resolved, NULL);
}

static void resolve_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    resolve_send(data);
}

static void open_conflict(form *f, const Dangan__V1__Record *current, dg_record *mine)
{
    conflict *c = g_new0(conflict, 1);
    const ProtobufCMessage *body;
    enum dg_kind kind;
    GtkWidget *content;

    c->d = f->d;
    c->customer_id = f->customer_id;
    c->arena = f->arena; /* base and mine live there: taken over */
    f->arena = NULL;
    c->base = f->base;
    c->mine = mine;
    if (!(body = dg_recmsg_body(current, &kind)) ||
        dg_recmsg_to_record(c->arena, kind, body, &c->theirs) != DG_OK ||
        dg_merge_init(&c->m, c->base, c->mine, c->theirs) != DG_OK) {
        say(f->status, _("The server's current record could not be read."));
        f->arena = c->arena;
        g_free(c);
        return;
    }
    gtk_window_destroy(GTK_WINDOW(f->win));
    c->n = dg_merge_conflicts(&c->m, c->idx, DG_MERGE_MAX);
    c->win = dialog(c->d, _("Someone else changed this customer"), &c->save, &content, &c->status);
    g_object_set_data_full(G_OBJECT(c->win), "conflict", c, free_conflict);
    c->intro = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(c->intro), TRUE);
    gtk_label_set_xalign(GTK_LABEL(c->intro), 0);
    gtk_box_append(GTK_BOX(content), c->intro);
    c->list = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    gtk_widget_set_margin_top(c->list, 12);
    gtk_box_append(GTK_BOX(content), c->list);
    g_signal_connect(c->save, "clicked", G_CALLBACK(resolve_clicked), c);
    c->d->form = c->win;
    show_conflicts(c);
    gtk_window_present(GTK_WINDOW(c->win));
    if (c->n == 0) /* the fields they changed are not the ones changed here */
        resolve_send(c);
}
