/* error.c — rocky_strerror / rocky_err_name from the one X-macro list. */
#include "rocky/error.h"

const char *rocky_strerror(int code)
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

const char *rocky_err_name(int code)
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
