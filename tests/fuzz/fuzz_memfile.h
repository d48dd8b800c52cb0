/* Fuzz helpers: the weight readers take paths (they mmap files), so each
 * input is handed to them as an anonymous in-memory file. */
#ifndef VLA_FUZZ_MEMFILE_H
#define VLA_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vla/weights.h"

/* Returns the fd (close it when done) and its path in `path`, or -1. */
static int memfile(const uint8_t *data, size_t size, char *path, size_t cap) {
    int fd = memfd_create("vla-fuzz", 0);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* Open the bytes as a weight file and, when that succeeds, read back every
 * tensor of at most max_elems elements as f64 and f32 (each read must stay
 * inside the ranges the reader validated). */
static void fuzz_open_and_read_weights(const uint8_t *data, size_t size, size_t max_elems) {
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0) return;
    vla_weights *w = NULL;
    if (vla_weights_open(path, NULL, NULL, &w) == VLA_OK) {
        for (size_t i = 0; i < vla_weights_count(w); i++) {
            const vla_weight_info *t = vla_weights_at(w, i);
            size_t n = 1;
            for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
            if (n > max_elems) continue;
            double *buf = malloc((n + 1) * sizeof *buf);
            if (!buf) continue;
            vla_weight_read(t, VLA_F64, buf, n * sizeof *buf);
            vla_weight_read(t, VLA_F32, buf, n * sizeof(float));
            free(buf);
        }
        vla_weights_metadata(w, "format");
        vla_weights_find(w, "a");
        vla_weights_close(w);
    }
    close(fd);
}

#endif
