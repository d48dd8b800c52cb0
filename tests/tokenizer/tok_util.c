#include "tok_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vla/registry.h"

vla_status tok_open(const char *plugin_so, const char *json_path, tok_handle *h) {
    const vla_plugin_desc *desc;
    h->vt = NULL;
    h->self = NULL;
    VLA_TRY(vla_plugin_load_file(plugin_so, &desc));
    if (desc->kind != VLA_PLUGIN_TOKENIZER)
        return vla_error(VLA_ERR_PLUGIN, "%s is not a tokenizer plugin", plugin_so);
    h->vt = desc->vtable;
    /* The path goes in single-quoted so any file name survives YAML. */
    size_t n = strlen(json_path);
    char *yaml = malloc(2 * n + 16), *p = yaml;
    if (!yaml) return vla_error(VLA_ERR_OOM, "tok_open");
    p += sprintf(p, "file: '");
    for (size_t i = 0; i < n; i++) {
        if (json_path[i] == '\'') *p++ = '\'';
        *p++ = json_path[i];
    }
    strcpy(p, "'\n");
    vla_config *node = NULL;
    vla_status st = vla_config_parse(yaml, strlen(yaml), "tok_open", &node);
    free(yaml);
    if (st != VLA_OK) return st;
    vla_plugin_env env = {.root = node, .node = node};
    st = h->vt->create(&env, &h->self);
    vla_config_free(node);
    return st;
}

void tok_close(tok_handle *h) {
    if (h->vt && h->self) h->vt->destroy(h->self);
    h->self = NULL;
}

char *tok_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len) *len = (size_t)n;
    }
    return buf;
}

cJSON *tok_golden(void) {
    const char *fx = getenv("VLA_FIXTURES");
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer/golden.json", fx ? fx : "tests/fixtures");
    size_t n;
    char *text = tok_read_file(path, &n);
    cJSON *g = text ? cJSON_ParseWithLength(text, n) : NULL;
    if (!g) fprintf(stderr, "cannot read or parse %s\n", path);
    free(text);
    return g;
}

const char *tok_shared(const char *rel, char *buf, size_t cap) {
    const char *dir = getenv("VLA_SHARED_DIR");
    snprintf(buf, cap, "%s/%s", dir ? dir : "../shared", rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

size_t tok_case_input(const cJSON *c, char **text) {
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(c, "hex");
    if (cJSON_IsString(hex)) {
        size_t n = strlen(hex->valuestring) / 2;
        *text = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            unsigned v;
            sscanf(hex->valuestring + 2 * i, "%2x", &v);
            (*text)[i] = (char)v;
        }
        (*text)[n] = '\0';
        return n;
    }
    *text = strdup(cJSON_GetObjectItemCaseSensitive(c, "text")->valuestring);
    return strlen(*text);
}

int tok_ids_equal(const cJSON *ids, const vla_tokens *t) {
    if ((size_t)cJSON_GetArraySize(ids) != t->n) return 0;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ids) if (e->valueint != t->ids[i++]) return 0;
    return 1;
}

vla_status tok_case_config(const cJSON *prompt, vla_config **out) {
    const char *src = getenv("VLA_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/frameworks/%s.yaml", src ? src : ".",
             cJSON_GetObjectItemCaseSensitive(prompt, "preset")->valuestring);
    VLA_TRY(vla_config_load_file(path, out));
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(prompt, "overrides")) {
        char value[2048], *p = value;
        if (cJSON_IsNumber(o)) {
            snprintf(value, sizeof value, "%d", o->valueint);
        } else {
            *p++ = '\'';
            for (const char *s = o->valuestring; *s && p < value + sizeof value - 4; s++) {
                if (*s == '\'') *p++ = '\'';
                *p++ = *s;
            }
            strcpy(p, "'");
        }
        vla_status st = vla_config_set(*out, o->string, value, "golden override");
        if (st != VLA_OK) {
            vla_config_free(*out);
            return st;
        }
    }
    return VLA_OK;
}

float *tok_case_state(const cJSON *prompt, size_t *dim) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(prompt, "state");
    *dim = 0;
    if (!cJSON_IsArray(s)) return NULL;
    *dim = (size_t)cJSON_GetArraySize(s);
    float *v = malloc((*dim ? *dim : 1) * sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, s) v[i++] = (float)e->valuedouble;
    return v;
}
