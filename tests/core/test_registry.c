/* Registry: discovery by file name, lazy loading, and every error a user can
 * act on (unknown name, wrong ABI, missing entry symbol, dlopen failure,
 * duplicates, name mismatch). The plugins are built by meson; the test lays
 * them out under the names the registry expects in temporary folders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vla/registry.h"

static char tmp_root[] = "/tmp/vla-registry-XXXXXX";

static void copy_file(const char *from, const char *dir, const char *name) {
    char to[1024];
    snprintf(to, sizeof to, "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        fprintf(stderr, "cannot copy %s to %s\n", from, to);
        exit(1);
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
}

static void make_dir(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tmp_root, name);
    mkdir(out, 0700);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_registry GOOD.so BAD_ABI.so NO_ENTRY.so\n");
        return 2;
    }
    const char *good = argv[1], *bad_abi = argv[2], *no_entry = argv[3];
    if (!mkdtemp(tmp_root)) return 1;
    char a[512], b[512];
    make_dir(a, sizeof a, "a");
    make_dir(b, sizeof b, "b");
    copy_file(good, a, "vla-head-good.so");
    copy_file(bad_abi, a, "vla-head-badabi.so");
    copy_file(no_entry, a, "vla-head-noentry.so");
    copy_file(good, a, "vla-head-renamed.so");
    copy_file(good, b, "vla-head-good.so");
    copy_file(good, a, "vla-tokenizer-x.txt"); /* not a plugin name: ignored */
    char garbage[600];
    snprintf(garbage, sizeof garbage, "%s/vla-backend-garbage.so", a);
    FILE *g = fopen(garbage, "w");
    fputs("this is not an ELF file\n", g);
    fclose(g);

    vla_registry *r;
    const char *dirs_a[] = {a};
    CHECK_OK(vla_registry_open_dirs(dirs_a, 1, &r));
    CHECK(vla_registry_count(r) == 5);

    const vla_plugin_desc *d = NULL;
    CHECK_OK(vla_registry_get(r, VLA_PLUGIN_HEAD, "good", &d));
    CHECK(d && strcmp(d->version, "1.2.3") == 0 && d->kind == VLA_PLUGIN_HEAD);

    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_HEAD, "badabi", &d), VLA_ERR_ABI, "ABI version 999");
    CHECK(strstr(vla_last_error(), "ABI version 1") != NULL);
    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_HEAD, "noentry", &d), VLA_ERR_PLUGIN,
              "does not export the entry symbol vla_plugin_entry");
    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_BACKEND, "garbage", &d), VLA_ERR_PLUGIN, "cannot load plugin");
    CHECK(strstr(vla_last_error(), "vla-backend-garbage.so") != NULL);
    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_HEAD, "renamed", &d), VLA_ERR_PLUGIN, "declares itself head 'good'");
    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_HEAD, "nope", &d), VLA_ERR_NOT_FOUND, "available head plugins:");
    CHECK(strstr(vla_last_error(), "good") && strstr(vla_last_error(), "badabi"));
    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_BACKBONE, "qwen3vl", &d), VLA_ERR_NOT_FOUND, "no backbone plugin");

    /* load_all records failures per entry instead of failing */
    vla_registry_load_all(r);
    size_t failed = 0;
    for (size_t i = 0; i < vla_registry_count(r); i++)
        if (vla_registry_at(r, i)->load_error) failed++;
    CHECK(failed == 4);
    vla_registry_close(r);

    /* the same kind+name twice in one tier: the error names both files */
    const char *dirs_ab[] = {a, b};
    CHECK_OK(vla_registry_open_dirs(dirs_ab, 2, &r));
    CHECK_ERR(vla_registry_get(r, VLA_PLUGIN_HEAD, "good", &d), VLA_ERR_PLUGIN, "two head plugins named 'good'");
    CHECK(strstr(vla_last_error(), a) && strstr(vla_last_error(), b));
    vla_registry_close(r);

    /* a direct load of a non-plugin file */
    CHECK_ERR(vla_plugin_load_file(no_entry, &d), VLA_ERR_PLUGIN, "not a vla plugin");

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmp_root);
    return test_finish("test_registry");
}
