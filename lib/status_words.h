/*
 * status_words.h — the `status` words of rocky's JSON documents: TraceOutput
 * (`rocky trace --json`) and RunOutput (`rocky run --json`) say the same
 * thing the same way. The stored words (rocky_run_status_name) stay in
 * `run_status`.
 */
#ifndef ROCKY_STATUS_WORDS_H
#define ROCKY_STATUS_WORDS_H

#include <stdint.h>

#include "rocky/run_model.h"

/* A run's `status`: success, partial_failure, failure, running,
 * interrupted_failure, crashed_failure, incomplete_error, unknown_error —
 * every status of a run that did not end well matches /fail|error/. */
const char *rocky_run_status_word(uint32_t status);

/* A model's `status`: pending, running, success, failed, skipped,
 * interrupted_failure, unknown_error. */
const char *rocky_model_status_word(uint32_t status);

#endif
