/* dataset_statistics.json as StarVLA/LeRobot write it: one entry per
 * embodiment key (e.g. "oxe_bridge"), each with "action" and "state" blocks
 * of per-dimension mean, std, min, max, q01, q99 and, for actions, "mask". */
#ifndef VLA_STATS_H
#define VLA_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "vla/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vla_stat_block {
    size_t dim;           /* 0 if the block is absent */
    float *mean, *std, *min, *max, *q01, *q99; /* each NULL if absent */
    bool *mask;           /* NULL if absent (then every dim counts as true) */
} vla_stat_block;

typedef struct vla_stats_entry {
    char *key;
    vla_stat_block action;
    vla_stat_block state;
} vla_stats_entry;

typedef struct vla_stats {
    vla_stats_entry *entries;
    size_t n_entries;
    char *path;
} vla_stats;

/* Errors name the file and the JSON path ("oxe_bridge.action.q01[3]"). */
vla_status vla_stats_load(const char *path, vla_stats **out);
vla_status vla_stats_parse(const char *json, size_t len, const char *name, vla_stats **out);
void vla_stats_free(vla_stats *s);

/* Pick the entry for `unnorm_key`: NULL selects the only entry, and is an
 * error listing the keys when there are several; an unknown key is an error
 * listing the keys. */
vla_status vla_stats_select(const vla_stats *s, const char *unnorm_key, const vla_stats_entry **out);

#ifdef __cplusplus
}
#endif
#endif
