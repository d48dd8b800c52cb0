/* YAML parsing: structure, order, lines, scalars, malformed input, limits. */
#include "config_test.h"

static void test_structure(void) {
    vla_config *c;
    CHECK_OK(vla_config_load_file(data_path("run.yaml"), &c));
    CHECK(vla_config_kind_of(c) == VLA_CONFIG_MAP);
    CHECK(vla_config_map_len(c) == 2);
    CHECK(!strcmp(vla_config_map_key(c, 0), "framework"));
    CHECK(!strcmp(vla_config_map_key(c, 1), "datasets"));
    const vla_config *am = vla_config_get(c, "framework.action_model");
    static const char *const order[] = {"action_dim", "action_horizon", "state_dim", "noise_s", "lr",
                                        "add_pos_embed", "positional_embeddings", "hex", "big", "neg",
                                        "image_size", "scale"};
    CHECK(vla_config_map_len(am) == 12);
    for (size_t i = 0; i < 12; i++) CHECK_MSG(!strcmp(vla_config_map_key(am, i), order[i]), "key %zu", i);
    CHECK(vla_config_kind_of(vla_config_get(c, "framework.action_model.image_size")) == VLA_CONFIG_SEQ);
    CHECK(vla_config_kind_of(vla_config_get(c, "framework.action_model.positional_embeddings")) == VLA_CONFIG_NULL);
    CHECK(vla_config_kind_of(vla_config_get(c, "datasets.vla_data.tilde")) == VLA_CONFIG_NULL);
    CHECK(vla_config_kind_of(vla_config_get(c, "datasets.vla_data.empty")) == VLA_CONFIG_NULL);
    CHECK(vla_config_kind_of(vla_config_get(c, "datasets.vla_data.names.2")) == VLA_CONFIG_MAP);
    CHECK(vla_config_get(c, "datasets.vla_data.names.3") == NULL);
    CHECK(vla_config_get(c, "framework.nope") == NULL);
    CHECK(vla_config_has(c, "datasets.vla_data.empty"));
    CHECK(!vla_config_has(c, "datasets.vla_data.full"));

    /* lines: a map value has its key's line; sequence items their own */
    CHECK(vla_config_line(vla_config_get(c, "framework")) == 2);
    CHECK(vla_config_line(vla_config_get(c, "framework.action_model.action_dim")) == 5);
    CHECK(vla_config_line(vla_config_get(c, "framework.action_model.scale")) == 16);
    CHECK(vla_config_line(vla_config_get(c, "datasets.vla_data.names.1")) == 28);
    CHECK(strstr(vla_config_file(vla_config_get(c, "framework.name")), "run.yaml") != NULL);
    CHECK(!strcmp(vla_config_path(vla_config_get(c, "datasets.vla_data.names.2.c")), "datasets.vla_data.names.2.c"));
    CHECK(!strcmp(vla_config_path(c), ""));

    /* a multi-line plain scalar folds into one line */
    const char *s;
    CHECK_OK(vla_config_string(c, "datasets.vla_data.CoT_prompt", &s));
    CHECK(!strcmp(s, "Your task is {instruction}. To identify the key objects for your task. "
                     "Locate their bounding boxes in [x1,y1,x2,y2] format."));
    vla_config_free(c);
}

static void test_scalars(void) {
    vla_config *c = parse_str("a: '8'\nb: 8\nc: \"null\"\nd: !!str 9\ne: |\n  line1\n  line2\nf: ''\n"
                              "g: Null\nh: NULL\ni: \"\\u00e9\\t\"\n");
    int64_t v;
    const char *s;
    CHECK_ERR(vla_config_int(c, "a", &v), VLA_ERR_TYPE, "t.yaml:1: a: expected an integer, got \"8\" (a quoted string)");
    CHECK_OK(vla_config_int(c, "b", &v));
    CHECK(v == 8);
    CHECK(vla_config_kind_of(vla_config_get(c, "c")) == VLA_CONFIG_SCALAR);
    CHECK_OK(vla_config_string(c, "c", &s));
    CHECK(!strcmp(s, "null"));
    CHECK_ERR(vla_config_int(c, "d", &v), VLA_ERR_TYPE, "expected an integer");
    CHECK_OK(vla_config_string(c, "e", &s));
    CHECK(!strcmp(s, "line1\nline2\n"));
    CHECK_OK(vla_config_string(c, "f", &s));
    CHECK(!strcmp(s, ""));
    CHECK(vla_config_kind_of(vla_config_get(c, "g")) == VLA_CONFIG_NULL);
    CHECK(vla_config_kind_of(vla_config_get(c, "h")) == VLA_CONFIG_NULL);
    CHECK_OK(vla_config_string(c, "i", &s));
    CHECK(!strcmp(s, "\xc3\xa9\t"));
    vla_config_free(c);
}

static void test_empty(void) {
    static const char *const empties[] = {"", "# only a comment\n", "\n\n", "---\n"};
    for (int i = 0; i < 4; i++) {
        vla_config *c;
        CHECK_OK(vla_config_parse(empties[i], strlen(empties[i]), "e.yaml", &c));
        CHECK(vla_config_kind_of(c) == VLA_CONFIG_MAP && vla_config_map_len(c) == 0);
        vla_config_free(c);
    }
}

static void expect_parse_error(const char *text, vla_status code, const char *needle) {
    vla_config *c = (vla_config *)1;
    CHECK_ERR(vla_config_parse(text, strlen(text), "t.yaml", &c), code, needle);
    CHECK(c == NULL);
}

static void expect_file_error(const char *file, const char *needle) {
    vla_config *c;
    char full[256];
    snprintf(full, sizeof full, "%s:%s", file, needle);
    CHECK_ERR(vla_config_load_file(data_path(file), &c), VLA_ERR_PARSE, full);
}

static void test_malformed(void) {
    expect_file_error("unclosed_bracket.yaml", "4: did not find expected ',' or ']' (while parsing a flow sequence at line 3)");
    expect_file_error("bad_indent.yaml", "3: did not find expected key (while parsing a block mapping at line 1)");
    expect_file_error("tabs.yaml", "3: found a tab character that violates indentation");
    CHECK(strstr(vla_last_error(), "not tabs") != NULL);
    expect_file_error("duplicate.yaml", "5: framework.name: duplicate key (first at line 2)");
    vla_config *c;
    CHECK_ERR(vla_config_load_file(data_path("missing.yaml"), &c), VLA_ERR_IO, "missing.yaml: cannot open");

    expect_parse_error("a: {b: 1\n", VLA_ERR_PARSE, "t.yaml:2:");
    expect_parse_error("a: 1\n---\nb: 2\n", VLA_ERR_UNSUPPORTED, "t.yaml:2: a second YAML document");
    expect_parse_error("a: &x 1\nb: *x\n", VLA_ERR_UNSUPPORTED, "t.yaml:1: anchors and aliases (&x)");
    expect_parse_error("a: !!int 1\n", VLA_ERR_UNSUPPORTED, "t.yaml:1: explicit tag tag:yaml.org,2002:int");
    expect_parse_error("? [a]\n: 1\n", VLA_ERR_UNSUPPORTED, "t.yaml:1: only scalars can be map keys");
    expect_parse_error("a: \"x\\0y\"\n", VLA_ERR_PARSE, "t.yaml:1: NUL characters");
    expect_parse_error("a: 1\nb: \xff\n", VLA_ERR_PARSE, "t.yaml:2: invalid leading UTF-8 octet");
    expect_parse_error("a:\n  b: 1\n  c: [1, {d: 2, d: 3}]\n", VLA_ERR_PARSE, "t.yaml:3: a.c.1.d: duplicate key (first at line 3)");
}

static char *repeat(const char *head, int n, const char *mid, const char *tail, int m) {
    size_t lh = strlen(head), lm = strlen(mid), lt = strlen(tail);
    size_t len = lh * (size_t)n + lm + lt * (size_t)m + 1, o = 0;
    char *s = malloc(len);
    if (!s) abort();
    for (int i = 0; i < n; i++, o += lh) memcpy(s + o, head, lh);
    memcpy(s + o, mid, lm);
    o += lm;
    for (int i = 0; i < m; i++, o += lt) memcpy(s + o, tail, lt);
    s[o] = '\0';
    return s;
}

static void test_limits(void) {
    vla_config *c;
    /* 64 levels (the root map counts) are fine, 65 are refused */
    char *ok = repeat("[", 63, "1", "]", 63), *deep = repeat("[", 64, "1", "]", 64);
    char *ok_text = malloc(strlen(ok) + 4), *deep_text = malloc(strlen(deep) + 4);
    if (!ok_text || !deep_text) abort();
    sprintf(ok_text, "a: %s", ok);
    sprintf(deep_text, "a: %s", deep);
    CHECK_OK(vla_config_parse(ok_text, strlen(ok_text), "t.yaml", &c));
    vla_config_free(c);
    CHECK_ERR(vla_config_parse(deep_text, strlen(deep_text), "t.yaml", &c), VLA_ERR_LIMIT,
              "t.yaml:1: nested more than 64 levels deep");
    free(ok), free(deep), free(ok_text), free(deep_text);

    /* block nesting, 200 levels */
    char *block = malloc(200 * 205), *p = block;
    for (int i = 0; i < 200; i++) p += sprintf(p, "%*sk:\n", 2 * i, "");
    CHECK_ERR(vla_config_parse(block, strlen(block), "t.yaml", &c), VLA_ERR_LIMIT, "t.yaml:65: nested more than 64 levels deep");
    free(block);

    /* a huge document is refused before parsing */
    size_t big = (1u << 20) + 1;
    char *huge = malloc(big);
    memset(huge, '#', big);
    CHECK_ERR(vla_config_parse(huge, big, "t.yaml", &c), VLA_ERR_LIMIT, "t.yaml: 1048577 bytes, more than the 1048576-byte limit");
    free(huge);

    /* more than 10000 keys in one map */
    char *keys = malloc(10001 * 16), *q = keys;
    for (int i = 0; i <= 10000; i++) q += sprintf(q, "k%d: 1\n", i);
    CHECK_ERR(vla_config_parse(keys, strlen(keys), "t.yaml", &c), VLA_ERR_LIMIT, "t.yaml:10001: the top-level map has more than 10000 keys");
    free(keys);
}

int main(int argc, char **argv) {
    test_init(argc, argv);
    test_structure();
    test_scalars();
    test_empty();
    test_malformed();
    test_limits();
    return test_finish("test_config_parse");
}
