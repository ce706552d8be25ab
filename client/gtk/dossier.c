/* dossier.c - a customer's dossier page: every section of the customer file
 * from one Get with `dossier` (the company's facts in groups, people,
 * interactions as a timeline, deals, feedback, open tasks), all of the
 * customer's tasks (List), the history of changes (History, paged), and the
 * actions: Edit and the quick actions (dossier_form.c).
 *
 * Values are shown by dg_form_format: times in the team's zone, money in
 * the team's currency when it has none, masked values exactly as the server
 * sent them. A refused Get shows the server's message alone, nothing of an
 * earlier answer. Live: a colleague's change to this dossier (the
 * connection's "event" signal) reloads it; the customer leaving the user's
 * view (archived, Hidden: reassigned away or moved to a restricted tier)
 * closes it with a message saying why, emptying every section.
 * Owns: the page's widgets; the customer shown (its id, its record in an
 * arena) and the names of the users seen. A reply of an older load is ignored.
 * Threads: the main thread.
 */
#include <string.h>

#include "dossier.h"

#include "customer_text.h"
#include "dg.h"
#include "record_msg.h"

static const char *user_name(void *ud, int64_t id)
{
    dg_dossier *d = ud;

    return g_hash_table_lookup(d->users, GINT_TO_POINTER((gint)id));
}

static void see_user(dg_dossier *d, const Dangan__V1__UserRef *u)
{
    if (u && u->id && u->username && u->username[0])
        g_hash_table_replace(d->users, GINT_TO_POINTER((gint)u->id), g_strdup(u->username));
}

static const char *who(const Dangan__V1__UserRef *u)
{
    return u && u->username && u->username[0] ? u->username : "—";
}

/* ------------------------------------------------------------ labels */

static const struct {
    const char *name, *label;
} LABELS[] = {
    {"code", N_("Code")},
    {"kind", N_("Kind")},
    {"name", N_("Name")},
    {"short_name", N_("Short name")},
    {"industry", N_("Industry")},
    {"region", N_("Region")},
    {"address", N_("Address")},
    {"postcode", N_("Postcode")},
    {"phone", N_("Phone")},
    {"fax", N_("Fax")},
    {"email", N_("E-mail")},
    {"website", N_("Website")},
    {"founded_on", N_("Founded on")},
    {"registered_capital", N_("Registered capital")},
    {"shareholders", N_("Shareholders")},
    {"bank_name", N_("Bank")},
    {"bank_account", N_("Bank account")},
    {"nature", N_("Nature")},
    {"size", N_("Size")},
    {"staff_count", N_("Staff")},
    {"staff_domestic", N_("Chinese staff")},
    {"staff_foreign", N_("Foreign staff")},
    {"standing", N_("Standing")},
    {"main_business", N_("Main business")},
    {"side_business", N_("Side business")},
    {"sales_history", N_("Sales, last 3 years")},
    {"source", N_("Source")},
    {"status", N_("Status")},
    {"stage", N_("Stage")},
    {"tier", N_("Tier")},
    {"intention", N_("Intention")},
    {"value", N_("Value")},
    {"credit_rating", N_("Credit rating")},
    {"our_advantages", N_("Our advantages")},
    {"our_weaknesses", N_("Our weaknesses")},
    {"owner", N_("Owner")},
    {"notes", N_("Notes")},
    {"churn_reason", N_("Churn reason")},
    {"role", N_("Role")},
    {"title", N_("Title")},
    {"mobile", N_("Mobile")},
    {"summary", N_("Summary")},
    {"content", N_("Content")},
    {"place", N_("Place")},
    {"participants", N_("Participants")},
    {"next_follow_up", N_("Next follow-up")},
    {"number", N_("Number")},
    {"amount", N_("Amount")},
    {"probability", N_("Probability %")},
    {"expected_close_on", N_("Expected close")},
    {"due_at_ms", N_("Due")},
};

const char *dg_dossier_field_label(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(LABELS); i++)
        if (strcmp(LABELS[i].name, name) == 0)
            return _(LABELS[i].label);
    return name;
}

/* ------------------------------------------------------------ building rows */

/* Replaces section s's group with a new one titled `title`; returns it. */
static GtkWidget *new_group(dg_dossier *d, int s, const char *title, const char *description)
{
    GtkWidget *box = d->secs[s], *old = gtk_widget_get_first_child(box), *g;

    while (old) {
        GtkWidget *next = gtk_widget_get_next_sibling(old);

        gtk_box_remove(GTK_BOX(box), old);
        old = next;
    }
    g = adw_preferences_group_new();
    adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g), title);
    if (description)
        adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(g), description);
    gtk_box_append(GTK_BOX(box), g);
    return g;
}

static GtkWidget *row(GtkWidget *group, const char *title, const char *subtitle, const char *icon)
{
    GtkWidget *r = adw_action_row_new();

    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(r), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), title && *title ? title : "—");
    if (subtitle && *subtitle)
        adw_action_row_set_subtitle(ADW_ACTION_ROW(r), subtitle);
    if (icon)
        adw_action_row_add_prefix(ADW_ACTION_ROW(r), gtk_image_new_from_icon_name(icon));
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), r);
    return r;
}

static void fact(GtkWidget *group, const char *title, const char *value)
{
    GtkWidget *r = adw_action_row_new(), *l = gtk_label_new(value && *value ? value : "—");

    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(r), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), title);
    gtk_label_set_selectable(GTK_LABEL(l), TRUE);
    gtk_label_set_wrap(GTK_LABEL(l), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(l), 40);
    gtk_label_set_natural_wrap_mode(GTK_LABEL(l), GTK_NATURAL_WRAP_NONE);
    gtk_label_set_xalign(GTK_LABEL(l), 1);
    adw_action_row_add_suffix(ADW_ACTION_ROW(r), l);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), r);
}

static void empty_row(GtkWidget *group, const char *text)
{
    GtkWidget *l = gtk_label_new(text);

    gtk_widget_add_css_class(l, "dim-label");
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), l);
}

static void when(dg_dossier *d, int64_t ms, char *buf, size_t len)
{
    static const dg_field t = {"at", DG_F_TIME, 0, 0, 0, NULL, DG_KIND_NONE};
    dg_value v = {ms, ""};

    dg_form_format(&d->ctx, &t, &v, buf, len);
}

static void money(dg_dossier *d, int64_t minor, const char *cur, char *buf, size_t len)
{
    static const dg_field m = {"amount", DG_F_MONEY, 0, 0, 0, NULL, DG_KIND_NONE};
    dg_value v = {minor, cur ? cur : ""};

    dg_form_format(&d->ctx, &m, &v, buf, len);
}

/* ------------------------------------------------------------ the company */

static const struct {
    const char *title;
    const char *fields[14];
} GROUPS[] = {
    {N_("Company"),
     {"code", "name", "short_name", "kind", "status", "stage", "tier", "intention", "value",
      "owner", "industry", "region", "source"}},
    {N_("Contact details"), {"phone", "fax", "email", "website", "address", "postcode"}},
    {N_("Organisation"),
     {"nature", "size", "staff_count", "staff_domestic", "staff_foreign", "standing", "founded_on",
      "registered_capital", "shareholders", "main_business", "side_business", "sales_history"}},
    {N_("Finance"), {"bank_name", "bank_account", "credit_rating"}},
    {N_("Assessment"), {"our_advantages", "our_weaknesses", "churn_reason", "notes"}},
};

static void show_company(dg_dossier *d, const Dangan__V1__Customer *c)
{
    const dg_entity *e = dg_entity_get(DG_KIND_CUSTOMER);
    GtkWidget *box = d->secs[SEC_COMPANY], *old = gtk_widget_get_first_child(box), *g;
    uint64_t shown = 0;
    char buf[1024], t1[64], t2[64];

    while (old) {
        GtkWidget *next = gtk_widget_get_next_sibling(old);

        gtk_box_remove(GTK_BOX(box), old);
        old = next;
    }
    for (size_t k = 0; k <= G_N_ELEMENTS(GROUPS); k++) {
        g = adw_preferences_group_new();
        adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g),
                                        k < G_N_ELEMENTS(GROUPS) ? _(GROUPS[k].title) : _("Other"));
        for (size_t i = 0; i < e->n_fields; i++) {
            bool in_group = false;

            if (k < G_N_ELEMENTS(GROUPS)) {
                for (size_t j = 0; j < 14 && GROUPS[k].fields[j]; j++)
                    in_group |= strcmp(GROUPS[k].fields[j], e->fields[i].name) == 0;
            } else {
                in_group = !(shown & (1ull << i)); /* a field of a newer table */
            }
            if (!in_group)
                continue;
            shown |= 1ull << i;
            dg_form_format(&d->ctx, &e->fields[i], &d->cust->v[i], buf, sizeof buf);
            fact(g, dg_dossier_field_label(e->fields[i].name), buf);
        }
        if (k == G_N_ELEMENTS(GROUPS)) {
            GString *tags = g_string_new("");

            for (size_t t = 0; t < c->n_tags; t++)
                g_string_append_printf(tags, "%s%s", t ? ", " : "", c->tags[t]);
            fact(g, _("Tags"), tags->str);
            g_string_free(tags, TRUE);
            for (size_t i = 0; i < c->n_custom; i++)
                fact(g, c->custom[i]->name, c->custom[i]->value);
            when(d, c->created_at_ms, t1, sizeof t1);
            snprintf(buf, sizeof buf, "%s · %s", t1, who(c->created_by));
            fact(g, _("Created"), buf);
            when(d, c->updated_at_ms, t2, sizeof t2);
            snprintf(buf, sizeof buf, _("%s · %s · version %lld"), t2, who(c->updated_by),
                     (long long)c->version);
            fact(g, _("Last changed"), buf);
            when(d, c->last_contact_at_ms, t1, sizeof t1);
            fact(g, _("Last contact"), t1);
        }
        gtk_box_append(GTK_BOX(box), g);
    }
}

/* ------------------------------------------------------------ the other sections */

static const char *channel_icon(int ch)
{
    switch (ch) {
    case DANGAN__V1__CHANNEL__CHANNEL_PHONE:
        return "call-start-symbolic";
    case DANGAN__V1__CHANNEL__CHANNEL_EMAIL:
        return "mail-send-symbolic";
    case DANGAN__V1__CHANNEL__CHANNEL_MEETING:
        return "system-users-symbolic";
    case DANGAN__V1__CHANNEL__CHANNEL_VISIT:
        return "mark-location-symbolic";
    case DANGAN__V1__CHANNEL__CHANNEL_IM:
        return "chat-message-new-symbolic";
    default:
        return "document-edit-symbolic";
    }
}

static const char *channel_text(int ch)
{
    switch (ch) {
    case DANGAN__V1__CHANNEL__CHANNEL_PHONE:
        return _("Call");
    case DANGAN__V1__CHANNEL__CHANNEL_EMAIL:
        return _("E-mail");
    case DANGAN__V1__CHANNEL__CHANNEL_MEETING:
        return _("Meeting");
    case DANGAN__V1__CHANNEL__CHANNEL_VISIT:
        return _("Visit");
    case DANGAN__V1__CHANNEL__CHANNEL_IM:
        return _("Message");
    default:
        return _("Other");
    }
}

static void show_people(dg_dossier *d, const Dangan__V1__Dossier *ds)
{
    GtkWidget *g = new_group(d, SEC_PEOPLE, _("People"), NULL);
    char role[64], sub[512];
    const dg_field *rf = &dg_entity_get(DG_KIND_CONTACT)->fields[1];

    for (size_t i = 0; i < ds->n_contacts; i++) {
        const Dangan__V1__Contact *c = ds->contacts[i];
        dg_value v = {c->role, ""};

        dg_form_format(&d->ctx, rf, &v, role, sizeof role);
        snprintf(sub, sizeof sub, "%s%s%s%s%s%s%s", c->title, c->title[0] ? " · " : "", role,
                 role[0] ? " · " : "", c->mobile, c->mobile[0] && c->email[0] ? " · " : "",
                 c->email);
        row(g, c->name, sub, "avatar-default-symbolic");
    }
    if (ds->n_contacts == 0)
        empty_row(g, _("No people yet."));
}

static void show_timeline(dg_dossier *d, const Dangan__V1__Dossier *ds)
{
    char title[64];
    GtkWidget *g;

    snprintf(title, sizeof title, _("Interactions (%u)"), ds->interaction_count);
    g = new_group(d, SEC_TIMELINE, title, _("Newest first"));
    for (size_t i = 0; i < ds->n_recent_interactions; i++)
        dg_dossier_interaction_row(d, g, ds->recent_interactions[i]);
    if (ds->n_recent_interactions == 0)
        empty_row(g, _("No interactions yet."));
    dg_dossier_timeline_begin(d, g, ds);
}

void dg_dossier_interaction_row(dg_dossier *d, GtkWidget *group, const Dangan__V1__Interaction *it)
{
    char sub[600], at[64];

    when(d, it->at_ms, at, sizeof at);
    snprintf(sub, sizeof sub, "%s · %s · %s%s%s", channel_text(it->channel), who(it->created_by),
             at, it->content[0] ? "\n" : "", it->content);
    row(group, it->summary, sub, channel_icon(it->channel));
}

static void show_deals(dg_dossier *d, const Dangan__V1__Dossier *ds)
{
    GString *totals = g_string_new("");
    char amount[64], sub[600], title[300];
    GtkWidget *g;

    for (size_t i = 0; i < ds->n_deal_totals; i++) {
        money(d, ds->deal_totals[i]->amount_minor, ds->deal_totals[i]->currency, amount,
              sizeof amount);
        g_string_append_printf(totals, "%s%s", i ? ", " : "", amount);
    }
    g = new_group(d, SEC_DEALS, _("Deals"), totals->len ? totals->str : NULL);
    g_string_free(totals, TRUE);
    for (size_t i = 0; i < ds->n_deals; i++) {
        const Dangan__V1__Deal *dl = ds->deals[i];

        money(d, dl->amount ? dl->amount->amount_minor : 0, dl->amount ? dl->amount->currency : "",
              amount, sizeof amount);
        snprintf(title, sizeof title, "%s%s%s", dl->number, dl->number[0] ? " · " : "",
                 dl->content[0] ? dl->content : amount);
        snprintf(sub, sizeof sub, _("%s · %s · expected close %s"), dl->stage[0] ? dl->stage : "—",
                 amount, dl->expected_close_on[0] ? dl->expected_close_on : "—");
        row(g, title, sub, "emblem-documents-symbolic");
    }
    if (ds->n_deals == 0)
        empty_row(g, _("No deals yet."));
}

static void show_feedback(dg_dossier *d, const Dangan__V1__Dossier *ds)
{
    const Dangan__V1__FeedbackSummary *s = ds->feedback_summary;
    const dg_entity *fe = dg_entity_get(DG_KIND_FEEDBACK);
    char desc[300], kind[64], status[64], at[64], sub[300];
    GtkWidget *g;

    snprintf(desc, sizeof desc, _("%u in all, %u open, average satisfaction %.1f"),
             s ? s->total : 0, s ? s->open : 0, s ? s->average_satisfaction : 0.0);
    g = new_group(d, SEC_FEEDBACK, _("Feedback"), desc);
    for (size_t i = 0; i < ds->n_recent_feedback; i++) {
        const Dangan__V1__Feedback *f = ds->recent_feedback[i];
        dg_value k = {f->kind, ""}, st = {f->status, ""};

        dg_form_format(&d->ctx, &fe->fields[dg_entity_field_index(fe, "kind")], &k, kind,
                       sizeof kind);
        dg_form_format(&d->ctx, &fe->fields[dg_entity_field_index(fe, "status")], &st, status,
                       sizeof status);
        when(d, f->at_ms, at, sizeof at);
        snprintf(sub, sizeof sub, "%s · %s · %s · %d/5", kind, status, at, f->satisfaction);
        row(g, f->text, sub, "dialog-information-symbolic");
    }
    if (ds->n_recent_feedback == 0)
        empty_row(g, _("No feedback yet."));
}

static void done_clicked(GtkButton *b, gpointer data)
{
    dg_dossier *d = data;

    gtk_widget_set_sensitive(GTK_WIDGET(b), FALSE);
    dg_dossier_task_done(d, GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(b), "task-id")),
                         GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(b), "task-version")));
}

static void show_tasks(dg_dossier *d, const Dangan__V1__ListResponse *l)
{
    GtkWidget *g = new_group(d, SEC_TASKS, _("Tasks"), NULL);
    char due[64], sub[400], name[400];

    for (size_t i = 0; l && i < l->n_records; i++) {
        const Dangan__V1__Task *t = l->records[i]->task;
        GtkWidget *r, *check;

        if (!t)
            continue;
        see_user(d, t->assignee);
        when(d, t->due_at_ms, due, sizeof due);
        snprintf(sub, sizeof sub, _("due %s · %s%s"), due[0] ? due : "—", who(t->assignee),
                 t->done ? _(" · done") : "");
        r = row(g, t->title, sub, NULL);
        if (t->done) {
            adw_action_row_add_prefix(ADW_ACTION_ROW(r),
                                      gtk_image_new_from_icon_name("emblem-ok-symbolic"));
            continue;
        }
        /* one click: a button (GTK 4.8's check buttons cannot be clicked
         * by screen readers) */
        check = gtk_button_new_from_icon_name("emblem-ok-symbolic");
        gtk_widget_add_css_class(check, "flat");
        gtk_widget_set_valign(check, GTK_ALIGN_CENTER);
        snprintf(name, sizeof name, _("Done: %s"), t->title);
        dg_gtk_a11y_name(check, name);
        gtk_widget_set_tooltip_text(check, _("Mark done"));
        g_object_set_data(G_OBJECT(check), "task-id", GSIZE_TO_POINTER((gsize)t->id));
        g_object_set_data(G_OBJECT(check), "task-version", GSIZE_TO_POINTER((gsize)t->version));
        g_signal_connect(check, "clicked", G_CALLBACK(done_clicked), d);
        adw_action_row_add_prefix(ADW_ACTION_ROW(r), check);
    }
    if (!l || l->n_records == 0)
        empty_row(g, _("No tasks yet."));
}

/* A FieldChange's JSON value as text: strings without their quotes. */
static char *json_text(const char *j)
{
    size_t n = strlen(j);

    if (n >= 2 && j[0] == '"' && j[n - 1] == '"') {
        char *inner = g_strndup(j + 1, n - 2), *s = g_strcompress(inner); /* \" \\ \n */

        g_free(inner);
        return s;
    }
    return g_strdup(n ? j : "—");
}

static void add_history(dg_dossier *d, const Dangan__V1__HistoryResponse *h, bool first)
{
    GtkWidget *box = d->secs[SEC_HISTORY];
    GtkWidget *g = first ? new_group(d, SEC_HISTORY, _("History of changes"), NULL)
                         : gtk_widget_get_first_child(box);
    char at[64], title[400];

    for (size_t i = 0; h && i < h->n_entries; i++) {
        const Dangan__V1__HistoryEntry *e = h->entries[i];
        GString *sub = g_string_new("");

        when(d, e->at_ms, at, sizeof at);
        snprintf(title, sizeof title, "%s · %s · %s", at, e->username, e->action);
        for (size_t k = 0; k < e->n_changes; k++) {
            char *from = json_text(e->changes[k]->before), *to = json_text(e->changes[k]->after);

            g_string_append_printf(sub, "%s%s: %s → %s", k ? "\n" : "",
                                   dg_dossier_field_label(e->changes[k]->field), from, to);
            g_free(from);
            g_free(to);
        }
        row(g, title, sub->str, NULL);
        g_string_free(sub, TRUE);
    }
    if (first && (!h || h->n_entries == 0))
        empty_row(g, _("No changes recorded."));
    d->history_before = h ? h->next_before_seq : 0;
    gtk_widget_set_visible(d->more_history, d->history_before != 0);
}

/* ------------------------------------------------------------ loading */

typedef struct asked {
    int64_t id;
    unsigned gen;
} asked;

static asked *ask(dg_dossier *d)
{
    asked *q = g_new(asked, 1);

    q->id = d->id;
    q->gen = d->gen;
    return q;
}

/* The reply belongs to the load now shown (frees `user`). */
static dg_dossier *current(GObject *owner, gpointer user)
{
    dg_dossier *d = g_object_get_data(owner, "dossier");
    asked *q = user;
    bool ok = q->id == d->id && q->gen == d->gen;

    g_free(q);
    return ok ? d : NULL;
}

static void show_message(dg_dossier *d, const char *title, const char *why)
{
    adw_status_page_set_title(ADW_STATUS_PAGE(d->message), title);
    adw_status_page_set_description(ADW_STATUS_PAGE(d->message), why);
    gtk_stack_set_visible_child_name(d->stack, "message");
    if (d->form)
        gtk_window_destroy(GTK_WINDOW(d->form));
    d->cust = NULL;
    dg_arena_reset(d->arena, 1 << 20);
}

static void got(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                gpointer user)
{
    dg_dossier *d = current(owner, user);
    const Dangan__V1__Customer *c;
    const ProtobufCMessage *body;
    enum dg_kind kind;
    char sub[300];

    if (!d)
        return;
    if (rc != DG_CLIENT_OK) {
        gtk_label_set_text(GTK_LABEL(d->error), errmsg);
        gtk_widget_set_visible(d->error, TRUE);
        return;
    }
    if (resp->status->code != DANGAN__V1__CODE__OK) {
        /* refused (restricted, gone): the server's word, nothing cached */
        show_message(d, _("This customer cannot be shown"), resp->status->message);
        return;
    }
    if (!resp->get || !resp->get->record || !(c = resp->get->record->customer) ||
        !(body = dg_recmsg_body(resp->get->record, &kind)))
        return;
    dg_arena_reset(d->arena, 1 << 20);
    if (dg_recmsg_to_record(d->arena, kind, body, &d->cust) != DG_OK)
        return;
    see_user(d, c->owner);
    see_user(d, c->created_by);
    see_user(d, c->updated_by);
    gtk_widget_set_visible(d->error, FALSE);
    gtk_stack_set_visible_child_name(d->stack, "content");
    gtk_label_set_text(GTK_LABEL(d->title), c->name);
    {
        /* the words the Customers list shows ("B", "Potential"), not the stored codes */
        const char *tier = dg_customer_tier_text(c->tier),
                   *status = dg_customer_status_text(c->status);
        char phone[64];

        dg_form_phone(c->phone, phone, sizeof phone);
        snprintf(sub, sizeof sub, _("%s · owner %s · tier %s · %s · %s"), c->code, who(c->owner),
                 tier[0] ? tier : "—", status[0] ? status : "—", phone[0] ? phone : "—");
    }
    gtk_label_set_text(GTK_LABEL(d->subtitle), sub);
    show_company(d, c);
    if (resp->get->dossier) {
        show_people(d, resp->get->dossier);
        show_timeline(d, resp->get->dossier);
        show_deals(d, resp->get->dossier);
        show_feedback(d, resp->get->dossier);
    }
}

static void got_tasks(GObject *owner, int rc, const Dangan__V1__Response *resp, const char *errmsg,
                      gpointer user)
{
    dg_dossier *d = current(owner, user);

    (void)errmsg;
    if (d && rc == DG_CLIENT_OK && resp->status->code == DANGAN__V1__CODE__OK)
        show_tasks(d, resp->list);
}

static void got_history(GObject *owner, int rc, const Dangan__V1__Response *resp,
                        const char *errmsg, gpointer user)
{
    dg_dossier *d = current(owner, user);

    (void)errmsg;
    if (d && rc == DG_CLIENT_OK && resp->status->code == DANGAN__V1__CODE__OK)
        add_history(d, resp->history, d->history_before == 0);
}

static void got_settings(GObject *owner, int rc, const Dangan__V1__Response *resp,
                         const char *errmsg, gpointer user)
{
    dg_dossier *d = g_object_get_data(owner, "dossier");
    const Dangan__V1__TeamSettings *t;

    (void)errmsg;
    (void)user;
    if (rc != DG_CLIENT_OK || resp->status->code != DANGAN__V1__CODE__OK ||
        !resp->get_team_settings || !(t = resp->get_team_settings->settings))
        return;
    g_strlcpy(d->zone, t->time_zone, sizeof d->zone);
    g_strlcpy(d->currency, t->currency, sizeof d->currency);
}

static void request_history(dg_dossier *d)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HistoryRequest h = DANGAN__V1__HISTORY_REQUEST__INIT;

    h.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    h.id = d->id;
    h.limit = 20;
    h.before_seq = d->history_before;
    req.body_case = DANGAN__V1__REQUEST__BODY_HISTORY;
    req.history = &h;
    dg_gtk_call(d->a->conn, &req, G_OBJECT(d->page), got_history, ask(d));
}

void dg_dossier_reload(dg_dossier *d)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__GetRequest get = DANGAN__V1__GET_REQUEST__INIT;
    Dangan__V1__ListRequest list = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__ListFilter filter = DANGAN__V1__LIST_FILTER__INIT;

    if (!d->id)
        return;
    d->gen++;
    get.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
    get.id = d->id;
    get.dossier = true;
    get.recent_interactions = 50;
    req.body_case = DANGAN__V1__REQUEST__BODY_GET;
    req.get = &get;
    dg_gtk_call(d->a->conn, &req, G_OBJECT(d->page), got, ask(d));

    filter.customer_id = d->id;
    list.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK;
    list.filter = &filter;
    list.sort = "due";
    list.limit = 100;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &list;
    dg_gtk_call(d->a->conn, &req, G_OBJECT(d->page), got_tasks, ask(d));

    d->history_before = 0;
    request_history(d);
}

void dg_gtk_dossier_load(GtkWidget *pagew, int64_t id)
{
    dg_dossier *d = g_object_get_data(G_OBJECT(pagew), "dossier");

    d->id = id;
    gtk_label_set_text(GTK_LABEL(d->title), _("Loading…"));
    gtk_label_set_text(GTK_LABEL(d->subtitle), "");
    gtk_widget_set_visible(d->error, FALSE);
    gtk_stack_set_visible_child_name(d->stack, "content");
    for (int s = 0; s < N_SECS; s++)
        new_group(d, s, "", NULL);
    gtk_widget_set_visible(d->more_history, FALSE);
    d->cust = NULL;
    dg_dossier_reload(d);
}

/* ------------------------------------------------------------ live */

static gboolean reload_now(gpointer data)
{
    dg_dossier *d = data;

    d->reload_source = 0;
    dg_dossier_reload(d);
    return G_SOURCE_REMOVE;
}

static void close_with(dg_dossier *d, const char *why)
{
    char text[600];
    const char *name = gtk_label_get_text(GTK_LABEL(d->title));

    snprintf(text, sizeof text, "%s: %s", name, why);
    show_message(d, _("This dossier was closed"), text);
    dg_gtk_toast(d->a, text);
    d->id = 0;
    /* nothing of it stays in the window, shown or not */
    for (int s = 0; s < N_SECS; s++)
        new_group(d, s, "", NULL);
    gtk_label_set_text(GTK_LABEL(d->subtitle), "");
}

static void event_arrived(DgGtkConn *conn, gpointer p, gpointer data)
{
    const Dangan__V1__Event *ev = p;
    dg_dossier *d = data;
    const Dangan__V1__ChangeEvent *ch = ev->change;

    (void)conn;
    if (!d->id || !d->cust)
        return;
    if (ev->body_case == DANGAN__V1__EVENT__BODY_HIDDEN && ev->hidden &&
        ev->hidden->customer_id == d->id) {
        if (ev->hidden->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
            close_with(d, _("it is no longer visible to you (reassigned to someone else or "
                            "moved to a restricted tier)"));
        else if (!d->reload_source)
            d->reload_source = g_timeout_add(100, reload_now, d);
        return;
    }
    if (ev->body_case != DANGAN__V1__EVENT__BODY_CHANGE || !ch || ch->customer_id != d->id)
        return;
    if (ch->kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER &&
        strcmp(ch->op, "archived") == 0) {
        char why[300];

        snprintf(why, sizeof why, _("it was deleted (archived) by %s"),
                 ch->actor_name[0] ? ch->actor_name : who(ch->actor));
        close_with(d, why);
        return;
    }
    /* several changes in a burst give one reload */
    if (!d->reload_source)
        d->reload_source = g_timeout_add(100, reload_now, d);
}

/* ------------------------------------------------------------ the page */

static void back_clicked(GtkButton *b, gpointer data)
{
    dg_dossier *d = data;

    (void)b;
    d->back(d->a);
}

static void edit_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    dg_dossier_edit(data);
}

static void quick_clicked(GtkButton *b, gpointer data)
{
    dg_dossier_quick(data, GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "quick")));
}

static void more_clicked(GtkButton *b, gpointer data)
{
    (void)b;
    request_history(data);
}

static void free_dossier(gpointer p)
{
    dg_dossier *d = p;

    if (d->reload_source)
        g_source_remove(d->reload_source);
    g_signal_handlers_disconnect_by_data(d->a->conn, d);
    dg_arena_free(d->arena);
    g_hash_table_unref(d->users);
    dg_dossier_timeline_free(d);
    g_free(d);
}

static GtkWidget *button(const char *icon, const char *text, GCallback cb, gpointer data)
{
    GtkWidget *b = gtk_button_new(), *c = adw_button_content_new();

    adw_button_content_set_icon_name(ADW_BUTTON_CONTENT(c), icon);
    adw_button_content_set_label(ADW_BUTTON_CONTENT(c), text);
    gtk_button_set_child(GTK_BUTTON(b), c);
    /* named by its content's label (an explicit name would be read twice) */
    gtk_widget_set_tooltip_text(b, text);
    g_signal_connect(b, "clicked", cb, data);
    return b;
}

static GtkWidget *actions(dg_dossier *d)
{
    static const struct {
        const char *icon, *text;
    } Q[N_QUICK] = {
        [Q_CALL] = {"call-start-symbolic", N_("Log a call")},
        [Q_VISIT] = {"mark-location-symbolic", N_("Log a visit")},
        [Q_CONTACT] = {"contact-new-symbolic", N_("Add a contact")},
        [Q_DEAL] = {"emblem-documents-symbolic", N_("Add a deal")},
        [Q_TASK] = {"x-office-calendar-symbolic", N_("Add a task")},
    };
    /* two rows of buttons (a GtkFlowBox is a grid to screen readers) */
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *rows[2], *b;

    for (int k = 0; k < 2; k++) {
        rows[k] = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        gtk_box_append(GTK_BOX(box), rows[k]);
    }
    b = button("document-edit-symbolic", _("Edit"), G_CALLBACK(edit_clicked), d);
    gtk_widget_add_css_class(b, "suggested-action");
    gtk_box_append(GTK_BOX(rows[0]), b);
    for (int q = 0; q < N_QUICK; q++) {
        b = button(Q[q].icon, _(Q[q].text), G_CALLBACK(quick_clicked), d);
        g_object_set_data(G_OBJECT(b), "quick", GINT_TO_POINTER(q));
        gtk_box_append(GTK_BOX(rows[q < Q_CONTACT ? 0 : 1]), b);
    }
    return box;
}

GtkWidget *dg_gtk_dossier_new(dg_gtk_app *a, void (*back)(dg_gtk_app *a))
{
    dg_dossier *d = g_new0(dg_dossier, 1);
    GtkWidget *scroll = gtk_scrolled_window_new(), *clamp = adw_clamp_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18), *top, *heads, *bk, *msgbk;
    GtkWidget *outer = gtk_stack_new();

    d->a = a;
    d->back = back;
    d->page = outer;
    d->stack = GTK_STACK(outer);
    d->arena = dg_arena_new(1 << 20);
    d->users = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    d->ctx = (dg_form_ctx){d->zone, d->currency, user_name, d};
    g_object_set_data_full(G_OBJECT(outer), "dossier", d, free_dossier);

    top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    bk = gtk_button_new_from_icon_name("go-previous-symbolic");
    gtk_widget_set_tooltip_text(bk, _("Back to the list"));
    dg_gtk_a11y_name(bk, _("Back to the list"));
    gtk_widget_set_valign(bk, GTK_ALIGN_START);
    g_signal_connect(bk, "clicked", G_CALLBACK(back_clicked), d);
    gtk_box_append(GTK_BOX(top), bk);
    heads = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    d->title = gtk_label_new("");
    gtk_widget_add_css_class(d->title, "title-1");
    gtk_label_set_wrap(GTK_LABEL(d->title), TRUE);
    gtk_label_set_xalign(GTK_LABEL(d->title), 0);
    gtk_label_set_selectable(GTK_LABEL(d->title), TRUE);
    gtk_box_append(GTK_BOX(heads), d->title);
    d->subtitle = gtk_label_new("");
    gtk_widget_add_css_class(d->subtitle, "dim-label");
    gtk_label_set_xalign(GTK_LABEL(d->subtitle), 0);
    gtk_box_append(GTK_BOX(heads), d->subtitle);
    gtk_box_append(GTK_BOX(top), heads);
    gtk_box_append(GTK_BOX(box), top);
    d->error = gtk_label_new("");
    gtk_widget_add_css_class(d->error, "error");
    gtk_widget_set_visible(d->error, FALSE);
    gtk_box_append(GTK_BOX(box), d->error);
    gtk_box_append(GTK_BOX(box), actions(d));

    /* what changes daily first, the long file of facts after it */
    static const int order[N_SECS] = {SEC_TIMELINE, SEC_TASKS,   SEC_PEOPLE, SEC_DEALS,
                                      SEC_FEEDBACK, SEC_COMPANY, SEC_HISTORY};
    for (int k = 0; k < N_SECS; k++) {
        d->secs[order[k]] = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18);
        gtk_box_append(GTK_BOX(box), d->secs[order[k]]);
    }
    d->more_history = gtk_button_new_with_label(_("Older changes"));
    dg_gtk_a11y_name(d->more_history, _("Older changes"));
    gtk_widget_set_halign(d->more_history, GTK_ALIGN_CENTER);
    gtk_widget_set_visible(d->more_history, FALSE);
    g_signal_connect(d->more_history, "clicked", G_CALLBACK(more_clicked), d);
    gtk_box_append(GTK_BOX(box), d->more_history);

    gtk_widget_set_margin_top(box, 18);
    gtk_widget_set_margin_bottom(box, 18);
    gtk_widget_set_margin_start(box, 12);
    gtk_widget_set_margin_end(box, 12);
    adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 860);
    adw_clamp_set_child(ADW_CLAMP(clamp), box);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), clamp);
    gtk_stack_add_named(d->stack, scroll, "content");

    d->message = adw_status_page_new();
    adw_status_page_set_icon_name(ADW_STATUS_PAGE(d->message), "dialog-information-symbolic");
    msgbk = gtk_button_new_with_label(_("Back to the list"));
    dg_gtk_a11y_name(msgbk, _("Back to the list"));
    gtk_widget_set_halign(msgbk, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(msgbk, "pill");
    g_signal_connect(msgbk, "clicked", G_CALLBACK(back_clicked), d);
    adw_status_page_set_child(ADW_STATUS_PAGE(d->message), msgbk);
    gtk_stack_add_named(d->stack, d->message, "message");

    g_signal_connect(a->conn, "event", G_CALLBACK(event_arrived), d);
    {
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__GetTeamSettingsRequest ts = DANGAN__V1__GET_TEAM_SETTINGS_REQUEST__INIT;

        req.body_case = DANGAN__V1__REQUEST__BODY_GET_TEAM_SETTINGS;
        req.get_team_settings = &ts;
        dg_gtk_call(a->conn, &req, G_OBJECT(outer), got_settings, NULL);
    }
    return outer;
}
