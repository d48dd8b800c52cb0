/* Config parser fuzz target: parse arbitrary bytes, dump, re-parse (the
 * dump must read back and dump identically), read a few paths with every
 * getter, apply overrides and merge, then free everything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vla/config.h"

static char *dump(const vla_config *c, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    vla_status s = vla_config_dump(c, f);
    fclose(f);
    if (s != VLA_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void read_paths(const vla_config *c) {
    static const char *const paths[] = {"a", "a.b", "framework.name", "0", "a.0.b", "x.y.z"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        int64_t v;
        double d;
        bool b;
        const char *s;
        size_t n;
        int64_t iv[4];
        vla_config_int_or(c, paths[i], 0, &v);
        vla_config_double(c, paths[i], &d);
        vla_config_bool(c, paths[i], &b);
        vla_config_string_or(c, paths[i], "", &s);
        vla_config_seq_len(c, paths[i], &n);
        vla_config_int_array(c, paths[i], iv, 4, &n);
        vla_config_path(vla_config_get(c, paths[i]));
    }
    static const char *const allowed[] = {"a", "framework", NULL};
    vla_config_check_keys(c, allowed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vla_config *c;
    if (vla_config_parse((const char *)data, size, "fuzz.yaml", &c) != VLA_OK) return 0;
    read_paths(c);

    size_t len1, len2;
    char *text1 = dump(c, &len1);
    if (!text1) abort();
    vla_config *back;
    if (vla_config_parse(text1, len1, "dump.yaml", &back) != VLA_OK) abort();
    char *text2 = dump(back, &len2);
    if (!text2 || len1 != len2 || memcmp(text1, text2, len1) != 0) abort();

    /* the input also serves as an override value and a merge source */
    char *value = strndup((const char *)data, size < 256 ? size : 256);
    if (value) {
        vla_config_set(c, "a.b", value, "--a.b");
        vla_config_apply_override(c, "framework.name", value);
        free(value);
    }
    vla_config_merge(back, c);
    read_paths(back);
    vla_config *copy;
    if (vla_config_clone(back, &copy) == VLA_OK) vla_config_free(copy);
    vla_config_remove(back, "a.b");

    free(text1);
    free(text2);
    vla_config_free(back);
    vla_config_free(c);
    return 0;
}
