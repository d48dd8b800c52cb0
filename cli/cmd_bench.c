#include <stdio.h>
#include <string.h>

#include "commands.h"

void help_bench(FILE *f) {
    fprintf(f,
            "usage: vla bench ops [--threads N] [--size M,N,K] [--reps N]\n"
            "       vla bench tokenizer [--tokenizer tokenizer.json] [--text FILE]\n"
            "       vla bench [policy options: see 'vla run --help'] [--iters N] [--warmup N]\n"
            "                 [--batch B] [--backend cpu|cuda] [--random-weights]\n\n"
            "ops:       CPU matmul throughput (GFLOP/s) and other op timings.\n"
            "tokenizer: encoding throughput (MB/s) on a mixed-script text.\n"
            "(default): whole-policy latency p50/p90 split into preprocess, vision,\n"
            "           prefill and head.\n");
}

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "ops") == 0) return bench_ops(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "tokenizer") == 0) return bench_tokenizer(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "policy") == 0) return bench_policy(argc - 1, argv + 1);
    return bench_policy(argc, argv);
}
