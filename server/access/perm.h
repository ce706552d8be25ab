/* perm.h - who may do what (docs/security.md): the one module that decides.
 *
 * Roles: admin (users, settings, audit; sees and changes all customer data),
 * manager (all customer data, archive, hand-over), sales (reads every
 * customer outside the restricted tiers, changes only its own customers'
 * dossiers), viewer (reads, sensitive fields masked), auditor (the audit
 * log and nothing else). Restricted tiers (a setting, default A, docs/customer-file.md:
 * "A级客户资料的查询和使用需为市场营销经理级以上人员") are visible only to
 * the customer's owner, managers and admins; to anyone else such a customer
 * and everything in its dossier does not exist (NOT_FOUND, and lists and
 * searches leave it out inside the query).
 *
 * Callers: dispatch (role rights of every request), the query handlers (list
 * scope, get visibility, masking), the record writer (ownership, checked in
 * the transaction that makes the change). Pure functions: any thread.
 */
#ifndef DG_PERM_H
#define DG_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entity.h"
#include "model.h"

/* Tier bits of the restricted-tiers setting. */
enum { DG_TIER_BIT_A = 1u << 0, DG_TIER_BIT_B = 1u << 1, DG_TIER_BIT_C = 1u << 2 };
#define DG_PERM_DEFAULT_RESTRICTED DG_TIER_BIT_A
#define DG_PERM_SETTING_RESTRICTED "restricted_tiers" /* settings key: tier bits */

/* Who is asking, as the decisions need it. */
typedef struct dg_perm_who {
    int64_t user_id;
    enum dg_role role;
    uint32_t restricted; /* tier bits hidden from non-owners below manager */
} dg_perm_who;

/* May the role make requests of `action` ("record.get", see dispatch.c) at
 * all? Unknown actions: no (fail closed). *why: what to tell those refused. */
bool dg_perm_role_may(enum dg_role role, const char *action, const char **why);
/* Managers and admins: every customer, every tier, every field. */
bool dg_perm_sees_all(enum dg_role role);
/* Archive, restore and hand over customers: managers and admins. */
bool dg_perm_may_manage(enum dg_role role);
/* The bit of a tier (a Tier enum value: 1 = A, 2 = B, 3 = C); 0 for none. */
uint32_t dg_perm_tier_bit(int64_t tier);
/* Is a customer of this tier restricted under `who`'s setting? */
bool dg_perm_is_restricted(const dg_perm_who *who, int64_t tier);
/* May `who` see a customer (and its dossier) with this owner and tier? */
bool dg_perm_sees(const dg_perm_who *who, int64_t owner_id, int64_t tier);
/* May `who` change the dossier of a customer with this owner? */
bool dg_perm_may_edit(const dg_perm_who *who, int64_t owner_id);
/* Does `who` see the sensitive fields of a customer with this owner (owner
 * -1: unknown)? Managers and admins always, sales on their own customers,
 * viewers never. */
bool dg_perm_sees_sensitive(const dg_perm_who *who, int64_t owner_id);
/* May `who` read the day's list (Today) of user `user_id` (0: every
 * user's)? Managers and admins anyone's, sales their own. */
bool dg_perm_may_read_list(const dg_perm_who *who, int64_t user_id);
/* Stored names of the restricted tiers into out (at most 3); how many. */
size_t dg_perm_restricted_names(uint32_t restricted, const char *out[3]);

/* Masks a value by its shape: digits of phone-like text except the first
 * three and last four (13812345678 → 138****5678), dates entirely
 * (****-**-**), other text but its first and last character (UTF-8 aware).
 * `out` gets at most len - 1 bytes. */
void dg_perm_mask_text(const char *in, enum dg_ftype type, char *out, size_t len);
/* Masks the sensitive fields of `r` in place (strings from `a`) unless `who`
 * may see them on a customer with this owner. DG_OK or DG_ENOMEM. */
int dg_perm_mask_record(const dg_perm_who *who, int64_t owner_id, dg_record *r, dg_arena *a);

#endif
