#!/usr/bin/env python3
"""Write the weight-file fixtures under tests/fixtures/weights/ (development time only).

Real files come from the reference writers (torch.save, safetensors.torch.save_file);
hostile files are crafted byte by byte. Expected values are written to expected.json
from PyTorch's own view of each tensor, never by our C code.

    /tmp/venv/bin/python tools/weights_fixtures.py
"""
import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile
import zlib

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "weights")
DTYPE_NAMES = {
    torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16", torch.float64: "f64",
    torch.int64: "i64", torch.int32: "i32", torch.int16: "i16", torch.int8: "i8",
    torch.uint8: "u8", torch.bool: "bool",
}
EXPECTED = {"files": {}}


def path(*parts):
    p = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def describe(t):
    """PyTorch's view of a tensor: dtype, shape, strides, values in logical order."""
    flat = t.detach().reshape(-1)
    if t.dtype.is_floating_point:
        values = [float(v) for v in flat.double().tolist()]
    else:
        values = [int(v) for v in flat.long().tolist()]
    return {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "stride": list(t.stride()), "values": values}


def expect(file, named):
    EXPECTED["files"][file] = {name: describe(t) for name, t in named.items()}


def sample(dtype, shape, gen):
    if dtype.is_floating_point:
        return (torch.randn(shape, generator=gen, dtype=torch.float64) * 3).to(dtype)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=gen).bool()
    info = torch.iinfo(dtype)
    lo, hi = max(info.min, -(2**40)), min(info.max, 2**40)
    t = torch.randint(lo, hi, shape, generator=gen, dtype=torch.int64).to(dtype)
    t.view(-1)[0] = info.min if dtype != torch.int64 else -(2**40)
    return t


def all_dtypes(gen):
    d = collections.OrderedDict()
    for i, dt in enumerate(DTYPE_NAMES):
        d["t_" + DTYPE_NAMES[dt]] = sample(dt, (3, i + 2), gen)
    return d


# ---------------------------------------------------------------- safetensors

def write_safetensors(gen):
    t = all_dtypes(gen)
    t["scalar"] = torch.tensor(2.5, dtype=torch.float32)
    t["empty"] = torch.zeros((0, 3), dtype=torch.float32)
    t["odd.bf16"] = sample(torch.bfloat16, (5,), gen)  # makes later tensors start at odd multiples of 2
    save_file(t, path("st_basic.safetensors"), metadata={"format": "pt", "note": "hello"})
    expect("st_basic.safetensors", t)

    shard1 = {"model.embed.weight": sample(torch.bfloat16, (6, 4), gen),
              "model.norm.weight": sample(torch.float32, (4,), gen)}
    shard2 = {"lm_head.weight": sample(torch.bfloat16, (6, 4), gen),
              "model.layers.0.w": sample(torch.float16, (2, 3), gen)}
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    save_file(shard1, path("st_sharded", names[0]), metadata={"format": "pt"})
    save_file(shard2, path("st_sharded", names[1]), metadata={"format": "pt"})
    weight_map = {k: names[0] for k in shard1} | {k: names[1] for k in shard2}
    with open(path("st_sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    expect("st_sharded/model.safetensors.index.json", shard1 | shard2)


def write_params_model(gen):
    """A small state dict for the declared-parameter tests (tests/weights/test_params.c)."""
    t = collections.OrderedDict([
        ("m.embed.weight", sample(torch.bfloat16, (6, 4), gen)),
        ("m.proj.weight", sample(torch.bfloat16, (3, 4), gen)),
        ("m.proj.bias", sample(torch.bfloat16, (3,), gen)),
        ("m.norm.weight", sample(torch.float16, (4,), gen)),
        ("m.wide.weight", sample(torch.float64, (2, 2), gen)),
        ("extra.unused", sample(torch.float32, (2,), gen)),
    ])
    save_file(t, path("params_model.safetensors"))
    expect("params_model.safetensors", t)


def st_bytes(header, data, header_len=None):
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    n = len(h) if header_len is None else header_len
    return struct.pack("<Q", n) + h + data


def write_hostile_safetensors():
    ok = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}}
    good = st_bytes(ok, bytes(24))
    files = {
        "bad_st_truncated.safetensors": good[:-10],
        "bad_st_short.safetensors": b"\x10\x00\x00",
        "bad_st_header_too_long.safetensors": st_bytes(ok, bytes(24), header_len=len(good) + 100),
        "bad_st_header_huge.safetensors": st_bytes(ok, bytes(24), header_len=1 << 62),
        "bad_st_offsets_past_end.safetensors": st_bytes(
            {"a": {"dtype": "F32", "shape": [4], "data_offsets": [1000, 1016]}}, bytes(16)),
        "bad_st_overlap.safetensors": st_bytes(
            {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, bytes(16)),
        "bad_st_size_mismatch.safetensors": st_bytes(
            {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, bytes(16)),
        "bad_st_shape_overflow.safetensors": st_bytes(
            {"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}, bytes(16)),
        "bad_st_negative_shape.safetensors": st_bytes(
            {"a": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, bytes(16)),
        "bad_st_dtype.safetensors": st_bytes(
            {"a": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, bytes(4)),
        "bad_st_json.safetensors": struct.pack("<Q", 16) + b'{"a": {"dtype": ' + bytes(8),
        "bad_st_duplicate.safetensors": struct.pack("<Q", 112) + (
            b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
            b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}').ljust(112) + bytes(8),
    }
    for name, data in files.items():
        with open(path(name), "wb") as f:
            f.write(data)
    # Sharding indexes: a shard outside the folder, a tensor in two shards, a wrong weight_map.
    a = st_bytes({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(4))
    for d, wm in {
        "bad_index_escape": {"x": "../st_basic.safetensors"},
        "bad_index_absolute": {"x": "/etc/passwd"},
        "bad_index_duplicate": {"x": "s1.safetensors", "y": "s2.safetensors"},
        "bad_index_wrong_map": {"x": "s1.safetensors", "z": "s1.safetensors"},
    }.items():
        os.makedirs(os.path.join(OUT, d), exist_ok=True)
        for s in set(wm.values()):
            if not s.startswith(("/", "..")):
                with open(path(d, s), "wb") as f:
                    f.write(a)
        with open(path(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"weight_map": wm}, f)


# ---------------------------------------------------------------- torch .pt

def write_pt(gen):
    d = all_dtypes(gen)
    d["param"] = torch.nn.Parameter(sample(torch.float32, (2, 2), gen))
    torch.save(d, path("pt_dtypes.pt"))
    expect("pt_dtypes.pt", d)

    base = torch.arange(48, dtype=torch.float32).reshape(6, 8) * 0.5 - 3
    views = collections.OrderedDict([
        ("base", base),
        ("rows", base[2:4]),              # storage offset 16
        ("transposed", base.t()),         # strides (1, 8)
        ("strided", base[1:, ::3]),       # offset 8, strides (8, 3)
        ("element", base[5, 7]),          # rank 0 at offset 47
        ("expanded", torch.tensor([1.5, -2.0])[1:].expand(4, 3)),  # stride 0, offset 1
        ("empty", torch.zeros(0, 5)),
        ("bf16_t", sample(torch.bfloat16, (3, 5), gen).t()),
    ])
    torch.save(views, path("pt_views.pt"))
    expect("pt_views.pt", views)

    nested = {"encoder": {"layer0": {"weight": sample(torch.float32, (2, 3), gen),
                                     "bias": sample(torch.float16, (2,), gen)}},
              "head.weight": sample(torch.bfloat16, (1, 2), gen), "step": 5, "note": "x"}
    torch.save(nested, path("pt_nested.pt"))
    expect("pt_nested.pt", {"encoder.layer0.weight": nested["encoder"]["layer0"]["weight"],
                            "encoder.layer0.bias": nested["encoder"]["layer0"]["bias"],
                            "head.weight": nested["head.weight"]})

    inner = collections.OrderedDict([("a.weight", sample(torch.bfloat16, (2, 2), gen)),
                                     ("b.bias", sample(torch.float32, (3,), gen))])
    ds = {"module": inner, "buffer_names": [], "optimizer": None, "global_steps": 10,
          "dp_world_size": 1, "ds_version": "0.14.0"}
    torch.save(ds, path("pt_deepspeed.pt"))
    expect("pt_deepspeed.pt", inner)

    ddp = collections.OrderedDict(("module." + k, v) for k, v in inner.items())
    torch.save(ddp, path("pt_ddp.pt"))
    expect("pt_ddp.pt", inner)

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    sd = net.state_dict()  # an OrderedDict with _metadata: exercises BUILD
    opt_state = [{"state": {0: {"exp_avg": torch.ones(3, 4)}}, "param_groups": [{"lr": 1e-3, "params": [0, 1]}]}]
    lightning = {"epoch": 3, "global_step": 100, "pytorch-lightning_version": "2.4.0", "state_dict": sd,
                 "loops": {"fit_loop": {"epoch_progress": {"current": 3}}}, "callbacks": {},
                 "optimizer_states": opt_state, "lr_schedulers": []}
    torch.save(lightning, path("pt_lightning.pt"))
    expect("pt_lightning.pt", sd)

    wrapped = {"model": {"w": sample(torch.float32, (2,), gen)}, "step": 7}
    torch.save(wrapped, path("pt_model_wrapper.pt"))
    expect("pt_model_wrapper.pt", {"w": wrapped["model"]["w"]})
    sub = {"model": {"w": sample(torch.float32, (2,), gen)}, "head": {"w": sample(torch.float32, (1,), gen)}}
    torch.save(sub, path("pt_model_submodule.pt"))
    expect("pt_model_submodule.pt", {"model.w": sub["model"]["w"], "head.w": sub["head"]["w"]})

    p4 = collections.OrderedDict([("x", sample(torch.float32, (2, 3), gen)), ("y", sample(torch.int64, (4,), gen))])
    torch.save(p4, path("pt_protocol4.pt"), pickle_protocol=4)
    expect("pt_protocol4.pt", p4)

    # The same checkpoint with its zip root renamed "archive" (older torch) instead of the file stem.
    with zipfile.ZipFile(path("pt_protocol4.pt")) as src, \
            zipfile.ZipFile(path("pt_archive_root.pt"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo("archive/" + info.filename.split("/", 1)[1]), src.read(info))
    expect("pt_archive_root.pt", p4)

    # The same again in Zip64 form (what torch writes for files over 4 GiB); torch.load must agree.
    write_zip64_copy(path("pt_protocol4.pt"), path("pt_zip64.pt"))
    loaded = torch.load(path("pt_zip64.pt"), weights_only=False)  # our own file; protocol 4 needs it
    assert all(torch.equal(loaded[k], p4[k]) for k in p4)
    expect("pt_zip64.pt", p4)

    torch.save({"a": torch.zeros(2)}, path("bad_pt_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({1: torch.zeros(2)}, path("bad_pt_nonstring_key.pt"))
    deep = {"t": torch.zeros(1)}
    for _ in range(100):
        deep = {"d": deep}
    torch.save(deep, path("bad_pt_deep.pt"))
    shared = {"t": torch.zeros(1)}
    for _ in range(40):
        shared = {"a": shared, "b": shared}  # 2^40 names from a tiny pickle
    torch.save(shared, path("bad_pt_exponential.pt"))
    with open(path("pt_dtypes.pt"), "rb") as f:
        good = f.read()
    with open(path("bad_pt_truncated.pt"), "wb") as f:
        f.write(good[: len(good) * 3 // 5])


def write_zip64_copy(src, dst):
    """Rewrite a stored zip with every size and offset in Zip64 extra fields and
    a Zip64 end-of-central-directory record (PKWARE APPNOTE 4.3.14-4.3.16, 4.5.3)."""
    with zipfile.ZipFile(src) as z:
        entries = [(i.filename.encode(), z.read(i)) for i in z.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in entries:
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, zlib.crc32(data),
                           0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)) + name + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, zlib.crc32(data),
                               0xFFFFFFFF, 0xFFFFFFFF, len(name), len(cextra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += name + cextra
    cd_offset = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central),
                       cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)


# ---------------------------------------------------------------- hostile pickles

class FakeStorage:
    def __init__(self, key, numel, cls=torch.FloatStorage):
        self.key, self.numel, self.cls = key, numel, cls


class FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class TorchLikePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def torch_zip(name, pkl, storages=None, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl"), pkl, compress_type=compress)
        z.writestr(zipfile.ZipInfo("archive/version"), "3\n")
        for key, data in (storages or {}).items():
            z.writestr(zipfile.ZipInfo("archive/data/" + key), data)


def fake_pickle(obj, protocol=2):
    b = io.BytesIO()
    TorchLikePickler(b, protocol=protocol).dump(obj)
    return b.getvalue()


def write_hostile_pt():
    # Code execution attempts: GLOBAL + REDUCE of dangerous callables.
    torch_zip("bad_pt_os_system.pt", b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00echoq\x01\x85q\x02Rq\x03.")
    torch_zip("bad_pt_posix_system.pt", b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00echo\x85R.")
    torch_zip("bad_pt_builtins_eval.pt",
              b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x041+1\x94\x85\x94R\x94.")
    torch_zip("bad_pt_reduce_string.pt", b"\x80\x02X\x01\x00\x00\x00f)R.")
    torch_zip("bad_pt_opcode.pt", b"\x80\x02(i__main__\nX\n.")
    torch_zip("bad_pt_compressed.pt", fake_pickle({"a": 1}), compress=zipfile.ZIP_DEFLATED)

    four = struct.pack("<4f", 1, 2, 3, 4)
    cases = {
        "bad_pt_storage_numel.pt": FakeTensor(FakeStorage("0", 100), 0, (100,), (1,)),
        "bad_pt_view_oob.pt": FakeTensor(FakeStorage("0", 4), 0, (10,), (1,)),
        "bad_pt_offset_oob.pt": FakeTensor(FakeStorage("0", 4), 3, (2,), (1,)),
        "bad_pt_negative_stride.pt": FakeTensor(FakeStorage("0", 4), 3, (2,), (-1,)),
        "bad_pt_size_overflow.pt": FakeTensor(FakeStorage("0", 4), 0, (2**62, 2**62), (1, 1)),
        "bad_pt_too_many_dims.pt": FakeTensor(FakeStorage("0", 4), 0, (1,) * 9, (1,) * 9),
        "bad_pt_missing_storage.pt": FakeTensor(FakeStorage("7", 4), 0, (4,), (1,)),
    }
    for name, t in cases.items():
        torch_zip(name, fake_pickle({"w": t}), {"0": four})

    # A zip whose central directory declares a data entry far larger than the file.
    torch_zip("bad_pt_zip_huge.pt", fake_pickle({"w": FakeTensor(FakeStorage("0", 4), 0, (4,), (1,))}), {"0": four})
    with open(path("bad_pt_zip_huge.pt"), "r+b") as f:
        data = bytearray(f.read())
        pos = data.find(b"PK\x01\x02")
        while pos >= 0:  # central directory entries
            nlen = struct.unpack_from("<H", data, pos + 28)[0]
            if data[pos + 46:pos + 46 + nlen] == b"archive/data/0":
                struct.pack_into("<II", data, pos + 20, 0x7FFFFFF0, 0x7FFFFFF0)
            pos = data.find(b"PK\x01\x02", pos + 46)
        f.seek(0)
        f.write(data)


# ---------------------------------------------------------------- QwenPI_v3 shapes

def qwenpi_v3_shapes():
    """Every tensor of a StarVLA QwenPI_v3 (Qwen3-VL-4B) checkpoint with its shape:
    qwen3vl.md section 7 under qwen_vl_interface.model., starvla.md section 2.11."""
    s = collections.OrderedDict()
    v = "qwen_vl_interface.model.model.visual."
    s[v + "patch_embed.proj.weight"] = (1024, 3, 2, 16, 16)
    s[v + "patch_embed.proj.bias"] = (1024,)
    s[v + "pos_embed.weight"] = (2304, 1024)
    for i in range(24):
        b = f"{v}blocks.{i}."
        for n in ("norm1", "norm2"):
            s[b + n + ".weight"] = (1024,)
            s[b + n + ".bias"] = (1024,)
        for n, shape in (("attn.qkv", (3072, 1024)), ("attn.proj", (1024, 1024)),
                         ("mlp.linear_fc1", (4096, 1024)), ("mlp.linear_fc2", (1024, 4096))):
            s[b + n + ".weight"] = shape
            s[b + n + ".bias"] = (shape[0],)
    for m, norm in [("merger.", 1024)] + [(f"deepstack_merger_list.{j}.", 4096) for j in range(3)]:
        s[v + m + "norm.weight"] = (norm,)
        s[v + m + "norm.bias"] = (norm,)
        s[v + m + "linear_fc1.weight"] = (4096, 4096)
        s[v + m + "linear_fc1.bias"] = (4096,)
        s[v + m + "linear_fc2.weight"] = (2560, 4096)
        s[v + m + "linear_fc2.bias"] = (2560,)
    t = "qwen_vl_interface.model.model.language_model."
    s[t + "embed_tokens.weight"] = (151936, 2560)
    for i in range(36):
        b = f"{t}layers.{i}."
        s[b + "input_layernorm.weight"] = (2560,)
        s[b + "post_attention_layernorm.weight"] = (2560,)
        s[b + "self_attn.q_proj.weight"] = (4096, 2560)
        s[b + "self_attn.k_proj.weight"] = (1024, 2560)
        s[b + "self_attn.v_proj.weight"] = (1024, 2560)
        s[b + "self_attn.o_proj.weight"] = (2560, 4096)
        s[b + "self_attn.q_norm.weight"] = (128,)
        s[b + "self_attn.k_norm.weight"] = (128,)
        s[b + "mlp.gate_proj.weight"] = (9728, 2560)
        s[b + "mlp.up_proj.weight"] = (9728, 2560)
        s[b + "mlp.down_proj.weight"] = (2560, 9728)
    s[t + "norm.weight"] = (2560,)
    for i in range(36):
        s[f"project_layers.{i}.0.weight"] = (2560,)
        s[f"project_layers.{i}.0.bias"] = (2560,)
        s[f"project_layers.{i}.1.weight"] = (1024, 2560)
        s[f"project_layers.{i}.1.bias"] = (1024,)

    def linear(prefix, out, inp):
        s[prefix + ".weight"] = (out, inp)
        s[prefix + ".bias"] = (out,)

    a = "action_model."
    linear(a + "model.timestep_encoder.timestep_embedder.linear_1", 1024, 256)
    linear(a + "model.timestep_encoder.timestep_embedder.linear_2", 1024, 1024)
    for i in range(36):
        b = f"{a}model.transformer_blocks.{i}."
        linear(b + "norm1.linear", 2048, 1024)
        for n in ("to_q", "to_k", "to_v", "to_out.0"):
            linear(b + "attn1." + n, 1024, 1024)
        linear(b + "ff.net.0.proj", 4096, 1024)
        linear(b + "ff.net.2", 1024, 4096)
    linear(a + "model.proj_out_1", 2048, 1024)
    linear(a + "model.proj_out_2", 26, 1024)
    linear(a + "state_encoder.layer1", 1024, 7)
    linear(a + "state_encoder.layer2", 1024, 1024)
    linear(a + "action_encoder.layer1", 1024, 7)
    linear(a + "action_encoder.layer2", 1024, 2048)
    linear(a + "action_encoder.layer3", 1024, 1024)
    linear(a + "action_decoder.layer1", 1024, 1024)
    linear(a + "action_decoder.layer2", 7, 1024)
    s[a + "future_tokens.weight"] = (32, 1024)
    s[a + "position_embedding.weight"] = (1024, 1024)
    return s


def write_qwenpi_v3():
    sd = collections.OrderedDict()
    for i, (name, shape) in enumerate(qwenpi_v3_shapes().items()):
        # A one-element storage expanded with stride 0: the real shape in a tiny file.
        sd[name] = torch.full((1,), float(i % 97) / 8, dtype=torch.bfloat16).expand(*shape)
    # Tied embedding, saved as StarVLA saves it: a second key on the same storage.
    sd["qwen_vl_interface.model.lm_head.weight"] = sd[
        "qwen_vl_interface.model.model.language_model.embed_tokens.weight"].detach()
    seen, counts = set(), collections.Counter()
    for name, t in sd.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride())
        if key in seen:
            continue
        seen.add(key)
        counts[name.split(".")[0]] += t.numel()
    want = {"qwen_vl_interface": 4437815808, "action_model": 538678305, "project_layers": 94593024}
    assert dict(counts) == want, dict(counts)
    torch.save(sd, path("qwenpi_v3_shapes.pt"))
    EXPECTED["qwenpi_v3_shapes.pt"] = {"counts": want, "total": sum(want.values()), "tensors": len(sd),
                                       "values": {n: float(t.reshape(-1)[0]) for n, t in list(sd.items())[:8]}}


# ---------------------------------------------------------------- StarVLA run folders

RUN_CONFIG = """framework:
  name: QwenPI_v3
  qwenvl:
    base_vlm: playground/Pretrained_models/Qwen3-VL-4B-Instruct
  action_model:
    action_dim: 7
    action_horizon: 16
datasets:
  vla_data:
    data_mix: bridge_rt_1
    CoT_prompt: "Your task is {instruction}."
    image_size: [224, 224]
"""


def write_run_folders(gen):
    """run/: two steps (a .pt and a .safetensors); run_final/: only final_model/;
    run_noconfig/: a checkpoint but no config.yaml."""
    small = collections.OrderedDict([("action_model.w", sample(torch.float32, (2, 2), gen))])
    for d in ("run", "run_final", "run_noconfig"):
        os.makedirs(os.path.join(OUT, d), exist_ok=True)
        if d != "run_noconfig":
            with open(path(d, "config.yaml"), "w") as f:
                f.write(RUN_CONFIG)
    with open(path("run", "dataset_statistics.json"), "w") as f:
        json.dump({"oxe_bridge": {"action": {"q01": [0.0], "q99": [1.0], "mask": [True]}}}, f)
    torch.save(small, path("run", "checkpoints", "steps_100_pytorch_model.pt"))
    torch.save(small, path("run", "checkpoints", "steps_2000_pytorch_model.pt"))
    save_file(small, path("run", "checkpoints", "steps_2000_model.safetensors"))
    save_file(small, path("run", "checkpoints", "steps_300_model.safetensors"))
    with open(path("run", "checkpoints", "notes_steps.txt"), "w") as f:
        f.write("not a checkpoint\n")
    torch.save(small, path("run_final", "final_model", "pytorch_model.pt"))
    torch.save(small, path("run_noconfig", "checkpoints", "steps_5_pytorch_model.pt"))
    expect("run", small)


# ---------------------------------------------------------------- normalizer vectors

def write_normalizer_vectors():
    """Expected outputs of StarVLA's normalisation formulas, evaluated here in numpy:
    - release-time clients (model2simpler_interface.py / the LIBERO client, commit 95b45ed):
        n = clip(y, -1, 1); n[:, 6] = where(n[:, 6] < 0.5, 0, 1)
        x = where(mask, 0.5 * (n + 1) * (high - low) + low, n)    high/low = q99/q01 or max/min
    - HEAD server (state_action.py Normalizer.inverse): (y + 1) / 2 * (high - low) + low,
      y * std + mean, and binary dims (y > 0.5)
    - Normalizer.forward for states (q99 clamps every dim to [-1, 1] after passing
      degenerate dims through; min_max gives 0 on degenerate dims; mean_std passes std == 0 through)."""
    import numpy as np
    f32 = lambda a: np.asarray(a, dtype=np.float32).astype(np.float64)
    stats = {
        "q01": f32([-0.03, -0.02, 0.25, -0.1, -0.2, -0.3, 0.0]),
        "q99": f32([0.03, 0.025, 0.25, 0.1, 0.2, 0.35, 1.0]),
        "min": f32([-0.05, -0.04, 0.25, -0.3, -0.4, -0.5, 0.0]),
        "max": f32([0.05, 0.06, 0.25, 0.3, 0.4, 0.6, 1.0]),
        "mean": f32([0.001, -0.002, 0.25, 0.01, -0.02, 0.03, 0.6]),
        "std": f32([0.01, 0.02, 0.0, 0.05, 0.06, 0.07, 0.45]),
        "mask": [True, True, True, True, True, True, False],
    }
    y = f32([[-1.5, -1.0, 0.0, 0.3, 1.0, 1.7, 0.5],
             [0.25, -0.75, 3.0, -0.1, 0.9, -2.0, 0.49],
             [0.0, 0.5, -1.0, 1.0, -1.0, 0.0, 0.51],
             [-0.999, 0.999, 0.7, -0.4, 0.123, 0.456, -0.2],
             [2.5, -2.5, 0.1, 0.2, 0.3, 0.4, 1.2]])
    mask = np.array(stats["mask"])
    out = {}
    for mode, (lo_key, hi_key) in {"q99": ("q01", "q99"), "min_max": ("min", "max")}.items():
        lo, hi = stats[lo_key], stats[hi_key]
        n = np.clip(y, -1, 1)
        n[:, 6] = np.where(n[:, 6] < 0.5, 0, 1)
        out[mode + "/clip"] = np.where(mask, 0.5 * (n + 1) * (hi - lo) + lo, n)
        out[mode + "/noclip"] = np.where(mask, (y + 1) / 2 * (hi - lo) + lo, (y > 0.5).astype(np.float64))
    out["mean_std/noclip"] = np.where(mask, y * stats["std"] + stats["mean"], (y > 0.5).astype(np.float64))
    x = f32([0.02, -0.05, 0.25, 0.0, 0.5, -0.1, 0.7])  # raw state, dims beyond the bounds included
    x_degenerate = f32([0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0])
    state = {}
    for name, xs in {"in": x, "degenerate": x_degenerate}.items():
        for mode, (lo_key, hi_key) in {"q99": ("q01", "q99"), "min_max": ("min", "max")}.items():
            lo, hi = stats[lo_key], stats[hi_key]
            ok = lo != hi
            v = np.zeros_like(xs)
            v[ok] = 2 * ((xs[ok] - lo[ok]) / (hi[ok] - lo[ok])) - 1
            v[~ok] = xs[~ok] if mode == "q99" else 0
            state[f"{mode}/{name}"] = np.clip(v, -1, 1) if mode == "q99" else v
        ok = stats["std"] != 0
        v = xs.copy()
        v[ok] = (xs[ok] - stats["mean"][ok]) / stats["std"][ok]
        state[f"mean_std/{name}"] = v
    entry = {k: (list(map(float, v)) if k != "mask" else v) for k, v in stats.items()}
    doc = {"stats": {"robot": {"action": entry, "state": {k: v for k, v in entry.items() if k != "mask"}}},
           "actions_in": y.tolist(), "actions_out": {k: v.tolist() for k, v in out.items()},
           "state_in": {"in": x.tolist(), "degenerate": x_degenerate.tolist()},
           "state_out": {k: v.tolist() for k, v in state.items()}}
    with open(path("normalizer_vectors.json"), "w") as f:
        json.dump(doc, f, indent=1)


def write_fuzz_seeds():
    """data.pkl seeds for tests/fuzz/fuzz_torch_pt.c, whose zip holds storages "0"
    (64 bytes) and "1" (16 bytes)."""
    out = os.path.join(os.path.dirname(OUT), "..", "fuzz", "corpus", "fuzz_torch_pt")
    os.makedirs(out, exist_ok=True)
    s0, s1 = FakeStorage("0", 16), FakeStorage("1", 8, torch.BFloat16Storage)
    seeds = {
        "views.pkl": collections.OrderedDict([
            ("a", FakeTensor(s0, 0, (4, 4), (4, 1))), ("t", FakeTensor(s0, 0, (4, 4), (1, 4))),
            ("row", FakeTensor(s0, 4, (4,), (1,))), ("x", FakeTensor(s0, 3, (3, 2), (0, 5))),
            ("h", FakeTensor(s1, 2, (2, 3), (3, 1)))]),
        "nested.pkl": {"state_dict": {"enc": {"w": FakeTensor(s0, 0, (2, 8), (8, 1))}}, "epoch": 1,
                       "opt": [1.5, None, True, "x", (1, 2)]},
        "module.pkl": {"module": collections.OrderedDict([("module.w", FakeTensor(s1, 0, (8,), (1,)))])},
    }
    for name, obj in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(fake_pickle(obj))
    with open(os.path.join(out, "views_protocol4.pkl"), "wb") as f:
        f.write(fake_pickle(seeds["views.pkl"], protocol=4))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    gen = torch.Generator().manual_seed(1234)
    write_safetensors(gen)
    write_params_model(gen)
    write_hostile_safetensors()
    write_pt(gen)
    write_hostile_pt()
    write_qwenpi_v3()
    write_run_folders(gen)
    write_normalizer_vectors()
    write_fuzz_seeds()
    with open(path("expected.json"), "w") as f:
        json.dump(EXPECTED, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f"wrote {OUT} ({total} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
