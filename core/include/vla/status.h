/* Status codes and the thread-local last-error message.
 *
 * Every fallible function returns vla_status. On failure it has recorded a
 * human-readable message (what failed, where: file, line, key path or tensor
 * name, and why) that vla_last_error() returns until the next error on the
 * same thread. The library never exits or aborts. */
#ifndef VLA_STATUS_H
#define VLA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vla_status {
    VLA_OK = 0,
    VLA_ERR_INVALID_ARG,   /* caller passed something unusable */
    VLA_ERR_IO,            /* open/read/mmap failed */
    VLA_ERR_PARSE,         /* malformed YAML, JSON, pickle, image, ... */
    VLA_ERR_NOT_FOUND,     /* missing key, tensor, file or plugin */
    VLA_ERR_TYPE,          /* value of the wrong type or dtype */
    VLA_ERR_SHAPE,         /* tensor shapes do not fit */
    VLA_ERR_OOM,           /* allocation failed */
    VLA_ERR_UNSUPPORTED,   /* valid request this build or backend cannot do */
    VLA_ERR_ABI,           /* plugin ABI mismatch */
    VLA_ERR_PLUGIN,        /* plugin failed to load or misbehaved */
    VLA_ERR_BACKEND,       /* compute backend failure (CUDA, cuBLAS, ...) */
    VLA_ERR_SECURITY,      /* input tried something forbidden (pickle global, ...) */
    VLA_ERR_LIMIT          /* input exceeds a safety limit */
} vla_status;

/* Record a printf-style message for `code` and return `code`. */
vla_status vla_error(vla_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepend context to the current message: "<context>: <old message>".
 * Returns `code` so it can wrap a failing call: return vla_error_context(s, "%s", path); */
vla_status vla_error_context(vla_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message of the last error on this thread ("" if none). */
const char *vla_last_error(void);
void vla_clear_error(void);

/* Short stable name of a code, e.g. "parse error". */
const char *vla_status_name(vla_status code);

/* Propagate a failure: VLA_TRY(vla_matmul(...)); */
#define VLA_TRY(expr)                          \
    do {                                       \
        vla_status vla_try_s_ = (expr);        \
        if (vla_try_s_ != VLA_OK) return vla_try_s_; \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
