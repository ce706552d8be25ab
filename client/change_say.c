/* change_say.c - a change event as a sentence for people (change_say.h).
 * Values are shown by the caller's dg_say_fmt; enum values by their short
 * names (tier a, stage proposal), as the server sends them.
 * Threads: any; dg_say_change is not reentrant across threads at the same
 * time (the format in use is a file-scope pointer), and both users call it
 * from one thread.
 */
#include <string.h>

#include "change_say.h"
#include "dg.h"

const char *dg_say_actor(const Dangan__V1__ChangeEvent *ch)
{
    if (ch->actor_name && ch->actor_name[0])
        return ch->actor_name;
    /* a change no user made is the server's own (the pool's auto-return) */
    return ch->actor && ch->actor->username[0] ? ch->actor->username : "the server";
}

static const dg_say_fmt *F; /* set by dg_say_change for the helpers below */

static const char *kind_name(Dangan__V1__EntityKind kind)
{
    const char *name = F->kind_name(kind);

    return name                                                    ? name
           : kind == DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT ? "document"
                                                                   : "record";
}

static const char *say_value(Dangan__V1__EntityKind kind, const char *field, const char *text,
                             bool is_masked, char *buf, size_t len)
{
    if (!text[0])
        return "(none)";
    return F->value(F->ud, kind, field, text, is_masked, buf, len);
}

/* "深圳华信科技 (C-000844)", or "customer #844" for a change kept without
 * its customer's name (written by an older server). */
static void print_customer(FILE *out, const Dangan__V1__ChangeEvent *ch)
{
    if (ch->customer_name && ch->customer_name[0] && ch->customer_code && ch->customer_code[0])
        fprintf(out, "%s (%s)", ch->customer_name, ch->customer_code);
    else if (ch->customer_name && ch->customer_name[0])
        fprintf(out, "%s", ch->customer_name);
    else
        fprintf(out, "customer #%lld", (long long)ch->customer_id);
}

/* What changed: the customer, or "deal #12 of" the customer. */
static void print_subject(FILE *out, const Dangan__V1__ChangeEvent *ch)
{
    if (ch->kind != DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER)
        fprintf(out, "%s #%lld of ", kind_name(ch->kind), (long long)ch->id);
    print_customer(out, ch);
}

static const Dangan__V1__ChangedValue *value_of(const Dangan__V1__ChangeEvent *ch,
                                                const char *field)
{
    for (size_t i = 0; i < ch->n_values; i++)
        if (strcmp(ch->values[i]->field, field) == 0)
            return ch->values[i];
    return NULL;
}

/* The new value of `field`, or "" when the event has none. */
static const char *new_of(const Dangan__V1__ChangeEvent *ch, const char *field)
{
    const Dangan__V1__ChangedValue *v = value_of(ch, field);

    return v ? v->new_value : "";
}

/* "tier b → a, phone 138****5678 → 139****0000"; field names alone for
 * items the event has no values of. */
static void print_changes(FILE *out, const Dangan__V1__ChangeEvent *ch)
{
    for (size_t i = 0; i < ch->n_fields; i++) {
        const Dangan__V1__ChangedValue *v = value_of(ch, ch->fields[i]);
        char a[96], b[96];

        fprintf(out, "%s%s", i ? ", " : ": ", ch->fields[i]);
        if (!v)
            continue;
        if (v->old_withheld)
            fprintf(out, " now %s",
                    say_value(ch->kind, v->field, v->new_value, v->masked, b, sizeof b));
        else
            fprintf(out, " %s → %s",
                    say_value(ch->kind, v->field, v->old_value, v->masked, a, sizeof a),
                    say_value(ch->kind, v->field, v->new_value, v->masked, b, sizeof b));
    }
}

/* ", due 2026-12-08 10:00" for each of `fields` the event has a value of. */
static void print_details(FILE *out, const Dangan__V1__ChangeEvent *ch, const char *const *fields,
                          const char *const *labels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Dangan__V1__ChangedValue *v = value_of(ch, fields[i]);
        char buf[96];

        if (v && v->new_value[0])
            fprintf(out, ", %s%s", labels[i],
                    say_value(ch->kind, v->field, v->new_value, v->masked, buf, sizeof buf));
    }
}

/* "a call", "a visit": what a new interaction is, by its channel. */
static const char *interaction_noun(const char *channel)
{
    static const char *const nouns[][2] = {{"phone", "a call"},    {"visit", "a visit"},
                                           {"email", "an e-mail"}, {"meeting", "a meeting"},
                                           {"im", "a message"},    {"other", "a note"}};

    for (size_t i = 0; i < DG_ARRAY_LEN(nouns); i++)
        if (strcmp(nouns[i][0], channel) == 0)
            return nouns[i][1];
    return "a note";
}

/* "a complaint", "an invoice", "praise"; `fallback` (no article) for "". */
static const char *with_article(const char *noun, const char *fallback, char *buf, size_t len)
{
    if (!noun[0] || strcmp(noun, "praise") == 0)
        return noun[0] ? noun : fallback;
    snprintf(buf, len, "%s %s", strchr("aeiou", noun[0]) ? "an" : "a", noun);
    return buf;
}

/* "added a call to 深圳华信科技 (C-000844): 回访报价" and the like. */
static void print_added(FILE *out, const Dangan__V1__ChangeEvent *ch)
{
    static const char *const task_f[] = {"due_at_ms", "assignee"};
    static const char *const task_l[] = {"due ", "for "};
    static const char *const next_f[] = {"next_follow_up"};
    static const char *const next_l[] = {"next follow-up "};
    static const char *const doc_f[] = {"expires_on"};
    static const char *const doc_l[] = {"expires "};
    char buf[96];

    switch (ch->kind) {
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER:
        fputs("added customer ", out);
        print_customer(out, ch);
        if (new_of(ch, "tier")[0])
            fprintf(out, ": tier %s",
                    say_value(ch->kind, "tier", new_of(ch, "tier"), false, buf, sizeof buf));
        return;
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT:
        fprintf(out, "added contact %s to ", new_of(ch, "name"));
        print_customer(out, ch);
        if (new_of(ch, "title")[0])
            fprintf(out, ": %s", new_of(ch, "title"));
        return;
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION:
        fprintf(out, "added %s to ", interaction_noun(new_of(ch, "channel")));
        print_customer(out, ch);
        fprintf(out, ": %s", new_of(ch, "summary"));
        print_details(out, ch, next_f, next_l, 1);
        return;
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL:
        fputs("added a deal to ", out);
        print_customer(out, ch);
        fprintf(out, ": %s",
                say_value(ch->kind, "amount", new_of(ch, "amount"), false, buf, sizeof buf));
        if (new_of(ch, "stage")[0])
            fprintf(out, ", %s", new_of(ch, "stage"));
        return;
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK:
        fprintf(out, "added %s to ", with_article(new_of(ch, "kind"), "feedback", buf, sizeof buf));
        print_customer(out, ch);
        fprintf(out, ": %s", new_of(ch, "text"));
        return;
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK:
        fputs("added a task for ", out);
        print_customer(out, ch);
        fprintf(out, ": %s", new_of(ch, "title"));
        print_details(out, ch, task_f, task_l, DG_ARRAY_LEN(task_f));
        return;
    case DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DOCUMENT:
        fprintf(out, "added %s to ", with_article(new_of(ch, "kind"), "document", buf, sizeof buf));
        print_customer(out, ch);
        if (new_of(ch, "title")[0])
            fprintf(out, ": %s", new_of(ch, "title"));
        print_details(out, ch, doc_f, doc_l, 1);
        return;
    default:
        fprintf(out, "added %s #%lld to ", kind_name(ch->kind), (long long)ch->id);
        print_customer(out, ch);
    }
}

void dg_say_change(FILE *out, const Dangan__V1__ChangeEvent *ch, const dg_say_fmt *fmt)
{
    F = fmt;
    fprintf(out, "%s ", dg_say_actor(ch));
    if (strcmp(ch->op, "created") == 0) {
        print_added(out, ch);
    } else if (strcmp(ch->op, "archived") == 0 || strcmp(ch->op, "restored") == 0) {
        fprintf(out, "%s ", ch->op);
        print_subject(out, ch);
    } else {
        fputs("changed ", out);
        print_subject(out, ch);
        print_changes(out, ch);
    }
}
