/* status_words.c — the status words of rocky's JSON documents (see
 * status_words.h). */
#include "status_words.h"

/* `status` of TraceOutput: upstream's words where upstream has the status
 * (success, partial_failure, failure); for ours, a word that says how the
 * run ended and carries "failure" when the pipeline did not do all it was
 * asked (stopped, killed) or "error" when the record itself is at fault
 * (the store lost models, a status this rocky cannot name). `running` is
 * neither: the run has not ended. run_status keeps the stored word. */
const char *rocky_run_status_word(uint32_t status)
{
    switch (status) {
    case ROCKY_RUN_RUNNING: return "running";
    case ROCKY_RUN_SUCCESS: return "success";
    case ROCKY_RUN_PARTIAL_FAILURE: return "partial_failure";
    case ROCKY_RUN_FAILURE: return "failure";
    case ROCKY_RUN_INTERRUPTED: return "interrupted_failure";
    case ROCKY_RUN_CRASHED: return "crashed_failure";
    case ROCKY_RUN_INCOMPLETE: return "incomplete_error";
    default: return "unknown_error";
    }
}

/* A model's `status`: upstream's "success" and "failed"; an interrupted
 * model did not finish its table, so it is flagged like a failure. */
const char *rocky_model_status_word(uint32_t status)
{
    switch (status) {
    case ROCKY_MODEL_INTERRUPTED: return "interrupted_failure";
    case ROCKY_MODEL_PENDING:
    case ROCKY_MODEL_RUNNING:
    case ROCKY_MODEL_SUCCESS:
    case ROCKY_MODEL_FAILED:
    case ROCKY_MODEL_SKIPPED: return rocky_model_status_name(status);
    default: return "unknown_error";
    }
}
