/* cli.h - what the dangan CLI's commands share: global options, the
 * connection to the server, exit codes, output (human or --json), the config
 * directory and prompts. Single-threaded.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 other server error, 2 usage, 3 cannot
 * connect / TLS / untrusted server, 4 UNAUTHENTICATED, 5 NOT_FOUND,
 * 6 PERMISSION_DENIED, 7 ABORTED, 8 ALREADY_EXISTS, 9 INVALID_ARGUMENT or
 * FAILED_PRECONDITION.
 */
#ifndef DG_CLI_H
#define DG_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dangan.h"
#include "dg.h"

enum cli_exit {
    EXIT_OK = 0,
    EXIT_SERVER = 1,
    EXIT_USAGE = 2,
    EXIT_CONNECT = 3,
    EXIT_UNAUTH = 4,
    EXIT_NOTFOUND = 5,
    EXIT_DENIED = 6,
    EXIT_CONFLICT = 7,
    EXIT_EXISTS = 8,
    EXIT_INVALID = 9,
};

typedef struct cli {
    bool is_json;
    bool is_utc;   /* --utc: times shown and read in UTC */
    bool is_quiet; /* errors are returned, not printed (a session tried early: when.c) */
    const char *server_flag; /* --server, or NULL */
    char config_dir[1024];
    char server[256]; /* the server this command talks to */
    dg_client *client;
    dg_client_event_fn on_event; /* pushed events (dangan watch), or NULL */
    void *event_user;
    int argc; /* the command's arguments; argv[0] is the command name */
    char **argv;
    /* When set, cli_usage writes its message here instead of printing it:
     * import checks a file's values with the --set parsers. */
    char *usage_sink;
    size_t usage_sink_len;
} cli;

/* ---- output (out.c) ---- */
/* Prints the error (stderr; JSON under --json) and returns exit_code.
 * `code` is the status name ("NOT_FOUND"), `reason` the stable reason. */
int cli_fail(cli *c, int exit_code, const char *code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Usage error: message plus a hint to --help; exit 2. */
int cli_usage(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Turns a failed libdangan call into the right exit code and message. */
int cli_fail_call(cli *c, int rc);
/* For a Response whose Status is not OK: prints its message (stderr; under
 * --json the error object, with the members of `extra` added) and returns the
 * exit code for its code. Takes ownership of `extra` (may be NULL). */
int cli_fail_status(cli *c, const Dangan__V1__Status *st, json_t *extra);
/* Prints one JSON document on stdout and releases it. */
void cli_print_json(json_t *doc);
/* ---- times (when.c): in the team's time zone, or UTC under --utc ---- */
/* Remembers the run's cli: its --utc and the session that tells the zone. */
void cli_when_init(cli *c);
/* "2026-11-22 10:15" in the team's zone; "2026-11-22T02:15:00Z" under --utc. */
const char *cli_time(int64_t unix_ms, char *buf, size_t len);
/* The same with seconds: "2026-11-22 10:15:30". */
const char *cli_time_seconds(int64_t unix_ms, char *buf, size_t len);
/* "2026-11-22" when the instant is a local midnight, else cli_time. */
const char *cli_day_or_time(int64_t unix_ms, char *buf, size_t len);
/* Today's date in the team's zone. */
const char *cli_today(char buf[16]);
/* A wall time (tm, no zone) typed by the user, in the team's zone, as unix
 * ms. Resumes the session first if none is yet (the zone comes with it).
 * DG_OK or DG_EINVAL. */
struct tm;
int cli_local_to_utc(struct tm *tm, int64_t *unix_ms);
/* An enum value's name in lower case without its type prefix (ROLE_ADMIN → "admin"). */
const char *cli_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t len);
/* Generic protobuf message → JSON object (field names as in the .proto;
 * enums as lower-case names without their type prefix; a fixed64 such as a
 * cursor's epoch as a decimal string, a uint64 above INT64_MAX too). */
json_t *cli_pb_to_json(const ProtobufCMessage *m);

/* ---- config directory (settings.c) ---- */
/* Resolves and creates (0700) the config dir: --config-dir, $DANGAN_CONFIG_DIR,
 * $XDG_CONFIG_HOME/dangan, ~/.config/dangan. */
int cli_settings_init(cli *c, const char *flag_dir);
/* How a server is trusted: kind "fingerprint" or "ca" and its value. DG_OK or DG_ENOTFOUND. */
int cli_known_get(cli *c, const char *server, char *kind, size_t kind_len, char *value,
                  size_t value_len);
int cli_known_put(cli *c, const char *server, const char *kind, const char *value);
/* The current server and user name (either may be ""). */
void cli_current_get(cli *c, char *server, size_t server_len, char *user, size_t user_len);
int cli_current_put(cli *c, const char *server, const char *user);
/* The session token for a server. DG_OK or DG_ENOTFOUND. */
int cli_token_get(cli *c, const char *server, char token[DG_CLIENT_TOKEN_LEN + 1]);
int cli_token_put(cli *c, const char *server, const char *token);
int cli_token_delete(cli *c, const char *server);

/* ---- prompts (prompt.c) ---- */
/* Reads a secret from the terminal without echo. DG_OK, DG_EIO (no
 * terminal) or DG_ETOOBIG (longer than len - 1 bytes; nothing kept). */
int cli_read_secret(const char *prompt, char *buf, size_t len);
/* Reads one line (without its newline) from stdin. DG_OK, DG_ENOTFOUND at
 * EOF, DG_ETOOBIG for a line longer than len - 1 bytes (read to its end, nothing kept). */
int cli_read_line(char *buf, size_t len);
/* Asks a yes/no question on the terminal; false when there is none. */
bool cli_confirm(const char *prompt);
/* A terminal line with echo. DG_OK or DG_EIO. */
int cli_read_text(const char *prompt, char *buf, size_t len);

/* ---- suggestions (suggest.c) ---- */
/* Edit distance between two names (optimal string alignment: insert,
 * delete, change a byte or swap two neighbours, 1 each); SIZE_MAX when
 * either is longer than 64 bytes. */
size_t cli_edit_distance(const char *a, const char *b);
/* The name of names[0..n) that `word` most likely misspells ("teir" →
 * "tier", "cust" → "customer"), or NULL when none is near enough. */
const char *cli_suggest(const char *word, const char *const *names, size_t n);

/* ---- connection (cli.c) ---- */
/* Picks the server (--server, else the current one) and connects with its
 * stored trust. Prints and returns an exit code on failure, EXIT_OK on success. */
int cli_connect(cli *c);
/* cli_connect, then resumes the stored session. */
int cli_session(cli *c);
/* Options shared by commands: returns true and consumes "--help"/"-h". */
bool cli_wants_help(int argc, char **argv);

/* ---- commands ---- */
int cmd_connect(cli *c);
int cmd_login(cli *c);
int cmd_logout(cli *c);
int cmd_whoami(cli *c);
int cmd_ping(cli *c);
int cmd_passwd(cli *c);
/* record commands (cmd_records.c, cmd_dossier.c, cmd_field.c) */
int cmd_customer(cli *c);
int cmd_contact(cli *c);
int cmd_note(cli *c);
int cmd_deal(cli *c);
int cmd_feedback(cli *c);
int cmd_task(cli *c);
int cmd_field(cli *c);
int cmd_audit(cli *c);
int cmd_server(cli *c);
int cmd_settings(cli *c); /* cmd_settings.c */
int cmd_user(cli *c);
int cmd_watch(cli *c);
int cmd_import(cli *c); /* cmd_import.c */
int cmd_export(cli *c); /* cmd_export.c */
int cmd_tiers(cli *c);  /* cmd_tiers.c: the ABC classification */
int cmd_report(cli *c); /* cmd_report.c */
/* documents (cmd_doc.c, cmd_doc_get.c) */
int cmd_doc(cli *c);
int cmd_today(cli *c); /* cmd_today.c */
int cmd_pool(cli *c);      /* cmd_pool.c */
int cmd_lifecycle(cli *c); /* cmd_lifecycle.c */

#endif
