#!/usr/bin/env bash
# bench_one_batch_server and bench_one_batch against SGLang-JAX's flag lists (tests/bench_clients/
# data/, at the commit on each file's first line): every flag is in the tool's --help with
# SGLang-JAX's arity and type (a switch for store_true, INT/FLOAT/TEXT for the typed ones, "..."
# for nargs +), its choices listed, and passing every flag at its default value parses (the tool
# then stops at --help before doing anything).
set -u
BIN_DIR=$1
DATA=$(dirname "$0")/data
fails=0
fail() { echo "FAIL: $1"; fails=$((fails+1)); }
for tool in bench_one_batch_server bench_one_batch; do
  help=$("$BIN_DIR/$tool" --help 2>&1) || { fail "$tool --help exit"; continue; }
  defaults=()
  while IFS=$'\t' read -r name def type nargs choices; do
    line=$(grep -E -- "^ +$name( |$)" <<<"$help" | head -1)
    [ -n "$line" ] || { fail "$tool: $name missing from --help"; continue; }
    want=""
    case $type in int) want=INT;; float) want=FLOAT;; str) want=TEXT;; esac
    if [ "$type" = store_true ]; then
      grep -Eq -- "^ +$name (INT|FLOAT|TEXT|UINT)" <<<"$line" && fail "$tool: $name should be a switch: $line"
    elif [ -n "$want" ]; then
      grep -Eq -- "^ +$name $want" <<<"$line" || fail "$tool: $name should take $want: $line"
    fi
    if [ "$nargs" = "+" ]; then grep -q -- '\.\.\.' <<<"$line" || fail "$tool: $name should take several values: $line"; fi
    for c in $(grep -o '"[^"]*"' <<<"$choices" | tr -d '"'); do
      grep -q -- "$c" <<<"$line" || fail "$tool: $name lacks the choice $c: $line"
    done
    # The default value, Python's tuple spelling (1,) as one value.
    d=$(sed -e 's/^"\(.*\)"$/\1/' -e 's/^(\([0-9.]*\),)$/\1/' <<<"$def")
    if [ "$type" = store_true ]; then :
    elif [ -n "$d" ] && [ "$d" != None ]; then defaults+=("$name" "$d")
    fi
  done < <(tail -n +2 "$DATA/sglang-jax_${tool}_flags.txt")
  out=$("$BIN_DIR/$tool" "${defaults[@]}" --help 2>&1) || fail "$tool: the defaults do not parse: $(tail -2 <<<"$out")"
done
[ $fails -eq 0 ] && echo "PASS: bench_one_batch_server and bench_one_batch take SGLang-JAX's flags" || exit 1
