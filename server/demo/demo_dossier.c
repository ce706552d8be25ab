/* demo_dossier.c - the dossier of a demo customer: contacts, interactions,
 * deals, tasks and feedback, drawn from the customer's own stream after its
 * record (see demo.c). Runs on: the main thread of `dangand demo-data`.
 */
#include "demo_int.h"

#include "demo_words_dossier.h"

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

/* Day offsets (days before the base day) of n events in the customer's
 * active window, oldest first. */
static void event_days(struct cust *c, int64_t *ago, size_t n)
{
    int64_t window = c->created_ago < 730 ? c->created_ago : 730;

    for (size_t i = 0; i < n; i++)
        ago[i] = range(&c->r, 1, window);
    for (size_t i = 1; i < n; i++) /* insertion sort, descending: n <= 20 */
        for (size_t j = i; j > 0 && ago[j] > ago[j - 1]; j--) {
            int64_t t = ago[j];

            ago[j] = ago[j - 1];
            ago[j - 1] = t;
        }
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

static int gen_interactions(struct demo *d, struct cust *c)
{
    static const int max_by_tier[] = {0, 20, 12, 6}, min_by_tier[] = {0, 4, 1, 0};
    int64_t ago[MAX_INTERACTIONS];
    rng *g = &c->r;
    int64_t lo = min_by_tier[c->tier], hi = max_by_tier[c->tier], n;
    int rc;

    if (c->status == ST_POTENTIAL || c->status == ST_LOST || !c->is_company)
        hi /= 2;
    n = range(g, lo < hi ? lo : hi, hi);
    event_days(c, ago, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_INTERACTION, c->id);
        int ch = (int)WEIGHTED(g, 40, 20, 10, 15, 15) + CH_PHONE;
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
        if (chance(g, i == n - 1 ? 70 : 25))
            set_s(r, "next_follow_up", date_of(d, at + range(g, 3, 30) * DAY_MS));
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = dg_demo_put(d, r, at)) != DG_OK)
            return rc;
    }
    return DG_OK;
}

static int gen_deals(struct demo *d, struct cust *c)
{
    static const char *const breach_notes[] = {"客户逾期付款45天，已协商分期支付",
                                               "我方交货延迟一周，已承担运费作为补偿",
                                               "客户单方面变更规格，已签补充协议"};
    static const char *const deal_notes[] = {"已开票", "货款已结清", "含一年免费维保",
                                             "分两批交货"};
    int64_t ago[6];
    rng *g = &c->r;
    int64_t n = c->status == ST_POTENTIAL ? 0
                : c->status == ST_ACTIVE  ? range(g, c->tier == TIER_C ? 0 : 1, 7 - c->tier * 1)
                : c->status == ST_DORMANT ? range(g, 0, 3)
                                          : range(g, 0, 2);
    int rc;

    if (!c->is_company && n > 2)
        n = 2;
    event_days(c, ago, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        dg_record *r = new_record(d, DG_KIND_DEAL, c->id);
        int64_t at = office_time(d, g, ago[i]);
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
        set_s(r, "stage", "won"); /* orders that took place: won, dated when they closed */
        set_i(r, "probability", 100);
        set_s(r, "content",
              fmt(d, "%s：%s %u%s", p->contract, p->name, (unsigned)range(g, 1, 200), p->unit));
        set_s(r, "person_in_charge", dg_demo_users[c->owner].display);
        if (chance(g, 3)) {
            set_i(r, "breach", 1);
            set_s(r, "notes", PICK(g, breach_notes));
        } else if (chance(g, 25)) {
            set_s(r, "notes", PICK(g, deal_notes));
        }
        stamp(r, at, d->owners[c->owner].id);
        if ((rc = dg_demo_put(d, r, at)) != DG_OK)
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

    event_days(c, ago, n);
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

/* Customer i and its whole dossier, in the open transaction. */
int dg_demo_gen_dossier(struct demo *d, int64_t i)
{
    struct cust c;
    int rc;

    if ((rc = dg_demo_gen_customer(d, i, &c)) != DG_OK || (rc = gen_contacts(d, &c)) != DG_OK ||
        (rc = gen_interactions(d, &c)) != DG_OK || (rc = gen_deals(d, &c)) != DG_OK ||
        (rc = gen_tasks(d, &c)) != DG_OK || (rc = gen_feedback(d, &c)) != DG_OK)
        return rc;
    return DG_OK;
}
