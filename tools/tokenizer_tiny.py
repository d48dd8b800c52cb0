#!/usr/bin/env python3
"""Build configs/tiny/tokenizer.json, the embedded default model's vocabulary,
from the real Qwen tokenizer.json (development time only).

Kept: the 256 byte-level base tokens, then, in merge-rank order, the result of
every merge whose two parts are already kept, until 2000 tokens (ids 0..1999,
renumbered densely in Qwen id order); every Qwen merge whose parts and result
are all kept (written in the "left right" string form, so the C loader's
second merge syntax is exercised); the 26 added tokens, Qwen id 151643 + k ->
2000 + k. Normalizer, pre-tokenizer, post-processor and decoder are Qwen's.

usage: tools/tokenizer_tiny.py [--qwen ../shared/qwen-tokenizer/tokenizer.json]
                               [--out configs/tiny/tokenizer.json] [--size 2000]
"""
import argparse
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bytes_to_unicode():
    """GPT-2's byte -> printable character table."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tiny_tokenizer(qwen, size):
    """The reduced tokenizer.json (a dict) with `size` BPE tokens."""
    vocab = qwen["model"]["vocab"]
    merges = [m if isinstance(m, list) else m.split(" ", 1) for m in qwen["model"]["merges"]]

    kept = set(bytes_to_unicode().values())
    assert all(t in vocab for t in kept), "a byte-level base token is missing from the vocabulary"
    for a, b in merges:
        if len(kept) >= size:
            break
        if a in kept and b in kept:
            kept.add(a + b)
    ordered = sorted(kept, key=lambda t: vocab[t])
    new_vocab = {t: i for i, t in enumerate(ordered)}
    new_merges = [f"{a} {b}" for a, b in merges if a in kept and b in kept and a + b in kept]

    added = []
    for tok in qwen["added_tokens"]:
        tok = dict(tok)
        tok["id"] = size + (tok["id"] - 151643)
        added.append(tok)

    return {
        "version": qwen["version"],
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": qwen["normalizer"],
        "pre_tokenizer": qwen["pre_tokenizer"],
        "post_processor": qwen["post_processor"],
        "decoder": qwen["decoder"],
        "model": dict(qwen["model"], vocab=new_vocab, merges=new_merges),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qwen", default=os.path.join(ROOT, "..", "shared", "qwen-tokenizer", "tokenizer.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "configs", "tiny", "tokenizer.json"))
    ap.add_argument("--size", type=int, default=2000)
    args = ap.parse_args()

    with open(args.qwen, encoding="utf-8") as f:
        out = tiny_tokenizer(json.load(f), args.size)
    text = json.dumps(out, ensure_ascii=False, indent=1)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    m = out["model"]
    print(f"{args.out}: {len(m['vocab'])} tokens, {len(m['merges'])} merges, {len(out['added_tokens'])} added, "
          f"{len(text.encode())} bytes")


if __name__ == "__main__":
    main()
