/* store_open.c — opening and closing the state store (see lib/store.h). */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rocky/error.h"

void rocky_store_errf(char *err, size_t err_size, const char *fmt, ...)
{
    if (err == NULL || err_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

int rocky_store_need_writable(struct rocky_store *s, char *err, size_t err_size)
{
    if (s == NULL) {
        rocky_store_errf(err, err_size, "no state store");
        return ROCKY_EINVAL;
    }
    if (!s->writable) {
        rocky_store_errf(err, err_size, "state store %s is open read-only",
                         s->path);
        return ROCKY_EINVAL;
    }
    return 0;
}

int rocky_store_fail(struct rocky_store *s, int rc, const char *what, char *err,
                     size_t err_size)
{
    rocky_store_errf(err, err_size, "state store %s: %s: %s", s->path, what,
                     sqlite3_errmsg(s->db));
    return rocky_store_map_rc(rc);
}

int rocky_store_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return 0;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT: return ROCKY_ECORRUPT;
    case SQLITE_NOMEM: return ROCKY_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return ROCKY_ETIMEDOUT;
    case SQLITE_INTERRUPT: return ROCKY_EINTERRUPTED;
    case SQLITE_CONSTRAINT: return ROCKY_EEXIST;
    case SQLITE_CANTOPEN: return ROCKY_ENOTFOUND;
    default: return ROCKY_EIO;
    }
}

/* mkdir the parent of `path` (one level: <project>/.rocky). */
static int make_parent(const char *path, char *err, size_t err_size)
{
    char *dir = strdup(path);
    if (dir == NULL)
        return ROCKY_ENOMEM;
    char *slash = strrchr(dir, '/');
    int code = 0;
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            rocky_store_errf(err, err_size,
                             "cannot create the state store directory %s: "
                             "%s",
                             dir, strerror(errno));
            code = ROCKY_EIO;
        }
    }
    free(dir);
    return code;
}

static int pragmas(struct rocky_store *s, char *err, size_t err_size)
{
    /* WAL: readers never block the writer and vice versa. synchronous=NORMAL
     * in WAL keeps every commit across a process kill (SIGKILL, OOM); only
     * an OS crash or power loss can drop the last commits. */
    int rc = sqlite3_exec(s->db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rocky_store_errf(err, err_size, "state store %s: enabling WAL: %s",
                         s->path, sqlite3_errmsg(s->db));
        return rocky_store_map_rc(rc);
    }
    return 0;
}

int rocky_store_open(const char *path, int flags, struct rocky_store **out,
                     char *err, size_t err_size)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        rocky_store_errf(err, err_size, "no state store path given");
        return ROCKY_EINVAL;
    }
    int writable = flags == ROCKY_STORE_READWRITE;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!writable) {
            rocky_store_errf(err, err_size,
                             "no state store at %s (run `rocky run` first, "
                             "or pass --state PATH)",
                             path);
            return ROCKY_ENOTFOUND;
        }
        int code = make_parent(path, err, err_size);
        if (code != 0)
            return code;
    } else if (!S_ISREG(sb.st_mode)) {
        rocky_store_errf(err, err_size, "state store %s is not a regular file",
                         path);
        return ROCKY_ECORRUPT;
    }

    struct rocky_store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return ROCKY_ENOMEM;
    }
    s->writable = writable;
    int oflags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                          : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        rocky_store_errf(err, err_size, "cannot open state store %s: %s", path,
                         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        int code = rocky_store_map_rc(rc);
        rocky_store_close(s);
        return code == ROCKY_ENOTFOUND ? ROCKY_EIO : code;
    }
    sqlite3_busy_timeout(s->db, ROCKY_STORE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 0);

    int code = rocky_store_schema_prepare(s, err, err_size);
    if (code == 0 && writable)
        code = pragmas(s, err, err_size);
    if (code != 0) {
        rocky_store_close(s);
        return code;
    }
    *out = s;
    return 0;
}

void rocky_store_close(struct rocky_store *store)
{
    if (store == NULL)
        return;
    sqlite3_finalize(store->ins_model);
    sqlite3_close_v2(store->db);
    free(store->path);
    free(store);
}
