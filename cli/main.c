#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vla/status.h"

static const vla_cli_command commands[] = {
    {"run", "predict an action chunk from images + instruction [+ state]", cmd_run, help_run},
    {"plugins", "list discovered plugins (kind, name, version, path)", cmd_plugins, help_plugins},
    {"config", "print the fully resolved configuration", cmd_config, help_config},
    {"bench", "benchmarks: ops, tokenizer, or the whole policy", cmd_bench, help_bench},
    {"inspect", "list the tensors of a checkpoint and count parameters", cmd_inspect, help_inspect},
    {"tokenize", "show token ids and pieces of a string or prompt", cmd_tokenize, help_tokenize},
    {"generate", "greedy text generation with the backbone (VLM check)", cmd_generate, help_generate},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int cli_fail(void) {
    fprintf(stderr, "vla: error: %s\n", vla_last_error());
    return VLA_EXIT_RUNTIME;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "vla %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'vla %s --help')\n", cmd);
    return VLA_EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "vla " VLA_VERSION " - vision-language-action policies in C\n\n"
               "usage: vla <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'vla <command> --help' for the options of a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return VLA_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return VLA_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vla %s\n", VLA_VERSION);
        return VLA_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            commands[i].help(stdout);
            return VLA_EXIT_OK;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "vla: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return VLA_EXIT_USAGE;
}
