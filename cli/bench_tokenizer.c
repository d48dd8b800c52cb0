/* `vla bench tokenizer`: encoding throughput of the text tokenizer on a
 * mixed-script sample (tests/fixtures/tokenizer/bench_mixed.txt), once with
 * an empty piece cache and then repeated; compare with
 * tools/tokenizer_bench_hf.py on the same file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "tokenizer_cli.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, k;
    do {
        if (n == cap) {
            char *p = realloc(buf, cap = cap ? 2 * cap : 1 << 20);
            if (!p) break;
            buf = p;
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    fclose(f);
    *len = n;
    return buf;
}

static int bench(const cli_tokenizer *t, const char *text, size_t len, double seconds) {
    vla_tokens ids = {0};
    double t0 = now_s();
    if (t->vt->encode(t->self, text, len, &ids) != VLA_OK) return cli_fail();
    double cold = now_s() - t0;
    size_t n_ids = ids.n;
    int runs = 0;
    t0 = now_s();
    double elapsed;
    do {
        ids.n = 0;
        if (t->vt->encode(t->self, text, len, &ids) != VLA_OK) {
            vla_tokens_free(&ids);
            return cli_fail();
        }
        runs++;
    } while ((elapsed = now_s() - t0) < seconds || runs < 3);
    vla_tokens_free(&ids);
    printf("text: %zu bytes -> %zu tokens (%.2f bytes/token)\n", len, n_ids, n_ids ? (double)len / n_ids : 0.0);
    printf("encode, first pass (empty piece cache): %8.2f MB/s  (%.2f ms)\n", len / cold / 1e6, cold * 1e3);
    printf("encode, repeated (%4d runs):            %8.2f MB/s  (%.2f ms per run)\n", runs,
           len * (double)runs / elapsed / 1e6, elapsed / runs * 1e3);
    return VLA_EXIT_OK;
}

int bench_tokenizer(int argc, char **argv) {
    const char *tok_path = NULL, *text_path = NULL;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tokenizer") == 0 && i + 1 < argc) tok_path = argv[++i];
        else if (strcmp(argv[i], "--text") == 0 && i + 1 < argc) text_path = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc && (seconds = atof(argv[++i])) > 0) continue;
        else return cli_usage_error("bench", "tokenizer: unknown or incomplete option '%s'", argv[i]);
    }
    char default_text[4096];
    if (!text_path) {
        snprintf(default_text, sizeof default_text, "%s/tests/fixtures/tokenizer/bench_mixed.txt", VLA_SOURCE_ROOT);
        text_path = default_text;
    }
    size_t len = 0;
    char *text = read_text(text_path, &len);
    if (!text) {
        fprintf(stderr, "vla bench tokenizer: cannot read %s\n", text_path);
        return VLA_EXIT_RUNTIME;
    }
    cli_tokenizer t;
    double t0 = now_s();
    int rc;
    if (cli_tokenizer_open(NULL, tok_path, NULL, &t) != VLA_OK) {
        rc = cli_fail();
    } else {
        printf("tokenizer: %s (loaded in %.0f ms)\nsample: %s\n", t.path, (now_s() - t0) * 1e3, text_path);
        rc = bench(&t, text, len, seconds);
        cli_tokenizer_close(&t);
    }
    free(text);
    return rc;
}
