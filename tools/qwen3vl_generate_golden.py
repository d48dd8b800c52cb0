#!/usr/bin/env python3
# DEV-TIME check for tests/qwen3vl/test_generate_cli.c: what transformers
# 4.57.0 generates greedily for the prompt `vla generate` builds
#   vla generate --model-dir tests/fixtures/qwen3vl/tiny \
#       --tokenizer configs/tiny/tokenizer.json \
#       --image tests/fixtures/images/sample_224.png --max-new-tokens 8 "Describe this image."
# (Instruct chat template, one image block, unchanged 4B preprocessor bounds).
# Prints the prompt length, the new token ids and their decoded text; the
# test holds the text. Never run in CI.
#   /tmp/venv/bin/python tools/qwen3vl_generate_golden.py
import torch
from PIL import Image
from tokenizers import Tokenizer
from transformers import AutoImageProcessor, Qwen3VLForConditionalGeneration

MODEL = "tests/fixtures/qwen3vl/tiny"
IMAGE_PAD, IM_END, PAD = 2012, 2002, 2000

model = Qwen3VLForConditionalGeneration.from_pretrained(MODEL, dtype=torch.float32, attn_implementation="eager").eval()
proc = AutoImageProcessor.from_pretrained(MODEL)
tok = Tokenizer.from_file("configs/tiny/tokenizer.json")
feats = proc(images=[Image.open("tests/fixtures/images/sample_224.png")], return_tensors="pt")
n_image = int(feats["image_grid_thw"].prod()) // 4
text = ("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n"
        "<|im_start|>assistant\n")
ids = []
for i in tok.encode(text, add_special_tokens=False).ids:
    ids += [i] * (n_image if i == IMAGE_PAD else 1)
x = torch.tensor([ids])
with torch.no_grad():
    out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), pixel_values=feats["pixel_values"],
                         image_grid_thw=feats["image_grid_thw"], do_sample=False, max_new_tokens=8,
                         eos_token_id=[IM_END, PAD], pad_token_id=PAD)
new = out[0, x.shape[1]:].tolist()
print("prompt tokens:", len(ids))
print("new tokens:", new)
print("text:", repr(tok.decode(new, skip_special_tokens=False)))
