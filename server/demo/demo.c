/* demo.c - `dangand demo-data`: realistic, reproducible customer dossiers.
 * (demo_customer.c and demo_dossier.c draw them; this file loads them.)
 *
 * Owns, for one run: the data directory's lock (dangand.lock, the flock the
 * server takes, so the two exclude each other), the write connection, a
 * collator, the audit chain head and one arena per transaction.
 *
 * Content: customer i's whole dossier - company or person, names, addresses,
 * phones, contacts, interactions, deals, tasks, feedback, owner - is drawn
 * from its own xoshiro256** stream seeded from (seed, i), so the same seed
 * gives the same bytes whatever N, batch size or machine, and a run of K
 * customers equals the first K of a longer one. No floating point decides
 * anything (integer draws only) and nothing reads the clock but for the
 * default base day (today, dg_demo_today): times are offsets around the
 * base day, 00:00 Asia/Shanghai. Only the demo
 * accounts' passwords and the audit record's time are not reproducible.
 *
 * Loading: dg_rec_import (derived columns and search documents, no change or
 * audit row per record) inside transactions of about TX_RECORDS records; the
 * last transaction also writes the run's single audit record. The first one
 * sets aside the secondary indexes a load would fill in random key order
 * (dg_store_bulk_indexes_drop); they are made again, by sorting, once the
 * load has ended, however it ended, so the time per customer does not grow
 * with the customers already there. A run that is killed leaves them to its
 * next run or to the server's next start (dg_store_bulk_indexes_restore). Durability
 * settings are left alone: WAL with synchronous=FULL fsyncs once per commit,
 * a few hundred fsyncs for a million records, under 1% of the time, so
 * nothing is relaxed and nothing has to be restored. What does matter is
 * the page cache: with SQLite's 2 MiB a transaction spills and re-reads the
 * pages of the search index and of the customers' indexes several times
 * (measured: 5 page writes and 5 reads per record); CACHE_MIB on this
 * connection only (a pragma, gone when it closes) halves the writes.
 *
 * Runs on: the main thread of an offline command.
 */
#include "demo_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "init.h"
#include "team.h"

const struct demo_user dg_demo_users[N_USERS] = {
    {"li.na", "李娜", DG_ROLE_SALES, 22},     {"wang.wei", "王伟", DG_ROLE_SALES, 20},
    {"zhang.min", "张敏", DG_ROLE_SALES, 18}, {"liu.yang", "刘洋", DG_ROLE_SALES, 15},
    {"zhao.lei", "赵磊", DG_ROLE_SALES, 13},  {"chen.jing", "陈静", DG_ROLE_MANAGER, 12},
};

/* ------------------------------------------------------------ loading */

/* Set by SIGINT/SIGTERM: the one mutable global, because a signal handler
 * can reach nothing else. Read between customers. */
static volatile sig_atomic_t stop_signal;

static void stop_handler(int sig)
{
    stop_signal = sig;
}

void dg_demo_today(char out[DG_DATE_LEN])
{
    dg_team t;

    dg_team_defaults(&t);
    if (dg_tz_date(t.time_zone, dg_now_ms(), out) != DG_OK)
        dg_tz_date("UTC", dg_now_ms(), out); /* ICU without zone data: the day in UTC */
}

static int parse_base(struct demo *d, const char *date, char *err, size_t err_len)
{
    struct tm tm = {0};

    if (!dg_date_valid(date)) {
        snprintf(err, err_len, "--base-date must be a date (YYYY-MM-DD), got \"%s\"", date);
        return DG_EINVAL;
    }
    tm.tm_year = atoi(date) - 1900;
    tm.tm_mon = atoi(date + 5) - 1;
    tm.tm_mday = atoi(date + 8);
    d->base_ms = (int64_t)timegm(&tm) * 1000 - CST_MS;
    d->base_year = tm.tm_year + 1900;
    if (d->base_year < 1990) {
        snprintf(err, err_len, "--base-date must be 1990 or later");
        return DG_EINVAL;
    }
    return DG_OK;
}

/* Looks the demo accounts up; hashes fresh passwords for those missing
 * (slow on purpose: argon2id, before any transaction is open). */
static int prepare_users(struct demo *d, char hashes[N_USERS][DG_PASSWORD_HASH_MAX], char *err,
                         size_t err_len)
{
    for (size_t k = 0; k < N_USERS; k++) {
        dg_user u;
        int rc = dg_store_user_by_name(d->st, dg_demo_users[k].name, &u);

        if (rc == DG_OK) {
            d->owners[k].id = u.id;
            continue;
        }
        if (rc != DG_ENOTFOUND) {
            snprintf(err, err_len, "cannot read users: %s", dg_store_errmsg(d->st));
            return rc;
        }
        d->owners[k].is_new = true;
        dg_password_generate(d->owners[k].password, PASSWORD_CHARS);
        rc =
            dg_password_hash(&d->o->argon2, d->owners[k].password, hashes[k], DG_PASSWORD_HASH_MAX);
        if (rc != DG_OK) {
            snprintf(err, err_len, "cannot hash a password: %s", dg_strerror(rc));
            return rc;
        }
    }
    return DG_OK;
}

/* Inserts the missing accounts (in the first transaction). */
static int insert_users(struct demo *d, char hashes[N_USERS][DG_PASSWORD_HASH_MAX])
{
    for (size_t k = 0; k < N_USERS; k++) {
        dg_user u = {0};
        int rc;

        if (!d->owners[k].is_new)
            continue;
        snprintf(u.username, sizeof u.username, "%s", dg_demo_users[k].name);
        snprintf(u.display_name, sizeof u.display_name, "%s", dg_demo_users[k].display);
        _Static_assert(sizeof u.password_hash == DG_PASSWORD_HASH_MAX, "hash sizes");
        memcpy(u.password_hash, hashes[k], sizeof u.password_hash); /* a C string of that size */
        u.role = dg_demo_users[k].role;
        u.created_at = dg_now_ms(); /* an account's real creation time, not demo content */
        if ((rc = dg_store_user_insert(d->st, &u, 0)) != DG_OK)
            return rc;
        d->owners[k].id = u.id;
    }
    return DG_OK;
}

static uint64_t total(const uint64_t *n)
{
    uint64_t t = 0;

    for (int k = 1; k < DG_KIND_COUNT; k++)
        t += n[k];
    return t;
}

static void progress(struct demo *d, int64_t done, bool is_final)
{
    int64_t now = dg_mono_ms(), ms;

    if (!d->o->progress || (!is_final && now - d->progress_ms < 250))
        return;
    d->progress_ms = now;
    ms = now - d->started_ms;
    fprintf(d->o->progress, "\rdemo-data: %lld/%lld customers, %llu records, %.0f records/s   %s",
            (long long)done, (long long)d->o->n_customers, (unsigned long long)total(d->n),
            ms > 0 ? (double)total(d->n) * 1000.0 / (double)ms : 0.0, is_final ? "\n" : "");
    fflush(d->o->progress);
}

/* The run's one audit record, in the last transaction. */
static int write_audit(struct demo *d, int64_t n_done)
{
    json_t *users = json_array(), *detail;
    char *text;
    int rc;

    for (size_t k = 0; k < N_USERS; k++)
        if (d->owners[k].is_new)
            json_array_append_new(users, json_string(dg_demo_users[k].name));
    detail = json_pack(
        "{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:b}", "seed", (json_int_t)d->o->seed,
        "customers_requested", (json_int_t)d->o->n_customers, "base_date", d->o->base_date,
        "first_code", d->first_code, "last_code", d->last_code, "customers", (json_int_t)n_done,
        "contacts", (json_int_t)d->n[DG_KIND_CONTACT], "interactions",
        (json_int_t)d->n[DG_KIND_INTERACTION], "deals", (json_int_t)d->n[DG_KIND_DEAL], "tasks",
        (json_int_t)d->n[DG_KIND_TASK], "feedback", (json_int_t)d->n[DG_KIND_FEEDBACK],
        "users_created", users, "interrupted", d->is_interrupted);
    text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    if (!text)
        return DG_ENOMEM;
    dg_audit_rec rec = {.at = dg_now_ms(), /* when the load happened: audit, not demo content */
                        .username = "",
                        .peer = "local",
                        .action = "system.demo_data",
                        .entity = "system",
                        .outcome = "ok",
                        .detail = text};
    rc = dg_audit_append(d->st, &d->chain, &rec);
    free(text);
    return rc;
}

static int commit(struct demo *d)
{
    int rc = dg_store_commit(d->st), wal_frames, done_frames;

    if (rc != DG_OK)
        return rc;
    memcpy(d->n_committed, d->n, sizeof d->n);
    for (size_t k = 0; k < N_USERS; k++)
        d->owned_committed[k] = d->owners[k].n_customers;
    d->pool_committed = d->n_pool;
    d->docs_committed = d->n_docs;
    memcpy(d->last_code_committed, d->last_code, sizeof d->last_code);
    d->users_committed = true;
    d->in_tx = 0;
    dg_arena_free(d->arena);
    d->arena = d->rc.arena = dg_arena_new(ARENA_BUDGET);
    /* A writer connection leaves checkpoints to the server's checkpointer
     * thread (no automatic ones); alone on the database we run one after
     * each commit, or the WAL would grow by every page the load writes. */
    return dg_store_checkpoint(d->st, &wal_frames, &done_frames);
}

/* After a failed transaction: counts back to what is committed, and - best
 * effort, the failure may well repeat - an audit record for that, so a
 * partial load is not left unaudited. */
static void salvage(struct demo *d, int64_t n_done)
{
    dg_store_rollback(d->st);
    memcpy(d->n, d->n_committed, sizeof d->n);
    for (size_t k = 0; k < N_USERS; k++)
        d->owners[k].n_customers = d->owned_committed[k];
    d->n_pool = d->pool_committed;
    d->n_docs = d->docs_committed;
    d->contract_content = 0; /* rolled back with the transaction, if it was in it */
    memcpy(d->last_code, d->last_code_committed, sizeof d->last_code);
    if (!d->users_committed)
        return;
    d->is_interrupted = true;
    /* the failed transaction may have advanced the chain head in memory */
    if (dg_store_begin(d->st) != DG_OK || dg_audit_chain_load(d->st, &d->chain) != DG_OK) {
        dg_store_rollback(d->st);
        return;
    }
    if (write_audit(d, n_done) != DG_OK || dg_store_commit(d->st) != DG_OK)
        dg_store_rollback(d->st);
}

/* Generates and commits every customer; the audit record goes into the
 * last transaction. *n_done gets the customers committed. */
static int load(struct demo *d, char hashes[N_USERS][DG_PASSWORD_HASH_MAX], int64_t *n_done)
{
    int64_t i = 0;
    int rc;

    *n_done = 0;
    if ((rc = dg_store_begin(d->st)) != DG_OK)
        return rc;
    if ((rc = insert_users(d, hashes)) != DG_OK ||
        (rc = dg_store_bulk_indexes_drop(d->st, &d->n_indexes)) != DG_OK)
        goto fail;
    for (; i < d->o->n_customers && !stop_signal; i++) {
        if (d->in_tx >= TX_RECORDS) {
            if ((rc = commit(d)) != DG_OK)
                goto fail;
            *n_done = i;
            if ((rc = dg_store_begin(d->st)) != DG_OK)
                goto fail;
        }
        if ((rc = dg_demo_gen_dossier(d, i)) != DG_OK)
            goto fail;
        progress(d, i + 1, false);
    }
    d->is_interrupted = i < d->o->n_customers;
    if ((rc = write_audit(d, i)) != DG_OK || (rc = commit(d)) != DG_OK)
        goto fail;
    *n_done = i;
    progress(d, i, true);
    return DG_OK;
fail:
    if (d->o->progress)
        fputc('\n', d->o->progress);
    salvage(d, *n_done);
    return rc;
}

/* Makes the indexes load() set aside (dg_store_bulk_indexes_drop): a sort
 * of each table, a minute or two for a million customers. */
static int remake_indexes(struct demo *d)
{
    int n;

    if (!d->n_indexes)
        return DG_OK;
    if (d->o->progress) {
        fprintf(d->o->progress, "demo-data: making %d indexes\n", d->n_indexes);
        fflush(d->o->progress);
    }
    return dg_store_bulk_indexes_restore(d->st, &n);
}

static double db_mib(const char *dir)
{
    static const char *const files[] = {DG_DB_FILE, DG_DB_FILE "-wal"};
    double bytes = 0;

    for (size_t i = 0; i < DG_ARRAY_LEN(files); i++) {
        char p[1200];
        struct stat sb;

        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (stat(p, &sb) == 0)
            bytes += (double)sb.st_size;
    }
    return bytes / (1024.0 * 1024.0);
}

static void print_accounts(const struct demo *d, FILE *out)
{
    fprintf(out, "Demo accounts (they own the customers):\n");
    for (size_t k = 0; k < N_USERS; k++) {
        const struct owner *w = &d->owners[k];

        fprintf(out, "  %-10s %-8s %9llu customers  %s%s  %s\n", dg_demo_users[k].name,
                dg_role_name(dg_demo_users[k].role), (unsigned long long)w->n_customers,
                w->is_new ? "password: " : "(existed; password unchanged)",
                w->is_new ? w->password : "", dg_demo_users[k].display);
    }
    fprintf(out, "  %-10s %-8s %9llu customers  (nobody's: the public pool)\n", "-", "-",
            (unsigned long long)d->n_pool);
    fprintf(out, "New passwords are shown only now and stored only as hashes; each user can\n"
                 "change theirs with `dangan passwd`.\n");
}

static void print_summary(const struct demo *d, FILE *out, int64_t n_done, int64_t elapsed_ms)
{
    static const char *const labels[DG_KIND_COUNT] = {
        "", "customers", "contacts", "interactions", "deals", "feedback", "tasks"};
    double s = (double)elapsed_ms / 1000.0;

    fprintf(out, "%s demo data into %s (seed %lld, base day %s Asia/Shanghai)\n",
            d->is_interrupted ? "Interrupted; loaded" : "Loaded", d->o->data_dir,
            (long long)d->o->seed, d->o->base_date);
    if (d->is_interrupted)
        fprintf(out, "  %lld of %lld customers were loaded (committed and audited)\n",
                (long long)n_done, (long long)d->o->n_customers);
    for (int k = 1; k < DG_KIND_COUNT; k++)
        fprintf(out, "  %-14s %10llu%s%s%s%s\n", labels[k], (unsigned long long)d->n[k],
                k == DG_KIND_CUSTOMER && n_done ? "   " : "",
                k == DG_KIND_CUSTOMER && n_done ? d->first_code : "",
                k == DG_KIND_CUSTOMER && n_done ? " .. " : "",
                k == DG_KIND_CUSTOMER && n_done ? d->last_code : "");
    fprintf(out, "  %-14s %10llu   (contracts, sharing one small file)\n", "documents",
            (unsigned long long)d->n_docs);
    fprintf(out, "  %-14s %10llu   in %.1f s, %.0f records/s\n", "records",
            (unsigned long long)total(d->n), s, s > 0 ? (double)total(d->n) / s : 0.0);
    fprintf(out, "  %-14s %10.1f MiB\n", "database", db_mib(d->o->data_dir));
    print_accounts(d, out);
    fflush(out);
}

static void demo_fini(struct demo *d)
{
    dg_store_close(d->st);
    dg_collator_free(d->collator);
    dg_arena_free(d->arena);
    for (size_t k = 0; k < N_USERS; k++)
        dg_wipe(d->owners[k].password, sizeof d->owners[k].password);
}

static int demo_open(struct demo *d, char *err, size_t err_len)
{
    char p[1200];
    int rc, n_rekeyed;

    snprintf(p, sizeof p, "%s/%s", d->o->data_dir, DG_DB_FILE);
    if ((rc = dg_store_open(p, true, &d->st, err, err_len)) != DG_OK)
        return rc;
    if ((rc = dg_store_set_cache_mib(d->st, CACHE_MIB)) != DG_OK) {
        snprintf(err, err_len, "cannot size the page cache: %s", dg_store_errmsg(d->st));
        return rc;
    }
    /* Name keys are made with this ICU: bring the store's record of the
     * collation (and any older keys) up to date first, or the server's next
     * start would recompute every key written here. */
    if ((rc = dg_rec_rekey_if_needed(d->st, &n_rekeyed)) != DG_OK) {
        snprintf(err, err_len, "cannot update name sort keys: %s", dg_store_errmsg(d->st));
        return rc;
    }
    /* Likewise duplicate keys and the search index: what is added below
     * uses these rules and this layout. */
    if ((rc = dg_rec_dupkeys_if_needed(d->st, &n_rekeyed)) != DG_OK) {
        snprintf(err, err_len, "cannot recompute duplicate keys: %s", dg_store_errmsg(d->st));
        return rc;
    }
    if ((rc = dg_rec_reindex_if_needed(d->st, &n_rekeyed)) != DG_OK) {
        snprintf(err, err_len, "cannot rebuild the search index: %s", dg_store_errmsg(d->st));
        return rc;
    }
    /* An earlier run that was cut off left indexes to make again. */
    if ((rc = dg_store_bulk_indexes_restore(d->st, &n_rekeyed)) != DG_OK) {
        snprintf(err, err_len, "cannot make the indexes an interrupted load left out: %s",
                 dg_store_errmsg(d->st));
        return rc;
    }
    if ((rc = dg_collator_new(&d->collator)) != DG_OK) {
        snprintf(err, err_len, "cannot load the ICU zh collation");
        return rc;
    }
    if ((rc = dg_audit_chain_load(d->st, &d->chain)) != DG_OK) {
        snprintf(err, err_len, "cannot read the audit chain head: %s", dg_store_errmsg(d->st));
        return rc;
    }
    d->tx = (dg_wtx){.store = d->st, .audit = &d->chain, .collator = d->collator};
    d->who = (dg_actor){.user_id = 0, .username = "", .peer = "local", .role = DG_ROLE_ADMIN};
    d->arena = dg_arena_new(ARENA_BUDGET);
    d->rc = (dg_rec_ctx){.tx = &d->tx,
                         .collator = d->collator,
                         .who = &d->who,
                         .arena = d->arena,
                         .now = d->base_ms};
    return DG_OK;
}

/* What dangand serve checks before it writes (check.h), before this writes. */
static int preflight(const char *data_dir, char *err, size_t err_len)
{
    dg_check_report r;
    const dg_check_item *bad;

    if (dg_check_run(data_dir, DG_CHECK_STARTUP, &r) == DG_OK)
        return dg_check_unmark_clean(data_dir, err, err_len);
    bad = dg_check_first_failure(&r);
    snprintf(err, err_len, "%s: %s; fix: %s", bad->name, bad->message, bad->fix);
    return DG_ECORRUPT;
}

int dg_demo_run(const dg_demo_opts *o, FILE *out, char *err, size_t err_len)
{
    char hashes[N_USERS][DG_PASSWORD_HASH_MAX];
    struct demo d = {.o = o};
    struct sigaction sa = {0}, old_int, old_term;
    int64_t n_done = 0;
    int lock_fd = -1, rc;

    dg_team_defaults(&d.team);
    /* This thread owns the only write connection: it is the writer here. */
    dg_thread_set_role(DG_THREAD_WRITER);
    if (o->n_customers < 1 || o->n_customers > DG_DEMO_MAX_CUSTOMERS || o->seed < 0) {
        snprintf(err, err_len, "--customers must be 1-%d and --seed not negative",
                 DG_DEMO_MAX_CUSTOMERS);
        return DG_EINVAL;
    }
    if ((rc = parse_base(&d, o->base_date, err, err_len)) != DG_OK ||
        (rc = dg_data_dir_lock(o->data_dir, "demo-data", true, &lock_fd, err, err_len)) != DG_OK)
        return rc;
    if ((rc = preflight(o->data_dir, err, err_len)) != DG_OK) {
        close(lock_fd);
        return rc;
    }
    /* From here a Ctrl-C ends the run cleanly: after the current transaction,
     * with what was loaded audited (even if that is nothing yet). */
    stop_signal = 0;
    sa.sa_handler = stop_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if ((rc = demo_open(&d, err, err_len)) != DG_OK ||
        (rc = prepare_users(&d, hashes, err, err_len)) != DG_OK)
        goto done;
    d.started_ms = dg_mono_ms();
    rc = load(&d, hashes, &n_done);
    if (rc == DG_OK && (rc = remake_indexes(&d)) != DG_OK) {
        snprintf(err, err_len,
                 "%lld customers were loaded but the indexes set aside for the load could "
                 "not be made again (%s): %s; the next demo-data run or server start makes them",
                 (long long)n_done, dg_strerror(rc), dg_store_errmsg(d.st));
        print_accounts(&d, out);
    } else if (rc == DG_OK) {
        int64_t elapsed_ms = dg_mono_ms() - d.started_ms;

        dg_store_close(d.st); /* checkpoints the WAL: the size printed is the database's */
        d.st = NULL;
        /* closed cleanly: the server's next start need not check it in full */
        if (dg_check_mark_clean(o->data_dir, err, err_len) != DG_OK)
            err[0] = '\0'; /* then it does: slower, not wrong */
        print_summary(&d, out, n_done, elapsed_ms);
        if (d.is_interrupted) {
            snprintf(err, err_len, "interrupted after %lld of %lld customers", (long long)n_done,
                     (long long)o->n_customers);
            rc = DG_ECLOSED;
        }
    } else {
        snprintf(err, err_len,
                 "loading failed after %lld committed customers (%s): %s; the committed "
                 "ones stay (audited if the database still allowed it)",
                 (long long)n_done, dg_strerror(rc), dg_store_errmsg(d.st));
        if (d.users_committed)
            print_accounts(&d, out);
        remake_indexes(&d); /* best effort: else the next run or start does it */
    }
done:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    demo_fini(&d);
    dg_wipe(hashes, sizeof hashes);
    close(lock_fd); /* releases the lock; after the store is closed */
    return rc;
}
