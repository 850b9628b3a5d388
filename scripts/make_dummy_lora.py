#!/usr/bin/env python3
"""Writes a random PEFT LoRA adapter for a model *shape* (a config.json or a conf/models preset), for
benchmarks on --load-format dummy models where no real adapter exists:

    scripts/make_dummy_lora.py conf/models/qwen3-0.6b.json /tmp/lora0 --rank 16 --seed 0

The files are what PEFT's save_pretrained writes (adapter_config.json, adapter_model.safetensors in
bf16) targeting all seven projections (attention only on MoE layers). Values are small random numbers:
they change nothing that matters to a benchmark, which measures bytes and FLOPs.
"""
import argparse
import json
import os
import struct

import numpy as np


def bf16_bytes(a):
    u = np.asarray(a, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16).tobytes()


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (shape, data) in tensors.items():
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--alpha", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    cfg = json.load(open(args.config))
    cfg = cfg.get("text_config", cfg)
    h, layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads", heads)
    d = cfg.get("head_dim") or h // heads
    inter = cfg.get("intermediate_size", 0)
    experts = cfg.get("num_experts", 0) or 0
    step = cfg.get("decoder_sparse_step", 1) or 1
    mlp_only = set(cfg.get("mlp_only_layers", []) or [])
    shapes = {"q_proj": (heads * d, h), "k_proj": (kv * d, h), "v_proj": (kv * d, h), "o_proj": (h, heads * d),
              "gate_proj": (inter, h), "up_proj": (inter, h), "down_proj": (h, inter)}
    rng = np.random.default_rng(args.seed)
    r = args.rank
    tensors = {}
    for l in range(layers):
        moe = experts > 0 and l not in mlp_only and (l + 1) % step == 0
        for mod, (out, inp) in shapes.items():
            block = "self_attn" if mod in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
            if block == "mlp" and (moe or inter == 0):
                continue
            base = f"base_model.model.model.layers.{l}.{block}.{mod}"
            a = rng.uniform(-1, 1, (r, inp)) / np.sqrt(inp)
            b = rng.uniform(-0.01, 0.01, (out, r))
            tensors[base + ".lora_A.weight"] = ((r, inp), bf16_bytes(a))
            tensors[base + ".lora_B.weight"] = ((out, r), bf16_bytes(b))
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "adapter_model.safetensors"), tensors)
    targets = [m for m in shapes if inter > 0 or m.endswith(("q_proj", "k_proj", "v_proj", "o_proj"))]
    adapter_config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r,
                      "lora_alpha": args.alpha if args.alpha is not None else r, "lora_dropout": 0.0,
                      "target_modules": targets, "bias": "none", "use_rslora": False, "use_dora": False,
                      "base_model_name_or_path": os.path.basename(args.config).removesuffix(".json"),
                      "fan_in_fan_out": False, "modules_to_save": None}
    with open(os.path.join(args.out, "adapter_config.json"), "w") as f:
        json.dump(adapter_config, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
