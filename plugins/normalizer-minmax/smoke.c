/* smoke-normalizer-min_max PLUGIN.so: see tests/weights/normalizer_smoke.h. */
#include "normalizer_smoke.h"

int main(int argc, char **argv) { return normalizer_smoke(argc, argv, "min_max", VLA_NORM_MIN_MAX); }
