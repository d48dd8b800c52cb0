/* Running the `vla` binary from a C test: the command's stdout (what the
 * command line redirects into it) into out, NUL-terminated and truncated to
 * cap; returns the exit code, or -1 if it could not run or was killed. */
#ifndef VLA_TEST_RUN_COMMAND_H
#define VLA_TEST_RUN_COMMAND_H

#include <stdio.h>
#include <sys/wait.h>

static int run_command(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
