/* h_stats.c - ServerStats (admins): how the server is doing.
 *
 * What the loop owns (uptime, connections, sessions, the change feed's
 * head, the last scheduled backup) is read on the loop when the answer is
 * built; the sizes of the database, its WAL and the document tables come
 * from a read job, since dbstat reads every page it sums (docs/protocol.md
 * says what each field counts).
 * Runs on: the loop thread; stats_run on a reader thread.
 */
#include <stdlib.h>

#include "clock.h"
#include "conn.h"
#include "dg.h"
#include "feed.h"
#include "h_common.h"
#include "handlers.h"
#include "server.h"
#include "store.h"

struct stats_job {
    dg_job job;
    dg_req *req;
    int64_t db_bytes, wal_bytes, documents_bytes;
};

static void stats_run(dg_job *job, void *ctx)
{
    struct stats_job *j = (struct stats_job *)job;

    dg_store_file_bytes(ctx, &j->db_bytes, &j->wal_bytes);
    job->rc = dg_store_bytes_of(ctx, "document", &j->documents_bytes);
}

static void count_session(dg_session *s, void *ud)
{
    DG_UNUSED(s);
    (*(uint32_t *)ud)++;
}

static Dangan__V1__BackupStatus *backup_pb(dg_req *req)
{
    dg_backup_status copy, *st = &copy;
    Dangan__V1__BackupStatus *b = dg_req_alloc(req, sizeof *b);

    dg_server_last_backup(req->srv, &copy);
    dangan__v1__backup_status__init(b);
    b->scheduled = st->is_scheduled;
    b->next_at_ms = st->next_at;
    b->encrypted = st->is_encrypted;
    b->at_ms = st->at;
    b->ok = st->is_ok;
    b->file = dg_req_strdup(req, st->file);
    b->bytes = st->is_ok ? (uint64_t)st->bytes : 0;
    b->error = dg_req_strdup(req, st->is_ok ? "" : st->error);
    return b;
}

static void stats_done(dg_job *job)
{
    struct stats_job *j = (struct stats_job *)job;
    dg_req *req = j->req;
    Dangan__V1__ServerStatsResponse *r;
    uint32_t n_sessions = 0;

    if (job->rc != DG_OK) {
        dg_h_fail_job(req, job->rc);
        free(j);
        return;
    }
    r = dg_req_alloc(req, sizeof *r);
    dangan__v1__server_stats_response__init(r);
    r->started_at_ms = dg_server_started_at(req->srv);
    r->uptime_s = (dg_now_ms() - r->started_at_ms) / 1000;
    r->connections = dg_server_connections(req->srv);
    dg_sessions_each(dg_server_sessions(req->srv), count_session, &n_sessions);
    r->sessions = n_sessions;
    r->change_seq = (uint64_t)dg_feed_head(dg_server_feed(req->srv));
    r->database_bytes = (uint64_t)j->db_bytes;
    r->wal_bytes = (uint64_t)j->wal_bytes;
    r->documents_bytes = (uint64_t)j->documents_bytes;
    r->last_backup = backup_pb(req);
    req->resp.body_case = DANGAN__V1__RESPONSE__BODY_SERVER_STATS;
    req->resp.server_stats = r;
    free(j);
    dg_req_reply(req);
}

void dg_h_server_stats(dg_req *req)
{
    struct stats_job *j = dg_xcalloc(1, sizeof *j);
    int rc;

    j->req = req;
    j->job.run = stats_run;
    j->job.done = stats_done;
    if ((rc = dg_server_read(req->srv, &j->job)) != DG_OK) {
        free(j);
        dg_h_fail_job(req, rc);
    }
}
