// The official OpenAI Node SDK against sglcpp-server on tiny-qwen3 with no scripted answer: forced
// tool calls (tool_choice "required" and a named function) come back as tool_calls the SDK parses,
// the SDK's streaming helper assembles the same call, response_format json_schema gives content
// that parses, and a schema that cannot compile is the SDK's BadRequestError.
// usage: node structured_output_sdk_check.mjs BASE_URL NODE_DIR
import { openaiClient, failureList } from "./sdk_harness.mjs";
const [base, nodeDir] = process.argv.slice(2);
const { OpenAI, client } = openaiClient(base, nodeDir);
const { fails, check } = failureList();
const tools = [
  { type: "function", function: { name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 }, unit: { type: "string", enum: ["c", "f"] } },
                  required: ["city", "unit"] } } },
  { type: "function", function: { name: "get_time",
    parameters: { type: "object", properties: { zone: { type: "string", enum: ["utc", "local"] } }, required: ["zone"] } } },
];
const base_req = { model: "m", messages: [{ role: "user", content: "Weather in Paris?" }], tools,
                   parallel_tool_calls: false, max_tokens: 400, temperature: 0 };
const validArgs = (name, text) => {
  const a = JSON.parse(text);
  if (name === "get_weather") return typeof a.city === "string" && ["c", "f"].includes(a.unit);
  if (name === "get_time") return ["utc", "local"].includes(a.zone);
  return false;
};
try {
  for (const tool_choice of ["required", { type: "function", function: { name: "get_time" } }]) {
    const req = { ...base_req, tool_choice };
    const r = await client.chat.completions.create(req);
    const msg = r.choices[0].message;
    const where = JSON.stringify(tool_choice);
    check(r.choices[0].finish_reason === "tool_calls", `${where}: finish_reason ${r.choices[0].finish_reason}`);
    check(msg.content === null, `${where}: content ${JSON.stringify(msg.content)}`);
    check(Array.isArray(msg.tool_calls) && msg.tool_calls.length === 1, `${where}: tool_calls ${JSON.stringify(msg.tool_calls)}`);
    if (!Array.isArray(msg.tool_calls) || msg.tool_calls.length !== 1) continue;
    const call = msg.tool_calls[0];
    check(validArgs(call.function.name, call.function.arguments), `${where}: call ${JSON.stringify(call)}`);
    if (typeof tool_choice === "object") check(call.function.name === "get_time", `${where}: named function ignored`);

    // The SDK's streaming helper assembles the same call from the deltas.
    const runner = client.chat.completions.stream(req);
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0].message.tool_calls || [];
    check(streamed.length === 1 && streamed[0].function.name === call.function.name &&
          JSON.stringify(JSON.parse(streamed[0].function.arguments)) === JSON.stringify(JSON.parse(call.function.arguments)),
          `${where}: streamed ${JSON.stringify(streamed)} vs ${JSON.stringify(call)}`);
  }

  const schema = { type: "object", properties: { city: { type: "string", maxLength: 10 }, big: { type: "boolean" } },
                   required: ["city", "big"] };
  const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Describe Paris." }],
    max_tokens: 300, temperature: 0, response_format: { type: "json_schema", json_schema: { name: "city", schema } } });
  const parsed = JSON.parse(r.choices[0].message.content);
  check(typeof parsed.city === "string" && typeof parsed.big === "boolean", "response_format: " + r.choices[0].message.content);

  try {
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }],
      response_format: { type: "json_schema", json_schema: { name: "bad", schema: { type: "sphere" } } } });
    check(false, "a bad schema was accepted");
  } catch (e) {
    check(e instanceof OpenAI.BadRequestError && e.status === 400, "bad schema: " + e);
  }
} catch (e) {
  fails.push("unexpected: " + (e && e.stack || e));
}
if (fails.length) { console.log("FAIL:\n  " + fails.join("\n  ")); process.exit(1); }
console.log("structured output SDK check: all hold");
