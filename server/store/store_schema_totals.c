/* store_schema_totals.c - schema v18 (store_schema.c lists it as the
 * migration after v17): the running totals the reports read and the
 * indexes of the churn report (store_reports.c, store_reports_health.c).
 */
#include "store_int.h"

/* v18: the reports read running totals rather than every deal and
 * interaction. deal_totals: the live deals of live customers by stage, UTC
 * day of at_ms, and their customer's tier and owner (0: none) — what the
 * visibility filter needs — per currency: how many, their amount and
 * amount × probability. interaction_totals: the live calls (phone) and
 * visits (visit, meeting) of live customers by UTC day, who logged them and
 * their customer's tier and owner. A report folds whole UTC days inside a
 * period (a local period of any zone) from these and reads the partial days
 * at its edges from the records, so a change of the team's zone needs no
 * rebuild. Triggers keep them whatever writes: a deal or interaction
 * created, edited, archived, restored, moved by a merge or deleted, and a
 * customer whose tier, owner or archival changes moves its records' share.
 * customer_totals: live customers by tier, owner and status (the activity
 * report's cadence targets). The churn report gets partial indexes over the lost customers (by
 * reason; by last contact, latest first) and the at-risk index orders by id after the last contact,
 * so its list stops after the rows it shows. */
#define UTC_DAY(MS) "(" MS " / 86400000 - (" MS " % 86400000 < 0))"
#define DEAL_TOTAL(D, S)                                                                           \
    "INSERT INTO deal_totals(stage, day, tier, owner_id, currency, n, amount, weighted)"           \
    " SELECT " D ".stage, " UTC_DAY(                                                               \
        D ".at_ms") ", c.tier, coalesce(c.owner_id, 0), " D ".amount_currency, " S "1, " S D       \
                    ".amount, " S D ".amount * " D ".probability"                                  \
                    " FROM customers c WHERE c.id = " D                                            \
                    ".customer_id AND c.archived_at IS NULL AND " D                                \
                    ".archived_at IS NULL ON CONFLICT DO UPDATE SET n = n + excluded.n,"           \
                    " amount = amount + excluded.amount, weighted = weighted + excluded.weighted;"
#define DEALS_OF(C, S)                                                                             \
    "INSERT INTO deal_totals(stage, day, tier, owner_id, currency, n, amount, weighted)"           \
    " SELECT d.stage, " UTC_DAY(                                                                   \
        "d.at_ms") ", " C ".tier, coalesce(" C ".owner_id, 0),"                                    \
                   " d.amount_currency, " S "count(*), " S "sum(d.amount), " S                     \
                   "sum(d.amount * d.probability)"                                                 \
                   " FROM deals d WHERE d.customer_id = " C ".id AND d.archived_at IS NULL AND " C \
                   ".archived_at IS NULL GROUP BY d.stage, 2, d.amount_currency ON CONFLICT DO "   \
                   "UPDATE SET"                                                                    \
                   " n = n + excluded.n, amount = amount + excluded.amount, weighted = weighted "  \
                   "+ excluded.weighted;"
#define CUSTOMER_TOTAL(C, S)                                                                       \
    "INSERT INTO customer_totals(tier, owner_id, status, n) SELECT " C ".tier,"                    \
    " coalesce(" C ".owner_id, 0), " C ".status, " S "1 WHERE " C ".archived_at IS NULL"           \
    " ON CONFLICT DO UPDATE SET n = n + excluded.n;"
#define CALL "channel = 'phone'"
#define VISIT "channel IN ('visit', 'meeting')"
#define INTERACTION_TOTAL(I, S)                                                                    \
    "INSERT INTO interaction_totals(day, created_by, tier, owner_id, calls, visits)"               \
    " SELECT " UTC_DAY(I ".at_ms") ", coalesce(" I ".created_by, 0), c.tier,"                      \
                                   " coalesce(c.owner_id, 0), " S "(" I "." CALL "), " S "(" I     \
                                   "." VISIT ")"                                                   \
                                   " FROM customers c WHERE c.id = " I                             \
                                   ".customer_id AND c.archived_at IS NULL AND " I                 \
                                   ".archived_at IS NULL AND " I                                   \
                                   ".channel IN ('phone', 'visit', 'meeting')"                     \
                                   " ON CONFLICT DO UPDATE SET calls = calls + excluded.calls, "   \
                                   "visits = visits + excluded.visits;"
#define INTERACTIONS_OF(C, S)                                                                      \
    "INSERT INTO interaction_totals(day, created_by, tier, owner_id, calls, visits)"               \
    " SELECT " UTC_DAY("i.at_ms") ", coalesce(i.created_by, 0), " C ".tier,"                       \
                                  " coalesce(" C ".owner_id, 0), " S "sum(i." CALL "), " S         \
                                  "sum(i." VISIT ")"                                               \
                                  " FROM interactions i WHERE i.customer_id = " C                  \
                                  ".id AND i.archived_at IS NULL AND " C                           \
                                  ".archived_at IS NULL AND i.channel IN ('phone', 'visit', "      \
                                  "'meeting') GROUP BY 1, 2"                                       \
                                  " ON CONFLICT DO UPDATE SET calls = calls + excluded.calls, "    \
                                  "visits = visits + excluded.visits;"
const char *const store_migration_totals[] = {
    "CREATE TABLE deal_totals ("
    "  stage TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  tier TEXT NOT NULL,"
    "  owner_id INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  weighted INTEGER NOT NULL,"
    "  PRIMARY KEY (stage, day, tier, owner_id, currency)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE customer_totals ("
    "  tier TEXT NOT NULL,"
    "  owner_id INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (tier, owner_id, status)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO customer_totals(tier, owner_id, status, n) SELECT tier, coalesce(owner_id, 0),"
    " status, count(*) FROM customers WHERE archived_at IS NULL GROUP BY 1, 2, 3;"
    "CREATE TABLE interaction_totals ("
    "  day INTEGER NOT NULL,"
    "  created_by INTEGER NOT NULL,"
    "  tier TEXT NOT NULL,"
    "  owner_id INTEGER NOT NULL,"
    "  calls INTEGER NOT NULL,"
    "  visits INTEGER NOT NULL,"
    "  PRIMARY KEY (day, created_by, tier, owner_id)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO deal_totals(stage, day, tier, owner_id, currency, n, amount, weighted)"
    " SELECT d.stage, " UTC_DAY(
        "d.at_ms") ", c.tier, coalesce(c.owner_id, 0), d.amount_currency,"
                   " count(*), sum(d.amount), sum(d.amount * d.probability) FROM deals d"
                   " JOIN customers c ON c.id = d.customer_id WHERE d.archived_at IS NULL"
                   " AND c.archived_at IS NULL GROUP BY 1, 2, 3, 4, 5;"
                   "INSERT INTO interaction_totals(day, created_by, tier, owner_id, calls, visits)"
                   " SELECT " UTC_DAY(
                       "i.at_ms") ", coalesce(i.created_by, 0), c.tier, coalesce(c.owner_id, 0),"
                                  " sum(i." CALL "), sum(i." VISIT ") FROM interactions i"
                                  " JOIN customers c ON c.id = i.customer_id WHERE i.archived_at "
                                  "IS NULL"
                                  " AND c.archived_at IS NULL AND i.channel IN ('phone', 'visit', "
                                  "'meeting')"
                                  " GROUP BY 1, 2, 3, 4;",
    "CREATE TRIGGER deal_totals_insert AFTER INSERT ON deals BEGIN " DEAL_TOTAL("NEW", "") " END;",
    "CREATE TRIGGER deal_totals_delete AFTER DELETE ON deals BEGIN " DEAL_TOTAL("OLD", "-") " END;",
    "CREATE TRIGGER deal_totals_update AFTER UPDATE OF customer_id, stage, at_ms, amount,"
    " amount_currency, probability, archived_at ON deals BEGIN " DEAL_TOTAL("OLD", "-")
        DEAL_TOTAL("NEW", "") " END;",
    "CREATE TRIGGER interaction_totals_insert AFTER INSERT ON interactions "
    "BEGIN " INTERACTION_TOTAL("NEW", "") " END;",
    "CREATE TRIGGER interaction_totals_delete AFTER DELETE ON interactions "
    "BEGIN " INTERACTION_TOTAL("OLD", "-") " END;",
    "CREATE TRIGGER interaction_totals_update AFTER UPDATE OF customer_id, at_ms, channel,"
    " created_by, archived_at ON interactions BEGIN " INTERACTION_TOTAL("OLD", "-")
        INTERACTION_TOTAL("NEW", "") " END;",
    "CREATE TRIGGER customer_totals_insert AFTER INSERT ON customers BEGIN " CUSTOMER_TOTAL(
        "NEW", "") " END;",
    "CREATE TRIGGER customer_totals_delete AFTER DELETE ON customers BEGIN " CUSTOMER_TOTAL(
        "OLD", "-") " END;",
    "CREATE TRIGGER customer_totals_update AFTER UPDATE OF tier, owner_id, status, archived_at"
    " ON customers WHEN OLD.tier IS NOT NEW.tier OR OLD.owner_id IS NOT NEW.owner_id"
    " OR OLD.status IS NOT NEW.status OR (OLD.archived_at IS NULL) != (NEW.archived_at IS NULL)"
    " BEGIN " CUSTOMER_TOTAL("OLD", "-") CUSTOMER_TOTAL("NEW", "") " END;",
    "CREATE TRIGGER customers_totals AFTER UPDATE OF tier, owner_id, archived_at ON customers"
    " WHEN OLD.tier IS NOT NEW.tier OR OLD.owner_id IS NOT NEW.owner_id"
    " OR (OLD.archived_at IS NULL) != (NEW.archived_at IS NULL) BEGIN " DEALS_OF("OLD", "-")
        DEALS_OF("NEW", "") INTERACTIONS_OF("OLD", "-") INTERACTIONS_OF("NEW", "") " END;",
    "DROP INDEX customers_at_risk;"
    "CREATE INDEX customers_at_risk_by_id ON customers("
    "  (CASE WHEN last_contact_at > 0 THEN last_contact_at ELSE created_at END), id, tier,"
    "  owner_id) WHERE archived_at IS NULL AND status != 'lost';"
    "CREATE INDEX customers_lost_by_reason ON customers(churn_reason, tier, owner_id)"
    "  WHERE status = 'lost' AND archived_at IS NULL;"
    "CREATE INDEX customers_lost_by_contact ON customers(last_contact_at DESC, id, tier, owner_id)"
    "  WHERE status = 'lost' AND archived_at IS NULL;",
    NULL,
};
#undef UTC_DAY
#undef DEAL_TOTAL
#undef DEALS_OF
#undef CUSTOMER_TOTAL
#undef CALL
#undef VISIT
#undef INTERACTION_TOTAL
#undef INTERACTIONS_OF
