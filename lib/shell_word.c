/* shell_word.c — quoting for a POSIX shell (see shell_word.h). */
#include "shell_word.h"

#include <string.h>

void rocky_shell_word(FILE *fp, const char *w)
{
    if (w == NULL)
        w = "";
    if (w[0] != '\0' && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "abcdefghijklmnopqrstuvwxyz"
                                  "0123456789_-./=:,+@%") == strlen(w)) {
        fputs(w, fp);
        return;
    }
    fputc('\'', fp);
    for (const char *c = w; *c; c++)
        if (*c == '\'')
            fputs("'\\''", fp);
        else
            fputc(*c, fp);
    fputc('\'', fp);
}
