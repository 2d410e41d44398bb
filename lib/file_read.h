/*
 * file_read.h — the one "read a whole file" of the tree, for inputs a
 * project or the environment names: model .sql files, rocky.json, a
 * collector's CA certificate.
 *
 * Such a path can name anything: a FIFO (open() would block until a writer
 * comes, for ever), /dev/zero (read() never ends), a directory, or a file
 * larger than any sane input. Only regular files are read — a symlink is
 * followed, so a link to a regular file works — and never more than the
 * caller's limit.
 */
#ifndef ROCKY_FILE_READ_H
#define ROCKY_FILE_READ_H

#include <stddef.h>

/*
 * Read the regular file `path` into a new NUL-terminated heap buffer
 * (*out, free() it; *len bytes, not counting the NUL). The file is opened
 * with O_NONBLOCK, so a FIFO is refused at once instead of blocking, and
 * checked with fstat() on the descriptor actually read. At most
 * `max_bytes` are read: a larger file (or one that grows past the limit
 * while read) is refused, never truncated.
 *
 * Returns 0, or a negative ROCKY_E… code with a reason in `reason`
 * (`reason_size` bytes; the caller names the file and says what to do):
 *   ROCKY_ENOTFOUND  no such file (ENOENT or ENOTDIR)
 *   ROCKY_EINVAL     not a regular file ("a FIFO", "a character device",
 *                    "a directory", ...)
 *   ROCKY_EREFUSED   larger than max_bytes
 *   ROCKY_EIO        open/read failed otherwise (strerror text)
 *   ROCKY_ENOMEM     out of memory
 * Thread-safe.
 */
int rocky_file_read(const char *path, size_t max_bytes, char **out, size_t *len,
                    char *reason, size_t reason_size);

#endif
