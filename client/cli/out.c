/* out.c - what the CLI prints: errors with exit codes, JSON documents, times,
 * and a generic protobuf → JSON conversion (so every record prints the same way). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void print_error(cli *c, const char *code, const char *reason, const char *msg)
{
    if (c->is_quiet)
        return;
    if (c->is_json) {
        json_t *e =
            json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "reason", reason, "message", msg);

        json_dumpf(e, stderr, JSON_COMPACT);
        fputc('\n', stderr);
        json_decref(e);
    } else {
        fprintf(stderr, "dangan: %s\n", msg);
    }
}

int cli_fail(cli *c, int exit_code, const char *code, const char *reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error(c, code, reason, msg);
    return exit_code;
}

int cli_usage(cli *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->usage_sink) { /* a caller checking data, not a command line */
        snprintf(c->usage_sink, c->usage_sink_len, "%s", msg);
        return EXIT_USAGE;
    }
    if (!c->is_json)
        strncat(msg, " (see dangan --help)", sizeof msg - strlen(msg) - 1);
    print_error(c, "INVALID_ARGUMENT", "usage", msg);
    return EXIT_USAGE;
}

static int exit_for_code(int code)
{
    switch (code) {
    case DANGAN__V1__CODE__UNAUTHENTICATED:
        return EXIT_UNAUTH;
    case DANGAN__V1__CODE__NOT_FOUND:
        return EXIT_NOTFOUND;
    case DANGAN__V1__CODE__PERMISSION_DENIED:
        return EXIT_DENIED;
    case DANGAN__V1__CODE__ABORTED:
        return EXIT_CONFLICT;
    case DANGAN__V1__CODE__ALREADY_EXISTS:
        return EXIT_EXISTS;
    case DANGAN__V1__CODE__INVALID_ARGUMENT:
    case DANGAN__V1__CODE__FAILED_PRECONDITION:
    case DANGAN__V1__CODE__OUT_OF_RANGE:
        return EXIT_INVALID;
    default:
        return EXIT_SERVER;
    }
}

int cli_fail_call(cli *c, int rc)
{
    const char *reason = "", *message = "";
    int code = c->client ? dg_client_last_status(c->client, &reason, &message) : -1;
    const ProtobufCEnumValue *v;
    char msg[1200];

    if (code > 0) {
        v = protobuf_c_enum_descriptor_get_value(&dangan__v1__code__descriptor, code);
        snprintf(msg, sizeof msg, "%s", message);
        if (code == DANGAN__V1__CODE__UNAUTHENTICATED && !c->is_json &&
            strcmp(c->argv[0], "login") != 0)
            strncat(msg, " (log in with: dangan login)", sizeof msg - strlen(msg) - 1);
        print_error(c, v ? v->name : "UNKNOWN", reason, msg);
        return exit_for_code(code);
    }
    /* The connection failed in the middle of the call. */
    print_error(c, "UNAVAILABLE", "connection_lost",
                c->client ? dg_client_errmsg(c->client) : dg_strerror(rc));
    return EXIT_SERVER;
}

int cli_fail_status(cli *c, const Dangan__V1__Status *st, json_t *extra)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&dangan__v1__code__descriptor, st->code);
    const char *code = v ? v->name : "UNKNOWN";
    const char *msg = st->message[0] ? st->message : st->reason;

    if (c->is_json && extra && !c->is_quiet) {
        json_t *e = json_pack("{s:s,s:s,s:s}", "code", code, "reason", st->reason, "message", msg);
        json_t *doc;

        json_object_update(e, extra);
        doc = json_pack("{s:o}", "error", e);
        json_dumpf(doc, stderr, JSON_COMPACT);
        fputc('\n', stderr);
        json_decref(doc);
    } else {
        print_error(c, code, st->reason, msg);
    }
    json_decref(extra);
    return exit_for_code(st->code);
}

void cli_print_json(json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2)); /* UTF-8 as is: 张三 stays readable */
    fputc('\n', stdout);
    json_decref(doc);
}

/* "CustomerStatus" → "CUSTOMER_STATUS_": the prefix proto enum values carry. */
static void enum_prefix(const char *type_name, char *out, size_t len)
{
    size_t n = 0;

    for (const char *p = type_name; *p && n + 3 < len; p++) {
        if (isupper((unsigned char)*p) && p != type_name)
            out[n++] = '_';
        out[n++] = (char)toupper((unsigned char)*p);
    }
    out[n++] = '_';
    out[n] = '\0';
}

const char *cli_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t len)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    char prefix[128];
    const char *s;
    size_t i;

    if (!v) {
        snprintf(buf, len, "%d", value);
        return buf;
    }
    enum_prefix(d->short_name, prefix, sizeof prefix);
    s = strncmp(v->name, prefix, strlen(prefix)) == 0 ? v->name + strlen(prefix) : v->name;
    for (i = 0; s[i] && i + 1 < len; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return buf;
}

static json_t *enum_json(const ProtobufCEnumDescriptor *d, int value)
{
    char name[128];

    if (!protobuf_c_enum_descriptor_get_value(d, value))
        return json_integer(value);
    return json_string(cli_enum_name(d, value, name, sizeof name));
}

/* A uint64 is a number while it fits an int64 (seqs, counts); a fixed64 is
 * an identifier drawn at random (the feed's epoch), always a decimal string
 * so that its JSON type does not depend on its value. */
static json_t *u64_json(uint64_t v, bool is_id)
{
    char buf[24];

    if (v <= INT64_MAX && !is_id)
        return json_integer((json_int_t)v);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v); /* JSON numbers lose precision */
    return json_string(buf);
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return u64_json(*(const uint64_t *)p, f->type == PROTOBUF_C_TYPE_FIXED64);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return json_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return json_integer((json_int_t)b->len); /* byte fields carry content; print the size */
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? cli_pb_to_json(m) : json_null();
    }
    }
    return json_null();
}

json_t *cli_pb_to_json(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *o = json_object();

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *)m + f->offset;

        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
                continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)member;
            json_t *a = json_array();

            for (size_t k = 0; k < n; k++)
                json_array_append_new(a, value_json(f, arr + k * elem_size(f)));
            json_object_set_new(o, f->name, a);
            continue;
        }
        json_object_set_new(o, f->name, value_json(f, member));
    }
    return o;
}
