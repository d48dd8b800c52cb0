/* smoke-backend-cuda PLUGIN.so: load only this plugin and run the shared
 * backend smoke chain (tests/backend_smoke.h: norm, bf16 GEMM, activation,
 * attention, softmax). Skips without a GPU. */
#include "cuda/cuda_test.h"
#include "backend_smoke.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s vla-backend-cuda.so\n", argv[0]);
        return 2;
    }
    vla_backend *be = cuda_test_open(argv[1], "");
    CHECK(be != NULL);
    if (be) backend_smoke_run(be);
    vla_backend_destroy(be);
    return test_finish("smoke-backend-cuda");
}
