/* show.c - records for people: a customer's whole dossier, and tables of
 * records of any kind (see rec.h).
 *
 * The customer file is shown in groups of related facts; a field the groups
 * do not name (a newer .proto) still shows, under "Other", because fields
 * are walked through the message descriptor. Only fields with a value print.
 * Writes to stdout only. Single-threaded.
 */
#include "rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "table.h"
#include "utf8.h"

#define TEXT_MAX 4096
#define CELL_MAX 1024
#define MAX_COLS 8
#define LABEL_CACHE 64

/* ------------------------------------------------------------ tables of records */

struct col {
    const char *header;
    const char *field; /* a field of the kind's message */
    bool is_right;     /* numbers and amounts */
    bool is_flex;      /* free text: gives way first on a narrow terminal */
};

static const struct col customer_cols[] = {
    {"CODE", "code", false, false},
    {"NAME", "name", false, true},
    {"TIER", "tier", false, false},
    {"STATUS", "status", false, false},
    {"OWNER", "owner", false, false},
    {"REGION", "region", false, true},
    {"LAST CONTACT", "last_contact_at_ms", false, false},
};
static const struct col contact_cols[] = {
    {"ID", "id", true, false},          {"NAME", "name", false, true},
    {"ROLE", "role", false, false},     {"TITLE", "title", false, true},
    {"MOBILE", "mobile", false, false}, {"EMAIL", "email", false, true},
};
static const struct col note_cols[] = {
    {"ID", "id", true, false},
    {"AT", "at_ms", false, false},
    {"CHANNEL", "channel", false, false},
    {"SUMMARY", "summary", false, true},
    {"FOLLOW UP", "next_follow_up", false, false},
    {"BY", "created_by", false, false},
};
static const struct col deal_cols[] = {
    {"ID", "id", true, false},
    {"STAGE", "stage", false, false},
    {"PROB", "probability", true, false},
    {"AMOUNT", "amount", true, false},
    {"CLOSE BY", "expected_close_on", false, false},
    {"AT", "at_ms", false, false},
    {"NUMBER", "number", false, true},
};
static const struct col feedback_cols[] = {
    {"ID", "id", true, false},          {"AT", "at_ms", false, false},
    {"KIND", "kind", false, false},     {"SCORE", "satisfaction", true, false},
    {"STATUS", "status", false, false}, {"TEXT", "text", false, true},
};
static const struct col task_cols[] = {
    {"ID", "id", true, false},       {"DUE", "due_at_ms", false, false},
    {"TITLE", "title", false, true}, {"ASSIGNEE", "assignee", false, false},
    {"DONE", "done", false, false},
};

static const struct col *cols_for(Dangan__V1__EntityKind kind, size_t *n)
{
#define COLS(a) (*n = DG_ARRAY_LEN(a), a)
    switch (kind) {
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER:
        return COLS(customer_cols);
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT:
        return COLS(contact_cols);
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION:
        return COLS(note_cols);
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL:
        return COLS(deal_cols);
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK:
        return COLS(feedback_cols);
    default:
        return COLS(task_cols);
    }
#undef COLS
}

/* A table cell: instants as a day when they fall on midnight. */
static void cell_text(const ProtobufCMessage *m, const char *field, char *buf, size_t len)
{
    size_t n = strlen(field);

    if (n > 3 && strcmp(field + n - 3, "_ms") == 0) {
        int64_t ms = cli_msg_i64(m, field);

        if (ms)
            cli_day_or_time(ms, buf, len);
        else
            buf[0] = '\0';
        return;
    }
    if (!cli_field_text(m, field, buf, len))
        buf[0] = '\0'; /* a table shows "yes" for a true flag and nothing for false */
}

/* Customer ids → "C-000001 北京天坛家具" for one table, one Get per customer. */
struct labels {
    int64_t id[LABEL_CACHE];
    char code[LABEL_CACHE][256];
    size_t n;
};

static const char *customer_code(cli *c, struct labels *l, int64_t id, char *buf, size_t len)
{
    dg_reply *r;

    for (size_t i = 0; i < l->n; i++)
        if (l->id[i] == id)
            return l->code[i];
    snprintf(buf, len, "#%lld", (long long)id);
    if (l->n == LABEL_CACHE)
        return buf;
    /* A customer we may not see or that is gone still gets a row: quietly "#id". */
    if (cli_rec_peek(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, id, &r)) {
        cli_customer_label(&dg_reply_response(r)->get->record->customer->base, buf, len);
        dg_reply_free(r);
    }
    l->id[l->n] = id;
    snprintf(l->code[l->n], sizeof l->code[0], "%s", buf);
    return l->code[l->n++];
}

void cli_show_table(cli *c, const cli_kind *k, const ProtobufCMessage *const *msgs, size_t n,
                    bool with_customer, size_t indent)
{
    const char *headers[MAX_COLS], *cells[MAX_COLS];
    char text[MAX_COLS][CELL_MAX];
    size_t n_cols, extra = with_customer ? 1 : 0;
    const struct col *cols = cols_for(k->kind, &n_cols);
    struct labels *labels = with_customer ? dg_xcalloc(1, sizeof *labels) : NULL;
    cli_table *t;

    dg_assert(n_cols + extra <= MAX_COLS);
    for (size_t i = 0, o = 0; i < n_cols; i++) {
        headers[o++] = cols[i].header;
        if (i == 0 && with_customer)
            headers[o++] = "CUSTOMER";
    }
    t = cli_table_new(n_cols + extra, headers);
    for (size_t i = 0, o = 0; i < n_cols; i++, o++) {
        if (cols[i].is_right)
            cli_table_align_right(t, o);
        if (cols[i].is_flex)
            cli_table_flex(t, o);
        o += i == 0 ? extra : 0;
    }
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0, o = 0; i < n_cols; i++) {
            cell_text(msgs[r], cols[i].field, text[o], sizeof text[o]);
            cells[o] = text[o];
            o++;
            if (i == 0 && with_customer) {
                cells[o] = customer_code(c, labels, cli_msg_i64(msgs[r], "customer_id"), text[o],
                                         sizeof text[o]);
                o++;
            }
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, indent, cli_term_width());
    cli_table_free(t);
    free(labels);
}

struct deal_total {
    char currency[4];
    int64_t sum;
    unsigned count;
};

void cli_show_totals(const ProtobufCMessage *const *deals, size_t n)
{
    struct deal_total totals[16];
    size_t n_totals = 0;
    char money[64];

    for (size_t i = 0; i < n; i++) {
        const Dangan__V1__Money *a = ((const Dangan__V1__Deal *)deals[i])->amount;
        const char *cur = a && a->currency[0] ? a->currency : "CNY";
        size_t t;

        for (t = 0; t < n_totals && strcmp(totals[t].currency, cur) != 0; t++)
            ;
        if (t == n_totals) {
            if (n_totals == DG_ARRAY_LEN(totals))
                continue;
            snprintf(totals[t].currency, sizeof totals[t].currency, "%s", cur);
            totals[t].sum = 0;
            totals[t].count = 0;
            n_totals++;
        }
        totals[t].sum += a ? a->amount_minor : 0;
        totals[t].count++;
    }
    for (size_t a = 1; a < n_totals; a++) /* by currency code, as the dossier's totals */
        for (size_t b = a; b > 0 && strcmp(totals[b - 1].currency, totals[b].currency) > 0; b--) {
            struct deal_total tmp = totals[b];

            totals[b] = totals[b - 1];
            totals[b - 1] = tmp;
        }
    printf("Total:");
    for (size_t t = 0; t < n_totals; t++)
        printf("%s %s in %u deal%s", t ? ";" : "",
               cli_money_text(totals[t].sum, totals[t].currency, money, sizeof money),
               totals[t].count, totals[t].count == 1 ? "" : "s");
    putchar('\n');
}

const char *cli_customer_label(const ProtobufCMessage *customer, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", cli_msg_str(customer, "code"), cli_msg_str(customer, "name"));
    return buf;
}

/* ------------------------------------------------------------ the customer file */

struct group {
    const char *title;
    const char *const *fields; /* NULL-terminated */
};

static const char *const g_company[] = {"kind",
                                        "short_name",
                                        "industry",
                                        "region",
                                        "nature",
                                        "standing",
                                        "size",
                                        "staff_count",
                                        "staff_domestic",
                                        "staff_foreign",
                                        "founded_on",
                                        "registered_capital",
                                        "shareholders",
                                        "main_business",
                                        "side_business",
                                        "sales_history",
                                        NULL};
static const char *const g_reach[] = {"phone",   "fax",      "email", "website",
                                      "address", "postcode", NULL};
static const char *const g_sales[] = {"status",         "stage",          "tier",   "intention",
                                      "value",          "owner",          "source", "credit_rating",
                                      "our_advantages", "our_weaknesses", NULL};
static const char *const g_bank[] = {"bank_name", "bank_account", NULL};
static const char *const g_notes[] = {"tags", "notes", NULL};
/* Shown in the header lines, not in a group. */
static const char *const g_header[] = {"id",
                                       "version",
                                       "code",
                                       "name",
                                       "archived",
                                       "created_at_ms",
                                       "updated_at_ms",
                                       "created_by",
                                       "updated_by",
                                       "last_contact_at_ms",
                                       "custom",
                                       NULL};

static const struct group groups[] = {
    {"Company", g_company}, {"Reach", g_reach}, {"Sales", g_sales},
    {"Bank", g_bank},       {"Notes", g_notes},
};

static bool listed(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static bool in_any_group(const char *name)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(groups); i++)
        if (listed(groups[i].fields, name))
            return true;
    return listed(g_header, name);
}

/* "    label      value", continuation lines of a long text indented alike. */
static void print_fact(const char *label, const char *value, size_t label_cols, bool is_field)
{
    char name[256];
    size_t pad;

    snprintf(name, sizeof name, "%s", label);
    for (char *p = name; is_field && *p; p++) /* registered_capital → registered capital */
        *p = *p == '_' ? ' ' : *p;
    pad = label_cols > dg_utf8_width(name) ? label_cols - dg_utf8_width(name) : 0;
    printf("    %s%*s  ", name, (int)pad, "");
    for (const char *p = value; *p; p++) {
        if (*p == '\r')
            continue;
        putchar(*p == '\t' ? ' ' : *p);
        if (*p == '\n')
            printf("    %*s  ", (int)label_cols, "");
    }
    putchar('\n');
}

static const size_t LABEL_COLS = 18;

/* One group: its title and the fields that have a value; nothing when none has. */
static void print_group(const ProtobufCMessage *m, const char *title, const char *const *fields)
{
    char *value = dg_xmalloc(TEXT_MAX);
    bool has_title = false;

    for (; *fields; fields++) {
        if (!cli_field_text(m, *fields, value, TEXT_MAX))
            continue;
        if (!has_title)
            printf("\n  %s\n", title);
        has_title = true;
        print_fact(*fields, value, LABEL_COLS, true);
    }
    free(value);
}

/* The admin's label of custom field `name` ("" when unknown), from ListFields. */
static const char *custom_label(const Dangan__V1__ListFieldsResponse *l, const char *name)
{
    for (size_t i = 0; l && i < l->n_fields; i++)
        if (strcmp(l->fields[i]->name, name) == 0 && strcmp(l->fields[i]->label, name) != 0)
            return l->fields[i]->label;
    return "";
}

/* The custom fields, by their labels (one ListFields; without it, by name). */
static void print_custom(cli *c, const Dangan__V1__Customer *cu)
{
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__ListFieldsRequest lf = DANGAN__V1__LIST_FIELDS_REQUEST__INIT;
    const Dangan__V1__ListFieldsResponse *l = NULL;
    char label[256];
    dg_reply *r = NULL;

    if (cu->n_custom == 0)
        return;
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST_FIELDS;
    req.list_fields = &lf;
    if (dg_client_call(c->client, &req, &r) == DG_OK && dg_reply_response(r)->status &&
        dg_reply_response(r)->status->code == DANGAN__V1__CODE__OK)
        l = dg_reply_response(r)->list_fields;
    printf("\n  Custom fields\n");
    for (size_t i = 0; i < cu->n_custom; i++) {
        const char *name = cu->custom[i]->name, *text = custom_label(l, name);

        if (text[0])
            snprintf(label, sizeof label, "%s (%s)", text, name);
        else
            snprintf(label, sizeof label, "%s", name);
        print_fact(label, cu->custom[i]->value, LABEL_COLS, false);
    }
    dg_reply_free(r);
}

/* Fields no group names (a newer .proto): shown all the same. */
static void print_others(const ProtobufCMessage *m)
{
    char *value = dg_xmalloc(TEXT_MAX);
    bool has_title = false;

    for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
        const char *f = m->descriptor->fields[i].name;

        if (in_any_group(f) || !cli_field_text(m, f, value, TEXT_MAX))
            continue;
        if (!has_title)
            printf("\n  Other\n");
        has_title = true;
        print_fact(f, value, LABEL_COLS, true);
    }
    free(value);
}

static void print_customer_header(const Dangan__V1__Customer *cu)
{
    char created[32], updated[32], contact[32];

    printf("%s  %s%s\n", cu->code, cu->name, cu->archived ? "  [archived]" : "");
    printf("  id %lld · version %lld · created %s by %s · updated %s by %s\n", (long long)cu->id,
           (long long)cu->version, cli_time(cu->created_at_ms, created, sizeof created),
           cu->created_by ? cu->created_by->username : "?",
           cli_time(cu->updated_at_ms, updated, sizeof updated),
           cu->updated_by ? cu->updated_by->username : "?");
    if (cu->last_contact_at_ms)
        printf("  last contact %s\n", cli_time(cu->last_contact_at_ms, contact, sizeof contact));
}

/* ------------------------------------------------------------ the dossier */

static void section(cli *c, Dangan__V1__EntityKind kind, const char *title, void *const *msgs,
                    size_t n)
{
    if (n == 0) { /* "People: none", without the "(0)" */
        printf("\n%.*s: none\n", (int)strcspn(title, " ("), title);
        return;
    }
    printf("\n%s\n", title);
    cli_show_table(c, cli_kind_get(kind), (const ProtobufCMessage *const *)msgs, n, false, 2);
}

static void print_deals(cli *c, const Dangan__V1__Dossier *d)
{
    char title[512], money[64];
    size_t used;

    used = (size_t)snprintf(title, sizeof title, "Deals (%zu", d->n_deals);
    for (size_t i = 0; i < d->n_deal_totals && used < sizeof title; i++) {
        const Dangan__V1__MoneyTotal *t = d->deal_totals[i];

        used += (size_t)snprintf(title + used, sizeof title - used, "%s%s in %u deal%s",
                                 i ? "; " : "; total ",
                                 cli_money_text(t->amount_minor, t->currency, money, sizeof money),
                                 t->count, t->count == 1 ? "" : "s");
    }
    if (used < sizeof title)
        snprintf(title + used, sizeof title - used, ")");
    section(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL, title, (void *const *)d->deals,
            d->n_deals);
}

static void print_feedback(cli *c, const Dangan__V1__Dossier *d)
{
    const Dangan__V1__FeedbackSummary *s = d->feedback_summary;
    char title[256];

    if (!s || s->total == 0) {
        printf("\nFeedback: none\n");
        return;
    }
    snprintf(title, sizeof title,
             "Feedback (%u in all, %u open; %u complaint%s, %u suggestion%s, %u praise, "
             "%u survey%s%s",
             s->total, s->open, s->complaints, s->complaints == 1 ? "" : "s", s->suggestions,
             s->suggestions == 1 ? "" : "s", s->praise, s->surveys, s->surveys == 1 ? "" : "s",
             s->average_satisfaction > 0 ? "" : ")");
    if (s->average_satisfaction > 0)
        snprintf(title + strlen(title), sizeof title - strlen(title),
                 "; average satisfaction %.1f of 5)", s->average_satisfaction);
    section(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK, title,
            (void *const *)d->recent_feedback, d->n_recent_feedback);
}

void cli_show_dossier(cli *c, const Dangan__V1__GetResponse *g)
{
    const Dangan__V1__Customer *cu = g->record->customer;
    const Dangan__V1__Dossier *d = g->dossier;
    char title[128];

    print_customer_header(cu);
    for (size_t i = 0; i < DG_ARRAY_LEN(groups); i++)
        print_group(&cu->base, groups[i].title, groups[i].fields);
    print_others(&cu->base);
    print_custom(c, cu);
    if (!d)
        return;
    snprintf(title, sizeof title, "People (%zu)", d->n_contacts);
    section(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT, title, (void *const *)d->contacts,
            d->n_contacts);
    if (d->interaction_count > d->n_recent_interactions)
        snprintf(title, sizeof title, "Interactions (latest %zu of %u; all: dangan note list %s)",
                 d->n_recent_interactions, d->interaction_count, cu->code);
    else
        snprintf(title, sizeof title, "Interactions (%u)", d->interaction_count);
    section(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION, title,
            (void *const *)d->recent_interactions, d->n_recent_interactions);
    print_deals(c, d);
    snprintf(title, sizeof title, "Open tasks (%zu)", d->n_open_tasks);
    section(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK, title, (void *const *)d->open_tasks,
            d->n_open_tasks);
    print_feedback(c, d);
}
