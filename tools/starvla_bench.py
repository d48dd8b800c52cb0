#!/usr/bin/env python3
"""Time StarVLA's own PyTorch ``predict_action`` for QwenPI_v3 (issue 7, item 4).

Development-time tool: it gives the PyTorch reference figure that docs/benchmarks.md sets
next to ``vla bench --backend cuda``. Random weights, real shapes, nothing downloaded.

    python tools/starvla_bench.py --starvla /tmp/starvla-0ed0aad \
        --config-json examples/qwen3-vl-4b/config.json --device cuda --dtype bf16 \
        --iters 100 --warmup 5 --batch 8 --json starvla_bench.json
    python tools/starvla_bench.py --starvla /tmp/starvla-0ed0aad --tiny --device cpu --dtype f32

What runs is StarVLA's deployment path (deployment/model_server/policy_wrapper.py): the
framework class ``Qwen_PI_v3`` of the given checkout, built from a StarVLA run config
(default examples/qwenpi_v3_bridge/config.yaml), its real ``_QWen3_VL_Interface`` (sdpa
attention, real ``AutoProcessor`` with left padding, chat template, CoT prompt), then
``.to(bfloat16)`` as the server's ``--use_bf16`` does, ``.eval()``, and one
``predict_action(examples)`` per timed call: a numpy uint8 image and the instruction in,
``normalized_actions`` (numpy) out. The un-normalisation of the websocket wrapper is a
numpy affine map and is not timed.

Two things are replaced. For the duration of the build only, the name
``Qwen3VLForConditionalGeneration`` inside StarVLA's QWen3 module, by a class whose
``from_pretrained(folder, ...)`` builds the model from the folder's config.json with
transformers' own seeded initialisation (``_from_config``) instead of reading weights.
The folder is a temporary one holding config.json, the processor/chat-template JSONs and
tokenizer.json; its name contains "Qwen3-VL" so that StarVLA's ``get_vlm_model`` picks the
Qwen3-VL interface. And on a CPU with --dtype bf16 only, the head's output is cast to
float32: StarVLA runs the head under ``autocast("cuda", float32)``, which yields float32 on a
GPU but is off on a CPU, where the bf16 result would fail StarVLA's final ``.numpy()`` (the
head itself then computes in bf16 on a CPU, in float32 on a GPU). The StarVLA import, commit
lookup and tiny head shape come from tools/layerwise_fm_fixtures.py.

On a shared or busy CPU, pass --threads 1: with more threads than idle cores, torch's
OpenMP waits made calls up to 50x slower here.

--tiny swaps in the tiny Qwen3-VL of tests/fixtures/qwen3vl/tiny, the tiny tokenizer
configs/tiny/tokenizer.json and the tiny head of the layer-wise fixtures (DiT width 64):
a smoke check that runs in seconds on a CPU. It needs a checkout that reads the VLM depth
from the model (HEAD); the release commit hard-codes 36 layers.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is read from local files

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import layerwise_fm_fixtures as lwfm  # noqa: E402

# The 35-token instruction of `vla bench` (cli/bench_policy.c, default_instruction).
BENCH_INSTRUCTION = (
    "pick up the small red block on the left side of the table and place it carefully inside the "
    "open blue bowl next to the sink"
)
PROCESSOR_JSONS = ("preprocessor_config.json", "video_preprocessor_config.json", "chat_template.json",
                   "tokenizer_config.json")


def log(*a):
    print("[starvla_bench]", *a, flush=True)


def default_shared():
    env = os.environ.get("VLA_SHARED_DIR")
    if env:
        return env
    for cand in (os.path.join(os.path.dirname(REPO), "shared"), os.path.join(REPO, "shared")):
        if os.path.isdir(cand):
            return cand
    return os.path.join(os.path.dirname(REPO), "shared")


def make_model_dir(args, tmp):
    """A base_vlm folder as StarVLA expects one, minus the weights."""
    d = os.path.join(tmp, "Qwen3-VL-random")
    os.makedirs(d)
    proc_src = os.path.join(args.shared, "qwen3-vl-4b-instruct")
    if args.tiny:
        tiny = os.path.join(REPO, "tests", "fixtures", "qwen3vl", "tiny")
        files = {"config.json": os.path.join(tiny, "config.json"),
                 "tokenizer.json": os.path.join(REPO, "configs", "tiny", "tokenizer.json")}
        files.update({f: os.path.join(proc_src, f) for f in PROCESSOR_JSONS})
        files["preprocessor_config.json"] = os.path.join(tiny, "preprocessor_config.json")
    else:
        files = {"config.json": args.config_json,
                 "tokenizer.json": os.path.join(args.shared, "qwen-tokenizer", "tokenizer.json")}
        files.update({f: os.path.join(proc_src, f) for f in PROCESSOR_JSONS})
    for name, src in files.items():
        if not os.path.isfile(src):
            sys.exit(f"starvla_bench: missing {src} (needed as {name}; set --shared or VLA_SHARED_DIR)")
        shutil.copy(src, os.path.join(d, name))
    return d, files


class RandomWeightsQwen3VL:
    """Stands in for ``Qwen3VLForConditionalGeneration`` inside StarVLA's QWen3 module."""

    dtype = None  # final dtype of the run; StarVLA's own request (bf16) is kept for --dtype bf16
    seed = 0

    @classmethod
    def from_pretrained(cls, model_id, attn_implementation=None, dtype=None, **_ignored):
        from transformers import AutoConfig, Qwen3VLForConditionalGeneration

        config = AutoConfig.from_pretrained(model_id)
        torch.manual_seed(cls.seed)
        return Qwen3VLForConditionalGeneration._from_config(
            config, attn_implementation=attn_implementation, dtype=cls.dtype or dtype
        )


def run_config(args, model_dir):
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(args.run_config)
    if args.tiny:
        tiny_head = lwfm.make_cfg("QwenPI_v3", False, lwfm.V3_DIT_DIM)
        cfg = OmegaConf.merge(cfg, {"framework": {"action_model": tiny_head.framework.action_model}})
    cfg.framework.qwenvl.base_vlm = model_dir
    if "trainer" not in cfg:
        cfg.trainer = {}
    return cfg


def build(args, sv, cfg, device, dtype):
    import importlib

    qwen3 = importlib.import_module("starVLA.model.modules.vlm.QWen3")
    RandomWeightsQwen3VL.dtype = dtype
    RandomWeightsQwen3VL.seed = args.seed
    orig = qwen3.Qwen3VLForConditionalGeneration
    qwen3.Qwen3VLForConditionalGeneration = RandomWeightsQwen3VL
    try:
        torch.manual_seed(args.seed)
        with torch.device(device):
            fw = sv.v3.Qwen_PI_v3(cfg)
    finally:
        qwen3.Qwen3VLForConditionalGeneration = orig
    n_vl = fw.qwen_vl_interface.model.config.text_config.num_hidden_layers
    if len(fw.project_layers) != n_vl:
        sys.exit(f"starvla_bench: checkout {sv.commit[:7]} built {len(fw.project_layers)} projectors for a "
                 f"{n_vl}-layer VLM (hard-coded depth); use a checkout that reads it from the model (HEAD)")
    # policy_wrapper.py: `framework.to(torch.bfloat16)` under --use_bf16, then `.to(device).eval()`
    fw = fw.to(dtype).to(device).eval()
    if device.type == "cpu" and dtype == torch.bfloat16:
        # StarVLA runs the head under autocast("cuda", float32), which returns float32 on a GPU and is
        # off on a CPU: the head then returns bf16, which its final .numpy() rejects.
        head_predict = fw.action_model.predict_action
        fw.action_model.predict_action = lambda *a, **kw: head_predict(*a, **kw).float()
    return fw


def percentile(v, q):
    """Same rule as `vla bench` (cli/bench_policy.c)."""
    s = sorted(v)
    return s[int(q * (len(s) - 1) + 0.5)]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_batch(fw, image, instruction, batch, warmup, iters, device):
    examples = [{"image": [image], "lang": instruction} for _ in range(batch)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, out = [], None
    for i in range(warmup + iters):
        sync(device)
        t0 = time.perf_counter()
        out = fw.predict_action(examples)
        sync(device)
        dt = (time.perf_counter() - t0) * 1e3
        if i >= warmup:
            times.append(dt)
    acts = np.asarray(out["normalized_actions"])
    r = {
        "batch": batch, "warmup": warmup, "iters": iters,
        "p50_ms": percentile(times, 0.5), "p90_ms": percentile(times, 0.9),
        "mean_ms": float(np.mean(times)), "min_ms": min(times), "max_ms": max(times),
        "actions_shape": list(acts.shape), "actions_finite": bool(np.isfinite(acts).all()),
    }
    if device.type == "cuda":
        r["peak_gpu_memory_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
        r["peak_gpu_memory_reserved_bytes"] = torch.cuda.max_memory_reserved(device)
    return r


def nvidia_driver():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True, timeout=30).stdout
        return out.split("\n")[0].strip()
    except (OSError, subprocess.SubprocessError):
        return None


def versions(sv, device):
    import diffusers
    import transformers

    v = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "transformers": transformers.__version__,
        "diffusers": diffusers.__version__,
        "numpy": np.__version__,
        "starvla_checkout": sv.checkout,
        "starvla_commit": sv.commit,
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        v.update(gpu=torch.cuda.get_device_name(device), gpu_memory_bytes=p.total_memory,
                 gpu_capability=f"{p.major}.{p.minor}", nvidia_driver=nvidia_driver())
    return v


def prompt_lengths(fw, image, instruction):
    """Token counts of the instruction alone and of the whole prompt (image, CoT, chat scaffolding)."""
    from PIL import Image

    iface = fw.qwen_vl_interface
    inputs = iface.build_qwenvl_inputs(images=[[Image.fromarray(image)]], instructions=[instruction])
    n_instr = len(iface.processor.tokenizer(instruction, add_special_tokens=False)["input_ids"])
    n_img = int((inputs["input_ids"][0] == iface.model.config.image_token_id).sum())
    return {"instruction_tokens": n_instr, "prompt_tokens": int(inputs["input_ids"].shape[1]),
            "image_tokens": n_img}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starvla", required=True, help="StarVLA checkout (e.g. /tmp/starvla-0ed0aad)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--config-json", default=os.path.join(REPO, "examples", "qwen3-vl-4b", "config.json"),
                   help="Qwen3-VL config.json (default: examples/qwen3-vl-4b/config.json, the 4B model)")
    g.add_argument("--tiny", action="store_true", help="tiny Qwen3-VL + tiny head + tiny tokenizer (smoke check)")
    ap.add_argument("--run-config", default=os.path.join(REPO, "examples", "qwenpi_v3_bridge", "config.yaml"),
                    help="StarVLA run config (framework + datasets.vla_data)")
    ap.add_argument("--shared", default=default_shared(),
                    help="folder with qwen3-vl-4b-instruct/ and qwen-tokenizer/ (default: $VLA_SHARED_DIR or ../shared)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16",
                    help="bf16 = the server's --use_bf16 (whole framework cast to bfloat16); f32 = everything float32")
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1, help="also time this batch size (after batch 1) when > 1")
    ap.add_argument("--image", default=os.path.join(REPO, "examples", "sample_224.png"))
    ap.add_argument("--instruction", default=BENCH_INSTRUCTION)
    ap.add_argument("--seed", type=int, default=0, help="seed of the random weights and of the initial noise")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--json", help="write versions, settings and figures here")
    args = ap.parse_args()
    if args.iters < 1 or args.warmup < 0 or args.batch < 1:
        ap.error("--iters >= 1, --warmup >= 0, --batch >= 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("starvla_bench: --device cuda but torch sees no GPU")
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32

    from PIL import Image

    image = np.asarray(Image.open(args.image).convert("RGB"))  # what a websocket client sends
    sv = lwfm.StarVLA(args.starvla)
    ver = versions(sv, device)
    log("versions", json.dumps(ver))

    tmp = tempfile.mkdtemp(prefix="starvla_bench_")
    try:
        model_dir, files = make_model_dir(args, tmp)
        cfg = run_config(args, model_dir)
        t0 = time.perf_counter()
        fw = build(args, sv, cfg, device, dtype)
        build_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp)
    n_vlm = sum(p.numel() for p in fw.qwen_vl_interface.parameters())
    n_all = sum(p.numel() for p in fw.parameters())
    model = {
        "files": {k: os.path.relpath(v, REPO) if v.startswith(REPO) else v for k, v in files.items()},
        "run_config": os.path.relpath(args.run_config, REPO) if args.run_config.startswith(REPO) else args.run_config,
        "framework": type(fw).__name__, "dtype": str(dtype), "device": str(device),
        "cpu_bf16_head_output_cast_to_f32": device.type == "cpu" and dtype == torch.bfloat16,
        "attn_implementation": fw.qwen_vl_interface.model.config._attn_implementation,
        "interleave_self_attention": bool(cfg.framework.action_model.diffusion_model_cfg.get("interleave_self_attention", False)),
        "vlm_layers": len(fw.project_layers), "dit_width": fw.action_dit_hidden_dim,
        "params_vlm": n_vlm, "params_head_and_projectors": n_all - n_vlm, "build_s": build_s,
        "image": os.path.relpath(args.image, REPO) if args.image.startswith(REPO) else args.image,
        "image_hw": list(image.shape[:2]), "instruction": args.instruction,
    }
    model.update(prompt_lengths(fw, image, args.instruction))
    if device.type == "cuda":
        model["gpu_memory_allocated_after_build_bytes"] = torch.cuda.memory_allocated(device)
    log("model", json.dumps(model))

    results = []
    for b in [1] + ([args.batch] if args.batch > 1 else []):
        torch.manual_seed(args.seed)
        r = time_batch(fw, image, args.instruction, b, args.warmup, args.iters, device)
        results.append(r)
        mem = f", peak GPU memory {r['peak_gpu_memory_allocated_bytes'] / 2**30:.2f} GiB" if "peak_gpu_memory_allocated_bytes" in r else ""
        log(f"batch {b}, {args.iters} calls after {args.warmup} warm-up: predict_action p50 {r['p50_ms']:.1f} ms, "
            f"p90 {r['p90_ms']:.1f} ms (min {r['min_ms']:.1f}, max {r['max_ms']:.1f}){mem}; "
            f"actions {r['actions_shape']} finite={r['actions_finite']}")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    log(f"peak host RSS of this process (build included): {peak_rss / 2**30:.2f} GiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tool": "tools/starvla_bench.py", "argv": sys.argv[1:], "versions": ver, "model": model,
                       "results": results, "peak_host_rss_bytes": peak_rss}, f, indent=1)
            f.write("\n")
        log("wrote", args.json)


if __name__ == "__main__":
    main()
