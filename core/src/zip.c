/* Zip central-directory reader (PKWARE APPNOTE 6.3: end of central
 * directory, its Zip64 variant, central and local file headers). Every
 * offset and size is checked against the buffer before it is used. */
#include "zip.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_LOCAL 0x04034b50u
#define EOCD_SIZE 22u
#define CENTRAL_SIZE 46u
#define LOCAL_SIZE 30u

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [off, off + len) lies inside a buffer of `size` bytes */
static bool fits(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

typedef struct cdir {
    uint64_t offset, size, count;
} cdir;

static vla_status find_cdir(const char *what, const uint8_t *d, size_t size, cdir *cd) {
    if (size < EOCD_SIZE)
        return vla_error(VLA_ERR_PARSE, "%s: %zu bytes, too short for a zip archive (truncated?)", what, size);
    size_t lowest = size - EOCD_SIZE > 65535 ? size - EOCD_SIZE - 65535 : 0;
    size_t pos = size - EOCD_SIZE;
    for (;; pos--) {
        if (rd32(d + pos) == SIG_EOCD && pos + EOCD_SIZE + rd16(d + pos + 20) <= size) break;
        if (pos == lowest)
            return vla_error(VLA_ERR_PARSE, "%s: no zip end-of-central-directory record (truncated file?)", what);
    }
    const uint8_t *e = d + pos;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0)
        return vla_error(VLA_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", what);
    cd->count = rd16(e + 10);
    cd->size = rd32(e + 12);
    cd->offset = rd32(e + 16);
    if (cd->count == 0xffff || cd->size == 0xffffffffu || cd->offset == 0xffffffffu) {
        if (pos < 20 || rd32(e - 20) != SIG_LOCATOR64)
            return vla_error(VLA_ERR_PARSE, "%s: Zip64 sizes announced but no Zip64 locator found", what);
        uint64_t off64 = rd64(e - 20 + 8);
        if (!fits(off64, 56, pos - 20) || rd32(d + off64) != SIG_EOCD64)
            return vla_error(VLA_ERR_PARSE, "%s: Zip64 end-of-central-directory record is missing or out of range",
                             what);
        const uint8_t *z = d + off64;
        if (rd32(z + 16) != 0 || rd32(z + 20) != 0)
            return vla_error(VLA_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", what);
        cd->count = rd64(z + 32);
        cd->size = rd64(z + 40);
        cd->offset = rd64(z + 48);
    }
    if (!fits(cd->offset, cd->size, size))
        return vla_error(VLA_ERR_PARSE, "%s: central directory (%llu bytes at %llu) lies outside the %zu-byte file",
                         what, (unsigned long long)cd->size, (unsigned long long)cd->offset, size);
    if (cd->count > cd->size / CENTRAL_SIZE)
        return vla_error(VLA_ERR_PARSE, "%s: %llu entries cannot fit in a %llu-byte central directory", what,
                         (unsigned long long)cd->count, (unsigned long long)cd->size);
    return VLA_OK;
}

/* Replace 0xffffffff fields by their Zip64 extra-field values, in APPNOTE order. */
static vla_status apply_zip64(const char *what, const char *name, const uint8_t *extra, size_t elen,
                              uint64_t *usize, uint64_t *csize, uint64_t *local) {
    uint64_t *fields[3] = {usize, csize, local};
    bool need = *usize == 0xffffffffu || *csize == 0xffffffffu || *local == 0xffffffffu;
    for (size_t p = 0; need && p + 4 <= elen;) {
        uint16_t id = rd16(extra + p), len = rd16(extra + p + 2);
        if (p + 4 + len > elen) break;
        if (id == 0x0001) {
            size_t q = p + 4;
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != 0xffffffffu) continue;
                if (q + 8 > p + 4 + len)
                    return vla_error(VLA_ERR_PARSE, "%s: entry '%s': Zip64 extra field too short", what, name);
                *fields[i] = rd64(extra + q);
                q += 8;
            }
            return VLA_OK;
        }
        p += 4 + (size_t)len;
    }
    if (need) return vla_error(VLA_ERR_PARSE, "%s: entry '%s': Zip64 sizes announced but no Zip64 extra field", what, name);
    return VLA_OK;
}

static vla_status read_entry(const char *what, const uint8_t *d, size_t size, const uint8_t *c, vla_zip_entry *out) {
    uint16_t flags = rd16(c + 8), method = rd16(c + 10);
    uint64_t csize = rd32(c + 20), usize = rd32(c + 24), local = rd32(c + 42);
    uint16_t nlen = rd16(c + 28), elen = rd16(c + 30);
    char name[1024];
    snprintf(name, sizeof name, "%.*s", (int)nlen, (const char *)c + CENTRAL_SIZE);
    if (nlen == 0 || memchr(c + CENTRAL_SIZE, 0, nlen))
        return vla_error(VLA_ERR_PARSE, "%s: zip entry with an empty or NUL-containing name", what);
    if (flags & 1) return vla_error(VLA_ERR_UNSUPPORTED, "%s: entry '%s' is encrypted", what, name);
    VLA_TRY(apply_zip64(what, name, c + CENTRAL_SIZE + nlen, elen, &usize, &csize, &local));
    if (!fits(local, LOCAL_SIZE, size) || rd32(d + local) != SIG_LOCAL)
        return vla_error(VLA_ERR_PARSE, "%s: entry '%s': local header at %llu is missing or outside the file", what,
                         name, (unsigned long long)local);
    uint64_t data_off = local + LOCAL_SIZE + rd16(d + local + 26) + rd16(d + local + 28);
    if (!fits(data_off, csize, size))
        return vla_error(VLA_ERR_PARSE,
                         "%s: entry '%s' declares %llu bytes at offset %llu, past the end of the %zu-byte file", what,
                         name, (unsigned long long)csize, (unsigned long long)data_off, size);
    if (method == 0 && csize != usize)
        return vla_error(VLA_ERR_PARSE, "%s: stored entry '%s' has compressed size %llu != size %llu", what, name,
                         (unsigned long long)csize, (unsigned long long)usize);
    out->name = malloc((size_t)nlen + 1);
    if (!out->name) return vla_error(VLA_ERR_OOM, "%s: out of memory", what);
    memcpy(out->name, c + CENTRAL_SIZE, nlen);
    out->name[nlen] = '\0';
    out->data = d + data_off;
    out->size = csize;
    out->method = method;
    return VLA_OK;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const vla_zip_entry *)a)->name, ((const vla_zip_entry *)b)->name);
}

vla_status vla_zip_open(const char *what, const uint8_t *data, size_t size, vla_zip *out) {
    memset(out, 0, sizeof *out);
    cdir cd = {0, 0, 0};
    VLA_TRY(find_cdir(what, data, size, &cd));
    out->entries = calloc(cd.count + 1, sizeof *out->entries);
    if (!out->entries) return vla_error(VLA_ERR_OOM, "%s: out of memory", what);
    const uint8_t *c = data + cd.offset, *end = c + cd.size;
    vla_status s = VLA_OK;
    for (uint64_t i = 0; i < cd.count && s == VLA_OK; i++) {
        if ((size_t)(end - c) < CENTRAL_SIZE || rd32(c) != SIG_CENTRAL) {
            s = vla_error(VLA_ERR_PARSE, "%s: central directory entry %llu is malformed", what, (unsigned long long)i);
            break;
        }
        size_t rec = CENTRAL_SIZE + (size_t)rd16(c + 28) + rd16(c + 30) + rd16(c + 32);
        if ((size_t)(end - c) < rec) {
            s = vla_error(VLA_ERR_PARSE, "%s: central directory entry %llu runs past the directory", what,
                          (unsigned long long)i);
            break;
        }
        s = read_entry(what, data, size, c, &out->entries[out->n]);
        if (s == VLA_OK) out->n++;
        c += rec;
    }
    if (s == VLA_OK) {
        qsort(out->entries, out->n, sizeof *out->entries, cmp_entry);
        for (size_t i = 1; i < out->n && s == VLA_OK; i++)
            if (strcmp(out->entries[i - 1].name, out->entries[i].name) == 0)
                s = vla_error(VLA_ERR_PARSE, "%s: duplicate zip entry '%s'", what, out->entries[i].name);
    }
    if (s != VLA_OK) vla_zip_free(out);
    return s;
}

const vla_zip_entry *vla_zip_find(const vla_zip *z, const char *name) {
    vla_zip_entry key = {(char *)name, NULL, 0, 0};
    return z->n ? bsearch(&key, z->entries, z->n, sizeof key, cmp_entry) : NULL;
}

void vla_zip_free(vla_zip *z) {
    for (size_t i = 0; i < z->n; i++) free(z->entries[i].name);
    free(z->entries);
    memset(z, 0, sizeof *z);
}
