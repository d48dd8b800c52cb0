#include "vla/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VLA_ERROR_CAP 4096

static _Thread_local char last_error[VLA_ERROR_CAP];

vla_status vla_error(vla_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

vla_status vla_error_context(vla_status code, const char *fmt, ...) {
    char prefix[1024];
    char old[VLA_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    if (old[0])
        snprintf(last_error, sizeof last_error, "%s: %s", prefix, old);
    else
        snprintf(last_error, sizeof last_error, "%s: %s", prefix, vla_status_name(code));
    return code;
}

const char *vla_last_error(void) { return last_error; }

void vla_clear_error(void) { last_error[0] = '\0'; }

const char *vla_status_name(vla_status code) {
    switch (code) {
    case VLA_OK: return "ok";
    case VLA_ERR_INVALID_ARG: return "invalid argument";
    case VLA_ERR_IO: return "I/O error";
    case VLA_ERR_PARSE: return "parse error";
    case VLA_ERR_NOT_FOUND: return "not found";
    case VLA_ERR_TYPE: return "type error";
    case VLA_ERR_SHAPE: return "shape error";
    case VLA_ERR_OOM: return "out of memory";
    case VLA_ERR_UNSUPPORTED: return "unsupported";
    case VLA_ERR_ABI: return "ABI mismatch";
    case VLA_ERR_PLUGIN: return "plugin error";
    case VLA_ERR_BACKEND: return "backend error";
    case VLA_ERR_SECURITY: return "refused for security";
    case VLA_ERR_LIMIT: return "limit exceeded";
    }
    return "unknown error";
}
