#include "params_report.h"

#include <string.h>

#include "count_format.h"

void params_report_print(const vla_params *p, int list_tensors, FILE *f) {
    count_groups groups;
    count_groups_init(&groups);
    size_t bytes = 0, n = vla_params_count(p);
    for (size_t i = 0; i < n; i++) {
        const vla_tensor *t = vla_params_slot(p, i);
        int64_t numel = vla_tensor_numel(t);
        bytes += (size_t)numel * vla_dtype_size(t->dtype);
        count_groups_add(&groups, vla_params_name(p, i), numel);
        if (list_tensors) {
            char shape[96];
            fprintf(f, "%-80s %-5s %s\n", vla_params_name(p, i), vla_dtype_name(t->dtype),
                    vla_tensor_shape_str(t, shape, sizeof shape));
        }
    }
    fprintf(f, "declared tensors: %zu\n", n);
    count_groups_print(&groups, f);
    char human[32];
    fprintf(f, "weight memory: %s (in the dtypes the weights will be kept in)\n",
            format_bytes((double)bytes, human, sizeof human));
    count_groups_free(&groups);
}
