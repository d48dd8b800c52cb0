/* A persistent pool of worker threads, created once per backend instance so
 * ops never pay for thread creation. A run hands out task indices
 * dynamically; the calling thread works too (as thread 0). Runs are
 * serialised, so per-thread scratch buffers indexed by `thread` are safe
 * even when several contexts share the backend. */
#ifndef VLA_CPU_THREADPOOL_H
#define VLA_CPU_THREADPOOL_H

#include <stdint.h>

#include "vla/status.h"

typedef struct cpu_pool cpu_pool;

/* fn(arg, task, thread): task in [0, n_tasks), thread in [0, pool size). */
typedef void (*cpu_task_fn)(void *arg, int64_t task, int thread);

vla_status cpu_pool_create(int n_threads, cpu_pool **out);
void cpu_pool_destroy(cpu_pool *p);
int cpu_pool_size(const cpu_pool *p);

/* Run all tasks and return when they are done. With serial != 0 (work too
 * small to be worth waking the workers) the caller runs every task itself. */
void cpu_pool_run(cpu_pool *p, int64_t n_tasks, cpu_task_fn fn, void *arg, int serial);

#endif
