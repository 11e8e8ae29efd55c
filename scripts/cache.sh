# Sourced by the build and test scripts: where cargo builds. A target directory under the
# user's cache survives a fresh clone of the repository, the way CI systems cache target/:
# the second run on a machine rebuilds only ticketsr itself (cargo's fingerprints decide),
# not burn, wgpu and cubecl for both targets (docs/ci.md). Set CARGO_TARGET_DIR to choose
# another place, e.g. CARGO_TARGET_DIR=target for the repository's own.
export TICKETSR_CACHE="${TICKETSR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ticketsr}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TICKETSR_CACHE/target}"

# Cargo keys a workspace's own artifacts by paths relative to the workspace and trusts file
# times, so a checkout at another path whose files are older than the last build reuses
# that build, with env!("CARGO_MANIFEST_DIR") still naming the other checkout (perhaps
# deleted): when the checkout moves, ticketsr (not its dependencies) is rebuilt.
if [ -f crate/src/lib.rs ] && [ "$(cat "$TICKETSR_CACHE/checkout" 2>/dev/null)" != "$PWD" ]; then
  mkdir -p "$TICKETSR_CACHE" && touch crate/src/lib.rs && echo "$PWD" > "$TICKETSR_CACHE/checkout"
fi
