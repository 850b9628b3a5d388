// The findings on made-up probes: --device cuda without a driver or GPU, --tp-size above the
// GPUs or CPUs, the ISA against the build, and the report's verdict and shapes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/check_env/build_info.h"
#include "server/check_env/check_env.h"
#include "server/check_env/cuda_probe.h"
#include "server/check_env/device_checks.h"

namespace sgl::server::check_env {
namespace {

constexpr int64_t kGiB = int64_t(1) << 30;

// A 4-CPU, 24 GiB machine with a CUDA build and no driver; tests change what they need.
Probes machine() {
  Probes p;
  p.build.version = "0.1.0";
  p.build.cuda = true;
  p.build.cuda_toolkit = "13.0.88";
  p.build.cuda_architectures = "90a-real 90-virtual";
  p.system.mem = MemInfo{24 * kGiB, 24 * kGiB};
  p.system.cpu.affinity = 4;
  p.tbb_threads = 4;
  p.isa = {{"avx2", true, true}, {"avx512f", true, true}, {"avx512_bf16", true, true}};
  p.cuda.driver_error = "libcuda.so.1: cannot open shared object file";
  return p;
}

GpuInfo gpu(int index, int major, int minor) {
  return {index, "NVIDIA H100 80GB HBM3", major, minor, 80 * kGiB, 79 * kGiB};
}

ServerArgs cuda_args(int tp = 1) {
  ServerArgs a;
  a.device = "cuda";
  a.tp_size = tp;
  return a;
}

std::string fatals(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs)
    if (f.severity == Severity::kFatal) s += f.message + "\n";
  return s;
}

std::string notes(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs)
    if (f.severity == Severity::kNote) s += f.message + "\n";
  return s;
}

ParsedArgs parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sglcpp-server");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_server_args(int(argv.size()), argv.data());
}

TEST(CudaChecks, NoDriverIsFatal) {
  const auto f = check_devices(cuda_args(), machine(), std::nullopt);
  EXPECT_NE(fatals(f).find("--device cuda: no CUDA driver (libcuda.so.1"), std::string::npos) << fatals(f);
}

TEST(CudaChecks, ADriverWithoutGpusIsFatal) {
  Probes p = machine();
  p.cuda.driver = true;
  p.cuda.driver_api_version = 13000;
  EXPECT_NE(fatals(check_devices(cuda_args(), p, std::nullopt)).find("sees no GPU"), std::string::npos);
}

TEST(CudaChecks, TpSizeAboveTheGpus) {
  Probes p = machine();
  p.cuda.driver = true;
  p.cuda.driver_api_version = 13000;
  p.cuda.gpus = {gpu(0, 9, 0), gpu(1, 9, 0)};
  EXPECT_EQ(fatals(check_devices(cuda_args(1), p, std::nullopt)), "");
  const std::string four = fatals(check_devices(cuda_args(4), p, std::nullopt));
  EXPECT_NE(four.find("--tp-size 4 needs 4 GPUs; this machine has 2"), std::string::npos) << four;
  // The CUDA backend runs one GPU so far, whatever the count.
  EXPECT_NE(fatals(check_devices(cuda_args(2), p, std::nullopt)).find("runs on one GPU"), std::string::npos);
}

TEST(CudaChecks, AGpuBelowTheBuiltArchitecturesIsFatal) {
  Probes p = machine();
  p.cuda.driver = true;
  p.cuda.driver_api_version = 13000;
  p.cuda.gpus = {gpu(0, 8, 0)};
  EXPECT_NE(fatals(check_devices(cuda_args(), p, std::nullopt)).find("compute capability 8.0"),
            std::string::npos);
  EXPECT_EQ(min_cuda_arch("90a-real 90-virtual"), 90);
  EXPECT_EQ(min_cuda_arch("80;86;90"), 80);
  EXPECT_EQ(min_cuda_arch("native"), 0);
}

TEST(CudaChecks, DriverOlderThanTheRuntime) {
  Probes p = machine();
  p.cuda.driver = true;
  p.cuda.gpus = {gpu(0, 9, 0)};
  p.cuda.driver_api_version = 12040;  // CUDA 12.4 driver, CUDA 13.0 runtime
  EXPECT_NE(fatals(check_devices(cuda_args(), p, std::nullopt)).find("update the driver"), std::string::npos);
  p.build.cuda_toolkit = "13.1";
  p.cuda.driver_api_version = 13000;
  const auto minor = check_devices(cuda_args(), p, std::nullopt);
  EXPECT_EQ(fatals(minor), "");
  EXPECT_NE(notes(minor).find("minor-version compatibility"), std::string::npos);
}

TEST(CudaChecks, VersionTexts) {
  EXPECT_EQ(cuda_version_text(12040), "12.4");
  EXPECT_EQ(cuda_version_text(13000), "13.0");
  EXPECT_EQ(nccl_version_text(22005), "2.20.5");
  EXPECT_EQ(nccl_version_text(2708), "2.7.8");
}

TEST(CpuChecks, MoreRanksThanCpusIsANote) {
  ServerArgs a;
  a.tp_size = 8;
  const auto over = check_devices(a, machine(), std::nullopt);
  EXPECT_EQ(fatals(over), "");
  EXPECT_NE(notes(over).find("puts 8 ranks on this node's 4 usable CPUs"), std::string::npos) << notes(over);
  a.tp_size = 4;
  EXPECT_EQ(notes(check_devices(a, machine(), std::nullopt)), "");
  a.tp_size = 8;
  a.nnodes = 2;  // 4 per node
  EXPECT_EQ(notes(check_devices(a, machine(), std::nullopt)), "");
}

TEST(IsaChecks, BuiltForAnExtensionTheCpuLacksIsFatal) {
  Probes p = machine();
  p.isa.push_back({"amx_tile", false, true});
  EXPECT_NE(fatals(check_devices(ServerArgs{}, p, std::nullopt)).find("compiled for amx_tile"),
            std::string::npos);
}

TEST(IsaChecks, Bf16WeightsWithoutAvx512Bf16AreANote) {
  Probes p = machine();
  p.isa = {{"avx512f", true, true}, {"avx512_bf16", false, false}};
  const ServerArgs cpu;
  EXPECT_NE(notes(check_devices(cpu, p, engine::DType::kBF16)).find("no AVX512-BF16"), std::string::npos);
  EXPECT_EQ(notes(check_devices(cpu, p, engine::DType::kF32)), "");  // fp32 weights do not care
  p.isa = {{"avx512f", true, true}, {"avx512_bf16", true, false}};
  EXPECT_NE(notes(check_devices(cpu, p, engine::DType::kBF16)).find("built without it"), std::string::npos);
}

TEST(Tokenizer, APresetNeedsATokenizerPath) {
  ServerArgs a;
  a.model_path = a.tokenizer_path = "qwen3-0.6b";
  auto f = check_tokenizer(a);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kFatal);
  EXPECT_NE(f->message.find("pass --tokenizer-path"), std::string::npos);
  a.tokenizer_path = std::string(SGL_SOURCE_DIR) + "/../shared/models/tiny-qwen3";
  if (std::filesystem::exists(a.tokenizer_path + "/tokenizer.json")) {
    EXPECT_FALSE(check_tokenizer(a));
  }
}

TEST(Report, CheckEnvNeedsNoModelAndTpuIsFatal) {
  const BuiltFeatures built{true, true, true};
  const ParsedArgs plain = parse({"--check-env"});
  ASSERT_FALSE(plain.exit_now) << plain.output;
  EXPECT_TRUE(plain.args.check_env);
  EXPECT_FALSE(build_report(plain, built, machine()).any_fatal());

  const ParsedArgs tpu = parse({"--check-env", "--device", "tpu"});
  const Report r = build_report(tpu, built, machine());
  ASSERT_TRUE(r.any_fatal());
  EXPECT_NE(fatals(r.findings).find("--device tpu"), std::string::npos);
  // Without --check-env the model stays required.
  EXPECT_TRUE(parse({}).exit_now);
}

TEST(Report, RefusedFlagsAndTheModelCountAsFindings) {
  const BuiltFeatures built{true, true, true};
  const ParsedArgs parsed = parse({"--check-env", "--model-path",
                                   std::string(SGL_SOURCE_DIR) + "/conf/models/qwen3-coder-480b-a35b.json",
                                   "--tool-call-parser", "llama3"});
  const Report r = build_report(parsed, built, machine());
  const std::string f = fatals(r.findings);
  EXPECT_NE(f.find("--tool-call-parser llama3"), std::string::npos) << f;
  EXPECT_NE(f.find("does not fit"), std::string::npos) << f;
  bool model_section = false;
  for (const auto& s : r.sections) model_section |= s.title == "Model";
  EXPECT_TRUE(model_section);
}

TEST(Report, TextIsAlignedAndJsonCarriesTheVerdict) {
  Report r;
  r.sections = {{"A", {{"Short", "1"}, {"A longer key", "2"}}}};
  r.findings = {fatal("it would fail"), note("slower")};
  const std::string text = render_text(r);
  EXPECT_NE(text.find("Short:        1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("A longer key: 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("FATAL: it would fail\n"), std::string::npos);
  EXPECT_NE(text.find("note:  slower\n"), std::string::npos);
  const auto j = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(j["A"]["A longer key"], "2");
  EXPECT_FALSE(j["ok"].get<bool>());
  ASSERT_EQ(j["findings"].size(), 2u);
  EXPECT_TRUE(j["findings"][0]["fatal"].get<bool>());
  EXPECT_EQ(format_bytes(3 * kGiB / 2), "1.5 GiB");
  EXPECT_EQ(format_bytes(147456), "144.0 KiB");
}

}  // namespace
}  // namespace sgl::server::check_env
