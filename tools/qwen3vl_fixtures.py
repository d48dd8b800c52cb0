#!/usr/bin/env python3
# -----------------------------------------------------------------------------
# qwen3vl_fixtures.py -- DEV-TIME fixture generator for the Qwen3-VL backbone.
#
# This is a development tool only. It needs Python with torch, torchvision,
# transformers==4.57.0, safetensors, numpy, pillow and scikit-image (for its
# bundled public-domain / CC0 sample photos). It is NEVER run in CI and nothing
# at build or run time depends on it: its outputs are committed under
# tests/fixtures/ and the C tests only read those files.
#
#   /tmp/venv/bin/python tools/qwen3vl_fixtures.py --out tests/fixtures/qwen3vl
#
# regenerates, deterministically (same library versions -> same bytes):
#   tests/fixtures/qwen3vl/tiny/        tiny random Qwen3-VL checkpoint (HF layout)
#   tests/fixtures/qwen3vl/case*.safetensors   model-level golden tensors
#   tests/fixtures/qwen3vl/preprocess_*.safetensors  image-processor goldens
#   tests/fixtures/qwen3vl/README.md    description of every file and tensor
#   tests/fixtures/images/*             small real photos + README.md
# and prints a report (hidden-state semantics, eager vs SDPA, processor checks).
#
# Inputs besides the pip packages: the real Qwen3-VL-4B-Instruct JSON configs and the
# Qwen tokenizer files (default --shared /work/shared: qwen3-vl-4b-instruct/, qwen-tokenizer/).
# All model computations run in float32 on the CPU with eager attention.
# -----------------------------------------------------------------------------
import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import transformers
from safetensors.torch import save_file, load_file
from transformers import (AutoImageProcessor, AutoProcessor, GenerationConfig,
                          Qwen3VLConfig, Qwen3VLForConditionalGeneration)

REQUIRED_TRANSFORMERS = "4.57.0"

# Token ids of the tiny model: the Qwen special ids shifted by -151643 + 2000.
PAD = 2000          # <|endoftext|>
IM_START = 2001     # <|im_start|>
IM_END = 2002       # <|im_end|>
VISION_START = 2009  # <|vision_start|>
VISION_END = 2010   # <|vision_end|>
IMAGE_PAD = 2012    # <|image_pad|>
VIDEO_PAD = 2013    # <|video_pad|>
# Arbitrary "text" ids (< 2000) standing in for words of the chat template.
USER, NL, ASSISTANT = 872, 198, 1091

PARAM_SEED = 20251121   # seed of the parameter re-draw
CASE_MIN_PIXELS = 4096  # 64*64  : processor bounds used for the model cases
CASE_MAX_PIXELS = 8192  # 64*128 : (tiny images stay tiny)


def tiny_config_dict():
    return {
        "architectures": ["Qwen3VLForConditionalGeneration"],
        "model_type": "qwen3_vl",
        "image_token_id": IMAGE_PAD,
        "video_token_id": VIDEO_PAD,
        "vision_start_token_id": VISION_START,
        "vision_end_token_id": VISION_END,
        "tie_word_embeddings": True,
        "vision_config": {
            "model_type": "qwen3_vl",
            "depth": 4,
            "hidden_size": 64,
            "num_heads": 4,
            "intermediate_size": 128,
            "patch_size": 16,
            "temporal_patch_size": 2,
            "spatial_merge_size": 2,
            "in_channels": 3,
            "num_position_embeddings": 256,
            "out_hidden_size": 96,
            "deepstack_visual_indexes": [1, 2, 3],
            "hidden_act": "gelu_pytorch_tanh",
        },
        "text_config": {
            "model_type": "qwen3_vl_text",
            "hidden_size": 96,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 32,
            "intermediate_size": 192,
            "vocab_size": 2048,
            "rms_norm_eps": 1e-6,
            "rope_theta": 5000000,
            "rope_scaling": {"rope_type": "default", "mrope_section": [6, 5, 5],
                             "mrope_interleaved": True},
            "hidden_act": "silu",
            "attention_bias": False,
            "tie_word_embeddings": True,
            "max_position_embeddings": 4096,
        },
    }


# ----------------------------------------------------------------------------- model

def param_scale(name, p):
    """(mean, std) of the re-draw for parameter `name`."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "bias":
        return 0.0, 0.1
    if "norm" in name:                      # LayerNorm / RMSNorm / q_norm / k_norm weights
        return 1.0, 0.1
    if name.endswith("embed_tokens.weight"):      # tied with lm_head: sets the logit scale
        return 0.0, 0.15
    if name.endswith("pos_embed.weight"):
        return 0.0, 0.5
    fan_in = int(np.prod(p.shape[1:]))      # Linear [out,in], Conv3d [out,in,kt,kh,kw]
    return 0.0, 1.0 / math.sqrt(fan_in)


def build_tiny_model(model_dir: Path, shared_4b: Path):
    cfg = tiny_config_dict()
    config = Qwen3VLConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")})
    config.architectures = cfg["architectures"]
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration(config).float().eval()
    g = torch.Generator().manual_seed(PARAM_SEED)
    scales = {}
    with torch.no_grad():
        for name, p in model.named_parameters():   # tied lm_head is not listed separately
            mean, std = param_scale(name, p)
            scales[name] = (mean, std)
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float32) * std + mean)
    assert model.lm_head.weight is model.model.language_model.embed_tokens.weight
    model.generation_config = GenerationConfig(
        do_sample=False, eos_token_id=[IM_END, PAD], pad_token_id=PAD, bos_token_id=PAD)
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    shutil.copyfile(shared_4b / "preprocessor_config.json", model_dir / "preprocessor_config.json")
    return scales


def load_model(model_dir: Path, attn: str):
    m = Qwen3VLForConditionalGeneration.from_pretrained(
        str(model_dir), attn_implementation=attn, dtype=torch.float32)
    return m.eval()


# ----------------------------------------------------------------------------- images

def skimage_photo(name):
    import skimage.data
    return np.ascontiguousarray(getattr(skimage.data, name)())


def resize_pil(arr, w, h):
    return np.asarray(Image.fromarray(arr).resize((w, h), Image.LANCZOS))


def case_images():
    """Small real-photo crops (uint8 HxWx3) used as model-case inputs."""
    astro = skimage_photo("astronaut")        # 512x512
    chelsea = skimage_photo("chelsea")        # 300x451
    coffee = skimage_photo("coffee")          # 400x600
    return {
        # 72x112 -> smart_resize(32) -> 64x128 -> grid (1,4,8) -> 8 tokens
        "astronaut_72x112": resize_pil(astro[30:390, 0:512], 112, 72),
        # 60x60 -> 64x64 -> grid (1,4,4) -> 4 tokens
        "chelsea_60x60": resize_pil(chelsea[20:290, 90:360], 60, 60),
        # 130x100 -> 128x96 > max_pixels -> 96x64 -> grid (1,6,4) -> 6 tokens (tall)
        "coffee_130x100": resize_pil(coffee[0:390, 150:450], 100, 130),
    }


def make_image_files(img_dir: Path):
    """Writes the preprocessing test photos; returns [(file name, description)]."""
    img_dir.mkdir(parents=True, exist_ok=True)
    rocket = skimage_photo("rocket")          # 427x640x3
    coffee = skimage_photo("coffee")          # 400x600x3
    astro = skimage_photo("astronaut")        # 512x512x3
    camera = skimage_photo("camera")          # 512x512 grey
    out = []

    # 224x224 RGB PNG (centre-square crop of rocket) -- also the README sample image.
    a = resize_pil(rocket[:, 106:533], 224, 224)
    Image.fromarray(a).save(img_dir / "sample_224.png", optimize=True)
    out.append(("sample_224.png", "skimage `rocket`, centre 427x427 crop, Lanczos to 224x224, RGB PNG"))

    # 240x272 (HxW) RGB JPEG, quality 90, 4:2:0 (Pillow defaults besides quality).
    # smart_resize: 240/32 = 7.5 -> 8 and 272/32 = 8.5 -> 8 (round half to even) -> 256x256:
    # upscale in H, antialiased downscale in W.
    a = resize_pil(coffee[0:400, 80:533], 272, 240)
    Image.fromarray(a).save(img_dir / "coffee_240x272.jpg", quality=90)
    out.append(("coffee_240x272.jpg", "skimage `coffee`, cols 80..532, Lanczos to 272x240 (WxH), "
                "JPEG quality 90, 4:2:0 chroma subsampling (Pillow defaults otherwise)"))

    # 160x120 (HxW) RGBA PNG, portrait: alpha = left-to-right ramp 0..255 with a fully
    # transparent square whose RGB is kept (shows that conversion drops alpha, no compositing).
    a = resize_pil(astro[0:512, 64:448], 120, 160)
    alpha = np.tile(np.linspace(0, 255, 120).round().astype(np.uint8), (160, 1))
    alpha[10:40, 10:40] = 0
    rgba = np.dstack([a, alpha])
    Image.fromarray(rgba, "RGBA").save(img_dir / "astronaut_rgba_160x120.png", optimize=True)
    out.append(("astronaut_rgba_160x120.png",
                "skimage `astronaut`, cols 64..447, Lanczos to 120x160 (WxH); alpha = left-to-right "
                "ramp 0..255, with rows/cols 10..39 fully transparent (their RGB kept); RGBA PNG"))

    # 96x320 (HxW) greyscale PNG (mode L), wide.
    a = resize_pil(camera[100:260, 0:512], 320, 96)
    Image.fromarray(a, "L").save(img_dir / "camera_grey_96x320.png", optimize=True)
    out.append(("camera_grey_96x320.png", "skimage `camera` (greyscale), rows 100..259, Lanczos to 320x96 (WxH), "
                "mode-L PNG"))
    return out


# ----------------------------------------------------------------------------- helpers

def patchify_u8(resized_u8_chw, patch=16, tps=2, merge=2):
    """uint8 [3,H,W] -> uint8 [N,1536] in the processor's row/column layout."""
    c, h, w = resized_u8_chw.shape
    x = resized_u8_chw.unsqueeze(0).repeat(tps, 1, 1, 1)           # [T,C,H,W] duplicated frame
    gh, gw = h // patch, w // patch
    x = x.view(1, tps, c, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)                      # bh,bw,ih,iw,C,T,py,px
    return x.reshape(gh * gw, c * tps * patch * patch).contiguous()


def decode_u8(pv_u8):
    return (pv_u8.to(torch.float32) - 127.5) / 127.5


def maxdiff(a, b, mask=None):
    a = a.detach().to(torch.float64)
    b = b.detach().to(torch.float64)
    d = (a - b).abs()
    if mask is not None:
        d = d[mask]
    return float(d.max()) if d.numel() else 0.0


def save_st(tensors, path, meta):
    """safetensors writer with a deterministic header: the library stores __metadata__ as a hash
    map (random key order), so all metadata goes into ONE key, `fixture_info`, as sorted JSON."""
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(path),
              metadata={"fixture_info": json.dumps(meta, sort_keys=True)})
    os.chmod(path, 0o644)


def nbytes_h(n):
    return f"{n/1024:.1f} KiB" if n < 1024 * 1024 else f"{n/1024/1024:.2f} MiB"


def dtype_name(t):
    return {torch.float32: "f32", torch.int64: "i64", torch.int32: "i32", torch.uint8: "u8",
            torch.bool: "bool"}[t.dtype]


# ----------------------------------------------------------------------------- cases

def build_prompt(segments, n_tokens):
    """segments: list of ints or ("img", k); expands image k to n_tokens[k] pads."""
    ids = []
    for s in segments:
        if isinstance(s, tuple):
            ids += [VISION_START] + [IMAGE_PAD] * int(n_tokens[s[1]]) + [VISION_END]
        else:
            ids.append(s)
    return ids


def chat(image_keys, text_ids):
    segs = [IM_START, USER, NL]
    segs += [("img", k) for k in image_keys]
    segs += list(text_ids) + [IM_END, NL, IM_START, ASSISTANT, NL]
    return segs


def run_case(model, model_sdpa, proc, images, prompts, report, gen_tokens=0):
    """images: list of uint8 HxWx3 arrays (all images of the batch, in prompt order).
    prompts: list of segment lists referring to global image indices."""
    feats = proc(images=[Image.fromarray(a) for a in images], return_tensors="pt")
    pv = feats["pixel_values"].to(torch.float32)
    grid = feats["image_grid_thw"].to(torch.int64)
    n_tok = (grid.prod(-1) // 4).tolist()
    seqs = [build_prompt(p, n_tok) for p in prompts]
    S = max(len(s) for s in seqs)
    B = len(seqs)
    input_ids = torch.full((B, S), PAD, dtype=torch.int64)
    attn = torch.zeros((B, S), dtype=torch.int64)
    for b, s in enumerate(seqs):             # left padding, as padding_side="left"
        input_ids[b, S - len(s):] = torch.tensor(s)
        attn[b, S - len(s):] = 1
    valid = attn.bool()                      # [B,S]

    T = {}
    T["input_ids"] = input_ids
    T["attention_mask"] = attn
    T["pixel_values"] = pv
    T["image_grid_thw"] = grid
    for i, a in enumerate(images):
        T[f"image.{i}"] = torch.from_numpy(np.array(a, dtype=np.uint8))

    visual = model.model.visual
    lm = model.model.language_model
    hooks, cap = [], {}

    def keep(name):
        def fn(mod, args, out):
            cap[name] = (out[0] if isinstance(out, tuple) else out).detach().clone()
        return fn

    hooks.append(visual.patch_embed.register_forward_hook(keep("vision.patch_embed")))
    for i, blk in enumerate(visual.blocks):
        hooks.append(blk.register_forward_hook(keep(f"vision.block.{i}")))
    for i, layer in enumerate(lm.layers):
        hooks.append(layer.register_forward_hook(keep(f"layer_out_raw.{i}")))

        def pre(mod, args, kwargs, i=i):
            cap[f"layer_in.{i}"] = args[0].detach().clone()
            if i == 0:
                cap["layer0_kwargs"] = dict(kwargs)
        hooks.append(layer.register_forward_pre_hook(pre, with_kwargs=True))
    hooks.append(lm.norm.register_forward_hook(keep("final_norm_out")))

    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=attn, pixel_values=pv,
                    image_grid_thw=grid, output_hidden_states=True, use_cache=False)
    for h in hooks:
        h.remove()
    hs = out.hidden_states
    L = len(lm.layers)
    assert len(hs) == L + 1, len(hs)

    with torch.no_grad():
        img_embeds, ds_feats = visual(pv, grid_thw=grid)
        pos_embed = visual.fast_pos_embed_interpolate(grid)
        rope_freqs = visual.rot_pos_emb(grid)
        position_ids, rope_deltas = model.model.get_rope_index(input_ids, grid, None, attention_mask=attn)
        inner = model.model(input_ids=input_ids, attention_mask=attn, pixel_values=pv,
                            image_grid_thw=grid, output_hidden_states=True, use_cache=False)

    T["vision.patch_embed"] = cap["vision.patch_embed"]
    T["vision.pos_embed"] = pos_embed
    T["vision.rope_freqs"] = rope_freqs
    for i in range(len(visual.blocks)):
        T[f"vision.block.{i}"] = cap[f"vision.block.{i}"]
    T["vision.image_embeds"] = img_embeds
    for j, f in enumerate(ds_feats):
        T[f"vision.deepstack.{j}"] = f
    T["position_ids"] = position_ids.to(torch.int64)
    T["rope_deltas"] = rope_deltas.to(torch.int64)
    vmask = input_ids == IMAGE_PAD
    T["visual_pos_mask"] = vmask.to(torch.uint8)
    cos, sin = cap["layer0_kwargs"]["position_embeddings"]
    T["text.rope_cos"] = cos
    T["text.rope_sin"] = sin
    for k, t in enumerate(hs):
        T[f"hidden_states.{k}"] = t
    for i in range(L):
        T[f"layer_out_raw.{i}"] = cap[f"layer_out_raw.{i}"]
    for i in range(len(ds_feats)):
        # output of layer i after the DeepStack addition = input of layer i+1
        T[f"layer_out_post_deepstack.{i}"] = cap[f"layer_in.{i+1}"]
    T["last_hidden_state"] = inner.last_hidden_state
    T["logits"] = out.logits

    # ---- checks: hidden-state semantics (recorded tuple vs hooks vs a manual loop)
    chk = {}
    chk["hs0_vs_layer_in0"] = maxdiff(hs[0], cap["layer_in.0"])
    for k in range(1, L + 1):
        chk[f"hs{k}_vs_raw_out{k-1}"] = maxdiff(hs[k], cap[f"layer_out_raw.{k-1}"])
        if k - 1 < len(ds_feats):
            chk[f"hs{k}_vs_post_deepstack{k-1}"] = maxdiff(hs[k], cap[f"layer_in.{k}"])
            chk[f"raw{k-1}_vs_post_deepstack{k-1}"] = maxdiff(cap[f"layer_out_raw.{k-1}"], cap[f"layer_in.{k}"])
    chk["hsL_vs_last_hidden_state"] = maxdiff(hs[L], inner.last_hidden_state)
    chk["final_norm(hsL)_vs_last_hidden_state"] = maxdiff(lm.norm(hs[L]).detach(), inner.last_hidden_state)
    chk["inner_model_tuple_last_vs_last_hidden_state"] = maxdiff(inner.hidden_states[L], inner.last_hidden_state)
    chk["inner_model_tuple_last_vs_raw_out_last"] = maxdiff(inner.hidden_states[L], cap[f"layer_out_raw.{L-1}"])

    # manual loop over the decoder layers, re-using the mask / rope HF built for layer 0
    kw = {k: v for k, v in cap["layer0_kwargs"].items()}
    with torch.no_grad():
        h = hs[0].clone()
        manual_raw, manual_post = [], []
        for i, layer in enumerate(lm.layers):
            h = layer(h, **kw)
            manual_raw.append(h.clone())
            if i < len(ds_feats):
                h = h.clone()
                h[vmask] = h[vmask] + ds_feats[i]
            manual_post.append(h.clone())
        manual_final = lm.norm(h)
        manual_logits = model.lm_head(manual_final)
    for i in range(L):
        chk[f"manual_raw{i}_vs_hs{i+1}"] = maxdiff(manual_raw[i], hs[i + 1])
        chk[f"manual_post{i}_vs_hs{i+1}"] = maxdiff(manual_post[i], hs[i + 1])
    chk["manual_final_norm_vs_last_hidden_state"] = maxdiff(manual_final, inner.last_hidden_state)
    chk["manual_logits_vs_logits"] = maxdiff(manual_logits, out.logits)

    # own causal+padding mask vs HF's (valid query rows only)
    hf_mask = kw["attention_mask"]
    allowed = torch.tril(torch.ones(S, S, dtype=torch.bool))[None] & valid[:, None, :]
    own = torch.where(allowed, 0.0, torch.finfo(torch.float32).min)[:, None]
    rows = valid[:, None, :, None].expand_as(own)
    chk["own_mask_vs_hf_mask_valid_rows"] = maxdiff(own, hf_mask, rows)

    # ---- eager vs SDPA (valid positions only)
    with torch.no_grad():
        out_s = model_sdpa(input_ids=input_ids, attention_mask=attn, pixel_values=pv,
                           image_grid_thw=grid, output_hidden_states=True, use_cache=False)
        ie_s, ds_s = model_sdpa.model.visual(pv, grid_thw=grid)
    sd = {"logits": maxdiff(out.logits, out_s.logits, valid),
          "hidden_states": max(maxdiff(a, b, valid) for a, b in zip(hs, out_s.hidden_states)),
          "image_embeds": maxdiff(img_embeds, ie_s),
          "deepstack": max(maxdiff(a, b) for a, b in zip(ds_feats, ds_s))}
    if not bool(valid.all()):
        sd["logits_pad_rows"] = maxdiff(out.logits, out_s.logits, ~valid)

    # ---- attention_mask=None footgun (packed-sequence detection in create_causal_mask)
    if B == 1:
        with torch.no_grad():
            o_nomask = model(input_ids=input_ids, pixel_values=pv, image_grid_thw=grid, use_cache=False)
            o_nomask_cache = model(input_ids=input_ids, pixel_values=pv, image_grid_thw=grid, use_cache=True)
        chk["no_mask_no_cache_logits_diff"] = maxdiff(o_nomask.logits, out.logits)
        chk["no_mask_with_cache_logits_diff"] = maxdiff(o_nomask_cache.logits, out.logits)

    # ---- greedy generation
    gen = {}
    if gen_tokens:
        with torch.no_grad():
            g = model.generate(input_ids=input_ids, attention_mask=attn, pixel_values=pv, image_grid_thw=grid,
                               do_sample=False, max_new_tokens=gen_tokens, output_logits=True,
                               return_dict_in_generate=True, eos_token_id=[IM_END, PAD], pad_token_id=PAD)
        new = g.sequences[:, S:]
        step_logits = torch.cat([l for l in g.logits], 0)            # [steps, V]
        T["generated_ids"] = new.to(torch.int64)
        T["generated_logits"] = step_logits.to(torch.float32)
        top2 = step_logits.topk(2, dim=-1).values
        margins = (top2[:, 0] - top2[:, 1]).tolist()
        # no-cache re-computation: full forward on the growing sequence
        seq = input_ids.clone()
        manual_tokens, manual_logits_steps = [], []
        with torch.no_grad():
            for _ in range(new.shape[1]):
                o = model(input_ids=seq, attention_mask=torch.ones_like(seq), pixel_values=pv,
                          image_grid_thw=grid, use_cache=False)
                lg = o.logits[:, -1]
                t = int(lg.argmax(-1))
                manual_tokens.append(t)
                manual_logits_steps.append(lg)
                seq = torch.cat([seq, torch.tensor([[t]])], 1)
        gen = {"tokens": new[0].tolist(), "top1_top2_margins": margins,
               "nocache_tokens": manual_tokens,
               "nocache_vs_cached_step_logits": maxdiff(torch.cat(manual_logits_steps, 0), step_logits),
               "step0_logits_vs_prefill_last": maxdiff(step_logits[0], out.logits[0, -1])}
        # positions of decode steps: p + rope_delta (p = absolute index in the sequence)
        gen["decode_positions"] = [S + k + int(rope_deltas[0, 0]) for k in range(new.shape[1])]

    report.update({"checks": chk, "sdpa_vs_eager": sd, "generate": gen, "rope_deltas": rope_deltas.tolist(),
                   "S": S, "B": B, "grid": grid.tolist(), "n_image_tokens": n_tok})
    # make all tensors contiguous & detached
    return {k: v.detach().contiguous() for k, v in T.items()}


def semantics_variants(model_dir: Path, T):
    """Re-checks which tensor hidden_states[1..L] hold under the modes StarVLA may use
    (grad on/off, train mode, gradient checkpointing, bf16 autocast, bf16 weights + SDPA)."""
    def run(model, grad=False, autocast=None):
        lm = model.model.language_model
        cap, hooks = {}, []
        for i, layer in enumerate(lm.layers):
            hooks.append(layer.register_forward_hook(
                lambda m, a, o, i=i: cap.__setitem__(("raw", i), o.detach().clone())))
            hooks.append(layer.register_forward_pre_hook(
                lambda m, a, i=i: cap.__setitem__(("in", i), a[0].detach().clone())))
        dt = next(model.parameters()).dtype
        kw = dict(input_ids=T["input_ids"], attention_mask=T["attention_mask"],
                  pixel_values=T["pixel_values"].to(dt), image_grid_thw=T["image_grid_thw"],
                  output_hidden_states=True)
        with (torch.enable_grad() if grad else torch.no_grad()):
            if autocast is not None:
                with torch.autocast("cpu", dtype=autocast):
                    o = model(**kw)
            else:
                o = model(**kw)
        for h in hooks:
            h.remove()
        L = len(lm.layers)
        res = []
        for k in range(1, L + 1):
            a = o.hidden_states[k].detach()
            if k < L and torch.equal(a, cap[("in", k)]):
                res.append("post_deepstack" if k <= 3 else "raw")
            elif torch.equal(a, cap[("raw", k - 1)]):
                res.append("raw")
            else:
                res.append("other")
        return res

    out = {}
    m = load_model(model_dir, "eager")
    out["f32 eager, no_grad, eval"] = run(m)
    out["f32 eager, grad enabled, train()"] = run(m.train(), grad=True)
    m.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    out["f32 eager, train() + gradient checkpointing (reentrant)"] = run(m, grad=True)
    m.gradient_checkpointing_disable()
    m.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    out["f32 eager, train() + gradient checkpointing (non-reentrant)"] = run(m, grad=True)
    m.gradient_checkpointing_disable()
    out["f32 eager, bf16 autocast, no_grad"] = run(m.eval(), autocast=torch.bfloat16)
    mb = load_model(model_dir, "sdpa").to(torch.bfloat16)
    out["bf16 weights, sdpa, no_grad"] = run(mb)
    out["bf16 weights, sdpa, grad enabled, train()"] = run(mb.train(), grad=True)
    return out


# ----------------------------------------------------------------------------- preprocessing

def processor_fixtures(out_dir: Path, img_dir: Path, shared_4b: Path, shared_tok: Path, image_list, report):
    import torchvision
    from torchvision.transforms.v2 import functional as F
    from torchvision.transforms import InterpolationMode

    rep = {}
    auto_ip = AutoImageProcessor.from_pretrained(str(shared_4b))
    # NOTE: in transformers 4.57.0 the slow class DROPS the `size` dict of the config in __init__
    # (falls back to its class defaults 3136 / 1003520), so `slow_as_loaded` resizes differently.
    # `slow_ip` gets the config's bounds explicitly so that pixel values can be compared.
    slow_as_loaded = AutoImageProcessor.from_pretrained(str(shared_4b), use_fast=False)
    cfg_size = json.loads((shared_4b / "preprocessor_config.json").read_text())["size"]
    slow_ip = AutoImageProcessor.from_pretrained(str(shared_4b), use_fast=False,
                                                 min_pixels=cfg_size["shortest_edge"],
                                                 max_pixels=cfg_size["longest_edge"])
    rep["AutoImageProcessor_default"] = type(auto_ip).__name__
    rep["AutoImageProcessor_default_min_max_pixels"] = [auto_ip.size["shortest_edge"], auto_ip.size["longest_edge"]]
    rep["slow_class"] = type(slow_as_loaded).__name__
    rep["slow_as_loaded_min_max_pixels"] = [slow_as_loaded.min_pixels, slow_as_loaded.max_pixels]
    with tempfile.TemporaryDirectory() as td:
        for f in ("preprocessor_config.json", "video_preprocessor_config.json", "chat_template.json",
                  "tokenizer_config.json"):
            shutil.copyfile(shared_4b / f, Path(td) / f)
        for f in ("tokenizer.json", "vocab.json", "merges.txt"):
            shutil.copyfile(shared_tok / f, Path(td) / f)
        try:
            ap = AutoProcessor.from_pretrained(td)
            rep["AutoProcessor"] = type(ap).__name__
            rep["AutoProcessor.image_processor"] = type(ap.image_processor).__name__
            # image part of the processor, StarVLA-style chat with one image
            msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}]
            text = ap.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            img = Image.open(img_dir / "sample_224.png")
            enc = ap(text=[text], images=[img], return_tensors="pt")
            rep["AutoProcessor_sample_224_ids"] = enc["input_ids"][0].tolist()
            ap_pv = enc["pixel_values"]
        except Exception as e:  # pragma: no cover - informative only
            rep["AutoProcessor_error"] = repr(e)
            ap_pv = None
    rep["torchvision"] = torchvision.__version__
    rep["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    per = {}
    files = {}
    for name, _desc in image_list:
        path = img_dir / name
        im = Image.open(path)
        im.load()
        mode = im.mode
        raw = np.asarray(im)
        fast = auto_ip(images=im, return_tensors="pt")
        slow = slow_ip(images=im, return_tensors="pt")
        slow_loaded = slow_as_loaded(images=im, return_tensors="pt")
        pv, grid = fast["pixel_values"], fast["image_grid_thw"]
        assert torch.equal(grid, slow["image_grid_thw"])
        _, gh, gw = grid[0].tolist()
        H2, W2 = gh * 16, gw * 16
        # manual reproduction: PIL convert("RGB") -> uint8 CHW -> torchvision AA bicubic on uint8
        rgb_img = im.convert("RGB")
        rgb = np.asarray(rgb_img)
        chw = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()
        r_u8 = F.resize(chw, [H2, W2], interpolation=InterpolationMode.BICUBIC, antialias=True)
        assert r_u8.dtype == torch.uint8
        pv_u8 = patchify_u8(r_u8)
        exact = torch.equal(decode_u8(pv_u8), pv)
        assert exact, name
        # float path (what torchvision does for non-native dtypes / CUDA): f32 resize, clamp, round
        r_f = F.resize(chw.float(), [H2, W2], interpolation=InterpolationMode.BICUBIC, antialias=True)
        r_f = r_f.clamp(0, 255).round().to(torch.uint8)
        # Pillow (= slow processor's resize)
        r_pil = torch.from_numpy(np.asarray(rgb_img.resize((W2, H2), Image.BICUBIC)).copy()).permute(2, 0, 1)
        d_native_float = (r_u8.int() - r_f.int()).abs()
        d_native_pil = (r_u8.int() - r_pil.int()).abs()
        per[name] = {
            "mode": mode, "size_hw": [raw.shape[0], raw.shape[1]], "resized_hw": [H2, W2],
            "grid_thw": grid[0].tolist(), "n_patches": int(pv.shape[0]),
            "fast_equals_manual_uint8_torchvision": bool(exact),
            "slow_as_loaded_grid_thw": slow_loaded["image_grid_thw"][0].tolist(),
            "fast_vs_slow_max_abs": maxdiff(pv, slow["pixel_values"]),
            "fast_vs_slow_max_lsb": round(maxdiff(pv, torch.as_tensor(slow["pixel_values"])) * 127.5, 3),
            "native_u8_vs_float_path_max_lsb": int(d_native_float.max()),
            "native_u8_vs_float_path_frac_differing": float((d_native_float > 0).float().mean()),
            "native_u8_vs_pillow_max_lsb": int(d_native_pil.max()),
            "native_u8_vs_pillow_frac_differing": float((d_native_pil > 0).float().mean()),
        }
        if mode == "RGBA":
            per[name]["rgba_convert_equals_drop_alpha"] = bool(np.array_equal(rgb, raw[..., :3]))
        if mode == "L":
            per[name]["grey_convert_equals_replicate"] = bool(np.array_equal(rgb, np.repeat(raw[..., None], 3, -1)))
        if name == "sample_224.png" and ap_pv is not None:
            per[name]["AutoProcessor_equals_AutoImageProcessor"] = bool(torch.equal(ap_pv, pv))
        T = {"resized_u8": r_u8.permute(1, 2, 0).contiguous(), "image_grid_thw": grid.to(torch.int64)}
        if name.lower().endswith((".jpg", ".jpeg")):
            # lossy format: keep Pillow's decoded pixels so decoder and resize errors can be told apart
            T["image_rgb"] = torch.from_numpy(np.array(rgb, dtype=np.uint8))
        stem = Path(name).stem
        fn = out_dir / f"preprocess_{stem}.safetensors"
        save_st(T, fn, {"source_image": f"tests/fixtures/images/{name}", "pil_mode": mode,
                        "processor": type(auto_ip).__name__,
                        "min_pixels": auto_ip.size["shortest_edge"], "max_pixels": auto_ip.size["longest_edge"],
                        "transformers": transformers.__version__, "torch": torch.__version__,
                        "torchvision": torchvision.__version__})
        files[fn.name] = T
    rep["per_image"] = per
    report["processor"] = rep
    return files


# ----------------------------------------------------------------------------- README writers

def tensor_table(T, descr):
    lines = ["| tensor | dtype | shape | meaning |", "|---|---|---|---|"]
    for k, v in T.items():
        d = descr(k)
        lines.append(f"| `{k}` | {dtype_name(v)} | {list(v.shape)} | {d} |")
    return "\n".join(lines)


def case_descr(k):
    base = k.split(".")[0]
    idx = k.split(".")[-1] if "." in k else ""
    D = {
        "input_ids": "token ids, left-padded with 2000 (`<|endoftext|>`)",
        "attention_mask": "1 = real token, 0 = left padding",
        "pixel_values": "processor output (fast Qwen2VL image processor, min_pixels 4096, max_pixels 8192), all images of the case concatenated in prompt order",
        "image_grid_thw": "(t, h, w) patch grid per image",
        "position_ids": "3-D M-RoPE position ids (t, h, w) from `get_rope_index`; padded slots hold 1",
        "rope_deltas": "`rope_deltas` from `get_rope_index`, [B,1]: decode position = absolute index in the (padded) row + delta, on all three axes",
        "visual_pos_mask": "1 where input_ids == 2012 (`<|image_pad|>`): rows replaced by image embeds and receiving DeepStack adds",
        "last_hidden_state": "`model.model(...).last_hidden_state` = final RMSNorm applied to the last layer output",
        "logits": "`model(...).logits`, all positions (garbage at padded positions)",
        "generated_ids": "`model.generate(do_sample=False, max_new_tokens=5)` new tokens (KV-cache path)",
        "generated_logits": "logits of each greedy step (`output_logits=True`), row k = distribution that chose generated_ids[0,k]",
        "text": "",
    }
    if base == "image":
        return f"raw RGB input image {idx} (HxWx3), before preprocessing"
    if k == "vision.patch_embed":
        return "vision patch-embedding output (Conv3d as linear), rows in pixel_values order"
    if k == "vision.pos_embed":
        return "bilinearly interpolated learned position embeddings added to the patch embeds (merge-block order)"
    if k == "vision.rope_freqs":
        return ("vision 2-D rotary angles per patch, F = head_dim/2 = 8 columns: [:, :4] = row*inv_freq, "
                "[:, 4:] = col*inv_freq, inv_freq[k] = 10000^(-k/4); the rotation uses cos/sin of cat(f, f) (16 = head_dim)")
    if base == "vision" and k.startswith("vision.block."):
        return f"output of vision block {idx}"
    if k == "vision.image_embeds":
        return "vision tower output after the final merger (rows = image tokens, all images concatenated)"
    if k.startswith("vision.deepstack."):
        return f"DeepStack feature {idx} (merger {idx} applied to the output of vision block deepstack_visual_indexes[{idx}]); added after text layer {idx}"
    if k == "text.rope_cos" or k == "text.rope_sin":
        return ("text M-RoPE cos (resp. sin), [B, S, head_dim 32] = 16 interleaved-M-RoPE angles repeated twice "
                "(slot j: axis h if j<15 and j%3==1, w if j<15 and j%3==2, else t; inv_freq[j] = 5e6^(-j/16)), "
                "as passed to every decoder layer")
    if base == "hidden_states":
        n = int(idx)
        if n == 0:
            return "`outputs.hidden_states[0]`: input embeddings with image embeds scattered in"
        return f"`outputs.hidden_states[{n}]` of `Qwen3VLForConditionalGeneration(..., output_hidden_states=True)` (see docs/hidden-states.md)"
    if base == "layer_out_raw":
        return f"raw output of text decoder layer {idx} (forward hook, cloned; before any DeepStack add)"
    if base == "layer_out_post_deepstack":
        return f"output of layer {idx} after the DeepStack add (= input of layer {int(idx)+1})"
    return D.get(k, D.get(base, ""))


def _max_sdpa(report):
    keys = ("logits", "hidden_states", "image_embeds", "deepstack")
    return {k: max(r["sdpa_vs_eager"][k] for r in report["cases"].values()) for k in keys}


def verdict_text(report):
    """Hidden-state verdict, computed from the checks of all cases."""
    chks = [r["checks"] for r in report["cases"].values()]
    post = all(c[f"hs{k}_vs_post_deepstack{k-1}"] == 0.0 for c in chks for k in (1, 2, 3))
    raw = all(c[f"hs{k}_vs_raw_out{k-1}"] == 0.0 for c in chks for k in (1, 2, 3))
    last_raw = all(c["hs4_vs_raw_out3"] == 0.0 for c in chks)
    last_norm = all(c["hsL_vs_last_hidden_state"] == 0.0 for c in chks)
    gap = min(c[f"raw{k-1}_vs_post_deepstack{k-1}"] for c in chks for k in (1, 2, 3))
    where = "AFTER" if post and not raw else ("BEFORE" if raw and not post else "UNDETERMINED")
    last = "the RAW output of the last layer (no final norm)" if last_raw and not last_norm else (
        "the FINAL-NORMED last hidden state" if last_norm else "UNDETERMINED")
    return (f"**Hidden-state semantics measured here (transformers {transformers.__version__})**: "
            "`hidden_states.0` = input embeddings (image embeds scattered in); for k = 1..3, `hidden_states.k` "
            f"is the output of decoder layer k-1 **{where}** the DeepStack addition (bit-identical to "
            f"`layer_out_post_deepstack.{{k-1}}`; it differs from `layer_out_raw.{{k-1}}` by >= {gap:.3f}); "
            f"`hidden_states.4` is {last} = `layer_out_raw.3`; `last_hidden_state` = final RMSNorm of it. "
            "Same result in every mode tried (" + "; ".join(
                f"{k}: {v}" for k, v in report.get("semantics_variants", {}).items()) + "). "
            "See docs/hidden-states.md.")


def write_readmes(out_dir, img_dir, model_dir, case_tensors, pre_tensors, case_info, report, image_list, args):
    versions = (f"transformers {transformers.__version__}, torch {torch.__version__}, "
                f"torchvision {report['processor']['torchvision']}, numpy {np.__version__}, "
                f"Pillow {Image.__version__}, scikit-image {report['skimage']}, Python {platform.python_version()}")
    files = sorted(p for p in list(out_dir.rglob("*")) + list(img_dir.glob("*"))
                   if p.is_file() and p.name != "README.md")
    total = sum(p.stat().st_size for p in files)
    L = []
    L.append("# Qwen3-VL golden fixtures (tiny random model + preprocessing)\n")
    L.append("Generated by `tools/qwen3vl_fixtures.py` (dev-time only, never run in CI):\n")
    L.append("```\n/tmp/venv/bin/python tools/qwen3vl_fixtures.py --out tests/fixtures/qwen3vl\n```\n")
    L.append(f"Versions: {versions}. CPU, float32, `attn_implementation=\"eager\"`.\n")
    L.append("Re-running with the same versions reproduces the same tensors. All safetensors files are "
             "little-endian, standard safetensors; dtypes used: F32, I64, U8. Integer tensors (token ids, "
             "masks, grids, positions, deltas) are **int64**; raw images, resized images and `visual_pos_mask` "
             "are **uint8**. Each file's `__metadata__` holds a single key, `fixture_info`, whose value is a "
             "JSON object (description, processor bounds, versions).\n")
    L.append("## Files\n")
    L.append("| file | size |\n|---|---|")
    for p in files:
        L.append(f"| `{p.relative_to(out_dir.parent)}` | {nbytes_h(p.stat().st_size)} |")
    L.append(f"\nTotal (plus the two README.md files): {nbytes_h(total)} ({total} bytes).\n")

    L.append("## The tiny model: `tiny/`\n")
    L.append("`tiny/config.json`, `tiny/model.safetensors`, `tiny/generation_config.json` were written by "
             "`Qwen3VLForConditionalGeneration.save_pretrained(..., safe_serialization=True)` (float32); "
             "`tiny/preprocessor_config.json` is a byte copy of the real Qwen3-VL-4B-Instruct one "
             "(min_pixels 65536). NOTE: the model cases below were preprocessed with "
             f"min_pixels={CASE_MIN_PIXELS}, max_pixels={CASE_MAX_PIXELS} (override), so their images stay tiny; "
             "the C test should take `pixel_values`/`image_grid_thw` from the case file, or preprocess "
             "`image.*` with those bounds.\n")
    L.append("Architecture: vision depth 4, hidden 64, 4 heads (head_dim 16), MLP 128, patch 16, temporal patch 2, "
             "merge 2, 16x16 learned position table, out_hidden 96, deepstack_visual_indexes [1,2,3]; text 4 layers, "
             "hidden 96, 4 q-heads / 2 kv-heads, head_dim 32, MLP 192, vocab 2048, rope_theta 5e6, mrope_section "
             "[6,5,5] interleaved, tied embeddings. Special ids: `<|endoftext|>` 2000 (pad), `<|im_start|>` 2001, "
             "`<|im_end|>` 2002, `<|vision_start|>` 2009, `<|vision_end|>` 2010, `<|image_pad|>` 2012, "
             "`<|video_pad|>` 2013 (Qwen id - 151643 + 2000). Text ids used in prompts (all < 2000) are arbitrary; "
             f"\"user\"={USER}, \"\\n\"={NL}, \"assistant\"={ASSISTANT}.\n")
    L.append(f"Parameters: `torch.manual_seed(0)`, model's own init, then EVERY parameter re-drawn in "
             f"`named_parameters()` order from one `torch.Generator().manual_seed({PARAM_SEED})` stream: "
             "norm weights (LayerNorm, RMSNorm, q_norm, k_norm) 1 + 0.1 N(0,1); all biases 0.1 N(0,1); "
             "`embed_tokens` 0.15 N(0,1), `pos_embed` 0.5 N(0,1); every other weight N(0,1)/sqrt(fan_in) "
             "(fan_in = product of all dims but the first).\n")
    L.append(f"`lm_head.weight` present in model.safetensors: **{report['lm_head_in_file']}** "
             f"({report['n_tensors']} tensors, {report['n_params']} parameters). A loader must fall back to "
             "`model.language_model.embed_tokens.weight`.\n")
    L.append(f"Re-loading the saved files reproduces the in-memory model exactly (max |diff| of logits "
             f"{report['reload_logits_diff']:.1e}).\n")

    L.append("## Model cases: `case*.safetensors`\n")
    L.append("Each case is one forward of `Qwen3VLForConditionalGeneration` loaded from `tiny/` with "
             "`attn_implementation=\"eager\"`, called as `model(input_ids, attention_mask, pixel_values, "
             "image_grid_thw, output_hidden_states=True, use_cache=False)`. Prompts follow the chat template "
             "shape `<|im_start|> user \\n <|vision_start|> <|image_pad|>*n <|vision_end|> text... <|im_end|> \\n "
             "<|im_start|> assistant \\n`.\n")
    for cname, info in case_info.items():
        L.append(f"### `{cname}.safetensors` — {info['title']}\n")
        r = report["cases"][cname]
        L.append(f"B={r['B']}, S={r['S']}, image grids {r['grid']}, image tokens per image {r['n_image_tokens']}. "
                 f"Images: {info['images']}. rope_deltas {r['rope_deltas']}. Tensors: "
                 + ", ".join(f"`{k}`{list(v.shape)}" for k, v in case_tensors[cname].items()
                             if k.startswith(("input_ids", "pixel_values", "image.", "vision.image_embeds", "logits")))
                 + ".\n")
        if r["generate"]:
            g = r["generate"]
            L.append(f"Greedy tokens: {g['tokens']} (top1-top2 logit margins "
                     f"{[round(m, 4) for m in g['top1_top2_margins']]}; a no-cache full recompute gives the same "
                     f"tokens, step logits within {g['nocache_vs_cached_step_logits']:.1e}); decode positions "
                     f"(all three axes) {g['decode_positions']}.\n")
    L.append("Tensors (shapes of case1; other cases differ only in B, S, N):\n")
    L.append(tensor_table(case_tensors["case1_single_image"], case_descr))
    L.append("\nN = total patches of all images (rows of pixel_values), M = N/4 image tokens. "
             "`layer_out_post_deepstack.i` exists for i = 0..2 only. Batch tensors are [B, S, ...]; image-level "
             "tensors (pixel_values, vision.*) concatenate all images of the batch in order (row 0's images first). "
             "In case3 (left padding) compare only rows with attention_mask = 1: padded query rows have every key "
             "masked, their values (hidden states, logits) are implementation noise (eager and SDPA disagree there "
             f"by up to {report['cases']['case3_batch_left_pad']['sdpa_vs_eager'].get('logits_pad_rows', 0):.1f} "
             "in the logits).\n")
    L.append("Tolerances: the same model run with SDPA instead of eager attention differs by at most "
             + ", ".join(f"{k} {v:.1e}" for k, v in _max_sdpa(report).items())
             + " (valid positions, all cases); a float32 C implementation should land in the same 1e-5 range.\n")
    L.append("Caution for anyone regenerating: in transformers 4.57.0, calling the model WITHOUT an "
             "attention_mask and with use_cache=False makes `create_causal_mask` treat the (non-monotonic) "
             "M-RoPE temporal positions as packed sequences and silently block-diagonalises the attention "
             f"(case1 logits change by {report['cases']['case1_single_image']['checks']['no_mask_no_cache_logits_diff']:.1f}); "
             "always pass attention_mask.\n")
    L.append("\n" + verdict_text(report) + "\n")

    L.append("## Preprocessing goldens: `preprocess_<name>.safetensors`\n")
    pr = report["processor"]
    L.append(f"Reference = `AutoImageProcessor.from_pretrained(<Qwen3-VL-4B-Instruct dir>)` (unchanged config: "
             f"min_pixels 65536, max_pixels 16777216) = **{pr['AutoImageProcessor_default']}**, called on the PIL "
             f"image opened from `tests/fixtures/images/<name>` (`AutoProcessor` wraps the same class: "
             f"{pr.get('AutoProcessor.image_processor')}).\n")
    L.append("| tensor | dtype | shape | meaning |\n|---|---|---|---|")
    L.append("| `resized_u8` | u8 | [H', W', 3] | the processor's resized uint8 RGB image (smart_resize factor 32, "
             "torchvision antialiased bicubic on uint8). Lossless stand-in for the processor's `pixel_values` "
             "(kept as uint8 to stay within the size budget): `pixel_values = patchify((float(u8) - 127.5f) / "
             "127.5f)` in float32 reproduces the processor output **bit for bit** (asserted by the generator), "
             "where patchify is the layout of qwen3vl.md §2.5 (pinned independently by the f32 `pixel_values` of "
             "the case files). pixel_values has shape [H'W'/256, 1536]. |")
    L.append("| `image_grid_thw` | i64 | [1, 3] | (1, H'/16, W'/16) |")
    L.append("| `image_rgb` | u8 | [H, W, 3] | JPEG only: Pillow's decoded RGB pixels (libjpeg-turbo in the Pillow "
             "wheel), i.e. the processor's input; lets a test separate JPEG-decoder differences from resize "
             "differences. For PNGs the file itself is lossless, so nothing is stored. |")
    L.append("\nColumns of the table below: fast vs slow = max |diff| of pixel_values between the fast class and the "
             "slow class given the same min/max pixels (in units of 1/127.5 = one uint8 step); u8 native vs float "
             "path = torchvision uint8 CPU kernel vs float32 resize + clamp + round (what CUDA tensors get); "
             "u8 native vs Pillow = vs `PIL.Image.resize(BICUBIC)`; (frac) = fraction of uint8 values that "
             "differ. slow grid = grid of the slow class *as loaded* from the unchanged config (it ignores the "
             "`size` key in 4.57.0, see docs/hidden-states.md).\n")
    L.append("| image | mode | HxW | resized | grid | patches | fast vs slow max abs (LSB) | u8 native vs float-path max LSB (frac) | u8 native vs Pillow max LSB (frac) | slow grid as loaded |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, p in pr["per_image"].items():
        L.append(f"| {name} | {p['mode']} | {p['size_hw']} | {p['resized_hw']} | {p['grid_thw']} | {p['n_patches']} | "
                 f"{p['fast_vs_slow_max_abs']:.4g} ({p['fast_vs_slow_max_lsb']}) | "
                 f"{p['native_u8_vs_float_path_max_lsb']} ({p['native_u8_vs_float_path_frac_differing']:.2g}) | "
                 f"{p['native_u8_vs_pillow_max_lsb']} ({p['native_u8_vs_pillow_frac_differing']:.2g}) | "
                 f"{p['slow_as_loaded_grid_thw']} |")
    L.append("\nProcessor facts (transformers 4.57.0, torchvision installed): see docs/hidden-states.md "
             "§ Image processor for the full verdict.\n")
    (out_dir / "README.md").write_text("\n".join(L) + "\n")

    I = ["# Test photos\n",
         "Small photos for the image-preprocessing tests. All are cut and resized (Pillow Lanczos) from the "
         f"sample images bundled inside the scikit-image {report['skimage']} wheel (`skimage.data`) by "
         "`tools/qwen3vl_fixtures.py` (the model-case crops of `chelsea`, Chelsea the cat by Stefan van der "
         "Walt, CC0, live only inside the case safetensors files). Sources and licences (as stated in scikit-image's docstrings):\n",
         "- `rocket`: launch photo of DSCOVR on Falcon 9, SpaceX, released into the public domain (CC0).",
         "- `coffee`: coffee cup, photo by Rachel Michetti, courtesy of Pikolo Espresso Bar; CC0, no copyright restrictions.",
         "- `astronaut`: Eileen Collins, NASA Great Images database; public domain, no known copyright restrictions.",
         "- `camera`: photo by Lav Varshney; CC0, no copyright restrictions.\n",
         "| file | bytes | content |", "|---|---|---|"]
    for name, desc in image_list:
        I.append(f"| `{name}` | {(img_dir / name).stat().st_size} | {desc} |")
    I.append("\n`sample_224.png` is also the sample image of the top-level README.\n")
    I.append("The expected preprocessing output of each photo (Qwen3-VL-4B preprocessor_config.json, unchanged) "
             "is in `tests/fixtures/qwen3vl/preprocess_<stem>.safetensors`; see that folder's README.\n")
    (img_dir / "README.md").write_text("\n".join(I) + "\n")


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="tests/fixtures/qwen3vl")
    ap.add_argument("--images-out", default=None, help="default: <out>/../images")
    ap.add_argument("--shared", default="/work/shared", help="folder holding qwen3-vl-4b-instruct/ and qwen-tokenizer/")
    ap.add_argument("--report", default=None, help="also write the JSON report here")
    args = ap.parse_args()
    if transformers.__version__ != REQUIRED_TRANSFORMERS:
        sys.exit(f"need transformers=={REQUIRED_TRANSFORMERS}, have {transformers.__version__}")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True)

    out_dir = Path(args.out)
    img_dir = Path(args.images_out) if args.images_out else out_dir.parent / "images"
    shared_4b = Path(args.shared) / "qwen3-vl-4b-instruct"
    shared_tok = Path(args.shared) / "qwen-tokenizer"
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in out_dir.glob("*.safetensors"):
        p.unlink()
    model_dir = out_dir / "tiny"
    import skimage
    report = {"transformers": transformers.__version__, "torch": torch.__version__,
              "skimage": skimage.__version__, "cases": {}}

    # ---- model
    build_tiny_model(model_dir, shared_4b)
    sd = load_file(str(model_dir / "model.safetensors"))
    report["lm_head_in_file"] = "lm_head.weight" in sd
    report["n_tensors"] = len(sd)
    report["n_params"] = int(sum(v.numel() for v in sd.values()))
    model = load_model(model_dir, "eager")
    model_sdpa = load_model(model_dir, "sdpa")
    assert model.config.text_config._attn_implementation == "eager"
    assert model.model.visual.config._attn_implementation == "eager"

    proc = AutoImageProcessor.from_pretrained(str(shared_4b), size={"shortest_edge": CASE_MIN_PIXELS,
                                                                    "longest_edge": CASE_MAX_PIXELS})
    assert type(proc).__name__ == "Qwen2VLImageProcessorFast", type(proc).__name__
    imgs = case_images()
    A, C, K = imgs["astronaut_72x112"], imgs["chelsea_60x60"], imgs["coffee_130x100"]

    cases = {
        "case1_single_image": dict(
            title="one non-square image, batch 1, + 5 greedy tokens",
            images_desc="image.0 = astronaut crop 72x112 -> 64x128, grid (1,4,8), 8 tokens",
            images=[A], prompts=[chat([0], [1234, 567, 89, 1500, 42])], gen=5),
        "case2_two_images": dict(
            title="two images of different sizes in one prompt (consecutive vision blocks, like StarVLA multi-view)",
            images_desc="image.0 = chelsea crop 60x60 -> 64x64 (1,4,4) 4 tokens; image.1 = coffee crop 130x100 -> "
                        "96x64 (downscaled by max_pixels), grid (1,6,4), 6 tokens",
            images=[C, K], prompts=[chat([0, 1], [300, 1999, 5, 812])], gen=0),
        "case3_batch_left_pad": dict(
            title="batch of two prompts of different length, left padded with 2000",
            images_desc="row 0: image.0 = astronaut 72x112 -> grid (1,4,8), 8 tokens, + 4 text ids (no padding); "
                        "row 1: image.1 = chelsea 60x60 -> grid (1,4,4), 4 tokens, + 1 text id, 7 pads on the left",
            images=[A, C],
            prompts=[chat([0], [11, 222, 1333, 1444]), chat([1], [1555])],
            gen=0),
    }
    case_tensors, case_info = {}, {}
    for cname, c in cases.items():
        rep = {}
        T = run_case(model, model_sdpa, proc, c["images"], c["prompts"], rep, gen_tokens=c["gen"])
        report["cases"][cname] = rep
        save_st(T, out_dir / f"{cname}.safetensors",
                {"description": c["title"], "images": c["images_desc"],
                 "min_pixels": CASE_MIN_PIXELS, "max_pixels": CASE_MAX_PIXELS,
                 "attn_implementation": "eager", "transformers": transformers.__version__,
                 "torch": torch.__version__})
        case_tensors[cname] = T
        case_info[cname] = {"title": c["title"], "images": c["images_desc"]}

    # reload check: the in-memory freshly drawn model vs the one loaded from disk
    fresh_dir = Path(tempfile.mkdtemp())
    try:
        build_tiny_model(fresh_dir / "m", shared_4b)
        m2 = load_model(fresh_dir / "m", "eager")
        T1 = case_tensors["case1_single_image"]
        with torch.no_grad():
            o2 = m2(input_ids=T1["input_ids"], attention_mask=T1["attention_mask"], pixel_values=T1["pixel_values"],
                    image_grid_thw=T1["image_grid_thw"], use_cache=False)
        report["reload_logits_diff"] = maxdiff(o2.logits, T1["logits"])
        a = (fresh_dir / "m" / "model.safetensors").read_bytes()
        b = (model_dir / "model.safetensors").read_bytes()
        report["model_file_bytes_identical_on_rebuild"] = a == b
    finally:
        shutil.rmtree(fresh_dir)

    report["semantics_variants"] = semantics_variants(model_dir, case_tensors["case1_single_image"])

    # ---- images + preprocessing
    image_list = make_image_files(img_dir)
    pre = processor_fixtures(out_dir, img_dir, shared_4b, shared_tok, image_list, report)

    # activation scale summary (helps judge the test's sensitivity)
    T1 = case_tensors["case1_single_image"]
    report["activation_rms_case1"] = {k: round(float(T1[k].pow(2).mean().sqrt()), 4) for k in T1
                                      if T1[k].dtype == torch.float32 and k not in ("pixel_values",)}
    write_readmes(out_dir, img_dir, model_dir, case_tensors, pre, case_info, report, image_list, args)
    js = json.dumps(report, indent=1, default=str)
    print(js)
    if args.report:
        Path(args.report).write_text(js)


if __name__ == "__main__":
    main()
