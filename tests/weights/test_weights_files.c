/* Every tensor read back from files written by torch.save and
 * safetensors.torch.save_file equals what PyTorch wrote: all dtypes, views
 * with storage offsets and strides, shared storages, wrappers, sharding. */
#include <string.h>

#include "weights_test.h"

static void test_metadata(void) {
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("st_basic.safetensors"), NULL, NULL, &w));
    if (!w) return;
    CHECK(vla_weights_metadata(w, "note") && strcmp(vla_weights_metadata(w, "note"), "hello") == 0);
    CHECK(vla_weights_metadata(w, "format") && strcmp(vla_weights_metadata(w, "format"), "pt") == 0);
    CHECK(vla_weights_metadata(w, "missing") == NULL);
    CHECK(vla_weights_find(w, "no.such.tensor") == NULL);
    const vla_weight_info *t = vla_weights_find(w, "t_f32");
    float small[2];
    CHECK_ERR(vla_weight_read(t, VLA_F32, small, sizeof small), VLA_ERR_INVALID_ARG, "t_f32");
    vla_weights_close(w);
}

static void test_shared_storage(void) {
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("pt_views.pt"), NULL, NULL, &w));
    if (!w) return;
    const vla_weight_info *base = vla_weights_find(w, "base"), *rows = vla_weights_find(w, "rows");
    const vla_weight_info *tr = vla_weights_find(w, "transposed");
    CHECK(base && rows && tr);
    if (base && rows && tr) {
        CHECK((const char *)rows->data - (const char *)base->data == 16 * 4); /* same storage, offset 16 */
        CHECK(tr->data == base->data);
        CHECK(base->span_bytes == 48 * 4);
    }
    vla_weights_close(w);
}

typedef struct progress_log {
    int calls;
    uint64_t last_done, last_total;
} progress_log;

static void on_progress(void *user, const char *what, uint64_t done, uint64_t total) {
    progress_log *log = user;
    (void)what;
    log->calls++;
    CHECK(done <= total);
    CHECK(done >= log->last_done || log->calls == 1);
    log->last_done = done;
    log->last_total = total;
}

/* A folder holding model.safetensors.index.json opens as that index; progress
 * is reported per shard and ends complete. */
static void test_folder_and_progress(void) {
    progress_log log = {0, 0, 0};
    vla_weights *w = NULL;
    CHECK_OK(vla_weights_open(fixture("st_sharded"), on_progress, &log, &w));
    CHECK(vla_weights_count(w) == 4);
    CHECK(log.calls >= 3);
    CHECK(log.last_total > 0 && log.last_done == log.last_total);
    vla_weights_close(w);
}

int main(void) {
    cJSON *expected = load_expected();
    for (const cJSON *f = cJSON_GetObjectItem(expected, "files")->child; f; f = f->next) check_file(expected, f->string);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(expected, "files")) >= 12);
    test_metadata();
    test_shared_storage();
    test_folder_and_progress();
    cJSON_Delete(expected);
    return test_finish("weights_files");
}
