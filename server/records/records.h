/* records.h - changing dossier records: create, update (field-level
 * conflict detection), archive and restore. Each runs inside the writer's
 * transaction and writes, together, the record's rows, its search document,
 * its change-feed row and its audit record (before/after of the changed
 * fields): all of it or none of it lands.
 *
 * Conflicts (docs/protocol.md, update_mask): every stored record keeps the version at which each
 * field last changed. An update names its fields and the version the client
 * saw; a named field that someone else changed since then, to a value other
 * than the one requested, fails the whole update with DG_ECONFLICT and the
 * current record. Fields nobody else touched are applied even if the record
 * changed meanwhile.
 * Runs on: the writer thread.
 */
#ifndef DG_RECORDS_H
#define DG_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "collate.h"
#include "entity.h"
#include "model.h"
#include "store.h"
#include "team.h"
#include "writer.h"

/* Who acts, for created_by/updated_by, the change row and the audit record. */
typedef struct dg_actor {
    int64_t user_id;
    const char *username;
    const char *peer;
    enum dg_role role;
    uint32_t restricted; /* restricted tier bits (perm.h) */
} dg_actor;

#define DG_MAX_DUPS 5
/* Likely twins a create looks at (each key's probe stops there): the visible
 * ones beyond DG_MAX_DUPS are not named, but none hides a twin the caller
 * may not see unless this many share its keys. */
#define DG_DUP_PROBE_MAX 64

typedef struct dg_mutation {
    dg_record *record;      /* after the change; on DG_ECONFLICT the current record */
    const char **conflicts; /* DG_ECONFLICT: the fields changed by someone else */
    size_t n_conflicts;
    dg_dup dups[DG_MAX_DUPS]; /* DG_EEXIST: likely duplicate customers */
    size_t n_dups;
    /* DG_EEXIST: a likely twin the actor may not see (never named to them) */
    int64_t hidden_twin_id;
    const char *hidden_matched_on; /* static: "name", "phone", "email" */
    char field[96]; /* when the writer refuses a value: which field ("custom.size") */
    char why[512];  /* ... and why (a refused stage lists the pipeline's) */
    const char *reason; /* static: a Status reason more precise than the code's, or NULL */
    int64_t seq;    /* the change-feed seq written (0: nothing changed) */
    bool is_hidden; /* DG_ENOTFOUND because the actor may not see the customer (restricted tier) */
    bool is_key_reused;     /* DG_ESTATE: the idempotency key came with another request */
    bool is_result_damaged; /* DG_ECORRUPT: the idempotency key's stored answer (why says how) */
} dg_mutation;

/* The writer's tools for record changes: its collator for name sort keys. */
typedef struct dg_rec_ctx {
    dg_wtx *tx;
    dg_collator *collator;
    const dg_actor *who;
    dg_arena *arena; /* for records read and built; owned by the caller */
    int64_t now;     /* unix ms, one value for the whole change */
    /* The team's settings as the request found them (the deal pipeline);
     * NULL for bulk loads, which apply no pipeline rules. */
    const dg_team *team;
    /* The pool (pool.c) decided with perm.c that the actor may set this
     * customer's owner (a claim or a release): dg_rec_update then checks only
     * that the actor sees the customer, and the patch names only "owner". */
    bool owner_by_pool;
} dg_rec_ctx;

/* Creates `r` (given fields set; validated by dg_record_validate). Customers:
 * a code is generated when none is given; likely duplicates (same name,
 * e-mail or phone key, dupkey.h) refuse the create with DG_EEXIST unless
 * allow_duplicate (m->dups: those the actor may see); a likely twin the
 * actor may not see refuses it even so (m->hidden_twin_id, n_dups 0). The
 * one entry point for every way a customer is added (Create, Batch, an
 * import). A task's assignee must be
 * able to see and close it (see its customer, change its dossier). Returns
 * DG_OK, DG_EINVAL (m->field/why), DG_ENOTFOUND (the customer or contact
 * referred to, or one hidden from the actor: m->is_hidden),
 * DG_ESTATE (that customer is archived), DG_EEXIST (code taken or likely
 * duplicate), or a store error. */
int dg_rec_create(dg_rec_ctx *c, dg_record *r, bool allow_duplicate, dg_mutation *m);
/* Deals follow the team's pipeline (c->team, docs/protocol.md "Deal
 * pipeline"), in dg_rec_create and dg_rec_update alike: a stage set must be
 * one of the pipeline's (DG_EINVAL, m->reason "unknown_stage", m->why
 * listing them); a new deal without one starts at the first stage; a stage
 * reached brings its default probability and, a won stage, at_ms = now,
 * unless the change sets them; a lost stage needs a lost_reason (DG_EINVAL,
 * "lost_reason_required"). */

/* Applies the masked fields of `patch` (patch->id names the record). `mask`
 * holds field names, "tags", or "custom.NAME"; a task's new assignee is
 * checked as in dg_rec_create. Returns DG_OK (also when nothing changed:
 * m->seq is 0 then), DG_ENOTFOUND, DG_ESTATE (archived), DG_ECONFLICT,
 * DG_EINVAL, or a store error. */
int dg_rec_update(dg_rec_ctx *c, const dg_record *patch, const char *const *mask, size_t n_mask,
                  int64_t expected_version, dg_mutation *m);

/* Whether the actor may change the dossier of this live customer: DG_OK,
 * DG_ENOTFOUND (none, or hidden from the actor: m->is_hidden), DG_ESTATE
 * (archived), DG_EDENIED (someone else's), with m->field/why set. */
int dg_rec_check_customer(dg_rec_ctx *c, int64_t customer_id, dg_mutation *m);

/* Moves a child record (contact, interaction, deal, feedback, task) to
 * another customer's dossier (a merge): version + 1, its change row and
 * audit record ("KIND.move", before/after customer_id). The actor must be
 * allowed to change both dossiers. DG_OK (also when it is there already),
 * DG_ENOTFOUND, DG_ESTATE (target archived, or an open task whose assignee
 * could not see or close it there: m->field "assignee"), DG_EDENIED, or a
 * store error. */
int dg_rec_move(dg_rec_ctx *c, enum dg_kind kind, int64_t id, int64_t to_customer, dg_mutation *m);

/* Archives (or restores) a record. expected_version 0 skips the version
 * check. Archiving an archived record (restoring a live one) is DG_ESTATE. */
int dg_rec_set_archived(dg_rec_ctx *c, enum dg_kind kind, int64_t id, int64_t expected_version,
                        bool archive, dg_mutation *m);

/* Bulk load (dangand demo-data, offline imports): inserts `r` like
 * dg_rec_create, with its derived columns and search document, but without
 * duplicate or reference checks, change rows or audit records — the loader
 * writes one audit record for the whole load. created/updated times and
 * users are taken from `r` when set. Writer connection, inside a transaction. */
int dg_rec_import(dg_rec_ctx *c, dg_record *r);

/* Recomputes every customer's name sort key when the collation that made
 * the stored keys (meta "collation") is not this program's ICU: after an
 * ICU upgrade, name order and list cursors would otherwise be wrong. Runs
 * at start, before serving, on the write connection; *n gets how many keys
 * were rewritten (0 when nothing had to be done). */
int dg_rec_rekey_if_needed(dg_store *st, int *n);

/* Recomputes every customer's duplicate keys when the rules that made the
 * stored ones (meta "dup_keys") are not DG_DUPKEY_VERSION (dupkey.h):
 * after schema v7, whose migration empties them, and after a change of
 * the rules. Runs at start, before serving, on the write connection; *n
 * gets how many customers were rekeyed (0 when nothing had to be done). */
int dg_rec_dupkeys_if_needed(dg_store *st, int *n);

/* Rebuilds the search index from the records when it was built by another
 * layout or tokenizer (meta "search_index" is not DG_SEARCH_INDEX_VERSION;
 * absent in a database made before the value existed). Runs at start,
 * before serving, on the write connection; *n gets how many records were
 * indexed (0 when nothing had to be done). */
int dg_rec_reindex_if_needed(dg_store *st, int *n);

#endif
