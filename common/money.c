/* money.c - currency codes and their minor units (see money.h). */
#include "money.h"

#include <string.h>

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
