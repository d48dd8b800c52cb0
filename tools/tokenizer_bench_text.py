#!/usr/bin/env python3
"""Compose tests/fixtures/tokenizer/bench_mixed.txt: about 100 KB of
mixed-script text for `vla bench tokenizer` (and tools/tokenizer_bench_hf.py).

The text is assembled with a fixed seed from short phrases written for this
project (robot instructions, prose, code, numbers, emoji) in English, Chinese,
Japanese, Korean, Arabic, Hindi, Thai, Russian, Greek, Vietnamese, German and
French, with invented words and numbers mixed in so that the piece cache does
not see only repeats.

usage: tools/tokenizer_bench_text.py [--out tests/fixtures/tokenizer/bench_mixed.txt] [--kb 100]
"""
import argparse
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PHRASES = {
    "en": ["put the spoon on the towel", "pick up the black bowl and place it on the plate",
           "the gripper closes slowly around the red cup", "open the middle drawer of the cabinet",
           "We'll move the arm 12 cm to the left, then rotate it by 30 degrees.",
           "It's important that the robot doesn't drop the eggplant!", "Are you sure? I'd say it's fine.",
           "The quick brown fox jumps over the lazy dog"],
    "zh": ["把勺子放在毛巾上", "机器人慢慢地抓起红色的杯子", "请打开柜子中间的抽屉", "今天的实验一共进行了三十七次",
           "视觉语言动作模型需要准确的分词"],
    "ja": ["スプーンをタオルの上に置いてください", "ロボットアームがゆっくりと動きます", "引き出しを開けて、中のものを取り出す",
           "今日は晴れています。", "カップは机の左側にあります"],
    "ko": ["수건 위에 숟가락을 놓으세요", "로봇 팔이 천천히 움직입니다", "서랍을 열고 컵을 꺼내세요", "오늘 실험은 성공적이었습니다"],
    "ar": ["ضع الملعقة على المنشفة", "يتحرك الذراع الآلي ببطء نحو الكوب الأحمر", "افتح الدرج الأوسط من الخزانة",
           "النموذج يتعلم من البيانات"],
    "hi": ["चम्मच को तौलिये पर रखें", "रोबोट की बांह धीरे-धीरे चलती है", "अलमारी की बीच वाली दराज खोलें", "आज मौसम अच्छा है।"],
    "th": ["วางช้อนบนผ้าขนหนู", "แขนหุ่นยนต์เคลื่อนที่ช้าๆ", "เปิดลิ้นชักตรงกลางของตู้", "วันนี้อากาศดีมาก"],
    "ru": ["Положите ложку на полотенце", "Рука робота медленно движется к красной чашке",
           "Откройте средний ящик шкафа", "Сегодня мы провели 42 эксперимента."],
    "el": ["Βάλε το κουτάλι πάνω στην πετσέτα", "Ο βραχίονας κινείται αργά", "Άνοιξε το μεσαίο συρτάρι"],
    "vi": ["Đặt cái thìa lên khăn tắm", "Cánh tay robot di chuyển chậm rãi", "Mở ngăn kéo ở giữa tủ"],
    "de": ["Lege den Löffel auf das Handtuch", "Der Greifarm bewegt sich langsam über die Straße",
           "Öffne die mittlere Schublade des Schranks"],
    "fr": ["Pose la cuillère sur la serviette", "Le bras du robot se déplace lentement vers la tasse",
           "Ouvre le tiroir du milieu, s'il te plaît."],
    "code": ["def step(obs):\n    return policy(obs['image'], obs['state'])\n",
             "for (int i = 0; i < n; i++) { acc += x[i] * w[i]; }", '{"action": [0.1, -0.25, 0.5], "ok": true}',
             "https://example.org/robots/arm?id=42&mode=fast", "x = np.clip(x, -1.0, 1.0)  # normalise"],
    "emoji": ["🤖👍", "🔍🔍🔍🔍", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️🔥", "😀😃😄", "👋🏽", "🇯🇵🇫🇷"],
}
SYLLABLES = ["ka", "lo", "mi", "ren", "tsu", "vo", "zha", "pil", "dor", "ny", "qua", "sel", "ob", "ix", "und"]


def invented(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def sentence(rng):
    lang = rng.choice(list(PHRASES))
    s = rng.choice(PHRASES[lang])
    r = rng.random()
    if r < 0.25:
        s += f" {rng.randint(0, 99999)}"
    elif r < 0.45:
        s += f" ({invented(rng)} {rng.uniform(-1, 1):.3f})"
    elif r < 0.55:
        s = s.upper() if lang in ("en", "de", "fr", "ru", "el") else s
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "tokenizer", "bench_mixed.txt"))
    ap.add_argument("--kb", type=int, default=100)
    args = ap.parse_args()
    rng = random.Random(20251121)
    parts, size = [], 0
    while size < args.kb * 1024:
        para = " ".join(sentence(rng) for _ in range(rng.randint(3, 8)))
        sep = rng.choice(["\n", "\n\n", "\n\n", "  \n", "\r\n", "\t"])
        parts.append(para + sep)
        size += len((para + sep).encode())
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write("".join(parts))
    print(f"{args.out}: {size} bytes")


if __name__ == "__main__":
    main()
