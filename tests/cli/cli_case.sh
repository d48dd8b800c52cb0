#!/usr/bin/env bash
# End-to-end CLI cases: run_case.sh VLA_BINARY SOURCE_ROOT CASE
# Each case runs the real `vla` binary and checks exit codes and output.
set -u
vla="$1" root="$2" case="$3"
cd "$root" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=examples/sample_224.png
instr="put the spoon on the towel"

fail() { echo "FAIL [$case]: $*"; [ -f "$tmp/out" ] && sed 's/^/  out: /' "$tmp/out" | head -40; [ -f "$tmp/err" ] && sed 's/^/  err: /' "$tmp/err" | head -20; exit 1; }
run() { "$vla" "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
expect_rc() { local want="$1"; shift; local rc; rc=$(run "$@"); [ "$rc" = "$want" ] || fail "exit code $rc, expected $want: vla $*"; }
expect_fail() { local rc; rc=$(run "$@"); { [ "$rc" = 1 ] || [ "$rc" = 2 ]; } || fail "exit code $rc, expected 1 or 2: vla $*"; }
expect_err() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks \"$1\""; }
expect_out() { grep -qF -- "$1" "$tmp/out" || fail "stdout lacks \"$1\""; }
chunk() { grep -E '^ +[0-9]+ ' "$tmp/out"; } # the rows of the printed action chunk

check_chunk() { # rows cols
  local rows cols
  rows=$(chunk | wc -l)
  [ "$rows" = "$1" ] || fail "chunk has $rows rows, expected $1"
  cols=$(chunk | awk '{print NF - 1}' | sort -u)
  [ "$cols" = "$2" ] || fail "chunk rows have $cols values, expected $2"
  chunk | grep -qiE 'nan|inf' && fail "non-finite values in the chunk"
  return 0
}

case "$case" in
main_job)
  expect_rc 0 run --image "$img" --instruction "$instr"
  check_chunk 16 7
  expect_out "time: preprocess"
  ;;
seed)
  expect_rc 0 run --image "$img" --instruction "$instr" --seed 1; chunk >"$tmp/a"
  expect_rc 0 run --image "$img" --instruction "$instr" --seed 1; chunk >"$tmp/b"
  expect_rc 0 run --image "$img" --instruction "$instr" --seed 2; chunk >"$tmp/c"
  cmp -s "$tmp/a" "$tmp/b" || fail "same seed gave different chunks"
  cmp -s "$tmp/a" "$tmp/c" && fail "different seeds gave the same chunk"
  ;;
framework_switch)
  expect_rc 0 config --config configs/default.yaml --framework.name QwenOFT
  expect_out "plugin: oft-mlp"
  expect_rc 0 run --image "$img" --instruction "$instr" --framework.name QwenOFT
  check_chunk 8 7
  expect_rc 0 run --image "$img" --instruction "$instr" --framework.framework_py QwenOFT
  check_chunk 8 7
  ;;
unknown_framework)
  expect_fail run --image "$img" --instruction "$instr" --framework.name QwenNope
  expect_err "QwenNope"; expect_err "QwenOFT"; expect_err "QwenPI_v3"
  ;;
unknown_plugin)
  expect_fail run --image "$img" --instruction "$instr" --vla.head.plugin no-such-head
  expect_err "no head plugin named 'no-such-head'"; expect_err "layerwise-fm"; expect_err "oft-mlp"
  ;;
malformed_yaml)
  printf 'framework:\n  name: QwenPI_v3\n  action_model: [1, 2\n' >"$tmp/bad.yaml"
  expect_fail run --config "$tmp/bad.yaml" --image "$img" --instruction "$instr"
  expect_err "bad.yaml:"
  ;;
wrong_type)
  cp configs/default.yaml "$tmp/run.yaml"
  sed -i "s#model_dir: tiny/qwen3vl#model_dir: $root/configs/tiny/qwen3vl#; s#file: tiny/tokenizer.json#file: $root/configs/tiny/tokenizer.json#; s#stats: tiny/#stats: $root/configs/tiny/#" "$tmp/run.yaml"
  awk '{print} /^  action_model:$/ {print "    action_dim: seven"}' "$tmp/run.yaml" >"$tmp/typed.yaml"
  expect_fail run --config "$tmp/typed.yaml" --image "$img" --instruction "$instr"
  expect_err "typed.yaml:"; expect_err "framework.action_model.action_dim"; expect_err "expected an integer"; expect_err '"seven"'
  expect_fail run --image "$img" --instruction "$instr" --framework.action_model.action_dim seven
  expect_err "framework.action_model.action_dim"; expect_err '"seven"'
  ;;
missing_key)
  # a config with no framework preset that names no head plugin
  printf 'framework:\n  action_model:\n    action_dim: 7\n    action_horizon: 4\nvla:\n  backbone:\n    plugin: qwen3vl\n    model_dir: %s/configs/tiny/qwen3vl\n' "$root" >"$tmp/nohead.yaml"
  expect_fail run --config "$tmp/nohead.yaml" --image "$img" --instruction "$instr"
  expect_err "nohead.yaml:5: vla.head.plugin: required key is missing"
  ;;
bad_inputs)
  expect_fail run --image "$img" --instruction "$instr" --unnorm-key oxe_nowhere
  expect_err "oxe_nowhere"; expect_err "oxe_bridge"
  expect_fail run --image "$tmp/missing.png" --instruction "$instr"
  expect_err "missing.png"
  expect_fail run --image README.md --instruction "$instr"
  expect_err "README.md"
  expect_fail run --image "$img" --instruction "$instr" --state "0 nan 0 0 0 0 0"
  expect_err "NaN"
  expect_fail run --image "$img" --instruction "$instr" --state "0 0 0"
  expect_err "state has 3 values"
  ;;
checkpoint_missing_tensor)
  # a run folder whose checkpoint holds only the backbone (every head tensor missing)
  mkdir -p "$tmp/run/checkpoints"
  cp tests/fixtures/qwen3vl/tiny/model.safetensors "$tmp/run/checkpoints/steps_1_model.safetensors"
  printf 'framework:\n  name: QwenPI_v3\n  action_model:\n    diffusion_model_cfg:\n      action_dit_hidden_dim: 64\n      attention_head_dim: 16\nvla:\n  backbone:\n    model_dir: %s/tests/fixtures/qwen3vl/tiny\n  tokenizer:\n    file: %s/configs/tiny/tokenizer.json\n  weights:\n    backbone_prefix: ""\n' "$root" "$root" >"$tmp/run/config.yaml"
  expect_fail run --checkpoint "$tmp/run" --image "$img" --instruction "$instr"
  expect_err "96 missing"; expect_err "project_layers.0.0.weight"
  ;;
usage)
  expect_rc 2 run --no-such-option 1 --image "$img" --instruction "$instr"
  expect_rc 2 run --image "$img"
  expect_err "missing --instruction"
  expect_rc 2 no-such-command
  expect_rc 0 run --help
  expect_out "usage: vla run"
  ;;
outputs)
  expect_rc 0 run --image "$img" --instruction "$instr" --json "$tmp/a.json" --npy "$tmp/a.npy"
  grep -q '"shape": \[1, 16, 7\]' "$tmp/a.json" || fail "json lacks the shape"
  size=$(stat -c %s "$tmp/a.npy"); [ "$size" = $((128 + 16 * 7 * 4)) ] || fail "npy has $size bytes"
  head -c 6 "$tmp/a.npy" | od -c | grep -q 'N   U   M   P   Y' || fail "npy magic"
  expect_fail run --image "$img" --instruction "$instr" --json "$tmp/no/such/dir/a.json"
  [ -e "$tmp/no/such/dir/a.json" ] && fail "partial output left behind"
  expect_err "a.json"
  ;;
plugins)
  expect_rc 0 plugins
  for k in backbone head tokenizer normalizer backend; do grep -qE "^$k " "$tmp/out" || fail "no $k plugin listed"; done
  ;;
dry_run_full_size)
  expect_rc 0 run --dry-run --config examples/qwenpi_v3_bridge/config.yaml --base-vlm examples/qwen3-vl-4b
  expect_out "4,437,815,808"; expect_out "538,678,305"; expect_out "94,593,024"; expect_out "5,071,087,137"
  expect_rc 0 run --dry-run --list --config examples/qwenpi_v3_bridge/config.yaml --base-vlm examples/qwen3-vl-4b
  expect_out "qwen_vl_interface.model.model.language_model.layers.35.mlp.down_proj.weight"
  expect_out "action_model.model.transformer_blocks.35.attn1.to_v.weight"
  expect_out "project_layers.35.1.weight"
  ;;
*)
  echo "unknown case $case"; exit 2 ;;
esac
echo "ok [$case]"
