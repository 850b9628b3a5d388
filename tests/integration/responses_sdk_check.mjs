// The Responses API through the official OpenAI SDK and (when installed) the Vercel AI SDK's
// default OpenAI provider, which speaks /v1/responses. The server answers every request with
// EXPECTED (--test-scripted-output), so the texts are known.
// usage: node responses_sdk_check.mjs BASE_URL NODE_DIR EXPECTED
import { createRequire } from "module";
import { openaiClient, failureList } from "./sdk_harness.mjs";
const [base, nodeDir, expected] = process.argv.slice(2);
const { OpenAI, client } = openaiClient(base, nodeDir);
const { fails, check } = failureList();
try {
  const r = await client.responses.create({ model: "m", input: "Say hello", instructions: "Be brief.", max_output_tokens: 64, metadata: { k: "v" } });
  check(r.object === "response" && r.status === "completed" && r.id.startsWith("resp_"), "create: " + JSON.stringify(r));
  check(r.output_text === expected, `output_text ${JSON.stringify(r.output_text)} != ${JSON.stringify(expected)}`);
  check(r.output[0].type === "message" && r.output[0].content[0].type === "output_text", "output item: " + JSON.stringify(r.output));
  check(r.usage.input_tokens > 0 && r.usage.output_tokens > 0 && r.usage.total_tokens === r.usage.input_tokens + r.usage.output_tokens, "usage " + JSON.stringify(r.usage));
  check(r.instructions === "Be brief." && r.metadata.k === "v" && r.max_output_tokens === 64, "echoed fields");

  const got = await client.responses.retrieve(r.id);
  check(got.id === r.id && got.output_text === expected, "retrieve: " + JSON.stringify(got));

  // previous_response_id: the stored turn is part of the prompt.
  const r2 = await client.responses.create({ model: "m", input: "Again", previous_response_id: r.id });
  check(r2.previous_response_id === r.id && r2.usage.input_tokens > r.usage.input_tokens, "previous_response_id usage " + JSON.stringify([r.usage, r2.usage]));

  const s = await client.responses.create({ model: "m", input: "Say hello", stream: true });
  const types = []; let text = "", completed = null, seq = [];
  for await (const ev of s) {
    types.push(ev.type); seq.push(ev.sequence_number);
    if (ev.type === "response.output_text.delta") text += ev.delta;
    if (ev.type === "response.completed") completed = ev.response;
  }
  check(text === expected, `stream text ${JSON.stringify(text)}`);
  check(types[0] === "response.created" && types[1] === "response.in_progress" && types.at(-1) === "response.completed", "stream types " + types.join(","));
  check(seq.every((n, i) => n === i), "sequence numbers " + seq.join(","));
  check(completed && completed.status === "completed" && completed.output[0].content[0].text === expected, "completed event");
  const again = await client.responses.retrieve(completed.id);
  check(again.output[0].content[0].text === expected, "streamed response stored");

  // The SDK's stream helper accumulates the events into the final response.
  const helper = client.responses.stream({ model: "m", input: "Say hello" });
  const fin = await helper.finalResponse();
  check(fin.output_text === expected, "responses.stream finalResponse " + JSON.stringify(fin.output_text));

  const del = await client.responses.delete(r2.id).catch((e) => e);
  check(!(del instanceof Error), "delete: " + del);
  try { await client.responses.retrieve(r2.id); fails.push("deleted response still retrievable"); }
  catch (e) { check(e instanceof OpenAI.NotFoundError, "retrieve deleted: " + e); }
  try { await client.responses.create({ model: "m", input: "x", previous_response_id: "resp_nope" }); fails.push("unknown previous_response_id accepted"); }
  catch (e) { check(e instanceof OpenAI.BadRequestError, "unknown previous id: " + e); }
} catch (e) { fails.push("openai sdk exception: " + (e.stack || e)); }

// Vercel AI SDK: createOpenAI(...)(model) is a Responses model in AI SDK 5.
const require = createRequire(nodeDir + "/package.json");
let ai = null, aiOpenai = null;
try { ai = require("ai"); aiOpenai = require("@ai-sdk/openai"); } catch { console.log("ai sdk: not installed, skipped"); }
if (ai && aiOpenai) {
  try {
    const provider = aiOpenai.createOpenAI({ baseURL: base + "/v1", apiKey: "none" });
    const g = await ai.generateText({ model: provider("m"), prompt: "Say hello", maxRetries: 0 });
    check(g.text === expected, `ai generateText ${JSON.stringify(g.text)}`);
    check(g.usage.inputTokens > 0 && g.usage.outputTokens > 0, "ai usage " + JSON.stringify(g.usage));
    const st = ai.streamText({ model: provider("m"), prompt: "Say hello", maxRetries: 0, onError: ({ error }) => fails.push("ai stream error: " + error) });
    let t = ""; for await (const d of st.textStream) t += d;
    check(t === expected, `ai streamText ${JSON.stringify(t)}`);
  } catch (e) { fails.push("ai sdk exception: " + (e.stack || e)); }
}
for (const f of fails) console.log(f);
console.log(`responses sdk: ${fails.length} failures`);
process.exit(fails.length ? 1 : 0);
