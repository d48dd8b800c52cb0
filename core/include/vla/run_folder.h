/* StarVLA run folders, as written by StarVLA training:
 *   RUN/config.yaml                  the run's "accessed-only" config (required)
 *   RUN/dataset_statistics.json      normalisation statistics (optional)
 *   RUN/checkpoints/steps_<N>_pytorch_model.pt   or  steps_<N>_model.safetensors
 *   RUN/final_model/pytorch_model.pt (used only when checkpoints/ has no step)
 * Like StarVLA's from_pretrained, a checkpoint FILE path is accepted too: its
 * run folder is the parent of the folder holding it. */
#ifndef VLA_RUN_FOLDER_H
#define VLA_RUN_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_run_folder {
    char *run_dir;
    char *config_path;     /* RUN/config.yaml */
    char *stats_path;      /* RUN/dataset_statistics.json, or NULL when absent */
    char *checkpoint_path; /* the chosen weights file */
    int64_t step;          /* its step, or -1 (final_model, or a file not named steps_<N>_...) */
    int64_t *steps;        /* every step found in RUN/checkpoints, ascending */
    size_t n_steps;
} vla_run_folder;

/* Open a run folder (or its checkpoints/ folder, or a checkpoint file).
 * `step` < 0 picks the latest step; otherwise that step must exist (the
 * error lists the available ones). When both a .pt and a .safetensors exist
 * for a step, the .safetensors is chosen. Free with vla_run_folder_free. */
vla_status vla_run_folder_open(const char *path, int64_t step, vla_run_folder **out);
void vla_run_folder_free(vla_run_folder *rf);

#ifdef __cplusplus
}
#endif
#endif
