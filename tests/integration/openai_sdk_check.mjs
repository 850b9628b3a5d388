// The official OpenAI SDK (from tests/node/node_modules) against sglcpp-server.
// usage: node openai_sdk_check.mjs BASE_URL API_KEY NODE_DIR
import { openaiClient, failureList } from "./sdk_harness.mjs";
const [base, key, nodeDir] = process.argv.slice(2);
const { OpenAI, client } = openaiClient(base, nodeDir, key);
const { fails, check } = failureList();
try {
  const served = (await client.models.list()).data[0].id;
  const msgs = [{ role: "user", content: "def add(a, b):" }];
  const r = await client.chat.completions.create({ model: served, messages: msgs, max_tokens: 8, temperature: 0 });
  check(r.choices[0].message.role === "assistant" && r.usage.completion_tokens === 8, "chat " + JSON.stringify(r.usage));
  const s = await client.chat.completions.create({ model: served, messages: msgs, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = "", usage = null;
  for await (const ch of s) { if (ch.usage) usage = ch.usage; for (const c of ch.choices || []) text += c.delta?.content || ""; }
  check(text === (r.choices[0].message.content || ""), "chat stream text differs");
  check(usage && usage.completion_tokens === 8, "usage in last chunk");
  const c = await client.completions.create({ model: served, prompt: "import os\n", max_tokens: 6, temperature: 0.8, n: 2, seed: 3, logprobs: 2 });
  check(c.choices.length === 2, "n=2");
  check(c.choices[0].logprobs && c.choices[0].logprobs.tokens.length === 6, "completion logprobs");
  const cs = await client.completions.create({ model: served, prompt: "import os\n", max_tokens: 6, temperature: 0, stream: true });
  let ctext = ""; for await (const ch of cs) ctext += ch.choices[0]?.text || "";
  check(ctext.length > 0, "completion stream empty");
  const lp = await client.chat.completions.create({ model: served, messages: msgs, max_tokens: 3, logprobs: true, top_logprobs: 2 });
  check(lp.choices[0].logprobs.content.length === 3 && lp.choices[0].logprobs.content[0].top_logprobs.length === 2, "chat logprobs");
  try { await client.chat.completions.create({ model: served, messages: msgs, max_tokens: -3 }); fails.push("negative max_tokens accepted"); }
  catch (e) { check(e instanceof OpenAI.BadRequestError && e.status === 400, "400 is not BadRequestError: " + e); }
  const bad = new OpenAI({ baseURL: base + "/v1", apiKey: "wrong", maxRetries: 0 });
  try { await bad.models.list(); fails.push("wrong key accepted"); }
  catch (e) { check(e.status === 401, "wrong key status " + e.status); }
} catch (e) { fails.push("exception: " + e.message); }
for (const f of fails) console.log(f);
console.log(`openai sdk: ${fails.length} failures`);
process.exit(fails.length ? 1 : 0);
