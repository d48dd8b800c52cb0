#include "overrides.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push(cli_overrides *o, const char *key, size_t key_len, const char *value) {
    char **items = realloc(o->items, (size_t)(o->n + 1) * sizeof *items);
    if (!items) return 0;
    o->items = items;
    size_t n = key_len + 1 + strlen(value) + 1;
    char *item = malloc(n);
    if (!item) return 0;
    snprintf(item, n, "%.*s=%s", (int)key_len, key, value);
    o->items[o->n++] = item;
    return 1;
}

int cli_overrides_take(cli_overrides *o, int argc, char **argv, int *i) {
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0) return 0;
    const char *key = arg + 2;
    const char *eq = strchr(key, '=');
    size_t key_len = eq ? (size_t)(eq - key) : strlen(key);
    if (key_len == 7 && strncmp(key, "backend", 7) == 0) {
        const char *value = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : "");
        return push(o, "backend.name", 12, value) ? 1 : 0;
    }
    if (!memchr(key, '.', key_len)) return 0;
    const char *value;
    if (eq)
        value = eq + 1;
    else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
        value = argv[++*i];
    else
        value = "true"; /* a bare flag, as StarVLA's dotlist normaliser does */
    return push(o, key, key_len, value) ? 1 : 0;
}

void cli_overrides_free(cli_overrides *o) {
    for (int i = 0; i < o->n; i++) free(o->items[i]);
    free(o->items);
    o->items = NULL;
    o->n = 0;
}
