#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "overrides.h"
#include "vla/config.h"
#include "vla/framework.h"

void help_config(FILE *f) {
    fprintf(f,
            "usage: vla config [--config FILE] [--preset-dir DIR] [--KEY.PATH VALUE ...]\n\n"
            "Prints the fully resolved configuration as YAML: the framework preset\n"
            "named by framework.name (or the legacy framework.framework_py), with FILE\n"
            "merged over it and then the overrides, later ones winning.\n\n"
            "  --config FILE       the run's YAML config\n"
            "  --preset-dir DIR    where <Name>.yaml presets live (default:\n"
            "                      $VLA_CONFIG_PATH/frameworks, else configs/frameworks)\n"
            "  --a.b.c VALUE       set a.b.c; VALUE is read as YAML: 8 is a number,\n"
            "  --a.b.c=VALUE       \"'8'\" a string, true a bool, [1, 2] a list;\n"
            "                      a bare --a.b.c means true\n"
            "  --backend NAME      shorthand for --backend.name NAME\n\n"
            "example: vla config --config run.yaml --framework.name QwenOFT \\\n"
            "             --framework.action_model.action_horizon 8\n");
}

/* "--opt VALUE" or "--opt=VALUE": 0 when argv[*i] is not opt, 1 with *value
 * set, -1 when the value is missing. */
static int take_option(const char *opt, int argc, char **argv, int *i, const char **value) {
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0 || (argv[*i][n] != '=' && argv[*i][n] != '\0')) return 0;
    if (argv[*i][n] == '=')
        *value = argv[*i] + n + 1;
    else if (*i + 1 < argc)
        *value = argv[++*i];
    else
        return -1;
    return 1;
}

int cmd_config(int argc, char **argv) {
    vla_framework_options opts = {0};
    cli_overrides ov = {0};
    int rc = VLA_EXIT_OK;
    for (int i = 1; i < argc && rc == VLA_EXIT_OK; i++) {
        int got = take_option("--config", argc, argv, &i, &opts.config_path);
        if (!got) got = take_option("--preset-dir", argc, argv, &i, &opts.preset_dir);
        if (got < 0)
            rc = cli_usage_error("config", "%s needs a value", argv[i]);
        else if (!got && !cli_overrides_take(&ov, argc, argv, &i))
            rc = cli_usage_error("config", "unexpected argument '%s'", argv[i]);
    }
    vla_config *cfg = NULL;
    if (rc == VLA_EXIT_OK) {
        opts.overrides = (const char *const *)ov.items;
        opts.n_overrides = ov.n;
        if (vla_framework_resolve(&opts, &cfg) != VLA_OK || vla_config_dump(cfg, stdout) != VLA_OK) rc = cli_fail();
    }
    vla_config_free(cfg);
    cli_overrides_free(&ov);
    return rc;
}
