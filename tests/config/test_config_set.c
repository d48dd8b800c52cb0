/* Overrides (set, dotlist, --key value), remove, clone and merge. */
#include "config_test.h"

static void test_value_types(void) {
    vla_config *c = vla_config_new_map();
    int64_t i;
    double d;
    bool b;
    const char *s;
    size_t n;
    CHECK_OK(vla_config_set(c, "a.int", "8", "--a.int"));
    CHECK_OK(vla_config_int(c, "a.int", &i));
    CHECK(i == 8);
    CHECK_OK(vla_config_set(c, "a.quoted", "'8'", "--a.quoted"));
    CHECK_ERR(vla_config_int(c, "a.quoted", &i), VLA_ERR_TYPE, "--a.quoted: expected an integer, got \"8\" (a quoted string)");
    CHECK_OK(vla_config_string(c, "a.quoted", &s));
    CHECK(!strcmp(s, "8"));
    CHECK_OK(vla_config_set(c, "a.dq", "\"x y\"", NULL));
    CHECK_OK(vla_config_string(c, "a.dq", &s));
    CHECK(!strcmp(s, "x y"));
    CHECK_OK(vla_config_set(c, "a.bool", "false", "--a.bool"));
    CHECK_OK(vla_config_bool(c, "a.bool", &b));
    CHECK(!b);
    CHECK_OK(vla_config_set(c, "a.float", "2.5e-3", "--a.float"));
    CHECK_OK(vla_config_double(c, "a.float", &d));
    CHECK(d == 2.5e-3);
    CHECK_OK(vla_config_set(c, "a.list", "[1, 2, 3]", "--a.list"));
    CHECK_OK(vla_config_seq_len(c, "a.list", &n));
    CHECK(n == 3);
    CHECK_OK(vla_config_int(c, "a.list.2", &i));
    CHECK(i == 3);
    CHECK_OK(vla_config_set(c, "a.map", "{x: 1, y: [a, b]}", "--a.map"));
    CHECK_OK(vla_config_string(c, "a.map.y.1", &s));
    CHECK(!strcmp(s, "b"));
    CHECK_OK(vla_config_set(c, "a.null", "null", "--a.null"));
    CHECK(vla_config_kind_of(vla_config_get(c, "a.null")) == VLA_CONFIG_NULL);
    CHECK_OK(vla_config_set(c, "a.empty", "", "--a.empty"));
    CHECK(vla_config_kind_of(vla_config_get(c, "a.empty")) == VLA_CONFIG_NULL);
    CHECK_OK(vla_config_set(c, "a.text", "Your task is {instruction}. Go [now]", "--a.text"));
    CHECK_OK(vla_config_string(c, "a.text", &s));
    CHECK(!strcmp(s, "Your task is {instruction}. Go [now]"));
    CHECK(vla_config_line(vla_config_get(c, "a.text")) == 0);
    CHECK(!strcmp(vla_config_file(vla_config_get(c, "a.text")), "--a.text"));
    /* an override error names the override, not a file line */
    CHECK_OK(vla_config_apply_override(c, "framework.action_model.action_dim", "seven"));
    CHECK_ERR(vla_config_int(c, "framework.action_model.action_dim", &i), VLA_ERR_TYPE,
              "--framework.action_model.action_dim: expected an integer, got \"seven\"");
    CHECK(strncmp(vla_last_error(), "--framework", 11) == 0);
    /* a value holding a map names the path inside it */
    CHECK_OK(vla_config_apply_override(c, "m", "{k: x}"));
    CHECK_ERR(vla_config_int(c, "m.k", &i), VLA_ERR_TYPE, "--m: m.k: expected an integer, got \"x\"");
    vla_config_free(c);
}

static void test_bad_values(void) {
    vla_config *c = vla_config_new_map();
    CHECK_ERR(vla_config_set(c, "a", "[1, 2", "--a"), VLA_ERR_PARSE, "--a: value \"[1, 2\": did not find expected");
    CHECK_ERR(vla_config_set(c, "a", "Task: pick it", "--a"), VLA_ERR_PARSE,
              "--a: value \"Task: pick it\": reads as a YAML block map (\"key: value\"); quote it to pass a string");
    CHECK_ERR(vla_config_set(c, "a", "- x", "--a"), VLA_ERR_PARSE, "reads as a YAML block sequence");
    CHECK_ERR(vla_config_set(c, "a", "&x 1", "--a"), VLA_ERR_UNSUPPORTED, "anchors and aliases");
    CHECK_ERR(vla_config_set(c, "", "1", "--"), VLA_ERR_INVALID_ARG, "\"\" is not a usable key path");
    CHECK_ERR(vla_config_set(c, "a..b", "1", "--a..b"), VLA_ERR_INVALID_ARG, "--a..b: \"a..b\" is not a usable key path");
    CHECK_ERR(vla_config_set(c, "a.", "1", "--a."), VLA_ERR_INVALID_ARG, "is not a usable key path");
    CHECK(vla_config_map_len(c) == 0); /* nothing half-written */
    vla_config_free(c);
}

static void test_paths(void) {
    vla_config *c = parse_str("framework:\n  name: QwenOFT\n  action_model:\n  list: [1, {x: 2}]\n");
    int64_t i;
    const char *s;
    /* later wins */
    const char *const items[] = {"framework.name=QwenPI", "framework.name=QwenGR00T", "new.deep.key=5"};
    CHECK_OK(vla_config_apply_dotlist(c, items, 3));
    CHECK_OK(vla_config_string(c, "framework.name", &s));
    CHECK(!strcmp(s, "QwenGR00T"));
    CHECK(!strcmp(vla_config_file(vla_config_get(c, "framework.name")), "--framework.name"));
    CHECK_OK(vla_config_int(c, "new.deep.key", &i));
    CHECK(i == 5);
    CHECK(vla_config_kind_of(vla_config_get(c, "new.deep")) == VLA_CONFIG_MAP);
    CHECK(!strcmp(vla_config_map_key(c, 1), "new")); /* new keys are appended */
    /* a null value becomes a map when a child is set */
    CHECK_OK(vla_config_set(c, "framework.action_model.action_dim", "7", "--x"));
    CHECK_OK(vla_config_int(c, "framework.action_model.action_dim", &i));
    CHECK(i == 7);
    /* sequence elements by index */
    CHECK_OK(vla_config_set(c, "framework.list.1.x", "3", "--y"));
    CHECK_OK(vla_config_int(c, "framework.list.1.x", &i));
    CHECK(i == 3);
    CHECK_OK(vla_config_set(c, "framework.list.0", "9", "--y"));
    CHECK_OK(vla_config_int(c, "framework.list.0", &i));
    CHECK(i == 9);
    CHECK_ERR(vla_config_set(c, "framework.list.2", "9", "--framework.list.2"), VLA_ERR_NOT_FOUND,
              "--framework.list.2: cannot set framework.list.2: t.yaml:4: framework.list is a sequence of 2, \"2\" is not an index in it");
    /* a child of a scalar */
    CHECK_ERR(vla_config_set(c, "framework.name.sub.x", "1", "--framework.name.sub.x"), VLA_ERR_TYPE,
              "--framework.name.sub.x: cannot set framework.name.sub.x: --framework.name is \"QwenGR00T\", not a map");
    CHECK_ERR(vla_config_set(c, "framework.list.1.x.y", "1", "--o"), VLA_ERR_TYPE,
              "--o: cannot set framework.list.1.x.y: --y: framework.list.1.x is \"3\", not a map");
    CHECK(!vla_config_has(c, "framework.name.sub"));
    /* dotlist format errors */
    const char *const bad[] = {"framework.name"};
    CHECK_ERR(vla_config_apply_dotlist(c, bad, 1), VLA_ERR_INVALID_ARG, "override \"framework.name\": expected key=value");
    const char *const eq[] = {"a.b==x"};
    CHECK_OK(vla_config_apply_dotlist(c, eq, 1));
    CHECK_OK(vla_config_string(c, "a.b", &s));
    CHECK(!strcmp(s, "=x"));
    /* a bare flag */
    bool b = false;
    CHECK_OK(vla_config_apply_override(c, "trainer.debug", NULL));
    CHECK_OK(vla_config_bool(c, "trainer.debug", &b));
    CHECK(b);
    /* a scalar root cannot take keys */
    vla_config *scalar = parse_str("5");
    CHECK_ERR(vla_config_set(scalar, "a", "1", "--a"), VLA_ERR_TYPE, "--a: cannot set a: t.yaml:1 is \"5\", not a map");
    vla_config_free(scalar);
    vla_config_free(c);
}

static void test_remove(void) {
    vla_config *c = parse_str("a:\n  b: 1\n  c: [1, 2, 3]\nd: 2\n");
    CHECK(vla_config_remove(c, "a.b"));
    CHECK(!vla_config_has(c, "a.b"));
    CHECK(!vla_config_remove(c, "a.b"));
    CHECK(vla_config_remove(c, "a.c.1"));
    int64_t i;
    CHECK_OK(vla_config_int(c, "a.c.1", &i));
    CHECK(i == 3);
    CHECK(!strcmp(vla_config_path(vla_config_get(c, "a.c.1")), "a.c.1"));
    CHECK(!vla_config_remove(c, ""));
    CHECK(vla_config_remove(c, "a"));
    CHECK(vla_config_map_len(c) == 1 && !strcmp(vla_config_map_key(c, 0), "d"));
    vla_config_free(c);
}

static void test_merge_and_clone(void) {
    vla_config *dst = parse_str("fw:\n  name: A\n  am:\n    dim: 7\n    horizon: 16\n  list: [1, 2]\nkeep: 1\n");
    vla_config *src = parse_str("fw:\n  am:\n    horizon: 8\n    extra: x\n  list: [3]\n  name: {x: 1}\nnew: [a]\n");
    vla_config *expect = parse_str("fw:\n  name: {x: 1}\n  am:\n    dim: 7\n    horizon: 8\n    extra: x\n"
                                   "  list: [3]\nkeep: 1\nnew: [a]\n");
    CHECK_OK(vla_config_merge(dst, src));
    CHECK(tree_equal(dst, expect));
    /* merged nodes keep their origin and get their new path */
    CHECK(vla_config_line(vla_config_get(dst, "fw.am.horizon")) == 3);
    CHECK(vla_config_line(vla_config_get(dst, "fw.am.dim")) == 4);
    CHECK(!strcmp(vla_config_path(vla_config_get(dst, "fw.name.x")), "fw.name.x"));
    vla_config_free(src);

    /* a non-map replaces, null included */
    vla_config *nul = parse_str("fw:\n  am: ~\n");
    CHECK_OK(vla_config_merge(dst, nul));
    CHECK(vla_config_kind_of(vla_config_get(dst, "fw.am")) == VLA_CONFIG_NULL);
    vla_config_free(nul);
    vla_config *num = parse_str("7");
    vla_config *fw = (vla_config *)vla_config_get(dst, "fw");
    CHECK_OK(vla_config_merge(fw, num));
    int64_t i;
    CHECK_OK(vla_config_int(dst, "fw", &i));
    CHECK(i == 7);
    vla_config_free(num);

    /* a clone is independent and remembers where it was */
    vla_config *cl;
    CHECK_OK(vla_config_clone(vla_config_get(expect, "fw.am"), &cl));
    CHECK(tree_equal(cl, vla_config_get(expect, "fw.am")));
    CHECK(!strcmp(vla_config_path(vla_config_get(cl, "dim")), "fw.am.dim"));
    CHECK_ERR(vla_config_bool(cl, "extra", &(bool){0}), VLA_ERR_TYPE, "t.yaml:6: fw.am.extra: expected true or false");
    CHECK_OK(vla_config_set(cl, "dim", "1", "--dim"));
    CHECK_OK(vla_config_int(expect, "fw.am.dim", &i));
    CHECK(i == 7);
    vla_config_free(cl);
    vla_config_free(expect);
    vla_config_free(dst);
}

int main(int argc, char **argv) {
    test_init(argc, argv);
    test_value_types();
    test_bad_values();
    test_paths();
    test_remove();
    test_merge_and_clone();
    return test_finish("test_config_set");
}
