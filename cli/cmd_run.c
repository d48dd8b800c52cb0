#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions_io.h"
#include "commands.h"
#include "numbers.h"
#include "overrides.h"
#include "params_report.h"
#include "vla/image.h"
#include "vla/policy.h"

#define RUN_MAX_IMAGES 16
#define RUN_MAX_STATE 64

void help_run(FILE *f) {
    fprintf(f,
            "usage: vla run [--config FILE | --checkpoint RUN_DIR|FILE] [--base-vlm DIR]\n"
            "               --image FILE [--image FILE ...] --instruction TEXT\n"
            "               [--state \"v0 v1 ...\"] [--unnorm-key KEY] [--seed N]\n"
            "               [--json OUT.json] [--npy OUT.npy] [--dry-run [--list]]\n"
            "               [--backend cpu|cuda] [--KEY.PATH VALUE ...]\n\n"
            "Predicts one action chunk and prints it as a table (rows = time steps),\n"
            "followed by the time each stage took.\n\n"
            "  --config FILE       a vla/StarVLA YAML config (default: the embedded tiny model,\n"
            "                      configs/default.yaml, with deterministic random weights)\n"
            "  --checkpoint PATH   a StarVLA run folder (config.yaml, dataset_statistics.json,\n"
            "                      checkpoints/steps_N_pytorch_model.pt) or a checkpoint file\n"
            "  --base-vlm DIR      local Qwen3-VL folder (config.json, tokenizer.json,\n"
            "                      preprocessor_config.json); default framework.qwenvl.base_vlm\n"
            "  --image FILE        PNG or JPEG, in the order the model was trained with\n"
            "  --state \"...\"       robot state, already normalised to [-1, 1]\n"
            "  --unnorm-key KEY    dataset_statistics.json entry (required with several)\n"
            "  --seed N            seed of the initial flow-matching noise (default 0)\n"
            "  --json/--npy FILE   also write the un-normalised chunk [T, A] to a file\n"
            "  --dry-run           declare the model and check the checkpoint's tensor names\n"
            "                      and shapes without loading weights; print parameter counts\n"
            "                      and memory (--list: every tensor)\n"
            "  --KEY.PATH VALUE    config override, e.g. --framework.name QwenOFT\n");
}

static void print_chunk(const vla_actions *a) {
    printf("action chunk: %d steps x %d dims (un-normalised)\n", a->horizon, a->dim);
    printf("step");
    for (int32_t j = 0; j < a->dim; j++) printf("  %9s%d", "a", j);
    printf("\n");
    for (int32_t t = 0; t < a->horizon; t++) {
        printf("%4d", t);
        for (int32_t j = 0; j < a->dim; j++) printf("  %+10.5f", a->actions[t * a->dim + j]);
        printf("\n");
    }
    printf("time: preprocess %.2f ms, vision %.2f ms, prefill %.2f ms, head %.2f ms, total %.2f ms\n",
           a->times.preprocess_ms, a->times.vision_ms, a->times.prefill_ms, a->times.head_ms,
           a->times.total_ms);
}

typedef struct run_args {
    vla_policy_options popts;
    const char *images[RUN_MAX_IMAGES];
    int32_t n_images;
    const char *instruction;
    float state[RUN_MAX_STATE];
    int state_dim;
    int has_state;
    const char *unnorm_key;
    unsigned long long seed;
    const char *json_out, *npy_out;
    int list;
} run_args;

static int parse_args(int argc, char **argv, run_args *a, cli_overrides *ov) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (cli_overrides_take(ov, argc, argv, &i)) continue;
        if (strcmp(arg, "--dry-run") == 0) {
            a->popts.dry_run = true;
        } else if (strcmp(arg, "--list") == 0) {
            a->list = 1;
        } else if (!has_value) {
            return cli_usage_error("run", "option '%s' needs a value or is unknown", arg);
        } else if (strcmp(arg, "--config") == 0) {
            a->popts.config = argv[++i];
        } else if (strcmp(arg, "--checkpoint") == 0) {
            a->popts.checkpoint = argv[++i];
        } else if (strcmp(arg, "--base-vlm") == 0) {
            a->popts.base_vlm = argv[++i];
        } else if (strcmp(arg, "--image") == 0) {
            if (a->n_images == RUN_MAX_IMAGES) return cli_usage_error("run", "at most %d images", RUN_MAX_IMAGES);
            a->images[a->n_images++] = argv[++i];
        } else if (strcmp(arg, "--instruction") == 0) {
            a->instruction = argv[++i];
        } else if (strcmp(arg, "--state") == 0) {
            if (!cli_parse_floats(argv[++i], a->state, RUN_MAX_STATE, &a->state_dim))
                return cli_usage_error("run", "--state expects up to %d numbers, got \"%s\"", RUN_MAX_STATE,
                                       argv[i]);
            a->has_state = 1;
        } else if (strcmp(arg, "--unnorm-key") == 0) {
            a->unnorm_key = argv[++i];
        } else if (strcmp(arg, "--seed") == 0) {
            char *end;
            a->seed = strtoull(argv[++i], &end, 10);
            if (*end) return cli_usage_error("run", "--seed expects an integer, got \"%s\"", argv[i]);
        } else if (strcmp(arg, "--json") == 0) {
            a->json_out = argv[++i];
        } else if (strcmp(arg, "--npy") == 0) {
            a->npy_out = argv[++i];
        } else {
            return cli_usage_error("run", "unknown option '%s'", arg);
        }
    }
    if (!a->popts.dry_run) {
        if (a->n_images == 0) return cli_usage_error("run", "missing --image FILE");
        if (!a->instruction) return cli_usage_error("run", "missing --instruction TEXT");
    }
    a->popts.overrides = (const char *const *)ov->items;
    a->popts.n_overrides = ov->n;
    return VLA_EXIT_OK;
}

static int predict(vla_policy *policy, const run_args *a) {
    vla_image_buf bufs[RUN_MAX_IMAGES];
    vla_image images[RUN_MAX_IMAGES];
    int rc = VLA_EXIT_OK;
    int32_t loaded = 0;
    for (; loaded < a->n_images; loaded++) {
        if (vla_image_load(a->images[loaded], &bufs[loaded]) != VLA_OK) {
            rc = cli_fail();
            break;
        }
        images[loaded] = bufs[loaded].img;
    }
    if (rc == VLA_EXIT_OK) {
        vla_policy_example e = {images, a->n_images, a->instruction, a->has_state ? a->state : NULL,
                                a->has_state ? a->state_dim : 0};
        vla_predict_options o = {a->seed, NULL, a->unnorm_key};
        vla_actions out;
        if (vla_policy_predict_batch(policy, &e, 1, &o, &out) != VLA_OK) {
            rc = cli_fail();
        } else {
            print_chunk(&out);
            if (a->json_out && actions_write_json(a->json_out, &out) != VLA_OK) rc = cli_fail();
            if (rc == VLA_EXIT_OK && a->npy_out && actions_write_npy(a->npy_out, &out) != VLA_OK)
                rc = cli_fail();
        }
    }
    for (int32_t i = 0; i < loaded; i++) vla_image_buf_free(&bufs[i]);
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_args a;
    cli_overrides ov = {0};
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a, &ov);
    if (rc != VLA_EXIT_OK) {
        cli_overrides_free(&ov);
        return rc;
    }
    vla_policy *policy;
    if (vla_policy_open(&a.popts, &policy) != VLA_OK) {
        cli_overrides_free(&ov);
        return cli_fail();
    }
    if (a.popts.dry_run)
        params_report_print(vla_policy_params(policy), a.list, stdout);
    else
        rc = predict(policy, &a);
    vla_policy_close(policy);
    cli_overrides_free(&ov);
    return rc;
}
