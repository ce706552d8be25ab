/* cmd_server.c - dangan server stats: how the server is doing (admins). */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "rec.h"

static const char STATS_HELP[] =
    "usage: dangan server stats\n"
    "\n"
    "How the server is doing (admins only): how long it has run, open connections\n"
    "and sessions, the change feed's newest seq, the size of the database, its\n"
    "write-ahead log and the document tables, and the last scheduled backup with\n"
    "its result. --json prints the ServerStatsResponse as an object.\n";

/* "12.3 MiB", "512 B". */
static const char *size_text(uint64_t n, char *buf, size_t len)
{
    if (n < 1024)
        snprintf(buf, len, "%" PRIu64 " B", n);
    else if (n < 1024 * 1024)
        snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, len, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    return buf;
}

static void print_backup(const Dangan__V1__BackupStatus *b)
{
    char at[32], size[32];

    if (!b || !b->scheduled) {
        printf("  %-16s %s\n", "last backup", "not scheduled ([backup] in dangand.conf)");
        return;
    }
    if (!b->at_ms)
        printf("  %-16s %s\n", "last backup", "none since the server started");
    else if (b->ok)
        printf("  %-16s %s ok: %s (%s%s)\n", "last backup", cli_time(b->at_ms, at, sizeof at),
               b->file, size_text(b->bytes, size, sizeof size), b->encrypted ? ", encrypted" : "");
    else
        printf("  %-16s %s FAILED: %s\n", "last backup", cli_time(b->at_ms, at, sizeof at),
               b->error);
    printf("  %-16s %s\n", "next backup", cli_time(b->next_at_ms, at, sizeof at));
}

static int server_stats(cli *c)
{
    const Dangan__V1__ServerStatsResponse *s;
    Dangan__V1__Request *req;
    char since[32], size[32];
    dg_reply *r;
    int rc;

    if (cli_wants_help(c->argc, c->argv)) {
        fputs(STATS_HELP, stdout);
        return EXIT_OK;
    }
    if (c->argc != 1)
        return cli_usage(c, "server stats takes no arguments");
    req = cli_request_new();
    req->body_case = DANGAN__V1__REQUEST__BODY_SERVER_STATS;
    req->server_stats = (Dangan__V1__ServerStatsRequest *)cli_msg_new(
        &dangan__v1__server_stats_request__descriptor);
    rc = cli_rec_call(c, req, &r);
    dangan__v1__request__free_unpacked(req, NULL);
    if (rc != EXIT_OK)
        return rc;
    s = dg_reply_response(r)->server_stats;
    if (c->is_json) {
        cli_print_json(cli_pb_to_json(&s->base));
    } else {
        printf("Server up %" PRId64 " h %02" PRId64 " min (since %s)\n", s->uptime_s / 3600,
               s->uptime_s / 60 % 60, cli_time(s->started_at_ms, since, sizeof since));
        printf("  %-16s %u\n", "connections", s->connections);
        printf("  %-16s %u\n", "sessions", s->sessions);
        printf("  %-16s %" PRIu64 "\n", "change seq", s->change_seq);
        printf("  %-16s %s\n", "database", size_text(s->database_bytes, size, sizeof size));
        printf("  %-16s %s\n", "WAL", size_text(s->wal_bytes, size, sizeof size));
        printf("  %-16s %s\n", "documents", size_text(s->documents_bytes, size, sizeof size));
        print_backup(s->last_backup);
    }
    dg_reply_free(r);
    return EXIT_OK;
}

int cmd_server(cli *c)
{
    static const cli_sub subs[] = {
        {"stats", server_stats, "stats"},
    };

    return cli_subcommand(c, "server", subs, DG_ARRAY_LEN(subs), "The server's state (admins).\n");
}
