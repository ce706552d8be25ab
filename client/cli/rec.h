/* rec.h - what the record commands (customer, contact, note, deal, feedback,
 * task, field) share.
 *
 * rec.c     the six kinds; requests built on the heap; sending them and
 *           turning a non-OK Status into an exit code; REFs; list paging.
 * fields.c  FIELD=VALUE: generic over a kind's protobuf message descriptor,
 *           parsed by the field's type; times, dates and money as text.
 * ops.c     create / edit / archive / restore for any kind, and their reports
 *           (likely duplicates, version conflicts).
 * show.c    records for people: a customer's dossier, tables of records
 *           (table.h aligns them by display width).
 * cmd_records.c, cmd_dossier.c, cmd_field.c: the commands themselves.
 *
 * Messages built here live on the heap, every string and sub-message
 * included, so one protobuf_c_message_free_unpacked(m, NULL) frees a whole
 * request. Single-threaded.
 */
#ifndef DG_CLI_REC_H
#define DG_CLI_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* ------------------------------------------------------------ kinds (rec.c) */

typedef struct cli_kind {
    Dangan__V1__EntityKind kind;
    const char *name;                       /* for people: "customer", "note" */
    const ProtobufCMessageDescriptor *desc; /* Customer, Interaction, ... */
    const char *const *sorts;               /* keys its lists sort by; NULL-terminated */
} cli_kind;

/* The kind for an EntityKind; NULL for an unknown one. */
const cli_kind *cli_kind_get(Dangan__V1__EntityKind kind);
/* EXIT_OK if `sort` ("name", "-updated") is a sort key of kind `k`; else a
 * usage error naming the nearest key or all of them (exit 2). */
int cli_check_sort(cli *c, const cli_kind *k, const char *sort);

/* ------------------------------------------------------------ messages (rec.c) */

/* A new, initialised message of type `d` (aborts on OOM). */
ProtobufCMessage *cli_msg_new(const ProtobufCMessageDescriptor *d);
/* The field `name` of `m` as an int64 / string; 0 or "" when the message has
 * no such field (or it is unset). */
int64_t cli_msg_i64(const ProtobufCMessage *m, const char *name);
const char *cli_msg_str(const ProtobufCMessage *m, const char *name);
/* Sets an int64 field of a message. */
void cli_msg_set_i64(ProtobufCMessage *m, const char *name, int64_t v);
/* A new Record of kind `k`; *body gets its (empty) kind message. */
Dangan__V1__Record *cli_record_new(const cli_kind *k, ProtobufCMessage **body);
/* The kind's message inside a Record (NULL when none is set). */
const ProtobufCMessage *cli_record_body(const Dangan__V1__Record *r);
/* The body message of a Response (NULL when none is set). */
const ProtobufCMessage *cli_response_body(const Dangan__V1__Response *r);
/* A new Request (free with dangan__v1__request__free_unpacked(req, NULL)). */
Dangan__V1__Request *cli_request_new(void);

/* ------------------------------------------------------------ calls (rec.c) */

/* Connects and resumes the session unless that happened already: commands
 * check their arguments first, so a usage error never needs a server. */
int cli_rec_session(cli *c);
/* Sends `req` (borrowed) and waits. EXIT_OK with *out set whatever the
 * Status says; otherwise the connection failed: printed, exit code returned. */
int cli_rec_send(cli *c, Dangan__V1__Request *req, dg_reply **out);
/* cli_rec_send, then a non-OK Status is printed and its exit code returned
 * (the reply freed). On EXIT_OK free *out with dg_reply_free. */
int cli_rec_call(cli *c, Dangan__V1__Request *req, dg_reply **out);
/* Get of one record: by id, or (customers) by code when id is 0. */
int cli_rec_get(cli *c, Dangan__V1__EntityKind kind, int64_t id, const char *code,
                bool want_dossier, dg_reply **out);
/* Get without printing anything: true with *out (the record) when the
 * server answered OK; false when not (not found, not allowed, no connection). */
bool cli_rec_peek(cli *c, Dangan__V1__EntityKind kind, int64_t id, dg_reply **out);
/* True if `ref` looks like a record id (digits only, > 0). */
bool cli_is_id(const char *ref, int64_t *id);
/* A customer REF (id or code like C-000123) to its id. A code costs a Get;
 * an unknown one is reported (exit 5). */
int cli_customer_id(cli *c, const char *ref, int64_t *id);
/* A record ID argument; anything but a positive number is a usage error. */
int cli_parse_id(cli *c, const char *arg, const char *what, int64_t *id);

/* Pages of a ListRequest. Records are borrowed from the replies. */
typedef struct cli_pages {
    dg_reply **replies;
    size_t n_replies;
    const Dangan__V1__Record **records;
    size_t n;
    const char *next_cursor; /* "" on the last page; borrowed */
} cli_pages;
/* Sends the List request `req` (req->list set), and with is_all follows
 * next_cursor until the last page. Prints failures; returns an exit code. */
int cli_list_pages(cli *c, Dangan__V1__Request *req, bool is_all, cli_pages *out);
void cli_pages_fini(cli_pages *p);
/* The pages as one JSON document shaped like a ListResponse. */
json_t *cli_pages_json(const cli_pages *p);
/* Tells a person (stderr) how to get the next page, when there is one. */
void cli_pages_hint(const cli *c, const cli_pages *p);

/* The user id of this session (a Whoami round trip). */
int cli_my_user_id(cli *c, int64_t *id);

/* A command group ("customer") and its subcommands ("add", "list"). */
typedef struct cli_sub {
    const char *name;
    int (*fn)(cli *c); /* runs with argv[0] = the subcommand */
    const char *synopsis;
} cli_sub;
/* Runs the subcommand named by argv[1]; "--help" lists them. */
int cli_subcommand(cli *c, const char *group, const cli_sub *subs, size_t n, const char *about);

/* getopt_long over a subcommand's argv: reset first; report what it refused. */
void cli_getopt_reset(void);
int cli_bad_option(cli *c);
/* A count flag from 1 to max (--limit). */
int cli_parse_count(cli *c, const char *flag, const char *arg, long max, uint32_t *out);
/* Replaces a heap message's string member with a copy of src. */
void cli_replace_str(char **dst, const char *src);

/* ------------------------------------------------------------ mutations (ops.c) */

/* The --set/--unset items of a command line, in order (borrowed strings). */
typedef struct cli_edits {
    const char **items;
    bool *is_unset;
    size_t n;
} cli_edits;
void cli_edits_add(cli_edits *e, const char *item, bool is_unset);
void cli_edits_fini(cli_edits *e);
/* Applies the edits to a heap message (see cli_field_assign); mask may be NULL. */
int cli_edits_apply(cli *c, const cli_kind *k, ProtobufCMessage *m, const cli_edits *e,
                    char ***mask, size_t *n_mask);

/* Creates `rec` (taken over and freed) and prints the result: the
 * CreateResponse under --json, else one line. A likely duplicate customer
 * (refused unless allow_duplicate) is reported with its twins: exit 8. */
int cli_op_create(cli *c, const cli_kind *k, Dangan__V1__Record *rec, bool allow_duplicate,
                  const char *parent_label);
/* Edits record `ref` (a customer REF, or an id) of kind `k`: the fields of
 * `e` become the update mask. version 0 reads the current version first. A
 * conflict prints the conflicting fields with their current values: exit 7.
 * `verb` (e.g. "Saved") starts the line printed on success. */
int cli_op_edit(cli *c, const cli_kind *k, const char *ref, const cli_edits *e, int64_t version,
                const char *verb);
/* Archives (or restores) record `ref` of kind `k`. */
int cli_op_archive(cli *c, const cli_kind *k, const char *ref, bool archive, const char *verb);

/* ------------------------------------------------------------ shared command bodies
 * (cmd_records.c) */

/* `KIND edit ID|REF --set ... [--unset ...] [--version N]` for any kind. */
int cli_cmd_edit(cli *c, const cli_kind *k, const char *usage_text, const char *verb);
/* `KIND archive|restore|rm ID|REF` for any kind. */
int cli_cmd_archive(cli *c, const cli_kind *k, bool archive, const char *usage_text,
                    const char *verb);
/* Runs a ListRequest and prints it: a table (with a CUSTOMER column when
 * asked), or the records as JSON; the next cursor on stderr. */
int cli_print_list(cli *c, Dangan__V1__Request *req, bool is_all, bool with_customer);
/* One of `customer list`'s filter options by its long name ("tier",
 * "archived"...) into `f`; a usage error (printed, exit 2) for a bad value. */
int cli_list_filter_option(cli *c, const char *name, const char *arg, Dangan__V1__ListFilter *f);

/* ------------------------------------------------------------ FIELD=VALUE (fields.c) */

/* Applies "NAME=VALUE" (or, with is_unset, "NAME": back to empty) to the
 * heap message `m` of kind `k`, parsing VALUE by the field's type. When
 * `mask` is not NULL the name is added to it (once). An unknown field or a
 * value that does not parse is a usage error (printed, exit 2). */
int cli_field_assign(cli *c, const cli_kind *k, ProtobufCMessage *m, const char *assignment,
                     bool is_unset, char ***mask, size_t *n_mask);
/* Like cli_field_assign with NAME and VALUE apart (for --name, --summary...). */
int cli_field_set(cli *c, const cli_kind *k, ProtobufCMessage *m, const char *name,
                  const char *value);
/* Display text of field `name` of `m` ("tags" and "custom.NAME" too). Returns
 * false when it is empty or unset (buf then holds "" or e.g. "no"). */
bool cli_field_text(const ProtobufCMessage *m, const char *name, char *buf, size_t len);
/* True if `name` is a field people set with --set (not id, version...). */
bool cli_field_is_settable(const ProtobufCFieldDescriptor *f);

/* ISO-8601 "2026-11-22", "2026-11-22T09:30[:SS[.mmm]]" (or a space for T),
 * in the team's time zone unless a zone follows: "Z", "+08:00", "+0800",
 * "-05" (when.c: UTC under --utc). Unix ms. */
int cli_parse_time(const char *s, int64_t *unix_ms);
/* A calendar date "YYYY-MM-DD" (checked, including leap years). */
bool cli_date_valid(const char *s);
/* "12.34", "12.34 USD", "USD 12.34", "1,234.5": minor units by the
 * currency's exponent (CNY 2, JPY 0...). `currency` (may be NULL: CNY) is
 * used when the text names none. DG_OK, or DG_EINVAL with why[] explained. */
int cli_parse_money(const char *s, const char *currency, int64_t *minor, char cur[4], char *why,
                    size_t why_len);
/* "CNY 12,345.00" for 1234500 fen. */
const char *cli_money_text(int64_t minor, const char *currency, char *buf, size_t len);
/* Parses an enum value by its short name ("a", "active"; any case) or its
 * full name; -1 when none matches. Value 0 (unspecified) never matches. */
int cli_enum_parse(const ProtobufCEnumDescriptor *d, const char *name);
/* "a, b, c": the short names of an enum's values (without unspecified). */
const char *cli_enum_choices(const ProtobufCEnumDescriptor *d, char *buf, size_t len);

/* ------------------------------------------------------------ people's view (show.c) */

/* Prints a customer's dossier (a GetResponse with dossier) for people. */
void cli_show_dossier(cli *c, const Dangan__V1__GetResponse *g);
/* Prints records of kind `k` as a table (stdout). `with_customer` adds a
 * column naming each record's customer (looked up once per customer). */
void cli_show_table(cli *c, const cli_kind *k, const ProtobufCMessage *const *msgs, size_t n,
                    bool with_customer, size_t indent);
/* "Total: CNY 12,345.00 in 2 deals; USD ..." over deal messages. */
void cli_show_totals(const ProtobufCMessage *const *deals, size_t n);
/* "C-000001 北京天坛家具" for a customer message. */
const char *cli_customer_label(const ProtobufCMessage *customer, char *buf, size_t len);

/* `customer reassign` (cmd_handover.c). */
int cli_customer_reassign(cli *c);
/* `customer merge` (cmd_handover.c). */
int cli_customer_merge(cli *c);
/* `customer duplicates` (cmd_duplicates.c). */
int cli_customer_duplicates(cli *c);
/* `deal move` and `deal list` (cmd_deal.c). */
int cli_deal_move(cli *c);
int cli_deal_list(cli *c);
/* `customer history` (cmd_history.c). */
int cli_customer_history(cli *c);

/* ------------------------------------------------------------ watch (watch_say.c) */

/* Change event `ch` as one line for people, on `out`: "2026-12-07 18:39  王伟
 * changed 深圳华信科技 (C-000844): tier b → a". */
void cli_watch_say(cli *c, FILE *out, const Dangan__V1__ChangeEvent *ch);
/* A value of the event (ChangedValue text) for people, by its field's type in
 * kind's message: instants in the team's zone, amounts grouped, yes/no,
 * "(none)" for ""; in buf or `text` itself. */
const char *cli_watch_value(cli *c, Dangan__V1__EntityKind kind, const char *field,
                            const char *text, bool is_masked, char *buf, size_t len);

#endif
