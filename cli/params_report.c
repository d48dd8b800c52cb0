#include "params_report.h"

#include <string.h>

#include "count_format.h"

/* Bytes once loaded from a StarVLA checkpoint: matrices and embeddings stay
 * in its bf16, vectors and norm weights become f32. */
static size_t loaded_bytes(const vla_params *p, size_t i) {
    const vla_tensor *t = vla_params_slot(p, i);
    vla_param_kind k = vla_params_kind(p, i);
    size_t elem = (k == VLA_PARAM_MATRIX || k == VLA_PARAM_EMBEDDING) ? 2 : 4;
    return (size_t)vla_tensor_numel(t) * elem;
}

void params_report_print(const vla_params *p, int list_tensors, FILE *f) {
    count_groups groups;
    count_groups_init(&groups);
    size_t bytes = 0, n = vla_params_count(p);
    for (size_t i = 0; i < n; i++) {
        const vla_tensor *t = vla_params_slot(p, i);
        bytes += loaded_bytes(p, i);
        count_groups_add(&groups, vla_params_name(p, i), vla_tensor_numel(t));
        if (list_tensors) {
            char shape[96];
            fprintf(f, "%-80s %s\n", vla_params_name(p, i), vla_tensor_shape_str(t, shape, sizeof shape));
        }
    }
    fprintf(f, "declared tensors: %zu\n", n);
    count_groups_print(&groups, f);
    char human[32];
    fprintf(f, "weight memory: %s (bf16 matrices and embeddings, f32 vectors, as loaded from a StarVLA checkpoint)\n",
            format_bytes((double)bytes, human, sizeof human));
    count_groups_free(&groups);
}
