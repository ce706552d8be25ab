/* watch_say.c - a change event as a sentence for people:
 *
 *   2026-12-07 18:39  王伟 changed 深圳华信科技 (C-000844): tier b → a
 *   2026-12-07 18:40  王伟 added a call to 深圳华信科技 (C-000844): 回访报价
 *   2026-12-07 18:41  李娜 archived deal #12 of 深圳华信科技 (C-000844)
 *
 * The sentence is client/change_say.c's (shared with dangan-gtk); this file
 * adds the time and shows values by their field's type in the kind's message: instants in the
 * team's time zone, amounts grouped with their currency, yes/no; enum values by their short names
 * (tier a, stage proposal), as the server sends them. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change_say.h"
#include "rec.h"

const char *cli_watch_value(cli *c, Dangan__V1__EntityKind kind, const char *field,
                            const char *text, bool is_masked, char *buf, size_t len)
{
    const cli_kind *k = cli_kind_get(kind);
    const ProtobufCFieldDescriptor *f =
        k ? protobuf_c_message_descriptor_get_field_by_name(k->desc, field) : NULL;
    size_t n = strlen(field);

    (void)c; /* times: cli_time, in the zone of the session this run resumed */
    if (!text[0])
        return "(none)";
    if (is_masked || !f)
        return strcmp(field, "archived") == 0 ? strcmp(text, "true") == 0 ? "yes" : "no" : text;
    if (f->type == PROTOBUF_C_TYPE_BOOL)
        return strcmp(text, "true") == 0 ? "yes" : "no";
    if (f->type == PROTOBUF_C_TYPE_INT64 && n > 3 && strcmp(field + n - 3, "_ms") == 0) {
        return cli_time(strtoll(text, NULL, 10), buf, len); /* the team's zone, or --utc */
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor == &dangan__v1__money__descriptor) {
        int64_t minor;
        char cur[4], why[128];

        if (cli_parse_money(text, NULL, &minor, cur, why, sizeof why) == DG_OK)
            return cli_money_text(minor, cur, buf, len);
    }
    return text;
}

static const char *kind_of(Dangan__V1__EntityKind kind)
{
    const cli_kind *k = cli_kind_get(kind);

    return k ? k->name : NULL;
}

static const char *value_of_cli(void *ud, Dangan__V1__EntityKind kind, const char *field,
                                const char *text, bool is_masked, char *buf, size_t len)
{
    return cli_watch_value(ud, kind, field, text, is_masked, buf, len);
}

void cli_watch_say(cli *c, FILE *out, const Dangan__V1__ChangeEvent *ch)
{
    dg_say_fmt fmt = {kind_of, value_of_cli, c};
    char when[32];

    cli_time(ch->at_ms, when, sizeof when); /* the team's zone, or --utc */
    fprintf(out, "%s  ", when);
    dg_say_change(out, ch, &fmt);
    fputc('\n', out);
}
