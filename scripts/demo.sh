#!/usr/bin/env bash
# Set everything up and run the main job on the embedded engine: generate a demo corpus, import it,
# create a token, print a working curl example, and serve the API on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DATA=${SHOAL_DATA:-./shoal-data}
COUNT=${SHOAL_DEMO_REPORTS:-100000}
PORT=${SHOAL_PORT:-8080}
mkdir -p "$DATA"
corpus="$DATA/demo-corpus-$COUNT.jsonl.gz"
if [ ! -f "$corpus" ]; then
    echo "generating $COUNT demo reports into $corpus"
    partial="$DATA/.demo-corpus-$COUNT.partial.jsonl.gz"
    .venv/bin/python bench/generate.py --count "$COUNT" --seed 1 --out "$partial"
    mv "$partial" "$corpus"
fi
.venv/bin/shoal import --data "$DATA" "$corpus"
token=$(.venv/bin/shoal token create demo --data "$DATA")
cat <<TXT

Shoal is starting on http://127.0.0.1:$PORT/v1/ with $(basename "$corpus"). Try, in another terminal:

  curl -s -H 'Authorization: Bearer $token' \\
    --get --data-urlencode 'expression=title:"university london"' --data-urlencode 'slop=1' \\
    'http://127.0.0.1:$PORT/v1/scan/protocols'

  curl -s -H 'Authorization: Bearer $token' \\
    --get --data-urlencode 'summarize=port-tcp' 'http://127.0.0.1:$PORT/v1/scan/protocols'

or open http://127.0.0.1:$PORT/ in a browser and paste the token.

TXT
exec .venv/bin/shoal serve --data "$DATA" --host 127.0.0.1 --port "$PORT"
