/* Counting parameters by top-level name prefix and printing counts the way
 * model cards do (4,437,815,808). Shared by `vla inspect` and dry runs. */
#ifndef VLA_CLI_COUNT_FORMAT_H
#define VLA_CLI_COUNT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct count_group {
    char name[128];
    int64_t count;
    size_t tensors;
} count_group;

typedef struct count_groups {
    count_group *groups;
    size_t n, cap;
    int64_t total;
    size_t total_tensors;
} count_groups;

void count_groups_init(count_groups *g);
/* Adds numel to the group named by the part of `name` before the first '.'. */
void count_groups_add(count_groups *g, const char *name, int64_t numel);
/* The same with the group named by the first `depth` (>= 1) dot-separated parts. */
void count_groups_add_depth(count_groups *g, const char *name, int depth, int64_t numel);
/* "  <group>  <count>  (<n> tensors)" per group, then the total. */
void count_groups_print(const count_groups *g, FILE *f);
void count_groups_free(count_groups *g);

/* 5071087137 -> "5,071,087,137" */
const char *format_count(int64_t v, char *buf, size_t size);
/* 10142174274 -> "9.45 GiB" */
const char *format_bytes(double bytes, char *buf, size_t size);

#endif
