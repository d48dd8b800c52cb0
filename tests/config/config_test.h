/* Helpers shared by the config tests. Each test gets the folder of its YAML
 * files as argv[1]. */
#ifndef VLA_CONFIG_TEST_H
#define VLA_CONFIG_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vla/config.h"

static char test_dir[2048];

static inline void test_init(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s TEST_DATA_DIR\n", argv[0]);
        exit(1);
    }
    snprintf(test_dir, sizeof test_dir, "%s", argv[1]);
}

/* test_dir/name, in one of a few rotating buffers */
static inline const char *data_path(const char *name) {
    static char bufs[4][4096];
    static unsigned next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", test_dir, name);
    return b;
}

static inline vla_config *parse_str(const char *text) {
    vla_config *c = NULL;
    if (vla_config_parse(text, strlen(text), "t.yaml", &c) != VLA_OK) {
        fprintf(stderr, "parse failed: %s\n", vla_last_error());
        exit(1);
    }
    return c;
}

/* vla_config_dump into a malloc'ed string. */
static inline char *dump_str(const vla_config *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f || vla_config_dump(c, f) != VLA_OK) {
        fprintf(stderr, "dump failed: %s\n", vla_last_error());
        exit(1);
    }
    fclose(f);
    return buf;
}

/* How a scalar types: which getters accept it (quoted "8" is no integer). */
static inline int scalar_types(const vla_config *n) {
    int64_t i;
    double d;
    bool b;
    return (vla_config_int(n, NULL, &i) == VLA_OK) | (vla_config_double(n, NULL, &d) == VLA_OK) << 1 |
           (vla_config_bool(n, NULL, &b) == VLA_OK) << 2;
}

/* Same shape, keys, scalar text and typing. */
static inline int tree_equal(const vla_config *a, const vla_config *b) {
    vla_config_kind k = vla_config_kind_of(a);
    if (k != vla_config_kind_of(b)) return 0;
    if (k == VLA_CONFIG_SCALAR) {
        const char *x, *y;
        return vla_config_string(a, NULL, &x) == VLA_OK && vla_config_string(b, NULL, &y) == VLA_OK && !strcmp(x, y) &&
               scalar_types(a) == scalar_types(b);
    }
    if (k == VLA_CONFIG_MAP) {
        if (vla_config_map_len(a) != vla_config_map_len(b)) return 0;
        for (size_t i = 0; i < vla_config_map_len(a); i++)
            if (strcmp(vla_config_map_key(a, i), vla_config_map_key(b, i)) ||
                !tree_equal(vla_config_map_value(a, i), vla_config_map_value(b, i)))
                return 0;
    }
    if (k == VLA_CONFIG_SEQ) {
        size_t n = 0, m = 0;
        vla_config_seq_len(a, NULL, &n);
        vla_config_seq_len(b, NULL, &m);
        if (n != m) return 0;
        for (size_t i = 0; i < n; i++)
            if (!tree_equal(vla_config_seq_at(a, i), vla_config_seq_at(b, i))) return 0;
    }
    return 1;
}

#endif
