#!/usr/bin/env python3
"""Encoding throughput of the Hugging Face `tokenizers` library on the same
text as `vla bench tokenizer`, for comparison (single thread: one encode
call of the whole text, as the C benchmark does).

usage: tools/tokenizer_bench_hf.py [--tokenizer ../shared/qwen-tokenizer/tokenizer.json]
                                   [--text tests/fixtures/tokenizer/bench_mixed.txt] [--seconds 1]
"""
import argparse
import os
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "..", "shared", "qwen-tokenizer", "tokenizer.json"))
    ap.add_argument("--text", default=os.path.join(ROOT, "tests", "fixtures", "tokenizer", "bench_mixed.txt"))
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    with open(args.text, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(args.tokenizer)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ids = tok.encode(text, add_special_tokens=False).ids
    cold = time.perf_counter() - t0
    runs, t0 = 0, time.perf_counter()
    while True:
        tok.encode(text, add_special_tokens=False)
        runs += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= args.seconds and runs >= 3:
            break
    print(f"tokenizers {tokenizers.__version__}: {args.tokenizer} (loaded in {load * 1e3:.0f} ms)")
    print(f"text: {len(raw)} bytes -> {len(ids)} tokens ({len(raw) / len(ids):.2f} bytes/token)")
    print(f"encode, first pass:              {len(raw) / cold / 1e6:8.2f} MB/s  ({cold * 1e3:.2f} ms)")
    print(f"encode, repeated ({runs:4d} runs):   {len(raw) * runs / elapsed / 1e6:8.2f} MB/s  "
          f"({elapsed / runs * 1e3:.2f} ms per run)")


if __name__ == "__main__":
    main()
