/*
 * test_hostile_input.c — the lib/ helpers every command uses on input it
 * does not control: the terminal escaper (term_escape.h) and the bounded
 * regular-file reader (file_read.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_read.h"
#include "rocky/error.h"
#include "term_escape.h"
#include "utf8_decode.h"

/* Nothing a terminal acts on may survive: every byte is part of valid
 * UTF-8 (so no raw 0x80-0x9F), and no C0 but a kept newline, no DEL, no C1
 * U+0080-U+009F, no bidi control U+202A-U+202E / U+2066-U+2069. The ranges
 * are spelled out here, not taken from term_escape.c. */
static void assert_terminal_safe(const char *s, int newline_ok)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = rocky_utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            fail_msg("invalid UTF-8 byte 0x%02x at %zu in \"%s\"",
                     (unsigned char)s[i], i, s);
        if ((cp < 0x20 && !(newline_ok && cp == '\n')) ||
            (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
            fail_msg("control U+%04X at %zu in \"%s\"", (unsigned)cp, i, s);
        i += len;
    }
}

static void test_term_escape_shows_every_control_visibly(void **s)
{
    (void)s;
    char out[256];
    /* title, clear screen, CR overwrite, BEL, DEL */
    rocky_term_escape("a\x1b]0;pwned\x07\x1b[2J\rb\x7f", 0, out, sizeof out);
    assert_string_equal(out, "a\\x1b]0;pwned\\x07\\x1b[2J\\rb\\x7f");
    /* raw C1 byte (invalid UTF-8), encoded C1 (CSI U+009B), NEL U+0085 */
    rocky_term_escape("\x9b"
                      "2J|\xc2\x9b"
                      "2J|\xc2\x85",
                      0, out, sizeof out);
    assert_string_equal(out, "\\x9b2J|\\u009b2J|\\u0085");
    /* bidi overrides and isolates, RLM, line separator */
    rocky_term_escape("x\xe2\x80\xae"
                      "gnp.exe\xe2\x81\xa6\xe2\x81\xa9"
                      "\xe2\x80\x8f\xe2\x80\xa8",
                      0, out, sizeof out);
    assert_string_equal(out, "x\\u202egnp.exe\\u2066\\u2069\\u200f\\u2028");
    /* invalid UTF-8: overlong, surrogate, cut short */
    rocky_term_escape("\xc0\xaf|\xed\xa0\x80|\xe2\x82", 0, out, sizeof out);
    assert_string_equal(out, "\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82");
    /* what is fine passes unchanged: text, UTF-8, tab escaped */
    rocky_term_escape("caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\t\\", 0, out,
                      sizeof out);
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\\t\\");
    /* newline: escaped unless kept */
    rocky_term_escape("a\nb", 0, out, sizeof out);
    assert_string_equal(out, "a\\nb");
    rocky_term_escape("a\nb", ROCKY_TERM_KEEP_NEWLINE, out, sizeof out);
    assert_string_equal(out, "a\nb");
}

static void test_term_escape_never_cuts_an_escape_and_fits_its_bound(void **s)
{
    (void)s;
    char out[6];
    /* "ab" + "\x1b" would be 6 bytes + NUL: the escape is left out whole */
    assert_int_equal(rocky_term_escape("ab\x1b", 0, out, sizeof out), 2);
    assert_string_equal(out, "ab");
    /* worst case: every byte becomes four */
    char in[64];
    for (size_t i = 0; i < sizeof in - 1; i++)
        in[i] = (char)(0x80 + i % 0x40);
    in[sizeof in - 1] = '\0';
    char big[ROCKY_TERM_ESCAPED_SIZE(sizeof in - 1)];
    assert_int_equal(rocky_term_escape(in, 0, big, sizeof big),
                     4 * (sizeof in - 1));
    assert_terminal_safe(big, 0);
    char *dup = rocky_term_escape_dup(NULL, 0);
    assert_string_equal(dup, "");
    free(dup);
}

/* Every byte string of length 1-3 over the interesting bytes: the result
 * is terminal-safe, whatever the input. */
static void test_term_escape_output_is_always_terminal_safe(void **s)
{
    (void)s;
    static const unsigned char bytes[] = {
        0x00, 0x07, 0x0a, 0x0d, 0x1b, 0x41, 0x7f, 0x80, 0x85, 0x9b,
        0x9f, 0xa6, 0xa9, 0xaa, 0xae, 0xc2, 0xe2, 0x81, 0xf0, 0xff};
    size_t nb = sizeof bytes;
    for (size_t a = 1; a < nb; a++)
        for (size_t b = 0; b < nb; b++)
            for (size_t c = 0; c < nb; c++) {
                char in[4] = {(char)bytes[a], (char)bytes[b], (char)bytes[c],
                              0};
                char out[ROCKY_TERM_ESCAPED_SIZE(3)];
                rocky_term_escape(in, 0, out, sizeof out);
                assert_terminal_safe(out, 0);
                rocky_term_escape(in, ROCKY_TERM_KEEP_NEWLINE, out, sizeof out);
                assert_terminal_safe(out, 1);
            }
}

struct tmp {
    char dir[64];
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/rocky-hostile-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    *state = t;
    /* A regression would block in open() or read() for ever. */
    alarm(20);
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    alarm(0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    if (system(cmd) != 0)
        return -1;
    free(t);
    return 0;
}

static char *in_dir(struct tmp *t, const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_file_read_reads_regular_files_and_symlinks_to_them(void **state)
{
    struct tmp *t = *state;
    write_file(in_dir(t, "a.sql"), "SELECT 1");
    assert_int_equal(symlink("a.sql", in_dir(t, "link.sql")), 0);
    char *buf = NULL, why[256] = "";
    size_t len = 0;
    assert_int_equal(rocky_file_read(in_dir(t, "link.sql"), 100, &buf, &len,
                                     why, sizeof why),
                     0);
    assert_string_equal(buf, "SELECT 1");
    assert_int_equal(len, 8);
    free(buf);
    /* exactly at the limit is fine; one byte over is not */
    assert_int_equal(
        rocky_file_read(in_dir(t, "a.sql"), 8, &buf, &len, why, sizeof why), 0);
    free(buf);
    assert_int_equal(
        rocky_file_read(in_dir(t, "a.sql"), 7, &buf, &len, why, sizeof why),
        ROCKY_EREFUSED);
    assert_null(buf);
    assert_non_null(strstr(why, "limit of 7 bytes"));
    assert_int_equal(
        rocky_file_read(in_dir(t, "missing"), 8, &buf, &len, why, sizeof why),
        ROCKY_ENOTFOUND);
}

static void test_file_read_refuses_a_fifo_at_once(void **state)
{
    struct tmp *t = *state;
    assert_int_equal(mkfifo(in_dir(t, "fifo.sql"), 0600), 0);
    char *buf = NULL, why[256] = "";
    size_t len = 0;
    assert_int_equal(rocky_file_read(in_dir(t, "fifo.sql"), 100, &buf, &len,
                                     why, sizeof why),
                     ROCKY_EINVAL);
    assert_non_null(strstr(why, "FIFO"));
}

static void test_file_read_refuses_dev_zero_and_directories(void **state)
{
    struct tmp *t = *state;
    assert_int_equal(symlink("/dev/zero", in_dir(t, "zero.sql")), 0);
    char *buf = NULL, why[256] = "";
    size_t len = 0;
    assert_int_equal(rocky_file_read(in_dir(t, "zero.sql"), 1 << 20, &buf, &len,
                                     why, sizeof why),
                     ROCKY_EINVAL);
    assert_non_null(strstr(why, "character device"));
    assert_int_equal(
        rocky_file_read(t->dir, 1 << 20, &buf, &len, why, sizeof why),
        ROCKY_EINVAL);
    assert_non_null(strstr(why, "directory"));
}

/* A "regular" file whose size says 0 but that never ends (procfs-like):
 * the limit still holds. */
static void test_file_read_stops_at_the_limit_when_size_lies(void **state)
{
    (void)state;
    char *buf = NULL, why[256] = "";
    size_t len = 0;
    /* /proc/self/maps reports st_size 0 and holds more than 16 bytes */
    int rc =
        rocky_file_read("/proc/self/maps", 16, &buf, &len, why, sizeof why);
    if (rc == ROCKY_ENOTFOUND)
        skip();
    assert_int_equal(rc, ROCKY_EREFUSED);
    assert_null(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_escape_shows_every_control_visibly),
        cmocka_unit_test(
            test_term_escape_never_cuts_an_escape_and_fits_its_bound),
        cmocka_unit_test(test_term_escape_output_is_always_terminal_safe),
        cmocka_unit_test_setup_teardown(
            test_file_read_reads_regular_files_and_symlinks_to_them, tmp_setup,
            tmp_teardown),
        cmocka_unit_test_setup_teardown(test_file_read_refuses_a_fifo_at_once,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(
            test_file_read_refuses_dev_zero_and_directories, tmp_setup,
            tmp_teardown),
        cmocka_unit_test(test_file_read_stops_at_the_limit_when_size_lies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
