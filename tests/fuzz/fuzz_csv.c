/* fuzz_csv.c - libFuzzer target for the CSV side of tabin.c: a file's bytes
 * as `dangan import` reads them, through encoding detection (iconv) and
 * libcsv. Every row kept must be non-blank, within the bounds of tabin.h,
 * with cells of valid UTF-8 and lines that never go backwards. Any crash,
 * leak, UB or failed dg_assert is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dg.h"
#include "tabin.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cli_table *t)
{
    size_t line = 0;

    for (size_t i = 0; i < t->n; i++) {
        const cli_row *r = &t->rows[i];
        bool is_blank = true;

        dg_assert(r->line >= line && r->line > 0);
        dg_assert(r->n > 0 && r->n <= CLI_TAB_MAX_COLS);
        line = r->line;
        for (size_t j = 0; j < r->n; j++) {
            dg_assert(strlen(r->cells[j]) <= CLI_TAB_MAX_CELL);
            dg_assert(dg_utf8_valid(r->cells[j], strlen(r->cells[j])));
            is_blank &= r->cells[j][0] == '\0';
        }
        dg_assert(!is_blank);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const encodings[] = {"auto", "utf-8", "gb18030"};
    char err[512];

    for (size_t e = 0; e < DG_ARRAY_LEN(encodings); e++) {
        cli_table t = {0};
        char *text = NULL;
        const char *used;
        size_t len;

        if (cli_tab_to_utf8((const char *)data, size, encodings[e], &text, &len, &used, err,
                            sizeof err) != DG_OK)
            continue;
        dg_assert(dg_utf8_valid(text, len));
        if (cli_tab_csv(text, len, &t, err, sizeof err) == DG_OK)
            check(&t);
        cli_table_fini(&t);
        free(text);
    }
    return 0;
}
