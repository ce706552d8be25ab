/* newcust.c - the New customer dialog (Ctrl+N): name (required), kind,
 * tier, phone, e-mail, region and industry. What was typed is read and
 * checked with dggui's forms (form.h: the server's own rules and messages)
 * before anything is sent; the server's answer (a refusal, or likely
 * duplicates, which "Create anyway" overrides) shows in the dialog. Once
 * created, the dialog closes and the new customer's dossier opens.
 *
 * Owns: the dialog and its state (freed with the window). One idempotency
 * key per dialog, so pressing Create again after a lost reply creates
 * nothing twice. Threads: the main thread.
 */
#include <string.h>

#include "app.h"
#include "dg.h"
#include "form.h"
#include "record_msg.h"

enum { T_NAME, T_PHONE, T_EMAIL, T_REGION, T_INDUSTRY, N_TEXT };

static const char *const text_field[N_TEXT] = {"name", "phone", "email", "region", "industry"};

typedef struct newcust {
    dg_gtk_app *a;
    void (*open)(dg_gtk_app *a, int64_t id);
    GtkWidget *win, *text[N_TEXT], *kind, *tier, *error, *create, *anyway;
    char key[40];
} newcust;

static void show_error(newcust *n, const char *text)
{
    gtk_label_set_text(GTK_LABEL(n->error), text);
    gtk_widget_set_visible(n->error, text[0] != '\0');
}

static void created(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                    gpointer user)
{
    newcust *n = g_object_get_data(owner, "newcust");
    GString *s;

    (void)user;
    gtk_widget_set_sensitive(n->create, TRUE);
    if (rc != DG_CLIENT_OK) {
        show_error(n, errmsg);
        return;
    }
    if (resp->status->code == DANGAN__V1__CODE__OK && resp->create && resp->create->record &&
        resp->create->record->customer) {
        int64_t id = resp->create->record->customer->id;
        char text[400];

        snprintf(text, sizeof text, _("Added %s"), resp->create->record->customer->name);
        dg_gtk_toast(n->a, text);
        n->open(n->a, id);
        gtk_window_destroy(GTK_WINDOW(n->win));
        return;
    }
    s = g_string_new(resp->status->message);
    for (size_t i = 0; i < resp->status->n_field_violations; i++)
        g_string_append_printf(s, "\n%s: %s", resp->status->field_violations[i]->field,
                               resp->status->field_violations[i]->description);
    if (resp->create && resp->create->n_duplicates) {
        g_string_append(s, _("\nLikely duplicates:"));
        for (size_t i = 0; i < resp->create->n_duplicates; i++)
            g_string_append_printf(s, "\n  %s %s (%s)", resp->create->duplicates[i]->code,
                                   resp->create->duplicates[i]->name,
                                   resp->create->duplicates[i]->matched_on);
        gtk_widget_set_visible(n->anyway, TRUE);
    }
    show_error(n, s->str);
    g_string_free(s, TRUE);
}

/* Reads and checks the form (form.h); sends the Create when it is clean. */
static void submit(newcust *n, bool allow_duplicate)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    dg_arena *ar = dg_arena_new(1 << 16);
    dg_record *r = dg_record_new(ar, DG_KIND_CUSTOMER);
    dg_form_ctx ctx = {0};
    dg_form_problem probs[8];
    const char *val[N_TEXT] = {0};
    char why[256];
    int np;

    for (int i = 0; i < N_TEXT; i++) {
        int fi = dg_entity_field_index(e, text_field[i]);
        const char *typed = gtk_editable_get_text(GTK_EDITABLE(n->text[i]));
        char *trimmed = g_strstrip(dg_arena_strdup(ar, typed));

        if (!trimmed[0] && i != T_NAME)
            continue;
        if (dg_form_parse(ar, &ctx, &e->fields[fi], trimmed, &r->v[fi], why, sizeof why) != DG_OK) {
            char text[400];

            snprintf(text, sizeof text, "%s: %s", text_field[i], why);
            show_error(n, text);
            dg_arena_free(ar);
            return;
        }
        r->given |= UINT64_C(1) << fi;
        val[i] = r->v[fi].s;
    }
    r->v[dg_entity_field_index(e, "kind")].i =
        1 + (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(n->kind));
    r->given |= UINT64_C(1) << dg_entity_field_index(e, "kind");
    if (gtk_drop_down_get_selected(GTK_DROP_DOWN(n->tier)) > 0) {
        r->v[dg_entity_field_index(e, "tier")].i =
            (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(n->tier));
        r->given |= UINT64_C(1) << dg_entity_field_index(e, "tier");
    }
    np = dg_form_check(r, true, ar, probs, (int)G_N_ELEMENTS(probs));
    if (np != 0) {
        GString *s = g_string_new("");

        for (int i = 0; i < np && i < (int)G_N_ELEMENTS(probs); i++)
            g_string_append_printf(s, "%s%s: %s", i ? "\n" : "", probs[i].field, probs[i].problem);
        if (np < 0)
            g_string_append(s, _("out of memory"));
        show_error(n, s->str);
        g_string_free(s, TRUE);
        dg_arena_free(ar);
        return;
    }
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__CreateRequest cr = DANGAN__V1__CREATE_REQUEST__INIT;
        Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
        Dangan__V1__Customer c = DANGAN__V1__CUSTOMER__INIT;

        c.name = (char *)val[T_NAME];
        if (val[T_PHONE])
            c.phone = (char *)val[T_PHONE];
        if (val[T_EMAIL])
            c.email = (char *)val[T_EMAIL];
        if (val[T_REGION])
            c.region = (char *)val[T_REGION];
        if (val[T_INDUSTRY])
            c.industry = (char *)val[T_INDUSTRY];
        c.kind = (Dangan__V1__CustomerKind)r->v[dg_entity_field_index(e, "kind")].i;
        c.tier = (Dangan__V1__Tier)r->v[dg_entity_field_index(e, "tier")].i;
        rec.kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        rec.customer = &c;
        cr.record = &rec;
        cr.idempotency_key = n->key;
        cr.allow_duplicate = allow_duplicate;
        req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
        req.create = &cr;
        show_error(n, "");
        gtk_widget_set_sensitive(n->create, FALSE);
        dg_gtk_call(n->a->conn, &req, G_OBJECT(n->win), created, NULL); /* copies req */
    }
    dg_arena_free(ar);
}

static void create_clicked(GtkWidget *w, gpointer data)
{
    (void)w;
    submit(data, false);
}

static void anyway_clicked(GtkWidget *w, gpointer data)
{
    (void)w;
    submit(data, true);
}

static void cancel_clicked(GtkWidget *w, gpointer data)
{
    newcust *n = data;

    (void)w;
    gtk_window_destroy(GTK_WINDOW(n->win));
}

static GtkWidget *entry_row(GtkWidget *group, const char *title, GtkWidget **entry)
{
    GtkWidget *row = adw_action_row_new();

    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    *entry = gtk_entry_new();
    gtk_widget_set_valign(*entry, GTK_ALIGN_CENTER);
    gtk_widget_set_hexpand(*entry, TRUE);
    dg_gtk_a11y_name(*entry, title);
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), *entry);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
    return row;
}

static GtkWidget *choice_row(GtkWidget *group, const char *title, const char *const *items)
{
    GtkWidget *row = adw_action_row_new(), *d = gtk_drop_down_new_from_strings(items);

    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    gtk_widget_set_valign(d, GTK_ALIGN_CENTER);
    dg_gtk_a11y_name(d, title);
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), d);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
    return d;
}

void dg_gtk_new_customer(dg_gtk_app *a, void (*open)(dg_gtk_app *a, int64_t id))
{
    newcust *n = g_new0(newcust, 1);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *group, *hb, *cancel;
    const char *kinds[] = {_("Company"), _("Person"), NULL};
    const char *tiers[] = {_("No tier"), _("Tier A"), _("Tier B"), _("Tier C"), NULL};
    char *uuid = g_uuid_string_random();

    n->a = a;
    n->open = open;
    g_strlcpy(n->key, uuid, sizeof n->key);
    g_free(uuid);
    n->win = adw_window_new();
    gtk_window_set_title(GTK_WINDOW(n->win), _("New customer"));
    gtk_window_set_transient_for(GTK_WINDOW(n->win), a->window);
    gtk_window_set_modal(GTK_WINDOW(n->win), TRUE);
    gtk_window_set_default_size(GTK_WINDOW(n->win), 520, -1);
    g_object_set_data_full(G_OBJECT(n->win), "newcust", n, g_free);

    hb = adw_header_bar_new();
    adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(hb), FALSE);
    cancel = gtk_button_new_with_label(_("Cancel"));
    dg_gtk_a11y_name(cancel, _("Cancel"));
    g_signal_connect(cancel, "clicked", G_CALLBACK(cancel_clicked), n);
    adw_header_bar_pack_start(ADW_HEADER_BAR(hb), cancel);
    n->create = gtk_button_new_with_label(_("Create"));
    dg_gtk_a11y_name(n->create, _("Create"));
    gtk_widget_add_css_class(n->create, "suggested-action");
    g_signal_connect(n->create, "clicked", G_CALLBACK(create_clicked), n);
    adw_header_bar_pack_end(ADW_HEADER_BAR(hb), n->create);
    gtk_box_append(GTK_BOX(box), hb);

    group = adw_preferences_group_new();
    gtk_widget_set_margin_start(group, 12);
    gtk_widget_set_margin_end(group, 12);
    entry_row(group, _("Name"), &n->text[T_NAME]);
    n->kind = choice_row(group, _("Kind"), kinds);
    n->tier = choice_row(group, _("Tier"), tiers);
    entry_row(group, _("Phone"), &n->text[T_PHONE]);
    entry_row(group, _("E-mail"), &n->text[T_EMAIL]);
    entry_row(group, _("Region"), &n->text[T_REGION]);
    entry_row(group, _("Industry"), &n->text[T_INDUSTRY]);
    for (int i = 0; i < N_TEXT; i++)
        g_signal_connect(n->text[i], "activate", G_CALLBACK(create_clicked), n);
    gtk_box_append(GTK_BOX(box), group);

    n->error = gtk_label_new("");
    gtk_widget_add_css_class(n->error, "error");
    gtk_label_set_wrap(GTK_LABEL(n->error), TRUE);
    gtk_label_set_xalign(GTK_LABEL(n->error), 0);
    gtk_label_set_selectable(GTK_LABEL(n->error), TRUE);
    gtk_widget_set_margin_start(n->error, 12);
    gtk_widget_set_margin_end(n->error, 12);
    gtk_widget_set_visible(n->error, FALSE);
    gtk_box_append(GTK_BOX(box), n->error);
    n->anyway = gtk_button_new_with_label(_("Create anyway"));
    dg_gtk_a11y_name(n->anyway, _("Create anyway"));
    gtk_widget_set_halign(n->anyway, GTK_ALIGN_END);
    gtk_widget_set_margin_end(n->anyway, 12);
    gtk_widget_set_margin_bottom(n->anyway, 12);
    gtk_widget_set_visible(n->anyway, FALSE);
    g_signal_connect(n->anyway, "clicked", G_CALLBACK(anyway_clicked), n);
    gtk_box_append(GTK_BOX(box), n->anyway);
    gtk_widget_set_margin_bottom(group, 12);

    adw_window_set_content(ADW_WINDOW(n->win), box);
    gtk_window_present(GTK_WINDOW(n->win));
    gtk_widget_grab_focus(n->text[T_NAME]);
}
