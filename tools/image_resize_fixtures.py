#!/usr/bin/env python3
# DEV-TIME fixture generator for the uint8 resize tests (tests/image/).
# Needs Python with Pillow, torch, torchvision, numpy, safetensors. Never run
# in CI; its output is committed:
#
#   /tmp/venv/bin/python tools/image_resize_fixtures.py
#
# writes tests/fixtures/image/resize_golden.safetensors holding, for a few
# crops of tests/fixtures/images/sample_224.png (rows r0:r1, cols c0:c1 as
# listed in the metadata; the PNG is lossless, so the test decodes and crops
# it itself) and target sizes that shrink, enlarge, or change one axis only:
#   pillow_bicubic.<case>   u8 [h, w, 3]  PIL.Image.resize((w, h), BICUBIC)
#   pillow_bilinear.<case>  u8 [h, w, 3]  PIL.Image.resize((w, h), BILINEAR)
#   torch_bicubic.<case>    u8 [h, w, 3]  torchvision resize(BICUBIC, antialias=True)
#                                         on the uint8 CHW tensor (CPU)
import json
from pathlib import Path

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from safetensors.numpy import save_file
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "tests/fixtures/images/sample_224.png"
OUT = ROOT / "tests/fixtures/image/resize_golden.safetensors"

# name: (row0, row1, col0, col1) crop of the source, (h, w) target
CASES = {
    "down": ((0, 224, 0, 224), (57, 83)),
    "width_only": ((50, 114, 60, 140), (64, 51)),
    "up": ((50, 114, 60, 140), (97, 113)),
    "height_only": ((50, 114, 60, 140), (150, 80)),
    "mixed": ((10, 190, 30, 90), (40, 140)),
}


def main():
    full = np.asarray(Image.open(SRC).convert("RGB"))
    out = {}
    for name, ((r0, r1, c0, c1), (h, w)) in CASES.items():
        src = np.array(full[r0:r1, c0:c1])
        im = Image.fromarray(src)
        out[f"pillow_bicubic.{name}"] = np.asarray(im.resize((w, h), Image.BICUBIC))
        out[f"pillow_bilinear.{name}"] = np.asarray(im.resize((w, h), Image.BILINEAR))
        chw = torch.from_numpy(src).permute(2, 0, 1).contiguous()
        r = F.resize(chw, [h, w], interpolation=InterpolationMode.BICUBIC, antialias=True)
        assert r.dtype == torch.uint8
        out[f"torch_bicubic.{name}"] = r.permute(1, 2, 0).contiguous().numpy()
    info = {"source": "tests/fixtures/images/sample_224.png", "cases": {k: [list(v[0]), list(v[1])] for k, v in CASES.items()},
            "pillow": PIL.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
            "generator": "tools/image_resize_fixtures.py"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, str(OUT), metadata={"fixture_info": json.dumps(info)})
    for name in CASES:
        pb = out[f"pillow_bicubic.{name}"].astype(int)
        tb = out[f"torch_bicubic.{name}"].astype(int)
        print(name, "->", pb.shape, "pillow vs torch bicubic: max", np.abs(pb - tb).max(),
              "frac", float((pb != tb).mean()))
    print("wrote", OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
