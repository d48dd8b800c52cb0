/* dataset_statistics.json fuzz target: parse arbitrary bytes, select entries
 * and run the q99 / min_max / mean_std normalisation on every entry whose
 * statistics parsed. */
#include <stdint.h>
#include <stdlib.h>

#include "vla/normalizer.h"
#include "vla/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vla_stats *s = NULL;
    if (vla_stats_parse((const char *)data, size, "fuzz.json", &s) != VLA_OK) return 0;
    const vla_stats_entry *e = NULL;
    vla_stats_select(s, NULL, &e);
    vla_stats_select(s, "oxe_bridge", &e);
    float in[64], out[64];
    for (int i = 0; i < 64; i++) in[i] = (float)(i % 9) * 0.5f - 2.0f;
    for (size_t k = 0; k < s->n_entries; k++) {
        e = &s->entries[k];
        for (int mode = VLA_NORM_Q99; mode <= VLA_NORM_MEAN_STD; mode++)
            for (int clip = 0; clip < 2; clip++) {
                vla_norm_options o = {(vla_norm_mode)mode, clip};
                if (e->action.dim && e->action.dim <= 32)
                    vla_norm_unnormalize_actions(&o, e, in, out, 64 / e->action.dim, e->action.dim);
                if (e->state.dim && e->state.dim <= 64) vla_norm_normalize_state(&o, e, in, out, e->state.dim);
            }
    }
    vla_stats_free(s);
    return 0;
}
