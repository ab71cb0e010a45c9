# The README's configuration reference is the config tables' own output, not a copy that drifts.
. "$(dirname "$0")/../lib.sh"
check "README.md configuration reference matches every program's --config-reference" \
	"$ROOT/deploy/config-docs.sh" --check
