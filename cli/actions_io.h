/* Writing action chunks to files: JSON (for people and scripts) and .npy
 * (for numpy). Files are written to a temporary name and renamed, so a
 * failure never leaves a partial file behind. */
#ifndef VLA_CLI_ACTIONS_IO_H
#define VLA_CLI_ACTIONS_IO_H

#include "vla/policy.h"

/* {"shape": [B, T, A], "actions": [[[...]]], "normalized_actions": [[[...]]],
 *  "times_ms": {...}} */
vla_status actions_write_json(const char *path, const vla_actions *a);
/* float32 array [B, T, A] of the un-normalised actions, .npy format 1.0 */
vla_status actions_write_npy(const char *path, const vla_actions *a);

#endif
