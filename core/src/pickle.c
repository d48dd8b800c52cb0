/* Restricted pickle interpreter. Supported opcodes (what torch.save writes
 * with protocols 2 to 4, plus their plain-data neighbours):
 *   PROTO FRAME STOP MARK POP POP_MARK DUP
 *   NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 BINFLOAT
 *   BINUNICODE SHORT_BINUNICODE BINUNICODE8
 *   EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS
 *   EMPTY_DICT DICT SETITEM SETITEMS
 *   BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET
 *   GLOBAL STACK_GLOBAL (through the caller's whitelist) REDUCE (through the
 *   caller's hook) BINPERSID (through the caller's hook) BUILD (on a dict or
 *   a hook-made object: the state is discarded; torch uses it for the
 *   state_dict's _metadata)
 * Everything else (INST, OBJ, NEWOBJ, EXT*, PERSID, GET/PUT, text opcodes,
 * bytes, sets, buffers, ...) is refused with its name and offset. */
#include "pickle.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK (1u << 20)
#define MAX_MARKS (1u << 16)
#define MAX_MEMO (1u << 24)
#define MAX_GLOBAL_LINE 256
#define BLOCK_BYTES 65536

typedef struct block {
    struct block *next;
    size_t used, size;
    _Alignas(16) unsigned char mem[];
} block;

struct vla_pickle {
    const char *what;
    const uint8_t *p, *end, *start;
    const vla_pickle_hooks *h;
    block *blocks;
    size_t allocated, alloc_cap;
    vla_py **st;
    size_t sp, scap;
    size_t *mk;
    size_t nm, mcap;
    vla_py **memo;
    size_t memo_cap, memo_len;
};

/* ---- memory: one arena, freed at once ---- */

void *vla_pickle_alloc(vla_pickle *vm, size_t bytes) {
    bytes = (bytes + 15) & ~(size_t)15;
    if (bytes > vm->alloc_cap - vm->allocated) return NULL;
    block *b = vm->blocks;
    if (!b || b->size - b->used < bytes) {
        size_t size = bytes > BLOCK_BYTES ? bytes : BLOCK_BYTES;
        b = malloc(sizeof *b + size);
        if (!b) return NULL;
        b->next = vm->blocks;
        b->used = 0;
        b->size = size;
        vm->blocks = b;
    }
    void *p = b->mem + b->used;
    b->used += bytes;
    vm->allocated += bytes;
    memset(p, 0, bytes);
    return p;
}

vla_py *vla_pickle_new(vla_pickle *vm, vla_py_kind kind) {
    vla_py *o = vla_pickle_alloc(vm, sizeof *o);
    if (o) o->kind = kind;
    return o;
}

void vla_pickle_free(vla_pickle *vm) {
    if (!vm) return;
    for (block *b = vm->blocks, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(vm->st);
    free(vm->mk);
    free(vm->memo);
    free(vm);
}

const char *vla_py_kind_name(vla_py_kind kind) {
    static const char *const names[] = {"None", "bool", "int", "float", "str",
                                        "tuple", "list", "dict", "global", "object"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* ---- errors ---- */

static size_t offset(const vla_pickle *vm) { return (size_t)(vm->p - vm->start); }

static vla_status fail(vla_pickle *vm, vla_status code, const char *fmt, const char *arg) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return vla_error(code, "%s: pickle offset %zu: %s", vm->what, offset(vm), msg);
}

static vla_status oom(vla_pickle *vm) { return fail(vm, VLA_ERR_LIMIT, "%s", "out of memory (or over the pickle memory cap)"); }

/* ---- reading ---- */

static bool need(vla_pickle *vm, size_t n) { return (size_t)(vm->end - vm->p) >= n; }

static vla_status truncated(vla_pickle *vm) { return fail(vm, VLA_ERR_PARSE, "%s", "truncated pickle"); }

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---- stack ---- */

static vla_status push(vla_pickle *vm, vla_py *o) {
    if (!o) return oom(vm);
    if (vm->sp == vm->scap) {
        if (vm->scap >= MAX_STACK) return fail(vm, VLA_ERR_LIMIT, "%s", "stack deeper than the limit");
        size_t cap = vm->scap ? vm->scap * 2 : 256;
        vla_py **n = realloc(vm->st, cap * sizeof *n);
        if (!n) return oom(vm);
        vm->st = n;
        vm->scap = cap;
    }
    vm->st[vm->sp++] = o;
    return VLA_OK;
}

static size_t floor_sp(const vla_pickle *vm) { return vm->nm ? vm->mk[vm->nm - 1] : 0; }

static vla_status pop(vla_pickle *vm, vla_py **o) {
    if (vm->sp <= floor_sp(vm)) return fail(vm, VLA_ERR_PARSE, "%s", "stack underflow");
    *o = vm->st[--vm->sp];
    return VLA_OK;
}

static vla_status top(vla_pickle *vm, vla_py **o) {
    if (vm->sp <= floor_sp(vm)) return fail(vm, VLA_ERR_PARSE, "%s", "stack underflow");
    *o = vm->st[vm->sp - 1];
    return VLA_OK;
}

/* Items above the last mark: *base .. sp; the mark is removed. */
static vla_status pop_mark(vla_pickle *vm, size_t *base) {
    if (!vm->nm) return fail(vm, VLA_ERR_PARSE, "%s", "no MARK on the stack");
    *base = vm->mk[--vm->nm];
    return VLA_OK;
}

static vla_py *new_seq(vla_pickle *vm, vla_py_kind kind, vla_py **items, size_t n) {
    vla_py *o = vla_pickle_new(vm, kind);
    if (!o) return NULL;
    if (n) {
        o->items = vla_pickle_alloc(vm, n * sizeof *o->items);
        if (!o->items) return NULL;
        memcpy(o->items, items, n * sizeof *items);
    }
    o->len = o->cap = n;
    return o;
}

static vla_status seq_append(vla_pickle *vm, vla_py *o, vla_py *const *items, size_t n) {
    if (o->kind != VLA_PY_LIST)
        return fail(vm, VLA_ERR_PARSE, "APPEND to a %s (only lists are supported)", vla_py_kind_name(o->kind));
    if (n == 0) return VLA_OK;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 8;
        while (cap < o->len + n) cap *= 2;
        vla_py **it = vla_pickle_alloc(vm, cap * sizeof *it);
        if (!it) return oom(vm);
        if (o->len) memcpy(it, o->items, o->len * sizeof *it);
        o->items = it;
        o->cap = cap;
    }
    memcpy(o->items + o->len, items, n * sizeof *items);
    o->len += n;
    return VLA_OK;
}

static vla_status dict_set(vla_pickle *vm, vla_py *d, vla_py *const *kv, size_t n_pairs) {
    if (d->kind != VLA_PY_DICT)
        return fail(vm, VLA_ERR_PARSE, "SETITEM on a %s (only dicts are supported)", vla_py_kind_name(d->kind));
    if (d->len + n_pairs > d->cap) {
        size_t cap = d->cap ? d->cap : 8;
        while (cap < d->len + n_pairs) cap *= 2;
        vla_py **k = vla_pickle_alloc(vm, cap * sizeof *k), **v = vla_pickle_alloc(vm, cap * sizeof *v);
        if (!k || !v) return oom(vm);
        if (d->len) {
            memcpy(k, d->items, d->len * sizeof *k);
            memcpy(v, d->values, d->len * sizeof *v);
        }
        d->items = k;
        d->values = v;
        d->cap = cap;
    }
    /* Keys are appended as they come (no lookup, so hostile input stays
     * linear); torch never repeats a key and the weight map refuses duplicates. */
    for (size_t i = 0; i < n_pairs; i++) {
        d->items[d->len] = kv[2 * i];
        d->values[d->len++] = kv[2 * i + 1];
    }
    return VLA_OK;
}

/* ---- memo ---- */

static vla_status memo_put(vla_pickle *vm, uint64_t idx) {
    vla_py *o = NULL;
    VLA_TRY(top(vm, &o));
    if (idx >= MAX_MEMO || idx > (uint64_t)(vm->end - vm->start))
        return fail(vm, VLA_ERR_LIMIT, "%s", "memo index beyond the limit");
    if (idx >= vm->memo_cap) {
        size_t cap = vm->memo_cap ? vm->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        vla_py **m = realloc(vm->memo, cap * sizeof *m);
        if (!m) return oom(vm);
        memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
        vm->memo = m;
        vm->memo_cap = cap;
    }
    if (!vm->memo[idx]) vm->memo_len++;
    vm->memo[idx] = o;
    return VLA_OK;
}

static vla_status memo_get(vla_pickle *vm, uint64_t idx) {
    if (idx >= vm->memo_cap || !vm->memo[idx]) return fail(vm, VLA_ERR_PARSE, "%s", "memo lookup of an unset index");
    return push(vm, vm->memo[idx]);
}

/* ---- strings and globals ---- */

static vla_status push_str(vla_pickle *vm, uint64_t n) {
    if (!need(vm, n)) return truncated(vm);
    vla_py *o = vla_pickle_new(vm, VLA_PY_STR);
    char *s = o ? vla_pickle_alloc(vm, (size_t)n + 1) : NULL;
    if (!s) return oom(vm);
    memcpy(s, vm->p, (size_t)n);
    vm->p += n;
    o->s = s;
    o->len = (size_t)n;
    return push(vm, o);
}

static vla_status push_global(vla_pickle *vm, const char *module, const char *name) {
    char full[2 * MAX_GLOBAL_LINE + 2];
    snprintf(full, sizeof full, "%s %s", module, name);
    int64_t id = -1;
    if (!vm->h->find_global) return fail(vm, VLA_ERR_SECURITY, "refusing pickle global '%s'", full);
    VLA_TRY(vm->h->find_global(vm->h->user, module, name, &id));
    vla_py *o = vla_pickle_new(vm, VLA_PY_GLOBAL);
    char *s = o ? vla_pickle_alloc(vm, strlen(full) + 1) : NULL;
    if (!s) return oom(vm);
    memcpy(s, full, strlen(full) + 1);
    for (char *c = s; *c; c++)
        if (*c == ' ') *c = '.';
    o->s = s;
    o->i = id;
    return push(vm, o);
}

static vla_status read_line(vla_pickle *vm, char *buf) {
    const uint8_t *nl = memchr(vm->p, '\n', (size_t)(vm->end - vm->p));
    if (!nl) return truncated(vm);
    size_t n = (size_t)(nl - vm->p);
    if (n >= MAX_GLOBAL_LINE || memchr(vm->p, 0, n)) return fail(vm, VLA_ERR_PARSE, "%s", "malformed GLOBAL name");
    memcpy(buf, vm->p, n);
    buf[n] = '\0';
    vm->p = nl + 1;
    return VLA_OK;
}

static vla_status op_global(vla_pickle *vm) {
    char module[MAX_GLOBAL_LINE], name[MAX_GLOBAL_LINE];
    VLA_TRY(read_line(vm, module));
    VLA_TRY(read_line(vm, name));
    return push_global(vm, module, name);
}

static vla_status op_stack_global(vla_pickle *vm) {
    vla_py *name = NULL, *module = NULL;
    VLA_TRY(pop(vm, &name));
    VLA_TRY(pop(vm, &module));
    if (module->kind != VLA_PY_STR || name->kind != VLA_PY_STR || module->len >= MAX_GLOBAL_LINE ||
        name->len >= MAX_GLOBAL_LINE || strlen(module->s) != module->len || strlen(name->s) != name->len)
        return fail(vm, VLA_ERR_PARSE, "%s", "STACK_GLOBAL needs two short strings");
    return push_global(vm, module->s, name->s);
}

/* ---- calls ---- */

static vla_status op_reduce(vla_pickle *vm) {
    vla_py *args = NULL, *fn = NULL, *out = NULL;
    VLA_TRY(pop(vm, &args));
    VLA_TRY(pop(vm, &fn));
    if (fn->kind != VLA_PY_GLOBAL)
        return fail(vm, VLA_ERR_SECURITY, "REDUCE of a %s, not a whitelisted global", vla_py_kind_name(fn->kind));
    if (args->kind != VLA_PY_TUPLE) return fail(vm, VLA_ERR_PARSE, "REDUCE arguments of %s are not a tuple", fn->s);
    if (!vm->h->reduce) return fail(vm, VLA_ERR_SECURITY, "refusing to call pickle global '%s'", fn->s);
    VLA_TRY(vm->h->reduce(vm->h->user, vm, fn, args, &out));
    return push(vm, out);
}

static vla_status op_persid(vla_pickle *vm) {
    vla_py *pid = NULL, *out = NULL;
    VLA_TRY(pop(vm, &pid));
    if (!vm->h->persistent_load) return fail(vm, VLA_ERR_SECURITY, "%s", "persistent ids are not allowed here");
    VLA_TRY(vm->h->persistent_load(vm->h->user, vm, pid, &out));
    return push(vm, out);
}

static vla_status op_build(vla_pickle *vm) {
    vla_py *state = NULL, *obj = NULL;
    VLA_TRY(pop(vm, &state));
    VLA_TRY(top(vm, &obj));
    if (obj->kind != VLA_PY_DICT && obj->kind != VLA_PY_OPAQUE)
        return fail(vm, VLA_ERR_PARSE, "BUILD on a %s is not supported", vla_py_kind_name(obj->kind));
    return VLA_OK;
}

/* ---- the loop ---- */

static vla_status op_tuple_n(vla_pickle *vm, size_t n) {
    if (vm->sp - floor_sp(vm) < n) return fail(vm, VLA_ERR_PARSE, "%s", "stack underflow");
    vm->sp -= n;
    return push(vm, new_seq(vm, VLA_PY_TUPLE, vm->st + vm->sp, n));
}

static vla_status op_from_mark(vla_pickle *vm, uint8_t op) {
    size_t base = 0;
    VLA_TRY(pop_mark(vm, &base));
    size_t n = vm->sp - base;
    vla_py **items = n ? vm->st + base : NULL;
    vm->sp = base;
    switch (op) {
    case 't': return push(vm, new_seq(vm, VLA_PY_TUPLE, items, n));
    case 'l': return push(vm, new_seq(vm, VLA_PY_LIST, items, n));
    case 'd': {
        if (n % 2) return fail(vm, VLA_ERR_PARSE, "%s", "DICT with an odd number of items");
        vla_py *d = vla_pickle_new(vm, VLA_PY_DICT);
        if (!d) return oom(vm);
        VLA_TRY(dict_set(vm, d, items, n / 2));
        return push(vm, d);
    }
    case 'e': {
        vla_py *list = NULL;
        VLA_TRY(top(vm, &list));
        return seq_append(vm, list, items, n);
    }
    case 'u': {
        vla_py *d = NULL;
        if (n % 2) return fail(vm, VLA_ERR_PARSE, "%s", "SETITEMS with an odd number of items");
        VLA_TRY(top(vm, &d));
        return dict_set(vm, d, items, n / 2);
    }
    default: return VLA_OK; /* POP_MARK */
    }
}

static vla_status step(vla_pickle *vm, uint8_t op, bool *stop) {
    const uint8_t *a = vm->p;
    vla_py *o = NULL, *k = NULL;
    switch (op) {
    case 0x80: /* PROTO */
        if (!need(vm, 1)) return truncated(vm);
        if (a[0] < 2 || a[0] > 5) return fail(vm, VLA_ERR_UNSUPPORTED, "%s", "pickle protocol outside 2..5");
        vm->p += 1;
        return VLA_OK;
    case 0x95: /* FRAME: a framing hint; the data follows inline */
        if (!need(vm, 8)) return truncated(vm);
        vm->p += 8;
        return VLA_OK;
    case '.': *stop = true; return VLA_OK;
    case '(':
        if (vm->nm == vm->mcap) {
            if (vm->mcap >= MAX_MARKS) return fail(vm, VLA_ERR_LIMIT, "%s", "too many nested MARKs");
            size_t cap = vm->mcap ? vm->mcap * 2 : 64;
            size_t *m = realloc(vm->mk, cap * sizeof *m);
            if (!m) return oom(vm);
            vm->mk = m;
            vm->mcap = cap;
        }
        vm->mk[vm->nm++] = vm->sp;
        return VLA_OK;
    case '0': return pop(vm, &o);
    case '1': case 't': case 'l': case 'd': case 'e': case 'u': return op_from_mark(vm, op);
    case '2': VLA_TRY(top(vm, &o)); return push(vm, o);
    case 'N': return push(vm, vla_pickle_new(vm, VLA_PY_NONE));
    case 0x88: case 0x89:
        o = vla_pickle_new(vm, VLA_PY_BOOL);
        if (o) o->i = op == 0x88;
        return push(vm, o);
    case 'J': case 'K': case 'M': case 0x8a: {
        size_t n = op == 'J' ? 4 : op == 'K' ? 1 : op == 'M' ? 2 : 1;
        if (!need(vm, n)) return truncated(vm);
        int64_t v;
        if (op == 0x8a) {
            size_t m = a[0];
            if (m > 8) return fail(vm, VLA_ERR_LIMIT, "%s", "LONG1 integer wider than 64 bits");
            if (!need(vm, 1 + m)) return truncated(vm);
            uint64_t u = m ? le(a + 1, (int)m) : 0;
            if (m && m < 8 && (a[m] & 0x80)) u |= ~(uint64_t)0 << (8 * m); /* sign-extend */
            memcpy(&v, &u, sizeof v);
            n = 1 + m;
        } else {
            uint64_t u = le(a, (int)n);
            v = op == 'J' ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        }
        vm->p += n;
        o = vla_pickle_new(vm, VLA_PY_INT);
        if (o) o->i = v;
        return push(vm, o);
    }
    case 'G': {
        if (!need(vm, 8)) return truncated(vm);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | a[i]; /* big-endian */
        vm->p += 8;
        o = vla_pickle_new(vm, VLA_PY_FLOAT);
        if (o) memcpy(&o->f, &u, sizeof o->f);
        return push(vm, o);
    }
    case 'X': case 0x8c: case 0x8d: {
        size_t n = op == 'X' ? 4 : op == 0x8c ? 1 : 8;
        if (!need(vm, n)) return truncated(vm);
        vm->p += n;
        return push_str(vm, le(a, (int)n));
    }
    case ')': return push(vm, new_seq(vm, VLA_PY_TUPLE, NULL, 0));
    case 0x85: case 0x86: case 0x87: return op_tuple_n(vm, (size_t)(op - 0x84));
    case ']': return push(vm, new_seq(vm, VLA_PY_LIST, NULL, 0));
    case '}': return push(vm, vla_pickle_new(vm, VLA_PY_DICT));
    case 'a':
        VLA_TRY(pop(vm, &o));
        VLA_TRY(top(vm, &k));
        return seq_append(vm, k, &o, 1);
    case 's': {
        vla_py *kv[2] = {NULL, NULL};
        VLA_TRY(pop(vm, &kv[1]));
        VLA_TRY(pop(vm, &kv[0]));
        VLA_TRY(top(vm, &o));
        return dict_set(vm, o, kv, 1);
    }
    case 'q': case 'r': case 'h': case 'j': {
        size_t n = (op == 'q' || op == 'h') ? 1 : 4;
        if (!need(vm, n)) return truncated(vm);
        vm->p += n;
        return (op == 'q' || op == 'r') ? memo_put(vm, le(a, (int)n)) : memo_get(vm, le(a, (int)n));
    }
    case 0x94: return memo_put(vm, vm->memo_len);
    case 'c': return op_global(vm);
    case 0x93: return op_stack_global(vm);
    case 'R': return op_reduce(vm);
    case 'Q': return op_persid(vm);
    case 'b': return op_build(vm);
    default: {
        char what[64];
        snprintf(what, sizeof what, (op >= 0x20 && op < 0x7f) ? "0x%02x ('%c')" : "0x%02x", op, op);
        vm->p--;
        return fail(vm, VLA_ERR_UNSUPPORTED, "unsupported pickle opcode %s", what);
    }
    }
}

vla_status vla_pickle_run(const char *what, const uint8_t *data, size_t len, const vla_pickle_hooks *hooks,
                          vla_pickle **vm_out, const vla_py **result) {
    *vm_out = NULL;
    *result = NULL;
    vla_pickle *vm = calloc(1, sizeof *vm);
    if (!vm) return vla_error(VLA_ERR_OOM, "%s: out of memory", what);
    vm->what = what;
    vm->start = vm->p = data;
    vm->end = data + len;
    vm->h = hooks;
    /* Every object costs at least one input byte, so memory is linear in the input. */
    vm->alloc_cap = len < ((size_t)1 << 24) ? 64 * len + ((size_t)16 << 20) : ((size_t)1 << 30);
    bool stop = false;
    vla_status s = VLA_OK;
    while (!stop && s == VLA_OK) {
        if (vm->p >= vm->end) {
            s = fail(vm, VLA_ERR_PARSE, "%s", "pickle ends without STOP (truncated?)");
            break;
        }
        s = step(vm, *vm->p++, &stop);
    }
    if (s == VLA_OK && vm->sp != 1)
        s = fail(vm, VLA_ERR_PARSE, "%s", vm->sp ? "STOP with more than one value on the stack" : "STOP with an empty stack");
    if (s != VLA_OK) {
        vla_pickle_free(vm);
        return s;
    }
    *result = vm->st[0];
    *vm_out = vm;
    return VLA_OK;
}
