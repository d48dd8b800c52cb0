/* Helpers shared by the tokenizer and prompt tests: open the qwen-bpe plugin
 * on a tokenizer.json, read the golden fixtures, and build a prompt recipe
 * from a framework preset plus a golden case's overrides. */
#ifndef TOK_UTIL_H
#define TOK_UTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "vla/prompt.h"
#include "vla/tokenizer.h"

typedef struct tok_handle {
    const vla_tokenizer_vtable *vt;
    void *self;
} tok_handle;

/* Load PLUGIN.so and create a tokenizer on `json_path`. */
vla_status tok_open(const char *plugin_so, const char *json_path, tok_handle *h);
void tok_close(tok_handle *h);

/* Whole file, NUL-terminated (malloc'ed); NULL if unreadable. */
char *tok_read_file(const char *path, size_t *len);
/* $VLA_FIXTURES/tokenizer/golden.json, parsed; NULL (message printed) on failure. */
cJSON *tok_golden(void);
/* "$VLA_SHARED_DIR/<rel>" into buf when that file exists, else NULL. */
const char *tok_shared(const char *rel, char *buf, size_t cap);
/* The input bytes of a golden case ("hex" or "text"), malloc'ed into *text. */
size_t tok_case_input(const cJSON *c, char **text);
/* ids == the JSON array of ints? */
int tok_ids_equal(const cJSON *ids, const vla_tokens *t);

/* configs/frameworks/<preset>.yaml with the case's "overrides" applied. */
vla_status tok_case_config(const cJSON *prompt, vla_config **out);
/* The case's state as floats (NULL when null); *dim gets its length. */
float *tok_case_state(const cJSON *prompt, size_t *dim);

#endif
