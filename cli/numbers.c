#include "numbers.h"

#include <errno.h>
#include <stdlib.h>

int cli_parse_floats(const char *text, float *out, int cap, int *n) {
    const char *p = text;
    *n = 0;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (!*p) break;
        if (*n == cap) return 0;
        char *end;
        errno = 0;
        float v = strtof(p, &end);
        if (end == p || errno == ERANGE) return 0;
        out[(*n)++] = v;
        p = end;
    }
    return *n > 0;
}
