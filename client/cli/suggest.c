/* suggest.c - "did you mean tier?": the known name nearest to a mistyped one.
 *
 * Nearness is the optimal-string-alignment edit distance (Damerau-Levenshtein
 * without repeated edits of one substring): inserting, deleting or changing a
 * byte, or swapping two neighbours, costs 1 each, so "teir" is 1 from "tier"
 * and "custmer" 1 from "customer". The only name the word begins is suggested
 * ("hist" → history, not list), else the nearest one if it is at most a third
 * of the word's length away (at least 1). Bytes, not characters: the names
 * are ASCII, and a word in another script is simply far from all of them.
 * Pure; any thread.
 */
#include <stdint.h>
#include <string.h>

#include "cli.h"

#define WORD_MAX 64 /* longer words are no typo of a name */

size_t cli_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t rows[3][WORD_MAX + 1]; /* rows i-2, i-1 and i of the distance matrix */

    if (n > WORD_MAX || m > WORD_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= m; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t *d = rows[i % 3], *up = rows[(i + 2) % 3], *up2 = rows[(i + 1) % 3];

        d[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1], best = up[j - 1] + cost;

            if (up[j] + 1 < best)
                best = up[j] + 1; /* delete a[i-1] */
            if (d[j - 1] + 1 < best)
                best = d[j - 1] + 1; /* insert b[j-1] */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                up2[j - 2] + 1 < best)
                best = up2[j - 2] + 1; /* swap two neighbours */
            d[j] = best;
        }
    }
    return rows[n % 3][m];
}

const char *cli_suggest(const char *word, const char *const *names, size_t n)
{
    size_t len = strlen(word), limit = len / 3 > 1 ? len / 3 : 1, best = SIZE_MAX;
    const char *nearest = NULL, *prefixed = NULL;
    size_t n_prefixed = 0;

    if (len == 0 || len > WORD_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = cli_edit_distance(word, names[i]);

        if (d < best) {
            best = d;
            nearest = names[i];
        }
        if (len >= 2 && strncmp(names[i], word, len) == 0) {
            prefixed = names[i];
            n_prefixed++;
        }
    }
    if (n_prefixed == 1)
        return prefixed;
    return best <= limit ? nearest : NULL;
}
