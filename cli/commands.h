/* The `vla` command-line tool: one function per subcommand.
 * Exit codes: 0 success, 1 runtime error, 2 usage error. */
#ifndef VLA_CLI_COMMANDS_H
#define VLA_CLI_COMMANDS_H

#include <stdio.h>

enum { VLA_EXIT_OK = 0, VLA_EXIT_RUNTIME = 1, VLA_EXIT_USAGE = 2 };

typedef struct vla_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    void (*help)(FILE *f);
} vla_cli_command;

int cmd_plugins(int argc, char **argv);
void help_plugins(FILE *f);
int cmd_config(int argc, char **argv);
void help_config(FILE *f);
int cmd_run(int argc, char **argv);
void help_run(FILE *f);
int cmd_bench(int argc, char **argv);
void help_bench(FILE *f);
int cmd_inspect(int argc, char **argv);
void help_inspect(FILE *f);
int cmd_tokenize(int argc, char **argv);
void help_tokenize(FILE *f);
int cmd_generate(int argc, char **argv);
void help_generate(FILE *f);

/* `vla bench <what>` parts */
int bench_ops(int argc, char **argv);
int bench_tokenizer(int argc, char **argv);
int bench_policy(int argc, char **argv);

/* Print "vla: error: <last error>" to stderr and return VLA_EXIT_RUNTIME. */
int cli_fail(void);
/* Print "vla <cmd>: <message>" plus a hint to use --help; return VLA_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True if argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);

#endif
