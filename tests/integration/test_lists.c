/* test_lists.c - lists and search through a real server with one reader
 * connection: keyset paging for every sort key of every kind, both ways,
 * returns every row exactly once while rows are inserted between pages (over
 * libdangan and through the CLI's --all); cursors of the previous format
 * still continue; a reader goes through more filter shapes than its
 * statement cache holds while it searches. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/base64.h>

#include "fixture.h"

static dgt_server srv;
static dg_client *cli;
static char cfg[256];
static dgt_run run; /* big buffers: static, not on the stack */

static int setup(void **state)
{
    (void)state;
    /* One reader: every read below runs on the same store connection. */
    dgt_server_start(&srv, "[store]\nreaders = 1\n");
    cli = dgt_login(&srv, "admin", srv.admin_password);
    dgt_tempdir(cfg, sizeof cfg);
    dgt_cli_login(&run, cfg, &srv, "admin", srv.admin_password);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dg_client_close(cli);
    dgt_rmtree(cfg);
    dgt_server_stop(&srv);
    return 0;
}

/* ------------------------------------------------------------ helpers */

enum { K_CUSTOMER = 1, K_CONTACT, K_INTERACTION, K_DEAL, K_FEEDBACK, K_TASK };

/* Creates a record whose sort keys come from `i`: a few values each, so
 * every sort has ties (broken by id) and new rows land between old ones. */
static int64_t create_row(int kind, int64_t customer_id, int i)
{
    static const char *const prefixes[] = {"Z-", "a-", "中-", "", NULL}; /* NULL: generated */
    Dangan__V1__CreateRequest m = DANGAN__V1__CREATE_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__Record rec = DANGAN__V1__RECORD__INIT;
    Dangan__V1__Customer cu = DANGAN__V1__CUSTOMER__INIT;
    Dangan__V1__Contact ct = DANGAN__V1__CONTACT__INIT;
    Dangan__V1__Interaction in = DANGAN__V1__INTERACTION__INIT;
    Dangan__V1__Deal dl = DANGAN__V1__DEAL__INIT;
    Dangan__V1__Feedback fb = DANGAN__V1__FEEDBACK__INIT;
    Dangan__V1__Task tk = DANGAN__V1__TASK__INIT;
    Dangan__V1__Money amount = DANGAN__V1__MONEY__INIT;
    int64_t at = 1700000000000 + (int64_t)(i % 5) * 86400000;
    char code[32], name[64];
    dg_reply *r;
    int64_t id;

    if (prefixes[i % 5])
        snprintf(code, sizeof code, "%s%04d", prefixes[i % 5], i);
    else
        code[0] = '\0'; /* the server generates one */
    snprintf(name, sizeof name, i % 3 ? "分页%d号" : "同名客户", i);
    rec.kind_case = (Dangan__V1__Record__KindCase)kind;
    switch (kind) {
    case K_CUSTOMER:
        cu.name = name;
        cu.code = code;
        cu.tier = (Dangan__V1__Tier)(i % 4);
        rec.customer = &cu;
        break;
    case K_CONTACT:
        ct.customer_id = customer_id;
        ct.name = name;
        rec.contact = &ct;
        break;
    case K_INTERACTION:
        in.customer_id = customer_id;
        in.channel = DANGAN__V1__CHANNEL__CHANNEL_PHONE;
        in.summary = name;
        in.at_ms = at;
        rec.interaction = &in;
        break;
    case K_DEAL:
        dl.customer_id = customer_id;
        amount.amount_minor = 100 + i;
        dl.amount = &amount;
        dl.at_ms = at;
        rec.deal = &dl;
        break;
    case K_FEEDBACK:
        fb.customer_id = customer_id;
        fb.kind = DANGAN__V1__FEEDBACK_KIND__FEEDBACK_KIND_PRAISE;
        fb.satisfaction = 4;
        fb.text = name;
        fb.at_ms = at;
        rec.feedback = &fb;
        break;
    case K_TASK:
        tk.customer_id = customer_id;
        tk.title = name;
        tk.due_at_ms = i % 4 ? at : 0; /* some without a due date */
        rec.task = &tk;
        break;
    }
    m.record = &rec;
    m.allow_duplicate = true;
    req.body_case = DANGAN__V1__REQUEST__BODY_CREATE;
    req.create = &m;
    r = dgt_call(cli, &req);
    if (dgt_code(r) != 0)
        fail_msg("create kind %d #%d: %s", kind, i, dg_reply_response(r)->status->message);
    id = dgt_record_id(dg_reply_response(r)->create->record);
    dg_reply_free(r);
    return id;
}

static dg_reply *list_page(int kind, const char *sort, uint32_t limit, const char *cursor)
{
    Dangan__V1__ListRequest m = DANGAN__V1__LIST_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

    m.kind = kind;
    m.sort = (char *)sort;
    m.limit = limit;
    m.cursor = (char *)(cursor ? cursor : "");
    req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
    req.list = &m;
    return dgt_call(cli, &req);
}

/* The ids of every listed row of `kind` now (one page holds them all). */
static size_t all_ids(int kind, int64_t *ids, size_t cap)
{
    dg_reply *r = list_page(kind, "created", 1000, NULL);
    const Dangan__V1__ListResponse *l = dg_reply_response(r)->list;
    size_t n;

    assert_non_null(l);
    assert_string_equal(l->next_cursor, "");
    assert_true(l->n_records <= cap);
    for (n = 0; n < l->n_records; n++)
        ids[n] = dgt_record_id(l->records[n]);
    dg_reply_free(r);
    return n;
}

static size_t count_of(const int64_t *ids, size_t n, int64_t id)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += ids[i] == id;
    return k;
}

/* Every sort a list accepts, per kind (ListRequest.sort). */
static const struct {
    int kind;
    const char *sort;
} sorts[] = {
    {K_CUSTOMER, "name"},       {K_CUSTOMER, "code"},   {K_CUSTOMER, "created"},
    {K_CUSTOMER, "updated"},    {K_CUSTOMER, "tier"},   {K_CUSTOMER, "last_contact"},
    {K_CONTACT, "created"},     {K_CONTACT, "updated"}, {K_INTERACTION, "created"},
    {K_INTERACTION, "updated"}, {K_INTERACTION, "at"},  {K_DEAL, "created"},
    {K_DEAL, "updated"},        {K_DEAL, "at"},         {K_FEEDBACK, "created"},
    {K_FEEDBACK, "updated"},    {K_FEEDBACK, "at"},     {K_TASK, "created"},
    {K_TASK, "updated"},        {K_TASK, "due"},
};

enum { N_ROWS = 30, PAGE = 4, MAX_IDS = 4096 };

static int64_t parent_id; /* the customer the children belong to */
static int next_row = 1000;

static void make_rows(void)
{
    if (parent_id)
        return;
    parent_id = create_row(K_CUSTOMER, 0, 0);
    for (int kind = K_CUSTOMER; kind <= K_TASK; kind++)
        for (int i = 1; i <= N_ROWS; i++)
            create_row(kind, parent_id, i);
    /* last_contact_at varies only through interactions of other customers */
    for (int i = 0; i < 5; i++)
        create_row(K_INTERACTION, create_row(K_CUSTOMER, 0, next_row++), i);
}

/* Pages through `kind` in `sort` order, adding a row of that kind before
 * each next page; every row there before the first page must come back
 * exactly once, no row twice, and the paging must end. */
static void page_through(int kind, const char *sort)
{
    int64_t *before = calloc(MAX_IDS, sizeof *before), *got = calloc(MAX_IDS, sizeof *got);
    size_t n_before = all_ids(kind, before, MAX_IDS), n_got = 0, n_pages = 0;
    char *cursor = NULL;

    assert_true(n_before >= N_ROWS);
    do {
        dg_reply *r = list_page(kind, sort, PAGE, cursor);
        const Dangan__V1__ListResponse *l = dg_reply_response(r)->list;

        if (!l)
            fail_msg("list %d by %s: %s", kind, sort, dg_reply_response(r)->status->message);
        /* a page for each row there was, one for each row added, one more */
        if (++n_pages > n_before + 2)
            fail_msg("list %d by %s does not end (%zu pages)", kind, sort, n_pages);
        for (size_t i = 0; i < l->n_records; i++) {
            int64_t id = dgt_record_id(l->records[i]);

            if (count_of(got, n_got, id))
                fail_msg("list %d by %s: row %lld came back twice", kind, sort, (long long)id);
            got[n_got++] = id;
        }
        free(cursor);
        cursor = l->next_cursor[0] ? strdup(l->next_cursor) : NULL;
        dg_reply_free(r);
        create_row(kind, parent_id, next_row++); /* someone adds a row between our pages */
    } while (cursor);
    for (size_t i = 0; i < n_before; i++)
        if (count_of(got, n_got, before[i]) != 1)
            fail_msg("list %d by %s: row %lld came back %zu times", kind, sort,
                     (long long)before[i], count_of(got, n_got, before[i]));
    free(before);
    free(got);
}

/* ------------------------------------------------------------ paging */

static void test_every_sort_both_ways_returns_every_row_once_while_rows_are_inserted(void **state)
{
    char sort[32];

    (void)state;
    make_rows();
    for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
        for (int desc = 0; desc < 2; desc++) {
            snprintf(sort, sizeof sort, "%s%s", desc ? "-" : "", sorts[i].sort);
            page_through(sorts[i].kind, sort);
        }
}

static void fill_cli(Dangan__V1__Customer *cu, int i, void *ud)
{
    static char codes[24][32];
    static char *tags[] = {"cli-all"};
    static const char *const prefixes[] = {"Y-", "b-", "文-", NULL}; /* NULL: generated */

    (void)ud;
    if (prefixes[i % 4])
        snprintf(codes[i], sizeof codes[i], "%s%04d", prefixes[i % 4], i);
    cu->code = codes[i];
    cu->tier = (Dangan__V1__Tier)(i % 4);
    if (i % 3 == 0)
        cu->name = "同名客户"; /* ties in name order */
    cu->tags = tags;
    cu->n_tags = 1;
}

/* `dangan customer list --all` follows the cursors: every customer once, for
 * every customer sort, both ways (in pages of 7; the tag keeps the output
 * within what the test captures). */
static void test_cli_all_lists_every_customer_once_for_every_sort(void **state)
{
    static const char *const names[] = {"name",    "code", "created",
                                        "updated", "tier", "last_contact"};
    dg_reply *r;
    int64_t ids[24];
    char sort[32];

    (void)state;
    dgt_create_customers_with(cli, 24, "c", fill_cli, NULL);
    r = list_page(K_CUSTOMER, "-created", 24, NULL);
    for (size_t i = 0; i < 24; i++)
        ids[i] = dgt_record_id(dg_reply_response(r)->list->records[i]);
    dg_reply_free(r);
    for (size_t i = 0; i < 5; i++) /* last_contact_at: a few differ from 0 */
        create_row(K_INTERACTION, ids[i * 4], (int)i);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (int desc = 0; desc < 2; desc++) {
            const char *argv[] = {"--json", "customer", "list", "--tag", "cli-all", "--sort",
                                  sort,     "--limit",  "7",    "--all", NULL};
            json_error_t e;
            json_t *j, *recs;

            snprintf(sort, sizeof sort, "%s%s", desc ? "-" : "", names[i]);
            dgt_cli(&run, cfg, NULL, argv);
            if (run.status != 0)
                fail_msg("customer list --sort %s --all: exit %d: %s", sort, run.status, run.err);
            if (!(j = json_loads(run.out, 0, &e)))
                fail_msg("--sort %s: stdout is not JSON (%s)", sort, e.text);
            recs = json_object_get(j, "records");
            if (json_array_size(recs) != 24)
                fail_msg("--sort %s --all: %zu customers of 24", sort, json_array_size(recs));
            for (size_t k = 0; k < 24; k++) {
                json_int_t id = json_integer_value(
                    json_object_get(json_object_get(json_array_get(recs, k), "customer"), "id"));

                if (count_of(ids, 24, id) != 1)
                    fail_msg("--sort %s --all: customer %lld unknown", sort, (long long)id);
                for (size_t m = 0; m < k; m++)
                    if (json_integer_value(json_object_get(
                            json_object_get(json_array_get(recs, m), "customer"), "id")) == id)
                        fail_msg("--sort %s --all: customer %lld twice", sort, (long long)id);
            }
            json_decref(j);
        }
}

/* ------------------------------------------------------------ cursor format */

static char *b64url(const char *raw)
{
    size_t n, cap = strlen(raw) * 2 + 8;
    char *out = malloc(cap);

    assert_int_equal(mbedtls_base64_encode((unsigned char *)out, cap, &n,
                                           (const unsigned char *)raw, strlen(raw)),
                     0);
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (n && out[n - 1] == '=')
        out[--n] = '\0';
    return out;
}

static char *hex_of(const char *s)
{
    char *out = malloc(strlen(s) * 2 + 1);

    for (size_t i = 0; s[i]; i++)
        sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
    out[strlen(s) * 2] = '\0';
    return out;
}

/* The ids of a page, as "1,5,7". */
static void page_ids(dg_reply *r, char *out, size_t len)
{
    const Dangan__V1__ListResponse *l = dg_reply_response(r)->list;

    out[0] = '\0';
    if (!l)
        fail_msg("list: %s", dg_reply_response(r)->status->message);
    for (size_t i = 0; i < l->n_records; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%lld", i ? "," : "",
                 (long long)dgt_record_id(l->records[i]));
}

/* Cursors written before keys kept their type ("v1", text keys as "b:")
 * continue where they stopped; a key of the wrong type for its sort, or a
 * text key that is not UTF-8, is refused as not a cursor. */
static void test_old_cursors_continue_and_mistyped_keys_are_refused(void **state)
{
    static const char *const sorts_v1[] = {"code", "-code", "tier", "-tier"};
    char want[512], got[512], raw[512];

    (void)state;
    make_rows();
    for (size_t i = 0; i < 4; i++) {
        const char *sort = sorts_v1[i];
        bool desc = sort[0] == '-';
        dg_reply *r = list_page(K_CUSTOMER, sort, 5, NULL);
        const Dangan__V1__Customer *last;
        char *hex, *cursor, *next;
        char tier[2] = "";

        last = dg_reply_response(r)->list->records[4]->customer;
        next = strdup(dg_reply_response(r)->list->next_cursor);
        if (strcmp(sort + desc, "tier") == 0 && last->tier)
            tier[0] = (char)('a' + last->tier - 1); /* the stored name of TIER_A.. */
        hex = hex_of(strcmp(sort + desc, "code") == 0 ? last->code : tier);
        snprintf(raw, sizeof raw, "v1|%s|%d|b:%s|%lld", sort + desc, desc, hex,
                 (long long)last->id);
        cursor = b64url(raw);
        dg_reply_free(r);
        r = list_page(K_CUSTOMER, sort, 5, next);
        page_ids(r, want, sizeof want);
        dg_reply_free(r);
        r = list_page(K_CUSTOMER, sort, 5, cursor);
        page_ids(r, got, sizeof got);
        dg_reply_free(r);
        if (strcmp(want, got) != 0)
            fail_msg("--sort %s: a v1 cursor gave %s, its v2 twin %s", sort, got, want);
        free(hex);
        free(cursor);
        free(next);
    }

    static const char *const refused[][2] = {
        {"code", "v2|code|0|b:5a|1"},       /* a blob key for a text sort */
        {"code", "v2|code|0|i:5|1"},        /* an integer key for a text sort */
        {"name", "v2|name|0|t:5a|1"},       /* a text key for a blob sort */
        {"created", "v2|created|0|t:5a|1"}, /* a text key for an integer sort */
        {"code", "v2|code|0|t:ff|1"},       /* not UTF-8 */
        {"code", "v2|code|0|t:5a|"},        /* no id */
        {"code", "v3|code|0|t:5a|1"},       /* an unknown version */
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char *cursor = b64url(refused[i][1]);
        dg_reply *r = list_page(K_CUSTOMER, refused[i][0], 5, cursor);

        if (dgt_code(r) != DANGAN__V1__CODE__INVALID_ARGUMENT ||
            !strstr(dg_reply_response(r)->status->message, "not a cursor"))
            fail_msg("cursor \"%s\" was not refused as not a cursor", refused[i][1]);
        dg_reply_free(r);
        free(cursor);
    }
}

/* ------------------------------------------------------------ search */

/* The customers of the search test: what each filter shape lets through. */
static const struct {
    const char *name;
    Dangan__V1__Tier tier;
    Dangan__V1__CustomerStatus status;
    const char *industry, *region;
    bool is_archived;
} found[] = {
    {"缓存甲", DANGAN__V1__TIER__TIER_A, DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE,
     "制造", "华东", false},
    {"缓存乙", DANGAN__V1__TIER__TIER_B, DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE,
     "制造", "华南", false},
    {"缓存丙", DANGAN__V1__TIER__TIER_B, DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT,
     "物流", "华东", false},
    {"缓存丁", DANGAN__V1__TIER__TIER_C, DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE,
     "制造", "华东", true},
};

static void fill_found(Dangan__V1__Customer *cu, int i, void *ud)
{
    (void)ud;
    cu->name = (char *)found[i].name;
    cu->tier = found[i].tier;
    cu->status = found[i].status;
    cu->industry = (char *)found[i].industry;
    cu->region = (char *)found[i].region;
}

enum { N_SHAPES = 4 * 9 * 2 * 2 * 2 };

/* Filter shape k: the number of tiers and statuses listed and the optional
 * conditions differ, so each k below N_SHAPES has SQL text of its own. */
static void shape(int k, Dangan__V1__ListFilter *f, Dangan__V1__Tier tiers[3],
                  Dangan__V1__CustomerStatus statuses[8])
{
    for (int i = 0; i < 3; i++)
        tiers[i] = (Dangan__V1__Tier)(i == 0 ? 2 : i == 1 ? 1 : 3); /* B, A, C */
    for (int i = 0; i < 8; i++)
        statuses[i] = i % 2 ? DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_DORMANT
                            : DANGAN__V1__CUSTOMER_STATUS__CUSTOMER_STATUS_ACTIVE;
    f->tiers = tiers;
    f->n_tiers = (size_t)(k % 4);
    f->statuses = statuses;
    f->n_statuses = (size_t)(k / 4 % 9);
    f->industry = (char *)(k / 36 % 2 ? "制造" : "");
    f->region = (char *)(k / 72 % 2 ? "华东" : "");
    f->include_archived = k / 144 % 2;
}

static bool passes(size_t c, const Dangan__V1__ListFilter *f)
{
    bool tier = f->n_tiers == 0, status = f->n_statuses == 0;

    for (size_t i = 0; i < f->n_tiers; i++)
        tier |= f->tiers[i] == found[c].tier;
    for (size_t i = 0; i < f->n_statuses; i++)
        status |= f->statuses[i] == found[c].status;
    return tier && status && (!found[c].is_archived || f->include_archived) &&
           (!f->industry[0] || strcmp(f->industry, found[c].industry) == 0) &&
           (!f->region[0] || strcmp(f->region, found[c].region) == 0);
}

/* The one reader connection lists and searches with more filter shapes than
 * it keeps statements for; a search must never lose the statement it is
 * stepping, and every answer is checked. */
static void test_search_through_more_filter_shapes_than_the_reader_caches(void **state)
{
    int64_t ids[4];
    dg_reply *r;

    (void)state;
    dgt_create_customers_with(cli, 4, "x", fill_found, NULL);
    r = list_page(K_CUSTOMER, "-created", 4, NULL);
    for (int i = 0; i < 4; i++) /* newest first: 丁 丙 乙 甲 */
        ids[3 - i] = dgt_record_id(dg_reply_response(r)->list->records[i]);
    dg_reply_free(r);
    {
        Dangan__V1__ArchiveRequest a = DANGAN__V1__ARCHIVE_REQUEST__INIT;
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;

        a.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        a.id = ids[3];
        req.body_case = DANGAN__V1__REQUEST__BODY_ARCHIVE;
        req.archive = &a;
        r = dgt_call(cli, &req);
        assert_int_equal(dgt_code(r), 0);
        dg_reply_free(r);
    }
    for (int k = 0; k < N_SHAPES; k++) {
        Dangan__V1__SearchRequest s = DANGAN__V1__SEARCH_REQUEST__INIT;
        Dangan__V1__ListRequest l = DANGAN__V1__LIST_REQUEST__INIT;
        Dangan__V1__ListFilter f = DANGAN__V1__LIST_FILTER__INIT;
        Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
        Dangan__V1__Tier tiers[3];
        Dangan__V1__CustomerStatus statuses[8];
        const Dangan__V1__SearchResponse *sr;
        size_t want = 0;

        shape(k, &f, tiers, statuses);
        l.kind = DANGAN__V1__ENTITY_KIND__ENTITY_KIND_CUSTOMER;
        l.filter = &f;
        l.limit = 1000;
        req.body_case = DANGAN__V1__REQUEST__BODY_LIST;
        req.list = &l;
        r = dgt_call(cli, &req);
        assert_int_equal(dgt_code(r), 0);
        for (size_t c = 0; c < 4; c++) {
            const Dangan__V1__ListResponse *lr = dg_reply_response(r)->list;
            bool listed = false;

            for (size_t i = 0; i < lr->n_records; i++)
                listed |= dgt_record_id(lr->records[i]) == ids[c];
            if (listed != passes(c, &f))
                fail_msg("shape %d: customer %s %slisted", k, found[c].name, listed ? "" : "not ");
        }
        dg_reply_free(r);

        s.query = "缓存";
        s.filter = &f;
        req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
        req.search = &s;
        r = dgt_call(cli, &req);
        if (dgt_code(r) != 0)
            fail_msg("shape %d: search: %s", k, dg_reply_response(r)->status->message);
        sr = dg_reply_response(r)->search;
        for (int c = 3; c >= 0; c--) { /* names match: newest first */
            if (!passes((size_t)c, &f))
                continue;
            if (want >= sr->n_hits || sr->hits[want]->customer->id != ids[c])
                fail_msg("shape %d: search hit %zu is not %s", k, want, found[c].name);
            want++;
        }
        assert_int_equal(sr->n_hits, want);
        dg_reply_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_through_more_filter_shapes_than_the_reader_caches),
        cmocka_unit_test(test_every_sort_both_ways_returns_every_row_once_while_rows_are_inserted),
        cmocka_unit_test(test_cli_all_lists_every_customer_once_for_every_sort),
        cmocka_unit_test(test_old_cursors_continue_and_mistyped_keys_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
