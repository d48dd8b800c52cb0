/* vla_config_dump: exact text for a known tree, and dump -> parse round trips. */
#include "config_test.h"

static void round_trip(const vla_config *c, const char *what) {
    char *text = dump_str(c);
    vla_config *back;
    CHECK_OK(vla_config_parse(text, strlen(text), what, &back));
    if (back) {
        CHECK_MSG(tree_equal(c, back), "%s does not round-trip:\n%s", what, text);
        char *again = dump_str(back);
        CHECK_MSG(!strcmp(text, again), "%s: second dump differs", what);
        free(again);
        vla_config_free(back);
    }
    free(text);
}

static void test_exact(void) {
    vla_config *c = parse_str("b: 1\na:\n  x: [1, 'two', null]\n  y: {}\n  z: []\n  s: \"8\"\n  t: 'true'\n"
                              "  u: plain text\n  f: 1.0e-05\n  'k: v': ~\n  8: eight\n  'off': yes\nlist:\n- {p: 1, q: [2]}\n- - 3\n");
    char *text = dump_str(c);
    const char *expect =
        "b: 1\n"
        "a:\n"
        "  x:\n"
        "  - 1\n"
        "  - 'two'\n"
        "  - null\n"
        "  y: {}\n"
        "  z: []\n"
        "  s: '8'\n"
        "  t: 'true'\n"
        "  u: plain text\n"
        "  f: 1.0e-05\n"
        "  'k: v': null\n"
        "  '8': eight\n"
        "  off: yes\n"
        "list:\n"
        "- p: 1\n"
        "  q:\n"
        "  - 2\n"
        "- - 3\n";
    CHECK_MSG(!strcmp(text, expect), "got:\n%s", text);
    free(text);
    vla_config_free(c);

    vla_config *empty = vla_config_new_map();
    text = dump_str(empty);
    CHECK_MSG(!strcmp(text, "{}\n"), "got: %s", text);
    free(text);
    vla_config_free(empty);
}

/* Strings that must be quoted or escaped to read back as the same string. */
static void test_special_strings(void) {
    static const char *const values[] = {
        "'8'", "'-1.5e3'", "'0x1F'", "'.inf'", "'true'", "'False'", "'null'", "'~'", "''", "' lead'", "'trail '",
        "'a: b'", "'- x'", "'# not a comment'", "'x #y'", "'{a}'", "'[1]'", "'*star'", "'&amp'", "'!bang'",
        "'%pct'", "'@at'", "'`tick'", "'|'", "'>'", "'?'", "'---'", "'...'", "'it''s'", "\"tab\\there\"",
        "\"two\\nlines\\n\"", "\"\\u00e9t\\u00e9 \\U0001F50D\"", "\"bell\\a\"", "\"back\\\\slash \\\"q\\\"\"",
        "\"\\u2028sep\"", "plain words", "8", "-7", "0o17", "1.5", ".nan", "true", "~",
    };
    vla_config *c = vla_config_new_map();
    char key[32];
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        CHECK_OK(vla_config_set(c, key, values[i], "--test"));
    }
    /* keys that need quoting too */
    CHECK_OK(vla_config_set(c, "x", "{'a: b': 1, '': 2, 'null': 3, ' s': 4, '- d': 5}", "--test"));
    round_trip(c, "special strings");
    vla_config_free(c);
}

static void test_files(void) {
    static const char *const files[] = {"run.yaml", "user.yaml", "presets/QwenPI_v3.yaml", "presets/QwenOFT.yaml"};
    for (int i = 0; i < 4; i++) {
        vla_config *c;
        CHECK_OK(vla_config_load_file(data_path(files[i]), &c));
        if (c) round_trip(c, files[i]);
        vla_config_free(c);
    }
    /* a scalar or sequence root */
    vla_config *s = parse_str("just text");
    round_trip(s, "scalar root");
    vla_config_free(s);
    s = parse_str("[1, [2, {a: b}]]");
    round_trip(s, "sequence root");
    vla_config_free(s);
}

int main(int argc, char **argv) {
    test_init(argc, argv);
    test_exact();
    test_special_strings();
    test_files();
    return test_finish("test_config_dump");
}
