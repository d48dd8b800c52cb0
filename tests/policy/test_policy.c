/* The policy end to end on the embedded tiny model: determinism, batches
 * versus single examples (left padding must not change an example's
 * actions), and the checkpoint path: the random weights are written to a
 * StarVLA-style run folder as safetensors and loaded back, which must give
 * bit-identical actions; a checkpoint missing a tensor, with a wrong shape,
 * or with an extra tensor is refused naming it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vla/ctx.h"
#include "vla/params.h"
#include "vla/policy.h"

static char root[2048];
static char tmp_dir[] = "/tmp/vla-policy-XXXXXX";

typedef struct chunk {
    float v[4 * 16 * 7];
    int n;
} chunk;

static vla_status predict(vla_policy *p, const vla_image *img, const char *const *instr, int batch, uint64_t seed,
                          chunk *out) {
    vla_policy_example ex[4];
    for (int b = 0; b < batch; b++) ex[b] = (vla_policy_example){img, 1, instr[b], NULL, 0};
    vla_predict_options o = {seed, NULL, NULL};
    vla_actions a;
    VLA_TRY(vla_policy_predict_batch(p, ex, batch, &o, &a));
    out->n = a.batch * a.horizon * a.dim;
    memcpy(out->v, a.actions, (size_t)out->n * sizeof(float));
    return VLA_OK;
}

static double max_abs_diff(const float *a, const float *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* A minimal safetensors writer (test-only): header JSON + raw little-endian data. */
typedef enum { WRITE_ALL, SKIP_ONE, RESHAPE_ONE, ADD_EXTRA } write_mode;

static int write_checkpoint(const vla_params *params, const char *path, write_mode mode, const char *victim) {
    size_t n = vla_params_count(params);
    char *header = malloc(1 << 20);
    size_t hlen = 0, offset = 0;
    hlen += (size_t)sprintf(header + hlen, "{");
    for (size_t i = 0; i < n; i++) {
        const char *name = vla_params_name(params, i);
        const vla_tensor *t = vla_params_slot(params, i);
        if (mode == SKIP_ONE && strcmp(name, victim) == 0) continue;
        size_t bytes = vla_tensor_nbytes(t);
        hlen += (size_t)sprintf(header + hlen, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", hlen > 1 ? "," : "", name,
                                t->dtype == VLA_BF16 ? "BF16" : "F32");
        if (mode == RESHAPE_ONE && strcmp(name, victim) == 0 && t->ndim == 2)
            hlen += (size_t)sprintf(header + hlen, "%lld,%lld", (long long)t->shape[1], (long long)t->shape[0]);
        else
            for (int d = 0; d < t->ndim; d++) hlen += (size_t)sprintf(header + hlen, d ? ",%lld" : "%lld", (long long)t->shape[d]);
        hlen += (size_t)sprintf(header + hlen, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
        offset += bytes;
    }
    if (mode == ADD_EXTRA) {
        hlen += (size_t)sprintf(header + hlen, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%zu,%zu]}",
                                victim, offset, offset + 4);
    }
    hlen += (size_t)sprintf(header + hlen, "}");
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    uint64_t len = hlen;
    fwrite(&len, 8, 1, f);
    fwrite(header, 1, hlen, f);
    for (size_t i = 0; i < n; i++) {
        const vla_tensor *t = vla_params_slot(params, i);
        if (mode == SKIP_ONE && strcmp(vla_params_name(params, i), victim) == 0) continue;
        size_t bytes = vla_tensor_nbytes(t);
        void *host = malloc(bytes);
        if (vla_backend_read(t->backend, host, t->data, bytes) != VLA_OK) return 0;
        fwrite(host, 1, bytes, f);
        free(host);
    }
    if (mode == ADD_EXTRA) {
        float zero = 0;
        fwrite(&zero, 4, 1, f);
    }
    free(header);
    return fclose(f) == 0;
}

static void write_run_folder(const char *dir) {
    char path[4096];
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    FILE *f = fopen(path, "w");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return;
    fprintf(f,
            "framework:\n  name: QwenPI_v3\n  action_model:\n    diffusion_model_cfg:\n"
            "      action_dit_hidden_dim: 64\n      attention_head_dim: 16\n"
            "datasets:\n  vla_data:\n    CoT_prompt: \"Your task is {instruction}. To identify the key objects "
            "for your task. Locate their bounding boxes in [x1,y1,x2,y2] format.\"\n"
            "vla:\n  backbone:\n    model_dir: %s/configs/tiny/qwen3vl\n  tokenizer:\n    file: %s/configs/tiny/tokenizer.json\n",
            root, root);
    fclose(f);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp '%s/configs/tiny/dataset_statistics.json' '%s/'", root, dir);
    CHECK_MSG(system(cmd) == 0, "%s failed", cmd);
}

int main(void) {
    const char *env_root = getenv("VLA_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s", env_root ? env_root : VLA_SOURCE_ROOT);
    if (!mkdtemp(tmp_dir)) return 1;
    char config[4096], image_path[4096];
    snprintf(config, sizeof config, "%s/configs/default.yaml", root);
    snprintf(image_path, sizeof image_path, "%s/examples/sample_224.png", root);

    vla_image_buf img;
    CHECK_OK(vla_image_load(image_path, &img));
    vla_policy_options opts = {.config = config};
    vla_policy *p = NULL;
    CHECK_OK(vla_policy_open(&opts, &p));
    if (!p) return test_finish("test_policy");

    const char *instr[] = {"put the spoon on the towel", "open the top drawer of the cabinet please",
                           "stack the red block on the blue one", "x"};
    chunk a, b;
    CHECK_OK(predict(p, &img.img, instr, 1, 3, &a));
    CHECK_OK(predict(p, &img.img, instr, 1, 3, &b));
    CHECK(a.n == 16 * 7 && memcmp(a.v, b.v, sizeof(float) * (size_t)a.n) == 0);

    /* batch of 3 prompts of different lengths (left padding) vs each alone: the
     * noise of row b in a batch is drawn after rows 0..b-1, so compare with
     * caller-given noise shared by both runs */
    static float noise[3 * 16 * 7];
    for (int i = 0; i < 3 * 16 * 7; i++) noise[i] = (float)sin(i * 0.37);
    vla_policy_example ex[3];
    for (int i = 0; i < 3; i++) ex[i] = (vla_policy_example){&img.img, 1, instr[i], NULL, 0};
    vla_predict_options o = {0, noise, NULL};
    vla_actions out;
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        vla_predict_options oi = {0, noise + i * 16 * 7, NULL};
        CHECK_OK(vla_policy_predict_batch(p, &ex[i], 1, &oi, &out));
        /* un-normalised actions pass through the q99 clip and the binary gripper;
         * compare the normalised ones */
        static float single_norm[16 * 7];
        memcpy(single_norm, out.normalized, sizeof single_norm);
        CHECK_OK(vla_policy_predict_batch(p, ex, 3, &o, &out));
        worst = fmax(worst, max_abs_diff(out.normalized + i * 16 * 7, single_norm, 16 * 7));
    }
    printf("batch vs single (normalised actions): max |diff| = %.3g (tolerance 1e-4)\n", worst);
    CHECK(worst < 1e-4);

    /* checkpoint round trip through a StarVLA-style run folder */
    char run[4096], ckpt[4200];
    snprintf(run, sizeof run, "%s/run", tmp_dir);
    write_run_folder(run);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/steps_10_model.safetensors", run);
    CHECK(write_checkpoint(vla_policy_params(p), ckpt, WRITE_ALL, NULL));
    vla_policy *loaded = NULL;
    vla_policy_options lopts = {.checkpoint = run};
    CHECK_OK(vla_policy_open(&lopts, &loaded));
    if (loaded) {
        CHECK_OK(predict(loaded, &img.img, instr, 1, 3, &b));
        CHECK_MSG(memcmp(a.v, b.v, sizeof(float) * (size_t)a.n) == 0,
                  "loaded checkpoint gives different actions (max diff %g)", max_abs_diff(a.v, b.v, a.n));
        vla_policy_close(loaded);
    }
    /* a checkpoint file inside a run folder selects that step explicitly */
    vla_policy_options fopts = {.checkpoint = ckpt};
    CHECK_OK(vla_policy_open(&fopts, &loaded));
    if (loaded) {
        CHECK_OK(predict(loaded, &img.img, instr, 1, 3, &b));
        CHECK(memcmp(a.v, b.v, sizeof(float) * (size_t)a.n) == 0);
        vla_policy_close(loaded);
    }

    const char *victim = "action_model.model.transformer_blocks.2.attn1.to_k.weight";
    CHECK(write_checkpoint(vla_policy_params(p), ckpt, SKIP_ONE, victim));
    CHECK(vla_policy_open(&lopts, &loaded) != VLA_OK);
    CHECK_MSG(strstr(vla_last_error(), victim) && strstr(vla_last_error(), "missing"), "%s", vla_last_error());

    const char *reshaped = "qwen_vl_interface.model.model.language_model.layers.1.mlp.up_proj.weight";
    CHECK(write_checkpoint(vla_policy_params(p), ckpt, RESHAPE_ONE, reshaped));
    CHECK(vla_policy_open(&lopts, &loaded) != VLA_OK);
    CHECK_MSG(strstr(vla_last_error(), reshaped) && strstr(vla_last_error(), "[192, 96]"), "%s", vla_last_error());

    const char *extra = "action_model.not_a_real_module.weight";
    CHECK(write_checkpoint(vla_policy_params(p), ckpt, ADD_EXTRA, extra));
    CHECK(vla_policy_open(&lopts, &loaded) != VLA_OK);
    CHECK_MSG(strstr(vla_last_error(), extra) && strstr(vla_last_error(), "unexpected"), "%s", vla_last_error());

    vla_policy_close(p);
    vla_image_buf_free(&img);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return test_finish("test_policy");
}
