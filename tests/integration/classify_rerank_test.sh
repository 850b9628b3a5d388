#!/usr/bin/env bash
# /classify, /v1/classify and /v1/rerank. A Qwen3ForSequenceClassification made here from tiny-qwen3 (score.weight =
# three rows of its tied LM head) answers /classify with exactly those tokens' logits (golden
# top_logits; the causal LM's logprob differences) and reranks by its positive (last) label's logit
# for query + document; tiny-qwen3 itself reranks Qwen3-Reranker style, P(yes)/(P(yes)+P(no)) after
# the reranker prompt, as /generate's token_ids_logprob say. Sort order, top_n, return_documents
# and 400s for bad input. Exit 77 (CTest skip) when the model, golden or curl/jq are missing.
set -u
BIN=$1; SHARED=$2; M=$SHARED/models/tiny-qwen3; G=$SHARED/golden/tiny-qwen3.golden.json
[ -d "$M" ] && [ -f "$G" ] || { echo "SKIP: $M or $G absent"; exit 77; }
command -v curl >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
  { echo "SKIP: needs curl, jq and python3"; exit 77; }
TMP=$(mktemp -d); fails=0; J='Content-Type: application/json'
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# The classifier: tiny-qwen3's tensors plus score.weight = embedding rows of the golden first raw
# case's top-3 tokens at its last position.
LABELS=$(python3 - "$M" "$G" "$TMP/cls" <<'PY'
import json, os, shutil, struct, sys
src, golden, dst = sys.argv[1:4]
case = next(c for c in json.load(open(golden))["cases"] if c["kind"] == "raw")
labels = case["top_ids"][-1][:3]
os.makedirs(dst)
for f in os.listdir(src):
    if f not in ("model.safetensors", "config.json"):
        shutil.copy(os.path.join(src, f), dst)
cfg = json.load(open(os.path.join(src, "config.json")))
cfg["architectures"] = ["Qwen3ForSequenceClassification"]
cfg["id2label"] = {str(i): name for i, name in enumerate(["negative", "neutral", "positive"][:len(labels)])}
json.dump(cfg, open(os.path.join(dst, "config.json"), "w"))
raw = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
emb = header["model.embed_tokens.weight"]
h = emb["shape"][1]; esz = {"BF16": 2, "F16": 2, "F32": 4}[emb["dtype"]]; row = h * esz
rows = b"".join(data[emb["data_offsets"][0] + t * row: emb["data_offsets"][0] + (t + 1) * row] for t in labels)
header["score.weight"] = {"dtype": emb["dtype"], "shape": [len(labels), h],
                          "data_offsets": [len(data), len(data) + len(rows)]}
hb = json.dumps({k: v for k, v in header.items()}).encode()
with open(os.path.join(dst, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb))); f.write(hb); f.write(data); f.write(rows)
print(json.dumps(labels))
PY
) || { echo "FAIL: could not build the classifier"; exit 1; }
P1=$(free_port); P2=$(free_port)
"$BIN" --model-path "$TMP/cls" --max-total-tokens 65536 --port $P1 --dtype float32 --skip-server-warmup >$TMP/cls.log 2>&1 &
PID1=$!
"$BIN" --model-path "$M" --max-total-tokens 65536 --port $P2 --dtype float32 --skip-server-warmup >$TMP/lm.log 2>&1 &
PID2=$!
trap 'kill $PID1 $PID2 2>/dev/null; rm -rf $TMP' EXIT
for p in $P1 $P2; do
  for _ in $(seq 1 240); do curl -sf http://127.0.0.1:$p/health >/dev/null && break; sleep 0.25; done
  curl -sf http://127.0.0.1:$p/health >/dev/null ||
    { echo "FAIL: server on $p did not start: $(tail -3 $TMP/cls.log $TMP/lm.log)"; exit 1; }
done

python3 - "$G" "http://127.0.0.1:$P1" "http://127.0.0.1:$P2" "$LABELS" <<'PY' || fail "classify/rerank values"
import json, math, sys, urllib.request
golden, CLS, LM, labels = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
def post(base, path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=120))
case = next(c for c in golden["cases"] if c["kind"] == "raw")
ids = case["input_ids"]
# /classify: the score head's logits at the last token = the golden top logits of those tokens.
r = post(CLS, "/classify", {"input_ids": ids})
emb = r["embedding"]
assert len(emb) == 3 and r["meta_info"]["prompt_tokens"] == len(ids), r
for got, want in zip(emb, case["top_logits"][-1][:3]):
    assert abs(got - want) < 0.01, (emb, case["top_logits"][-1][:3])
# ... and the causal LM's logprobs on the same prompt differ by the same amounts.
g = post(LM, "/generate", {"input_ids": ids, "sampling_params": {"max_new_tokens": 1, "temperature": 0},
                            "return_logprob": True, "token_ids_logprob": labels})
lp = [t[0] for t in g["meta_info"]["output_token_ids_logprobs"][0]]
for k in (1, 2):
    assert abs((emb[0] - emb[k]) - (lp[0] - lp[k])) < 1e-4, (emb, lp)
# A list of texts answers a list, in order.
texts = ["The capital of France is", "def fibonacci(n):"]
rl = post(CLS, "/classify", {"text": texts})
assert isinstance(rl, list) and len(rl) == 2 and all(len(x["embedding"]) == 3 for x in rl), rl
one = post(CLS, "/classify", {"text": texts[1]})
assert one["embedding"] == rl[1]["embedding"], (one, rl[1])
# /v1/classify: the softmax of the same logits, the argmax's id2label name, usage, SGLang's keys.
v = post(CLS, "/v1/classify", {"model": "anything", "input": texts})
assert v["object"] == "list" and v["id"].startswith("classify-") and len(v["data"]) == 2, v
for i, d in enumerate(v["data"]):
    e = rl[i]["embedding"]
    ex = [math.exp(x - max(e)) for x in e]
    assert d["index"] == i and d["num_classes"] == 3, d
    assert all(abs(p - q / sum(ex)) < 1e-6 for p, q in zip(d["probs"], ex)), (d, e)
    assert d["label"] == ["negative", "neutral", "positive"][e.index(max(e))], (d, e)
assert v["usage"] == {"prompt_tokens": sum(x["meta_info"]["prompt_tokens"] for x in rl),
                      "total_tokens": sum(x["meta_info"]["prompt_tokens"] for x in rl),
                      "completion_tokens": 0, "prompt_tokens_details": None}, v["usage"]
single = post(CLS, "/v1/classify", {"input": texts[0]})
assert len(single["data"]) == 1 and single["data"][0]["probs"] == v["data"][0]["probs"], single
# Cross-encoder rerank: the positive (last) label's logit of query + document.
query, docs = "The capital of France is", [" Paris.", " a city", " 42", " Berlin is in Germany."]
rr = post(CLS, "/v1/rerank", {"query": query, "documents": docs})
assert len(rr) == 4 and sorted(x["index"] for x in rr) == [0, 1, 2, 3], rr
assert all(rr[i]["score"] >= rr[i + 1]["score"] for i in range(3)), rr
for x in rr:
    assert x["document"] == docs[x["index"]], x
    q = post(CLS, "/tokenize", {"prompt": query})["tokens"]
    d = post(CLS, "/tokenize", {"prompt": docs[x["index"]], "add_special_tokens": False})["tokens"]
    want = post(CLS, "/classify", {"input_ids": q + d})["embedding"][-1]
    assert abs(x["score"] - want) < 1e-6, (x, want)
    assert x["meta_info"]["prompt_tokens"] == len(q + d), x
top = post(CLS, "/v1/rerank", {"query": query, "documents": docs, "top_n": 2, "return_documents": False})
assert [x["index"] for x in top] == [x["index"] for x in rr[:2]] and all("document" not in x for x in top), top
assert [x["score"] for x in top] == [x["score"] for x in rr[:2]], top
# Decoder-only rerank (Qwen3-Reranker prompt), checked against /generate's yes/no logprobs.
yes = post(LM, "/tokenize", {"prompt": "yes", "add_special_tokens": False})["tokens"]
no = post(LM, "/tokenize", {"prompt": "no", "add_special_tokens": False})["tokens"]
assert len(yes) == 1 and len(no) == 1, (yes, no)
rr = post(LM, "/v1/rerank", {"query": "what is panda?", "documents": ["hi", "The giant panda is a bear.", "pandas"],
                             "instruct": "Find facts"})
assert len(rr) == 3 and all(rr[i]["score"] >= rr[i + 1]["score"] for i in range(2)), rr
docs = ["hi", "The giant panda is a bear.", "pandas"]
for x in rr:
    prompt = ("<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
              "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
              "<Instruct>: Find facts\n<Query>: what is panda?\n<Document>: " + docs[x["index"]] +
              "<|im_end|>\n<|im_start|>assistant\n")
    g = post(LM, "/generate", {"text": prompt, "sampling_params": {"max_new_tokens": 1, "temperature": 0},
                               "return_logprob": True, "token_ids_logprob": yes + no})
    ly, ln = [t[0] for t in g["meta_info"]["output_token_ids_logprobs"][0]]
    want = math.exp(ly) / (math.exp(ly) + math.exp(ln))
    assert abs(x["score"] - want) < 1e-6 and 0 < x["score"] < 1, (x, want)
print("values ok")
PY
for bad in '{"query":"","documents":["a"]}' '{"query":"  ","documents":["a"]}' '{"query":"q","documents":[]}' \
           '{"query":"q","documents":["a",""]}' '{"query":"q","documents":["a"],"top_n":0}' \
           '{"query":"q"}' '{"documents":["a"]}' '{"query":"q","documents":[3]}'; do
  for p in $P1 $P2; do
    code=$(curl -s -o $TMP/bad.json -w '%{http_code}' http://127.0.0.1:$p/v1/rerank -H "$J" -d "$bad")
    [ "$code" = 400 ] && jq -e '.object == "error" and (.message | length > 0)' $TMP/bad.json >/dev/null ||
      fail "bad rerank request $bad on $p: $code $(head -c 200 $TMP/bad.json)"
  done
done
code=$(curl -s -o $TMP/bad.json -w '%{http_code}' http://127.0.0.1:$P1/v1/rerank -H 'Content-Type: text/plain' \
  -d '{"query":"q","documents":["a"]}')
[ "$code" = 400 ] || fail "rerank without a JSON content type: $code"
code=$(curl -s -o $TMP/bad.json -w '%{http_code}' http://127.0.0.1:$P2/classify -H "$J" -d '{"text":"hi"}')
[ "$code" = 400 ] && jq -e '.error.message | test("classification")' $TMP/bad.json >/dev/null ||
  fail "/classify on a causal LM: $code $(head -c 200 $TMP/bad.json)"
code=$(curl -s -o $TMP/bad.json -w '%{http_code}' http://127.0.0.1:$P2/v1/classify -H "$J" -d '{"input":"hi"}')
[ "$code" = 400 ] && jq -e '.object == "error"' $TMP/bad.json >/dev/null || fail "/v1/classify on a causal LM: $code"
code=$(curl -s -o $TMP/bad.json -w '%{http_code}' http://127.0.0.1:$P1/v1/classify -H "$J" -d '{"input":"  "}')
[ "$code" = 400 ] || fail "/v1/classify with a blank input: $code"
code=$(curl -s -o $TMP/bad.json -w '%{http_code}' http://127.0.0.1:$P1/classify -H "$J" -d '{"input_ids":[]}')
[ "$code" = 400 ] || fail "/classify with empty input_ids: $code"
echo "classify_rerank: $fails failures"
[ $fails = 0 ]
