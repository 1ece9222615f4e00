#!/usr/bin/env bash
# The checks to run when a GPU is lent: CUDA tests, then the scTransNet and supervised benchmarks
# on the GPU at the hESC TFs+1000 size. Each step has its own time limit; logs go to $OUT
# (default results/gpu/). Needs torch with CUDA and the project's Python dependencies; on a
# bare machine put the package on PYTHONPATH (this script adds ./src).
#
#     bash benchmarks/gpu_checks.sh            # OUT=results/gpu
set -u
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-8}
PY=${PYTHON:-python3}
T=$(nproc)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))" 2>&1 | tee -a "$OUT/gpu.txt"
step() {  # step NAME SECONDS CMD...
    local name=$1 secs=$2; shift 2
    echo "=== $name (limit ${secs}s)"
    local t0=$SECONDS
    timeout "$secs" "$@" > "$OUT/$name.txt" 2>&1
    echo "=== $name: exit $? after $((SECONDS - t0)) s"
    tail -n 25 "$OUT/$name.txt"
}
step test_cuda 120 "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py
step bench_sctransnet_cpu_preset 90 "$PY" benchmarks/bench_sctransnet.py --device cuda --preset cpu --threads "$T" --skip-paper
step bench_sctransnet_paper 200 "$PY" benchmarks/bench_sctransnet.py --device cuda --preset paper --threads "$T" --paper-cells 4 --paper-steps 3
step bench_supervised 80 "$PY" benchmarks/bench_supervised.py --device cuda --datasets hesc1000 --presets default --epoch-cap 10 --threads "$T"
