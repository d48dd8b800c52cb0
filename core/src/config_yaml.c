/* YAML text -> config tree, with libyaml doing the lexing and parsing.
 *
 * What is accepted: one document (a second "---" document is refused, not
 * ignored, so nothing in a file is silently dropped); maps with scalar keys
 * and no duplicate keys; plain, quoted and block scalars. A scalar keeps its
 * text and whether it was plain: only plain scalars can be numbers, bools or
 * null (YAML 1.2 core schema: null/Null/NULL/~/empty, true/True/TRUE,
 * false/False/FALSE; "yes"/"on" are strings), and !!str makes a plain
 * scalar a string. Anchors, aliases and other explicit tags are refused:
 * configs do not need them and aliases are the classic YAML size bomb.
 * A map value's line is its key's line, so messages point at "key: value". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_tree.h"

typedef struct frame {
    vla_config *node;
    char *key; /* a map's key waiting for its value */
    int key_line;
} frame;

typedef struct parser {
    const char *text;
    size_t len;
    bool value_mode;
    cfg_source *src;
    vla_config *root;
    frame stack[CFG_MAX_DEPTH];
    int depth;
    int docs;
} parser;

static vla_status fail(const parser *p, vla_status code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static vla_status fail(const parser *p, vla_status code, int line, const char *fmt, ...) {
    char msg[CFG_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->value_mode)
        return vla_error(code, "%s: value \"%.200s\": %s", p->src->name, p->text, msg);
    return vla_error(code, "%s:%d: %s", p->src->name, line, msg);
}

static int line_of_offset(const parser *p, size_t offset) {
    int line = 1;
    for (size_t i = 0; i < offset && i < p->len; i++) line += p->text[i] == '\n';
    return line;
}

static vla_status yaml_failure(const parser *p, const yaml_parser_t *y) {
    if (y->error == YAML_MEMORY_ERROR) return vla_error(VLA_ERR_OOM, "%s: out of memory parsing YAML", p->src->name);
    if (y->error == YAML_READER_ERROR)
        return fail(p, VLA_ERR_PARSE, line_of_offset(p, y->problem_offset), "%s (byte %zu)", y->problem,
                    y->problem_offset);
    size_t at = y->problem_mark.index;
    const char *hint = at < p->len && p->text[at] == '\t' ? "; YAML indents with spaces, not tabs" : "";
    if (y->context)
        return fail(p, VLA_ERR_PARSE, (int)y->problem_mark.line + 1, "%s (%s at line %d)%s", y->problem, y->context,
                    (int)y->context_mark.line + 1, hint);
    return fail(p, VLA_ERR_PARSE, (int)y->problem_mark.line + 1, "%s%s", y->problem, hint);
}

/* A scalar, sequence start or mapping start. */
static vla_status on_node(parser *p, const yaml_event_t *ev) {
    int line = (int)ev->start_mark.line + 1;
    const yaml_char_t *anchor, *tag;
    bool block = false;
    if (ev->type == YAML_SCALAR_EVENT) {
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        block = ev->data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE;
    } else {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        block = ev->data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE;
    }
    if (anchor) return fail(p, VLA_ERR_UNSUPPORTED, line, "anchors and aliases (&%s) are not supported", anchor);
    bool str_tag = tag && ev->type == YAML_SCALAR_EVENT && !strcmp((const char *)tag, YAML_STR_TAG);
    if (tag && !str_tag) return fail(p, VLA_ERR_UNSUPPORTED, line, "explicit tag %s is not supported", tag);
    const char *text = ev->type == YAML_SCALAR_EVENT ? (const char *)ev->data.scalar.value : NULL;
    if (text && memchr(text, '\0', ev->data.scalar.length))
        return fail(p, VLA_ERR_PARSE, line, "NUL characters are not supported in config text");

    frame *top = p->depth ? &p->stack[p->depth - 1] : NULL;
    if (top && top->node->kind == VLA_CONFIG_MAP && !top->key) {
        char path[CFG_MSG];
        if (!text) return fail(p, VLA_ERR_UNSUPPORTED, line, "only scalars can be map keys");
        const vla_config *dup = cfg_child(top->node, text);
        if (dup) {
            char first[40] = "";
            if (dup->line) snprintf(first, sizeof first, " (first at line %d)", dup->line);
            return fail(p, VLA_ERR_PARSE, line, "%s: duplicate key%s", cfg_path_join(top->node, text, path, sizeof path),
                        first);
        }
        if (top->node->n >= CFG_MAX_KEYS)
            return fail(p, VLA_ERR_LIMIT, line, "%s has more than %d keys",
                        top->node->parent ? cfg_path_join(top->node, NULL, path, sizeof path) : "the top-level map",
                        CFG_MAX_KEYS);
        if (!(top->key = strdup(text))) return vla_error(VLA_ERR_OOM, "out of memory parsing YAML");
        top->key_line = line;
        return VLA_OK;
    }

    if (p->value_mode && block)
        return fail(p, VLA_ERR_PARSE, 0, "reads as a YAML block %s; quote it to pass a string",
                    ev->type == YAML_MAPPING_START_EVENT ? "map (\"key: value\")" : "sequence (\"- item\")");
    vla_config_kind kind = ev->type == YAML_SCALAR_EVENT   ? VLA_CONFIG_SCALAR
                           : ev->type == YAML_MAPPING_START_EVENT ? VLA_CONFIG_MAP
                                                                 : VLA_CONFIG_SEQ;
    bool quoted = str_tag || (text && ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE);
    if (kind == VLA_CONFIG_SCALAR && !quoted && cfg_text_is_null(text)) kind = VLA_CONFIG_NULL;
    int node_line = p->value_mode ? 0 : top && top->node->kind == VLA_CONFIG_MAP ? top->key_line : line;
    vla_config *node = cfg_node_new(kind, text, quoted, p->src, node_line);
    if (!node) return vla_error(VLA_ERR_OOM, "out of memory parsing YAML");
    if (top) {
        vla_status s = cfg_append(top->node, top->key, node);
        free(top->key);
        top->key = NULL;
        VLA_TRY(s);
    } else {
        p->root = node;
    }
    if (kind == VLA_CONFIG_MAP || kind == VLA_CONFIG_SEQ) {
        if (p->depth == CFG_MAX_DEPTH)
            return fail(p, VLA_ERR_LIMIT, line, "nested more than %d levels deep", CFG_MAX_DEPTH);
        p->stack[p->depth++] = (frame){node, NULL, 0};
    }
    return VLA_OK;
}

static vla_status on_event(parser *p, const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++p->docs > 1)
            return fail(p, VLA_ERR_UNSUPPORTED, (int)ev->start_mark.line + 1,
                        "a second YAML document; a config file holds exactly one");
        return VLA_OK;
    case YAML_ALIAS_EVENT:
        return fail(p, VLA_ERR_UNSUPPORTED, (int)ev->start_mark.line + 1,
                    "anchors and aliases (*%s) are not supported", ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return on_node(p, ev);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        p->depth--;
        return VLA_OK;
    default:
        return VLA_OK;
    }
}

static vla_status run(parser *p, yaml_parser_t *y) {
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(y, &ev)) return yaml_failure(p, y);
        vla_status s = on_event(p, &ev);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (s != VLA_OK || end) return s;
    }
}

vla_status cfg_parse(const char *text, size_t len, const char *name, bool value_mode, vla_config **out) {
    *out = NULL;
    if (len > CFG_MAX_BYTES)
        return vla_error(VLA_ERR_LIMIT, "%s: %zu bytes, more than the %u-byte limit for config text", name, len,
                         CFG_MAX_BYTES);
    parser p = {.text = text, .len = len, .value_mode = value_mode, .src = cfg_source_new(name)};
    yaml_parser_t y;
    if (!p.src || !yaml_parser_initialize(&y)) {
        cfg_source_release(p.src);
        return vla_error(VLA_ERR_OOM, "%s: out of memory parsing YAML", name);
    }
    yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
    vla_status s = run(&p, &y);
    yaml_parser_delete(&y);
    for (int i = 0; i < p.depth; i++) free(p.stack[i].key);
    if (s == VLA_OK && !p.root) {
        p.root = cfg_node_new(VLA_CONFIG_NULL, NULL, false, p.src, value_mode ? 0 : 1);
        if (!p.root) s = vla_error(VLA_ERR_OOM, "%s: out of memory parsing YAML", name);
    }
    /* an empty file is an empty map; an empty override value stays null */
    if (s == VLA_OK && !value_mode && p.root->kind == VLA_CONFIG_NULL) p.root->kind = VLA_CONFIG_MAP;
    cfg_source_release(p.src);
    if (s != VLA_OK) {
        vla_config_free(p.root);
        return s;
    }
    *out = p.root;
    return VLA_OK;
}
