/* Config tree -> block YAML through libyaml's emitter, which does the
 * quoting and escaping. Scalars keep their style: a plain scalar is written
 * plain (so 8 stays an integer) and a quoted one quoted (so "8" stays a
 * string); the emitter falls back to quoting whenever plain would not read
 * back as the same text. The output parses back to the same tree. */
#include <string.h>
#include <yaml.h>

#include "config_tree.h"

static int emit_scalar(yaml_emitter_t *e, const char *text, yaml_scalar_style_t style) {
    yaml_event_t ev;
    return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1, style) &&
           yaml_emitter_emit(e, &ev);
}

/* Keys are text; quote those other YAML readers would take as null, bool or number. */
static int emit_key(yaml_emitter_t *e, const char *key) {
    return emit_scalar(e, key, cfg_text_is_typed(key) ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
}

static int emit_node(yaml_emitter_t *e, const vla_config *n) {
    yaml_event_t ev;
    switch (n->kind) {
    case VLA_CONFIG_NULL:
        return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
    case VLA_CONFIG_SCALAR:
        /* multi-line text reads best with \n escapes; the choice depends
         * only on the text, so a second dump equals the first */
        return emit_scalar(e, n->text,
                           strchr(n->text, '\n') ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                           : n->quoted           ? YAML_SINGLE_QUOTED_SCALAR_STYLE
                                                 : YAML_PLAIN_SCALAR_STYLE);
    case VLA_CONFIG_SEQ:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return 0;
        for (size_t i = 0; i < n->n; i++)
            if (!emit_node(e, n->items[i])) return 0;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    case VLA_CONFIG_MAP:
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return 0;
        for (size_t i = 0; i < n->n; i++)
            if (!emit_key(e, n->items[i]->key) || !emit_node(e, n->items[i])) return 0;
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    }
    return 0;
}

vla_status vla_config_dump(const vla_config *node, FILE *f) {
    yaml_emitter_t e;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&e)) return vla_error(VLA_ERR_OOM, "out of memory writing YAML");
    yaml_emitter_set_output_file(&e, f);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1); /* no line folding */
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
             emit_node(&e, node) && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
             yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
    vla_status s = ok ? VLA_OK
                      : vla_error(e.error == YAML_MEMORY_ERROR ? VLA_ERR_OOM : VLA_ERR_IO, "cannot write YAML: %s",
                                  e.problem ? e.problem : "write failed");
    yaml_emitter_delete(&e);
    return s;
}
