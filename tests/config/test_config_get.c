/* Typed getters: values, defaults, wrong types, missing keys, ranges, arrays, check_keys. */
#include <math.h>

#include "config_test.h"

static vla_config *cfg;

static void test_values(void) {
    int64_t i;
    double d;
    bool b;
    const char *s;
    CHECK_OK(vla_config_int(cfg, "framework.action_model.action_horizon", &i));
    CHECK(i == 16);
    CHECK_OK(vla_config_int(cfg, "framework.action_model.hex", &i));
    CHECK(i == 31);
    CHECK_OK(vla_config_int(cfg, "framework.action_model.neg", &i));
    CHECK(i == INT64_MIN);
    CHECK_OK(vla_config_double(cfg, "framework.action_model.noise_s", &d));
    CHECK(d == 0.999);
    CHECK_OK(vla_config_double(cfg, "framework.action_model.lr", &d));
    CHECK(d == 1.0e-05);
    CHECK_OK(vla_config_double(cfg, "framework.action_model.action_horizon", &d)); /* int -> double is fine */
    CHECK(d == 16.0);
    CHECK_OK(vla_config_bool(cfg, "framework.action_model.add_pos_embed", &b));
    CHECK(b);
    CHECK_OK(vla_config_bool(cfg, "datasets.vla_data.flag", &b));
    CHECK(b);
    CHECK_OK(vla_config_bool(cfg, "datasets.vla_data.off", &b));
    CHECK(!b);
    CHECK_OK(vla_config_string(cfg, "framework.name", &s));
    CHECK(!strcmp(s, "QwenOFT"));
    CHECK_OK(vla_config_string(cfg, "framework.action_model.state_dim", &s));
    CHECK(!strcmp(s, "8"));
    CHECK_OK(vla_config_string(cfg, "datasets.vla_data.yes_is_string", &s)); /* YAML 1.2: yes is text */
    CHECK(!strcmp(s, "yes"));
    CHECK_OK(vla_config_string(cfg, "framework.action_model.action_horizon", &s)); /* any scalar reads as text */
    CHECK(!strcmp(s, "16"));
    CHECK_OK(vla_config_string(cfg, "datasets.vla_data.names.1", &s));
    CHECK(!strcmp(s, "b"));
    CHECK_OK(vla_config_int(cfg, "datasets.vla_data.names.2.c", &i));
    CHECK(i == 3);

    /* relative lookups from a sub-node */
    const vla_config *am = vla_config_get(cfg, "framework.action_model");
    CHECK_OK(vla_config_int(am, "action_horizon", &i));
    CHECK(i == 16);
    CHECK_ERR(vla_config_int(am, "action_dim", &i), VLA_ERR_TYPE,
              "run.yaml:5: framework.action_model.action_dim: expected an integer, got \"seven\"");
}

static void test_scalar_syntax(void) {
    vla_config *c = parse_str("i1: +7\ni2: 0o17\ni3: 0xff\ni4: 007\nf1: .5\nf2: 1.\nf3: -1e3\nf4: -.inf\nf5: .NaN\n"
                              "f6: 1e999\nn1: 1_000\nn2: 0x\nn3: 1e\nn4: .\nn5: 12abc\nn6: 0b101\nn7: 1.5.2\n"
                              "b1: TRUE\nb2: tRue\nb3: 'true'\nb4: on\nmax: 9223372036854775807\n"
                              "over: 0x8000000000000000\n");
    int64_t i;
    double d;
    bool b;
    CHECK_OK(vla_config_int(c, "i1", &i));
    CHECK(i == 7);
    CHECK_OK(vla_config_int(c, "i2", &i));
    CHECK(i == 15);
    CHECK_OK(vla_config_int(c, "i3", &i));
    CHECK(i == 255);
    CHECK_OK(vla_config_int(c, "i4", &i));
    CHECK(i == 7);
    CHECK_OK(vla_config_int(c, "max", &i));
    CHECK(i == INT64_MAX);
    CHECK_ERR(vla_config_int(c, "over", &i), VLA_ERR_TYPE, "over: expected an integer in the int64 range");
    CHECK_OK(vla_config_double(c, "i2", &d));
    CHECK(d == 15.0);
    CHECK_OK(vla_config_double(c, "f1", &d));
    CHECK(d == 0.5);
    CHECK_OK(vla_config_double(c, "f2", &d));
    CHECK(d == 1.0);
    CHECK_OK(vla_config_double(c, "f3", &d));
    CHECK(d == -1000.0);
    CHECK_OK(vla_config_double(c, "f4", &d));
    CHECK(isinf(d) && d < 0);
    CHECK_OK(vla_config_double(c, "f5", &d));
    CHECK(isnan(d));
    CHECK_ERR(vla_config_double(c, "f6", &d), VLA_ERR_TYPE, "t.yaml:10: f6: expected a number in the double range");
    CHECK_ERR(vla_config_int(c, "f1", &i), VLA_ERR_TYPE, "t.yaml:5: f1: expected an integer, got \".5\"");
    static const char *const not_numbers[] = {"n1", "n2", "n3", "n4", "n5", "n6", "n7", "b1"};
    for (int k = 0; k < 8; k++) {
        CHECK_ERR(vla_config_double(c, not_numbers[k], &d), VLA_ERR_TYPE, "expected a number");
        CHECK_ERR(vla_config_int(c, not_numbers[k], &i), VLA_ERR_TYPE, "expected an integer");
    }
    CHECK_OK(vla_config_bool(c, "b1", &b));
    CHECK(b);
    CHECK_ERR(vla_config_bool(c, "b2", &b), VLA_ERR_TYPE, "t.yaml:19: b2: expected true or false, got \"tRue\"");
    CHECK_ERR(vla_config_bool(c, "b3", &b), VLA_ERR_TYPE, "expected true or false, got \"true\" (a quoted string)");
    CHECK_ERR(vla_config_bool(c, "b4", &b), VLA_ERR_TYPE, "expected true or false, got \"on\"");
    vla_config_free(c);
}

static void test_errors(void) {
    int64_t i;
    double d;
    bool b;
    const char *s;
    size_t n;
    CHECK_ERR(vla_config_int(cfg, "framework.action_model.action_dim", &i), VLA_ERR_TYPE,
              "run.yaml:5: framework.action_model.action_dim: expected an integer, got \"seven\"");
    CHECK_ERR(vla_config_int(cfg, "framework.action_model.state_dim", &i), VLA_ERR_TYPE,
              "run.yaml:7: framework.action_model.state_dim: expected an integer, got \"8\" (a quoted string)");
    CHECK_ERR(vla_config_int(cfg, "framework.action_model.noise_s", &i), VLA_ERR_TYPE,
              "run.yaml:8: framework.action_model.noise_s: expected an integer, got \"0.999\"");
    CHECK_ERR(vla_config_int(cfg, "framework.action_model.big", &i), VLA_ERR_TYPE,
              "run.yaml:13: framework.action_model.big: expected an integer in the int64 range");
    CHECK_ERR(vla_config_double(cfg, "framework.name", &d), VLA_ERR_TYPE,
              "run.yaml:3: framework.name: expected a number, got \"QwenOFT\"");
    CHECK_ERR(vla_config_bool(cfg, "framework.action_model.action_horizon", &b), VLA_ERR_TYPE,
              "run.yaml:6: framework.action_model.action_horizon: expected true or false, got \"16\"");
    CHECK_ERR(vla_config_string(cfg, "framework.action_model", &s), VLA_ERR_TYPE,
              "run.yaml:4: framework.action_model: expected a string, got a map");
    CHECK_ERR(vla_config_string(cfg, "framework.action_model.image_size", &s), VLA_ERR_TYPE,
              "run.yaml:15: framework.action_model.image_size: expected a string, got a sequence");
    CHECK_ERR(vla_config_string(cfg, "framework.action_model.positional_embeddings", &s), VLA_ERR_TYPE,
              "run.yaml:11: framework.action_model.positional_embeddings: expected a string, got null");
    CHECK_ERR(vla_config_int(cfg, "framework.action_model.image_size.1.x", &i), VLA_ERR_TYPE,
              "run.yaml:15: framework.action_model.image_size.1: expected a map holding "
              "framework.action_model.image_size.1.x, got \"224\"");

    /* missing keys name the file and line of the deepest map that exists, and the full path */
    CHECK_ERR(vla_config_int(cfg, "framework.action_model.num_layers", &i), VLA_ERR_NOT_FOUND,
              "run.yaml:4: framework.action_model.num_layers: required key is missing");
    CHECK_ERR(vla_config_string(cfg, "trainer.seed", &s), VLA_ERR_NOT_FOUND, "run.yaml:2: trainer.seed: required key is missing");
    CHECK_ERR(vla_config_int(vla_config_get(cfg, "framework"), "qwenvl.base_vlm", &i), VLA_ERR_NOT_FOUND,
              "run.yaml:2: framework.qwenvl.base_vlm: required key is missing");
    CHECK_ERR(vla_config_seq_len(cfg, "datasets.nope", &n), VLA_ERR_NOT_FOUND, "datasets.nope: required key is missing");
    CHECK_ERR(vla_config_int(NULL, "x", &i), VLA_ERR_NOT_FOUND, "(no config): x: required key is missing");
}

static void test_defaults(void) {
    int64_t i;
    double d;
    bool b;
    const char *s;
    CHECK_OK(vla_config_int_or(cfg, "framework.action_model.num_layers", 36, &i));
    CHECK(i == 36);
    CHECK_OK(vla_config_int_or(cfg, "framework.action_model.action_horizon", 36, &i));
    CHECK(i == 16);
    CHECK_OK(vla_config_double_or(cfg, "framework.nope.x", 2.5, &d));
    CHECK(d == 2.5);
    CHECK_OK(vla_config_bool_or(cfg, "trainer.freeze", true, &b));
    CHECK(b);
    CHECK_OK(vla_config_string_or(cfg, "framework.action_model.positional_embeddings", "none", &s)); /* null = unset */
    CHECK(!strcmp(s, "none"));
    CHECK_OK(vla_config_string_or(cfg, "datasets.vla_data.empty.deeper", NULL, &s));
    CHECK(s == NULL);
    CHECK_OK(vla_config_int_or(NULL, "x", 5, &i));
    CHECK(i == 5);
    CHECK_OK(vla_config_int_or(cfg, "datasets.vla_data.names.7", 5, &i));
    CHECK(i == 5);
    /* a present key of the wrong type still fails */
    CHECK_ERR(vla_config_int_or(cfg, "framework.action_model.action_dim", 7, &i), VLA_ERR_TYPE,
              "run.yaml:5: framework.action_model.action_dim: expected an integer, got \"seven\"");
    CHECK_ERR(vla_config_bool_or(cfg, "framework.name.x", false, &b), VLA_ERR_TYPE, "framework.name: expected a map");
}

static void test_sequences_and_maps(void) {
    size_t n;
    double d[4];
    int64_t v[4];
    CHECK_OK(vla_config_seq_len(cfg, "framework.action_model.image_size", &n));
    CHECK(n == 2);
    CHECK_ERR(vla_config_seq_len(cfg, "framework.name", &n), VLA_ERR_TYPE, "run.yaml:3: framework.name: expected a sequence");
    CHECK_OK(vla_config_double_array(cfg, "framework.action_model.scale", d, 4, &n));
    CHECK(n == 3 && d[0] == 0.5 && d[1] == 1.0 && d[2] == -2000.0);
    CHECK_OK(vla_config_int_array(cfg, "framework.action_model.image_size", v, 4, &n));
    CHECK(n == 2 && v[0] == 224 && v[1] == 224);
    CHECK_ERR(vla_config_int_array(cfg, "framework.action_model.scale", v, 4, &n), VLA_ERR_TYPE,
              "run.yaml:16: framework.action_model.scale.0: expected an integer, got \"0.5\"");
    CHECK_ERR(vla_config_double_array(cfg, "framework.action_model.scale", d, 2, &n), VLA_ERR_SHAPE,
              "run.yaml:16: framework.action_model.scale: expected at most 2 numbers, got 3");
    CHECK_ERR(vla_config_double_array(cfg, "datasets.vla_data.names", d, 4, &n), VLA_ERR_TYPE,
              "run.yaml:27: datasets.vla_data.names.0: expected a number, got \"a\"");
    const vla_config *names = vla_config_get(cfg, "datasets.vla_data.names");
    CHECK(vla_config_seq_at(names, 2) == vla_config_get(cfg, "datasets.vla_data.names.2"));
    CHECK(vla_config_seq_at(names, 3) == NULL);
    CHECK(vla_config_seq_at(vla_config_get(cfg, "framework"), 0) == NULL);
    const vla_config *fw = vla_config_get(cfg, "framework");
    CHECK(vla_config_map_len(fw) == 2);
    CHECK(!strcmp(vla_config_map_key(fw, 1), "action_model"));
    CHECK(vla_config_map_value(fw, 1) == vla_config_get(cfg, "framework.action_model"));
    CHECK(vla_config_map_key(fw, 2) == NULL && vla_config_map_value(fw, 2) == NULL);
    CHECK(vla_config_map_len(names) == 0 && vla_config_map_len(NULL) == 0);
}

static void test_check_keys(void) {
    static const char *const fw_keys[] = {"name", "action_model", "qwenvl", NULL};
    static const char *const few[] = {"name", "qwenvl", NULL};
    static const char *const none[] = {NULL};
    CHECK_OK(vla_config_check_keys(vla_config_get(cfg, "framework"), fw_keys));
    CHECK_ERR(vla_config_check_keys(vla_config_get(cfg, "framework"), few), VLA_ERR_INVALID_ARG,
              "run.yaml:4: framework.action_model: unknown key; allowed keys: name, qwenvl");
    CHECK_ERR(vla_config_check_keys(cfg, none), VLA_ERR_INVALID_ARG, "run.yaml:2: framework: unknown key; allowed keys: (none)");
    CHECK_OK(vla_config_check_keys(vla_config_get(cfg, "datasets.vla_data.empty"), none)); /* null: nothing to check */
    CHECK_OK(vla_config_check_keys(NULL, none));
    CHECK_ERR(vla_config_check_keys(vla_config_get(cfg, "framework.name"), few), VLA_ERR_TYPE, "expected a map");
}

int main(int argc, char **argv) {
    test_init(argc, argv);
    CHECK_OK(vla_config_load_file(data_path("run.yaml"), &cfg));
    test_values();
    test_scalar_syntax();
    test_errors();
    test_defaults();
    test_sequences_and_maps();
    test_check_keys();
    vla_config_free(cfg);
    return test_finish("test_config_get");
}
