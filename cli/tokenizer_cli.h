/* Opening a text tokenizer plugin for `vla tokenize` and `vla bench
 * tokenizer` (defined in cmd_tokenize.c). */
#ifndef VLA_CLI_TOKENIZER_H
#define VLA_CLI_TOKENIZER_H

#include <limits.h>

#include "vla/registry.h"
#include "vla/tokenizer.h"

typedef struct cli_tokenizer {
    vla_registry *registry;
    const vla_tokenizer_vtable *vt;
    void *self;
    char path[PATH_MAX]; /* the tokenizer.json in use */
} cli_tokenizer;

/* Create tokenizer plugin `plugin` (NULL: "qwen-bpe") on `file`, relative
 * to base_dir (NULL: the current directory). file NULL: the real Qwen
 * vocabulary, $VLA_SHARED_DIR/qwen-tokenizer/tokenizer.json or else
 * ../shared/qwen-tokenizer/tokenizer.json beside the source tree. */
vla_status cli_tokenizer_open(const char *plugin, const char *file, const char *base_dir, cli_tokenizer *t);
void cli_tokenizer_close(cli_tokenizer *t);

#endif
