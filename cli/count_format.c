#include "count_format.h"

#include <stdlib.h>
#include <string.h>

void count_groups_init(count_groups *g) { memset(g, 0, sizeof *g); }

void count_groups_add(count_groups *g, const char *name, int64_t numel) { count_groups_add_depth(g, name, 1, numel); }

void count_groups_add_depth(count_groups *g, const char *name, int depth, int64_t numel) {
    const char *dot = name - 1;
    for (int d = 0; d < depth && dot; d++) dot = strchr(dot + 1, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    if (len >= sizeof g->groups[0].name) len = sizeof g->groups[0].name - 1;
    g->total += numel;
    g->total_tensors++;
    for (size_t i = 0; i < g->n; i++) {
        if (strlen(g->groups[i].name) == len && strncmp(g->groups[i].name, name, len) == 0) {
            g->groups[i].count += numel;
            g->groups[i].tensors++;
            return;
        }
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        count_group *n = realloc(g->groups, cap * sizeof *n);
        if (!n) return; /* the total stays right; the group list is best effort */
        g->groups = n;
        g->cap = cap;
    }
    count_group *c = &g->groups[g->n++];
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->count = numel;
    c->tensors = 1;
}

void count_groups_print(const count_groups *g, FILE *f) {
    char buf[32];
    int width = 5; /* "total" */
    for (size_t i = 0; i < g->n; i++)
        if ((int)strlen(g->groups[i].name) > width) width = (int)strlen(g->groups[i].name);
    for (size_t i = 0; i < g->n; i++)
        fprintf(f, "  %-*s %18s  (%zu tensors)\n", width, g->groups[i].name,
                format_count(g->groups[i].count, buf, sizeof buf), g->groups[i].tensors);
    fprintf(f, "  %-*s %18s  (%zu tensors)\n", width, "total", format_count(g->total, buf, sizeof buf),
            g->total_tensors);
}

void count_groups_free(count_groups *g) {
    free(g->groups);
    memset(g, 0, sizeof *g);
}

const char *format_count(int64_t v, char *buf, size_t size) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
    size_t o = 0;
    if (v < 0 && o + 1 < size) buf[o++] = '-';
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i && (n - i) % 3 == 0 && o + 1 < size) buf[o++] = ',';
        if (o + 1 < size) buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

const char *format_bytes(double bytes, char *buf, size_t size) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}
