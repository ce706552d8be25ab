/* money.h - currencies of amounts kept as integer minor units (fen, cents):
 * which codes are valid and how many decimals each has. The server checks
 * amounts with it and the CLI parses and prints them with it, so both read
 * "12.34 USD" and "1234 JPY" the same way. Pure; any thread.
 */
#ifndef DG_MONEY_H
#define DG_MONEY_H

#include <stdbool.h>

/* True if `code` is three upper-case ASCII letters ("CNY"); whether ISO 4217
 * assigns it is not checked, so a new currency needs no release. */
bool dg_currency_valid(const char *code);

/* Digits after the decimal point in `code`'s minor unit (ISO 4217): 0 for
 * JPY, KRW..., 3 for BHD, KWD..., 2 for every other code. */
int dg_currency_exponent(const char *code);

#endif
