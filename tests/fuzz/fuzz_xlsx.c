/* fuzz_xlsx.c - libFuzzer target for tabin_xlsx.c: a workbook's bytes as
 * `dangan import` reads them, through libzip and expat (shared strings,
 * styles, the first sheet). Every row kept must be within the bounds of
 * tabin.h, each cell a string. Any crash, leak, UB or failed dg_assert is a
 * bug. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dg.h"
#include "tabin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_table t = {0};
    char err[512];

    if (cli_tab_xlsx(data, size, &t, err, sizeof err) == DG_OK) {
        for (size_t i = 0; i < t.n; i++) {
            dg_assert(t.rows[i].n > 0 && t.rows[i].n <= CLI_TAB_MAX_COLS);
            for (size_t j = 0; j < t.rows[i].n; j++)
                dg_assert(strlen(t.rows[i].cells[j]) <= CLI_TAB_MAX_CELL);
        }
    } else {
        dg_assert(err[0]);
    }
    cli_table_fini(&t);
    return 0;
}
