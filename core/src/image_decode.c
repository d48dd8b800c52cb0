/* Decoding by content: the first bytes pick PNG or JPEG, whatever the name. */
#include <stdio.h>
#include <string.h>

#include "image_internal.h"

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

vla_status vla_image_decode(const void *bytes, size_t n, const char *name, vla_image_buf *out) {
    if (!name) name = "image";
    if (!out) return vla_error(VLA_ERR_INVALID_ARG, "%s: no output buffer", name);
    memset(out, 0, sizeof *out);
    if (!bytes && n) return vla_error(VLA_ERR_INVALID_ARG, "%s: NULL data", name);
    const unsigned char *b = bytes;
    if (n >= sizeof png_signature && memcmp(b, png_signature, sizeof png_signature) == 0)
        return vla_image_decode_png(b, n, name, out);
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return vla_image_decode_jpeg(b, n, name, out);
    char head[3 * 8 + 1] = "";
    for (size_t i = 0; i < n && i < 8; i++) snprintf(head + 3 * i, sizeof head - 3 * i, "%02x ", b[i]);
    return vla_error(VLA_ERR_PARSE, "%s: not a PNG or JPEG image (%zu bytes%s%s)", name, n,
                     n ? ", starting with bytes " : "", head);
}
