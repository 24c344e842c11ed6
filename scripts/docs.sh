#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# docs.sh - render the pictures of docs/ from their sources (graphviz):
# docs/architecture.dot -> docs/architecture.svg. The SVG is checked in, so
# readers need no graphviz; rerun this after changing the .dot.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dot >/dev/null || { echo "docs.sh: needs graphviz (apt install graphviz)" >&2; exit 1; }
dot -Tsvg docs/architecture.dot -o docs/architecture.svg
echo "docs/architecture.svg"
