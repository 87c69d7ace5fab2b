#!/usr/bin/env bash
# HTTP serving benchmark (see bench/http_bench.py): Clarion cold and warm against nginx.
#   bench/http.sh [--runs 3] [--duration 10] [--posts 1000] [--redis redis://127.0.0.1:6379/9]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../.venv/bin/python}"
exec "$python" "$here/http_bench.py" "$@"
