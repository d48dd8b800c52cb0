/* safetensors reader fuzz target: open arbitrary bytes as a .safetensors file
 * and, when that succeeds, read every tensor back as f32 and f64 (each read
 * must stay inside the validated ranges). */
#include "fuzz_memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_open_and_read_weights(data, size, 1u << 20);
    return 0;
}
