/* smoke-normalizer-q99 PLUGIN.so: see tests/weights/normalizer_smoke.h. */
#include "normalizer_smoke.h"

int main(int argc, char **argv) { return normalizer_smoke(argc, argv, "q99", VLA_NORM_Q99); }
