#!/usr/bin/env bash
# /metrics and the JSON request log on the real sglcpp-server and tiny-qwen3 (curl + jq + python3):
#  - a live scrape passes `promtool check metrics` (its only complaints may be the lints every
#    SGLang scrape draws: the "sglang:" colon in the names and "histogram" in two of them);
#  - HELP and TYPE once per family; SGLang's names, types, label sets and bucket bounds;
#  - counters moved by what the requests' own usage says (prompt, generation and cached tokens,
#    requests, structured-output requests, grammars, aborts), histograms consistent;
#  - --log-requests-format json: one request.received and one request.finished line per request,
#    cut as --log-requests-level 1 cuts them.
# Exit 77 (CTest skip) when the model, curl/jq/python3 or promtool is missing.
set -u
BIN=$1; MODEL=$2
[ -d "$MODEL" ] || { echo "SKIP: $MODEL absent"; exit 77; }
for t in curl jq python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }; done
command -v promtool >/dev/null || { echo "SKIP: needs promtool (Debian package prometheus)"; exit 77; }
TMP=$(mktemp -d); fails=0; SRV=
trap 'kill $SRV 2>/dev/null; rm -rf $TMP' EXIT
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
J='Content-Type: application/json'
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
A=http://127.0.0.1:$PORT
"$BIN" --model-path "$MODEL" --max-total-tokens 65536 --port $PORT --skip-server-warmup --enable-metrics --enable-cache-report \
  --prompt-tokens-buckets custom 1 4 16 64 --log-requests --log-requests-format json --log-requests-level 1 \
  >$TMP/log 2>&1 &
SRV=$!
for _ in $(seq 1 240); do curl -sf $A/health >/dev/null && break; sleep 0.25; done
curl -sf $A/health >/dev/null || { cat $TMP/log; echo "FAIL: server not healthy"; exit 1; }

# --- requests; every answer's usage goes to $TMP/usage as "prompt completion cached" ---
: >$TMP/usage
meta_usage() { jq -r '.meta_info | "\(.prompt_tokens) \(.completion_tokens) \(.cached_tokens)"'; }
# Two plain generates sharing a prompt (the second finds it cached).
for i in 1 2; do
  curl -sf $A/generate -H "$J" -d '{"text":"The quick brown fox jumps over the lazy dog","sampling_params":{"max_new_tokens":6,"ignore_eos":true}}' \
    >$TMP/g$i.json || fail "generate $i"
  meta_usage <$TMP/g$i.json >>$TMP/usage
done
# A streamed chat with usage in its last chunk.
curl -sfN $A/v1/chat/completions -H "$J" -d '{"model":"m","messages":[{"role":"user","content":"Hi there"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}' \
  >$TMP/chat.sse || fail "streamed chat"
grep '^data: {' $TMP/chat.sse | sed 's/^data: //' | jq -r 'select(.usage != null) | .usage |
  "\(.prompt_tokens) \(.completion_tokens) \(.prompt_tokens_details.cached_tokens // 0)"' >>$TMP/usage
# Structured output twice with one regex (the second is a grammar cache hit), and a bad grammar.
for i in 1 2; do
  curl -sf $A/generate -H "$J" -d '{"text":"Pick a number:","sampling_params":{"max_new_tokens":8,"regex":"[0-9]{3}"}}' \
    >$TMP/so$i.json || fail "regex generate $i"
  jq -e '.text | test("^[0-9]{3}$")' $TMP/so$i.json >/dev/null || fail "regex output $(cat $TMP/so$i.json)"
  meta_usage <$TMP/so$i.json >>$TMP/usage
done
code=$(curl -s -o /dev/null -w '%{http_code}' $A/generate -H "$J" -d '{"text":"x","sampling_params":{"regex":"("}}')
[ "$code" = 400 ] || fail "bad regex: $code, want 400"
# One aborted while it streams.
curl -sN $A/generate -H "$J" -d '{"text":"Count:","rid":"abort-me","stream":true,"sampling_params":{"max_new_tokens":4000,"ignore_eos":true}}' \
  >$TMP/ab.sse &
CURL=$!
for _ in $(seq 1 200); do grep -q '^data: {' $TMP/ab.sse 2>/dev/null && break; sleep 0.05; done
curl -sf $A/abort_request -H "$J" -d '{"rid":"abort-me"}' >/dev/null || fail "abort_request"
wait $CURL
grep '^data: {' $TMP/ab.sse | tail -1 | sed 's/^data: //' >$TMP/ab.json
jq -e '.meta_info.finish_reason.type == "abort"' $TMP/ab.json >/dev/null || fail "abort-me did not end in abort: $(cat $TMP/ab.json)"
meta_usage <$TMP/ab.json >>$TMP/usage
NREQ=6
[ "$(wc -l <$TMP/usage)" = $NREQ ] || fail "usage lines: $(cat $TMP/usage)"
for _ in $(seq 1 100); do
  curl -sf $A/get_server_info | jq -e '.internal_states[0].running_batch_size == 0' >/dev/null 2>&1 && break
  sleep 0.1
done

# --- the scrape ---
curl -sf -D $TMP/headers $A/metrics >$TMP/m.txt || fail "/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' $TMP/headers || fail "content type: $(grep -i content-type $TMP/headers)"
promtool check metrics <$TMP/m.txt >$TMP/promtool.txt 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  # promtool exits 3 on lint problems; SGLang's own names draw these two and nothing else may.
  other=$(grep -v -e "metric names should not contain ':'" -e "metric name should not include type 'histogram'" $TMP/promtool.txt)
  { [ $rc -eq 3 ] && [ -z "$other" ]; } || fail "promtool check metrics: rc $rc: $(head -5 $TMP/promtool.txt)"
fi
[ -z "$(grep '^# TYPE ' $TMP/m.txt | awk '{print $3}' | sort | uniq -d)" ] || fail "a family has two TYPE lines"
[ -z "$(grep '^# HELP ' $TMP/m.txt | awk '{print $3}' | sort | uniq -d)" ] || fail "a family has two HELP lines"

python3 - "$TMP/m.txt" "$TMP/usage" "$MODEL" "$NREQ" <<'EOF' || fails=$((fails+1))
import re, sys
text, usage, model, nreq = open(sys.argv[1]).read(), open(sys.argv[2]).read().split(), sys.argv[3], int(sys.argv[4])
bad = []
def check(ok, msg):
    if not ok: bad.append(msg)
types, samples = {}, []
for line in text.splitlines():
    if line.startswith('# TYPE '):
        _, _, name, t = line.split(' ')
        types[name] = t
    elif line and not line.startswith('#'):
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)', line)
        check(m is not None, f'unparsed sample line: {line}')
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            samples.append((m.group(1), labels, float(m.group(3)), m.group(2)))
def series(name, **want):
    return [(l, v) for n, l, v, _ in samples if n == name and all(l.get(k) == x for k, x in want.items())]
def value(name, **want):
    s = series(name, **want)
    check(len(s) == 1, f'{name} {want}: {len(s)} series')
    return s[0][1] if s else float('nan')
# Every sample belongs to a typed family; types as SGLang's.
for n, l, v, _ in samples:
    fam = re.sub(r'_(bucket|count|sum)$', '', n) if n not in types else n
    check(fam in types, f'{n} has no TYPE line')
SCHED = ['engine_type', 'model_name', 'moe_ep_rank', 'pp_rank', 'tp_rank']
TOK = ['engine_type', 'model_name']
expect = {
    'sglang:num_running_reqs': ('gauge', SCHED), 'sglang:num_used_tokens': ('gauge', SCHED),
    'sglang:token_usage': ('gauge', SCHED), 'sglang:gen_throughput': ('gauge', SCHED),
    'sglang:num_queue_reqs': ('gauge', SCHED), 'sglang:num_grammar_queue_reqs': ('gauge', SCHED),
    'sglang:cache_hit_rate': ('gauge', SCHED), 'sglang:max_total_num_tokens': ('gauge', SCHED),
    'sglang:spec_accept_length': ('gauge', SCHED), 'sglang:spec_accept_rate': ('gauge', SCHED),
    'sglang:num_retracted_reqs': ('gauge', SCHED), 'sglang:num_retracted_requests_total': ('counter', SCHED),
    'sglang:num_paused_reqs': ('gauge', SCHED), 'sglang:utilization': ('gauge', SCHED),
    'sglang:engine_startup_time': ('gauge', SCHED), 'sglang:engine_load_weights_time': ('gauge', SCHED),
    'sglang:queue_time_seconds': ('histogram', SCHED), 'sglang:num_grammar_total': ('counter', SCHED),
    'sglang:grammar_compilation_time_seconds': ('histogram', SCHED), 'sglang:is_cuda_graph': ('gauge', SCHED),
    'sglang:per_stage_req_latency_seconds': ('histogram', SCHED + ['stage']),
    'sglang:cuda_graph_passes_total': ('counter', SCHED + ['mode']),
    'sglang:realtime_tokens_total': ('counter', SCHED + ['mode']), 'sglang:new_token_ratio': ('gauge', SCHED),
    'sglang:prompt_tokens_total': ('counter', TOK), 'sglang:generation_tokens_total': ('counter', TOK),
    'sglang:cached_tokens_total': ('counter', TOK), 'sglang:num_requests_total': ('counter', TOK),
    'sglang:num_so_requests_total': ('counter', TOK), 'sglang:num_aborted_requests_total': ('counter', TOK),
    'sglang:time_to_first_token_seconds': ('histogram', TOK), 'sglang:inter_token_latency_seconds': ('histogram', TOK),
    'sglang:e2e_request_latency_seconds': ('histogram', TOK), 'sglang:num_retractions': ('histogram', TOK),
    'sglang:prompt_tokens_histogram': ('histogram', TOK), 'sglang:generation_tokens_histogram': ('histogram', TOK),
}
for name, (t, labels) in expect.items():
    check(types.get(name) == t, f'{name}: type {types.get(name)}, want {t}')
    for n, l, v, _ in samples:
        if n in (name, name + '_count', name + '_sum', name + '_bucket'):
            want = sorted(labels + (['le'] if n.endswith('_bucket') else []))
            check(sorted(l) == want, f'{n}: labels {sorted(l)}, want {want}')
            check(l['engine_type'] == 'unified' and l['model_name'] == model, f'{n}: {l}')
            if 'tp_rank' in l: check(l['tp_rank'] == l['pp_rank'] == l['moe_ep_rank'] == '0', f'{n}: {l}')
# Label order as prometheus_client writes it (sorted by name).
for n, l, v, raw in samples:
    names = re.findall(r'(\w+)=', raw)
    check(names == sorted(names), f'{n}: labels not sorted: {raw}')
# SGLang's bucket bounds (and the --prompt-tokens-buckets custom rule).
def les(name):
    return [l['le'] for l, v in series(name + '_bucket')]
B = {
    'sglang:time_to_first_token_seconds': '0.1 0.2 0.4 0.6 0.8 1.0 2.0 4.0 6.0 8.0 10.0 20.0 40.0 60.0 80.0 100.0 200.0 400.0',
    'sglang:inter_token_latency_seconds': '0.002 0.004 0.006 0.008 0.01 0.015 0.02 0.025 0.03 0.035 0.04 0.06 0.08 0.1 0.2 0.4 0.6 0.8 1.0 2.0 4.0 6.0 8.0',
    'sglang:e2e_request_latency_seconds': '0.1 0.2 0.4 0.6 0.8 1.0 2.0 4.0 6.0 8.0 10.0 20.0 40.0 60.0 80.0 100.0 200.0 400.0 600.0 1200.0 1800.0 2400.0',
    'sglang:queue_time_seconds': '0.0 0.1 0.2 0.5 1.0 2.0 3.0 4.0 5.0 10.0 15.0 20.0 30.0 40.0 50.0 60.0 70.0 80.0 90.0 100.0 200.0 300.0 400.0 500.0 600.0 700.0 800.0 900.0 1000.0 1200.0 1400.0 1600.0 1800.0 2000.0 2500.0 3000.0',
    'sglang:num_retractions': '0.0 1.0 2.0 3.0 4.0 5.0 6.0 7.0 8.0 9.0 10.0 15.0 20.0 25.0 30.0 40.0 50.0 75.0 100.0',
    'sglang:grammar_compilation_time_seconds': '0.0 0.01 0.02 0.05 0.1 0.2 0.5 1.0 2.0 5.0 10.0 20.0 30.0 60.0 90.0 120.0 240.0',
    'sglang:prompt_tokens_histogram': '1.0 4.0 16.0 64.0',
    'sglang:generation_tokens_histogram': '100.0 300.0 500.0 700.0 1000.0 1500.0 2000.0 3000.0 4000.0 5000.0 6000.0 7000.0 8000.0 9000.0 10000.0 12000.0 15000.0 20000.0 22000.0 25000.0 30000.0 35000.0 40000.0 66000.0 99000.0 132000.0 300000.0 600000.0 900000.0 1.1e+06',
}
for name, bounds in B.items():
    check(les(name) == bounds.split() + ['+Inf'], f'{name} buckets {les(name)}')
stage_les = [l['le'] for l, v in series('sglang:per_stage_req_latency_seconds_bucket', stage='decode_loop')]
check(len(stage_les) == 31 and stage_les[0] == '0.001' and stage_les[1] == '0.0016200000000000001'
      and stage_les[-2] == '1191.064887146242', f'per-stage buckets {stage_les[:3]}...{stage_les[-2:]}')
# Histograms: cumulative buckets, +Inf == _count.
fams = {n[:-7] for n, *_ in samples if n.endswith('_bucket')}
for f in fams:
    groups = {}
    for l, v in series(f + '_bucket'):
        key = tuple(sorted((k, x) for k, x in l.items() if k != 'le'))
        groups.setdefault(key, []).append(v)
    for key, vs in groups.items():
        check(all(a <= b for a, b in zip(vs, vs[1:])), f'{f} {key}: buckets decrease')
        cnt = [v for l, v in series(f + '_count') if tuple(sorted(l.items())) == key]
        check(cnt == [vs[-1]], f'{f} {key}: _count {cnt} != +Inf bucket {vs[-1]}')
# Counters against the responses' usage.
u = [int(x) for x in usage]
prompt, gen, cached = sum(u[0::3]), sum(u[1::3]), sum(u[2::3])
check(value('sglang:prompt_tokens_total') == prompt, f'prompt_tokens_total {value("sglang:prompt_tokens_total")} != usage {prompt}')
check(value('sglang:generation_tokens_total') == gen, f'generation_tokens_total {value("sglang:generation_tokens_total")} != usage {gen}')
check(value('sglang:cached_tokens_total') == cached and cached > 0, f'cached_tokens_total {value("sglang:cached_tokens_total")} != usage {cached}')
check(value('sglang:num_requests_total') == nreq, f'num_requests_total {value("sglang:num_requests_total")}')
check(value('sglang:num_so_requests_total') == 2, 'num_so_requests_total')
check(value('sglang:num_grammar_total') == 3, f'num_grammar_total {value("sglang:num_grammar_total")}')
check(value('sglang:num_grammar_cache_hit_total') == 1, 'num_grammar_cache_hit_total')
check(value('sglang:num_grammar_aborted_total') == 1, 'num_grammar_aborted_total')
check(value('sglang:grammar_compilation_time_seconds_count') == 2, 'grammar compilations (the hit is not one)')
check(value('sglang:num_aborted_requests_total') == 1, 'num_aborted_requests_total')
for h in ['e2e_request_latency_seconds', 'time_to_first_token_seconds', 'queue_time_seconds', 'num_retractions',
          'prompt_tokens_histogram', 'generation_tokens_histogram']:
    check(value(f'sglang:{h}_count') == nreq, f'{h}_count {value(f"sglang:{h}_count")} != {nreq}')
check(value('sglang:prompt_tokens_histogram_sum') == prompt, 'prompt_tokens_histogram_sum')
check(value('sglang:generation_tokens_histogram_sum') == gen, 'generation_tokens_histogram_sum')
check(value('sglang:inter_token_latency_seconds_count') == gen - nreq, 'one ITL per output token past the first')
check(value('sglang:per_stage_req_latency_seconds_count', stage='prefill_waiting') == nreq, 'prefill_waiting count')
check(value('sglang:per_stage_req_latency_seconds_count', stage='prefill_forward') == nreq, 'prefill_forward count')
check(value('sglang:per_stage_req_latency_seconds_count', stage='decode_loop') == nreq - 1, 'decode_loop: all but the abort')
check(value('sglang:realtime_tokens_total', mode='decode') == gen - nreq, 'realtime decode tokens')
check(value('sglang:realtime_tokens_total', mode='prefill_compute') + value('sglang:realtime_tokens_total', mode='prefill_cache') == prompt,
      'realtime prefill tokens (computed + cached) != prompt tokens')
check(value('sglang:realtime_tokens_total', mode='prefill_cache') == cached, 'realtime prefill_cache != cached tokens')
check(value('sglang:cuda_graph_passes_total', mode='decode_none') >= 5, 'decode passes')
check(value('sglang:max_total_num_tokens') > 0 and value('sglang:engine_load_weights_time') > 0, 'start-up gauges')
check(value('sglang:engine_startup_time') >= value('sglang:engine_load_weights_time'), 'startup >= load weights')
check(value('sglang:num_running_reqs') == 0 and value('sglang:num_queue_reqs') == 0, 'idle gauges')
check(value('sglang:is_cuda_graph') == 0, 'is_cuda_graph')
check(not series('sglang:lora_pool_slots_total'), 'lora_pool_* without LoRA')
for b in bad: print('FAIL:', b)
sys.exit(1 if bad else 0)
EOF

# --- JSON request log: stdout lines that are whole JSON objects ---
grep '^{"timestamp"' $TMP/log >$TMP/req.jsonl
[ "$(jq -s '[.[] | select(.event == "request.received")] | length' $TMP/req.jsonl)" = $NREQ ] ||
  fail "request.received lines: $(jq -s -c 'map(.event)' $TMP/req.jsonl)"
[ "$(jq -s '[.[] | select(.event == "request.finished")] | length' $TMP/req.jsonl)" = $NREQ ] ||
  fail "request.finished lines"
rid=$(jq -r .meta_info.id $TMP/g1.json)
line=$(jq -c --arg r "$rid" 'select(.event == "request.finished" and .rid == $r)' $TMP/req.jsonl)
echo "$line" | jq -e --argjson p "$(jq .meta_info.prompt_tokens $TMP/g1.json)" \
  '.out.meta_info.prompt_tokens == $p and (.out.meta_info.e2e_latency > 0) and (.out | has("text") | not)
   and (.obj | has("text") | not) and .obj.sampling_params.max_new_tokens == 6 and (.timestamp | test("^[0-9-]{10}T"))' \
  >/dev/null || fail "finished line of $rid at level 1: $line"
jq -e 'select(.rid == "abort-me" and .event == "request.finished") | .out.meta_info.finish_reason.type == "abort"' \
  $TMP/req.jsonl >/dev/null || fail "the aborted request's finished line"
grep -q 'body:' $TMP/log && fail "the json format still writes the text request log"

[ $fails -eq 0 ] && echo "PASS: metrics" || { echo "$fails failure(s)"; tail -20 $TMP/log; }
[ $fails -eq 0 ]
