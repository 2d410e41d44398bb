/*
 * rocky/error.h — the one error convention of rocky and its plugins.
 *
 * Every function in rocky's public and internal APIs returns 0 on success
 * and a negative ROCKY_E* code on failure. There is no errno side channel:
 * when a function can say more than its code, it takes an explicit error
 * buffer argument.
 *
 * The codes are generated from one X-macro list (ROCKY_ERRNO_MAP) so that the
 * enum, rocky_strerror() and rocky_err_name() cannot drift apart. New codes
 * are only ever appended with a new, more negative value: plugins compiled
 * against an older header see an unknown negative number, which they must
 * treat as a generic failure.
 *
 * The numeric values are part of the plugin ABI (plugins return them from
 * their callbacks), so they never change once released.
 */
#ifndef ROCKY_ERROR_H
#define ROCKY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, "human message") */
#define ROCKY_ERRNO_MAP(X)                                                     \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(EIO, -3, "input/output error")                                           \
    X(ENOTFOUND, -4, "not found")                                              \
    X(EVERSION, -5, "incompatible version")                                    \
    X(ECORRUPT, -6, "corrupt or unrecognised data")                            \
    X(ETIMEDOUT, -7, "deadline exceeded")                                      \
    X(EAGAIN, -8, "resource temporarily unavailable (queue full)")             \
    X(ESHUTDOWN, -9, "already shut down")                                      \
    X(EREFUSED, -10, "refused")                                                \
    X(EINTERRUPTED, -11, "interrupted")                                        \
    X(EINTERNAL, -12, "internal error")                                        \
    X(EEXIST, -13, "already exists")                                           \
    X(ECYCLE, -14, "dependency cycle")

enum rocky_errno {
    ROCKY_OK = 0,
#define ROCKY_ERRNO_ENUM_(name, value, msg) ROCKY_##name = (value),
    ROCKY_ERRNO_MAP(ROCKY_ERRNO_ENUM_)
#undef ROCKY_ERRNO_ENUM_
};

/*
 * rocky_strerror — a static, human-readable message for an error code.
 * Never returns NULL; unknown codes map to "unknown error". Thread-safe.
 * Static inline, so a plugin that only includes the headers can call it
 * without linking anything of rocky; for codes newer than the header it was
 * built with, a plugin asks the host (host->strerror in rocky/plugin.h).
 */
static inline const char *rocky_strerror(int code)
{
    switch (code) {
    case ROCKY_OK: return "success";
#define ROCKY_ERRNO_MSG_(name, value, msg)                                     \
    case value: return msg;
        ROCKY_ERRNO_MAP(ROCKY_ERRNO_MSG_)
#undef ROCKY_ERRNO_MSG_
    default: return "unknown error";
    }
}

/*
 * rocky_err_name — the code's symbolic name without the ROCKY_ prefix
 * ("EINVAL"), or "UNKNOWN". Never returns NULL. Thread-safe. Static inline,
 * like rocky_strerror.
 */
static inline const char *rocky_err_name(int code)
{
    switch (code) {
    case ROCKY_OK: return "OK";
#define ROCKY_ERRNO_NAME_(name, value, msg)                                    \
    case value: return #name;
        ROCKY_ERRNO_MAP(ROCKY_ERRNO_NAME_)
#undef ROCKY_ERRNO_NAME_
    default: return "UNKNOWN";
    }
}

#ifdef __cplusplus
}
#endif

#endif /* ROCKY_ERROR_H */
