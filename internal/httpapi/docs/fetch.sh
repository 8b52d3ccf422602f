#!/usr/bin/env bash
# fetch.sh copies the files of Swagger UI and ReDoc from pinned npm packages into assets/, from
# which the API server embeds them (go:embed) and serves them itself, so that the documentation
# pages at /api/openapi and /api/redoc work with no internet access and load nothing from a CDN.
#
# It needs npm and the npm registry, once: when assets/ already holds the pinned versions it does
# nothing, so `make build` and `make test` can call it every time. Without it the server still
# builds, and the two pages answer 503 saying that the assets were not built.
#
# Usage: internal/httpapi/docs/fetch.sh [--force]
set -euo pipefail

# To upgrade, change a version and its integrity (npm view <pkg>@<version> dist.integrity),
# run this script, and check both pages (go test ./internal/app/ -run TestDocsPagesRender).
readonly SWAGGER_UI=swagger-ui-dist@5.35.0
readonly SWAGGER_UI_INTEGRITY=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
readonly REDOC=redoc@2.5.4
readonly REDOC_INTEGRITY=sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==

# What is copied, as "<package>:<path in the package>:<name in assets/>". Only what the pages
# load, and the licences that must travel with it.
readonly FILES=(
	"$SWAGGER_UI:swagger-ui-bundle.js:swagger-ui-bundle.js"
	"$SWAGGER_UI:swagger-ui-bundle.js.LICENSE.txt:swagger-ui-bundle.js.LICENSE.txt"
	"$SWAGGER_UI:swagger-ui.css:swagger-ui.css"
	"$SWAGGER_UI:LICENSE:swagger-ui.LICENSE.txt"
	"$SWAGGER_UI:NOTICE:swagger-ui.NOTICE.txt"
	"$REDOC:bundles/redoc.standalone.js:redoc.standalone.js"
	"$REDOC:bundles/redoc.standalone.js.LICENSE.txt:redoc.standalone.js.LICENSE.txt"
	"$REDOC:LICENSE:redoc.LICENSE.txt"
)

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
readonly ASSETS=$here/assets
# The stamp records what assets/ was filled from; a dot file, so go:embed leaves it out.
readonly STAMP=$ASSETS/.fetched
readonly WANT="$SWAGGER_UI $SWAGGER_UI_INTEGRITY $REDOC $REDOC_INTEGRITY"

die() {
	echo "fetch.sh: $*" >&2
	exit 1
}

up_to_date() {
	[[ -f $STAMP && $(<"$STAMP") == "$WANT" ]] || return 1
	local f
	for f in "${FILES[@]}"; do
		[[ -s $ASSETS/${f##*:} ]] || return 1
	done
}

if [[ ${1:-} != --force ]] && up_to_date; then
	exit 0
fi
command -v npm >/dev/null || die "npm is needed (Debian: apt-get install -y nodejs npm)"
command -v node >/dev/null || die "node is needed (Debian: apt-get install -y nodejs)"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# fetch downloads one package, checks it against its pinned integrity (npm versions cannot be
# republished, but a registry mirror can still serve other bytes), and unpacks it.
fetch() {
	local spec=$1 integrity=$2 tarball got
	echo "fetching $spec"
	tarball=$(cd "$tmp" && npm pack --silent --ignore-scripts "$spec" | tail -n 1)
	[[ -f $tmp/$tarball ]] || die "npm pack $spec made no tarball"
	got=$(node -e '
		const data = require("fs").readFileSync(process.argv[1]);
		process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(data).digest("base64"));
	' "$tmp/$tarball")
	[[ $got == "$integrity" ]] || die "$spec: integrity $got, want $integrity"
	mkdir -p "$tmp/$spec"
	tar -xzf "$tmp/$tarball" -C "$tmp/$spec"
}
fetch "$SWAGGER_UI" "$SWAGGER_UI_INTEGRITY"
fetch "$REDOC" "$REDOC_INTEGRITY"

# Copy into a staging folder first, so that a failure leaves assets/ as it was.
mkdir -p "$tmp/out"
for f in "${FILES[@]}"; do
	IFS=: read -r spec src dst <<<"$f"
	[[ -s $tmp/$spec/package/$src ]] || die "$spec has no $src"
	install -m 0644 "$tmp/$spec/package/$src" "$tmp/out/$dst"
done
mkdir -p "$ASSETS"
for f in "${FILES[@]}"; do
	mv -f "$tmp/out/${f##*:}" "$ASSETS/"
done
echo "$WANT" >"$STAMP"
echo "documentation assets are in ${ASSETS#"$PWD"/}"
