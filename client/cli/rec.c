/* rec.c - plumbing of the record commands: kinds, heap-built requests, calls
 * and their failures, customer REFs, list paging (see rec.h).
 *
 * Owns nothing between calls: requests belong to the command that built them,
 * replies to whoever received them. The Record oneof's field numbers equal
 * the EntityKind values (proto), so a kind finds its member by number.
 */
#include "rec.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* The sort keys the server accepts in a ListRequest of each kind
 * (docs/cli.md lists them; a key the server learns must be added here). */
static const char *const customer_sorts[] = {"name", "code",         "created", "updated",
                                             "tier", "last_contact", NULL};
static const char *const contact_sorts[] = {"created", "updated", NULL};
static const char *const dated_sorts[] = {"created", "updated", "at", NULL};
static const char *const task_sorts[] = {"created", "updated", "due", NULL};

static const cli_kind kinds[] = {
    {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, "customer", &dangan__v1__customer__descriptor,
     customer_sorts},
    {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CONTACT, "contact", &dangan__v1__contact__descriptor,
     contact_sorts},
    {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_INTERACTION, "note", &dangan__v1__interaction__descriptor,
     dated_sorts},
    {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_DEAL, "deal", &dangan__v1__deal__descriptor, dated_sorts},
    {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_FEEDBACK, "feedback", &dangan__v1__feedback__descriptor,
     dated_sorts},
    {DANGAN__V1__ENTITY_KIND__ENTITY_KIND_TASK, "task", &dangan__v1__task__descriptor, task_sorts},
};

const cli_kind *cli_kind_get(Dangan__V1__EntityKind kind)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(kinds); i++)
        if (kinds[i].kind == kind)
            return &kinds[i];
    return NULL;
}

int cli_check_sort(cli *c, const cli_kind *k, const char *sort)
{
    const char *key = sort[0] == '-' ? sort + 1 : sort, *near;
    char keys[256];
    size_t n = 0, used = 0;

    for (; k->sorts[n]; n++) {
        if (strcmp(k->sorts[n], key) == 0)
            return EXIT_OK;
        used +=
            (size_t)snprintf(keys + used, sizeof keys - used, "%s%s", n ? ", " : "", k->sorts[n]);
    }
    if ((near = cli_suggest(key, k->sorts, n)) != NULL)
        return cli_usage(c, "unknown sort key \"%s\"; did you mean %s%s?", sort,
                         key == sort ? "" : "-", near);
    return cli_usage(c, "unknown sort key \"%s\"; %ss sort by %s (-KEY reverses)", sort, k->name,
                     keys);
}

/* ------------------------------------------------------------ messages */

ProtobufCMessage *cli_msg_new(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = dg_xcalloc(1, d->sizeof_message);

    protobuf_c_message_init(d, m);
    return m;
}

static void *member(const ProtobufCMessage *m, const char *name,
                    const ProtobufCFieldDescriptor **fd)
{
    *fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    return *fd ? (char *)m + (*fd)->offset : NULL;
}

int64_t cli_msg_i64(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *fd;
    void *p = member(m, name, &fd);

    if (!p || fd->label == PROTOBUF_C_LABEL_REPEATED)
        return 0;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(int64_t *)p;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(int32_t *)p;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(uint32_t *)p;
    case PROTOBUF_C_TYPE_BOOL:
        return *(protobuf_c_boolean *)p != 0;
    default:
        return 0;
    }
}

const char *cli_msg_str(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *fd;
    void *p = member(m, name, &fd);

    if (!p || fd->type != PROTOBUF_C_TYPE_STRING || fd->label == PROTOBUF_C_LABEL_REPEATED)
        return "";
    return *(char **)p ? *(char **)p : "";
}

void cli_msg_set_i64(ProtobufCMessage *m, const char *name, int64_t v)
{
    const ProtobufCFieldDescriptor *fd;
    void *p = member(m, name, &fd);

    dg_assert(p && fd->type == PROTOBUF_C_TYPE_INT64);
    *(int64_t *)p = v;
}

Dangan__V1__Record *cli_record_new(const cli_kind *k, ProtobufCMessage **body)
{
    Dangan__V1__Record *r = (Dangan__V1__Record *)cli_msg_new(&dangan__v1__record__descriptor);
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor, k->kind);

    dg_assert(fd && fd->descriptor == k->desc);
    *body = cli_msg_new(k->desc);
    r->kind_case = (Dangan__V1__Record__KindCase)k->kind;
    *(ProtobufCMessage **)((char *)r + fd->offset) = *body;
    return r;
}

const ProtobufCMessage *cli_record_body(const Dangan__V1__Record *r)
{
    const ProtobufCFieldDescriptor *fd;

    if (!r || r->kind_case == DANGAN__V1__RECORD__KIND__NOT_SET)
        return NULL;
    fd = protobuf_c_message_descriptor_get_field(&dangan__v1__record__descriptor,
                                                 (unsigned)r->kind_case);
    return fd ? *(ProtobufCMessage *const *)((const char *)r + fd->offset) : NULL;
}

const ProtobufCMessage *cli_response_body(const Dangan__V1__Response *r)
{
    const ProtobufCFieldDescriptor *fd;

    if (r->body_case == DANGAN__V1__RESPONSE__BODY__NOT_SET)
        return NULL;
    fd = protobuf_c_message_descriptor_get_field(&dangan__v1__response__descriptor,
                                                 (unsigned)r->body_case);
    return fd ? *(ProtobufCMessage *const *)((const char *)r + fd->offset) : NULL;
}

Dangan__V1__Request *cli_request_new(void)
{
    return (Dangan__V1__Request *)cli_msg_new(&dangan__v1__request__descriptor);
}

/* ------------------------------------------------------------ calls */

int cli_rec_session(cli *c)
{
    return c->client ? EXIT_OK : cli_session(c);
}

int cli_rec_send(cli *c, Dangan__V1__Request *req, dg_reply **out)
{
    int rc = cli_rec_session(c);

    *out = NULL;
    if (rc != EXIT_OK)
        return rc;
    rc = dg_client_call(c->client, req, out);

    if (rc == DG_OK && !dg_reply_response(*out)->status) {
        dg_reply_free(*out);
        *out = NULL;
        return cli_fail(c, EXIT_SERVER, "INTERNAL", "protocol",
                        "the server sent a response without a status");
    }
    if (rc != DG_OK)
        return cli_fail(c, rc == DG_ETOOBIG ? EXIT_USAGE : EXIT_SERVER, "UNAVAILABLE",
                        rc == DG_ETOOBIG ? "too_large" : "connection_lost", "%s",
                        dg_client_errmsg(c->client));
    return EXIT_OK;
}

int cli_rec_call(cli *c, Dangan__V1__Request *req, dg_reply **out)
{
    int rc = cli_rec_send(c, req, out);
    const Dangan__V1__Status *st;

    if (rc != EXIT_OK)
        return rc;
    st = dg_reply_response(*out)->status;
    if (st->code == DANGAN__V1__CODE__OK)
        return EXIT_OK;
    rc = cli_fail_status(c, st, NULL);
    dg_reply_free(*out);
    *out = NULL;
    return rc;
}

/* A GetRequest for one record (heap). */
static Dangan__V1__Request *get_request(Dangan__V1__EntityKind kind, int64_t id, const char *code,
                                        bool want_dossier)
{
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__GetRequest *g =
        (Dangan__V1__GetRequest *)cli_msg_new(&dangan__v1__get_request__descriptor);

    g->kind = kind;
    g->id = id;
    if (!id && code) {
        char *upper = dg_xstrdup(code); /* codes are upper case: c-000123 finds C-000123 */

        for (char *p = upper; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        g->code = upper;
    }
    g->dossier = want_dossier;
    req->body_case = DANGAN__V1__REQUEST__BODY_GET;
    req->get = g;
    return req;
}

int cli_rec_get(cli *c, Dangan__V1__EntityKind kind, int64_t id, const char *code,
                bool want_dossier, dg_reply **out)
{
    Dangan__V1__Request *req = get_request(kind, id, code, want_dossier);
    int rc = cli_rec_call(c, req, out);

    dangan__v1__request__free_unpacked(req, NULL);
    return rc;
}

bool cli_rec_peek(cli *c, Dangan__V1__EntityKind kind, int64_t id, dg_reply **out)
{
    Dangan__V1__Request *req = get_request(kind, id, NULL, false);
    int rc = dg_client_call(c->client, req, out);
    const Dangan__V1__Response *resp = rc == DG_OK ? dg_reply_response(*out) : NULL;

    dangan__v1__request__free_unpacked(req, NULL);
    if (resp && resp->status && resp->status->code == DANGAN__V1__CODE__OK && resp->get &&
        resp->get->record)
        return true;
    dg_reply_free(*out);
    *out = NULL;
    return false;
}

bool cli_is_id(const char *ref, int64_t *id)
{
    char *end;
    long long v;

    if (!ref[0] || !isdigit((unsigned char)ref[0]))
        return false;
    v = strtoll(ref, &end, 10);
    if (*end || v <= 0)
        return false;
    *id = v;
    return true;
}

int cli_customer_id(cli *c, const char *ref, int64_t *id)
{
    dg_reply *r;
    int rc;

    if (cli_is_id(ref, id))
        return EXIT_OK;
    if (!ref[0])
        return cli_usage(c, "a customer REF (id or code like C-000123) is required");
    if ((rc = cli_rec_get(c, DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER, 0, ref, false, &r)) !=
        EXIT_OK)
        return rc;
    *id = dg_reply_response(r)->get->record->customer->id;
    dg_reply_free(r);
    return EXIT_OK;
}

int cli_parse_id(cli *c, const char *arg, const char *what, int64_t *id)
{
    if (!cli_is_id(arg, id))
        return cli_usage(c, "%s must be a record id (a positive number), got \"%s\"", what, arg);
    return EXIT_OK;
}

int cli_my_user_id(cli *c, int64_t *id)
{
    dg_reply *r;
    int rc = cli_rec_session(c);

    if (rc != EXIT_OK)
        return rc;
    rc = dg_client_whoami(c->client, &r);

    if (rc != DG_OK)
        return cli_fail_call(c, rc);
    *id = dg_reply_response(r)->whoami->session->user->id;
    dg_reply_free(r);
    return EXIT_OK;
}

/* ------------------------------------------------------------ list paging */

static void pages_take(cli_pages *p, dg_reply *r)
{
    const Dangan__V1__ListResponse *l = dg_reply_response(r)->list;

    p->replies = dg_xrealloc(p->replies, (p->n_replies + 1) * sizeof *p->replies);
    p->replies[p->n_replies++] = r;
    p->records = dg_xrealloc(p->records, (p->n + l->n_records + 1) * sizeof *p->records);
    for (size_t i = 0; i < l->n_records; i++)
        p->records[p->n++] = l->records[i];
    p->next_cursor = l->next_cursor;
}

int cli_list_pages(cli *c, Dangan__V1__Request *req, bool is_all, cli_pages *out)
{
    Dangan__V1__ListRequest *l = req->list;
    dg_reply *r;
    int rc;

    memset(out, 0, sizeof *out);
    out->next_cursor = "";
    for (;;) {
        if ((rc = cli_rec_call(c, req, &r)) != EXIT_OK) {
            cli_pages_fini(out);
            return rc;
        }
        pages_take(out, r);
        if (!is_all || !out->next_cursor[0])
            return EXIT_OK;
        /* A cursor that does not move would page forever (a server whose
         * cursors misorder their key did): stop with what it is. */
        if (l->cursor && strcmp(l->cursor, out->next_cursor) == 0) {
            cli_pages_fini(out);
            return cli_fail(c, EXIT_SERVER, "INTERNAL", "cursor_stuck",
                            "the server answered a page with the cursor it was asked for;"
                            " stopping instead of paging forever");
        }
        if (l->cursor && l->cursor != (char *)protobuf_c_empty_string)
            free(l->cursor);
        l->cursor = dg_xstrdup(out->next_cursor);
    }
}

void cli_pages_fini(cli_pages *p)
{
    for (size_t i = 0; i < p->n_replies; i++)
        dg_reply_free(p->replies[i]);
    free(p->replies);
    free(p->records);
    memset(p, 0, sizeof *p);
    p->next_cursor = "";
}

json_t *cli_pages_json(const cli_pages *p)
{
    json_t *records = json_array();
    const Dangan__V1__Cursor *snap = NULL;

    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(records, cli_pb_to_json(&p->records[i]->base));
    if (p->n_replies)
        snap = dg_reply_response(p->replies[0])->list->snapshot;
    return json_pack("{s:o,s:s,s:o}", "records", records, "next_cursor", p->next_cursor, "snapshot",
                     snap ? cli_pb_to_json(&snap->base) : json_null());
}

void cli_pages_hint(const cli *c, const cli_pages *p)
{
    if (c->is_json || !p->next_cursor[0])
        return;
    fprintf(stderr, "more: repeat with --cursor %s (or --all for everything)\n", p->next_cursor);
}

/* ------------------------------------------------------------ subcommands */

static void group_help(FILE *f, const char *group, const cli_sub *subs, size_t n, const char *about)
{
    fprintf(f, "usage: dangan %s <command> [args]\n\n%s\ncommands:\n", group, about);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %s\n", subs[i].synopsis);
    fprintf(f, "\n`dangan %s <command> --help` describes a command.\n", group);
}

/* A subcommand the group does not have: a usage error naming the nearest. */
static int unknown_subcommand(cli *c, const char *group, const cli_sub *subs, size_t n,
                              const char *name)
{
    const char **names = dg_xcalloc(n, sizeof *names);
    const char *near;
    int rc;

    for (size_t i = 0; i < n; i++)
        names[i] = subs[i].name;
    near = cli_suggest(name, names, n);
    if (near)
        rc = cli_usage(c, "%s has no command \"%s\"; did you mean %s?", group, name, near);
    else
        rc = cli_usage(c, "%s has no command \"%s\"", group, name);
    free(names);
    return rc;
}

int cli_subcommand(cli *c, const char *group, const cli_sub *subs, size_t n, const char *about)
{
    static char help_flag[] = "--help";
    const char *name = c->argc > 1 ? c->argv[1] : NULL;

    if (name && !strcmp(name, "help") && c->argc > 2) {
        /* `GROUP help SUB [...]` is `GROUP SUB [...] --help`: the same words, one slot each */
        memmove(c->argv + 1, c->argv + 2, (size_t)(c->argc - 2) * sizeof *c->argv);
        c->argv[c->argc - 1] = help_flag;
        name = c->argv[1];
    }
    if (!name || !strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        group_help(name ? stdout : stderr, group, subs, n, about);
        return name ? EXIT_OK : EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(subs[i].name, name) != 0)
            continue;
        c->argc--; /* the subcommand becomes argv[0], as getopt expects */
        c->argv++;
        return subs[i].fn(c);
    }
    return unknown_subcommand(c, group, subs, n, name);
}

/* ------------------------------------------------------------ options */

void cli_getopt_reset(void)
{
    optind = 0; /* 0, not 1: GNU getopt then forgets the previous argv entirely */
    opterr = 0;
}

int cli_bad_option(cli *c)
{
    return cli_usage(c, "unknown or incomplete option \"%s\" for %s", c->argv[optind - 1],
                     c->argv[0]);
}

int cli_parse_count(cli *c, const char *flag, const char *arg, long max, uint32_t *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (!arg[0] || *end || v < 1 || v > max)
        return cli_usage(c, "%s must be a number from 1 to %ld, got \"%s\"", flag, max, arg);
    *out = (uint32_t)v;
    return EXIT_OK;
}

void cli_replace_str(char **dst, const char *src)
{
    if (*dst && *dst != (char *)protobuf_c_empty_string)
        free(*dst);
    *dst = dg_xstrdup(src);
}
