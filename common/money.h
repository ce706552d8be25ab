/* money.h - currencies of amounts kept as integer minor units (fen, cents):
 * which codes are valid and how many decimals each has. The server checks
 * amounts with it and the CLI and the graphical client parse and print them
 * with it, so all read "12.34 USD" and "1234 JPY" the same way. Pure; any thread.
 */
#ifndef DG_MONEY_H
#define DG_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if `code` is three upper-case ASCII letters ("CNY"); whether ISO 4217
 * assigns it is not checked, so a new currency needs no release. */
bool dg_currency_valid(const char *code);

/* Digits after the decimal point in `code`'s minor unit (ISO 4217): 0 for
 * JPY, KRW..., 3 for BHD, KWD..., 2 for every other code. */
int dg_currency_exponent(const char *code);

/* Parses an amount as a person types it: "12.34", "12.34 USD", "USD 12.34",
 * "1,234.5" (commas group), "-5": minor units by the currency's exponent
 * (CNY 2, JPY 0...) into *minor and the currency, upper case, into cur.
 * `currency` (may be NULL: CNY) is used when the text names none; a text that
 * names another one is refused. DG_OK, or DG_EINVAL with why[] explained
 * ("JPY amounts are whole numbers"). The CLI and the graphical client read
 * amounts with it. */
int dg_money_parse(const char *s, const char *currency, int64_t *minor, char cur[4], char *why,
                   size_t why_len);
/* "CNY 12,345.00" for 1234500 fen (the currency's exponent, commas every
 * three digits; an empty or NULL currency is CNY). Returns buf. */
const char *dg_money_format(int64_t minor, const char *currency, char *buf, size_t len);

#endif
