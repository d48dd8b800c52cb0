/* StarVLA run folders: find config.yaml, dataset_statistics.json and the
 * checkpoint of a step (the latest by default). */
#include "vla/run_folder.h"
#include "paths.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_suffixes[] = {"_model.safetensors", "_pytorch_model.pt"};
#define N_SUFFIXES (sizeof step_suffixes / sizeof step_suffixes[0])


static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* "steps_<N><suffix>" -> N, or -1. */
static int64_t parse_step(const char *name, size_t *suffix_index) {
    if (strncmp(name, "steps_", 6) != 0) return -1;
    const char *p = name + 6;
    int64_t n = 0;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (INT64_MAX - 9) / 10) return -1;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < N_SUFFIXES; i++)
        if (strcmp(p, step_suffixes[i]) == 0) {
            *suffix_index = i;
            return n;
        }
    return -1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static vla_status list_steps(vla_run_folder *rf, const char *ckpt_dir) {
    DIR *d = opendir(ckpt_dir);
    if (!d) return VLA_OK;
    size_t cap = 0;
    vla_status s = VLA_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t si;
        int64_t step = parse_step(e->d_name, &si);
        if (step < 0) continue;
        bool seen = false;
        for (size_t i = 0; i < rf->n_steps; i++) seen |= rf->steps[i] == step;
        if (seen) continue;
        if (rf->n_steps == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *n = realloc(rf->steps, cap * sizeof *n);
            if (!n) {
                s = vla_error(VLA_ERR_OOM, "%s: out of memory", ckpt_dir);
                break;
            }
            rf->steps = n;
        }
        rf->steps[rf->n_steps++] = step;
    }
    closedir(d);
    if (rf->n_steps) qsort(rf->steps, rf->n_steps, sizeof *rf->steps, cmp_i64);
    return s;
}

static void steps_str(const vla_run_folder *rf, char *buf, size_t size) {
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rf->n_steps && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, i ? ", %lld" : "%lld", (long long)rf->steps[i]);
    if (!rf->n_steps) snprintf(buf, size, "none");
}

static vla_status pick_checkpoint(vla_run_folder *rf, int64_t step) {
    char *ckpt_dir = join(rf->run_dir, "checkpoints");
    if (!ckpt_dir) return vla_error(VLA_ERR_OOM, "run folder: out of memory");
    vla_status s = list_steps(rf, ckpt_dir);
    if (s == VLA_OK && step < 0 && rf->n_steps == 0) {
        char *final_pt = join(rf->run_dir, "final_model/pytorch_model.pt");
        if (final_pt && vla_path_is_file(final_pt)) {
            rf->checkpoint_path = final_pt;
            rf->step = -1;
            free(ckpt_dir);
            return VLA_OK;
        }
        free(final_pt);
        s = vla_error(VLA_ERR_NOT_FOUND,
                      "%s: no checkpoint found (expected steps_<N>_pytorch_model.pt or "
                      "steps_<N>_model.safetensors, or final_model/pytorch_model.pt)",
                      ckpt_dir);
    }
    if (s == VLA_OK) {
        int64_t want = step < 0 ? rf->steps[rf->n_steps - 1] : step;
        bool found = false;
        for (size_t i = 0; i < rf->n_steps; i++) found |= rf->steps[i] == want;
        if (!found) {
            char list[1024];
            steps_str(rf, list, sizeof list);
            s = vla_error(VLA_ERR_NOT_FOUND, "%s: no checkpoint for step %lld (available steps: %s)", ckpt_dir,
                          (long long)want, list);
        }
        for (size_t i = 0; i < N_SUFFIXES && s == VLA_OK && !rf->checkpoint_path; i++) {
            char name[128];
            snprintf(name, sizeof name, "steps_%lld%s", (long long)want, step_suffixes[i]);
            char *p = join(ckpt_dir, name);
            if (!p) s = vla_error(VLA_ERR_OOM, "run folder: out of memory");
            else if (vla_path_is_file(p)) rf->checkpoint_path = p;
            else free(p);
        }
        rf->step = want;
        if (s == VLA_OK && !rf->checkpoint_path)
            s = vla_error(VLA_ERR_NOT_FOUND, "%s: step %lld is not a regular file", ckpt_dir, (long long)want);
    }
    free(ckpt_dir);
    return s;
}

/* dirname of `path`, or "." */
static char *parent_of(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    while (n > 0 && path[n - 1] != '/') n--;
    while (n > 1 && path[n - 1] == '/') n--;
    if (n == 0) return strdup(".");
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, path, n);
        s[n] = '\0';
    }
    return s;
}

static const char *base_of(const char *path, char *buf, size_t size) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    snprintf(buf, size, "%.*s", (int)(n - b), path + b);
    return buf;
}

static vla_status locate(vla_run_folder *rf, const char *path, int64_t step) {
    char base[256];
    if (vla_path_is_file(path)) {
        /* RUN/checkpoints/steps_N_....pt or RUN/final_model/pytorch_model.pt; any other
         * file's own folder is taken as the run folder */
        char *dir = parent_of(path), name[256];
        bool nested = dir && (strcmp(base_of(dir, name, sizeof name), "checkpoints") == 0 ||
                              strcmp(name, "final_model") == 0);
        rf->run_dir = dir && nested ? parent_of(dir) : dir;
        if (nested) free(dir);
        rf->checkpoint_path = strdup(path);
        if (!rf->run_dir || !rf->checkpoint_path) return vla_error(VLA_ERR_OOM, "run folder: out of memory");
        size_t si;
        rf->step = parse_step(base_of(path, base, sizeof base), &si);
        if (step >= 0 && rf->step != step)
            return vla_error(VLA_ERR_INVALID_ARG, "%s: a checkpoint file was given, so step %lld cannot be chosen",
                             path, (long long)step);
        char *ckpt_dir = join(rf->run_dir, "checkpoints");
        vla_status s = ckpt_dir ? list_steps(rf, ckpt_dir) : vla_error(VLA_ERR_OOM, "run folder: out of memory");
        free(ckpt_dir);
        return s;
    }
    if (!vla_path_is_dir(path)) return vla_error(VLA_ERR_NOT_FOUND, "%s: no such file or folder", path);
    rf->run_dir = strcmp(base_of(path, base, sizeof base), "checkpoints") == 0 ? parent_of(path) : strdup(path);
    if (!rf->run_dir) return vla_error(VLA_ERR_OOM, "run folder: out of memory");
    return pick_checkpoint(rf, step);
}

vla_status vla_run_folder_open(const char *path, int64_t step, vla_run_folder **out) {
    *out = NULL;
    if (!path || !*path) return vla_error(VLA_ERR_INVALID_ARG, "run folder: empty path");
    vla_run_folder *rf = calloc(1, sizeof *rf);
    if (!rf) return vla_error(VLA_ERR_OOM, "run folder: out of memory");
    rf->step = -1;
    vla_status s = locate(rf, path, step);
    if (s == VLA_OK) {
        rf->config_path = join(rf->run_dir, "config.yaml");
        rf->stats_path = join(rf->run_dir, "dataset_statistics.json");
        if (!rf->config_path || !rf->stats_path)
            s = vla_error(VLA_ERR_OOM, "run folder: out of memory");
        else if (!vla_path_is_file(rf->config_path))
            s = vla_error(VLA_ERR_NOT_FOUND, "%s: not a StarVLA run folder: %s is missing", rf->run_dir,
                          rf->config_path);
    }
    if (s == VLA_OK && !vla_path_is_file(rf->stats_path)) {
        free(rf->stats_path);
        rf->stats_path = NULL;
    }
    if (s != VLA_OK) {
        vla_run_folder_free(rf);
        return s;
    }
    *out = rf;
    return VLA_OK;
}

void vla_run_folder_free(vla_run_folder *rf) {
    if (!rf) return;
    free(rf->run_dir);
    free(rf->config_path);
    free(rf->stats_path);
    free(rf->checkpoint_path);
    free(rf->steps);
    free(rf);
}
