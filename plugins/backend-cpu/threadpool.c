#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct worker {
    cpu_pool *pool;
    int id;
} worker;

struct cpu_pool {
    int n;                 /* threads including the caller */
    pthread_t *threads;    /* n - 1 workers */
    worker *workers;
    pthread_mutex_t run_mu; /* serialises runs */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation;   /* bumped per run; workers wait for a change */
    int stop;
    int busy;              /* workers still inside the current run */
    cpu_task_fn fn;
    void *arg;
    int64_t n_tasks;
    atomic_int_fast64_t next;
};

static void drain(cpu_pool *p, int thread) {
    for (;;) {
        int64_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->n_tasks) return;
        p->fn(p->arg, t, thread);
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    cpu_pool *p = w->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->stop) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, w->id);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void stop_workers(cpu_pool *p, int started) {
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < started; i++) pthread_join(p->threads[i], NULL);
}

static void free_pool(cpu_pool *p) {
    pthread_mutex_destroy(&p->run_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->workers);
    free(p);
}

vla_status cpu_pool_create(int n_threads, cpu_pool **out) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return vla_error(VLA_ERR_OOM, "cpu backend: out of memory for the thread pool");
    p->n = n_threads;
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    p->workers = calloc((size_t)n_threads, sizeof *p->workers);
    pthread_mutex_init(&p->run_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    if (!p->threads || !p->workers) {
        free_pool(p);
        return vla_error(VLA_ERR_OOM, "cpu backend: out of memory for the thread pool");
    }
    for (int i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].id = i + 1;
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]) != 0) {
            stop_workers(p, i);
            free_pool(p);
            return vla_error(VLA_ERR_BACKEND, "cpu backend: cannot start worker thread %d of %d",
                             i + 1, n_threads - 1);
        }
    }
    *out = p;
    return VLA_OK;
}

void cpu_pool_destroy(cpu_pool *p) {
    if (!p) return;
    stop_workers(p, p->n - 1);
    free_pool(p);
}

int cpu_pool_size(const cpu_pool *p) { return p->n; }

void cpu_pool_run(cpu_pool *p, int64_t n_tasks, cpu_task_fn fn, void *arg, int serial) {
    if (n_tasks <= 0) return;
    pthread_mutex_lock(&p->run_mu);
    if (serial || n_tasks == 1 || p->n == 1) {
        for (int64_t t = 0; t < n_tasks; t++) fn(arg, t, 0);
        pthread_mutex_unlock(&p->run_mu);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->busy = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_mu);
}
