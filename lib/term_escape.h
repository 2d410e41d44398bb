/*
 * term_escape.h — make text that a project, a state store, a plugin or a
 * server controls safe to print on a terminal.
 *
 * A model's SQL error, an identifier, a run id read from a store, a
 * collector's message: any of them can hold bytes a terminal obeys (ESC
 * sequences set the title or clear the screen, CR overwrites a line, C1
 * controls act like ESC on some terminals, bidi overrides reorder what is
 * shown). Everything every command prints that it did not write itself
 * passes through here. JSON and HTML outputs are not terminal text: their
 * writers escape for their own format.
 *
 * Shown as visible escapes (never removed, so nothing is hidden either):
 *   C0 controls and DEL          \t \n \r, else \xNN  (\n passes with
 *                                ROCKY_TERM_KEEP_NEWLINE)
 *   bytes that are not UTF-8     \xNN (raw 0x80-0x9F included)
 *   C1 controls U+0080-U+009F    \u0085
 *   bidi controls                \u202e  (U+061C, U+200E, U+200F,
 *                                U+202A-U+202E, U+2066-U+2069) and the
 *                                line/paragraph separators U+2028, U+2029
 * Everything else (printable ASCII, valid UTF-8, the backslash itself) is
 * copied unchanged: an escape can be told from the text it replaced only
 * by knowing the input, which is enough to make it harmless and readable.
 *
 * All functions are thread-safe and async-signal-unsafe (they may format).
 */
#ifndef ROCKY_TERM_ESCAPE_H
#define ROCKY_TERM_ESCAPE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Let '\n' through (multi-line text such as a usage message); without it
 * a newline shows as "\n", so a value can never start a line of its own. */
#define ROCKY_TERM_KEEP_NEWLINE 1u

/* The longest piece one character becomes ("\u202e"), plus a NUL. */
#define ROCKY_TERM_PIECE_MAX 8

/* Bytes rocky_term_escape() needs for `len` input bytes, NUL included:
 * one byte becomes at most 4 ("\x1b"). */
#define ROCKY_TERM_ESCAPED_SIZE(len) (4 * (size_t)(len) + 1)

/* 1 for a code point beyond C0/DEL that this file escapes (C1, bidi
 * controls, U+2028/U+2029): for writers of other formats (JSON) that want
 * their output terminal-safe too. */
int rocky_term_control_cp(uint32_t cp);

/*
 * One step: look at the character at s[0..n) (n >= 1) and write what to
 * show for it into `piece` (NUL-terminated: the character itself, or its
 * escape). Returns the input bytes consumed (>= 1); *escaped is set to 1
 * when the piece is an escape (`escaped` may be NULL). For renderers that
 * count columns: an escape is as many columns as its length.
 */
size_t rocky_term_piece(const char *s, size_t n, unsigned flags,
                        char piece[ROCKY_TERM_PIECE_MAX], int *escaped);

/*
 * Escape the NUL-terminated `in` (NULL reads as "") into `out` (`out_size`
 * bytes, always NUL-terminated when out_size > 0). Stops before a piece
 * that would not fit, so an escape is never cut in half; out_size
 * ROCKY_TERM_ESCAPED_SIZE(strlen(in)) always fits. Returns the bytes
 * written, without the NUL.
 */
size_t rocky_term_escape(const char *in, unsigned flags, char *out,
                         size_t out_size);

/* The escaped copy of `in` on the heap (free() it), or NULL when out of
 * memory. NULL `in` reads as "". */
char *rocky_term_escape_dup(const char *in, unsigned flags);

/*
 * printf into `out` with the whole result escaped: for a message line whose
 * format is ours but whose arguments are not. A trailing "\n" of `fmt`'s
 * result is kept even without ROCKY_TERM_KEEP_NEWLINE (the line's own end);
 * every other newline follows `flags`. Returns what fputs returns, or EOF
 * when out of memory.
 */
int rocky_term_fprintf(FILE *out, unsigned flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rocky_term_vfprintf(FILE *out, unsigned flags, const char *fmt, va_list ap);

#endif
