#!/usr/bin/env python3
"""Reference fixtures for StarVLA's layer-wise flow-matching action head.

Development-time tool only (the C runtime never imports Python).  It builds
StarVLA's OWN framework classes (``Qwen_PI_v3`` and ``Qwen_PI``) from two
StarVLA checkouts given on the command line, on a tiny configuration whose VLM
is the tiny Qwen3-VL of tests/fixtures/qwen3vl, re-draws every head/projector
parameter from a seeded normal, runs ``predict_action`` with a fixed initial
noise and records every intermediate a C implementation needs.

    tools/layerwise_fm_fixtures.py \
        --starvla-release /tmp/starvla-95b45ed \
        --starvla-head    /tmp/starvla-HEAD \
        --out tests/fixtures/layerwise-fm

Nothing from StarVLA is copied: its modules are imported from the checkouts.
What is replaced at run time (and why) is listed in tests/fixtures/layerwise-fm/README.md:
  * ``get_vlm_model`` inside the framework module is replaced by a small
    wrapper around the tiny ``Qwen3VLForConditionalGeneration`` (float32, eager
    attention) whose ``build_qwenvl_inputs`` returns the pre-tokenised inputs
    of the backbone fixture (the real wrapper would need a tokenizer/processor
    and forces bf16 + sdpa);
  * ``torch.randn`` is replaced, only for the duration of one ``predict_action``
    call, by a function that returns the saved noise (it asserts that it is
    called exactly once, with the (B, T, A) shape);
  * the release commit hard-codes ``num_vl_layers = 36`` in the framework
    constructor; its ``action_model`` / ``project_layers`` are therefore rebuilt
    (with the release code's own ``populate_layerwise_dit_cfg`` and
    ``get_action_model``) for the tiny 4-layer VLM right after construction.
No import-time stubs are needed (rich, accelerate, omegaconf, diffusers and
torchvision are real installs).

Requires: torch, transformers==4.57.0, diffusers, omegaconf, accelerate, rich,
torchvision, safetensors, numpy.
"""

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import layerwise_fm_numpy_ref as npref  # noqa: E402  (our own independent re-implementation)

# ----------------------------------------------------------------------------
# Tiny configuration (see README)
# ----------------------------------------------------------------------------
ACTION_DIM = 7
STATE_DIM = 7
HORIZON = 16
NUM_FUTURE = 32
NUM_STEPS = 4
NUM_BUCKETS = 1000
V3_DIT_DIM = 64
HEAD_DIM = 16

WEIGHT_SEED_V3 = 20260426
WEIGHT_SEED_V1 = 20260616
NOISE_SEED_SINGLE = 1001
NOISE_SEED_BATCH2 = 1002
NOISE_SEED_V1 = 1003
PERTURB_SEED = 1004

V1_STATE = [[[0.3, -0.5, 0.1, 0.9, -0.2, 0.05, 1.0]]]  # (B=1, 1, state_dim), already normalised


def log(*a):
    print("[layerwise_fm]", *a, flush=True)


# ----------------------------------------------------------------------------
# Importing StarVLA from a checkout
# ----------------------------------------------------------------------------
class StarVLA:
    """Handles on the modules of one StarVLA checkout (imported fresh)."""

    def __init__(self, checkout):
        checkout = os.path.abspath(checkout)
        for k in list(sys.modules):
            if k.split(".")[0] in ("starVLA", "deployment"):
                del sys.modules[k]
        sys.path.insert(0, checkout)
        try:
            import importlib

            self.v3 = importlib.import_module("starVLA.model.framework.VLM4A.QwenPI_v3")
            self.v1 = importlib.import_module("starVLA.model.framework.VLM4A.QwenPI")
            self.head = importlib.import_module("starVLA.model.modules.action_model.LayerwiseFM_ActionHeader")
            self.dit = importlib.import_module(
                "starVLA.model.modules.action_model.flow_matching_head.cross_attention_dit"
            )
            self.share_tools = importlib.import_module("starVLA.model.framework.share_tools")
        finally:
            sys.path.remove(checkout)
        for m in (self.v3, self.v1, self.head, self.dit, self.share_tools):
            assert os.path.abspath(m.__file__).startswith(checkout), (m.__name__, m.__file__)
        self.checkout = checkout
        self.commit = git_commit(checkout)


def git_commit(path):
    """Commit of a checkout: git if it is a work tree, else the directory-name suffix."""
    try:
        out = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        if out:
            return out
    except Exception:
        pass
    real = os.path.realpath(path)
    return os.path.basename(real).replace("starvla-", "")


# ----------------------------------------------------------------------------
# Tiny VLM wrapper (stands in for starVLA.model.modules.vlm.QWen3._QWen3_VL_Interface)
# ----------------------------------------------------------------------------
class TinyQwen3VLInterface(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        # same alignment as _QWen3_VL_Interface.__init__
        self.model.config.hidden_size = self.model.config.text_config.hidden_size
        self.inputs = None
        self.seen_instructions = []
        self.last_outputs = None

    def build_qwenvl_inputs(self, images, instructions, **kwargs):
        assert self.inputs is not None
        assert len(images) == len(instructions) == self.inputs["input_ids"].shape[0]
        self.seen_instructions.append(list(instructions))
        return dict(self.inputs)

    def forward(self, **kwargs):
        out = self.model(**kwargs)
        self.last_outputs = out
        return out


def load_tiny_vlm(qdir):
    from transformers import Qwen3VLForConditionalGeneration

    model = Qwen3VLForConditionalGeneration.from_pretrained(
        qdir, dtype=torch.float32, attn_implementation="eager"
    )
    return model.eval()


# ----------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------
def make_cfg(framework_name, interleave, dit_hidden=None):
    from omegaconf import OmegaConf

    dit_cfg = {"attention_head_dim": HEAD_DIM, "interleave_self_attention": interleave}
    if dit_hidden is not None:
        dit_cfg["action_dit_hidden_dim"] = dit_hidden
    if interleave is None:
        del dit_cfg["interleave_self_attention"]  # keep the checkout's default
    return OmegaConf.create(
        {
            "framework": {
                "name": framework_name,
                "qwenvl": {"base_vlm": "tests/fixtures/qwen3vl (tiny Qwen3-VL)"},
                "action_model": {
                    "action_dim": ACTION_DIM,
                    "state_dim": STATE_DIM,
                    "action_horizon": HORIZON,
                    "num_inference_timesteps": NUM_STEPS,
                    "add_pos_embed": True,
                    "max_seq_len": 1024,
                    "num_target_vision_tokens": NUM_FUTURE,
                    "num_timestep_buckets": NUM_BUCKETS,
                    "diffusion_model_cfg": dit_cfg,
                },
            },
            "datasets": {"vla_data": {}},
            "trainer": {},
        }
    )


def build_framework(sv, kind, iface, interleave):
    """Build Qwen_PI_v3 (kind='v3') or Qwen_PI (kind='v1') of checkout `sv` around `iface`."""
    mod = sv.v3 if kind == "v3" else sv.v1
    cls = mod.Qwen_PI_v3 if kind == "v3" else mod.Qwen_PI
    cfg = make_cfg("QwenPI_v3" if kind == "v3" else "QwenPI", interleave, V3_DIT_DIM if kind == "v3" else None)
    orig = mod.get_vlm_model
    mod.get_vlm_model = lambda config: iface
    try:
        fw = cls(cfg)
    finally:
        mod.get_vlm_model = orig
    n_vl = iface.model.config.text_config.num_hidden_layers
    hid = iface.model.config.text_config.hidden_size
    if len(fw.action_model.model.transformer_blocks) != n_vl:
        # Release code: `num_vl_layers, llm_hidden_size = 36, ...` is hard-coded.  Redo the
        # remaining constructor steps with the release code's own helpers for n_vl layers.
        log(f"{sv.commit[:7]} {kind}: constructor built {len(fw.action_model.model.transformer_blocks)} DiT "
            f"blocks (hard-coded); rebuilding head for {n_vl} VLM layers")
        sv.share_tools.populate_layerwise_dit_cfg(
            fw.config, dit_hidden_dim=(fw.action_dit_hidden_dim if kind == "v3" else hid), num_dit_layers=n_vl
        )
        fw.config.framework.qwenvl.num_vl_layers = n_vl
        fw.action_model = sv.head.get_action_model(config=fw.config)
        if kind == "v3":
            fw.num_action_dit_layers = len(fw.action_model.model.transformer_blocks)
            fw.project_layers = torch.nn.ModuleList(
                [
                    torch.nn.Identity()
                    if hid == fw.action_dit_hidden_dim
                    else torch.nn.Sequential(torch.nn.LayerNorm(hid), torch.nn.Linear(hid, fw.action_dit_hidden_dim))
                    for _ in range(fw.num_action_dit_layers)
                ]
            )
    return fw.float().eval()


def head_state_dict(fw):
    return {k: v for k, v in fw.state_dict().items() if not k.startswith("qwen_vl_interface.")}


# ----------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------
def redraw_weights(sd, seed):
    """Seeded normal re-draw of every tensor, scaled so that every path matters."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name in sorted(sd):
        t = sd[name]
        shape = t.shape
        z = torch.randn(shape, generator=g, dtype=torch.float64)
        if name.endswith("future_tokens.weight"):
            v = 1.0 * z
        elif name.endswith("position_embedding.weight"):
            v = 0.5 * z
        elif name.startswith("project_layers.") and name.endswith(".0.weight"):  # LayerNorm gamma
            v = 1.0 + 0.2 * z
        elif name.endswith(".bias"):
            v = 0.1 * z
        elif t.dim() == 2:  # Linear [out, in]
            v = z / np.sqrt(shape[1])
        else:
            raise ValueError(f"unexpected tensor {name} {tuple(shape)}")
        # rounded to bfloat16-representable values (real checkpoints are bf16 on disk), kept as f32
        out[name] = v.to(torch.bfloat16).to(torch.float32).contiguous()
    return out


def load_head_weights(fw, weights):
    sd = fw.state_dict()
    missing = [k for k in weights if k not in sd]
    assert not missing, missing
    head_keys = [k for k in sd if not k.startswith("qwen_vl_interface.")]
    assert sorted(head_keys) == sorted(weights), (set(head_keys) ^ set(weights))
    res = fw.load_state_dict(weights, strict=False)
    assert not res.unexpected_keys, res.unexpected_keys
    assert all(k.startswith("qwen_vl_interface.") for k in res.missing_keys)


# ----------------------------------------------------------------------------
# Recording
# ----------------------------------------------------------------------------
@contextlib.contextmanager
def fixed_randn(noise):
    """Make the (single) torch.randn call inside predict_action return `noise`."""
    orig = torch.randn
    calls = []

    def fake(*args, size=None, dtype=None, device=None, **kw):
        if size is None:
            size = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)) else args
        assert tuple(size) == tuple(noise.shape), (size, noise.shape)
        assert not kw.get("generator"), "unexpected generator"
        calls.append(tuple(size))
        return noise.clone().to(dtype=dtype or noise.dtype, device=device or noise.device)

    torch.randn = fake
    try:
        yield calls
    finally:
        torch.randn = orig


class Recorder:
    """Forward hooks on the framework's head (work for release and HEAD code paths)."""

    def __init__(self, fw, kind, block_steps=(0,)):
        self.fw, self.kind = fw, kind
        self.block_steps = set(block_steps)
        self.rec = {}
        self.step = -1
        self.enc_ids = {}
        self.block_enc = {}  # (step, block) -> ("cross", E index) | ("self", None)
        self.block_mask = {}
        self.handles = []
        am = fw.action_model
        H = self.handles
        H.append(am.action_encoder.register_forward_pre_hook(self._enc_pre))
        H.append(am.action_encoder.pos_encoding.register_forward_hook(self._save("action_tau_sinusoid")))
        te = am.model.timestep_encoder
        H.append(te.time_proj.register_forward_hook(self._save("t_sinusoid")))
        H.append(te.register_forward_hook(self._save("temb")))
        H.append(am.action_decoder.register_forward_hook(self._dec))
        if am.state_encoder is not None:
            H.append(am.state_encoder.register_forward_hook(self._state))
        blocks = am.model.transformer_blocks
        H.append(blocks[0].register_forward_pre_hook(self._dit_in, with_kwargs=True))
        for i, blk in enumerate(blocks):
            H.append(blk.register_forward_pre_hook(self._blk_pre(i), with_kwargs=True))
            H.append(blk.register_forward_hook(self._blk_out(i, "out")))
            H.append(blk.norm1.linear.register_forward_hook(self._blk_out(i, "adaln_emb")))
            H.append(blk.attn1.register_forward_hook(self._blk_out(i, "attn_out")))
        if kind == "v3":
            for i, p in enumerate(fw.project_layers):
                H.append(p.register_forward_hook(self._proj(i)))

    def remove(self):
        for h in self.handles:
            h.remove()

    def _put(self, key, t):
        assert key not in self.rec, key
        self.rec[key] = t.detach().clone()

    def _enc_pre(self, mod, args):
        self.step += 1
        self._put(f"step.{self.step}.x_in", args[0])
        self._put(f"step.{self.step}.bucket", args[1])

    def _save(self, name):
        def hook(mod, args, out):
            if name == "action_tau_sinusoid":  # (B, T, D), identical rows: keep one
                assert torch.equal(out, out[:1, :1].expand_as(out))
                out = out[0, 0]
            self._put(f"step.{self.step}.{name}", out)

        return hook

    def _state(self, mod, args, out):
        self._put("state_token", out)

    def _dec(self, mod, args, out):
        self._put(f"step.{self.step}.velocity", out[:, -HORIZON:])
        self._put(f"step.{self.step}.dit_out_actions", args[0][:, -HORIZON:])

    def _dit_in(self, mod, args, kwargs):
        h = args[0] if args else kwargs["hidden_states"]
        self._put(f"step.{self.step}.action_features", h[:, -HORIZON:])
        if self.step in self.block_steps:
            self._put(f"step.{self.step}.dit_input", h)

    def _blk_pre(self, i):
        def hook(mod, args, kwargs):
            enc = kwargs.get("encoder_hidden_states", None)
            if enc is None:
                self.block_enc[(self.step, i)] = ("self", None)
            else:
                self.block_enc[(self.step, i)] = ("cross", self.enc_ids.get(id(enc), "unknown"))
            m = kwargs.get("encoder_attention_mask", None)
            self.block_mask[(self.step, i)] = None if m is None else m.detach().clone()

        return hook

    def _blk_out(self, i, name):
        def hook(mod, args, out):
            if self.step in self.block_steps:
                self._put(f"step.{self.step}.block.{i}.{name}", out)

        return hook

    def _proj(self, i):
        def hook(mod, args, out):
            self._put(f"E.{i}", out)
            self.enc_ids[id(out)] = i

        return hook


def run_predict(fw, kind, iface, vlm_inputs, noise, state=None, instruction="pick up the red block", block_steps=(0,)):
    """Call the framework's own predict_action and record everything."""
    B = vlm_inputs["input_ids"].shape[0]
    iface.inputs = vlm_inputs
    img = np.zeros((16, 16, 3), dtype=np.uint8)  # never looked at: the stub returns pre-tokenised inputs
    examples = [{"image": [img], "lang": instruction} for _ in range(B)]
    if state is not None:
        for b in range(B):
            examples[b]["state"] = np.asarray(state[b], dtype=np.float32)
    rec = Recorder(fw, kind, block_steps=block_steps)
    if kind == "v1":
        # QwenPI (v1) has no projectors: the DiT cross-attends to the raw hidden states.
        def vlm_hook(mod, args, out):
            L = len(fw.action_model.model.transformer_blocks)
            for j, h in enumerate(out.hidden_states[-L:]):
                rec.enc_ids[id(h)] = j

        hv = iface.register_forward_hook(vlm_hook)
    try:
        with fixed_randn(noise) as calls, torch.no_grad():
            out = fw.predict_action(examples)
        assert calls == [tuple(noise.shape)], calls
    finally:
        rec.remove()
        if kind == "v1":
            hv.remove()
    actions = torch.from_numpy(np.asarray(out["normalized_actions"]))
    r = rec.rec
    nsteps = rec.step + 1
    assert nsteps == NUM_STEPS
    for k in range(nsteps):
        r[f"step.{k}.x_out"] = r[f"step.{k + 1}.x_in"] if k + 1 < nsteps else actions.clone()
    assert torch.equal(r["step.0.x_in"], noise)
    r["actions"] = actions
    hs = iface.last_outputs.hidden_states
    return r, rec, hs, iface.seen_instructions[-1]


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def maxdiff(a, b):
    return float((a.double() - b.double()).abs().max())


def block_map(rec, step=0):
    L = len([1 for (s, i) in rec.block_enc if s == step])
    out = []
    for i in range(L):
        kind, idx = rec.block_enc[(step, i)]
        out.append("self" if kind == "self" else f"E{idx}")
    return out


def save_case(path, tensors, meta):
    tensors = {k: v.detach().clone().contiguous() for k, v in tensors.items()}
    # one metadata key: safetensors does not keep the order of several keys (byte-stable files)
    save_file(tensors, path, metadata={"meta": json.dumps(meta, sort_keys=True)})


def case_tensors(r, kind, L, with_E=True):
    t = {"inputs.noise": r["step.0.x_in"], "output.actions": r["actions"]}
    if with_E and kind == "v3":
        for i in range(L):
            t[f"proj.E.{i}"] = r[f"E.{i}"]
    if "state_token" in r:
        t["state_token"] = r["state_token"]
    for k, v in r.items():
        if k.startswith("step."):
            t[k] = v
    t = {k: (v.to(torch.int64) if "bucket" in k else v) for k, v in t.items()}
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starvla-release", required=True, help="checkout of starVLA at 95b45ed (QwenPI_v3 release)")
    ap.add_argument("--starvla-head", required=True, help="checkout of starVLA with interleave_self_attention (HEAD)")
    ap.add_argument("--qwen3vl-model", default=None, help="tiny Qwen3-VL model dir (default: <repo>/tests/fixtures/qwen3vl/tiny)")
    ap.add_argument("--qwen3vl-cases", default=None, help="backbone case dir (default: <repo>/tests/fixtures/qwen3vl)")
    ap.add_argument("--case-single", default="case1_single_image.safetensors")
    ap.add_argument("--case-batch2", default="case3_batch_left_pad.safetensors")
    ap.add_argument("--weights-dtype", choices=["float32", "bfloat16"], default="float32",
                    help="storage dtype of the weight files (values are bf16-representable either way)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True)
    repo = os.path.dirname(HERE)
    qdir = args.qwen3vl_model or os.path.join(repo, "tests", "fixtures", "qwen3vl", "tiny")
    cdir = args.qwen3vl_cases or os.path.join(repo, "tests", "fixtures", "qwen3vl")
    os.makedirs(args.out, exist_ok=True)

    import diffusers
    import transformers

    versions = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "diffusers": diffusers.__version__,
        "numpy": np.__version__,
    }
    log("versions", versions)
    assert transformers.__version__ == "4.57.0", transformers.__version__

    # ---- backbone inputs -------------------------------------------------
    case_files = {"single": os.path.join(cdir, args.case_single), "batch2": os.path.join(cdir, args.case_batch2)}
    vlm_cases, vlm_case_hidden = {}, {}
    for name, p in case_files.items():
        if os.path.exists(p):
            d = load_file(p)
            vlm_cases[name] = {k: d[k] for k in ("input_ids", "attention_mask", "pixel_values", "image_grid_thw")}
            hk = sorted((k for k in d if k.startswith("hidden_states.")), key=lambda k: int(k.split(".")[1]))
            vlm_case_hidden[name] = [d[k] for k in hk]
    assert "single" in vlm_cases, f"missing {case_files['single']}"
    model = load_tiny_vlm(qdir)
    tc = model.config.text_config
    L, HV = tc.num_hidden_layers, tc.hidden_size
    log(f"tiny VLM: {L} layers, hidden {HV}; cases {sorted(vlm_cases)}")
    iface = TinyQwen3VLInterface(model)

    checks = {}
    manifest = {
        "versions": versions,
        "starvla_release_commit": None,
        "starvla_head_commit": None,
        "qwen3vl_fixture_sha256": {os.path.relpath(p, repo) if p.startswith(repo) else p: sha256(p) for p in [os.path.join(qdir, "config.json"), os.path.join(qdir, "model.safetensors")] + [case_files[k] for k in vlm_cases]},
        "cases": {},
        "checks": checks,
    }

    # ---- VLM hidden-state facts (which tensor feeds the head) -------------
    with torch.no_grad():
        inp = vlm_cases["single"]
        captured = {}
        lm = model.model.language_model
        hks = [lay.register_forward_pre_hook(lambda m, a, kw, i=i: captured.__setitem__(i, (a[0] if a else kw["hidden_states"]).clone()), with_kwargs=True) for i, lay in enumerate(lm.layers)]
        hko = [lay.register_forward_hook(lambda m, a, o, i=i: captured.__setitem__(("out", i), (o[0] if isinstance(o, tuple) else o).clone())) for i, lay in enumerate(lm.layers)]
        out = model(**inp, output_hidden_states=True, return_dict=True)
        for h in hks + hko:
            h.remove()
        hs = out.hidden_states
        last = model.model(**inp, return_dict=True).last_hidden_state
        vis = inp["input_ids"][0] == model.config.image_token_id
        txt = ~vis
        checks["vlm"] = {
            "num_hidden_states": len(hs),
            "hs0_minus_layer0_input": maxdiff(hs[0], captured[0]),
            "hs_k_minus_layer_k_input(k=1..L-1)": [maxdiff(hs[k], captured[k]) for k in range(1, L)],
            "hs_k_minus_raw_output_of_layer_k-1_text_rows(k=1..L)": [maxdiff(hs[k][0, txt], captured[("out", k - 1)][0, txt]) for k in range(1, L + 1)],
            "hs_k_minus_raw_output_of_layer_k-1_visual_rows(k=1..L)": [maxdiff(hs[k][0, vis], captured[("out", k - 1)][0, vis]) for k in range(1, L + 1)],
            "hs_last_minus_final_normed_last_hidden_state": maxdiff(hs[-1], last),
            "norm(hs_last)_minus_last_hidden_state": maxdiff(lm.norm(hs[-1]), last),
            "deepstack_visual_indexes": list(model.config.vision_config.deepstack_visual_indexes),
        }
    log("vlm checks", json.dumps(checks["vlm"]))

    # ---- import both checkouts ---------------------------------------------
    rel = StarVLA(args.starvla_release)
    manifest["starvla_release_commit"] = rel.commit
    fw_rel_v3 = build_framework(rel, "v3", iface, None)  # release default config (interleave key true, ignored by its forward)
    rel_v3_dit_cfg = dict(fw_rel_v3.action_model.model.config)
    rel_state2str = fw_rel_v3.add_discretized_state_to_instruction

    head = StarVLA(args.starvla_head)
    manifest["starvla_head_commit"] = head.commit
    fw_v3_leg = build_framework(head, "v3", iface, False)
    fw_v3_int = build_framework(head, "v3", iface, True)
    fw_v1_int = build_framework(head, "v1", iface, None)  # HEAD QwenPI default: interleave_self_attention true
    assert fw_v1_int.action_model.model._interleave_self_attention is True
    fw_v1_leg = build_framework(head, "v1", iface, False)

    # ---- weights -----------------------------------------------------------
    w_v3 = redraw_weights(head_state_dict(fw_v3_leg), WEIGHT_SEED_V3)
    w_v1 = redraw_weights(head_state_dict(fw_v1_int), WEIGHT_SEED_V1)
    for fw in (fw_rel_v3, fw_v3_leg, fw_v3_int):
        load_head_weights(fw, w_v3)
    for fw in (fw_v1_int, fw_v1_leg):
        load_head_weights(fw, w_v1)
    wdt = torch.bfloat16 if args.weights_dtype == "bfloat16" else torch.float32
    for w, fn, seed in ((w_v3, "weights_qwenpi_v3.safetensors", WEIGHT_SEED_V3), (w_v1, "weights_qwenpi_v1.safetensors", WEIGHT_SEED_V1)):
        ws = {k: v.to(wdt) for k, v in w.items()}
        assert all(torch.equal(ws[k].float(), w[k]) for k in w)
        save_file(ws, os.path.join(args.out, fn), metadata={"meta": json.dumps({"seed": seed, "values": "bf16-representable"})})

    # ---- shared inputs -----------------------------------------------------
    def vlm_slice(case):
        with torch.no_grad():
            o = model(**vlm_cases[case], output_hidden_states=True, return_dict=True)
        return torch.stack(list(o.hidden_states[-L:]), 0)

    inputs_files = {}
    for case in vlm_cases:
        vh = vlm_slice(case)
        t = {"vlm_hidden": vh, "attention_mask": vlm_cases[case]["attention_mask"].to(torch.int32),
             "input_ids": vlm_cases[case]["input_ids"].to(torch.int32)}
        fn = f"inputs_{case}.safetensors"
        save_file(t, os.path.join(args.out, fn), metadata={"source": os.path.basename(case_files[case])})
        inputs_files[case] = (fn, vh)
        if vlm_case_hidden[case]:
            ref = torch.stack(vlm_case_hidden[case][-L:], 0)
            checks[f"vlm_hidden_{case}_vs_backbone_fixture_hidden_states_maxdiff"] = maxdiff(vh, ref)

    def check_inputs(case, hs):
        vh = inputs_files[case][1]
        return maxdiff(torch.stack(list(hs[-L:]), 0), vh)

    g = torch.Generator().manual_seed(NOISE_SEED_SINGLE)
    noise1 = torch.randn((1, HORIZON, ACTION_DIM), generator=g)
    g = torch.Generator().manual_seed(NOISE_SEED_V1)
    noise_v1 = torch.randn((1, HORIZON, ACTION_DIM), generator=g)

    def record_case(name, fw, kind, case, noise, code, mode, state=None, extra=None, note="", block_steps=(0,)):
        r, rec, hs, instr = run_predict(fw, kind, iface, vlm_cases[case], noise, state=state, block_steps=block_steps)
        t = case_tensors(r, kind, L)
        if state is not None:
            t["inputs.state"] = torch.tensor(state, dtype=torch.float32)
        if extra:
            t.update(extra)
        masks = {k: v for k, v in rec.block_mask.items() if v is not None}
        meta = {
            "framework": "QwenPI_v3" if kind == "v3" else "QwenPI",
            "code": code,
            "mode": mode,
            "inputs_file": inputs_files[case][0],
            "weights_file": f"weights_qwenpi_{kind}.safetensors",
            "block_inputs_step0": block_map(rec),
            "cross_attention_mask_passed": bool(masks),
            "note": note,
        }
        save_case(os.path.join(args.out, f"{name}.safetensors"), t, meta)
        manifest["cases"][name] = dict(meta, batch=int(noise.shape[0]), dit_tokens=NUM_FUTURE + HORIZON + (state is not None),
                                       vlm_tokens=int(vlm_cases[case]["input_ids"].shape[1]),
                                       inputs_check_maxdiff=check_inputs(case, hs))
        log(f"case {name}: blocks {meta['block_inputs_step0']} mask={bool(masks)} actions[0,0]={r['actions'][0, 0].tolist()}")
        return r, rec

    # (1) QwenPI_v3 legacy, release code
    r_rel, rec_rel = record_case("qwenpi_v3_legacy", fw_rel_v3, "v3", "single", noise1, rel.commit, "legacy all-cross (release forward)")
    r_head_leg, _ = run_predict(fw_v3_leg, "v3", iface, vlm_cases["single"], noise1)[:2]
    checks["v3_legacy_release_vs_head_actions_maxdiff"] = maxdiff(r_rel["actions"], r_head_leg["actions"])
    checks["v3_legacy_release_vs_head_all_recorded_maxdiff"] = max(
        maxdiff(r_rel[k], r_head_leg[k]) for k in r_rel if k in r_head_leg and r_rel[k].is_floating_point()
    )
    checks["v3_release_dit_config"] = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                                       for k, v in rel_v3_dit_cfg.items() if not k.startswith("_")}
    # (2) QwenPI_v3 interleaved, HEAD code
    r_int, _ = record_case("qwenpi_v3_interleaved", fw_v3_int, "v3", "single", noise1, head.commit, "interleaved self/cross (interleave_self_attention=true)")
    checks["v3_interleaved_vs_legacy_actions_maxdiff"] = maxdiff(r_int["actions"], r_rel["actions"])

    # future-token perturbation
    def perturbed_actions(fw, kind, noise, case="single", state=None):
        ft = fw.action_model.future_tokens.weight
        saved = ft.detach().clone()
        g = torch.Generator().manual_seed(PERTURB_SEED)
        with torch.no_grad():
            ft.add_(3.0 * torch.randn(ft.shape, generator=g))
        try:
            r = run_predict(fw, kind, iface, vlm_cases[case], noise, state=state)[0]
        finally:
            with torch.no_grad():
                ft.copy_(saved)
        return r

    rp = perturbed_actions(fw_rel_v3, "v3", noise1)
    checks["future_tokens_perturbed_legacy_release_actions_maxdiff"] = maxdiff(rp["actions"], r_rel["actions"])
    checks["future_tokens_perturbed_legacy_release_action_token_rows_step0_block_outputs_maxdiff"] = max(
        maxdiff(rp[f"step.0.block.{i}.out"][:, -HORIZON:], r_rel[f"step.0.block.{i}.out"][:, -HORIZON:]) for i in range(L)
    )
    rp = perturbed_actions(fw_v3_leg, "v3", noise1)
    checks["future_tokens_perturbed_legacy_head_actions_maxdiff"] = maxdiff(rp["actions"], r_head_leg["actions"])
    rp = perturbed_actions(fw_v3_int, "v3", noise1)
    checks["future_tokens_perturbed_interleaved_actions_maxdiff"] = maxdiff(rp["actions"], r_int["actions"])
    checks["actions_abs_max_v3_legacy"] = float(r_rel["actions"].abs().max())

    # (3) QwenPI (v1) with state token
    r_v1i, _ = record_case("qwenpi_v1_state_interleaved", fw_v1_int, "v1", "single", noise_v1, head.commit,
                           "interleaved self/cross (HEAD QwenPI default)", state=V1_STATE)
    r_v1l, _ = record_case("qwenpi_v1_state_legacy", fw_v1_leg, "v1", "single", noise_v1, head.commit,
                           "legacy all-cross (interleave_self_attention=false)", state=V1_STATE, block_steps=())
    st2 = [[[-0.7, 0.2, 0.9, -0.9, 0.4, -0.3, 0.0]]]
    r = run_predict(fw_v1_leg, "v1", iface, vlm_cases["single"], noise_v1, state=st2)[0]
    checks["v1_state_changed_legacy_actions_maxdiff"] = maxdiff(r["actions"], r_v1l["actions"])
    r = run_predict(fw_v1_int, "v1", iface, vlm_cases["single"], noise_v1, state=st2)[0]
    checks["v1_state_changed_interleaved_actions_maxdiff"] = maxdiff(r["actions"], r_v1i["actions"])
    rp = perturbed_actions(fw_v1_leg, "v1", noise_v1, state=V1_STATE)
    checks["v1_future_tokens_perturbed_legacy_actions_maxdiff"] = maxdiff(rp["actions"], r_v1l["actions"])

    # (4) batch of 2, left padded, HEAD semantics (legacy = QwenPI_v3 HEAD default, mask passed)
    if "batch2" in vlm_cases:
        g = torch.Generator().manual_seed(NOISE_SEED_BATCH2)
        noise2 = torch.randn((2, HORIZON, ACTION_DIM), generator=g)
        r_rel2 = run_predict(fw_rel_v3, "v3", iface, vlm_cases["batch2"], noise2)[0]
        r_b2, rec_b2 = record_case(
            "qwenpi_v3_batch2_legacy", fw_v3_leg, "v3", "batch2", noise2, head.commit,
            "legacy all-cross, HEAD code (padding mask passed to every cross-attention)",
            extra={"ref.actions_release_nomask": r_rel2["actions"]},
            note="ref.actions_release_nomask = same weights/inputs/noise through the release code (no mask)",
        )
        am = vlm_cases["batch2"]["attention_mask"]
        checks["batch2_padding_per_row"] = [int((am[b] == 0).sum()) for b in range(am.shape[0])]
        checks["batch2_head_vs_release_nomask_actions_maxdiff_per_row"] = [
            maxdiff(r_b2["actions"][b], r_rel2["actions"][b]) for b in range(2)
        ]
        r_b2i = run_predict(fw_v3_int, "v3", iface, vlm_cases["batch2"], noise2)[0]
        # Each row run alone, unpadded (same VLM, B=1): masking must make padding invisible.
        per_row = []
        grid = vlm_cases["batch2"]["image_grid_thw"]
        npatch = [int(gr.prod()) for gr in grid]
        offs = np.cumsum([0] + npatch)
        for b in range(2):
            keep = am[b].bool()
            sub = {
                "input_ids": vlm_cases["batch2"]["input_ids"][b : b + 1, keep],
                "attention_mask": am[b : b + 1, keep],
                "pixel_values": vlm_cases["batch2"]["pixel_values"][offs[b] : offs[b + 1]],
                "image_grid_thw": grid[b : b + 1],
            }
            vlm_cases[f"_row{b}"] = sub
            inputs_files[f"_row{b}"] = (None, torch.stack(list(model(**sub, output_hidden_states=True).hidden_states[-L:]), 0).detach())
            ra = run_predict(fw_v3_leg, "v3", iface, sub, noise2[b : b + 1])[0]
            ri = run_predict(fw_v3_int, "v3", iface, sub, noise2[b : b + 1])[0]
            per_row.append({"legacy_head_masked_vs_alone": maxdiff(r_b2["actions"][b], ra["actions"][0]),
                            "legacy_release_nomask_vs_alone": maxdiff(r_rel2["actions"][b], ra["actions"][0]),
                            "interleaved_head_masked_vs_alone": maxdiff(r_b2i["actions"][b], ri["actions"][0]),
                            "vlm_hidden_unpadded_rows_vs_alone": maxdiff(inputs_files["batch2"][1][:, b, keep], inputs_files[f"_row{b}"][1][:, 0])})
            del vlm_cases[f"_row{b}"], inputs_files[f"_row{b}"]
        checks["batch2_rows_vs_run_alone_unpadded"] = per_row
    else:
        log("no batch2 case in the backbone fixtures: skipping case 4")

    # ---- numpy re-implementation cross-check ------------------------------
    npchk = {}
    for name, meta in manifest["cases"].items():
        case = load_file(os.path.join(args.out, f"{name}.safetensors"))
        inputs = load_file(os.path.join(args.out, meta["inputs_file"]))
        weights = w_v3 if meta["framework"] == "QwenPI_v3" else w_v1
        res = npref.predict(
            {k: v.numpy() for k, v in weights.items()},
            inputs["vlm_hidden"].numpy(),
            None if meta["code"] == rel.commit else inputs["attention_mask"].numpy(),
            case["inputs.noise"].numpy(),
            state=case["inputs.state"].numpy() if "inputs.state" in case else None,
            interleave="interleaved" in meta["mode"],
            num_heads=(V3_DIT_DIM if meta["framework"] == "QwenPI_v3" else HV) // HEAD_DIM,
            num_steps=NUM_STEPS,
            num_buckets=NUM_BUCKETS,
        )
        ent = {"actions_maxdiff": float(np.abs(res["actions"] - case["output.actions"].numpy()).max())}
        for k in range(NUM_STEPS):
            ent[f"step{k}_velocity_maxdiff"] = float(np.abs(res[f"step.{k}.velocity"] - case[f"step.{k}.velocity"].numpy()).max())
            ent[f"step{k}_temb_maxdiff"] = float(np.abs(res[f"step.{k}.temb"] - case[f"step.{k}.temb"].numpy()).max())
        for i in range(L):
            if f"step.0.block.{i}.out" in case:
                ent[f"step0_block{i}_out_maxdiff"] = float(np.abs(res[f"step.0.block.{i}.out"] - case[f"step.0.block.{i}.out"].numpy()).max())
        if "proj.E.0" in case:
            ent["E_maxdiff"] = max(float(np.abs(res["E"][i] - case[f"proj.E.{i}"].numpy()).max()) for i in range(L))
        npchk[name] = ent
    checks["numpy_reference_vs_recorded"] = npchk
    checks["numpy_reference_sinusoid_f64_vs_f32_maxdiff"] = npref.sinusoid_precision_report(V3_DIT_DIM)

    # ---- state2str -----------------------------------------------------------
    state_json = make_state_text(fw_v3_leg, rel_state2str)
    with open(os.path.join(args.out, "state_text.json"), "w") as f:
        json.dump(state_json, f, indent=1)
        f.write("\n")

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    log("checks:\n" + json.dumps(checks, indent=1))
    total = sum(os.path.getsize(os.path.join(args.out, fn)) for fn in os.listdir(args.out))
    log(f"wrote {args.out}: {total / 1e6:.2f} MB")


def make_state_text(fw_head, rel_add):
    """Test vectors for Qwen_PI_v3.state2str_transform / add_discretized_state_to_instruction."""
    vecs = [
        ("float64", [-1.0, -0.99, 0.0, 0.999, 1.0, 1.5, -1.5]),
        ("float64", [-1.0000001, 0.9921875, 0.99218749, 0.9921876, -0.9921875, -0.984375, 0.0078125]),
        ("float64", [-0.0078125, -1e-12, 1e-12, 0.5, -0.5, 0.25, -0.25]),
        ("float64", [0.1, -0.1, 0.3, -0.3, 0.7, -0.7, 0.9]),
        ("float64", [-0.5, 0.1, 0.8]),
        ("float64", [2.0, 100.0, -100.0, -2.0, 1.0000001, -0.99999999, 0.99999999]),
        ("float64", [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
        ("float64", [-0.9999999, -0.9921876, -0.9921874, 0.0078124, 0.0078126, 0.4999999, 0.5000001]),
        # just below a bin edge: floor((x + 1) * 128) in double gives the UPPER bin here, digitize the lower
        ("float64", [-1e-17, float(np.nextafter(0.0, -1.0)), float(np.nextafter(0.0078125, -1.0)),
                     float(np.nextafter(0.015625, -1.0)), float(np.nextafter(0.5, -1.0)),
                     float(np.nextafter(-0.9921875, -2.0)), float(np.nextafter(0.9921875, -1.0))]),
        ("float32", [-0.99, 0.999, 0.9921875, -1.0000001, 0.1, 1.0 / 3.0, -1.0 / 3.0]),
        ("float32", [0.99999994, -0.99999994, 1.0000001, 0.7, -0.7, 0.3, -0.3]),
        ("float16", [-1.0000001, 0.999, -0.99, 0.1, 0.3, 0.9921875, -0.9960938]),
        ("float16", [0.9995, 0.998, -0.998, 0.0039, -0.0039, 0.6, -0.6]),
    ]
    rng = np.random.default_rng(424242)
    for _ in range(4):
        vecs.append(("float64", [float(x) for x in rng.uniform(-1.2, 1.2, size=7)]))
    for _ in range(2):
        vecs.append(("float32", [float(x) for x in rng.uniform(-1.05, 1.05, size=7).astype(np.float32)]))
    for _ in range(2):
        vecs.append(("float16", [float(x) for x in rng.uniform(-1.0, 1.0, size=7).astype(np.float16)]))
    out = []
    instr = "put the spoon on the towel"
    for dtype, vals in vecs:
        arr = np.array([vals], dtype=dtype)  # (1, state_dim) as a client would send it
        s = fw_head.state2str_transform(arr[0])
        full = fw_head.add_discretized_state_to_instruction([instr], [arr])[0]
        full_rel = rel_add([instr], [arr])[0]
        assert full == full_rel, (full, full_rel)
        # the "closed form" min(max(floor((x + 1) * 128), -1), 255) evaluated in double precision
        naive = [min(max(int(np.floor((float(x) + 1.0) * 128.0)), -1), 255) for x in arr[0].astype(np.float64)]
        exact = [min(max(int(np.floor(float(x) * 128.0)) + 128, -1), 255) for x in arr[0].astype(np.float64)]
        assert exact == [int(b) for b in s.split()], (vals, exact, s)
        out.append(
            {
                "dtype": dtype,
                "closed_form_differs_at": [i for i, (a, b) in enumerate(zip(naive, s.split())) if a != int(b)],
                "literal": vals,
                "values": [float(x) for x in arr[0].astype(np.float64)],
                "values_hex": [float(x).hex() for x in arr[0].astype(np.float64)],
                "bins": [int(x) for x in s.split()],
                "state_str": s,
                "instruction": instr,
                "instruction_out": full,
            }
        )
    return {
        "function": "Qwen_PI_v3.state2str_transform / add_discretized_state_to_instruction "
        "(identical output from release 95b45ed and HEAD)",
        "rule": "bins = np.linspace(-1, 1, 257)[:-1]; idx = np.digitize(x, bins) - 1; ' '.join(map(str, idx)); "
        "instruction_out = f'{instruction} [STATE] {state_str} [ACTION]'; the state array is (1, state_dim) and only row 0 is used. "
        "Exact equivalent (checked on every vector): idx = clamp(floor(128 * x) + 128, -1, 255) (128*x is exact in binary "
        "floating point); the closed form floor((x + 1) * 128) rounds x + 1 and is wrong just below an edge "
        "(see closed_form_differs_at).",
        "vectors": out,
    }


if __name__ == "__main__":
    main()
