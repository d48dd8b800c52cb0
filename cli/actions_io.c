#include "actions_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef vla_status (*write_body_fn)(FILE *f, const vla_actions *a);

static vla_status write_atomically(const char *path, const vla_actions *a, write_body_fn body) {
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return vla_error(VLA_ERR_OOM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        vla_status s = vla_error(VLA_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    vla_status s = body(f, a);
    if (fclose(f) != 0 && s == VLA_OK) s = vla_error(VLA_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (s == VLA_OK && rename(tmp, path) != 0)
        s = vla_error(VLA_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (s != VLA_OK) remove(tmp);
    free(tmp);
    return s;
}

static void json_array(FILE *f, const float *v, const vla_actions *a) {
    fputc('[', f);
    for (int32_t b = 0; b < a->batch; b++) {
        fprintf(f, "%s[", b ? ", " : "");
        for (int32_t t = 0; t < a->horizon; t++) {
            fprintf(f, "%s[", t ? ", " : "");
            for (int32_t j = 0; j < a->dim; j++)
                fprintf(f, "%s%.9g", j ? ", " : "", v[((size_t)b * a->horizon + t) * a->dim + j]);
            fputc(']', f);
        }
        fputc(']', f);
    }
    fputc(']', f);
}

static vla_status json_body(FILE *f, const vla_actions *a) {
    fprintf(f, "{\"shape\": [%d, %d, %d], \"actions\": ", a->batch, a->horizon, a->dim);
    json_array(f, a->actions, a);
    fprintf(f, ", \"normalized_actions\": ");
    json_array(f, a->normalized, a);
    fprintf(f,
            ", \"times_ms\": {\"preprocess\": %.3f, \"vision\": %.3f, \"prefill\": %.3f, "
            "\"head\": %.3f, \"total\": %.3f}}\n",
            a->times.preprocess_ms, a->times.vision_ms, a->times.prefill_ms, a->times.head_ms,
            a->times.total_ms);
    return ferror(f) ? vla_error(VLA_ERR_IO, "write failed") : VLA_OK;
}

static vla_status npy_body(FILE *f, const vla_actions *a) {
    char header[128];
    int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }",
                       a->batch, a->horizon, a->dim);
    /* magic (6) + version (2) + header length (2) + header, padded with spaces and a
     * newline to a multiple of 64 bytes */
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    unsigned short hlen = (unsigned short)(len + pad + 1);
    unsigned char hl[2] = {(unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    fwrite(hl, 1, 2, f);
    fwrite(header, 1, (size_t)len, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    size_t n = (size_t)a->batch * a->horizon * a->dim;
    fwrite(a->actions, sizeof(float), n, f); /* little-endian hosts only (x86-64, arm64) */
    return ferror(f) ? vla_error(VLA_ERR_IO, "write failed") : VLA_OK;
}

vla_status actions_write_json(const char *path, const vla_actions *a) {
    return write_atomically(path, a, json_body);
}

vla_status actions_write_npy(const char *path, const vla_actions *a) {
    return write_atomically(path, a, npy_body);
}
