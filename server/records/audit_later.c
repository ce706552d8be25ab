/* audit_later.c - the backlog of audit records waiting to be appended (see
 * audit_later.h).
 *
 * Owns: copies of the waiting records (each with its strings, one block).
 * Invariants: records leave in the order they came; while a flush job is in
 * flight it owns the records it carries (the list holds only later ones),
 * and a failed flush puts them back in front. Any loop thread: the list is
 * under a mutex (the flushes run on loop 0).
 */
#include "audit_later.h"

#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "alloc.h"
#include "audit.h"
#include "dg.h"
#include "log.h"
#include "server.h"
#include "writer.h"

struct later_rec {
    struct later_rec *next;
    dg_audit_rec rec; /* strings point into text[] */
    char text[];
};

struct dg_audit_later {
    struct later_rec *head, **tail;
    size_t n;
    bool is_flushing;
    uv_mutex_t mu; /* records come from every loop thread */
};

struct flush_job {
    dg_job job;
    dg_audit_later *q;
    struct later_rec *recs; /* owned while in flight */
    size_t n;
};

dg_audit_later *dg_audit_later_new(void)
{
    dg_audit_later *q = dg_xcalloc(1, sizeof *q);

    q->tail = &q->head;
    uv_mutex_init(&q->mu);
    return q;
}

static void free_list(struct later_rec *r)
{
    while (r) {
        struct later_rec *next = r->next;

        free(r);
        r = next;
    }
}

void dg_audit_later_free(dg_audit_later *q)
{
    if (!q)
        return;
    dg_assert(!q->is_flushing);
    if (q->n)
        dg_log_warn("audit",
                    "msg=\"audit records never reached the audit log; the warn lines of module "
                    "audit above are their only record\" records=%zu",
                    q->n);
    free_list(q->head);
    uv_mutex_destroy(&q->mu);
    free(q);
}

bool dg_audit_later_may(int rc)
{
    return rc == DG_ENOSPC || rc == DG_EREADONLY;
}

/* Appends `s` and its NUL at *at; returns where it went. */
static const char *put(char **at, const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *p = *at;

    memcpy(p, s ? s : "", n);
    *at += n;
    return p;
}

int dg_audit_later_add(dg_audit_later *q, const dg_audit_rec *r, int why)
{
    const char *strs[] = {r->username, r->peer, r->action, r->entity, r->outcome, r->detail};
    struct later_rec *l;
    size_t len = 0;
    char *at;

    DG_ASSERT_LOOP_THREAD();
    for (size_t i = 0; i < DG_ARRAY_LEN(strs); i++)
        len += strlen(strs[i] ? strs[i] : "") + 1;
    l = dg_xcalloc(1, sizeof *l + len);
    at = l->text;
    l->rec = *r;
    l->rec.seq = 0;
    l->rec.username = put(&at, r->username);
    l->rec.peer = put(&at, r->peer);
    l->rec.action = put(&at, r->action);
    l->rec.entity = put(&at, r->entity);
    l->rec.outcome = put(&at, r->outcome);
    l->rec.detail = put(&at, r->detail ? r->detail : "{}");
    uv_mutex_lock(&q->mu);
    if (q->n >= DG_AUDIT_LATER_MAX) {
        uv_mutex_unlock(&q->mu);
        free(l);
        return DG_EFULL;
    }
    *q->tail = l;
    q->tail = &l->next;
    q->n++;
    /* The record as it happened, in the log until the audit log has it. */
    dg_log_warn("audit",
                "msg=\"audit record kept in memory until writes resume\" reason=\"%s\" "
                "at=%lld user=%s user_id=%lld peer=%s action=%s entity=%s entity_id=%lld "
                "outcome=%s waiting=%zu",
                dg_strerror(why), (long long)r->at, l->rec.username, (long long)r->user_id,
                l->rec.peer, l->rec.action, l->rec.entity, (long long)r->entity_id, l->rec.outcome,
                q->n);
    uv_mutex_unlock(&q->mu);
    return DG_OK;
}

size_t dg_audit_later_count(dg_audit_later *q)
{
    size_t n;

    uv_mutex_lock(&q->mu);
    n = q->n;
    uv_mutex_unlock(&q->mu);
    return n;
}

static void flush_run(dg_job *job, void *ctx)
{
    struct flush_job *f = (struct flush_job *)job;
    dg_wtx *tx = ctx;

    job->rc = DG_OK;
    for (struct later_rec *r = f->recs; r && job->rc == DG_OK; r = r->next)
        job->rc = dg_audit_append(tx->store, tx->audit, &r->rec);
}

static void flush_done(dg_job *job)
{
    struct flush_job *f = (struct flush_job *)job;
    dg_audit_later *q = f->q;
    struct later_rec *last = f->recs;

    uv_mutex_lock(&q->mu);
    q->is_flushing = false;
    if (job->rc == DG_OK) {
        dg_log_info("audit", "msg=\"audit records appended after writes resumed\" records=%zu",
                    f->n);
        free_list(f->recs);
    } else {
        /* back in front, in their order (one job's run saw them all or none) */
        while (last->next)
            last = last->next;
        last->next = q->head;
        if (!q->head)
            q->tail = &last->next;
        q->head = f->recs;
        q->n += f->n;
    }
    uv_mutex_unlock(&q->mu);
    free(f);
}

void dg_audit_later_flush(dg_audit_later *q, struct dg_server *srv)
{
    struct flush_job *f;

    DG_ASSERT_LOOP_THREAD();
    if (!q || dg_server_is_read_only(srv))
        return;
    uv_mutex_lock(&q->mu);
    if (q->n == 0 || q->is_flushing) {
        uv_mutex_unlock(&q->mu);
        return;
    }
    f = dg_xcalloc(1, sizeof *f);
    f->q = q;
    f->recs = q->head;
    f->n = q->n;
    f->job.run = flush_run;
    f->job.done = flush_done;
    q->head = NULL;
    q->tail = &q->head;
    q->n = 0;
    q->is_flushing = true;
    uv_mutex_unlock(&q->mu);
    if (dg_server_write(srv, &f->job) != DG_OK) {
        f->job.rc = DG_EFULL;
        flush_done(&f->job);
    }
}
