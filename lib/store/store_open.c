/* store_open.c — opening and closing the state store (see lib/store.h). */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* What to do about a failure the user can fix, by SQLite's primary code;
 * NULL when SQLite's own message is all there is to say. */
static const char *remedy(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return "the disk is full: free space on the file system that holds "
               "it (or point --state at another one) and run again";
    case SQLITE_IOERR:
        return "the device failed a read or write (disk I/O error): check the "
               "file system that holds it";
    case SQLITE_READONLY:
        return "the store is read-only: make the file and its directory "
               "writable by this user, or point --state at a writable path";
    default: return NULL;
    }
}

int rocky_store_fail(struct rocky_store *s, int rc, const char *what, char *err,
                     size_t err_size)
{
    const char *fix = remedy(rc);
    if (fix != NULL)
        rocky_store_errf(err, err_size, "state store %s: %s: %s", s->path, what,
                         fix);
    else
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
    if (rc != SQLITE_OK)
        return rocky_store_fail(s, rc, "enabling WAL", err, err_size);
    return 0;
}

/* `path` with `suffix` appended, in `buf`. */
static const char *with_suffix(char *buf, size_t size, const char *path,
                               const char *suffix)
{
    snprintf(buf, size, "%s%s", path, suffix);
    return buf;
}

/*
 * Before a writer opens the store: refuse a store this user cannot write,
 * precisely, and before SQLite creates anything. SQLite would open a
 * read-only file read-only without a word, create its -shm with the file's
 * (read-only) mode, and fail at the first write; that -shm then broke every
 * later run even after the file was made writable.
 *
 * A -wal or -shm this user cannot write (left by such a run, or by a reader
 * of a read-only file) holds nothing that is not elsewhere — the -shm is an
 * index rebuilt from the -wal, and a -wal we can read is recovered through
 * it — so when it is ours it is made writable again (chmod, like the
 * database); one of another user is reported with what to do.
 */
static int check_writable(const char *path, int exists, char *err,
                          size_t err_size)
{
    char *dir = strdup(path);
    if (dir == NULL)
        return ROCKY_ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int code = 0;
    struct stat db;
    if (exists && access(path, R_OK | W_OK) != 0) {
        rocky_store_errf(err, err_size,
                         "state store %s is read-only for this user (%s); "
                         "make it writable (chmod u+w), or point --state at "
                         "a writable path",
                         path, strerror(errno));
        code = ROCKY_EIO;
    } else if (access(dir, W_OK | X_OK) != 0) {
        rocky_store_errf(err, err_size,
                         "state store %s cannot be written: its directory %s "
                         "is not writable (%s), and SQLite keeps its journal "
                         "there; make it writable, or point --state "
                         "elsewhere",
                         path, dir, strerror(errno));
        code = ROCKY_EIO;
    }
    static const char *const sidecars[] = {"-wal", "-shm"};
    for (size_t i = 0; code == 0 && exists && i < 2; i++) {
        char side[4096];
        struct stat sb;
        with_suffix(side, sizeof side, path, sidecars[i]);
        if (stat(side, &sb) != 0 || access(side, R_OK | W_OK) == 0)
            continue;
        if (sb.st_uid == geteuid() && stat(path, &db) == 0 &&
            chmod(side, (db.st_mode & 0666) | 0600) == 0)
            continue;
        rocky_store_errf(err, err_size,
                         "state store %s: %s is not writable by this user "
                         "(left by a run of another user or with other "
                         "permissions); when no rocky uses the store, give "
                         "it to this user (chown) or delete it, then run "
                         "again",
                         path, side);
        code = ROCKY_EIO;
    }
    free(dir);
    return code;
}

/* "file:<path>?immutable=1", the path percent-encoded as a URI needs. */
static char *immutable_uri(const char *path)
{
    size_t n = strlen(path);
    char *uri = malloc(3 * n + 32);
    if (uri == NULL)
        return NULL;
    char *p = uri + sprintf(uri, "file:");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (strchr("?#%", *c) != NULL || *c < 0x21 || *c >= 0x7f)
            p += sprintf(p, "%%%02X", *c);
        else
            *p++ = (char)*c;
    }
    strcpy(p, "?immutable=1");
    return uri;
}

/* 1 when the store's write-ahead log holds nothing: no -wal, or an empty
 * one. */
static int wal_is_empty(const char *path)
{
    char side[4096];
    struct stat sb;
    return stat(with_suffix(side, sizeof side, path, "-wal"), &sb) != 0 ||
           sb.st_size == 0;
}

/* A reader's first look at the file (the first read sets up WAL access). */
static int probe(sqlite3 *db)
{
    return sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
                        NULL);
}

/*
 * Open for reading. A WAL-mode database can only be read where its -shm
 * (and -wal) exist or can be created (SQLite, "WAL-mode read-only
 * databases"); in a read-only directory after a clean close, neither
 * exists. Then, and only when there is no write-ahead log to miss, the file
 * is opened immutable: read as it is, with no -shm, no lock and nothing
 * created. Nobody can be writing it then, as a writer needs the -wal that
 * is not there.
 */
static int open_reader(struct rocky_store *s, char *err, size_t err_size)
{
    int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = probe(s->db);
    int primary = rc & 0xff;
    if ((primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
         primary == SQLITE_IOERR) &&
        wal_is_empty(s->path)) {
        char *uri = immutable_uri(s->path);
        if (uri == NULL)
            return ROCKY_ENOMEM;
        sqlite3_close_v2(s->db);
        s->db = NULL;
        rc = sqlite3_open_v2(uri, &s->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        free(uri);
        if (rc == SQLITE_OK)
            rc = probe(s->db);
    }
    if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_NOTADB)
        return 0; /* not a database: schema_prepare says so */
    if (s->db != NULL && !wal_is_empty(s->path))
        rocky_store_errf(err, err_size,
                         "cannot read state store %s: its write-ahead log "
                         "%s-wal holds data that needs a %s-shm this user "
                         "cannot create (%s); read it once with write access "
                         "to its directory, or copy the directory elsewhere",
                         s->path, s->path, s->path, sqlite3_errmsg(s->db));
    else
        rocky_store_errf(err, err_size, "cannot open state store %s: %s",
                         s->path,
                         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    int code = rocky_store_map_rc(rc);
    return code == ROCKY_ENOTFOUND ? ROCKY_EIO : code;
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
    int exists = stat(path, &sb) == 0;
    if (!exists) {
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
    if (writable) {
        int code = check_writable(path, exists, err, err_size);
        if (code != 0)
            return code;
    }

    struct rocky_store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return ROCKY_ENOMEM;
    }
    s->writable = writable;
    int code = 0;
    if (writable) {
        int rc = sqlite3_open_v2(
            path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
            rocky_store_errf(
                err, err_size, "cannot open state store %s: %s", path,
                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
            code = rocky_store_map_rc(rc);
            code = code == ROCKY_ENOTFOUND ? ROCKY_EIO : code;
        }
    } else {
        code = open_reader(s, err, err_size);
    }
    if (code != 0) {
        rocky_store_close(s);
        return code;
    }
    sqlite3_busy_timeout(s->db, ROCKY_STORE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 0);

    /* Identify the file before anything is written to it: a file that is
     * not ours is refused as it is (never migrated, never switched to
     * WAL). */
    code = rocky_store_schema_prepare(s, err, err_size);
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
    sqlite3_finalize(store->upd_model);
    sqlite3_close_v2(store->db);
    free(store->path);
    free(store);
}
