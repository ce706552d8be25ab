/* feed.c - the change feed's subscriptions and the events they get: see
 * feed.h. (Reading changes, the ring and the fan-out: feed_ring.c.)
 *
 * A subscription's life: Subscribe answers with its id at once; the first
 * fetch replays the changes after `since` (a fresh subscription starts at
 * the head and is caught up at once); when a fetch comes back short the
 * subscription sends CaughtUp and is live; from then on it is served from
 * the ring: each commit's changes go onto the ring's end (handed over by
 * the writer, or read), and a fan-out sends every live subscriber what it
 * lacks. One that fell behind the ring reads the table again. The tick
 * resumes subscriptions that stopped because their connection's output was
 * full, and sends Progress to idle ones.
 */
#include "feed_int.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "dg.h"
#include "entity.h"
#include "record_pb.h"
#include "log.h"
#include "perm.h"
#include "server.h"
#include "users.h"

/* ------------------------------------------------------------ subscriptions */

void feed_sub_free(dg_sub *s)
{
    dg_feed *f = s->feed;

    if (f->fanout_next == s)
        f->fanout_next = s->next;
    if (s->with_records)
        f->n_record_subs--;
    if (s->prev)
        s->prev->next = s->next;
    else
        f->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s->customer_ids);
    free(s);
}

/* Ends a subscription: at once, or when its fetch comes back. */
void feed_sub_end(dg_sub *s)
{
    s->conn = NULL;
    if (!s->is_fetching)
        feed_sub_free(s);
}

/* An event at position `seq`; the caller picks the body. */
static void send_event(dg_sub *s, Dangan__V1__Event *ev, int64_t seq)
{
    Dangan__V1__Cursor cursor = DANGAN__V1__CURSOR__INIT;

    cursor.epoch = dg_server_feed_epoch(s->feed->srv);
    cursor.seq = (uint64_t)seq;
    ev->subscription_id = s->id;
    ev->cursor = &cursor;
    dg_conn_send_event(s->conn, ev);
    s->last_sent_ms = dg_mono_ms();
}

void feed_send_simple(dg_sub *s, Dangan__V1__Event__BodyCase body, int64_t seq)
{
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;
    Dangan__V1__CaughtUp cu = DANGAN__V1__CAUGHT_UP__INIT;
    Dangan__V1__Progress pr = DANGAN__V1__PROGRESS__INIT;

    ev.body_case = body;
    if (body == DANGAN__V1__EVENT__BODY_CAUGHT_UP)
        ev.caught_up = &cu;
    else
        ev.progress = &pr;
    send_event(s, &ev, seq);
}

/* Ends `s` with ResyncRequired: the subscription cannot go on without a gap.
 * The event has no cursor, so no client can save it and resume into another
 * history; `stale_seq` (the position it could not go on from) is only for
 * messages. */
void feed_end_with_resync(dg_sub *s, int64_t stale_seq, const char *reason)
{
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;
    Dangan__V1__ResyncRequired rs = DANGAN__V1__RESYNC_REQUIRED__INIT;

    rs.reason = (char *)reason;
    rs.stale_seq = stale_seq > 0 ? (uint64_t)stale_seq : 0;
    ev.body_case = DANGAN__V1__EVENT__BODY_RESYNC_REQUIRED;
    ev.resync_required = &rs;
    ev.subscription_id = s->id;
    dg_conn_send_event(s->conn, &ev);
    feed_sub_end(s);
}

/* ------------------------------------------------------------ one change, one subscriber */

static bool passes_filter(const dg_sub *s, const dg_change *c, enum dg_kind kind, int64_t owner)
{
    bool found = s->n_customer_ids == 0;

    if (s->kinds && !(s->kinds & (1u << kind)))
        return false;
    for (size_t i = 0; i < s->n_customer_ids && !found; i++)
        found = s->customer_ids[i] == c->customer_id;
    if (!found)
        return false;
    return !s->is_mine || owner == dg_conn_session(s->conn)->user_id;
}

static Dangan__V1__UserRef *actor_ref(dg_arena *a, dg_feed *f, int64_t id)
{
    const dg_user_info *u = id ? dg_users_by_id(dg_server_users(f->srv), id) : NULL;
    Dangan__V1__UserRef *r;

    if (!u || !(r = dg_arena_alloc(a, sizeof *r)))
        return NULL;
    dangan__v1__user_ref__init(r);
    r->id = u->id;
    r->username = dg_arena_strdup(a, u->username);
    r->role = (Dangan__V1__Role)u->role;
    return r->username ? r : NULL;
}

/* Is item `name` of kind `kind` a sensitive field (perm.c masks it)? */
static bool is_sensitive(enum dg_kind kind, const char *name)
{
    const dg_entity *e = dg_entity_get(kind);
    int i = e ? dg_entity_field_index(e, name) : -1;

    return i >= 0 && (e->fields[i].flags & DG_FF_SENSITIVE);
}

/* Value `v` of item `name` as a subscriber sees it, in `a`: a user field's
 * id becomes the user's name, a sensitive one masked when `is_masked`. */
static char *shown_value(dg_arena *a, dg_feed *f, enum dg_kind kind, const char *name,
                         const char *v, bool is_masked)
{
    const dg_entity *e = dg_entity_get(kind);
    int i = e ? dg_entity_field_index(e, name) : -1;
    char buf[DG_CHANGE_VALUE_MAX * 2];

    if (i >= 0 && e->fields[i].type == DG_F_USER && v[0]) {
        const dg_user_info *u = dg_users_by_id(dg_server_users(f->srv), strtoll(v, NULL, 10));

        return dg_arena_strdup(a, u ? u->username : v);
    }
    if (is_masked) {
        dg_perm_mask_text(v, e->fields[i].type, buf, sizeof buf);
        return dg_arena_strdup(a, buf);
    }
    return dg_arena_strdup(a, v);
}

/* The ChangedValues of `c` with value bits `bits`, in `a`; false when out of
 * memory. */
static bool field_changes(dg_feed *f, const dg_change *c, enum dg_kind kind, unsigned bits,
                          dg_arena *a, Dangan__V1__ChangeEvent *ch)
{
    size_t n = 0;

    if (!c->new_values || !(ch->values = dg_arena_calloc(a, c->n_fields + 1, sizeof *ch->values)))
        return !c->new_values;
    for (size_t i = 0; i < c->n_fields; i++) {
        const char *old = c->old_values ? c->old_values[i] : NULL;
        Dangan__V1__ChangedValue *fc;
        bool is_masked;

        if (!c->new_values[i])
            continue;
        if (!(fc = dg_arena_alloc(a, sizeof *fc)))
            return false;
        dangan__v1__changed_value__init(fc);
        is_masked = (bits & VAL_MASKED) && is_sensitive(kind, c->fields[i]);
        fc->field = (char *)c->fields[i];
        fc->masked = is_masked && (c->new_values[i][0] || (old && old[0]));
        fc->old_withheld = old && (bits & VAL_NO_OLD);
        if (!(fc->new_value = shown_value(a, f, kind, c->fields[i], c->new_values[i], is_masked)))
            return false;
        fc->old_value = "";
        if (old && !fc->old_withheld &&
            !(fc->old_value = shown_value(a, f, kind, c->fields[i], old, is_masked)))
            return false;
        ch->values[n++] = fc;
    }
    ch->n_values = n;
    return true;
}

/* The ChangeEvent of `row` with `rec` (may be NULL) and value bits `bits`,
 * packed into `a`; NULL when out of memory. */
static uint8_t *pack_change(dg_feed *f, const dg_change_row *row, enum dg_kind kind,
                            const dg_record *rec, unsigned bits, dg_arena *a, size_t *len)
{
    const dg_change *c = &row->c;
    Dangan__V1__ChangeEvent ch = DANGAN__V1__CHANGE_EVENT__INIT;
    const dg_user_info *actor =
        c->actor_id ? dg_users_by_id(dg_server_users(f->srv), c->actor_id) : NULL;
    uint8_t *out;

    ch.kind = (Dangan__V1__EntityKind)kind;
    ch.id = c->entity_id;
    ch.customer_id = c->customer_id;
    ch.op = (char *)c->op;
    ch.version = c->version;
    ch.actor = actor_ref(a, f, c->actor_id);
    ch.at_ms = c->at;
    ch.committed_at_us = row->committed_us;
    ch.fields = (char **)c->fields; /* only read by the packer */
    ch.n_fields = c->n_fields;
    ch.actor_name = actor ? (char *)actor->display_name : "";
    ch.customer_name = (char *)(c->customer_name ? c->customer_name : "");
    ch.customer_code = (char *)(c->customer_code ? c->customer_code : "");
    if (!field_changes(f, c, kind, bits, a, &ch))
        return NULL;
    if (rec) {
        /* the record encoder needs only an arena (PACK_BUDGET, far above
         * a batch's records) and the users, as a request would give it */
        dg_req builder = {.srv = f->srv, .action = "feed.event", .arena = a};

        ch.record = dg_record_to_pb(&builder, rec);
        if (dg_req_is_over_budget(&builder))
            return NULL; /* past PACK_BUDGET: the event cannot be made */
    }
    *len = dangan__v1__change_event__get_packed_size(&ch);
    if ((out = dg_arena_alloc(a, *len ? *len : 1)))
        dangan__v1__change_event__pack(&ch, out);
    return out;
}

/* The EntityKind of a change row's entity: a record kind, or a document
 * (not a record: its events never carry one); DG_KIND_NONE for others. */
static enum dg_kind kind_of(const char *entity)
{
    enum dg_kind k = dg_kind_parse(entity);

    if (k == DG_KIND_NONE && strcmp(entity, "document") == 0)
        return FEED_KIND_DOCUMENT;
    return k;
}

/* The value bits that make a different event of `row` (struct row_meta). */
static unsigned value_bits(const dg_change *c, enum dg_kind kind)
{
    bool has_old = false, has_sensitive = false;
    bool is_same_view = c->vis_before.is_set && c->vis_after.is_set &&
                        c->vis_before.owner_id == c->vis_after.owner_id &&
                        c->vis_before.tier == c->vis_after.tier;

    for (size_t i = 0; c->new_values && i < c->n_fields; i++) {
        if (!c->new_values[i])
            continue;
        has_old |= c->old_values && c->old_values[i];
        has_sensitive |= is_sensitive(kind, c->fields[i]);
    }
    return (has_sensitive ? VAL_MASKED : 0) | (has_old && !is_same_view ? VAL_NO_OLD : 0);
}

/* Packs `m`'s change in record mode `mode` for every value bits it has. */
static bool pack_variants(dg_feed *f, const dg_change_row *row, struct row_meta *m, int mode,
                          dg_arena *a)
{
    const dg_record *rec = mode == REC_NONE ? NULL : m->rec;

    for (unsigned bits = 0; bits < VAL_VARIANTS; bits++) {
        if ((bits & m->val_bits) != bits)
            continue;
        m->packed[mode][bits] =
            pack_change(f, row, m->kind, rec, bits, a, &m->packed_len[mode][bits]);
        if (!m->packed[mode][bits])
            return false;
    }
    return true;
}

/* What every subscriber's check needs of `row`, and its packed changes, in `a`. */
struct row_meta feed_meta_of(dg_feed *f, const dg_change_row *row, dg_arena *a)
{
    struct row_meta m = {.kind = kind_of(row->c.entity)};

    m.has_before = row->c.vis_before.is_set;
    m.owner_before = row->c.vis_before.owner_id;
    m.tier_before = row->c.vis_before.tier;
    m.has_after = row->c.vis_after.is_set;
    m.owner_after = row->c.vis_after.owner_id;
    m.tier_after = row->c.vis_after.tier;
    m.reminder = row->c.reminder;
    if (m.kind != DG_KIND_NONE) {
        m.val_bits = value_bits(&row->c, m.kind);
        (void)pack_variants(f, row, &m, REC_NONE, a); /* a NULL is told at delivery */
    }
    return m;
}

/* Packs `m`'s change with its record as read, then masked as a viewer
 * would see it (in place: the unmasked bytes are packed first). */
static void pack_with_record(dg_feed *f, const dg_change_row *row, struct row_meta *m, dg_arena *a)
{
    dg_perm_who viewer = {0, DG_ROLE_VIEWER, dg_server_restricted_tiers(f->srv)};

    m->is_rec_packed = true;
    if (!pack_variants(f, row, m, REC_AS_IS, a))
        return;
    if (m->rec && dg_perm_mask_record(&viewer, dg_customer_owner(m->customer), m->rec, a) != DG_OK)
        return; /* no masked bytes: nothing goes to those who may not see it all */
    (void)pack_variants(f, row, m, REC_MASKED, a);
}

/* The packed change `s` gets, or NULL (out of memory: the event is skipped,
 * logged once per row). Values are masked as the record's customer's owner
 * at the change decides (and whenever the record sent with it is masked);
 * the values before are withheld from one who could not see it then. */
static const uint8_t *change_for(dg_sub *s, const dg_perm_who *who, const dg_change_row *row,
                                 struct row_meta *m, bool sees_before, dg_arena *pack, size_t *len)
{
    unsigned bits = (dg_perm_sees_sensitive(who, m->owner_after) ? 0 : VAL_MASKED) |
                    (sees_before ? 0 : VAL_NO_OLD);
    int mode = REC_NONE;

    if (s->with_records && m->rec && m->customer &&
        dg_perm_sees(who, dg_customer_owner(m->customer), dg_customer_tier(m->customer))) {
        if (!m->is_rec_packed) {
            pack_with_record(s->feed, row, m, pack);
            if (!m->packed[REC_AS_IS][0] || !m->packed[REC_MASKED][0])
                dg_log_error("feed", "seq=%lld msg=\"cannot pack a change with its record\"",
                             (long long)row->seq);
        }
        mode = REC_AS_IS;
        if (!dg_perm_sees_sensitive(who, dg_customer_owner(m->customer))) {
            mode = REC_MASKED;
            bits |= VAL_MASKED;
        }
    }
    /* no record, or one that has left this subscriber's view since */
    bits &= m->val_bits;
    *len = m->packed_len[mode][bits];
    return m->packed[mode][bits];
}

/* A reminder goes to its recipient's subscriptions alone (of its customer,
 * when they name customers), while the recipient may see the customer. */
static void deliver_reminder(dg_sub *s, const dg_perm_who *who, const dg_change_row *row,
                             const struct row_meta *m)
{
    const dg_reminder *r = m->reminder;
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;
    Dangan__V1__Reminder rm = DANGAN__V1__REMINDER__INIT;
    bool found = s->n_customer_ids == 0;

    for (size_t i = 0; i < s->n_customer_ids && !found; i++)
        found = s->customer_ids[i] == row->c.customer_id;
    if (r->recipient_id != who->user_id || !found || !m->has_after ||
        !dg_perm_sees(who, m->owner_after, m->tier_after))
        return;
    rm.kind = (Dangan__V1__ReminderKind)r->kind;
    rm.customer_id = row->c.customer_id;
    rm.customer_code = (char *)r->customer_code;
    rm.customer_name = (char *)r->customer_name;
    rm.record_kind = (Dangan__V1__EntityKind)r->record_kind;
    rm.record_id = r->record_id;
    rm.due_at_ms = r->due_at_ms;
    rm.due_on = (char *)r->due_on;
    rm.title = (char *)r->title;
    rm.remind_at_ms = r->remind_at_ms;
    rm.time_zone = (char *)r->time_zone;
    ev.body_case = DANGAN__V1__EVENT__BODY_REMINDER;
    ev.reminder = &rm;
    send_event(s, &ev, row->seq);
}

/* Sends what subscriber `s` may know of change `row`: the change, Hidden
 * when the record left its view, or nothing. False when it owes `s` an event
 * it cannot make (out of memory): the caller must not move the cursor past
 * it, and ends the subscription with ResyncRequired, never a silent gap. */
bool feed_deliver(dg_sub *s, const dg_change_row *row, struct row_meta *m, dg_arena *pack)
{
    const dg_change *c = &row->c;
    const dg_session *sess = dg_conn_session(s->conn);
    dg_perm_who who = {sess->user_id, sess->role, dg_server_restricted_tiers(s->feed->srv)};
    enum dg_kind kind = m->kind;
    int64_t owner_b = m->owner_before, owner_a = m->owner_after;
    bool sees_b = m->has_before && dg_perm_sees(&who, owner_b, m->tier_before);
    bool sees_a = m->has_after && dg_perm_sees(&who, owner_a, m->tier_after);
    Dangan__V1__Event ev = DANGAN__V1__EVENT__INIT;

    if (m->reminder) {
        deliver_reminder(s, &who, row, m);
        return true;
    }
    if (kind == DG_KIND_NONE)
        return true;
    if (sees_a && passes_filter(s, c, kind, owner_a)) {
        size_t len;
        const uint8_t *bytes = change_for(s, &who, row, m, sees_b, pack, &len);

        if (!bytes)
            return false;
        dg_conn_send_change_event(s->conn, s->id, dg_server_feed_epoch(s->feed->srv),
                                  (uint64_t)row->seq, bytes, len);
        s->last_sent_ms = dg_mono_ms();
    } else if (sees_b && !sees_a && passes_filter(s, c, kind, owner_b)) {
        Dangan__V1__Hidden h = DANGAN__V1__HIDDEN__INIT;

        h.kind = (Dangan__V1__EntityKind)kind;
        h.id = c->entity_id;
        h.customer_id = c->customer_id;
        ev.body_case = DANGAN__V1__EVENT__BODY_HIDDEN;
        ev.hidden = &h;
        send_event(s, &ev, row->seq);
    }
    return true;
}

/* After deliver failed: the subscriber reloads rather than miss a change. */
void feed_end_unservable(dg_sub *s)
{
    feed_end_with_resync(s, s->cursor, "event_unavailable");
}

/* Is the subscriber's session still good? A revoked or expired one ends its
 * subscriptions without a word (the next request says why). */
bool feed_session_ok(dg_sub *s)
{
    dg_session *sess = dg_conn_session(s->conn);
    int64_t idle = (int64_t)dg_server_config(s->feed->srv)->session_idle_s * 1000;

    return sess && !dg_session_invalid_reason(sess, dg_now_ms(), idle);
}

/* ------------------------------------------------------------ the feed */

static void tick_cb(uv_timer_t *t)
{
    dg_feed *f = t->data;
    int64_t now = dg_mono_ms();

#ifdef __GLIBC__
    /* glibc keeps freed memory for reuse. The ring's churn (batches of
     * records of tens of KB, in chunks of every size) would keep tens of MB
     * of it resident that no batch will reuse: give it back. */
    if (f->ring_freed >= TRIM_BYTES) {
        int64_t t0 = dg_mono_us();

        malloc_trim(0);
        dg_log_debug("feed", "msg=\"heap trimmed\" freed_bytes=%zu us=%lld", f->ring_freed,
                     (long long)(dg_mono_us() - t0));
        f->ring_freed = 0;
    }
#endif

    if (f->ring_hi < f->head)
        feed_ring_fetch(f);
    for (dg_sub *s = f->subs, *next; s; s = next) {
        next = s->next;
        if (!s->conn || s->is_fetching)
            continue;
        if (!feed_session_ok(s)) {
            feed_sub_end(s);
        } else if (!s->is_live) { /* a replay that had to wait */
            if (s->is_dirty)
                feed_fetch_start(s);
        } else if (s->cursor < f->ring_hi) { /* behind: the ring, or the table */
            feed_serve_from_ring(s);
        } else if (now - s->last_sent_ms >= PROGRESS_MS) {
            feed_send_simple(s, DANGAN__V1__EVENT__BODY_PROGRESS, s->cursor);
        }
    }
}

dg_feed *dg_feed_new(dg_server *srv, int64_t head)
{
    dg_feed *f = dg_xcalloc(1, sizeof *f);

    DG_ASSERT_LOOP_THREAD();
    f->srv = srv;
    f->head = f->ring_lo = f->ring_hi = head;
    uv_timer_init(dg_server_loop(srv), &f->tick);
    f->tick.data = f;
    uv_timer_start(&f->tick, tick_cb, TICK_MS, TICK_MS);
    uv_timer_init(dg_server_loop(srv), &f->pace);
    f->pace.data = f;
    uv_idle_init(dg_server_loop(srv), &f->fanout);
    f->fanout.data = f;
    f->n_open_handles = 3;
    return f;
}

int64_t dg_feed_head(const dg_feed *f)
{
    int64_t shared = dg_server_feed_head(f->srv);

    DG_ASSERT_LOOP_THREAD();
    return shared > f->head ? shared : f->head;
}

void dg_feed_stop(dg_feed *f)
{
    DG_ASSERT_LOOP_THREAD();
    if (!f)
        return;
    f->is_stopping = true;
    uv_timer_stop(&f->tick);
    uv_timer_stop(&f->pace);
    uv_idle_stop(&f->fanout);
    f->fanout_next = NULL;
}

static void handle_closed(uv_handle_t *h)
{
    dg_feed *f = h->data;

    if (--f->n_open_handles == 0)
        free(f);
}

void dg_feed_free(dg_feed *f)
{
    DG_ASSERT_LOOP_THREAD();
    if (!f)
        return;
    while (f->subs) /* every fetch has completed by now */
        feed_sub_free(f->subs);
    while (f->ring)
        feed_ring_drop_oldest(f);
    uv_close((uv_handle_t *)&f->tick, handle_closed);
    uv_close((uv_handle_t *)&f->pace, handle_closed);
    uv_close((uv_handle_t *)&f->fanout, handle_closed); /* the last frees f */
}

void dg_feed_committed(dg_feed *f, dg_committed *c)
{
    DG_ASSERT_LOOP_THREAD();
    if (c->head > f->head)
        f->head = c->head;
    /* The rows follow on the ring's end, and no read would bring records
     * some subscriber wants: they go straight in. Otherwise the ring reads
     * them, with the rest of what it lacks. */
    if (c->rows && c->after == f->ring_hi && !f->is_ring_fetching && !f->is_stopping &&
        f->n_record_subs == 0) {
        feed_ring_append_shared(f, c);
        feed_fanout_start(f);
    } else if (f->ring_hi < f->head) {
        feed_ring_fetch(f);
    }
    dg_committed_free(c);
}

void dg_feed_conn_gone(dg_feed *f, dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    for (dg_sub *s = f->subs, *next; s; s = next) {
        next = s->next;
        if (s->conn == c)
            feed_sub_end(s);
    }
}

void dg_feed_conn_drained(dg_feed *f, dg_conn *c)
{
    DG_ASSERT_LOOP_THREAD();
    if (f->is_stopping)
        return;
    for (dg_sub *s = f->subs, *next; s; s = next) {
        next = s->next; /* serving may end s, never another */
        if (s->conn != c || s->is_fetching || !s->is_dirty)
            continue;
        if (s->is_live)
            feed_serve_from_ring(s);
        else
            feed_fetch_start(s);
    }
}

/* ------------------------------------------------------------ requests */

size_t dg_feed_subs_of(const dg_feed *f, const dg_conn *c)
{
    size_t n = 0;

    DG_ASSERT_LOOP_THREAD();
    for (const dg_sub *s = f->subs; s; s = s->next)
        n += s->conn == c;
    return n;
}

dg_sub *dg_feed_subscribe(dg_feed *f, dg_conn *c, const dg_feed_filter *flt)
{
    dg_sub *s = dg_xcalloc(1, sizeof *s);

    DG_ASSERT_LOOP_THREAD();
    s->feed = f;
    s->conn = c;
    s->id = ++f->next_id;
    s->last_sent_ms = dg_mono_ms();
    s->with_records = flt->with_records;
    f->n_record_subs += s->with_records;
    s->is_mine = flt->is_mine;
    s->kinds = flt->kinds;
    if (flt->n_customer_ids) {
        s->customer_ids = dg_xcalloc(flt->n_customer_ids, sizeof *s->customer_ids);
        memcpy(s->customer_ids, flt->customer_ids, flt->n_customer_ids * sizeof *s->customer_ids);
        s->n_customer_ids = flt->n_customer_ids;
    }
    s->next = f->subs;
    if (f->subs)
        f->subs->prev = s;
    f->subs = s;
    return s;
}

uint64_t dg_feed_sub_id(const dg_sub *s)
{
    DG_ASSERT_LOOP_THREAD();
    return s->id;
}

void dg_feed_start(dg_sub *s, const dg_feed_since *since)
{
    dg_feed *f = s->feed;

    DG_ASSERT_LOOP_THREAD();
    if (since && since->epoch != dg_server_feed_epoch(f->srv)) {
        feed_end_with_resync(s, since->seq, "epoch_changed");
    } else if (since && (since->seq < 0 || since->seq > dg_feed_head(f))) {
        feed_end_with_resync(s, since->seq, "cursor_ahead");
    } else if (since) {
        s->cursor = since->seq;
        feed_fetch_start(s);
    } else { /* from now: nothing to replay */
        s->cursor = dg_feed_head(f);
        s->is_live = true;
        feed_send_simple(s, DANGAN__V1__EVENT__BODY_CAUGHT_UP, s->cursor);
    }
}

int dg_feed_unsubscribe(dg_feed *f, const dg_conn *c, uint64_t id)
{
    DG_ASSERT_LOOP_THREAD();
    for (dg_sub *s = f->subs; s; s = s->next) {
        if (s->id == id && s->conn == c) {
            feed_sub_end(s);
            return DG_OK;
        }
    }
    return DG_ENOTFOUND;
}
