/* vla inspect PATH: the tensors of a checkpoint (safetensors file or index,
 * torch .pt, HF model folder, StarVLA run folder) and its parameter counts
 * by name prefix, the way model cards count them: a tensor that is the same
 * view of the same bytes as an earlier one (tied embeddings) counts once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "count_format.h"
#include "vla/run_folder.h"
#include "vla/weights.h"

#define DEFAULT_LISTED 40
#define PROGRESS_MIN_BYTES (64u << 20)

typedef struct inspect_opts {
    const char *path;
    int all;
    int group_depth;
    int64_t step;
} inspect_opts;

static void show_progress(void *user, const char *what, uint64_t done, uint64_t total) {
    (void)user;
    if (total < PROGRESS_MIN_BYTES) return;
    const char *base = strrchr(what, '/');
    if (done >= total)
        fputs("\r\033[K", stderr);
    else
        fprintf(stderr, "\r\033[Kopening %s: %3d%%", base ? base + 1 : what, (int)(100 * done / total));
    fflush(stderr);
}

/* A folder with checkpoints/, or a checkpoints/ folder itself. */
static int is_run_folder(const char *path) {
    struct stat st;
    char sub[4096];
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    snprintf(sub, sizeof sub, "%s/checkpoints", path);
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    return stat(sub, &st) == 0 || (n >= 11 && strncmp(path + n - 11, "checkpoints", 11) == 0);
}

static void print_run_folder(const vla_run_folder *rf) {
    printf("run folder:  %s\n", rf->run_dir);
    printf("config:      %s\n", rf->config_path);
    printf("statistics:  %s\n", rf->stats_path ? rf->stats_path : "(none)");
    printf("checkpoint:  %s", rf->checkpoint_path);
    if (rf->n_steps) {
        printf(rf->step >= 0 ? "  (step %lld; available:" : "  (available steps:", (long long)rf->step);
        for (size_t i = 0; i < rf->n_steps; i++) printf(" %lld", (long long)rf->steps[i]);
        printf(")");
    }
    printf("\n");
}

typedef struct ref {
    const vla_weight_info *t;
    size_t index;
} ref;

static int cmp_data(const void *a, const void *b) {
    const ref *x = a, *y = b;
    uintptr_t p = (uintptr_t)x->t->data, q = (uintptr_t)y->t->data;
    return p < q ? -1 : p > q ? 1 : (x->index > y->index) - (x->index < y->index);
}

/* dup[i] = index of the earlier tensor that tensor i aliases, or SIZE_MAX. */
static size_t *find_aliases(const vla_weights *w, size_t n) {
    ref *r = malloc((n + 1) * sizeof *r);
    size_t *dup = malloc((n + 1) * sizeof *dup);
    if (!r || !dup) {
        free(r);
        free(dup);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        r[i] = (ref){vla_weights_at(w, i), i};
        dup[i] = SIZE_MAX;
    }
    qsort(r, n, sizeof *r, cmp_data);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j-- > 0 && r[j].t->data == r[i].t->data;) {
            const vla_weight_info *a = r[i].t, *b = r[j].t;
            int same = a->dtype == b->dtype && a->ndim == b->ndim;
            for (int d = 0; same && d < a->ndim; d++)
                same = a->shape[d] == b->shape[d] && (a->shape[d] <= 1 || a->stride[d] == b->stride[d]);
            if (same && dup[r[j].index] == SIZE_MAX) {
                dup[r[i].index] = r[j].index;
                break;
            }
        }
    free(r);
    return dup;
}

static int64_t numel_of(const vla_weight_info *t) {
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

static void print_tensor(const vla_weight_info *t) {
    char shape[160];
    size_t off = (size_t)snprintf(shape, sizeof shape, "[");
    for (int d = 0; d < t->ndim && off < sizeof shape; d++)
        off += (size_t)snprintf(shape + off, sizeof shape - off, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    if (off < sizeof shape) snprintf(shape + off, sizeof shape - off, "]");
    printf("  %-72s %-5s %s\n", t->name, vla_dtype_name(t->dtype), shape);
}

static void report(const vla_weights *w, const inspect_opts *o) {
    size_t n = vla_weights_count(w), files = 0;
    const char *last_file = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *f = vla_weights_at(w, i)->file;
        if (f != last_file) files++; /* readers add a file's tensors together */
        last_file = f;
    }
    printf("tensors: %zu in %zu file%s\n", n, files, files == 1 ? "" : "s");
    size_t listed = o->all || n <= DEFAULT_LISTED ? n : DEFAULT_LISTED;
    for (size_t i = 0; i < listed; i++) print_tensor(vla_weights_at(w, i));
    if (listed < n) printf("  ... %zu more (--all lists every tensor)\n", n - listed);

    size_t *dup = find_aliases(w, n);
    count_groups groups;
    count_groups_init(&groups);
    double bytes = 0;
    size_t n_tied = 0;
    for (size_t i = 0; i < n; i++) {
        const vla_weight_info *t = vla_weights_at(w, i);
        if (dup && dup[i] != SIZE_MAX) {
            n_tied++;
            continue;
        }
        count_groups_add_depth(&groups, t->name, o->group_depth, numel_of(t));
        bytes += (double)numel_of(t) * (double)vla_dtype_size(t->dtype);
    }
    printf("\nparameters by prefix:\n");
    count_groups_print(&groups, stdout);
    char human[32];
    printf("size in the stored dtypes: %s\n", format_bytes(bytes, human, sizeof human));
    if (n_tied) {
        printf("counted once (same storage and view as an earlier tensor):\n");
        for (size_t i = 0; i < n; i++)
            if (dup[i] != SIZE_MAX)
                printf("  %s = %s\n", vla_weights_at(w, i)->name, vla_weights_at(w, dup[i])->name);
    }
    count_groups_free(&groups);
    free(dup);
}

static int parse_args(int argc, char **argv, inspect_opts *o) {
    *o = (inspect_opts){NULL, 0, 1, -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--all") == 0) {
            o->all = 1;
        } else if (strcmp(a, "--group-depth") == 0 || strcmp(a, "--step") == 0) {
            char *end = NULL;
            long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : -1;
            if (!end || *end || v < (a[2] == 'g' ? 1 : 0) || v > (a[2] == 'g' ? 16 : INT64_MAX))
                return cli_usage_error("inspect", "%s needs a %s integer", a, a[2] == 'g' ? "1..16" : "non-negative");
            if (a[2] == 'g') o->group_depth = (int)v;
            else o->step = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("inspect", "unknown option '%s'", a);
        } else if (o->path) {
            return cli_usage_error("inspect", "one PATH only ('%s' and '%s')", o->path, a);
        } else {
            o->path = a;
        }
    }
    if (!o->path) return cli_usage_error("inspect", "missing PATH");
    return VLA_EXIT_OK;
}

int cmd_inspect(int argc, char **argv) {
    inspect_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != VLA_EXIT_OK) return rc;
    const char *file = o.path;
    vla_run_folder *rf = NULL;
    if (is_run_folder(o.path) || o.step >= 0) {
        if (vla_run_folder_open(o.path, o.step, &rf) != VLA_OK) return cli_fail();
        file = rf->checkpoint_path;
    }
    vla_weights *w = NULL;
    vla_status s = vla_weights_open(file, isatty(STDERR_FILENO) ? show_progress : NULL, NULL, &w);
    if (s != VLA_OK) {
        vla_run_folder_free(rf);
        return cli_fail();
    }
    if (rf) print_run_folder(rf);
    else printf("checkpoint:  %s\n", o.path);
    report(w, &o);
    vla_weights_close(w);
    vla_run_folder_free(rf);
    return VLA_EXIT_OK;
}

void help_inspect(FILE *f) {
    fprintf(f, "usage: vla inspect PATH [--all] [--group-depth N] [--step N]\n\n"
               "List the tensors (name, dtype, shape) of a checkpoint and count its parameters by\n"
               "name prefix. PATH: a .safetensors file, a model.safetensors.index.json, a torch\n"
               ".pt/.bin file, a Hugging Face model folder or a StarVLA run folder.\n\n"
               "  --all             list every tensor (default: the first %d)\n"
               "  --group-depth N   group counts by the first N name parts (default 1)\n"
               "  --step N          in a run folder, the checkpoint of step N (default: latest)\n",
               DEFAULT_LISTED);
}
