/* merge.h - what to do when an update comes back ABORTED version_conflict:
 * a three-way comparison, per field, of the version the form was based on
 * (base), what the user made of it (mine) and the record as the server now
 * holds it (theirs, UpdateResponse.record), then, once the user has chosen
 * for every field both sides changed differently, the update to send again
 * against the server's current version. Nothing is overwritten silently:
 * a field only the server changed keeps the server's value, a field only
 * the user changed is sent, and a conflict is sent only as the user chose.
 *
 * Works on any kind through its field table (common/entity.h); for
 * customers the tags count as one more field (DG_RECMSG_TAGS). Custom
 * fields are not merged: the form sends them as before.
 *
 * A dg_merge borrows its three records (they must outlive it) and owns
 * nothing else. Pure; any thread, one at a time per dg_merge.
 */
#ifndef DG_MERGE_H
#define DG_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "entity.h"
#include "record_msg.h"

enum dg_merge_state {
    DG_MERGE_SAME = 0,   /* nobody changed it */
    DG_MERGE_MINE,       /* only the user changed it: sent */
    DG_MERGE_THEIRS,     /* only someone else changed it: theirs is kept */
    DG_MERGE_BOTH_EQUAL, /* both changed it to the same value: nothing to send */
    DG_MERGE_CONFLICT,   /* both changed it differently: the user picks */
};

enum dg_merge_pick {
    DG_MERGE_UNDECIDED = 0,
    DG_MERGE_KEEP_MINE,   /* send the user's value */
    DG_MERGE_KEEP_THEIRS, /* keep the server's value */
};

#define DG_MERGE_MAX (DG_MAX_FIELDS)

typedef struct dg_merge {
    enum dg_kind kind;
    const dg_record *base, *mine, *theirs; /* borrowed */
    int n;                                 /* fields compared: the table, + tags for customers */
    enum dg_merge_state state[DG_MERGE_MAX];
    enum dg_merge_pick pick[DG_MERGE_MAX]; /* conflicts only */
} dg_merge;

/* Compares the three records field by field (the fields of mine that are
 * not in mine->given count as unchanged by the user). All three must be of
 * one kind and one id. Immutable and server-set fields are never the
 * user's. DG_OK, or DG_EINVAL (kinds or ids differ, unknown kind). */
int dg_merge_init(dg_merge *m, const dg_record *base, const dg_record *mine,
                  const dg_record *theirs);

/* The name of compared field i ("phone", "tags"), for the dialog and for
 * matching Status.conflicting_fields. */
const char *dg_merge_field_name(const dg_merge *m, int i);

/* Number of fields in DG_MERGE_CONFLICT; the indexes of the first `cap` of
 * them, in table order, into idx (may be NULL). */
int dg_merge_conflicts(const dg_merge *m, int *idx, int cap);

/* Records the user's choice for conflicting field i. DG_OK; DG_EINVAL if
 * i is not a conflict or pick is DG_MERGE_UNDECIDED. */
int dg_merge_choose(dg_merge *m, int i, enum dg_merge_pick pick);

/* True when every conflict has a choice. */
bool dg_merge_is_decided(const dg_merge *m);

/* The record to send again: theirs (id, and version as expected_version)
 * with the user's values in the fields to send, whose bits come back in
 * *fields (field i: bit i; tags: DG_RECMSG_TAGS; 0 when nothing is left to
 * send, the user's changes being already there). Pass both to
 * dg_recmsg_update. Copied into `a`. DG_OK; DG_ESTATE while a conflict is
 * undecided; DG_ENOMEM. */
int dg_merge_result(const dg_merge *m, dg_arena *a, dg_record **out, uint64_t *fields);

#endif
