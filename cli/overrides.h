/* Command-line config overrides shared by run, config and bench:
 * "--a.b value" and "--a.b=value" (any option whose name contains a dot)
 * become "a.b=value" dotlist items; "--backend NAME" is shorthand for
 * "backend.name=NAME". Everything else is left for the command. */
#ifndef VLA_CLI_OVERRIDES_H
#define VLA_CLI_OVERRIDES_H

typedef struct cli_overrides {
    char **items; /* "key=value", malloc'ed */
    int n;
} cli_overrides;

/* Returns 1 and consumes argv[*i] (and its value) if it is an override. */
int cli_overrides_take(cli_overrides *o, int argc, char **argv, int *i);
void cli_overrides_free(cli_overrides *o);

#endif
