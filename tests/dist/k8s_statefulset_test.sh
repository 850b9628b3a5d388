#!/usr/bin/env bash
# deploy/k8s/sglcpp-statefulset.yaml: parses as YAML (Services + StatefulSet), its names agree
# with each other (serviceName and DIST_INIT_ADDR, replicas and NNODES, HTTP Service on pod index
# 0, Parallel start, no rolling update), and its entrypoint, run under sh with a stand-in sglcpp-server that prints
# its arguments, gives pod sglcpp-<i> --node-rank i (followers ignoring SIGTERM, pod 0 not); the
# probes ask /health on pod 0 only; every flag it passes exists in the server's --help.
# Usage: k8s_statefulset_test.sh <yaml> <sglcpp-server>. Exit 77 (CTest skip) without PyYAML.
set -u
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: needs python3 with PyYAML"; exit 77; }
HELP=$(mktemp); trap 'rm -f "$HELP"' EXIT
"$2" --help >"$HELP" 2>&1
exec python3 - "$1" "$HELP" <<'EOF'
import os, re, subprocess, sys, tempfile, yaml

path, help_file = sys.argv[1], sys.argv[2]
fails = []
def check(ok, what):
    if not ok: fails.append(what)

docs = [d for d in yaml.safe_load_all(open(path)) if d]
kinds = [(d["kind"], d["metadata"]["name"]) for d in docs]
check(len(docs) == 3, f"want 3 documents, got {kinds}")
sts = next(d for d in docs if d["kind"] == "StatefulSet")
svcs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
name, spec = sts["metadata"]["name"], sts["spec"]
headless = svcs.get(spec["serviceName"])
check(headless is not None and headless["spec"].get("clusterIP") == "None", "serviceName is not a headless Service")
check(headless and headless["spec"].get("publishNotReadyAddresses") is True, "headless Service hides unready pods")
check(spec.get("podManagementPolicy") == "Parallel", "pods must start in parallel")
check(spec.get("updateStrategy", {}).get("type") == "OnDelete", "a rolling update would break the group pod by pod")
http = [s for n, s in svcs.items() if n != spec["serviceName"]]
check(len(http) == 1 and http[0]["spec"]["selector"].get("apps.kubernetes.io/pod-index") == "0",
      "the HTTP Service must select pod index 0")
labels = spec["template"]["metadata"]["labels"]
for s in svcs.values():
    sel = {k: v for k, v in s["spec"]["selector"].items() if k != "apps.kubernetes.io/pod-index"}
    check(sel.items() <= labels.items(), f"Service {s['metadata']['name']} selects no pod")
c = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
check(str(spec["replicas"]) == env["NNODES"], f"replicas {spec['replicas']} != NNODES {env['NNODES']}")
check(int(env["TP_SIZE"]) % int(env["NNODES"]) == 0, "TP_SIZE must be a multiple of NNODES")
check(env["DIST_INIT_ADDR"] == f"{name}-0.{spec['serviceName']}:20000",
      f"DIST_INIT_ADDR {env['DIST_INIT_ADDR']} is not <statefulset>-0.<serviceName>:20000")
check(http and http[0]["spec"]["ports"][0]["targetPort"] == 30000, "HTTP Service port != --port")

script = c["args"][0]
with tempfile.TemporaryDirectory() as tmp:
    with open(f"{tmp}/sglcpp-server", "w") as f:   # prints its arguments and its ignored signals
        f.write('#!/bin/sh\nfor a; do echo "arg $a"; done\ngrep SigIgn /proc/$$/status\n')
    with open(f"{tmp}/curl", "w") as f:            # the probes' curl: "node 0 is unhealthy"
        f.write('#!/bin/sh\nexit 7\n')
    os.chmod(f"{tmp}/sglcpp-server", 0o755); os.chmod(f"{tmp}/curl", 0o755)
    def run(cmd, host):
        e = dict(env, HOSTNAME=host, PATH=f"{tmp}:{os.environ['PATH']}")
        return subprocess.run(["/bin/sh", "-c", cmd], env=e, capture_output=True, text=True)
    for host, rank in [("sglcpp-0", 0), ("sglcpp-1", 1), ("sglcpp-3", 3), ("sglcpp-15", 15), ("my-sglcpp-12", 12)]:
        r = run(script, host)
        args = [l[4:] for l in r.stdout.splitlines() if l.startswith("arg ")]
        pairs = dict(zip(args, args[1:]))
        check(r.returncode == 0, f"{host}: entrypoint failed: {r.stderr}")
        check(pairs.get("--node-rank") == str(rank), f"{host}: --node-rank {pairs.get('--node-rank')} != {rank}")
        check(pairs.get("--nnodes") == env["NNODES"] and pairs.get("--tp-size") == env["TP_SIZE"]
              and pairs.get("--dist-init-addr") == env["DIST_INIT_ADDR"], f"{host}: {args}")
        ign = re.search(r"SigIgn:\s*([0-9a-f]+)", r.stdout)
        term_ignored = bool(ign) and (int(ign.group(1), 16) >> 14) & 1 == 1   # SIGTERM = 15
        check(term_ignored == (rank != 0), f"{host}: SIGTERM ignored = {term_ignored}")
    r = run(script, "sglcpp")
    check(r.returncode != 0 and "cannot read a rank" in r.stderr, "a pod name without an ordinal must fail")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        cmd = c[probe]["exec"]["command"][2]
        check(run(cmd, "sglcpp-0").returncode != 0, f"{probe} on pod 0 does not ask /health")
        check(run(cmd, "sglcpp-1").returncode == 0, f"{probe} on pod 1 is not trivially true")
        check(run(cmd, "sglcpp-10").returncode == 0, f"{probe} on pod 10 asks pod 0's /health")

help_text = open(help_file).read()
for flag in sorted(set(re.findall(r"(--[a-z][a-z0-9-]+)", script))):
    check(re.search(rf"(^|[ ,]){re.escape(flag)}\b", help_text, re.M) is not None, f"{flag} is not a server flag")

for f in fails: print("FAIL:", f)
if not fails: print("k8s statefulset: all checks passed")
sys.exit(len(fails))
EOF
