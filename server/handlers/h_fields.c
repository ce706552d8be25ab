/* h_fields.c - DefineField: an admin adds a custom field to the customer
 * file (text, number, date, or a choice among fixed values). The definition
 * is written with its audit record and a change row, like any mutation.
 * Loop thread, except define_run (writer thread).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "dg.h"
#include "h_write.h"
#include "handlers.h"
#include "store.h"

#define NAME_MAX_LEN 32
#define LABEL_MAX 100
#define CHOICES_MAX 100

static const char *const type_names[] = {"", "text", "number", "date", "choice"};

Dangan__V1__CustomField *dg_h_field_to_pb(dg_req *req, const dg_custom_field *f)
{
    Dangan__V1__CustomField *p = dg_req_alloc(req, sizeof *p);
    size_t n = 0;

    dangan__v1__custom_field__init(p);
    p->id = f->id;
    p->name = (char *)f->name;
    p->label = (char *)f->label;
    for (int t = 1; t < (int)DG_ARRAY_LEN(type_names); t++)
        if (strcmp(f->type, type_names[t]) == 0)
            p->type = (Dangan__V1__FieldType)t;
    p->created_at_ms = f->created_at;
    for (const char *c = f->choices; *c; c++)
        n += *c == '\n';
    n += f->choices[0] ? 1 : 0;
    p->choices = dg_req_alloc(req, (n ? n : 1) * sizeof *p->choices);
    for (const char *c = f->choices; *c && p->n_choices < n;) {
        const char *nl = strchr(c, '\n');
        size_t len = nl ? (size_t)(nl - c) : strlen(c);

        p->choices[p->n_choices++] = dg_req_strndup(req, c, len);
        c += len + (nl ? 1 : 0);
    }
    return p;
}

struct define_job {
    dg_write_job w; /* first: the job */
    dg_custom_field f;
};

static int define_run(dg_write_job *w, dg_rec_ctx *c)
{
    struct define_job *d = (struct define_job *)w;
    static const char *const defined[] = {"name", "label", "type", "choices"};
    dg_change ch;
    int64_t seq;
    int rc = dg_store_field_define(c->tx->store, &d->f, w->who.user_id);

    if (rc != DG_OK)
        return rc;
    ch = (dg_change){.at = d->f.created_at,
                     .actor_id = w->who.user_id,
                     .entity = "custom_field",
                     .entity_id = d->f.id,
                     .op = "created",
                     .version = 1,
                     .fields = defined,
                     .n_fields = DG_ARRAY_LEN(defined)};
    w->audit.rec.entity_id = d->f.id;
    return dg_wtx_change_append(c->tx, &ch, &seq);
}

static json_t *define_detail(dg_write_job *w)
{
    struct define_job *d = (struct define_job *)w;

    return json_pack("{s:s,s:s}", "name", d->f.name, "type", d->f.type);
}

static void define_answer(dg_write_job *w)
{
    struct define_job *d = (struct define_job *)w;
    Dangan__V1__DefineFieldResponse *r = dg_req_alloc(w->req, sizeof *r);

    dangan__v1__define_field_response__init(r);
    r->field = dg_h_field_to_pb(w->req, &d->f);
    w->req->resp.body_case = DANGAN__V1__RESPONSE__BODY_DEFINE_FIELD;
    w->req->resp.define_field = r;
    dg_req_reply(w->req);
}

static void define_answer_failure(dg_write_job *w, int rc)
{
    if (rc == DG_EEXIST) {
        dg_req_violation(w->req, "field.name", "already defined");
        dg_req_fail(w->req, DG_EEXIST, "already_exists", "a custom field \"%s\" already exists",
                    ((struct define_job *)w)->f.name);
    } else {
        dg_h_fail_job(w->req, rc);
    }
}

static const dg_write_ops define_ops = {
    .run = define_run,
    .detail = define_detail,
    .answer = define_answer,
    .answer_failure = define_answer_failure,
};

static bool name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN || !islower((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Joins the choices with newlines; NULL (violation added) when one is bad. */
static char *join_choices(dg_req *req, const Dangan__V1__CustomField *f)
{
    size_t len = 1;
    char *out;

    if (f->type == DANGAN__V1__FIELD_TYPE__FIELD_TYPE_CHOICE &&
        (f->n_choices == 0 || f->n_choices > CHOICES_MAX)) {
        dg_req_violation(req, "field.choices", "a choice field needs 1 to 100 choices");
        return NULL;
    }
    if (f->type != DANGAN__V1__FIELD_TYPE__FIELD_TYPE_CHOICE && f->n_choices) {
        dg_req_violation(req, "field.choices", "only choice fields have choices");
        return NULL;
    }
    for (size_t i = 0; i < f->n_choices; i++) {
        if (!f->choices[i][0] || strlen(f->choices[i]) > 400 || strchr(f->choices[i], '\n')) {
            dg_req_violation(req, "field.choices", "each choice: 1-100 characters, one line");
            return NULL;
        }
        len += strlen(f->choices[i]) + 1;
    }
    out = dg_req_alloc(req, len);
    for (size_t i = 0; i < f->n_choices; i++) {
        if (i)
            strcat(out, "\n");
        strcat(out, f->choices[i]);
    }
    return out;
}

void dg_h_define_field(dg_req *req)
{
    const Dangan__V1__CustomField *f = req->msg->define_field->field;
    struct define_job *d;
    char *choices;

    if (!f || !name_valid(f->name))
        dg_req_violation(req, "field.name", "1-32 of a-z 0-9 _, starting with a letter");
    else if (f->type == DANGAN__V1__FIELD_TYPE__FIELD_TYPE_UNSPECIFIED)
        dg_req_violation(req, "field.type", "text, number, date or choice");
    else if (strlen(f->label) > LABEL_MAX * 4)
        dg_req_violation(req, "field.label", "at most 100 characters");
    choices = req->status.n_field_violations ? NULL : join_choices(req, f);
    if (req->status.n_field_violations) {
        dg_req_fail(req, DG_EINVAL, "invalid_argument", "%s: %s",
                    req->status.field_violations[0]->field,
                    req->status.field_violations[0]->description);
        return;
    }
    d = dg_xcalloc(1, sizeof *d);
    dg_write_job_init(&d->w, &define_ops, req, DG_IDEM_ANY_RECORDS, NULL, NULL, "custom_field", 0);
    d->f = (dg_custom_field){.name = f->name,
                             .label = f->label[0] ? f->label : f->name,
                             .type = type_names[f->type],
                             .choices = choices,
                             .created_at = d->w.now};
    dg_write_job_submit(&d->w);
}
