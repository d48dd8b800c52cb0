/* `vla bench`: whole-policy latency. Runs warm-up calls, then N timed calls,
 * and prints p50/p90 of each stage (preprocess, vision, prefill, head) and
 * of the total, plus memory, for batch 1 and optionally a second batch size.
 * With --random-weights the model is declared at its real shapes and filled
 * with deterministic random values, which is enough for timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "count_format.h"
#include "overrides.h"
#include "vla/image.h"
#include "vla/policy.h"

#define BENCH_MAX_ITERS 100000

/* 35 tokens with the Qwen3 tokenizer (check: vla tokenize "<text>"), the
 * instruction length of the project's latency benchmark */
static const char *default_instruction =
    "pick up the small red block on the left side of the table and place it carefully inside the "
    "open blue bowl next to the sink, then push the top drawer closed very slowly";

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(q * (n - 1) + 0.5);
    return v[i];
}

typedef struct bench_series {
    double *pre, *vis, *pre_fill, *head, *total;
} bench_series;

static int run_batch(vla_policy *policy, const vla_image *img, const char *instruction, int batch, int warmup,
                     int iters) {
    vla_policy_example *ex = calloc((size_t)batch, sizeof *ex);
    bench_series s;
    double *all = calloc((size_t)iters * 5, sizeof *all);
    if (!ex || !all) {
        free(ex);
        free(all);
        fprintf(stderr, "vla bench: out of memory\n");
        return VLA_EXIT_RUNTIME;
    }
    s.pre = all, s.vis = all + iters, s.pre_fill = all + 2 * iters, s.head = all + 3 * iters, s.total = all + 4 * iters;
    for (int b = 0; b < batch; b++) ex[b] = (vla_policy_example){img, 1, instruction, NULL, 0};
    vla_actions out;
    int rc = VLA_EXIT_OK;
    for (int i = 0; i < warmup + iters && rc == VLA_EXIT_OK; i++) {
        vla_predict_options o = {(uint64_t)i, NULL, NULL};
        if (vla_policy_predict_batch(policy, ex, batch, &o, &out) != VLA_OK) {
            rc = cli_fail();
            break;
        }
        if (i < warmup) continue;
        int k = i - warmup;
        s.pre[k] = out.times.preprocess_ms, s.vis[k] = out.times.vision_ms, s.pre_fill[k] = out.times.prefill_ms;
        s.head[k] = out.times.head_ms, s.total[k] = out.times.total_ms;
    }
    if (rc == VLA_EXIT_OK) {
        printf("batch %d, %d calls after %d warm-up:\n", batch, iters, warmup);
        const char *names[] = {"preprocess", "vision", "prefill", "head", "total"};
        double *series[] = {s.pre, s.vis, s.pre_fill, s.head, s.total};
        for (int j = 0; j < 5; j++)
            printf("  %-10s p50 %9.3f ms   p90 %9.3f ms\n", names[j], percentile(series[j], iters, 0.5),
                   percentile(series[j], iters, 0.9));
        vla_policy_memory m;
        vla_policy_memory_usage(policy, &m);
        char w[32], a[32], bu[32], bp[32];
        printf("  memory: weights %s, activation arena peak %s", format_bytes((double)m.weights_bytes, w, sizeof w),
               format_bytes((double)m.arena_peak_bytes, a, sizeof a));
        if (m.backend_peak)
            printf(", backend in use %s (peak %s)", format_bytes((double)m.backend_in_use, bu, sizeof bu),
                   format_bytes((double)m.backend_peak, bp, sizeof bp));
        printf("\n");
    }
    free(ex);
    free(all);
    return rc;
}

int bench_policy(int argc, char **argv) {
    vla_policy_options popts = {0};
    cli_overrides ov = {0};
    const char *image_path = NULL, *instruction = default_instruction;
    int iters = 100, warmup = 5, batch2 = 0, random_weights = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (cli_overrides_take(&ov, argc, argv, &i)) continue;
        if (strcmp(arg, "--random-weights") == 0) {
            random_weights = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("bench", "option '%s' needs a value or is unknown", arg);
        const char *v = argv[++i];
        if (strcmp(arg, "--config") == 0) popts.config = v;
        else if (strcmp(arg, "--checkpoint") == 0) popts.checkpoint = v;
        else if (strcmp(arg, "--base-vlm") == 0) popts.base_vlm = v;
        else if (strcmp(arg, "--image") == 0) image_path = v;
        else if (strcmp(arg, "--instruction") == 0) instruction = v;
        else if (strcmp(arg, "--iters") == 0) iters = atoi(v);
        else if (strcmp(arg, "--warmup") == 0) warmup = atoi(v);
        else if (strcmp(arg, "--batch") == 0) batch2 = atoi(v);
        else return cli_usage_error("bench", "unknown option '%s'", arg);
    }
    if (iters < 1 || iters > BENCH_MAX_ITERS || warmup < 0 || batch2 < 0 || batch2 > 256) {
        cli_overrides_free(&ov);
        return cli_usage_error("bench", "--iters 1..%d, --warmup >= 0, --batch 0..256", BENCH_MAX_ITERS);
    }
    if (random_weights) {
        char *item = strdup("vla.weights.random_seed=1");
        char **items = realloc(ov.items, (size_t)(ov.n + 1) * sizeof *items);
        if (!item || !items) return cli_fail();
        ov.items = items;
        ov.items[ov.n++] = item;
    }
    popts.overrides = (const char *const *)ov.items;
    popts.n_overrides = ov.n;

    char default_image[4096];
    if (!image_path) {
        snprintf(default_image, sizeof default_image, "%s/examples/sample_224.png", VLA_SOURCE_ROOT);
        image_path = default_image;
    }
    vla_image_buf img;
    if (vla_image_load(image_path, &img) != VLA_OK) {
        cli_overrides_free(&ov);
        return cli_fail();
    }
    vla_policy *policy;
    int rc = VLA_EXIT_OK;
    if (vla_policy_open(&popts, &policy) != VLA_OK) {
        rc = cli_fail();
    } else {
        printf("image %s (%dx%d), instruction: \"%s\"\n", image_path, img.img.width, img.img.height, instruction);
        rc = run_batch(policy, &img.img, instruction, 1, warmup, iters);
        if (rc == VLA_EXIT_OK && batch2 > 1) rc = run_batch(policy, &img.img, instruction, batch2, warmup, iters);
        vla_policy_close(policy);
    }
    vla_image_buf_free(&img);
    cli_overrides_free(&ov);
    return rc;
}
