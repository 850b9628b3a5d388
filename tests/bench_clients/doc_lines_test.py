"""SGLang-JAX's documented benchmark command lines (data/sgljax_bench_doc_lines.tsv: every
bench_serving / bench_one_batch_server / bench_one_batch line of its docs, with the commit and the
source of each) run with sglcpp's tools against a server on tiny-qwen3 (issue 27).

What is changed in a line, and only that: `python -m sgl_jax.<tool>` becomes our binary; model and
tokenizer paths (local or Hugging Face ids) become the tiny model; host, port and base URL become
the test server's; shell placeholders get small values; the workload is scaled down (at most 8
prompts, 128 input and 16 output tokens, concurrency kept) so that CI can afford 22 runs; lines
that read ShareGPT (SGLang-JAX downloads it) get a local file; `--device tpu` lines are reported,
not run. Every flag and every other value stays as documented.

usage: doc_lines_test.py BIN_DIR MODEL BASE_URL TSV"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

BIN, MODEL, BASE, TSV = sys.argv[1:5]
BIN, MODEL = os.path.abspath(BIN), os.path.abspath(MODEL)
HOST, PORT = re.match(r"http://([^:/]+):(\d+)", BASE).groups()
SCALE = {"--num-prompts": 8, "--num-prompt": 8, "--random-input-len": 128, "--random-input": 128,
         "--random-output-len": 16, "--random-output": 16, "--input-len": 128, "--output-len": 16,
         "--batch-size": 4}
PLACEHOLDERS = {"${num_prompts}": "8", "${input_seq_len}": "64", "${output_seq_len}": "8",
                "${max_concurrency}": "4", "${backend}": "sgl-jax", "${MODEL_NAME}": MODEL, "<model>": MODEL,
                "<n>": "1"}

tmp = tempfile.mkdtemp()
sharegpt = os.path.join(tmp, "sharegpt.json")
json.dump([{"id": str(i), "conversations": [{"from": "human", "value": "Tell me about the number %d." % i},
                                            {"from": "gpt", "value": "It is a number, %d." % i}]}
           for i in range(64)], open(sharegpt, "w"))


def rewrite(line):
    for k, v in PLACEHOLDERS.items():
        line = line.replace(k, v)
    argv = shlex.split(line)
    while argv and "=" in argv[0] and not argv[0].startswith("-"):
        argv.pop(0)  # PYTHONPATH=...
    i = next(i for i, a in enumerate(argv) if a.startswith("sgl_jax.")) if "-m" in argv else None
    tool = argv[i].split(".", 1)[1]
    args = [a for a in argv[i + 1:] if a != "..."]
    out, skip = [os.path.join(BIN, tool)], None
    j = 0
    while j < len(args):
        a = args[j]
        val = args[j + 1] if j + 1 < len(args) else None
        if a in ("--model", "--tokenizer", "--model-path"):
            out += [a, MODEL]; j += 2; continue
        if a == "--host":
            out += [a, HOST]; j += 2; continue
        if a == "--port":
            out += [a, PORT]; j += 2; continue
        if a == "--base-url":
            out += [a, BASE]; j += 2; continue
        if a == "--device" and val == "tpu":
            skip = "--device tpu (an in-process TPU run)"
        if a in SCALE and val is not None and val.isdigit():
            out += [a, str(min(int(val), SCALE[a]))]; j += 2; continue
        out.append(a); j += 1
    if tool == "bench_serving" and "--help" not in out:
        if "--host" not in out and "--base-url" not in out:
            out += ["--base-url", BASE]  # the docs' default port is the test server's
        name = out[out.index("--dataset-name") + 1] if "--dataset-name" in out else "sharegpt"
        if name == "sharegpt":
            out += ["--dataset-path", sharegpt]
        out += ["--output-file", os.path.join(tmp, "out.jsonl")]
    return tool, out, skip


fails, ran, skipped = 0, 0, 0
for row in open(TSV):
    if row.startswith("#") or not row.strip():
        continue
    tool, source, line = row.rstrip("\n").split("\t")
    tool_name, argv, skip = rewrite(line)
    if skip:
        skipped += 1
        print("skip %s (%s): %s" % (source, tool_name, skip))
        continue
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp)
    ran += 1
    out = r.stdout + r.stderr
    ok = r.returncode == 0
    if ok and tool_name == "bench_serving" and "--help" not in argv:
        n = int(argv[argv.index("--num-prompts") + 1]) if "--num-prompts" in argv else (
            int(argv[argv.index("--num-prompt") + 1]) if "--num-prompt" in argv else 1000)
        m = re.search(r"Successful requests:\s+(\d+)", out)
        ok = m is not None and int(m.group(1)) == min(n, 64 if "--dataset-path" in argv else n)
    if ok and tool_name == "bench_one_batch_server":
        ok = "output throughput" in out
    print("%s %s: %s" % ("ok  " if ok else "FAIL", source, " ".join(shlex.quote(a) for a in argv[1:])))
    if not ok:
        fails += 1
        print("\n".join(out.splitlines()[-8:]))
print("doc lines: %d run, %d skipped, %d failed" % (ran, skipped, fails))
sys.exit(1 if fails else 0)
