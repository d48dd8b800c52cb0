#!/usr/bin/env python3
"""Write tests/fixtures/tokenizer/golden.json from the reference libraries
(development time only; the C tests never need Python).

- Token ids and decodes from Hugging Face `tokenizers` for >= 200 strings that
  stress the Qwen2 pre-tokenizer regex, on the real Qwen tokenizer.json and on
  configs/tiny/tokenizer.json. Invalid UTF-8 inputs are stored as hex; their
  expected ids are HF's for bytes.decode("utf-8", "replace") (a Python string
  cannot hold invalid UTF-8), which is the replacement rule the C tokenizer uses.
- Full StarVLA prompts: the instruction is built the way StarVLA builds it
  (state2str_transform and add_discretized_state_to_instruction from
  starVLA/model/framework/share_tools.py, QwenOFT's suffix f-string from
  starVLA/model/framework/VLM4A/QwenOFT.py, the CoT_prompt replace from
  starVLA/model/modules/vlm/QWen3.py build_qwenvl_inputs, all at
  github.com/starVLA/starVLA 0ed0aad), then transformers 4.57.0's Qwen3-VL
  AutoProcessor renders the chat template and expands the image tokens.
- State-text vectors from numpy.digitize with StarVLA's formula.

usage: tools/tokenizer_fixtures.py [--shared ../shared] [--out tests/fixtures/tokenizer/golden.json]
"""
import argparse
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import tokenizers
import transformers
from PIL import Image
from tokenizers import Tokenizer

from tokenizer_tiny import tiny_tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QWEN_SHA256 = "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"

BRIDGE = [
    "put the spoon on the towel",
    "put carrot on plate",
    "stack the green block on the yellow block",
    "put eggplant into yellow basket",
    "Put the spoon on the towel.",
    "pick coke can",
    "move near",
    "open top drawer",
    "close bottom drawer",
    "place apple into top drawer",
    "put the corn on the dish rack",
    "flip pot upright which is in sink",
]
LIBERO = [
    "put both the alphabet soup and the tomato sauce in the basket",
    "turn on the stove and put the moka pot on it",
    "pick up the black bowl between the plate and the ramekin and place it on the plate",
    "open the middle drawer of the cabinet",
    "put the bowl on the stove",
    "push the plate to the front of the stove",
    "LIVING ROOM SCENE2 put both the alphabet soup and the cream cheese box in the basket",
    "put the white mug on the left plate and put the yellow and white mug on the right plate",
    "KITCHEN_SCENE3_turn_on_the_stove_and_put_the_moka_pot_on_it",
]
OXE_COT = ("Your task is {instruction}. To identify the key objects for your task. "
           "Locate their bounding boxes in [x1,y1,x2,y2] format.")

TEXTS = [
    # plain text and punctuation
    "", " ", "  ", "\n", "Hello world", "Hello, world!", "hello", " hello", "Hello", "HELLO",
    "The quick brown fox jumps over the lazy dog.", "a.b,c;d:e", "(hello)", "[x1,y1,x2,y2]",
    "...", "!!!!!!", "?!", "--foo--", "foo_bar-baz", "e-mail: a@b.co", "#include <stdio.h>",
    "https://github.com/starVLA/starVLA/blob/main/README.md",
    '{"a": [1, 2, {"b": null}]}', "C:\\path\\to\\file.txt", "x**2 + y**2 == z**2",
    "def f(x):\n    return x**2\n", "\tindented\n\t\tcode\n", "if (a && b) { return -1; }",
    # contractions in several cases
    "I'm", "you're", "WE'RE", "They'LL", "it'S", "don't", "DON'T", "she'd", "I'M", "'Ve", "'vE",
    "'s", "''s", "he's'", "it's 'quoted'", "rock'n'roll", "O'Neil's", "y'all'd've",
    "he'\u017f",  # long s: HF's case-insensitive (?i:'s) does not fold it
    "'S'T'RE'VE'M'LL'D", " 's", "x 'll",
    # digits
    "0", "12345", "3.14159", "1,000,000", "2025-11-21", "v1.2.3", "abc123def", "123abc",
    "\u0663\u0664\u0665", "\u0967\u0968\u0969", "\u2460\u2461", "\u216b", "\u00bd", "x\u00b2",
    "\uff11\uff12\uff13", "9" * 40,
    # whitespace runs
    "a  b", "a   b", "a    b", "  leading", "trailing  ", "trailing ", "\t\tx", "a\tb", "a\t\tb",
    "a\n\nb", "a\r\nb", "\r\n\r\n", "\r", "\r\r\n", " \n ", "\n \n", "a \n b", "   ", "\t", "\n\n\n",
    "a \t b", "x   \n\n   y", "   !!!", "\n\n\n   foo", "foo\n", "foo \n", "foo\n ", "foo  \n  bar",
    " " * 33 + "x", "\t \t \tx", "end.   ", "end.\n\n", "\u00a0x", "a\u00a0\u00a0b", "\u3000x",
    "a\u2028b", "a\u2029b", "a\u0085b", "x\u180ey", "!\u180e", "a\u180e\u180e b", "\x0b\x0c",
    "a\u2003b", "a\u200ab", "a\u202f\u205fb",
    # The probe of a code-point sweep against `tokenizers`: PCRE2's own \s
    # would take U+180E here, Oniguruma's (Unicode White_Space) does not.
    *[f"{c} a{c}{c}1 {c}!{c}\n{c}  {c}x" for c in "\u180e\u3000\u00a0\u0085\u2028\u200b\u1680\x1c"],
    # mixed scripts
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!", "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
    "\u10d2\u10d0\u10db\u10d0\u10e0\u10ef\u10dd\u10d1\u10d0", "Hello\u4e16\u754c123\u0645\u0631\u062d\u0628\u0627",
    "\u673a\u5668\u4eba\u628a\u52fa\u5b50\u653e\u5728\u6bdb\u5dfe\u4e0a", "\u30ed\u30dc\u30c3\u30c8\u30a2\u30fc\u30e0",
    "C\u1eeda Vi\u1ec7t", "\u00e7a va? tr\u00e8s bien", "Stra\u00dfe \u00fcber \u00c4pfel",
    "\u0627\u0644\u0631\u0648\u0628\u0648\u062a 123 \u064a\u0636\u0639",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u0914\u0930 English \u092e\u093f\u0932\u093e\u0915\u0930",
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22\u0e21\u0e35\u0e27\u0e23\u0e23\u0e13\u0e22\u0e38\u0e01\u0e15\u0e4c",
    "\u1780\u1798\u17d2\u1796\u17bb\u1787\u17b6", "\u0f56\u0f7c\u0f51\u0f0b\u0f61\u0f72\u0f42",
    "\U0001d54f\U0001d550\U0001d551", "\u2200x\u2208\u211d: x\u00b2\u22650",
    # emoji: ZWJ sequences, skin tones, flags, variation selectors, the placeholder
    "\U0001f600", "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308", "\u2764\ufe0f", "\U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5",
    "\U0001f636\u200d\U0001f32b\ufe0f", "\U0001f469\U0001f3fe\u200d\U0001f4bb", "hi \U0001f44b\U0001f3fb!",
    "\U0001f50d", "\U0001f50d" * 8, " \U0001f50d", "\U0001f50d \U0001f50d", "a\U0001f50db",
    "<action>" + "\U0001f50d" * 16 + "<action>.", "\U0001f916 robot", "\u263a\ufe0e",
    # NFC changes these
    "e\u0301", "caf\u0065\u0301", "A\u030a", "\u212b", "\u2126", "\u1e9b\u0323", "\u1100\u1161\u11a8",
    "a\u0323\u0301", "a\u0301\u0323", "\u0958", "Vie\u0323\u0302t Nam", "n\u0303o\u0301", "\ufb01le",
    "\u0041\u0308\u0304", "\u00c5ngstr\u00f6m vs A\u030angstro\u0308m", "\u0301", "x\u0301\u0301\u0301",
    "\u0915\u093c", "\u30ab\u3099", "\uac00\u11a8",
    # special and added tokens in text
    "Hello<|im_end|>world", "<|im_start|>user\nhi<|im_end|>", "<|endoftext|><|endoftext|>",
    "a<|image_pad|><|image_pad|>b", "<|vision_start|><|image_pad|><|vision_end|>",
    "<|im_start|", "<|im_start|>>", "< |im_start|>", "<|IM_START|>", "<<|im_start|>",
    "<think>reasoning</think>", "<think>\n\n</think>\n\n", "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<|fim_prefix|>def<|fim_suffix|>x<|fim_middle|>", "<thin", "<think", "</think",
    "text <|vision_pad|> <|video_pad|> <|box_start|>(1,2)<|box_end|>",
    " <|im_end|> ", "\n<|im_end|>\n", "<|object_ref_start|>cup<|object_ref_end|>",
    "<tool_response>ok</tool_response>", "<|repo_name|>x<|file_sep|>y",
    # control and unusual characters
    "\x00", "a\x00b", "\x01\x7f", "\ufeffBOM", "zero\u200bwidth", "\u200d", "\ue000", "\U0010ffff",
    "\ufffd", "\ufffd\ufffd", "\x1c\x1d\x1e\x1f", "tab\x0bvt",
    # long runs
    "a" * 200, "=" * 100, "ab" * 150, "Supercalifragilisticexpialidocious",
    "Donaudampfschifffahrtsgesellschaftskapit\u00e4n", "\u00e9" * 60, " " * 200, "\n" * 50,
    ". " * 40, "\u4e00" * 80,
    # robot instructions
    *BRIDGE, *LIBERO,
    *[OXE_COT.replace("{instruction}", i) for i in BRIDGE[:3]],
    "put the spoon on the towel [STATE] 0 127 128 255 -1 [ACTION]",
    "pick up the ketchup [STATE] 12 200 3 45 99 254 7 128 [ACTION] Please predict the next 8 robot "
    "actions: <action>" + "\U0001f50d" * 8 + "<action>.",
]

# Boundary coverage: left token + separator + right token.
_LEFT = ["word", "Word", "123", "!?", "\u4f60\u597d", "\U0001f50d", "'s", "<|im_end|>", "caf\u00e9"]
_SEPS = ["", " ", "  ", "\t", "\n", "\r\n", " \n", "\n ", "   \n\n"]
_RIGHT = ["next", "Next", "42", "...", "\u0645\u0631\u062d\u0628\u0627", "'ll"]
PAIRS = [a + s + b for a in _LEFT for s in _SEPS for b in _RIGHT]

INVALID = [
    b"\xff", b"abc\x80def", b"\xe2\x82", b"\xe2\x82 x", b"\xed\xa0\x80", b"\xed\xb0\x80x",
    b"\xf0\x9f\x98", b"\xf0\x9f\x98 ok", b"\xc0\xaf", b"\xc1\xbf", b"\xf4\x90\x80\x80", b"\xe0\x80\x80",
    b"\xe0\x9f\xbf", b"\xf0\x80\x80\x80", b"\xf5\x80", b"\xfe\xff", b"a\xc3", b"\xc3(", b"\x80\x80\x80",
    b"put the \xffspoon\xfe on the towel", b"\xf0\x9f\x94\x8d\xf0\x9f\x94", b"<|im_start|>\xff<|im_end|>",
    b"e\xcc\x81\xcc", b"\xe4\xbd\xa0\xe5\xa5",
]


VARIANT_TEXTS = [
    "put the robot on the towel", " robot robots", "caf\u00e9 and cafe\u0301 <ACT>x<ACT>", "e\u0301x ex \u00e9x",
    "\u00f1and\u00fa \u00f1and\u00fa!", "x xx xxx axbxc", "{a}{b}", "a{b", "{{{", "Hello, world!\n\n  end  ",
    "I'm here's 123", "\u4f60\u597d \U0001f50d", "<|im_start|>user\nhi<|im_end|>", "", "  \t\n",
]


def variants(qwen):
    """Small tokenizers that switch on the options Qwen's file leaves off."""
    base = tiny_tokenizer(qwen, 400)
    nxt = 400 + len(base["added_tokens"])

    def clone(**top):
        v = json.loads(json.dumps(base))
        v.update(top)
        return v

    out = {}
    v = clone()
    v["model"]["ignore_merges"] = True
    v["model"]["vocab"]["\u0120robot"] = 400  # reachable only as a whole word
    for a in v["added_tokens"]:
        a["id"] += 1
    out["ignore_merges"] = v
    v = clone()
    v["added_tokens"] += [
        {"id": nxt, "content": "caf\u00e9", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
        {"id": nxt + 1, "content": "<ACT>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True},
        {"id": nxt + 2, "content": "\u00f1and\u00fa", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False},
        {"id": nxt + 3, "content": "e\u0301x", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
    ]
    out["added_tokens_normalized"] = v
    out["no_normalizer"] = clone(normalizer=None)
    out["no_split"] = clone(pre_tokenizer={"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                                           "use_regex": False})
    v = clone()
    v["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "x*"
    out["empty_matches"] = v
    # Also a hole in the ids: HF then numbers the added tokens from the
    # vocabulary's entry count, not from the ids written in the file.
    v = clone()
    del v["model"]["vocab"]["{"]
    v["model"]["merges"] = [m for m in v["model"]["merges"] if "{" not in m]
    out["missing_byte"] = v
    v = clone()
    v["model"]["merges"].append(v["model"]["merges"][0])  # a repeated pair takes its last rank
    out["duplicate_merge"] = v
    return out


def state2str(state, num_bins=256):
    """StarVLA share_tools.state2str_transform (a formula, copied)."""
    discretized_state = np.digitize(state, bins=np.linspace(-1, 1, num_bins + 1)[:-1]) - 1
    return " ".join(map(str, discretized_state))


def add_state(instruction, state, num_bins=256):
    """StarVLA share_tools.add_discretized_state_to_instruction for one example."""
    return f"{instruction} [STATE] {state2str(state, num_bins)} [ACTION]"


def oft_suffix(chunk_len):
    """QwenOFT.predict_action's prompt suffix."""
    action_tokens = "\U0001f50d" * chunk_len
    return f" Please predict the next {chunk_len} robot actions: <action>{action_tokens}<action>."


def case(tok, text=None, raw=None):
    s = raw.decode("utf-8", "replace") if raw is not None else text
    ids = tok.encode(s, add_special_tokens=False).ids
    out = {"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)}
    if raw is not None or "\x00" in s:
        out["hex"] = (raw if raw is not None else s.encode()).hex()
    else:
        out["text"] = s
    return out


def processor_dir(shared, tmp):
    for f in ["chat_template.json", "config.json", "generation_config.json", "preprocessor_config.json",
              "tokenizer_config.json", "video_preprocessor_config.json"]:
        shutil.copy(os.path.join(shared, "qwen3-vl-4b-instruct", f), tmp)
    for f in ["tokenizer.json", "vocab.json", "merges.txt"]:
        shutil.copy(os.path.join(shared, "qwen-tokenizer", f), tmp)
    return transformers.AutoProcessor.from_pretrained(tmp)


LIBERO_STATE = [0.1, -0.25, 0.999, -1.0, 0.0, 0.5, -0.99, 1.0]
PROMPTS = [
    # name, preset, overrides, instruction, state, images (h, w)
    ("pi_v3_bridge_cot_1img", "QwenPI_v3", {"datasets.vla_data.CoT_prompt": OXE_COT},
     "put the spoon on the towel", None, [(224, 224)]),
    ("pi_v3_state_1img", "QwenPI_v3", {}, "pick up the black bowl", [0.1, -0.5, 0.8, 1.0, -1.0, 0.0, 0.3],
     [(224, 224)]),
    ("pi_v3_state_cot_2img", "QwenPI_v3", {"datasets.vla_data.CoT_prompt": OXE_COT},
     "open the middle drawer of the cabinet", [-1.5, 1.5, -0.99, 0.999, 0.0, 0.25, -0.75], [(224, 224), (224, 224)]),
    ("oft_libero_cot_2img", "QwenOFT", {"datasets.vla_data.CoT_prompt": OXE_COT},
     LIBERO[0], None, [(224, 224), (224, 224)]),
    ("oft_libero_state_cot_2img", "QwenOFT", {"datasets.vla_data.CoT_prompt": OXE_COT},
     LIBERO[1], LIBERO_STATE, [(224, 224), (224, 224)]),
    ("oft_h16_state_1img", "QwenOFT", {"framework.action_model.action_horizon": 16},
     "put carrot on plate", [0.0] * 7, [(224, 224)]),
    ("oft_unicode_instr", "QwenOFT", {}, "put the caf\u00e9 cup by the \U0001f50d lens", None, [(224, 224)]),
    ("pi_no_state_no_image", "QwenPI", {}, "move near", None, []),
    ("pi_3img_480x640_cot", "QwenPI", {"datasets.vla_data.CoT_prompt": OXE_COT}, "pick coke can", None,
     [(480, 640), (375, 500), (224, 224)]),
    ("pi_v3_cot_twice", "QwenPI_v3", {"datasets.vla_data.CoT_prompt": "Task: {instruction}. Again: {instruction}!"},
     "stack the cups", [0.5], [(224, 224)]),
    ("pi_v3_empty_cot", "QwenPI_v3", {"datasets.vla_data.CoT_prompt": ""}, "ignored instruction", None,
     [(224, 224)]),
]
PRESET_STATE = {"QwenPI_v3": True, "QwenOFT": True, "QwenPI": False}
PRESET_HORIZON = {"QwenOFT": 8}


def prompt_case(proc, name, preset, overrides, instruction, state, images):
    text = instruction
    if state is not None and PRESET_STATE[preset]:
        text = add_state(text, np.asarray(state, dtype=np.float32))
    if preset == "QwenOFT":
        text += oft_suffix(overrides.get("framework.action_model.action_horizon", PRESET_HORIZON[preset]))
    if "datasets.vla_data.CoT_prompt" in overrides:
        text = overrides["datasets.vla_data.CoT_prompt"].replace("{instruction}", text)
    rng = np.random.default_rng(0)
    pics = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in images]
    content = [{"type": "image", "image": p} for p in pics] + [{"type": "text", "text": text}]
    messages = [{"role": "user", "content": content}]
    rendered = proc.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    out = proc.apply_chat_template(messages, tokenize=True, padding=True, add_generation_prompt=True,
                                   return_dict=True, return_tensors="pt")
    grid = out["image_grid_thw"].tolist() if images else []
    return {
        "name": name, "preset": preset, "overrides": overrides, "instruction": instruction, "state": state,
        "images": [list(hw) for hw in images], "image_tokens": [t * h * w // 4 for t, h, w in grid],
        "text": rendered, "ids": out["input_ids"][0].tolist(),
    }


STATE_VECTORS = [
    [-1.0, -0.99, 0.0, 0.999, 1.0, 1.5, -1.5],
    [-1.0000001, -0.9921875, -0.9921874, 0.9921875, 0.99218744, 0.9999999, 1.0000001],
    [0.5, -0.5, 0.1, 0.8, 0.25, -0.25, 0.0078125, -0.0078125, 1e-8, -1e-8],
    [100.0, -100.0, 3.4e38, -3.4e38, 0.49999997, 0.50000006],
    [0.0],
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "tokenizer", "golden.json"))
    args = ap.parse_args()
    qwen_path = os.path.join(args.shared, "qwen-tokenizer", "tokenizer.json")
    with open(qwen_path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == QWEN_SHA256, "unexpected Qwen tokenizer.json"
    qwen = Tokenizer.from_file(qwen_path)
    tiny = Tokenizer.from_file(os.path.join(ROOT, "configs", "tiny", "tokenizer.json"))

    texts = list(dict.fromkeys(TEXTS + PAIRS))
    cases = [case(qwen, text=t) for t in texts] + [case(qwen, raw=b) for b in INVALID]
    tiny_cases = [case(tiny, text=t) for t in texts[::3]] + [case(tiny, raw=b) for b in INVALID[::4]]
    placeholder = qwen.encode("\U0001f50d", add_special_tokens=False).ids
    with open(qwen_path, encoding="utf-8") as f:
        qwen_json = json.load(f)
    variant_list = []
    for name, tj in variants(qwen_json).items():
        vt = Tokenizer.from_str(json.dumps(tj))
        variant_list.append({"name": name, "tokenizer": tj, "cases": [case(vt, text=t) for t in VARIANT_TEXTS]})

    with tempfile.TemporaryDirectory() as tmp:
        proc = processor_dir(args.shared, tmp)
        prompts = [prompt_case(proc, *p) for p in PROMPTS]

    states = [{"state": v, "bins": 256, "text": state2str(np.asarray(v, dtype=np.float32))} for v in STATE_VECTORS]
    states.append({"state": STATE_VECTORS[0], "bins": 8, "text": state2str(np.asarray(STATE_VECTORS[0], np.float32), 8)})
    states.append({"state": STATE_VECTORS[2], "bins": 255, "text": state2str(np.asarray(STATE_VECTORS[2], np.float32), 255)})

    golden = {
        "generator": "tools/tokenizer_fixtures.py",
        "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                     "numpy": np.__version__},
        "qwen_tokenizer_sha256": QWEN_SHA256,
        "placeholder_ids": placeholder,
        "cases": cases,
        "tiny_cases": tiny_cases,
        "variants": variant_list,
        "prompts": prompts,
        "state_text": states,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"{args.out}: {len(cases)} qwen cases, {len(tiny_cases)} tiny cases, {len(prompts)} prompts, "
          f"{len(states)} state vectors; placeholder ids {placeholder}")


if __name__ == "__main__":
    main()
