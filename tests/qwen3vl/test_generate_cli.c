/* `vla generate` end to end on the tiny checkpoint: the printed answer must
 * be what transformers 4.57.0 generates greedily for the same chat prompt
 * (tools/qwen3vl_generate_golden.py: 84 prompt tokens, new tokens
 * [45 x 8] = "NNNNNNNN"); usage errors exit with 2. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "run_command.h"


int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: test-generate-cli VLA SOURCE_ROOT\n"), 2;
    char cmd[4096], out[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' generate --model-dir '%s/qwen3vl/tiny' --tokenizer '%s/configs/tiny/tokenizer.json' "
             "--image '%s/images/sample_224.png' --max-new-tokens 8 'Describe this image.'",
             argv[1], fixtures_dir(), argv[2], fixtures_dir());
    int rc = run_command(cmd, out, sizeof out);
    printf("vla generate printed: \"%s\" (exit %d)\n", out, rc);
    CHECK(rc == 0);
    CHECK_MSG(strcmp(out, "NNNNNNNN\n") == 0, "expected transformers' greedy answer \"NNNNNNNN\"");
    snprintf(cmd, sizeof cmd, "'%s' generate --model-dir x 2>/dev/null", argv[1]);
    CHECK(run_command(cmd, out, sizeof out) == 2);
    snprintf(cmd, sizeof cmd, "'%s' generate --model-dir /nonexistent --tokenizer x hi 2>/dev/null", argv[1]);
    CHECK(run_command(cmd, out, sizeof out) == 1);
    return test_finish("test-generate-cli");
}
