/* Fuzz helper: the weight readers take paths (they mmap files), so each input
 * is handed to them as an anonymous in-memory file. */
#ifndef VLA_FUZZ_MEMFILE_H
#define VLA_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

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

#endif
