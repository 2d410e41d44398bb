/* fault_vfs.c — see fault_vfs.h. */
#include "fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

struct fault_file {
    const sqlite3_io_methods *methods; /* first: this is a sqlite3_file */
    int counted;                       /* a file of the store */
    sqlite3_file *real;                /* the wrapped VFS's file, after us */
};

static sqlite3_vfs *base;
static sqlite3_vfs shim;
static sqlite3_io_methods methods;
static char prefix[4096];
static long fail_at;
static long fail_count;
static int fail_rc;
static char marker[4096];
static atomic_long count;
static atomic_int fired;

long fault_vfs_count(void)
{
    return atomic_load(&count);
}

/* 0, or the error this operation must fail with. */
static int fault(struct fault_file *f, int ioerr)
{
    if (!f->counted)
        return 0;
    long n = atomic_fetch_add(&count, 1) + 1;
    if (n < fail_at || (fail_count > 0 && n >= fail_at + fail_count))
        return 0;
    if (atomic_exchange(&fired, 1) == 0 && marker[0] != '\0') {
        int fd = open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
    return fail_rc == SQLITE_IOERR ? ioerr : fail_rc;
}

#define REAL(file) (((struct fault_file *)(file))->real)

static int x_close(sqlite3_file *file)
{
    return REAL(file)->pMethods->xClose(REAL(file));
}
static int x_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
    return REAL(file)->pMethods->xRead(REAL(file), buf, n, off);
}
static int x_write(sqlite3_file *file, const void *buf, int n,
                   sqlite3_int64 off)
{
    int rc = fault((struct fault_file *)file, SQLITE_IOERR_WRITE);
    return rc ? rc : REAL(file)->pMethods->xWrite(REAL(file), buf, n, off);
}
static int x_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    int rc = fault((struct fault_file *)file, SQLITE_IOERR_TRUNCATE);
    return rc ? rc : REAL(file)->pMethods->xTruncate(REAL(file), size);
}
static int x_sync(sqlite3_file *file, int flags)
{
    int rc = fault((struct fault_file *)file, SQLITE_IOERR_FSYNC);
    return rc ? rc : REAL(file)->pMethods->xSync(REAL(file), flags);
}
static int x_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}
static int x_lock(sqlite3_file *file, int lock)
{
    return REAL(file)->pMethods->xLock(REAL(file), lock);
}
static int x_unlock(sqlite3_file *file, int lock)
{
    return REAL(file)->pMethods->xUnlock(REAL(file), lock);
}
static int x_check_reserved(sqlite3_file *file, int *out)
{
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}
static int x_file_control(sqlite3_file *file, int op, void *arg)
{
    return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}
static int x_sector_size(sqlite3_file *file)
{
    return REAL(file)->pMethods->xSectorSize(REAL(file));
}
static int x_device_characteristics(sqlite3_file *file)
{
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}
static int x_shm_map(sqlite3_file *file, int pg, int sz, int extend,
                     void volatile **out)
{
    return REAL(file)->pMethods->xShmMap(REAL(file), pg, sz, extend, out);
}
static int x_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}
static void x_shm_barrier(sqlite3_file *file)
{
    REAL(file)->pMethods->xShmBarrier(REAL(file));
}
static int x_shm_unmap(sqlite3_file *file, int del)
{
    return REAL(file)->pMethods->xShmUnmap(REAL(file), del);
}
static int x_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
    return REAL(file)->pMethods->xFetch(REAL(file), off, n, out);
}
static int x_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static int x_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                  int flags, int *out_flags)
{
    (void)vfs;
    struct fault_file *f = (struct fault_file *)file;
    f->real = (sqlite3_file *)(f + 1);
    int rc = base->xOpen(base, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->methods = NULL; /* SQLite calls no method of a failed open */
        return rc;
    }
    f->counted = name != NULL && strncmp(name, prefix, strlen(prefix)) == 0;
    /* Same version as the wrapped file's methods: SQLite checks iVersion
     * before it calls xShm* (2) and xFetch (3). */
    methods.iVersion = f->real->pMethods->iVersion;
    f->methods = &methods;
    return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *v, const char *name, int sync)
{
    (void)v;
    return base->xDelete(base, name, sync);
}
static int x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return base->xAccess(base, name, flags, out);
}
static int x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return base->xFullPathname(base, name, n, out);
}
static void *x_dl_open(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return base->xDlOpen(base, name);
}
static void x_dl_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    base->xDlError(base, n, out);
}
static void (*x_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return base->xDlSym(base, h, sym);
}
static void x_dl_close(sqlite3_vfs *v, void *h)
{
    (void)v;
    base->xDlClose(base, h);
}
static int x_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return base->xRandomness(base, n, out);
}
static int x_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return base->xSleep(base, us);
}
static int x_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return base->xCurrentTime(base, out);
}
static int x_get_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return base->xGetLastError ? base->xGetLastError(base, n, out) : 0;
}
static int x_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return base->xCurrentTimeInt64(base, out);
}

int fault_vfs_install(const char *file_prefix, long at, long how_many, int rc,
                      const char *fired_marker)
{
    base = sqlite3_vfs_find(NULL);
    if (base == NULL || base->iVersion < 2)
        return SQLITE_ERROR;
    strncpy(prefix, file_prefix, sizeof prefix - 1);
    strncpy(marker, fired_marker ? fired_marker : "", sizeof marker - 1);
    fail_at = at;
    fail_count = how_many;
    fail_rc = rc;
    methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = x_close,
        .xRead = x_read,
        .xWrite = x_write,
        .xTruncate = x_truncate,
        .xSync = x_sync,
        .xFileSize = x_file_size,
        .xLock = x_lock,
        .xUnlock = x_unlock,
        .xCheckReservedLock = x_check_reserved,
        .xFileControl = x_file_control,
        .xSectorSize = x_sector_size,
        .xDeviceCharacteristics = x_device_characteristics,
        .xShmMap = x_shm_map,
        .xShmLock = x_shm_lock,
        .xShmBarrier = x_shm_barrier,
        .xShmUnmap = x_shm_unmap,
        .xFetch = x_fetch,
        .xUnfetch = x_unfetch,
    };
    shim = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct fault_file) + base->szOsFile,
        .mxPathname = base->mxPathname,
        .zName = "rocky_fault",
        .xOpen = x_open,
        .xDelete = x_delete,
        .xAccess = x_access,
        .xFullPathname = x_full_pathname,
        .xDlOpen = x_dl_open,
        .xDlError = x_dl_error,
        .xDlSym = x_dl_sym,
        .xDlClose = x_dl_close,
        .xRandomness = x_randomness,
        .xSleep = x_sleep,
        .xCurrentTime = x_current_time,
        .xGetLastError = x_get_last_error,
        .xCurrentTimeInt64 = x_current_time_int64,
    };
    return sqlite3_vfs_register(&shim, 1);
}
