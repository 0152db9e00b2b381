#!/usr/bin/env bash
# Set everything up and run the main job on the embedded engine: generate a demo corpus, import it (and the
# domains, rdns and ct reports made from it), create an enterprise demo token (once: it is kept in
# DATA/demo-token and reused), print working curl examples, and serve the API and the web UI on 127.0.0.1:8080.
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
# how many dated reports a dataset holds (shoal count --history --json: {"hosts": H, "reports": R})
reports_in() {
    .venv/bin/shoal count --history --json --data "$DATA" --dataset "$1" 2>/dev/null |
        .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["reports"])' 2>/dev/null || echo 0
}
stored=$(reports_in protocols)
if [ "$stored" -ge "$COUNT" ]; then
    echo "$DATA already holds $stored reports: not importing the demo corpus again"
else
    echo "importing $COUNT demo reports into $DATA"
    .venv/bin/shoal import --data "$DATA" "$corpus"
fi
# The other datasets (scan/domains, domain/rdns, ct/log), made from the same corpus by bench/derive.py.
for dataset in domains rdns ct; do
    derived="$DATA/demo-$dataset-$COUNT.jsonl.gz"
    if [ ! -f "$derived" ]; then
        .venv/bin/python bench/derive.py --dataset "$dataset" "$corpus" "$derived"
    fi
    held=$(reports_in "$dataset")
    if [ "$held" -gt 0 ]; then
        echo "$DATA already holds $held $dataset reports: not importing them again"
    else
        echo "importing the demo's $dataset reports into $DATA"
        .venv/bin/shoal import --data "$DATA" --dataset "$dataset" "$derived"
    fi
done
token_file="$DATA/demo-token"
token=""
if [ -s "$token_file" ]; then
    token=$(cat "$token_file")
    # Still a live enterprise token of this store? (It may have been revoked, or the store replaced.)
    if ! .venv/bin/python -c 'import sys
from shoal.tokens import TokenStore
token = TokenStore(sys.argv[1]).lookup(sys.argv[2])
sys.exit(0 if token is not None and token.enterprise else 1)' "$DATA" "$token"; then
        token=""
    fi
fi
if [ -z "$token" ]; then
    token=$(.venv/bin/shoal token create demo --enterprise --data "$DATA")
    (umask 077 && printf '%s\n' "$token" >"$token_file")
    echo "created the enterprise token 'demo' (kept in $token_file; running the demo again reuses it)"
else
    echo "reusing the enterprise token 'demo' kept in $token_file"
fi
cat <<TXT

Shoal is starting on http://127.0.0.1:$PORT/v1/ with $(basename "$corpus"). Try, in another terminal:

  curl -s -H 'Authorization: Bearer $token' \\
    --get --data-urlencode 'expression=title:"university london"' --data-urlencode 'slop=1' \\
    'http://127.0.0.1:$PORT/v1/scan/protocols'

  curl -s -H 'Authorization: Bearer $token' \\
    --get --data-urlencode 'summarize=port-tcp' 'http://127.0.0.1:$PORT/v1/scan/protocols'

  curl -s -H 'Authorization: Bearer $token' \\
    'http://127.0.0.1:$PORT/v1/ct/log?summarize=host&summary_context=cert-dns-name&summary_limit=20'

or open http://127.0.0.1:$PORT/ in a browser and paste the token, or use the command line against it:

  .venv/bin/shoal login http://127.0.0.1:$PORT -- '$token'
  .venv/bin/shoal stats --facets geo-country,port-tcp 'product-tag:nginx'

TXT
exec .venv/bin/shoal serve --data "$DATA" --host 127.0.0.1 --port "$PORT"
