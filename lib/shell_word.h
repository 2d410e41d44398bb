/*
 * shell_word.h — one word of a command line, quoted for a POSIX shell.
 *
 * Used wherever rocky prints a command for the user to paste (the
 * "see `rocky trace …`" hint, the re-send command): what is printed must
 * run as printed from where the user stands, whatever the path holds.
 */
#ifndef ROCKY_SHELL_WORD_H
#define ROCKY_SHELL_WORD_H

#include <stdio.h>

/* Write `w` to `fp` as one shell word: as it is when it holds only
 * characters no POSIX shell treats specially (letters, digits and
 * "_-./=:,+@%"), else in single quotes with each ' written as '\''.
 * The empty word is ''. NULL reads as "". */
void rocky_shell_word(FILE *fp, const char *w);

#endif
