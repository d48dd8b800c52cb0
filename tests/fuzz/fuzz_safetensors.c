/* safetensors reader fuzz target: open arbitrary bytes as a .safetensors file
 * and, when that succeeds, read every tensor back as f32 and f64 (each read
 * must stay inside the validated ranges). */
#include <stdlib.h>

#include "fuzz_memfile.h"
#include "vla/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    vla_weights *w = NULL;
    if (vla_weights_open(path, NULL, NULL, &w) == VLA_OK) {
        for (size_t i = 0; i < vla_weights_count(w); i++) {
            const vla_weight_info *t = vla_weights_at(w, i);
            size_t n = 1;
            for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
            if (n > (1u << 20)) continue;
            double *buf = malloc((n + 1) * sizeof *buf);
            if (!buf) continue;
            vla_weight_read(t, VLA_F64, buf, n * sizeof *buf);
            vla_weight_read(t, VLA_F32, buf, n * sizeof(float));
            free(buf);
        }
        vla_weights_metadata(w, "format");
        vla_weights_find(w, "a");
        vla_weights_close(w);
    }
    close(fd);
    return 0;
}
