/* Human-readable report of declared parameters: counts grouped by top-level
 * name prefix (qwen_vl_interface, action_model, project_layers, ...), the
 * total, and the memory the weights need in their stored dtypes. */
#ifndef VLA_CLI_PARAMS_REPORT_H
#define VLA_CLI_PARAMS_REPORT_H

#include <stdio.h>

#include "vla/params.h"

void params_report_print(const vla_params *p, int list_tensors, FILE *f);

#endif
