/* Hostile and broken weight files: each is refused with the expected status
 * and a message naming the problem (and, under ASan, without a report). */
#include "weights_test.h"

static const struct {
    const char *file;
    vla_status code;
    const char *needle;
} cases[] = {
    {"bad_st_truncated.safetensors", VLA_ERR_PARSE, "outside the data section"},
    {"bad_st_short.safetensors", VLA_ERR_PARSE, "not a safetensors file"},
    {"bad_st_header_too_long.safetensors", VLA_ERR_PARSE, "larger than the file"},
    {"bad_st_header_huge.safetensors", VLA_ERR_LIMIT, "exceeds the 100000000-byte limit"},
    {"bad_st_offsets_past_end.safetensors", VLA_ERR_PARSE, "data_offsets [1000, 1016] outside"},
    {"bad_st_overlap.safetensors", VLA_ERR_PARSE, "'a' and 'b' overlap"},
    {"bad_st_size_mismatch.safetensors", VLA_ERR_PARSE, "span 16 bytes but F32 of that shape needs 12"},
    {"bad_st_shape_overflow.safetensors", VLA_ERR_LIMIT, "element count overflows"},
    {"bad_st_negative_shape.safetensors", VLA_ERR_PARSE, "shape[0] is not a non-negative integer"},
    {"bad_st_dtype.safetensors", VLA_ERR_UNSUPPORTED, "dtype 'F8_E4M3'"},
    {"bad_st_json.safetensors", VLA_ERR_PARSE, "not valid JSON"},
    {"bad_st_duplicate.safetensors", VLA_ERR_PARSE, "duplicate tensor name 'a'"},
    {"bad_index_escape", VLA_ERR_SECURITY, "'../st_basic.safetensors' is not a plain file name"},
    {"bad_index_absolute", VLA_ERR_SECURITY, "'/etc/passwd' is not a plain file name"},
    {"bad_index_duplicate/model.safetensors.index.json", VLA_ERR_PARSE, "duplicate tensor name 'x'"},
    {"bad_index_wrong_map", VLA_ERR_NOT_FOUND, "'z' is in 's1.safetensors' but no shard has it"},
    {"bad_pt_os_system.pt", VLA_ERR_SECURITY, "refusing pickle global 'os system'"},
    {"bad_pt_posix_system.pt", VLA_ERR_SECURITY, "refusing pickle global 'posix system'"},
    {"bad_pt_builtins_eval.pt", VLA_ERR_SECURITY, "refusing pickle global 'builtins eval'"},
    {"bad_pt_reduce_string.pt", VLA_ERR_SECURITY, "REDUCE of a str"},
    {"bad_pt_opcode.pt", VLA_ERR_UNSUPPORTED, "unsupported pickle opcode 0x69 ('i')"},
    {"bad_pt_compressed.pt", VLA_ERR_UNSUPPORTED, "'archive/data.pkl' is compressed"},
    {"bad_pt_zip_huge.pt", VLA_ERR_PARSE, "entry 'archive/data/0' declares 2147483632 bytes"},
    {"bad_pt_truncated.pt", VLA_ERR_PARSE, "no zip end-of-central-directory record"},
    {"bad_pt_legacy.pt", VLA_ERR_UNSUPPORTED, "legacy (pre-1.6, non-zip)"},
    {"bad_pt_nonstring_key.pt", VLA_ERR_TYPE, "dict key #0 has type int, not str"},
    {"bad_pt_deep.pt", VLA_ERR_LIMIT, "nested deeper than 64"},
    {"bad_pt_exponential.pt", VLA_ERR_LIMIT, "shared sub-dicts"},
    {"bad_pt_storage_numel.pt", VLA_ERR_PARSE, "storage '0' declares 100 elements of f32 but its entry has 16 bytes"},
    {"bad_pt_view_oob.pt", VLA_ERR_PARSE, "tensor 'w': elements reach byte 40 but its storage holds 16 bytes"},
    {"bad_pt_offset_oob.pt", VLA_ERR_PARSE, "tensor 'w': elements reach byte 20"},
    {"bad_pt_negative_stride.pt", VLA_ERR_PARSE, "tensor 'w': negative stride -1"},
    {"bad_pt_size_overflow.pt", VLA_ERR_LIMIT, "tensor 'w': element count overflows"},
    {"bad_pt_too_many_dims.pt", VLA_ERR_LIMIT, "at most 8 ints"},
    {"bad_pt_missing_storage.pt", VLA_ERR_PARSE, "storage '7' has no entry 'archive/data/7'"},
    {"no_such_file.safetensors", VLA_ERR_IO, "cannot open"},
};

int main(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vla_weights *w = (vla_weights *)&cases[i]; /* must be reset to NULL on failure */
        CHECK_ERR(vla_weights_open(fixture(cases[i].file), NULL, NULL, &w), cases[i].code, cases[i].needle);
        CHECK_MSG(w == NULL, "%s: output not cleared on failure", cases[i].file);
        /* every message names the file it is about */
        const char *base = strrchr(fixture(cases[i].file), '/') + 1;
        CHECK_MSG(strstr(vla_last_error(), strncmp(cases[i].file, "bad_index", 9) == 0 ? "bad_index" : base),
                  "%s: message does not name the file: %s", cases[i].file, vla_last_error());
    }
    return test_finish("weights_hostile");
}
