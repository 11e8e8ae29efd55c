# Sourced by the build and test scripts: where cargo builds. A target directory under the
# user's cache survives a fresh clone of the repository, the way CI systems cache target/:
# the second run on a machine rebuilds only ticketsr itself (cargo's fingerprints decide),
# not burn, wgpu and cubecl for both targets (docs/ci.md). Set CARGO_TARGET_DIR to choose
# another place, e.g. CARGO_TARGET_DIR=target for the repository's own.
export TICKETSR_CACHE="${TICKETSR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ticketsr}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TICKETSR_CACHE/target}"
