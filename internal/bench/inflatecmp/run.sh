#!/bin/sh
# The inflater against libdeflate, ISA-L and zlib on one direction of the
# bench's message mix joined into one stream (TestOneStream), interleaved:
# each round runs the C libraries once, then BenchmarkOneStream once.
# Needs: apt-get install -y gcc libdeflate-dev libisal-dev zlib1g-dev
# Usage (from the repository root): internal/bench/inflatecmp/run.sh [ROUNDS]
set -e
rounds=${1:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gcc -O2 -o "$dir/inflatecmp" internal/bench/inflatecmp/inflatecmp.c -ldeflate -lisal -lz
go test -c -o "$dir/inflate.test" ./analyze/internal/inflate
"$dir/inflate.test" -test.run '^TestOneStream$' -test.v -onestream "$dir/one.z" | grep bytes
for r in $(seq "$rounds"); do
	echo "round $r"
	"$dir/inflatecmp" "$dir/one.z" "$dir/one.z.out" 20
	"$dir/inflate.test" -test.run '^$' -test.bench OneStream -test.benchtime 20x | grep Benchmark
done
