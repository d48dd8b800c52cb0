/* Stands in for the CUDA tests when the CUDA backend is not part of this build. */
#include "harness.h"

int main(void) {
    TEST_SKIP("the CUDA backend is not built (-Dcuda=disabled, or nvcc/cuBLASLt not found at configure time)");
}
