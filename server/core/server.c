/* server.c - the server's shared state as others may see it: read-only
 * accessors, and the job queues (readers, hashers, writer) with the count of
 * jobs in flight that shutdown waits for. serve.c makes and runs the server.
 * Runs on: the loop thread, except the team settings (any thread).
 */
#include "server.h"

#include "dg.h"
#include "server_int.h"

const dg_config *dg_server_config(const dg_server *srv)
{
    return &srv->cfg;
}

uv_loop_t *dg_server_loop(dg_server *srv)
{
    return &srv->loop;
}

const char *dg_server_id(const dg_server *srv)
{
    return srv->server_id;
}

uint64_t dg_server_feed_epoch(const dg_server *srv)
{
    return srv->feed_epoch;
}

uint32_t dg_server_password_min_len(const dg_server *srv)
{
    return srv->password_min_len;
}

uint32_t dg_server_restricted_tiers(const dg_server *srv)
{
    return srv->restricted_tiers;
}

void dg_server_team(dg_server *srv, dg_team *out)
{
    uv_mutex_lock(&srv->team_lock);
    *out = srv->team;
    uv_mutex_unlock(&srv->team_lock);
}

void dg_server_set_team(dg_server *srv, const dg_team *team)
{
    uv_mutex_lock(&srv->team_lock);
    srv->team = *team;
    uv_mutex_unlock(&srv->team_lock);
}

void dg_server_team_meta(dg_server *srv, dg_team *out, dg_team_meta *meta)
{
    uv_mutex_lock(&srv->team_lock);
    *out = srv->team;
    *meta = srv->team_meta;
    uv_mutex_unlock(&srv->team_lock);
}

void dg_server_set_team_meta(dg_server *srv, const dg_team *team, const dg_team_meta *meta)
{
    uv_mutex_lock(&srv->team_lock);
    srv->team = *team;
    srv->team_meta = *meta;
    uv_mutex_unlock(&srv->team_lock);
}

const char *dg_server_dummy_hash(const dg_server *srv)
{
    return srv->dummy_hash;
}

bool dg_server_is_draining(const dg_server *srv)
{
    return srv->is_draining;
}

bool dg_server_is_read_only(const dg_server *srv)
{
    return dg_writer_is_readonly(srv->writer);
}

dg_sessions *dg_server_sessions(dg_server *srv)
{
    return srv->sessions;
}

struct dg_throttle *dg_server_throttle(dg_server *srv)
{
    return srv->throttle;
}

struct dg_peers *dg_server_peers(dg_server *srv)
{
    return srv->peers;
}

struct dg_users *dg_server_users(dg_server *srv)
{
    return srv->users;
}

struct dg_feed *dg_server_feed(dg_server *srv)
{
    return srv->feed;
}

struct dg_audit_later *dg_server_audit_later(dg_server *srv)
{
    return srv->audit_later;
}

struct dg_tls_conf *dg_server_tls(dg_server *srv)
{
    return srv->tls;
}

struct dg_conns *dg_server_conns(dg_server *srv)
{
    return srv->conns;
}

int64_t dg_server_started_at(const dg_server *srv)
{
    return srv->started_at;
}

const dg_backup_status *dg_server_last_backup(const dg_server *srv)
{
    return &srv->last_backup;
}

void dg_server_set_last_backup(dg_server *srv, const dg_backup_status *st)
{
    srv->last_backup = *st;
}

int dg_server_background(dg_server *srv, dg_job *job)
{
    int rc = dg_pool_submit(srv->background, job);

    DG_ASSERT_LOOP_THREAD();
    if (rc == DG_OK)
        srv->n_jobs++;
    return rc;
}

int dg_server_read(dg_server *srv, dg_job *job)
{
    int rc = dg_pool_submit(srv->readers, job);

    DG_ASSERT_LOOP_THREAD();
    if (rc == DG_OK)
        srv->n_jobs++;
    return rc;
}

int dg_server_hash(dg_server *srv, dg_job *job)
{
    int rc = dg_pool_submit(srv->hashers, job);

    DG_ASSERT_LOOP_THREAD();
    if (rc == DG_OK)
        srv->n_jobs++;
    return rc;
}

static int submit_write(dg_server *srv, dg_job *job, bool is_record_of_read)
{
    int rc;

    job->is_record_of_read = is_record_of_read;
    if (dg_writer_is_readonly(srv->writer))
        return DG_EREADONLY;
    rc = dg_writer_submit(srv->writer, job);
    if (rc == DG_OK)
        srv->n_jobs++;
    return rc;
}

int dg_server_write(dg_server *srv, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    return submit_write(srv, job, false);
}

int dg_server_write_record_of_read(dg_server *srv, dg_job *job)
{
    DG_ASSERT_LOOP_THREAD();
    return submit_write(srv, job, true);
}
