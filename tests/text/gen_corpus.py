#!/usr/bin/env python3
"""Writes fixtures/corpus.json: the strings the tokenizer parity test encodes (deterministic)."""
import json
import random

base = [
    "Hello, world!", "Hello, my dog is cute", "  leading spaces", "trailing spaces   ", "tabs\tand\nnewlines\r\n",
    "I'm sure they'll say it's fine, we've seen you'd DONE IT'S", "don't STOP'LL 'Ve", "123 4567 89012345 3.14159 -42 1e10",
    "email@example.com https://example.org/path?q=1&x=2#frag", "C++ std::vector<int> v{1, 2, 3};",
    "def f(x):\n    return x ** 2  # square\n", "if (a && b || !c) { return; }", "\n\n\n", "     ", "",
    "中文分词测试：你好，世界！", "日本語のテキストです。カタカナとひらがな。", "한국어 텍스트", "Ελληνικά και Кириллица",
    "emoji 😀🎉👍🏽 and family 👨‍👩‍👧‍👦 and flags 🇫🇷🇯🇵", "combining e\u0301 vs \u00e9 and A\u030a", "ﬁ ligature and ① circled",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "<think>\nreasoning\n</think>\n\nanswer",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>", "text<|endoftext|>more", "<|im_start|><|im_end|>",
    "<|im_start", "im_start|>", "< |im_start| >", "mixed\u00a0nbsp\u2003em space", "zero\u200bwidth", "a" * 300,
    "ab" * 150, "!!!???...,,,;;;", "$$$ %%% ^^^ &&& ***", "\u0000 nul and \u0007 bell", "\t\t\tindented\n\t\t\t\tmore",
    "Straße groß ÄÖÜ äöü", "naïve café résumé coöperate", "ﾊﾝｶｸ half-width katakana", "१२३ देवनागरी", "عربي مع أرقام ١٢٣",
    "עברית", "ไทย ภาษา", "😀" * 20, "The year 2024 had 366 days.", "10,000,000.50 USD",
    "JSON: {\"a\": [1, 2, {\"b\": null}], \"c\": true}", "<div class=\"x\">&amp; &lt;tag&gt;</div>",
    "SELECT * FROM t WHERE id = 1;", "λx. x + 1", "∀ε>0 ∃δ>0: |x−a|<δ ⇒ |f(x)−f(a)|<ε", "     \n    \n  x",
    "word\n\n\nword", "end with newline\n", " space first", "  two spaces first", "a\r\nb\rc\nd",
]
rng = random.Random(1234)
ranges = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x4e00, 0x4fff), (0x3040, 0x30ff),
          (0xac00, 0xad00), (0x1f600, 0x1f64f), (0x2000, 0x206f), (0x600, 0x6ff)]
words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "token", "izer", "SGLang", "sglcpp",
         "inference", "server", "GPU", "CPU", "batch", "KV", "cache", "123", "4.5", "—", "…", "'s", "'re"]
corpus = list(base)
while len(corpus) < 360:
    kind = rng.random()
    if kind < 0.4:
        n = rng.randint(1, 30)
        s = "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(n))
    elif kind < 0.8:
        s = " ".join(rng.choice(words) for _ in range(rng.randint(1, 25)))
        s = s.replace(" ", rng.choice([" ", "  ", "\n", "\t", " "]), rng.randint(0, 3))
    else:
        s = "".join(rng.choice(["<|im_start|>", "<|im_end|>", "hi", " ", "\n", "<think>", "</think>", "😀", "x"])
                    for _ in range(rng.randint(1, 12)))
    corpus.append(s)
with open("fixtures/corpus.json", "w", encoding="utf-8") as f:
    json.dump(corpus, f, ensure_ascii=False, indent=0)
print(len(corpus), "strings")
