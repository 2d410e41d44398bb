/* suggest.c — "did you mean" by edit distance (see suggest.h). */
#include "suggest.h"

#include <ctype.h>
#include <string.h>

#define MAX_LEN 64

size_t rocky_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), extra = 0;
    if (la > MAX_LEN) {
        extra += la - MAX_LEN;
        la = MAX_LEN;
    }
    if (lb > MAX_LEN) {
        extra += lb - MAX_LEN;
        lb = MAX_LEN;
    }
    size_t row[MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            int same = tolower((unsigned char)a[i - 1]) ==
                       tolower((unsigned char)b[j - 1]);
            size_t best = diag + (same ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] + extra;
}

const char *rocky_suggest(const char *typed, const char *const *words,
                          size_t count)
{
    size_t limit = strlen(typed) / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < count; i++) {
        size_t d = rocky_edit_distance(typed, words[i]);
        if (d < best_d) {
            best_d = d;
            best = words[i];
        }
    }
    return best;
}
