/* smoke-normalizer-mean_std PLUGIN.so: see tests/weights/normalizer_smoke.h. */
#include "normalizer_smoke.h"

int main(int argc, char **argv) { return normalizer_smoke(argc, argv, "mean_std", VLA_NORM_MEAN_STD); }
