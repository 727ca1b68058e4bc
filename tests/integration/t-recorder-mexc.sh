#!/usr/bin/env bash
# MEXC spot through the venue interface, against the simulator's MEXC
# (binary protobuf pushes, JSON replies, REST /api/v3/depth): the
# whole-book suite of lib-recorder.sh (shared with Binance), where 35
# pairs take two connections (30 streams each at most).
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

wholebook_suite mexc 2 0
