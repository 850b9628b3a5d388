#!/usr/bin/env python3
"""Writes fixtures/sp/tokenizer.json: a small SentencePiece-style BPE tokenizer (Llama 2 layout:
Prepend/Replace normalizers, byte_fallback, ByteFallback/Fuse/Strip decoders) and its corpus.
Reference ids come from transformers.js (tests/node/tokenize_fixtures.mjs --tokenizer)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The tokenizer files are generated (at CMake configure time into the build tree), not committed.
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures", "sp")
SP = "\u2581"

vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    vocab["<0x%02X>" % b] = len(vocab)
for ch in [SP] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("ABCTHI.,!?'0123456789é中文"):
    vocab.setdefault(ch, len(vocab))
merge_list = [(SP, "t"), ("h", "e"), (SP + "t", "he"), ("i", "n"), (SP, "a"), ("e", "r"), ("o", "n"),
              (SP, "s"), ("a", "t"), ("e", "n"), (SP + "a", "n"), (SP + "an", "d"), ("in", "g"), ("o", "r"),
              (SP, "w"), ("l", "l"), ("e", "s"), (SP, "i"), (SP + "i", "s"), ("r", "e"), (SP, "h"),
              ("e", "l"), ("el", "l"), (SP + "h", "ell"), (SP + "hell", "o"), ("中", "文"), (SP, "中文"),
              (SP, "T"), (SP + "T", "he")]
merges = []
for a, b in merge_list:
    vocab.setdefault(a, len(vocab))
    vocab.setdefault(b, len(vocab))
    vocab.setdefault(a + b, len(vocab))
    merges.append([a, b])

tok = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for c, i in [("<unk>", 0), ("<s>", 1), ("</s>", 2)]],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": SP},
                                                       {"type": "Replace", "pattern": {"String": " "}, "content": SP}]},
    "pre_tokenizer": None,
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                       "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": SP}, "content": " "},
                                                 {"type": "ByteFallback"}, {"type": "Fuse"},
                                                 {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
              "vocab": vocab, "merges": merges},
}
config = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
          "add_bos_token": True, "legacy": True}
corpus = ["the thing", "The hello world", "hello", "and is what it is", "  two spaces", "trailing ",
          "naïve é 中文 emoji 😀", "ünïcödé bytes ß", "THE HELLO", "x", "1234 5.6!", "ab\ncd\ttab",
          "the the the", "singing and swinging", "café", "你好世界", "🎉🎉", "mixed 中文 and the end",
          "a", "Hello, World!", "tthhee", "'quoted' \"double\""]
os.makedirs(OUT, exist_ok=True)
json.dump(tok, open(os.path.join(OUT, "tokenizer.json"), "w"), ensure_ascii=False)
json.dump(config, open(os.path.join(OUT, "tokenizer_config.json"), "w"))
json.dump(corpus, open(os.path.join(OUT, "corpus.json"), "w"), ensure_ascii=False)
print(len(vocab), "tokens,", len(merges), "merges,", len(corpus), "strings")
