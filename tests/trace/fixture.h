/*
 * fixture.h — runs for the trace tests, built in memory or written to a real
 * state store through lib/store.h (the same path the runner takes).
 *
 * Times are milliseconds from FX_BASE_NS, a fixed wall time, so expected
 * offsets are exact.
 */
#ifndef ROCKY_TESTS_TRACE_FIXTURE_H
#define ROCKY_TESTS_TRACE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "run_record.h"

#define FX_BASE_NS INT64_C(1764050400000000000) /* 2025-11-25T06:00:00Z */
#define FX_MS(ms)  (FX_BASE_NS + (int64_t)(ms)*INT64_C(1000000))

/* A new record for run `run_id` started at FX_MS(0) and finished at
 * FX_MS(end_ms) (end_ms < 0: still running) with `status`. Aborts the test
 * process on allocation failure. */
struct rocky_run_record *fx_record(const char *run_id, int64_t end_ms,
                                   uint32_t status);

/* Append a model that ran [start_ms, end_ms) (start_ms < 0: never started;
 * end_ms < 0: still running) with `status`, rows = 10, bytes = 100 and the
 * NULL-terminated dependency list `deps` (may be NULL). */
void fx_model(struct rocky_run_record *rec, const char *name, int64_t start_ms,
              int64_t end_ms, uint32_t status, const char *const *deps);

/* Write `rec` into the store at `path` (created if missing): run_begin, every
 * model, and run_finish unless the run is still running. Returns 0 or the
 * store's error code (message on stderr). */
int fx_write_store(const char *path, const struct rocky_run_record *rec);

/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); the caller
 * removes it with fx_rmtree. Returns a heap string. */
char *fx_tempdir(void);

/* Remove `dir` and everything in it (one level of files). */
void fx_rmtree(const char *dir);

#endif
