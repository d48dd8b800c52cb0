/* The vla library in 30 lines: open a policy, predict one action chunk, print it.
 *   predict CONFIG_OR_RUN_DIR IMAGE.png "instruction" */
#include <stdio.h>
#include <string.h>
#include <vla/vla.h>

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: %s CONFIG|RUN_DIR IMAGE INSTRUCTION\n", argv[0]), 2;
    vla_policy_options opts = {0};
    if (strstr(argv[1], ".yaml")) opts.config = argv[1]; else opts.checkpoint = argv[1];
    vla_policy *policy;
    vla_image_buf image;
    vla_actions out;
    if (vla_policy_open(&opts, &policy) != VLA_OK) goto fail;
    if (vla_image_load(argv[2], &image) != VLA_OK) goto fail;
    if (vla_policy_predict(policy, &image.img, 1, argv[3], NULL, NULL, &out) != VLA_OK) goto fail;
    for (int t = 0; t < out.horizon; t++) {
        for (int j = 0; j < out.dim; j++) printf("%+.5f ", out.actions[t * out.dim + j]);
        printf("\n");
    }
    vla_image_buf_free(&image);
    vla_policy_close(policy);
    return 0;
fail:
    fprintf(stderr, "error: %s\n", vla_last_error());
    return 1;
}
