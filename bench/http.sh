#!/usr/bin/env bash
# HTTP serving benchmark (see bench/http_bench.py): Clarion cold and warm against nginx.
#   bench/http.sh [--runs 3] [--duration 10] [--posts 1000]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../.venv/bin/python}"
exec "$python" "$here/http_bench.py" "$@"
