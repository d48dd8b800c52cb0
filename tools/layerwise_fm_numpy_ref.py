#!/usr/bin/env python3
"""Independent NumPy re-implementation of StarVLA's layer-wise flow-matching head.

Written from docs/layerwise-fm-reference.md (not from StarVLA's source) and used by
tools/layerwise_fm_fixtures.py to cross-check the recorded fixtures: if this file and
the recordings agree, the formulas in the reference doc are the ones StarVLA runs.
It is also the shortest readable statement of the algorithm for the C port.

All arithmetic is float32, in the same operation order as the PyTorch code, except
matrix products (BLAS summation order differs; expect ~1e-6 relative differences).

    predict(weights, vlm_hidden, mask, noise, state=None, interleave=False, num_heads=4)

weights    : dict name -> ndarray with the framework's state-dict names
             ("action_model.…", optionally "project_layers.…")
vlm_hidden : (L, B, S, H) float32, hidden_states[-L:] of the VLM, entry i feeds block i
mask       : (B, S) {0,1} key-padding mask or None (release code passes none)
noise      : (B, T, A) float32 initial x
state      : (B, 1, state_dim) or None (QwenPI v1 state token)
"""

import math

import numpy as np

F32 = np.float32


def linear(x, w, b):
    return (x @ w.T.astype(F32) + b).astype(F32)


def silu(x):
    return (x / (F32(1) + np.exp(-x))).astype(F32)


def relu(x):
    return np.maximum(x, F32(0))


def layer_norm(x, eps, w=None, b=None):
    mu = x.mean(-1, keepdims=True, dtype=F32)
    var = ((x - mu) ** 2).mean(-1, keepdims=True, dtype=F32)
    y = ((x - mu) / np.sqrt(var + F32(eps))).astype(F32)
    if w is not None:
        y = y * w + b
    return y.astype(F32)


def gelu_tanh(x):
    c = F32(math.sqrt(2.0 / math.pi))
    return (F32(0.5) * x * (F32(1) + np.tanh(c * (x + F32(0.044715) * x * x * x)))).astype(F32)


def timestep_sinusoid(bucket, dim=256):
    """diffusers Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=1), float32 op order."""
    half = dim // 2
    exponent = F32(-math.log(10000.0)) * np.arange(half, dtype=F32)  # python double rounded to f32 first
    exponent = (exponent / F32(half - 1)).astype(F32)
    freqs = np.exp(exponent).astype(F32)
    arg = (F32(bucket) * freqs).astype(F32)
    return np.concatenate([np.cos(arg), np.sin(arg)]).astype(F32)  # cos first (flip)


def action_sinusoid(bucket, dim):
    """StarVLA SinusoidalPositionalEncoding(dim): sin first, frequencies exp(-j*ln(1e4)/(dim/2))."""
    half = dim // 2
    ln = F32(np.log(F32(10000.0)))  # torch.log(torch.tensor(10000.0)) in f32
    exponent = (-np.arange(half, dtype=F32) * (ln / F32(half))).astype(F32)
    freqs = np.exp(exponent).astype(F32)
    arg = (F32(bucket) * freqs).astype(F32)
    return np.concatenate([np.sin(arg), np.cos(arg)]).astype(F32)


def attention(xq, xkv, W, pre, num_heads, mask):
    q = linear(xq, W[pre + "to_q.weight"], W[pre + "to_q.bias"])
    k = linear(xkv, W[pre + "to_k.weight"], W[pre + "to_k.bias"])
    v = linear(xkv, W[pre + "to_v.weight"], W[pre + "to_v.bias"])
    B, Nq, D = q.shape
    Nk = k.shape[1]
    hd = D // num_heads
    q = q.reshape(B, Nq, num_heads, hd).transpose(0, 2, 1, 3)
    k = k.reshape(B, Nk, num_heads, hd).transpose(0, 2, 1, 3)
    v = v.reshape(B, Nk, num_heads, hd).transpose(0, 2, 1, 3)
    s = (q @ k.transpose(0, 1, 3, 2)) * F32(1.0 / math.sqrt(hd))
    if mask is not None:
        s = np.where(mask[:, None, None, :].astype(bool), s, F32(-np.inf))
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(-1, keepdims=True)
    o = (p.astype(F32) @ v).transpose(0, 2, 1, 3).reshape(B, Nq, D)
    return linear(o, W[pre + "to_out.0.weight"], W[pre + "to_out.0.bias"])


def predict(weights, vlm_hidden, mask, noise, state=None, interleave=False, num_heads=4, num_steps=4,
            num_buckets=1000, record=True):
    W = {k: np.asarray(v, dtype=F32) for k, v in weights.items()}
    A = "action_model."
    M = A + "model."
    L = vlm_hidden.shape[0]
    # per-layer projector (QwenPI_v3) or identity (QwenPI)
    if "project_layers.0.0.weight" in W:
        E = [
            linear(layer_norm(vlm_hidden[i], 1e-5, W[f"project_layers.{i}.0.weight"], W[f"project_layers.{i}.0.bias"]),
                   W[f"project_layers.{i}.1.weight"], W[f"project_layers.{i}.1.bias"])
            for i in range(L)
        ]
    else:
        E = [vlm_hidden[i].astype(F32) for i in range(L)]
    x = noise.astype(F32)
    B, T, _ = x.shape
    D = W[A + "future_tokens.weight"].shape[1]
    out = {"E": E}
    state_tok = None
    if state is not None:
        state_tok = linear(relu(linear(state.astype(F32), W[A + "state_encoder.layer1.weight"], W[A + "state_encoder.layer1.bias"])),
                           W[A + "state_encoder.layer2.weight"], W[A + "state_encoder.layer2.bias"])
    dt = 1.0 / num_steps
    for k in range(num_steps):
        bucket = int(k / float(num_steps) * num_buckets)
        ts = timestep_sinusoid(bucket)
        temb = linear(silu(linear(ts, W[M + "timestep_encoder.timestep_embedder.linear_1.weight"],
                                  W[M + "timestep_encoder.timestep_embedder.linear_1.bias"])),
                      W[M + "timestep_encoder.timestep_embedder.linear_2.weight"],
                      W[M + "timestep_encoder.timestep_embedder.linear_2.bias"])
        a = linear(x, W[A + "action_encoder.layer1.weight"], W[A + "action_encoder.layer1.bias"])
        s = np.broadcast_to(action_sinusoid(bucket, D), (B, T, D))
        h = linear(np.concatenate([a, s], -1), W[A + "action_encoder.layer2.weight"], W[A + "action_encoder.layer2.bias"])
        h = h * (F32(1) / (F32(1) + np.exp(-h)))  # swish
        h = linear(h, W[A + "action_encoder.layer3.weight"], W[A + "action_encoder.layer3.bias"])
        h = h + W[A + "position_embedding.weight"][:T]
        fut = np.broadcast_to(W[A + "future_tokens.weight"], (B,) + W[A + "future_tokens.weight"].shape)
        parts = ([state_tok] if state_tok is not None else []) + [fut, h]
        hs = np.concatenate(parts, 1).astype(F32)
        for i in range(L):
            P = M + f"transformer_blocks.{i}."
            emb = linear(silu(temb), W[P + "norm1.linear.weight"], W[P + "norm1.linear.bias"])
            scale, shift = emb[:D], emb[D:]  # scale FIRST
            n = layer_norm(hs, 1e-5) * (F32(1) + scale) + shift
            if interleave and i % 2 == 1:
                att = attention(n, n, W, P + "attn1.", num_heads, None)
            else:
                att = attention(n, E[i], W, P + "attn1.", num_heads, mask)
            hs = hs + att
            ffh = gelu_tanh(linear(layer_norm(hs, 1e-5), W[P + "ff.net.0.proj.weight"], W[P + "ff.net.0.proj.bias"]))
            hs = hs + linear(ffh, W[P + "ff.net.2.weight"], W[P + "ff.net.2.bias"])
            if record and k == 0:
                out[f"step.0.block.{i}.out"] = hs
        v = linear(relu(linear(hs, W[A + "action_decoder.layer1.weight"], W[A + "action_decoder.layer1.bias"])),
                   W[A + "action_decoder.layer2.weight"], W[A + "action_decoder.layer2.bias"])[:, -T:]
        if record:
            out[f"step.{k}.temb"] = np.broadcast_to(temb, (B, D))
            out[f"step.{k}.velocity"] = v
            out[f"step.{k}.bucket"] = bucket
        x = (x + F32(dt) * v).astype(F32)
    out["actions"] = x
    return out


def sinusoid_precision_report(dim):
    """Max |f32-op-order - (f64 computed, rounded)| of both sinusoids over the 4 inference buckets."""
    r = {}
    for name, fn, d in (("timestep_256", timestep_sinusoid, 256), ("action", action_sinusoid, dim)):
        m = 0.0
        for bucket in (0, 250, 500, 750):
            a = fn(bucket, d) if name == "action" else fn(bucket)
            half = d // 2
            j = np.arange(half, dtype=np.float64)
            if name == "action":
                arg = bucket * np.exp(-j * np.log(10000.0) / half)
                ref = np.concatenate([np.sin(arg), np.cos(arg)])
            else:
                arg = bucket * np.exp(-math.log(10000.0) * j / (half - 1))
                ref = np.concatenate([np.cos(arg), np.sin(arg)])
            m = max(m, float(np.abs(a - ref).max()))
        r[name] = m
    return r
