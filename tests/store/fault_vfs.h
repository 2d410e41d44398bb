/*
 * fault_vfs.h — a SQLite VFS for tests that fails one chosen write, the way
 * SQLite's own test suite injects I/O errors.
 *
 * fault_vfs_install() registers, as the process's default VFS, a shim over
 * the VFS that was the default. It counts every xWrite, xSync and
 * xTruncate on files whose name starts with `prefix` (the state store, its
 * -wal and its -journal; the target database and everything else pass
 * untouched) and fails `fail_count` of them from the `fail_at`th (1-based)
 * on with `rc`: 1 for one I/O error, a few for a disk full for a while
 * (then freed), 0 for every one from there on (a disk that stays full). When it
 * first fails, it creates the file `fired_marker` (if not NULL), so a parent
 * process can tell a run that met the fault from one that did not.
 *
 * Install it once, before any connection is opened; thread-safe (the count
 * is atomic: the runner's recorder and main threads both write the store).
 */
#ifndef ROCKY_TEST_FAULT_VFS_H
#define ROCKY_TEST_FAULT_VFS_H

/* 0 on success, a SQLite error code when the default VFS cannot be wrapped.
 * `rc` is a primary code: SQLITE_FULL, or SQLITE_IOERR (then each
 * operation fails with its extended code, e.g. SQLITE_IOERR_WRITE). */
int fault_vfs_install(const char *prefix, long fail_at, long fail_count, int rc,
                      const char *fired_marker);

/* Writes counted so far. */
long fault_vfs_count(void);

#endif
