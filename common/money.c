/* money.c - currency codes and their minor units (see money.h). */
#include "money.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dg.h"

bool dg_currency_valid(const char *code)
{
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return false;
    return code[3] == '\0';
}

int dg_currency_exponent(const char *code)
{
    /* ISO 4217 minor units of the currencies without two decimals. */
    static const char *const zero[] = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"};
    static const char *const three[] = {"BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"};

    for (size_t i = 0; i < DG_ARRAY_LEN(zero); i++)
        if (strcmp(code, zero[i]) == 0)
            return 0;
    for (size_t i = 0; i < DG_ARRAY_LEN(three); i++)
        if (strcmp(code, three[i]) == 0)
            return 3;
    return 2;
}

/* A currency code of `n` bytes, any case, into cur ("usd" → "USD"). */
static bool currency_take(const char *s, size_t n, char cur[4])
{
    char up[4];

    if (n != 3)
        return false;
    for (size_t i = 0; i < 3; i++)
        up[i] = (char)toupper((unsigned char)s[i]);
    up[3] = '\0';
    if (!dg_currency_valid(up))
        return false;
    memcpy(cur, up, sizeof up);
    return true;
}

/* "-1,234.56" → minor units with `exp` decimals. */
static int decimal_to_minor(const char *s, size_t n, const char *cur, int64_t *out, char *why,
                            size_t why_len)
{
    const char *p = s, *end = s + n;
    bool is_neg = false, has_digit = false;
    int decimals = 0, exp = dg_currency_exponent(cur);
    int64_t v = 0;

    if (p < end && (*p == '-' || *p == '+'))
        is_neg = *p++ == '-';
    for (; p < end && (isdigit((unsigned char)*p) || *p == ','); p++) {
        if (*p == ',')
            continue; /* grouping, as we print it: 12,345.00 */
        if (v > (INT64_MAX - 9) / 10)
            goto too_big;
        v = v * 10 + (*p - '0');
        has_digit = true;
    }
    if (p < end && *p == '.') {
        for (p++; p < end && isdigit((unsigned char)*p); p++, decimals++) {
            if (decimals >= exp) {
                if (exp == 0)
                    snprintf(why, why_len, "%s amounts are whole numbers", cur);
                else
                    snprintf(why, why_len, "%s amounts have at most %d decimal%s", cur, exp,
                             exp == 1 ? "" : "s");
                return DG_EINVAL;
            }
            if (v > (INT64_MAX - 9) / 10)
                goto too_big;
            v = v * 10 + (*p - '0');
            has_digit = true;
        }
    }
    if (p != end || !has_digit) {
        snprintf(why, why_len, "not an amount (like 1234.56)");
        return DG_EINVAL;
    }
    for (; decimals < exp; decimals++) {
        if (v > INT64_MAX / 10)
            goto too_big;
        v *= 10;
    }
    *out = is_neg ? -v : v;
    return DG_OK;
too_big:
    snprintf(why, why_len, "too large");
    return DG_EINVAL;
}

int dg_money_parse(const char *s, const char *currency, int64_t *minor, char cur[4], char *why,
                   size_t why_len)
{
    const char *amount = s, *space, *fallback = currency ? currency : "CNY";
    size_t amount_len;
    char named[4] = "";

    while (*amount == ' ')
        amount++;
    amount_len = strlen(amount);
    while (amount_len && amount[amount_len - 1] == ' ')
        amount_len--;
    space = memchr(amount, ' ', amount_len);
    if (space) { /* "12.34 USD" or "USD 12.34" */
        const char *second = space + 1;
        size_t second_len = amount_len - (size_t)(second - amount);

        while (second_len && *second == ' ')
            second++, second_len--;
        if (currency_take(second, second_len, named)) {
            amount_len = (size_t)(space - amount);
        } else if (currency_take(amount, (size_t)(space - amount), named)) {
            amount = second;
            amount_len = second_len;
        } else {
            snprintf(why, why_len, "not an amount with a currency (like 12.34 USD)");
            return DG_EINVAL;
        }
    }
    if (named[0] && currency && strcasecmp(named, currency) != 0) {
        snprintf(why, why_len, "names %s, but the currency is %s", named, currency);
        return DG_EINVAL;
    }
    if (!named[0] && !currency_take(fallback, strlen(fallback), named)) {
        snprintf(why, why_len, "the currency must be a three-letter code such as CNY");
        return DG_EINVAL;
    }
    memcpy(cur, named, 4);
    return decimal_to_minor(amount, amount_len, cur, minor, why, why_len);
}

const char *dg_money_format(int64_t minor, const char *currency, char *buf, size_t len)
{
    const char *cur = currency && currency[0] ? currency : "CNY";
    int exp = dg_currency_exponent(cur);
    uint64_t v = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor, unit = 1;
    char digits[32], grouped[48];
    size_t n, g = 0;

    for (int i = 0; i < exp; i++)
        unit *= 10;
    n = (size_t)snprintf(digits, sizeof digits, "%llu", (unsigned long long)(v / unit));
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    if (exp)
        snprintf(buf, len, "%s %s%s.%0*llu", cur, minor < 0 ? "-" : "", grouped, exp,
                 (unsigned long long)(v % unit));
    else
        snprintf(buf, len, "%s %s%s", cur, minor < 0 ? "-" : "", grouped);
    return buf;
}
