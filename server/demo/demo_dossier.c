/* demo_dossier.c - the dossier of a demo customer: contacts, interactions,
 * deals, tasks and feedback, drawn from the customer's own stream after its
 * record (see demo.c). Runs on: the main thread of `dangand demo-data`.
 */
#include "demo_int.h"

#include <mbedtls/sha256.h>

#include "demo_words_dossier.h"
#include "store_docs.h"

/* ------------------------------------------------------------ the dossier */

static void stamp(dg_record *r, int64_t at, int64_t user_id)
{
    r->created_at = r->updated_at = at;
    r->created_by = r->updated_by = user_id;
}

static const char *hobby_list(struct demo *d, rng *r)
{
    size_t first = below(r, DG_ARRAY_LEN(hobbies)), n = (size_t)range(r, 1, 3);

    if (n == 1)
        return hobbies[first];
    if (n == 2)
        return fmt(d, "%s、%s", hobbies[first], hobbies[(first + 5) % DG_ARRAY_LEN(hobbies)]);
    return fmt(d, "%s、%s、%s", hobbies[first], hobbies[(first + 5) % DG_ARRAY_LEN(hobbies)],
               hobbies[(first + 11) % DG_ARRAY_LEN(hobbies)]);
}

/* A desk phone, sometimes with an extension ("0755-86123456-8021"). */
static const char *office_phone(struct demo *d, rng *g, const char *area)
{
    const char *line = dg_demo_landline(d, g, area);
    unsigned ext;

    if (!chance(g, 40))
        return line;
    ext = (unsigned)range(g, 8000, 8999);
    return fmt(d, "%s-%u", line, ext);
}

static const char *education(struct demo *d, rng *g)
{
    const char *school, *degree;

    if (!chance(g, 70))
        return chance(g, 50) ? "本科" : "大专";
    school = PICK(g, schools);
    degree = PICK(g, degrees);
    return fmt(d, "%s %s", school, degree);
}

/* Contact k of a company: main contact, key person, legal person, other. */
static void company_contact(struct demo *d, struct cust *c, size_t k, dg_record *r)
{
    static const int roles[] = {ROLE_MAIN, ROLE_KEY, ROLE_LEGAL, ROLE_OTHER};
    rng *g = &c->r;
    struct person p;
    const char *title = k == 0   ? PICK(g, titles_main)
                        : k == 1 ? PICK(g, titles_key)
                        : k == 2 ? PICK(g, titles_legal)
                                 : PICK(g, titles_other);

    (c->is_english && chance(g, 50) ? dg_demo_english_person : dg_demo_chinese_person)(d, g, &p);
    set_i(r, "role", roles[k]);
    set_s(r, "name", p.name);
    set_s(r, "title", title);
    if (chance(g, 95))
        set_s(r, "mobile", dg_demo_mobile(d, g));
    if (chance(g, 60))
        set_s(r, "office_phone", office_phone(d, g, c->reg->area_code));
    if (chance(g, 15))
        set_s(r, "personal_phone", dg_demo_mobile(d, g));
    if (chance(g, 80))
        set_s(r, "email", dg_demo_work_email(d, g, &p, c->domain));
    if (chance(g, 50))
        set_s(r, "im",
              chance(g, 70) ? fmt(d, "微信 %s%s%u", p.sur_py, p.given_py, (unsigned)range(g, 1, 99))
                            : fmt(d, "QQ %u", (unsigned)range(g, 10000000, 999999999)));
    if (chance(g, 60))
        set_s(r, "birthday", random_date(d, g, d->base_year - 62, d->base_year - 24));
    if (chance(g, 50))
        set_s(r, "education", education(d, g));
    if (chance(g, 50))
        set_s(r, "hobbies", hobby_list(d, g));
    if (chance(g, 35))
        set_s(r, "family", PICK(g, families));
    if (chance(g, 20))
        set_s(r, "notes", PICK(g, contact_notes));
    c->contact_names[k] = p.name;
}

static int gen_contacts(struct demo *d, struct cust *c)
{
    rng *g = &c->r;
    size_t n = c->is_company ? WEIGHTED(g, 30, 35, 25, 10) + 1 : (chance(g, 25) ? 2 : 1);
    int rc;

    for (size_t k = 0; k < n; k++) {
        dg_record *r = new_record(d, DG_KIND_CONTACT, c->id);
        int64_t ago = c->created_ago - range(g, 0, c->created_ago < 60 ? c->created_ago - 1 : 60);

        if (!r)
            return DG_ENOMEM;
        if (c->is_company) {
            company_contact(d, c, k, r);
        } else if (k == 0) { /* a person is their own main contact */
            set_i(r, "role", ROLE_MAIN);
            set_s(r, "name", c->contact_names[0]);
            set_s(r, "mobile", c->phone);
            if (c->email)
                set_s(r, "email", c->email);
            if (chance(g, 50))
                set_s(r, "hobbies", hobby_list(d, g));
        } else {
            struct person p;

            dg_demo_chinese_person(d, g, &p);
            set_i(r, "role", ROLE_OTHER);
            set_s(r, "name", p.name);
            set_s(r, "title", chance(g, 50) ? "助理" : "家属");
            set_s(r, "mobile", dg_demo_mobile(d, g));
            c->contact_names[k] = p.name;
        }
        stamp(r, office_time(d, g, ago), d->owners[c->owner].id);
        if ((rc = dg_demo_put(d, r, r->created_at)) != DG_OK)
            return rc;
        c->contact_ids[k] = r->id;
    }
    c->n_contacts = n;
    return DG_OK;
}

/* Sorts day offsets descending (oldest first): n <= 20, insertion sort. */
static void sort_days(int64_t *ago, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ago[j] > ago[j - 1]; j--) {
            int64_t t = ago[j];

            ago[j] = ago[j - 1];
            ago[j - 1] = t;
        }
}

/* Day offsets (days before the base day) of n events in the customer's
 * active window, at least `min_ago` days back, oldest first. */
static void event_days(struct cust *c, int64_t *ago, size_t n, int64_t min_ago)
{
    int64_t window = c->created_ago < 730 ? c->created_ago : 730;

    if (window < min_ago)
        window = min_ago;
    for (size_t i = 0; i < n; i++)
        ago[i] = range(&c->r, min_ago, window);
    sort_days(ago, n);
}

/* A longer note for some interactions, fitting the channel. */
static const char *interaction_content(struct demo *d, rng *g, int ch, const char *who)
{
    const struct product *p = &PICK(g, products);
    unsigned x, y;

    switch (below(g, 6)) {
    case 0:
        if (ch == CH_PHONE) {
            x = (unsigned)range(g, 5, 40);
            y = (unsigned)range(g, 1, 5);
            return fmt(d, "与%s通话约%u分钟，客户询问%s的报价和交期，已承诺%u天内发送正式报价。",
                       who, x, p->name, y);
        }
        if (ch == CH_VISIT || ch == CH_MEETING)
            return fmt(d, "与%s面谈，介绍了我司新产品线，客户对%s有兴趣，要求安排技术交流。", who,
                       p->name);
        return fmt(d, "%s确认了%s的规格和数量，等待对方采购部下单。", who, p->name);
    case 1:
        return fmt(d, "客户反馈上一批%s质量稳定，计划下季度增加采购量约%u%%。", p->name,
                   (unsigned)range(g, 5, 50));
    case 2:
        x = (unsigned)range(g, 5, 500);
        y = (unsigned)range(g, 3, 20);
        return fmt(d, "客户预算约%u万元，竞争对手报价低约%u%%，需申请特价。", x, y);
    case 3:
        return fmt(d, "确认合同条款：付款方式为月结%u天，质保一年。",
                   (unsigned)(range(g, 1, 4) * 30));
    default:
        return "";
    }
}

/* The days (before the base day) of n interactions and their channels,
 * oldest first. A dormant customer was last heard of past the dormancy
 * threshold, a lost one past the lost one; an active customer's last call
 * and visit fall within twice its tier's cadence, so that on the base day
 * about half are due or overdue for one (team.h). */
static void interaction_days(struct demo *d, struct cust *c, int64_t *ago, int *ch, size_t n)
{
    rng *g = &c->r;
    int64_t min_ago = c->status == ST_DORMANT ? d->team.dormant_after_days
                      : c->status == ST_LOST  ? d->team.lost_after_days
                                              : 1;
    int64_t last_call = range(g, 1, 2 * d->team.call_every_days[c->tier]);
    int64_t last_visit = range(g, 1, 2 * d->team.visit_every_days[c->tier]);

    if (last_call > c->created_ago)
        last_call = c->created_ago;
    if (last_visit > c->created_ago)
        last_visit = c->created_ago;
    event_days(c, ago, n, min_ago);
    for (size_t i = 0; i < n; i++)
        ch[i] = (int)WEIGHTED(g, 40, 20, 10, 15, 15) + CH_PHONE;
    if (c->status != ST_ACTIVE || n == 0)
        return;
    /* the newest call and visit are the ones the cadence counts from */
    for (size_t i = 0; i < n; i++)
        if ((ch[i] == CH_PHONE && ago[i] < last_call) || (ch[i] == CH_VISIT && ago[i] < last_visit))
            ch[i] = ch[i] == CH_PHONE ? CH_EMAIL : CH_MEETING;
    ago[n - 1] = last_call;
    ch[n - 1] = CH_PHONE;
    if (n >= 2 && c->is_company) {
        ago[n - 2] = last_visit;
        ch[n - 2] = CH_VISIT;
    }
    for (size_t i = 1; i < n; i++) /* back in order, channels with their days */
        for (size_t j = i; j > 0 && ago[j] > ago[j - 1]; j--) {
            int64_t t = ago[j];
            int k = ch[j];

            ago[j] = ago[j - 1];
            ago[j - 1] = t;
            ch[j] = ch[j - 1];
            ch[j - 1] = k;
        }
}

static int gen_interactions(struct demo *d, struct cust *c)
{
    static const int max_by_tier[] = {0, 20, 12, 6}, min_by_tier[] = {0, 4, 1, 0};
    int64_t ago[MAX_INTERACTIONS];
    int chs[MAX_INTERACTIONS];
    rng *g = &c->r;
    int64_t lo = min_by_tier[c->tier], hi = max_by_tier[c->tier], n;
    int rc;

    if (c->status == ST_POTENTIAL || c->status == ST_LOST || !c->is_company)
        hi /= 2;
    n = range(g, lo < hi ? lo : hi, hi);
    if (c->status == ST_ACTIVE && n < 2)
        n = 2; /* active: a call and a visit at least */
    interaction_days(d, c, ago, chs, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_INTERACTION, c->id);
        int ch = chs[i];
        size_t k = chance(g, 60) ? 0 : below(g, c->n_contacts);
        const char *summary = ch == CH_PHONE     ? PICK(g, sum_phone)
                              : ch == CH_EMAIL   ? PICK(g, sum_email)
                              : ch == CH_MEETING ? PICK(g, sum_meeting)
                              : ch == CH_VISIT   ? PICK(g, sum_visit)
                                                 : PICK(g, sum_im);
        int64_t at = office_time(d, g, ago[i]);

        if (!r)
            return DG_ENOMEM;
        set_i(r, "channel", ch);
        set_i(r, "at_ms", at);
        set_i(r, "contact_id", c->contact_ids[k]);
        set_s(r, "summary", summary);
        set_s(r, "content", interaction_content(d, g, ch, c->contact_names[k]));
        if (ch == CH_MEETING || ch == CH_VISIT) {
            set_s(r, "place", ch == CH_VISIT ? "客户公司" : PICK(g, places));
            set_s(r, "participants",
                  fmt(d, "%s、%s", c->contact_names[k], dg_demo_users[c->owner].display));
        }
        /* the last one often sets the next date: some passed, some to come */
        if (chance(g, i == n - 1 ? 70 : 25))
            set_s(r, "next_follow_up", date_of(d, at + range(g, 3, 30) * DAY_MS));
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = dg_demo_put(d, r, at)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

/* One deal of customer c in stage `stage` at `at` (for a closed deal, when
 * it closed), with its amount, contract number and words. */
static int put_deal(struct demo *d, struct cust *c, const char *stage, int64_t at)
{
    static const char *const breach_notes[] = {"客户逾期付款45天，已协商分期支付",
                                               "我方交货延迟一周，已承担运费作为补偿",
                                               "客户单方面变更规格，已签补充协议"};
    static const char *const deal_notes[] = {"已开票", "货款已结清", "含一年免费维保",
                                             "分两批交货"};
    static const char *const lost_reasons[] = {"价格高于竞争对手",   "客户预算取消",
                                               "选择了竞争对手",     "交期无法满足",
                                               "技术方案不符合要求", "客户内部决策延期"};
    rng *g = &c->r;
    dg_record *r = new_record(d, DG_KIND_DEAL, c->id);
    const dg_stage *st = dg_team_stage(&d->team, stage);
    int64_t exp = c->tier == TIER_A   ? range(g, 3, 5)
                  : c->tier == TIER_B ? range(g, 3, 4)
                                      : range(g, 2, 3);
    int64_t yuan = range(g, 10, 99);
    const char *date = date_of(d, at);
    const struct product *p = &PICK(g, products);

    if (!r)
        return DG_ENOMEM;
    while (exp-- > 0)
        yuan *= 10;
    set_s(r, "number", fmt(d, "HT%.4s%.2s-%05u", date, date + 5, (unsigned)below(g, 100000)));
    set_i(r, "at_ms", at);
    set_s(r, "place", chance(g, 70) ? c->reg->city : "线上签约");
    set_cny(r, "amount", yuan);
    set_s(r, "content",
          fmt(d, "%s：%s %u%s", p->contract, p->name, (unsigned)range(g, 1, 200), p->unit));
    set_s(r, "person_in_charge", dg_demo_users[c->owner].display);
    set_s(r, "stage", stage);
    set_i(r, "probability", st ? st->probability : 0);
    if (st && st->kind == DG_STAGE_OPEN) /* to close around the base day */
        set_s(r, "expected_close_on", date_of(d, d->base_ms + range(g, -10, 90) * DAY_MS));
    if (st && st->kind == DG_STAGE_LOST)
        set_s(r, "lost_reason", PICK(g, lost_reasons));
    if (st && st->kind == DG_STAGE_WON && chance(g, 3)) {
        set_i(r, "breach", 1);
        set_s(r, "notes", PICK(g, breach_notes));
    } else if (st && st->kind == DG_STAGE_WON && chance(g, 25)) {
        set_s(r, "notes", PICK(g, deal_notes));
    }
    stamp(r, at, d->owners[c->owner].id);
    return dg_demo_put(d, r, at);
}

/* Won deals over the last 18 months (at_ms: when they closed; older for a
 * customer gone quiet), so trailing-12-month revenue ranks the tiers; lost
 * ones with a reason; open ones in every stage of the pipeline, expected to
 * close around the base day. */
static int gen_deals(struct demo *d, struct cust *c)
{
    static const char *const open_stages[] = {"lead", "qualified", "proposal", "negotiation"};
    int64_t ago[8];
    rng *g = &c->r;
    int64_t n_won = c->status == ST_POTENTIAL ? 0
                    : c->status == ST_ACTIVE  ? range(g, c->tier == TIER_C ? 0 : 1, 7 - c->tier)
                    : c->status == ST_DORMANT ? range(g, 0, 3)
                                              : range(g, 0, 2);
    int64_t n_lost = c->status == ST_LOST ? range(g, 1, 2) : chance(g, 8) ? 1 : 0;
    int64_t n_open = c->status == ST_ACTIVE      ? (int64_t)WEIGHTED(g, 45, 35, 20)
                     : c->status == ST_POTENTIAL ? (chance(g, 40) ? 1 : 0)
                                                 : 0;
    int64_t min_ago = c->status == ST_ACTIVE ? 1 : c->status == ST_DORMANT ? 90 : 180;
    int rc;

    if (!c->is_company && n_won > 2)
        n_won = 2;
    for (int64_t i = 0; i < n_won; i++)
        ago[i] = range(g, min_ago, min_ago > 548 ? min_ago : 548);
    sort_days(ago, (size_t)n_won);
    for (int64_t i = 0; i < n_won; i++)
        if ((rc = put_deal(d, c, "won", office_time(d, g, ago[i]))) != DG_OK)
            return rc;
    for (int64_t i = 0; i < n_lost; i++) {
        int64_t when = range(g, min_ago, 365 + min_ago);

        if ((rc = put_deal(d, c, "lost", office_time(d, g, when))) != DG_OK)
            return rc;
    }
    for (int64_t i = 0; i < n_open; i++) {
        size_t k = c->status == ST_POTENTIAL ? below(g, 2) : WEIGHTED(g, 30, 30, 25, 15);
        int64_t opened = range(g, 1, 60);

        if ((rc = put_deal(d, c, open_stages[k], office_time(d, g, opened))) != DG_OK)
            return rc;
    }
    return DG_OK;
}

/* Follow-ups due around the base day: some done, some open, some overdue. */
static int gen_tasks(struct demo *d, struct cust *c)
{
    rng *g = &c->r;
    int64_t n = c->status == ST_LOST ? range(g, 0, 1) : range(g, c->tier == TIER_A ? 1 : 0, 3);
    int rc;

    if (c->is_pool)
        return DG_OK; /* nobody's: nobody's tasks */
    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_TASK, c->id);
        int64_t due_day = range(g, -45, 30); /* days after the base day */
        int64_t due = d->base_ms + due_day * DAY_MS + 10 * HOUR_MS;
        int64_t created_ago = (due_day < 0 ? -due_day : 0) + range(g, 1, 14);
        int64_t created = office_time(d, g, created_ago), done_at = 0;
        size_t k = below(g, c->n_contacts);

        if (!r)
            return DG_ENOMEM;
        if (chance(g, due_day < 0 ? 75 : 10))
            done_at = office_time(d, g, range(g, 1, created_ago));
        set_s(r, "title", fmt(d, "%s：%s", PICK(g, task_titles), c->contact_names[k]));
        if (chance(g, 30))
            set_s(r, "notes",
                  c->tier == TIER_A ? dg_demo_tier_cadence[TIER_A]
                                    : PICK(g, dg_demo_customer_notes));
        set_i(r, "due_at_ms", due);
        set_i(r, "assignee", d->owners[c->owner].id);
        set_i(r, "done", done_at != 0);
        stamp(r, created, d->owners[c->owner].id);
        if (done_at)
            r->updated_at = done_at > created ? done_at : created;
        if ((rc = dg_demo_put(d, r, done_at ? r->updated_at : created)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static int gen_feedback(struct demo *d, struct cust *c)
{
    int64_t ago[2];
    rng *g = &c->r;
    size_t n = c->status == ST_POTENTIAL ? 0 : WEIGHTED(g, 70, 22, 8);
    int rc;

    event_days(c, ago, n, 1);
    for (size_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_FEEDBACK, c->id);
        int kind = (int)below(g, 4) + FB_COMPLAINT;
        int64_t at = office_time(d, g, ago[i]);
        bool is_issue = kind == FB_COMPLAINT || kind == FB_SUGGESTION;
        int status = !is_issue     ? (chance(g, 80) ? FBS_CLOSED : FBS_OPEN)
                     : ago[i] > 60 ? (int)WEIGHTED(g, 5, 5, 45, 45) + FBS_OPEN
                                   : (int)WEIGHTED(g, 40, 30, 20, 10) + FBS_OPEN;
        static const int64_t lo[] = {0, 1, 3, 4, 2}, hi[] = {0, 3, 4, 5, 5};
        const struct said *said = kind == FB_COMPLAINT    ? &PICK(g, fb_complaint)
                                  : kind == FB_SUGGESTION ? &PICK(g, fb_suggestion)
                                  : kind == FB_PRAISE     ? &PICK(g, fb_praise)
                                                          : &PICK(g, fb_survey);

        if (!r)
            return DG_ENOMEM;
        set_i(r, "kind", kind);
        if (chance(g, 90))
            set_i(r, "satisfaction", range(g, lo[kind], hi[kind]));
        set_s(r, "text", said->text);
        set_i(r, "status", status);
        if (status >= FBS_RESOLVED && is_issue)
            set_s(r, "resolution", said->resolution);
        set_i(r, "at_ms", at);
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = dg_demo_put(d, r, at)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

/* The content every demo contract shows: one small file stored once (as
 * an upload that made the first contract: *upload_id, else 0), found again
 * by its hash by later runs. */
static int contract_content(struct demo *d, struct cust *c, const dg_doc *first, int64_t *id,
                            int64_t *upload_id)
{
    static const char text[] =
        "购销合同（演示数据）\n本文件为 dangand demo-data 生成的示例合同。\n";
    dg_doc_upload u = {.user_id = d->owners[c->owner].id,
                       .customer_id = c->id,
                       .kind = first->kind,
                       .title = first->title,
                       .doc_date = first->doc_date,
                       .expires_on = first->expires_on,
                       .notes = "",
                       .file_name = first->file_name,
                       .size = sizeof text - 1,
                       .chunk_size = 1u << 16,
                       .created_at = first->created_at};
    int rc;

    (void)mbedtls_sha256_ret((const unsigned char *)text, sizeof text - 1, u.sha256, 0);
    if ((rc = dg_store_doc_content_by_hash(d->st, u.sha256, id)) != DG_ENOTFOUND)
        return rc; /* DG_OK: stored by an earlier run */
    if ((rc = dg_store_doc_upload_new(d->st, &u)) != DG_OK ||
        (rc = dg_store_doc_upload_append(d->st, &u, 0, (const uint8_t *)text, sizeof text - 1)) !=
            DG_OK ||
        (rc = dg_store_doc_content_seal(d->st, u.content_id, u.sha256)) != DG_OK)
        return rc;
    *id = u.content_id;
    *upload_id = u.id;
    return DG_OK;
}

/* A signed contract for some customers that buy: it expires around the
 * base day (a month ago to four months ahead), for the renewal reminders. */
static int gen_contract(struct demo *d, struct cust *c)
{
    rng *g = &c->r;
    int64_t expires, signed_at;
    dg_doc doc = {0};
    int64_t upload_id = 0;
    int rc;

    if (c->status != ST_ACTIVE || !c->is_company || !chance(g, 30))
        return DG_OK;
    expires = d->base_ms + range(g, -30, 120) * DAY_MS;
    signed_at = expires - 365 * DAY_MS;
    doc = (dg_doc){.customer_id = c->id,
                   .kind = "contract",
                   .doc_date = date_of(d, signed_at),

                   .expires_on = date_of(d, expires),
                   .notes = "",
                   .file_name = "contract.txt",
                   .version = 1,
                   .created_at = office_time(d, g, (d->base_ms - signed_at) / DAY_MS),
                   .created_by = d->owners[c->owner].id};
    doc.title = fmt(d, "%s（%.4s）", PICK(g, products).contract, doc.doc_date);
    if (d->is_oom)
        return DG_ENOMEM;
    if (!d->contract_content &&
        (rc = contract_content(d, c, &doc, &d->contract_content, &upload_id)) != DG_OK)
        return rc;
    doc.content_id = d->contract_content;
    if ((rc = dg_store_doc_insert(d->st, &doc)) != DG_OK)
        return rc;
    /* the upload that stored the content made this contract: finished */
    if (upload_id &&
        (rc = dg_store_doc_upload_done(d->st, upload_id, doc.content_id, doc.id)) != DG_OK)
        return rc;
    d->n_docs++;
    d->in_tx++;
    return DG_OK;
}

/* Customer i and its whole dossier, in the open transaction. */
int dg_demo_gen_dossier(struct demo *d, int64_t i)
{
    struct cust c;
    int rc;

    if ((rc = dg_demo_gen_customer(d, i, &c)) != DG_OK || (rc = gen_contacts(d, &c)) != DG_OK ||
        (rc = gen_interactions(d, &c)) != DG_OK || (rc = gen_deals(d, &c)) != DG_OK ||
        (rc = gen_tasks(d, &c)) != DG_OK || (rc = gen_feedback(d, &c)) != DG_OK ||
        (rc = gen_contract(d, &c)) != DG_OK)
        return rc;
    return DG_OK;
}
