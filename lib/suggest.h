/*
 * suggest.h — "did you mean …": the closest of a set of known words to one
 * a user typed (an unknown rocky.json key, a --select name).
 */
#ifndef ROCKY_SUGGEST_H
#define ROCKY_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between `a` and `b`, ignoring ASCII case; at most
 * 64 bytes of each are compared (the rest counts as different). */
size_t rocky_edit_distance(const char *a, const char *b);

/* The word of `words` (`count` of them) closest to `typed`, or NULL when
 * none is close: within a third of the typed length, at least 1 and at
 * most 3 edits. Ties go to the first. */
const char *rocky_suggest(const char *typed, const char *const *words,
                          size_t count);

#endif
