#!/usr/bin/env python3
"""Writes fixtures/metaspace/: a small SentencePiece-style BPE tokenizer in the newer layout
(Mistral v0.3 / Llama converted with legacy=False): no normalizer, a `Metaspace` pre-tokenizer
with prepend_scheme "first", byte_fallback, Replace/ByteFallback/Fuse/Strip decoders, and added tokens inside the text
(so "first" only prepends to the text's first section). Whitespace-run tokens (▁▁, ▁▁▁▁) make
space runs matter. Reference ids come from transformers.js:
  python3 gen_metaspace_tokenizer.py
  (cd ../node && node tokenize_fixtures.mjs --tokenizer ../text/fixtures/metaspace \
      ../text/fixtures/metaspace/corpus.json ../text/fixtures/metaspace/reference.json)"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The tokenizer files are generated (at CMake configure time into the build tree), not committed.
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures", "metaspace")
SP = "\u2581"

vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    vocab["<0x%02X>" % b] = len(vocab)
for ch in [SP] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("ABHTW.,!?:'0123456789é你好"):
    vocab.setdefault(ch, len(vocab))
merge_list = [(SP, SP), (SP + SP, SP + SP), (SP, "t"), ("h", "e"), (SP + "t", "he"), ("i", "n"), (SP, "a"),
              ("e", "r"), ("o", "n"), (SP, "s"), ("a", "t"), ("e", "n"), (SP + "a", "n"), (SP + "an", "d"),
              ("in", "g"), ("o", "r"), (SP, "w"), ("l", "l"), ("e", "s"), (SP, "i"), (SP + "i", "s"),
              ("r", "e"), (SP, "h"), ("e", "l"), ("el", "l"), (SP + "h", "ell"), (SP + "hell", "o"),
              ("你", "好"), (SP, "你好"), (SP, "H"), (SP + "H", "e"), ("u", "s"), ("us", "er"), (SP, "w"),
              (SP + "w", "or"), (SP + "wor", "l"), (SP + "worl", "d")]
merges = []
for a, b in merge_list:
    vocab.setdefault(a, len(vocab))
    vocab.setdefault(b, len(vocab))
    vocab.setdefault(a + b, len(vocab))
    if [a, b] not in merges:
        merges.append([a, b])
specials = [("<unk>", 0), ("<s>", 1), ("</s>", 2)]
extra = ["[INST]", "[/INST]"]
for e in extra:
    specials.append((e, len(vocab)))
    vocab[e] = len(vocab)

tok = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for c, i in specials],
    "normalizer": None,
    "pre_tokenizer": {"type": "Metaspace", "replacement": SP, "prepend_scheme": "first", "split": False},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                       "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    # What transformers' LlamaConverter writes for legacy=False checkpoints.
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": SP}, "content": " "},
                                                 {"type": "ByteFallback"}, {"type": "Fuse"},
                                                 {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
              "vocab": vocab, "merges": merges},
}
config = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
          "add_bos_token": True, "add_eos_token": False, "legacy": False}
corpus = ["the thing", "Hello world", "hello", "and is what it is", "  two spaces", "    four spaces",
          "a     five", "trailing  ", "naïve é 你好 emoji 😀", "Straße ß", "x", "1234 5.6!", "ab\ncd\ttab",
          "the the the", "singing and swinging", "café", "你好你好", "🎉🎉", "[INST] hello [/INST] the end",
          "[INST]the user[/INST]", "user said: hello world", "<s>the</s>", " leading", "W,H.T!",
          "mixed 你好 and the end", "a", "tthhee", "'quoted' \"double\"", "", "   "]
os.makedirs(OUT, exist_ok=True)
json.dump(tok, open(os.path.join(OUT, "tokenizer.json"), "w"), ensure_ascii=False)
json.dump(config, open(os.path.join(OUT, "tokenizer_config.json"), "w"))
json.dump(corpus, open(os.path.join(OUT, "corpus.json"), "w"), ensure_ascii=False)
print(len(vocab), "tokens,", len(merges), "merges,", len(corpus), "strings")
