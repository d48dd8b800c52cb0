/* torch .pt reader fuzz target. An input that starts like a zip is opened as
 * a whole checkpoint (zip reader, Zip64, entry checks); any other input is the
 * data.pkl of a well-formed stored zip that also holds two storages, so the
 * fuzzer spends its time in the pickle interpreter, the global whitelist and
 * the tensor-view checks. Tensors that open are read back. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_memfile.h"
#include "vla/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v) { return put16(put16(p, v & 0xffff), v >> 16); }

/* A stored zip of the given entries; returns its length. */
static size_t make_zip(uint8_t *out, const char *const *names, const uint8_t *const *bodies, const size_t *lens,
                       int n) {
    uint8_t *p = out;
    uint32_t offsets[4];
    for (int i = 0; i < n; i++) {
        offsets[i] = (uint32_t)(p - out);
        size_t nl = strlen(names[i]);
        p = put32(p, 0x04034b50);
        p = put16(p, 20), p = put16(p, 0), p = put16(p, 0), p = put32(p, 0), p = put32(p, 0);
        p = put32(p, (uint32_t)lens[i]), p = put32(p, (uint32_t)lens[i]);
        p = put16(p, (uint32_t)nl), p = put16(p, 0);
        memcpy(p, names[i], nl), p += nl;
        memcpy(p, bodies[i], lens[i]), p += lens[i];
    }
    uint8_t *cd = p;
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(names[i]);
        p = put32(p, 0x02014b50);
        p = put16(p, 20), p = put16(p, 20), p = put16(p, 0), p = put16(p, 0), p = put32(p, 0), p = put32(p, 0);
        p = put32(p, (uint32_t)lens[i]), p = put32(p, (uint32_t)lens[i]);
        p = put16(p, (uint32_t)nl), p = put16(p, 0), p = put16(p, 0), p = put16(p, 0), p = put16(p, 0);
        p = put32(p, 0), p = put32(p, offsets[i]);
        memcpy(p, names[i], nl), p += nl;
    }
    size_t cd_size = (size_t)(p - cd);
    p = put32(p, 0x06054b50);
    p = put16(p, 0), p = put16(p, 0), p = put16(p, (uint32_t)n), p = put16(p, (uint32_t)n);
    p = put32(p, (uint32_t)cd_size), p = put32(p, (uint32_t)(cd - out)), p = put16(p, 0);
    return (size_t)(p - out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 4 && memcmp(data, "PK\x03\x04", 4) == 0) {
        fuzz_open_and_read_weights(data, size, 1u << 16);
        return 0;
    }
    if (size > (1u << 20)) return 0;
    static uint8_t storage[64];
    for (int i = 0; i < 64; i++) storage[i] = (uint8_t)(i * 37);
    const char *names[] = {"archive/data.pkl", "archive/data/0", "archive/data/1", "archive/byteorder"};
    const uint8_t *bodies[] = {data, storage, storage + 48, (const uint8_t *)"little"};
    size_t lens[] = {size, 64, 16, 6};
    uint8_t *zip = malloc(size + 1024);
    if (!zip) return 0;
    fuzz_open_and_read_weights(zip, make_zip(zip, names, bodies, lens, 4), 1u << 16);
    free(zip);
    return 0;
}
