/* file_read.c — see file_read.h. */
#include "file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rocky/error.h"

static const char *kind_of(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

static int too_large(size_t max_bytes, char *reason, size_t reason_size)
{
    snprintf(reason, reason_size, "larger than the limit of %zu bytes",
             max_bytes);
    return ROCKY_EREFUSED;
}

int rocky_file_read(const char *path, size_t max_bytes, char **out, size_t *len,
                    char *reason, size_t reason_size)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO for reading blocks until a writer opens
     * it; with it the open returns and fstat says what we have. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        snprintf(reason, reason_size, "%s", strerror(e));
        return e == ENOENT || e == ENOTDIR ? ROCKY_ENOTFOUND : ROCKY_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(reason, reason_size, "%s", strerror(errno));
        close(fd);
        return ROCKY_EIO;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(reason, reason_size, "%s, not a regular file",
                 kind_of(sb.st_mode));
        close(fd);
        return ROCKY_EINVAL;
    }
    if ((unsigned long long)sb.st_size > max_bytes) {
        close(fd);
        return too_large(max_bytes, reason, reason_size);
    }
    /* One exact-size buffer (projects have thousands of small files); it
     * grows only when the file grew since fstat, up to the limit + 1 byte,
     * which tells "at the limit" from "over it". */
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : ROCKY_ENOMEM;
    while (rc == 0) {
        if (n + 1 == cap) {
            if (n > max_bytes) {
                rc = too_large(max_bytes, reason, reason_size);
                break;
            }
            size_t want = cap * 2 < max_bytes + 2 ? cap * 2 : max_bytes + 2;
            char *b = realloc(buf, want);
            if (b == NULL) {
                rc = ROCKY_ENOMEM;
                break;
            }
            buf = b;
            cap = want;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(reason, reason_size, "%s", strerror(errno));
            rc = ROCKY_EIO;
        } else if (got == 0) {
            break;
        } else {
            n += (size_t)got;
        }
    }
    close(fd);
    if (rc == 0 && n > max_bytes)
        rc = too_large(max_bytes, reason, reason_size);
    if (rc != 0) {
        if (rc == ROCKY_ENOMEM)
            snprintf(reason, reason_size, "out of memory");
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
