/* cmd_field.c - `dangan field`: the custom fields an admin adds to the
 * customer file (define, list). Their values are set on customers with
 * --set custom.NAME=VALUE and filtered with --custom NAME=VALUE.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rec.h"
#include "table.h"

enum {
    OPT_TYPE = 256,
    OPT_CHOICES,
    OPT_LABEL,
};

static int help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

static const char DEFINE_HELP[] =
    "usage: dangan field define NAME --type text|number|date|choice [--choices A,B,C]\n"
    "                           [--label LABEL]\n"
    "\n"
    "Adds a custom field to the customer file (admins only). NAME is a-z, 0-9 and _,\n"
    "starting with a letter; set it with --set custom.NAME=VALUE, filter lists with\n"
    "--custom NAME=VALUE.\n"
    "  --choices A,B,C   the allowed values of a choice field\n"
    "  --label LABEL     what people see (any language; default NAME)\n";

static int field_define(cli *c)
{
    static const struct option opts[] = {{"type", required_argument, NULL, OPT_TYPE},
                                         {"choices", required_argument, NULL, OPT_CHOICES},
                                         {"label", required_argument, NULL, OPT_LABEL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    Dangan__V1__Request *req = cli_request_new();
    Dangan__V1__CustomField *f =
        (Dangan__V1__CustomField *)cli_msg_new(&dangan__v1__custom_field__descriptor);
    const char *type = NULL, *choices = NULL;
    char names[128];
    dg_reply *r;
    int opt, rc = EXIT_OK, t = 0;

    req->body_case = DANGAN__V1__REQUEST__BODY_DEFINE_FIELD;
    req->define_field = (Dangan__V1__DefineFieldRequest *)cli_msg_new(
        &dangan__v1__define_field_request__descriptor);
    req->define_field->field = f;
    cli_getopt_reset();
    while (rc == EXIT_OK && (opt = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_TYPE)
            type = optarg;
        else if (opt == OPT_CHOICES)
            choices = optarg;
        else if (opt == OPT_LABEL)
            cli_replace_str(&f->label, optarg);
        else if (opt == 'h')
            rc = -1;
        else
            rc = cli_bad_option(c);
    }
    if (rc == -1) {
        dangan__v1__request__free_unpacked(req, NULL);
        return help(DEFINE_HELP);
    }
    if (rc == EXIT_OK && optind != c->argc - 1)
        rc = cli_usage(c, "field define takes one NAME");
    if (rc == EXIT_OK && !type)
        rc = cli_usage(c, "field define: --type is required (text, number, date or choice)");
    if (rc == EXIT_OK && (t = cli_enum_parse(&dangan__v1__field_type__descriptor, type)) < 0)
        rc = cli_usage(c, "bad value for --type: \"%s\" (%s)", type,
                       cli_enum_choices(&dangan__v1__field_type__descriptor, names, sizeof names));
    if (rc == EXIT_OK) {
        cli_replace_str(&f->name, c->argv[optind]);
        f->type = (Dangan__V1__FieldType)t;
        for (const char *p = choices; p && *p;) {
            size_t n = strcspn(p, ",");

            f->choices = dg_xrealloc(f->choices, (f->n_choices + 1) * sizeof *f->choices);
            f->choices[f->n_choices++] = dg_xstrndup(p, n);
            p += n + (p[n] == ',');
        }
        rc = cli_rec_call(c, req, &r);
    }
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    f = dg_reply_response(r)->define_field->field;
    if (c->is_json)
        cli_print_json(cli_pb_to_json(&dg_reply_response(r)->define_field->base));
    else
        printf("Defined custom field %s (%s): set it with --set custom.%s=VALUE\n", f->name,
               cli_enum_name(&dangan__v1__field_type__descriptor, f->type, names, sizeof names),
               f->name);
    dg_reply_free(r);
    return EXIT_OK;
}

static int field_list(cli *c)
{
    static const char *const headers[] = {"NAME", "TYPE", "LABEL", "CHOICES"};
    Dangan__V1__Request *req;
    const Dangan__V1__ListFieldsResponse *l;
    char type[32], list[1024];
    const char *cells[4];
    cli_table *t;
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv))
        return help("usage: dangan field list\n\nThe custom fields of the customer file.\n");
    if (c->argc != 1)
        return cli_usage(c, "field list takes no arguments");
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_LIST_FIELDS;
    req->list_fields =
        (Dangan__V1__ListFieldsRequest *)cli_msg_new(&dangan__v1__list_fields_request__descriptor);
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    l = dg_reply_response(r)->list_fields;
    if (c->is_json) {
        cli_print_json(cli_pb_to_json(&l->base));
    } else if (l->n_fields == 0) {
        printf("No custom fields yet (an admin adds them with: dangan field define).\n");
    } else {
        t = cli_table_new(4, headers);
        for (size_t i = 0; i < l->n_fields; i++) {
            const Dangan__V1__CustomField *f = l->fields[i];
            size_t used = 0;

            list[0] = '\0';
            for (size_t k = 0; k < f->n_choices && used < sizeof list; k++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                                         f->choices[k]);
            cells[0] = f->name;
            cells[1] =
                cli_enum_name(&dangan__v1__field_type__descriptor, f->type, type, sizeof type);
            cells[2] = f->label;
            cells[3] = list;
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout, 0, cli_term_width());
        cli_table_free(t);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

int cmd_field(cli *c)
{
    static const cli_sub subs[] = {
        {"define", field_define,
         "define NAME --type text|number|date|choice [--choices A,B,C] [--label LABEL]"},
        {"list", field_list, "list"},
    };

    return cli_subcommand(c, "field", subs, DG_ARRAY_LEN(subs),
                          "Custom fields of the customer file, defined by admins.\n");
}
