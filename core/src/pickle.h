/* A restricted pickle interpreter: it builds a tree of plain values (None,
 * bool, int, float, str, tuple, list, dict) and never runs code. Globals are
 * resolved by the caller's whitelist (anything else fails, naming the
 * global), and REDUCE / persistent ids are handed to the caller's hooks, so
 * the only "callables" are the ones the caller implements in C. Every read is
 * bounds-checked; stack, mark, memo and memory use are capped. Internal to
 * the core. */
#ifndef VLA_PICKLE_H
#define VLA_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "vla/status.h"

typedef enum vla_py_kind {
    VLA_PY_NONE,
    VLA_PY_BOOL,
    VLA_PY_INT,
    VLA_PY_FLOAT,
    VLA_PY_STR,
    VLA_PY_TUPLE,
    VLA_PY_LIST,
    VLA_PY_DICT,
    VLA_PY_GLOBAL, /* a whitelisted global: `id` from the resolver */
    VLA_PY_OPAQUE  /* an object made by a hook: `ptr` */
} vla_py_kind;

typedef struct vla_py vla_py;
struct vla_py {
    vla_py_kind kind;
    int64_t i;        /* BOOL, INT, GLOBAL id */
    double f;         /* FLOAT */
    const char *s;    /* STR (NUL-terminated), GLOBAL "module.name" */
    size_t len;       /* STR byte length; TUPLE/LIST item count; DICT pair count */
    vla_py **items;   /* TUPLE/LIST items; DICT keys */
    vla_py **values;  /* DICT values */
    size_t cap;
    void *ptr;        /* OPAQUE */
};

typedef struct vla_pickle vla_pickle;

typedef struct vla_pickle_hooks {
    void *user;
    /* Map a global to an id >= 0, or fail (VLA_ERR_SECURITY) naming it. */
    vla_status (*find_global)(void *user, const char *module, const char *name, int64_t *id);
    /* BINPERSID */
    vla_status (*persistent_load)(void *user, vla_pickle *vm, const vla_py *pid, vla_py **out);
    /* REDUCE: call the whitelisted global `fn` with the tuple `args`. */
    vla_status (*reduce)(void *user, vla_pickle *vm, const vla_py *fn, const vla_py *args, vla_py **out);
} vla_pickle_hooks;

/* Run the pickle in data[0, len). On success *result is the unpickled object,
 * valid until vla_pickle_free(*vm_out). On failure *vm_out is NULL and
 * nothing needs freeing. `what` names the stream in messages. */
vla_status vla_pickle_run(const char *what, const uint8_t *data, size_t len, const vla_pickle_hooks *hooks,
                          vla_pickle **vm_out, const vla_py **result);
void vla_pickle_free(vla_pickle *vm);

/* For hooks: allocate a value (zeroed except `kind`) or raw memory that
 * lives as long as the interpreter. NULL when out of memory or over the cap. */
vla_py *vla_pickle_new(vla_pickle *vm, vla_py_kind kind);
void *vla_pickle_alloc(vla_pickle *vm, size_t bytes);

/* Short type name for messages: "int", "str", "dict", ... */
const char *vla_py_kind_name(vla_py_kind kind);

#endif
